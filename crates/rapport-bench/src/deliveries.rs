//! `rapport-bench deliveries`: measures outbound webhooks (`rapport_integrations::webhooks`)
//! against a bare HTTP client posting the same bodies to the same loopback receiver in the same
//! run.
//!
//! Rapport: the real server in this process (a node of role `all`: the outbox fan-out worker and
//! the job runner's `webhooks` queue) with endpoints subscribed to `record.created` of a custom
//! object; `--records` records are created through the API in batches of 1,000 (the real write
//! path, with history and outbox), and each becomes one signed message per endpoint. Measured:
//! deliveries per second from the first write to the last delivery received, and the delay from
//! a record's commit (its batch request's answer) to its delivery. The bare client: `reqwest`
//! posting the same number of bodies as many at once as one delivery job sends. A second run subscribes five
//! endpoints, one of which answers only after the delivery timeout, and reports what the four
//! healthy ones keep of their throughput with all five healthy.

use crate::common as bench;
use anyhow::{bail, Context, Result};
use axum::extract::State;
use axum::http::HeaderMap;
use clap::Args;
use rapport_core::sql::Dialect;
use rapport_integrations::webhooks::{self, EndpointInput};
use rapport_store::cli::StorageArgs;
use rapport_store::outbound::Outbound;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct DeliveriesArgs {
    #[command(flatten)]
    storage: StorageArgs,
    /// Records created in each run (each makes one message per endpoint).
    #[arg(long, default_value_t = 5_000)]
    records: usize,
    /// Append the Markdown results to this file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// A remark printed under the section's heading.
    #[arg(long)]
    note: Option<String>,
}

/// The concurrency of the webhooks queue on a node (`rapport_server`'s job runner).
const QUEUE_CONCURRENCY: usize = 8;
/// Requests the bare client has under way at once: what one delivery job sends at once.
const BARE_AT_ONCE: usize = webhooks::deliver::SENDS_AT_ONCE;
/// The most a run waits for its deliveries.
const DRAIN_LIMIT: Duration = Duration::from_secs(900);
/// How long the run with a destination that times out is watched.
const SLOW_WINDOW: Duration = Duration::from_secs(60);

/// Per receiving path, the record ids delivered there and when they arrived.
type Arrivals = HashMap<String, Vec<(String, Duration)>>;

/// What the receiver got.
#[derive(Clone)]
struct Receiver {
    t0: Instant,
    got: Arc<Mutex<Arrivals>>,
}

async fn receive(
    State(r): State<Receiver>,
    axum::extract::Path(path): axum::extract::Path<String>,
    _headers: HeaderMap,
    body: String,
) -> &'static str {
    if path == "slow" {
        // Longer than the delivery timeout: every attempt times out.
        tokio::time::sleep(Duration::from_secs(20)).await;
    }
    let id = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|b| b["data"]["id"].as_str().map(str::to_string))
        .unwrap_or_default();
    let at = r.t0.elapsed();
    if let Ok(mut got) = r.got.lock() {
        got.entry(path).or_default().push((id, at));
    }
    "ok"
}

impl Receiver {
    fn count(&self, path: &str) -> usize {
        self.got
            .lock()
            .map(|g| g.get(path).map_or(0, Vec::len))
            .unwrap_or(0)
    }

    fn arrivals(&self, path: &str) -> Vec<(String, Duration)> {
        self.got
            .lock()
            .map(|g| g.get(path).cloned().unwrap_or_default())
            .unwrap_or_default()
    }

    fn clear(&self) {
        if let Ok(mut g) = self.got.lock() {
            g.clear();
        }
    }
}

