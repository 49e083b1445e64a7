//! Running jobs: a `Runner` holds handlers by kind and per-queue settings, claims due jobs with
//! a lease (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite: one statement on the single writer),
//! runs them with a heartbeat that extends the leases of every job it runs, and settles each
//! attempt: done, failed (retried after exponential backoff with jitter), dead (out of attempts
//! or failed for good) or cancelled. Leases that ran out — the node died mid-job, e.g. killed
//! with -9 — are reaped: the attempt is written down as `lost` and the job is due again at once.
//!
//! Every settlement is fenced by the attempt number: an attempt whose lease was reaped can no
//! longer mark its job, so a job never completes twice. A handler whose effects live in this
//! database makes them and completes the job in one transaction ([`JobCtx::complete`]):
//! effectively once. Other effects are at least once and must be idempotent (the job id is a
//! good key).
//!
//! `run_once` is one tick (reap, claim, run to the end, settle) for callers that drive the loop
//! themselves (a supervisor, tests); `run` pipelines claims and settlements until shut down.

use super::error_text;
use crate::{Store, StoreError, Tx};
use chrono::{DateTime, Utc};
use rapport_core::sql::{ColumnKind, Dialect, SqlParam, ValueRows};
use serde_json::Value as Json;
use std::collections::HashMap;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, watch, Notify};

/// Settlements `run` lets proceed at once.
const SETTLERS: usize = 4;

/// Logs a background settlement that failed: its attempts' leases run out and they run again.
fn report(settled: Result<Result<Tick, StoreError>, tokio::task::JoinError>) {
    match settled {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::warn!("jobs: settling attempts failed (they will run again): {e}"),
        Err(e) => tracing::warn!("jobs: a settlement stopped (its attempts will run again): {e}"),
    }
}

/// How long a claim holds a job unless its node heart-beats (every third of it).
pub const DEFAULT_LEASE: chrono::Duration = chrono::Duration::seconds(30);

/// When a failed attempt's retry is due: `base · 2^(attempt-1)`, at most `max`, of which the
/// second half is jitter (so retries of many jobs that failed together spread out).
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: chrono::Duration,
    pub max: chrono::Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: chrono::Duration::seconds(5),
            max: chrono::Duration::hours(1),
        }
    }
}

impl Backoff {
    /// The delay before the retry of `attempt` (1 for the first) of job `id`: between half and
    /// all of the exponential step. The jitter is a hash of the job and attempt, so it needs no
    /// random source and is the same on every node.
    pub fn delay(&self, id: &str, attempt: i32) -> chrono::Duration {
        let exponent = u32::try_from(attempt.saturating_sub(1))
            .unwrap_or(0)
            .min(30);
        let base = self.base.num_milliseconds().max(0);
        let step = base
            .saturating_mul(1_i64 << exponent)
            .min(self.max.num_milliseconds().max(0));
        let half = step / 2;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (id, attempt).hash(&mut hasher);
        let jitter = i64::try_from(hasher.finish() % (u64::try_from(step - half).unwrap_or(0) + 1))
            .unwrap_or(0);
        chrono::Duration::milliseconds(half + jitter)
    }
}

/// A queue this runner takes jobs from.
#[derive(Debug, Clone)]
pub struct QueueConfig {
    pub name: String,
    /// Jobs of the queue this runner runs at once (a cap per node: n nodes run up to n times
    /// this many).
    pub concurrency: usize,
    pub backoff: Backoff,
}

impl QueueConfig {
    pub fn new(name: impl Into<String>, concurrency: usize) -> Self {
        Self {
            name: name.into(),
            concurrency: concurrency.max(1),
            backoff: Backoff::default(),
        }
    }

    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }
}

/// Why an attempt failed, and whether to try again.
#[derive(Debug)]
pub struct JobError {
    message: String,
    retry: Retry,
}

#[derive(Debug, Clone, Copy)]
enum Retry {
    Backoff,
    After(chrono::Duration),
    Never,
}

impl JobError {
    /// Try again after the queue's backoff (while attempts remain).
    pub fn retry(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retry: Retry::Backoff,
        }
    }

    /// Try again after `after` (e.g. a server's Retry-After), while attempts remain.
    pub fn retry_after(message: impl Into<String>, after: chrono::Duration) -> Self {
        Self {
            message: message.into(),
            retry: Retry::After(after),
        }
    }

    /// Never again: the job goes dead now.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retry: Retry::Never,
        }
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for JobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A storage failure is worth another try.
impl From<StoreError> for JobError {
    fn from(error: StoreError) -> Self {
        JobError::retry(error.to_string())
    }
}

