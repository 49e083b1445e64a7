//! The logical export of one workspace as NDJSON and its import into either backend.
//!
//! An export is one JSON object per line, each with a `type`: a `header` (format, its version,
//! the app version, the migration the database was at, the backend), the `workspace`, each
//! `object` (its definition and times; the import recreates its table with the store's own
//! DDL), each `record` of each object with its id and system columns, one `row` per row of the
//! workspace's other tables, and an `end` line with the number of lines before it, so a cut-off
//! file is refused. A column absent from a row's `values` is NULL. Everything is read in one
//! snapshot (`Db::begin_snapshot`), so writers go on while it runs and the export is what the
//! workspace was at one instant.
//!
//! The import runs in one transaction: the workspace, its objects (through
//! `Store::restore_object_tx`), records and rows appear together or not at all. Integer ids
//! that a database hands out (history, audit, events, warnings, segment changes, sync queue)
//! are given anew in the original order, so a workspace can join a database that already holds
//! others; derived segment state (behaviour counters, timers, pending judgements) is not
//! exported and is rebuilt by the workers, as the `0005` migration does.
//!
//! This module owns the list of exported tables ([`TABLES`]) and of tables deliberately left out
//! ([`NOT_EXPORTED`]); a test checks that together they cover every table of the schema, so a
//! new migration cannot be forgotten here. It must not write anything during an export.

use crate::db::{Decoding, Tx};
use crate::schema::{load_schema_tx, placeholder};
use crate::{table_name, Store, StoreError};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use rapport_core::metadata::ObjectDef;
use rapport_core::names::{quote, SYSTEM_COLUMNS};
use rapport_core::sql::{field_columns, ColumnKind, Dialect, SqlParam};
use rapport_core::value::{format_datetime, parse_datetime};
use rapport_core::ErrorCode;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, Read, Write};
use std::path::Path;
use std::time::Duration;

/// The `format` of an export's header line.
pub const FORMAT: &str = "rapport-workspace";
/// The version of the line format this binary writes and reads.
pub const FORMAT_VERSION: i64 = 1;
/// Rows read per query during an export.
const PAGE: usize = 1_000;
/// Largest line an import accepts (a record or an event is far smaller).
const MAX_LINE: usize = 64 * 1024 * 1024;

use ColumnKind::{Bool as B, Int as I, Json as J, Text as T, Timestamp as TS};

/// How an export finds a table's rows of the workspace.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    /// The table has a `workspace_id` column.
    Workspace,
    /// `column` names a row of `parent` (a table with a `workspace_id` and an `id`).
    Parent {
        column: &'static str,
        parent: &'static str,
    },
}

/// A table of the workspace copied row by row.
#[derive(Debug)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [(&'static str, ColumnKind)],
    /// A unique key: the export's order and its pages.
    pub key: &'static [&'static str],
    pub scope: Scope,
    /// An id the database hands out: exported, but left to the target on import.
    pub renumbered: Option<&'static str>,
}

const fn table(
    name: &'static str,
    columns: &'static [(&'static str, ColumnKind)],
    key: &'static [&'static str],
) -> Table {
    Table {
        name,
        columns,
        key,
        scope: Scope::Workspace,
        renumbered: None,
    }
}

const fn renumbered(mut t: Table, column: &'static str) -> Table {
    t.renumbered = Some(column);
    t
}

const fn child(mut t: Table, column: &'static str, parent: &'static str) -> Table {
    t.scope = Scope::Parent { column, parent };
    t
}

