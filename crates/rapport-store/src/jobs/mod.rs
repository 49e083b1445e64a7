//! Durable jobs: one queue in the database, on both backends, for work that is slow, external or
//! due later (deliveries, waits, reminders, retries). This module owns the `jobs` and
//! `job_attempts` tables: enqueueing (inside the caller's transaction, so a job exists if and
//! only if the business change committed), the admin's view and actions (counts by state,
//! lists, one job with its attempts, retry, cancel, discard) and pruning; `runner` claims and
//! runs jobs with leases.
//!
//! A job belongs to a queue (`delivery`, `webhook`, …), has a kind (which handler runs it), a
//! JSON payload, a workspace (None for system jobs), a time to run at and a priority. States:
//! `pending` → `running` (leased by a node) → `done`; a failed attempt makes it `failed` until
//! its retry is due (exponential backoff with jitter), and `dead` once `max_attempts` are used
//! or the handler says the failure is permanent; `cancelled` by an admin. An idempotency key
//! names one job per queue for as long as the job is kept: enqueueing the same key again returns
//! the existing job (done jobs are kept `RETENTION` before pruning; dead ones until discarded).
//!
//! Times are epoch milliseconds of the store's clock. Nothing here reads the system clock.

mod runner;

pub use runner::{Backoff, ClaimedJob, JobCtx, JobError, QueueConfig, Runner, Tick, DEFAULT_LEASE};

use crate::{Store, StoreError, Tx};
use chrono::{DateTime, Utc};
use rapport_core::sql::{placeholder, ColumnKind, Dialect, SqlParam, ValueRows};
use rapport_core::ErrorCode;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use utoipa::ToSchema;

/// Attempts a job gets unless its enqueuer says otherwise.
pub const DEFAULT_MAX_ATTEMPTS: i32 = 10;
/// How long done and cancelled jobs are kept (and their idempotency keys honoured).
pub const RETENTION: chrono::Duration = chrono::Duration::days(7);
/// The longest stored error text; longer ones are cut.
const MAX_ERROR_CHARS: usize = 4_000;
/// Rows per multi-row statement.
const CHUNK: usize = 200;

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for its `run_at`.
    Pending,
    /// Leased by a node that runs it now.
    Running,
    /// Its last attempt failed; it runs again at `run_at`.
    Failed,
    Done,
    /// Out of attempts, or failed for good: kept with its errors until retried or discarded.
    Dead,
    Cancelled,
}

impl JobState {
    pub const ALL: [JobState; 6] = [
        JobState::Pending,
        JobState::Running,
        JobState::Failed,
        JobState::Done,
        JobState::Dead,
        JobState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Running => "running",
            JobState::Failed => "failed",
            JobState::Done => "done",
            JobState::Dead => "dead",
            JobState::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<JobState> {
        JobState::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A job to enqueue; build with [`NewJob::new`] and the setters.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub workspace_id: Option<String>,
    pub queue: String,
    pub kind: String,
    pub payload: Json,
    /// None: now.
    pub run_at: Option<DateTime<Utc>>,
    /// Higher runs first among due jobs of a queue.
    pub priority: i32,
    pub max_attempts: i32,
    pub idempotency_key: Option<String>,
}

impl NewJob {
    /// A system job (no workspace) due now; see the setters for the rest.
    pub fn new(queue: impl Into<String>, kind: impl Into<String>, payload: Json) -> Self {
        Self {
            workspace_id: None,
            queue: queue.into(),
            kind: kind.into(),
            payload,
            run_at: None,
            priority: 0,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            idempotency_key: None,
        }
    }

    pub fn workspace(mut self, workspace_id: impl Into<String>) -> Self {
        self.workspace_id = Some(workspace_id.into());
        self
    }

    pub fn run_at(mut self, at: DateTime<Utc>) -> Self {
        self.run_at = Some(at);
        self
    }

    pub fn priority(mut self, priority: i32) -> Self {
        self.priority = priority;
        self
    }

    pub fn max_attempts(mut self, attempts: i32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// Unique per queue (not per workspace): put what makes it unique in it, e.g.
    /// `"{workspace}:{outbox entry id}"`.
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }
}

/// What enqueueing did with one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enqueued {
    Created(String),
    /// A job of the queue already had the idempotency key: its id.
    Duplicate(String),
}

impl Enqueued {
    pub fn id(&self) -> &str {
        match self {
            Enqueued::Created(id) | Enqueued::Duplicate(id) => id,
        }
    }
}

/// A queue or kind name: 1 to 100 of `a-z 0-9 . _ -`.
fn check_name(name: &str, what: &'static str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(StoreError::bad_request(
            ErrorCode::InvalidJob,
            format!("a job's {what} is 1 to 100 characters of a-z, 0-9, '.', '_' and '-'"),
        ))
    }
}

