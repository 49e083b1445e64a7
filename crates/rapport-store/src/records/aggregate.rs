//! Aggregates over the records a condition selects, optionally grouped by one field: the count
//! of each group and sums of number fields (kanban column totals, report figures). Sums are
//! exact at any size: the database adds the high and the low 32 bits of the stored 64-bit
//! units separately (neither can overflow below 2^31 rows, where SQLite's `SUM` of whole
//! 64-bit values would) and they are joined in 128 bits here; a currency is summed per
//! currency code, never across codes.

use super::list::push_filter;
use super::{object_for, ListQuery};
use crate::{table_name, Store, StoreError};
use rapport_core::codes::ErrorCode;
use rapport_core::condition::CheckedCondition;
use rapport_core::metadata::{FieldDef, FieldType, ObjectDef, WorkspaceSchema};
use rapport_core::names::quote;
use rapport_core::sql::{currency_code_column, field_columns, value_from_columns, ColumnKind};
use rapport_core::sql::{SqlBuilder, SqlParam};
use rapport_core::value::to_json;
use rapport_core::{Action, Principal};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;

pub const MAX_METRICS: usize = 10;
pub const MAX_GROUPS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MetricOp {
    Count,
    Sum,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Metric {
    pub op: MetricOp,
    /// The number field to sum (integer, decimal, percent or currency); none for `count`.
    pub field: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct AggregateQuery {
    pub filter: Option<CheckedCondition>,
    pub group_by: Option<String>,
    pub metrics: Vec<Metric>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AggregateGroup {
    /// The group's value of the `group_by` field (null for records without one, and for the
    /// single group of an ungrouped request).
    pub key: Json,
    /// How many records the group holds.
    pub count: i64,
    /// One value per requested metric, in order: a count is a number; a sum is an exact
    /// decimal string, or for a currency a list of `{amount, currency}`, one per code.
    pub metrics: Vec<Json>,
}

/// What to group by: a field, or the owner system column.
enum GroupColumn<'a> {
    Field(&'a FieldDef),
    Owner,
}

impl GroupColumn<'_> {
    fn kind(&self) -> ColumnKind {
        match self {
            GroupColumn::Field(f) => field_columns(f)
                .first()
                .map_or(ColumnKind::Text, |c| c.kind),
            GroupColumn::Owner => ColumnKind::Text,
        }
    }

    fn sql(&self) -> String {
        match self {
            GroupColumn::Field(f) => format!("t.{}", quote(&f.api_name)),
            GroupColumn::Owner => "t.\"owner_id\"".to_string(),
        }
    }

    fn key(&self, param: &SqlParam) -> Json {
        match self {
            GroupColumn::Field(f) => {
                let value = value_from_columns(f, std::slice::from_ref(param));
                to_json(f, &value.unwrap_or(rapport_core::Value::Null))
            }
            GroupColumn::Owner => match param {
                SqlParam::Text(id) => Json::String(id.clone()),
                _ => Json::Null,
            },
        }
    }
}

fn bad(code: ErrorCode, message: String) -> StoreError {
    StoreError::bad_request(code, message)
}

fn group_column<'a>(def: &'a ObjectDef, name: &str) -> Result<GroupColumn<'a>, StoreError> {
    if name == "owner_id" {
        return Ok(GroupColumn::Owner);
    }
    let field = def
        .active_field(name)
        .ok_or_else(|| bad(ErrorCode::InvalidGroupBy, format!("unknown field {name:?}")))?;
    match field.value_type() {
        FieldType::Text
        | FieldType::Email
        | FieldType::Phone
        | FieldType::Url
        | FieldType::Select
        | FieldType::Boolean
        | FieldType::Integer
        | FieldType::Date
        | FieldType::Relation
        | FieldType::User => Ok(GroupColumn::Field(field)),
        _ => Err(bad(
            ErrorCode::InvalidGroupBy,
            format!("cannot group by {name}: its type has no groups"),
        )),
    }
}