/// The workspace's tables besides `workspaces`, `objects` and the record tables, parents
/// before children.
pub const TABLES: &[Table] = &[
    table(
        "roles",
        &[
            ("workspace_id", T),
            ("id", T),
            ("name", T),
            ("is_admin", B),
            ("permissions", J),
            ("created_at", TS),
        ],
        &["id"],
    ),
    table(
        "users",
        &[
            ("id", T),
            ("workspace_id", T),
            ("email", T),
            ("name", T),
            ("password_hash", T),
            ("role_id", T),
            ("locale", T),
            ("active", B),
            ("created_at", TS),
        ],
        &["id"],
    ),
    table(
        "api_tokens",
        &[
            ("id", T),
            ("workspace_id", T),
            ("user_id", T),
            ("name", T),
            ("token_hash", T),
            ("prefix", T),
            ("created_at", TS),
            ("last_used_at", TS),
            ("revoked_at", TS),
        ],
        &["id"],
    ),
    renumbered(
        table(
            "field_history",
            &[
                ("id", I),
                ("workspace_id", T),
                ("object", T),
                ("record_id", T),
                ("kind", T),
                ("field", T),
                ("old_value", J),
                ("new_value", J),
                ("actor_id", T),
                ("source", T),
                ("request_id", T),
                ("changed_at", TS),
            ],
            &["id"],
        ),
        "id",
    ),
    renumbered(
        table(
            "audit_log",
            &[
                ("id", I),
                ("workspace_id", T),
                ("at", TS),
                ("actor_id", T),
                ("action", T),
                ("target", T),
                ("outcome", T),
                ("details", J),
                ("ip", T),
                ("request_id", T),
            ],
            &["id"],
        ),
        "id",
    ),
    table(
        "teams",
        &[
            ("id", T),
            ("workspace_id", T),
            ("name", T),
            ("created_at", TS),
        ],
        &["id"],
    ),
    table(
        "team_members",
        &[
            ("workspace_id", T),
            ("team_id", T),
            ("user_id", T),
            ("is_lead", B),
        ],
        &["team_id", "user_id"],
    ),
    table(
        "webhook_endpoints",
        &[
            ("id", T),
            ("workspace_id", T),
            ("url", T),
            ("description", T),
            ("topics", J),
            ("objects", J),
            ("enabled", B),
            ("secret", T),
            ("previous_secret", T),
            ("previous_until", TS),
            ("created_at", TS),
            ("updated_at", TS),
            ("failing_since", TS),
            ("disabled_reason", T),
            ("ordered", B),
            ("timeout_seconds", I),
            ("breaker", J),
            // The breaker's state comes back as it was: a destination that was down is probed
            // before it is sent everything again.
            ("breaker_state", T),
            ("breaker_timeouts", I),
            ("breaker_recent", T),
            ("breaker_cooldown", I),
            ("breaker_opened_at", TS),
            ("breaker_probe_at", TS),
            ("last_error", T),
            ("last_error_at", TS),
        ],
        &["id"],
    ),
    table(
        "connectors",
        &[
            ("id", T),
            ("workspace_id", T),
            ("kind", T),
            ("name", T),
            ("description", T),
            ("settings", J),
            // Sealed with the node's secret key: a restore opens them only under the same key.
            ("secrets", T),
            ("secret_names", J),
            ("enabled", B),
            // The breaker comes back as it was: a connector that was down is probed first.
            ("breaker_failures", I),
            ("breaker_open_until", TS),
            ("last_sent_at", TS),
            ("last_error", T),
            ("created_at", TS),
            ("updated_at", TS),
        ],
        &["id"],
    ),
    table(
        "value_maps",
        &[
            ("id", T),
            ("workspace_id", T),
            ("system", T),
            ("object", T),
            ("field", T),
            ("description", T),
            ("entries", J),
            ("created_at", TS),
            ("updated_at", TS),
        ],
        &["id"],
    ),
    table(
        "inbound_hooks",
        &[
            ("id", T),
            ("workspace_id", T),
            ("name", T),
            ("object", T),
            ("auth", T),
            ("match_field", T),
            ("mapping", J),
            ("enabled", B),
            // Sealed with the node's secret key, as connectors' credentials are.
            ("secret", T),
            ("last_received_at", TS),
            ("created_at", TS),
            ("updated_at", TS),
        ],
        &["id"],
    ),
    table(
        "email_unsubscribes",
        &[("workspace_id", T), ("address", T), ("created_at", TS)],
        &["address"],
    ),
    table(
        "auto_number_counters",
        &[
            ("workspace_id", T),
            ("object", T),
            ("field", T),
            ("period", T),
            ("last_value", I),
        ],
        &["object", "field", "period"],
    ),
    table(
        "files",
        &[
            ("id", T),
            ("workspace_id", T),
            ("object", T),
            ("field", T),
            ("name", T),
            ("content_type", T),
            ("size", I),
            ("sha256", T),
            ("content", ColumnKind::Bytes),
            ("uploaded_by", T),
            ("created_at", TS),
            ("record_id", T),
        ],
        &["id"],
    ),
    table(
        "saved_views",
        &[
            ("id", T),
            ("workspace_id", T),
            ("object", T),
            ("owner_id", T),
            ("name", T),
            ("kind", T),
            ("shared", B),
            ("definition", J),
            ("created_at", TS),
            ("updated_at", TS),
        ],
        &["id"],
    ),
    table(
        "cdp_settings",
        &[("workspace_id", T), ("settings", J), ("updated_at", TS)],
        &["workspace_id"],
    ),
    table(
        "cdp_sources",
        &[
            ("id", T),
            ("workspace_id", T),
            ("name", T),
            ("kind", T),
            ("write_key", T),
            ("schema_policy", T),
            ("rate_limit", I),
            ("created_at", TS),
            ("archived_at", TS),
            ("trust", T),
            ("verification_secret", T),
        ],
        &["id"],
    ),
    table(
        "cdp_event_types",
        &[
            ("workspace_id", T),
            ("name", T),
            ("description", T),
            ("schema", J),
            ("version", I),
            ("created_at", TS),
            ("updated_at", TS),
            ("labels", J),
        ],
        &["name"],
    ),
    table(
        "cdp_profiles",
        &[
            ("id", T),
            ("workspace_id", T),
            ("merged_into", T),
            ("contact_id", T),
            ("company_id", T),
            ("traits", J),
            ("first_seen", I),
            ("traits_updated_at", I),
        ],
        &["id"],
    ),
    table(
        "cdp_identities",
        &[
            ("workspace_id", T),
            ("id_type", T),
            ("id_value", T),
            ("profile_id", T),
            ("first_seen", I),
        ],
        &["id_type", "id_value"],
    ),
    table(
        "cdp_merges",
        &[
            ("id", T),
            ("workspace_id", T),
            ("survivor_id", T),
            ("absorbed_id", T),
            ("cause_type", T),
            ("cause_value", T),
            ("source_id", T),
            ("message_id", T),
            ("merged_at", I),
            ("undone_at", I),
            ("undone_by", T),
        ],
        &["id"],
    ),
    table(
        "cdp_groups",
        &[("workspace_id", T), ("group_id", T), ("company_id", T)],
        &["group_id"],
    ),
    renumbered(
        table(
            "cdp_events",
            &[
                ("seq", I),
                ("workspace_id", T),
                ("source_id", T),
                ("message_id", T),
                ("kind", T),
                ("name", T),
                ("profile_id", T),
                ("user_id", T),
                ("anonymous_id", T),
                ("ts", I),
                ("received_at", I),
                ("body", J),
            ],
            &["seq"],
        ),
        "seq",
    ),
    table(
        "cdp_held",
        &[
            ("id", T),
            ("workspace_id", T),
            ("source_id", T),
            ("disposition", T),
            ("reason_code", T),
            ("reason", T),
            ("kind", T),
            ("name", T),
            ("message_id", T),
            ("payload", J),
            ("received_at", I),
            ("replayed_at", I),
        ],
        &["id"],
    ),
    table(
        "cdp_health",
        &[
            ("source_id", T),
            ("minute", I),
            ("workspace_id", T),
            ("received", I),
            ("accepted", I),
            ("rejected", I),
            ("quarantined", I),
            ("duplicates", I),
            ("merge_refused", I),
        ],
        &["source_id", "minute"],
    ),
    child(
        table(
            "cdp_health_delay",
            &[("source_id", T), ("minute", I), ("bucket", I), ("count", I)],
            &["source_id", "minute", "bucket"],
        ),
        "source_id",
        "cdp_sources",
    ),
    child(
        table(
            "cdp_health_reasons",
            &[
                ("source_id", T),
                ("minute", I),
                ("outcome", T),
                ("reason", T),
                ("count", I),
            ],
            &["source_id", "minute", "outcome", "reason"],
        ),
        "source_id",
        "cdp_sources",
    ),
    renumbered(
        table(
            "cdp_warnings",
            &[
                ("id", I),
                ("workspace_id", T),
                ("source_id", T),
                ("at", I),
                ("code", T),
                ("message", T),
                ("details", J),
            ],
            &["id"],
        ),
        "id",
    ),
    renumbered(
        table(
            "cdp_sync_queue",
            &[
                ("id", I),
                ("workspace_id", T),
                ("profile_id", T),
                ("kind", T),
                ("payload", J),
                ("created_at", I),
                ("attempts", I),
                ("leased_until", I),
                ("last_error", T),
                ("source_id", T),
                ("trusted", B),
            ],
            &["id"],
        ),
        "id",
    ),
    table(
        "cdp_segments",
        &[
            ("id", T),
            ("workspace_id", T),
            ("name", T),
            ("description", T),
            ("tag", T),
            ("version", I),
            ("definition", T),
            ("state", T),
            ("member_count", I),
            ("evaluated_at", I),
            ("created_by", T),
            ("created_at", I),
            ("updated_at", I),
            ("archived_at", I),
            ("build_leased_until", I),
        ],
        &["id"],
    ),
    child(
        table(
            "cdp_segment_versions",
            &[
                ("segment_id", T),
                ("version", I),
                ("definition", T),
                ("created_by", T),
                ("created_at", I),
            ],
            &["segment_id", "version"],
        ),
        "segment_id",
        "cdp_segments",
    ),
    table(
        "cdp_behavior_keys",
        &[
            ("id", T),
            ("workspace_id", T),
            ("signature", T),
            ("spec", T),
            ("event", T),
            ("ready", B),
            ("created_at", I),
            ("cutoff_seq", I),
            ("filled_to", T),
        ],
        &["id"],
    ),
    child(
        table(
            "cdp_segment_members",
            &[
                ("segment_id", T),
                ("profile_id", T),
                ("version", I),
                ("entered_at", I),
            ],
            &["segment_id", "profile_id"],
        ),
        "segment_id",
        "cdp_segments",
    ),
    renumbered(
        table(
            "cdp_segment_changes",
            &[
                ("seq", I),
                ("workspace_id", T),
                ("segment_id", T),
                ("profile_id", T),
                ("change", T),
                ("at", I),
                ("version", I),
                ("cause", T),
            ],
            &["seq"],
        ),
        "seq",
    ),
    table(
        "cdp_snapshots",
        &[
            ("id", T),
            ("workspace_id", T),
            ("segment_id", T),
            ("name", T),
            ("version", I),
            ("definition", T),
            ("taken_at", I),
            ("member_count", I),
            ("created_by", T),
        ],
        &["id"],
    ),
    child(
        table(
            "cdp_snapshot_members",
            &[
                ("snapshot_id", T),
                ("profile_id", T),
                ("contact_id", T),
                ("user_id", T),
                ("email", T),
                ("phone", T),
                ("entered_at", I),
            ],
            &["snapshot_id", "profile_id"],
        ),
        "snapshot_id",
        "cdp_snapshots",
    ),
    table(
        "cdp_tags",
        &[
            ("workspace_id", T),
            ("profile_id", T),
            ("tag", T),
            ("created_by", T),
            ("created_at", I),
        ],
        &["profile_id", "tag"],
    ),
    table(
        "jobs",
        &[
            ("id", T),
            ("workspace_id", T),
            ("queue", T),
            ("kind", T),
            ("payload", J),
            ("state", T),
            ("priority", I),
            ("run_at", I),
            ("attempts", I),
            ("max_attempts", I),
            ("idempotency_key", T),
            ("lease_owner", T),
            ("leased_until", I),
            ("cancel_requested", B),
            ("last_error", T),
            ("created_at", I),
            ("started_at", I),
            ("finished_at", I),
        ],
        &["id"],
    ),
    child(
        table(
            "job_attempts",
            &[
                ("job_id", T),
                ("attempt", I),
                ("node", T),
                ("started_at", I),
                ("finished_at", I),
                ("outcome", T),
                ("error", T),
            ],
            &["job_id", "attempt"],
        ),
        "job_id",
        "jobs",
    ),
];

