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

use crate::server::{pg_admin_url, Server, TestDatabase, ADMIN_EMAIL, ADMIN_PASSWORD};
use serde_json::json;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

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
    let server = Server::start_with(
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
    let server = Server::start(storage, logs.join("echo.log")).await;
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
    let Some(admin_url) = pg_admin_url() else {
        return;
    };
    let db = TestDatabase::create(&admin_url, "security").await;
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
    let Some(admin_url) = pg_admin_url() else {
        return;
    };
    let db = TestDatabase::create(&admin_url, "security").await;
    let logs = tempfile::tempdir().unwrap();
    admin_password_is_not_echoed(&["--database-url".to_string(), db.url.clone()], logs.path())
        .await;
    db.drop_now().await;
}
