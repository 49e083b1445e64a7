//! Crash durability of event ingestion ("a crash after a 200 loses nothing"): the real `rapport`
//! binary runs as a child process while 16 concurrent senders post `/v1/batch` requests of 50
//! events with unique `messageId`s; the server is killed with SIGKILL in the middle of that
//! sustained ingest, started again on the same data, and every `messageId` that was answered
//! 200 must be stored, exactly once. Verification goes through the HTTP API only.
//!
//! `crash_sqlite` always runs; `crash_postgres` runs when `RAPPORT_TEST_DATABASE_URL` is set
//! (it creates and afterwards drops its own database on that server).

use crate::server::{pg_admin_url, Admin, Server, TestDatabase};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Concurrent senders.
const SENDERS: usize = 16;
/// Events per `/v1/batch` request.
const BATCH: usize = 50;
/// The ingest runs at least this long before the kill …
const MIN_INGEST: Duration = Duration::from_millis(1_500);
/// … and until at least this many events were acknowledged …
const WANT_ACKED: usize = 2_000;
/// … but no longer than this.
const MAX_INGEST: Duration = Duration::from_secs(30);
/// Fewer acknowledged events than this and the test would prove little.
const MIN_ACKED: usize = 1_000;

/// What one sender saw.
#[derive(Default)]
struct Sent {
    /// messageIds of requests answered 200.
    acked: Vec<String>,
    /// messageIds of requests not answered 200 (refused, or cut off by the kill).
    unacked: Vec<Vec<String>>,
    /// Non-200 answers by status (e.g. 503 when the commit queue is full).
    refused: HashMap<u16, usize>,
    /// Whether the last request was cut off by the kill.
    cut_off: bool,
    /// Things that must not happen (a 200 not storing all 50, an error before the kill).
    anomalies: Vec<String>,
}

async fn sender(
    client: reqwest::Client,
    url: String,
    write_key: String,
    me: usize,
    acked_total: Arc<AtomicUsize>,
    killing: Arc<AtomicBool>,
) -> Sent {
    let mut sent = Sent::default();
    // Loops until the server goes away: the requests in flight at the kill are unacknowledged.
    for request in 0usize.. {
        let ids: Vec<String> = (0..BATCH)
            .map(|i| format!("crash-{me}-{request}-{i}"))
            .collect();
        let batch: Vec<Value> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                json!({
                    "type": "track",
                    "userId": format!("u{}", (me * BATCH + i) % 97),
                    "event": "Tick",
                    "messageId": id,
                    "properties": {"n": i, "sender": me, "request": request}
                })
            })
            .collect();
        let result = client
            .post(&url)
            .basic_auth(&write_key, Some(""))
            .json(&json!({ "batch": batch }))
            .timeout(Duration::from_secs(60))
            .send()
            .await;
        match result {
            Ok(response) if response.status() == 200 => {
                // The status line is the acknowledgement: the server answers only after the
                // commit. The report should say all 50 were stored now.
                match response.json::<Value>().await {
                    Ok(report) => {
                        if report["accepted"] != json!(BATCH) || report["duplicates"] != json!(0) {
                            sent.anomalies
                                .push(format!("request {me}/{request}: 200 with {report}"));
                        }
                    }
                    Err(e) => {
                        if !killing.load(Ordering::SeqCst) {
                            sent.anomalies
                                .push(format!("request {me}/{request}: 200, body lost: {e}"));
                        }
                    }
                }
                acked_total.fetch_add(ids.len(), Ordering::SeqCst);
                sent.acked.extend(ids);
            }
            Ok(response) => {
                let status = response.status().as_u16();
                *sent.refused.entry(status).or_insert(0) += 1;
                if status != 503 && status != 429 {
                    let body = response.text().await.unwrap_or_default();
                    sent.anomalies
                        .push(format!("request {me}/{request}: {status} {body}"));
                }
                sent.unacked.push(ids);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => {
                if !killing.load(Ordering::SeqCst) {
                    sent.anomalies.push(format!(
                        "request {me}/{request}: failed before the kill: {e}"
                    ));
                }
                sent.cut_off = true;
                sent.unacked.push(ids);
                return sent;
            }
        }
    }
    sent
}