/// Tables an export leaves out, and why.
pub const NOT_EXPORTED: &[(&str, &str)] = &[
    ("workspaces", "its own `workspace` line"),
    (
        "objects",
        "one `object` line per object; the import recreates the table",
    ),
    ("sessions", "logins end with a restore"),
    ("login_failures", "per client address, not per workspace"),
    (
        "outbox",
        "deployment-wide stream; consumers' positions would not match",
    ),
    ("outbox_cursors", "deployment-wide"),
    (
        "webhook_messages",
        "the delivery log; changes after the restore make new messages",
    ),
    ("webhook_attempts", "the delivery log"),
    ("connector_messages", "the log of sends"),
    ("inbound_deliveries", "the log of inbound requests"),
    (
        "value_map_unmapped",
        "values met in traffic; traffic after the restore records its own",
    ),
    ("cdp_behavior_counts", "derived from the events; rebuilt"),
    ("cdp_segment_timers", "derived; rebuilt with the counters"),
    (
        "cdp_segment_pending",
        "derived; every live segment is evaluated again",
    ),
    ("_sqlx_migrations", "the target's own"),
];

/// Tables of earlier versions that are gone: their rows in an older backup are skipped.
const RETIRED: &[&str] = &[
    // The snapshot push's own signing secret, before pushes went through the webhook hub.
    "cdp_signing_secrets",
];

fn table_named(name: &str) -> Option<&'static Table> {
    TABLES.iter().find(|t| t.name == name)
}

/// What an export or an import did.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    pub workspace_id: String,
    /// Lines per kind (`record:<object>` or the table name).
    pub counts: BTreeMap<String, u64>,
    /// Record values the source could not read as their field's type (copied as they were on
    /// SQLite, as NULL on PostgreSQL).
    pub unreadable_values: u64,
}

impl Summary {
    pub fn lines(&self) -> u64 {
        self.counts.values().sum()
    }
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Config(format!("writing the export: {e}"))
}

