//! Delivering one message: a job of the `webhooks` queue POSTs its body to the endpoint, signed
//! with the endpoint's secret (and the previous one while a rotation overlaps), with the same
//! `webhook-id` on every attempt. Each attempt is logged (status, the first KB of the answer,
//! latency, or the error); a 2xx ends it, anything else is retried with backoff for about three
//! days, after which the message is marked failed. A message of a deleted or disabled endpoint
//! is not sent. An endpoint whose attempts have all failed for [`DISABLE_AFTER`] is switched off
//! (audited as `webhook.auto_disable`, shown on its page) until an admin enables it again.

use super::signing;
use chrono::Utc;
use rapport_core::sql::{ColumnKind, SqlParam};
use rapport_store::jobs::{Backoff, JobCtx, JobError, QueueConfig};
use rapport_store::{Store, StoreError};
use serde::Serialize;
use std::time::{Duration, Instant};
use utoipa::ToSchema;

pub const QUEUE: &str = "webhooks";
pub const DELIVER: &str = "webhook.deliver";
/// Attempts over about three days: 30 s doubling up to 8 h between them.
pub const MAX_ATTEMPTS: i32 = 14;
/// How long one attempt waits for the receiver.
const TIMEOUT: Duration = Duration::from_secs(15);
/// How much of an answer's body the log keeps.
const KEPT_BODY: usize = 1024;
/// How long an endpoint may fail every attempt before it is switched off.
pub const DISABLE_AFTER: chrono::Duration = chrono::Duration::days(5);

/// The webhooks queue as a node's job runner takes it.
pub fn queue(concurrency: usize) -> QueueConfig {
    QueueConfig::new(QUEUE, concurrency).backoff(Backoff {
        base: chrono::Duration::seconds(30),
        max: chrono::Duration::hours(8),
    })
}

/// One attempt as the delivery log shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryAttempt {
    pub at: chrono::DateTime<Utc>,
    /// The receiver's HTTP status; none when no answer came.
    pub status: Option<i64>,
    /// The first KB of the answer's body.
    pub response: String,
    /// Why no answer came (refused, timed out, …).
    pub error: Option<String>,
    pub latency_ms: i64,
}

struct Target {
    enabled: bool,
    ordered: bool,
    workspace_id: String,
    endpoint_id: String,
    url: String,
    secrets: Vec<String>,
    body: String,
}

async fn target(store: &Store, message_id: &str) -> Result<Option<Target>, StoreError> {
    let row = store
        .db
        .fetch_optional(
            &format!(
                "SELECT m.workspace_id, m.endpoint_id, e.url, e.secret, e.previous_secret, \
                 e.previous_until, m.payload, e.enabled, e.ordered FROM webhook_messages m \
                 JOIN webhook_endpoints e ON e.id = m.endpoint_id WHERE m.id = {}",
                store.ph(1)
            ),
            &[SqlParam::Text(message_id.into())],
            &[
                ColumnKind::Text,
                ColumnKind::Text,
                ColumnKind::Text,
                ColumnKind::Text,
                ColumnKind::Text,
                ColumnKind::Timestamp,
                ColumnKind::Json,
                ColumnKind::Bool,
                ColumnKind::Bool,
            ],
        )
        .await?;
    let Some(row) = row else { return Ok(None) };
    let mut secrets = vec![row.text(3)?];
    if let (Some(previous), Some(until)) = (row.opt_text(4)?, row.opt_timestamp(5)?) {
        if until > store.now() {
            secrets.push(previous);
        }
    }
    Ok(Some(Target {
        enabled: row.bool(7)?,
        ordered: row.bool(8)?,
        workspace_id: row.text(0)?,
        endpoint_id: row.text(1)?,
        url: row.text(2)?,
        secrets,
        body: row.json(6)?.to_string(),
    }))
}

/// The job handler of `webhook.deliver`.
pub async fn run(ctx: JobCtx) -> Result<(), JobError> {
    let store = ctx.store();
    let Some(message_id) = ctx.job.payload["message_id"].as_str().map(str::to_string) else {
        return Err(JobError::permanent("the job names no message"));
    };
    let Some(target) = target(store, &message_id).await? else {
        set_state(store, &message_id, "skipped").await?;
        return Ok(());
    };
    if !target.enabled {
        done(store, &message_id, &target, "skipped").await?;
        return Ok(());
    }
    let attempt = send(store, &message_id, &target).await;
    log(store, &message_id, &target, &attempt).await?;
    let delivered = attempt.status.is_some_and(|s| (200..300).contains(&s));
    if delivered {
        done(store, &message_id, &target, "delivered").await?;
        recovered(store, &target.endpoint_id).await?;
        return Ok(());
    }
    if failing_too_long(store, &target).await? {
        done(store, &message_id, &target, "failed").await?;
        return Err(JobError::permanent(format!(
            "the endpoint has failed for {} days and was switched off",
            DISABLE_AFTER.num_days()
        )));
    }
    let why = match (&attempt.status, &attempt.error) {
        (Some(status), _) => format!("the receiver answered {status}"),
        (None, Some(error)) => error.clone(),
        (None, None) => "no answer".to_string(),
    };
    if ctx.job.attempt >= ctx.job.max_attempts {
        done(store, &message_id, &target, "failed").await?;
        return Err(JobError::permanent(why));
    }
    Err(JobError::retry(why))
}

