//! How each connector is doing, for the integration health map and for Prometheus: over the
//! window, its sends per minute, failure rate and p50/p95 latency (from the send log); now,
//! how many sends are queued and its last error. The Prometheus series count this node's
//! queued sends as its worker makes them.

use super::kinds::ConnectorKind;
use super::send::{Outcome, SendState};
use chrono::{DateTime, Utc};
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};
use rapport_core::sql::{ColumnKind, SqlParam};
use rapport_store::metrics::register;
use rapport_store::{Store, StoreError};
use serde::Serialize;
use std::collections::HashMap;
use std::time::Duration;
use utoipa::ToSchema;

/// One connector on the health map.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConnectorHealth {
    pub id: String,
    pub name: String,
    pub kind: ConnectorKind,
    pub enabled: bool,
    /// Sends that ended within the window (sent, failed or refused).
    pub sends: i64,
    /// Sent per minute over the window.
    pub sent_per_minute: f64,
    /// Failed attempts over attempts of the sends that ended in the window (a send retried
    /// after an outage counts its failed attempts; refusals by a pre-check or the dictionary
    /// are not failures of the destination); none without any.
    pub failure_rate: Option<f64>,
    /// Sends stopped before sending (pre-check, semantic dictionary) within the window.
    pub refused: i64,
    pub latency_p50_ms: Option<i64>,
    pub latency_p95_ms: Option<i64>,
    /// Sends queued now (waiting for their first or next attempt).
    pub queued: i64,
    pub last_sent_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// Set while the connector's breaker is open: queued sends wait until then.
    pub breaker_open_until: Option<DateTime<Utc>>,
}

#[derive(Default)]
struct Tally {
    sent: i64,
    failed: i64,
    attempts: i64,
    failed_attempts: i64,
    refused: i64,
    queued: i64,
    latencies: Vec<i64>,
}

/// The workspace's connectors since `since`, over a window of `window_minutes`.
pub async fn health(
    store: &Store,
    workspace_id: &str,
    since: DateTime<Utc>,
    window_minutes: i64,
) -> Result<Vec<ConnectorHealth>, StoreError> {
    let connectors = super::list(store, workspace_id).await?;
    let rows = store
        .db
        .fetch_all(
            &format!(
                "SELECT connector_id, state, latency_ms, attempts FROM connector_messages \
                 WHERE workspace_id = {} AND (state = 'queued' OR finished_at >= {})",
                store.ph(1),
                store.ph(2)
            ),
            &[
                SqlParam::Text(workspace_id.into()),
                SqlParam::Timestamp(since),
            ],
            &[
                ColumnKind::Text,
                ColumnKind::Text,
                ColumnKind::Int,
                ColumnKind::Int,
            ],
        )
        .await?;
    let mut tallies: HashMap<String, Tally> = HashMap::new();
    for row in &rows {
        let tally = tallies.entry(row.text(0)?).or_default();
        let attempts = row.int(3)?;
        match row.text(1)?.as_str() {
            "sent" => {
                tally.sent += 1;
                tally.attempts += attempts;
                tally.failed_attempts += (attempts - 1).max(0);
                tally.latencies.extend(row.opt_int(2)?);
            }
            "failed" => {
                tally.failed += 1;
                tally.attempts += attempts;
                tally.failed_attempts += attempts;
            }
            "refused" => tally.refused += 1,
            _ => tally.queued += 1,
        }
    }
    Ok(connectors
        .into_iter()
        .map(|c| {
            let mut tally = tallies.remove(&c.id).unwrap_or_default();
            tally.latencies.sort_unstable();
            ConnectorHealth {
                sends: tally.sent + tally.failed + tally.refused,
                sent_per_minute: tally.sent as f64 / window_minutes.max(1) as f64,
                failure_rate: (tally.attempts > 0)
                    .then(|| tally.failed_attempts as f64 / tally.attempts as f64),
                refused: tally.refused,
                latency_p50_ms: crate::webhooks::health::percentile(&tally.latencies, 0.5),
                latency_p95_ms: crate::webhooks::health::percentile(&tally.latencies, 0.95),
                queued: tally.queued,
                id: c.id,
                name: c.name,
                kind: c.kind,
                enabled: c.enabled,
                last_sent_at: c.last_sent_at,
                last_error: c.last_error,
                breaker_open_until: c.breaker_open_until,
            }
        })
        .collect())
}

/// This node's connector series; None only if the (constant) definitions were refused.
pub struct Metrics(Option<(IntCounterVec, HistogramVec)>);

impl Metrics {
    pub fn new(registry: &Registry) -> Self {
        let series = || -> Result<_, prometheus::Error> {
            Ok((
                register(
                    registry,
                    IntCounterVec::new(
                        Opts::new(
                            "rapport_connector_sends_total",
                            "Queued connector sends attempted, by connector, kind and outcome (sent, failed, retry, refused).",
                        ),
                        &["connector", "kind", "outcome"],
                    )?,
                ),
                register(
                    registry,
                    HistogramVec::new(
                        HistogramOpts::new(
                            "rapport_connector_send_seconds",
                            "How long connector sends took, by connector.",
                        )
                        .buckets(vec![0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0]),
                        &["connector"],
                    )?,
                ),
            ))
        };
        Self(
            series()
                .map_err(|e| tracing::error!("connector metrics unavailable: {e}"))
                .ok(),
        )
    }

    /// Counts one attempt of a queued send and how it ended.
    pub fn observe(
        &self,
        connector_id: &str,
        kind: Option<ConnectorKind>,
        outcome: &Outcome,
        ended: SendState,
        took: Duration,
    ) {
        let Some((sends, seconds)) = &self.0 else {
            return;
        };
        let label = match (outcome, ended) {
            (Ok(_), _) => "sent",
            (Err(_), SendState::Refused) => "refused",
            (Err(_), SendState::Queued) => "retry",
            (Err(_), _) => "failed",
        };
        let kind = kind.map_or("unknown", ConnectorKind::as_str);
        sends.with_label_values(&[connector_id, kind, label]).inc();
        seconds
            .with_label_values(&[connector_id])
            .observe(took.as_secs_f64());
    }
}