fn check(job: &NewJob) -> Result<(), StoreError> {
    check_name(&job.queue, "queue")?;
    check_name(&job.kind, "kind")?;
    if !(1..=100).contains(&job.max_attempts) {
        return Err(StoreError::bad_request(
            ErrorCode::InvalidJob,
            "max_attempts is between 1 and 100",
        ));
    }
    if job
        .idempotency_key
        .as_ref()
        .is_some_and(|k| k.is_empty() || k.len() > 200)
    {
        return Err(StoreError::bad_request(
            ErrorCode::InvalidJob,
            "an idempotency key is 1 to 200 bytes",
        ));
    }
    Ok(())
}

/// Enqueues jobs inside the caller's transaction: they exist if and only if it commits. Call
/// [`wake`] after the commit so this node's runners look at once instead of at their next poll.
/// Returns one [`Enqueued`] per job, in order.
pub async fn enqueue(
    store: &Store,
    tx: &mut Tx,
    jobs: &[NewJob],
) -> Result<Vec<Enqueued>, StoreError> {
    for job in jobs {
        check(job)?;
    }
    let dialect = tx.dialect();
    let now = store.now();
    let mut out = Vec::with_capacity(jobs.len());
    for chunk in jobs.chunks(CHUNK) {
        let ids: Vec<String> = chunk
            .iter()
            .map(|_| uuid::Uuid::now_v7().to_string())
            .collect();
        let mut rows = ValueRows::new(dialect);
        for (job, id) in chunk.iter().zip(&ids) {
            rows.push([
                SqlParam::Text(id.clone()),
                job.workspace_id
                    .clone()
                    .map_or(SqlParam::NullOf(ColumnKind::Text), SqlParam::Text),
                SqlParam::Text(job.queue.clone()),
                SqlParam::Text(job.kind.clone()),
                SqlParam::Json(job.payload.clone()),
                SqlParam::Text(JobState::Pending.as_str().into()),
                SqlParam::Int(i64::from(job.priority)),
                SqlParam::Int(job.run_at.unwrap_or(now).timestamp_millis()),
                SqlParam::Int(i64::from(job.max_attempts)),
                job.idempotency_key
                    .clone()
                    .map_or(SqlParam::NullOf(ColumnKind::Text), SqlParam::Text),
                SqlParam::Int(now.timestamp_millis()),
            ]);
        }
        let insert = format!(
            "INSERT INTO jobs (id, workspace_id, queue, kind, payload, state, priority, run_at, max_attempts, \
             idempotency_key, created_at) VALUES {} \
             ON CONFLICT (queue, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING",
            rows.sql()
        );
        let params = rows.into_params();
        if chunk.iter().all(|j| j.idempotency_key.is_none()) {
            tx.execute(&insert, &params).await?;
            out.extend(ids.into_iter().map(Enqueued::Created));
            continue;
        }
        let created: std::collections::HashSet<String> = tx
            .fetch_all(
                &format!("{insert} RETURNING id"),
                &params,
                &[ColumnKind::Text],
            )
            .await?
            .iter()
            .map(|r| r.text("id"))
            .collect::<Result<_, _>>()?;
        for (job, id) in chunk.iter().zip(ids) {
            if created.contains(&id) {
                out.push(Enqueued::Created(id));
                continue;
            }
            // Only a job with an idempotency key can conflict, so the key is there.
            let key = job.idempotency_key.clone().unwrap_or_default();
            let existing = tx
                .fetch_optional(
                    &format!(
                        "SELECT id FROM jobs WHERE queue = {} AND idempotency_key = {}",
                        placeholder(dialect, 1),
                        placeholder(dialect, 2)
                    ),
                    &[SqlParam::Text(job.queue.clone()), SqlParam::Text(key)],
                    &[ColumnKind::Text],
                )
                .await?
                .ok_or_else(|| {
                    StoreError::Corrupt("a job's idempotency key conflicted with no job".into())
                })?;
            out.push(Enqueued::Duplicate(existing.text("id")?));
        }
    }
    Ok(out)
}