/// The whole scenario over one backend; `storage` are the `rapport serve` flags naming the data.
async fn crash_during_ingest(backend: &str, storage: &[String], logs: &Path) {
    let began = Instant::now();
    let mut server = Server::start(storage, logs.join("first.log")).await;
    let admin = Admin::login(&server.base).await;
    let (status, source) = admin
        .post(
            "/api/v1/cdp/sources",
            json!({"name": "crash", "kind": "server"}),
        )
        .await;
    assert_eq!(status, 201, "create source: {source}");
    let source_id = source["id"].as_str().expect("source id").to_string();
    let write_key = source["write_key"].as_str().expect("write key").to_string();
    let (status, event_type) = admin
        .post(
            "/api/v1/cdp/event-types",
            json!({"name": "Tick", "schema": {"type": "object"}}),
        )
        .await;
    assert!(
        status == 200 || status == 201,
        "register Tick: {status} {event_type}"
    );

    // Sustained ingest from 16 senders, then SIGKILL while requests are in flight.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(SENDERS)
        .build()
        .expect("http client");
    let acked_total = Arc::new(AtomicUsize::new(0));
    let killing = Arc::new(AtomicBool::new(false));
    let url = format!("{}/v1/batch", server.base);
    let senders: Vec<_> = (0..SENDERS)
        .map(|me| {
            tokio::spawn(sender(
                client.clone(),
                url.clone(),
                write_key.clone(),
                me,
                acked_total.clone(),
                killing.clone(),
            ))
        })
        .collect();
    let ingest = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let elapsed = ingest.elapsed();
        let acked = acked_total.load(Ordering::SeqCst);
        if (elapsed >= MIN_INGEST && acked >= WANT_ACKED) || elapsed >= MAX_INGEST {
            break;
        }
    }
    killing.store(true, Ordering::SeqCst);
    server.kill9();
    let ingest_time = ingest.elapsed();
    let mut acked: Vec<String> = Vec::new();
    let mut unacked: Vec<Vec<String>> = Vec::new();
    let mut refused: HashMap<u16, usize> = HashMap::new();
    let mut cut_off = 0;
    let mut anomalies: Vec<String> = Vec::new();
    for handle in senders {
        let sent = tokio::time::timeout(Duration::from_secs(90), handle)
            .await
            .expect("a sender did not stop after the kill")
            .expect("sender task");
        acked.extend(sent.acked);
        unacked.extend(sent.unacked);
        for (status, n) in sent.refused {
            *refused.entry(status).or_insert(0) += n;
        }
        cut_off += usize::from(sent.cut_off);
        anomalies.extend(sent.anomalies);
    }
    drop(server);

    // Start again on the same data (new port) and look at what is stored.
    let server = Server::start(storage, logs.join("second.log")).await;
    let admin = Admin::login(&server.base).await;
    let stored = admin.stored_message_ids(&source_id).await;
    drop(server);

    let acked_set: HashSet<&str> = acked.iter().map(String::as_str).collect();
    let unacked_set: HashSet<&str> = unacked.iter().flatten().map(String::as_str).collect();
    let missing: Vec<&str> = acked
        .iter()
        .map(String::as_str)
        .filter(|id| !stored.contains_key(*id))
        .collect();
    let twice: Vec<(&String, &usize)> = stored.iter().filter(|(_, n)| **n > 1).collect();
    let unknown: Vec<&String> = stored
        .keys()
        .filter(|id| !acked_set.contains(id.as_str()) && !unacked_set.contains(id.as_str()))
        .collect();
    let unacked_stored = stored
        .keys()
        .filter(|id| unacked_set.contains(id.as_str()))
        .count();
    let partial_requests = unacked
        .iter()
        .filter(|ids| {
            let n = ids.iter().filter(|id| stored.contains_key(*id)).count();
            n != 0 && n != ids.len()
        })
        .count();
    println!(
        "crash on {backend}: ingest ran {:.2} s with {SENDERS} senders x {BATCH} events/request; \
         acknowledged {} events ({} requests); unacknowledged requests {} (cut off by the kill {cut_off}, \
         refused {refused:?}); stored after restart {} distinct messageIds ({} rows), of them \
         {unacked_stored} from unacknowledged requests; missing acknowledged {}; stored twice {}; \
         unknown {}; unacknowledged requests stored partially {partial_requests}; total {:.2} s",
        ingest_time.as_secs_f64(),
        acked.len(),
        acked.len() / BATCH,
        unacked.len(),
        stored.len(),
        stored.values().sum::<usize>(),
        missing.len(),
        twice.len(),
        unknown.len(),
        began.elapsed().as_secs_f64(),
    );

    assert!(
        anomalies.is_empty(),
        "{} unexpected answers, first: {:?}",
        anomalies.len(),
        &anomalies[..anomalies.len().min(5)]
    );
    assert!(
        acked.len() >= MIN_ACKED,
        "only {} events acknowledged before the kill; the test needs at least {MIN_ACKED}",
        acked.len()
    );
    assert_eq!(
        acked_set.len(),
        acked.len(),
        "a messageId was acknowledged twice"
    );
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged events are missing after the restart, e.g. {:?}",
        missing.len(),
        acked.len(),
        &missing[..missing.len().min(10)]
    );
    assert!(
        twice.is_empty(),
        "{} messageIds are stored more than once, e.g. {:?}",
        twice.len(),
        &twice[..twice.len().min(10)]
    );
    assert!(
        unknown.is_empty(),
        "{} stored messageIds were never sent, e.g. {:?}",
        unknown.len(),
        &unknown[..unknown.len().min(10)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn crash_sqlite() {
    let data = tempfile::tempdir().expect("temp dir");
    let logs = tempfile::tempdir().expect("temp dir for logs");
    let storage = vec![
        "--data-dir".to_string(),
        data.path().to_string_lossy().into_owned(),
    ];
    crash_during_ingest("SQLite", &storage, logs.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn crash_postgres() {
    let Some(admin_url) = pg_admin_url() else {
        return;
    };
    let database = TestDatabase::create(&admin_url, "crash").await;
    let data = tempfile::tempdir().expect("temp dir");
    let logs = tempfile::tempdir().expect("temp dir for logs");
    let storage = vec![
        "--database-url".to_string(),
        database.url.clone(),
        "--data-dir".to_string(),
        data.path().to_string_lossy().into_owned(),
    ];
    crash_during_ingest("PostgreSQL", &storage, logs.path()).await;
    database.drop_now().await;
}
