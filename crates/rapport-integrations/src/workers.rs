//! The hub's background work for the node's supervisor: turning outbox entries into webhook
//! messages and delivery jobs, the breakers' probes and drains, and the webhook gauges (the deliveries themselves
//! run in the job runner's `webhooks` queue, see [`crate::webhooks::deliver::queue`]).

use crate::webhooks::deliver::Node;
use rapport_store::worker::{Tick, TickFuture, Worker};
use rapport_store::Store;
use std::sync::Arc;
use std::time::Duration;

struct Fanout(Store);

impl Worker for Fanout {
    fn name(&self) -> &'static str {
        "webhook_fanout"
    }

    fn idle(&self) -> Duration {
        Duration::from_millis(500)
    }

    fn tick(&self) -> TickFuture<'_> {
        Box::pin(async move {
            let read = crate::webhooks::fanout::fan_out(&self.0).await?;
            Ok(if read > 0 { Tick::Busy } else { Tick::Idle })
        })
    }
}

/// Starts the probes of open breakers when they are due and drains closed breakers' parked
/// messages; a pass a second, whatever it found, which paces the drain.
struct Breakers(Store);

impl Worker for Breakers {
    fn name(&self) -> &'static str {
        "webhook_breakers"
    }

    fn idle(&self) -> Duration {
        Duration::from_secs(1)
    }

    fn tick(&self) -> TickFuture<'_> {
        Box::pin(async move {
            crate::webhooks::breaker::tick(&self.0).await?;
            Ok(Tick::Idle)
        })
    }
}

/// Sets the webhook gauges (breaker states, messages waiting) from the database.
struct Gauges(Store, Arc<Node>);

impl Worker for Gauges {
    fn name(&self) -> &'static str {
        "webhook_gauges"
    }

    fn idle(&self) -> Duration {
        Duration::from_secs(5)
    }

    fn tick(&self) -> TickFuture<'_> {
        Box::pin(async move {
            self.1.metrics.refresh(&self.0).await?;
            Ok(Tick::Idle)
        })
    }
}

/// Every worker of the hub; `node` is what the node's delivery handler keeps (its metrics).
pub fn workers(store: &Store, node: Arc<Node>) -> Vec<Arc<dyn Worker>> {
    vec![
        Arc::new(Fanout(store.clone())),
        Arc::new(Breakers(store.clone())),
        Arc::new(Gauges(store.clone(), node)),
    ]
}
