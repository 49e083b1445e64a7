//! How values live in SQL, for both dialects: the parameter type the store binds, the column
//! kinds, the columns a field occupies, a builder that numbers placeholders per dialect, and
//! the one builder of multi-row statements ([`ValueRows`]).
//! Pure: producing SQL text and parameters, never running it.

use crate::metadata::{FieldDef, FieldType};
use crate::value::{
    datetime_in_range, format_datetime, parse_date, parse_datetime, FileRef, Value,
};
use chrono::{DateTime, Utc};
use serde_json::Value as Json;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A bound parameter or a decoded column value.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlParam {
    /// A NULL for a text column (or where the type does not matter).
    Null,
    /// A NULL for a column of the given kind (PostgreSQL checks parameter types).
    NullOf(ColumnKind),
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    Json(Json),
    Timestamp(DateTime<Utc>),
    /// A file's content.
    Bytes(Vec<u8>),
}

/// The physical kind of a column; the store decodes a column by its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Bool,
    Int,
    Float,
    Text,
    Json,
    Timestamp,
    Bytes,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub kind: ColumnKind,
}

impl Dialect {
    pub fn column_type(self, kind: ColumnKind) -> &'static str {
        match (self, kind) {
            (Dialect::Sqlite, ColumnKind::Bool) => "INTEGER",
            (Dialect::Sqlite, ColumnKind::Int) => "INTEGER",
            (Dialect::Sqlite, ColumnKind::Float) => "REAL",
            (Dialect::Sqlite, ColumnKind::Text) => "TEXT",
            (Dialect::Sqlite, ColumnKind::Json) => "TEXT",
            (Dialect::Sqlite, ColumnKind::Timestamp) => "TEXT",
            (Dialect::Sqlite, ColumnKind::Bytes) => "BLOB",
            (Dialect::Postgres, ColumnKind::Bytes) => "BYTEA",
            (Dialect::Postgres, ColumnKind::Bool) => "BOOLEAN",
            (Dialect::Postgres, ColumnKind::Int) => "BIGINT",
            (Dialect::Postgres, ColumnKind::Float) => "DOUBLE PRECISION",
            (Dialect::Postgres, ColumnKind::Text) => "TEXT COLLATE \"C\"",
            (Dialect::Postgres, ColumnKind::Json) => "JSONB",
            (Dialect::Postgres, ColumnKind::Timestamp) => "TIMESTAMPTZ",
        }
    }
}

/// The name of the second column that holds a currency's ISO code.
pub fn currency_code_column(field: &str) -> String {
    format!("{field}__currency")
}

/// The name of the second column that holds an address's street (the first holds its region).
pub fn street_column(field: &str) -> String {
    format!("{field}__street")
}

fn kind_of(field_type: FieldType) -> ColumnKind {
    match field_type {
        FieldType::Integer | FieldType::Decimal | FieldType::Percent | FieldType::Currency => {
            ColumnKind::Int
        }
        FieldType::Boolean => ColumnKind::Bool,
        FieldType::Datetime => ColumnKind::Timestamp,
        FieldType::MultiSelect | FieldType::MultiUser | FieldType::Attachment => ColumnKind::Json,
        _ => ColumnKind::Text,
    }
}

/// The columns a field occupies, value column first.
pub fn field_columns(field: &FieldDef) -> Vec<Column> {
    let value_type = field.value_type();
    let mut columns = vec![Column {
        name: field.api_name.clone(),
        kind: kind_of(value_type),
    }];
    let second = match value_type {
        FieldType::Currency => Some(currency_code_column(&field.api_name)),
        FieldType::Address => Some(street_column(&field.api_name)),
        _ => None,
    };
    if let Some(name) = second {
        columns.push(Column {
            name,
            kind: ColumnKind::Text,
        });
    }
    columns
}

/// The parameters that store `value` in the field's columns (same length as `field_columns`).
pub fn value_to_params(field: &FieldDef, value: &Value) -> Vec<SqlParam> {
    let value_type = field.value_type();
    let main = match value {
        Value::Null => SqlParam::NullOf(kind_of(field.value_type())),
        Value::Text(t) => SqlParam::Text(t.clone()),
        Value::Integer(i) | Value::Decimal(i) => SqlParam::Int(*i),
        Value::Currency { units, .. } => SqlParam::Int(*units),
        Value::Boolean(b) => SqlParam::Bool(*b),
        Value::Date(d) => SqlParam::Text(d.format("%Y-%m-%d").to_string()),
        Value::DateTime(d) => SqlParam::Timestamp(*d),
        Value::List(items) => SqlParam::Json(Json::from(items.clone())),
        Value::Files(files) => {
            SqlParam::Json(Json::Array(files.iter().map(FileRef::to_json).collect()))
        }
        Value::Address { region, .. } => SqlParam::Text(region.clone()),
    };
    match value_type {
        FieldType::Currency => vec![
            main,
            match value {
                Value::Currency { code, .. } => SqlParam::Text(code.clone()),
                _ => SqlParam::Null,
            },
        ],
        FieldType::Address => vec![
            main,
            match value {
                Value::Address {
                    street: Some(street),
                    ..
                } => SqlParam::Text(street.clone()),
                _ => SqlParam::Null,
            },
        ],
        _ => vec![main],
    }
}

