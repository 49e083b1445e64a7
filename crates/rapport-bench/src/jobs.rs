//! `rapport-bench jobs`: measures the durable job queue (`rapport_store::jobs`) against a bare
//! queue on the same database in the same run.
//!
//! Rapport: one `Runner` (a node) with one queue of `--concurrency` slots runs no-op jobs while
//! one producer enqueues them in transactions of `--batch` jobs (`jobs::enqueue_now`, which
//! wakes the runner). The bare queue: a table of (id, payload, created_at); the same producer
//! inserts multi-row batches; consumers claim and delete (PostgreSQL: four consumers, each
//! `SELECT … ORDER BY id LIMIT n FOR UPDATE SKIP LOCKED` then `DELETE` in one transaction;
//! SQLite: one `DELETE … RETURNING` of the oldest n on the single writer), woken the same way.
//! Two runs each: saturated (`--jobs` enqueued as fast as the producer can, jobs/s from the
//! first enqueue to the last completion) and paced (half the saturated rate of that queue for
//! `--paced-secs`), where enqueue→start latency is read: from the enqueueing transaction's
//! commit to the handler's start. Results are a Markdown section printed and appended to
//! `--out`.

use crate::common as bench;
use anyhow::{bail, Context, Result};
use clap::Args;
use rapport_core::sql::{ColumnKind, Dialect, SqlParam};
use rapport_store::cli::StorageArgs;
use rapport_store::jobs::{self, JobCtx, NewJob, QueueConfig, Runner};
use rapport_store::Store;
use serde_json::json;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct JobsArgs {
    #[command(flatten)]
    storage: StorageArgs,
    /// Jobs of each saturated run.
    #[arg(long, default_value_t = 100_000)]
    jobs: usize,
    /// Jobs per enqueueing transaction.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Jobs the runner runs at once (the queue's concurrency), and rows the bare consumers
    /// claim at once in all.
    #[arg(long, default_value_t = 256)]
    concurrency: usize,
    /// Seconds of each paced run.
    #[arg(long, default_value_t = 10)]
    paced_secs: u64,
    /// Append the Markdown results to this file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// A remark printed under the section's heading.
    #[arg(long)]
    note: Option<String>,
}

const QUEUE: &str = "bench";
const BARE: &str = "bench_bare_jobs";
/// The most a run waits for its jobs to finish.
const DRAIN_LIMIT: Duration = Duration::from_secs(600);

/// When each job of a run was enqueued (its transaction committed) and started, in
/// microseconds since the run began (0: not yet).
struct Marks {
    t0: Instant,
    enqueued: Vec<AtomicU64>,
    started: Vec<AtomicU64>,
    count: AtomicU64,
}

impl Marks {
    fn new(n: usize) -> Self {
        Self {
            t0: Instant::now(),
            enqueued: (0..n).map(|_| AtomicU64::new(0)).collect(),
            started: (0..n).map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.t0.elapsed().as_micros())
            .unwrap_or(u64::MAX)
            .max(1)
    }

    fn enqueued(&self, range: std::ops::Range<usize>) {
        let now = self.now();
        for i in range {
            if let Some(m) = self.enqueued.get(i) {
                m.store(now, Relaxed);
            }
        }
    }

    fn started(&self, i: u64) {
        if let Some(m) = usize::try_from(i).ok().and_then(|i| self.started.get(i)) {
            if m.swap(self.now(), Relaxed) == 0 {
                self.count.fetch_add(1, Relaxed);
            }
        }
    }

    /// Enqueue→start latencies in microseconds, sorted.
    fn latencies(&self) -> Vec<u64> {
        let mut out: Vec<u64> = self
            .enqueued
            .iter()
            .zip(&self.started)
            .filter_map(|(e, s)| {
                let (e, s) = (e.load(Relaxed), s.load(Relaxed));
                (e > 0 && s > 0).then(|| s.saturating_sub(e))
            })
            .collect();
        out.sort_unstable();
        out
    }
}

