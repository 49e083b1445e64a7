//! Segment definitions: create, read, change (a new condition is a new immutable version),
//! archive; and the compiled form the engine evaluates, cached per (segment, version).

use super::behavior;
use super::condition::{CheckContext, SegmentCondition};
use crate::error::CdpError;
use crate::json_schema::Schema;
use chrono::{DateTime, Utc};
use rapport_core::codes::ErrorCode;
use rapport_core::condition::DateContext;
use rapport_core::sql::{ColumnKind, SqlParam};
use rapport_store::cache::Cache;
use rapport_store::{Row, Store, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::HashMap;
use std::sync::Arc;
use utoipa::ToSchema;

/// Most segments per workspace (live and building).
pub const MAX_SEGMENTS: i64 = 500;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Segment {
    pub id: String,
    pub name: String,
    pub description: String,
    /// The tag members carry while they are members.
    pub tag: Option<String>,
    pub version: i64,
    /// `building` (counters being filled, first evaluation pending), `live` or `archived`.
    pub state: String,
    pub member_count: i64,
    pub evaluated_at: Option<DateTime<Utc>>,
    #[schema(value_type = Object)]
    pub condition: Json,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Recent buyers", "tag": "buyers", "condition": {"behavior": {"event": "Order Completed", "window": {"last": 30, "unit": "days"}, "count": {"op": "gte", "value": 1}}}}))]
pub struct SegmentInput {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub tag: Option<String>,
    #[schema(value_type = Object)]
    pub condition: Json,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    /// A new tag; an empty string removes it.
    pub tag: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub condition: Option<Json>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SegmentVersion {
    pub version: i64,
    #[schema(value_type = Object)]
    pub condition: Json,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A segment ready to evaluate.
#[derive(Debug)]
pub struct Compiled {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    pub version: i64,
    pub condition: SegmentCondition,
    /// The behaviour key of each behaviour test (same order).
    pub keys: Vec<String>,
}

const COLUMNS: &str = "id, name, description, tag, version, state, member_count, evaluated_at, \
                       definition, created_by, created_at, updated_at, archived_at";
const KINDS: [ColumnKind; 13] = [
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Int,
    ColumnKind::Text,
    ColumnKind::Int,
    ColumnKind::Int,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Int,
    ColumnKind::Int,
    ColumnKind::Int,
];

fn decode(row: &Row) -> Result<Segment, StoreError> {
    let archived = row.opt_int("archived_at")?.is_some();
    Ok(Segment {
        id: row.text("id")?,
        name: row.text("name")?,
        description: row.text("description")?,
        tag: row.opt_text("tag")?,
        version: row.int("version")?,
        state: if archived {
            "archived".into()
        } else {
            row.text("state")?
        },
        member_count: row.int("member_count")?,
        evaluated_at: row.opt_millis("evaluated_at")?,
        condition: definition(row)?,
        created_by: row.opt_text("created_by")?,
        created_at: row.millis("created_at")?,
        updated_at: row.millis("updated_at")?,
    })
}

/// The `definition` column (segments and their versions): JSON text Rapport wrote. Anything
/// else is a corrupt row, never `null` (which an update would write back as the condition).
fn definition(row: &Row) -> Result<Json, StoreError> {
    serde_json::from_str(&row.text("definition")?)
        .map_err(|e| StoreError::Corrupt(format!("a segment definition is not JSON: {e}")))
}

pub async fn list(store: &Store, ws: &str) -> Result<Vec<Segment>, CdpError> {
    let rows = store
        .db
        .fetch_all(
            &format!(
                "SELECT {COLUMNS} FROM cdp_segments WHERE workspace_id = {} ORDER BY archived_at IS NOT NULL, created_at DESC",
                store.ph(1)
            ),
            &[SqlParam::Text(ws.to_string())],
            &KINDS,
        )
        .await?;
    Ok(rows.iter().map(decode).collect::<Result<_, _>>()?)
}

pub async fn get(store: &Store, ws: &str, id: &str) -> Result<Segment, CdpError> {
    let row = store
        .db
        .fetch_optional(
            &format!(
                "SELECT {COLUMNS} FROM cdp_segments WHERE workspace_id = {} AND id = {}",
                store.ph(1),
                store.ph(2)
            ),
            &[
                SqlParam::Text(ws.to_string()),
                SqlParam::Text(id.to_string()),
            ],
            &KINDS,
        )
        .await?
        .ok_or(CdpError::NotFound { what: "segment" })?;
    Ok(decode(&row)?)
}

pub async fn versions(store: &Store, ws: &str, id: &str) -> Result<Vec<SegmentVersion>, CdpError> {
    get(store, ws, id).await?;
    let rows = store
        .db
        .fetch_all(
            &format!(
                "SELECT version, definition, created_by, created_at FROM cdp_segment_versions \
                 WHERE segment_id = {} ORDER BY version DESC",
                store.ph(1)
            ),
            &[SqlParam::Text(id.to_string())],
            &[
                ColumnKind::Int,
                ColumnKind::Text,
                ColumnKind::Text,
                ColumnKind::Int,
            ],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            Ok(SegmentVersion {
                version: r.int("version")?,
                condition: definition(r)?,
                created_by: r.opt_text("created_by")?,
                created_at: r.millis("created_at")?,
            })
        })
        .collect::<Result<_, StoreError>>()?)
}

/// The definition of `version` of a segment (lineage, snapshots).
pub async fn version(store: &Store, id: &str, version: i64) -> Result<Json, CdpError> {
    let row = store
        .db
        .fetch_optional(
            &format!(
                "SELECT definition FROM cdp_segment_versions WHERE segment_id = {} AND version = {}",
                store.ph(1),
                store.ph(2)
            ),
            &[SqlParam::Text(id.to_string()), SqlParam::Int(version)],
            &[ColumnKind::Text],
        )
        .await?
        .ok_or(CdpError::NotFound { what: "segment version" })?;
    Ok(definition(&row)?)
}

/// Parses and checks a condition against the workspace's metadata and event registry.
pub async fn compile(
    store: &Store,
    ws: &str,
    condition: &Json,
) -> Result<SegmentCondition, CdpError> {
    let principal = store.system_principal(ws).await?;
    let schema = store.schema(ws, principal.metadata_version).await?;
    let mut event_types: HashMap<String, Schema> = HashMap::new();
    for t in crate::registry::list(store, ws).await? {
        if let Ok(compiled) = Schema::compile(&t.schema) {
            event_types.insert(t.name, compiled);
        }
    }
    let offset = store
        .db
        .fetch_optional(
            &format!(
                "SELECT utc_offset_minutes FROM workspaces WHERE id = {}",
                store.ph(1)
            ),
            &[SqlParam::Text(ws.to_string())],
            &[ColumnKind::Int],
        )
        .await?
        .ok_or(CdpError::NotFound { what: "workspace" })?
        .int("utc_offset_minutes")?;
    let cx = CheckContext {
        schema: &schema,
        event_types: &event_types,
        dates: DateContext::new(store.now(), i32::try_from(offset).unwrap_or(0)),
    };
    SegmentCondition::compile(condition, &cx)
}

fn clean_name(name: &str) -> Result<String, CdpError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(CdpError::invalid(
            ErrorCode::InvalidName,
            "a segment's name has 1 to 200 characters",
        ));
    }
    Ok(name.to_string())
}

