//! What the suites share: the machine and database they ran on, an administrator and API token
//! for the in-process server, a closed-loop driver with latency statistics, the bare-driver
//! pools the baselines run on, and publishing a Markdown section.

use anyhow::{Context, Result};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rapport_server::{auth, AppState, ServerConfig};
use rapport_store::accounts::User;
use rapport_store::{Db, Store};
use sqlx::{PgPool, SqlitePool};
use std::future::Future;
use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const FAMILY: [(&str, &str); 20] = [
    ("王", "wang"),
    ("李", "li"),
    ("张", "zhang"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("黄", "huang"),
    ("赵", "zhao"),
    ("吴", "wu"),
    ("周", "zhou"),
    ("徐", "xu"),
    ("孙", "sun"),
    ("马", "ma"),
    ("朱", "zhu"),
    ("胡", "hu"),
    ("郭", "guo"),
    ("何", "he"),
    ("林", "lin"),
    ("高", "gao"),
    ("罗", "luo"),
];
pub const GIVEN: [&str; 20] = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀英", "晓东", "志强",
];
pub fn run_tag() -> String {
    let n: u32 = rand::thread_rng().gen();
    format!("{n:08x}")
}

// ---------------------------------------------------------------------------------------------
// Setup: workspace, administrator, token, contacts.

/// The first workspace and an administrator of it, created on an empty database.
pub async fn ensure_admin(store: &Store) -> Result<(String, User)> {
    let workspace = match store.first_workspace().await? {
        Some(w) => w,
        None => {
            let w = store.create_workspace("Rapport bench", 480).await?;
            println!("created workspace {}", w.id);
            w
        }
    };
    let users = store.users(&workspace.id).await?;
    if let Some(admin) = users.into_iter().find(|u| u.role_id == "admin" && u.active) {
        return Ok((workspace.id, admin));
    }
    let password = auth::new_password();
    let hash = auth::hash_password(&password).map_err(|e| anyhow::anyhow!(e.message))?;
    let admin = store
        .create_user(
            &workspace.id,
            "bench-admin@rapport.local",
            "Bench admin",
            &hash,
            "admin",
        )
        .await?;
    println!(
        "created administrator {} (password: {password})",
        admin.email
    );
    Ok((workspace.id, admin))
}

/// A fresh API token of `user`: (the token, its digest).
pub async fn api_token(store: &Store, user: &User) -> Result<(String, String)> {
    let token = auth::new_token();
    let digest = auth::digest(&token);
    store
        .create_token(user, "bench", &digest, token.get(..8).unwrap_or_default())
        .await?;
    Ok((token, digest))
}

/// The real server, in this process, on a free loopback port: a node of role `all` (the API
/// and its background workers).
pub struct Server {
    pub base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    workers: std::sync::Arc<rapport_store::worker::Supervisor>,
}

impl Server {
    pub async fn start(store: &Store) -> Result<Server> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = AppState::new(store.clone(), ServerConfig::default());
        state.run_workers();
        let workers = state.workers.clone();
        let task = tokio::spawn(rapport_server::serve(listener, state, async move {
            let _ = stopped.await;
        }));
        Ok(Server {
            base,
            stop,
            task,
            workers,
        })
    }

    /// Stops it gracefully (in-flight requests finish), waiting at most 10 s.
    pub async fn stop(self) {
        self.workers.shutdown(Duration::from_secs(10)).await;
        let _ = self.stop.send(());
        match tokio::time::timeout(Duration::from_secs(10), self.task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => println!("the server stopped with an error: {e}"),
            Ok(Err(e)) => println!("the server task failed: {e}"),
            Err(_) => println!("the server did not stop within 10 s"),
        }
    }
}

/// A keep-alive HTTP/1.1 client sending `authorization` with every request.
pub fn http_client(authorization: &str, connections: usize) -> Result<reqwest::Client> {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        reqwest::header::HeaderValue::from_str(authorization)?,
    );
    Ok(reqwest::Client::builder()
        .default_headers(headers)
        .http1_only()
        .pool_max_idle_per_host(connections)
        .timeout(Duration::from_secs(60))
        .build()?)
}

/// Prints the Markdown results and appends them to `out`.
pub fn publish(md: &str, out: Option<&std::path::Path>) -> Result<()> {
    println!("\n{md}");
    if let Some(path) = out {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        file.write_all(md.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
        println!("appended to {}", path.display());
    }
    Ok(())
}

/// What one operation is told: which task, which iteration, and a random number.
#[derive(Clone, Copy)]
pub struct Call {
    pub task: usize,
    pub iter: u64,
    pub random: u64,
}

#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub ops: u64,
    pub errors: u64,
    pub elapsed: Duration,
    pub p50_us: u32,
    pub p99_us: u32,
    pub first_error: Option<String>,
    /// The 1-minute load average when the scenario started.
    pub load: String,
}

impl Stats {
    pub fn per_sec(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64().max(0.001)
    }
}

fn percentile(sorted: &[u32], q: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted.get(rank - 1).copied().unwrap_or(0)
}

