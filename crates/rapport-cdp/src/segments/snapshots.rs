//! Snapshots (场景化快照): a segment's members frozen at one moment, with the definition version
//! that selected them and each customer's contact id, user id, email and phone as they were
//! then. Taking one copies the membership in one transaction with `INSERT … SELECT`, so the
//! members never pass through this process; a snapshot is never changed or deleted afterwards.
//!
//! A snapshot can be paged, exported as CSV (chunk by chunk), compared with another snapshot
//! of the same segment, and cut into push batches of 1,000 members (`push_batches`), which
//! the integration hub sends to a webhook endpoint as `segment.snapshot` messages — signed,
//! retried and logged like every message (one signing and delivery mechanism).
//!
//! This module reads the segment tables; it never writes current membership.

use crate::error::CdpError;
use crate::time_of_ms;
use chrono::{DateTime, SecondsFormat, Utc};
use rapport_core::codes::ErrorCode;
use rapport_core::spreadsheet::{Cell, CsvRows};
use rapport_core::sql::{ColumnKind, Dialect, SqlParam};
use rapport_store::{Row, Store, StoreError};
use serde::Serialize;
use serde_json::{json, Value as Json};
use utoipa::ToSchema;

/// Members per pushed message.
pub const PUSH_BATCH: i64 = 1_000;
pub const MAX_NAME_CHARS: usize = 200;
/// The CSV header row (without line break).
pub const CSV_HEADER: &str = "profile_id,contact_id,user_id,email,phone,entered_at";
/// Rows read from the database per CSV chunk.
const CSV_CHUNK_ROWS: i64 = 5_000;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Snapshot {
    pub id: String,
    pub segment_id: String,
    /// The segment's name today (it may have been renamed since).
    pub segment_name: Option<String>,
    pub name: String,
    /// The segment definition's version when the snapshot was taken.
    pub version: i64,
    /// The segment's condition at that version.
    #[schema(value_type = Object)]
    pub condition: Json,
    pub taken_at: DateTime<Utc>,
    pub member_count: i64,
    pub created_by: Option<String>,
}

/// A frozen member: the customer (root profile) and its identifiers when the snapshot was taken
/// (for each type, the one the cluster saw first).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SnapshotMember {
    pub profile_id: String,
    pub contact_id: Option<String>,
    pub user_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// When the customer entered the segment.
    pub entered_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SnapshotPage {
    pub items: Vec<SnapshotMember>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// How snapshot `b` differs from snapshot `a`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Diff {
    /// Members of `b` that are not in `a`.
    pub joined: i64,
    /// Members of `a` that are not in `b`.
    pub left: i64,
    /// The first joined members by profile id.
    pub joined_sample: Vec<SnapshotMember>,
    /// The first departed members by profile id.
    pub left_sample: Vec<SnapshotMember>,
}

/// A push as queued: one message per batch.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PushReport {
    pub endpoint_id: String,
    /// The messages' ids (each receiver request's `webhook-id`), in batch order.
    pub messages: Vec<String>,
    /// Members queued.
    pub members: i64,
    /// Batches (messages) of up to 1,000 members.
    pub batches: u32,
}

fn ph(store: &Store, n: usize) -> String {
    store.ph(n)
}

fn text(value: &str) -> SqlParam {
    SqlParam::Text(value.to_string())
}

/// `g.name` and `s.name` share a name: the segment's is read as `segment_name`.
const SNAPSHOT_COLUMNS: &str = "s.id, s.segment_id, g.name AS segment_name, s.name, s.version, \
     s.definition, s.taken_at, s.member_count, s.created_by";
const SNAPSHOT_KINDS: [ColumnKind; 9] = [
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Int,
    ColumnKind::Text,
    ColumnKind::Int,
    ColumnKind::Int,
    ColumnKind::Text,
];

