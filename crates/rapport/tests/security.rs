//! Security of the `rapport serve` process itself (issue 20), with the real binary as a child:
//!
//! - a flood of concurrent logins with unknown emails keeps the server's peak memory (VmHWM
//!   from /proc, measured, never timed) within what its bounded password hashing allows:
//!   `--hash-concurrency` × 19 MiB above the warmed-up peak, plus a fixed allowance for the
//!   connections themselves. Before the bound, every attempt hashed at once: 64 attempts took
//!   over a gigabyte.
//! - `--admin-password` is never echoed to the output.
//!
//! The PostgreSQL variants run when `RAPPORT_TEST_DATABASE_URL` is set (each creates and drops
//! its own database).

// Test code: a failed expectation is a panic by design (clippy's allow-*-in-tests only covers
// `#[test]` functions, not the async bodies and helpers they call).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rapport_store::Db;
use serde_json::json;
use std::fs::File;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PG_ENV: &str = "RAPPORT_TEST_DATABASE_URL";
const ADMIN_EMAIL: &str = "admin@rapport.local";
const ADMIN_PASSWORD: &str = "flood test password 0815";
/// Argon2 computations the server runs at once in these tests.
const HASH_CONCURRENCY: u64 = 2;
/// Argon2id's work memory per computation (m = 19,456 KiB).
const ARGON2_BYTES: u64 = 19_456 * 1024;
/// Everything else a flood may cost: connection buffers, tasks, database pages.
const ALLOWANCE_BYTES: u64 = 64 * 1024 * 1024;
/// Concurrent login attempts per wave, and the waves (each from its own client address, so
/// the per-client throttle does not stop the flood before it reaches the hashing).
const FLOOD: usize = 64;
const WAVES: u8 = 3;

