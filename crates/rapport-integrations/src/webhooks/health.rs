//! How each destination is doing, for the integration health map and for Prometheus: over a
//! recent window, its attempts, deliveries per minute, failure rate and p50/p95 latency (from
//! the delivery log); now, its breaker and how many of its messages wait (queued, parked by the
//! breaker, or waiting their turn on an ordered endpoint), and its last error.
//!
//! The Prometheus series are the node's: attempts and their latency counted as this node makes
//! them, and gauges of breaker state and queue depth refreshed from the database by a worker
//! (the same on every node, so a dashboard takes any node's value, not the sum).

use super::breaker::{BreakerState, Outcome};
use super::deliver::DeliveryAttempt;
use chrono::{DateTime, Utc};
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry};
use rapport_core::sql::{placeholders, ColumnKind, SqlParam};
use rapport_store::metrics::register;
use rapport_store::{Store, StoreError};
use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;

/// The longest window the health map looks back over.
pub const MAX_WINDOW_MINUTES: i64 = 24 * 60;
/// The most attempts of one window read for the latency percentiles (the latest ones).
const LATENCY_SAMPLE: usize = 20_000;
/// The message states that wait to be delivered.
const WAITING_STATES: [&str; 3] = ["pending", "parked", "waiting"];

/// One destination on the health map.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EndpointHealth {
    pub id: String,
    pub url: String,
    pub description: String,
    pub enabled: bool,
    pub breaker_state: BreakerState,
    pub next_probe_at: Option<DateTime<Utc>>,
    pub failing_since: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    /// Attempts within the window.
    pub attempts: i64,
    /// Messages delivered per minute over the window.
    pub delivered_per_minute: f64,
    /// Failed attempts (no answer, 5xx, 429) over all attempts of the window; none without any.
    pub failure_rate: Option<f64>,
    pub latency_p50_ms: Option<i64>,
    pub latency_p95_ms: Option<i64>,
    /// Messages queued for delivery now.
    pub queued: i64,
    /// Messages parked by the open breaker now.
    pub parked: i64,
    /// Messages of an ordered endpoint waiting their turn now.
    pub waiting: i64,
}

/// The health map of a workspace.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IntegrationHealth {
    pub window_minutes: i64,
    pub at: DateTime<Utc>,
    pub endpoints: Vec<EndpointHealth>,
    /// The connectors (email, SMS, robots, HTTP / ERP) beside the webhook endpoints.
    pub connectors: Vec<crate::connectors::health::ConnectorHealth>,
}

/// How many messages of each endpoint wait, by state.
async fn depths(
    store: &Store,
    endpoint_ids: &[String],
) -> Result<HashMap<(String, String), i64>, StoreError> {
    let mut out = HashMap::new();
    for chunk in endpoint_ids.chunks(200) {
        let d = store.db.dialect();
        let mut params: Vec<SqlParam> = chunk.iter().cloned().map(SqlParam::Text).collect();
        params.extend(WAITING_STATES.iter().map(|s| SqlParam::Text((*s).into())));
        let rows = store
            .db
            .fetch_all(
                &format!(
                    "SELECT endpoint_id, state, COUNT(*) FROM webhook_messages \
                     WHERE endpoint_id IN ({}) AND state IN ({}) GROUP BY endpoint_id, state",
                    placeholders(d, 1, chunk.len()),
                    placeholders(d, chunk.len() + 1, WAITING_STATES.len())
                ),
                &params,
                &[ColumnKind::Text, ColumnKind::Text, ColumnKind::Int],
            )
            .await?;
        for row in rows {
            out.insert((row.text(0)?, row.text(1)?), row.int(2)?);
        }
    }
    Ok(out)
}