fn sum_field<'a>(def: &'a ObjectDef, metric: &Metric) -> Result<&'a FieldDef, StoreError> {
    // A sum without a field names none: refused just below.
    let name = metric.field.as_deref().unwrap_or_default();
    let field = def.active_field(name).ok_or_else(|| {
        bad(
            ErrorCode::InvalidMetric,
            format!("unknown field {name:?} to sum"),
        )
    })?;
    if matches!(
        field.value_type(),
        FieldType::Integer | FieldType::Decimal | FieldType::Percent | FieldType::Currency
    ) {
        Ok(field)
    } else {
        Err(bad(
            ErrorCode::InvalidMetric,
            format!("cannot sum {name}: it is not a number"),
        ))
    }
}

/// Reads one half-sum (decimal text; PostgreSQL's numeric sums may print `.0`-less text).
fn read_sum(text: &str) -> Result<i128, StoreError> {
    text.trim()
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("sum {text:?} is not an integer")))
}

/// Joins the sums of the high (`units >> 32`) and low (`units & 0xFFFF_FFFF`) halves.
fn join_halves(high: &str, low: &str) -> Result<i128, StoreError> {
    let low = read_sum(low)?;
    let total = read_sum(high)?
        .checked_mul(1_i128 << 32)
        .and_then(|h| h.checked_add(low));
    total.ok_or_else(|| StoreError::Corrupt(format!("sum {high} << 32 + {low} overflows")))
}

/// Writes a sum of integer units with the field's scale.
fn format_units(units: i128, scale: u8) -> String {
    if scale == 0 {
        return units.to_string();
    }
    let factor = 10_u128.pow(u32::from(scale));
    let abs = units.unsigned_abs();
    let sign = if units < 0 { "-" } else { "" };
    format!(
        "{sign}{}.{:0width$}",
        abs / factor,
        abs % factor,
        width = usize::from(scale)
    )
}

/// The group key's JSON text, used to merge rows of the same group from several queries.
fn key_text(key: &Json) -> String {
    key.to_string()
}

