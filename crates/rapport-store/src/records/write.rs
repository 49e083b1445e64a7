//! The one write path. Every create, update, delete and restore of a record — from the UI, the
//! API, an import, a workflow or the AI — goes through here: permission check, validation
//! against the metadata, formulas, the registered hooks (`hooks`: access policy, before-save
//! rules), then the row, its field history and an outbox entry in one transaction — the write's
//! own, or the caller's (`create_record_in`, `update_record_in`). There is no other code that
//! writes record tables.

use super::hooks::ProposedWrite;
use super::{decode_record, object_for, select_sql};
use crate::db::Tx;
use crate::error::RowErrors;
use crate::outbox::{self, Topic};
use crate::schema::{field_of_unique_index, placeholder};
use crate::{table_name, Store, StoreError};
use chrono::{DateTime, Utc};
use rapport_core::codes::{ErrorCode, FieldCode};
use rapport_core::formula::apply_formulas;
use rapport_core::metadata::{FieldType, ObjectDef, WorkspaceSchema};
use rapport_core::names::{quote, SYSTEM_COLUMNS};
use rapport_core::sql::{field_columns, value_to_params, ColumnKind, SqlParam, ValueRows};
use rapport_core::value::{parse_input, to_json};
use rapport_core::{Action, CoreError, FieldError, Principal, Record, Source, Value};
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;

/// The most records one bulk request may write.
pub const MAX_BULK: usize = 1000;

/// Who writes, from where, under which request id.
#[derive(Debug, Clone)]
pub struct WriteCtx<'a> {
    pub principal: &'a Principal,
    pub source: Source,
    pub request_id: String,
}

#[derive(Debug, Clone, Default)]
pub struct RecordInput {
    pub values: Map<String, Json>,
    pub owner_id: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RecordUpdate {
    pub id: String,
    pub values: Map<String, Json>,
    pub owner_id: Option<String>,
    /// When set, the update applies only if the record is still at this version (else 409).
    pub expected_version: Option<i64>,
}

/// A record whose unreadable values `Store::repair_records` cleared.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct RepairedRecord {
    pub id: String,
    /// The fields cleared (set to null).
    pub fields: Vec<String>,
}

enum Change {
    Create(RecordInput),
    Update(RecordUpdate),
}

/// Parses input values against the object; unknown, archived and read-only fields are errors.
fn parse_values(
    object: &ObjectDef,
    input: &Map<String, Json>,
) -> Result<BTreeMap<String, Value>, Vec<FieldError>> {
    let mut values = BTreeMap::new();
    let mut errors = Vec::new();
    for (name, json) in input {
        match object.active_field(name) {
            None => errors.push(FieldError::new(
                name.as_str(),
                FieldCode::UnknownField,
                format!("{} has no field {name:?}", object.api_name),
            )),
            Some(field) => match parse_input(field, json) {
                Ok(value) => {
                    values.insert(name.clone(), value);
                }
                Err(e) => errors.push(e),
            },
        }
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(errors)
    }
}

/// A pipeline's win probability follows its stage: when a write moves the record to another
/// stage and does not set the probability itself, the probability becomes the new stage's.
fn follow_stage(
    def: &ObjectDef,
    parsed: &BTreeMap<String, Value>,
    before: Option<&Record>,
    record: &mut Record,
) {
    let Some(pipeline) = def.pipeline() else {
        return;
    };
    let Some(Value::Text(stage)) = parsed.get(&pipeline.stage.api_name) else {
        return;
    };
    let moved =
        before.is_none_or(|b| b.get(&pipeline.stage.api_name) != Value::Text(stage.clone()));
    if !moved {
        return;
    }
    if let Some((field, probability)) = pipeline.probability_of(stage) {
        if !parsed.contains_key(field) {
            record.values.insert(field.to_string(), probability);
        }
    }
}

