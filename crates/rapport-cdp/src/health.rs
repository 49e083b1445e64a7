//! Data health (数据健康度): per source and minute, events received, accepted, rejected and
//! quarantined (with reasons), duplicates dropped, merge-guard refusals and the ingestion delay
//! (received − event time) in fixed buckets; per profile trait, the fill rate. Counted in the
//! group commit's transaction, read by the API and the dashboard, and mirrored as Prometheus
//! metrics of this node.

use crate::error::CdpError;
use crate::sources::Source;
use crate::time_of_ms;
use chrono::{DateTime, Utc};
use prometheus::{HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry};
use rapport_core::codes::WarningCode;
use rapport_core::sql::{ColumnKind, Dialect, SqlParam};
use rapport_store::metrics::register;
use rapport_store::StoreError;
use rapport_store::{Store, Tx};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use utoipa::ToSchema;

/// Upper bounds (ms) of the delay buckets; the last bucket is everything above.
pub const DELAY_BOUNDS_MS: [i64; 15] = [
    100,
    250,
    500,
    1_000,
    2_000,
    5_000,
    10_000,
    30_000,
    60_000,
    300_000,
    900_000,
    3_600_000,
    21_600_000,
    86_400_000,
    604_800_000,
];
pub const BUCKETS: usize = DELAY_BOUNDS_MS.len() + 1;

pub fn bucket(delay_ms: i64) -> usize {
    DELAY_BOUNDS_MS
        .iter()
        .position(|b| delay_ms <= *b)
        .unwrap_or(DELAY_BOUNDS_MS.len())
}

/// The quantile `q` of a bucketed distribution, as the upper bound of its bucket (the last,
/// open bucket reports its lower bound).
pub fn quantile(counts: &[i64; BUCKETS], q: f64) -> Option<i64> {
    let total: i64 = counts.iter().sum();
    if total == 0 {
        return None;
    }
    let rank = ((total as f64) * q).ceil().max(1.0) as i64;
    let mut seen = 0;
    for (i, c) in counts.iter().enumerate() {
        seen += c;
        if seen >= rank {
            return Some(
                DELAY_BOUNDS_MS
                    .get(i)
                    .copied()
                    .unwrap_or(DELAY_BOUNDS_MS[DELAY_BOUNDS_MS.len() - 1]),
            );
        }
    }
    None
}

#[derive(Debug, Clone, Default)]
pub struct Count {
    pub workspace_id: String,
    pub received: i64,
    pub accepted: i64,
    pub rejected: i64,
    pub quarantined: i64,
    pub duplicates: i64,
    pub merge_refused: i64,
    pub delays: [i64; BUCKETS],
    /// (outcome: rejected | quarantined | warning, reason code) → count.
    pub reasons: BTreeMap<(&'static str, String), i64>,
}

/// The counters of one group commit, by (source, minute).
#[derive(Debug, Default)]
pub struct Counters {
    counts: BTreeMap<(String, i64), Count>,
}

impl Counters {
    pub fn entry(&mut self, source: &Source, minute: i64) -> &mut Count {
        self.by_source_id(&source.id, &source.workspace_id, minute)
    }

    pub fn by_source_id(&mut self, source_id: &str, workspace_id: &str, minute: i64) -> &mut Count {
        self.counts
            .entry((source_id.to_string(), minute))
            .or_insert_with(|| Count {
                workspace_id: workspace_id.to_string(),
                ..Count::default()
            })
    }

    pub fn iter(&self) -> impl Iterator<Item = (&(String, i64), &Count)> {
        self.counts.iter()
    }