/// A column value as JSON; `None` for NULL.
fn encode(value: &SqlParam) -> Result<Option<Value>, StoreError> {
    Ok(match value {
        SqlParam::Null | SqlParam::NullOf(_) => None,
        SqlParam::Bool(b) => Some(Value::Bool(*b)),
        SqlParam::Int(i) => Some(Value::from(*i)),
        SqlParam::Float(f) => Some(
            serde_json::Number::from_f64(*f)
                .map(Value::Number)
                .ok_or_else(|| StoreError::Corrupt(format!("a stored number is {f}")))?,
        ),
        SqlParam::Text(t) => Some(Value::String(t.clone())),
        SqlParam::Json(j) => Some(j.clone()),
        SqlParam::Timestamp(t) => Some(Value::String(format_datetime(t))),
        SqlParam::Bytes(b) => Some(Value::String(BASE64.encode(b))),
    })
}

fn row_values(
    names: &[String],
    row: &crate::Row,
    unreadable: &mut u64,
) -> Result<Map<String, Value>, StoreError> {
    let mut values = Map::new();
    for (i, name) in names.iter().enumerate() {
        if row.is_unreadable(i) {
            *unreadable += 1;
        }
        if let Some(v) = encode(row.get(i)?)? {
            values.insert(name.clone(), v);
        }
    }
    Ok(values)
}

/// `SELECT … WHERE <scope> [AND (key) > (last)] ORDER BY key LIMIT n` for one page.
fn page_sql(
    dialect: Dialect,
    from: &str,
    columns: &[String],
    scope: &str,
    key: &[String],
    after: bool,
    limit: usize,
) -> String {
    let p = |n| placeholder(dialect, n);
    let quoted: Vec<String> = columns.iter().map(|c| quote(c)).collect();
    let keys: Vec<String> = key.iter().map(|c| quote(c)).collect();
    let mut sql = format!("SELECT {} FROM {from} WHERE {scope}", quoted.join(", "));
    if after {
        let marks: Vec<String> = (0..key.len()).map(|i| p(i + 2)).collect();
        sql.push_str(&format!(
            " AND ({}) > ({})",
            keys.join(", "),
            marks.join(", ")
        ));
    }
    sql.push_str(&format!(" ORDER BY {} LIMIT {limit}", keys.join(", ")));
    sql
}

/// Streams every row of one query, page by page, into `emit`.
#[allow(clippy::too_many_arguments)]
async fn copy_pages<F>(
    tx: &mut Tx,
    from: &str,
    columns: &[String],
    kinds: &[ColumnKind],
    scope: &str,
    workspace_id: &str,
    key: &[String],
    decoding: Decoding,
    mut emit: F,
) -> Result<(), StoreError>
where
    F: FnMut(&crate::Row) -> Result<(), StoreError>,
{
    let key_at: Vec<usize> = key
        .iter()
        .map(|k| {
            columns
                .iter()
                .position(|c| c == k)
                .ok_or_else(|| StoreError::Config(format!("key {k} is not a column of {from}")))
        })
        .collect::<Result<_, _>>()?;
    // A file's content may be megabytes: such tables are read a row at a time.
    let limit = if kinds.contains(&ColumnKind::Bytes) {
        1
    } else {
        PAGE
    };
    let mut last: Option<Vec<SqlParam>> = None;
    loop {
        let sql = page_sql(
            tx.dialect(),
            from,
            columns,
            scope,
            key,
            last.is_some(),
            limit,
        );
        let mut params = vec![SqlParam::Text(workspace_id.to_string())];
        if let Some(last) = &last {
            params.extend(last.iter().cloned());
        }
        let rows = match decoding {
            Decoding::Strict => tx.fetch_all(&sql, &params, kinds).await?,
            Decoding::Lenient => tx.fetch_records(&sql, &params, kinds).await?,
        };
        for row in &rows {
            emit(row)?;
        }
        match rows.last() {
            Some(row) if rows.len() == limit => {
                last = Some(
                    key_at
                        .iter()
                        .map(|&i| row.get(i).cloned())
                        .collect::<Result<_, _>>()?,
                );
            }
            _ => return Ok(()),
        }
    }
}

/// The columns of an object's table: system columns, then every field's (archived ones too).
fn record_columns(object: &ObjectDef) -> (Vec<String>, Vec<ColumnKind>) {
    const SYSTEM_KINDS: [ColumnKind; 8] = [T, I, TS, TS, T, T, T, TS];
    let mut names: Vec<String> = SYSTEM_COLUMNS.iter().map(|c| c.to_string()).collect();
    let mut kinds = SYSTEM_KINDS.to_vec();
    for field in &object.fields {
        for column in field_columns(field) {
            names.push(column.name);
            kinds.push(column.kind);
        }
    }
    (names, kinds)
}

fn write_line(out: &mut dyn Write, line: &Value) -> Result<(), StoreError> {
    serde_json::to_writer(&mut *out, line)
        .map_err(|e| StoreError::Config(format!("writing the export: {e}")))?;
    out.write_all(b"\n").map_err(io)
}

