//! Delivering messages: a job of the `webhooks` queue carries up to [`BATCH`] messages of one
//! endpoint and POSTs them, [`SENDS_AT_ONCE`] at a time over the node's kept-alive client, each
//! signed with the endpoint's secret (and the previous one while a rotation overlaps), with the
//! same `webhook-id` on every attempt. What came back is written in the transaction that
//! completes the job: every attempt in the delivery log (status, the first KB of the answer,
//! latency, or the error), each message's new state, the endpoint's breaker (see `breaker`),
//! and a retry job for the messages that failed — with backoff for about three days, after
//! which a message is marked failed. A job killed midway runs again and sends its messages
//! again under the same ids: at least once.
//!
//! A node runs one job at a time of an endpoint that is slow (see [`Node`]). A message of a
//! deleted or disabled endpoint is not sent; one whose breaker is open is parked
//! instead of attempted, and the job stops attempting once its own attempts have opened the
//! breaker. An endpoint whose attempts have all failed for [`DISABLE_AFTER`] is switched off
//! (audited as `webhook.auto_disable`, shown on its page) until an admin enables it again.

use super::breaker::{self, BreakerConfig, BreakerState, Outcome, Transition};
use super::health::Metrics;
use super::signing;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use rapport_core::sql::{placeholder, placeholders, ColumnKind, SqlParam, ValueRows};
use rapport_store::jobs::{Backoff, JobCtx, JobError, NewJob, QueueConfig};
use rapport_store::{Store, StoreError, Tx};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use utoipa::ToSchema;

pub const QUEUE: &str = "webhooks";
pub const DELIVER: &str = "webhook.deliver";
/// Attempts of one message over about three days: 30 s doubling up to 8 h between them.
pub const MAX_ATTEMPTS: i64 = 14;
/// Messages one delivery job carries at most.
pub const BATCH: usize = 100;
/// Requests one job has under way at once.
pub const SENDS_AT_ONCE: usize = 16;
/// How long an attempt waits for the receiver unless the endpoint says otherwise.
pub const DEFAULT_TIMEOUT_SECONDS: i64 = 15;
/// How much of an answer's body the log keeps.
const KEPT_BODY: usize = 1024;
/// How long an endpoint may fail every attempt before it is switched off.
pub const DISABLE_AFTER: chrono::Duration = chrono::Duration::days(5);
/// Runs of a delivery job the queue allows when the job itself fails (the database was away):
/// failed deliveries are retried by new jobs, not by these.
const JOB_ATTEMPTS: i32 = 20;
/// The wait between attempts of a message.
const BACKOFF: Backoff = Backoff {
    base: chrono::Duration::seconds(30),
    max: chrono::Duration::hours(8),
};

/// The webhooks queue as a node's job runner takes it.
pub fn queue(concurrency: usize) -> QueueConfig {
    QueueConfig::new(QUEUE, concurrency)
}

/// What a delivery job carries: messages of one endpoint; a probe is the one attempt a
/// half-open breaker allows.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub endpoint_id: String,
    pub message_ids: Vec<String>,
    pub probe: bool,
}

impl Delivery {
    /// The job that delivers these messages.
    pub fn job(&self, workspace_id: &str) -> NewJob {
        NewJob::new(
            QUEUE,
            DELIVER,
            json!({"endpoint_id": self.endpoint_id, "message_ids": self.message_ids, "probe": self.probe}),
        )
        .workspace(workspace_id)
        .max_attempts(JOB_ATTEMPTS)
    }

    fn parse(payload: &serde_json::Value) -> Option<Delivery> {
        Some(Delivery {
            endpoint_id: payload["endpoint_id"].as_str()?.to_string(),
            message_ids: payload["message_ids"]
                .as_array()?
                .iter()
                .filter_map(|id| id.as_str().map(str::to_string))
                .collect(),
            probe: payload["probe"].as_bool().unwrap_or(false),
        })
    }
}

/// One attempt as the delivery log shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryAttempt {
    pub at: DateTime<Utc>,
    /// The receiver's HTTP status; none when no answer came.
    pub status: Option<i64>,
    /// The first KB of the answer's body.
    pub response: String,
    /// Why no answer came (refused, timed out, …).
    pub error: Option<String>,
    pub latency_ms: i64,
}

