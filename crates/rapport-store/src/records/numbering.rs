//! Auto-numbers: the next number of a field's period, taken inside the write transaction that
//! creates the record (so a refused write gives its number back), and the numbering of the
//! records that existed before the field, in the order they were created. Dates are the
//! workspace's local ones: a contract signed at 00:30 on New Year's Day in Shanghai is
//! numbered in the new year.

use crate::db::Tx;
use crate::schema::placeholder;
use crate::{table_name, StoreError};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rapport_core::metadata::{FieldDef, FieldType, ObjectDef};
use rapport_core::names::quote;
use rapport_core::sql::{ColumnKind, SqlParam};
use rapport_core::{Principal, Record, Value};
use std::collections::BTreeMap;

/// Records numbered per statement when a field is added.
const PAGE: usize = 500;

/// The workspace's calendar day at `at`.
fn local_day(at: DateTime<Utc>, utc_offset_minutes: i32) -> NaiveDate {
    (at + Duration::minutes(i64::from(utc_offset_minutes))).date_naive()
}

/// Gives a new record the next number of each of its object's auto-number fields.
pub(super) async fn number_new_record(
    tx: &mut Tx,
    principal: &Principal,
    object: &ObjectDef,
    record: &mut Record,
) -> Result<(), StoreError> {
    let workspace_id = principal.workspace_id.as_str();
    let day = local_day(record.created_at, principal.utc_offset_minutes);
    for field in object
        .active_fields()
        .filter(|f| f.field_type == FieldType::AutoNumber)
    {
        let Some(format) = field.auto_number_format() else {
            continue;
        };
        let period = format.period(day);
        let n = bump(tx, workspace_id, object, field, &period, 1).await?;
        record
            .values
            .insert(field.api_name.clone(), Value::Text(format.render(day, n)));
    }
    Ok(())
}

/// Adds `by` to the counter of `period` and answers its new value (the last number given).
async fn bump(
    tx: &mut Tx,
    workspace_id: &str,
    object: &ObjectDef,
    field: &FieldDef,
    period: &str,
    by: u64,
) -> Result<u64, StoreError> {
    let d = tx.dialect();
    let p = |n| placeholder(d, n);
    let row = tx
        .fetch_optional(
            &format!(
                "INSERT INTO auto_number_counters (workspace_id, object, field, period, last_value) \
                 VALUES ({}, {}, {}, {}, {}) ON CONFLICT (workspace_id, object, field, period) \
                 DO UPDATE SET last_value = auto_number_counters.last_value + {} \
                 RETURNING last_value",
                p(1),
                p(2),
                p(3),
                p(4),
                p(5),
                p(5)
            ),
            &[
                SqlParam::Text(workspace_id.to_string()),
                SqlParam::Text(object.api_name.clone()),
                SqlParam::Text(field.api_name.clone()),
                SqlParam::Text(period.to_string()),
                SqlParam::Int(i64::try_from(by).unwrap_or(i64::MAX)),
            ],
            &[ColumnKind::Int],
        )
        .await?
        .ok_or_else(|| StoreError::Corrupt("the auto-number counter returned no row".into()))?;
    Ok(u64::try_from(row.int(0)?).unwrap_or(0))
}

/// Numbers every live record of `object` that has no number in `field` yet, oldest first,
/// each in the period of the day it was created.
pub(crate) async fn number_existing_records(
    tx: &mut Tx,
    workspace_id: &str,
    object: &ObjectDef,
    field: &FieldDef,
) -> Result<(), StoreError> {
    let Some(format) = field.auto_number_format() else {
        return Ok(());
    };
    let table = quote(&table_name(workspace_id, &object.api_name));
    let column = quote(&field.api_name);
    let d = tx.dialect();
    let offset = tx
        .fetch_optional(
            &format!(
                "SELECT utc_offset_minutes FROM workspaces WHERE id = {}",
                placeholder(d, 1)
            ),
            &[SqlParam::Text(workspace_id.to_string())],
            &[ColumnKind::Int],
        )
        .await?
        .map(|row| row.int(0))
        .transpose()?
        .and_then(|m| i32::try_from(m).ok())
        .unwrap_or(0);
    let select = format!("SELECT \"id\", \"created_at\" FROM {table}");
    let kinds = [ColumnKind::Text, ColumnKind::Timestamp];
    let mut records: Vec<(String, DateTime<Utc>)> = Vec::new();
    let mut after: Option<(SqlParam, String)> = None;
    loop {
        let (sql, params) = match &after {
            None => (
                format!(
                    "{select} WHERE \"deleted_at\" IS NULL AND {column} IS NULL \
                     ORDER BY \"created_at\", \"id\" LIMIT {PAGE}"
                ),
                vec![],
            ),
            Some((at, id)) => (
                format!(
                    "{select} WHERE \"deleted_at\" IS NULL AND {column} IS NULL \
                     AND (\"created_at\", \"id\") > ({}, {}) \
                     ORDER BY \"created_at\", \"id\" LIMIT {PAGE}",
                    placeholder(d, 1),
                    placeholder(d, 2)
                ),
                vec![at.clone(), SqlParam::Text(id.clone())],
            ),
        };
        let rows = tx.fetch_all(&sql, &params, &kinds).await?;
        let full = rows.len() == PAGE;
        for row in &rows {
            records.push((row.text(0)?, row.timestamp(1)?));
        }
        match records.last() {
            Some((id, at)) if full => after = Some((SqlParam::Timestamp(*at), id.clone())),
            _ => break,
        }
    }
    let mut per_period: BTreeMap<String, Vec<&(String, DateTime<Utc>)>> = BTreeMap::new();
    for record in &records {
        per_period
            .entry(format.period(local_day(record.1, offset)))
            .or_default()
            .push(record);
    }
    for (period, members) in per_period {
        let count = u64::try_from(members.len()).unwrap_or(u64::MAX);
        let last = bump(tx, workspace_id, object, field, &period, count).await?;
        let first = last + 1 - count;
        for (i, (id, created_at)) in (first..).zip(members) {
            let number = format.render(local_day(*created_at, offset), i);
            tx.execute(
                &format!(
                    "UPDATE {table} SET {column} = {} WHERE \"id\" = {}",
                    placeholder(d, 1),
                    placeholder(d, 2)
                ),
                &[SqlParam::Text(number), SqlParam::Text(id.clone())],
            )
            .await?;
        }
    }
    Ok(())
}
