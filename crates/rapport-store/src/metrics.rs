//! The node's one Prometheus registry, carried by the `Store` like the clock so that every
//! crate's counters (HTTP in the server, ingestion in the CDP, workers here) land in the same
//! `/metrics` document, through the `prometheus` crate's collectors and text encoder rather
//! than renderers of our own. Per node, in memory: Prometheus scrapes every node and sums.

use prometheus::core::Collector;
use prometheus::{Registry, TextEncoder};

/// Registers `collector` in `registry` and hands it back. A second registration of the same
/// metric (a second component over one store, as in tests) keeps the first one's series and
/// is logged, not fatal: the new collector still counts, it is only not exported.
pub fn register<C: Collector + Clone + 'static>(registry: &Registry, collector: C) -> C {
    if let Err(e) = registry.register(Box::new(collector.clone())) {
        tracing::warn!("metric not registered: {e}");
    }
    collector
}

/// The registry in Prometheus's text exposition format.
pub fn render(registry: &Registry) -> String {
    TextEncoder::new()
        .encode_to_string(&registry.gather())
        .unwrap_or_else(|e| {
            tracing::error!("encoding metrics failed: {e}");
            String::new()
        })
}