fn decode_snapshot(row: &Row) -> Result<Snapshot, StoreError> {
    Ok(Snapshot {
        id: row.text("id")?,
        segment_id: row.text("segment_id")?,
        // NULL when the segment row is gone (LEFT JOIN).
        segment_name: row.opt_text("segment_name")?,
        name: row.text("name")?,
        version: row.int("version")?,
        condition: definition_json(&row.text("definition")?),
        taken_at: row.millis("taken_at")?,
        member_count: row.int("member_count")?,
        created_by: row.opt_text("created_by")?,
    })
}

/// A stored definition as JSON (kept as text when it is not JSON).
fn definition_json(definition: &str) -> Json {
    serde_json::from_str(definition).unwrap_or_else(|_| Json::String(definition.to_string()))
}

const MEMBER_COLUMNS: &str =
    "x.profile_id, x.contact_id, x.user_id, x.email, x.phone, x.entered_at";
const MEMBER_KINDS: [ColumnKind; 6] = [
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Int,
];

fn decode_member(row: &Row) -> Result<SnapshotMember, StoreError> {
    Ok(SnapshotMember {
        profile_id: row.text("profile_id")?,
        contact_id: row.opt_text("contact_id")?,
        user_id: row.opt_text("user_id")?,
        email: row.opt_text("email")?,
        phone: row.opt_text("phone")?,
        entered_at: row.millis("entered_at")?,
    })
}

