//! The group commit. Requests hand their checked events to one writer task per node through a
//! bounded queue; the writer takes every job waiting (up to a cap), and in ONE transaction
//! resolves identities, appends the events (duplicates by `messageId` per source are dropped by
//! a unique index), holds what did not fit, queues CRM syncs and counts data health — then
//! commits and only then answers each request. A 200 therefore means durable, and many
//! concurrent senders share one commit.

use crate::error::CdpError;
use crate::health;
use crate::identity::resolve::{EventIdentity, IdentityCache, Resolver, Warning};
use crate::identity::{identifiers, Ident};
use crate::segments::behavior::{count_events, payload_field, CountedEvent, KeyCache};
use crate::segments::engine::Engine;
use crate::settings::Settings;
use crate::sources::Source;
use crate::wire::{Incoming, Kind};
use crate::{json_ph, ph};
use rapport_core::sql::{ColumnKind, SqlParam};
use rapport_store::{Store, Tx};
use serde_json::{Map, Value as Json};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// An event kept aside: quarantined (replayable) or rejected (kept for inspection).
#[derive(Debug, Clone)]
pub struct Held {
    pub disposition: &'static str,
    pub code: String,
    pub reason: String,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub message_id: Option<String>,
    pub payload: Json,
    pub received_at: i64,
}

/// One request's share of a group commit.
pub struct Job {
    pub source: Source,
    pub settings: Arc<Settings>,
    pub accepted: Vec<Incoming>,
    pub held: Vec<Held>,
    /// Events in the request, for data health (accepted + held + duplicates).
    pub received: usize,
    /// Held rows already in the table that this job replays (marked replayed on commit).
    pub replayed: Vec<String>,
    pub reply: oneshot::Sender<Result<Outcome, CdpError>>,
}

/// What the commit made of a job.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Indexes (in the request) of accepted events whose messageId was already stored.
    pub duplicates: Vec<usize>,
    /// Profiles the job's events belong to, by index.
    pub profiles: BTreeMap<usize, String>,
}

/// Events per transaction at most; more waiting jobs go to the next group.
const GROUP_EVENTS: usize = 10_000;
/// Jobs waiting before senders get 503.
pub const QUEUE_JOBS: usize = 1_024;

/// What the writer shares with the rest of the node.
pub struct Shared {
    pub identities: Arc<IdentityCache>,
    pub metrics: Arc<health::Metrics>,
    pub keys: Arc<KeyCache>,
    pub segments: Arc<Engine>,
}

pub fn start(store: Store, shared: Shared) -> (mpsc::Sender<Job>, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(QUEUE_JOBS);
    let task = tokio::spawn(run(store, shared, rx));
    (tx, task)
}