/// The nearest-rank percentile of sorted values.
pub(crate) fn percentile(sorted: &[i64], q: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// The workspace's destinations over the last `window_minutes` (1 to [`MAX_WINDOW_MINUTES`]).
pub async fn health(
    store: &Store,
    workspace_id: &str,
    window_minutes: i64,
) -> Result<IntegrationHealth, StoreError> {
    let window_minutes = window_minutes.clamp(1, MAX_WINDOW_MINUTES);
    let now = store.now();
    let since = now - chrono::Duration::minutes(window_minutes);
    let endpoints = super::list(store, workspace_id).await?;
    let ids: Vec<String> = endpoints.iter().map(|e| e.id.clone()).collect();
    let waiting = depths(store, &ids).await?;
    let mut out = Vec::with_capacity(endpoints.len());
    for endpoint in endpoints {
        let rows = store
            .db
            .fetch_all(
                &format!(
                    "SELECT status, latency_ms FROM webhook_attempts WHERE endpoint_id = {} AND at >= {} \
                     ORDER BY at DESC LIMIT {LATENCY_SAMPLE}",
                    store.ph(1),
                    store.ph(2)
                ),
                &[
                    SqlParam::Text(endpoint.id.clone()),
                    SqlParam::Timestamp(since),
                ],
                &[ColumnKind::Int, ColumnKind::Int],
            )
            .await?;
        let mut latencies = Vec::with_capacity(rows.len());
        let (mut delivered, mut failed) = (0_i64, 0_i64);
        for row in &rows {
            match Outcome::of(row.opt_int(0)?) {
                Outcome::Delivered => delivered += 1,
                Outcome::Failed | Outcome::NoAnswer => failed += 1,
                Outcome::Refused => {}
            }
            latencies.push(row.int(1)?);
        }
        latencies.sort_unstable();
        let attempts = i64::try_from(rows.len()).unwrap_or(i64::MAX);
        let depth = |state: &str| {
            waiting
                .get(&(endpoint.id.clone(), state.to_string()))
                .copied()
                .unwrap_or(0)
        };
        out.push(EndpointHealth {
            attempts,
            delivered_per_minute: delivered as f64 / window_minutes as f64,
            failure_rate: (attempts > 0).then(|| failed as f64 / attempts as f64),
            latency_p50_ms: percentile(&latencies, 0.5),
            latency_p95_ms: percentile(&latencies, 0.95),
            queued: depth("pending"),
            parked: depth("parked"),
            waiting: depth("waiting"),
            id: endpoint.id,
            url: endpoint.url,
            description: endpoint.description,
            enabled: endpoint.enabled,
            breaker_state: endpoint.breaker_state,
            next_probe_at: endpoint.next_probe_at,
            failing_since: endpoint.failing_since,
            last_error: endpoint.last_error,
            last_error_at: endpoint.last_error_at,
        });
    }
    Ok(IntegrationHealth {
        window_minutes,
        at: now,
        endpoints: out,
        connectors: crate::connectors::health::health(store, workspace_id, since, window_minutes)
            .await?,
    })
}

/// This node's webhook series, in the node's registry; None only if the (constant) definitions
/// were refused, which is logged.
pub struct Metrics(Option<Series>);

struct Series {
    attempts: IntCounterVec,
    latency: HistogramVec,
    breaker: IntGaugeVec,
    messages: IntGaugeVec,
}

impl Metrics {
    pub fn new(registry: &Registry) -> Self {
        Self(
            Series::new(registry)
                .map_err(|e| tracing::error!("webhook metrics unavailable: {e}"))
                .ok(),
        )
    }

    /// Counts a job's attempts to one endpoint.
    pub fn attempted<'a>(
        &self,
        endpoint_id: &str,
        attempts: impl IntoIterator<Item = &'a DeliveryAttempt>,
    ) {
        let Some(series) = &self.0 else { return };
        for attempt in attempts {
            let outcome = match Outcome::of(attempt.status) {
                Outcome::Delivered => "delivered",
                Outcome::Refused => "refused",
                Outcome::Failed => "failed",
                Outcome::NoAnswer => "no_answer",
            };
            series
                .attempts
                .with_label_values(&[endpoint_id, outcome])
                .inc();
            series
                .latency
                .with_label_values(&[endpoint_id])
                .observe(attempt.latency_ms as f64 / 1000.0);
        }
    }

    /// Sets the gauges of every endpoint (of every workspace) from the database.
    pub async fn refresh(&self, store: &Store) -> Result<(), StoreError> {
        let Some(series) = &self.0 else {
            return Ok(());
        };
        let rows = store
            .db
            .fetch_all(
                "SELECT id, breaker_state FROM webhook_endpoints",
                &[],
                &[ColumnKind::Text, ColumnKind::Text],
            )
            .await?;
        let mut ids = Vec::with_capacity(rows.len());
        series.breaker.reset();
        for row in rows {
            let id = row.text(0)?;
            let state = BreakerState::parse(&row.text(1)?);
            series.breaker.with_label_values(&[&id]).set(match state {
                BreakerState::Closed => 0,
                BreakerState::Open => 1,
                BreakerState::HalfOpen => 2,
            });
            ids.push(id);
        }
        let waiting = depths(store, &ids).await?;
        series.messages.reset();
        for id in &ids {
            for state in WAITING_STATES {
                let n = waiting
                    .get(&(id.clone(), state.to_string()))
                    .copied()
                    .unwrap_or(0);
                series.messages.with_label_values(&[id, state]).set(n);
            }
        }
        Ok(())
    }
}

impl Series {
    fn new(registry: &Registry) -> Result<Self, prometheus::Error> {
        Ok(Self {
            attempts: register(
                registry,
                IntCounterVec::new(
                    Opts::new(
                        "rapport_webhook_attempts_total",
                        "Webhook delivery attempts by endpoint and outcome (delivered, refused, failed, no_answer).",
                    ),
                    &["endpoint", "outcome"],
                )?,
            ),
            latency: register(
                registry,
                HistogramVec::new(
                    HistogramOpts::new(
                        "rapport_webhook_attempt_seconds",
                        "How long webhook delivery attempts took, by endpoint.",
                    )
                    .buckets(vec![0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0]),
                    &["endpoint"],
                )?,
            ),
            breaker: register(
                registry,
                IntGaugeVec::new(
                    Opts::new(
                        "rapport_webhook_breaker_state",
                        "Each endpoint's circuit breaker: 0 closed, 1 open, 2 half-open.",
                    ),
                    &["endpoint"],
                )?,
            ),
            messages: register(
                registry,
                IntGaugeVec::new(
                    Opts::new(
                        "rapport_webhook_messages",
                        "Messages waiting for delivery, by endpoint and state (pending, parked, waiting).",
                    ),
                    &["endpoint", "state"],
                )?,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let values: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&values, 0.5), Some(50));
        assert_eq!(percentile(&values, 0.95), Some(95));
        assert_eq!(percentile(&[7], 0.95), Some(7));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
