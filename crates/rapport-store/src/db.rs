//! The storage seam: one small SQL executor with two implementations, SQLite (the default,
//! embedded, one writer connection and a pool of readers over WAL) and PostgreSQL. Everything
//! above this module is written once, producing dialect-aware SQL with `SqlBuilder`; only
//! binding parameters and decoding columns differ per backend, and that lives here.

use crate::StoreError;
use chrono::{DateTime, Utc};
use rapport_core::sql::{ColumnKind, Dialect, SqlParam};
use rapport_core::value::{format_datetime, parse_datetime};
use rapport_core::ErrorCode;
use sqlx::postgres::{PgArguments, PgPoolOptions, PgRow, PgValueFormat};
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{
    Arguments, Column as _, PgPool, Postgres, Row as _, Sqlite, SqlitePool, Transaction,
    ValueRef as _,
};
use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// A decoded row: one `SqlParam` per requested column, in order, with the columns' names as
/// the database reported them.
///
/// The typed getters are honest: a column that is missing, `NULL` where a value is required,
/// or of another kind is a [`StoreError::Corrupt`] naming the column, never a silent `""`, `0`
/// or 1970. Columns are addressed by name (`row.text("id")`, the way fixed tables are read) or
/// by position (`row.int(0)`, for one-column answers such as `COUNT(*)` and for record tables,
/// whose columns come from metadata).
#[derive(Debug, Clone)]
pub struct Row {
    names: Arc<[String]>,
    columns: Vec<SqlParam>,
    /// Columns a lenient read could not decode as their kind (see [`Decoding`]).
    unreadable: Vec<usize>,
}

/// How a read treats a stored value that cannot be decoded as its column's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoding {
    /// The read fails (`StoreError::Corrupt` or the driver's error): system tables.
    Strict,
    /// The value is kept as its text (SQLite) or `NULL` (PostgreSQL) and its column is listed
    /// in [`Row::is_unreadable`]: record tables, whose values users write, so that one bad
    /// value never makes a record or a page unreadable.
    Lenient,
}

/// A way to name a column of a [`Row`]: its position or its name.
pub trait ColumnRef: Copy + fmt::Display {
    fn position(self, row: &Row) -> Option<usize>;
}

impl ColumnRef for usize {
    fn position(self, row: &Row) -> Option<usize> {
        (self < row.columns.len()).then_some(self)
    }
}

impl ColumnRef for &str {
    fn position(self, row: &Row) -> Option<usize> {
        row.names
            .iter()
            .take(row.columns.len())
            .position(|name| name == self)
    }
}

impl Row {
    pub fn columns(&self) -> &[SqlParam] {
        &self.columns
    }

    /// Whether column `i` held a value that a lenient read could not decode.
    pub fn is_unreadable(&self, i: usize) -> bool {
        self.unreadable.contains(&i)
    }

    /// The decoded value of a column, whatever its kind.
    pub fn get(&self, column: impl ColumnRef) -> Result<&SqlParam, StoreError> {
        column
            .position(self)
            .and_then(|i| self.columns.get(i))
            .ok_or_else(|| StoreError::Corrupt(format!("the row has no column {column}")))
    }

    /// A value the column must hold: `NULL` is an error.
    fn required<T>(
        &self,
        column: impl ColumnRef,
        expected: &str,
        pick: impl FnOnce(&SqlParam) -> Option<T>,
    ) -> Result<T, StoreError> {
        self.optional(column, expected, pick)?.ok_or_else(|| {
            StoreError::Corrupt(format!("column {column} is NULL, {expected} expected"))
        })
    }

