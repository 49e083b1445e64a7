//! Outbound webhooks: a workspace's endpoints (a URL, the topics and objects it wants, its
//! signing secret), the messages made for them from the outbox (`fanout`), their delivery
//! through the job queue with every attempt logged (`deliver`), a circuit breaker per endpoint
//! that parks messages while it is down (`breaker`), and Standard Webhooks signatures
//! (`signing`).

pub mod breaker;
pub mod deliver;
pub mod direct;
pub mod fanout;
pub mod health;
mod order;
pub mod signing;

use crate::owned::Table;
use breaker::{BreakerConfig, BreakerState};
use chrono::{DateTime, Utc};
use rapport_core::codes::ErrorCode;
use rapport_core::sql::{ColumnKind, SqlParam};
use rapport_store::outbox::Topic;
use rapport_store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use utoipa::ToSchema;

/// The most endpoints one workspace keeps.
pub const MAX_ENDPOINTS: usize = 50;

/// An endpoint as admins see it (its secret only through `secret`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Endpoint {
    pub id: String,
    pub url: String,
    pub description: String,
    /// Outbox topics it receives (`record.created`, `segment.entered`, …).
    pub topics: Vec<String>,
    /// Objects whose record events it receives; empty for all.
    pub objects: Vec<String>,
    pub enabled: bool,
    /// Messages are delivered one at a time, oldest first: a message waits while an older one
    /// is still being tried (and so is held up by it).
    pub ordered: bool,
    /// When the current run of failed attempts began; none while deliveries succeed.
    pub failing_since: Option<DateTime<Utc>>,
    /// `failing` when Rapport switched the endpoint off after failing for
    /// [`deliver::DISABLE_AFTER`]; none when enabled or switched off by an admin.
    pub disabled_reason: Option<String>,
    /// How long an attempt waits for an answer, in seconds.
    pub timeout_seconds: i64,
    /// When the breaker opens and how it recovers.
    pub breaker: BreakerConfig,
    /// Closed (messages are attempted), open (they are parked until a probe) or half-open (a
    /// probe is under way).
    pub breaker_state: BreakerState,
    /// When the breaker opened; none while closed.
    pub breaker_opened_at: Option<DateTime<Utc>>,
    /// When an open breaker's next probe is due.
    pub next_probe_at: Option<DateTime<Utc>>,
    /// The latest failed attempt's reason, and when.
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What an admin sends to create an endpoint or change one.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://erp.example.cn/hooks/rapport", "topics": ["record.created", "record.updated"], "objects": ["deal"], "description": "ERP 订单同步"}))]
pub struct EndpointInput {
    pub url: String,
    pub topics: Vec<String>,
    #[serde(default)]
    pub objects: Vec<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    /// Deliver one message at a time, oldest first (default false: in parallel).
    #[serde(default)]
    pub ordered: bool,
    /// How long an attempt waits for an answer: 1 to 60 seconds (default 15).
    #[serde(default = "default_timeout")]
    pub timeout_seconds: i64,
    /// When the breaker opens and how it recovers (each setting defaults when left out).
    #[serde(default)]
    pub breaker: BreakerConfig,
}

fn enabled_by_default() -> bool {
    true
}

fn default_timeout() -> i64 {
    deliver::DEFAULT_TIMEOUT_SECONDS
}

/// An endpoint's signing secret (`whsec_…`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EndpointSecret {
    pub secret: String,
}

fn invalid(message: impl Into<String>) -> StoreError {
    StoreError::bad_request(ErrorCode::InvalidWebhook, message)
}