/// A `rapport serve` child, killed and reaped when dropped.
struct Server {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Server {
    async fn start(storage: &[String], extra: &[&str], log: PathBuf) -> Server {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let out = File::create(&log).unwrap();
        let err = out.try_clone().unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_rapport"));
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("RAPPORT_") {
                command.env_remove(key);
            }
        }
        let child = command
            .arg("serve")
            .args(storage)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--admin-password", ADMIN_PASSWORD])
            .args(extra)
            .env("RAPPORT_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .expect("spawn rapport serve");
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
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("rapport serve exited ({status}):\n{}", self.log_text());
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
            assert!(Instant::now() < deadline, "not ready:\n{}", self.log_text());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A line of the process's /proc status, in bytes (`VmHWM`: the peak resident set).
    fn status_bytes(&self, key: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status
            .lines()
            .find(|l| l.starts_with(&format!("{key}:")))
            .unwrap_or_else(|| panic!("no {key} in /proc status"));
        let kib: u64 = line
            .split_whitespace()
            .nth(1)
            .and_then(|n| n.parse().ok())
            .unwrap();
        kib * 1024
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `n` logins at once from `from`; returns the statuses.
async fn wave(base: &str, from: IpAddr, n: usize) -> Vec<(u16, Option<String>)> {
    let client = reqwest::Client::builder()
        .local_address(from)
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(300))
        .build()
        .unwrap();
    let attempts: Vec<_> = (0..n)
        .map(|i| {
            let client = client.clone();
            let url = format!("{base}/api/v1/auth/login");
            tokio::spawn(async move {
                let r = client
                    .post(url)
                    .json(&json!({"email": format!("nobody-{i}@flood.test"), "password": "guess 1234"}))
                    .send()
                    .await
                    .expect("login request");
                let retry = r
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                (r.status().as_u16(), retry)
            })
        })
        .collect();
    let mut out = Vec::new();
    for a in attempts {
        out.push(a.await.unwrap());
    }
    out
}

async fn login_flood(storage: &[String], logs: &Path) {
    let server = Server::start(
        storage,
        &["--hash-concurrency", &HASH_CONCURRENCY.to_string()],
        logs.join("flood.log"),
    )
    .await;
    // Warm up: a right and a wrong password, so the pool holds its first work memory.
    let client = reqwest::Client::new();
    for password in [ADMIN_PASSWORD, "not the password"] {
        client
            .post(format!("{}/api/v1/auth/login", server.base))
            .json(&json!({"email": ADMIN_EMAIL, "password": password}))
            .send()
            .await
            .unwrap();
    }
    let before = server.status_bytes("VmHWM");
    let mut hashed = 0;
    for w in 0..WAVES {
        for (status, retry) in wave(&server.base, IpAddr::from([127, 0, 0, 10 + w]), FLOOD).await {
            match status {
                401 => hashed += 1,
                503 | 429 => assert!(retry.is_some(), "{status} without Retry-After"),
                other => panic!("a login answered {other}:\n{}", server.log_text()),
            }
        }
    }
    assert!(hashed > 0, "no attempt reached the password check");
    let peak = server.status_bytes("VmHWM");
    let bound = HASH_CONCURRENCY * ARGON2_BYTES + ALLOWANCE_BYTES;
    let mib = |b: u64| b / (1024 * 1024);
    eprintln!(
        "login flood: peak {} MiB before, {} MiB after {} attempts ({hashed} checked); allowed growth {} MiB",
        mib(before),
        mib(peak),
        FLOOD * usize::from(WAVES),
        mib(bound)
    );
    assert!(
        peak.saturating_sub(before) <= bound,
        "peak memory grew by {} MiB under a login flood; at most {} MiB is allowed",
        mib(peak - before),
        mib(bound)
    );
    // The server still serves its users.
    let ok = client
        .post(format!("{}/api/v1/auth/login", server.base))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
}

async fn admin_password_is_not_echoed(storage: &[String], logs: &Path) {
    let server = Server::start(storage, &[], logs.join("echo.log")).await;
    let output = server.log_text();
    assert!(
        output.contains("Created workspace"),
        "no first-start message:\n{output}"
    );
    assert!(
        !output.contains(ADMIN_PASSWORD),
        "the admin password was echoed:\n{output}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_flood_sqlite() {
    let data = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let storage = ["--data-dir".to_string(), data.path().display().to_string()];
    login_flood(&storage, logs.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_flood_postgres() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let logs = tempfile::tempdir().unwrap();
    login_flood(&["--database-url".to_string(), db.url.clone()], logs.path()).await;
    db.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_password_is_not_echoed_sqlite() {
    let data = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let storage = ["--data-dir".to_string(), data.path().display().to_string()];
    admin_password_is_not_echoed(&storage, logs.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_password_is_not_echoed_postgres() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let logs = tempfile::tempdir().unwrap();
    admin_password_is_not_echoed(&["--database-url".to_string(), db.url.clone()], logs.path())
        .await;
    db.drop_now().await;
}

/// A fresh database on the test cluster (`None`, with a note, when there is none).
struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl TestDatabase {
    async fn create() -> Option<TestDatabase> {
        let Some(admin_url) = std::env::var(PG_ENV).ok().filter(|u| !u.trim().is_empty()) else {
            eprintln!("skipped: {PG_ENV} not set");
            return None;
        };
        let name = format!("security_{:016x}", rand::random::<u64>());
        let admin = Db::open_postgres(&admin_url).await.unwrap();
        admin
            .execute(&format!("CREATE DATABASE \"{name}\""), &[])
            .await
            .unwrap();
        admin.close().await;
        let (base, query) = match admin_url.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (admin_url.as_str(), None),
        };
        let (prefix, _) = base.rsplit_once('/').unwrap();
        let url = match query {
            Some(q) => format!("{prefix}/{name}?{q}"),
            None => format!("{prefix}/{name}"),
        };
        Some(TestDatabase {
            admin_url,
            name,
            url,
        })
    }

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