/// Writes the workspace as NDJSON to `out`, from one snapshot of the database.
pub async fn export_workspace(
    store: &Store,
    workspace_id: &str,
    out: &mut dyn Write,
) -> Result<Summary, StoreError> {
    let applied = store.db.applied_migration().await?;
    let latest = store.db.latest_migration();
    if applied != latest {
        return Err(StoreError::Config(format!(
            "the database is at migration {applied} and this binary exports the schema of \
             migration {latest}; {}",
            if applied < latest {
                "start this version's server once to upgrade it, or take a file backup"
            } else {
                "use the Rapport version that last upgraded it"
            }
        )));
    }
    let mut tx = store.db.begin_snapshot().await?;
    let dialect = tx.dialect();
    let p1 = placeholder(dialect, 1);
    let mut summary = Summary {
        workspace_id: workspace_id.to_string(),
        ..Summary::default()
    };
    let count = |summary: &mut Summary, kind: &str| {
        *summary.counts.entry(kind.to_string()).or_insert(0) += 1;
    };

    let workspace = tx
        .fetch_optional(
            &format!(
                "SELECT id, name, utc_offset_minutes, created_at FROM workspaces WHERE id = {p1}"
            ),
            &[SqlParam::Text(workspace_id.to_string())],
            &[T, T, I, TS],
        )
        .await?
        .ok_or_else(|| StoreError::not_found("workspace"))?;
    write_line(
        out,
        &json!({
            "type": "header",
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "app_version": env!("CARGO_PKG_VERSION"),
            "migration": applied,
            "backend": match dialect { Dialect::Sqlite => "sqlite", Dialect::Postgres => "postgres" },
            "workspace_id": workspace_id,
            "exported_at": format_datetime(&store.now()),
        }),
    )?;
    count(&mut summary, "header");
    write_line(
        out,
        &json!({
            "type": "workspace",
            "id": workspace.text("id")?,
            "name": workspace.text("name")?,
            "utc_offset_minutes": workspace.int("utc_offset_minutes")?,
            "created_at": format_datetime(&workspace.timestamp("created_at")?),
        }),
    )?;
    count(&mut summary, "workspace");

    // Objects, then their records.
    let objects = tx
        .fetch_all(
            &format!(
                "SELECT definition, created_at, updated_at FROM objects WHERE workspace_id = {p1} \
                 ORDER BY created_at, api_name"
            ),
            &[SqlParam::Text(workspace_id.to_string())],
            &[J, TS, TS],
        )
        .await?;
    let mut definitions = Vec::new();
    for row in &objects {
        let definition: ObjectDef = serde_json::from_value(row.json("definition")?)
            .map_err(|e| StoreError::Corrupt(format!("object definition: {e}")))?;
        write_line(
            out,
            &json!({
                "type": "object",
                "definition": row.json("definition")?,
                "created_at": format_datetime(&row.timestamp("created_at")?),
                "updated_at": format_datetime(&row.timestamp("updated_at")?),
            }),
        )?;
        count(&mut summary, "object");
        definitions.push(definition);
    }
    for object in &definitions {
        let (names, kinds) = record_columns(object);
        let from = quote(&table_name(workspace_id, &object.api_name));
        let kind = format!("record:{}", object.api_name);
        let mut unreadable = 0;
        let mut lines = 0u64;
        copy_pages(
            &mut tx,
            &from,
            &names,
            &kinds,
            // Record tables hold one workspace; the parameter is there for the page query.
            &format!("{p1} = {p1}"),
            workspace_id,
            &["id".to_string()],
            Decoding::Lenient,
            |row| {
                let values = row_values(&names, row, &mut unreadable)?;
                lines += 1;
                write_line(
                    out,
                    &json!({"type": "record", "object": object.api_name, "values": values}),
                )
            },
        )
        .await?;
        summary.unreadable_values += unreadable;
        if lines > 0 {
            *summary.counts.entry(kind).or_insert(0) += lines;
        }
    }

    for t in TABLES {
        let names: Vec<String> = t.columns.iter().map(|(c, _)| c.to_string()).collect();
        let kinds: Vec<ColumnKind> = t.columns.iter().map(|(_, k)| *k).collect();
        let scope = match t.scope {
            Scope::Workspace => format!("workspace_id = {p1}"),
            Scope::Parent { column, parent } => format!(
                "{} IN (SELECT id FROM {parent} WHERE workspace_id = {p1})",
                quote(column)
            ),
        };
        let key: Vec<String> = t.key.iter().map(|k| k.to_string()).collect();
        let mut lines = 0u64;
        let mut unreadable = 0;
        copy_pages(
            &mut tx,
            t.name,
            &names,
            &kinds,
            &scope,
            workspace_id,
            &key,
            Decoding::Strict,
            |row| {
                let values = row_values(&names, row, &mut unreadable)?;
                lines += 1;
                write_line(
                    out,
                    &json!({"type": "row", "table": t.name, "values": values}),
                )
            },
        )
        .await?;
        if lines > 0 {
            summary.counts.insert(t.name.to_string(), lines);
        }
    }
    // The snapshot ends here; nothing was written.
    drop(tx);
    let lines = summary.lines();
    write_line(out, &json!({"type": "end", "lines": lines}))?;
    out.flush().map_err(io)?;
    Ok(summary)
}

/// A problem with the file being restored, with its line number.
fn bad(line: u64, message: impl std::fmt::Display) -> StoreError {
    StoreError::BadRequest {
        code: ErrorCode::InvalidBackup,
        message: format!("line {line}: {message}"),
    }
}

/// A JSON value back as a column value of `kind`.
fn decode(kind: ColumnKind, value: &Value, lenient: bool) -> Result<SqlParam, String> {
    if value.is_null() && kind != J {
        return Ok(SqlParam::NullOf(kind));
    }
    let wrong = || format!("expected a {kind:?} value, found {value}");
    Ok(match kind {
        B => SqlParam::Bool(value.as_bool().ok_or_else(wrong)?),
        I => SqlParam::Int(value.as_i64().ok_or_else(wrong)?),
        ColumnKind::Float => SqlParam::Float(value.as_f64().ok_or_else(wrong)?),
        T => SqlParam::Text(value.as_str().ok_or_else(wrong)?.to_string()),
        J => SqlParam::Json(value.clone()),
        TS => {
            let text = value.as_str().ok_or_else(wrong)?;
            match parse_datetime(text) {
                Some(t) => SqlParam::Timestamp(t),
                // A record value the source could not read either: kept as it was.
                None if lenient => SqlParam::Text(text.to_string()),
                None => return Err(wrong()),
            }
        }
        ColumnKind::Bytes => SqlParam::Bytes(
            BASE64
                .decode(value.as_str().ok_or_else(wrong)?)
                .map_err(|_| wrong())?,
        ),
    })
}

/// Rows waiting to be inserted together.
struct Batch {
    table: String,
    /// Where the batch goes, for messages.
    what: String,
    columns: Vec<String>,
    rows: Vec<Vec<SqlParam>>,
    first_line: u64,
}