    /// A value the column may hold: `NULL` is `None`, another kind an error.
    fn optional<T>(
        &self,
        column: impl ColumnRef,
        expected: &str,
        pick: impl FnOnce(&SqlParam) -> Option<T>,
    ) -> Result<Option<T>, StoreError> {
        let value = self.get(column)?;
        if matches!(value, SqlParam::Null | SqlParam::NullOf(_)) {
            return Ok(None);
        }
        pick(value).map(Some).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "column {column} holds {value:?}, {expected} expected"
            ))
        })
    }

    pub fn text(&self, column: impl ColumnRef) -> Result<String, StoreError> {
        self.required(column, "text", pick_text)
    }

    pub fn opt_text(&self, column: impl ColumnRef) -> Result<Option<String>, StoreError> {
        self.optional(column, "text", pick_text)
    }

    pub fn int(&self, column: impl ColumnRef) -> Result<i64, StoreError> {
        self.required(column, "an integer", pick_int)
    }

    pub fn opt_int(&self, column: impl ColumnRef) -> Result<Option<i64>, StoreError> {
        self.optional(column, "an integer", pick_int)
    }

    pub fn bool(&self, column: impl ColumnRef) -> Result<bool, StoreError> {
        self.required(column, "a boolean", pick_bool)
    }

    /// A JSON column; SQL `NULL` reads as JSON `null`, the same absence in the other language.
    pub fn json(&self, column: impl ColumnRef) -> Result<serde_json::Value, StoreError> {
        Ok(self
            .optional(column, "JSON", pick_json)?
            .unwrap_or(serde_json::Value::Null))
    }

    pub fn timestamp(&self, column: impl ColumnRef) -> Result<DateTime<Utc>, StoreError> {
        self.required(column, "a timestamp", pick_timestamp)
    }

    pub fn opt_timestamp(
        &self,
        column: impl ColumnRef,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.optional(column, "a timestamp", pick_timestamp)
    }

    /// An integer column of milliseconds since 1970 (the CDP's and the job queue's times) as
    /// a date-time; a value no date-time can hold is an error.
    pub fn millis(&self, column: impl ColumnRef) -> Result<DateTime<Utc>, StoreError> {
        instant_of_millis(column, self.int(column)?)
    }

    pub fn opt_millis(&self, column: impl ColumnRef) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.opt_int(column)?
            .map(|ms| instant_of_millis(column, ms))
            .transpose()
    }
}

fn instant_of_millis(column: impl ColumnRef, ms: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| {
        StoreError::Corrupt(format!(
            "column {column} holds {ms} ms, out of any date's range"
        ))
    })
}

fn pick_text(value: &SqlParam) -> Option<String> {
    match value {
        SqlParam::Text(t) => Some(t.clone()),
        _ => None,
    }
}

fn pick_int(value: &SqlParam) -> Option<i64> {
    match value {
        SqlParam::Int(v) => Some(*v),
        _ => None,
    }
}

/// SQLite has no boolean type: a `Bool` column decodes from its integer, so both are read.
fn pick_bool(value: &SqlParam) -> Option<bool> {
    match value {
        SqlParam::Bool(b) => Some(*b),
        SqlParam::Int(v @ (0 | 1)) => Some(*v == 1),
        _ => None,
    }
}

fn pick_json(value: &SqlParam) -> Option<serde_json::Value> {
    match value {
        SqlParam::Json(v) => Some(v.clone()),
        _ => None,
    }
}

fn pick_timestamp(value: &SqlParam) -> Option<DateTime<Utc>> {
    match value {
        SqlParam::Timestamp(t) => Some(*t),
        _ => None,
    }
}

#[derive(Debug, Clone)]
pub enum Db {
    Sqlite {
        writer: SqlitePool,
        readers: SqlitePool,
    },
    Postgres(PgPool),
}

pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Db {
    /// Opens (creating if needed) `rapport.db` under `data_dir`.
    pub async fn open_sqlite(data_dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            StoreError::Config(format!(
                "cannot create data dir {}: {e}",
                data_dir.display()
            ))
        })?;
        let path = data_dir.join("rapport.db");
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .map_err(StoreError::Db)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .pragma("cache_size", "-65536")
            .pragma("temp_store", "memory");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await?;
        let readers = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.read_only(true))
            .await?;
        Ok(Db::Sqlite { writer, readers })
    }

    pub async fn open_postgres(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await?;
        Ok(Db::Postgres(pool))
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite { .. } => Dialect::Sqlite,
            Db::Postgres(_) => Dialect::Postgres,
        }
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Db::Sqlite { writer, .. } => sqlx::migrate!("./migrations/sqlite").run(writer).await,
            Db::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await,
        }
        .map_err(|e| StoreError::Config(format!("migration failed: {e}")))
    }

    /// The newest migration this binary knows for the backend.
    pub fn latest_migration(&self) -> i64 {
        Db::latest_migration_for(self.dialect())
    }

    /// The newest migration this binary knows for a backend.
    pub fn latest_migration_for(dialect: Dialect) -> i64 {
        let migrator = match dialect {
            Dialect::Sqlite => sqlx::migrate!("./migrations/sqlite"),
            Dialect::Postgres => sqlx::migrate!("./migrations/postgres"),
        };
        // No migrations compiled in would be version 0.
        migrator.iter().map(|m| m.version).max().unwrap_or_default()
    }

    /// The newest migration applied to the database (0 for an empty one).
    pub async fn applied_migration(&self) -> Result<i64, StoreError> {
        let exists = match self {
            Db::Sqlite { .. } => {
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'"
            }
            Db::Postgres(_) => "SELECT COUNT(*) FROM pg_tables WHERE tablename = '_sqlx_migrations'",
        };
        let found = self.fetch_optional(exists, &[], &[ColumnKind::Int]).await?;
        if !matches!(found.map(|r| r.int(0)).transpose()?, Some(n) if n > 0) {
            return Ok(0);
        }
        let row = self
            .fetch_optional(
                "SELECT MAX(version), COUNT(*) FILTER (WHERE NOT success) FROM _sqlx_migrations",
                &[],
                &[ColumnKind::Int, ColumnKind::Int],
            )
            .await?;
        let Some(r) = row else { return Ok(0) };
        if r.int(1)? > 0 {
            return Err(StoreError::Config(
                "a migration of this database failed half-way; repair it before using it".into(),
            ));
        }
        // An empty migrations table (MAX is NULL) means no migration has been applied yet.
        Ok(r.opt_int(0)?.unwrap_or(0))
    }

    /// A read-only transaction that sees one consistent snapshot for as long as it lasts: on
    /// SQLite a reader connection (WAL), so writers go on; on PostgreSQL `REPEATABLE READ`.
    pub async fn begin_snapshot(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Db::Sqlite { readers, .. } => Tx::Sqlite(readers.begin().await?),
            Db::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .execute(&mut *tx)
                    .await?;
                Tx::Postgres(tx)
            }
        })
    }

    /// SQLite only: writes a consistent copy of the whole database to `out` (`VACUUM INTO`,
    /// on a reader connection, so the server may go on writing meanwhile). `out` must not
    /// exist.
    pub async fn sqlite_snapshot(&self, out: &Path) -> Result<(), StoreError> {
        match self {
            Db::Sqlite { readers, .. } => {
                let path = out.to_str().ok_or_else(|| {
                    StoreError::Config(format!("{} is not a UTF-8 path", out.display()))
                })?;
                sqlx::query("VACUUM INTO ?1")
                    .bind(path)
                    .execute(readers)
                    .await?;
                Ok(())
            }
            Db::Postgres(_) => Err(StoreError::Config(
                "a file copy is a SQLite backup; on PostgreSQL use pg_dump".into(),
            )),
        }
    }

    /// Starts a write transaction (on SQLite, on the single writer connection).
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Db::Sqlite { writer, .. } => Tx::Sqlite(writer.begin().await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    pub async fn fetch_all(
        &self,
        sql: &str,
        params: &[SqlParam],
        kinds: &[ColumnKind],
    ) -> Result<Vec<Row>, StoreError> {
        self.fetch_decoded(sql, params, kinds, Decoding::Strict)
            .await
    }

    /// Reads rows of a record table: a value that cannot be decoded is reported, not fatal.
    pub async fn fetch_records(
        &self,
        sql: &str,
        params: &[SqlParam],
        kinds: &[ColumnKind],
    ) -> Result<Vec<Row>, StoreError> {
        self.fetch_decoded(sql, params, kinds, Decoding::Lenient)
            .await
    }

    async fn fetch_decoded(
        &self,
        sql: &str,
        params: &[SqlParam],
        kinds: &[ColumnKind],
        decoding: Decoding,
    ) -> Result<Vec<Row>, StoreError> {
        match self {
            Db::Sqlite { readers, .. } => {
                let rows = sqlite_query(sql, params)?.fetch_all(readers).await?;
                decode_sqlite_rows(&rows, kinds, decoding)
            }
            Db::Postgres(pool) => {
                let rows = pg_query(sql, params)?.fetch_all(pool).await?;
                decode_pg_rows(&rows, kinds, decoding)
            }
        }
    }

    pub async fn fetch_optional(
        &self,
        sql: &str,
        params: &[SqlParam],
        kinds: &[ColumnKind],
    ) -> Result<Option<Row>, StoreError> {
        Ok(self.fetch_all(sql, params, kinds).await?.into_iter().next())
    }

    /// Runs one writing statement that returns rows (`UPDATE … RETURNING`), on the writer for
    /// SQLite.
    pub async fn write_returning(
        &self,
        sql: &str,
        params: &[SqlParam],
        kinds: &[ColumnKind],
    ) -> Result<Vec<Row>, StoreError> {
        match self {
            Db::Sqlite { writer, .. } => {
                let rows = sqlite_query(sql, params)?.fetch_all(writer).await?;
                decode_sqlite_rows(&rows, kinds, Decoding::Strict)
            }
            Db::Postgres(pool) => {
                let rows = pg_query(sql, params)?.fetch_all(pool).await?;
                decode_pg_rows(&rows, kinds, Decoding::Strict)
            }
        }
    }

    /// Runs one statement in its own transaction (on the writer for SQLite).
    pub async fn execute(&self, sql: &str, params: &[SqlParam]) -> Result<u64, StoreError> {
        match self {
            Db::Sqlite { writer, .. } => Ok(sqlite_query(sql, params)?
                .execute(writer)
                .await?
                .rows_affected()),
            Db::Postgres(pool) => Ok(pg_query(sql, params)?.execute(pool).await?.rows_affected()),
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite { writer, readers } => {
                readers.close().await;
                writer.close().await;
            }
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

impl Tx {
    /// ` FOR UPDATE` on PostgreSQL (row locks for read-modify-write); nothing on SQLite, whose
    /// single writer already serialises write transactions.
    pub fn for_update(&self) -> &'static str {
        match self {
            Tx::Sqlite(_) => "",
            Tx::Postgres(_) => " FOR UPDATE",
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Tx::Sqlite(_) => Dialect::Sqlite,
            Tx::Postgres(_) => Dialect::Postgres,
        }
    }

    pub async fn execute(&mut self, sql: &str, params: &[SqlParam]) -> Result<u64, StoreError> {
        match self {
            Tx::Sqlite(tx) => Ok(sqlite_query(sql, params)?
                .execute(&mut **tx)
                .await?
                .rows_affected()),
            Tx::Postgres(tx) => Ok(pg_query(sql, params)?
                .execute(&mut **tx)
                .await?
                .rows_affected()),
        }
    }

    pub async fn fetch_all(
        &mut self,
        sql: &str,
        params: &[SqlParam],
        kinds: &[ColumnKind],
    ) -> Result<Vec<Row>, StoreError> {
        self.fetch_decoded(sql, params, kinds, Decoding::Strict)
            .await
    }

    /// Reads rows of a record table: a value that cannot be decoded is reported, not fatal.
    pub async fn fetch_records(
        &mut self,
        sql: &str,
        params: &[SqlParam],
        kinds: &[ColumnKind],
    ) -> Result<Vec<Row>, StoreError> {
        self.fetch_decoded(sql, params, kinds, Decoding::Lenient)
            .await
    }

    async fn fetch_decoded(
        &mut self,
        sql: &str,
        params: &[SqlParam],
        kinds: &[ColumnKind],
        decoding: Decoding,
    ) -> Result<Vec<Row>, StoreError> {
        match self {
            Tx::Sqlite(tx) => {
                let rows = sqlite_query(sql, params)?.fetch_all(&mut **tx).await?;
                decode_sqlite_rows(&rows, kinds, decoding)
            }
            Tx::Postgres(tx) => {
                let rows = pg_query(sql, params)?.fetch_all(&mut **tx).await?;
                decode_pg_rows(&rows, kinds, decoding)
            }
        }
    }

    pub async fn fetch_optional(
        &mut self,
        sql: &str,
        params: &[SqlParam],
        kinds: &[ColumnKind],
    ) -> Result<Option<Row>, StoreError> {
        Ok(self.fetch_all(sql, params, kinds).await?.into_iter().next())
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

type SqliteQuery<'q> = sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>>;
type PgQuery<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

/// Whether `value` holds a NUL character in a string or a key.
fn json_has_nul(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(s) => s.contains('\0'),
        serde_json::Value::Array(items) => items.iter().any(json_has_nul),
        serde_json::Value::Object(map) => {
            map.iter().any(|(k, v)| k.contains('\0') || json_has_nul(v))
        }
        _ => false,
    }
}

/// Neither backend is given a NUL character: PostgreSQL holds none in text or JSONB (it would
/// fail the statement), and SQLite must behave the same. Input checked earlier says so in its
/// own terms (a field's `invalid_value`, an event's `nul_character`); anything else a client
/// sent with a NUL — an id in a path, a cursor, a name — is refused here, on both backends.
fn refuse_nul(params: &[SqlParam]) -> Result<(), StoreError> {
    let nul = params.iter().any(|p| match p {
        SqlParam::Text(t) => t.contains('\0'),
        SqlParam::Json(j) => json_has_nul(j),
        _ => false,
    });
    if nul {
        Err(StoreError::bad_request(
            ErrorCode::NulCharacter,
            "a text in the request holds a NUL character (\\u0000), which Rapport does not store or look up",
        ))
    } else {
        Ok(())
    }
}

fn sqlite_query<'q>(sql: &'q str, params: &[SqlParam]) -> Result<SqliteQuery<'q>, StoreError> {
    refuse_nul(params)?;
    let mut args = SqliteArguments::default();
    for p in params {
        let added = match p {
            SqlParam::Null | SqlParam::NullOf(_) => args.add(None::<String>),
            SqlParam::Bool(b) => args.add(i64::from(*b)),
            SqlParam::Int(i) => args.add(*i),
            SqlParam::Float(f) => args.add(*f),
            SqlParam::Text(t) => args.add(t.clone()),
            SqlParam::Json(j) => args.add(j.to_string()),
            SqlParam::Timestamp(t) => args.add(format_datetime(t)),
            SqlParam::Bytes(b) => args.add(b.clone()),
        };
        added.map_err(|e| StoreError::Config(format!("cannot bind parameter: {e}")))?;
    }
    Ok(sqlx::query_with(sql, args))
}

fn pg_query<'q>(sql: &'q str, params: &[SqlParam]) -> Result<PgQuery<'q>, StoreError> {
    refuse_nul(params)?;
    let mut args = PgArguments::default();
    for p in params {
        let added = match p {
            SqlParam::Null | SqlParam::NullOf(ColumnKind::Text) => args.add(None::<String>),
            SqlParam::NullOf(ColumnKind::Bool) => args.add(None::<bool>),
            SqlParam::NullOf(ColumnKind::Int) => args.add(None::<i64>),
            SqlParam::NullOf(ColumnKind::Float) => args.add(None::<f64>),
            SqlParam::NullOf(ColumnKind::Json) => {
                args.add(None::<sqlx::types::Json<serde_json::Value>>)
            }
            SqlParam::NullOf(ColumnKind::Timestamp) => args.add(None::<DateTime<Utc>>),
            SqlParam::NullOf(ColumnKind::Bytes) => args.add(None::<Vec<u8>>),
            SqlParam::Bool(b) => args.add(*b),
            SqlParam::Int(i) => args.add(*i),
            SqlParam::Float(f) => args.add(*f),
            SqlParam::Text(t) => args.add(t.clone()),
            SqlParam::Json(j) => args.add(sqlx::types::Json(j.clone())),
            SqlParam::Timestamp(t) => args.add(*t),
            SqlParam::Bytes(b) => args.add(b.clone()),
        };
        added.map_err(|e| StoreError::Config(format!("cannot bind parameter: {e}")))?;
    }
    Ok(sqlx::query_with(sql, args))
}