fn missing_required(object: &ObjectDef, record: &Record) -> Vec<FieldError> {
    object
        .active_fields()
        .filter(|f| f.required && record.get(&f.api_name).is_null())
        .map(|f| {
            FieldError::new(
                f.api_name.as_str(),
                FieldCode::Required,
                format!("{} is required", f.api_name),
            )
        })
        .collect()
}

impl Store {
    pub async fn create_record(
        &self,
        ctx: &WriteCtx<'_>,
        schema: &WorkspaceSchema,
        object: &str,
        input: RecordInput,
    ) -> Result<Record, StoreError> {
        let mut records = self
            .write_batch(ctx, schema, object, vec![Change::Create(input)])
            .await
            .map_err(BatchFailure::single)?;
        records
            .pop()
            .ok_or_else(|| StoreError::Corrupt("no record written".into()))
    }

    /// Creates up to 1,000 records in one all-or-nothing transaction.
    pub async fn create_records(
        &self,
        ctx: &WriteCtx<'_>,
        schema: &WorkspaceSchema,
        object: &str,
        inputs: Vec<RecordInput>,
    ) -> Result<Vec<Record>, StoreError> {
        check_bulk_size(inputs.len())?;
        self.write_batch(
            ctx,
            schema,
            object,
            inputs.into_iter().map(Change::Create).collect(),
        )
        .await
        .map_err(BatchFailure::batch)
    }

    pub async fn update_record(
        &self,
        ctx: &WriteCtx<'_>,
        schema: &WorkspaceSchema,
        object: &str,
        update: RecordUpdate,
    ) -> Result<Record, StoreError> {
        let mut records = self
            .write_batch(ctx, schema, object, vec![Change::Update(update)])
            .await
            .map_err(BatchFailure::single)?;
        records
            .pop()
            .ok_or_else(|| StoreError::Corrupt("no record written".into()))
    }

    /// Updates up to 1,000 records in one all-or-nothing transaction.
    pub async fn update_records(
        &self,
        ctx: &WriteCtx<'_>,
        schema: &WorkspaceSchema,
        object: &str,
        updates: Vec<RecordUpdate>,
    ) -> Result<Vec<Record>, StoreError> {
        check_bulk_size(updates.len())?;
        self.write_batch(
            ctx,
            schema,
            object,
            updates.into_iter().map(Change::Update).collect(),
        )
        .await
        .map_err(BatchFailure::batch)
    }

    /// Creates a record inside the caller's transaction (the caller commits): the same path as
    /// `create_record` — validation, hooks, row, history, outbox — for work that must commit
    /// together with the record (a profile link, a job).
    pub async fn create_record_in(
        &self,
        tx: &mut Tx,
        ctx: &WriteCtx<'_>,
        schema: &WorkspaceSchema,
        object: &str,
        input: RecordInput,
    ) -> Result<Record, StoreError> {
        let def = object_for(ctx.principal, schema, object, Action::Create)?;
        let values = parse_values(def, &input.values).map_err(CoreError::Validation)?;
        let now = self.now();
        self.write_one(tx, ctx, schema, def, Change::Create(input), values, now)
            .await
    }

    /// Updates a record inside the caller's transaction (see `create_record_in`).
    pub async fn update_record_in(
        &self,
        tx: &mut Tx,
        ctx: &WriteCtx<'_>,
        schema: &WorkspaceSchema,
        object: &str,
        update: RecordUpdate,
    ) -> Result<Record, StoreError> {
        let def = object_for(ctx.principal, schema, object, Action::Update)?;
        let values = parse_values(def, &update.values).map_err(CoreError::Validation)?;
        let now = self.now();
        self.write_one(tx, ctx, schema, def, Change::Update(update), values, now)
            .await
    }