pub(crate) fn clean_tag(tag: Option<&str>) -> Result<Option<String>, CdpError> {
    match tag.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) if t.chars().count() > 50 || t.contains(',') => Err(CdpError::invalid(
            ErrorCode::InvalidTag,
            "a tag has at most 50 characters and no comma",
        )),
        Some(t) => Ok(Some(t.to_string())),
    }
}

fn clean_description(d: &str) -> Result<String, CdpError> {
    if d.chars().count() > 2_000 {
        return Err(CdpError::invalid(
            ErrorCode::InvalidDescription,
            "a description has at most 2000 characters",
        ));
    }
    Ok(d.trim().to_string())
}

/// Creates a segment in state `building`; the engine fills its counters and evaluates it.
pub async fn create(
    store: &Store,
    ws: &str,
    input: SegmentInput,
    by: Option<&str>,
) -> Result<Segment, CdpError> {
    let name = clean_name(&input.name)?;
    let tag = clean_tag(input.tag.as_deref())?;
    let description = clean_description(&input.description)?;
    compile(store, ws, &input.condition).await?;
    let count = store
        .db
        .fetch_optional(
            &format!(
                "SELECT COUNT(*) FROM cdp_segments WHERE workspace_id = {} AND archived_at IS NULL",
                store.ph(1)
            ),
            &[SqlParam::Text(ws.to_string())],
            &[ColumnKind::Int],
        )
        .await?
        .map(|r| r.int(0))
        .transpose()?
        // COUNT(*) always answers one row; none would mean no segment.
        .unwrap_or(0);
    if count >= MAX_SEGMENTS {
        return Err(CdpError::Conflict {
            code: ErrorCode::TooManySegments,
            message: format!("a workspace has at most {MAX_SEGMENTS} segments; archive some"),
        });
    }
    let id = uuid::Uuid::now_v7().to_string();
    let now = store.now().timestamp_millis();
    let definition = input.condition.to_string();
    let mut tx = store.db.begin().await?;
    let p = |n| crate::ph(&tx, n);
    let sql = format!(
        "INSERT INTO cdp_segments (id, workspace_id, name, description, tag, version, definition, state, \
         member_count, created_by, created_at, updated_at) VALUES ({}, {}, {}, {}, {}, 1, {}, 'building', 0, {}, {}, {})",
        p(1),
        p(2),
        p(3),
        p(4),
        p(5),
        p(6),
        p(7),
        p(8),
        p(9)
    );
    tx.execute(
        &sql,
        &[
            SqlParam::Text(id.clone()),
            SqlParam::Text(ws.to_string()),
            SqlParam::Text(name),
            SqlParam::Text(description),
            opt_text(tag),
            SqlParam::Text(definition.clone()),
            opt_text(by.map(str::to_string)),
            SqlParam::Int(now),
            SqlParam::Int(now),
        ],
    )
    .await?;
    insert_version(&mut tx, &id, 1, &definition, by, now).await?;
    tx.commit().await?;
    get(store, ws, &id).await
}