struct Target {
    workspace_id: String,
    url: String,
    secrets: Vec<String>,
    enabled: bool,
    ordered: bool,
    timeout: Duration,
    breaker: BreakerConfig,
    breaker_state: BreakerState,
}

struct Message {
    id: String,
    body: String,
    attempts: i64,
}

async fn target(store: &Store, endpoint_id: &str) -> Result<Option<Target>, StoreError> {
    let row = store
        .db
        .fetch_optional(
            &format!(
                "SELECT workspace_id, url, secret, previous_secret, previous_until, enabled, ordered, \
                 timeout_seconds, breaker, breaker_state FROM webhook_endpoints WHERE id = {}",
                store.ph(1)
            ),
            &[SqlParam::Text(endpoint_id.into())],
            &[
                ColumnKind::Text,
                ColumnKind::Text,
                ColumnKind::Text,
                ColumnKind::Text,
                ColumnKind::Timestamp,
                ColumnKind::Bool,
                ColumnKind::Bool,
                ColumnKind::Int,
                ColumnKind::Json,
                ColumnKind::Text,
            ],
        )
        .await?;
    let Some(row) = row else { return Ok(None) };
    let mut secrets = vec![row.text(2)?];
    if let (Some(previous), Some(until)) = (row.opt_text(3)?, row.opt_timestamp(4)?) {
        if until > store.now() {
            secrets.push(previous);
        }
    }
    Ok(Some(Target {
        workspace_id: row.text(0)?,
        url: row.text(1)?,
        secrets,
        enabled: row.bool(5)?,
        ordered: row.bool(6)?,
        timeout: Duration::from_secs(u64::try_from(row.int(7)?).unwrap_or(15).clamp(1, 60)),
        breaker: BreakerConfig::from_json(row.json(8)?),
        breaker_state: BreakerState::parse(&row.text(9)?),
    }))
}

async fn messages(store: &Store, delivery: &Delivery) -> Result<Vec<Message>, StoreError> {
    if delivery.message_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut params = vec![SqlParam::Text(delivery.endpoint_id.clone())];
    params.extend(delivery.message_ids.iter().cloned().map(SqlParam::Text));
    let rows = store
        .db
        .fetch_all(
            &format!(
                "SELECT id, payload, attempts FROM webhook_messages WHERE endpoint_id = {} \
                 AND id IN ({}) ORDER BY created_at, id",
                store.ph(1),
                placeholders(store.db.dialect(), 2, delivery.message_ids.len())
            ),
            &params,
            &[ColumnKind::Text, ColumnKind::Json, ColumnKind::Int],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Message {
                id: r.text(0)?,
                body: r.json(1)?.to_string(),
                attempts: r.int(2)?,
            })
        })
        .collect()
}

/// The job of a message queued before jobs carried batches (`{"message_id": …}`).
async fn legacy(
    store: &Store,
    payload: &serde_json::Value,
) -> Result<Option<Delivery>, StoreError> {
    let Some(id) = payload["message_id"].as_str() else {
        return Ok(None);
    };
    let row = store
        .db
        .fetch_optional(
            &format!(
                "SELECT endpoint_id FROM webhook_messages WHERE id = {}",
                store.ph(1)
            ),
            &[SqlParam::Text(id.into())],
            &[ColumnKind::Text],
        )
        .await?;
    Ok(row
        .map(|r| r.text(0))
        .transpose()?
        .map(|endpoint_id| Delivery {
            endpoint_id,
            message_ids: vec![id.to_string()],
            probe: false,
        }))
}

