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
//! Keys never change once created, so a node caches their specs forever. The writer and a
//! backfill agree on who counts which event through a sequence boundary: a backfill counts the
//! events with `seq ≤ S`, where `S` is read after the key became visible to every writer (on
//! PostgreSQL an advisory lock, shared by writers and taken exclusively for that read, makes
//! sure no writer that missed the key is still running); writers count everything after.

use crate::error::CdpError;
use crate::{ph, placeholder, row_marks, statement_chunks};
use rapport_core::sql::{ColumnKind, Dialect, SqlParam};
use rapport_store::{Store, Tx};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

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
        // A number sent as a string still compares with a number.
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
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Whether a stored event is one this key counts. `kind` / `name` as in `cdp_events`;
    /// `payload` is the event's [`payload_field`].
    pub fn matches(&self, kind: &str, name: Option<&str>, ts: i64, payload: Option<&Json>) -> bool {
        let type_name = match kind {
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
    pub fn parse(total: i64, recent: &str) -> Counts {
        Counts {
            total,
            recent: recent.split(',').filter_map(|t| t.parse().ok()).collect(),
        }
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
#[derive(Default)]
pub struct KeyCache(Mutex<HashMap<String, Arc<KeySpec>>>);

impl KeyCache {
    fn get(&self, id: &str) -> Option<Arc<KeySpec>> {
        self.0.lock().ok()?.get(id).cloned()
    }

    fn put(&self, id: &str, spec: Arc<KeySpec>) {
        if let Ok(mut map) = self.0.lock() {
            if map.len() > 100_000 {
                map.clear();
            }
            map.insert(id.to_string(), spec);
        }
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

/// Inside the group commit: adds the new events to the counters of the keys they match.
pub async fn count_events(
    tx: &mut Tx,
    cache: &KeyCache,
    events: &[CountedEvent<'_>],
) -> Result<(), CdpError> {
    if events.is_empty() {
        return Ok(());
    }
    if tx.dialect() == Dialect::Postgres {
        tx.execute(
            &format!("SELECT pg_advisory_xact_lock_shared({KEYS_LOCK})"),
            &[],
        )
        .await?;
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
        let id = row.text(0);
        let spec = match cache.get(&id) {
            Some(s) => s,
            None => {
                let Ok(spec) = serde_json::from_str::<KeySpec>(&row.text(2)) else {
                    continue;
                };
                let spec = Arc::new(spec);
                cache.put(&id, spec.clone());
                spec
            }
        };
        keys.entry(row.text(1)).or_default().push((id, spec));
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

/// Adds times to counters: locks (PostgreSQL) and reads the existing rows, merges, writes.
async fn merge(
    tx: &mut Tx,
    added: &BTreeMap<(String, String), Counts>,
    depths: &HashMap<String, u32>,
) -> Result<(), CdpError> {
    let pairs: Vec<(&(String, String), &Counts)> = added.iter().collect();
    let postgres = tx.dialect() == Dialect::Postgres;
    for chunk in statement_chunks(&pairs) {
        let mut params = Vec::with_capacity(chunk.len() * 2);
        let mut tuples = Vec::with_capacity(chunk.len());
        for ((key, profile), _) in chunk {
            let n = params.len();
            tuples.push(row_marks(tx, n, 2));
            params.push(SqlParam::Text(key.clone()));
            params.push(SqlParam::Text(profile.clone()));
        }
        if postgres {
            // Rows to lock must exist: another node may be adding to the same counters.
            tx.execute(
                &format!(
                    "INSERT INTO cdp_behavior_counts (key_id, profile_id, total, recent, latest) \
                     SELECT v.k, v.p, 0, '', 0 FROM (VALUES {}) AS v(k, p) \
                     ON CONFLICT (key_id, profile_id) DO NOTHING",
                    tuples.join(", ")
                ),
                &params,
            )
            .await?;
        }
        let rows = tx
            .fetch_all(
                &format!(
                    "SELECT key_id, profile_id, total, recent FROM cdp_behavior_counts \
                     WHERE (key_id, profile_id) IN (VALUES {}) ORDER BY key_id, profile_id{}",
                    tuples.join(", "),
                    tx.for_update()
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
        let mut existing: HashMap<(String, String), Counts> = rows
            .iter()
            .map(|r| ((r.text(0), r.text(1)), Counts::parse(r.int(2), &r.text(3))))
            .collect();
        let mut out = Vec::with_capacity(chunk.len() * 5);
        let mut values = Vec::with_capacity(chunk.len());
        for (pair, more) in chunk {
            let mut counts = existing.remove(*pair).unwrap_or_default();
            counts.absorb(more, depths.get(&pair.0).copied().unwrap_or(2));
            let n = out.len();
            values.push(row_marks(tx, n, 5));
            out.push(SqlParam::Text(pair.0.clone()));
            out.push(SqlParam::Text(pair.1.clone()));
            out.push(SqlParam::Int(counts.total));
            out.push(SqlParam::Text(counts.recent_text()));
            out.push(SqlParam::Int(counts.recent.first().copied().unwrap_or(0)));
        }
        tx.execute(
            &format!(
                "INSERT INTO cdp_behavior_counts (key_id, profile_id, total, recent, latest) VALUES {} \
                 ON CONFLICT (key_id, profile_id) DO UPDATE SET total = excluded.total, recent = excluded.recent, \
                 latest = excluded.latest",
                values.join(", ")
            ),
            &out,
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
}

/// The key of `spec` in the workspace, if there is one.
pub async fn find_key(store: &Store, ws: &str, spec: &KeySpec) -> Result<Option<Key>, CdpError> {
    let row = store
        .db
        .fetch_optional(
            &format!(
                "SELECT id, ready FROM cdp_behavior_keys WHERE workspace_id = {} AND signature = {}",
                store.ph(1),
                store.ph(2)
            ),
            &[
                SqlParam::Text(ws.to_string()),
                SqlParam::Text(spec.signature()),
            ],
            &[ColumnKind::Text, ColumnKind::Bool],
        )
        .await?;
    Ok(row.map(|r| Key {
        id: r.text(0),
        ready: r.bool(1),
    }))
}

/// Finds or creates the key of `spec` in the workspace.
pub async fn ensure_key(store: &Store, ws: &str, spec: &KeySpec) -> Result<Key, CdpError> {
    if let Some(key) = find_key(store, ws, spec).await? {
        return Ok(key);
    }
    store
        .db
        .execute(
            &format!(
                "INSERT INTO cdp_behavior_keys (id, workspace_id, signature, spec, event, ready, created_at) \
                 VALUES ({}, {}, {}, {}, {}, {}, {}) ON CONFLICT (workspace_id, signature) DO NOTHING",
                store.ph(1),
                store.ph(2),
                store.ph(3),
                store.ph(4),
                store.ph(5),
                store.ph(6),
                store.ph(7)
            ),
            &[
                SqlParam::Text(uuid::Uuid::now_v7().to_string()),
                SqlParam::Text(ws.to_string()),
                SqlParam::Text(spec.signature()),
                SqlParam::Text(serde_json::to_string(spec).unwrap_or_default()),
                SqlParam::Text(spec.event.clone()),
                SqlParam::Bool(false),
                SqlParam::Int(store.now().timestamp_millis()),
            ],
        )
        .await?;
    find_key(store, ws, spec).await?.ok_or(CdpError::NotFound {
        what: "behaviour key",
    })
}

/// Fills a new key's counters from the stored events (see the module header for why no event
/// is counted twice or missed), then marks it ready. Returns the events counted.
pub async fn backfill(store: &Store, ws: &str, key: &Key, spec: &KeySpec) -> Result<u64, CdpError> {
    if key.ready {
        return Ok(0);
    }
    let boundary = boundary_seq(store).await?;
    let mut counted = 0u64;
    let collected = scan_events(store, ws, spec, boundary, None, &mut counted).await?;
    let depths = HashMap::from([(key.id.clone(), spec.depth)]);
    let mut entries: Vec<(String, Counts)> = collected.into_iter().collect();
    while !entries.is_empty() {
        let part = entries.split_off(entries.len().saturating_sub(2_048));
        let added: BTreeMap<(String, String), Counts> = part
            .into_iter()
            .map(|(profile, counts)| ((key.id.clone(), profile), counts))
            .collect();
        let mut tx = store.db.begin().await?;
        merge(&mut tx, &added, &depths).await?;
        tx.commit().await?;
    }
    store
        .db
        .execute(
            &format!(
                "UPDATE cdp_behavior_keys SET ready = {} WHERE id = {}",
                store.ph(1),
                store.ph(2)
            ),
            &[SqlParam::Bool(true), SqlParam::Text(key.id.clone())],
        )
        .await?;
    Ok(counted)
}

/// Counts the stored events a key matches, per profile, in memory: those with `seq ≤
/// boundary` for a backfill, or all of them for a preview. Stops with `preview_too_expensive`
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
            "CAST('' AS TEXT)"
        } else {
            "CAST(body AS TEXT)"
        },
    );
    let mut collected: HashMap<String, Counts> = HashMap::new();
    let (mut last_ts, mut last_seq) = (i64::MIN, i64::MIN);
    loop {
        if deadline.is_some_and(|d| std::time::Instant::now() > d) {
            return Err(CdpError::Condition {
                code: "preview_too_expensive",
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
            let ts = row.int(2);
            let keep = spec.filters.is_empty() || {
                let body: Json = serde_json::from_str(&row.text(3)).unwrap_or(Json::Null);
                spec.matches(&kind, name.as_deref(), ts, body.get(payload_field(&kind)))
            };
            if keep {
                *counted += 1;
                collected
                    .entry(row.text(1))
                    .or_default()
                    .push(ts, spec.depth);
            }
        }
        let Some(last) = rows.last() else { break };
        last_ts = last.int(2);
        last_seq = last.int(0);
        if (rows.len() as i64) < BACKFILL_PAGE {
            break;
        }
    }
    for c in collected.values_mut() {
        c.trim(spec.depth);
    }
    Ok(collected)
}

/// The highest event sequence number a backfill must count up to.
pub async fn boundary_seq(store: &Store) -> Result<i64, CdpError> {
    let mut tx = store.db.begin().await?;
    if tx.dialect() == Dialect::Postgres {
        tx.execute(&format!("SELECT pg_advisory_xact_lock({KEYS_LOCK})"), &[])
            .await?;
    }
    let row = tx
        .fetch_optional(
            "SELECT COALESCE(MAX(seq), 0) FROM cdp_events",
            &[],
            &[ColumnKind::Int],
        )
        .await?;
    tx.commit().await?;
    Ok(row.map_or(0, |r| r.int(0)))
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
            out.entry(r.text(0))
                .or_default()
                .insert(r.text(1), Counts::parse(r.int(2), &r.text(3)));
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
            after_latest = r.int(3);
            after_profile = r.text(0);
            each(r.text(0), Counts::parse(r.int(1), &r.text(2)));
        }
        if n < PAGE {
            return Ok(());
        }
    }
}
