//! The outbox: the one stream of changes that other parts react to. The record write path and
//! the segment engine append entries inside the transaction that makes the change, so an entry
//! exists if and only if the change committed. Consumers read it in id order through a named,
//! leased cursor (`outbox_cursors`): at least once — a consumer that stops before `done` reads
//! the same entries again — and one reader per consumer at a time across nodes. An operator
//! sees every consumer's position and lag, and can rewind one to replay from an id or a time.
//!
//! On PostgreSQL an id can commit after a higher one, so a consumer reads only entries old
//! enough to have settled (five seconds); SQLite's single writer commits in id order.

use crate::{Store, StoreError, Tx};
use chrono::{DateTime, Utc};
use rapport_core::codes::ErrorCode;
use rapport_core::sql::{ColumnKind, Dialect, SqlParam, ValueRows};
use serde::Serialize;
use serde_json::Value as Json;
use utoipa::ToSchema;

/// What happened, as the outbox names it. The string forms are stored and shown to consumers
/// (webhooks will send them); never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    RecordCreated,
    RecordUpdated,
    RecordDeleted,
    RecordRestored,
    SegmentEntered,
    SegmentExited,
}

impl Topic {
    pub const ALL: [Topic; 6] = [
        Topic::RecordCreated,
        Topic::RecordUpdated,
        Topic::RecordDeleted,
        Topic::RecordRestored,
        Topic::SegmentEntered,
        Topic::SegmentExited,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Topic::RecordCreated => "record.created",
            Topic::RecordUpdated => "record.updated",
            Topic::RecordDeleted => "record.deleted",
            Topic::RecordRestored => "record.restored",
            Topic::SegmentEntered => "segment.entered",
            Topic::SegmentExited => "segment.exited",
        }
    }

    pub fn parse(text: &str) -> Option<Topic> {
        Topic::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

/// An entry to append.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub workspace_id: String,
    pub topic: Topic,
    /// The object's api name (`contact`, `deal`, …) or `segment`.
    pub object: String,
    /// The record's id, or the segment's.
    pub record_id: String,
    pub payload: Json,
    pub at: DateTime<Utc>,
}

/// Appends entries inside the caller's transaction.
pub async fn append(tx: &mut Tx, entries: &[NewEntry]) -> Result<(), StoreError> {
    let dialect = tx.dialect();
    for chunk in entries.chunks(200) {
        let mut rows = ValueRows::new(dialect);
        for e in chunk {
            rows.push([
                SqlParam::Text(e.workspace_id.clone()),
                SqlParam::Text(e.topic.as_str().into()),
                SqlParam::Text(e.object.clone()),
                SqlParam::Text(e.record_id.clone()),
                SqlParam::Json(e.payload.clone()),
                SqlParam::Timestamp(e.at),
            ]);
        }
        tx.execute(
            &format!(
                "INSERT INTO outbox (workspace_id, topic, object, record_id, payload, created_at) VALUES {}",
                rows.sql()
            ),
            rows.params(),
        )
        .await?;
    }
    Ok(())
}

/// An entry as a consumer reads it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: i64,
    pub workspace_id: String,
    pub topic: Topic,
    pub object: String,
    pub record_id: String,
    pub payload: Json,
    pub created_at: DateTime<Utc>,
}

/// A named reader of the outbox and what it wants of it.
#[derive(Debug, Clone, Copy)]
pub struct Consumer {
    /// Stable: the cursor is stored under it.
    pub name: &'static str,
    pub topics: &'static [Topic],
    /// Objects to read; empty for all.
    pub objects: &'static [&'static str],
}

/// How long a claim keeps other nodes away from the consumer's cursor.
const LEASE_MS: i64 = 60_000;
/// How old an entry must be before a PostgreSQL consumer reads it.
const SETTLE_SECONDS: i64 = 5;

fn settled(store: &Store) -> DateTime<Utc> {
    match store.db.dialect() {
        // Committed in id order: everything is settled (a second ahead covers clock steps).
        Dialect::Sqlite => store.now() + chrono::Duration::seconds(1),
        Dialect::Postgres => store.now() - chrono::Duration::seconds(SETTLE_SECONDS),
    }
}

