//! Behaviour tests and the per-profile counters behind them.
//!
//! Every distinct (event type, property filters, absolute window, depth) of the live segments
//! is a *behaviour key* (`cdp_behavior_keys`). For each key and profile, `cdp_behavior_counts`
//! keeps the number of matching events and the times of the newest `depth` of them. The group
//! commit adds each new event to the counters of the keys it matches, in its own transaction;
//! a new key is filled from the stored events once (`backfill`). A sliding window's count is
//! then the number of stored times inside it: exact for every comparison with a number below
//! the depth, which is why the depth is chosen above the test's number.
//!
//! **Exactly once.** Every event is counted by exactly one of the two: the group commit that
//! stored it, or the key's backfill. The key's *cutoff* (`cutoff_seq`) decides which: it is
//! read in the very transaction that makes the key visible, while no group commit can be
//! running — on SQLite the single writer serialises them; on PostgreSQL group commits hold an
//! advisory lock shared from their first statement (before any event takes its `seq`) to their
//! commit, and the key's transaction holds it exclusively. So every event a group commit stored
//! without seeing the key has `seq ≤ cutoff` (the backfill counts it) and every event of a
//! group commit that saw the key has `seq > cutoff` (the commit counts it). A backfill records
//! its progress (`filled_to`, the last profile whose counters it added) in the transaction that
//! adds them, guarded by the cutoff and the previous progress, so a restarted or concurrent
//! filler never adds a profile twice. `reset` starts a key over (a repair: recount from events).
//!
//! Keys never change once created, so a node caches their specs forever.

use crate::error::CdpError;
use crate::{ph, placeholder, statement_chunks};
use rapport_core::codes::ErrorCode;
use rapport_core::sql::{ColumnKind, Dialect, SqlParam, ValueRows};
use rapport_store::cache::Cache;
use rapport_store::{Store, StoreError, Tx};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// The advisory lock writers share and a backfill takes alone for an instant (PostgreSQL).
const KEYS_LOCK: i64 = 0x0053_4547_4d45_4e54;
/// Events read per backfill query.
const BACKFILL_PAGE: i64 = 20_000;
/// Sliding windows never reach further back, so a backfill reads no older events.
const HORIZON_MS: i64 = super::condition::MAX_WINDOW_MS;

/// A test of a JSON value (a trait, or an event property).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JsonTest {
    pub op: JsonOp,
    #[serde(default)]
    pub value: Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JsonOp {
    Eq,
    Ne,
    In,
    NotIn,
    Contains,
    Gt,
    Gte,
    Lt,
    Lte,
    IsEmpty,
    IsNotEmpty,
    Exists,
    NotExists,
}

impl JsonOp {
    pub fn from_name(name: &str) -> Option<JsonOp> {
        // An unknown name is `None`; the caller reports it with the condition's path.
        serde_json::from_value(Json::String(name.to_string())).ok()
    }
}

/// Two JSON scalars compared: numbers as numbers, strings byte-wise, booleans by value;
/// `None` across kinds.
fn compare(a: &Json, b: &Json) -> Option<Ordering> {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Json::String(x), Json::String(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (Json::Bool(x), Json::Bool(y)) => Some(x.cmp(y)),
        // A number sent as a string still compares with a number; a string that is no number
        // does not compare (`None`, as across kinds).
        (Json::String(x), Json::Number(_)) => {
            compare(&Json::from(x.trim().parse::<f64>().ok()?), b)
        }
        (Json::Number(_), Json::String(y)) => {
            compare(a, &Json::from(y.trim().parse::<f64>().ok()?))
        }
        _ => None,
    }
}

fn is_empty(v: Option<&Json>) -> bool {
    match v {
        None | Some(Json::Null) => true,
        Some(Json::String(s)) => s.trim().is_empty(),
        Some(Json::Array(a)) => a.is_empty(),
        _ => false,
    }
}