/// Enqueues jobs in a transaction of their own and wakes this node's runners.
pub async fn enqueue_now(store: &Store, jobs: &[NewJob]) -> Result<Vec<Enqueued>, StoreError> {
    let mut tx = store.db.begin().await?;
    let out = enqueue(store, &mut tx, jobs).await?;
    tx.commit().await?;
    wake(store);
    Ok(out)
}

/// Tells this node's runners that jobs were committed (other nodes find them at their next
/// poll).
pub fn wake(store: &Store) {
    store.jobs_wake.send_modify(|n| *n = n.wrapping_add(1));
}

/// A job as the admin sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Job {
    pub id: String,
    /// None for a system job.
    pub workspace_id: Option<String>,
    pub queue: String,
    pub kind: String,
    #[schema(value_type = Object)]
    pub payload: Json,
    pub state: JobState,
    pub priority: i32,
    /// When it runs (next), or ran last.
    pub run_at: DateTime<Utc>,
    /// Attempts started so far.
    pub attempts: i32,
    pub max_attempts: i32,
    pub idempotency_key: Option<String>,
    /// The node of the latest attempt.
    pub node: Option<String>,
    /// While running: until when its node's lease holds.
    pub leased_until: Option<DateTime<Utc>>,
    /// An admin asked a running job to stop.
    pub cancel_requested: bool,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When its latest attempt started.
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

const JOB_COLUMNS: &str =
    "id, workspace_id, queue, kind, payload, state, priority, run_at, attempts, \
     max_attempts, idempotency_key, lease_owner, leased_until, cancel_requested, last_error, \
     created_at, started_at, finished_at";

const JOB_KINDS: [ColumnKind; 18] = [
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Json,
    ColumnKind::Text,
    ColumnKind::Int,
    ColumnKind::Int,
    ColumnKind::Int,
    ColumnKind::Int,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Int,
    ColumnKind::Bool,
    ColumnKind::Text,
    ColumnKind::Int,
    ColumnKind::Int,
    ColumnKind::Int,
];

pub(crate) fn small(value: i64) -> Result<i32, StoreError> {
    i32::try_from(value)
        .map_err(|_| StoreError::Corrupt(format!("a job count ({value}) is out of range")))
}

fn job_from(r: &crate::Row) -> Result<Job, StoreError> {
    let state = r.text("state")?;
    Ok(Job {
        id: r.text("id")?,
        workspace_id: r.opt_text("workspace_id")?,
        queue: r.text("queue")?,
        kind: r.text("kind")?,
        payload: r.json("payload")?,
        state: JobState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown job state {state:?}")))?,
        priority: small(r.int("priority")?)?,
        run_at: r.millis("run_at")?,
        attempts: small(r.int("attempts")?)?,
        max_attempts: small(r.int("max_attempts")?)?,
        idempotency_key: r.opt_text("idempotency_key")?,
        node: r.opt_text("lease_owner")?,
        leased_until: r.opt_millis("leased_until")?,
        cancel_requested: r.bool("cancel_requested")?,
        last_error: r.opt_text("last_error")?,
        created_at: r.millis("created_at")?,
        started_at: r.opt_millis("started_at")?,
        finished_at: r.opt_millis("finished_at")?,
    })
}