    async fn write_batch(
        &self,
        ctx: &WriteCtx<'_>,
        schema: &WorkspaceSchema,
        object: &str,
        changes: Vec<Change>,
    ) -> Result<Vec<Record>, BatchFailure> {
        let action = match changes.first() {
            Some(Change::Update(_)) => Action::Update,
            _ => Action::Create,
        };
        let def = object_for(ctx.principal, schema, object, action)?;
        // Parse every input before the transaction: on SQLite it holds the only writer.
        let mut parsed = Vec::with_capacity(changes.len());
        let mut row_errors = Vec::new();
        for (index, change) in changes.iter().enumerate() {
            let input = match change {
                Change::Create(c) => &c.values,
                Change::Update(u) => &u.values,
            };
            match parse_values(def, input) {
                Ok(values) => parsed.push(values),
                Err(errors) => row_errors.push(RowErrors { index, errors }),
            }
        }
        if !row_errors.is_empty() {
            return Err(BatchFailure::Rows(row_errors));
        }
        let mut tx = self.db.begin().await?;
        let now = self.now();
        let mut written = Vec::with_capacity(changes.len());
        for (index, (change, values)) in changes.into_iter().zip(parsed).enumerate() {
            match self
                .write_one(&mut tx, ctx, schema, def, change, values, now)
                .await
            {
                Ok(record) => written.push(record),
                Err(StoreError::Core(CoreError::Validation(errors))) => {
                    row_errors.push(RowErrors { index, errors })
                }
                Err(other) => {
                    if let Some(index_name) = other.unique_violation() {
                        let field = field_of_unique_index(&index_name);
                        row_errors.push(RowErrors {
                            index,
                            errors: vec![FieldError::new(
                                field.as_str(),
                                FieldCode::DuplicateValue,
                                format!("another record already has this {field}"),
                            )],
                        });
                        // The statement failed: on PostgreSQL the transaction is now aborted,
                        // so stop here and report what we know.
                        break;
                    }
                    return Err(BatchFailure::At {
                        index,
                        error: other,
                    });
                }
            }
        }
        if !row_errors.is_empty() {
            return Err(BatchFailure::Rows(row_errors));
        }
        tx.commit().await?;
        Ok(written)
    }

    #[allow(clippy::too_many_arguments)]
    async fn write_one(
        &self,
        tx: &mut Tx,
        ctx: &WriteCtx<'_>,
        schema: &WorkspaceSchema,
        def: &ObjectDef,
        change: Change,
        mut parsed: BTreeMap<String, Value>,
        now: DateTime<Utc>,
    ) -> Result<Record, StoreError> {
        let ws = &ctx.principal.workspace_id;
        let owner_in = match &change {
            Change::Create(c) => &c.owner_id,
            Change::Update(u) => &u.owner_id,
        };
        let existing = match &change {
            Change::Create(_) => None,
            Change::Update(u) => Some(self.load_for_update(tx, ws, def, &u.id).await?),
        };
        let now = match &existing {
            Some(current) => self.change_time(tx, ws, &def.api_name, &current.id).await?,
            None => now,
        };
        if let (Change::Update(u), Some(current)) = (&change, &existing) {
            if u.expected_version.is_some_and(|v| v != current.version) {
                return Err(StoreError::conflict(
                    ErrorCode::VersionConflict,
                    format!(
                        "the record changed since you read it (now at version {})",
                        current.version
                    ),
                ));
            }
        }
        let mut record = existing.clone().unwrap_or_else(|| Record {
            id: uuid::Uuid::now_v7().to_string(),
            version: 0,
            created_at: now,
            updated_at: now,
            created_by: Some(ctx.principal.user_id.clone()),
            updated_by: None,
            owner_id: Some(ctx.principal.user_id.clone()),
            deleted_at: None,
            values: def
                .active_fields()
                .map(|f| (f.api_name.clone(), Value::Null))
                .collect(),
            unreadable: Vec::new(),
        });
        let mut errors = crate::files::resolve_files(tx, ws, def, &record.id, &mut parsed).await?;
        for (name, value) in &parsed {
            record.values.insert(name.clone(), value.clone());
        }
        follow_stage(def, &parsed, existing.as_ref(), &mut record);
        // A field written now (and a formula, computed on every write) replaces whatever
        // unreadable value it held.
        record.unreadable.retain(|f| {
            !parsed.contains_key(f)
                && def
                    .active_field(f)
                    .is_some_and(|d| d.field_type != FieldType::Formula)
        });
        if let Some(owner) = owner_in {
            record.owner_id = Some(owner.clone());
        }
        apply_formulas(def, &mut record);
        errors.extend(missing_required(def, &record));
        errors.extend(self.check_references(tx, ws, schema, def, &parsed).await?);
        if let Some(owner) = owner_in {
            if !self.user_exists(tx, ws, owner).await? {
                errors.push(FieldError::new(
                    "owner_id",
                    FieldCode::UnknownUser,
                    "no such user in this workspace",
                ));
            }
        }
        if !errors.is_empty() {
            return Err(CoreError::Validation(errors).into());
        }
        let hooks = self.hooks.all();
        if !hooks.is_empty() {
            let mut proposed = ProposedWrite {
                ctx,
                object: def,
                before: existing.as_ref(),
                record: &mut record,
            };
            for hook in &hooks {
                hook.before_save(tx, &mut proposed).await?;
            }
            // What the hooks set counts like input: formulas again, required fields again.
            apply_formulas(def, &mut record);
            let errors = missing_required(def, &record);
            if !errors.is_empty() {
                return Err(CoreError::Validation(errors).into());
            }
        }
        if existing.is_none() {
            super::numbering::number_new_record(tx, ctx.principal, def, &mut record).await?;
        }
        match existing {
            None => self.insert_row(tx, ctx, def, &mut record, now).await?,
            Some(old) => {
                self.update_row(tx, ctx, def, &old, &mut record, now)
                    .await?
            }
        }
        Ok(record)
    }