/// A job as its handler gets it.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub id: String,
    pub workspace_id: Option<String>,
    pub queue: String,
    pub kind: String,
    pub payload: Json,
    /// This attempt's number (1 for the first).
    pub attempt: i32,
    pub max_attempts: i32,
    pub created_at: DateTime<Utc>,
    pub run_at: DateTime<Utc>,
}

const RUNNING: u8 = 0;
const CANCEL_REQUESTED: u8 = 1;
const LEASE_LOST: u8 = 2;

/// What the runner tells a running job.
#[derive(Debug, Default)]
struct Signal {
    state: AtomicU8,
    completed: AtomicBool,
    changed: Notify,
}

impl Signal {
    fn raise(&self, to: u8) {
        if self.state.fetch_max(to, Ordering::SeqCst) < to {
            self.changed.notify_waiters();
        }
    }
}

/// A running job's handle: its data, the store, and what the runner tells it.
pub struct JobCtx {
    pub job: ClaimedJob,
    store: Store,
    signal: Arc<Signal>,
}

impl JobCtx {
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// An admin cancelled the job while it ran: stop early if you can (the job ends `cancelled`
    /// unless this attempt succeeds).
    pub fn cancel_requested(&self) -> bool {
        self.signal.state.load(Ordering::SeqCst) == CANCEL_REQUESTED
    }

    /// The lease was lost (this node stopped heart-beating long enough for another node to take
    /// the job): whatever this attempt does, it can no longer complete the job.
    pub fn lease_lost(&self) -> bool {
        self.signal.state.load(Ordering::SeqCst) == LEASE_LOST
    }

    /// Resolves once the job is cancelled or its lease is lost.
    pub async fn stopped(&self) {
        loop {
            let changed = self.signal.changed.notified();
            if self.signal.state.load(Ordering::SeqCst) != RUNNING {
                return;
            }
            changed.await;
        }
    }

    /// A write transaction for the job's effects, to pass to [`JobCtx::complete`].
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        self.store.db.begin().await
    }

    /// Marks the job done inside `tx` and commits it: the effects written in `tx` and the
    /// completion commit together or not at all. Fails (and rolls `tx` back) when this attempt
    /// no longer holds the job's lease.
    pub async fn complete(&self, mut tx: Tx) -> Result<(), JobError> {
        let now = self.store.now().timestamp_millis();
        let finished = finish(&mut tx, now, &[(self.job.id.clone(), self.job.attempt)]).await?;
        if finished.is_empty() {
            return Err(JobError::retry(
                "this attempt lost the job's lease; another attempt runs it",
            ));
        }
        tx.commit().await?;
        self.signal.completed.store(true, Ordering::SeqCst);
        Ok(())
    }
}

type HandlerFuture = Pin<Box<dyn Future<Output = Result<(), JobError>> + Send>>;
type Handler = Arc<dyn Fn(JobCtx) -> HandlerFuture + Send + Sync>;

/// What one tick did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tick {
    /// Jobs whose lease had run out.
    pub reaped: usize,
    pub claimed: usize,
    pub done: usize,
    /// Failed attempts that will be retried.
    pub failed: usize,
    pub dead: usize,
    pub cancelled: usize,
}

impl Tick {
    fn add(&mut self, other: Tick) {
        self.reaped += other.reaped;
        self.claimed += other.claimed;
        self.done += other.done;
        self.failed += other.failed;
        self.dead += other.dead;
        self.cancelled += other.cancelled;
    }
}

/// How an attempt ended, as the runner settles it.
enum Ending {
    /// The handler returned Ok (and may have completed the job itself).
    Done {
        completed: bool,
    },
    Failed(JobError),
}

struct Finished {
    job: ClaimedJob,
    queue: usize,
    ending: Ending,
}

/// A job this runner is running.
struct Flight {
    queue: usize,
    attempt: i32,
    signal: Arc<Signal>,
}

/// Claims and runs jobs of its queues with the handlers registered by kind.
pub struct Runner {
    store: Store,
    node: String,
    queues: Vec<QueueConfig>,
    handlers: HashMap<String, Handler>,
    lease: chrono::Duration,
    poll: std::time::Duration,
    retention: chrono::Duration,
}

