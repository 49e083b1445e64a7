//! The schema registry (标准化Schema注册): one JSON Schema per event type, for a track event's
//! properties, a page's or screen's properties (`$page`, `$screen`) and identify or group traits
//! (`$identify`, `$group`). A track event must be registered; the built-in calls are open until
//! an admin registers a schema for them. Nothing is ever added to a schema silently: what does
//! not fit is rejected or quarantined by the source's policy, and admins register what arrived
//! in one step (`register_observed`), which widens the schema from the held samples.

use crate::error::CdpError;
use crate::json_schema::{self, Schema};
use crate::wire::Incoming;
use chrono::{DateTime, Utc};
use rapport_core::codes::{ErrorCode, EventCode};
use rapport_core::sql::{ColumnKind, SqlParam};
use rapport_core::Label;
use rapport_store::cache::Cache;
use rapport_store::Store;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use utoipa::ToSchema;

pub const BUILT_IN: [&str; 4] = ["$identify", "$page", "$screen", "$group"];

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventType {
    pub name: String,
    pub description: String,
    #[schema(value_type = Object)]
    pub schema: Json,
    /// The event's display name in both languages (segments, journeys and rules show it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<Label>,
    /// Display names of properties (or traits), by property name.
    pub property_labels: BTreeMap<String, Label>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The most property display names one event type keeps.
pub const MAX_PROPERTY_LABELS: usize = 500;

/// What the `labels` column holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Labels {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    event: Option<Label>,
    #[serde(default)]
    properties: BTreeMap<String, Label>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Coupon Redeemed", "description": "A coupon was used at checkout", "label": {"zh": "使用优惠券", "en": "Coupon redeemed"}, "property_labels": {"code": {"zh": "券码", "en": "Code"}}, "schema": {"type": "object", "properties": {"code": {"type": "string"}, "amount": {"type": "number"}}, "required": ["code"]}}))]
pub struct EventTypeInput {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[schema(value_type = Object)]
    pub schema: Json,
    /// The event's display name; left out, lists show its name.
    #[serde(default)]
    pub label: Option<Label>,
    /// Display names of properties, by property name (`{"series": {"zh": "系列"}}`).
    #[serde(default)]
    pub property_labels: BTreeMap<String, Label>,
}

/// Why an event does not fit.
#[derive(Debug, Clone, PartialEq)]
pub struct Misfit {
    pub code: EventCode,
    pub message: String,
}

/// The compiled schemas of one workspace.
#[derive(Debug, Default)]
pub struct Compiled {
    schemas: HashMap<String, Schema>,
}

impl Compiled {
    /// None when the event fits; the reason otherwise.
    pub fn check(&self, event: &Incoming) -> Option<Misfit> {
        let name = event.type_name()?;
        let Some(schema) = self.schemas.get(&name) else {
            if BUILT_IN.contains(&name.as_str()) {
                return None;
            }
            return Some(Misfit {
                code: EventCode::UnregisteredEventType,
                message: format!("the event type `{name}` is not registered"),
            });
        };
        let empty = Json::Object(serde_json::Map::new());
        let payload = match event.payload() {
            None | Some(Json::Null) => &empty,
            Some(p) => p,
        };
        let violations = schema.validate(payload);
        if violations.is_empty() {
            return None;
        }
        let code = if violations
            .iter()
            .all(|v| v.code == crate::json_schema::code::UNKNOWN_PROPERTY)
        {
            EventCode::UnregisteredProperty
        } else {
            EventCode::SchemaViolation
        };
        let message = violations
            .iter()
            .take(3)
            .map(|v| format!("{}: {}", v.path, v.message))
            .collect::<Vec<_>>()
            .join("; ");
        Some(Misfit {
            code,
            message: format!("`{name}` does not fit its schema: {message}"),
        })
    }
}

/// Workspace → compiled schemas, re-read every 2 s (other nodes' changes).
pub struct RegistryCache(Cache<String, Arc<Compiled>>);

impl Default for RegistryCache {
    fn default() -> Self {
        Self(Cache::with_ttl(Duration::from_secs(2), 10_000))
    }
}

impl RegistryCache {
    pub async fn compiled(
        &self,
        store: &Store,
        workspace_id: &str,
    ) -> Result<Arc<Compiled>, CdpError> {
        if let Some(compiled) = self.0.get(workspace_id) {
            return Ok(compiled);
        }
        let mut compiled = Compiled::default();
        for t in list(store, workspace_id).await? {
            if let Ok(schema) = Schema::compile(&t.schema) {
                compiled.schemas.insert(t.name, schema);
            }
        }
        let compiled = Arc::new(compiled);
        self.0.insert(workspace_id.to_string(), compiled.clone());
        Ok(compiled)
    }

    pub fn forget(&self, workspace_id: &str) {
        self.0.remove(workspace_id);
    }
}

const COLUMNS: &str = "name, description, schema, version, created_at, updated_at, labels";
const KINDS: [ColumnKind; 7] = [
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Json,
    ColumnKind::Int,
    ColumnKind::Timestamp,
    ColumnKind::Timestamp,
    ColumnKind::Json,
];

fn decode(row: &rapport_store::Row) -> Result<EventType, rapport_store::StoreError> {
    // Labels are presentation: a column that does not read as labels shows none.
    let labels: Labels = serde_json::from_value(row.json("labels")?).unwrap_or_default();
    Ok(EventType {
        name: row.text("name")?,
        description: row.text("description")?,
        schema: row.json("schema")?,
        label: labels.event,
        property_labels: labels.properties,
        version: row.int("version")?,
        created_at: row.timestamp("created_at")?,
        updated_at: row.timestamp("updated_at")?,
    })
}

pub async fn list(store: &Store, workspace_id: &str) -> Result<Vec<EventType>, CdpError> {
    let rows = store
        .db
        .fetch_all(
            &format!(
                "SELECT {COLUMNS} FROM cdp_event_types WHERE workspace_id = {} ORDER BY name",
                store.ph(1)
            ),
            &[SqlParam::Text(workspace_id.into())],
            &KINDS,
        )
        .await?;
    Ok(rows.iter().map(decode).collect::<Result<_, _>>()?)
}

pub async fn get(
    store: &Store,
    workspace_id: &str,
    name: &str,
) -> Result<Option<EventType>, CdpError> {
    let row = store
        .db
        .fetch_optional(
            &format!(
                "SELECT {COLUMNS} FROM cdp_event_types WHERE workspace_id = {} AND name = {}",
                store.ph(1),
                store.ph(2)
            ),
            &[
                SqlParam::Text(workspace_id.into()),
                SqlParam::Text(name.into()),
            ],
            &KINDS,
        )
        .await?;
    Ok(row.as_ref().map(decode).transpose()?)
}

fn check_name(name: &str) -> Result<(), CdpError> {
    let n = name.chars().count();
    let ok = (1..=255).contains(&n)
        && !name.chars().any(char::is_control)
        && (!name.starts_with('$') || BUILT_IN.contains(&name));
    if ok {
        Ok(())
    } else {
        Err(CdpError::invalid(
            ErrorCode::InvalidEventType,
            format!(
                "an event type is named by 1 to 255 printable characters; names starting with $ are reserved for {}",
                BUILT_IN.join(", ")
            ),
        ))
    }
}

/// Registers or replaces the schema of an event type (the version goes up by one).
pub async fn save(
    store: &Store,
    workspace_id: &str,
    input: EventTypeInput,
) -> Result<EventType, CdpError> {
    check_name(&input.name)?;
    if input.description.chars().count() > 2_000 {
        return Err(CdpError::invalid(
            ErrorCode::InvalidEventType,
            "a description may be at most 2,000 characters",
        ));
    }
    if !input.schema.is_object() {
        return Err(CdpError::invalid(
            ErrorCode::InvalidSchema,
            "a schema is a JSON object (`{}` lets every event through)",
        ));
    }
    if serde_json::to_vec(&input.schema).map_or(0, |v| v.len()) > 256 * 1024 {
        return Err(CdpError::invalid(
            ErrorCode::InvalidSchema,
            "a schema may be at most 256 KB",
        ));
    }
    Schema::compile(&input.schema)
        .map_err(|e| CdpError::invalid(ErrorCode::InvalidSchema, e.to_string()))?;
    let labels = check_labels(input.label, input.property_labels)?;
    let now = store.now();
    store
        .db
        .execute(
            &format!(
                "INSERT INTO cdp_event_types (workspace_id, {COLUMNS}) VALUES ({}, {}, {}, {}, 1, {}, {}, {}) \
                 ON CONFLICT (workspace_id, name) DO UPDATE SET description = excluded.description, \
                 schema = excluded.schema, labels = excluded.labels, \
                 version = cdp_event_types.version + 1, updated_at = excluded.updated_at",
                store.ph(1),
                store.ph(2),
                store.ph(3),
                store.ph(4),
                store.ph(5),
                store.ph(6),
                store.ph(7)
            ),
            &[
                SqlParam::Text(workspace_id.into()),
                SqlParam::Text(input.name.clone()),
                SqlParam::Text(input.description),
                SqlParam::Json(input.schema),
                SqlParam::Timestamp(now),
                SqlParam::Timestamp(now),
                SqlParam::Json(serde_json::to_value(labels).unwrap_or_default()),
            ],
        )
        .await?;
    get(store, workspace_id, &input.name)
        .await?
        .ok_or(CdpError::NotFound { what: "event type" })
}

/// Display names: each a label of 1 to 200 characters in each language (one given is used for
/// both), properties named like event properties, at most [`MAX_PROPERTY_LABELS`].
fn check_labels(
    event: Option<Label>,
    properties: BTreeMap<String, Label>,
) -> Result<Labels, CdpError> {
    if let Some(label) = &event {
        label.check("the event type")?;
    }
    if properties.len() > MAX_PROPERTY_LABELS {
        return Err(CdpError::invalid(
            ErrorCode::InvalidLabel,
            format!("an event type names at most {MAX_PROPERTY_LABELS} properties"),
        ));
    }
    for (name, label) in &properties {
        let n = name.chars().count();
        if !(1..=255).contains(&n) || name.chars().any(char::is_control) {
            return Err(CdpError::invalid(
                ErrorCode::InvalidLabel,
                "a property is named by 1 to 255 printable characters",
            ));
        }
        label.check(&format!("property {name}"))?;
    }
    Ok(Labels { event, properties })
}

pub async fn delete(store: &Store, workspace_id: &str, name: &str) -> Result<(), CdpError> {
    let n = store
        .db
        .execute(
            &format!(
                "DELETE FROM cdp_event_types WHERE workspace_id = {} AND name = {}",
                store.ph(1),
                store.ph(2)
            ),
            &[
                SqlParam::Text(workspace_id.into()),
                SqlParam::Text(name.into()),
            ],
        )
        .await?;
    if n == 0 {
        return Err(CdpError::NotFound { what: "event type" });
    }
    Ok(())
}

/// An event type or properties that arrived without fitting the registry.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Observed {
    pub name: String,
    /// Whether the type itself is registered (then only some properties are new).
    pub registered: bool,
    /// Held events (quarantined and rejected) of this type.
    pub held: i64,
    /// Top-level properties seen in held samples that the schema does not declare.
    pub unregistered_properties: Vec<String>,
    pub last_seen: DateTime<Utc>,
    /// The schema registering it in one step would save.
    #[schema(value_type = Object)]
    pub proposed_schema: Json,
}