    async fn load_for_update(
        &self,
        tx: &mut Tx,
        ws: &str,
        def: &ObjectDef,
        id: &str,
    ) -> Result<Record, StoreError> {
        let table = quote(&table_name(ws, &def.api_name));
        let (select, kinds) = select_sql(def, &table);
        let sql = format!(
            "{select} WHERE \"id\" = {} AND \"deleted_at\" IS NULL{}",
            placeholder(tx.dialect(), 1),
            tx.for_update()
        );
        let row = tx
            .fetch_records(&sql, &[SqlParam::Text(id.to_string())], &kinds)
            .await?
            .pop()
            .ok_or_else(|| StoreError::not_found("record"))?;
        decode_record(def, &row)
    }

    /// Relation values must point at live records of the target; user values at users of the
    /// workspace.
    async fn check_references(
        &self,
        tx: &mut Tx,
        ws: &str,
        schema: &WorkspaceSchema,
        def: &ObjectDef,
        values: &BTreeMap<String, Value>,
    ) -> Result<Vec<FieldError>, StoreError> {
        let mut errors = Vec::new();
        for (name, value) in values {
            if let (Some(field), Value::List(ids)) = (def.field(name), value) {
                if field.field_type == FieldType::MultiUser {
                    for id in ids {
                        if !self.user_exists(tx, ws, id).await? {
                            errors.push(FieldError::new(
                                name.as_str(),
                                FieldCode::UnknownUser,
                                format!("no user {id:?} in this workspace"),
                            ));
                        }
                    }
                }
                continue;
            }
            let (Some(field), Value::Text(id)) = (def.field(name), value) else {
                continue;
            };
            match field.field_type {
                FieldType::Relation => {
                    // A relation without a target names no object: the lookup below finds none.
                    let target = field.config.target.as_deref().unwrap_or_default();
                    let live = schema.active_object(target).is_some()
                        && tx
                            .fetch_optional(
                                &format!(
                                    "SELECT 1 FROM {} WHERE \"id\" = {} AND \"deleted_at\" IS NULL",
                                    quote(&table_name(ws, target)),
                                    placeholder(tx.dialect(), 1)
                                ),
                                &[SqlParam::Text(id.clone())],
                                &[ColumnKind::Int],
                            )
                            .await?
                            .is_some();
                    if !live {
                        errors.push(FieldError::new(
                            name.as_str(),
                            FieldCode::UnknownReference,
                            format!("no {target} record with id {id:?}"),
                        ));
                    }
                }
                FieldType::User if !self.user_exists(tx, ws, id).await? => {
                    errors.push(FieldError::new(
                        name.as_str(),
                        FieldCode::UnknownUser,
                        "no such user in this workspace",
                    ));
                }
                _ => {}
            }
        }
        Ok(errors)
    }