impl Runner {
    /// A runner for `node` (a name shown in the job's history: host and process, say).
    pub fn new(store: Store, node: impl Into<String>) -> Self {
        Self {
            store,
            node: node.into(),
            queues: Vec::new(),
            handlers: HashMap::new(),
            lease: DEFAULT_LEASE,
            poll: std::time::Duration::from_millis(200),
            retention: super::RETENTION,
        }
    }

    pub fn queue(mut self, queue: QueueConfig) -> Self {
        self.queues.push(queue);
        self
    }

    /// Runs jobs of `kind` with `handler`. Jobs of kinds without a handler stay queued for a
    /// runner that has one.
    pub fn handle<F, Fut>(mut self, kind: impl Into<String>, handler: F) -> Self
    where
        F: Fn(JobCtx) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), JobError>> + Send + 'static,
    {
        let handler: Handler = Arc::new(move |ctx| Box::pin(handler(ctx)));
        self.handlers.insert(kind.into(), handler);
        self
    }

    /// How long a claim holds a job without a heartbeat (default 30 s).
    pub fn lease(mut self, lease: chrono::Duration) -> Self {
        self.lease = lease.max(chrono::Duration::milliseconds(30));
        self
    }

    /// How often `run` looks for due jobs when nothing wakes it (default 200 ms).
    pub fn poll_interval(mut self, poll: std::time::Duration) -> Self {
        self.poll = poll;
        self
    }

    /// How long `run` keeps done and cancelled jobs before pruning them (default 7 days).
    pub fn retention(mut self, retention: chrono::Duration) -> Self {
        self.retention = retention;
        self
    }

    fn heartbeat_every(&self) -> std::time::Duration {
        (self.lease / 3)
            .to_std()
            .unwrap_or(std::time::Duration::from_millis(10))
    }

    /// One tick: reaps lost leases, claims up to each queue's concurrency of due jobs, runs
    /// them (heart-beating meanwhile) to the end and settles every attempt.
    pub async fn run_once(&self) -> Result<Tick, StoreError> {
        let mut tick = Tick {
            reaped: reap(&self.store).await?,
            ..Tick::default()
        };
        let (sender, mut results) = mpsc::unbounded_channel();
        let mut flights = HashMap::new();
        for index in 0..self.queues.len() {
            let want = self.queues[index].concurrency;
            tick.claimed += self.start(index, want, &mut flights, &sender).await?;
        }
        drop(sender);
        let mut beat = tokio::time::interval(self.heartbeat_every());
        beat.tick().await;
        let mut finished = Vec::new();
        loop {
            tokio::select! {
                result = results.recv() => match result {
                    Some(f) => finished.push(f),
                    None => break,
                },
                _ = beat.tick() => self.heartbeat(&flights).await?,
            }
        }
        tick.add(self.settle(finished, &mut flights).await?);
        Ok(tick)
    }

    /// Runs until `shutdown` turns true (or its sender is dropped): claims whenever a queue has
    /// room, settles attempts as they end, heart-beats, reaps lost leases and prunes old jobs.
    /// On shutdown it stops claiming and waits for the jobs it runs. Storage failures are logged
    /// and retried after a pause.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) {
        let (sender, mut results) = mpsc::unbounded_channel::<Finished>();
        let mut flights: HashMap<String, Flight> = HashMap::new();
        let mut wake = self.store.jobs_wake.subscribe();
        let mut beat = tokio::time::interval(self.heartbeat_every());
        beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut pruned_at: Option<DateTime<Utc>> = None;
        let mut stopping = *shutdown.borrow();
        let mut settling = tokio::task::JoinSet::new();
        loop {
            let mut busy = false;
            if !stopping {
                match self.fill(&mut flights, &sender).await {
                    Ok(full) => busy = full,
                    Err(e) => {
                        tracing::warn!("jobs: claiming failed: {e}");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                }
            }
            if stopping && flights.is_empty() {
                while let Some(settled) = settling.join_next().await {
                    report(settled);
                }
                return;
            }
            let mut finished = Vec::new();
            if busy {
                while let Ok(f) = results.try_recv() {
                    finished.push(f);
                }
            } else {
                tokio::select! {
                    changed = shutdown.changed(), if !stopping => {
                        stopping = changed.is_err() || *shutdown.borrow();
                    }
                    Some(f) = results.recv() => {
                        finished.push(f);
                        while let Ok(f) = results.try_recv() {
                            finished.push(f);
                        }
                    }
                    _ = beat.tick() => {
                        if let Err(e) = self.housekeeping(&flights, &mut pruned_at).await {
                            tracing::warn!("jobs: heartbeat failed: {e}");
                        }
                    }
                    _ = wake.changed(), if !stopping => {}
                    _ = tokio::time::sleep(self.poll), if !stopping => {}
                }
            }
            if !finished.is_empty() {
                // Settled in the background, so claiming goes on meanwhile (a few at a time).
                for f in &finished {
                    flights.remove(&f.job.id);
                }
                while settling.len() >= SETTLERS {
                    settling.join_next().await;
                }
                settling.spawn(settle(
                    self.store.clone(),
                    self.node.clone(),
                    self.backoffs(),
                    finished,
                ));
            }
            while let Some(settled) = settling.try_join_next() {
                report(settled);
            }
        }
    }

    /// Heartbeat, reap, and a prune at most once a minute.
    async fn housekeeping(
        &self,
        flights: &HashMap<String, Flight>,
        pruned_at: &mut Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        self.heartbeat(flights).await?;
        reap(&self.store).await?;
        let now = self.store.now();
        if pruned_at.is_none_or(|at| now - at > chrono::Duration::minutes(1)) {
            super::prune(&self.store, now - self.retention).await?;
            *pruned_at = Some(now);
        }
        Ok(())
    }

    /// Claims for every queue with room; true when some claim got all it asked for (more may
    /// be waiting).
    async fn fill(
        &self,
        flights: &mut HashMap<String, Flight>,
        sender: &mpsc::UnboundedSender<Finished>,
    ) -> Result<bool, StoreError> {
        let mut full = false;
        for index in 0..self.queues.len() {
            let running = flights.values().filter(|f| f.queue == index).count();
            let room = self.queues[index].concurrency.saturating_sub(running);
            if room == 0 {
                continue;
            }
            let got = self.start(index, room, flights, sender).await?;
            full |= got == room;
        }
        Ok(full)
    }

    /// Claims up to `want` due jobs of queue `index` and spawns their handlers; returns how
    /// many it claimed.
    async fn start(
        &self,
        index: usize,
        want: usize,
        flights: &mut HashMap<String, Flight>,
        sender: &mpsc::UnboundedSender<Finished>,
    ) -> Result<usize, StoreError> {
        let kinds: Vec<&str> = self.handlers.keys().map(String::as_str).collect();
        let jobs = claim(
            &self.store,
            &self.queues[index].name,
            &kinds,
            want,
            &self.node,
            self.lease,
        )
        .await?;
        let claimed = jobs.len();
        for job in jobs {
            let Some(handler) = self.handlers.get(&job.kind).cloned() else {
                continue;
            };
            let signal = Arc::new(Signal::default());
            flights.insert(
                job.id.clone(),
                Flight {
                    queue: index,
                    attempt: job.attempt,
                    signal: signal.clone(),
                },
            );
            let sender = sender.clone();
            let ctx = JobCtx {
                job: job.clone(),
                store: self.store.clone(),
                signal: signal.clone(),
            };
            tokio::spawn(async move {
                // A panic in the handler is a failed attempt, not a dead runner.
                let ending = match tokio::spawn(handler(ctx)).await {
                    Ok(Ok(())) => Ending::Done {
                        completed: signal.completed.load(Ordering::SeqCst),
                    },
                    Ok(Err(e)) => Ending::Failed(e),
                    Err(e) if e.is_panic() => {
                        Ending::Failed(JobError::retry("the handler panicked"))
                    }
                    Err(e) => Ending::Failed(JobError::retry(format!("the handler stopped: {e}"))),
                };
                let _ = sender.send(Finished {
                    job,
                    queue: index,
                    ending,
                });
            });
        }
        Ok(claimed)
    }

    /// Extends the leases of every job this runner runs; tells each job whose lease was lost or
    /// that an admin cancelled.
    async fn heartbeat(&self, flights: &HashMap<String, Flight>) -> Result<(), StoreError> {
        let all: Vec<(String, i32)> = flights
            .iter()
            .map(|(id, f)| (id.clone(), f.attempt))
            .collect();
        let until = (self.store.now() + self.lease).timestamp_millis();
        for chunk in all.chunks(super::CHUNK) {
            let d = self.store.db.dialect();
            let (pairs, params) = pairs(d, chunk, vec![SqlParam::Int(until)]);
            let rows = self
                .store
                .db
                .write_returning(
                    &format!(
                        "UPDATE jobs SET leased_until = {} WHERE state = 'running' AND (id, attempts) IN ({pairs}) \
                         RETURNING id, cancel_requested",
                        crate::schema::placeholder(d, 1)
                    ),
                    &params,
                    &[ColumnKind::Text, ColumnKind::Bool],
                )
                .await?;
            let held: HashMap<String, bool> = rows
                .iter()
                .map(|r| Ok((r.text("id")?, r.bool("cancel_requested")?)))
                .collect::<Result<_, StoreError>>()?;
            for (id, _) in chunk {
                let Some(flight) = flights.get(id) else {
                    continue;
                };
                match held.get(id) {
                    None => flight.signal.raise(LEASE_LOST),
                    Some(true) => flight.signal.raise(CANCEL_REQUESTED),
                    Some(false) => {}
                }
            }
        }
        Ok(())
    }

    /// Writes down how each attempt ended.
    async fn settle(
        &self,
        finished: Vec<Finished>,
        flights: &mut HashMap<String, Flight>,
    ) -> Result<Tick, StoreError> {
        for f in &finished {
            flights.remove(&f.job.id);
        }
        settle(
            self.store.clone(),
            self.node.clone(),
            self.backoffs(),
            finished,
        )
        .await
    }

    fn backoffs(&self) -> Vec<Backoff> {
        self.queues.iter().map(|q| q.backoff).collect()
    }
}