/// Checks an endpoint's input against the outbound policy and the known topics.
fn check(store: &Store, input: &EndpointInput) -> Result<(), StoreError> {
    let url = rapport_core::normalize::url(&input.url)
        .ok()
        .and_then(|u| reqwest::Url::parse(&u).ok())
        .ok_or_else(|| {
            StoreError::bad_request(
                ErrorCode::InvalidUrl,
                "the webhook URL is not an http(s) URL",
            )
        })?;
    store
        .outbound()
        .check_url(&url)
        .map_err(|e| StoreError::bad_request(ErrorCode::UrlNotAllowed, e.to_string()))?;
    if input.topics.is_empty() {
        return Err(invalid("an endpoint receives at least one topic"));
    }
    for topic in &input.topics {
        if Topic::parse(topic).is_none() {
            let known: Vec<&str> = Topic::ALL.iter().map(|t| t.as_str()).collect();
            return Err(invalid(format!(
                "unknown topic {topic:?}; topics are {}",
                known.join(", ")
            )));
        }
    }
    if input.objects.len() > 100 || input.objects.iter().any(|o| o.is_empty() || o.len() > 64) {
        return Err(invalid("objects are at most 100 object names"));
    }
    if input.description.chars().count() > 500 {
        return Err(invalid("a description is at most 500 characters"));
    }
    if !(1..=60).contains(&input.timeout_seconds) {
        return Err(invalid("timeout_seconds is between 1 and 60"));
    }
    input.breaker.check()
}

const TABLE: Table = Table {
    name: "webhook_endpoints",
    columns: "id, url, description, topics, objects, enabled, created_at, updated_at, \
              failing_since, disabled_reason, ordered, timeout_seconds, breaker, breaker_state, \
              breaker_opened_at, breaker_probe_at, last_error, last_error_at",
    kinds: &KINDS,
    what: "webhook endpoint",
};
const KINDS: [ColumnKind; 18] = [
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Json,
    ColumnKind::Json,
    ColumnKind::Bool,
    ColumnKind::Timestamp,
    ColumnKind::Timestamp,
    ColumnKind::Timestamp,
    ColumnKind::Text,
    ColumnKind::Bool,
    ColumnKind::Int,
    ColumnKind::Json,
    ColumnKind::Text,
    ColumnKind::Timestamp,
    ColumnKind::Timestamp,
    ColumnKind::Text,
    ColumnKind::Timestamp,
];

fn strings(json: Json) -> Vec<String> {
    serde_json::from_value(json).unwrap_or_default()
}

fn decode(row: &rapport_store::Row) -> Result<Endpoint, StoreError> {
    Ok(Endpoint {
        id: row.text(0)?,
        url: row.text(1)?,
        description: row.text(2)?,
        topics: strings(row.json(3)?),
        objects: strings(row.json(4)?),
        enabled: row.bool(5)?,
        created_at: row.timestamp(6)?,
        updated_at: row.timestamp(7)?,
        failing_since: row.opt_timestamp(8)?,
        disabled_reason: row.opt_text(9)?,
        ordered: row.bool(10)?,
        timeout_seconds: row.int(11)?,
        breaker: BreakerConfig::from_json(row.json(12)?),
        breaker_state: BreakerState::parse(&row.text(13)?),
        breaker_opened_at: row.opt_timestamp(14)?,
        next_probe_at: row.opt_timestamp(15)?,
        last_error: row.opt_text(16)?,
        last_error_at: row.opt_timestamp(17)?,
    })
}

pub async fn list(store: &Store, workspace_id: &str) -> Result<Vec<Endpoint>, StoreError> {
    let rows = TABLE.all(store, workspace_id, "created_at, id").await?;
    rows.iter().map(decode).collect()
}

pub async fn get(store: &Store, workspace_id: &str, id: &str) -> Result<Endpoint, StoreError> {
    decode(&TABLE.one(store, workspace_id, id).await?)
}

