//! Metadata with run-time DDL. Creating an object creates its table; adding a field adds its
//! typed column(s) and indexes; both happen in the same transaction as the metadata row, and
//! bump the workspace's metadata version so every node reloads its cached schema. Archiving
//! keeps data; only a purge drops it.

use crate::db::Tx;
use crate::{table_name, Store, StoreError};
use rapport_core::codes::ErrorCode;
use rapport_core::formula::apply_formulas;
use rapport_core::metadata::{
    too_many_fields, FieldDef, FieldType, ObjectDef, WorkspaceSchema, MAX_FIELDS_PER_OBJECT,
};
use rapport_core::names::{generate_api_name, quote};
pub use rapport_core::sql::placeholder;
use rapport_core::sql::{field_columns, value_to_params, ColumnKind, Dialect, SqlParam};
use rapport_core::CoreError;
use std::sync::Arc;

/// FNV-1a, for short stable index names.
fn short_hash(text: &str) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    for b in text.bytes() {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    format!("{hash:08x}")
}

/// Index names fit PostgreSQL's 63 characters; a unique index name ends with the field's name
/// so a violation can be reported against the field.
fn index_name(workspace_id: &str, object: &str, field: &str, unique: bool) -> String {
    let prefix = if unique { "ux" } else { "ix" };
    format!("{prefix}_{workspace_id}_{}_{field}", short_hash(object))
}

/// The field named by a unique index (see `index_name`), or a bare column name (SQLite).
pub fn field_of_unique_index(name: &str) -> String {
    match name.splitn(4, '_').collect::<Vec<_>>().as_slice() {
        ["ux", _, _, field] => (*field).to_string(),
        _ => name.to_string(),
    }
}

/// Whether a field's value column gets a plain index (filters, sorts, reverse lists).
fn wants_index(object: &ObjectDef, field: &FieldDef) -> bool {
    field.api_name == object.name_field
        || matches!(
            field.field_type,
            FieldType::Select
                | FieldType::Relation
                | FieldType::User
                | FieldType::Email
                | FieldType::Phone
                | FieldType::Date
                | FieldType::Datetime
                | FieldType::Currency
                | FieldType::Address
        )
}

fn ts_type(dialect: Dialect) -> &'static str {
    dialect.column_type(ColumnKind::Timestamp)
}

async fn create_field_indexes(
    tx: &mut Tx,
    workspace_id: &str,
    object: &ObjectDef,
    field: &FieldDef,
) -> Result<(), StoreError> {
    let table = quote(&table_name(workspace_id, &object.api_name));
    let column = quote(&field.api_name);
    if field.has_unique_values() {
        let name = index_name(workspace_id, &object.api_name, &field.api_name, true);
        tx.execute(
            &format!(
                "CREATE UNIQUE INDEX {} ON {table} ({column}) WHERE \"deleted_at\" IS NULL",
                quote(&name)
            ),
            &[],
        )
        .await
        .map_err(|e| match e.unique_violation() {
            Some(_) => StoreError::conflict(
                ErrorCode::DuplicateValuesExist,
                format!(
                    "{} already holds duplicate values; it cannot be made unique",
                    field.api_name
                ),
            ),
            None => e,
        })?;
    } else if wants_index(object, field) {
        let name = index_name(workspace_id, &object.api_name, &field.api_name, false);
        // Lookups by a select, relation or user value usually list the newest first: the
        // composite index serves both the filter and the default sort.
        let columns = if matches!(
            field.field_type,
            FieldType::Select | FieldType::Relation | FieldType::User
        ) {
            format!("{column}, \"created_at\"")
        } else {
            column
        };
        tx.execute(
            &format!("CREATE INDEX {} ON {table} ({columns})", quote(&name)),
            &[],
        )
        .await?;
    }
    Ok(())
}

