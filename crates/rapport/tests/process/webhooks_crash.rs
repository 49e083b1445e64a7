//! Webhook deliveries survive a node killed with SIGKILL mid-delivery: deals are created while
//! a slow receiver takes the messages of one endpoint, the server is killed -9 with deliveries
//! under way and jobs leased, and a new server on the same storage must deliver the message of
//! every deal whose creation was acknowledged — at least once, and every time under the same
//! `webhook-id` (the receiver's deduplication key). Both backends.

use crate::server::{pg_admin_url, postgres_storage, sqlite_storage, Admin, Server, TestDatabase};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// (webhook-id, record id) of every request the receiver answered.
type Seen = Arc<Mutex<Vec<(String, String)>>>;

async fn receive(State(seen): State<Seen>, headers: HeaderMap, body: String) -> StatusCode {
    // Slow enough that the kill finds deliveries under way.
    tokio::time::sleep(Duration::from_millis(40)).await;
    let body: Value = serde_json::from_str(&body).unwrap();
    seen.lock().unwrap().push((
        headers["webhook-id"].to_str().unwrap().to_string(),
        body["data"]["id"].as_str().unwrap().to_string(),
    ));
    StatusCode::NO_CONTENT
}

async fn receiver() -> (String, Seen) {
    let seen = Seen::default();
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, seen)
}

async fn killed_mid_delivery(storage: &[String], logs: &Path) {
    let (base, seen) = receiver().await;
    let flags = ["--outbound-allow", "127.0.0.1"];
    let mut server = Server::start_with(storage, &flags, logs.join("first.log")).await;
    let admin = Arc::new(Admin::login(&server.base).await);
    let (status, endpoint) = admin
        .post(
            "/api/v1/webhooks",
            json!({"url": format!("{base}/hook"), "topics": ["record.created"], "objects": ["deal"]}),
        )
        .await;
    assert_eq!(status, 201, "{endpoint}");

    // Deals are created until the server dies; the acknowledged ones must all be delivered.
    let creator = {
        let admin = admin.clone();
        tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            // Enough that the kill finds most of them undelivered.
            for i in 0..600 {
                let request = admin.try_post(
                    "/api/v1/objects/deal/records",
                    json!({"values": {"name": format!("推送 {i}")}}),
                );
                let Ok(Some((status, body))) =
                    tokio::time::timeout(Duration::from_secs(5), request).await
                else {
                    break;
                };
                if status != 201 {
                    break;
                }
                acknowledged.push(body["id"].as_str().unwrap().to_string());
            }
            acknowledged
        })
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while seen.lock().unwrap().len() < 150 {
        assert!(
            Instant::now() < deadline,
            "no deliveries; log:\n{}",
            server.log_text()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill9();
    let acknowledged = creator.await.unwrap_or_default();
    let before_restart = seen.lock().unwrap().len();
    assert!(acknowledged.len() > 150, "{} deals", acknowledged.len());

    let server = Server::start_with(storage, &flags, logs.join("second.log")).await;
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let delivered: HashSet<String> = seen
            .lock()
            .unwrap()
            .iter()
            .map(|(_, r)| r.clone())
            .collect();
        let missing = acknowledged
            .iter()
            .filter(|id| !delivered.contains(*id))
            .count();
        if missing == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{missing} of {} acknowledged deals never delivered ({storage:?} {:?}); log:\n{}",
            acknowledged.len(),
            acknowledged
                .iter()
                .filter(|id| !delivered.contains(*id))
                .collect::<Vec<_>>(),
            server.log_text()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut ids: HashMap<String, HashSet<String>> = HashMap::new();
    let all = seen.lock().unwrap().clone();
    for (webhook_id, record) in &all {
        ids.entry(record.clone())
            .or_default()
            .insert(webhook_id.clone());
    }
    for (record, webhook_ids) in &ids {
        assert_eq!(webhook_ids.len(), 1, "{record} came under {webhook_ids:?}");
    }
    eprintln!(
        "{} deals acknowledged; {} deliveries before the kill, {} in all ({} sent twice)",
        acknowledged.len(),
        before_restart,
        all.len(),
        all.len() - ids.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn webhooks_survive_kill9_sqlite() {
    let data = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    killed_mid_delivery(&sqlite_storage(data.path()), logs.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn webhooks_survive_kill9_postgres() {
    let Some(admin_url) = pg_admin_url() else {
        return;
    };
    let database = TestDatabase::create(&admin_url, "webhooks_crash").await;
    let data = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let storage = postgres_storage(&database.url, data.path());
    killed_mid_delivery(&storage, logs.path()).await;
    database.drop_now().await;
}