fn opt_text(v: Option<String>) -> SqlParam {
    v.map_or(SqlParam::NullOf(ColumnKind::Text), SqlParam::Text)
}

async fn insert_version(
    tx: &mut rapport_store::Tx,
    id: &str,
    version: i64,
    definition: &str,
    by: Option<&str>,
    now: i64,
) -> Result<(), CdpError> {
    let p = |n| crate::ph(tx, n);
    let sql = format!(
        "INSERT INTO cdp_segment_versions (segment_id, version, definition, created_by, created_at) VALUES ({}, {}, {}, {}, {})",
        p(1),
        p(2),
        p(3),
        p(4),
        p(5)
    );
    tx.execute(
        &sql,
        &[
            SqlParam::Text(id.to_string()),
            SqlParam::Int(version),
            SqlParam::Text(definition.to_string()),
            opt_text(by.map(str::to_string)),
            SqlParam::Int(now),
        ],
    )
    .await?;
    Ok(())
}

/// Changes a segment. Returns it and whether its condition changed (a new version, to be
/// rebuilt and re-evaluated).
pub async fn update(
    store: &Store,
    ws: &str,
    id: &str,
    patch: SegmentPatch,
    by: Option<&str>,
) -> Result<(Segment, bool), CdpError> {
    let current = get(store, ws, id).await?;
    if current.state == "archived" {
        return Err(CdpError::Conflict {
            code: ErrorCode::SegmentArchived,
            message: "the segment is archived".into(),
        });
    }
    let name = match &patch.name {
        Some(n) => clean_name(n)?,
        None => current.name.clone(),
    };
    let description = match &patch.description {
        Some(d) => clean_description(d)?,
        None => current.description.clone(),
    };
    let tag = match &patch.tag {
        Some(t) => clean_tag(Some(t))?,
        None => current.tag.clone(),
    };
    let new_condition = match &patch.condition {
        Some(c) if *c != current.condition => {
            compile(store, ws, c).await?;
            Some(c.to_string())
        }
        _ => None,
    };
    let now = store.now().timestamp_millis();
    let mut tx = store.db.begin().await?;
    let version = current.version + i64::from(new_condition.is_some());
    let p = |n| crate::ph(&tx, n);
    let sql = format!(
        "UPDATE cdp_segments SET name = {}, description = {}, tag = {}, version = {}, definition = {}, \
         state = {}, updated_at = {} WHERE id = {} AND workspace_id = {}",
        p(1),
        p(2),
        p(3),
        p(4),
        p(5),
        p(6),
        p(7),
        p(8),
        p(9)
    );
    tx.execute(
        &sql,
        &[
            SqlParam::Text(name),
            SqlParam::Text(description),
            opt_text(tag),
            SqlParam::Int(version),
            SqlParam::Text(
                new_condition
                    .clone()
                    .unwrap_or_else(|| current.condition.to_string()),
            ),
            SqlParam::Text(if new_condition.is_some() {
                "building".into()
            } else {
                current.state.clone()
            }),
            SqlParam::Int(now),
            SqlParam::Text(id.to_string()),
            SqlParam::Text(ws.to_string()),
        ],
    )
    .await?;
    if let Some(def) = &new_condition {
        insert_version(&mut tx, id, version, def, by, now).await?;
    }
    tx.commit().await?;
    Ok((get(store, ws, id).await?, new_condition.is_some()))
}

