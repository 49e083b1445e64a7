//! Durable jobs on both backends: retries follow the backoff on the manual clock and a job goes
//! dead after its last attempt (kept with every error; retry gives it one more); a permanent
//! failure is dead at once; idempotency keys return the existing job; a rolled-back
//! transaction leaves no job; cancelling a pending job stops it and a running job is told; a
//! queue's concurrency cap holds; a busy runner still stops when told; two runners over one database complete every job exactly
//! once; a lease that runs out (its runner gone) is reaped and the job runs again, while the
//! stale attempt can no longer complete it.

use super::support::{open_store, postgres_url, PgDatabase};
use chrono::Duration;
use rapport_core::{ErrorCode, ManualClock};
use rapport_store::jobs::{
    self, Backoff, Enqueued, JobCtx, JobError, JobFilter, JobState, NewJob, QueueConfig, Runner,
    Scope,
};
use rapport_store::{Db, Store, StoreError};
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

const WS: &str = "w1";

fn job(kind: &str, n: usize) -> NewJob {
    NewJob::new("mail", kind, json!({ "n": n })).workspace(WS)
}

async fn state(store: &Store, id: &str) -> JobState {
    jobs::get(store, Scope::Workspace(WS), id)
        .await
        .unwrap()
        .job
        .state
}

async fn effects(store: &Store) -> Vec<(String, i64)> {
    store
        .db
        .fetch_all(
            "SELECT job_id, COUNT(*) FROM job_effects GROUP BY job_id ORDER BY job_id",
            &[],
            &[
                rapport_core::sql::ColumnKind::Text,
                rapport_core::sql::ColumnKind::Int,
            ],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.text(0).unwrap(), r.int(1).unwrap()))
        .collect()
}

/// A handler that writes an effect row and completes its job in the same transaction.
async fn effect(ctx: JobCtx) -> Result<(), JobError> {
    let mut tx = ctx.begin().await?;
    let ph = ctx.store().ph(1);
    tx.execute(
        &format!("INSERT INTO job_effects (job_id) VALUES ({ph})"),
        &[rapport_core::sql::SqlParam::Text(ctx.job.id.clone())],
    )
    .await?;
    ctx.complete(tx).await
}