/// Writes down how each attempt ended: failures one by one, successes in batches.
async fn settle(
    store: Store,
    node: String,
    backoffs: Vec<Backoff>,
    finished: Vec<Finished>,
) -> Result<Tick, StoreError> {
    let mut tick = Tick::default();
    let mut done = Vec::new();
    for f in finished {
        match f.ending {
            Ending::Done { completed: true } => tick.done += 1,
            Ending::Done { completed: false } => done.push((f.job.id, f.job.attempt)),
            Ending::Failed(error) => {
                // A queue without its own backoff uses the default one.
                let backoff = backoffs.get(f.queue).copied().unwrap_or_default();
                match fail(&store, &node, &f.job, &error, backoff).await? {
                    Some(crate::jobs::JobState::Dead) => tick.dead += 1,
                    Some(crate::jobs::JobState::Cancelled) => tick.cancelled += 1,
                    Some(_) => tick.failed += 1,
                    None => {}
                }
            }
        }
    }
    let now = store.now().timestamp_millis();
    for chunk in done.chunks(super::CHUNK) {
        let mut tx = store.db.begin().await?;
        tick.done += finish(&mut tx, now, chunk).await?.len();
        tx.commit().await?;
    }
    Ok(tick)
}

/// `(id, attempts) IN (…)`'s list for `(id, attempt)` pairs, after the statement's `leading`
/// parameters; returns the list and every parameter. SQLite compares row values with a
/// `VALUES` list, PostgreSQL with a list of rows (whose types it can then infer).
fn pairs(d: Dialect, chunk: &[(String, i32)], leading: Vec<SqlParam>) -> (String, Vec<SqlParam>) {
    let mut rows = ValueRows::after(d, leading);
    for (id, attempt) in chunk {
        rows.push([
            SqlParam::Text(id.clone()),
            SqlParam::Int(i64::from(*attempt)),
        ]);
    }
    let list = match d {
        Dialect::Sqlite => format!("VALUES {}", rows.sql()),
        Dialect::Postgres => rows.sql().to_string(),
    };
    (list, rows.into_params())
}

