//! The journey timeline (客户旅程): one time-ordered stream, newest first, of a customer's events
//! from every source and member profile, plus the CRM's own records about the linked contact
//! (activities, notes, tasks, tickets, deals — every object with a relation to contact the
//! caller may read) and the contact's field changes. Each stream is read through an index
//! in time order and merged; pages continue from an opaque `(time, key)` cursor.

use crate::error::CdpError;
use crate::events;
use crate::identity::profiles;
use crate::time_of_ms;
use chrono::{DateTime, Utc};
use rapport_core::access::Action;
use rapport_core::codes::ErrorCode;
use rapport_core::metadata::WorkspaceSchema;
use rapport_core::sql::{ColumnKind, SqlParam};
use rapport_core::Principal;
use rapport_store::records::{decode_record, select_sql};
use rapport_store::{table_name, Store};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TimelineQuery {
    /// Comma-separated source ids, and/or `crm` for the CRM's own entries.
    pub sources: Option<String>,
    /// Comma-separated types: track, page, screen, identify, group, alias, field_change, or an
    /// object name (activity, note, task, ticket, deal, ...).
    pub types: Option<String>,
    /// Entries per page, 1–200 (default 50).
    pub limit: Option<usize>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Entry {
    pub at: DateTime<Utc>,
    /// `event`, `record` or `field_change`.
    pub category: String,
    /// The event call (track, page, ...) or the object (activity, note, ...) or `field_change`.
    #[serde(rename = "type")]
    pub entry_type: String,
    /// The event name, page name or record name.
    pub title: Option<String>,
    /// Source id of an event; `crm` for CRM entries.
    pub source: String,
    pub source_name: Option<String>,
    /// The source's kind (app, web, wecom, …) of an event.
    pub source_kind: Option<String>,
    /// Event id (`seq`), record id or history entry id.
    pub id: String,
    pub profile_id: Option<String>,
    #[schema(value_type = Object)]
    pub data: Json,
    #[serde(skip)]
    key: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page {
    pub entries: Vec<Entry>,
    pub next_cursor: Option<String>,
    pub profile_id: Option<String>,
    pub contact_id: Option<String>,
}

fn encode_cursor(at: DateTime<Utc>, key: &str) -> String {
    hex::encode(format!("{}|{key}", at.timestamp_micros()))
}

fn decode_cursor(cursor: &str) -> Result<(DateTime<Utc>, String), CdpError> {
    let bad = || {
        CdpError::bad_request(
            ErrorCode::InvalidCursor,
            "the cursor is not one this API gave out",
        )
    };
    let bytes = hex::decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (at, key) = text.split_once('|').ok_or_else(bad)?;
    let micros: i64 = at.parse().map_err(|_| bad())?;
    Ok((
        DateTime::from_timestamp_micros(micros).ok_or_else(bad)?,
        key.to_string(),
    ))
}

fn list(text: &Option<String>) -> Option<Vec<String>> {
    text.as_ref().map(|t| {
        t.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    })
}

/// The field that says when a CRM record happened, where an object has it (activities).
const WHEN_FIELD: &str = "occurred_at";

const EVENT_KINDS: [&str; 6] = ["track", "page", "screen", "identify", "group", "alias"];

/// The timeline of a profile's cluster (`profile_id`) or of a contact (`contact_id`).
pub async fn timeline(
    store: &Store,
    principal: &Principal,
    schema: &WorkspaceSchema,
    profile_id: Option<&str>,
    contact_id: Option<&str>,
    query: &TimelineQuery,
) -> Result<Page, CdpError> {
    let ws = &principal.workspace_id;
    let limit = query.limit.unwrap_or(50).clamp(1, 200);
    let cursor = query.cursor.as_deref().map(decode_cursor).transpose()?;
    let sources = list(&query.sources);
    let types = list(&query.types);
    let wants_source = |s: &str| sources.as_ref().is_none_or(|l| l.iter().any(|x| x == s));
    let wants_type = |t: &str| types.as_ref().is_none_or(|l| l.iter().any(|x| x == t));

    let (cluster, contact) = match (profile_id, contact_id) {
        (Some(p), _) => {
            let cluster = profiles::cluster(store, ws, p).await?;
            let contact = cluster.contact_id.clone();
            (Some(cluster), contact)
        }
        (None, Some(c)) => {
            let cluster = match profiles::for_contact(store, ws, c).await? {
                Some(root) => Some(profiles::cluster(store, ws, &root).await?),
                None => None,
            };
            (cluster, Some(c.to_string()))
        }
        (None, None) => (None, None),
    };
    let fetch = limit + 1;
    // Without a cursor: the end of year 9999, which both databases compare correctly.
    let (before_at, before_key) = match cursor.clone() {
        Some(cursor) => cursor,
        None => (time_of_ms(253_402_300_799_000)?, String::from("~")),
    };
    let mut entries: Vec<Entry> = Vec::new();

    if let Some(cluster) = &cluster {
        if principal.can("contact", Action::Read) {
            let members = &cluster.members;
            let source_names: HashMap<String, (String, String)> = crate::sources::list(store, ws)
                .await?
                .into_iter()
                .map(|s| (s.id, (s.name, s.kind)))
                .collect();
            // One index-ordered scan per member profile (`profile_id, ts`), each stopping after
            // a page: a customer with 100,000 events costs a page, not a sort of everything.
            let mut rows = Vec::new();
            for member in members {
                let mut params = vec![
                    SqlParam::Text(member.clone()),
                    SqlParam::Int(before_at.timestamp_millis()),
                ];
                let mut sql = format!(
                    "SELECT {} FROM cdp_events WHERE profile_id = {} AND ts <= {}",
                    events::COLUMNS,
                    store.ph(1),
                    store.ph(2)
                );
                for (column, wanted) in [
                    (
                        "source_id",
                        sources.as_ref().map(|l| {
                            l.iter()
                                .filter(|s| *s != "crm")
                                .cloned()
                                .collect::<Vec<_>>()
                        }),
                    ),
                    (
                        "kind",
                        types.as_ref().map(|l| {
                            l.iter()
                                .filter(|t| EVENT_KINDS.contains(&t.as_str()))
                                .cloned()
                                .collect::<Vec<_>>()
                        }),
                    ),
                ] {
                    let Some(values) = wanted else { continue };
                    if values.is_empty() {
                        sql.push_str(" AND 1 = 0");
                        continue;
                    }
                    let mut marks = Vec::new();
                    for v in values {
                        params.push(SqlParam::Text(v));
                        marks.push(store.ph(params.len()));
                    }
                    sql.push_str(&format!(" AND {column} IN ({})", marks.join(", ")));
                }
                sql.push_str(&format!(" ORDER BY ts DESC, seq DESC LIMIT {}", fetch + 50));
                rows.extend(store.db.fetch_all(&sql, &params, &events::KINDS).await?);
            }
            for row in &rows {
                let event = events::decode(row)?;
                entries.push(Entry {
                    at: event.timestamp,
                    category: "event".into(),
                    entry_type: event.kind,
                    title: event.name,
                    source_name: source_names.get(&event.source_id).map(|s| s.0.clone()),
                    source_kind: source_names.get(&event.source_id).map(|s| s.1.clone()),
                    source: event.source_id,
                    id: event.seq.to_string(),
                    profile_id: Some(event.profile_id),
                    data: event.body,
                    key: format!("e:{:020}", event.seq),
                });
            }
        }
    }

    if let Some(contact) = &contact {
        if wants_source("crm") {
            for (object, field) in schema.relations_to("contact") {
                if !wants_type(&object.api_name) || !principal.can(&object.api_name, Action::Read) {
                    continue;
                }
                let table = rapport_core::names::quote(&table_name(ws, &object.api_name));
                let (select, kinds) = select_sql(object, &table);
                let column = rapport_core::names::quote(&field.api_name);
                // A record is placed when it happened (an activity's `occurred_at`), else when
                // it was created.
                let when_field = object
                    .active_field(WHEN_FIELD)
                    .filter(|f| f.field_type == rapport_core::metadata::FieldType::Datetime);
                let when = match when_field {
                    Some(_) => format!("COALESCE(\"{WHEN_FIELD}\", \"created_at\")"),
                    None => "\"created_at\"".to_string(),
                };
                let sql = format!(
                    "{select} WHERE {column} = {} AND \"deleted_at\" IS NULL AND {when} <= {} ORDER BY {when} DESC LIMIT {}",
                    store.ph(1),
                    store.ph(2),
                    fetch + 50
                );
                let rows = store
                    .db
                    .fetch_records(
                        &sql,
                        &[
                            SqlParam::Text(contact.clone()),
                            SqlParam::Timestamp(before_at),
                        ],
                        &kinds,
                    )
                    .await?;
                for row in rows {
                    let record = decode_record(object, &row)?;
                    let mut data = serde_json::Map::new();
                    for f in object.active_fields() {
                        if let Some(v) = record.values.get(&f.api_name) {
                            data.insert(f.api_name.clone(), rapport_core::value::to_json(f, v));
                        }
                    }
                    let title = data
                        .get(&object.name_field)
                        .and_then(Json::as_str)
                        .map(str::to_string);
                    let at = match record.values.get(WHEN_FIELD) {
                        Some(rapport_core::value::Value::DateTime(t)) if when_field.is_some() => *t,
                        _ => record.created_at,
                    };
                    entries.push(Entry {
                        at,
                        category: "record".into(),
                        entry_type: object.api_name.clone(),
                        title,
                        source: "crm".into(),
                        source_name: None,
                        source_kind: None,
                        key: format!("r:{}:{}", object.api_name, record.id),
                        id: record.id,
                        profile_id: None,
                        data: Json::Object(data),
                    });
                }
            }
            if wants_type("field_change") && principal.can("contact", Action::Read) {
                let rows = store
                    .db
                    .fetch_all(
                        &format!(
                            "SELECT id, kind, field, old_value, new_value, source, changed_at, actor_id FROM field_history \
                             WHERE workspace_id = {} AND object = 'contact' AND record_id = {} AND changed_at <= {} ORDER BY id DESC LIMIT {}",
                            store.ph(1),
                            store.ph(2),
                            store.ph(3),
                            fetch + 50
                        ),
                        &[
                            SqlParam::Text(ws.clone()),
                            SqlParam::Text(contact.clone()),
                            SqlParam::Timestamp(before_at),
                        ],
                        &[
                            ColumnKind::Int,
                            ColumnKind::Text,
                            ColumnKind::Text,
                            ColumnKind::Json,
                            ColumnKind::Json,
                            ColumnKind::Text,
                            ColumnKind::Timestamp,
                            ColumnKind::Text,
                        ],
                    )
                    .await?;
                for r in rows {
                    let id = r.int("id")?;
                    entries.push(Entry {
                        at: r.timestamp("changed_at")?,
                        category: "field_change".into(),
                        entry_type: "field_change".into(),
                        title: r.opt_text("field")?,
                        source: "crm".into(),
                        source_name: None,
                        source_kind: None,
                        id: id.to_string(),
                        profile_id: None,
                        data: json!({
                            "kind": r.text("kind")?,
                            "field": r.opt_text("field")?,
                            "old_value": r.json("old_value")?,
                            "new_value": r.json("new_value")?,
                            "change_source": r.text("source")?,
                            "actor_id": r.opt_text("actor_id")?,
                        }),
                        key: format!("h:{id:020}"),
                    });
                }
            }
        }
    }

    entries.retain(|e| (e.at, e.key.as_str()) < (before_at, before_key.as_str()));
    entries.sort_by(|a, b| (b.at, &b.key).cmp(&(a.at, &a.key)));
    let more = entries.len() > limit;
    entries.truncate(limit);
    let next_cursor = if more {
        entries.last().map(|e| encode_cursor(e.at, &e.key))
    } else {
        None
    };
    Ok(Page {
        entries,
        next_cursor,
        profile_id: cluster.map(|c| c.root),
        contact_id: contact,
    })
}
