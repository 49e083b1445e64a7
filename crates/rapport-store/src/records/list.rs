//! Listing records: a checked condition as the filter, multi-key sort with nulls last, keyset
//! cursors (stable under concurrent inserts), an optional total; and global search over the
//! name, email and phone fields of every object the caller may read.

use super::{decode_record, object_for, select_columns};
use crate::{table_name, Store, StoreError};
use chrono::DateTime;
use rapport_core::codes::ErrorCode;
use rapport_core::condition::CheckedCondition;
use rapport_core::metadata::{FieldType, ObjectDef, WorkspaceSchema};
use rapport_core::names::quote;
use rapport_core::record::system_fields;
use rapport_core::sql::{field_columns, Column, ColumnKind, Dialect, SqlBuilder, SqlParam};
use rapport_core::{Action, Principal, Record, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The object search results are told apart by.
const COMPANY: &str = "company";
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};

pub const MAX_PAGE: usize = 1000;
pub const MAX_SORT_KEYS: usize = 5;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    pub field: String,
    pub descending: bool,
}

impl SortKey {
    /// Parses `-amount` (descending) or `name`.
    pub fn parse(text: &str) -> Self {
        match text.strip_prefix('-') {
            Some(field) => SortKey {
                field: field.to_string(),
                descending: true,
            },
            None => SortKey {
                field: text.to_string(),
                descending: false,
            },
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub filter: Option<CheckedCondition>,
    pub sort: Vec<SortKey>,
    pub limit: usize,
    pub cursor: Option<String>,
    /// List deleted records (the recycle bin) instead of live ones.
    pub deleted: bool,
    pub with_total: bool,
}

#[derive(Debug, Clone)]
pub struct Page {
    pub records: Vec<Record>,
    pub next_cursor: Option<String>,
    pub total: Option<i64>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SearchHit {
    pub object: String,
    pub id: String,
    pub name: String,
    pub matched_field: String,
    /// The text of the matched field when it is not the name (an email, a serial number).
    pub matched_value: Option<String>,
    pub owner_id: Option<String>,
    /// The name of the company the record belongs to (its first relation to `company`), to
    /// tell apart results with the same name; none when the caller may not read companies.
    pub context: Option<String>,
}

/// A column of the ORDER BY. Nullable columns sort their nulls last in both directions;
/// NOT NULL system columns carry no NULLS clause, so plain indexes serve them on both backends.
struct SortColumn {
    column: Column,
    descending: bool,
    nullable: bool,
}

impl SortColumn {
    fn id(descending: bool) -> Self {
        SortColumn {
            column: Column {
                name: "id".into(),
                kind: ColumnKind::Text,
            },
            descending,
            nullable: false,
        }
    }

    fn sql(&self) -> String {
        format!("t.{}", quote(&self.column.name))
    }
}

/// The column a sort key orders by (a currency sorts by its amount).
fn sort_column(object: &ObjectDef, key: &SortKey) -> Result<SortColumn, StoreError> {
    let column = field_sort_column(object, &key.field)?;
    let nullable = !matches!(column.name.as_str(), "created_at" | "updated_at" | "id");
    Ok(SortColumn {
        column,
        descending: key.descending,
        nullable,
    })
}

fn field_sort_column(object: &ObjectDef, field: &str) -> Result<Column, StoreError> {
    if let Some(system) = system_fields().into_iter().find(|f| f.api_name == field) {
        let kind = if system.field_type == FieldType::Datetime {
            ColumnKind::Timestamp
        } else {
            ColumnKind::Text
        };
        return Ok(Column {
            name: system.api_name,
            kind,
        });
    }
    let def = object.active_field(field).ok_or_else(|| {
        StoreError::bad_request(
            ErrorCode::InvalidSort,
            format!("cannot sort by unknown field {field:?}"),
        )
    })?;
    if matches!(
        def.value_type(),
        FieldType::MultiSelect | FieldType::MultiUser | FieldType::Attachment | FieldType::LongText
    ) {
        return Err(StoreError::bad_request(
            ErrorCode::InvalidSort,
            format!("cannot sort by {field}: its type has no order"),
        ));
    }
    field_columns(def)
        .into_iter()
        .next()
        .ok_or_else(|| StoreError::bad_request(ErrorCode::InvalidSort, "field has no column"))
}

/// A sort value as the cursor keeps it; instants as epoch microseconds, so a stored value
/// outside the years Rapport accepts still pages.
fn param_to_json(param: &SqlParam) -> Json {
    match param {
        SqlParam::Null | SqlParam::NullOf(_) => Json::Null,
        SqlParam::Bool(b) => Json::Bool(*b),
        SqlParam::Int(i) => Json::from(*i),
        SqlParam::Float(f) => Json::from(*f),
        SqlParam::Text(t) => Json::String(t.clone()),
        SqlParam::Json(j) => j.clone(),
        SqlParam::Timestamp(t) => Json::from(t.timestamp_micros()),
        SqlParam::Bytes(_) => Json::Null,
    }
}

fn json_to_param(value: &Json, kind: ColumnKind, dialect: Dialect) -> Option<SqlParam> {
    Some(match (value, kind) {
        (Json::Null, _) => SqlParam::Null,
        (Json::Bool(b), ColumnKind::Bool) => SqlParam::Bool(*b),
        (Json::Number(n), ColumnKind::Int) => SqlParam::Int(n.as_i64()?),
        (Json::Number(n), ColumnKind::Float) => SqlParam::Float(n.as_f64()?),
        (Json::String(s), ColumnKind::Text) => SqlParam::Text(s.clone()),
        (Json::Number(n), ColumnKind::Timestamp) => {
            SqlParam::Timestamp(DateTime::from_timestamp_micros(n.as_i64()?)?)
        }
        // An unreadable stored value, kept as its text by a SQLite read; SQLite orders and
        // compares it as the text it is.
        (Json::String(s), _) if dialect == Dialect::Sqlite => SqlParam::Text(s.clone()),
        // PostgreSQL's infinite timestamps (see `push_key_value`).
        (Json::String(s), ColumnKind::Timestamp) if s == "infinity" || s == "-infinity" => {
            SqlParam::Text(s.clone())
        }
        _ => return None,
    })
}

/// What a cursor is valid for: the resolved sort columns and directions, the recycle-bin flag
/// and the checked filter (relative dates resolved, so a `today` filter that has moved on to
/// another day is another filter). A digest, so the cursor stays short.
fn cursor_binding(keys: &[SortColumn], query: &ListQuery) -> String {
    let sort: Vec<String> = keys
        .iter()
        .map(|k| format!("{}:{}", k.column.name, if k.descending { "d" } else { "a" }))
        .collect();
    let text = format!(
        "sort={}|deleted={}|filter={:?}",
        sort.join(","),
        query.deleted,
        query.filter
    );
    hex::encode(&Sha256::digest(text.as_bytes())[..16])
}

/// A cursor is the sort values of the last row and the binding of the query that made it,
/// JSON in hex: opaque to clients, checked on use.
fn encode_cursor(binding: &str, values: &[SqlParam]) -> String {
    let keys = Json::Array(values.iter().map(param_to_json).collect());
    hex::encode(json!({ "b": binding, "k": keys }).to_string())
}

/// The sort values of a cursor made by a query with the same binding.
fn decode_cursor(
    cursor: &str,
    binding: &str,
    kinds: &[ColumnKind],
    dialect: Dialect,
) -> Result<Vec<SqlParam>, StoreError> {
    let invalid = || {
        StoreError::bad_request(
            ErrorCode::InvalidCursor,
            "the cursor is not valid for this query",
        )
    };
    if cursor.len() > 8192 {
        return Err(invalid());
    }
    let bytes = hex::decode(cursor).map_err(|_| invalid())?;
    let Ok(Json::Object(map)) = serde_json::from_slice::<Json>(&bytes) else {
        return Err(invalid());
    };
    if map.get("b").and_then(Json::as_str) != Some(binding) {
        return Err(StoreError::bad_request(
            ErrorCode::InvalidCursor,
            "the cursor belongs to a list with another sort, filter or recycle-bin setting",
        ));
    }
    let Some(Json::Array(items)) = map.get("k") else {
        return Err(invalid());
    };
    if items.len() != kinds.len() {
        return Err(invalid());
    }
    items
        .iter()
        .zip(kinds)
        .map(|(v, k)| json_to_param(v, *k, dialect).ok_or_else(invalid))
        .collect()
}

impl Store {
    pub async fn list_records(
        &self,
        principal: &Principal,
        schema: &WorkspaceSchema,
        object: &str,
        query: &ListQuery,
    ) -> Result<Page, StoreError> {
        let def = object_for(principal, schema, object, Action::Read)?;
        if let Some(filter) = &query.filter {
            super::check_condition_readable(principal, filter)?;
        }
        let ws = &principal.workspace_id;
        let statement = list_statement(self.db.dialect(), ws, def, query)?;
        let mut rows = self
            .db
            .fetch_records(&statement.sql.sql, &statement.sql.params, &statement.kinds)
            .await?;
        let has_more = rows.len() > statement.limit;
        rows.truncate(statement.limit);
        let key_start = statement.kinds.len() - statement.key_count;
        let next_cursor = if has_more {
            rows.last()
                .map(|row| encode_cursor(&statement.binding, &row.columns()[key_start..]))
        } else {
            None
        };
        let records = rows
            .iter()
            .map(|r| decode_record(def, r))
            .collect::<Result<_, _>>()?;
        let total = if query.with_total {
            let mut count = SqlBuilder::new(self.db.dialect());
            count.push(&format!(
                "SELECT COUNT(*) FROM {} t WHERE ",
                quote(&table_name(ws, &def.api_name))
            ));
            push_filter(&mut count, ws, query);
            self.db
                .fetch_optional(&count.sql, &count.params, &[ColumnKind::Int])
                .await?
                .map(|r| r.int(0))
                .transpose()?
        } else {
            None
        };
        Ok(Page {
            records,
            next_cursor,
            total,
        })
    }

    /// Searches names, emails, unique and searchable text fields (contains) and phones (digits
    /// contained) of every object the caller may read; at most `per_object` hits per object,
    /// each with its owner and the company it belongs to.
    pub async fn search(
        &self,
        principal: &Principal,
        schema: &WorkspaceSchema,
        text: &str,
        per_object: usize,
    ) -> Result<Vec<SearchHit>, StoreError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(Vec::new());
        }
        let digits: String = text.chars().filter(|c| c.is_ascii_digit()).collect();
        let escaped = text
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let like = self.db.dialect() == rapport_core::sql::Dialect::Postgres;
        let op = if like { "ILIKE" } else { "LIKE" };
        let company = schema
            .active_object(COMPANY)
            .filter(|_| principal.can(COMPANY, Action::Read));
        let mut hits = Vec::new();
        // The company id of each hit, resolved to names at the end.
        let mut companies: Vec<Option<String>> = Vec::new();
        for def in schema.objects.iter().filter(|o| o.is_active()) {
            if !principal.can(&def.api_name, Action::Read) {
                continue;
            }
            let mut b = SqlBuilder::new(self.db.dialect());
            let mut matchers: Vec<(String, bool)> = vec![(def.name_field.clone(), false)];
            for f in def.active_fields().filter(|f| f.in_search()) {
                if f.api_name != def.name_field {
                    matchers.push((f.api_name.clone(), f.field_type == FieldType::Phone));
                }
            }
            let company_column = def
                .active_fields()
                .find(|f| {
                    f.field_type == FieldType::Relation
                        && f.config.target.as_deref() == Some(COMPANY)
                })
                .filter(|_| company.is_some())
                .map_or("NULL".to_string(), |f| quote(&f.api_name));
            let mut cases = Vec::new();
            for (field, is_phone) in &matchers {
                let pattern = if *is_phone {
                    if digits.len() < 3 {
                        continue;
                    }
                    format!("%{digits}%")
                } else {
                    format!("%{escaped}%")
                };
                let mut cond = SqlBuilder::new(self.db.dialect());
                cond.params = b.params.clone();
                cond.push(&format!("{} {op} ", quote(field)));
                cond.bind(SqlParam::Text(pattern));
                cond.push(" ESCAPE '\\'");
                b.params = cond.params;
                cases.push((field.clone(), cond.sql));
            }
            if cases.is_empty() {
                continue;
            }
            let matched = cases
                .iter()
                .map(|(field, clause)| format!(" WHEN {clause} THEN '{field}'"))
                .collect::<String>();
            let values = cases
                .iter()
                .map(|(field, clause)| {
                    format!(" WHEN {clause} THEN CAST({} AS TEXT)", quote(field))
                })
                .collect::<String>();
            let filter = cases
                .iter()
                .map(|(_, clause)| clause.as_str())
                .collect::<Vec<_>>()
                .join(" OR ");
            // Each clause appears three times (field, value, filter); its placeholders are
            // numbered, so its parameters are bound once.
            b.sql = format!(
                "SELECT \"id\", CAST({name} AS TEXT), CASE{matched} END, CASE{values} END, \"owner_id\", {company_column} \
                 FROM {table} WHERE \"deleted_at\" IS NULL AND ({filter}) ORDER BY \"updated_at\" DESC LIMIT {limit}",
                name = quote(&def.name_field),
                table = quote(&table_name(&principal.workspace_id, &def.api_name)),
                limit = per_object.clamp(1, 50)
            );
            let rows = self
                .db
                .fetch_all(&b.sql, &b.params, &[ColumnKind::Text; 6])
                .await?;
            for row in rows {
                let matched_field = row.text(2)?;
                hits.push(SearchHit {
                    object: def.api_name.clone(),
                    id: row.text(0)?,
                    name: row.text(1)?,
                    matched_value: if matched_field == def.name_field {
                        None
                    } else {
                        row.opt_text(3)?
                    },
                    matched_field,
                    owner_id: row.opt_text(4)?,
                    context: None,
                });
                companies.push(row.opt_text(5)?);
            }
        }
        if let Some(company) = company {
            let ids: Vec<String> = companies
                .iter()
                .flatten()
                .cloned()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let names: BTreeMap<String, String> = self
                .records_by_ids(&principal.workspace_id, company, &ids)
                .await?
                .into_iter()
                .filter_map(|r| match r.get(&company.name_field) {
                    Value::Text(name) => Some((r.id, name)),
                    _ => None,
                })
                .collect();
            for (hit, id) in hits.iter_mut().zip(&companies) {
                hit.context = id.as_ref().and_then(|id| names.get(id).cloned());
            }
        }
        Ok(hits)
    }
}

/// The SELECT of one page of a list: the record columns, then the sort keys (which make the
/// cursor); it asks for `limit + 1` rows so the caller knows whether another page follows.
pub struct ListStatement {
    pub sql: SqlBuilder,
    pub kinds: Vec<ColumnKind>,
    /// How many trailing columns are sort keys.
    pub key_count: usize,
    /// The page size.
    pub limit: usize,
    /// What the page's cursors are bound to (see `cursor_binding`).
    pub binding: String,
}

/// The SQL `Store::list_records` runs for `query` on `def` in workspace `ws`.
pub fn list_statement(
    dialect: Dialect,
    ws: &str,
    def: &ObjectDef,
    query: &ListQuery,
) -> Result<ListStatement, StoreError> {
    if query.sort.len() > MAX_SORT_KEYS {
        return Err(StoreError::bad_request(
            ErrorCode::InvalidSort,
            format!("at most {MAX_SORT_KEYS} sort keys"),
        ));
    }
    let default_sort = [SortKey {
        field: "created_at".into(),
        descending: true,
    }];
    let sort = if query.sort.is_empty() {
        &default_sort[..]
    } else {
        &query.sort[..]
    };
    let mut keys: Vec<SortColumn> = Vec::new();
    for key in sort {
        if key.field == "id" {
            // Ids are unique: the id key ends the ordering.
            keys.push(SortColumn::id(key.descending));
            break;
        }
        keys.push(sort_column(def, key)?);
    }
    if keys.last().is_none_or(|k| k.column.name != "id") {
        keys.push(SortColumn::id(false));
    }
    let limit = query.limit.clamp(1, MAX_PAGE);
    let table = quote(&table_name(ws, &def.api_name));
    let (columns, mut kinds) = select_columns(def, Some("t"));
    let key_kinds: Vec<ColumnKind> = keys.iter().map(|k| k.column.kind).collect();
    let mut b = SqlBuilder::new(dialect);
    let key_select: Vec<String> = keys.iter().map(SortColumn::sql).collect();
    b.push(&format!(
        "SELECT {columns}, {} FROM {table} t WHERE ",
        key_select.join(", ")
    ));
    push_filter(&mut b, ws, query);
    let binding = cursor_binding(&keys, query);
    if let Some(cursor) = &query.cursor {
        let after = decode_cursor(cursor, &binding, &key_kinds, dialect)?;
        b.push(" AND (");
        push_keyset(&mut b, &keys, &after);
        b.push(")");
    }
    let order: Vec<String> = keys
        .iter()
        .map(|k| {
            let direction = if k.descending { "DESC" } else { "ASC" };
            let nulls = if k.nullable { " NULLS LAST" } else { "" };
            format!("{} {direction}{nulls}", k.sql())
        })
        .collect();
    b.push(&format!(
        " ORDER BY {} LIMIT {}",
        order.join(", "),
        limit + 1
    ));
    kinds.extend(key_kinds.iter().copied());
    Ok(ListStatement {
        sql: b,
        kinds,
        key_count: key_kinds.len(),
        limit,
        binding,
    })
}

/// Live (or, for the recycle bin, deleted) rows that match the query's filter.
pub(super) fn push_filter(b: &mut SqlBuilder, ws: &str, query: &ListQuery) {
    b.push(if query.deleted {
        "t.\"deleted_at\" IS NOT NULL"
    } else {
        "t.\"deleted_at\" IS NULL"
    });
    if let Some(filter) = &query.filter {
        b.push(" AND (");
        let ws = ws.to_string();
        filter.to_sql(b, "t", &move |object: &str| quote(&table_name(&ws, object)));
        b.push(")");
    }
}

/// Rows strictly after the cursor in the sort order (nulls last): for some key i, every
/// earlier key equals the cursor's value and key i comes after it.
fn push_keyset(b: &mut SqlBuilder, keys: &[SortColumn], after: &[SqlParam]) {
    let mut first = true;
    for (i, key) in keys.iter().enumerate() {
        // Nothing sorts after a null but other nulls, which the next keys order.
        if after[i] == SqlParam::Null {
            continue;
        }
        b.push(if first { "(" } else { " OR (" });
        first = false;
        for (earlier, value) in keys[..i].iter().zip(after) {
            b.push(&earlier.sql());
            if *value == SqlParam::Null {
                b.push(" IS NULL AND ");
            } else {
                b.push(" = ");
                push_key_value(b, earlier, value);
                b.push(" AND ");
            }
        }
        let column = key.sql();
        b.push(&format!(
            "({column} {} ",
            if key.descending { "<" } else { ">" }
        ));
        push_key_value(b, key, &after[i]);
        if key.nullable {
            b.push(&format!(" OR {column} IS NULL"));
        }
        b.push("))");
    }
    if first {
        b.push("1 = 0");
    }
}

/// Binds a cursor's sort value; an infinite PostgreSQL timestamp (read as its text) is cast
/// back to one.
fn push_key_value(b: &mut SqlBuilder, key: &SortColumn, value: &SqlParam) {
    let infinite = b.dialect == Dialect::Postgres
        && key.column.kind == ColumnKind::Timestamp
        && matches!(value, SqlParam::Text(_));
    if infinite {
        b.push("CAST(");
        b.bind(value.clone());
        b.push(" AS TIMESTAMPTZ)");
    } else {
        b.bind(value.clone());
    }
}
