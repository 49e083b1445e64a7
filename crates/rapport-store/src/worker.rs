//! Background work as supervised tick loops. A feature crate describes each of its background
//! loops as a [`Worker`]: one `tick` does a bounded piece of work and says whether more is
//! waiting. The node's [`Supervisor`] runs every worker in its own task: it ticks again at once
//! while there is work, waits (or until woken) when idle, backs off exponentially when a tick
//! fails, turns a panic into a logged failure, stops at shutdown between ticks, and keeps each
//! worker's state for the metrics. Which workers run on a node is the binary's choice (its
//! `--role`); everything a worker does is claimed from the database with leases, so any number
//! of nodes may run the same workers.

use crate::metrics::register;
use prometheus::{GaugeVec, IntCounterVec, IntGaugeVec, Opts, Registry};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{watch, Notify};

/// What a tick says about the work left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    /// More is waiting: tick again at once.
    Busy,
    /// Nothing to do: wait for the worker's idle interval or a wake-up.
    Idle,
}

pub type TickError = Box<dyn std::error::Error + Send + Sync>;
pub type TickFuture<'a> = Pin<Box<dyn Future<Output = Result<Tick, TickError>> + Send + 'a>>;
/// A service's run: returns once the stop signal it was given turns true.
pub type ServiceFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// One background loop.
pub trait Worker: Send + Sync + 'static {
    /// Stable: metrics and logs name the worker by it.
    fn name(&self) -> &'static str;
    /// How long to wait after an idle tick (unless woken).
    fn idle(&self) -> Duration;
    /// One bounded piece of work.
    fn tick(&self) -> TickFuture<'_>;
    /// Woken before its idle interval ends (e.g. the local writer just committed work for it).
    fn wake(&self) -> Option<Arc<Notify>> {
        None
    }
}

const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What the supervisor knows of a worker (for metrics).
#[derive(Debug, Clone, Default)]
pub struct WorkerState {
    /// 0 idle, 1 busy, 2 failing.
    pub state: u8,
    pub ticks: u64,
    pub failures: u64,
    pub panics: u64,
    /// Seconds since the last tick that did not fail.
    pub last_ok: Option<Instant>,
}

/// Runs workers until shutdown.
pub struct Supervisor {
    stop: watch::Sender<bool>,
    states: Arc<Mutex<BTreeMap<&'static str, WorkerState>>>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    /// None only if the (constant) metric definitions were refused, which is logged.
    metrics: Option<WorkerMetrics>,
}

/// The workers' series in the node's registry, brought up to date from their states at each
/// scrape (`publish`).
struct WorkerMetrics {
    state: IntGaugeVec,
    ticks: IntCounterVec,
    failures: IntCounterVec,
    panics: IntCounterVec,
    lag: GaugeVec,
}

impl WorkerMetrics {
    fn new(registry: &Registry) -> Result<Self, prometheus::Error> {
        let by_worker = |name: &str, help: &str| Opts::new(name, help);
        Ok(Self {
            state: register(
                registry,
                IntGaugeVec::new(
                    by_worker(
                        "rapport_worker_state",
                        "Background worker state: 0 idle, 1 busy, 2 failing.",
                    ),
                    &["worker"],
                )?,
            ),
            ticks: register(
                registry,
                IntCounterVec::new(
                    by_worker(
                        "rapport_worker_ticks_total",
                        "Ticks run by a background worker.",
                    ),
                    &["worker"],
                )?,
            ),
            failures: register(
                registry,
                IntCounterVec::new(
                    by_worker(
                        "rapport_worker_failures_total",
                        "Ticks that failed or panicked.",
                    ),
                    &["worker"],
                )?,
            ),
            panics: register(
                registry,
                IntCounterVec::new(
                    by_worker("rapport_worker_panics_total", "Ticks that panicked."),
                    &["worker"],
                )?,
            ),
            lag: register(
                registry,
                GaugeVec::new(
                    by_worker(
                        "rapport_worker_seconds_since_success",
                        "Seconds since the worker's last tick that did not fail (its lag).",
                    ),
                    &["worker"],
                )?,
            ),
        })
    }
}

impl Default for Supervisor {
    /// A supervisor whose metrics go to a registry of its own (tools and tests).
    fn default() -> Self {
        Self::new(&Registry::new())
    }
}

impl Supervisor {
    /// A supervisor publishing its workers' metrics in `registry` (the store's).
    pub fn new(registry: &Registry) -> Self {
        let metrics = WorkerMetrics::new(registry)
            .map_err(|e| tracing::error!("worker metrics unavailable: {e}"))
            .ok();
        Self {
            stop: watch::channel(false).0,
            states: Arc::default(),
            tasks: Mutex::default(),
            metrics,
        }
    }