async fn run(store: Store, shared: Shared, mut rx: mpsc::Receiver<Job>) {
    let Shared {
        identities: cache,
        metrics,
        keys,
        segments,
    } = shared;
    let mut statistics = Statistics::default();
    while let Some(first) = rx.recv().await {
        let mut events = first.accepted.len() + first.held.len();
        let mut jobs = vec![first];
        while events < GROUP_EVENTS {
            match rx.try_recv() {
                Ok(job) => {
                    events += job.accepted.len() + job.held.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let mut result = commit(&store, &cache, &keys, &jobs).await;
        for _ in 0..3 {
            if !matches!(
                result,
                Err(CdpError::Conflict {
                    code: "identity_race",
                    ..
                })
            ) {
                break;
            }
            cache.clear();
            result = commit(&store, &cache, &keys, &jobs).await;
        }
        match result {
            Ok((outcomes, counters)) => {
                metrics.record(&counters);
                let written: usize = jobs.iter().map(|j| j.accepted.len()).sum();
                let mut touched: BTreeMap<&str, Vec<String>> = BTreeMap::new();
                for (job, outcome) in jobs.iter().zip(&outcomes) {
                    touched
                        .entry(job.source.workspace_id.as_str())
                        .or_default()
                        .extend(outcome.profiles.values().cloned());
                }
                for (ws, profiles) in touched {
                    segments.touched(ws, profiles, "event");
                }
                for (job, outcome) in jobs.into_iter().zip(outcomes) {
                    let _ = job.reply.send(Ok(outcome));
                }
                statistics.after_commit(&store, written).await;
            }
            Err(error) => {
                tracing::error!("group commit of {} job(s) failed: {error}", jobs.len());
                cache.clear();
                for job in jobs {
                    let _ = job.reply.send(Err(CdpError::Overloaded));
                }
            }
        }
    }
}

async fn commit(
    store: &Store,
    cache: &IdentityCache,
    keys: &KeyCache,
    jobs: &[Job],
) -> Result<(Vec<Outcome>, health::Counters), CdpError> {
    let now = store.now().timestamp_millis();
    let mut tx = store.db.begin().await?;
    let mut outcomes: Vec<Outcome> = jobs.iter().map(|_| Outcome::default()).collect();
    let mut cache_updates: Vec<(String, Vec<(Ident, String)>)> = Vec::new();
    let mut warnings: Vec<(String, Warning)> = Vec::new();
    let mut syncs: Vec<(String, String, &'static str, Json)> = Vec::new();

    // Identity resolution, workspace by workspace, in request order.
    let mut by_workspace: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, job) in jobs.iter().enumerate() {
        by_workspace
            .entry(job.source.workspace_id.as_str())
            .or_default()
            .push(i);
    }
    let mut event_idents: Vec<Vec<Vec<Ident>>> = jobs
        .iter()
        .map(|job| {
            job.accepted
                .iter()
                .map(|e| identifiers(e, &job.settings))
                .collect()
        })
        .collect();
    for (ws, job_ids) in &by_workspace {
        let settings = jobs[job_ids[0]].settings.clone();
        let mut resolver = Resolver::new(ws, &settings, cache);
        let mut wanted: Vec<Ident> = Vec::new();
        for &j in job_ids {
            for (e, idents) in jobs[j].accepted.iter().zip(&event_idents[j]) {
                wanted.extend(idents.iter().cloned());
                if let Some(prev) = previous_id(e) {
                    wanted.push(Ident::new("user_id", prev.clone()));
                    wanted.push(Ident::new("anonymous_id", prev));
                }
            }
        }
        resolver.prefetch(&mut tx, &wanted).await?;
        for &j in job_ids {
            let job = &jobs[j];
            for (k, event) in job.accepted.iter().enumerate() {
                let idents = std::mem::take(&mut event_idents[j][k]);
                let previous = previous_id(event);
                let profile = resolver
                    .resolve(
                        &mut tx,
                        EventIdentity {
                            idents: &idents,
                            previous_id: previous.as_deref(),
                            source_id: &job.source.id,
                            message_id: &event.message_id,
                            at: event.ts.min(now),
                        },
                    )
                    .await?;
                if event.kind == Kind::Identify {
                    if let Some(traits) = event.person_traits() {
                        resolver.add_traits(&mut tx, &profile, traits).await?;
                        let mapped: Map<String, Json> = traits
                            .iter()
                            .filter(|(k, _)| job.settings.contact_mapping.contains_key(*k))
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect();
                        if !mapped.is_empty() {
                            syncs.push((
                                ws.to_string(),
                                profile.clone(),
                                "contact",
                                Json::Object(mapped),
                            ));
                        }
                    }
                }
                if event.kind == Kind::Group {
                    let mut payload = Map::new();
                    payload.insert(
                        "group_id".into(),
                        event.body.get("groupId").cloned().unwrap_or(Json::Null),
                    );
                    payload.insert(
                        "traits".into(),
                        event.body.get("traits").cloned().unwrap_or(Json::Null),
                    );
                    syncs.push((
                        ws.to_string(),
                        profile.clone(),
                        "company",
                        Json::Object(payload),
                    ));
                }
                outcomes[j].profiles.insert(event.index, profile);
            }
        }
        let (new_idents, ws_warnings) = resolver.finish(&mut tx, now).await?;
        cache_updates.push((ws.to_string(), new_idents));
        warnings.extend(ws_warnings.into_iter().map(|w| (ws.to_string(), w)));
    }

    // The events themselves; a unique index drops repeated messageIds.
    let mut inserted: HashSet<(String, String)> = HashSet::new();
    let rows: Vec<(usize, &Incoming)> = jobs
        .iter()
        .enumerate()
        .flat_map(|(j, job)| job.accepted.iter().map(move |e| (j, e)))
        .collect();
    for chunk in crate::statement_chunks(&rows) {
        let mut params = Vec::with_capacity(chunk.len() * 11);
        let mut values = Vec::with_capacity(chunk.len());
        for (j, event) in chunk {
            let job = &jobs[*j];
            let n = params.len();
            values.push(format!(
                "({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
                ph(&tx, n + 1),
                ph(&tx, n + 2),
                ph(&tx, n + 3),
                ph(&tx, n + 4),
                ph(&tx, n + 5),
                ph(&tx, n + 6),
                ph(&tx, n + 7),
                ph(&tx, n + 8),
                ph(&tx, n + 9),
                ph(&tx, n + 10),
                json_ph(&tx, n + 11)
            ));
            let profile = outcomes[*j]
                .profiles
                .get(&event.index)
                .cloned()
                .unwrap_or_default();
            params.push(SqlParam::Text(job.source.workspace_id.clone()));
            params.push(SqlParam::Text(job.source.id.clone()));
            params.push(SqlParam::Text(event.message_id.clone()));
            params.push(SqlParam::Text(event.kind.as_str().into()));
            params.push(text_or_null(event.name.clone()));
            params.push(SqlParam::Text(profile));
            params.push(text_or_null(event.user_id.clone()));
            params.push(text_or_null(event.anonymous_id.clone()));
            params.push(SqlParam::Int(event.ts));
            params.push(SqlParam::Int(event.received_at));
            params.push(SqlParam::Text(event.body_text.clone()));
        }
        let sql = format!(
            "INSERT INTO cdp_events (workspace_id, source_id, message_id, kind, name, profile_id, user_id, anonymous_id, ts, received_at, body) \
             VALUES {} ON CONFLICT (source_id, message_id) DO NOTHING RETURNING source_id, message_id",
            values.join(", ")
        );
        for row in tx
            .fetch_all(&sql, &params, &[ColumnKind::Text, ColumnKind::Text])
            .await?
        {
            inserted.insert((row.text(0), row.text(1)));
        }
    }
    let mut first_time: HashSet<(String, String)> = HashSet::new();
    let mut counters = health::Counters::default();
    for (j, job) in jobs.iter().enumerate() {
        let minute = now / 60_000;
        let c = counters.entry(&job.source, minute);
        c.received += i64::try_from(job.received).unwrap_or(0);
        for event in &job.accepted {
            let key = (job.source.id.clone(), event.message_id.clone());
            if inserted.contains(&key) && first_time.insert(key) {
                c.accepted += 1;
                c.delays[health::bucket(event.received_at - event.ts)] += 1;
            } else {
                c.duplicates += 1;
                outcomes[j].duplicates.push(event.index);
            }
        }
        for held in &job.held {
            if held.disposition == "quarantined" {
                c.quarantined += 1;
            } else {
                c.rejected += 1;
            }
            *c.reasons
                .entry((held.disposition, held.code.clone()))
                .or_insert(0) += 1;
        }
    }
    for (ws, w) in &warnings {
        let c = counters.by_source_id(&w.source_id, ws, now / 60_000);
        if w.code.starts_with("merge_refused") {
            c.merge_refused += 1;
        }
        *c.reasons
            .entry(("warning", w.code.to_string()))
            .or_insert(0) += 1;
    }

    let mut counted = Vec::with_capacity(inserted.len());
    let mut seen: HashSet<(&str, &str)> = HashSet::new();
    for (j, job) in jobs.iter().enumerate() {
        for event in &job.accepted {
            let key = (job.source.id.clone(), event.message_id.clone());
            if !inserted.contains(&key)
                || !seen.insert((job.source.id.as_str(), event.message_id.as_str()))
            {
                continue;
            }
            let Some(profile) = outcomes[j].profiles.get(&event.index) else {
                continue;
            };
            let kind = event.kind.as_str();
            counted.push(CountedEvent {
                workspace_id: &job.source.workspace_id,
                profile_id: profile,
                kind,
                name: event.name.as_deref(),
                ts: event.ts,
                payload: event.body.get(payload_field(kind)),
            });
        }
    }
    count_events(&mut tx, keys, &counted).await?;
    hold(&mut tx, jobs).await?;
    for job in jobs {
        for id in &job.replayed {
            tx.execute(
                &format!(
                    "UPDATE cdp_held SET replayed_at = {} WHERE id = {}",
                    ph(&tx, 1),
                    ph(&tx, 2)
                ),
                &[SqlParam::Int(now), SqlParam::Text(id.clone())],
            )
            .await?;
        }
    }
    for (ws, w) in &warnings {
        health::record_warning(
            &mut tx,
            ws,
            Some(&w.source_id),
            now,
            w.code,
            &w.message,
            &w.details,
        )
        .await?;
    }
    for (ws, profile, kind, payload) in &syncs {
        tx.execute(
            &format!(
                "INSERT INTO cdp_sync_queue (workspace_id, profile_id, kind, payload, created_at) VALUES ({}, {}, {}, {}, {})",
                ph(&tx, 1),
                ph(&tx, 2),
                ph(&tx, 3),
                json_ph(&tx, 4),
                ph(&tx, 5)
            ),
            &[
                SqlParam::Text(ws.clone()),
                SqlParam::Text(profile.clone()),
                SqlParam::Text((*kind).into()),
                SqlParam::Text(payload.to_string()),
                SqlParam::Int(now),
            ],
        )
        .await?;
    }
    counters.write(&mut tx).await?;
    tx.commit().await?;
    for (ws, owners) in cache_updates {
        cache.insert_all(&ws, &owners);
    }
    Ok((outcomes, counters))
}

/// Keeps PostgreSQL's planner statistics of the CDP tables fresh while they grow fast (a table
/// that was small at its last ANALYZE makes the identity lookup filter instead of probing the
/// primary key). Autovacuum would catch up only after a minute or more.
#[derive(Default)]
struct Statistics {
    since: usize,
    at_last: usize,
}

impl Statistics {
    async fn after_commit(&mut self, store: &Store, events: usize) {
        if store.db.dialect() != rapport_core::sql::Dialect::Postgres {
            return;
        }
        self.since += events;
        if self.since < 2_000.max(self.at_last / 5) {
            return;
        }
        match store
            .db
            .execute("ANALYZE cdp_identities, cdp_profiles, cdp_events", &[])
            .await
        {
            Ok(_) => {
                self.at_last += self.since;
                self.since = 0;
            }
            Err(e) => tracing::warn!("ANALYZE of the CDP tables failed: {e}"),
        }
    }
}

fn text_or_null(value: Option<String>) -> SqlParam {
    value.map_or(SqlParam::NullOf(ColumnKind::Text), SqlParam::Text)
}

fn previous_id(event: &Incoming) -> Option<String> {
    (event.kind == Kind::Alias)
        .then(|| event.text("previousId"))
        .flatten()
        .filter(|p| !p.trim().is_empty())
}

async fn hold(tx: &mut Tx, jobs: &[Job]) -> Result<(), CdpError> {
    let rows: Vec<(&Job, &Held)> = jobs
        .iter()
        .flat_map(|job| job.held.iter().map(move |h| (job, h)))
        .collect();
    for chunk in crate::statement_chunks(&rows) {
        let mut params = Vec::with_capacity(chunk.len() * 11);
        let mut values = Vec::with_capacity(chunk.len());
        for (job, held) in chunk {
            let n = params.len();
            values.push(format!(
                "({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
                ph(tx, n + 1),
                ph(tx, n + 2),
                ph(tx, n + 3),
                ph(tx, n + 4),
                ph(tx, n + 5),
                ph(tx, n + 6),
                ph(tx, n + 7),
                ph(tx, n + 8),
                ph(tx, n + 9),
                json_ph(tx, n + 10),
                ph(tx, n + 11)
            ));
            params.push(SqlParam::Text(uuid::Uuid::now_v7().to_string()));
            params.push(SqlParam::Text(job.source.workspace_id.clone()));
            params.push(SqlParam::Text(job.source.id.clone()));
            params.push(SqlParam::Text(held.disposition.into()));
            params.push(SqlParam::Text(held.code.clone()));
            params.push(SqlParam::Text(held.reason.clone()));
            params.push(text_or_null(held.kind.clone()));
            params.push(text_or_null(held.name.clone()));
            params.push(text_or_null(held.message_id.clone()));
            params.push(SqlParam::Text(held.payload.to_string()));
            params.push(SqlParam::Int(held.received_at));
        }
        tx.execute(
            &format!(
                "INSERT INTO cdp_held (id, workspace_id, source_id, disposition, reason_code, reason, kind, name, message_id, payload, received_at) VALUES {}",
                values.join(", ")
            ),
            &params,
        )
        .await?;
    }
    Ok(())
}