/// One attempt of a job.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Attempt {
    /// 1 for the first.
    pub attempt: i32,
    pub node: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: DateTime<Utc>,
    /// `done`, `failed`, `lost` (its node stopped heart-beating, e.g. killed) or `cancelled`.
    pub outcome: String,
    pub error: Option<String>,
}

/// A job with every attempt it made.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobDetail {
    #[serde(flatten)]
    pub job: Job,
    /// Oldest first.
    pub history: Vec<Attempt>,
}

/// Jobs of one queue, counted by state.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct QueueCounts {
    pub queue: String,
    pub pending: i64,
    pub running: i64,
    pub failed: i64,
    pub done: i64,
    pub dead: i64,
    pub cancelled: i64,
}

/// A page of jobs, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobPage {
    pub jobs: Vec<Job>,
    /// Pass as `before` for the next page; None on the last.
    pub next: Option<String>,
}

/// Whose jobs an admin call sees.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    Workspace(&'a str),
    /// Jobs of no workspace (operators).
    System,
}

impl Scope<'_> {
    /// The scope's condition on `workspace_id`, its parameter numbered `n` when it has one.
    fn condition(self, dialect: Dialect, n: usize, params: &mut Vec<SqlParam>) -> String {
        match self {
            Scope::Workspace(id) => {
                params.push(SqlParam::Text(id.to_string()));
                format!("workspace_id = {}", crate::schema::placeholder(dialect, n))
            }
            Scope::System => "workspace_id IS NULL".into(),
        }
    }
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    pub queue: Option<String>,
    pub state: Option<JobState>,
    /// Jobs older than this id (the previous page's `next`).
    pub before: Option<String>,
    /// 1 to 200 (default 50).
    pub limit: Option<usize>,
}

/// Every queue of the scope with its counts by state.
pub async fn queues(store: &Store, scope: Scope<'_>) -> Result<Vec<QueueCounts>, StoreError> {
    let mut params = Vec::new();
    let condition = scope.condition(store.db.dialect(), 1, &mut params);
    let rows = store
        .db
        .fetch_all(
            &format!(
                "SELECT queue, state, COUNT(*) AS count FROM jobs WHERE {condition} GROUP BY queue, state ORDER BY queue"
            ),
            &params,
            &[ColumnKind::Text, ColumnKind::Text, ColumnKind::Int],
        )
        .await?;
    let mut out: Vec<QueueCounts> = Vec::new();
    for r in rows {
        let queue = r.text("queue")?;
        if out.last().is_none_or(|q| q.queue != queue) {
            out.push(QueueCounts {
                queue,
                ..QueueCounts::default()
            });
        }
        let Some(counts) = out.last_mut() else {
            continue;
        };
        let n = r.int("count")?;
        let state = r.text("state")?;
        match JobState::parse(&state) {
            Some(JobState::Pending) => counts.pending = n,
            Some(JobState::Running) => counts.running = n,
            Some(JobState::Failed) => counts.failed = n,
            Some(JobState::Done) => counts.done = n,
            Some(JobState::Dead) => counts.dead = n,
            Some(JobState::Cancelled) => counts.cancelled = n,
            None => return Err(StoreError::Corrupt(format!("unknown job state {state:?}"))),
        }
    }
    Ok(out)
}