    async fn user_exists(&self, tx: &mut Tx, ws: &str, user_id: &str) -> Result<bool, StoreError> {
        let d = tx.dialect();
        Ok(tx
            .fetch_optional(
                &format!(
                    "SELECT 1 FROM users WHERE id = {} AND workspace_id = {}",
                    placeholder(d, 1),
                    placeholder(d, 2)
                ),
                &[
                    SqlParam::Text(user_id.to_string()),
                    SqlParam::Text(ws.to_string()),
                ],
                &[ColumnKind::Int],
            )
            .await?
            .is_some())
    }

    async fn insert_row(
        &self,
        tx: &mut Tx,
        ctx: &WriteCtx<'_>,
        def: &ObjectDef,
        record: &mut Record,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let ws = &ctx.principal.workspace_id;
        record.version = 1;
        record.updated_by = Some(ctx.principal.user_id.clone());
        // Every system column but `deleted_at`, in `names::SYSTEM_COLUMNS` order.
        let mut columns: Vec<String> = SYSTEM_COLUMNS[..7].iter().map(|c| quote(c)).collect();
        let mut params = vec![
            SqlParam::Text(record.id.clone()),
            SqlParam::Int(record.version),
            SqlParam::Timestamp(now),
            SqlParam::Timestamp(now),
            record
                .created_by
                .clone()
                .map_or(SqlParam::Null, SqlParam::Text),
            record
                .updated_by
                .clone()
                .map_or(SqlParam::Null, SqlParam::Text),
            record
                .owner_id
                .clone()
                .map_or(SqlParam::Null, SqlParam::Text),
        ];
        let mut snapshot = Map::new();
        for field in def.active_fields() {
            let value = record.get(&field.api_name);
            for column in field_columns(field) {
                columns.push(quote(&column.name));
            }
            params.extend(value_to_params(field, &value));
            if !value.is_null() && field.field_type != FieldType::Formula {
                snapshot.insert(field.api_name.clone(), to_json(field, &value));
            }
        }
        let mut row = ValueRows::new(tx.dialect());
        row.push(params);
        let sql = format!(
            "INSERT INTO {} ({}) VALUES {}",
            quote(&table_name(ws, &def.api_name)),
            columns.join(", "),
            row.sql()
        );
        tx.execute(&sql, row.params()).await?;
        if let Some(owner) = &record.owner_id {
            snapshot.insert("owner_id".into(), Json::String(owner.clone()));
        }
        let snapshot = Json::Object(snapshot);
        self.append_history(
            tx,
            ctx,
            def,
            &record.id,
            "created",
            None,
            Json::Null,
            snapshot.clone(),
            now,
        )
        .await?;
        append_outbox(tx, ws, Topic::RecordCreated, def, &record.id, snapshot, now).await
    }