fn percentile(sorted: &[u64], q: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    u32::try_from(sorted.get(rank - 1).copied().unwrap_or(0)).unwrap_or(u32::MAX)
}

/// One run's figures.
#[derive(Debug, Clone, Default)]
struct Figures {
    jobs: usize,
    elapsed: Duration,
    p50_us: u32,
    p99_us: u32,
    load: String,
}

impl Figures {
    fn per_sec(&self) -> f64 {
        self.jobs as f64 / self.elapsed.as_secs_f64().max(0.001)
    }

    fn of(marks: &Marks, jobs: usize, elapsed: Duration, load: String) -> Self {
        let latencies = marks.latencies();
        Figures {
            jobs,
            elapsed,
            p50_us: percentile(&latencies, 0.50),
            p99_us: percentile(&latencies, 0.99),
            load,
        }
    }
}

/// How a producer paces itself: as fast as it can, or at a rate (jobs/s).
#[derive(Debug, Clone, Copy)]
enum Pace {
    Flat,
    Rate(f64),
}

impl Pace {
    /// Waits until the job after `sent` is due.
    async fn wait(self, t0: Instant, sent: usize) {
        if let Pace::Rate(rate) = self {
            let due = t0 + Duration::from_secs_f64(sent as f64 / rate.max(1.0));
            tokio::time::sleep_until(due.into()).await;
        }
    }
}

