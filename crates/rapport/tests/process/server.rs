//! The real `rapport` binary as a child process, for tests that kill it or run several: a
//! server on a free loopback port, an admin session over HTTP, and a fresh PostgreSQL database
//! per test on the cluster named by `RAPPORT_TEST_DATABASE_URL`.

use rapport_store::Db;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::fs::File;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const PG_ENV: &str = "RAPPORT_TEST_DATABASE_URL";
pub const ADMIN_EMAIL: &str = "admin@rapport.local";
pub const ADMIN_PASSWORD: &str = "crash test password 4711";

/// The PostgreSQL test cluster's URL, or None (with a note) when the PostgreSQL variant of a
/// test is to be skipped.
pub fn pg_admin_url() -> Option<String> {
    let url = std::env::var(PG_ENV).ok().filter(|u| !u.trim().is_empty());
    if url.is_none() {
        eprintln!("skipped: {PG_ENV} not set");
    }
    url
}

/// A `rapport serve` child process; killed (SIGKILL) and reaped when dropped, so a failing
/// test never leaves a server behind.
pub struct Server {
    child: Child,
    pub base: String,
    log: PathBuf,
}

impl Server {
    /// Starts `rapport serve` on a free loopback port with `storage` flags and waits until
    /// `/healthz` answers 200.
    pub async fn start(storage: &[String], log: PathBuf) -> Server {
        Server::start_with(storage, &[], log).await
    }

    /// `start` with more flags.
    pub async fn start_with(storage: &[String], extra: &[&str], log: PathBuf) -> Server {
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
            .args(extra)
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
    pub fn kill9(&mut self) {
        self.child.kill().expect("SIGKILL the server");
        let status = self.child.wait().expect("reap the server");
        assert_eq!(
            status.signal(),
            Some(9),
            "the server did not die of SIGKILL but {status}; its log:\n{}",
            self.log_text()
        );
    }

    pub fn log_text(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }
}

impl Server {
    /// A line of the process's /proc status, in bytes (`VmHWM`: the peak resident set).
    pub fn status_bytes(&self, key: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("read /proc status");
        let line = status
            .lines()
            .find(|l| l.starts_with(&format!("{key}:")))
            .unwrap_or_else(|| panic!("no {key} in /proc status"));
        let kib: u64 = line
            .split_whitespace()
            .nth(1)
            .and_then(|n| n.parse().ok())
            .expect("a number of kB");
        kib * 1024
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a one-shot `rapport` command (backup, restore, …) with only the given flags (no
/// `RAPPORT_*` from the environment) and returns its output.
pub fn rapport(args: &[String]) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rapport"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("RAPPORT_") {
            command.env_remove(key);
        }
    }
    command
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run rapport")
}

/// Every live record of `object` through the list API (pages of 200): id → its JSON.
impl Admin {
    pub async fn all_records(&self, object: &str) -> HashMap<String, Value> {
        let mut records = HashMap::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/api/v1/objects/{object}/records?limit=200");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let (status, page) = self.get(&path).await;
            assert_eq!(status, 200, "GET {path}: {page}");
            for record in page["data"].as_array().expect("data") {
                let id = record["id"].as_str().expect("id").to_string();
                assert!(
                    records.insert(id.clone(), record.clone()).is_none(),
                    "record {id} listed twice"
                );
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return records,
            }
        }
    }
}

/// The storage flags of a server on SQLite in `data`.
pub fn sqlite_storage(data: &std::path::Path) -> Vec<String> {
    vec![
        "--data-dir".to_string(),
        data.to_string_lossy().into_owned(),
    ]
}

/// The storage flags of a server on the PostgreSQL database `url`, with `data` for its files.
pub fn postgres_storage(url: &str, data: &std::path::Path) -> Vec<String> {
    vec![
        "--database-url".to_string(),
        url.to_string(),
        "--data-dir".to_string(),
        data.to_string_lossy().into_owned(),
    ]
}

/// A port that was free a moment ago (the listener is dropped before the server binds it).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}

/// An admin session: the `rapport_session` cookie, sent by hand (reqwest has no cookie store).
pub struct Admin {
    client: reqwest::Client,
    base: String,
    cookie: String,
}

impl Admin {
    pub async fn login(base: &str) -> Admin {
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

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.try_post(path, body).await.expect("admin POST")
    }

    /// `post` to a server that may be gone: none when no answer came.
    pub async fn try_post(&self, path: &str, body: Value) -> Option<(u16, Value)> {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, &self.cookie)
            .header("x-requested-with", "rapport-process-test")
            .json(&body)
            .send()
            .await
            .ok()?;
        let status = response.status().as_u16();
        Some((status, response.json().await.unwrap_or(Value::Null)))
    }

    /// A tracking call with a source's write key (HTTP Basic, as Segment's clients send it).
    pub async fn post_basic(&self, path: &str, write_key: &str, body: Value) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .basic_auth(write_key, Some(""))
            .json(&body)
            .send()
            .await
            .expect("tracking POST");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
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
    pub async fn stored_message_ids(&self, source_id: &str) -> HashMap<String, usize> {
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

/// A fresh database on the test cluster, so runs never see each other's events.
pub struct TestDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl TestDatabase {
    pub async fn create(admin_url: &str, prefix: &str) -> TestDatabase {
        let name = format!("{prefix}_{:016x}", rand::random::<u64>());
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
    pub async fn drop_now(self) {
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
