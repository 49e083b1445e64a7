//! The segment engine: what keeps membership current, as methods the node's workers and the
//! API call (`crate::workers` runs them; any number of nodes may). It judges the customers the
//! group commits queued (`cdp_segment_pending`, written in the commit's transaction and drained
//! with leases, so a crash loses none), due window timers, and CRM changes to contacts and
//! companies (an outbox consumer); it builds new or changed segments (fills their behaviour
//! counters, then evaluates them fully; a leased claim makes one node build a segment at a time)
//! and evaluates a segment on request.
//!
//! On PostgreSQL each evaluation of a workspace holds an advisory lock on it from the first
//! read to the commit, so two nodes evaluating the same customer cannot write a stale verdict
//! over a newer one.

use super::behavior::{self, Key};
use super::definitions::{self, CompiledCache};
use super::evaluate::{clusters, decide, roots_of};
use super::full::{self, CountSource};
use super::membership::{self, Change};
use super::Compiled;
use crate::error::CdpError;
use rapport_core::codes::ErrorCode;
use rapport_core::sql::{placeholders, ColumnKind, Dialect, SqlParam};
use rapport_store::outbox::{Consumer, Topic};
use rapport_store::{table_name, Store, StoreError, Tx};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::Notify;
use utoipa::ToSchema;

/// Changes to CRM contacts and companies, for segments that test contact fields.
const CRM_CHANGES: Consumer = Consumer {
    name: "cdp.segments",
    topics: &[
        Topic::RecordCreated,
        Topic::RecordUpdated,
        Topic::RecordDeleted,
        Topic::RecordRestored,
    ],
    objects: &["contact", "company"],
};

/// Timers handled per tick.
const TIMERS_PER_TICK: i64 = 2_000;
/// Queued customers judged per tick.
const PENDING_PER_TICK: i64 = 1_000;
/// How long a node owns the pending rows it claimed, and a segment it builds (renewed while
/// the build goes on).
const PENDING_LEASE_MS: i64 = 60_000;
const BUILD_LEASE_MS: i64 = 60_000;

/// What a full evaluation did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FullReport {
    pub members: i64,
    pub entered: i64,
    pub exited: i64,
    /// Events read to fill new behaviour counters.
    pub events_counted: u64,
    pub took_ms: u64,
}

pub struct Engine {
    store: Store,
    pub compiled: Arc<CompiledCache>,
    /// One lock per behaviour key being filled on this node.
    filling: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
    /// Woken when this node's writer queued customers to judge.
    pub pending: Arc<Notify>,
    /// Woken when a segment on this node was created, changed or recounted.
    pub builds: Arc<Notify>,
}

impl Engine {
    pub fn new(store: Store) -> Arc<Engine> {
        Arc::new(Engine {
            store,
            compiled: Arc::new(CompiledCache::default()),
            filling: Arc::default(),
            pending: Arc::new(Notify::new()),
            builds: Arc::new(Notify::new()),
        })
    }

    /// Recounts a segment's behaviour counters from the stored events: its keys start over,
    /// and every segment of the workspace that shares one of them rebuilds (state `building`
    /// meanwhile, then a full evaluation writes what changed).
    pub async fn recount(&self, ws: &str, segment_id: &str) -> Result<(), CdpError> {
        let Some(row) = definitions::row(&self.store, segment_id)
            .await?
            .filter(|r| r.workspace_id == ws)
        else {
            return Err(CdpError::NotFound { what: "segment" });
        };
        let keys = self
            .compiled
            .compiled(&self.store, &row)
            .await?
            .keys
            .clone();
        let mut affected = Vec::new();
        for other in definitions::current_rows(&self.store, ws).await? {
            let compiled = self.compiled.compiled(&self.store, &other).await?;
            if other.id == segment_id || compiled.keys.iter().any(|k| keys.contains(k)) {
                affected.push(other.id.clone());
            }
        }
        behavior::reset(&self.store, &keys, &affected).await?;
        self.builds.notify_one();
        Ok(())
    }