/// Marks a segment archived (the engine then lets its members exit).
pub async fn archive(store: &Store, ws: &str, id: &str) -> Result<Segment, CdpError> {
    let current = get(store, ws, id).await?;
    if current.state != "archived" {
        let now = store.now().timestamp_millis();
        store
            .db
            .execute(
                &format!(
                    "UPDATE cdp_segments SET archived_at = {}, updated_at = {} WHERE id = {} AND workspace_id = {}",
                    store.ph(1),
                    store.ph(2),
                    store.ph(3),
                    store.ph(4)
                ),
                &[
                    SqlParam::Int(now),
                    SqlParam::Int(now),
                    SqlParam::Text(id.to_string()),
                    SqlParam::Text(ws.to_string()),
                ],
            )
            .await?;
    }
    get(store, ws, id).await
}

/// Compiled segments by (id, version): a version never changes.
pub struct CompiledCache(Cache<(String, i64), Arc<Compiled>>);

impl Default for CompiledCache {
    fn default() -> Self {
        Self(Cache::bounded(10_000))
    }
}

impl CompiledCache {
    /// The compiled form of a segment, with its behaviour keys created (not necessarily
    /// filled).
    pub async fn compiled(
        &self,
        store: &Store,
        segment: &SegmentRow,
    ) -> Result<Arc<Compiled>, CdpError> {
        let cache_key = (segment.id.clone(), segment.version);
        if let Some(c) = self.0.get(&cache_key) {
            return Ok(c);
        }
        let condition = compile(store, &segment.workspace_id, &segment.definition).await?;
        let mut keys = Vec::with_capacity(condition.behaviors.len());
        for b in &condition.behaviors {
            keys.push(
                behavior::ensure_key(store, &segment.workspace_id, &b.spec)
                    .await?
                    .id,
            );
        }
        let compiled = Arc::new(Compiled {
            id: segment.id.clone(),
            workspace_id: segment.workspace_id.clone(),
            name: segment.name.clone(),
            version: segment.version,
            condition,
            keys,
        });
        self.0.insert(cache_key, compiled.clone());
        Ok(compiled)
    }
}

/// The columns the engine needs of a segment.
#[derive(Debug, Clone)]
pub struct SegmentRow {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    pub version: i64,
    pub state: String,
    pub definition: Json,
}

/// Live segments of a workspace (the streaming evaluation's set).
pub async fn live_rows(store: &Store, ws: &str) -> Result<Vec<SegmentRow>, CdpError> {
    rows_where(
        store,
        "workspace_id",
        ws,
        "AND state = 'live' AND archived_at IS NULL",
    )
    .await
}

/// Segments of every workspace still `building` (their counters are being filled): the engine
/// resumes them when it starts.
pub async fn building_rows(store: &Store) -> Result<Vec<SegmentRow>, CdpError> {
    rows_where(
        store,
        "state",
        "building",
        "AND archived_at IS NULL ORDER BY created_at",
    )
    .await
}

/// Live and building segments of a workspace.
pub async fn current_rows(store: &Store, ws: &str) -> Result<Vec<SegmentRow>, CdpError> {
    rows_where(
        store,
        "workspace_id",
        ws,
        "AND state IN ('live', 'building') AND archived_at IS NULL",
    )
    .await
}

/// One segment's row, whatever its state (None when archived).
pub async fn row(store: &Store, id: &str) -> Result<Option<SegmentRow>, CdpError> {
    Ok(rows_where(store, "id", id, "AND archived_at IS NULL")
        .await?
        .into_iter()
        .next())
}

async fn rows_where(
    store: &Store,
    column: &str,
    value: &str,
    extra: &str,
) -> Result<Vec<SegmentRow>, CdpError> {
    let rows = store
        .db
        .fetch_all(
            &format!(
                "SELECT id, workspace_id, name, version, state, definition FROM cdp_segments WHERE {column} = {} {extra}",
                store.ph(1)
            ),
            &[SqlParam::Text(value.to_string())],
            &[
                ColumnKind::Text,
                ColumnKind::Text,
                ColumnKind::Text,
                ColumnKind::Int,
                ColumnKind::Text,
                ColumnKind::Text,
            ],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            Ok(SegmentRow {
                id: r.text("id")?,
                workspace_id: r.text("workspace_id")?,
                name: r.text("name")?,
                version: r.int("version")?,
                state: r.text("state")?,
                // Not an error here: an unreadable definition does not compile, and the engine
                // warns and skips that one segment (`Engine::live`) instead of stopping every
                // segment of the workspace.
                definition: serde_json::from_str(&r.text("definition")?).unwrap_or(Json::Null),
            })
        })
        .collect::<Result<_, StoreError>>()?)
}