async fn drop_field_indexes(
    tx: &mut Tx,
    workspace_id: &str,
    object: &str,
    field: &str,
) -> Result<(), StoreError> {
    for unique in [true, false] {
        let name = index_name(workspace_id, object, field, unique);
        tx.execute(&format!("DROP INDEX IF EXISTS {}", quote(&name)), &[])
            .await?;
    }
    Ok(())
}

fn column_ddl(dialect: Dialect, field: &FieldDef) -> Vec<String> {
    field_columns(field)
        .into_iter()
        .map(|c| format!("{} {}", quote(&c.name), dialect.column_type(c.kind)))
        .collect()
}

impl Store {
    /// The workspace's objects, from the cache when `version` is current.
    pub async fn schema(
        &self,
        workspace_id: &str,
        version: i64,
    ) -> Result<Arc<WorkspaceSchema>, StoreError> {
        if let Some((cached_version, schema)) = self.schemas.get(workspace_id) {
            if cached_version == version {
                return Ok(schema);
            }
        }
        let schema = Arc::new(self.load_schema(workspace_id).await?);
        self.schemas
            .insert(workspace_id.to_string(), (version, schema.clone()));
        Ok(schema)
    }

    /// The current schema, read from the database (no cache).
    pub async fn load_schema(&self, workspace_id: &str) -> Result<WorkspaceSchema, StoreError> {
        let rows = self
            .db
            .fetch_all(
                &schema_query(self.db.dialect()),
                &[SqlParam::Text(workspace_id.to_string())],
                &[ColumnKind::Json],
            )
            .await?;
        schema_from_rows(rows)
    }

    /// The placeholder for parameter `n` in this store's dialect.
    pub fn ph(&self, n: usize) -> String {
        placeholder(self.db.dialect(), n)
    }

    /// Creates an object and its table. Relation targets must exist (or be the object itself).
    pub async fn create_object(
        &self,
        workspace_id: &str,
        object: ObjectDef,
    ) -> Result<ObjectDef, StoreError> {
        let mut tx = self.db.begin().await?;
        lock_workspace(&mut tx, workspace_id).await?;
        let schema = load_schema_tx(&mut tx, workspace_id).await?;
        let object = self
            .create_object_tx(&mut tx, workspace_id, &schema, object)
            .await?;
        bump_metadata_version(&mut tx, workspace_id).await?;
        tx.commit().await?;
        Ok(object)
    }

    /// Creates objects inside an open transaction (used for a new workspace's standard set).
    pub async fn create_object_tx(
        &self,
        tx: &mut Tx,
        workspace_id: &str,
        schema: &WorkspaceSchema,
        object: ObjectDef,
    ) -> Result<ObjectDef, StoreError> {
        object.validate()?;
        if schema.object(&object.api_name).is_some() {
            return Err(StoreError::conflict(
                ErrorCode::ObjectExists,
                format!("an object named {} already exists", object.api_name),
            ));
        }
        for field in &object.fields {
            check_relation_target(schema, &object, field)?;
            if field.field_type == FieldType::Formula {
                rapport_core::formula::Formula::compile(field, &object)?;
            }
        }
        create_object_table(tx, workspace_id, &object).await?;
        let now = self.now();
        insert_object_row(tx, workspace_id, &object, now, now).await?;
        Ok(object)
    }

    /// Recreates an object exactly as a backup describes it (archived fields and all), with
    /// the same DDL as `create_object_tx`, inside the restore's transaction. The definition is
    /// checked on its own; relation targets are not, since the backup's objects arrive one by
    /// one and were consistent where they came from.
    pub async fn restore_object_tx(
        &self,
        tx: &mut Tx,
        workspace_id: &str,
        object: &ObjectDef,
        created_at: chrono::DateTime<chrono::Utc>,
        updated_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        object.validate()?;
        create_object_table(tx, workspace_id, object).await?;
        insert_object_row(tx, workspace_id, object, created_at, updated_at).await
    }