    /// Adds the counters to the health tables (additive upserts: safe across nodes).
    pub async fn write(&self, tx: &mut Tx) -> Result<(), CdpError> {
        let dialect = tx.dialect();
        let ph = |n: usize| crate::placeholder(dialect, n);
        for ((source_id, minute), c) in &self.counts {
            tx.execute(
                &format!(
                    "INSERT INTO cdp_health (source_id, minute, workspace_id, received, accepted, rejected, quarantined, duplicates, merge_refused) \
                     VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}) ON CONFLICT (source_id, minute) DO UPDATE SET \
                     received = cdp_health.received + excluded.received, accepted = cdp_health.accepted + excluded.accepted, \
                     rejected = cdp_health.rejected + excluded.rejected, quarantined = cdp_health.quarantined + excluded.quarantined, \
                     duplicates = cdp_health.duplicates + excluded.duplicates, merge_refused = cdp_health.merge_refused + excluded.merge_refused",
                    ph(1), ph(2), ph(3), ph(4), ph(5), ph(6), ph(7), ph(8), ph(9)
                ),
                &[
                    SqlParam::Text(source_id.clone()),
                    SqlParam::Int(*minute),
                    SqlParam::Text(c.workspace_id.clone()),
                    SqlParam::Int(c.received),
                    SqlParam::Int(c.accepted),
                    SqlParam::Int(c.rejected),
                    SqlParam::Int(c.quarantined),
                    SqlParam::Int(c.duplicates),
                    SqlParam::Int(c.merge_refused),
                ],
            )
            .await?;
            for (b, n) in c.delays.iter().enumerate().filter(|(_, n)| **n > 0) {
                tx.execute(
                    &format!(
                        "INSERT INTO cdp_health_delay (source_id, minute, bucket, count) VALUES ({}, {}, {}, {}) \
                         ON CONFLICT (source_id, minute, bucket) DO UPDATE SET count = cdp_health_delay.count + excluded.count",
                        ph(1), ph(2), ph(3), ph(4)
                    ),
                    &[
                        SqlParam::Text(source_id.clone()),
                        SqlParam::Int(*minute),
                        SqlParam::Int(i64::try_from(b).unwrap_or(0)),
                        SqlParam::Int(*n),
                    ],
                )
                .await?;
            }
            for ((outcome, reason), n) in &c.reasons {
                tx.execute(
                    &format!(
                        "INSERT INTO cdp_health_reasons (source_id, minute, outcome, reason, count) VALUES ({}, {}, {}, {}, {}) \
                         ON CONFLICT (source_id, minute, outcome, reason) DO UPDATE SET count = cdp_health_reasons.count + excluded.count",
                        ph(1), ph(2), ph(3), ph(4), ph(5)
                    ),
                    &[
                        SqlParam::Text(source_id.clone()),
                        SqlParam::Int(*minute),
                        SqlParam::Text((*outcome).into()),
                        SqlParam::Text(reason.clone()),
                        SqlParam::Int(*n),
                    ],
                )
                .await?;
            }
        }
        Ok(())
    }
}

/// Appends a data-health warning (merge-guard refusals, failed CRM syncs) in `tx`.
pub async fn record_warning(
    tx: &mut Tx,
    workspace_id: &str,
    source_id: Option<&str>,
    at: i64,
    code: WarningCode,
    message: &str,
    details: &serde_json::Value,
) -> Result<(), CdpError> {
    tx.execute(
        &format!(
            "INSERT INTO cdp_warnings (workspace_id, source_id, at, code, message, details) VALUES ({}, {}, {}, {}, {}, {})",
            crate::ph(tx, 1),
            crate::ph(tx, 2),
            crate::ph(tx, 3),
            crate::ph(tx, 4),
            crate::ph(tx, 5),
            crate::json_ph(tx, 6)
        ),
        &[
            SqlParam::Text(workspace_id.into()),
            source_id.map_or(SqlParam::NullOf(ColumnKind::Text), |s| SqlParam::Text(s.into())),
            SqlParam::Int(at),
            SqlParam::Text(code.as_str().into()),
            SqlParam::Text(message.into()),
            SqlParam::Text(details.to_string()),
        ],
    )
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Reason {
    pub outcome: String,
    pub code: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MinutePoint {
    pub minute: DateTime<Utc>,
    pub received: i64,
    pub accepted: i64,
    pub rejected: i64,
    pub quarantined: i64,
    pub duplicates: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SourceHealth {
    pub source_id: String,
    pub name: String,
    pub kind: String,
    pub events_per_minute: f64,
    pub received: i64,
    pub accepted: i64,
    pub rejected: i64,
    pub quarantined: i64,
    pub duplicates: i64,
    pub merge_refused: i64,
    /// Ingestion delay quantiles, as the upper bound of the bucket they fall in.
    pub delay_p50_ms: Option<i64>,
    pub delay_p95_ms: Option<i64>,
    pub delay_buckets: Vec<i64>,
    pub reasons: Vec<Reason>,
    pub series: Vec<MinutePoint>,
    /// Time of the newest accepted event's arrival in the window.
    pub last_event_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TraitFill {
    #[serde(rename = "trait")]
    pub trait_name: String,
    pub filled: i64,
    pub fill_rate: f64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Warning {
    pub id: i64,
    pub source_id: Option<String>,
    pub at: DateTime<Utc>,
    pub code: String,
    pub message: String,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Report {
    pub window_minutes: i64,
    pub delay_bucket_bounds_ms: Vec<i64>,
    pub sources: Vec<SourceHealth>,
    pub profiles: i64,
    pub traits: Vec<TraitFill>,
    pub warnings: Vec<Warning>,
}

pub async fn report(store: &Store, workspace_id: &str, minutes: i64) -> Result<Report, CdpError> {
    let minutes = minutes.clamp(1, 7 * 24 * 60);
    let now_minute = store.now().timestamp_millis() / 60_000;
    let from = now_minute - minutes + 1;
    let ws = SqlParam::Text(workspace_id.into());
    let ph = |n| store.ph(n);
    let sources = crate::sources::list(store, workspace_id).await?;
    let rows = store
        .db
        .fetch_all(
            &format!(
                "SELECT source_id, minute, received, accepted, rejected, quarantined, duplicates, merge_refused FROM cdp_health \
                 WHERE workspace_id = {} AND minute >= {} ORDER BY minute",
                ph(1),
                ph(2)
            ),
            &[ws.clone(), SqlParam::Int(from)],
            &[
                ColumnKind::Text,
                ColumnKind::Int,
                ColumnKind::Int,
                ColumnKind::Int,
                ColumnKind::Int,
                ColumnKind::Int,
                ColumnKind::Int,
                ColumnKind::Int,
            ],
        )
        .await?;
    let mut out: Vec<SourceHealth> = sources
        .iter()
        .map(|s| SourceHealth {
            source_id: s.id.clone(),
            name: s.name.clone(),
            kind: s.kind.clone(),
            events_per_minute: 0.0,
            received: 0,
            accepted: 0,
            rejected: 0,
            quarantined: 0,
            duplicates: 0,
            merge_refused: 0,
            delay_p50_ms: None,
            delay_p95_ms: None,
            delay_buckets: vec![0; BUCKETS],
            reasons: Vec::new(),
            series: Vec::new(),
            last_event_at: None,
        })
        .collect();
    let index: HashMap<String, usize> = out
        .iter()
        .enumerate()
        .map(|(i, s)| (s.source_id.clone(), i))
        .collect();
    for r in &rows {
        let Some(s) = index
            .get(&r.text("source_id")?)
            .and_then(|i| out.get_mut(*i))
        else {
            continue;
        };
        let point = MinutePoint {
            minute: time_of_ms(r.int("minute")? * 60_000)?,
            received: r.int("received")?,
            accepted: r.int("accepted")?,
            rejected: r.int("rejected")?,
            quarantined: r.int("quarantined")?,
            duplicates: r.int("duplicates")?,
        };
        s.received += point.received;
        s.accepted += point.accepted;
        s.rejected += point.rejected;
        s.quarantined += point.quarantined;
        s.duplicates += point.duplicates;
        s.merge_refused += r.int("merge_refused")?;
        if point.accepted > 0 {
            s.last_event_at = Some(point.minute);
        }
        s.series.push(point);
    }
    let delays = store
        .db
        .fetch_all(
            &format!(
                "SELECT d.source_id, d.bucket, CAST(SUM(d.count) AS BIGINT) AS count FROM cdp_health_delay d JOIN cdp_sources s ON s.id = d.source_id \
                 WHERE s.workspace_id = {} AND d.minute >= {} GROUP BY d.source_id, d.bucket",
                ph(1),
                ph(2)
            ),
            &[ws.clone(), SqlParam::Int(from)],
            &[ColumnKind::Text, ColumnKind::Int, ColumnKind::Int],
        )
        .await?;
    for r in &delays {
        let Some(s) = index
            .get(&r.text("source_id")?)
            .and_then(|i| out.get_mut(*i))
        else {
            continue;
        };
        let bucket = r.int("bucket")?;
        let slot = usize::try_from(bucket)
            .ok()
            .and_then(|b| s.delay_buckets.get_mut(b))
            .ok_or_else(|| StoreError::Corrupt(format!("delay bucket {bucket} is out of range")))?;
        *slot += r.int("count")?;
    }
    let reasons = store
        .db
        .fetch_all(
            &format!(
                "SELECT r.source_id, r.outcome, r.reason, CAST(SUM(r.count) AS BIGINT) AS count FROM cdp_health_reasons r JOIN cdp_sources s ON s.id = r.source_id \
                 WHERE s.workspace_id = {} AND r.minute >= {} GROUP BY r.source_id, r.outcome, r.reason ORDER BY SUM(r.count) DESC",
                ph(1),
                ph(2)
            ),
            &[ws.clone(), SqlParam::Int(from)],
            &[ColumnKind::Text, ColumnKind::Text, ColumnKind::Text, ColumnKind::Int],
        )
        .await?;
    for r in &reasons {
        if let Some(s) = index
            .get(&r.text("source_id")?)
            .and_then(|i| out.get_mut(*i))
        {
            s.reasons.push(Reason {
                outcome: r.text("outcome")?,
                code: r.text("reason")?,
                count: r.int("count")?,
            });
        }
    }
    for s in &mut out {
        let mut counts = [0i64; BUCKETS];
        for (i, c) in s.delay_buckets.iter().enumerate().take(BUCKETS) {
            counts[i] = *c;
        }
        s.delay_p50_ms = quantile(&counts, 0.5);
        s.delay_p95_ms = quantile(&counts, 0.95);
        s.events_per_minute = s.accepted as f64 / minutes as f64;
    }
    let (profiles, traits) = trait_fill(store, workspace_id).await?;
    let warnings = store
        .db
        .fetch_all(
            &format!(
                "SELECT id, source_id, at, code, message, details FROM cdp_warnings WHERE workspace_id = {} ORDER BY id DESC LIMIT 50",
                ph(1)
            ),
            &[ws],
            &[
                ColumnKind::Int,
                ColumnKind::Text,
                ColumnKind::Int,
                ColumnKind::Text,
                ColumnKind::Text,
                ColumnKind::Json,
            ],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(Warning {
                id: r.int("id")?,
                source_id: r.opt_text("source_id")?,
                at: r.millis("at")?,
                code: r.text("code")?,
                message: r.text("message")?,
                details: r.json("details")?,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(Report {
        window_minutes: minutes,
        delay_bucket_bounds_ms: DELAY_BOUNDS_MS.to_vec(),
        sources: out,
        profiles,
        traits,
        warnings,
    })
}

/// Trait keys seen on recent profiles, and how many customers (cluster roots) carry each.
async fn trait_fill(store: &Store, workspace_id: &str) -> Result<(i64, Vec<TraitFill>), CdpError> {
    let ws = SqlParam::Text(workspace_id.into());
    let sample = store
        .db
        .fetch_all(
            &format!(
                "SELECT traits FROM cdp_profiles WHERE workspace_id = {} AND traits_updated_at IS NOT NULL ORDER BY traits_updated_at DESC LIMIT 1000",
                store.ph(1)
            ),
            std::slice::from_ref(&ws),
            &[ColumnKind::Json],
        )
        .await?;
    let mut keys: BTreeMap<String, ()> = BTreeMap::new();
    for row in &sample {
        if let serde_json::Value::Object(m) = row.json("traits")? {
            for k in m.keys() {
                if keys.len() < 50 {
                    keys.insert(k.clone(), ());
                }
            }
        }
    }
    let keys: Vec<String> = keys.into_keys().collect();
    let mut params = vec![ws];
    let mut sums = String::new();
    for key in &keys {
        let n = params.len() + 1;
        let expr = match store.db.dialect() {
            Dialect::Sqlite => {
                params.push(SqlParam::Text(format!(
                    "$.\"{}\"",
                    key.replace('"', "\\\"")
                )));
                format!(
                    "json_extract(traits, ?{n}) IS NOT NULL AND json_extract(traits, ?{n}) <> ''"
                )
            }
            Dialect::Postgres => {
                params.push(SqlParam::Text(key.clone()));
                format!("traits -> ${n} IS NOT NULL AND traits -> ${n} <> 'null'::jsonb AND traits ->> ${n} <> ''")
            }
        };
        let _ = write!(
            sums,
            ", CAST(SUM(CASE WHEN {expr} THEN 1 ELSE 0 END) AS BIGINT)"
        );
    }
    let kinds = vec![ColumnKind::Int; keys.len() + 1];
    let row = store
        .db
        .fetch_optional(
            &format!(
                "SELECT COUNT(*){sums} FROM cdp_profiles WHERE workspace_id = {} AND merged_into IS NULL",
                store.ph(1)
            ),
            &params,
            &kinds,
        )
        .await?;
    let Some(row) = row else {
        return Ok((0, Vec::new()));
    };
    let total = row.int(0)?;
    let traits = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let filled = row.int(i + 1)?;
            Ok(TraitFill {
                trait_name: k.clone(),
                filled,
                fill_rate: if total > 0 {
                    filled as f64 / total as f64
                } else {
                    0.0
                },
            })
        })
        .collect::<Result<_, StoreError>>()?;
    Ok((total, traits))
}

/// This node's ingestion series, in the node's registry (`rapport_store::metrics`); None only
/// if the (constant) definitions were refused, which is logged.
pub struct Metrics(Option<Series>);

struct Series {
    events: IntCounterVec,
    merge_refused: IntCounterVec,
    retries: IntCounterVec,
    isolations: IntCounter,
    /// Observed at each bucket's upper bound (the writer keeps delays bucketed), so `_sum` is an
    /// upper estimate; the buckets and `_count` are exact.
    delays: HistogramVec,
}

impl Metrics {
    /// The ingestion series, registered in `registry`.
    pub fn new(registry: &Registry) -> Self {
        Self(
            Series::new(registry)
                .map_err(|e| tracing::error!("ingestion metrics unavailable: {e}"))
                .ok(),
        )
    }

    pub fn record(&self, counters: &Counters) {
        if let Some(series) = &self.0 {
            series.record(counters);
        }
    }

    /// A group commit tried again after a transient failure (`deadlock`, `serialization`,
    /// `identity_race`, `busy`).
    pub fn record_retry(&self, reason: &'static str) {
        if let Some(series) = &self.0 {
            series.retries.with_label_values(&[reason]).inc();
        }
    }

    /// A group commit that failed on its data and was split up.
    pub fn record_isolation(&self) {
        if let Some(series) = &self.0 {
            series.isolations.inc();
        }
    }
}

impl Series {
    fn new(registry: &Registry) -> Result<Self, prometheus::Error> {
        let bounds: Vec<f64> = DELAY_BOUNDS_MS
            .iter()
            .map(|ms| *ms as f64 / 1000.0)
            .collect();
        Ok(Self {
            events: register(
                registry,
                IntCounterVec::new(
                    Opts::new("rapport_cdp_events_total", "Events by source and outcome."),
                    &["source", "outcome"],
                )?,
            ),
            merge_refused: register(
                registry,
                IntCounterVec::new(
                    Opts::new(
                        "rapport_cdp_merge_refused_total",
                        "Merges refused by the identity guard.",
                    ),
                    &["source"],
                )?,
            ),
            retries: register(
                registry,
                IntCounterVec::new(
                    Opts::new(
                        "rapport_cdp_commit_retries_total",
                        "Group commits tried again after a transient failure.",
                    ),
                    &["reason"],
                )?,
            ),
            isolations: register(
                registry,
                IntCounter::new(
                    "rapport_cdp_commit_isolations_total",
                    "Group commits split up after one of their events failed.",
                )?,
            ),
            delays: register(
                registry,
                HistogramVec::new(
                    HistogramOpts::new(
                        "rapport_cdp_ingestion_delay_seconds",
                        "Received time minus event time.",
                    )
                    .buckets(bounds),
                    &["source"],
                )?,
            ),
        })
    }

    fn record(&self, counters: &Counters) {
        for ((source, _), c) in counters.iter() {
            for (outcome, n) in [
                ("accepted", c.accepted),
                ("rejected", c.rejected),
                ("quarantined", c.quarantined),
                ("duplicate", c.duplicates),
            ] {
                self.events
                    .with_label_values(&[source.as_str(), outcome])
                    .inc_by(u64::try_from(n).unwrap_or(0));
            }
            let delays = self.delays.with_label_values(&[source.as_str()]);
            for (i, n) in c.delays.iter().enumerate() {
                // The open last bucket is observed just past the last bound.
                let at = DELAY_BOUNDS_MS.get(i).map_or(
                    DELAY_BOUNDS_MS[DELAY_BOUNDS_MS.len() - 1] as f64 / 500.0,
                    |ms| *ms as f64 / 1000.0,
                );
                for _ in 0..u64::try_from(*n).unwrap_or(0) {
                    delays.observe(at);
                }
            }
            self.merge_refused
                .with_label_values(&[source.as_str()])
                .inc_by(u64::try_from(c.merge_refused).unwrap_or(0));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_and_quantiles() {
        assert_eq!(bucket(-5), 0);
        assert_eq!(bucket(100), 0);
        assert_eq!(bucket(101), 1);
        assert_eq!(bucket(i64::MAX), BUCKETS - 1);
        let mut counts = [0i64; BUCKETS];
        counts[0] = 90;
        counts[5] = 10;
        assert_eq!(quantile(&counts, 0.5), Some(100));
        assert_eq!(quantile(&counts, 0.95), Some(5_000));
        assert_eq!(quantile(&[0; BUCKETS], 0.5), None);
    }
}