/// How many held samples of a type feed the proposal.
const SAMPLES: i64 = 200;

/// Unregistered event types and properties that arrived, with the schema that would register them.
pub async fn observed(store: &Store, workspace_id: &str) -> Result<Vec<Observed>, CdpError> {
    let rows = store
        .db
        .fetch_all(
            &format!(
                "SELECT name, COUNT(*) AS held, MAX(received_at) AS last_seen FROM cdp_held WHERE workspace_id = {} AND name IS NOT NULL \
                 AND replayed_at IS NULL AND reason_code IN ({}, {}) \
                 GROUP BY name ORDER BY MAX(received_at) DESC LIMIT 200",
                store.ph(1),
                store.ph(2),
                store.ph(3)
            ),
            &[
                SqlParam::Text(workspace_id.into()),
                SqlParam::Text(EventCode::UnregisteredEventType.to_string()),
                SqlParam::Text(EventCode::UnregisteredProperty.to_string()),
            ],
            &[ColumnKind::Text, ColumnKind::Int, ColumnKind::Int],
        )
        .await?;
    let mut out = Vec::new();
    for row in rows {
        let name = row.text("name")?;
        let current = get(store, workspace_id, &name).await?;
        let proposed = proposal(store, workspace_id, &name, current.as_ref()).await?;
        // A stored schema compiled when it was registered; should a later keyword list refuse
        // it, each of its properties is shown as unregistered rather than the page failing.
        let declared: Vec<String> = current
            .as_ref()
            .and_then(|t| Schema::compile(&t.schema).ok())
            .map(|s| s.declared_properties())
            // Nothing declared when the type is not registered.
            .unwrap_or_default();
        let unregistered_properties = proposed
            .get("properties")
            .and_then(Json::as_object)
            .map(|p| {
                p.keys()
                    .filter(|k| !declared.contains(k))
                    .cloned()
                    .collect()
            })
            // A proposal without properties leaves none unregistered.
            .unwrap_or_default();
        out.push(Observed {
            name,
            registered: current.is_some(),
            held: row.int("held")?,
            unregistered_properties,
            last_seen: row.millis("last_seen")?,
            proposed_schema: proposed,
        });
    }
    Ok(out)
}