/// How long a delivery job may be under way before its endpoint counts as slow.
const SLOW_AFTER: std::time::Duration = std::time::Duration::from_secs(1);
/// How long a job that found its endpoint slow and busy waits before it is tried again.
const SLOT_WAIT: chrono::Duration = chrono::Duration::seconds(1);
/// Jobs of one healthy endpoint a node runs at once (a slow one runs one).
const JOBS_PER_ENDPOINT: usize = 3;
/// How long a job waits for the one job trying a destination that has not answered on this node
/// yet (a healthy one answers within it; one that hangs does not hold the waiting job's slot).
const UNTRIED_WAIT: std::time::Duration = std::time::Duration::from_millis(200);
/// How often a job waiting for its endpoint's slot looks again.
const SLOT_LOOK: std::time::Duration = std::time::Duration::from_millis(50);

/// What a node keeps across its deliveries: its webhook metrics, and the delivery jobs of each
/// endpoint it runs now. A healthy endpoint runs up to [`JOBS_PER_ENDPOINT`] at once (one until
/// it has answered on this node); a job beyond them waits for one to end (they end quickly). An endpoint is slow while one of its
/// jobs has been under way for [`SLOW_AFTER`] or its latest attempts on this node got no
/// answer; a slow endpoint runs one job at a time, and its other jobs give their queue slot
/// back at once and come again later — so a destination that hangs holds one of the queue's
/// slots, not all of them.
pub struct Node {
    pub metrics: Metrics,
    endpoints: Mutex<HashMap<String, Load>>,
    /// Told whenever a job gives its slot back.
    freed: tokio::sync::Notify,
}

/// Why a job got no slot.
enum Busy {
    /// The endpoint's jobs fill its slots and may end soon: worth waiting this long for one.
    Full(std::time::Duration),
    /// The endpoint is slow and one of its jobs is under way.
    Slow,
}

#[derive(Default)]
struct Load {
    /// The jobs under way: a token each, and when it started.
    running: Vec<(u64, Instant)>,
    /// Whether the latest attempt on this node got an answer; none before the first.
    answered: Option<bool>,
    next_token: u64,
}

impl Node {
    pub fn new(registry: &prometheus::Registry) -> Self {
        Self {
            metrics: Metrics::new(registry),
            endpoints: Mutex::default(),
            freed: tokio::sync::Notify::new(),
        }
    }

    fn endpoints(&self) -> std::sync::MutexGuard<'_, HashMap<String, Load>> {
        // The map stays consistent whatever panicked while holding it.
        self.endpoints.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A slot for a job of the endpoint, or none while the endpoint is slow and busy.
    fn slot(self: &Arc<Self>, endpoint_id: &str) -> Result<Slot, Busy> {
        let mut endpoints = self.endpoints();
        let load = endpoints.entry(endpoint_id.to_string()).or_default();
        let slow = load.answered == Some(false)
            || load
                .running
                .iter()
                .any(|(_, at)| at.elapsed() >= SLOW_AFTER);
        // Until a destination has answered, one job tries it: if it hangs, only that job waits.
        let cap = if slow || load.answered.is_none() {
            1
        } else {
            JOBS_PER_ENDPOINT
        };
        if load.running.len() >= cap {
            return Err(match (slow, load.answered) {
                (true, _) => Busy::Slow,
                (false, None) => Busy::Full(UNTRIED_WAIT),
                (false, Some(_)) => Busy::Full(SLOW_AFTER),
            });
        }
        load.next_token += 1;
        let token = load.next_token;
        load.running.push((token, Instant::now()));
        Ok(Slot {
            node: self.clone(),
            endpoint_id: endpoint_id.to_string(),
            token,
        })
    }

    /// A slot for a job of the endpoint: at once, or after the jobs under way of a healthy
    /// endpoint (they end within [`SLOW_AFTER`], or the endpoint counts as slow); none while
    /// the endpoint is slow and busy.
    async fn wait_for_slot(self: &Arc<Self>, endpoint_id: &str) -> Option<Slot> {
        let started = Instant::now();
        loop {
            let freed = self.freed.notified();
            match self.slot(endpoint_id) {
                Ok(slot) => return Some(slot),
                Err(Busy::Slow) => return None,
                Err(Busy::Full(budget)) if started.elapsed() >= budget => return None,
                Err(Busy::Full(_)) => {
                    // A slot freed, or a look again soon (it may have turned slow meanwhile).
                    let _ = tokio::time::timeout(SLOT_LOOK, freed).await;
                }
            }
        }
    }