/// A page of the scope's jobs, newest first (keyset-paged by id, which grows with time).
pub async fn list(
    store: &Store,
    scope: Scope<'_>,
    filter: &JobFilter,
) -> Result<JobPage, StoreError> {
    let d = store.db.dialect();
    let limit = filter.limit.unwrap_or(50).clamp(1, 200);
    let mut params = Vec::new();
    let mut sql = format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE {}",
        scope.condition(d, 1, &mut params)
    );
    if let Some(queue) = &filter.queue {
        params.push(SqlParam::Text(queue.clone()));
        sql.push_str(&format!(
            " AND queue = {}",
            crate::schema::placeholder(d, params.len())
        ));
    }
    if let Some(state) = filter.state {
        params.push(SqlParam::Text(state.as_str().into()));
        sql.push_str(&format!(
            " AND state = {}",
            crate::schema::placeholder(d, params.len())
        ));
    }
    if let Some(before) = &filter.before {
        params.push(SqlParam::Text(before.clone()));
        sql.push_str(&format!(
            " AND id < {}",
            crate::schema::placeholder(d, params.len())
        ));
    }
    sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", limit + 1));
    let rows = store.db.fetch_all(&sql, &params, &JOB_KINDS).await?;
    let mut jobs = rows.iter().map(job_from).collect::<Result<Vec<_>, _>>()?;
    let next = if jobs.len() > limit {
        jobs.truncate(limit);
        jobs.last().map(|j| j.id.clone())
    } else {
        None
    };
    Ok(JobPage { jobs, next })
}