/// Waits until `done` says every job finished, or the limit passes.
async fn drain<F, Fut>(what: &str, done: F) -> Result<()>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<bool>>,
{
    let deadline = Instant::now() + DRAIN_LIMIT;
    while !done().await? {
        if Instant::now() > deadline {
            bail!(
                "{what}: the jobs did not finish within {} s",
                DRAIN_LIMIT.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

/// Rapport's queue: enqueue `n` jobs (paced) while one runner runs them; the clock stops when
/// every job is done.
async fn rapport_run(store: &Store, args: &JobsArgs, n: usize, pace: Pace) -> Result<Figures> {
    let load = bench::load_average();
    let marks = Arc::new(Marks::new(n));
    let runner = {
        let marks = marks.clone();
        Runner::new(store.clone(), "bench")
            .queue(QueueConfig::new(QUEUE, args.concurrency))
            .handle("noop", move |ctx: JobCtx| {
                let marks = marks.clone();
                async move {
                    if let Some(i) = ctx.job.payload.get("i").and_then(|i| i.as_u64()) {
                        marks.started(i);
                    }
                    Ok(())
                }
            })
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(async move { runner.run(stopped).await });
    let mut sent = 0;
    while sent < n {
        pace.wait(marks.t0, sent).await;
        let end = (sent + args.batch).min(n);
        let batch: Vec<NewJob> = (sent..end)
            .map(|i| NewJob::new(QUEUE, "noop", json!({ "i": i })))
            .collect();
        jobs::enqueue_now(store, &batch).await?;
        marks.enqueued(sent..end);
        sent = end;
    }
    let counted = |marks: &Marks| marks.count.load(Relaxed) >= n as u64;
    drain("Rapport", || {
        let marks = marks.clone();
        async move {
            if !counted(&marks) {
                return Ok(false);
            }
            let open = store
                .db
                .fetch_optional(
                    "SELECT COUNT(*) FROM jobs WHERE queue = 'bench' AND state IN ('pending', 'running', 'failed')",
                    &[],
                    &[ColumnKind::Int],
                )
                .await?
                .map_or(Ok(0), |r| r.int(0))?;
            Ok(open == 0)
        }
    })
    .await?;
    let elapsed = marks.t0.elapsed();
    let _ = stop.send(true);
    running.await.context("the runner stopped")?;
    let failed = store
        .db
        .fetch_optional(
            "SELECT COUNT(*) FROM jobs WHERE queue = 'bench' AND state <> 'done'",
            &[],
            &[ColumnKind::Int],
        )
        .await?
        .map_or(Ok(0), |r| r.int(0))?;
    if failed > 0 {
        bail!("{failed} bench jobs did not end done");
    }
    store
        .db
        .execute("DELETE FROM jobs WHERE queue = 'bench'", &[])
        .await?;
    Ok(Figures::of(&marks, n, elapsed, load))
}

/// The bare queue: the same producer inserts rows; consumers claim and delete them.
async fn bare_run(store: &Store, args: &JobsArgs, n: usize, pace: Pace) -> Result<Figures> {
    let load = bench::load_average();
    let d = store.db.dialect();
    let marks = Arc::new(Marks::new(n));
    let (wake, woken) = tokio::sync::watch::channel(0_u64);
    let consumers = match d {
        Dialect::Sqlite => 1,
        Dialect::Postgres => 4,
    };
    let claim = (args.concurrency / consumers).max(1);
    let mut tasks = Vec::new();
    for _ in 0..consumers {
        let (store, marks, mut woken) = (store.clone(), marks.clone(), woken.clone());
        tasks.push(tokio::spawn(async move {
            while marks.count.load(Relaxed) < n as u64 {
                let ids = bare_claim(&store, claim).await?;
                for i in &ids {
                    marks.started(*i);
                }
                if ids.is_empty() {
                    let _ = tokio::time::timeout(Duration::from_millis(200), woken.changed()).await;
                }
            }
            anyhow::Ok(())
        }));
    }
    let mut sent = 0;
    while sent < n {
        pace.wait(marks.t0, sent).await;
        let end = (sent + args.batch).min(n);
        let rows: Vec<String> = (sent..end)
            .map(|i| {
                let payload = match d {
                    Dialect::Sqlite => format!("'{{\"i\": {i}}}'"),
                    Dialect::Postgres => format!("'{{\"i\": {i}}}'::jsonb"),
                };
                format!("({payload}, {})", store.now().timestamp_millis())
            })
            .collect();
        let mut tx = store.db.begin().await?;
        tx.execute(
            &format!(
                "INSERT INTO {BARE} (payload, created_at) VALUES {}",
                rows.join(", ")
            ),
            &[],
        )
        .await?;
        tx.commit().await?;
        marks.enqueued(sent..end);
        wake.send_modify(|v| *v += 1);
        sent = end;
    }
    for task in tasks {
        task.await.context("a bare consumer stopped")??;
    }
    let elapsed = marks.t0.elapsed();
    Ok(Figures::of(&marks, n, elapsed, load))
}

/// Claims and deletes up to `n` rows of the bare queue; returns their payloads' `i`.
async fn bare_claim(store: &Store, n: usize) -> Result<Vec<u64>> {
    let index = |r: &rapport_store::Row, column: usize| -> Result<Option<u64>> {
        Ok(r.json(column)?.get("i").and_then(|i| i.as_u64()))
    };
    match store.db.dialect() {
        Dialect::Sqlite => store
            .db
            .write_returning(
                &format!(
                    "DELETE FROM {BARE} WHERE id IN (SELECT id FROM {BARE} ORDER BY id LIMIT {n}) RETURNING payload"
                ),
                &[],
                &[ColumnKind::Json],
            )
            .await?
            .iter()
            .filter_map(|r| index(r, 0).transpose())
            .collect(),
        Dialect::Postgres => {
            let mut tx = store.db.begin().await?;
            let rows = tx
                .fetch_all(
                    &format!(
                        "SELECT id, payload FROM {BARE} ORDER BY id LIMIT {n} FOR UPDATE SKIP LOCKED"
                    ),
                    &[],
                    &[ColumnKind::Int, ColumnKind::Json],
                )
                .await?;
            if !rows.is_empty() {
                let ids: Vec<SqlParam> = rows
                    .iter()
                    .map(|r| r.int(0).map(SqlParam::Int))
                    .collect::<Result<_, _>>()?;
                let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
                tx.execute(
                    &format!("DELETE FROM {BARE} WHERE id IN ({})", marks.join(", ")),
                    &ids,
                )
                .await?;
            }
            tx.commit().await?;
            rows.iter()
                .filter_map(|r| index(r, 1).transpose())
                .collect()
        }
    }
}

pub async fn run(args: JobsArgs) -> Result<()> {
    if args.jobs == 0 || args.batch == 0 || args.concurrency == 0 || args.paced_secs == 0 {
        bail!("--jobs, --batch, --concurrency and --paced-secs must be positive");
    }
    if args.batch > 1_000 {
        bail!("--batch goes up to 1,000");
    }
    let store = args.storage.open().await?;
    let d = store.db.dialect();
    let backend = match d {
        Dialect::Sqlite => "SQLite",
        Dialect::Postgres => "PostgreSQL",
    };
    let version = bench::db_version(&bench::Bare::of(&store.db)).await;
    store
        .db
        .execute(&format!("DROP TABLE IF EXISTS {BARE}"), &[])
        .await?;
    store
        .db
        .execute(
            &match d {
                Dialect::Sqlite => format!(
                    "CREATE TABLE {BARE} (id INTEGER PRIMARY KEY, payload TEXT NOT NULL, created_at INTEGER NOT NULL)"
                ),
                Dialect::Postgres => format!(
                    "CREATE TABLE {BARE} (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, payload JSONB NOT NULL, created_at BIGINT NOT NULL)"
                ),
            },
            &[],
        )
        .await?;
    store
        .db
        .execute("DELETE FROM jobs WHERE queue = 'bench'", &[])
        .await?;
    println!(
        "{backend}: {} no-op jobs in transactions of {}, {} at once; then {} s paced at half the rate",
        args.jobs, args.batch, args.concurrency, args.paced_secs
    );
    // A short warm-up of each queue (connections, prepared statements, caches).
    rapport_run(&store, &args, args.jobs.min(2_000), Pace::Flat).await?;
    bare_run(&store, &args, args.jobs.min(2_000), Pace::Flat).await?;

    let rapport = rapport_run(&store, &args, args.jobs, Pace::Flat).await?;
    println!("Rapport, saturated: {:.0} jobs/s", rapport.per_sec());
    let bare = bare_run(&store, &args, args.jobs, Pace::Flat).await?;
    println!("bare, saturated: {:.0} jobs/s", bare.per_sec());
    let paced = |f: &Figures| {
        let rate = (f.per_sec() / 2.0).max(1.0);
        let n = ((rate * args.paced_secs as f64) as usize).max(args.batch);
        (rate, n)
    };
    let (rapport_rate, n) = paced(&rapport);
    let rapport_paced = rapport_run(&store, &args, n, Pace::Rate(rapport_rate)).await?;
    println!(
        "Rapport, paced at {rapport_rate:.0}/s: p50 {} p99 {}",
        bench::ms(rapport_paced.p50_us),
        bench::ms(rapport_paced.p99_us)
    );
    let (bare_rate, n) = paced(&bare);
    let bare_paced = bare_run(&store, &args, n, Pace::Rate(bare_rate)).await?;
    println!(
        "bare, paced at {bare_rate:.0}/s: p50 {} p99 {}",
        bench::ms(bare_paced.p50_us),
        bench::ms(bare_paced.p99_us)
    );
    store.db.execute(&format!("DROP TABLE {BARE}"), &[]).await?;
    let md = report(
        &args,
        backend,
        &version,
        [
            ("Rapport `jobs`, saturated", &rapport, None),
            ("bare queue, saturated", &bare, None),
            ("Rapport `jobs`, paced", &rapport_paced, Some(rapport_rate)),
            ("bare queue, paced", &bare_paced, Some(bare_rate)),
        ],
    );
    bench::publish(&md, args.out.as_deref())?;
    store.db.close().await;
    Ok(())
}

fn report(
    args: &JobsArgs,
    backend: &str,
    version: &str,
    runs: [(&str, &Figures, Option<f64>); 4],
) -> String {
    let mut md = String::new();
    let now = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let _ = writeln!(md, "## Jobs, {backend}: {now}\n");
    if let Some(note) = &args.note {
        let _ = writeln!(md, "> {note}\n");
    }
    let _ = writeln!(md, "- Machine: {}", bench::machine());
    let _ = writeln!(
        md,
        "- 1-minute load average at the start of each run: {}",
        runs.iter()
            .map(|(_, f, _)| f.load.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(md, "- Database: {version}; build profile: {profile}");
    let _ = writeln!(
        md,
        "- Load: one producer enqueues no-op jobs in transactions of {} (`jobs::enqueue_now`: one multi-row `INSERT`, then a wake-up of the runner); one `Runner` runs them with {} slots (claims `UPDATE … RETURNING` of due jobs, {}; a heartbeat; completions settled in batches). The bare queue: the same producer's multi-row `INSERT` into a table (id, payload, created_at), {}. Saturated runs enqueue {} jobs as fast as the producer can and count from the first enqueue to the last completion; paced runs enqueue at half that queue's saturated rate for {} s",
        args.batch,
        args.concurrency,
        if backend == "SQLite" { "on the single writer" } else { "`FOR UPDATE SKIP LOCKED`" },
        if backend == "SQLite" {
            format!("one consumer deleting the oldest {} rows per statement (`DELETE … RETURNING` on the single writer)", args.concurrency)
        } else {
            format!("four consumers, each `SELECT … FOR UPDATE SKIP LOCKED LIMIT {}` then `DELETE` in one transaction", (args.concurrency / 4).max(1))
        },
        args.jobs,
        args.paced_secs
    );
    let _ = writeln!(
        md,
        "- Latency: from the enqueueing transaction's commit to the handler's start (bare: to the claim's return)\n"
    );
    let _ = writeln!(md, "| run | jobs | jobs/s | enqueue→start p50 | p99 |");
    let _ = writeln!(md, "|---|---:|---:|---:|---:|");
    for (name, f, rate) in &runs {
        let _ = writeln!(
            md,
            "| {name}{} | {} | {:.0} | {} | {} |",
            rate.map(|r| format!(" at {r:.0}/s")).unwrap_or_default(),
            f.jobs,
            f.per_sec(),
            bench::ms(f.p50_us),
            bench::ms(f.p99_us)
        );
    }
    let (saturated, bare, paced) = (runs[0].1, runs[1].1, runs[2].1);
    let _ = writeln!(
        md,
        "\nRapport ÷ bare (saturated throughput): {:.2}×. The bare queue keeps nothing: no attempts, leases, retries, idempotency keys, history or admin view; a claimed row is gone.\n",
        saturated.per_sec() / bare.per_sec().max(0.001)
    );
    let _ = writeln!(md, "Goals (2 cores):\n");
    let _ = writeln!(
        md,
        "- ≥ 10,000 jobs/s: {:.0}/s: {}",
        saturated.per_sec(),
        bench::met(saturated.per_sec() >= 10_000.0)
    );
    let _ = writeln!(
        md,
        "- p50 enqueue→start < 5 ms (paced): {}: {}\n",
        bench::ms(paced.p50_us),
        bench::met(paced.p50_us < 5_000 && paced.jobs > 0)
    );
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_pair_enqueue_and_start() {
        let marks = Marks::new(4);
        marks.enqueued(0..2);
        marks.started(1);
        marks.started(1);
        marks.started(9);
        assert_eq!(marks.count.load(Relaxed), 1);
        assert_eq!(marks.latencies().len(), 1);
        assert_eq!(percentile(&[1, 2, 3, 4], 0.5), 2);
        assert_eq!(percentile(&[1, 2, 3, 4], 0.99), 4);
        assert_eq!(percentile(&[], 0.5), 0);
    }
}