/// The commit → delivery delays of one endpoint's messages: (p50, p99).
struct Delays {
    p50: Duration,
    p99: Duration,
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Creates `n` records of `object` through the API; when each batch committed (since `t0`).
async fn write(
    client: &reqwest::Client,
    base: &str,
    object: &str,
    n: usize,
    t0: Instant,
) -> Result<HashMap<String, Duration>> {
    let mut committed = HashMap::new();
    let mut left = n;
    while left > 0 {
        let size = left.min(1_000);
        let records: Vec<Value> = (0..size)
            .map(|i| json!({"values": {"name": format!("webhook bench {i}")}}))
            .collect();
        let answer: Value = client
            .post(format!(
                "{base}/api/v1/objects/{object}/records/batch/create"
            ))
            .json(&json!({ "records": records }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let at = t0.elapsed();
        for r in answer["data"].as_array().context("the batch answer")? {
            committed.insert(r["id"].as_str().unwrap_or_default().to_string(), at);
        }
        left -= size;
    }
    Ok(committed)
}

async fn drain(receiver: &Receiver, paths: &[&str], n: usize) -> Result<()> {
    let started = Instant::now();
    let mut said = Instant::now();
    while paths.iter().any(|p| receiver.count(p) < n) {
        if said.elapsed() > Duration::from_secs(10) {
            let counts: Vec<usize> = paths.iter().map(|p| receiver.count(p)).collect();
            println!("  … delivered so far: {counts:?} of {n} each");
            said = Instant::now();
        }
        if started.elapsed() > DRAIN_LIMIT {
            bail!(
                "the deliveries did not finish within {} s",
                DRAIN_LIMIT.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

fn delays(receiver: &Receiver, path: &str, committed: &HashMap<String, Duration>) -> Delays {
    let mut delays: Vec<Duration> = receiver
        .arrivals(path)
        .iter()
        .filter_map(|(id, at)| committed.get(id).map(|c| at.saturating_sub(*c)))
        .collect();
    delays.sort();
    Delays {
        p50: percentile(&delays, 0.5),
        p99: percentile(&delays, 0.99),
    }
}

/// Deliveries per second to `paths` since `started`: `n` each, until the last arrived.
fn rate(receiver: &Receiver, paths: &[&str], n: usize, started: Duration) -> f64 {
    let last = paths
        .iter()
        .flat_map(|p| receiver.arrivals(p))
        .map(|(_, at)| at)
        .max()
        .unwrap_or_default();
    (paths.len() * n) as f64 / last.saturating_sub(started).as_secs_f64().max(0.001)
}

async fn subscribe(
    store: &rapport_store::Store,
    ws: &str,
    base: &str,
    paths: &[&str],
    object: &str,
) -> Result<Vec<String>> {
    for endpoint in webhooks::list(store, ws).await? {
        webhooks::delete(store, ws, &endpoint.id).await?;
    }
    let mut ids = Vec::new();
    for path in paths {
        let (endpoint, _) = webhooks::create(
            store,
            ws,
            EndpointInput {
                url: format!("{base}/{path}"),
                topics: vec!["record.created".into()],
                objects: vec![object.to_string()],
                description: String::new(),
                enabled: true,
                ordered: false,
                timeout_seconds: webhooks::deliver::DEFAULT_TIMEOUT_SECONDS,
                breaker: webhooks::breaker::BreakerConfig::default(),
            },
        )
        .await?;
        ids.push(endpoint.id);
    }
    Ok(ids)
}

pub async fn run(args: DeliveriesArgs) -> Result<()> {
    if args.records == 0 {
        bail!("--records must be positive");
    }
    let store = args
        .storage
        .open()
        .await?
        .with_outbound(Outbound::allowing("127.0.0.1").map_err(anyhow::Error::msg)?);
    let backend = match store.db.dialect() {
        Dialect::Sqlite => "SQLite",
        Dialect::Postgres => "PostgreSQL",
    };
    let (ws, admin) = bench::ensure_admin(&store).await?;
    let (token, _) = bench::api_token(&store, &admin).await?;
    let object = format!("hook_{}", bench::run_tag());
    store
        .create_object(
            &ws,
            serde_json::from_value(json!({"api_name": object, "label": {"en": "Hook bench", "zh": "推送压测"},
                "plural_label": {"en": "Hook bench", "zh": "推送压测"}, "name_field": "name",
                "fields": [{"api_name": "name", "label": {"en": "Name", "zh": "名称"}, "type": "text"}]}))?,
        )
        .await?;

    let receiver = Receiver {
        t0: Instant::now(),
        got: Arc::default(),
    };
    let app = axum::Router::new()
        .route("/{path}", axum::routing::post(receive))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let hooks = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    let server = bench::Server::start(&store).await?;
    let client = bench::http_client(&format!("Bearer {token}"), 4)?;
    let n = args.records;
    println!("{backend}: {n} records, one signed message each per endpoint; the bare client posts as many bodies");

    // The bare client: the same bodies, as many at once as a delivery job sends.
    let body = json!({"type": "record.created", "timestamp": "2026-12-07T00:00:00Z",
        "data": {"object": object, "id": "x", "change": {"name": "webhook bench"}}})
    .to_string();
    let bare_client = reqwest::Client::new();
    let started = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..BARE_AT_ONCE {
        let (client, next, url, body) = (
            bare_client.clone(),
            next.clone(),
            format!("{hooks}/bare"),
            body.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < n {
                client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await?;
            }
            Ok::<_, reqwest::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let bare = n as f64 / started.elapsed().as_secs_f64();
    println!("bare client: {bare:.0} posts/s");

    // One endpoint.
    subscribe(&store, &ws, &hooks, &["one"], &object).await?;
    receiver.clear();
    let t0 = receiver.t0;
    let started = t0.elapsed();
    let committed = write(&client, &server.base, &object, n, t0).await?;
    drain(&receiver, &["one"], n).await?;
    let one = rate(&receiver, &["one"], n, started);
    println!("one endpoint: {one:.0} deliveries/s");
    let one_delay = delays(&receiver, "one", &committed);

    // Five healthy endpoints, then four healthy and one that times out.
    let healthy = ["a", "b", "c", "d", "e"];
    subscribe(&store, &ws, &hooks, &healthy, &object).await?;
    receiver.clear();
    let started = t0.elapsed();
    let committed = write(&client, &server.base, &object, n, t0).await?;
    drain(&receiver, &healthy, n).await?;
    // The same four endpoints are counted in both runs.
    let five = rate(&receiver, &healthy[..4], n, started);
    println!("five healthy endpoints: {five:.0} deliveries/s to four of them");
    let five_delay = delays(&receiver, "a", &committed);

    let with_slow = ["a", "b", "c", "d", "slow"];
    subscribe(&store, &ws, &hooks, &with_slow, &object).await?;
    receiver.clear();
    let started = t0.elapsed();
    let committed = write(&client, &server.base, &object, n, t0).await?;
    // A dead destination may hold the others up for long: this run is measured over what the
    // healthy four received within SLOW_WINDOW.
    let window_start = Instant::now();
    while with_slow[..4].iter().any(|p| receiver.count(p) < n)
        && window_start.elapsed() < SLOW_WINDOW
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let got: usize = with_slow[..4].iter().map(|p| receiver.count(p)).sum();
    let four = got as f64 / (t0.elapsed() - started).as_secs_f64().max(0.001);
    println!(
        "four healthy and one timing out: {four:.0} deliveries/s to the four ({got} of {})",
        4 * n
    );
    let four_delay = delays(&receiver, "a", &committed);
    for endpoint in webhooks::list(&store, &ws).await? {
        webhooks::delete(&store, &ws, &endpoint.id).await?;
    }
    server.stop().await;

    let mut md = String::new();
    let _ = writeln!(md, "### Deliveries, {backend} ({})", bench::machine());
    if let Some(note) = &args.note {
        let _ = writeln!(md, "\n{note}");
    }
    let _ = writeln!(
        md,
        "\n{n} records per run; a node's webhooks queue runs {QUEUE_CONCURRENCY} delivery jobs at once, each of up to {} messages of one endpoint sent {BARE_AT_ONCE} at a time; load average at the end {}.\n",
        webhooks::deliver::BATCH,
        bench::load_average()
    );
    let _ = writeln!(md, "| run | deliveries/s | commit → delivery p50 | p99 |");
    let _ = writeln!(md, "|---|---:|---:|---:|");
    let _ = writeln!(
        md,
        "| bare client, same bodies, {BARE_AT_ONCE} at once | {bare:.0} | | |"
    );
    let _ = writeln!(
        md,
        "| Rapport, one endpoint | {one:.0} ({:.2}× bare) | {} ms | {} ms |",
        one / bare,
        one_delay.p50.as_millis(),
        one_delay.p99.as_millis()
    );
    let _ = writeln!(
        md,
        "| Rapport, five healthy endpoints (four counted) | {five:.0} | {} ms | {} ms |",
        five_delay.p50.as_millis(),
        five_delay.p99.as_millis()
    );
    let _ = writeln!(
        md,
        "| Rapport, four healthy and one timing out (first {} s) | {four:.0} ({:.2}× the healthy run) | {} ms | {} ms |",
        SLOW_WINDOW.as_secs(),
        four / five.max(0.001),
        four_delay.p50.as_millis(),
        four_delay.p99.as_millis()
    );
    let _ = writeln!(
        md,
        "\nGoals (2 cores): ≥ 2,000 deliveries/s — {}; with one of five destinations timing out the other four keep ≥ 0.9× — {}.\n",
        bench::met(one >= 2_000.0),
        bench::met(four >= 0.9 * five)
    );
    bench::publish(&md, args.out.as_deref())
}
