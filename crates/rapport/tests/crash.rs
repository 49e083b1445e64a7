//! Crash durability of event ingestion ("a crash after a 200 loses nothing"): the real `rapport`
//! binary runs as a child process while 16 concurrent senders post `/v1/batch` requests of 50
//! events with unique `messageId`s; the server is killed with SIGKILL in the middle of that
//! sustained ingest, started again on the same data, and every `messageId` that was answered
//! 200 must be stored, exactly once. Verification goes through the HTTP API only.
//!
//! `crash_sqlite` always runs; `crash_postgres` runs when `RAPPORT_TEST_DATABASE_URL` is set
//! (it creates and afterwards drops its own database on that server).

// Test code: a failed expectation is a panic by design (clippy's allow-*-in-tests only covers
// `#[test]` functions, not the async bodies and helpers they call).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rapport_store::Db;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PG_ENV: &str = "RAPPORT_TEST_DATABASE_URL";
const ADMIN_EMAIL: &str = "admin@rapport.local";
const ADMIN_PASSWORD: &str = "crash test password 4711";
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

/// A `rapport serve` child process; killed (SIGKILL) and reaped when dropped, so a failing
/// test never leaves a server behind.
struct Server {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Server {
    /// Starts `rapport serve` on a free loopback port with `storage` flags and waits until
    /// `/healthz` answers 200.
    async fn start(storage: &[String], log: PathBuf) -> Server {
        let port = free_port();
        let out = File::create(&log).expect("create server log");
        let err = out.try_clone().expect("clone server log handle");
        let mut command = Command::new(env!("CARGO_BIN_EXE_rapport"));
        // The child takes its settings from the flags below only (no RAPPORT_DATABASE_URL
        // from the environment turning the SQLite run into a PostgreSQL one, …).
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("RAPPORT_") {
                command.env_remove(key);
            }
        }
        command
            .arg("serve")
            .args(storage)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--admin-password", ADMIN_PASSWORD])
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err));
        let child = command.spawn().expect("spawn rapport serve");
        let mut server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        };
        server.wait_ready().await;
        server
    }

    async fn wait_ready(&mut self) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(status) = self.child.try_wait().expect("poll child") {
                panic!(
                    "rapport serve exited before it was ready ({status}); its log:\n{}",
                    self.log_text()
                );
            }
            let ready = client
                .get(format!("{}/healthz", self.base))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "rapport serve not ready after 120 s; its log:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL (`Child::kill` on Unix) to the server process itself, then reaps it and checks
    /// that it died of that signal (and not of something else before).
    fn kill9(&mut self) {
        self.child.kill().expect("SIGKILL the server");
        let status = self.child.wait().expect("reap the server");
        assert_eq!(
            status.signal(),
            Some(9),
            "the server did not die of SIGKILL but {status}; its log:\n{}",
            self.log_text()
        );
    }

    fn log_text(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port that was free a moment ago (the listener is dropped before the server binds it).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}

/// An admin session: the `rapport_session` cookie, sent by hand (reqwest has no cookie store).
struct Admin {
    client: reqwest::Client,
    base: String,
    cookie: String,
}

impl Admin {
    async fn login(base: &str) -> Admin {
        let client = reqwest::Client::new();
        let response = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
            .send()
            .await
            .expect("login request");
        assert_eq!(response.status(), 200, "login failed");
        let cookie = response
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .find(|v| v.starts_with("rapport_session="))
            .expect("rapport_session cookie")
            .to_string();
        Admin {
            client,
            base: base.to_string(),
            cookie,
        }
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, &self.cookie)
            .header("x-requested-with", "rapport-crash-test")
            .json(&body)
            .send()
            .await
            .expect("admin POST");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, &self.cookie)
            .send()
            .await
            .expect("admin GET");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// `messageId` → how many times it is stored, for every event of the source (pages of
    /// 1,000 through `/api/v1/cdp/events`, newest first, `before` = the smallest seq seen).
    async fn stored_message_ids(&self, source_id: &str) -> HashMap<String, usize> {
        let mut stored = HashMap::new();
        let mut before: Option<i64> = None;
        loop {
            let mut path = format!("/api/v1/cdp/events?source_id={source_id}&limit=1000");
            if let Some(b) = before {
                path.push_str(&format!("&before={b}"));
            }
            let (status, page) = self.get(&path).await;
            assert_eq!(status, 200, "GET {path}: {page}");
            let events = page.as_array().expect("a page of events");
            for event in events {
                let id = event["message_id"].as_str().expect("message_id");
                *stored.entry(id.to_string()).or_insert(0) += 1;
                let seq = event["seq"].as_i64().expect("seq");
                assert!(
                    before.is_none_or(|b| seq < b),
                    "events not in descending seq order"
                );
                before = Some(before.map_or(seq, |b| b.min(seq)));
            }
            if events.len() < 1000 {
                return stored;
            }
        }
    }
}

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
    let Some(admin_url) = std::env::var(PG_ENV).ok().filter(|u| !u.trim().is_empty()) else {
        eprintln!("skipped: {PG_ENV} not set");
        return;
    };
    let database = TestDatabase::create(&admin_url).await;
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

/// A fresh database on the test cluster, so runs never see each other's events.
struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl TestDatabase {
    async fn create(admin_url: &str) -> TestDatabase {
        let name = format!("crash_{:016x}", rand::random::<u64>());
        let admin = Db::open_postgres(admin_url)
            .await
            .expect("connect to the PostgreSQL test cluster");
        admin
            .execute(&format!("CREATE DATABASE \"{name}\""), &[])
            .await
            .expect("CREATE DATABASE");
        admin.close().await;
        let url = database_url(admin_url, &name);
        TestDatabase {
            admin_url: admin_url.to_string(),
            name,
            url,
        }
    }

    /// Drops the database (after a passing run; a failing one leaves it for inspection).
    async fn drop_now(self) {
        if let Ok(admin) = Db::open_postgres(&self.admin_url).await {
            let _ = admin
                .execute(
                    &format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
                    &[],
                )
                .await;
            admin.close().await;
        }
    }
}

/// `postgres://u@h:p/postgres?opts` with the database name replaced.
fn database_url(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin_url, None),
    };
    let (prefix, _) = base.rsplit_once('/').expect("database URL has a path");
    match query {
        Some(q) => format!("{prefix}/{name}?{q}"),
        None => format!("{prefix}/{name}"),
    }
}