/// The names of a result set's columns, read once from its first row and shared by all.
fn column_names<R: sqlx::Row>(rows: &[R]) -> Arc<[String]> {
    rows.first()
        .map(|row| row.columns().iter().map(|c| c.name().to_string()).collect())
        .unwrap_or_else(|| Arc::from(Vec::new()))
}

fn decode_sqlite_rows(
    rows: &[SqliteRow],
    kinds: &[ColumnKind],
    decoding: Decoding,
) -> Result<Vec<Row>, StoreError> {
    let names = column_names(rows);
    rows.iter()
        .map(|r| decode_sqlite(r, &names, kinds, decoding))
        .collect()
}

fn decode_pg_rows(
    rows: &[PgRow],
    kinds: &[ColumnKind],
    decoding: Decoding,
) -> Result<Vec<Row>, StoreError> {
    let names = column_names(rows);
    rows.iter()
        .map(|r| decode_pg(r, &names, kinds, decoding))
        .collect()
}

fn decode_sqlite(
    row: &SqliteRow,
    names: &Arc<[String]>,
    kinds: &[ColumnKind],
    decoding: Decoding,
) -> Result<Row, StoreError> {
    let mut out = Row {
        names: Arc::clone(names),
        columns: Vec::with_capacity(kinds.len()),
        unreadable: Vec::new(),
    };
    for (i, kind) in kinds.iter().enumerate() {
        let value = match (sqlite_column(row, i, *kind), decoding) {
            (Ok(value), _) => value,
            (Err(e), Decoding::Strict) => return Err(e),
            (Err(_), Decoding::Lenient) => {
                out.unreadable.push(i);
                // SQLite keeps whatever was stored; its text still sorts and pages.
                row.try_get::<Option<String>, _>(i)
                    .ok()
                    .flatten()
                    .map_or(SqlParam::Null, SqlParam::Text)
            }
        };
        out.columns.push(value);
    }
    Ok(out)
}