/// Reads an export into the database in one transaction.
struct Importer<'a> {
    store: &'a Store,
    tx: Tx,
    line: u64,
    workspace_id: Option<String>,
    header_seen: bool,
    objects: HashMap<String, (Vec<String>, Vec<ColumnKind>)>,
    /// Ids of parent rows restored so far, for `Scope::Parent` tables.
    parents: HashMap<&'static str, HashSet<String>>,
    batch: Option<Batch>,
    summary: Summary,
}

impl Importer<'_> {
    fn workspace(&self) -> Result<&str, StoreError> {
        self.workspace_id
            .as_deref()
            .ok_or_else(|| bad(self.line, "the workspace line must come before this"))
    }

    async fn flush(&mut self) -> Result<(), StoreError> {
        let Some(batch) = self.batch.take() else {
            return Ok(());
        };
        let dialect = self.tx.dialect();
        let width = batch.columns.len();
        let mut sql = format!(
            "INSERT INTO {} ({}) VALUES ",
            quote(&batch.table),
            batch
                .columns
                .iter()
                .map(|c| quote(c))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut params = Vec::with_capacity(width * batch.rows.len());
        for (r, row) in batch.rows.into_iter().enumerate() {
            if r > 0 {
                sql.push_str(", ");
            }
            let marks: Vec<String> = (0..width)
                .map(|c| placeholder(dialect, r * width + c + 1))
                .collect();
            sql.push_str(&format!("({})", marks.join(", ")));
            params.extend(row);
        }
        self.tx.execute(&sql, &params).await.map_err(|e| {
            let reason = match e.unique_violation() {
                Some(_) => format!(
                    "{e}: the target database already holds some of this workspace's data \
                     (the same users, write keys or ids); restore into a fresh database"
                ),
                None => e.to_string(),
            };
            bad(
                batch.first_line,
                format!("{} could not be restored: {reason}", batch.what),
            )
        })?;
        Ok(())
    }

    async fn add_row(
        &mut self,
        table: &str,
        what: String,
        columns: Vec<String>,
        row: Vec<SqlParam>,
    ) -> Result<(), StoreError> {
        let fits = self.batch.as_ref().is_some_and(|b| {
            b.table == table
                && b.columns == columns
                && (b.rows.len() + 1) * columns.len() <= 30_000
                && b.rows.len() < 500
        });
        if !fits {
            self.flush().await?;
            self.batch = Some(Batch {
                table: table.to_string(),
                what,
                columns,
                rows: Vec::new(),
                first_line: self.line,
            });
        }
        if let Some(batch) = self.batch.as_mut() {
            batch.rows.push(row);
        }
        Ok(())
    }

    async fn take(&mut self, line: &str) -> Result<bool, StoreError> {
        let value: Value = serde_json::from_str(line)
            .map_err(|e| bad(self.line, format!("not a JSON object: {e}")))?;
        let kind = value["type"]
            .as_str()
            .ok_or_else(|| bad(self.line, "no \"type\""))?
            .to_string();
        if !self.header_seen && kind != "header" {
            return Err(bad(
                self.line,
                "not a Rapport workspace export (it must start with its header line)",
            ));
        }
        match kind.as_str() {
            "header" => self.header(&value)?,
            "workspace" => self.workspace_line(&value).await?,
            "object" => self.object(&value).await?,
            "record" => self.record(&value).await?,
            "row" => self.row(&value).await?,
            "end" => {
                let expected = value["lines"].as_u64();
                let read = self.line - 1;
                if expected != Some(read) {
                    return Err(bad(
                        self.line,
                        format!("the end line counts {expected:?} lines but {read} came before it"),
                    ));
                }
                return Ok(true);
            }
            other => return Err(bad(self.line, format!("unknown line type {other:?}"))),
        }
        // The line's handler above refused a record without its object or a row without its
        // table, so these names are present.
        let counted = match kind.as_str() {
            "record" => format!("record:{}", value["object"].as_str().unwrap_or_default()),
            "row" => value["table"].as_str().unwrap_or_default().to_string(),
            _ => kind,
        };
        *self.summary.counts.entry(counted).or_insert(0) += 1;
        Ok(false)
    }

    fn header(&mut self, value: &Value) -> Result<(), StoreError> {
        if self.header_seen {
            return Err(bad(self.line, "a second header"));
        }
        if value["format"] != json!(FORMAT) {
            return Err(bad(self.line, "not a Rapport workspace export"));
        }
        let version = value["format_version"]
            .as_i64()
            .ok_or_else(|| bad(self.line, "the header has no format_version"))?;
        if version != FORMAT_VERSION {
            return Err(bad(
                self.line,
                format!(
                    "export format version {version}; this Rapport ({}) reads version {FORMAT_VERSION}",
                    env!("CARGO_PKG_VERSION")
                ),
            ));
        }
        let migration = value["migration"]
            .as_i64()
            .ok_or_else(|| bad(self.line, "the header has no migration"))?;
        let latest = self.store.db.latest_migration();
        if migration > latest {
            return Err(bad(
                self.line,
                format!(
                    "the export comes from a newer Rapport ({}, migration {migration}); this one \
                     knows migrations up to {latest}",
                    value["app_version"].as_str().unwrap_or("?")
                ),
            ));
        }
        self.header_seen = true;
        Ok(())
    }

    async fn workspace_line(&mut self, value: &Value) -> Result<(), StoreError> {
        if self.workspace_id.is_some() {
            return Err(bad(self.line, "a second workspace"));
        }
        let id = value["id"]
            .as_str()
            .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()))
            .ok_or_else(|| bad(self.line, "the workspace has no valid id"))?
            .to_string();
        let name = value["name"]
            .as_str()
            .ok_or_else(|| bad(self.line, "the workspace has no name"))?;
        let offset = value["utc_offset_minutes"]
            .as_i64()
            .ok_or_else(|| bad(self.line, "the workspace has no UTC offset"))?;
        let created_at = value["created_at"]
            .as_str()
            .and_then(parse_datetime)
            .ok_or_else(|| bad(self.line, "the workspace has no creation time"))?;
        let dialect = self.tx.dialect();
        let p = |n| placeholder(dialect, n);
        let exists = self
            .tx
            .fetch_optional(
                &format!("SELECT id FROM workspaces WHERE id = {}", p(1)),
                &[SqlParam::Text(id.clone())],
                &[T],
            )
            .await?
            .is_some();
        if exists {
            return Err(StoreError::conflict(
                ErrorCode::WorkspaceExists,
                format!(
                    "workspace {id} already exists in this database; restore into a fresh \
                     database (nothing was changed)"
                ),
            ));
        }
        let sql = format!(
            "INSERT INTO workspaces (id, name, utc_offset_minutes, created_at) VALUES ({}, {}, {}, {})",
            p(1),
            p(2),
            p(3),
            p(4)
        );
        self.tx
            .execute(
                &sql,
                &[
                    SqlParam::Text(id.clone()),
                    SqlParam::Text(name.to_string()),
                    SqlParam::Int(offset),
                    SqlParam::Timestamp(created_at),
                ],
            )
            .await?;
        self.summary.workspace_id = id.clone();
        self.workspace_id = Some(id);
        Ok(())
    }

    async fn object(&mut self, value: &Value) -> Result<(), StoreError> {
        self.flush().await?;
        let workspace_id = self.workspace()?.to_string();
        let definition: ObjectDef = serde_json::from_value(value["definition"].clone())
            .map_err(|e| bad(self.line, format!("object definition: {e}")))?;
        let time = |name: &str| {
            value[name]
                .as_str()
                .and_then(parse_datetime)
                .ok_or_else(|| bad(self.line, format!("the object has no {name}")))
        };
        let (created_at, updated_at) = (time("created_at")?, time("updated_at")?);
        if self.objects.contains_key(&definition.api_name) {
            return Err(bad(
                self.line,
                format!("object {} appears twice", definition.api_name),
            ));
        }
        let line = self.line;
        self.store
            .restore_object_tx(
                &mut self.tx,
                &workspace_id,
                &definition,
                created_at,
                updated_at,
            )
            .await
            .map_err(|e| bad(line, format!("object {}: {e}", definition.api_name)))?;
        self.objects
            .insert(definition.api_name.clone(), record_columns(&definition));
        Ok(())
    }

    async fn record(&mut self, value: &Value) -> Result<(), StoreError> {
        let workspace_id = self.workspace()?.to_string();
        let object = value["object"]
            .as_str()
            .ok_or_else(|| bad(self.line, "a record without its object"))?;
        let (names, kinds) = self
            .objects
            .get(object)
            .ok_or_else(|| bad(self.line, format!("a record of unknown object {object:?}")))?
            .clone();
        let row = self.values(value, &names, &kinds, true)?;
        let what = format!("a record of {object}");
        self.add_row(&table_name(&workspace_id, object), what, names, row)
            .await
    }

    async fn row(&mut self, value: &Value) -> Result<(), StoreError> {
        let workspace_id = self.workspace()?.to_string();
        // A missing table name is refused just below as an unknown table.
        let name = value["table"].as_str().unwrap_or_default();
        if RETIRED.contains(&name) {
            return Ok(());
        }
        let t =
            table_named(name).ok_or_else(|| bad(self.line, format!("unknown table {name:?}")))?;
        let all: Vec<String> = t.columns.iter().map(|(c, _)| c.to_string()).collect();
        let kinds: Vec<ColumnKind> = t.columns.iter().map(|(_, k)| *k).collect();
        let mut row = self.values(value, &all, &kinds, false)?;
        // The row must belong to the workspace being restored.
        let belongs = match t.scope {
            Scope::Workspace => {
                let at = all.iter().position(|c| c == "workspace_id");
                matches!(at.map(|i| &row[i]), Some(SqlParam::Text(w)) if w == &workspace_id)
            }
            Scope::Parent { column, parent } => {
                let at = all.iter().position(|c| c == column);
                match at.map(|i| &row[i]) {
                    Some(SqlParam::Text(id)) => {
                        self.parents.get(parent).is_some_and(|ids| ids.contains(id))
                    }
                    _ => false,
                }
            }
        };
        if !belongs {
            return Err(bad(
                self.line,
                format!("a row of {name} that belongs to another workspace"),
            ));
        }
        if TABLES
            .iter()
            .any(|c| matches!(c.scope, Scope::Parent { parent, .. } if parent == t.name))
        {
            if let Some(SqlParam::Text(id)) = all.iter().position(|c| c == "id").map(|i| &row[i]) {
                self.parents.entry(t.name).or_default().insert(id.clone());
            }
        }
        let mut columns = all;
        if let Some(renumbered) = t.renumbered {
            if let Some(i) = columns.iter().position(|c| c == renumbered) {
                columns.remove(i);
                row.remove(i);
            }
        }
        self.add_row(t.name, format!("a row of {name}"), columns, row)
            .await
    }

    /// The line's `values` in `names` order; absent columns are NULL, unknown ones an error.
    fn values(
        &self,
        value: &Value,
        names: &[String],
        kinds: &[ColumnKind],
        lenient: bool,
    ) -> Result<Vec<SqlParam>, StoreError> {
        let values = value["values"]
            .as_object()
            .ok_or_else(|| bad(self.line, "no \"values\" object"))?;
        if let Some(unknown) = values.keys().find(|k| !names.contains(k)) {
            return Err(bad(
                self.line,
                format!("unknown column {unknown:?} (an export of another schema?)"),
            ));
        }
        names
            .iter()
            .zip(kinds)
            .map(|(name, kind)| match values.get(name) {
                None => Ok(SqlParam::NullOf(*kind)),
                Some(v) => decode(*kind, v, lenient)
                    .map_err(|e| bad(self.line, format!("column {name}: {e}"))),
            })
            .collect()
    }

    /// Segment state derived from the events is rebuilt by the workers (as migration 0005
    /// does): counters refilled from the restored events, live segments evaluated again.
    async fn finish(mut self) -> Result<Summary, StoreError> {
        self.flush().await?;
        let workspace_id = self.workspace()?.to_string();
        let dialect = self.tx.dialect();
        let p1 = placeholder(dialect, 1);
        let no = match dialect {
            Dialect::Sqlite => "0",
            Dialect::Postgres => "FALSE",
        };
        let ws = [SqlParam::Text(workspace_id.clone())];
        self.tx
            .execute(
                &format!(
                    "UPDATE cdp_behavior_keys SET ready = {no}, filled_to = '', \
                     cutoff_seq = (SELECT COALESCE(MAX(seq), 0) FROM cdp_events) \
                     WHERE workspace_id = {p1}"
                ),
                &ws,
            )
            .await?;
        self.tx
            .execute(
                &format!(
                    "UPDATE cdp_segments SET state = 'building', build_leased_until = 0 \
                     WHERE workspace_id = {p1} AND state = 'live' AND archived_at IS NULL"
                ),
                &ws,
            )
            .await?;
        // Every node reloads the schema.
        self.tx
            .execute(
                &format!(
                    "UPDATE workspaces SET metadata_version = metadata_version + 1 WHERE id = {p1}"
                ),
                &ws,
            )
            .await?;
        // The restored schema must read back as the store reads it.
        load_schema_tx(&mut self.tx, &workspace_id).await?;
        self.tx.commit().await?;
        Ok(self.summary)
    }
}