    /// Applies `change` to an object's definition, with the DDL it needs, in one transaction.
    async fn change_object<F>(
        &self,
        workspace_id: &str,
        object_name: &str,
        change: F,
    ) -> Result<ObjectDef, StoreError>
    where
        F: for<'a> FnOnce(
            &'a mut Tx,
            &'a WorkspaceSchema,
            ObjectDef,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<ObjectDef, StoreError>> + Send + 'a>,
        >,
    {
        let mut tx = self.db.begin().await?;
        lock_workspace(&mut tx, workspace_id).await?;
        let schema = load_schema_tx(&mut tx, workspace_id).await?;
        let current = schema
            .object(object_name)
            .cloned()
            .ok_or_else(|| StoreError::not_found("object"))?;
        let updated = change(&mut tx, &schema, current).await?;
        updated.validate()?;
        let dialect = tx.dialect();
        let p = |n| placeholder(dialect, n);
        tx.execute(
            &format!(
                "UPDATE objects SET definition = {}, updated_at = {} WHERE workspace_id = {} AND api_name = {}",
                p(1), p(2), p(3), p(4)
            ),
            &[
                SqlParam::Json(to_json(&updated)?),
                SqlParam::Timestamp(self.now()),
                SqlParam::Text(workspace_id.to_string()),
                SqlParam::Text(object_name.to_string()),
            ],
        )
        .await?;
        bump_metadata_version(&mut tx, workspace_id).await?;
        tx.commit().await?;
        Ok(updated)
    }

    /// Relabels an object, changes its name field or its layout. Never touches data.
    pub async fn update_object(
        &self,
        workspace_id: &str,
        object_name: &str,
        patch: ObjectPatch,
    ) -> Result<ObjectDef, StoreError> {
        self.change_object(workspace_id, object_name, move |_, _, mut object| {
            Box::pin(async move {
                if object.archived_at.is_some() {
                    return Err(archived("object"));
                }
                if let Some(label) = patch.label {
                    object.label = label;
                }
                if let Some(label) = patch.plural_label {
                    object.plural_label = label;
                }
                if let Some(name_field) = patch.name_field {
                    object.name_field = name_field;
                }
                if let Some(layout) = patch.layout {
                    object.layout = layout;
                }
                object.check_labels()?;
                Ok(object)
            })
        })
        .await
    }

    /// Archives (`archive = true`) or restores an object. Standard objects cannot be archived,
    /// nor objects that active relations of other objects point at.
    pub async fn set_object_archived(
        &self,
        workspace_id: &str,
        object_name: &str,
        archive: bool,
    ) -> Result<ObjectDef, StoreError> {
        let now = self.now();
        self.change_object(workspace_id, object_name, move |_, schema, mut object| {
            Box::pin(async move {
                if archive {
                    if object.is_standard {
                        return Err(StoreError::conflict(
                            ErrorCode::StandardObject,
                            "standard objects cannot be archived",
                        ));
                    }
                    let users: Vec<String> = schema
                        .relations_to(&object.api_name)
                        .filter(|(o, _)| o.api_name != object.api_name)
                        .map(|(o, f)| format!("{}.{}", o.api_name, f.api_name))
                        .collect();
                    if !users.is_empty() {
                        return Err(StoreError::conflict(
                            ErrorCode::ObjectInUse,
                            format!("relation fields point at this object: {}", users.join(", ")),
                        ));
                    }
                    object.archived_at = Some(object.archived_at.unwrap_or(now));
                } else {
                    object.archived_at = None;
                }
                Ok(object)
            })
        })
        .await
    }