fn sqlite_column(row: &SqliteRow, i: usize, kind: ColumnKind) -> Result<SqlParam, StoreError> {
    Ok(match kind {
        ColumnKind::Bool => row
            .try_get::<Option<i64>, _>(i)?
            .map_or(SqlParam::Null, |v| SqlParam::Bool(v != 0)),
        ColumnKind::Int => row
            .try_get::<Option<i64>, _>(i)?
            .map_or(SqlParam::Null, SqlParam::Int),
        ColumnKind::Float => row
            .try_get::<Option<f64>, _>(i)?
            .map_or(SqlParam::Null, SqlParam::Float),
        ColumnKind::Text => row
            .try_get::<Option<String>, _>(i)?
            .map_or(SqlParam::Null, SqlParam::Text),
        ColumnKind::Json => {
            match row.try_get::<Option<String>, _>(i)? {
                Some(text) => SqlParam::Json(serde_json::from_str(&text).map_err(|e| {
                    StoreError::Corrupt(format!("column {i} holds invalid JSON: {e}"))
                })?),
                None => SqlParam::Null,
            }
        }
        ColumnKind::Timestamp => match row.try_get::<Option<String>, _>(i)? {
            Some(text) => SqlParam::Timestamp(parse_datetime(&text).ok_or_else(|| {
                StoreError::Corrupt(format!("column {i} holds an invalid timestamp"))
            })?),
            None => SqlParam::Null,
        },
        ColumnKind::Bytes => row
            .try_get::<Option<Vec<u8>>, _>(i)?
            .map_or(SqlParam::Null, SqlParam::Bytes),
    })
}