/// Reads an export (see the module documentation) into the store's database, in one
/// transaction: on any error nothing is changed.
pub async fn import_workspace(
    store: &Store,
    input: &mut dyn BufRead,
) -> Result<Summary, StoreError> {
    let applied = store.db.applied_migration().await?;
    if applied != store.db.latest_migration() {
        return Err(StoreError::Config(
            "the target database is not migrated to this version".into(),
        ));
    }
    let mut importer = Importer {
        store,
        tx: store.db.begin().await?,
        line: 0,
        workspace_id: None,
        header_seen: false,
        objects: HashMap::new(),
        parents: HashMap::new(),
        batch: None,
        summary: Summary::default(),
    };
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        let read = (&mut *input)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buffer)
            .map_err(|e| StoreError::Config(format!("reading the backup: {e}")))?;
        importer.line += 1;
        if read == 0 {
            return Err(bad(
                importer.line,
                "the file ends before its end line (cut off?); nothing was restored",
            ));
        }
        if buffer.len() > MAX_LINE {
            return Err(bad(importer.line, "line too long"));
        }
        let text = std::str::from_utf8(&buffer)
            .map_err(|_| bad(importer.line, "not UTF-8 text"))?
            .trim_end();
        if importer.take(text).await? {
            break;
        }
    }
    // Nothing may follow the end line.
    buffer.clear();
    let more = input
        .read_until(b'\n', &mut buffer)
        .map_err(|e| StoreError::Config(format!("reading the backup: {e}")))?;
    if more > 0 && !buffer.iter().all(u8::is_ascii_whitespace) {
        return Err(bad(importer.line + 1, "data after the end line"));
    }
    importer.finish().await
}