/// Creates an endpoint with a new secret; answers it and the secret.
pub async fn create(
    store: &Store,
    workspace_id: &str,
    input: EndpointInput,
) -> Result<(Endpoint, EndpointSecret), StoreError> {
    check(store, &input)?;
    if list(store, workspace_id).await?.len() >= MAX_ENDPOINTS {
        return Err(invalid(format!(
            "a workspace has at most {MAX_ENDPOINTS} webhook endpoints"
        )));
    }
    let id = uuid::Uuid::now_v7().to_string();
    let secret = signing::new_secret();
    let now = store.now();
    let marks: Vec<String> = (1..=13).map(|n| store.ph(n)).collect();
    store
        .db
        .execute(
            &format!(
                "INSERT INTO webhook_endpoints (id, workspace_id, url, description, topics, objects, \
                 enabled, secret, created_at, updated_at, ordered, timeout_seconds, breaker) VALUES ({})",
                marks.join(", ")
            ),
            &[
                SqlParam::Text(id.clone()),
                SqlParam::Text(workspace_id.into()),
                SqlParam::Text(input.url),
                SqlParam::Text(input.description),
                SqlParam::Json(Json::from(input.topics)),
                SqlParam::Json(Json::from(input.objects)),
                SqlParam::Bool(input.enabled),
                SqlParam::Text(secret.clone()),
                SqlParam::Timestamp(now),
                SqlParam::Timestamp(now),
                SqlParam::Bool(input.ordered),
                SqlParam::Int(input.timeout_seconds),
                SqlParam::Json(breaker_json(&input.breaker)),
            ],
        )
        .await?;
    Ok((
        get(store, workspace_id, &id).await?,
        EndpointSecret { secret },
    ))
}

/// Replaces an endpoint's settings (its secret stays). Enabling it again forgets why Rapport
/// switched it off, its run of failures and its breaker's state (its parked messages drain).
pub async fn update(
    store: &Store,
    workspace_id: &str,
    id: &str,
    input: EndpointInput,
) -> Result<Endpoint, StoreError> {
    check(store, &input)?;
    let m: Vec<String> = (1..=11).map(|n| store.ph(n)).collect();
    let e = &m[4];
    let revived = format!("{e} AND NOT enabled");
    let n = store
        .db
        .execute(
            &format!(
                "UPDATE webhook_endpoints SET url = {}, description = {}, topics = {}, objects = {}, \
                 ordered = {}, timeout_seconds = {}, breaker = {}, enabled = {e}, updated_at = {}, \
                 disabled_reason = CASE WHEN {e} THEN NULL ELSE disabled_reason END, \
                 failing_since = CASE WHEN {revived} THEN NULL ELSE failing_since END, \
                 breaker_state = CASE WHEN {revived} THEN 'closed' ELSE breaker_state END, \
                 breaker_timeouts = CASE WHEN {revived} THEN 0 ELSE breaker_timeouts END, \
                 breaker_recent = CASE WHEN {revived} THEN '' ELSE breaker_recent END, \
                 breaker_opened_at = CASE WHEN {revived} THEN NULL ELSE breaker_opened_at END, \
                 breaker_probe_at = CASE WHEN {revived} THEN NULL ELSE breaker_probe_at END \
                 WHERE workspace_id = {} AND id = {}",
                m[0], m[1], m[2], m[3], m[8], m[9], m[10], m[5], m[6], m[7],
            ),
            &[
                SqlParam::Text(input.url),
                SqlParam::Text(input.description),
                SqlParam::Json(Json::from(input.topics)),
                SqlParam::Json(Json::from(input.objects)),
                SqlParam::Bool(input.enabled),
                SqlParam::Timestamp(store.now()),
                SqlParam::Text(workspace_id.into()),
                SqlParam::Text(id.into()),
                SqlParam::Bool(input.ordered),
                SqlParam::Int(input.timeout_seconds),
                SqlParam::Json(breaker_json(&input.breaker)),
            ],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::not_found("webhook endpoint"));
    }
    get(store, workspace_id, id).await
}

fn breaker_json(config: &BreakerConfig) -> Json {
    serde_json::to_value(config).unwrap_or_default()
}

/// Deletes an endpoint; its messages are no longer delivered.
pub async fn delete(store: &Store, workspace_id: &str, id: &str) -> Result<(), StoreError> {
    let mut tx = store.db.begin().await?;
    TABLE.delete(store, &mut tx, workspace_id, id).await?;
    tx.commit().await
}