    /// Drops an archived object's table and metadata for good.
    pub async fn purge_object(
        &self,
        workspace_id: &str,
        object_name: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.db.begin().await?;
        lock_workspace(&mut tx, workspace_id).await?;
        let schema = load_schema_tx(&mut tx, workspace_id).await?;
        let object = schema
            .object(object_name)
            .ok_or_else(|| StoreError::not_found("object"))?;
        if object.archived_at.is_none() {
            return Err(StoreError::conflict(
                ErrorCode::NotArchived,
                "archive the object before purging it",
            ));
        }
        let table = table_name(workspace_id, object_name);
        tx.execute(&format!("DROP TABLE IF EXISTS {}", quote(&table)), &[])
            .await?;
        let dialect = tx.dialect();
        let p = |n| placeholder(dialect, n);
        tx.execute(
            &format!(
                "DELETE FROM objects WHERE workspace_id = {} AND api_name = {}",
                p(1),
                p(2)
            ),
            &[
                SqlParam::Text(workspace_id.to_string()),
                SqlParam::Text(object_name.to_string()),
            ],
        )
        .await?;
        bump_metadata_version(&mut tx, workspace_id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds a field: its column(s), its indexes and, for a formula, its values on every record.
    pub async fn add_field(
        &self,
        workspace_id: &str,
        object_name: &str,
        field: FieldDef,
    ) -> Result<ObjectDef, StoreError> {
        let ws = workspace_id.to_string();
        let store = self.clone();
        self.change_object(workspace_id, object_name, move |tx, schema, mut object| {
            Box::pin(async move {
                if object.archived_at.is_some() {
                    return Err(archived("object"));
                }
                let mut field = field;
                field.config.name_options();
                if field.api_name.is_empty() {
                    field.label.check("the new field")?;
                    field.api_name = generate_api_name(&field.label, "field", |name| {
                        object.field(name).is_some()
                    });
                }
                field.validate()?;
                if object.fields.len() >= MAX_FIELDS_PER_OBJECT {
                    return Err(too_many_fields().into());
                }
                if object.field(&field.api_name).is_some() {
                    return Err(StoreError::conflict(
                        ErrorCode::FieldExists,
                        format!(
                            "a field named {} already exists (perhaps archived)",
                            field.api_name
                        ),
                    ));
                }
                field.is_standard = false;
                field.archived_at = None;
                check_relation_target(schema, &object, &field)?;
                if field.field_type == FieldType::Formula {
                    let mut probe = object.clone();
                    probe.fields.push(field.clone());
                    rapport_core::formula::Formula::compile(&field, &probe)?;
                }
                let table = quote(&table_name(&ws, &object.api_name));
                for column in column_ddl(tx.dialect(), &field) {
                    tx.execute(&format!("ALTER TABLE {table} ADD COLUMN {column}"), &[])
                        .await?;
                }
                object.fields.push(field.clone());
                create_field_indexes(tx, &ws, &object, &field).await?;
                if field.field_type == FieldType::Formula {
                    store.backfill_formula(tx, &ws, &object, &field).await?;
                }
                if field.field_type == FieldType::AutoNumber {
                    crate::records::numbering::number_existing_records(tx, &ws, &object, &field)
                        .await?;
                }
                Ok(object)
            })
        })
        .await
    }

    /// Changes a field's label, settings or validation. The type cannot change.
    pub async fn update_field(
        &self,
        workspace_id: &str,
        object_name: &str,
        field_name: &str,
        patch: FieldPatch,
    ) -> Result<ObjectDef, StoreError> {
        let ws = workspace_id.to_string();
        let field_name = field_name.to_string();
        let store = self.clone();
        self.change_object(workspace_id, object_name, move |tx, schema, mut object| {
            Box::pin(async move {
                let position = object
                    .fields
                    .iter()
                    .position(|f| f.api_name == field_name)
                    .ok_or_else(|| StoreError::not_found("field"))?;
                let old = object.fields[position].clone();
                if old.archived_at.is_some() {
                    return Err(archived("field"));
                }
                let mut field = old.clone();
                if let Some(label) = patch.label {
                    field.label = label;
                }
                if let Some(required) = patch.required {
                    field.required = required;
                }
                if let Some(unique) = patch.unique {
                    field.unique = unique;
                }
                if let Some(config) = patch.config {
                    if config.target != old.config.target {
                        return Err(StoreError::conflict(
                            ErrorCode::TypeChangeUnsupported,
                            "the target of a relation cannot change",
                        ));
                    }
                    if config.scale.unwrap_or(2) != old.config.scale.unwrap_or(2) {
                        return Err(StoreError::conflict(
                            ErrorCode::TypeChangeUnsupported,
                            "the scale of a number field cannot change once created",
                        ));
                    }
                    field.config = config;
                    field.config.name_options();
                }
                field.validate()?;
                check_relation_target(schema, &object, &field)?;
                object.fields[position] = field.clone();
                if field.has_unique_values() != old.has_unique_values() {
                    drop_field_indexes(tx, &ws, &object.api_name, &field.api_name).await?;
                    create_field_indexes(tx, &ws, &object, &field).await?;
                }
                if field.field_type == FieldType::Formula && field.config != old.config {
                    rapport_core::formula::Formula::compile(&field, &object)?;
                    store.backfill_formula(tx, &ws, &object, &field).await?;
                }
                Ok(object)
            })
        })
        .await
    }

    /// Archives or restores a field. Data stays in its column either way.
    pub async fn set_field_archived(
        &self,
        workspace_id: &str,
        object_name: &str,
        field_name: &str,
        archive: bool,
    ) -> Result<ObjectDef, StoreError> {
        let now = self.now();
        let field_name = field_name.to_string();
        self.change_object(workspace_id, object_name, move |_, _, mut object| {
            Box::pin(async move {
                let name_field = object.name_field.clone();
                let readers: Vec<String> = object
                    .active_fields()
                    .filter(|f| f.field_type == FieldType::Formula)
                    .filter(|f| {
                        rapport_core::formula::Formula::compile(f, &object)
                            .map(|formula| formula.inputs().contains(&field_name))
                            .unwrap_or(false)
                    })
                    .map(|f| f.api_name.clone())
                    .collect();
                let field = object
                    .fields
                    .iter_mut()
                    .find(|f| f.api_name == field_name)
                    .ok_or_else(|| StoreError::not_found("field"))?;
                if archive {
                    if field.is_standard {
                        return Err(StoreError::conflict(
                            ErrorCode::StandardField,
                            "standard fields cannot be archived",
                        ));
                    }
                    if field.api_name == name_field {
                        return Err(StoreError::conflict(
                            ErrorCode::NameField,
                            "the name field cannot be archived",
                        ));
                    }
                    if !readers.is_empty() {
                        return Err(StoreError::conflict(
                            ErrorCode::FieldInUse,
                            format!("formula fields read this field: {}", readers.join(", ")),
                        ));
                    }
                    field.archived_at = Some(field.archived_at.unwrap_or(now));
                } else {
                    field.archived_at = None;
                }
                Ok(object)
            })
        })
        .await
    }

    /// Drops an archived field's column(s) for good.
    pub async fn purge_field(
        &self,
        workspace_id: &str,
        object_name: &str,
        field_name: &str,
    ) -> Result<ObjectDef, StoreError> {
        let ws = workspace_id.to_string();
        let field_name = field_name.to_string();
        self.change_object(workspace_id, object_name, move |tx, _, mut object| {
            Box::pin(async move {
                let position = object
                    .fields
                    .iter()
                    .position(|f| f.api_name == field_name)
                    .ok_or_else(|| StoreError::not_found("field"))?;
                let field = object.fields.remove(position);
                if field.archived_at.is_none() {
                    return Err(StoreError::conflict(
                        ErrorCode::NotArchived,
                        "archive the field before purging it",
                    ));
                }
                drop_field_indexes(tx, &ws, &object.api_name, &field.api_name).await?;
                let table = quote(&table_name(&ws, &object.api_name));
                for column in field_columns(&field) {
                    tx.execute(
                        &format!("ALTER TABLE {table} DROP COLUMN {}", quote(&column.name)),
                        &[],
                    )
                    .await?;
                }
                for section in &mut object.layout {
                    section.fields.retain(|f| *f != field.api_name);
                }
                Ok(object)
            })
        })
        .await
    }

    /// Computes a formula field on every record of the object, in pages.
    async fn backfill_formula(
        &self,
        tx: &mut Tx,
        workspace_id: &str,
        object: &ObjectDef,
        field: &FieldDef,
    ) -> Result<(), StoreError> {
        let table = quote(&table_name(workspace_id, &object.api_name));
        let dialect = tx.dialect();
        let mut after = String::new();
        loop {
            let (select, kinds) = crate::records::select_sql(object, &table);
            let sql = format!(
                "{select} WHERE \"id\" > {} ORDER BY \"id\" LIMIT 500",
                placeholder(dialect, 1)
            );
            let rows = tx
                .fetch_records(&sql, &[SqlParam::Text(after.clone())], &kinds)
                .await?;
            let Some(last) = rows.last() else { break };
            after = last.text(0)?;
            for row in &rows {
                let mut record = crate::records::decode_record(object, row)?;
                apply_formulas(object, &mut record);
                let value = record.get(&field.api_name);
                let mut params = value_to_params(field, &value);
                let sets: Vec<String> = field_columns(field)
                    .iter()
                    .enumerate()
                    .map(|(i, c)| format!("{} = {}", quote(&c.name), placeholder(dialect, i + 1)))
                    .collect();
                params.push(SqlParam::Text(record.id.clone()));
                tx.execute(
                    &format!(
                        "UPDATE {table} SET {} WHERE \"id\" = {}",
                        sets.join(", "),
                        placeholder(dialect, params.len())
                    ),
                    &params,
                )
                .await?;
            }
        }
        Ok(())
    }
}

/// A change to an object's presentation.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectPatch {
    pub label: Option<rapport_core::Label>,
    pub plural_label: Option<rapport_core::Label>,
    pub name_field: Option<String>,
    pub layout: Option<Vec<rapport_core::metadata::LayoutSection>>,
}

/// A change to a field's label, validation or settings.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldPatch {
    pub label: Option<rapport_core::Label>,
    pub required: Option<bool>,
    pub unique: Option<bool>,
    pub config: Option<rapport_core::FieldConfig>,
}

