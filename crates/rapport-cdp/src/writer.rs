//! The group commit. Requests hand their checked events to one writer task per node through a
//! bounded queue; the writer takes every job waiting (up to a cap), and in ONE transaction
//! resolves identities, appends the events (duplicates by `messageId` per source are dropped by
//! a unique index), holds what did not fit, queues CRM syncs and counts data health — then
//! commits and only then answers each request. A 200 therefore means durable, and many
//! concurrent senders share one commit.
//!
//! A commit never fails because of one event. Transient failures (a deadlock or serialisation
//! failure between nodes, an identifier claimed concurrently, a busy database) are retried with
//! backoff and counted (`rapport_cdp_commit_retries_total`). Any other failure is isolated: each
//! job is committed alone, and a job that still fails is committed event by event, so only the
//! event that cannot be stored is rejected (`event_not_stored`) and every other request and
//! event goes through.
//!
//! On PostgreSQL the transaction takes its locks in one global order, so two nodes ingesting
//! the same customers wait for each other instead of deadlocking: the behaviour keys' shared
//! lock first, then per workspace (in id order) the identity graph's lock when it changes the
//! graph, identities by (type, value), profile rows by id; then events by (source, messageId),
//! behaviour counters by (key, profile), queued judgements by (workspace, profile) and health
//! rows by (source, minute).

use crate::error::CdpError;
use crate::health;
use crate::identity::resolve::{EventIdentity, IdentityCache, Resolver, Warning};
use crate::identity::{identifiers, previous_id, Ident};
use crate::segments::behavior::{self, count_events, payload_field, CountedEvent, KeyCache};
use crate::segments::engine::Engine;
use crate::settings::Settings;
use crate::sources::Source;
use crate::wire::{Incoming, Kind, Rejection};
use crate::{json_ph, ph};
use rand::Rng;
use rapport_core::codes::{ErrorCode, EventCode, WarningCode};
use rapport_core::sql::{ColumnKind, SqlParam, ValueRows};
use rapport_store::{Store, Transience, Tx};
use serde_json::{Map, Value as Json};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// An event kept aside: quarantined (replayable) or rejected (kept for inspection).
#[derive(Debug, Clone)]
pub struct Held {
    pub disposition: &'static str,
    pub code: EventCode,
    pub reason: String,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub message_id: Option<String>,
    pub payload: Json,
    pub received_at: i64,
}

/// What one request (or one replay) asks the group commit to store.
#[derive(Clone)]
pub struct Work {
    pub source: Source,
    pub settings: Arc<Settings>,
    pub accepted: Vec<Incoming>,
    pub held: Vec<Held>,
    /// Events in the request, for data health (accepted + held + duplicates).
    pub received: usize,
    /// Held rows this work replays (marked replayed on commit): none, or one per accepted
    /// event, in the same order.
    pub replayed: Vec<String>,
}

/// One request's share of a group commit.
pub struct Job {
    pub work: Work,
    pub reply: oneshot::Sender<Result<Outcome, CdpError>>,
}

/// What the commit made of a job.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Indexes (in the request) of accepted events whose messageId was already stored.
    pub duplicates: Vec<usize>,
    /// Profiles the job's events belong to, by index.
    pub profiles: BTreeMap<usize, String>,
    /// Accepted events the commit could not store after all (isolated failures).
    pub rejected: Vec<Rejection>,
}