    async fn update_row(
        &self,
        tx: &mut Tx,
        ctx: &WriteCtx<'_>,
        def: &ObjectDef,
        old: &Record,
        record: &mut Record,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let ws = &ctx.principal.workspace_id;
        let dialect = tx.dialect();
        let mut sets = Vec::new();
        let mut params = Vec::new();
        let mut changes = Vec::new();
        for field in def.active_fields() {
            let before = old.get(&field.api_name);
            let after = record.get(&field.api_name);
            let repaired = old.unreadable.contains(&field.api_name)
                && !record.unreadable.contains(&field.api_name);
            if before == after && !repaired {
                continue;
            }
            for (column, param) in field_columns(field)
                .into_iter()
                .zip(value_to_params(field, &after))
            {
                params.push(param);
                sets.push(format!(
                    "{} = {}",
                    quote(&column.name),
                    placeholder(dialect, params.len())
                ));
            }
            if field.field_type != FieldType::Formula {
                changes.push((
                    field.api_name.clone(),
                    to_json(field, &before),
                    to_json(field, &after),
                ));
            }
        }
        if old.owner_id != record.owner_id {
            params.push(
                record
                    .owner_id
                    .clone()
                    .map_or(SqlParam::Null, SqlParam::Text),
            );
            sets.push(format!(
                "\"owner_id\" = {}",
                placeholder(dialect, params.len())
            ));
            let as_json = |o: &Option<String>| o.clone().map_or(Json::Null, Json::String);
            changes.push((
                "owner_id".into(),
                as_json(&old.owner_id),
                as_json(&record.owner_id),
            ));
        }
        if sets.is_empty() {
            return Ok(());
        }
        record.version = old.version + 1;
        record.updated_at = now;
        record.updated_by = Some(ctx.principal.user_id.clone());
        for (column, value) in [
            ("version", SqlParam::Int(record.version)),
            ("updated_at", SqlParam::Timestamp(now)),
            ("updated_by", SqlParam::Text(ctx.principal.user_id.clone())),
        ] {
            params.push(value);
            sets.push(format!(
                "{} = {}",
                quote(column),
                placeholder(dialect, params.len())
            ));
        }
        params.push(SqlParam::Text(record.id.clone()));
        params.push(SqlParam::Int(old.version));
        let sql = format!(
            "UPDATE {} SET {} WHERE \"id\" = {} AND \"version\" = {}",
            quote(&table_name(ws, &def.api_name)),
            sets.join(", "),
            placeholder(dialect, params.len() - 1),
            placeholder(dialect, params.len())
        );
        if tx.execute(&sql, &params).await? == 0 {
            return Err(StoreError::conflict(
                ErrorCode::VersionConflict,
                "the record was changed by someone else at the same moment",
            ));
        }
        let mut payload = Map::new();
        for (field, old_value, new_value) in changes {
            payload.insert(field.clone(), new_value.clone());
            self.append_history(
                tx,
                ctx,
                def,
                &record.id,
                "updated",
                Some(&field),
                old_value,
                new_value,
                now,
            )
            .await?;
        }
        append_outbox(
            tx,
            ws,
            Topic::RecordUpdated,
            def,
            &record.id,
            Json::Object(payload),
            now,
        )
        .await
    }

    /// Clears every unreadable stored value (see `decode_record`) of the live records of
    /// `object` through the write path — each repair is a recorded change — and says which
    /// fields of which records were cleared. Deleted records are repaired once restored.
    pub async fn repair_records(
        &self,
        ctx: &WriteCtx<'_>,
        schema: &WorkspaceSchema,
        object: &str,
    ) -> Result<Vec<RepairedRecord>, StoreError> {
        let def = object_for(ctx.principal, schema, object, Action::Update)?;
        let table = quote(&table_name(&ctx.principal.workspace_id, object));
        let (select, kinds) = select_sql(def, &table);
        let sql = format!(
            "{select} WHERE \"deleted_at\" IS NULL AND \"id\" > {} ORDER BY \"id\" LIMIT 500",
            placeholder(self.db.dialect(), 1)
        );
        let mut repaired = Vec::new();
        let mut after = String::new();
        loop {
            let rows = self
                .db
                .fetch_records(&sql, &[SqlParam::Text(after.clone())], &kinds)
                .await?;
            let Some(last) = rows.last() else { break };
            after = last.text(0)?;
            for row in &rows {
                let record = decode_record(def, row)?;
                if record.unreadable.is_empty() {
                    continue;
                }
                let values = record
                    .unreadable
                    .iter()
                    .filter(|f| {
                        def.active_field(f)
                            .is_some_and(|d| d.field_type != FieldType::Formula)
                    })
                    .map(|f| (f.clone(), Json::Null))
                    .collect();
                let update = RecordUpdate {
                    id: record.id.clone(),
                    values,
                    owner_id: None,
                    expected_version: Some(record.version),
                };
                self.update_record(ctx, schema, object, update).await?;
                repaired.push(RepairedRecord {
                    id: record.id,
                    fields: record.unreadable,
                });
            }
        }
        Ok(repaired)
    }

