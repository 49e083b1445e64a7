//! HTTP metrics: requests by method, route and status, and a latency histogram per route, in
//! the node's registry (`rapport_store::metrics`), exported with everything else at `/metrics`.

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};
use rapport_store::metrics::register;
use std::time::Duration;

const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

pub struct Metrics {
    requests: Option<IntCounterVec>,
    latency: Option<HistogramVec>,
}

impl Metrics {
    /// The HTTP series, registered in `registry`; a definition refused (never, they are
    /// constants) is logged and that series not kept.
    pub fn new(registry: &Registry) -> Self {
        let requests = IntCounterVec::new(
            Opts::new(
                "rapport_http_requests_total",
                "HTTP requests by method, route and status.",
            ),
            &["method", "route", "status"],
        );
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "rapport_http_request_duration_seconds",
                "Request latency by route.",
            )
            .buckets(BUCKETS.to_vec()),
            &["route"],
        );
        let keep = |what: &str, e: prometheus::Error| {
            tracing::error!("metric {what} unavailable: {e}");
        };
        Self {
            requests: requests
                .map_err(|e| keep("rapport_http_requests_total", e))
                .ok()
                .map(|c| register(registry, c)),
            latency: latency
                .map_err(|e| keep("rapport_http_request_duration_seconds", e))
                .ok()
                .map(|h| register(registry, h)),
        }
    }

    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        if let Some(requests) = &self.requests {
            requests
                .with_label_values(&[method, route, &status.to_string()])
                .inc();
        }
        if let Some(latency) = &self.latency {
            latency
                .with_label_values(&[route])
                .observe(elapsed.as_secs_f64());
        }
    }
}