impl Consumer {
    /// Up to `limit` entries after the consumer's cursor, or None while another node holds its
    /// lease.
    pub async fn claim(&self, store: &Store, limit: usize) -> Result<Option<Claim>, StoreError> {
        let now = store.now().timestamp_millis();
        store
            .db
            .execute(
                &format!(
                    "INSERT INTO outbox_cursors (consumer, position) VALUES ({}, 0) ON CONFLICT (consumer) DO NOTHING",
                    store.ph(1)
                ),
                &[SqlParam::Text(self.name.into())],
            )
            .await?;
        let Some(position) = store
            .db
            .write_returning(
                &format!(
                    "UPDATE outbox_cursors SET leased_until = {} WHERE consumer = {} AND leased_until < {} RETURNING position",
                    store.ph(1),
                    store.ph(2),
                    store.ph(3)
                ),
                &[
                    SqlParam::Int(now + LEASE_MS),
                    SqlParam::Text(self.name.into()),
                    SqlParam::Int(now),
                ],
                &[ColumnKind::Int],
            )
            .await?
            .first()
            .map(|r| r.int("position"))
            .transpose()?
        else {
            return Ok(None);
        };
        // The end of what is settled, read first: every entry up to it is committed (in id
        // order on SQLite; past the settling time on PostgreSQL), so the page read next sees all
        // of them. (Read after the page, the end could include entries committed in between,
        // which the cursor would then pass over unread.)
        let settle = settled(store);
        let end = store
            .db
            .fetch_optional(
                &format!(
                    "SELECT MAX(id) FROM outbox WHERE id > {} AND created_at < {}",
                    store.ph(1),
                    store.ph(2)
                ),
                &[SqlParam::Int(position), SqlParam::Timestamp(settle)],
                &[ColumnKind::Int],
            )
            .await?
            .map(|r| r.opt_int(0))
            .transpose()?
            .flatten();
        let Some(end) = end else {
            return Ok(Some(Claim {
                consumer: self.name,
                next: position,
                entries: Vec::new(),
            }));
        };
        let mut params = vec![SqlParam::Int(position), SqlParam::Int(end)];
        let mut filter = String::new();
        let mut list = |values: Vec<String>, column: &str| {
            if values.is_empty() {
                return;
            }
            let marks: Vec<String> = values
                .into_iter()
                .map(|v| {
                    params.push(SqlParam::Text(v));
                    store.ph(params.len())
                })
                .collect();
            filter.push_str(&format!(" AND {column} IN ({})", marks.join(", ")));
        };
        list(
            self.topics.iter().map(|t| t.as_str().to_string()).collect(),
            "topic",
        );
        list(
            self.objects.iter().map(|o| (*o).to_string()).collect(),
            "object",
        );
        let rows = store
            .db
            .fetch_all(
                &format!(
                    "SELECT id, workspace_id, topic, object, record_id, payload, created_at FROM outbox \
                     WHERE id > {} AND id <= {}{filter} ORDER BY id LIMIT {limit}",
                    store.ph(1),
                    store.ph(2)
                ),
                &params,
                &[
                    ColumnKind::Int,
                    ColumnKind::Text,
                    ColumnKind::Text,
                    ColumnKind::Text,
                    ColumnKind::Text,
                    ColumnKind::Json,
                    ColumnKind::Timestamp,
                ],
            )
            .await?;
        let mut entries = Vec::with_capacity(rows.len());
        for r in &rows {
            // A topic this node does not know was appended by a newer version during a rolling
            // upgrade: no consumer here can act on it, so it is passed over, not fatal.
            let Some(topic) = Topic::parse(&r.text("topic")?) else {
                continue;
            };
            entries.push(Entry {
                id: r.int("id")?,
                workspace_id: r.text("workspace_id")?,
                topic,
                object: r.text("object")?,
                record_id: r.text("record_id")?,
                payload: r.json("payload")?,
                created_at: r.timestamp("created_at")?,
            });
        }
        // A short page means nothing else matches up to the settled end: the cursor may move
        // past the entries of no interest too, so later claims do not scan them again.
        let end = (rows.len() < limit).then_some(end);
        let last = rows.last().map(|r| r.int("id")).transpose()?;
        Ok(Some(Claim {
            consumer: self.name,
            next: end.max(last).unwrap_or(position).max(position),
            entries,
        }))
    }
}