async fn proposal(
    store: &Store,
    workspace_id: &str,
    name: &str,
    current: Option<&EventType>,
) -> Result<Json, CdpError> {
    let rows = store
        .db
        .fetch_all(
            &format!(
                "SELECT payload FROM cdp_held WHERE workspace_id = {} AND name = {} AND replayed_at IS NULL \
                 ORDER BY received_at DESC LIMIT {SAMPLES}",
                store.ph(1),
                store.ph(2)
            ),
            &[
                SqlParam::Text(workspace_id.into()),
                SqlParam::Text(name.into()),
            ],
            &[ColumnKind::Json],
        )
        .await?;
    let key = if name.starts_with("$identify") || name.starts_with("$group") {
        "traits"
    } else {
        "properties"
    };
    // A held event without properties (or traits) contributes an empty object.
    let samples: Vec<Json> = rows
        .iter()
        .map(|r| {
            Ok(r.json("payload")?
                .get(key)
                .filter(|p| p.is_object())
                .cloned()
                .unwrap_or_else(|| Json::Object(serde_json::Map::new())))
        })
        .collect::<Result<_, rapport_store::StoreError>>()?;
    Ok(match current {
        Some(t) => samples
            .iter()
            .fold(t.schema.clone(), |doc, s| json_schema::widen(&doc, s)),
        None => json_schema::infer(&samples),
    })
}

/// Registers (or widens) `name` from what arrived, in one step.
pub async fn register_observed(
    store: &Store,
    workspace_id: &str,
    name: &str,
) -> Result<EventType, CdpError> {
    let current = get(store, workspace_id, name).await?;
    let schema = proposal(store, workspace_id, name, current.as_ref()).await?;
    save(
        store,
        workspace_id,
        EventTypeInput {
            name: name.to_string(),
            // A newly registered type starts without a description or display names.
            description: current
                .as_ref()
                .map(|c| c.description.clone())
                .unwrap_or_default(),
            label: current.as_ref().and_then(|c| c.label.clone()),
            property_labels: current.map(|c| c.property_labels).unwrap_or_default(),
            schema,
        },
    )
    .await
}
