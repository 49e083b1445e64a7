//! Jobs survive a node killed with SIGKILL: a child process runs a job runner over the database
//! (the binary runs no job workers yet, so the child is this test binary itself, started on its
//! ignored `child_runner` test) while it works through 120 jobs whose handler writes an effect
//! row and completes the job in one transaction; it is killed -9 mid-work, with jobs leased to
//! it. A second runner in this process must then finish every job: each job's lease runs out,
//! the lost attempt is written down, the job runs again, and in the end every job is done with
//! exactly one effect (none lost, none run twice to completion), while the jobs the child held
//! have a `lost` attempt in their history and started again.
//!
//! `kill9_sqlite` always runs; `kill9_postgres` runs when `RAPPORT_TEST_DATABASE_URL` is set.

use crate::server::{pg_admin_url, TestDatabase};
use rapport_core::sql::{ColumnKind, SqlParam};
use rapport_core::SystemClock;
use rapport_store::jobs::{self, JobCtx, JobError, JobState, NewJob, QueueConfig, Runner, Scope};
use rapport_store::{Db, Store};
use serde_json::json;
use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Tells the child test where the database is: `sqlite:<dir>` or a PostgreSQL URL.
const CHILD_ENV: &str = "RAPPORT_JOBS_CHILD_DATABASE";
const JOBS: usize = 120;
const WS: &str = "w-crash";
/// Short, so the survivor takes the dead child's jobs within seconds.
const LEASE_MS: i64 = 1_500;

async fn open(target: &str) -> Store {
    let db = match target.strip_prefix("sqlite:") {
        Some(dir) => Db::open_sqlite(std::path::Path::new(dir)).await,
        None => Db::open_postgres(target).await,
    }
    .expect("open the database");
    db.migrate().await.expect("migrate");
    Store::new(db, Arc::new(SystemClock))
}

/// Records that the job started (its own statement, so a killed attempt leaves it), waits
/// 300 ms, then writes the effect and completes the job in one transaction.
async fn handler(ctx: JobCtx, node: &'static str) -> Result<(), JobError> {
    let store = ctx.store().clone();
    store
        .db
        .execute(
            &format!(
                "INSERT INTO job_starts (job_id, node) VALUES ({}, {})",
                store.ph(1),
                store.ph(2)
            ),
            &[
                SqlParam::Text(ctx.job.id.clone()),
                SqlParam::Text(node.into()),
            ],
        )
        .await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut tx = ctx.begin().await?;
    tx.execute(
        &format!("INSERT INTO job_effects (job_id) VALUES ({})", store.ph(1)),
        &[SqlParam::Text(ctx.job.id.clone())],
    )
    .await?;
    ctx.complete(tx).await
}

fn runner(store: &Store, node: &'static str) -> Runner {
    Runner::new(store.clone(), node)
        .lease(chrono::Duration::milliseconds(LEASE_MS))
        .poll_interval(Duration::from_millis(20))
        .queue(QueueConfig::new("crash", 6))
        .handle("effect", move |ctx: JobCtx| handler(ctx, node))
}

/// The child node: runs jobs until it is killed (or, if nobody kills it, for a minute).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the child process of the kill -9 tests; runs only when they start it"]
async fn child_runner() {
    let Ok(target) = std::env::var(CHILD_ENV) else {
        return;
    };
    let store = open(&target).await;
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    let _ = tokio::time::timeout(
        Duration::from_secs(60),
        runner(&store, "child").run(stopped),
    )
    .await;
}

async fn count(store: &Store, sql: &str) -> i64 {
    store
        .db
        .fetch_optional(sql, &[], &[ColumnKind::Int])
        .await
        .expect("count")
        .map_or(0, |r| r.int(0).unwrap())
}

async fn per_job(store: &Store, table: &str) -> HashMap<String, i64> {
    store
        .db
        .fetch_all(
            &format!("SELECT job_id, COUNT(*) FROM {table} GROUP BY job_id"),
            &[],
            &[ColumnKind::Text, ColumnKind::Int],
        )
        .await
        .expect("per job")
        .iter()
        .map(|r| (r.text(0).unwrap(), r.int(1).unwrap()))
        .collect()
}