async fn send(store: &Store, message_id: &str, target: &Target) -> DeliveryAttempt {
    let at = store.now();
    let started = Instant::now();
    let timestamp = at.timestamp();
    let secrets: Vec<&str> = target.secrets.iter().map(String::as_str).collect();
    let failed = |error: String| DeliveryAttempt {
        at,
        status: None,
        response: String::new(),
        error: Some(error),
        latency_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
    };
    let Ok(url) = reqwest::Url::parse(&target.url) else {
        return failed("the endpoint's URL does not parse".into());
    };
    let request = store
        .outbound()
        .client(TIMEOUT)
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
        .header("content-type", "application/json")
        .header("webhook-id", message_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header(
            "webhook-signature",
            signing::signature_header(&secrets, message_id, timestamp, &target.body),
        )
        .body(target.body.clone())
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
                latency_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
            }
        }
        Err(e) => failed(if e.is_timeout() {
            format!("no answer within {} s", TIMEOUT.as_secs())
        } else {
            // Without the URL: the log shows the endpoint already.
            e.without_url().to_string()
        }),
    }
}

async fn log(
    store: &Store,
    message_id: &str,
    target: &Target,
    attempt: &DeliveryAttempt,
) -> Result<(), StoreError> {
    let marks: Vec<String> = (1..=8).map(|n| store.ph(n)).collect();
    store
        .db
        .execute(
            &format!(
                "INSERT INTO webhook_attempts (message_id, workspace_id, endpoint_id, at, status, \
                 response, error, latency_ms) VALUES ({})",
                marks.join(", ")
            ),
            &[
                SqlParam::Text(message_id.into()),
                SqlParam::Text(target.workspace_id.clone()),
                SqlParam::Text(target.endpoint_id.clone()),
                SqlParam::Timestamp(attempt.at),
                attempt
                    .status
                    .map_or(SqlParam::NullOf(ColumnKind::Int), SqlParam::Int),
                SqlParam::Text(attempt.response.replace('\0', "")),
                attempt.error.clone().map_or(SqlParam::Null, SqlParam::Text),
                SqlParam::Int(attempt.latency_ms),
            ],
        )
        .await?;
    store
        .db
        .execute(
            &format!(
                "UPDATE webhook_messages SET attempts = attempts + 1, last_status = {} WHERE id = {}",
                store.ph(1),
                store.ph(2)
            ),
            &[
                attempt
                    .status
                    .map_or(SqlParam::NullOf(ColumnKind::Int), SqlParam::Int),
                SqlParam::Text(message_id.into()),
            ],
        )
        .await?;
    Ok(())
}

/// A message's last word: its final state and, for an ordered endpoint, the next message's turn.
async fn done(
    store: &Store,
    message_id: &str,
    target: &Target,
    state: &str,
) -> Result<(), StoreError> {
    if !target.ordered {
        return set_state(store, message_id, state).await;
    }
    let mut tx = store.db.begin().await?;
    tx.execute(
        &format!(
            "UPDATE webhook_messages SET state = {} WHERE id = {}",
            rapport_core::sql::placeholder(tx.dialect(), 1),
            rapport_core::sql::placeholder(tx.dialect(), 2)
        ),
        &[
            SqlParam::Text(state.into()),
            SqlParam::Text(message_id.into()),
        ],
    )
    .await?;
    let next: Vec<_> = super::order::next(&mut tx, &target.endpoint_id)
        .await?
        .into_iter()
        .collect();
    rapport_store::jobs::enqueue(store, &mut tx, &next).await?;
    tx.commit().await?;
    rapport_store::jobs::wake(store);
    Ok(())
}

/// A success ends the endpoint's run of failures.
async fn recovered(store: &Store, endpoint_id: &str) -> Result<(), StoreError> {
    store
        .db
        .execute(
            &format!(
                "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = {} AND failing_since IS NOT NULL",
                store.ph(1)
            ),
            &[SqlParam::Text(endpoint_id.into())],
        )
        .await?;
    Ok(())
}

/// Notes a failure; switches the endpoint off (once, audited) when its failures began at least
/// [`DISABLE_AFTER`] ago. Whether it is now off.
async fn failing_too_long(store: &Store, target: &Target) -> Result<bool, StoreError> {
    let now = store.now();
    let id = SqlParam::Text(target.endpoint_id.clone());
    store
        .db
        .execute(
            &format!(
                "UPDATE webhook_endpoints SET failing_since = {} WHERE id = {} AND failing_since IS NULL",
                store.ph(1),
                store.ph(2)
            ),
            &[SqlParam::Timestamp(now), id.clone()],
        )
        .await?;
    let switched_off = store
        .db
        .execute(
            &format!(
                "UPDATE webhook_endpoints SET enabled = {}, disabled_reason = 'failing', updated_at = {} \
                 WHERE id = {} AND enabled = {} AND failing_since <= {}",
                store.ph(1),
                store.ph(2),
                store.ph(3),
                store.ph(4),
                store.ph(5)
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
    if switched_off == 0 {
        return Ok(false);
    }
    store
        .audit(rapport_store::audit::AuditEvent {
            workspace_id: Some(target.workspace_id.clone()),
            actor_id: None,
            action: "webhook.auto_disable".into(),
            target: Some(target.endpoint_id.clone()),
            outcome: "success",
            details: serde_json::json!({"url": target.url, "failing_days": DISABLE_AFTER.num_days()}),
            ip: None,
            request_id: None,
        })
        .await?;
    Ok(true)
}

async fn set_state(store: &Store, message_id: &str, state: &str) -> Result<(), StoreError> {
    store
        .db
        .execute(
            &format!(
                "UPDATE webhook_messages SET state = {} WHERE id = {}",
                store.ph(1),
                store.ph(2)
            ),
            &[
                SqlParam::Text(state.into()),
                SqlParam::Text(message_id.into()),
            ],
        )
        .await?;
    Ok(())
}