impl Store {
    /// Counts and sums of the records that match `query.filter`, per group.
    pub async fn aggregate_records(
        &self,
        principal: &Principal,
        schema: &WorkspaceSchema,
        object: &str,
        query: &AggregateQuery,
    ) -> Result<Vec<AggregateGroup>, StoreError> {
        let def = object_for(principal, schema, object, Action::Read)?;
        if let Some(filter) = &query.filter {
            super::check_condition_readable(principal, filter)?;
        }
        if query.metrics.len() > MAX_METRICS {
            return Err(bad(
                ErrorCode::InvalidMetric,
                format!("at most {MAX_METRICS} metrics"),
            ));
        }
        let group = query
            .group_by
            .as_deref()
            .map(|name| group_column(def, name))
            .transpose()?;
        let sums: Vec<Option<&FieldDef>> = query
            .metrics
            .iter()
            .map(|m| match m.op {
                MetricOp::Count => Ok(None),
                MetricOp::Sum => sum_field(def, m).map(Some),
            })
            .collect::<Result<_, _>>()?;
        let ws = &principal.workspace_id;
        let table = quote(&table_name(ws, &def.api_name));
        let filter = ListQuery {
            filter: query.filter.clone(),
            ..ListQuery::default()
        };
        let group_sql = group.as_ref().map(GroupColumn::sql);
        let group_kind = group.as_ref().map(GroupColumn::kind);
        let key_of = |row: &crate::Row| -> Result<Json, StoreError> {
            Ok(match &group {
                Some(g) => g.key(row.get(0)?),
                None => Json::Null,
            })
        };
        let lead = usize::from(group.is_some());

        // Counts make the groups.
        let mut b = SqlBuilder::new(self.db.dialect());
        let select_group = group_sql
            .as_ref()
            .map(|g| format!("{g}, "))
            // Ungrouped: no group column.
            .unwrap_or_default();
        b.push(&format!(
            "SELECT {select_group}COUNT(*) FROM {table} t WHERE "
        ));
        push_filter(&mut b, ws, &filter);
        if let Some(g) = &group_sql {
            b.push(&format!(
                " GROUP BY {g} ORDER BY COUNT(*) DESC LIMIT {MAX_GROUPS}"
            ));
        }
        let mut kinds: Vec<ColumnKind> = group_kind.into_iter().collect();
        kinds.push(ColumnKind::Int);
        let rows = self.db.fetch_records(&b.sql, &b.params, &kinds).await?;
        let mut groups: Vec<AggregateGroup> = Vec::new();
        let mut index: BTreeMap<String, usize> = BTreeMap::new();
        for row in &rows {
            let key = key_of(row)?;
            let count = row.int(lead)?;
            index.insert(key_text(&key), groups.len());
            groups.push(AggregateGroup {
                key,
                count,
                metrics: Vec::with_capacity(query.metrics.len()),
            });
        }

        for field in &sums {
            let Some(field) = field else {
                for g in &mut groups {
                    g.metrics.push(Json::from(g.count));
                }
                continue;
            };
            let is_currency = field.value_type() == FieldType::Currency;
            let amount = format!("t.{}", quote(&field.api_name));
            let code = format!("t.{}", quote(&currency_code_column(&field.api_name)));
            let mut by: Vec<String> = group_sql.iter().cloned().collect();
            if is_currency {
                by.push(code.clone());
            }
            let mut b = SqlBuilder::new(self.db.dialect());
            let leading: String = by.iter().map(|c| format!("{c}, ")).collect();
            b.push(&format!(
                "SELECT {leading}CAST(SUM({amount} >> 32) AS TEXT), CAST(SUM({amount} & 4294967295) AS TEXT) FROM {table} t WHERE {amount} IS NOT NULL AND "
            ));
            push_filter(&mut b, ws, &filter);
            if !by.is_empty() {
                b.push(&format!(" GROUP BY {}", by.join(", ")));
            }
            let mut kinds: Vec<ColumnKind> = group_kind.into_iter().collect();
            if is_currency {
                kinds.push(ColumnKind::Text);
            }
            kinds.extend([ColumnKind::Text, ColumnKind::Text]);
            let rows = self.db.fetch_records(&b.sql, &b.params, &kinds).await?;
            let scale = field.scale();
            let zero = if is_currency {
                json!([])
            } else {
                Json::String(format_units(0, scale))
            };
            for g in &mut groups {
                g.metrics.push(zero.clone());
            }
            let sum_at = kinds.len() - 2;
            for row in &rows {
                let Some(&i) = index.get(&key_text(&key_of(row)?)) else {
                    continue;
                };
                // An ungrouped SUM over no rows is one row holding NULL.
                let (Some(high), Some(low)) = (row.opt_text(sum_at)?, row.opt_text(sum_at + 1)?)
                else {
                    continue;
                };
                let total = format_units(join_halves(&high, &low)?, scale);
                let Some(slot) = groups.get_mut(i).and_then(|g| g.metrics.last_mut()) else {
                    continue;
                };
                if is_currency {
                    let currency = row
                        .opt_text(lead)?
                        .unwrap_or_else(|| field.default_currency().to_string());
                    if let Json::Array(items) = slot {
                        items.push(json!({ "amount": total, "currency": currency }));
                        items.sort_by(|a, b| a["currency"].as_str().cmp(&b["currency"].as_str()));
                    }
                } else {
                    *slot = Json::String(total);
                }
            }
        }
        Ok(groups)
    }
}

#[cfg(test)]
mod tests {
    use super::{format_units, join_halves};

    #[test]
    fn units_keep_their_scale_exactly() {
        assert_eq!(format_units(0, 2), "0.00");
        assert_eq!(format_units(123456, 2), "1234.56");
        assert_eq!(format_units(-5, 2), "-0.05");
        assert_eq!(format_units(42, 0), "42");
        assert_eq!(
            format_units(92233720368547758070, 2),
            "922337203685477580.70"
        );
    }

    #[test]
    fn halves_join_past_64_bits() {
        // Two i64::MAX: high halves 2 × (2^31 - 1), low halves 2 × (2^32 - 1).
        let sum = join_halves("4294967294", "8589934590").unwrap();
        assert_eq!(sum, 2 * i128::from(i64::MAX));
        // Two i64::MIN.
        assert_eq!(
            join_halves("-4294967296", "0").unwrap(),
            2 * i128::from(i64::MIN)
        );
        assert!(join_halves("1.5", "0").is_err());
    }
}