/// Events per transaction at most; more waiting jobs go to the next group.
const GROUP_EVENTS: usize = 10_000;
/// Jobs waiting before senders get 503.
pub const QUEUE_JOBS: usize = 1_024;
/// Attempts of one group after transient failures before its senders get 503.
const ATTEMPTS: u32 = 10;

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
    while let Some(first) = rx.recv().await {
        let mut events = first.work.accepted.len() + first.work.held.len();
        let mut jobs = vec![first];
        while events < GROUP_EVENTS {
            match rx.try_recv() {
                Ok(job) => {
                    events += job.work.accepted.len() + job.work.held.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let works: Vec<&Work> = jobs.iter().map(|j| &j.work).collect();
        let results = commit_isolated(&store, &shared, &works).await;
        // The commits queued their customers for judging; a worker on this node may start now.
        shared.segments.pending.notify_one();
        for (job, result) in jobs.into_iter().zip(results) {
            let _ = job.reply.send(result);
        }
    }
}

/// How a failed commit is handled.
enum Failure {
    /// Worth trying the same group again (named for the metric).
    Transient(&'static str),
    /// The database cannot be reached or is saturated: the senders retry later.
    Unavailable,
    /// Something in the group's data: isolate it.
    Data,
}

fn classify(error: &CdpError) -> Failure {
    match error {
        CdpError::Conflict {
            code: ErrorCode::IdentityRace,
            ..
        } => Failure::Transient("identity_race"),
        CdpError::Store(e) => match e.transience() {
            Some(Transience::Retry(reason)) => Failure::Transient(reason),
            Some(Transience::Unavailable) => Failure::Unavailable,
            None => Failure::Data,
        },
        CdpError::Overloaded => Failure::Unavailable,
        _ => Failure::Data,
    }
}

/// Commits a group, retrying transient failures with exponential backoff and jitter.
async fn commit_retrying(
    store: &Store,
    shared: &Shared,
    works: &[&Work],
) -> Result<(Vec<Outcome>, health::Counters), (CdpError, Failure)> {
    let mut attempt = 0;
    loop {
        let error = match commit(store, &shared.identities, &shared.keys, works).await {
            Ok(done) => return Ok(done),
            Err(e) => e,
        };
        // The cache may hold owners of identifiers that were rolled back.
        shared.identities.clear();
        let failure = classify(&error);
        let Failure::Transient(reason) = failure else {
            return Err((error, failure));
        };
        attempt += 1;
        shared.metrics.record_retry(reason);
        if attempt >= ATTEMPTS {
            tracing::warn!("group commit gave up after {attempt} attempts: {error}");
            return Err((error, Failure::Unavailable));
        }
        let ceiling = (4u64 << attempt.min(6)).min(250);
        let pause = rand::thread_rng().gen_range(ceiling / 2..=ceiling);
        tokio::time::sleep(Duration::from_millis(pause)).await;
    }
}

/// Commits the group; when its data makes it fail, commits each job alone, and a job that
/// still fails event by event. One result per work, in order.
async fn commit_isolated(
    store: &Store,
    shared: &Shared,
    works: &[&Work],
) -> Vec<Result<Outcome, CdpError>> {
    match commit_retrying(store, shared, works).await {
        Ok((outcomes, counters)) => {
            shared.metrics.record(&counters);
            return outcomes.into_iter().map(Ok).collect();
        }
        Err((_, Failure::Unavailable | Failure::Transient(_))) => {
            return works.iter().map(|_| Err(CdpError::Overloaded)).collect();
        }
        Err((error, Failure::Data)) => {
            tracing::warn!(
                "group commit of {} job(s) failed, isolating: {error}",
                works.len()
            );
            shared.metrics.record_isolation();
        }
    }
    let mut results = Vec::with_capacity(works.len());
    for work in works {
        if works.len() > 1 {
            match commit_retrying(store, shared, &[work]).await {
                Ok((mut outcomes, counters)) => {
                    shared.metrics.record(&counters);
                    // One work committed alone has one outcome.
                    results.push(Ok(outcomes.pop().unwrap_or_default()));
                    continue;
                }
                Err((_, Failure::Unavailable | Failure::Transient(_))) => {
                    results.push(Err(CdpError::Overloaded));
                    continue;
                }
                Err((error, Failure::Data)) => {
                    tracing::warn!("a job failed alone, committing its events one by one: {error}");
                }
            }
        }
        results.push(commit_each(store, shared, work).await);
    }
    results
}

/// Commits a job's held rows, then each accepted event in its own transaction; an event that
/// cannot be stored is rejected alone.
async fn commit_each(store: &Store, shared: &Shared, work: &Work) -> Result<Outcome, CdpError> {
    let mut outcome = Outcome::default();
    let rest = Work {
        accepted: Vec::new(),
        replayed: Vec::new(),
        ..work.clone()
    };
    match commit_retrying(store, shared, &[&rest]).await {
        Ok((_, counters)) => shared.metrics.record(&counters),
        Err((error, Failure::Data)) => {
            tracing::warn!("held events of a job could not be stored: {error}");
        }
        Err(_) => return Err(CdpError::Overloaded),
    }
    for (i, event) in work.accepted.iter().enumerate() {
        let single = Work {
            accepted: vec![event.clone()],
            held: Vec::new(),
            received: 0,
            replayed: work.replayed.get(i).cloned().into_iter().collect(),
            ..work.clone()
        };
        match commit_retrying(store, shared, &[&single]).await {
            Ok((outcomes, counters)) => {
                shared.metrics.record(&counters);
                for o in outcomes {
                    outcome.duplicates.extend(o.duplicates);
                    outcome.profiles.extend(o.profiles);
                    outcome.rejected.extend(o.rejected);
                }
            }
            Err((error, Failure::Data)) => {
                tracing::warn!("event {} could not be stored: {error}", event.message_id);
                outcome.rejected.push(Rejection {
                    index: event.index,
                    message_id: Some(event.message_id.clone()),
                    code: EventCode::EventNotStored,
                    message: "the event could not be stored; it was logged for the operators"
                        .into(),
                });
            }
            Err(_) => return Err(CdpError::Overloaded),
        }
    }
    Ok(outcome)
}

async fn commit(
    store: &Store,
    cache: &IdentityCache,
    keys: &KeyCache,
    jobs: &[&Work],
) -> Result<(Vec<Outcome>, health::Counters), CdpError> {
    let now = store.now().timestamp_millis();
    let mut tx = store.db.begin().await?;
    // First, before any event takes its `seq` (see segments::behavior).
    behavior::hold_keys_shared(&mut tx).await?;
    let mut outcomes: Vec<Outcome> = jobs.iter().map(|_| Outcome::default()).collect();
    let mut cache_updates: Vec<(String, Vec<(Ident, String)>)> = Vec::new();
    let mut warnings: Vec<(String, Warning)> = Vec::new();
    let mut syncs: Vec<Sync> = Vec::new();

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
                if let Some(prev) = previous_id(e, &jobs[j].settings) {
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
                let previous = previous_id(event, &job.settings);
                let profile = resolver
                    .resolve(
                        &mut tx,
                        EventIdentity {
                            idents: &idents,
                            previous_id: previous.as_deref(),
                            trusted: event.trusted,
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
                            .filter(|(k, v)| {
                                job.settings.contact_mapping.contains_key(*k)
                                    && !blocked_identifier(&job.settings, k, v)
                            })
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect();
                        if !mapped.is_empty() {
                            syncs.push(Sync {
                                ws: ws.to_string(),
                                profile: profile.clone(),
                                kind: "contact",
                                payload: Json::Object(mapped),
                                source_id: job.source.id.clone(),
                                trusted: event.trusted,
                            });
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
                    syncs.push(Sync {
                        ws: ws.to_string(),
                        profile: profile.clone(),
                        kind: "company",
                        payload: Json::Object(payload),
                        source_id: job.source.id.clone(),
                        trusted: event.trusted,
                    });
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
    let mut rows: Vec<(usize, &Incoming)> = jobs
        .iter()
        .enumerate()
        .flat_map(|(j, job)| job.accepted.iter().map(move |e| (j, e)))
        .collect();
    // In the unique index's order (see the module header on lock order).
    rows.sort_by(|a, b| {
        (&jobs[a.0].source.id, &a.1.message_id).cmp(&(&jobs[b.0].source.id, &b.1.message_id))
    });
    for chunk in crate::statement_chunks(&rows) {
        // The body goes as text (serialised once, when the event was accepted).
        let mut values = ValueRows::new(tx.dialect()).cast(10, "jsonb");
        for (j, event) in chunk {
            let job = &jobs[*j];
            let profile = outcomes[*j]
                .profiles
                .get(&event.index)
                .cloned()
                .ok_or_else(|| {
                    rapport_store::StoreError::Corrupt(format!(
                        "accepted event {} was resolved to no profile",
                        event.message_id
                    ))
                })?;
            values.push([
                SqlParam::Text(job.source.workspace_id.clone()),
                SqlParam::Text(job.source.id.clone()),
                SqlParam::Text(event.message_id.clone()),
                SqlParam::Text(event.kind.as_str().into()),
                text_or_null(event.name.clone()),
                SqlParam::Text(profile),
                text_or_null(event.user_id.clone()),
                text_or_null(event.anonymous_id.clone()),
                SqlParam::Int(event.ts),
                SqlParam::Int(event.received_at),
                SqlParam::Text(event.body_text.clone()),
            ]);
        }
        let sql = format!(
            "INSERT INTO cdp_events (workspace_id, source_id, message_id, kind, name, profile_id, user_id, anonymous_id, ts, received_at, body) \
             VALUES {} ON CONFLICT (source_id, message_id) DO NOTHING RETURNING source_id, message_id",
            values.sql()
        );
        for row in tx
            .fetch_all(&sql, values.params(), &[ColumnKind::Text, ColumnKind::Text])
            .await?
        {
            inserted.insert((row.text("source_id")?, row.text("message_id")?));
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
                .entry((held.disposition, held.code.to_string()))
                .or_insert(0) += 1;
        }
    }
    for (ws, w) in &warnings {
        let c = counters.by_source_id(&w.source_id, ws, now / 60_000);
        if matches!(
            w.code,
            WarningCode::MergeRefusedUserIds
                | WarningCode::MergeRefusedIdentifierLimit
                | WarningCode::MergeRefusedTooManyCustomers
        ) {
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
    queue_judgements(&mut tx, jobs, &outcomes, now).await?;
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
    for sync in &syncs {
        tx.execute(
            &format!(
                "INSERT INTO cdp_sync_queue (workspace_id, profile_id, kind, payload, created_at, source_id, trusted) \
                 VALUES ({}, {}, {}, {}, {}, {}, {})",
                ph(&tx, 1),
                ph(&tx, 2),
                ph(&tx, 3),
                json_ph(&tx, 4),
                ph(&tx, 5),
                ph(&tx, 6),
                ph(&tx, 7)
            ),
            &[
                SqlParam::Text(sync.ws.clone()),
                SqlParam::Text(sync.profile.clone()),
                SqlParam::Text(sync.kind.into()),
                SqlParam::Text(sync.payload.to_string()),
                SqlParam::Int(now),
                SqlParam::Text(sync.source_id.clone()),
                SqlParam::Bool(sync.trusted),
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

/// Queues the customers of the committed events for a segment judgement (in workspaces that
/// have segments), in the commit's transaction: `cdp_segment_pending`, drained by the segment
/// engine's worker on any node. A customer already queued and being judged is cleared of its
/// lease, so it is judged again with this commit's events.
async fn queue_judgements(
    tx: &mut Tx,
    jobs: &[&Work],
    outcomes: &[Outcome],
    now: i64,
) -> Result<(), CdpError> {
    let mut touched: BTreeMap<&str, std::collections::BTreeSet<&str>> = BTreeMap::new();
    for (job, outcome) in jobs.iter().zip(outcomes) {
        touched
            .entry(job.source.workspace_id.as_str())
            .or_default()
            .extend(outcome.profiles.values().map(String::as_str));
    }
    if touched.is_empty() {
        return Ok(());
    }
    let marks: Vec<String> = (1..=touched.len()).map(|n| ph(tx, n)).collect();
    let with_segments: HashSet<String> = tx
        .fetch_all(
            &format!(
                "SELECT DISTINCT workspace_id FROM cdp_segments WHERE workspace_id IN ({}) \
                 AND state IN ('live', 'building') AND archived_at IS NULL",
                marks.join(", ")
            ),
            &touched
                .keys()
                .map(|w| SqlParam::Text((*w).to_string()))
                .collect::<Vec<_>>(),
            &[ColumnKind::Text],
        )
        .await?
        .iter()
        .map(|r| r.text("workspace_id"))
        .collect::<Result<_, _>>()?;
    let rows: Vec<(&str, &str)> = touched
        .iter()
        .filter(|(ws, _)| with_segments.contains(**ws))
        .flat_map(|(ws, profiles)| profiles.iter().map(move |p| (*ws, *p)))
        .collect();
    for chunk in crate::statement_chunks(&rows) {
        let mut values = ValueRows::new(tx.dialect());
        for (ws, profile) in chunk {
            values.push([
                SqlParam::Text((*ws).to_string()),
                SqlParam::Text((*profile).to_string()),
                SqlParam::Int(now),
            ]);
        }
        tx.execute(
            &format!(
                "INSERT INTO cdp_segment_pending (workspace_id, profile_id, queued_at) VALUES {} \
                 ON CONFLICT (workspace_id, profile_id) DO UPDATE SET lease = NULL, leased_until = 0",
                values.sql()
            ),
            values.params(),
        )
        .await?;
    }
    Ok(())
}

/// A CRM sync the commit queues (see `sync`).
struct Sync {
    ws: String,
    profile: String,
    kind: &'static str,
    payload: Json,
    source_id: String,
    trusted: bool,
}

/// A trait that is an identifier holding a blocked value (`test@test.com`): it links nobody,
/// so it is not copied into the CRM either (a unique email field would refuse the next one).
fn blocked_identifier(settings: &Settings, name: &str, value: &Json) -> bool {
    settings.identifier(name).is_some()
        && crate::wire::scalar_text(value).is_some_and(|v| settings.is_blocked(v.trim()))
}

fn text_or_null(value: Option<String>) -> SqlParam {
    value.map_or(SqlParam::NullOf(ColumnKind::Text), SqlParam::Text)
}

async fn hold(tx: &mut Tx, jobs: &[&Work]) -> Result<(), CdpError> {
    let rows: Vec<(&Work, &Held)> = jobs
        .iter()
        .flat_map(|job| job.held.iter().map(move |h| (*job, h)))
        .collect();
    for chunk in crate::statement_chunks(&rows) {
        let mut values = ValueRows::new(tx.dialect()).cast(9, "jsonb");
        for (job, held) in chunk {
            // What was refused may hold NUL characters, which no database stores in text.
            let shown = |t: &Option<String>| t.as_ref().map(|t| t.replace('\0', "\u{FFFD}"));
            values.push([
                SqlParam::Text(uuid::Uuid::now_v7().to_string()),
                SqlParam::Text(job.source.workspace_id.clone()),
                SqlParam::Text(job.source.id.clone()),
                SqlParam::Text(held.disposition.into()),
                SqlParam::Text(held.code.to_string()),
                SqlParam::Text(held.reason.replace('\0', "\u{FFFD}")),
                text_or_null(shown(&held.kind)),
                text_or_null(shown(&held.name)),
                text_or_null(shown(&held.message_id)),
                SqlParam::Text(crate::wire::without_nul(held.payload.clone()).to_string()),
                SqlParam::Int(held.received_at),
            ]);
        }
        tx.execute(
            &format!(
                "INSERT INTO cdp_held (id, workspace_id, source_id, disposition, reason_code, reason, kind, name, message_id, payload, received_at) VALUES {}",
                values.sql()
            ),
            values.params(),
        )
        .await?;
    }
    Ok(())
}