/// A single comparable parameter for a value (the amount of a currency).
pub fn value_to_param(field: &FieldDef, value: &Value) -> SqlParam {
    value_to_params(field, value)
        .into_iter()
        .next()
        .unwrap_or(SqlParam::Null)
}

/// Rebuilds a value from the decoded columns of a field (same order as `field_columns`).
/// `None` when the stored value is not a value of the field's type (a date-time outside
/// 0001–9999, a date not `YYYY-MM-DD`, text in a number column…), as an older version or a
/// hand edit may have left it: readers report such a field instead of failing.
pub fn value_from_columns(field: &FieldDef, columns: &[SqlParam]) -> Option<Value> {
    let Some(main) = columns.first() else {
        return Some(Value::Null);
    };
    let value_type = field.value_type();
    Some(match (value_type, main) {
        (_, SqlParam::Null | SqlParam::NullOf(_)) => Value::Null,
        (FieldType::Integer, SqlParam::Int(i)) => Value::Integer(*i),
        (FieldType::Decimal | FieldType::Percent, SqlParam::Int(i)) => Value::Decimal(*i),
        (FieldType::Currency, SqlParam::Int(i)) => Value::Currency {
            units: *i,
            code: match columns.get(1) {
                Some(SqlParam::Text(code)) => code.clone(),
                _ => field.default_currency().to_string(),
            },
        },
        (FieldType::Boolean, SqlParam::Bool(b)) => Value::Boolean(*b),
        (FieldType::Boolean, SqlParam::Int(i)) => Value::Boolean(*i != 0),
        (FieldType::Date, SqlParam::Text(t)) => Value::Date(parse_date(t)?),
        (FieldType::Datetime, SqlParam::Timestamp(t)) if datetime_in_range(t) => {
            Value::DateTime(*t)
        }
        (FieldType::Datetime, SqlParam::Text(t)) => Value::DateTime(parse_datetime(t)?),
        (FieldType::MultiSelect | FieldType::MultiUser, SqlParam::Json(Json::Array(items))) => {
            Value::List(
                items
                    .iter()
                    .map(|i| i.as_str().map(str::to_string))
                    .collect::<Option<_>>()?,
            )
        }
        (FieldType::Attachment, SqlParam::Json(Json::Array(items))) => Value::Files(
            items
                .iter()
                .map(FileRef::from_json)
                .collect::<Option<_>>()?,
        ),
        (FieldType::Address, SqlParam::Text(region)) => Value::Address {
            region: region.clone(),
            street: match columns.get(1) {
                Some(SqlParam::Text(street)) => Some(street.clone()),
                _ => None,
            },
        },
        (t, SqlParam::Text(text)) if kind_of(t) == ColumnKind::Text => Value::Text(text.clone()),
        _ => return None,
    })
}

/// SQL text with numbered parameters. `bind` writes the dialect's placeholder (`?N` for SQLite,
/// `$N` for PostgreSQL) and remembers the value.
#[derive(Debug, Clone)]
pub struct SqlBuilder {
    pub dialect: Dialect,
    pub sql: String,
    pub params: Vec<SqlParam>,
}

impl SqlBuilder {
    pub fn new(dialect: Dialect) -> Self {
        Self {
            dialect,
            sql: String::new(),
            params: Vec::new(),
        }
    }

    pub fn push(&mut self, text: &str) -> &mut Self {
        self.sql.push_str(text);
        self
    }

    pub fn bind(&mut self, param: SqlParam) -> &mut Self {
        self.params.push(param);
        self.sql
            .push_str(&placeholder(self.dialect, self.params.len()));
        self
    }

    /// Binds a timestamp the way the dialect stores it (text on SQLite).
    pub fn bind_timestamp(&mut self, at: DateTime<Utc>) -> &mut Self {
        match self.dialect {
            Dialect::Sqlite => self.bind(SqlParam::Text(format_datetime(&at))),
            Dialect::Postgres => self.bind(SqlParam::Timestamp(at)),
        }
    }
}

/// The `n`th parameter's numbered placeholder: `?n` on SQLite, `$n` on PostgreSQL. A numbered
/// placeholder may appear more than once in a statement.
pub fn placeholder(dialect: Dialect, n: usize) -> String {
    match dialect {
        Dialect::Sqlite => format!("?{n}"),
        Dialect::Postgres => format!("${n}"),
    }
}