/// The endpoint's current secret.
pub async fn secret(
    store: &Store,
    workspace_id: &str,
    id: &str,
) -> Result<EndpointSecret, StoreError> {
    let row = store
        .db
        .fetch_optional(
            &format!(
                "SELECT secret FROM webhook_endpoints WHERE workspace_id = {} AND id = {}",
                store.ph(1),
                store.ph(2)
            ),
            &[
                SqlParam::Text(workspace_id.into()),
                SqlParam::Text(id.into()),
            ],
            &[ColumnKind::Text],
        )
        .await?
        .ok_or_else(|| StoreError::not_found("webhook endpoint"))?;
    Ok(EndpointSecret {
        secret: row.text(0)?,
    })
}

/// How long a rotated-out secret still signs messages (receivers update meanwhile).
pub const ROTATION_OVERLAP: chrono::Duration = chrono::Duration::hours(24);

/// Gives the endpoint a new secret; for [`ROTATION_OVERLAP`] messages carry a signature under
/// the old one too. Answers the new secret.
pub async fn rotate_secret(
    store: &Store,
    workspace_id: &str,
    id: &str,
) -> Result<EndpointSecret, StoreError> {
    let secret = signing::new_secret();
    let now = store.now();
    let n = store
        .db
        .execute(
            &format!(
                "UPDATE webhook_endpoints SET previous_secret = secret, previous_until = {}, \
                 secret = {}, updated_at = {} WHERE workspace_id = {} AND id = {}",
                store.ph(1),
                store.ph(2),
                store.ph(3),
                store.ph(4),
                store.ph(5)
            ),
            &[
                SqlParam::Timestamp(now + ROTATION_OVERLAP),
                SqlParam::Text(secret.clone()),
                SqlParam::Timestamp(now),
                SqlParam::Text(workspace_id.into()),
                SqlParam::Text(id.into()),
            ],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::not_found("webhook endpoint"));
    }
    Ok(EndpointSecret { secret })
}

/// A message with its attempts, newest first, as the delivery log shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Delivery {
    /// The `webhook-id` the receiver sees on every attempt.
    pub id: String,
    pub topic: String,
    /// `waiting` (an ordered endpoint's message behind an older one), `pending`, `delivered`,
    /// `failed` (attempts exhausted) or `skipped` (endpoint disabled).
    pub state: String,
    pub created_at: DateTime<Utc>,
    #[schema(value_type = Object)]
    pub payload: Json,
    pub attempts: Vec<deliver::DeliveryAttempt>,
}

