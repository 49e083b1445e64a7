//! The CDP's background work, as workers for the node's supervisor (`rapport_store::worker`):
//! judging the customers the group commits queued, window timers, CRM changes for segments,
//! building new or changed segments, the CRM sync queue, profiles for CRM-made contacts, the
//! hourly prune and (PostgreSQL) the planner statistics. Each tick claims its work from the
//! database with a lease, so any number of nodes may run them; the request path (ingestion's
//! group commit) is not here — it runs on every node that answers HTTP.

use crate::Cdp;
use rapport_core::sql::Dialect;
use rapport_store::worker::{Tick, TickFuture, Worker};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// A worker made of one function of the CDP.
struct Each {
    name: &'static str,
    idle: Duration,
    wake: Option<Arc<Notify>>,
    cdp: Arc<Cdp>,
    run: for<'a> fn(&'a Cdp) -> TickFuture<'a>,
}

impl Worker for Each {
    fn name(&self) -> &'static str {
        self.name
    }

    fn idle(&self) -> Duration {
        self.idle
    }

    fn tick(&self) -> TickFuture<'_> {
        (self.run)(&self.cdp)
    }

    fn wake(&self) -> Option<Arc<Notify>> {
        self.wake.clone()
    }
}

fn busy_if(did: bool) -> Tick {
    if did {
        Tick::Busy
    } else {
        Tick::Idle
    }
}

fn judge_pending(cdp: &Cdp) -> TickFuture<'_> {
    Box::pin(async move { Ok(busy_if(cdp.segments.judge_pending().await? > 0)) })
}

fn timers(cdp: &Cdp) -> TickFuture<'_> {
    Box::pin(async move { Ok(busy_if(cdp.segments.tick_timers().await? > 0)) })
}

fn crm_changes(cdp: &Cdp) -> TickFuture<'_> {
    Box::pin(async move { Ok(busy_if(cdp.segments.crm_changes().await? > 0)) })
}

fn builds(cdp: &Cdp) -> TickFuture<'_> {
    Box::pin(async move { Ok(busy_if(cdp.segments.build_next().await?)) })
}

fn sync_queue(cdp: &Cdp) -> TickFuture<'_> {
    Box::pin(async move {
        Ok(busy_if(
            crate::sync::process_queue(&cdp.store, &cdp.settings).await? > 0,
        ))
    })
}

fn contact_profiles(cdp: &Cdp) -> TickFuture<'_> {
    Box::pin(async move {
        Ok(busy_if(
            crate::sync::consume_outbox(&cdp.store, &cdp.settings).await? > 0,
        ))
    })
}

fn prune(cdp: &Cdp) -> TickFuture<'_> {
    Box::pin(async move {
        crate::sync::prune(&cdp.store).await?;
        Ok(Tick::Idle)
    })
}

fn statistics(cdp: &Cdp) -> TickFuture<'_> {
    Box::pin(async move {
        crate::statistics::refresh(&cdp.store).await?;
        Ok(Tick::Idle)
    })
}

/// Every CDP worker, for a node that runs background work.
pub fn workers(cdp: &Arc<Cdp>) -> Vec<Arc<dyn Worker>> {
    let each = |name, idle_ms, wake: Option<Arc<Notify>>, run| -> Arc<dyn Worker> {
        Arc::new(Each {
            name,
            idle: Duration::from_millis(idle_ms),
            wake,
            cdp: cdp.clone(),
            run,
        })
    };
    let mut out = vec![
        each(
            "segments.pending",
            50,
            Some(cdp.segments.pending.clone()),
            judge_pending,
        ),
        each("segments.timers", 200, None, timers),
        each("segments.crm_changes", 1_000, None, crm_changes),
        each(
            "segments.builds",
            500,
            Some(cdp.segments.builds.clone()),
            builds,
        ),
        each("cdp.sync_queue", 250, None, sync_queue),
        each("cdp.contact_profiles", 250, None, contact_profiles),
        each("cdp.prune", 3_600_000, None, prune),
    ];
    if cdp.store.db.dialect() == Dialect::Postgres {
        out.push(each("cdp.statistics", 5_000, None, statistics));
    }
    out
}