    /// Notes whether the endpoint's latest attempts on this node got an answer.
    fn answered(&self, endpoint_id: &str, answered: bool) {
        if let Some(load) = self.endpoints().get_mut(endpoint_id) {
            load.answered = Some(answered);
        }
    }
}

/// A delivery job's hold on its endpoint's slot, given back when dropped.
struct Slot {
    node: Arc<Node>,
    endpoint_id: String,
    token: u64,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(load) = self.node.endpoints().get_mut(&self.endpoint_id) {
            load.running.retain(|(token, _)| *token != self.token);
        }
        self.node.freed.notify_waiters();
    }
}

/// The job handler of `webhook.deliver` on `node`.
pub async fn run(ctx: JobCtx, node: Arc<Node>) -> Result<(), JobError> {
    let store = ctx.store();
    let delivery = match Delivery::parse(&ctx.job.payload) {
        Some(d) => Some(d),
        None => legacy(store, &ctx.job.payload).await?,
    };
    let Some(delivery) = delivery else {
        return Err(JobError::permanent("the job names no messages"));
    };
    let Some(_slot) = node.wait_for_slot(&delivery.endpoint_id).await else {
        // The endpoint is slow and busy (its destination may hang): this job's slot in the
        // queue goes to other work, and a copy of it comes back shortly — a new job, so waiting
        // never uses up the job's own attempts.
        let workspace = ctx.job.workspace_id.clone().unwrap_or_default();
        let mut tx = ctx.begin().await?;
        rapport_store::jobs::enqueue(
            store,
            &mut tx,
            &[delivery.job(&workspace).run_at(store.now() + SLOT_WAIT)],
        )
        .await?;
        return ctx.complete(tx).await;
    };
    let messages = messages(store, &delivery).await?;
    let ids: Vec<String> = messages.iter().map(|m| m.id.clone()).collect();
    let Some(target) = target(store, &delivery.endpoint_id).await? else {
        let mut tx = ctx.begin().await?;
        set_state(&mut tx, &ids, "skipped").await?;
        return ctx.complete(tx).await;
    };
    if !target.enabled {
        let mut tx = ctx.begin().await?;
        set_state(&mut tx, &ids, "skipped").await?;
        let next = next_in_order(&mut tx, &target, &delivery.endpoint_id).await?;
        rapport_store::jobs::enqueue(store, &mut tx, &next).await?;
        return ctx.complete(tx).await;
    }
    if target.breaker_state != BreakerState::Closed && !delivery.probe {
        let mut tx = ctx.begin().await?;
        breaker::park(&mut tx, &ids).await?;
        return ctx.complete(tx).await;
    }
    let sent = send_all(store, &target, &messages, delivery.probe).await;
    let attempts = || sent.iter().filter_map(|(_, attempt)| attempt.as_ref());
    node.metrics.attempted(&delivery.endpoint_id, attempts());
    // `sent` is in the order the attempts ended: the last is the latest word.
    if let Some(last) = attempts().next_back() {
        node.answered(&delivery.endpoint_id, last.status.is_some());
    }
    let switched_off = settle(&ctx, &target, &delivery, &messages, &sent).await?;
    rapport_store::jobs::wake(store);
    if switched_off {
        audit_switch_off(store, &target, &delivery.endpoint_id).await?;
    }
    Ok(())
}

/// Attempts the messages, [`SENDS_AT_ONCE`] at a time, in the order they were made; stops
/// attempting (unless probing) once as many attempts in a row got no answer as open the
/// breaker. Each message's attempt, or none when it was not attempted, in the order the
/// attempts ended.
async fn send_all(
    store: &Store,
    target: &Target,
    messages: &[Message],
    probe: bool,
) -> Vec<(usize, Option<DeliveryAttempt>)> {
    let mut unanswered = 0;
    let mut under_way = futures_util::stream::FuturesUnordered::new();
    let mut queue = messages.iter().enumerate();
    let mut out = Vec::with_capacity(messages.len());
    loop {
        while under_way.len() < SENDS_AT_ONCE {
            let Some((i, message)) = queue.next() else {
                break;
            };
            if !probe && unanswered >= target.breaker.timeouts {
                out.push((i, None));
                continue;
            }
            under_way
                .push(async move { (i, send(store, &message.id, &message.body, target).await) });
        }
        let Some((i, attempt)) = under_way.next().await else {
            break;
        };
        if attempt.status.is_none() {
            unanswered += 1;
        } else {
            unanswered = 0;
        }
        out.push((i, Some(attempt)));
    }
    out
}