/// Marks the attempts `(id, attempt)` done inside `tx` when they still hold their jobs; returns
/// the ids it marked.
async fn finish(
    tx: &mut Tx,
    now: i64,
    attempts: &[(String, i32)],
) -> Result<Vec<String>, StoreError> {
    let d = tx.dialect();
    let (pairs, params) = pairs(d, attempts, vec![SqlParam::Int(now)]);
    tx.fetch_all(
        &format!(
            "UPDATE jobs SET state = 'done', finished_at = {}, leased_until = NULL \
                 WHERE state = 'running' AND (id, attempts) IN ({pairs}) RETURNING id",
            crate::schema::placeholder(d, 1)
        ),
        &params,
        &[ColumnKind::Text],
    )
    .await?
    .iter()
    .map(|r| r.text("id"))
    .collect()
}

/// Up to `limit` due jobs of `queue` and `kinds`, now leased to `node`.
async fn claim(
    store: &Store,
    queue: &str,
    kinds: &[&str],
    limit: usize,
    node: &str,
    lease: chrono::Duration,
) -> Result<Vec<ClaimedJob>, StoreError> {
    if kinds.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let d = store.db.dialect();
    let now = store.now();
    let ph = |n| crate::schema::placeholder(d, n);
    let mut params = vec![
        SqlParam::Text(node.to_string()),
        SqlParam::Int((now + lease).timestamp_millis()),
        SqlParam::Int(now.timestamp_millis()),
        SqlParam::Text(queue.to_string()),
    ];
    let kind_marks: Vec<String> = kinds
        .iter()
        .map(|k| {
            params.push(SqlParam::Text((*k).to_string()));
            ph(params.len())
        })
        .collect();
    let lock = match d {
        Dialect::Sqlite => "",
        Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
    };
    let rows = store
        .db
        .write_returning(
            &format!(
                "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = {}, leased_until = {}, \
                 started_at = {} WHERE id IN (SELECT id FROM jobs WHERE queue = {} AND state IN ('pending', 'failed') \
                 AND run_at <= {} AND kind IN ({}) ORDER BY priority DESC, run_at, id LIMIT {limit}{lock}) \
                 RETURNING id, workspace_id, queue, kind, payload, attempts, max_attempts, created_at, run_at",
                ph(1),
                ph(2),
                ph(3),
                ph(4),
                ph(3),
                kind_marks.join(", ")
            ),
            &params,
            &[
                ColumnKind::Text,
                ColumnKind::Text,
                ColumnKind::Text,
                ColumnKind::Text,
                ColumnKind::Json,
                ColumnKind::Int,
                ColumnKind::Int,
                ColumnKind::Int,
                ColumnKind::Int,
            ],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(ClaimedJob {
                id: r.text("id")?,
                workspace_id: r.opt_text("workspace_id")?,
                queue: r.text("queue")?,
                kind: r.text("kind")?,
                payload: r.json("payload")?,
                attempt: super::small(r.int("attempts")?)?,
                max_attempts: super::small(r.int("max_attempts")?)?,
                created_at: r.millis("created_at")?,
                run_at: r.millis("run_at")?,
            })
        })
        .collect()
}