fn valid_name(name: &str) -> Result<String, CdpError> {
    let trimmed = name.trim();
    let chars = trimmed.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS {
        return Err(CdpError::invalid(
            ErrorCode::InvalidName,
            format!("a snapshot's name has 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(trimmed.to_string())
}

/// Freezes the segment's current members. The segment must be live (evaluated) and not
/// archived.
pub async fn take(
    store: &Store,
    workspace_id: &str,
    segment_id: &str,
    name: &str,
    created_by: Option<&str>,
) -> Result<Snapshot, CdpError> {
    let name = valid_name(name)?;
    let mut tx = store.db.begin().await?;
    if tx.dialect() == Dialect::Postgres {
        // One view of the database for every statement: the version read below and the members
        // copied after it belong together even while the engine changes membership. The
        // transaction only inserts rows, so it cannot fail to serialise.
        tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", &[])
            .await?;
    }
    let segment = tx
        .fetch_optional(
            &format!(
                "SELECT name, version, definition, state, archived_at FROM cdp_segments \
                 WHERE id = {} AND workspace_id = {}",
                ph(store, 1),
                ph(store, 2)
            ),
            &[text(segment_id), text(workspace_id)],
            &[
                ColumnKind::Text,
                ColumnKind::Int,
                ColumnKind::Text,
                ColumnKind::Text,
                ColumnKind::Int,
            ],
        )
        .await?
        .ok_or(CdpError::NotFound { what: "segment" })?;
    if segment.opt_int("archived_at")?.is_some() {
        return Err(CdpError::Conflict {
            code: ErrorCode::SegmentArchived,
            message: "the segment is archived; restore it before taking a snapshot".into(),
        });
    }
    let state = segment.text("state")?;
    if state != "live" {
        return Err(CdpError::Conflict {
            code: ErrorCode::SegmentNotReady,
            message: format!(
                "the segment is {state}; a snapshot can be taken once it is live (evaluated)"
            ),
        });
    }
    let id = uuid::Uuid::now_v7().to_string();
    let taken_at = store.now().timestamp_millis();
    // Each member's identifiers come from its whole identity cluster (the root and every profile
    // merged into it): per type, the one first seen. The contact is the root's, else a member's.
    let copied = tx
        .execute(
            &format!(
                "WITH RECURSIVE cluster(root, id) AS ( \
                     SELECT profile_id, profile_id FROM cdp_segment_members WHERE segment_id = {seg} \
                     UNION \
                     SELECT c.root, p.id FROM cluster c JOIN cdp_profiles p ON p.merged_into = c.id \
                 ), \
                 ranked AS ( \
                     SELECT c.root AS root, i.id_type AS id_type, i.id_value AS id_value, \
                            ROW_NUMBER() OVER (PARTITION BY c.root, i.id_type \
                                               ORDER BY i.first_seen, i.id_value) AS n \
                     FROM cluster c JOIN cdp_identities i ON i.profile_id = c.id \
                     WHERE i.workspace_id = {ws} AND i.id_type IN ('user_id', 'email', 'phone') \
                 ), \
                 ids AS ( \
                     SELECT root, \
                            MAX(CASE WHEN id_type = 'user_id' THEN id_value END) AS user_id, \
                            MAX(CASE WHEN id_type = 'email' THEN id_value END) AS email, \
                            MAX(CASE WHEN id_type = 'phone' THEN id_value END) AS phone \
                     FROM ranked WHERE n = 1 GROUP BY root \
                 ), \
                 contacts AS ( \
                     SELECT c.root AS root, p.contact_id AS contact_id, \
                            ROW_NUMBER() OVER (PARTITION BY c.root \
                                               ORDER BY CASE WHEN p.id = c.root THEN 0 ELSE 1 END, \
                                                        p.first_seen, p.id) AS n \
                     FROM cluster c JOIN cdp_profiles p ON p.id = c.id \
                     WHERE p.contact_id IS NOT NULL \
                 ) \
                 INSERT INTO cdp_snapshot_members \
                     (snapshot_id, profile_id, contact_id, user_id, email, phone, entered_at) \
                 SELECT {snap}, m.profile_id, k.contact_id, d.user_id, d.email, d.phone, m.entered_at \
                 FROM cdp_segment_members m \
                 LEFT JOIN ids d ON d.root = m.profile_id \
                 LEFT JOIN contacts k ON k.root = m.profile_id AND k.n = 1 \
                 WHERE m.segment_id = {seg}",
                snap = ph(store, 1),
                seg = ph(store, 2),
                ws = ph(store, 3),
            ),
            &[text(&id), text(segment_id), text(workspace_id)],
        )
        .await?;
    let member_count = i64::try_from(copied).unwrap_or(i64::MAX);
    let version = segment.int("version")?;
    let definition = segment.text("definition")?;
    tx.execute(
        &format!(
            "INSERT INTO cdp_snapshots (id, workspace_id, segment_id, name, version, definition, \
             taken_at, member_count, created_by) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {})",
            ph(store, 1),
            ph(store, 2),
            ph(store, 3),
            ph(store, 4),
            ph(store, 5),
            ph(store, 6),
            ph(store, 7),
            ph(store, 8),
            ph(store, 9)
        ),
        &[
            text(&id),
            text(workspace_id),
            text(segment_id),
            text(&name),
            SqlParam::Int(version),
            text(&definition),
            SqlParam::Int(taken_at),
            SqlParam::Int(member_count),
            created_by.map_or(SqlParam::NullOf(ColumnKind::Text), text),
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(Snapshot {
        id,
        segment_id: segment_id.to_string(),
        segment_name: segment.opt_text("name")?,
        name,
        version,
        condition: definition_json(&definition),
        taken_at: time_of_ms(taken_at)?,
        member_count,
        created_by: created_by.map(str::to_string),
    })
}

/// The snapshots of a segment (archived ones included), newest first.
pub async fn list(
    store: &Store,
    workspace_id: &str,
    segment_id: &str,
) -> Result<Vec<Snapshot>, CdpError> {
    store
        .db
        .fetch_optional(
            &format!(
                "SELECT id FROM cdp_segments WHERE id = {} AND workspace_id = {}",
                ph(store, 1),
                ph(store, 2)
            ),
            &[text(segment_id), text(workspace_id)],
            &[ColumnKind::Text],
        )
        .await?
        .ok_or(CdpError::NotFound { what: "segment" })?;
    let rows = store
        .db
        .fetch_all(
            &format!(
                "SELECT {SNAPSHOT_COLUMNS} FROM cdp_snapshots s \
                 LEFT JOIN cdp_segments g ON g.id = s.segment_id \
                 WHERE s.workspace_id = {} AND s.segment_id = {} \
                 ORDER BY s.taken_at DESC, s.id DESC",
                ph(store, 1),
                ph(store, 2)
            ),
            &[text(workspace_id), text(segment_id)],
            &SNAPSHOT_KINDS,
        )
        .await?;
    Ok(rows.iter().map(decode_snapshot).collect::<Result<_, _>>()?)
}

pub async fn get(
    store: &Store,
    workspace_id: &str,
    snapshot_id: &str,
) -> Result<Snapshot, CdpError> {
    let row = store
        .db
        .fetch_optional(
            &format!(
                "SELECT {SNAPSHOT_COLUMNS} FROM cdp_snapshots s \
                 LEFT JOIN cdp_segments g ON g.id = s.segment_id \
                 WHERE s.workspace_id = {} AND s.id = {}",
                ph(store, 1),
                ph(store, 2)
            ),
            &[text(workspace_id), text(snapshot_id)],
            &SNAPSHOT_KINDS,
        )
        .await?
        .ok_or(CdpError::NotFound { what: "snapshot" })?;
    Ok(decode_snapshot(&row)?)
}

/// Up to `limit` members after profile id `after`, in profile id order. The caller has checked
/// that the snapshot belongs to the workspace.
async fn member_rows(
    store: &Store,
    snapshot_id: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<SnapshotMember>, CdpError> {
    let mut params = vec![text(snapshot_id)];
    let mut cond = String::new();
    if let Some(after) = after {
        params.push(text(after));
        cond = format!(" AND x.profile_id > {}", ph(store, 2));
    }
    let rows = store
        .db
        .fetch_all(
            &format!(
                "SELECT {MEMBER_COLUMNS} FROM cdp_snapshot_members x \
                 WHERE x.snapshot_id = {}{cond} ORDER BY x.profile_id LIMIT {limit}",
                ph(store, 1)
            ),
            &params,
            &MEMBER_KINDS,
        )
        .await?;
    Ok(rows.iter().map(decode_member).collect::<Result<_, _>>()?)
}

/// A page of the frozen members in profile id order: `limit` 1–1000 (default 100), `cursor`
/// the previous page's `next_cursor`.
pub async fn members(
    store: &Store,
    workspace_id: &str,
    snapshot_id: &str,
    limit: Option<i64>,
    cursor: Option<&str>,
) -> Result<SnapshotPage, CdpError> {
    get(store, workspace_id, snapshot_id).await?;
    let limit = limit.unwrap_or(100).clamp(1, 1_000);
    let mut items = member_rows(store, snapshot_id, cursor, limit + 1).await?;
    let more = i64::try_from(items.len()).unwrap_or(i64::MAX) > limit;
    items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = if more {
        items.last().map(|m| m.profile_id.clone())
    } else {
        None
    };
    Ok(SnapshotPage { items, next_cursor })
}

fn csv_row(member: &SnapshotMember, rows: &mut CsvRows) -> Result<(), CdpError> {
    let entered_at = member
        .entered_at
        .to_rfc3339_opts(SecondsFormat::Millis, true);
    rows.row([
        Cell::Value(&member.profile_id),
        Cell::Value(member.contact_id.as_deref().unwrap_or("")),
        Cell::Text(member.user_id.as_deref().unwrap_or("")),
        Cell::Text(member.email.as_deref().unwrap_or("")),
        Cell::Text(member.phone.as_deref().unwrap_or("")),
        Cell::Value(&entered_at),
    ])
    .map_err(|e| CdpError::Internal(e.to_string()))
}

/// A snapshot's members as CSV, produced chunk by chunk (the header, then a few thousand rows
/// at a time) so an export of a million members never sits in memory whole. Lines end with
/// CRLF (RFC 4180); there is no byte-order mark (the HTTP layer adds one for Excel).
pub struct CsvExport {
    store: Store,
    snapshot_id: String,
    after: Option<String>,
    header_sent: bool,
    done: bool,
}

impl CsvExport {
    /// The next piece of the file, or None at the end.
    pub async fn next_chunk(&mut self) -> Result<Option<String>, CdpError> {
        if self.done {
            return Ok(None);
        }
        if !self.header_sent {
            self.header_sent = true;
            return Ok(Some(format!("{CSV_HEADER}\r\n")));
        }
        let rows = match member_rows(
            &self.store,
            &self.snapshot_id,
            self.after.as_deref(),
            CSV_CHUNK_ROWS,
        )
        .await
        {
            Ok(rows) => rows,
            Err(e) => {
                self.done = true;
                return Err(e);
            }
        };
        if i64::try_from(rows.len()).unwrap_or(0) < CSV_CHUNK_ROWS {
            self.done = true;
        }
        if rows.is_empty() {
            return Ok(None);
        }
        let mut out = CsvRows::default();
        for member in &rows {
            csv_row(member, &mut out)?;
        }
        self.after = rows.last().map(|m| m.profile_id.clone());
        Ok(Some(
            out.take().map_err(|e| CdpError::Internal(e.to_string()))?,
        ))
    }
}

/// Starts a CSV export of a snapshot of the workspace (NotFound before any byte is produced).
pub async fn csv_export(
    store: &Store,
    workspace_id: &str,
    snapshot_id: &str,
) -> Result<CsvExport, CdpError> {
    get(store, workspace_id, snapshot_id).await?;
    Ok(CsvExport {
        store: store.clone(),
        snapshot_id: snapshot_id.to_string(),
        after: None,
        header_sent: false,
        done: false,
    })
}

/// The whole CSV in memory (small snapshots, tests); see `csv_export` for streaming.
pub async fn csv(store: &Store, workspace_id: &str, snapshot_id: &str) -> Result<String, CdpError> {
    let mut export = csv_export(store, workspace_id, snapshot_id).await?;
    let mut out = String::new();
    while let Some(chunk) = export.next_chunk().await? {
        out.push_str(&chunk);
    }
    Ok(out)
}

/// Members of snapshot `from` missing from snapshot `other`: how many, and the first `limit`.
async fn difference(
    store: &Store,
    from: &str,
    other: &str,
    limit: i64,
) -> Result<(i64, Vec<SnapshotMember>), CdpError> {
    let missing = format!(
        "FROM cdp_snapshot_members x WHERE x.snapshot_id = {} AND NOT EXISTS \
         (SELECT 1 FROM cdp_snapshot_members y WHERE y.snapshot_id = {} AND y.profile_id = x.profile_id)",
        ph(store, 1),
        ph(store, 2)
    );
    let params = [text(from), text(other)];
    let count = store
        .db
        .fetch_optional(
            &format!("SELECT COUNT(*) {missing}"),
            &params,
            &[ColumnKind::Int],
        )
        .await?
        .map(|r| r.int(0))
        .transpose()?
        // COUNT(*) always answers one row; none would mean no member missing.
        .unwrap_or(0);
    let sample = if limit > 0 && count > 0 {
        store
            .db
            .fetch_all(
                &format!("SELECT {MEMBER_COLUMNS} {missing} ORDER BY x.profile_id LIMIT {limit}"),
                &params,
                &MEMBER_KINDS,
            )
            .await?
            .iter()
            .map(decode_member)
            .collect::<Result<_, _>>()?
    } else {
        Vec::new()
    };
    Ok((count, sample))
}

/// How snapshot `b` differs from snapshot `a` (both of one segment of the workspace):
/// `joined` are in `b` only, `left` in `a` only; samples hold up to `limit` (0–1000, default
/// 100) of each, in profile id order.
pub async fn diff(
    store: &Store,
    workspace_id: &str,
    a: &str,
    b: &str,
    limit: Option<i64>,
) -> Result<Diff, CdpError> {
    let first = get(store, workspace_id, a).await?;
    let second = get(store, workspace_id, b).await?;
    if first.segment_id != second.segment_id {
        return Err(CdpError::invalid(
            ErrorCode::DifferentSegments,
            "only snapshots of the same segment can be compared",
        ));
    }
    let limit = limit.unwrap_or(100).clamp(0, 1_000);
    let (joined, joined_sample) = difference(store, b, a, limit).await?;
    let (left, left_sample) = difference(store, a, b, limit).await?;
    Ok(Diff {
        joined,
        left,
        joined_sample,
        left_sample,
    })
}

// ---- push

/// The snapshot's members cut into push batches of [`PUSH_BATCH`] in profile id order (one
/// empty batch when it has none), each `{snapshot, batch, batches, members}` — the `data` of a
/// `segment.snapshot` message; answers them and the member count.
pub async fn push_batches(
    store: &Store,
    workspace_id: &str,
    snapshot_id: &str,
) -> Result<(Vec<Json>, i64), CdpError> {
    let snapshot = get(store, workspace_id, snapshot_id).await?;
    let batches = u32::try_from(((snapshot.member_count + PUSH_BATCH - 1) / PUSH_BATCH).max(1))
        .unwrap_or(u32::MAX);
    let header = json!({
        "id": snapshot.id,
        "name": snapshot.name,
        "segment_id": snapshot.segment_id,
        "version": snapshot.version,
        "taken_at": snapshot.taken_at,
        "member_count": snapshot.member_count,
    });
    let mut after: Option<String> = None;
    let mut members_total = 0i64;
    let mut out = Vec::with_capacity(batches as usize);
    for batch in 1..=batches {
        let members = member_rows(store, snapshot_id, after.as_deref(), PUSH_BATCH).await?;
        after = members.last().map(|m| m.profile_id.clone());
        members_total += i64::try_from(members.len()).unwrap_or(0);
        out.push(json!({
            "snapshot": header,
            "batch": batch,
            "batches": batches,
            "members": members,
        }));
    }
    Ok((out, members_total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(valid_name("  六月快照 ").unwrap(), "六月快照");
        assert!(valid_name("   ").is_err());
        assert!(valid_name(&"名".repeat(200)).is_ok());
        assert!(valid_name(&"名".repeat(201)).is_err());
    }

    /// Runs `check` on a migrated SQLite store, and on PostgreSQL when
    /// `RAPPORT_TEST_DATABASE_URL` names a cluster.
    async fn on_both<F, Fut>(check: F)
    where
        F: Fn(Store) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        use rapport_store::Db;
        use std::sync::Arc;
        let clock = Arc::new(rapport_core::SystemClock);
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open_sqlite(dir.path()).await.unwrap();
        db.migrate().await.unwrap();
        check(Store::new(db.clone(), clock.clone())).await;
        db.close().await;
        let Some(url) = std::env::var("RAPPORT_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.trim().is_empty())
        else {
            return;
        };
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let admin = Db::open_postgres(&url).await.unwrap();
        admin
            .execute(&format!("CREATE DATABASE \"{name}\""), &[])
            .await
            .unwrap();
        let (base, _) = url.split_once('?').unwrap_or((&url, ""));
        let (prefix, _) = base.rsplit_once('/').unwrap();
        let db = Db::open_postgres(&format!("{prefix}/{name}"))
            .await
            .unwrap();
        db.migrate().await.unwrap();
        check(Store::new(db.clone(), clock)).await;
        db.close().await;
        admin
            .execute(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"), &[])
            .await
            .unwrap();
        admin.close().await;
    }

    async fn exec(store: &Store, sql: &str, params: Vec<SqlParam>) {
        let mut numbered = String::new();
        for (n, part) in sql.split('?').enumerate() {
            if n > 0 {
                numbered.push_str(&store.ph(n));
            }
            numbered.push_str(part);
        }
        store.db.execute(&numbered, &params).await.unwrap();
    }

    async fn segment(store: &Store, ws: &str, id: &str, state: &str, archived: bool) {
        exec(
            store,
            "INSERT INTO cdp_segments (id, workspace_id, name, version, definition, state, \
             created_at, updated_at, archived_at) VALUES (?, ?, ?, 3, ?, ?, 0, 0, ?)",
            vec![
                text(id),
                text(ws),
                text(&format!("人群 {id}")),
                text(r#"{"trait": "plan", "op": "eq", "value": "pro"}"#),
                text(state),
                if archived {
                    SqlParam::Int(1)
                } else {
                    SqlParam::NullOf(ColumnKind::Int)
                },
            ],
        )
        .await;
    }

    async fn profile(store: &Store, id: &str, merged_into: Option<&str>, contact: Option<&str>) {
        let opt = |v: Option<&str>| v.map_or(SqlParam::NullOf(ColumnKind::Text), text);
        exec(
            store,
            "INSERT INTO cdp_profiles (id, workspace_id, merged_into, contact_id, first_seen) \
             VALUES (?, 'w1', ?, ?, 0)",
            vec![text(id), opt(merged_into), opt(contact)],
        )
        .await;
    }

    async fn identity(store: &Store, profile: &str, id_type: &str, value: &str, seen: i64) {
        exec(
            store,
            "INSERT INTO cdp_identities (workspace_id, id_type, id_value, profile_id, first_seen) \
             VALUES ('w1', ?, ?, ?, ?)",
            vec![
                text(id_type),
                text(value),
                text(profile),
                SqlParam::Int(seen),
            ],
        )
        .await;
    }

    async fn member(store: &Store, segment: &str, profile: &str, entered_at: i64) {
        exec(
            store,
            "INSERT INTO cdp_segment_members (segment_id, profile_id, version, entered_at) \
             VALUES (?, ?, 3, ?)",
            vec![text(segment), text(profile), SqlParam::Int(entered_at)],
        )
        .await;
    }

    fn ids(members: &[SnapshotMember]) -> Vec<&str> {
        members.iter().map(|m| m.profile_id.as_str()).collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn take_freezes_members_with_their_cluster_identifiers() {
        on_both(|store| async move {
            let store = &store;
            segment(store, "w1", "s1", "live", false).await;
            // p1 ← p2 ← p3 is one customer; p1 has its own contact, p2 another.
            profile(store, "p1", None, Some("c1")).await;
            profile(store, "p2", Some("p1"), Some("c2")).await;
            profile(store, "p3", Some("p2"), None).await;
            identity(store, "p1", "email", "b@example.com", 20).await;
            identity(store, "p3", "email", "a@example.com", 10).await;
            identity(store, "p2", "user_id", "u-2", 5).await;
            identity(store, "p1", "anonymous_id", "anon-1", 1).await;
            // p4 stands alone with a phone only; p6's contact is on its merged member p7.
            profile(store, "p4", None, None).await;
            identity(store, "p4", "phone", "+8613800138000", 1).await;
            profile(store, "p6", None, None).await;
            profile(store, "p7", Some("p6"), Some("c7")).await;
            profile(store, "p5", None, None).await;
            member(store, "s1", "p1", 1_000).await;
            member(store, "s1", "p4", 2_000).await;
            member(store, "s1", "p6", 3_000).await;
            segment(store, "w1", "s2", "live", false).await;
            member(store, "s2", "p5", 1_000).await;

            let snap = take(store, "w1", "s1", "  六月 ", Some("user-1"))
                .await
                .unwrap();
            assert_eq!(
                (snap.name.as_str(), snap.version, snap.member_count),
                ("六月", 3, 3)
            );
            assert_eq!(snap.condition["trait"], "plan");
            assert_eq!(snap.segment_name.as_deref(), Some("人群 s1"));
            let page = members(store, "w1", &snap.id, None, None).await.unwrap();
            assert_eq!(
                page.items,
                vec![
                    SnapshotMember {
                        profile_id: "p1".into(),
                        contact_id: Some("c1".into()),
                        user_id: Some("u-2".into()),
                        email: Some("a@example.com".into()),
                        phone: None,
                        entered_at: time_of_ms(1_000).unwrap(),
                    },
                    SnapshotMember {
                        profile_id: "p4".into(),
                        contact_id: None,
                        user_id: None,
                        email: None,
                        phone: Some("+8613800138000".into()),
                        entered_at: time_of_ms(2_000).unwrap(),
                    },
                    SnapshotMember {
                        profile_id: "p6".into(),
                        contact_id: Some("c7".into()),
                        user_id: None,
                        email: None,
                        phone: None,
                        entered_at: time_of_ms(3_000).unwrap(),
                    },
                ]
            );
            assert_eq!(page.next_cursor, None);
            let first = members(store, "w1", &snap.id, Some(2), None).await.unwrap();
            assert_eq!(ids(&first.items), ["p1", "p4"]);
            assert_eq!(first.next_cursor.as_deref(), Some("p4"));
            let rest = members(store, "w1", &snap.id, Some(2), first.next_cursor.as_deref())
                .await
                .unwrap();
            assert_eq!((ids(&rest.items), rest.next_cursor), (vec!["p6"], None));

            // Membership moves on; the snapshot does not.
            exec(
                store,
                "DELETE FROM cdp_segment_members WHERE profile_id = 'p4'",
                vec![],
            )
            .await;
            member(store, "s1", "p5", 4_000).await;
            assert_eq!(
                ids(&members(store, "w1", &snap.id, None, None)
                    .await
                    .unwrap()
                    .items),
                ["p1", "p4", "p6"]
            );
            let later = take(store, "w1", "s1", "七月", None).await.unwrap();
            let d = diff(store, "w1", &snap.id, &later.id, None).await.unwrap();
            assert_eq!((d.joined, d.left), (1, 1));
            assert_eq!(
                (ids(&d.joined_sample), ids(&d.left_sample)),
                (vec!["p5"], vec!["p4"])
            );
            let none = diff(store, "w1", &snap.id, &later.id, Some(0))
                .await
                .unwrap();
            assert!(none.joined_sample.is_empty() && none.joined == 1);
            let listed = list(store, "w1", "s1").await.unwrap();
            assert_eq!(listed.len(), 2);

            let text = csv(store, "w1", &snap.id).await.unwrap();
            let lines: Vec<&str> = text.split("\r\n").collect();
            assert_eq!(lines[0], CSV_HEADER);
            assert_eq!(lines[2], "p4,,,,'+8613800138000,1970-01-01T00:00:02.000Z");
            assert_eq!(lines.len(), 5, "{text}");

            // Refusals.
            let other = take(store, "w2", "s1", "x", None).await;
            assert!(matches!(other, Err(CdpError::NotFound { what: "segment" })));
            assert!(matches!(
                get(store, "w2", &snap.id).await,
                Err(CdpError::NotFound { .. })
            ));
            assert!(matches!(
                take(store, "w1", "s1", " ", None).await,
                Err(CdpError::Invalid {
                    code: ErrorCode::InvalidName,
                    ..
                })
            ));
            segment(store, "w1", "s3", "building", false).await;
            assert!(matches!(
                take(store, "w1", "s3", "x", None).await,
                Err(CdpError::Conflict {
                    code: ErrorCode::SegmentNotReady,
                    ..
                })
            ));
            segment(store, "w1", "s4", "live", true).await;
            assert!(matches!(
                take(store, "w1", "s4", "x", None).await,
                Err(CdpError::Conflict {
                    code: ErrorCode::SegmentArchived,
                    ..
                })
            ));
            let of_s2 = take(store, "w1", "s2", "x", None).await.unwrap();
            assert!(matches!(
                diff(store, "w1", &snap.id, &of_s2.id, None).await,
                Err(CdpError::Invalid {
                    code: ErrorCode::DifferentSegments,
                    ..
                })
            ));
        })
        .await;
    }
}