    /// Soft-deletes (`delete = true`) or restores a record; both are recorded in history.
    pub async fn set_record_deleted(
        &self,
        ctx: &WriteCtx<'_>,
        schema: &WorkspaceSchema,
        object: &str,
        id: &str,
        delete: bool,
    ) -> Result<Record, StoreError> {
        let def = object_for(ctx.principal, schema, object, Action::Delete)?;
        let ws = &ctx.principal.workspace_id;
        let mut tx = self.db.begin().await?;
        let dialect = tx.dialect();
        let table = quote(&table_name(ws, object));
        let (select, kinds) = select_sql(def, &table);
        let state = if delete { "IS NULL" } else { "IS NOT NULL" };
        let row = tx
            .fetch_records(
                &format!(
                    "{select} WHERE \"id\" = {} AND \"deleted_at\" {state}{}",
                    placeholder(dialect, 1),
                    tx.for_update()
                ),
                &[SqlParam::Text(id.to_string())],
                &kinds,
            )
            .await?
            .pop()
            .ok_or_else(|| StoreError::not_found("record"))?;
        let mut record = decode_record(def, &row)?;
        let now = self.change_time(&mut tx, ws, object, id).await?;
        record.version += 1;
        record.deleted_at = delete.then_some(now);
        record.updated_at = now;
        record.updated_by = Some(ctx.principal.user_id.clone());
        let p = |n| placeholder(dialect, n);
        let result = tx
            .execute(
                &format!(
                    "UPDATE {table} SET \"deleted_at\" = {}, \"version\" = {}, \"updated_at\" = {}, \"updated_by\" = {} WHERE \"id\" = {}",
                    p(1), p(2), p(3), p(4), p(5)
                ),
                &[
                    record.deleted_at.map_or(SqlParam::NullOf(ColumnKind::Timestamp), SqlParam::Timestamp),
                    SqlParam::Int(record.version),
                    SqlParam::Timestamp(now),
                    SqlParam::Text(ctx.principal.user_id.clone()),
                    SqlParam::Text(id.to_string()),
                ],
            )
            .await;
        if let Err(e) = result {
            return Err(match e.unique_violation() {
                Some(index) => StoreError::conflict(
                    ErrorCode::DuplicateValue,
                    format!(
                        "another live record already has this {}; change it before restoring",
                        field_of_unique_index(&index)
                    ),
                ),
                None => e,
            });
        }
        let (kind, topic) = if delete {
            ("deleted", Topic::RecordDeleted)
        } else {
            ("restored", Topic::RecordRestored)
        };
        self.append_history(
            &mut tx,
            ctx,
            def,
            id,
            kind,
            None,
            Json::Null,
            Json::Null,
            now,
        )
        .await?;
        append_outbox(&mut tx, ws, topic, def, id, Json::Null, now).await?;
        tx.commit().await?;
        Ok(record)
    }