    /// Judges the customers the group commits queued, a batch at a time: claims rows with a
    /// lease token, judges their customers in every live segment, and deletes the rows still
    /// carrying its token (a newer event cleared it: that profile is judged again). Returns
    /// how many it judged.
    pub async fn judge_pending(&self) -> Result<usize, CdpError> {
        let now = self.store.now().timestamp_millis();
        let token = uuid::Uuid::now_v7().to_string();
        let skip_locked = match self.store.db.dialect() {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        };
        let p = |n| self.store.ph(n);
        let rows = self
            .store
            .db
            .write_returning(
                &format!(
                    "UPDATE cdp_segment_pending SET lease = {}, leased_until = {} WHERE (workspace_id, profile_id) IN \
                     (SELECT workspace_id, profile_id FROM cdp_segment_pending WHERE leased_until < {} \
                      ORDER BY queued_at LIMIT {PENDING_PER_TICK}{skip_locked}) RETURNING workspace_id, profile_id",
                    p(1),
                    p(2),
                    p(3)
                ),
                &[
                    SqlParam::Text(token.clone()),
                    SqlParam::Int(now + PENDING_LEASE_MS),
                    SqlParam::Int(now),
                ],
                &[ColumnKind::Text, ColumnKind::Text],
            )
            .await?;
        let mut by_ws: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for r in &rows {
            by_ws
                .entry(r.text("workspace_id")?)
                .or_default()
                .push(r.text("profile_id")?);
        }
        for (ws, profiles) in &by_ws {
            self.streaming(ws, profiles, None, "event").await?;
        }
        if !rows.is_empty() {
            self.store
                .db
                .execute(
                    &format!("DELETE FROM cdp_segment_pending WHERE lease = {}", p(1)),
                    &[SqlParam::Text(token)],
                )
                .await?;
        }
        Ok(rows.len())
    }

    /// Builds one segment that is `building` and that no other node builds now: fills its
    /// counters, then evaluates it fully. Returns whether there was one.
    pub async fn build_next(&self) -> Result<bool, CdpError> {
        let now = self.store.now().timestamp_millis();
        let p = |n| self.store.ph(n);
        let claimed = self
            .store
            .db
            .write_returning(
                &format!(
                    "UPDATE cdp_segments SET build_leased_until = {} WHERE id = \
                     (SELECT id FROM cdp_segments WHERE state = 'building' AND archived_at IS NULL \
                      AND build_leased_until < {} ORDER BY updated_at LIMIT 1) AND build_leased_until < {} RETURNING id",
                    p(1),
                    p(2),
                    p(3)
                ),
                &[
                    SqlParam::Int(now + BUILD_LEASE_MS),
                    SqlParam::Int(now),
                    SqlParam::Int(now),
                ],
                &[ColumnKind::Text],
            )
            .await?;
        let Some(id) = claimed.first().map(|r| r.text("id")).transpose()? else {
            return Ok(false);
        };
        let result = self.full(&id).await;
        self.store
            .db
            .execute(
                &format!(
                    "UPDATE cdp_segments SET build_leased_until = 0 WHERE id = {}",
                    p(1)
                ),
                &[SqlParam::Text(id.clone())],
            )
            .await?;
        match result {
            // Reset again while building: the next tick builds it anew.
            Ok(_)
            | Err(CdpError::Conflict {
                code: ErrorCode::SegmentBuilding,
                ..
            }) => Ok(true),
            Err(e) => Err(e),
        }
    }

    /// Keeps this node's claim on a segment it builds.
    async fn renew_build(&self, segment_id: &str) -> Result<(), CdpError> {
        let until = self.store.now().timestamp_millis() + BUILD_LEASE_MS;
        self.store
            .db
            .execute(
                &format!(
                    "UPDATE cdp_segments SET build_leased_until = {} WHERE id = {} AND build_leased_until > 0",
                    self.store.ph(1),
                    self.store.ph(2)
                ),
                &[SqlParam::Int(until), SqlParam::Text(segment_id.to_string())],
            )
            .await?;
        Ok(())
    }

    /// A full evaluation now (fills the counters first if they are not ready).
    pub async fn evaluate(&self, segment_id: &str) -> Result<FullReport, CdpError> {
        self.full(segment_id).await
    }