/// A consumer's leased batch; `done` moves the cursor past it and frees the lease.
pub struct Claim {
    consumer: &'static str,
    next: i64,
    pub entries: Vec<Entry>,
}

impl Claim {
    pub async fn done(self, store: &Store) -> Result<(), StoreError> {
        store
            .db
            .execute(
                &format!(
                    "UPDATE outbox_cursors SET position = {}, leased_until = 0 WHERE consumer = {}",
                    store.ph(1),
                    store.ph(2)
                ),
                &[
                    SqlParam::Int(self.next),
                    SqlParam::Text(self.consumer.into()),
                ],
            )
            .await?;
        Ok(())
    }
}

/// Where a consumer stands.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Position {
    pub consumer: String,
    /// The id of the last entry it is done with.
    pub position: i64,
    /// Entries after the position (of any topic: an upper bound of its backlog).
    pub behind: i64,
    /// While a node is reading: until when its lease holds.
    pub leased_until: Option<DateTime<Utc>>,
}

/// Every consumer's position, by name.
pub async fn positions(store: &Store) -> Result<Vec<Position>, StoreError> {
    let newest = store
        .db
        .fetch_optional(
            "SELECT COALESCE(MAX(id), 0) FROM outbox",
            &[],
            &[ColumnKind::Int],
        )
        .await?
        .map_or(Ok(0), |r| r.int(0))?;
    let rows = store
        .db
        .fetch_all(
            "SELECT consumer, position, leased_until FROM outbox_cursors ORDER BY consumer",
            &[],
            &[ColumnKind::Text, ColumnKind::Int, ColumnKind::Int],
        )
        .await?;
    let now = store.now().timestamp_millis();
    rows.iter()
        .map(|r| {
            let position = r.int("position")?;
            Ok(Position {
                consumer: r.text("consumer")?,
                position,
                behind: (newest - position).max(0),
                leased_until: Some(r.int("leased_until")?)
                    .filter(|t| *t > now)
                    .and_then(DateTime::from_timestamp_millis),
            })
        })
        .collect()
}

/// Where to rewind a consumer to.
#[derive(Debug, Clone, Copy)]
pub enum Rewind {
    /// Read again every entry after this id.
    AfterId(i64),
    /// Read again every entry created at or after this time.
    From(DateTime<Utc>),
}

/// Moves a consumer's cursor back (or forward) so it reads the outbox again from there;
/// refused while a node holds its lease (`consumer_busy`) and for a consumer that never ran.
pub async fn rewind(store: &Store, consumer: &str, to: Rewind) -> Result<Position, StoreError> {
    let position = match to {
        Rewind::AfterId(id) => id.max(0),
        Rewind::From(at) => store
            .db
            .fetch_optional(
                &format!(
                    "SELECT COALESCE(MAX(id), 0) FROM outbox WHERE created_at < {}",
                    store.ph(1)
                ),
                &[SqlParam::Timestamp(at)],
                &[ColumnKind::Int],
            )
            .await?
            .map_or(Ok(0), |r| r.int(0))?,
    };
    let now = store.now().timestamp_millis();
    let moved = store
        .db
        .write_returning(
            &format!(
                "UPDATE outbox_cursors SET position = {} WHERE consumer = {} AND leased_until < {} RETURNING consumer",
                store.ph(1),
                store.ph(2),
                store.ph(3)
            ),
            &[
                SqlParam::Int(position),
                SqlParam::Text(consumer.into()),
                SqlParam::Int(now),
            ],
            &[ColumnKind::Text],
        )
        .await?;
    if moved.is_empty() {
        let exists = positions(store)
            .await?
            .into_iter()
            .any(|p| p.consumer == consumer);
        return Err(if exists {
            StoreError::conflict(
                ErrorCode::ConsumerBusy,
                "a node is reading with this consumer now; try again in a minute",
            )
        } else {
            StoreError::not_found("outbox consumer")
        });
    }
    positions(store)
        .await?
        .into_iter()
        .find(|p| p.consumer == consumer)
        .ok_or(StoreError::not_found("outbox consumer"))
}