async fn send(store: &Store, message_id: &str, body: &str, target: &Target) -> DeliveryAttempt {
    let at = store.now();
    let started = Instant::now();
    let timestamp = at.timestamp();
    let secrets: Vec<&str> = target.secrets.iter().map(String::as_str).collect();
    let elapsed =
        |started: Instant| i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    let failed = |error: String| DeliveryAttempt {
        at,
        status: None,
        response: String::new(),
        error: Some(error),
        latency_ms: elapsed(started),
    };
    let Ok(url) = reqwest::Url::parse(&target.url) else {
        return failed("the endpoint's URL does not parse".into());
    };
    let request = store
        .outbound()
        .shared_client()
        .map_err(|e| e.to_string())
        .and_then(|client| {
            client
                .request(reqwest::Method::POST, &url)
                .map_err(|e| e.to_string())
        });
    let request = match request {
        Ok(r) => r,
        Err(e) => return failed(e),
    };
    let answer = request
        .timeout(target.timeout)
        .header("content-type", "application/json")
        .header("webhook-id", message_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header(
            "webhook-signature",
            signing::signature_header(&secrets, message_id, timestamp, body),
        )
        .body(body.to_string())
        .send()
        .await;
    match answer {
        Ok(response) => {
            let status = i64::from(response.status().as_u16());
            let bytes = response.bytes().await.unwrap_or_default();
            let kept = String::from_utf8_lossy(&bytes[..bytes.len().min(KEPT_BODY)]).into_owned();
            DeliveryAttempt {
                at,
                status: Some(status),
                response: kept,
                error: None,
                latency_ms: elapsed(started),
            }
        }
        Err(e) => failed(if e.is_timeout() {
            format!("no answer within {} s", target.timeout.as_secs())
        } else {
            // Without the URL: the log shows the endpoint already.
            e.without_url().to_string()
        }),
    }
}

/// Writes what the attempts came to, in the transaction that completes the job. Whether the
/// endpoint was switched off for failing too long.
async fn settle(
    ctx: &JobCtx,
    target: &Target,
    delivery: &Delivery,
    messages: &[Message],
    sent: &[(usize, Option<DeliveryAttempt>)],
) -> Result<bool, JobError> {
    let store = ctx.store();
    let now = store.now();
    let endpoint_id = delivery.endpoint_id.as_str();
    let mut tx = ctx.begin().await?;
    log(&mut tx, target, endpoint_id, messages, sent).await?;

    let outcomes: Vec<Outcome> = sent
        .iter()
        .filter_map(|(_, a)| a.as_ref().map(|a| Outcome::of(a.status)))
        .collect();
    let Some(mut state) = breaker::lock(&mut tx, endpoint_id).await? else {
        return ctx.complete(tx).await.map(|()| false);
    };
    let transition = state.observe(&target.breaker, delivery.probe, &outcomes);
    breaker::save(&mut tx, endpoint_id, &state, transition, now).await?;
    let open = state.state != BreakerState::Closed;
    if matches!(transition, Transition::Opened(_)) {
        tracing::warn!(endpoint = endpoint_id, "webhook breaker opened");
    }

    let delivered_any = outcomes.contains(&Outcome::Delivered);
    let last_error = sent
        .iter()
        .filter_map(|(_, a)| a.as_ref())
        .filter(|a| !a.status.is_some_and(|s| (200..300).contains(&s)))
        .max_by_key(|a| a.at)
        .map(why);
    let switched_off =
        note_failures(&mut tx, store, endpoint_id, delivered_any, last_error).await?;

    // Each message's new state; retries grouped by when they are due.
    let mut states: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut retries: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    let mut finished = false;
    for (i, attempt) in sent {
        let message = &messages[*i];
        let delivered = attempt
            .as_ref()
            .is_some_and(|a| a.status.is_some_and(|s| (200..300).contains(&s)));
        let attempts = message.attempts + i64::from(attempt.is_some());
        let state = if delivered {
            "delivered"
        } else if switched_off || attempts >= MAX_ATTEMPTS {
            "failed"
        } else if open {
            "parked"
        } else {
            retries
                .entry(attempts)
                .or_default()
                .push(message.id.clone());
            "pending"
        };
        finished |= matches!(state, "delivered" | "failed");
        states.entry(state).or_default().push(message.id.clone());
    }
    for (state, ids) in &states {
        set_state(&mut tx, ids, state).await?;
    }
    let mut jobs = Vec::new();
    for (attempts, ids) in retries {
        let wait = if attempts == 0 {
            chrono::Duration::zero()
        } else {
            BACKOFF.delay(&ids[0], i32::try_from(attempts).unwrap_or(i32::MAX))
        };
        jobs.push(
            Delivery {
                endpoint_id: endpoint_id.to_string(),
                message_ids: ids,
                probe: false,
            }
            .job(&target.workspace_id)
            .run_at(now + wait),
        );
    }
    if finished {
        jobs.extend(next_in_order(&mut tx, target, endpoint_id).await?);
    }
    rapport_store::jobs::enqueue(store, &mut tx, &jobs).await?;
    ctx.complete(tx).await?;
    Ok(switched_off)
}

/// Why an attempt failed, in a line.
fn why(attempt: &DeliveryAttempt) -> String {
    match (&attempt.status, &attempt.error) {
        (Some(status), _) => format!("the receiver answered {status}"),
        (None, Some(error)) => error.clone(),
        (None, None) => "no answer".to_string(),
    }
}

/// For an ordered endpoint, the job of its next message (see `order`).
async fn next_in_order(
    tx: &mut Tx,
    target: &Target,
    endpoint_id: &str,
) -> Result<Vec<NewJob>, StoreError> {
    if !target.ordered {
        return Ok(Vec::new());
    }
    Ok(super::order::next(tx, endpoint_id)
        .await?
        .into_iter()
        .collect())
}

/// The attempts, in one statement.
async fn log(
    tx: &mut Tx,
    target: &Target,
    endpoint_id: &str,
    messages: &[Message],
    sent: &[(usize, Option<DeliveryAttempt>)],
) -> Result<(), StoreError> {
    let mut rows = ValueRows::new(tx.dialect());
    for (i, attempt) in sent {
        let Some(attempt) = attempt else { continue };
        rows.push([
            SqlParam::Text(messages[*i].id.clone()),
            SqlParam::Text(target.workspace_id.clone()),
            SqlParam::Text(endpoint_id.into()),
            SqlParam::Timestamp(attempt.at),
            attempt
                .status
                .map_or(SqlParam::NullOf(ColumnKind::Int), SqlParam::Int),
            SqlParam::Text(attempt.response.replace('\0', "")),
            attempt
                .error
                .clone()
                .map_or(SqlParam::NullOf(ColumnKind::Text), SqlParam::Text),
            SqlParam::Int(attempt.latency_ms),
        ]);
    }
    if rows.is_empty() {
        return Ok(());
    }
    tx.execute(
        &format!(
            "INSERT INTO webhook_attempts (message_id, workspace_id, endpoint_id, at, status, \
             response, error, latency_ms) VALUES {}",
            rows.sql()
        ),
        rows.params(),
    )
    .await?;
    // Every attempted message: one more attempt, and its last status.
    let mut by_status: BTreeMap<Option<i64>, Vec<String>> = BTreeMap::new();
    for (i, attempt) in sent {
        if let Some(attempt) = attempt {
            by_status
                .entry(attempt.status)
                .or_default()
                .push(messages[*i].id.clone());
        }
    }
    for (status, ids) in by_status {
        for chunk in ids.chunks(500) {
            tx.execute(
                &format!(
                    "UPDATE webhook_messages SET attempts = attempts + 1, last_status = {} \
                     WHERE id IN ({})",
                    placeholder(tx.dialect(), 1),
                    placeholders(tx.dialect(), 2, chunk.len())
                ),
                &std::iter::once(status.map_or(SqlParam::NullOf(ColumnKind::Int), SqlParam::Int))
                    .chain(chunk.iter().cloned().map(SqlParam::Text))
                    .collect::<Vec<_>>(),
            )
            .await?;
        }
    }
    Ok(())
}

/// Keeps the endpoint's run of failures: a delivery ends it; otherwise it begins now if it had
/// not, and once it began [`DISABLE_AFTER`] ago the endpoint is switched off. Whether it was
/// switched off now.
async fn note_failures(
    tx: &mut Tx,
    store: &Store,
    endpoint_id: &str,
    delivered_any: bool,
    last_error: Option<String>,
) -> Result<bool, StoreError> {
    let d = tx.dialect();
    let now = store.now();
    let id = SqlParam::Text(endpoint_id.into());
    if delivered_any {
        tx.execute(
            &format!(
                "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = {} AND failing_since IS NOT NULL",
                placeholder(d, 1)
            ),
            std::slice::from_ref(&id),
        )
        .await?;
    }
    let Some(error) = last_error else {
        return Ok(false);
    };
    tx.execute(
        &format!(
            "UPDATE webhook_endpoints SET last_error = {}, last_error_at = {}, \
             failing_since = CASE WHEN {} THEN failing_since ELSE COALESCE(failing_since, {}) END \
             WHERE id = {}",
            placeholder(d, 1),
            placeholder(d, 2),
            placeholder(d, 3),
            placeholder(d, 2),
            placeholder(d, 4)
        ),
        &[
            SqlParam::Text(error),
            SqlParam::Timestamp(now),
            SqlParam::Bool(delivered_any),
            id.clone(),
        ],
    )
    .await?;
    if delivered_any {
        return Ok(false);
    }
    let switched_off = tx
        .execute(
            &format!(
                "UPDATE webhook_endpoints SET enabled = {}, disabled_reason = 'failing', updated_at = {} \
                 WHERE id = {} AND enabled = {} AND failing_since <= {}",
                placeholder(d, 1),
                placeholder(d, 2),
                placeholder(d, 3),
                placeholder(d, 4),
                placeholder(d, 5)
            ),
            &[
                SqlParam::Bool(false),
                SqlParam::Timestamp(now),
                id,
                SqlParam::Bool(true),
                SqlParam::Timestamp(now - DISABLE_AFTER),
            ],
        )
        .await?;
    Ok(switched_off > 0)
}

async fn audit_switch_off(
    store: &Store,
    target: &Target,
    endpoint_id: &str,
) -> Result<(), StoreError> {
    store
        .audit(rapport_store::audit::AuditEvent {
            workspace_id: Some(target.workspace_id.clone()),
            actor_id: None,
            action: "webhook.auto_disable".into(),
            target: Some(endpoint_id.to_string()),
            outcome: "success",
            details: json!({"url": target.url, "failing_days": DISABLE_AFTER.num_days()}),
            ip: None,
            request_id: None,
        })
        .await
}

async fn set_state(tx: &mut Tx, ids: &[String], state: &str) -> Result<(), StoreError> {
    for chunk in ids.chunks(500) {
        tx.execute(
            &format!(
                "UPDATE webhook_messages SET state = {} WHERE id IN ({})",
                placeholder(tx.dialect(), 1),
                placeholders(tx.dialect(), 2, chunk.len())
            ),
            &std::iter::once(SqlParam::Text(state.into()))
                .chain(chunk.iter().cloned().map(SqlParam::Text))
                .collect::<Vec<_>>(),
        )
        .await?;
    }
    Ok(())
}

/// Queues messages again (parked ones, or ones sent again by hand): their state is `pending`
/// until their delivery job has run.
pub(super) async fn queue_again(tx: &mut Tx, ids: &[String]) -> Result<(), StoreError> {
    set_state(tx, ids, "pending").await
}