fn decode_pg(
    row: &PgRow,
    names: &Arc<[String]>,
    kinds: &[ColumnKind],
    decoding: Decoding,
) -> Result<Row, StoreError> {
    let mut out = Row {
        names: Arc::clone(names),
        columns: Vec::with_capacity(kinds.len()),
        unreadable: Vec::new(),
    };
    for (i, kind) in kinds.iter().enumerate() {
        let value = match (pg_column(row, i, *kind), decoding) {
            (Ok(value), _) => value,
            (Err(e), Decoding::Strict) => return Err(e),
            (Err(_), Decoding::Lenient) => {
                out.unreadable.push(i);
                pg_infinity(row, i, *kind).map_or(SqlParam::Null, |t| SqlParam::Text(t.into()))
            }
        };
        out.columns.push(value);
    }
    Ok(out)
}

fn pg_column(row: &PgRow, i: usize, kind: ColumnKind) -> Result<SqlParam, StoreError> {
    Ok(match kind {
        ColumnKind::Bool => row
            .try_get::<Option<bool>, _>(i)?
            .map_or(SqlParam::Null, SqlParam::Bool),
        // Literals and COUNT(*) may come back as INT4.
        ColumnKind::Int => row
            .try_get::<Option<i64>, _>(i)
            .or_else(|_| row.try_get::<Option<i32>, _>(i).map(|v| v.map(i64::from)))?
            .map_or(SqlParam::Null, SqlParam::Int),
        ColumnKind::Float => row
            .try_get::<Option<f64>, _>(i)?
            .map_or(SqlParam::Null, SqlParam::Float),
        ColumnKind::Text => row
            .try_get::<Option<String>, _>(i)?
            .map_or(SqlParam::Null, SqlParam::Text),
        ColumnKind::Json => row
            .try_get::<Option<sqlx::types::Json<serde_json::Value>>, _>(i)?
            .map_or(SqlParam::Null, |j| SqlParam::Json(j.0)),
        ColumnKind::Timestamp => pg_timestamp(row, i)?,
        ColumnKind::Bytes => row
            .try_get::<Option<Vec<u8>>, _>(i)?
            .map_or(SqlParam::Null, SqlParam::Bytes),
    })
}