    /// Fills the segment's behaviour keys that are not ready; one filler per key per node.
    async fn fill(&self, segment_id: &str) -> Result<u64, CdpError> {
        let Some(row) = definitions::row(&self.store, segment_id).await? else {
            return Ok(0);
        };
        let compiled = self.compiled.compiled(&self.store, &row).await?;
        let mut counted = 0;
        for b in &compiled.condition.behaviors {
            let lock = {
                let Ok(mut map) = self.filling.lock() else {
                    return Err(CdpError::Overloaded);
                };
                map.entry(b.spec.signature()).or_default().clone()
            };
            let _guard = lock.lock().await;
            let key: Key = behavior::ensure_key(&self.store, &row.workspace_id, &b.spec).await?;
            counted += behavior::backfill(&self.store, &row.workspace_id, &key, &b.spec).await?;
            self.renew_build(segment_id).await?;
        }
        Ok(counted)
    }

    async fn live(&self, ws: &str) -> Result<Vec<Arc<Compiled>>, CdpError> {
        let mut out = Vec::new();
        for row in definitions::live_rows(&self.store, ws).await? {
            match self.compiled.compiled(&self.store, &row).await {
                Ok(c) => out.push(c),
                Err(e) => tracing::warn!("segment {} does not compile: {e}", row.id),
            }
        }
        Ok(out)
    }

    /// Re-evaluates the customers of `profiles` in every live segment of the workspace.
    async fn streaming(
        &self,
        ws: &str,
        profiles: &[String],
        only: Option<&[String]>,
        cause: &str,
    ) -> Result<Vec<Change>, CdpError> {
        let mut segments = self.live(ws).await?;
        if let Some(ids) = only {
            segments.retain(|s| ids.contains(&s.id));
        }
        if segments.is_empty() {
            return Ok(Vec::new());
        }
        let lock = WorkspaceLock::take(&self.store, ws).await?;
        let roots: Vec<String> = roots_of(&self.store, profiles)
            .await?
            .into_values()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let clusters = clusters(&self.store, &roots).await?;
        let stale: Vec<String> = clusters
            .values()
            .flat_map(|m| m.iter().skip(1).cloned())
            .chain(
                profiles
                    .iter()
                    .filter(|p| !clusters.contains_key(*p))
                    .cloned(),
            )
            .filter(|p| !roots.contains(p))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let now = self.store.now().timestamp_millis();
        let decisions = decide(&self.store, ws, &segments, &roots, now).await?;
        let versions: HashMap<String, i64> =
            segments.iter().map(|s| (s.id.clone(), s.version)).collect();
        let mut tx = lock.into_tx(&self.store).await?;
        // A segment whose counters were reset (or whose condition changed) since they were read
        // is left to its rebuild.
        let versions = still_live(&mut tx, versions).await?;
        let decisions: Vec<_> = decisions
            .into_iter()
            .filter(|d| versions.contains_key(&d.segment_id))
            .collect();
        let changes =
            membership::apply(&mut tx, ws, &versions, &decisions, &stale, cause, now).await?;
        tx.commit().await?;
        Ok(changes)
    }

    /// Judges the customers whose window timers are due. Returns how many timers it read.
    pub async fn tick_timers(&self) -> Result<usize, CdpError> {
        let now = self.store.now().timestamp_millis();
        let rows = self
            .store
            .db
            .fetch_all(
                &format!(
                    "SELECT t.segment_id, t.profile_id, s.workspace_id FROM cdp_segment_timers t \
                     JOIN cdp_segments s ON s.id = t.segment_id WHERE t.due_at <= {} ORDER BY t.due_at LIMIT {TIMERS_PER_TICK}",
                    self.store.ph(1)
                ),
                &[SqlParam::Int(now)],
                &[ColumnKind::Text, ColumnKind::Text, ColumnKind::Text],
            )
            .await?;
        let mut by_ws: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
        for r in &rows {
            let e = by_ws.entry(r.text("workspace_id")?).or_default();
            e.0.insert(r.text("segment_id")?);
            e.1.insert(r.text("profile_id")?);
        }
        for (ws, (segments, profiles)) in by_ws {
            let segments: Vec<String> = segments.into_iter().collect();
            let profiles: Vec<String> = profiles.into_iter().collect();
            self.streaming(&ws, &profiles, Some(&segments), "window_expired")
                .await?;
            // Timers of segments that are no longer live are dropped.
            let mut tx = self.store.db.begin().await?;
            for s in &segments {
                if definitions::row(&self.store, s)
                    .await?
                    .is_none_or(|r| r.state != "live")
                {
                    tx.execute(
                        &format!(
                            "DELETE FROM cdp_segment_timers WHERE segment_id = {}",
                            crate::ph(&tx, 1)
                        ),
                        &[SqlParam::Text(s.clone())],
                    )
                    .await?;
                }
            }
            tx.commit().await?;
        }
        Ok(rows.len())
    }