/// `count` numbered placeholders from `first` on, comma-separated: an `IN (…)` list, which a
/// statement may repeat.
pub fn placeholders(dialect: Dialect, first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| placeholder(dialect, n))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The rows of a multi-row statement — `INSERT … VALUES (…), (…)`, `… IN (VALUES (…), …)`,
/// `(a, b) IN ((…), …)` — and their parameters: the one way such statements are built.
///
/// Placeholders are positional on SQLite (a bare `?`, bound in order: numbered ones make sqlx
/// look every parameter up by name, which grows with the square of a wide statement) and
/// numbered on PostgreSQL. Parameters that come before the rows in the statement are given to
/// [`ValueRows::after`], so numbering continues after them; those statements are numbered on
/// SQLite too (written with [`placeholder`]), since sqlx binds a statement's parameters either
/// all by position or all by name.
#[derive(Debug, Clone)]
pub struct ValueRows {
    dialect: Dialect,
    casts: Vec<(usize, &'static str)>,
    numbered: bool,
    sql: String,
    params: Vec<SqlParam>,
    rows: usize,
}

impl ValueRows {
    pub fn new(dialect: Dialect) -> Self {
        Self {
            dialect,
            casts: Vec::new(),
            numbered: dialect == Dialect::Postgres,
            sql: String::new(),
            params: Vec::new(),
            rows: 0,
        }
    }

    /// Rows placed after `leading`, the statement's earlier parameters (numbered placeholders).
    pub fn after(dialect: Dialect, leading: Vec<SqlParam>) -> Self {
        Self {
            numbered: true,
            params: leading,
            ..Self::new(dialect)
        }
    }

    /// On PostgreSQL, casts the `column`th value (from 0) of every row to `pg_type` (`jsonb`
    /// for JSON sent as text); SQLite needs no casts.
    pub fn cast(mut self, column: usize, pg_type: &'static str) -> Self {
        self.casts.push((column, pg_type));
        self
    }

    /// Appends one row's values.
    pub fn push(&mut self, row: impl IntoIterator<Item = SqlParam>) {
        if self.rows > 0 {
            self.sql.push_str(", ");
        }
        self.sql.push('(');
        for (column, value) in row.into_iter().enumerate() {
            if column > 0 {
                self.sql.push_str(", ");
            }
            self.params.push(value);
            if self.numbered {
                self.sql
                    .push_str(&placeholder(self.dialect, self.params.len()));
            } else {
                self.sql.push('?');
            }
            if self.dialect == Dialect::Postgres {
                if let Some((_, pg_type)) = self.casts.iter().find(|(c, _)| *c == column) {
                    self.sql.push_str("::");
                    self.sql.push_str(pg_type);
                }
            }
        }
        self.sql.push(')');
        self.rows += 1;
    }

    /// `(…), (…)`: the rows, for the statement's text.
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// Every parameter of the statement, the leading ones first.
    pub fn params(&self) -> &[SqlParam] {
        &self.params
    }

    pub fn into_params(self) -> Vec<SqlParam> {
        self.params
    }

    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_number_after_the_leading_parameters() {
        let mut rows = ValueRows::after(Dialect::Postgres, vec![SqlParam::Int(7)]).cast(1, "jsonb");
        rows.push([SqlParam::Text("a".into()), SqlParam::Text("{}".into())]);
        rows.push([SqlParam::Text("b".into()), SqlParam::Text("[]".into())]);
        assert_eq!(rows.sql(), "($2, $3::jsonb), ($4, $5::jsonb)");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows.params().len(), 5);
        assert_eq!(rows.params()[0], SqlParam::Int(7));
        assert_eq!(rows.params()[3], SqlParam::Text("b".into()));
    }

    #[test]
    fn sqlite_rows_are_positional_and_uncast() {
        let mut rows = ValueRows::new(Dialect::Sqlite).cast(0, "jsonb");
        assert!(rows.is_empty());
        rows.push([SqlParam::Int(1), SqlParam::Int(2), SqlParam::Int(3)]);
        rows.push([SqlParam::Int(4), SqlParam::Int(5), SqlParam::Int(6)]);
        assert_eq!(rows.sql(), "(?, ?, ?), (?, ?, ?)");
        assert_eq!(rows.into_params().len(), 6);
    }

    #[test]
    fn sqlite_rows_after_numbered_parameters_are_numbered() {
        let mut rows = ValueRows::after(Dialect::Sqlite, vec![SqlParam::Int(1)]);
        rows.push([SqlParam::Int(2), SqlParam::Int(3)]);
        assert_eq!(rows.sql(), "(?2, ?3)");
    }

    #[test]
    fn lists_are_numbered_so_they_can_repeat() {
        assert_eq!(placeholders(Dialect::Sqlite, 2, 3), "?2, ?3, ?4");
        assert_eq!(placeholders(Dialect::Postgres, 1, 2), "$1, $2");
        assert_eq!(placeholders(Dialect::Postgres, 1, 0), "");
    }
}