/// Settles a failed attempt (when it still holds its job): due again after the backoff, dead
/// when out of attempts or failed for good, cancelled when an admin asked. Returns the new
/// state, or None when the attempt had lost its lease.
async fn fail(
    store: &Store,
    node: &str,
    job: &ClaimedJob,
    error: &JobError,
    backoff: Backoff,
) -> Result<Option<crate::jobs::JobState>, StoreError> {
    use crate::jobs::JobState;
    let now = store.now();
    let (state, run_at) = match error.retry {
        Retry::Never => (JobState::Dead, now),
        _ if job.attempt >= job.max_attempts => (JobState::Dead, now),
        Retry::After(after) => (JobState::Failed, now + after.max(chrono::Duration::zero())),
        Retry::Backoff => (JobState::Failed, now + backoff.delay(&job.id, job.attempt)),
    };
    let message = error_text(&error.message);
    let d = store.db.dialect();
    let ph = |n| crate::schema::placeholder(d, n);
    let mut tx = store.db.begin().await?;
    let Some(row) = tx
        .fetch_optional(
            &format!(
                "UPDATE jobs SET state = CASE WHEN cancel_requested THEN 'cancelled' ELSE {} END, run_at = {}, \
                 last_error = {}, leased_until = NULL, \
                 finished_at = CASE WHEN cancel_requested OR {} = 'dead' THEN {} ELSE NULL END \
                 WHERE id = {} AND attempts = {} AND state = 'running' RETURNING state, started_at",
                ph(1),
                ph(2),
                ph(3),
                ph(1),
                ph(4),
                ph(5),
                ph(6)
            ),
            &[
                SqlParam::Text(state.as_str().into()),
                SqlParam::Int(run_at.timestamp_millis()),
                SqlParam::Text(message.clone()),
                SqlParam::Int(now.timestamp_millis()),
                SqlParam::Text(job.id.clone()),
                SqlParam::Int(i64::from(job.attempt)),
            ],
            &[ColumnKind::Text, ColumnKind::Int],
        )
        .await?
    else {
        return Ok(None);
    };
    let settled = row.text("state")?;
    let settled = JobState::parse(&settled)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown job state {settled:?}")))?;
    let mut attempt = ValueRows::new(d);
    attempt.push([
        SqlParam::Text(job.id.clone()),
        SqlParam::Int(i64::from(job.attempt)),
        SqlParam::Text(node.to_string()),
        row.opt_int("started_at")?
            .map_or(SqlParam::NullOf(ColumnKind::Int), SqlParam::Int),
        SqlParam::Int(now.timestamp_millis()),
        SqlParam::Text(
            if settled == JobState::Cancelled {
                "cancelled"
            } else {
                "failed"
            }
            .into(),
        ),
        SqlParam::Text(message),
    ]);
    tx.execute(
        &format!(
            "INSERT INTO job_attempts (job_id, attempt, node, started_at, finished_at, outcome, error) \
             VALUES {}",
            attempt.sql()
        ),
        attempt.params(),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(settled))
}