/// The store of an existing database, not migrated: a backup copies what is there, so one
/// taken before an upgrade holds the old schema. A missing SQLite file is an error, not a new
/// database.
pub async fn open_existing(
    database_url: Option<&str>,
    data_dir: &Path,
) -> Result<Store, StoreError> {
    let db = match database_url {
        Some(url) => crate::Db::open_postgres(url).await?,
        None => {
            let file = data_dir.join("rapport.db");
            if !file.exists() {
                return Err(StoreError::Config(format!(
                    "no database at {} (wrong --data-dir?)",
                    file.display()
                )));
            }
            crate::Db::open_sqlite(data_dir).await?
        }
    };
    Ok(Store::new(
        db,
        std::sync::Arc::new(rapport_core::SystemClock),
    ))
}

/// The newest SQLite migration this binary knows.
pub fn latest_sqlite_migration() -> i64 {
    crate::Db::latest_migration_for(Dialect::Sqlite)
}

/// What a SQLite database file holds, as far as a restore needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqliteFile {
    /// The newest migration applied to it.
    pub migration: i64,
    pub has_workspace: bool,
}

/// Opens a SQLite file read-only, checks it (`quick_check`) and says what it holds; `None` when
/// it is a SQLite database but not Rapport's.
pub async fn inspect_sqlite_file(path: &Path) -> Result<Option<SqliteFile>, StoreError> {
    use sqlx::sqlite::SqliteConnectOptions;
    use sqlx::{ConnectOptions, Connection, Row as _};
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .busy_timeout(Duration::from_secs(5))
        .connect()
        .await?;
    let check: String = sqlx::query_scalar("PRAGMA quick_check")
        .fetch_one(&mut conn)
        .await?;
    if check != "ok" {
        return Err(StoreError::Corrupt(format!(
            "{} is damaged: {check}",
            path.display()
        )));
    }
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
            .fetch_all(&mut conn)
            .await?;
    if !tables.iter().any(|t| t == "_sqlx_migrations") || !tables.iter().any(|t| t == "workspaces")
    {
        conn.close().await?;
        return Ok(None);
    }
    let row = sqlx::query(
        "SELECT COALESCE(MAX(version), 0), COUNT(*) FILTER (WHERE NOT success) FROM _sqlx_migrations",
    )
    .fetch_one(&mut conn)
    .await?;
    let (migration, failed): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
    if failed > 0 {
        return Err(StoreError::Corrupt(format!(
            "{}: a migration failed half-way in it",
            path.display()
        )));
    }
    let workspaces: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM workspaces")
        .fetch_one(&mut conn)
        .await?;
    conn.close().await?;
    Ok(Some(SqliteFile {
        migration,
        has_workspace: workspaces > 0,
    }))
}

/// Fails when another process (a running server) has the SQLite file open; otherwise folds its
/// WAL into the file, so the file can be moved whole.
pub async fn claim_sqlite_file(path: &Path) -> Result<(), StoreError> {
    use sqlx::sqlite::SqliteConnectOptions;
    use sqlx::{ConnectOptions, Connection};
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .pragma("locking_mode", "EXCLUSIVE")
        .busy_timeout(Duration::from_millis(200))
        .connect()
        .await?;
    if sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut conn)
        .await
        .is_err()
    {
        return Err(StoreError::Config(format!(
            "{} is in use (is `rapport serve` running on this data dir?); stop it first",
            path.display()
        )));
    }
    sqlx::query("COMMIT").execute(&mut conn).await?;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}