async fn scenario(target: String) {
    let store = open(&target).await;
    for table in ["job_effects", "job_starts"] {
        store
            .db
            .execute(
                &format!("CREATE TABLE {table} (job_id TEXT NOT NULL, node TEXT)"),
                &[],
            )
            .await
            .expect("create table");
    }
    let batch: Vec<NewJob> = (0..JOBS)
        .map(|n| NewJob::new("crash", "effect", json!({ "n": n })).workspace(WS))
        .collect();
    let ids: Vec<String> = jobs::enqueue_now(&store, &batch)
        .await
        .expect("enqueue")
        .iter()
        .map(|e| e.id().to_string())
        .collect();

    // The child works until some jobs are done and others are leased to it: then SIGKILL.
    let mut child = Command::new(std::env::current_exe().expect("this test binary"))
        .args(["--exact", "jobs::child_runner", "--ignored", "--nocapture"])
        .env(CHILD_ENV, &target)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the child runner");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let done = count(&store, "SELECT COUNT(*) FROM job_effects").await;
        // A leased job whose handler has started (and sleeps 300 ms before it completes).
        let started = count(
            &store,
            "SELECT COUNT(*) FROM jobs j WHERE j.state = 'running' \
             AND EXISTS (SELECT 1 FROM job_starts s WHERE s.job_id = j.id)",
        )
        .await;
        if done >= 20 && started > 0 {
            break;
        }
        assert!(
            child.try_wait().expect("poll the child").is_none(),
            "the child runner exited before it was killed"
        );
        assert!(Instant::now() < deadline, "the child never got going");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().expect("SIGKILL the child");
    child.wait().expect("reap the child");
    let held: Vec<String> = store
        .db
        .fetch_all(
            "SELECT id FROM jobs WHERE state = 'running'",
            &[],
            &[ColumnKind::Text],
        )
        .await
        .expect("leased jobs")
        .iter()
        .map(|r| r.text(0).unwrap())
        .collect();
    assert!(
        !held.is_empty(),
        "no job was leased to the child when it died"
    );
    let done_before = count(&store, "SELECT COUNT(*) FROM job_effects").await;
    assert!(done_before < JOBS as i64, "the child finished everything");

    // The survivor finishes every job, the dead child's leased ones once their leases run out.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let survivor = runner(&store, "survivor");
    let running = tokio::spawn(async move { survivor.run(stopped).await });
    let deadline = Instant::now() + Duration::from_secs(120);
    while count(&store, "SELECT COUNT(*) FROM jobs WHERE state = 'done'").await < JOBS as i64 {
        assert!(
            Instant::now() < deadline,
            "the survivor did not finish the jobs"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(true).expect("stop the survivor");
    running.await.expect("the survivor stopped");

    let effects = per_job(&store, "job_effects").await;
    let starts = per_job(&store, "job_starts").await;
    for id in &ids {
        assert_eq!(
            effects.get(id),
            Some(&1),
            "job {id}: effects {:?}",
            effects.get(id)
        );
    }
    assert_eq!(effects.len(), JOBS);
    // A held job may have been claimed without its handler starting yet; most did start.
    assert!(
        held.iter()
            .any(|id| starts.get(id).copied().unwrap_or(0) >= 2),
        "no job leased to the dead child started again: {starts:?}"
    );
    for id in &held {
        let detail = jobs::get(&store, Scope::Workspace(WS), id)
            .await
            .expect("the job");
        assert_eq!(detail.job.state, JobState::Done);
        assert!(
            detail
                .history
                .iter()
                .any(|a| a.outcome == "lost" && a.node.as_deref() == Some("child")),
            "job {id}: {:?}",
            detail.history
        );
        assert_eq!(
            detail.history.last().map(|a| a.outcome.as_str()),
            Some("done")
        );
        assert_eq!(detail.job.node.as_deref(), Some("survivor"));
    }
    store.db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    scenario(format!("sqlite:{}", dir.path().display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_postgres() {
    let Some(admin) = pg_admin_url() else {
        return;
    };
    let database = TestDatabase::create(&admin, "jobs_kill9").await;
    scenario(database.url.clone()).await;
    database.drop_now().await;
}