    #[allow(clippy::too_many_arguments)]
    async fn append_history(
        &self,
        tx: &mut Tx,
        ctx: &WriteCtx<'_>,
        def: &ObjectDef,
        record_id: &str,
        kind: &str,
        field: Option<&str>,
        old_value: Json,
        new_value: Json,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut row = ValueRows::new(tx.dialect());
        row.push([
            SqlParam::Text(ctx.principal.workspace_id.clone()),
            SqlParam::Text(def.api_name.clone()),
            SqlParam::Text(record_id.to_string()),
            SqlParam::Text(kind.to_string()),
            field.map_or(SqlParam::Null, |f| SqlParam::Text(f.to_string())),
            SqlParam::Json(old_value),
            SqlParam::Json(new_value),
            SqlParam::Text(ctx.principal.user_id.clone()),
            SqlParam::Text(ctx.source.as_str().to_string()),
            SqlParam::Text(ctx.request_id.clone()),
            SqlParam::Timestamp(now),
        ]);
        tx.execute(
            &format!(
                "INSERT INTO field_history (workspace_id, object, record_id, kind, field, old_value, new_value, actor_id, source, request_id, changed_at) VALUES {}",
                row.sql()
            ),
            row.params(),
        )
        .await?;
        Ok(())
    }
}

/// The record change's outbox entry, in the write's transaction.
#[allow(clippy::too_many_arguments)]
async fn append_outbox(
    tx: &mut Tx,
    ws: &str,
    topic: Topic,
    def: &ObjectDef,
    record_id: &str,
    payload: Json,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    outbox::append(
        tx,
        &[outbox::NewEntry {
            workspace_id: ws.to_string(),
            topic,
            object: def.api_name.clone(),
            record_id: record_id.to_string(),
            payload,
            at: now,
        }],
    )
    .await
}

fn check_bulk_size(n: usize) -> Result<(), StoreError> {
    if n == 0 || n > MAX_BULK {
        return Err(StoreError::bad_request(
            ErrorCode::InvalidBatchSize,
            format!("a batch holds 1 to {MAX_BULK} records, not {n}"),
        ));
    }
    Ok(())
}

/// Why a batch failed: field errors of some rows (nothing written), or an error at one row.
enum BatchFailure {
    Rows(Vec<RowErrors>),
    At { index: usize, error: StoreError },
    Before(StoreError),
}

impl From<StoreError> for BatchFailure {
    fn from(error: StoreError) -> Self {
        BatchFailure::Before(error)
    }
}

impl BatchFailure {
    /// A single-record write reports its field errors directly, a unique violation as a
    /// conflict, and a missing record as not found.
    fn single(self) -> StoreError {
        match self {
            BatchFailure::Rows(mut rows) => {
                // A failed batch of one names its row; no row means no field errors to report.
                let errors = rows.pop().map(|r| r.errors).unwrap_or_default();
                match errors.iter().find(|e| e.code == "duplicate_value") {
                    Some(dup) => StoreError::Conflict {
                        code: ErrorCode::DuplicateValue,
                        message: format!("{}: {}", dup.field, dup.message),
                    },
                    None => StoreError::Core(CoreError::Validation(errors)),
                }
            }
            BatchFailure::At { error, .. } | BatchFailure::Before(error) => error,
        }
    }

    /// A batch names the failing row: a missing record is a row error, a conflict says which.
    fn batch(self) -> StoreError {
        match self {
            BatchFailure::Rows(rows) => StoreError::Bulk(rows),
            BatchFailure::At {
                index,
                error: StoreError::NotFound { what },
            } => StoreError::Bulk(vec![RowErrors {
                index,
                errors: vec![FieldError::new(
                    "id",
                    FieldCode::RecordNotFound,
                    format!("{what} not found"),
                )],
            }]),
            BatchFailure::At {
                index,
                error: StoreError::Conflict { code, message },
            } => StoreError::Conflict {
                code,
                message: format!("record {index}: {message}"),
            },
            BatchFailure::At { error, .. } | BatchFailure::Before(error) => error,
        }
    }
}