async fn retries_backoff_and_dead_letter(store: &Store, clock: &ManualClock) {
    let healthy = Arc::new(AtomicBool::new(false));
    let runs = Arc::new(AtomicUsize::new(0));
    let backoff = Backoff {
        base: Duration::seconds(10),
        max: Duration::hours(1),
    };
    let runner = {
        let healthy = healthy.clone();
        let runs = runs.clone();
        Runner::new(store.clone(), "node-a")
            .queue(QueueConfig::new("mail", 4).backoff(backoff))
            .handle("send", move |_ctx: JobCtx| {
                let healthy = healthy.clone();
                let runs = runs.clone();
                async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    if healthy.load(Ordering::SeqCst) {
                        Ok(())
                    } else {
                        Err(JobError::retry("smtp said <img src=x onerror=alert(1)>"))
                    }
                }
            })
            .handle("bad", |_ctx: JobCtx| async {
                Err(JobError::permanent("the address does not exist"))
            })
    };
    let id = jobs::enqueue_now(store, &[job("send", 1).max_attempts(3)])
        .await
        .unwrap()[0]
        .id()
        .to_string();

    // Attempt 1 fails: due again after 5 to 10 s (half the step plus jitter).
    let tick = runner.run_once().await.unwrap();
    assert_eq!((tick.claimed, tick.failed), (1, 1), "{tick:?}");
    let detail = jobs::get(store, Scope::Workspace(WS), &id).await.unwrap();
    assert_eq!(detail.job.state, JobState::Failed);
    let wait = detail.job.run_at - store.now();
    assert!(
        wait >= Duration::seconds(5) && wait <= Duration::seconds(10),
        "{wait}"
    );
    assert_eq!(wait, backoff.delay(&id, 1));
    assert_eq!(
        detail.job.last_error.as_deref(),
        Some("smtp said <img src=x onerror=alert(1)>")
    );
    // Not before its time.
    clock.advance(wait - Duration::milliseconds(1));
    assert_eq!(runner.run_once().await.unwrap().claimed, 0);
    clock.advance(Duration::milliseconds(1));
    // Attempt 2 fails: the step doubles (10 to 20 s).
    assert_eq!(runner.run_once().await.unwrap().failed, 1);
    let detail = jobs::get(store, Scope::Workspace(WS), &id).await.unwrap();
    let wait = detail.job.run_at - store.now();
    assert!(
        wait >= Duration::seconds(10) && wait <= Duration::seconds(20),
        "{wait}"
    );
    assert_eq!(wait, backoff.delay(&id, 2));
    clock.advance(wait);
    // Attempt 3 is the last: dead, with every attempt's error kept.
    let tick = runner.run_once().await.unwrap();
    assert_eq!((tick.failed, tick.dead), (0, 1), "{tick:?}");
    let detail = jobs::get(store, Scope::Workspace(WS), &id).await.unwrap();
    assert_eq!(detail.job.state, JobState::Dead);
    assert_eq!(detail.job.attempts, 3);
    assert!(detail.job.finished_at.is_some());
    let outcomes: Vec<(i32, &str, Option<&str>)> = detail
        .history
        .iter()
        .map(|a| (a.attempt, a.outcome.as_str(), a.node.as_deref()))
        .collect();
    assert_eq!(
        outcomes,
        vec![
            (1, "failed", Some("node-a")),
            (2, "failed", Some("node-a")),
            (3, "failed", Some("node-a"))
        ]
    );
    // A dead job never runs again by itself.
    clock.advance(Duration::days(1));
    assert_eq!(runner.run_once().await.unwrap().claimed, 0);
    assert_eq!(runs.load(Ordering::SeqCst), 3);

    // Only dead, failed jobs can be retried; retry gives a dead one one more attempt, now.
    let discard_running = jobs::discard(store, Scope::Workspace(WS), "nope").await;
    assert!(matches!(discard_running, Err(StoreError::NotFound { .. })));
    let retried = jobs::retry(store, Scope::Workspace(WS), &id).await.unwrap();
    assert_eq!(retried.job.state, JobState::Pending);
    assert_eq!(retried.job.max_attempts, 4);
    assert_eq!(retried.job.run_at, store.now());
    let again = jobs::retry(store, Scope::Workspace(WS), &id).await;
    assert!(
        matches!(
            again,
            Err(StoreError::Conflict {
                code: ErrorCode::JobNotRetryable,
                ..
            })
        ),
        "{again:?}"
    );
    healthy.store(true, Ordering::SeqCst);
    assert_eq!(runner.run_once().await.unwrap().done, 1);
    let detail = jobs::get(store, Scope::Workspace(WS), &id).await.unwrap();
    assert_eq!(detail.job.state, JobState::Done);
    assert_eq!(detail.history.len(), 4);
    assert_eq!(detail.history[3].outcome, "done");
    let discard_done = jobs::discard(store, Scope::Workspace(WS), &id).await;
    assert!(matches!(
        discard_done,
        Err(StoreError::Conflict {
            code: ErrorCode::JobNotDiscardable,
            ..
        })
    ));

    // A permanent failure is dead at once, whatever attempts remain; then it can be discarded.
    let bad = jobs::enqueue_now(store, &[job("bad", 2)]).await.unwrap()[0]
        .id()
        .to_string();
    assert_eq!(runner.run_once().await.unwrap().dead, 1);
    assert_eq!(state(store, &bad).await, JobState::Dead);
    // Another workspace sees neither job.
    assert!(matches!(
        jobs::get(store, Scope::Workspace("w2"), &bad).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        jobs::discard(store, Scope::Workspace("w2"), &bad).await,
        Err(StoreError::NotFound { .. })
    ));
    jobs::discard(store, Scope::Workspace(WS), &bad)
        .await
        .unwrap();
    assert!(matches!(
        jobs::get(store, Scope::Workspace(WS), &bad).await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn idempotency_and_rollback(store: &Store) {
    let keyed = |n| job("send", n).idempotency_key("w1:order-7");
    let first = jobs::enqueue_now(store, &[keyed(1)]).await.unwrap();
    let Enqueued::Created(id) = &first[0] else {
        panic!("{first:?}")
    };
    // The same key again, alone and twice in one batch: the existing job.
    let again = jobs::enqueue_now(store, &[keyed(2), job("send", 3), keyed(4)])
        .await
        .unwrap();
    assert_eq!(again[0], Enqueued::Duplicate(id.clone()));
    assert!(matches!(again[1], Enqueued::Created(_)));
    assert_eq!(again[2], Enqueued::Duplicate(id.clone()));
    // The payload is the first enqueuer's.
    let detail = jobs::get(store, Scope::Workspace(WS), id).await.unwrap();
    assert_eq!(detail.job.payload, json!({ "n": 1 }));
    // Keys are per queue.
    let other = jobs::enqueue_now(
        store,
        &[NewJob::new("sms", "send", json!({})).idempotency_key("w1:order-7")],
    )
    .await
    .unwrap();
    assert!(matches!(other[0], Enqueued::Created(_)));
    // Still deduplicated once the job is done.
    Runner::new(store.clone(), "n")
        .queue(QueueConfig::new("mail", 10))
        .handle("send", |_ctx: JobCtx| async { Ok(()) })
        .run_once()
        .await
        .unwrap();
    assert_eq!(state(store, id).await, JobState::Done);
    let after = jobs::enqueue_now(store, &[keyed(5)]).await.unwrap();
    assert_eq!(after[0], Enqueued::Duplicate(id.clone()));

    // Bad names are refused.
    for bad in [
        NewJob::new("", "k", json!({})),
        NewJob::new("Mail", "k", json!({})),
        NewJob::new("mail", "k k", json!({})),
        NewJob::new("mail", "k", json!({})).max_attempts(0),
        NewJob::new("mail", "k", json!({})).idempotency_key(""),
    ] {
        let refused = jobs::enqueue_now(store, &[bad]).await;
        assert!(
            matches!(
                refused,
                Err(StoreError::BadRequest {
                    code: ErrorCode::InvalidJob,
                    ..
                })
            ),
            "{refused:?}"
        );
    }

    // A job enqueued in a transaction that rolls back does not exist; one that commits does.
    let before = jobs::list(store, Scope::Workspace(WS), &JobFilter::default())
        .await
        .unwrap()
        .jobs
        .len();
    let mut tx = store.db.begin().await.unwrap();
    let lost = jobs::enqueue(store, &mut tx, &[job("send", 9)])
        .await
        .unwrap();
    drop(tx);
    assert!(matches!(
        jobs::get(store, Scope::Workspace(WS), lost[0].id()).await,
        Err(StoreError::NotFound { .. })
    ));
    let mut tx = store.db.begin().await.unwrap();
    let kept = jobs::enqueue(store, &mut tx, &[job("send", 10)])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(state(store, kept[0].id()).await, JobState::Pending);
    let page = jobs::list(store, Scope::Workspace(WS), &JobFilter::default())
        .await
        .unwrap();
    assert_eq!(page.jobs.len(), before + 1);
    assert_eq!(page.jobs[0].id, kept[0].id(), "newest first");

    // Keyset pages cover the list once, in order; filters by queue and state.
    let mut seen = Vec::new();
    let mut before_id = None;
    loop {
        let page = jobs::list(
            store,
            Scope::Workspace(WS),
            &JobFilter {
                before: before_id.clone(),
                limit: Some(2),
                ..JobFilter::default()
            },
        )
        .await
        .unwrap();
        seen.extend(page.jobs.iter().map(|j| j.id.clone()));
        match page.next {
            Some(next) => before_id = Some(next),
            None => break,
        }
    }
    let all = jobs::list(
        store,
        Scope::Workspace(WS),
        &JobFilter {
            limit: Some(200),
            ..JobFilter::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        seen,
        all.jobs.iter().map(|j| j.id.clone()).collect::<Vec<_>>()
    );
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted);
    let pending = jobs::list(
        store,
        Scope::Workspace(WS),
        &JobFilter {
            state: Some(JobState::Pending),
            queue: Some("mail".into()),
            ..JobFilter::default()
        },
    )
    .await
    .unwrap();
    assert!(pending
        .jobs
        .iter()
        .all(|j| j.state == JobState::Pending && j.queue == "mail"));
    assert!(!pending.jobs.is_empty());
    // The system job (sms) is not the workspace's.
    let counts = jobs::queues(store, Scope::Workspace(WS)).await.unwrap();
    assert_eq!(
        counts.iter().map(|q| q.queue.as_str()).collect::<Vec<_>>(),
        vec!["mail"]
    );
    let system = jobs::queues(store, Scope::System).await.unwrap();
    assert_eq!(system.len(), 1);
    assert_eq!((system[0].queue.as_str(), system[0].pending), ("sms", 1));
}

async fn cancellation(store: &Store) {
    let ran = Arc::new(AtomicUsize::new(0));
    let runner = {
        let ran = ran.clone();
        Runner::new(store.clone(), "n")
            // Heartbeats every 100 ms of real time carry the cancellation to the handler.
            .lease(Duration::milliseconds(300))
            .queue(QueueConfig::new("cancel", 2))
            .handle("slow", move |ctx: JobCtx| {
                let ran = ran.clone();
                async move {
                    ran.fetch_add(1, Ordering::SeqCst);
                    let told =
                        tokio::time::timeout(std::time::Duration::from_secs(60), ctx.stopped())
                            .await;
                    if told.is_ok() && ctx.cancel_requested() {
                        ran.fetch_add(100, Ordering::SeqCst);
                    }
                    Err(JobError::retry("stopped on request"))
                }
            })
    };
    let ws = |n: usize| NewJob::new("cancel", "slow", json!({ "n": n })).workspace(WS);
    let ids: Vec<String> = jobs::enqueue_now(store, &[ws(1)])
        .await
        .unwrap()
        .iter()
        .map(|e| e.id().to_string())
        .collect();
    // A pending job cancelled never runs.
    let cancelled = jobs::cancel(store, Scope::Workspace(WS), &ids[0])
        .await
        .unwrap();
    assert_eq!(cancelled.job.state, JobState::Cancelled);
    let twice = jobs::cancel(store, Scope::Workspace(WS), &ids[0]).await;
    assert!(matches!(
        twice,
        Err(StoreError::Conflict {
            code: ErrorCode::JobFinished,
            ..
        })
    ));
    assert_eq!(runner.run_once().await.unwrap().claimed, 0);
    assert_eq!(ran.load(Ordering::SeqCst), 0);

    // A running job is told, and ends cancelled (not retried).
    let id = jobs::enqueue_now(store, &[ws(2)]).await.unwrap()[0]
        .id()
        .to_string();
    let tick = tokio::spawn(async move { runner.run_once().await });
    for _ in 0..600 {
        if state(store, &id).await == JobState::Running {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let asked = jobs::cancel(store, Scope::Workspace(WS), &id)
        .await
        .unwrap();
    assert_eq!(asked.job.state, JobState::Running);
    assert!(asked.job.cancel_requested);
    let tick = tick.await.unwrap().unwrap();
    assert_eq!(tick.cancelled, 1, "{tick:?}");
    assert_eq!(
        ran.load(Ordering::SeqCst),
        101,
        "the handler ran once and was told"
    );
    let detail = jobs::get(store, Scope::Workspace(WS), &id).await.unwrap();
    assert_eq!(detail.job.state, JobState::Cancelled);
    assert_eq!(detail.history[0].outcome, "cancelled");
    jobs::discard(store, Scope::Workspace(WS), &id)
        .await
        .unwrap();
}

async fn concurrency_cap(store: &Store) {
    let now = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let runner = {
        let (now, most) = (now.clone(), most.clone());
        Runner::new(store.clone(), "n")
            .poll_interval(std::time::Duration::from_millis(5))
            .queue(QueueConfig::new("capped", 3))
            .handle("work", move |_ctx: JobCtx| {
                let (now, most) = (now.clone(), most.clone());
                async move {
                    let running = now.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(running, Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    now.fetch_sub(1, Ordering::SeqCst);
                    Ok(())
                }
            })
    };
    let batch: Vec<NewJob> = (0..12)
        .map(|n| NewJob::new("capped", "work", json!({ "n": n })).workspace(WS))
        .collect();
    let ids: Vec<String> = jobs::enqueue_now(store, &batch)
        .await
        .unwrap()
        .iter()
        .map(|e| e.id().to_string())
        .collect();
    // One tick claims no more than the cap.
    let tick = runner.run_once().await.unwrap();
    assert_eq!((tick.claimed, tick.done), (3, 3));
    // The loop never runs more than the cap at once either, and runs them all.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(async move { runner.run(stopped).await });
    for _ in 0..1000 {
        let page = jobs::list(
            store,
            Scope::Workspace(WS),
            &JobFilter {
                queue: Some("capped".into()),
                state: Some(JobState::Done),
                limit: Some(200),
                ..JobFilter::default()
            },
        )
        .await
        .unwrap();
        if page.jobs.len() == ids.len() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    stop.send(true).unwrap();
    running.await.unwrap();
    for id in &ids {
        assert_eq!(state(store, id).await, JobState::Done);
    }
    assert_eq!(most.load(Ordering::SeqCst), 3);
}

/// A runner kept busy by a backlog still hears its shutdown: it stops claiming, finishes what
/// it runs and leaves the rest queued.
async fn shutdown_under_load(store: &Store) {
    let batch: Vec<NewJob> = (0..3000)
        .map(|n| NewJob::new("backlog", "quick", json!({ "n": n })).workspace(WS))
        .collect();
    jobs::enqueue_now(store, &batch).await.unwrap();
    let ran = Arc::new(AtomicUsize::new(0));
    let runner = {
        let ran = ran.clone();
        Runner::new(store.clone(), "n")
            .queue(QueueConfig::new("backlog", 2))
            .handle("quick", move |_ctx: JobCtx| {
                let ran = ran.clone();
                async move {
                    ran.fetch_add(1, Ordering::SeqCst);
                    // A few milliseconds each: the backlog lasts seconds, so the test's stop
                    // (sent after ten) arrives mid-backlog even when this task is starved on a
                    // busy machine (at full speed the 3,000 jobs once ran before it woke).
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                    Ok(())
                }
            })
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(async move { runner.run(stopped).await });
    while ran.load(Ordering::SeqCst) < 10 {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    stop.send(true).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(60), running)
        .await
        .expect("the runner stops")
        .unwrap();
    let counts = jobs::queues(store, Scope::Workspace(WS)).await.unwrap();
    let backlog = counts.iter().find(|q| q.queue == "backlog").unwrap();
    assert_eq!(backlog.running, 0, "{backlog:?}");
    assert!(
        backlog.pending > 0,
        "the runner drained the backlog instead of stopping: {backlog:?}"
    );
    assert_eq!(
        backlog.done,
        i64::try_from(ran.load(Ordering::SeqCst)).unwrap()
    );
}

/// Two runners over one database (two nodes) drain 300 jobs: each completes exactly once.
async fn two_runners(a: &Store, b: &Store) {
    let batch: Vec<NewJob> = (0..300)
        .map(|n| NewJob::new("fx", "effect", json!({ "n": n })).workspace(WS))
        .collect();
    jobs::enqueue_now(a, &batch).await.unwrap();
    let node = |store: &Store, name: &str| {
        Runner::new(store.clone(), name)
            .poll_interval(std::time::Duration::from_millis(2))
            .queue(QueueConfig::new("fx", 8))
            .handle("effect", effect)
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let (ra, rb) = (node(a, "node-a"), node(b, "node-b"));
    let (sa, sb) = (stopped.clone(), stopped);
    let left = tokio::spawn(async move { ra.run(sa).await });
    let right = tokio::spawn(async move { rb.run(sb).await });
    for _ in 0..3000 {
        if effects(a).await.len() == 300 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    stop.send(true).unwrap();
    left.await.unwrap();
    right.await.unwrap();
    let done = effects(a).await;
    assert_eq!(done.len(), 300, "every job ran");
    assert!(done.iter().all(|(_, n)| *n == 1), "a job completed twice");
    let nodes: std::collections::BTreeSet<String> = jobs::list(
        a,
        Scope::Workspace(WS),
        &JobFilter {
            queue: Some("fx".into()),
            limit: Some(200),
            ..JobFilter::default()
        },
    )
    .await
    .unwrap()
    .jobs
    .into_iter()
    .filter_map(|j| {
        assert_eq!(j.state, JobState::Done);
        j.node
    })
    .collect();
    assert!(!nodes.is_empty());
}

/// A runner that stops heart-beating (gone) loses its jobs when the lease runs out: another
/// reaps and runs them, and the stale attempt can no longer complete its job.
async fn lease_expiry(a: &Store, b: &Store, clock: &ManualClock) {
    let release = Arc::new(tokio::sync::Notify::new());
    let id = jobs::enqueue_now(
        a,
        &[NewJob::new("lease", "effect", json!({})).workspace(WS)],
    )
    .await
    .unwrap()[0]
        .id()
        .to_string();
    // Node A: a one-hour lease, so it will not heart-beat during the test; its handler waits
    // for the test before writing its effect and completing.
    let stale = {
        let release = release.clone();
        Runner::new(a.clone(), "node-a")
            .lease(Duration::hours(1))
            .queue(QueueConfig::new("lease", 1))
            .handle("effect", move |ctx: JobCtx| {
                let release = release.clone();
                async move {
                    release.notified().await;
                    effect(ctx).await
                }
            })
    };
    let stale = tokio::spawn(async move { stale.run_once().await });
    for _ in 0..600 {
        if state(a, &id).await == JobState::Running {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // Before the lease runs out nobody else takes it.
    let fresh = Runner::new(b.clone(), "node-b")
        .queue(QueueConfig::new("lease", 1))
        .handle("effect", effect);
    assert_eq!(fresh.run_once().await.unwrap(), jobs::Tick::default());
    clock.advance(Duration::hours(1) + Duration::seconds(1));
    let tick = fresh.run_once().await.unwrap();
    assert_eq!(
        (tick.reaped, tick.claimed, tick.done),
        (1, 1, 1),
        "{tick:?}"
    );
    // The stale attempt finishes late: its completion is refused and its effect rolled back.
    release.notify_one();
    let late = stale.await.unwrap().unwrap();
    assert_eq!((late.done, late.failed, late.dead), (0, 0, 0), "{late:?}");
    let mine: Vec<(String, i64)> = effects(a)
        .await
        .into_iter()
        .filter(|(job, _)| *job == id)
        .collect();
    assert_eq!(mine, vec![(id.clone(), 1)]);
    let detail = jobs::get(a, Scope::Workspace(WS), &id).await.unwrap();
    assert_eq!(detail.job.state, JobState::Done);
    let history: Vec<(i32, &str, Option<&str>)> = detail
        .history
        .iter()
        .map(|h| (h.attempt, h.outcome.as_str(), h.node.as_deref()))
        .collect();
    assert_eq!(
        history,
        vec![(1, "lost", Some("node-a")), (2, "done", Some("node-b"))]
    );
}

async fn scenario(a: Store, b: Store, clock: Arc<ManualClock>) {
    a.db.execute("CREATE TABLE job_effects (job_id TEXT NOT NULL)", &[])
        .await
        .unwrap();
    retries_backoff_and_dead_letter(&a, &clock).await;
    idempotency_and_rollback(&a).await;
    cancellation(&a).await;
    concurrency_cap(&a).await;
    shutdown_under_load(&a).await;
    two_runners(&a, &b).await;
    lease_expiry(&a, &b, &clock).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let (a, clock) = open_store(Db::open_sqlite(dir.path()).await.unwrap()).await;
    let b = Store::new(Db::open_sqlite(dir.path()).await.unwrap(), clock.clone());
    scenario(a.clone(), b.clone(), clock).await;
    a.db.close().await;
    b.db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_postgres() {
    let Some(url) = postgres_url() else {
        eprintln!("skipped: RAPPORT_TEST_DATABASE_URL not set");
        return;
    };
    let database = PgDatabase::create(&url).await;
    let (a, clock) = open_store(Db::open_postgres(&database.url).await.unwrap()).await;
    let b = Store::new(
        Db::open_postgres(&database.url).await.unwrap(),
        clock.clone(),
    );
    scenario(a.clone(), b.clone(), clock).await;
    a.db.close().await;
    b.db.close().await;
    database.drop_database().await;
}
