//! Held events: what a source's schema policy quarantined (kept aside, replayable once the
//! schema is fixed) or what was rejected (kept for inspection). Replay re-checks quarantined
//! events against today's registry and sends those that now fit through the group commit, with
//! their original arrival time, so their messageIds still de-duplicate.

use crate::error::CdpError;
use crate::wire::{self, Kind};
use crate::writer::{Held, Work};
use crate::Cdp;
use chrono::{DateTime, Utc};
use rapport_core::codes::{ErrorCode, EventCode};
use rapport_core::sql::{ColumnKind, SqlParam};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HeldEvent {
    pub id: String,
    pub source_id: String,
    /// `quarantined` or `rejected`.
    pub disposition: String,
    pub reason_code: String,
    pub reason: String,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub message_id: Option<String>,
    #[schema(value_type = Object)]
    pub payload: Json,
    pub received_at: DateTime<Utc>,
    pub replayed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HeldQuery {
    pub source_id: Option<String>,
    /// `quarantined` or `rejected`.
    pub disposition: Option<String>,
    /// Event type name (`Order Completed`, `$identify`, ...).
    pub name: Option<String>,
    /// Include events already replayed.
    pub include_replayed: Option<bool>,
    pub limit: Option<i64>,
    /// Page backwards from this held event id.
    pub before: Option<String>,
}

const COLUMNS: &str = "id, source_id, disposition, reason_code, reason, kind, name, message_id, payload, received_at, replayed_at";
const KINDS: [ColumnKind; 11] = [
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Json,
    ColumnKind::Int,
    ColumnKind::Int,
];

fn decode(r: &rapport_store::Row) -> Result<HeldEvent, rapport_store::StoreError> {
    Ok(HeldEvent {
        id: r.text("id")?,
        source_id: r.text("source_id")?,
        disposition: r.text("disposition")?,
        reason_code: r.text("reason_code")?,
        reason: r.text("reason")?,
        kind: r.opt_text("kind")?,
        name: r.opt_text("name")?,
        message_id: r.opt_text("message_id")?,
        payload: r.json("payload")?,
        received_at: r.millis("received_at")?,
        replayed_at: r.opt_millis("replayed_at")?,
    })
}

pub async fn list(
    cdp: &Cdp,
    workspace_id: &str,
    q: &HeldQuery,
) -> Result<Vec<HeldEvent>, CdpError> {
    let store = &cdp.store;
    let mut params = vec![SqlParam::Text(workspace_id.into())];
    let mut sql = format!(
        "SELECT {COLUMNS} FROM cdp_held WHERE workspace_id = {}",
        store.ph(1)
    );
    let mut add = |column: &str, value: &Option<String>, sql: &mut String| {
        if let Some(v) = value {
            params.push(SqlParam::Text(v.clone()));
            sql.push_str(&format!(" AND {column} = {}", store.ph(params.len())));
        }
    };
    add("source_id", &q.source_id, &mut sql);
    add("disposition", &q.disposition, &mut sql);
    add("name", &q.name, &mut sql);
    if let Some(before) = &q.before {
        params.push(SqlParam::Text(before.clone()));
        sql.push_str(&format!(" AND id < {}", store.ph(params.len())));
    }
    if !q.include_replayed.unwrap_or(false) {
        sql.push_str(" AND replayed_at IS NULL");
    }
    sql.push_str(&format!(
        " ORDER BY id DESC LIMIT {}",
        q.limit.unwrap_or(50).clamp(1, 500)
    ));
    let rows = store.db.fetch_all(&sql, &params, &KINDS).await?;
    Ok(rows.iter().map(decode).collect::<Result<_, _>>()?)
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// Held event ids; or
    pub ids: Option<Vec<String>>,
    /// every quarantined event of this type.
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReplayReport {
    /// Events that now fit and were stored.
    pub replayed: usize,
    /// Events already stored under the same messageId.
    pub duplicates: usize,
    /// Events that still do not fit, with the reason.
    pub still_held: Vec<wire::Rejection>,
}

/// Re-checks quarantined events and stores those that fit (at most 5,000 per call).
pub async fn replay(
    cdp: &Cdp,
    workspace_id: &str,
    req: &ReplayRequest,
) -> Result<ReplayReport, CdpError> {
    let store = &cdp.store;
    let mut params = vec![SqlParam::Text(workspace_id.into())];
    let mut sql = format!(
        "SELECT {COLUMNS} FROM cdp_held WHERE workspace_id = {} AND disposition = 'quarantined' AND replayed_at IS NULL",
        store.ph(1)
    );
    match (&req.ids, &req.name) {
        (Some(ids), _) if !ids.is_empty() && ids.len() <= 5_000 => {
            let marks: Vec<String> = ids
                .iter()
                .map(|id| {
                    params.push(SqlParam::Text(id.clone()));
                    store.ph(params.len())
                })
                .collect();
            sql.push_str(&format!(" AND id IN ({})", marks.join(", ")));
        }
        (None, Some(name)) => {
            params.push(SqlParam::Text(name.clone()));
            sql.push_str(&format!(" AND name = {}", store.ph(params.len())));
        }
        _ => {
            return Err(CdpError::invalid(
                ErrorCode::InvalidReplay,
                "name 1 to 5,000 held event `ids`, or an event type `name`",
            ))
        }
    }
    sql.push_str(" ORDER BY id LIMIT 5000");
    let rows = store.db.fetch_all(&sql, &params, &KINDS).await?;
    let schemas = cdp.registry.compiled(store, workspace_id).await?;
    let settings = cdp.settings.get(store, workspace_id).await?;
    let mut by_source: BTreeMap<String, (Vec<wire::Incoming>, Vec<String>)> = BTreeMap::new();
    let mut report = ReplayReport {
        replayed: 0,
        duplicates: 0,
        still_held: Vec::new(),
    };
    let mut sources: BTreeMap<String, crate::sources::Source> = BTreeMap::new();
    for (i, row) in rows.iter().enumerate() {
        let held = decode(row)?;
        let kind = held.kind.as_deref().and_then(Kind::parse);
        let bytes = held.payload.to_string().into_bytes();
        let parsed = wire::parse_request(&bytes, kind, held.received_at.timestamp_millis())
            .ok()
            .and_then(|r| r.events.into_iter().next());
        let mut still = |code: EventCode, message: String| {
            report.still_held.push(wire::Rejection {
                index: i,
                message_id: held.message_id.clone(),
                code,
                message,
            });
        };
        let source = match sources.get(&held.source_id) {
            Some(s) => s.clone(),
            None => {
                let s = cdp.source(workspace_id, &held.source_id).await?;
                sources.insert(held.source_id.clone(), s.clone());
                s
            }
        };
        let parsed = parsed.map(|r| {
            r.and_then(|mut event| {
                event.trusted = source.trusts(&event);
                match crate::identity::admissible(&event, &settings) {
                    Ok(()) => Ok(event),
                    Err((code, message)) => Err((
                        wire::Rejection {
                            index: i,
                            message_id: held.message_id.clone(),
                            code,
                            message,
                        },
                        None,
                    )),
                }
            })
        });
        match parsed {
            Some(Ok(mut event)) => match schemas.check(&event) {
                None => {
                    event.index = i;
                    event.seal();
                    // The time corrected on arrival, not a second correction.
                    if let Some(t) = held.payload.get("timestamp").and_then(wire::parse_time) {
                        event.ts = t.timestamp_millis();
                    }
                    let entry = by_source.entry(held.source_id.clone()).or_default();
                    entry.0.push(event);
                    entry.1.push(held.id.clone());
                }
                Some(misfit) => still(misfit.code, misfit.message),
            },
            Some(Err((rejection, _))) => still(rejection.code, rejection.message),
            None => still(
                EventCode::InvalidEvent,
                "the held payload cannot be read".into(),
            ),
        }
    }
    for (source_id, (events, ids)) in by_source {
        let Some(source) = sources.remove(&source_id) else {
            continue;
        };
        let n = events.len();
        let outcome = cdp
            .submit(Work {
                source,
                settings: settings.clone(),
                accepted: events,
                held: Vec::<Held>::new(),
                received: 0,
                replayed: ids,
            })
            .await?;
        report.duplicates += outcome.duplicates.len();
        report.replayed += n - outcome.duplicates.len() - outcome.rejected.len();
        report.still_held.extend(outcome.rejected);
    }
    Ok(report)
}