impl JsonTest {
    /// Missing and `null` values fail every comparison except `ne`, `not_in`, `is_empty` and
    /// `not_exists` (as the kernel treats NULL).
    pub fn eval(&self, v: Option<&Json>) -> bool {
        let eq = |other: &Json| v.and_then(|x| compare(x, other)) == Some(Ordering::Equal);
        let ord = |accept: fn(Ordering) -> bool| {
            v.and_then(|x| compare(x, &self.value)).is_some_and(accept)
        };
        match self.op {
            JsonOp::Eq => eq(&self.value),
            JsonOp::Ne => !eq(&self.value),
            JsonOp::In => self.value.as_array().is_some_and(|l| l.iter().any(eq)),
            JsonOp::NotIn => !self.value.as_array().is_some_and(|l| l.iter().any(eq)),
            JsonOp::Contains => {
                // `JsonTest::parse` accepts `contains` only with a non-empty string value.
                let needle = self.value.as_str().unwrap_or_default().to_ascii_lowercase();
                match v {
                    Some(Json::String(s)) => s.to_ascii_lowercase().contains(needle.trim()),
                    Some(Json::Array(items)) => items.iter().any(|i| {
                        i.as_str()
                            .is_some_and(|s| s.eq_ignore_ascii_case(needle.trim()))
                    }),
                    _ => false,
                }
            }
            JsonOp::Gt => ord(Ordering::is_gt),
            JsonOp::Gte => ord(Ordering::is_ge),
            JsonOp::Lt => ord(Ordering::is_lt),
            JsonOp::Lte => ord(Ordering::is_le),
            JsonOp::IsEmpty => is_empty(v),
            JsonOp::IsNotEmpty => !is_empty(v),
            JsonOp::Exists => v.is_some_and(|x| !x.is_null()),
            JsonOp::NotExists => v.is_none_or(Json::is_null),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PropertyFilter {
    pub property: String,
    #[serde(flatten)]
    pub test: JsonTest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Events with `ts > now − ms`.
    Last { ms: i64 },
    /// Events with `from ≤ ts < to` (epoch ms).
    Between { from: i64, to: i64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountOp {
    Gte,
    Gt,
    Lte,
    Lt,
    Eq,
    Ne,
}

impl CountOp {
    pub fn from_name(name: &str) -> Option<CountOp> {
        Some(match name {
            "gte" => CountOp::Gte,
            "gt" => CountOp::Gt,
            "lte" => CountOp::Lte,
            "lt" => CountOp::Lt,
            "eq" => CountOp::Eq,
            "ne" => CountOp::Ne,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountTest {
    pub op: CountOp,
    pub value: u32,
}

impl CountTest {
    pub fn eval(&self, count: u32) -> bool {
        let v = self.value;
        match self.op {
            CountOp::Gte => count >= v,
            CountOp::Gt => count > v,
            CountOp::Lte => count <= v,
            CountOp::Lt => count < v,
            CountOp::Eq => count == v,
            CountOp::Ne => count != v,
        }
    }

    /// True when the test fails for a customer without any matching event.
    pub fn requires_events(&self) -> bool {
        !self.eval(0)
    }
}

/// One behaviour test of a segment.
#[derive(Debug, Clone)]
pub struct Behavior {
    pub event: String,
    pub filters: Vec<PropertyFilter>,
    pub window: Window,
    pub count: CountTest,
    pub spec: KeySpec,
    /// The test as written (for lineage).
    pub json: Json,
}

impl Behavior {
    pub fn new(
        event: String,
        filters: Vec<PropertyFilter>,
        window: Window,
        count: CountTest,
    ) -> Behavior {
        // Counts up to the depth are exact, so the depth lies above the compared number.
        let needed = count.value + 1;
        let depth = [2, 11, 101, 1001]
            .into_iter()
            .find(|d| *d >= needed)
            .unwrap_or(1001);
        let mut sorted = filters.clone();
        // Serialising a filter cannot fail (strings and JSON values only).
        sorted.sort_by_key(|f| serde_json::to_string(f).unwrap_or_default());
        let (from, to) = match window {
            Window::Between { from, to } => (Some(from), Some(to)),
            Window::Last { .. } => (None, None),
        };
        let spec = KeySpec {
            event: event.clone(),
            filters: sorted,
            from,
            to,
            depth,
        };
        Behavior {
            event,
            filters,
            window,
            count,
            spec,
            json: Json::Null,
        }
    }

    /// The first moment (epoch ms) an event must be at or after to count at `now`.
    pub fn window_start(&self, now: i64) -> i64 {
        match self.window {
            Window::Last { ms } => now - ms + 1,
            Window::Between { from, .. } => from,
        }
    }

    /// Matching events of one profile's counter at `now` (uncapped).
    pub fn count_one(&self, c: &Counts, now: i64) -> u64 {
        match self.window {
            Window::Between { .. } => u64::try_from(c.total).unwrap_or(0),
            Window::Last { ms } => c.recent.iter().filter(|t| **t > now - ms).count() as u64,
        }
    }

    /// When one profile's counted events start leaving the sliding window after `now`.
    pub fn expiry_one(&self, c: &Counts, now: i64) -> Option<i64> {
        let Window::Last { ms } = self.window else {
            return None;
        };
        c.recent
            .iter()
            .filter(|t| **t > now - ms)
            .map(|t| t + ms)
            .min()
    }

    /// A cluster's count, capped at the depth (exact for every comparison the test makes).
    pub fn cap(&self, n: u64) -> u32 {
        u32::try_from(n.min(u64::from(self.spec.depth))).unwrap_or(self.spec.depth)
    }

    /// Matching events counted at `now` from a cluster's counters, capped at the depth.
    pub fn count_at(&self, counters: &[&Counts], now: i64) -> u32 {
        self.cap(counters.iter().map(|c| self.count_one(c, now)).sum())
    }

    /// When the count at `now` next drops because an event leaves a sliding window.
    pub fn next_expiry(&self, counters: &[&Counts], now: i64) -> Option<i64> {
        counters
            .iter()
            .filter_map(|c| self.expiry_one(c, now))
            .min()
    }
}

/// What a behaviour key counts. Serialised as the key's signature (filters sorted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeySpec {
    pub event: String,
    pub filters: Vec<PropertyFilter>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub depth: u32,
}

impl KeySpec {
    pub fn signature(&self) -> String {
        // Serialising a spec cannot fail (strings, numbers and JSON values only).
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Whether a stored event is one this key counts. `kind` / `name` as in `cdp_events`;
    /// `payload` is the event's [`payload_field`].
    pub fn matches(&self, kind: &str, name: Option<&str>, ts: i64, payload: Option<&Json>) -> bool {
        let type_name = match kind {
            // A track event without a name is no event type a key can name (never empty).
            "track" => name.unwrap_or_default().to_string(),
            other => format!("${other}"),
        };
        if type_name != self.event {
            return false;
        }
        if self.from.is_some_and(|f| ts < f) || self.to.is_some_and(|t| ts >= t) {
            return false;
        }
        if self.filters.is_empty() {
            return true;
        }
        self.filters.iter().all(|f| {
            let mut v = payload;
            for part in f.property.split('.') {
                v = v.and_then(|x| x.get(part));
            }
            f.test.eval(v)
        })
    }

    /// `(kind, name)` of the stored events this key reads: a track event by name, the others
    /// by kind.
    fn stored_as(&self) -> (String, Option<String>) {
        match self.event.strip_prefix('$') {
            Some(kind) => (kind.to_string(), None),
            None => ("track".to_string(), Some(self.event.clone())),
        }
    }
}

/// The member of an event's body that property filters read.
pub fn payload_field(kind: &str) -> &'static str {
    match kind {
        "identify" | "group" => "traits",
        _ => "properties",
    }
}

/// A profile's counter for one key: matching events, and the newest `depth` times (newest
/// first).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    pub total: i64,
    pub recent: Vec<i64>,
}

impl Counts {
    /// A stored counter: `recent` is comma-separated epoch ms, `""` for none (a row the
    /// upsert just created). Anything else is a corrupt counter, not an empty one.
    pub fn parse(total: i64, recent: &str) -> Result<Counts, StoreError> {
        let recent = if recent.is_empty() {
            Vec::new()
        } else {
            recent
                .split(',')
                .map(|t| {
                    t.parse().map_err(|_| {
                        StoreError::Corrupt(format!(
                            "a behaviour counter holds {recent:?}, comma-separated times expected"
                        ))
                    })
                })
                .collect::<Result<_, _>>()?
        };
        Ok(Counts { total, recent })
    }

    pub fn recent_text(&self) -> String {
        let parts: Vec<String> = self.recent.iter().map(i64::to_string).collect();
        parts.join(",")
    }

    /// Adds one event's time, keeping at most a few times the newest `depth` (trimmed
    /// exactly by `absorb`).
    pub fn push(&mut self, ts: i64, depth: u32) {
        self.total += 1;
        self.recent.push(ts);
        if self.recent.len() > 4 * depth as usize {
            self.trim(depth);
        }
    }

    /// Adds another counter of the same key (events not counted here), keeping the newest
    /// `depth` times.
    pub fn absorb(&mut self, other: &Counts, depth: u32) {
        self.total += other.total;
        self.recent.extend_from_slice(&other.recent);
        self.trim(depth);
    }

    fn trim(&mut self, depth: u32) {
        self.recent.sort_unstable_by(|a, b| b.cmp(a));
        self.recent.truncate(depth as usize);
    }
}

/// Key id → spec, for the writer (keys never change).
pub struct KeyCache(Cache<String, Arc<KeySpec>>);

impl Default for KeyCache {
    fn default() -> Self {
        Self(Cache::bounded(100_000))
    }
}

impl KeyCache {
    fn get(&self, id: &str) -> Option<Arc<KeySpec>> {
        self.0.get(id)
    }

    fn put(&self, id: &str, spec: Arc<KeySpec>) {
        self.0.insert(id.to_string(), spec);
    }
}

/// A stored event as the counters see it.
pub struct CountedEvent<'a> {
    pub workspace_id: &'a str,
    pub profile_id: &'a str,
    pub kind: &'a str,
    pub name: Option<&'a str>,
    pub ts: i64,
    /// The event's [`payload_field`].
    pub payload: Option<&'a Json>,
}

/// The first statement of every group commit on PostgreSQL: no key can become visible (and
/// fix its cutoff) until this transaction ends, and this transaction's events take their `seq`
/// only after it (see the module header). SQLite's single writer needs nothing.
pub async fn hold_keys_shared(tx: &mut Tx) -> Result<(), CdpError> {
    if tx.dialect() == Dialect::Postgres {
        tx.execute(
            &format!("SELECT pg_advisory_xact_lock_shared({KEYS_LOCK})"),
            &[],
        )
        .await?;
    }
    Ok(())
}

/// Inside the group commit (after [`hold_keys_shared`]): adds the new events to the counters
/// of the keys they match.
pub async fn count_events(
    tx: &mut Tx,
    cache: &KeyCache,
    events: &[CountedEvent<'_>],
) -> Result<(), CdpError> {
    if events.is_empty() {
        return Ok(());
    }
    let workspaces: Vec<&str> = events
        .iter()
        .map(|e| e.workspace_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let marks: Vec<String> = (1..=workspaces.len()).map(|n| ph(tx, n)).collect();
    let rows = tx
        .fetch_all(
            &format!(
                "SELECT id, workspace_id, spec FROM cdp_behavior_keys WHERE workspace_id IN ({})",
                marks.join(", ")
            ),
            &workspaces
                .iter()
                .map(|w| SqlParam::Text((*w).to_string()))
                .collect::<Vec<_>>(),
            &[ColumnKind::Text, ColumnKind::Text, ColumnKind::Text],
        )
        .await?;
    if rows.is_empty() {
        return Ok(());
    }
    let mut keys: HashMap<String, Vec<(String, Arc<KeySpec>)>> = HashMap::new();
    for row in &rows {
        let id = row.text("id")?;
        let spec = match cache.get(&id) {
            Some(s) => s,
            None => {
                let Ok(spec) = serde_json::from_str::<KeySpec>(&row.text("spec")?) else {
                    continue;
                };
                let spec = Arc::new(spec);
                cache.put(&id, spec.clone());
                spec
            }
        };
        keys.entry(row.text("workspace_id")?)
            .or_default()
            .push((id, spec));
    }
    let mut added: BTreeMap<(String, String), Counts> = BTreeMap::new();
    let mut depths: HashMap<String, u32> = HashMap::new();
    for e in events {
        let Some(ws_keys) = keys.get(e.workspace_id) else {
            continue;
        };
        for (id, spec) in ws_keys {
            if spec.matches(e.kind, e.name, e.ts, e.payload) {
                added
                    .entry((id.clone(), e.profile_id.to_string()))
                    .or_default()
                    .push(e.ts, spec.depth);
                depths.insert(id.clone(), spec.depth);
            }
        }
    }
    merge(tx, &added, &depths).await
}

/// Adds times to counters. Each chunk first locks its rows — an upsert that creates missing
/// rows empty and returns the current ones — then writes the merged values. Rows are taken in
/// (key, profile) order, chunk after chunk, so two nodes adding to the same counters wait for
/// each other instead of deadlocking.
async fn merge(
    tx: &mut Tx,
    added: &BTreeMap<(String, String), Counts>,
    depths: &HashMap<String, u32>,
) -> Result<(), CdpError> {
    let pairs: Vec<(&(String, String), &Counts)> = added.iter().collect();
    for chunk in statement_chunks(&pairs) {
        let mut tuples = ValueRows::new(tx.dialect());
        for ((key, profile), _) in chunk {
            tuples.push([
                SqlParam::Text(key.clone()),
                SqlParam::Text(profile.clone()),
                SqlParam::Int(0),
                SqlParam::Text(String::new()),
                SqlParam::Int(0),
            ]);
        }
        let rows = tx
            .fetch_all(
                &format!(
                    "INSERT INTO cdp_behavior_counts (key_id, profile_id, total, recent, latest) \
                     VALUES {} ON CONFLICT (key_id, profile_id) DO UPDATE SET total = cdp_behavior_counts.total \
                     RETURNING key_id, profile_id, total, recent",
                    tuples.sql()
                ),
                tuples.params(),
                &[
                    ColumnKind::Text,
                    ColumnKind::Text,
                    ColumnKind::Int,
                    ColumnKind::Text,
                ],
            )
            .await?;
        let mut existing: HashMap<(String, String), Counts> = rows
            .iter()
            .map(|r| {
                Ok((
                    (r.text("key_id")?, r.text("profile_id")?),
                    Counts::parse(r.int("total")?, &r.text("recent")?)?,
                ))
            })
            .collect::<Result<_, StoreError>>()?;
        let mut values = ValueRows::new(tx.dialect());
        for (pair, more) in chunk {
            // The upsert returns every row of the chunk; a missing one would be a new, empty
            // counter, which is what the default is.
            let mut counts = existing.remove(*pair).unwrap_or_default();
            counts.absorb(more, depths.get(&pair.0).copied().unwrap_or(2));
            values.push([
                SqlParam::Text(pair.0.clone()),
                SqlParam::Text(pair.1.clone()),
                SqlParam::Int(counts.total),
                SqlParam::Text(counts.recent_text()),
                SqlParam::Int(counts.recent.first().copied().unwrap_or(0)),
            ]);
        }
        tx.execute(
            &format!(
                "INSERT INTO cdp_behavior_counts (key_id, profile_id, total, recent, latest) VALUES {} \
                 ON CONFLICT (key_id, profile_id) DO UPDATE SET total = excluded.total, recent = excluded.recent, \
                 latest = excluded.latest",
                values.sql()
            ),
            values.params(),
        )
        .await?;
    }
    Ok(())
}

/// A key as the segments see it.
#[derive(Debug, Clone)]
pub struct Key {
    pub id: String,
    pub ready: bool,
    /// Events with `seq` up to this are the backfill's to count; later ones the writer's.
    pub cutoff: i64,
    /// The last profile (in id order) whose counters the backfill has added; `""` for none.
    pub filled_to: String,
}

const KEY_COLUMNS: &str = "id, ready, cutoff_seq, filled_to";
const KEY_KINDS: [ColumnKind; 4] = [
    ColumnKind::Text,
    ColumnKind::Bool,
    ColumnKind::Int,
    ColumnKind::Text,
];

fn decode_key(r: &rapport_store::Row) -> Result<Key, StoreError> {
    Ok(Key {
        id: r.text("id")?,
        ready: r.bool("ready")?,
        cutoff: r.int("cutoff_seq")?,
        filled_to: r.text("filled_to")?,
    })
}

/// The key of `spec` in the workspace, if there is one.
pub async fn find_key(store: &Store, ws: &str, spec: &KeySpec) -> Result<Option<Key>, CdpError> {
    let row = store
        .db
        .fetch_optional(
            &format!(
                "SELECT {KEY_COLUMNS} FROM cdp_behavior_keys WHERE workspace_id = {} AND signature = {}",
                store.ph(1),
                store.ph(2)
            ),
            &[
                SqlParam::Text(ws.to_string()),
                SqlParam::Text(spec.signature()),
            ],
            &KEY_KINDS,
        )
        .await?;
    Ok(row.as_ref().map(decode_key).transpose()?)
}

async fn key_by_id(store: &Store, id: &str) -> Result<Option<Key>, CdpError> {
    let row = store
        .db
        .fetch_optional(
            &format!(
                "SELECT {KEY_COLUMNS} FROM cdp_behavior_keys WHERE id = {}",
                store.ph(1)
            ),
            &[SqlParam::Text(id.to_string())],
            &KEY_KINDS,
        )
        .await?;
    Ok(row.as_ref().map(decode_key).transpose()?)
}

/// Starts a transaction in which no group commit runs (see the module header) and reads the
/// newest stored event's `seq`: the cutoff of a key made visible by this transaction.
async fn begin_exclusive(store: &Store) -> Result<(Tx, i64), CdpError> {
    let mut tx = store.db.begin().await?;
    if tx.dialect() == Dialect::Postgres {
        tx.execute(&format!("SELECT pg_advisory_xact_lock({KEYS_LOCK})"), &[])
            .await?;
    }
    let cutoff = tx
        .fetch_optional(
            "SELECT COALESCE(MAX(seq), 0) FROM cdp_events",
            &[],
            &[ColumnKind::Int],
        )
        .await?
        .map(|r| r.int(0))
        .transpose()?
        // An aggregate always answers one row; no row would mean no event either.
        .unwrap_or(0);
    Ok((tx, cutoff))
}

/// Finds or creates the key of `spec` in the workspace; a new key's cutoff is fixed in the
/// transaction that makes it visible.
pub async fn ensure_key(store: &Store, ws: &str, spec: &KeySpec) -> Result<Key, CdpError> {
    if let Some(key) = find_key(store, ws, spec).await? {
        return Ok(key);
    }
    let (mut tx, cutoff) = begin_exclusive(store).await?;
    let p = |n| crate::ph(&tx, n);
    let sql = format!(
        "INSERT INTO cdp_behavior_keys (id, workspace_id, signature, spec, event, ready, created_at, cutoff_seq, filled_to) \
         VALUES ({}, {}, {}, {}, {}, {}, {}, {}, '') ON CONFLICT (workspace_id, signature) DO NOTHING",
        p(1),
        p(2),
        p(3),
        p(4),
        p(5),
        p(6),
        p(7),
        p(8)
    );
    tx.execute(
        &sql,
        &[
            SqlParam::Text(uuid::Uuid::now_v7().to_string()),
            SqlParam::Text(ws.to_string()),
            SqlParam::Text(spec.signature()),
            SqlParam::Text(
                serde_json::to_string(spec)
                    .map_err(|e| CdpError::Internal(format!("cannot serialise a key spec: {e}")))?,
            ),
            SqlParam::Text(spec.event.clone()),
            SqlParam::Bool(false),
            SqlParam::Int(store.now().timestamp_millis()),
            SqlParam::Int(cutoff),
        ],
    )
    .await?;
    tx.commit().await?;
    find_key(store, ws, spec).await?.ok_or(CdpError::NotFound {
        what: "behaviour key",
    })
}

/// Starts keys over: their counters are deleted and they count again from the stored events
/// (with a new cutoff), and the segments in `segments` go back to `building` until then. The
/// repair for counters that are wrong (the upgrade runs the same in SQL).
pub async fn reset(store: &Store, key_ids: &[String], segments: &[String]) -> Result<(), CdpError> {
    let (mut tx, cutoff) = begin_exclusive(store).await?;
    for id in key_ids {
        tx.execute(
            &format!(
                "DELETE FROM cdp_behavior_counts WHERE key_id = {}",
                crate::ph(&tx, 1)
            ),
            &[SqlParam::Text(id.clone())],
        )
        .await?;
        tx.execute(
            &format!(
                "UPDATE cdp_behavior_keys SET ready = {}, cutoff_seq = {}, filled_to = '' WHERE id = {}",
                crate::ph(&tx, 1),
                crate::ph(&tx, 2),
                crate::ph(&tx, 3)
            ),
            &[
                SqlParam::Bool(false),
                SqlParam::Int(cutoff),
                SqlParam::Text(id.clone()),
            ],
        )
        .await?;
    }
    for id in segments {
        tx.execute(
            &format!(
                "UPDATE cdp_segments SET state = 'building' WHERE id = {} AND archived_at IS NULL",
                crate::ph(&tx, 1)
            ),
            &[SqlParam::Text(id.clone())],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Profiles whose counters one backfill transaction adds.
const FILL_PART: usize = 2_048;
/// A filler that sees no progress by another for this long takes over.
const FILL_STALL: std::time::Duration = std::time::Duration::from_secs(30);

/// Fills a key's counters from the stored events up to its cutoff (see the module header for
/// why no event is counted twice or missed), then marks it ready. Any number of fillers, on
/// any nodes, may run at once: each part is added by the one filler whose progress marker it
/// moves; the others wait for the key to become ready (or take over when progress stalls).
/// Returns the events this filler counted.
pub async fn backfill(store: &Store, ws: &str, key: &Key, spec: &KeySpec) -> Result<u64, CdpError> {
    let mut key = key.clone();
    let mut counted = 0u64;
    loop {
        if key.ready {
            return Ok(counted);
        }
        let mut scanned = 0u64;
        let collected = scan_events(store, ws, spec, key.cutoff, None, &mut scanned).await?;
        let mut entries: Vec<(String, Counts)> = collected
            .into_iter()
            .filter(|(profile, _)| *profile > key.filled_to)
            .collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let depths = HashMap::from([(key.id.clone(), spec.depth)]);
        let mut done = key.filled_to.clone();
        let mut lost = false;
        for part in entries.chunks(FILL_PART) {
            let Some((last, _)) = part.last() else {
                continue;
            };
            let mut tx = store.db.begin().await?;
            if !advance(&mut tx, &key, &done, last).await? {
                lost = true;
                break;
            }
            let added: BTreeMap<(String, String), Counts> = part
                .iter()
                .map(|(profile, counts)| ((key.id.clone(), profile.clone()), counts.clone()))
                .collect();
            merge(&mut tx, &added, &depths).await?;
            tx.commit().await?;
            counted += part
                .iter()
                .map(|(_, c)| u64::try_from(c.total).unwrap_or(0))
                .sum::<u64>();
            done = last.clone();
        }
        if !lost {
            let mut tx = store.db.begin().await?;
            let marked = tx
                .execute(
                    &format!(
                        "UPDATE cdp_behavior_keys SET ready = {} WHERE id = {} AND cutoff_seq = {} AND filled_to = {}",
                        crate::ph(&tx, 1),
                        crate::ph(&tx, 2),
                        crate::ph(&tx, 3),
                        crate::ph(&tx, 4)
                    ),
                    &[
                        SqlParam::Bool(true),
                        SqlParam::Text(key.id.clone()),
                        SqlParam::Int(key.cutoff),
                        SqlParam::Text(done.clone()),
                    ],
                )
                .await?;
            tx.commit().await?;
            if marked > 0 {
                return Ok(counted);
            }
        }
        // Another filler is ahead (or the key was reset): wait for it to finish, or take over
        // from where it stands once it stops moving.
        key = wait_for_filler(store, &key.id).await?;
    }
}

/// Moves a key's progress marker from `from` to `to` if nobody else did (same cutoff, same
/// previous marker); false when another filler is ahead.
async fn advance(tx: &mut Tx, key: &Key, from: &str, to: &str) -> Result<bool, CdpError> {
    let moved = tx
        .execute(
            &format!(
                "UPDATE cdp_behavior_keys SET filled_to = {} WHERE id = {} AND cutoff_seq = {} AND filled_to = {} AND ready = {}",
                crate::ph(tx, 1),
                crate::ph(tx, 2),
                crate::ph(tx, 3),
                crate::ph(tx, 4),
                crate::ph(tx, 5)
            ),
            &[
                SqlParam::Text(to.to_string()),
                SqlParam::Text(key.id.clone()),
                SqlParam::Int(key.cutoff),
                SqlParam::Text(from.to_string()),
                SqlParam::Bool(false),
            ],
        )
        .await?;
    Ok(moved > 0)
}

/// Waits while another filler moves the key forward; returns the key once it is ready or has
/// not moved for [`FILL_STALL`].
async fn wait_for_filler(store: &Store, id: &str) -> Result<Key, CdpError> {
    let mut last_seen: Option<(i64, String)> = None;
    let mut since = std::time::Instant::now();
    loop {
        let key = key_by_id(store, id).await?.ok_or(CdpError::NotFound {
            what: "behaviour key",
        })?;
        let state = (key.cutoff, key.filled_to.clone());
        if key.ready {
            return Ok(key);
        }
        if last_seen.as_ref() != Some(&state) {
            last_seen = Some(state);
            since = std::time::Instant::now();
        } else if since.elapsed() >= FILL_STALL {
            return Ok(key);
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// Counts the stored events a key matches, per profile, in memory: those with `seq ≤
/// boundary` (a key's cutoff for a backfill, `i64::MAX` for a preview). Stops with `preview_too_expensive`
/// once `deadline` passes.
pub async fn scan_events(
    store: &Store,
    ws: &str,
    spec: &KeySpec,
    boundary: i64,
    deadline: Option<std::time::Instant>,
    counted: &mut u64,
) -> Result<HashMap<String, Counts>, CdpError> {
    let (kind, name) = spec.stored_as();
    let now = store.now().timestamp_millis();
    let lo = spec.from.unwrap_or(now - HORIZON_MS);
    let hi = spec.to.unwrap_or(i64::MAX);
    let p = |n| store.ph(n);
    let sql = format!(
        "SELECT seq, profile_id, ts, {body} FROM cdp_events \
         WHERE workspace_id = {} AND {} = {} AND seq <= {} AND ts >= {} AND ts < {} \
         AND (ts > {} OR (ts = {} AND seq > {})) ORDER BY ts, seq LIMIT {BACKFILL_PAGE}",
        p(1),
        if name.is_some() { "name" } else { "kind" },
        p(2),
        p(3),
        p(4),
        p(5),
        p(6),
        p(7),
        p(8),
        body = if spec.filters.is_empty() {
            "CAST('' AS TEXT) AS body"
        } else {
            "CAST(body AS TEXT) AS body"
        },
    );
    let mut collected: HashMap<String, Counts> = HashMap::new();
    let (mut last_ts, mut last_seq) = (i64::MIN, i64::MIN);
    loop {
        if deadline.is_some_and(|d| std::time::Instant::now() > d) {
            return Err(CdpError::Condition {
                code: ErrorCode::PreviewTooExpensive,
                path: "/".into(),
                message: "counting this condition over the stored events takes too long for a \
                          preview; save the segment to build its counters once"
                    .into(),
            });
        }
        let params = [
            SqlParam::Text(ws.to_string()),
            SqlParam::Text(name.clone().unwrap_or_else(|| kind.clone())),
            SqlParam::Int(boundary),
            SqlParam::Int(lo),
            SqlParam::Int(hi),
            SqlParam::Int(last_ts),
            SqlParam::Int(last_ts),
            SqlParam::Int(last_seq),
        ];
        let rows = store
            .db
            .fetch_all(
                &sql,
                &params,
                &[
                    ColumnKind::Int,
                    ColumnKind::Text,
                    ColumnKind::Int,
                    ColumnKind::Text,
                ],
            )
            .await?;
        for row in &rows {
            let ts = row.int("ts")?;
            let keep = spec.filters.is_empty() || {
                let body: Json = serde_json::from_str(&row.text("body")?).map_err(|e| {
                    StoreError::Corrupt(format!("an event's body is not JSON: {e}"))
                })?;
                spec.matches(&kind, name.as_deref(), ts, body.get(payload_field(&kind)))
            };
            if keep {
                *counted += 1;
                collected
                    .entry(row.text("profile_id")?)
                    .or_default()
                    .push(ts, spec.depth);
            }
        }
        let Some(last) = rows.last() else { break };
        last_ts = last.int("ts")?;
        last_seq = last.int("seq")?;
        if (rows.len() as i64) < BACKFILL_PAGE {
            break;
        }
    }
    for c in collected.values_mut() {
        c.trim(spec.depth);
    }
    Ok(collected)
}

/// The newest stored event's `seq` (events after it are new to whoever reads this).
pub async fn max_seq(store: &Store) -> Result<i64, CdpError> {
    let row = store
        .db
        .fetch_optional(
            "SELECT COALESCE(MAX(seq), 0) FROM cdp_events",
            &[],
            &[ColumnKind::Int],
        )
        .await?;
    // An aggregate always answers one row; no row would mean no event either.
    Ok(row.map(|r| r.int(0)).transpose()?.unwrap_or(0))
}

/// Counters of `profiles` for `keys`: key id → profile id → counts.
pub async fn load_counts(
    store: &Store,
    keys: &[String],
    profiles: &[String],
) -> Result<HashMap<String, HashMap<String, Counts>>, CdpError> {
    let mut out: HashMap<String, HashMap<String, Counts>> = HashMap::new();
    if keys.is_empty() || profiles.is_empty() {
        return Ok(out);
    }
    for chunk in profiles.chunks(500) {
        let dialect = store.db.dialect();
        let mut params: Vec<SqlParam> = Vec::with_capacity(keys.len() + chunk.len());
        let key_marks: Vec<String> = keys
            .iter()
            .map(|k| {
                params.push(SqlParam::Text(k.clone()));
                placeholder(dialect, params.len())
            })
            .collect();
        let profile_marks: Vec<String> = chunk
            .iter()
            .map(|p| {
                params.push(SqlParam::Text(p.clone()));
                placeholder(dialect, params.len())
            })
            .collect();
        let rows = store
            .db
            .fetch_all(
                &format!(
                    "SELECT key_id, profile_id, total, recent FROM cdp_behavior_counts \
                     WHERE key_id IN ({}) AND profile_id IN ({})",
                    key_marks.join(", "),
                    profile_marks.join(", ")
                ),
                &params,
                &[
                    ColumnKind::Text,
                    ColumnKind::Text,
                    ColumnKind::Int,
                    ColumnKind::Text,
                ],
            )
            .await?;
        for r in rows {
            out.entry(r.text("key_id")?).or_default().insert(
                r.text("profile_id")?,
                Counts::parse(r.int("total")?, &r.text("recent")?)?,
            );
        }
    }
    Ok(out)
}

/// The counter rows of one key whose newest event is after `since`, page by page (full
/// evaluation: a row with no event inside a window adds nothing to its count).
pub async fn scan_key(
    store: &Store,
    key: &str,
    since: i64,
    mut each: impl FnMut(String, Counts),
) -> Result<(), CdpError> {
    const PAGE: usize = 50_000;
    let (mut after_latest, mut after_profile) = (since, String::new());
    loop {
        let rows = store
            .db
            .fetch_all(
                &format!(
                    "SELECT profile_id, total, recent, latest FROM cdp_behavior_counts \
                     WHERE key_id = {} AND latest >= {} AND (latest > {} OR profile_id > {}) \
                     ORDER BY latest, profile_id LIMIT {PAGE}",
                    store.ph(1),
                    store.ph(2),
                    store.ph(3),
                    store.ph(4)
                ),
                &[
                    SqlParam::Text(key.to_string()),
                    SqlParam::Int(after_latest),
                    SqlParam::Int(after_latest),
                    SqlParam::Text(after_profile.clone()),
                ],
                &[
                    ColumnKind::Text,
                    ColumnKind::Int,
                    ColumnKind::Text,
                    ColumnKind::Int,
                ],
            )
            .await?;
        let n = rows.len();
        for r in rows {
            after_latest = r.int("latest")?;
            after_profile = r.text("profile_id")?;
            each(
                after_profile.clone(),
                Counts::parse(r.int("total")?, &r.text("recent")?)?,
            );
        }
        if n < PAGE {
            return Ok(());
        }
    }
}