/// `infinity` or `-infinity` for such a `TIMESTAMPTZ` (which no instant can stand for), so a
/// list ordered by it can still page past it.
fn pg_infinity(row: &PgRow, i: usize, kind: ColumnKind) -> Option<&'static str> {
    if kind != ColumnKind::Timestamp || row.try_get_raw(i).ok()?.format() != PgValueFormat::Binary {
        return None;
    }
    match row.try_get_unchecked::<i64, _>(i).ok()? {
        i64::MAX => Some("infinity"),
        i64::MIN => Some("-infinity"),
        _ => None,
    }
}

/// Microseconds from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// A `TIMESTAMPTZ` without sqlx's decoder, which panics on `infinity` and on instants chrono
/// cannot hold: such a value is an error here (fatal or reported, as the read decides).
fn pg_timestamp(row: &PgRow, i: usize) -> Result<SqlParam, StoreError> {
    let raw = row.try_get_raw(i)?;
    if raw.is_null() {
        return Ok(SqlParam::Null);
    }
    if raw.format() == PgValueFormat::Text {
        return Ok(SqlParam::Timestamp(row.try_get::<DateTime<Utc>, _>(i)?));
    }
    let since_2000: i64 = row.try_get_unchecked(i)?;
    since_2000
        .checked_add(PG_EPOCH_MICROS)
        .and_then(DateTime::from_timestamp_micros)
        .map(SqlParam::Timestamp)
        .ok_or_else(|| StoreError::Corrupt(format!("column {i} holds an unreadable timestamp")))
}