/// The table of a new object: system columns, one column (two for a currency) per field, and
/// the indexes every record table and its fields get.
async fn create_object_table(
    tx: &mut Tx,
    workspace_id: &str,
    object: &ObjectDef,
) -> Result<(), StoreError> {
    let dialect = tx.dialect();
    let table = table_name(workspace_id, &object.api_name);
    let mut columns = vec![
        "\"id\" TEXT PRIMARY KEY".to_string(),
        format!(
            "\"version\" {} NOT NULL",
            dialect.column_type(ColumnKind::Int)
        ),
        format!("\"created_at\" {} NOT NULL", ts_type(dialect)),
        format!("\"updated_at\" {} NOT NULL", ts_type(dialect)),
        "\"created_by\" TEXT".to_string(),
        "\"updated_by\" TEXT".to_string(),
        "\"owner_id\" TEXT".to_string(),
        format!("\"deleted_at\" {}", ts_type(dialect)),
    ];
    for field in &object.fields {
        columns.extend(column_ddl(dialect, field));
    }
    tx.execute(
        &format!("CREATE TABLE {} ({})", quote(&table), columns.join(", ")),
        &[],
    )
    .await?;
    for system in ["created_at", "updated_at", "owner_id"] {
        let name = index_name(workspace_id, &object.api_name, system, false);
        tx.execute(
            &format!(
                "CREATE INDEX {} ON {} ({})",
                quote(&name),
                quote(&table),
                quote(system)
            ),
            &[],
        )
        .await?;
    }
    for field in &object.fields {
        create_field_indexes(tx, workspace_id, object, field).await?;
    }
    Ok(())
}