    /// Customers whose contact (or the contact's company) changed in the CRM are judged again,
    /// for segments that test contact fields. Reads the outbox with its own cursor; returns how
    /// many entries it read.
    pub async fn crm_changes(&self) -> Result<usize, CdpError> {
        let Some(claim) = CRM_CHANGES.claim(&self.store, 200).await? else {
            return Ok(0);
        };
        let read = claim.entries.len();
        let mut by_ws: BTreeMap<&str, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
        for e in &claim.entries {
            let entry = by_ws.entry(e.workspace_id.as_str()).or_default();
            if e.object == "contact" {
                entry.0.insert(e.record_id.clone());
            } else {
                entry.1.insert(e.record_id.clone());
            }
        }
        for (ws, (mut contacts, companies)) in by_ws {
            if !self
                .live(ws)
                .await?
                .iter()
                .any(|s| s.condition.uses_contact)
            {
                continue;
            }
            let companies: Vec<String> = companies.into_iter().collect();
            for chunk in companies.chunks(500) {
                let table = rapport_core::names::quote(&table_name(ws, "contact"));
                let rows = self
                    .store
                    .db
                    .fetch_all(
                        &format!(
                            "SELECT id FROM {table} WHERE company IN ({})",
                            placeholders(self.store.db.dialect(), 1, chunk.len())
                        ),
                        &chunk
                            .iter()
                            .map(|c| SqlParam::Text(c.clone()))
                            .collect::<Vec<_>>(),
                        &[ColumnKind::Text],
                    )
                    .await;
                // A workspace whose contacts have no company relation has nothing to follow.
                if let Ok(rows) = rows {
                    for r in &rows {
                        contacts.insert(r.text("id")?);
                    }
                }
            }
            let contacts: Vec<String> = contacts.into_iter().collect();
            let mut profiles = Vec::new();
            for chunk in contacts.chunks(500) {
                let mut params = vec![SqlParam::Text(ws.to_string())];
                params.extend(chunk.iter().map(|c| SqlParam::Text(c.clone())));
                let rows = self
                    .store
                    .db
                    .fetch_all(
                        &format!(
                            "SELECT id FROM cdp_profiles WHERE workspace_id = {} AND contact_id IN ({})",
                            self.store.ph(1),
                            placeholders(self.store.db.dialect(), 2, chunk.len())
                        ),
                        &params,
                        &[ColumnKind::Text],
                    )
                    .await?;
                for r in &rows {
                    profiles.push(r.text("id")?);
                }
            }
            for chunk in profiles.chunks(1_000) {
                self.streaming(ws, chunk, None, "contact_changed").await?;
            }
        }
        claim.done(&self.store).await?;
        Ok(read)
    }