/// One job of the scope with its attempts.
pub async fn get(store: &Store, scope: Scope<'_>, id: &str) -> Result<JobDetail, StoreError> {
    let d = store.db.dialect();
    let mut params = vec![SqlParam::Text(id.to_string())];
    let condition = scope.condition(d, 2, &mut params);
    let job = store
        .db
        .fetch_optional(
            &format!(
                "SELECT {JOB_COLUMNS} FROM jobs WHERE id = {} AND {condition}",
                crate::schema::placeholder(d, 1)
            ),
            &params,
            &JOB_KINDS,
        )
        .await?
        .ok_or(StoreError::not_found("job"))?;
    let job = job_from(&job)?;
    let rows = store
        .db
        .fetch_all(
            &format!(
                "SELECT attempt, node, started_at, finished_at, outcome, error FROM job_attempts \
                 WHERE job_id = {} ORDER BY attempt",
                crate::schema::placeholder(d, 1)
            ),
            &[SqlParam::Text(id.to_string())],
            &[
                ColumnKind::Int,
                ColumnKind::Text,
                ColumnKind::Int,
                ColumnKind::Int,
                ColumnKind::Text,
                ColumnKind::Text,
            ],
        )
        .await?;
    let mut history = rows
        .iter()
        .map(|r| {
            Ok(Attempt {
                attempt: small(r.int("attempt")?)?,
                node: r.opt_text("node")?,
                started_at: r.opt_millis("started_at")?,
                finished_at: r.millis("finished_at")?,
                outcome: r.text("outcome")?,
                error: r.opt_text("error")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    // The successful attempt is not written as a row (it would cost every job a second insert):
    // it is the job's own latest attempt.
    if job.state == JobState::Done {
        if let Some(finished_at) = job.finished_at {
            history.push(Attempt {
                attempt: job.attempts,
                node: job.node.clone(),
                started_at: job.started_at,
                finished_at,
                outcome: "done".into(),
                error: None,
            });
        }
    }
    Ok(JobDetail { job, history })
}

/// Runs `sql` (an UPDATE or DELETE of job `id` in the scope, conditional on its state, with
/// `RETURNING id`); when it changed nothing, tells a missing job (404) from one in the wrong
/// state (409 `code`).
async fn act(
    store: &Store,
    scope: Scope<'_>,
    id: &str,
    sql: impl Fn(&str) -> String,
    mut params: Vec<SqlParam>,
    code: ErrorCode,
    message: &'static str,
) -> Result<JobDetail, StoreError> {
    let d = store.db.dialect();
    params.push(SqlParam::Text(id.to_string()));
    let id_mark = crate::schema::placeholder(d, params.len());
    let condition = scope.condition(d, params.len() + 1, &mut params);
    let changed = store
        .db
        .write_returning(
            &sql(&format!("id = {id_mark} AND {condition}")),
            &params,
            &[ColumnKind::Text],
        )
        .await?;
    let detail = get(store, scope, id).await;
    if changed.is_empty() {
        detail?;
        return Err(StoreError::conflict(code, message));
    }
    detail
}

/// A failed or dead job runs again now; a dead one gets one more attempt.
pub async fn retry(store: &Store, scope: Scope<'_>, id: &str) -> Result<JobDetail, StoreError> {
    let now = store.now().timestamp_millis();
    act(
        store,
        scope,
        id,
        |which| {
            format!(
                "UPDATE jobs SET state = 'pending', run_at = {}, finished_at = NULL, \
                 max_attempts = CASE WHEN state = 'dead' THEN attempts + 1 ELSE max_attempts END \
                 WHERE {which} AND state IN ('failed', 'dead') RETURNING id",
                crate::schema::placeholder(store.db.dialect(), 1)
            )
        },
        vec![SqlParam::Int(now)],
        ErrorCode::JobNotRetryable,
        "only a failed or dead job can be retried",
    )
    .await
}

/// A pending or failed job is cancelled at once; a running one is asked to stop (its handler
/// sees it, and the job ends `cancelled` unless the attempt succeeds).
pub async fn cancel(store: &Store, scope: Scope<'_>, id: &str) -> Result<JobDetail, StoreError> {
    let now = store.now().timestamp_millis();
    act(
        store,
        scope,
        id,
        |which| {
            let ph = |n| crate::schema::placeholder(store.db.dialect(), n);
            format!(
                "UPDATE jobs SET \
                 cancel_requested = CASE WHEN state = 'running' THEN {} ELSE cancel_requested END, \
                 finished_at = CASE WHEN state = 'running' THEN finished_at ELSE {} END, \
                 state = CASE WHEN state = 'running' THEN 'running' ELSE 'cancelled' END \
                 WHERE {which} AND state IN ('pending', 'failed', 'running') RETURNING id",
                ph(1),
                ph(2)
            )
        },
        vec![SqlParam::Bool(true), SqlParam::Int(now)],
        ErrorCode::JobFinished,
        "the job has already finished",
    )
    .await
}

/// Deletes a dead or cancelled job with its attempts.
pub async fn discard(store: &Store, scope: Scope<'_>, id: &str) -> Result<(), StoreError> {
    let d = store.db.dialect();
    let mut params = vec![SqlParam::Text(id.to_string())];
    let condition = scope.condition(d, 2, &mut params);
    let deleted = store
        .db
        .write_returning(
            &format!(
                "DELETE FROM jobs WHERE id = {} AND {condition} AND state IN ('dead', 'cancelled') RETURNING id",
                crate::schema::placeholder(d, 1)
            ),
            &params,
            &[ColumnKind::Text],
        )
        .await?;
    if deleted.is_empty() {
        get(store, scope, id).await?;
        return Err(StoreError::conflict(
            ErrorCode::JobNotDiscardable,
            "only a dead or cancelled job can be discarded",
        ));
    }
    Ok(())
}

/// Deletes done and cancelled jobs that finished before `before` (at most 10,000 a call);
/// returns how many.
pub async fn prune(store: &Store, before: DateTime<Utc>) -> Result<u64, StoreError> {
    store
        .db
        .execute(
            &format!(
                "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE state IN ('done', 'cancelled') \
                 AND finished_at < {} LIMIT 10000)",
                store.ph(1)
            ),
            &[SqlParam::Int(before.timestamp_millis())],
        )
        .await
}

/// `text` cut to what a job keeps of an error.
pub(crate) fn error_text(text: &str) -> String {
    if text.chars().count() <= MAX_ERROR_CHARS {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(MAX_ERROR_CHARS).collect();
    cut.push('…');
    cut
}