    /// Starts `worker` in its own task (needs a Tokio runtime).
    pub fn spawn(&self, worker: Arc<dyn Worker>) {
        let states = self.states.clone();
        let mut stop = self.stop.subscribe();
        if let Ok(mut s) = states.lock() {
            s.insert(worker.name(), WorkerState::default());
        }
        let task = tokio::spawn(async move {
            let name = worker.name();
            let wake = worker.wake();
            let mut backoff = Duration::ZERO;
            loop {
                if *stop.borrow() {
                    return;
                }
                let ticking = worker.clone();
                let outcome = tokio::spawn(async move { ticking.tick().await }).await;
                // 0 good, 1 failed, 2 panicked.
                let fault = match &outcome {
                    Ok(Ok(_)) => 0,
                    Ok(Err(_)) => 1,
                    Err(_) => 2,
                };
                let (state, wait) = match outcome {
                    Ok(Ok(Tick::Busy)) => {
                        backoff = Duration::ZERO;
                        (1, Duration::ZERO)
                    }
                    Ok(Ok(Tick::Idle)) => {
                        backoff = Duration::ZERO;
                        (0, worker.idle())
                    }
                    Ok(Err(error)) => {
                        backoff = (backoff * 2).clamp(Duration::from_millis(100), MAX_BACKOFF);
                        tracing::warn!("worker {name} failed (retry in {backoff:?}): {error}");
                        (2, backoff)
                    }
                    Err(join) => {
                        backoff = (backoff * 2).clamp(Duration::from_millis(100), MAX_BACKOFF);
                        tracing::error!("worker {name} panicked (retry in {backoff:?}): {join}");
                        (2, backoff)
                    }
                };
                if let Ok(mut s) = states.lock() {
                    let entry = s.entry(name).or_default();
                    entry.state = state;
                    entry.ticks += 1;
                    match fault {
                        0 => entry.last_ok = Some(Instant::now()),
                        1 => entry.failures += 1,
                        _ => {
                            entry.failures += 1;
                            entry.panics += 1;
                        }
                    }
                }
                if wait.is_zero() {
                    continue;
                }
                let woken = async {
                    match &wake {
                        Some(n) => n.notified().await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = woken, if state == 0 => {}
                    _ = stop.changed() => {}
                }
            }
        });
        if let Ok(mut tasks) = self.tasks.lock() {
            tasks.push(task);
        }
    }

    /// Starts a long-running `service` (a loop that watches the stop signal itself, such as the
    /// job runner) in its own task. While it runs its state is busy; if it returns before
    /// shutdown or panics, that is counted as a failure and it is started again after a backoff.
    pub fn spawn_service<F>(&self, name: &'static str, service: F)
    where
        F: Fn(watch::Receiver<bool>) -> ServiceFuture + Send + Sync + 'static,
    {
        let states = self.states.clone();
        let mut stop = self.stop.subscribe();
        let set = move |update: &dyn Fn(&mut WorkerState)| {
            if let Ok(mut s) = states.lock() {
                update(s.entry(name).or_default());
            }
        };
        set(&|_| {});
        let task = tokio::spawn(async move {
            let mut backoff = Duration::ZERO;
            loop {
                if *stop.borrow() {
                    return;
                }
                set(&|s| {
                    s.state = 1;
                    s.ticks += 1;
                    s.last_ok = Some(Instant::now());
                });
                let outcome = tokio::spawn(service(stop.clone())).await;
                if *stop.borrow() {
                    set(&|s| s.state = 0);
                    return;
                }
                backoff = (backoff * 2).clamp(Duration::from_millis(100), MAX_BACKOFF);
                let panicked = outcome.is_err();
                match outcome {
                    Ok(()) => tracing::warn!("service {name} ended (restart in {backoff:?})"),
                    Err(e) => {
                        tracing::error!("service {name} panicked (restart in {backoff:?}): {e}")
                    }
                }
                set(&|s| {
                    s.state = 2;
                    s.failures += 1;
                    s.panics += u64::from(panicked);
                });
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = stop.changed() => {}
                }
            }
        });
        if let Ok(mut tasks) = self.tasks.lock() {
            tasks.push(task);
        }
    }

    /// Asks every worker to stop after its current tick and waits for them (at most `within`).
    pub async fn shutdown(&self, within: Duration) {
        let _ = self.stop.send(true);
        let tasks: Vec<_> = match self.tasks.lock() {
            Ok(mut t) => t.drain(..).collect(),
            Err(_) => Vec::new(),
        };
        let all = async {
            for t in tasks {
                let _ = t.await;
            }
        };
        let _ = tokio::time::timeout(within, all).await;
    }

    /// Stops the workers at once (their current tick is abandoned: everything they claim is
    /// leased, so another node takes it over).
    pub fn abort(&self) {
        let _ = self.stop.send(true);
        if let Ok(mut tasks) = self.tasks.lock() {
            for t in tasks.drain(..) {
                t.abort();
            }
        }
    }

    pub fn states(&self) -> BTreeMap<&'static str, WorkerState> {
        self.states
            .lock()
            .map_or_else(|poisoned| poisoned.into_inner().clone(), |s| s.clone())
    }

