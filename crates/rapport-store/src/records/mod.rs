//! Records: reading rows into domain records, and the one write path (`write`) through which
//! every change — UI, API, import, workflow, AI — reaches a record table, together with its
//! field history and outbox entry. Listing with conditions, sorts and cursors is in `list`;
//! counts and exact sums per group in `aggregate`.

mod aggregate;
pub mod hooks;
mod list;
pub(crate) mod numbering;
mod write;

pub use aggregate::{AggregateGroup, AggregateQuery, Metric, MetricOp};
pub use list::{list_statement, ListQuery, ListStatement, Page, SearchHit, SortKey};
pub use write::{RecordInput, RecordUpdate, RepairedRecord, WriteCtx};

use crate::db::Row;
use crate::schema::placeholder;
use crate::{table_name, Store, StoreError};
use rapport_core::condition::CheckedCondition;
use rapport_core::metadata::{ObjectDef, WorkspaceSchema};
use rapport_core::names::{quote, SYSTEM_COLUMNS};
use rapport_core::sql::{field_columns, value_from_columns, ColumnKind, SqlParam};
use rapport_core::{Action, Principal, Record, Value};
use std::collections::BTreeMap;

/// Decoding kinds of `names::SYSTEM_COLUMNS`, in the same order.
const SYSTEM_KINDS: [ColumnKind; 8] = [
    ColumnKind::Text,
    ColumnKind::Int,
    ColumnKind::Timestamp,
    ColumnKind::Timestamp,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Timestamp,
];

/// The system columns and active field columns of a record, optionally qualified by a table
/// alias, and the kinds to decode them.
pub fn select_columns(object: &ObjectDef, alias: Option<&str>) -> (String, Vec<ColumnKind>) {
    // No alias: unqualified column names.
    let prefix = alias.map(|a| format!("{a}.")).unwrap_or_default();
    let mut columns: Vec<String> = SYSTEM_COLUMNS
        .iter()
        .map(|c| format!("{prefix}{}", quote(c)))
        .collect();
    let mut kinds = SYSTEM_KINDS.to_vec();
    for field in object.active_fields() {
        for column in field_columns(field) {
            columns.push(format!("{prefix}{}", quote(&column.name)));
            kinds.push(column.kind);
        }
    }
    (columns.join(", "), kinds)
}

/// `SELECT <record columns> FROM <table>` and the kinds to decode.
pub fn select_sql(object: &ObjectDef, table: &str) -> (String, Vec<ColumnKind>) {
    let (columns, kinds) = select_columns(object, None);
    (format!("SELECT {columns} FROM {table}"), kinds)
}

/// Rebuilds a record from a row selected with `select_sql` (read with `fetch_records`). A field
/// whose stored value cannot be read is `Null` and named in `Record::unreadable`, so one bad
/// value never makes a record, a page or a write fail. A system column that is missing or of
/// the wrong kind is an error: the row is not a record of this object.
pub fn decode_record(object: &ObjectDef, row: &Row) -> Result<Record, StoreError> {
    let mut values = BTreeMap::new();
    let mut unreadable = Vec::new();
    let mut i = SYSTEM_KINDS.len();
    for field in object.active_fields() {
        let width = field_columns(field).len();
        let columns = (i..i + width)
            .map(|c| row.get(c).cloned())
            .collect::<Result<Vec<SqlParam>, _>>()?;
        let value = value_from_columns(field, &columns)
            .filter(|_| !(i..i + width).any(|c| row.is_unreadable(c)));
        if value.is_none() {
            unreadable.push(field.api_name.clone());
        }
        values.insert(field.api_name.clone(), value.unwrap_or(Value::Null));
        i += width;
    }
    Ok(Record {
        id: row.text(0)?,
        version: row.int(1)?,
        created_at: row.timestamp(2)?,
        updated_at: row.timestamp(3)?,
        created_by: row.opt_text(4)?,
        updated_by: row.opt_text(5)?,
        owner_id: row.opt_text(6)?,
        deleted_at: row.opt_timestamp(7)?,
        values,
        unreadable,
    })
}

/// Resolves an object the principal may act on, or explains why not.
pub fn object_for<'a>(
    principal: &Principal,
    schema: &'a WorkspaceSchema,
    object: &str,
    action: Action,
) -> Result<&'a ObjectDef, StoreError> {
    let def = schema
        .active_object(object)
        .ok_or_else(|| StoreError::not_found("object"))?;
    if !principal.can(object, action) {
        return Err(StoreError::forbidden(
            object,
            format!("your role may not {action:?} {object} records").to_lowercase(),
        ));
    }
    Ok(def)
}

/// Refuses a condition that reads an object the principal may not read through a relation
/// (`company.annual_revenue` for a role without companies): the records it selects, their
/// count and their sums would tell that object's values bit by bit.
pub fn check_condition_readable(
    principal: &Principal,
    condition: &CheckedCondition,
) -> Result<(), StoreError> {
    match condition
        .related_objects()
        .iter()
        .find(|object| !principal.can(object, Action::Read))
    {
        Some(object) => Err(StoreError::forbidden(
            object.as_str(),
            format!("your role may not read {object} records, which this condition reads"),
        )),
        None => Ok(()),
    }
}

impl Store {
    /// One record by id; deleted records only when `include_deleted`.
    pub async fn get_record(
        &self,
        principal: &Principal,
        schema: &WorkspaceSchema,
        object: &str,
        id: &str,
        include_deleted: bool,
    ) -> Result<Record, StoreError> {
        let def = object_for(principal, schema, object, Action::Read)?;
        let table = quote(&table_name(&principal.workspace_id, object));
        let (select, kinds) = select_sql(def, &table);
        let mut sql = format!("{select} WHERE \"id\" = {}", self.ph(1));
        if !include_deleted {
            sql.push_str(" AND \"deleted_at\" IS NULL");
        }
        let row = self
            .db
            .fetch_records(&sql, &[SqlParam::Text(id.to_string())], &kinds)
            .await?
            .pop()
            .ok_or_else(|| StoreError::not_found("record"))?;
        decode_record(def, &row)
    }

    /// Live records of `object` with the given ids (for relation expansion), in no order.
    pub async fn records_by_ids(
        &self,
        workspace_id: &str,
        def: &ObjectDef,
        ids: &[String],
    ) -> Result<Vec<Record>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let table = quote(&table_name(workspace_id, &def.api_name));
        let (select, kinds) = select_sql(def, &table);
        let dialect = self.db.dialect();
        let marks: Vec<String> = (1..=ids.len()).map(|n| placeholder(dialect, n)).collect();
        let sql = format!(
            "{select} WHERE \"deleted_at\" IS NULL AND \"id\" IN ({})",
            marks.join(", ")
        );
        let params: Vec<SqlParam> = ids.iter().map(|i| SqlParam::Text(i.clone())).collect();
        let rows = self.db.fetch_records(&sql, &params, &kinds).await?;
        rows.iter().map(|r| decode_record(def, r)).collect()
    }
}
