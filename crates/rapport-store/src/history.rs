//! Master-data versioning: the field history of a record (who, when, old and new value,
//! source, request), the time of each change (strictly increasing per record), reconstruction
//! of a record as it was at a moment, and restores — which go through the write path, so a
//! restore is itself a recorded change.

use crate::db::Tx;
use crate::records::{object_for, RecordUpdate, WriteCtx};
use crate::schema::placeholder;
use crate::{table_name, Store, StoreError};
use chrono::{DateTime, Utc};
use rapport_core::codes::ErrorCode;
use rapport_core::metadata::{FieldType, WorkspaceSchema};
use rapport_core::names::quote;
use rapport_core::sql::{ColumnKind, SqlParam};
use rapport_core::value::to_json;
use rapport_core::{Action, Principal, Record};
use serde::Serialize;
use serde_json::{Map, Value as Json};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    pub id: i64,
    /// created, updated, deleted or restored.
    pub kind: String,
    /// The changed field (updates only); `owner_id` for a change of owner.
    pub field: Option<String>,
    pub old_value: Json,
    /// For `created`: every value the record was created with.
    pub new_value: Json,
    pub actor_id: Option<String>,
    pub source: String,
    pub request_id: Option<String>,
    pub changed_at: DateTime<Utc>,
}

const KINDS: [ColumnKind; 9] = [
    ColumnKind::Int,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Json,
    ColumnKind::Json,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Timestamp,
];

impl Store {
    /// The time of a change to an existing record, taken inside the transaction that holds the
    /// record's row (`FOR UPDATE` on PostgreSQL, the single writer on SQLite): the clock, but
    /// at least a microsecond after the record's latest history entry. History times are thus
    /// strictly increasing per record, even for writes that raced or a clock that stepped
    /// back, and a restore `at` any entry's time reaches exactly the state it made.
    pub(crate) async fn change_time(
        &self,
        tx: &mut Tx,
        ws: &str,
        object: &str,
        record_id: &str,
    ) -> Result<DateTime<Utc>, StoreError> {
        let d = tx.dialect();
        let now = self.now();
        let latest = tx
            .fetch_optional(
                &format!(
                    "SELECT MAX(changed_at) FROM field_history WHERE workspace_id = {} AND object = {} AND record_id = {}",
                    placeholder(d, 1),
                    placeholder(d, 2),
                    placeholder(d, 3)
                ),
                &[
                    SqlParam::Text(ws.to_string()),
                    SqlParam::Text(object.to_string()),
                    SqlParam::Text(record_id.to_string()),
                ],
                &[ColumnKind::Timestamp],
            )
            .await?;
        let latest = match latest {
            Some(row) => row.opt_timestamp(0)?,
            None => None,
        };
        Ok(match latest {
            Some(latest) if latest >= now => latest + chrono::Duration::microseconds(1),
            _ => now,
        })
    }