    /// Brings the workers' series in the registry up to date (call before each scrape): each
    /// worker's state, ticks, failures and panics, and the seconds since its last good tick.
    pub fn publish(&self) {
        let Some(m) = &self.metrics else {
            return;
        };
        for (name, s) in self.states() {
            let labels = [name];
            m.state.with_label_values(&labels).set(i64::from(s.state));
            for (counter, value) in [
                (&m.ticks, s.ticks),
                (&m.failures, s.failures),
                (&m.panics, s.panics),
            ] {
                let series = counter.with_label_values(&labels);
                series.inc_by(value.saturating_sub(series.get()));
            }
            m.lag
                .with_label_values(&labels)
                .set(s.last_ok.map_or(f64::NAN, |t| t.elapsed().as_secs_f64()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    struct Flaky {
        calls: AtomicU32,
    }

    impl Worker for Flaky {
        fn name(&self) -> &'static str {
            "flaky"
        }
        fn idle(&self) -> Duration {
            Duration::from_millis(5)
        }
        fn tick(&self) -> TickFuture<'_> {
            Box::pin(async move {
                match self.calls.fetch_add(1, Ordering::SeqCst) {
                    0 => panic!("a bug in a tick"),
                    1 => Err("the database is away".into()),
                    2 => Ok(Tick::Busy),
                    _ => Ok(Tick::Idle),
                }
            })
        }
    }

    #[tokio::test]
    async fn services_are_restarted_after_a_panic_and_stop_when_told() {
        let supervisor = Supervisor::default();
        let starts = Arc::new(AtomicU32::new(0));
        let stopped = Arc::new(AtomicU32::new(0));
        {
            let (starts, stopped) = (starts.clone(), stopped.clone());
            supervisor.spawn_service("svc", move |mut stop| {
                let (starts, stopped) = (starts.clone(), stopped.clone());
                Box::pin(async move {
                    if starts.fetch_add(1, Ordering::SeqCst) == 0 {
                        panic!("a bug in the service");
                    }
                    while !*stop.borrow() {
                        if stop.changed().await.is_err() {
                            break;
                        }
                    }
                    stopped.fetch_add(1, Ordering::SeqCst);
                })
            });
        }
        for _ in 0..400 {
            if starts.load(Ordering::SeqCst) >= 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(starts.load(Ordering::SeqCst), 2);
        let state = supervisor.states()["svc"].clone();
        assert_eq!((state.state, state.failures, state.panics), (1, 1, 1));
        supervisor.shutdown(Duration::from_secs(5)).await;
        assert_eq!(stopped.load(Ordering::SeqCst), 1);
        assert_eq!(supervisor.states()["svc"].state, 0);
    }

    #[tokio::test]
    async fn panics_and_failures_are_survived_and_counted() {
        let supervisor = Supervisor::default();
        let worker = Arc::new(Flaky {
            calls: AtomicU32::new(0),
        });
        supervisor.spawn(worker.clone());
        for _ in 0..400 {
            if worker.calls.load(Ordering::SeqCst) >= 5 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(worker.calls.load(Ordering::SeqCst) >= 5);
        let state = supervisor.states()["flaky"].clone();
        assert_eq!((state.failures, state.panics), (2, 1));
        assert_eq!(state.state, 0);
        let registry = Registry::new();
        let published = Supervisor::new(&registry);
        *published.states.lock().unwrap() = supervisor.states();
        published.publish();
        published.publish();
        let text = crate::metrics::render(&registry);
        assert!(
            text.contains("rapport_worker_panics_total{worker=\"flaky\"} 1"),
            "{text}"
        );
        supervisor.shutdown(Duration::from_secs(5)).await;
        let after = worker.calls.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(worker.calls.load(Ordering::SeqCst), after, "stopped");
    }
}