/// Runs `op` from `concurrency` tasks until `duration` has passed; each task records the
/// latency of its successful calls.
pub async fn drive<F, Fut>(concurrency: usize, duration: Duration, op: Arc<F>) -> Result<Stats>
where
    F: Fn(Call) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let started = Instant::now();
    let deadline = started + duration;
    let mut handles = Vec::with_capacity(concurrency);
    for task in 0..concurrency {
        let op = op.clone();
        handles.push(tokio::spawn(async move {
            let mut rng = StdRng::from_entropy();
            let mut latencies: Vec<u32> = Vec::with_capacity(16 * 1024);
            let mut errors = 0u64;
            let mut first_error = None;
            let mut iter = 0u64;
            while Instant::now() < deadline {
                let call = Call {
                    task,
                    iter,
                    random: rng.gen(),
                };
                let t0 = Instant::now();
                let result = op(call).await;
                let micros = u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX);
                match result {
                    Ok(()) => latencies.push(micros),
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert(e);
                    }
                }
                iter += 1;
            }
            (latencies, errors, first_error)
        }));
    }
    let mut all = Vec::new();
    let mut stats = Stats::default();
    for handle in handles {
        let (latencies, errors, first_error) = handle.await.context("a load task failed")?;
        all.extend(latencies);
        stats.errors += errors;
        if stats.first_error.is_none() {
            stats.first_error = first_error;
        }
    }
    stats.elapsed = started.elapsed();
    all.sort_unstable();
    stats.ops = all.len() as u64;
    stats.p50_us = percentile(&all, 0.50);
    stats.p99_us = percentile(&all, 0.99);
    Ok(stats)
}

pub fn ms(micros: u32) -> String {
    format!("{:.2} ms", f64::from(micros) / 1000.0)
}

/// The body of a 2xx answer; anything else is an error naming the status and the body's start.
pub async fn body_of(
    response: reqwest::Result<reqwest::Response>,
) -> Result<impl AsRef<[u8]>, String> {
    let response = response.map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response.bytes().await.map_err(|e| e.to_string())?;
    if status.is_success() {
        Ok(body)
    } else {
        let text = String::from_utf8_lossy(&body);
        Err(format!(
            "{status}: {}",
            text.chars().take(300).collect::<String>()
        ))
    }
}

#[derive(Clone)]
pub enum Bare {
    Sqlite {
        writer: SqlitePool,
        readers: SqlitePool,
    },
    Postgres(PgPool),
}

impl Bare {
    pub fn of(db: &Db) -> Self {
        match db {
            Db::Sqlite { writer, readers } => Bare::Sqlite {
                writer: writer.clone(),
                readers: readers.clone(),
            },
            Db::Postgres(pool) => Bare::Postgres(pool.clone()),
        }
    }
}

pub fn err(e: sqlx::Error) -> String {
    e.to_string()
}

pub fn uuid_v7() -> String {
    // The same kind of id the store gives records (time-ordered UUIDv7), without depending on
    // the uuid crate here: 48 bits of milliseconds, then random bits, with version and variant.
    let millis = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0);
    let mut rng = rand::thread_rng();
    let a: u16 = rng.gen::<u16>() & 0x0fff | 0x7000;
    let b: u16 = rng.gen::<u16>() & 0x3fff | 0x8000;
    let c: u64 = rng.gen::<u64>() & 0xffff_ffff_ffff;
    format!(
        "{:08x}-{:04x}-{a:04x}-{b:04x}-{c:012x}",
        millis >> 16,
        millis & 0xffff
    )
}

// ---------------------------------------------------------------------------------------------
// Environment and report.

/// The 1-minute load average (other work on the machine shows here).
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZeroUsize::get);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or_else(|| "unknown CPU".to_string(), |(_, m)| m.trim().to_string());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_gib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or_else(
            || "unknown memory".to_string(),
            |kb| format!("{:.1} GiB RAM", kb / 1024.0 / 1024.0),
        );
    format!("{cores} cores (nproc) of {model}, {mem_gib}")
}

pub async fn db_version(bare: &Bare) -> String {
    match bare {
        Bare::Sqlite { readers, .. } => sqlx::query_scalar::<_, String>("SELECT sqlite_version()")
            .fetch_one(readers)
            .await
            .map_or_else(|_| "SQLite".into(), |v| format!("SQLite {v}")),
        Bare::Postgres(pool) => sqlx::query_scalar::<_, String>("SHOW server_version")
            .fetch_one(pool)
            .await
            .map_or_else(|_| "PostgreSQL".into(), |v| format!("PostgreSQL {v}")),
    }
}

pub fn met(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**not met**"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_nearest_rank() {
        let sorted: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&sorted, 0.50), 50);
        assert_eq!(percentile(&sorted, 0.99), 99);
        assert_eq!(percentile(&[7], 0.99), 7);
        assert_eq!(percentile(&[], 0.5), 0);
    }

    #[test]
    fn bench_ids_look_like_uuid_v7() {
        let id = uuid_v7();
        assert_eq!(id.len(), 36);
        assert_eq!(id.as_bytes()[14], b'7');
        assert!(matches!(id.as_bytes()[19], b'8' | b'9' | b'a' | b'b'));
    }
}