    /// Evaluates one segment over every customer and writes the differences.
    async fn full(&self, segment_id: &str) -> Result<FullReport, CdpError> {
        let started = Instant::now();
        let events_counted = self.fill(segment_id).await?;
        let Some(row) = definitions::row(&self.store, segment_id).await? else {
            return Err(CdpError::NotFound { what: "segment" });
        };
        let compiled = self.compiled.compiled(&self.store, &row).await?;
        let ws = row.workspace_id.clone();
        let lock = WorkspaceLock::take(&self.store, &ws).await?;
        let boundary = behavior::max_seq(&self.store).await?;
        let now = self.store.now().timestamp_millis();
        let sources = compiled
            .keys
            .iter()
            .map(|k| CountSource::Key(k.clone()))
            .collect();
        let result =
            full::evaluate(&self.store, &ws, &compiled.condition, sources, now, None).await?;
        let current = membership::all_member_ids(&self.store, segment_id).await?;
        let current_set: BTreeSet<&String> = current.iter().collect();
        let mut changes = Vec::new();
        for root in result.members.keys() {
            if !current_set.contains(root) {
                changes.push(Change {
                    segment_id: segment_id.to_string(),
                    profile_id: root.clone(),
                    entered: true,
                    version: row.version,
                });
            }
        }
        for root in &current {
            if !result.members.contains_key(root) {
                changes.push(Change {
                    segment_id: segment_id.to_string(),
                    profile_id: root.clone(),
                    entered: false,
                    version: row.version,
                });
            }
        }
        let timers = timer_diff(&self.store, segment_id, &result).await?;
        let mut tx = lock.into_tx(&self.store).await?;
        if !keys_ready(&mut tx, &compiled.keys).await? {
            // Reset while this evaluation read them: the rebuild evaluates again. (Dropping the
            // transaction rolls it back.)
            drop(tx);
            return Err(CdpError::Conflict {
                code: ErrorCode::SegmentBuilding,
                message: "the segment's counters are being recounted; try again when it is live"
                    .into(),
            });
        }
        membership::write_changes(&mut tx, &ws, &changes, "evaluated", now).await?;
        membership::write_timers(&mut tx, &timers.0, &timers.1).await?;
        let members = i64::try_from(result.members.len()).unwrap_or(i64::MAX);
        tx.execute(
            &format!(
                "UPDATE cdp_segments SET state = 'live', member_count = {}, evaluated_at = {} WHERE id = {} AND version = {}",
                crate::ph(&tx, 1),
                crate::ph(&tx, 2),
                crate::ph(&tx, 3),
                crate::ph(&tx, 4)
            ),
            &[
                SqlParam::Int(members),
                SqlParam::Int(now),
                SqlParam::Text(segment_id.to_string()),
                SqlParam::Int(row.version),
            ],
        )
        .await?;
        tx.commit().await?;
        // Events committed while this ran were counted, but their customers may have been
        // judged before: judge them again.
        let late = profiles_since(&self.store, &ws, boundary).await?;
        if !late.is_empty() {
            self.streaming(&ws, &late, Some(&[segment_id.to_string()]), "event")
                .await?;
        }
        let entered = changes.iter().filter(|c| c.entered).count();
        Ok(FullReport {
            members,
            entered: i64::try_from(entered).unwrap_or(0),
            exited: i64::try_from(changes.len() - entered).unwrap_or(0),
            events_counted,
            took_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        })
    }