async fn insert_object_row(
    tx: &mut Tx,
    workspace_id: &str,
    object: &ObjectDef,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
) -> Result<(), StoreError> {
    let p = |n| placeholder(tx.dialect(), n);
    let sql = format!(
        "INSERT INTO objects (workspace_id, api_name, table_name, definition, created_at, updated_at) VALUES ({}, {}, {}, {}, {}, {})",
        p(1), p(2), p(3), p(4), p(5), p(6)
    );
    tx.execute(
        &sql,
        &[
            SqlParam::Text(workspace_id.to_string()),
            SqlParam::Text(object.api_name.clone()),
            SqlParam::Text(table_name(workspace_id, &object.api_name)),
            SqlParam::Json(to_json(object)?),
            SqlParam::Timestamp(created_at),
            SqlParam::Timestamp(updated_at),
        ],
    )
    .await?;
    Ok(())
}

fn archived(what: &str) -> StoreError {
    StoreError::conflict(
        ErrorCode::Archived,
        format!("the {what} is archived; restore it first"),
    )
}

fn to_json(object: &ObjectDef) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(object).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn check_relation_target(
    schema: &WorkspaceSchema,
    object: &ObjectDef,
    field: &FieldDef,
) -> Result<(), StoreError> {
    if field.field_type != FieldType::Relation {
        return Ok(());
    }
    // A relation without a target names no object: refused below.
    let target = field.config.target.as_deref().unwrap_or_default();
    let exists = target == object.api_name || schema.active_object(target).is_some();
    if !exists {
        return Err(CoreError::definition(
            ErrorCode::UnknownTarget,
            format!(
                "relation {} points at unknown object {target:?}",
                field.api_name
            ),
        )
        .into());
    }
    Ok(())
}