const LOST: &str =
    "the node running this attempt stopped renewing its lease (it stopped or was killed)";

/// Jobs whose lease ran out: the attempt is written down as lost (cancelled when an admin had
/// asked), and the job is due again at once — or dead when it has no attempts left. Returns
/// how many.
pub(super) async fn reap(store: &Store) -> Result<usize, StoreError> {
    let now = store.now().timestamp_millis();
    // Unqualified names in SET are the job's own (`lost` has only `id`).
    let settle_state = "CASE WHEN cancel_requested THEN 'cancelled' WHEN attempts >= max_attempts THEN 'dead' ELSE 'failed' END";
    let finished = "CASE WHEN cancel_requested OR attempts >= max_attempts THEN $1 ELSE NULL END";
    match store.db.dialect() {
        Dialect::Postgres => {
            let rows = store
                .db
                .write_returning(
                    &format!(
                        "WITH lost AS (SELECT id FROM jobs WHERE state = 'running' AND leased_until < $1 FOR UPDATE SKIP LOCKED), \
                         moved AS (UPDATE jobs j SET state = {}, run_at = $1, last_error = $2, leased_until = NULL, finished_at = {} \
                         FROM lost WHERE j.id = lost.id RETURNING j.id, j.attempts, j.lease_owner, j.started_at, j.state) \
                         INSERT INTO job_attempts (job_id, attempt, node, started_at, finished_at, outcome, error) \
                         SELECT id, attempts, lease_owner, started_at, $1, \
                         CASE WHEN state = 'cancelled' THEN 'cancelled' ELSE 'lost' END, $2 FROM moved RETURNING job_id",
                        settle_state, finished,
                    ),
                    &[SqlParam::Int(now), SqlParam::Text(LOST.into())],
                    &[ColumnKind::Text],
                )
                .await?;
            Ok(rows.len())
        }
        Dialect::Sqlite => {
            let mut tx = store.db.begin().await?;
            let params = [SqlParam::Int(now), SqlParam::Text(LOST.into())];
            let n = tx
                .execute(
                    "INSERT INTO job_attempts (job_id, attempt, node, started_at, finished_at, outcome, error) \
                     SELECT id, attempts, lease_owner, started_at, ?1, \
                     CASE WHEN cancel_requested THEN 'cancelled' ELSE 'lost' END, ?2 \
                     FROM jobs WHERE state = 'running' AND leased_until < ?1",
                    &params,
                )
                .await?;
            if n > 0 {
                tx.execute(
                    &format!(
                        "UPDATE jobs SET state = {settle_state}, run_at = ?1, last_error = ?2, leased_until = NULL, \
                         finished_at = {} WHERE state = 'running' AND leased_until < ?1",
                        finished.replace("$1", "?1")
                    ),
                    &params,
                )
                .await?;
            }
            tx.commit().await?;
            usize::try_from(n).map_err(|_| StoreError::Corrupt("reaped count out of range".into()))
        }
    }
}
