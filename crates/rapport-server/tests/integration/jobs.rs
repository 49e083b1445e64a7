//! The job admin API: an administrator sees the workspace's queues with counts, lists jobs by
//! state, reads a dead job with every attempt's error, retries it, cancels a pending one and
//! discards a dead one — each audited; other roles are refused (and audited), other
//! workspaces' and system jobs are not found, and bad input is a 4xx with a stable code.

use crate::harness::{assert_error, Backend, TestServer};
use rapport_store::jobs::{self, JobCtx, JobError, NewJob, QueueConfig, Runner};
use serde_json::{json, Value};

crate::both_backends!(admins_manage_jobs);

fn codes(body: &Value) -> Vec<&str> {
    body.as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect()
}

async fn admins_manage_jobs(b: Backend) {
    let s = TestServer::start(b).await;
    let ws = s.workspace.id.clone();
    let job = |kind: &str, n: u32| {
        NewJob::new(
            "mail",
            kind,
            json!({ "n": n, "html": "<img src=x onerror=alert(1)>" }),
        )
        .workspace(ws.clone())
        .max_attempts(1)
    };
    let made = jobs::enqueue_now(&s.store, &[job("doomed", 1), job("later", 2)])
        .await
        .unwrap();
    let (dead, pending) = (made[0].id().to_string(), made[1].id().to_string());
    jobs::enqueue_now(&s.store, &[NewJob::new("system", "tidy", json!({}))])
        .await
        .unwrap();
    // The "doomed" job fails its only attempt and is dead.
    let tick = Runner::new(s.store.clone(), "test-node")
        .queue(QueueConfig::new("mail", 4))
        .handle("doomed", |_ctx: JobCtx| async {
            Err(JobError::retry("550 mailbox <b>unavailable</b>"))
        })
        .run_once()
        .await
        .unwrap();
    assert_eq!(tick.dead, 1, "{tick:?}");

    let (status, queues) = s.get("/api/v1/jobs/queues").await;
    assert_eq!(status, 200, "{queues}");
    assert_eq!(
        queues,
        json!([{ "queue": "mail", "pending": 1, "running": 0, "failed": 0, "done": 0, "dead": 1, "cancelled": 0 }])
    );
    let (status, page) = s.get("/api/v1/jobs?state=dead").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["jobs"].as_array().unwrap().len(), 1);
    assert_eq!(page["jobs"][0]["id"], json!(dead));
    assert_eq!(page["next"], Value::Null);
    let (status, one) = s.get(&format!("/api/v1/jobs/{dead}")).await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["state"], "dead");
    assert_eq!(one["last_error"], "550 mailbox <b>unavailable</b>");
    assert_eq!(one["history"][0]["outcome"], "failed");
    assert_eq!(one["history"][0]["node"], "test-node");
    assert_eq!(one["payload"]["html"], "<img src=x onerror=alert(1)>");
    // Paging: one per page, newest first, the cursor leads to the rest.
    let (_, first) = s.get("/api/v1/jobs?limit=1").await;
    assert_eq!(first["jobs"][0]["id"], json!(pending));
    let next = first["next"].as_str().unwrap().to_string();
    let (_, second) = s.get(&format!("/api/v1/jobs?limit=1&before={next}")).await;
    assert_eq!(second["jobs"][0]["id"], json!(dead));
    assert_eq!(second["next"], Value::Null);

    // Actions in the wrong state are 409 with stable codes.
    assert_error(
        &s.post(&format!("/api/v1/jobs/{pending}/retry"), json!({}))
            .await,
        409,
        "job_not_retryable",
    );
    assert_error(
        &s.delete(&format!("/api/v1/jobs/{pending}")).await,
        409,
        "job_not_discardable",
    );
    let (status, cancelled) = s
        .post(&format!("/api/v1/jobs/{pending}/cancel"), json!({}))
        .await;
    assert_eq!((status, &cancelled["state"]), (200, &json!("cancelled")));
    assert_error(
        &s.post(&format!("/api/v1/jobs/{pending}/cancel"), json!({}))
            .await,
        409,
        "job_finished",
    );
    let (status, retried) = s
        .post(&format!("/api/v1/jobs/{dead}/retry"), json!({}))
        .await;
    assert_eq!(status, 200, "{retried}");
    assert_eq!(retried["state"], "pending");
    assert_eq!(retried["max_attempts"], 2);
    assert_eq!(s.delete(&format!("/api/v1/jobs/{pending}")).await.0, 204);
    assert_error(
        &s.get(&format!("/api/v1/jobs/{pending}")).await,
        404,
        "not_found",
    );

    // Bad input and unknown jobs.
    assert_error(
        &s.get("/api/v1/jobs?state=stuck").await,
        400,
        "invalid_query",
    );
    assert_error(&s.get("/api/v1/jobs?limit=-1").await, 400, "invalid_query");
    assert_error(
        &s.get("/api/v1/jobs?colour=red").await,
        400,
        "invalid_query",
    );
    assert_error(&s.get("/api/v1/jobs/nope").await, 404, "not_found");
    assert_error(
        &s.post("/api/v1/jobs/nope/retry", json!({})).await,
        404,
        "not_found",
    );

    // System jobs and other workspaces' jobs are not this workspace's.
    let (_, all) = s.get("/api/v1/jobs?limit=200").await;
    assert!(all["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .all(|j| j["workspace_id"] == json!(ws)));
    let (_, _, other) = s.other_workspace("Other").await;
    assert_error(
        &other.get(&format!("/api/v1/jobs/{dead}")).await,
        404,
        "not_found",
    );
    assert_error(
        &other
            .post(&format!("/api/v1/jobs/{dead}/cancel"), json!({}))
            .await,
        404,
        "not_found",
    );
    let (_, theirs) = other.get("/api/v1/jobs/queues").await;
    assert_eq!(theirs, json!([]));

    // Only administrators; a refusal is audited.
    let (_, sales) = s.user_with_role("sales").await;
    assert_error(&sales.get("/api/v1/jobs").await, 403, "forbidden");
    assert_error(
        &sales
            .post(&format!("/api/v1/jobs/{dead}/cancel"), json!({}))
            .await,
        403,
        "forbidden",
    );
    let (_, audit) = s.get("/api/v1/audit").await;
    let actions = codes(&audit);
    for action in [
        "job.retry",
        "job.cancel",
        "job.discard",
        "permission_denied",
    ] {
        assert!(
            actions.contains(&action),
            "{action} not audited: {actions:?}"
        );
    }
}