    async fn require_record(
        &self,
        principal: &Principal,
        object: &str,
        id: &str,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "SELECT 1 FROM {} WHERE \"id\" = {}",
            quote(&table_name(&principal.workspace_id, object)),
            self.ph(1)
        );
        self.db
            .fetch_optional(&sql, &[SqlParam::Text(id.to_string())], &[ColumnKind::Int])
            .await?
            .map(|_| ())
            .ok_or_else(|| StoreError::not_found("record"))
    }

    /// A record's history, newest first; `before` pages backwards by entry id.
    pub async fn history(
        &self,
        principal: &Principal,
        schema: &WorkspaceSchema,
        object: &str,
        id: &str,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<HistoryEntry>, StoreError> {
        object_for(principal, schema, object, Action::Read)?;
        self.require_record(principal, object, id).await?;
        let d = self.db.dialect();
        let sql = format!(
            "SELECT id, kind, field, old_value, new_value, actor_id, source, request_id, changed_at FROM field_history WHERE workspace_id = {} AND object = {} AND record_id = {} AND id < {} ORDER BY id DESC LIMIT {}",
            placeholder(d, 1),
            placeholder(d, 2),
            placeholder(d, 3),
            placeholder(d, 4),
            limit.clamp(1, 1000)
        );
        let rows = self
            .db
            .fetch_all(
                &sql,
                &[
                    SqlParam::Text(principal.workspace_id.clone()),
                    SqlParam::Text(object.to_string()),
                    SqlParam::Text(id.to_string()),
                    SqlParam::Int(before.unwrap_or(i64::MAX)),
                ],
                &KINDS,
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(HistoryEntry {
                    id: r.int("id")?,
                    kind: r.text("kind")?,
                    field: r.opt_text("field")?,
                    old_value: r.json("old_value")?,
                    new_value: r.json("new_value")?,
                    actor_id: r.opt_text("actor_id")?,
                    source: r.text("source")?,
                    request_id: r.opt_text("request_id")?,
                    changed_at: r.timestamp("changed_at")?,
                })
            })
            .collect()
    }

    /// The values (API JSON form) a record had at `at`, rebuilt from its creation entry and
    /// every field change up to that moment.
    async fn values_at(
        &self,
        principal: &Principal,
        schema: &WorkspaceSchema,
        object: &str,
        id: &str,
        at: DateTime<Utc>,
    ) -> Result<Map<String, Json>, StoreError> {
        object_for(principal, schema, object, Action::Read)?;
        self.require_record(principal, object, id).await?;
        let d = self.db.dialect();
        let sql = format!(
            "SELECT kind, field, new_value FROM field_history WHERE workspace_id = {} AND object = {} AND record_id = {} AND changed_at <= {} ORDER BY id",
            placeholder(d, 1),
            placeholder(d, 2),
            placeholder(d, 3),
            placeholder(d, 4)
        );
        let rows = self
            .db
            .fetch_all(
                &sql,
                &[
                    SqlParam::Text(principal.workspace_id.clone()),
                    SqlParam::Text(object.to_string()),
                    SqlParam::Text(id.to_string()),
                    SqlParam::Timestamp(at),
                ],
                &[ColumnKind::Text, ColumnKind::Text, ColumnKind::Json],
            )
            .await?;
        let mut state: Option<Map<String, Json>> = None;
        for row in rows {
            match (
                row.text("kind")?.as_str(),
                row.opt_text("field")?,
                &mut state,
            ) {
                ("created", _, _) => {
                    let Json::Object(values) = row.json("new_value")? else {
                        return Err(StoreError::Corrupt(format!(
                            "the creation of {object} {id} is recorded without its values"
                        )));
                    };
                    state = Some(values);
                }
                ("updated", Some(field), Some(values)) => {
                    values.insert(field, row.json("new_value")?);
                }
                _ => {}
            }
        }
        state.ok_or_else(|| {
            StoreError::bad_request(
                ErrorCode::BeforeCreation,
                "the record did not exist at that time",
            )
        })
    }

    /// Sets every field (and the owner) back to what it was at `at`.
    pub async fn restore_record_to(
        &self,
        ctx: &WriteCtx<'_>,
        schema: &WorkspaceSchema,
        object: &str,
        id: &str,
        at: DateTime<Utc>,
    ) -> Result<Record, StoreError> {
        let past = self
            .values_at(ctx.principal, schema, object, id, at)
            .await?;
        let current = self
            .get_record(ctx.principal, schema, object, id, false)
            .await?;
        let def = object_for(ctx.principal, schema, object, Action::Update)?;
        let mut values = Map::new();
        for field in def
            .active_fields()
            .filter(|f| !matches!(f.field_type, FieldType::Formula | FieldType::AutoNumber))
        {
            let then = past.get(&field.api_name).cloned().unwrap_or(Json::Null);
            if then != to_json(field, &current.get(&field.api_name)) {
                values.insert(field.api_name.clone(), then);
            }
        }
        // A stage restored brings back its past probability too, not the stage's default.
        if let Some(probability) = def.pipeline().and_then(|p| {
            values
                .contains_key(&p.stage.api_name)
                .then_some(p.probability)
                .flatten()
        }) {
            let then = past
                .get(&probability.api_name)
                .cloned()
                .unwrap_or(Json::Null);
            values.entry(probability.api_name.clone()).or_insert(then);
        }
        let owner_id = past
            .get("owner_id")
            .and_then(Json::as_str)
            .map(str::to_string)
            .filter(|o| Some(o) != current.owner_id.as_ref());
        self.update_record(
            ctx,
            schema,
            object,
            RecordUpdate {
                id: id.to_string(),
                values,
                owner_id,
                expected_version: None,
            },
        )
        .await
    }

    /// Puts back the old value of one recorded field change.
    pub async fn revert_change(
        &self,
        ctx: &WriteCtx<'_>,
        schema: &WorkspaceSchema,
        object: &str,
        id: &str,
        change_id: i64,
    ) -> Result<Record, StoreError> {
        let entries = self
            .history(ctx.principal, schema, object, id, Some(change_id + 1), 1)
            .await?;
        let entry = entries
            .into_iter()
            .find(|e| e.id == change_id && e.kind == "updated")
            .ok_or_else(|| StoreError::not_found("change"))?;
        // An update entry always names its field; an empty name matches none below.
        let field = entry.field.unwrap_or_default();
        let mut update = RecordUpdate {
            id: id.to_string(),
            ..Default::default()
        };
        // Undoing a stage change undoes only that: the probability stays as it is now.
        let def = object_for(ctx.principal, schema, object, Action::Update)?;
        if let Some(probability) = def
            .pipeline()
            .filter(|p| p.stage.api_name == field)
            .and_then(|p| p.probability)
        {
            let current = self
                .get_record(ctx.principal, schema, object, id, false)
                .await?;
            let now = to_json(probability, &current.get(&probability.api_name));
            update.values.insert(probability.api_name.clone(), now);
        }
        if field == "owner_id" {
            update.owner_id = entry.old_value.as_str().map(str::to_string);
        } else {
            update.values.insert(field, entry.old_value);
        }
        self.update_record(ctx, schema, object, update).await
    }
}