/// The endpoint's latest messages (at most `limit`, up to 200) with their attempts.
pub async fn deliveries(
    store: &Store,
    workspace_id: &str,
    endpoint_id: &str,
    limit: usize,
) -> Result<Vec<Delivery>, StoreError> {
    get(store, workspace_id, endpoint_id).await?;
    let rows = store
        .db
        .fetch_all(
            &format!(
                "SELECT id, topic, state, created_at, payload FROM webhook_messages \
                 WHERE workspace_id = {} AND endpoint_id = {} ORDER BY created_at DESC, id DESC LIMIT {}",
                store.ph(1),
                store.ph(2),
                limit.clamp(1, 200)
            ),
            &[
                SqlParam::Text(workspace_id.into()),
                SqlParam::Text(endpoint_id.into()),
            ],
            &[
                ColumnKind::Text,
                ColumnKind::Text,
                ColumnKind::Text,
                ColumnKind::Timestamp,
                ColumnKind::Json,
            ],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let id = row.text(0)?;
        let attempts = store
            .db
            .fetch_all(
                &format!(
                    "SELECT at, status, response, error, latency_ms FROM webhook_attempts \
                     WHERE message_id = {} ORDER BY id DESC",
                    store.ph(1)
                ),
                &[SqlParam::Text(id.clone())],
                &[
                    ColumnKind::Timestamp,
                    ColumnKind::Int,
                    ColumnKind::Text,
                    ColumnKind::Text,
                    ColumnKind::Int,
                ],
            )
            .await?
            .iter()
            .map(|a| {
                Ok(deliver::DeliveryAttempt {
                    at: a.timestamp(0)?,
                    status: a.opt_int(1)?,
                    response: a.text(2)?,
                    error: a.opt_text(3)?,
                    latency_ms: a.int(4)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        out.push(Delivery {
            id,
            topic: row.text(1)?,
            state: row.text(2)?,
            created_at: row.timestamp(3)?,
            payload: row.json(4)?,
            attempts,
        });
    }
    Ok(out)
}

/// Sends a message again (same `webhook-id`), whatever became of it.
pub async fn resend(store: &Store, workspace_id: &str, message_id: &str) -> Result<(), StoreError> {
    let row = store
        .db
        .fetch_optional(
            &format!(
                "SELECT endpoint_id FROM webhook_messages WHERE workspace_id = {} AND id = {}",
                store.ph(1),
                store.ph(2)
            ),
            &[
                SqlParam::Text(workspace_id.into()),
                SqlParam::Text(message_id.into()),
            ],
            &[ColumnKind::Text],
        )
        .await?
        .ok_or_else(|| StoreError::not_found("webhook delivery"))?;
    requeue(
        store,
        workspace_id,
        &row.text(0)?,
        &[message_id.to_string()],
    )
    .await
}

/// Queues messages of one endpoint again, oldest first, with a fresh schedule of attempts.
async fn requeue(
    store: &Store,
    workspace_id: &str,
    endpoint_id: &str,
    ids: &[String],
) -> Result<(), StoreError> {
    let mut tx = store.db.begin().await?;
    deliver::queue_again(&mut tx, ids).await?;
    for chunk in ids.chunks(500) {
        tx.execute(
            &format!(
                "UPDATE webhook_messages SET attempts = 0 WHERE id IN ({})",
                rapport_core::sql::placeholders(tx.dialect(), 1, chunk.len())
            ),
            &chunk
                .iter()
                .cloned()
                .map(SqlParam::Text)
                .collect::<Vec<_>>(),
        )
        .await?;
    }
    let jobs: Vec<_> = ids
        .chunks(deliver::BATCH)
        .map(|chunk| {
            deliver::Delivery {
                endpoint_id: endpoint_id.to_string(),
                message_ids: chunk.to_vec(),
                probe: false,
            }
            .job(workspace_id)
        })
        .collect();
    rapport_store::jobs::enqueue(store, &mut tx, &jobs).await?;
    tx.commit().await?;
    rapport_store::jobs::wake(store);
    Ok(())
}

/// The most messages one range resend queues.
pub const MAX_RESEND: usize = 10_000;

/// Sends again every message of the endpoint made in `[since, until)` (same `webhook-id`s), at
/// most [`MAX_RESEND`]; how many were queued.
pub async fn resend_range(
    store: &Store,
    workspace_id: &str,
    endpoint_id: &str,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<usize, StoreError> {
    get(store, workspace_id, endpoint_id).await?;
    if until <= since {
        return Err(invalid("`until` must come after `since`"));
    }
    let rows = store
        .db
        .fetch_all(
            &format!(
                "SELECT id FROM webhook_messages WHERE workspace_id = {} AND endpoint_id = {} \
                 AND created_at >= {} AND created_at < {} ORDER BY created_at, id LIMIT {}",
                store.ph(1),
                store.ph(2),
                store.ph(3),
                store.ph(4),
                MAX_RESEND + 1
            ),
            &[
                SqlParam::Text(workspace_id.into()),
                SqlParam::Text(endpoint_id.into()),
                SqlParam::Timestamp(since),
                SqlParam::Timestamp(until),
            ],
            &[ColumnKind::Text],
        )
        .await?;
    if rows.len() > MAX_RESEND {
        return Err(invalid(format!(
            "the range holds more than {MAX_RESEND} messages; send a shorter one"
        )));
    }
    let ids: Vec<String> = rows.iter().map(|r| r.text(0)).collect::<Result<_, _>>()?;
    requeue(store, workspace_id, endpoint_id, &ids).await?;
    Ok(ids.len())
}