fn schema_query(dialect: Dialect) -> String {
    format!(
        "SELECT definition FROM objects WHERE workspace_id = {} ORDER BY created_at, api_name",
        placeholder(dialect, 1)
    )
}

fn schema_from_rows(rows: Vec<crate::Row>) -> Result<WorkspaceSchema, StoreError> {
    let objects = rows
        .into_iter()
        .map(|row| {
            serde_json::from_value(row.json("definition")?)
                .map_err(|e| StoreError::Corrupt(format!("object definition: {e}")))
        })
        .collect::<Result<_, _>>()?;
    Ok(WorkspaceSchema { objects })
}

pub(crate) async fn load_schema_tx(
    tx: &mut Tx,
    workspace_id: &str,
) -> Result<WorkspaceSchema, StoreError> {
    let rows = tx
        .fetch_all(
            &schema_query(tx.dialect()),
            &[SqlParam::Text(workspace_id.to_string())],
            &[ColumnKind::Json],
        )
        .await?;
    schema_from_rows(rows)
}

/// Serialises metadata changes of a workspace: every change reads the definitions, edits them and
/// writes them back, so two at once must not interleave (PostgreSQL; SQLite's single writer
/// already serialises them).
pub(crate) async fn lock_workspace(tx: &mut Tx, workspace_id: &str) -> Result<(), StoreError> {
    let sql = format!(
        "SELECT id FROM workspaces WHERE id = {}{}",
        placeholder(tx.dialect(), 1),
        tx.for_update()
    );
    tx.fetch_optional(
        &sql,
        &[SqlParam::Text(workspace_id.to_string())],
        &[ColumnKind::Text],
    )
    .await?
    .ok_or_else(|| StoreError::not_found("workspace"))?;
    Ok(())
}

pub(crate) async fn bump_metadata_version(
    tx: &mut Tx,
    workspace_id: &str,
) -> Result<(), StoreError> {
    let sql = format!(
        "UPDATE workspaces SET metadata_version = metadata_version + 1 WHERE id = {}",
        placeholder(tx.dialect(), 1)
    );
    tx.execute(&sql, &[SqlParam::Text(workspace_id.to_string())])
        .await?;
    Ok(())
}