    /// Members of an archived segment leave it; its timers go.
    pub async fn archive(&self, ws: &str, segment_id: &str) -> Result<(), CdpError> {
        let current = membership::all_member_ids(&self.store, segment_id).await?;
        let version = definitions::get(&self.store, ws, segment_id).await?.version;
        let changes: Vec<Change> = current
            .into_iter()
            .map(|p| Change {
                segment_id: segment_id.to_string(),
                profile_id: p,
                entered: false,
                version,
            })
            .collect();
        let now = self.store.now().timestamp_millis();
        let lock = WorkspaceLock::take(&self.store, ws).await?;
        let mut tx = lock.into_tx(&self.store).await?;
        membership::write_changes(&mut tx, ws, &changes, "archived", now).await?;
        tx.execute(
            &format!(
                "DELETE FROM cdp_segment_timers WHERE segment_id = {}",
                crate::ph(&tx, 1)
            ),
            &[SqlParam::Text(segment_id.to_string())],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Whether every key is filled, read while no key can be reset.
async fn keys_ready(tx: &mut Tx, keys: &[String]) -> Result<bool, CdpError> {
    behavior::hold_keys_shared(tx).await?;
    if keys.is_empty() {
        return Ok(true);
    }
    let marks: Vec<String> = (1..=keys.len()).map(|n| crate::ph(tx, n)).collect();
    let row = tx
        .fetch_optional(
            &format!(
                "SELECT COUNT(*) FROM cdp_behavior_keys WHERE id IN ({}) AND ready = FALSE",
                marks.join(", ")
            ),
            &keys
                .iter()
                .map(|k| SqlParam::Text(k.clone()))
                .collect::<Vec<_>>(),
            &[ColumnKind::Int],
        )
        .await?;
    // COUNT(*) always answers one row; none would mean no key is waiting.
    Ok(row.map(|r| r.int(0)).transpose()?.unwrap_or(0) == 0)
}

/// Timers to set and to clear so the segment's timers match a full evaluation.
async fn timer_diff(
    store: &Store,
    segment_id: &str,
    result: &full::Evaluation,
) -> Result<(Vec<(String, String, i64)>, Vec<(String, String)>), CdpError> {
    let rows = store
        .db
        .fetch_all(
            &format!(
                "SELECT profile_id, due_at FROM cdp_segment_timers WHERE segment_id = {}",
                store.ph(1)
            ),
            &[SqlParam::Text(segment_id.to_string())],
            &[ColumnKind::Text, ColumnKind::Int],
        )
        .await?;
    let existing: HashMap<String, i64> = rows
        .iter()
        .map(|r| Ok((r.text("profile_id")?, r.int("due_at")?)))
        .collect::<Result<_, StoreError>>()?;
    let mut wanted: HashMap<&String, i64> = HashMap::new();
    for (root, due) in &result.members {
        if let Some(d) = due {
            wanted.insert(root, *d);
        }
    }
    for (root, due) in &result.others_due {
        wanted.insert(root, *due);
    }
    let set = wanted
        .iter()
        .filter(|(root, due)| existing.get(**root) != Some(due))
        .map(|(root, due)| (segment_id.to_string(), (*root).clone(), *due))
        .collect();
    let clear = existing
        .keys()
        .filter(|p| !wanted.contains_key(p))
        .map(|p| (segment_id.to_string(), p.clone()))
        .collect();
    Ok((set, clear))
}

/// The segments of `versions` that are still live at the same version, read inside the
/// writing transaction while no key can be reset (a reset sets its segments `building` in the
/// transaction that deletes their counters).
async fn still_live(
    tx: &mut Tx,
    versions: HashMap<String, i64>,
) -> Result<HashMap<String, i64>, CdpError> {
    behavior::hold_keys_shared(tx).await?;
    let ids: Vec<String> = versions.keys().cloned().collect();
    let mut live = HashMap::new();
    for chunk in ids.chunks(500) {
        let marks: Vec<String> = (1..=chunk.len()).map(|n| crate::ph(tx, n)).collect();
        let rows = tx
            .fetch_all(
                &format!(
                    "SELECT id, version FROM cdp_segments WHERE id IN ({}) AND state = 'live' AND archived_at IS NULL",
                    marks.join(", ")
                ),
                &chunk
                    .iter()
                    .map(|id| SqlParam::Text(id.clone()))
                    .collect::<Vec<_>>(),
                &[ColumnKind::Text, ColumnKind::Int],
            )
            .await?;
        for r in rows {
            let (id, version) = (r.text("id")?, r.int("version")?);
            if versions.get(&id) == Some(&version) {
                live.insert(id, version);
            }
        }
    }
    Ok(live)
}

/// Profiles with events stored after `seq` in the workspace.
async fn profiles_since(store: &Store, ws: &str, seq: i64) -> Result<Vec<String>, CdpError> {
    let rows = store
        .db
        .fetch_all(
            &format!(
                "SELECT DISTINCT profile_id FROM cdp_events WHERE seq > {} AND workspace_id = {} LIMIT 100000",
                store.ph(1),
                store.ph(2)
            ),
            &[SqlParam::Int(seq), SqlParam::Text(ws.to_string())],
            &[ColumnKind::Text],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| r.text("profile_id"))
        .collect::<Result<_, _>>()?)
}

/// A workspace's evaluation lock: on PostgreSQL a transaction holding an advisory lock from
/// before the first read; on SQLite nothing (one engine per database), and the writing
/// transaction starts when asked for.
struct WorkspaceLock(Option<Tx>);

impl WorkspaceLock {
    async fn take(store: &Store, ws: &str) -> Result<WorkspaceLock, CdpError> {
        if store.db.dialect() != Dialect::Postgres {
            return Ok(WorkspaceLock(None));
        }
        let mut tx = store.db.begin().await?;
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtext('cdp.segments:' || $1))",
            &[SqlParam::Text(ws.to_string())],
        )
        .await?;
        Ok(WorkspaceLock(Some(tx)))
    }

    async fn into_tx(self, store: &Store) -> Result<Tx, CdpError> {
        match self.0 {
            Some(tx) => Ok(tx),
            None => Ok(store.db.begin().await?),
        }
    }
}
