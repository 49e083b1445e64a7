//! Reading stored events: one column list and one decoder for every reader (the event browser
//! and the journey timeline).

use crate::error::CdpError;
use chrono::{DateTime, Utc};
use rapport_core::sql::{ColumnKind, SqlParam};
use rapport_store::{Row, Store};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use utoipa::{IntoParams, ToSchema};

/// The columns `decode` reads, in order.
pub const COLUMNS: &str =
    "seq, source_id, message_id, kind, name, profile_id, user_id, anonymous_id, ts, received_at, body";
pub const KINDS: [ColumnKind; 11] = [
    ColumnKind::Int,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Int,
    ColumnKind::Int,
    ColumnKind::Json,
];

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StoredEvent {
    pub seq: i64,
    pub source_id: String,
    pub message_id: String,
    /// The call: track, page, screen, identify, group or alias.
    #[serde(rename = "type")]
    pub kind: String,
    /// The track's event name or the page's / screen's name.
    pub name: Option<String>,
    /// The profile owning the event's main identifier.
    pub profile_id: String,
    pub user_id: Option<String>,
    pub anonymous_id: Option<String>,
    /// Event time, after clock-skew correction.
    pub timestamp: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    /// The call as received, with `timestamp`, `originalTimestamp` and `receivedAt`.
    #[schema(value_type = Object)]
    pub body: Json,
}

pub fn decode(r: &Row) -> Result<StoredEvent, rapport_store::StoreError> {
    Ok(StoredEvent {
        seq: r.int("seq")?,
        source_id: r.text("source_id")?,
        message_id: r.text("message_id")?,
        kind: r.text("kind")?,
        name: r.opt_text("name")?,
        profile_id: r.text("profile_id")?,
        user_id: r.opt_text("user_id")?,
        anonymous_id: r.opt_text("anonymous_id")?,
        timestamp: r.millis("ts")?,
        received_at: r.millis("received_at")?,
        body: r.json("body")?,
    })
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    pub source_id: Option<String>,
    /// Events whose `messageId` is this.
    pub message_id: Option<String>,
    /// 1–1,000 (default 100).
    pub limit: Option<i64>,
    /// Page backwards from this `seq`.
    pub before: Option<i64>,
}

/// A workspace's stored events, newest first.
pub async fn list(
    store: &Store,
    workspace_id: &str,
    q: &EventQuery,
) -> Result<Vec<StoredEvent>, CdpError> {
    let mut params = vec![SqlParam::Text(workspace_id.into())];
    let mut sql = format!(
        "SELECT {COLUMNS} FROM cdp_events WHERE workspace_id = {}",
        store.ph(1)
    );
    if let Some(s) = &q.source_id {
        params.push(SqlParam::Text(s.clone()));
        sql.push_str(&format!(" AND source_id = {}", store.ph(params.len())));
    }
    if let Some(m) = &q.message_id {
        params.push(SqlParam::Text(m.clone()));
        sql.push_str(&format!(" AND message_id = {}", store.ph(params.len())));
    }
    if let Some(b) = q.before {
        params.push(SqlParam::Int(b));
        sql.push_str(&format!(" AND seq < {}", store.ph(params.len())));
    }
    sql.push_str(&format!(
        " ORDER BY seq DESC LIMIT {}",
        q.limit.unwrap_or(100).clamp(1, 1000)
    ));
    let rows = store.db.fetch_all(&sql, &params, &KINDS).await?;
    Ok(rows.iter().map(decode).collect::<Result<_, _>>()?)
}
