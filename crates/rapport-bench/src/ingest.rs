//! `rapport-bench ingest`: measures event ingestion (`POST /v1/batch`) against the same rows
//! inserted by the bare driver (sqlx) into `cdp_events` on the same database in the same run.
//!
//! It opens the store, makes sure there is a workspace and an administrator, starts the real
//! server in-process on loopback, creates a source and registers the track events through the
//! admin API, then drives `/v1/batch` from `--concurrency` connections in a closed loop with
//! requests of `--batch` events (80% track, 15% page, 5% identify, from `--users` users drawn
//! Zipf-like). It checks that `cdp_events` holds exactly the acknowledged events and measures
//! the group commit's size. The baselines insert prepared rows with multi-row
//! `INSERT … ON CONFLICT DO NOTHING`: one transaction of `--batch` rows (what one request
//! commits), then transactions of the group size the server achieved. Results are a Markdown
//! section printed and appended to `--out`.

use crate::common::{self as bench, Bare, Call, Stats};
use anyhow::{bail, Context, Result};
use clap::Args;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rapport_core::sql::{ColumnKind, Dialect, SqlParam};
use rapport_store::cli::StorageArgs;
use rapport_store::schema::placeholder;
use rapport_store::Store;
use serde_json::{json, Value as Json};
use sqlx::SqlitePool;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct IngestArgs {
    #[command(flatten)]
    storage: StorageArgs,
    /// Measured seconds of each run (Rapport, then each baseline).
    #[arg(long, default_value_t = 20)]
    duration_secs: u64,
    /// Unmeasured seconds before each run.
    #[arg(long, default_value_t = 2)]
    warmup_secs: u64,
    /// Concurrent connections (HTTP) or tasks (bare SQL).
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Events per `/v1/batch` request, and rows per transaction of the first baseline.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Distinct users the events come from (drawn Zipf-like: a few are heavy).
    #[arg(long, default_value_t = 1_000_000)]
    users: u64,
    /// Append the Markdown results to this file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// A remark printed under the section's heading.
    #[arg(long)]
    note: Option<String>,
}

/// Rows per INSERT statement, as the group commit writes them.
const CHUNK: usize = 1_000;
/// Events prepared once for the bare baselines (reused with fresh message ids).
const POOL_ROWS: usize = 4_096;
/// The most the bench waits for the CRM sync queue to drain before the baselines.
const DRAIN_LIMIT: Duration = Duration::from_secs(180);
/// Zipf exponent of the user draw.
const ZIPF_S: f64 = 0.8;

// ---------------------------------------------------------------------------------------------
// The events.

/// Track events and their share of all events (percent); pages and identifies make the rest.
const TRACKS: [(&str, u32); 5] = [
    ("Product Viewed", 40),
    ("Products Searched", 15),
    ("Product Added", 12),
    ("Checkout Started", 7),
    ("Order Completed", 6),
];
const PAGE_SHARE: u32 = 15;
const PRODUCTS: [(&str, &str, &str, u32); 8] = [
    ("SKU-10021", "保温杯 500ml", "家居", 129),
    ("SKU-20417", "无线蓝牙耳机", "数码", 399),
    ("SKU-31008", "跑步鞋 Air Zoom", "运动", 699),
    ("SKU-40112", "西湖龙井礼盒", "食品", 268),
    ("SKU-52090", "机械键盘 87键", "数码", 459),
    ("SKU-60733", "真丝围巾", "服饰", 329),
    ("SKU-71145", "空气净化器", "家电", 1299),
    ("SKU-80506", "Kids Backpack", "母婴", 159),
];
const QUERIES: [&str; 6] = [
    "保温杯",
    "蓝牙耳机 降噪",
    "running shoes",
    "龙井",
    "机械键盘",
    "围巾 女",
];
const PAGES: [(&str, &str); 5] = [
    ("首页", "/"),
    ("商品详情", "/p/SKU-10021"),
    ("搜索结果", "/search?q=%E4%BF%9D%E6%B8%A9%E6%9D%AF"),
    ("购物车", "/cart"),
    ("会员中心", "/account"),
];
const REFERRERS: [&str; 3] = [
    "https://www.baidu.com/",
    "https://weixin.qq.com/",
    "https://shop.example.cn/",
];
const PAYMENTS: [&str; 3] = ["微信支付", "支付宝", "银联"];

fn pick<T: Copy>(items: &[T], random: u64) -> Option<T> {
    let n = u64::try_from(items.len()).ok().filter(|n| *n > 0)?;
    items.get(usize::try_from(random % n).ok()?).copied()
}

/// What an event is, as the `kind` and `name` columns store it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Track(&'static str),
    Page(&'static str),
    Identify,
}

impl Kind {
    fn draw(rng: &mut StdRng) -> Kind {
        let mut roll = rng.gen_range(0..100u32);
        for (name, share) in TRACKS {
            if roll < share {
                return Kind::Track(name);
            }
            roll -= share;
        }
        if roll < PAGE_SHARE {
            Kind::Page(pick(&PAGES, rng.gen()).map_or("首页", |(name, _)| name))
        } else {
            Kind::Identify
        }
    }

    fn column(self) -> &'static str {
        match self {
            Kind::Track(_) => "track",
            Kind::Page(_) => "page",
            Kind::Identify => "identify",
        }
    }

    fn name(self) -> Option<&'static str> {
        match self {
            Kind::Track(name) | Kind::Page(name) => Some(name),
            Kind::Identify => None,
        }
    }
}

/// The users events come from: ranks 1..=n, rank 1 the heaviest, drawn from the continuous
/// approximation of Zipf's law with exponent `ZIPF_S`.
struct Users {
    n: u64,
    /// n^(1−s) − 1.
    c: f64,
}

impl Users {
    fn new(n: u64) -> Users {
        let n = n.max(1);
        Users {
            n,
            c: (n as f64).powf(1.0 - ZIPF_S) - 1.0,
        }
    }

    fn draw(&self, rng: &mut StdRng) -> u64 {
        let u: f64 = rng.gen();
        let rank = (self.c * u + 1.0).powf(1.0 / (1.0 - ZIPF_S));
        (rank as u64).clamp(1, self.n)
    }

    /// The share of events sent by the heaviest `fraction` of users.
    fn share(&self, fraction: f64) -> f64 {
        if self.c <= 0.0 {
            return 1.0;
        }
        (((self.n as f64 * fraction).max(1.0)).powf(1.0 - ZIPF_S) - 1.0) / self.c
    }
}

/// A user's stable anonymous id (the device it first came from).
fn anonymous_id(user: u64) -> String {
    // splitmix64: a fixed, well-spread 64-bit value per user.
    let mut z = user.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    format!("anon-{:016x}", z ^ (z >> 31))
}

/// A user's display name, stable per user (for identify traits).
fn user_name(user: u64) -> String {
    let family = pick(&bench::FAMILY, user).map_or("王", |(f, _)| f);
    let given = pick(&bench::GIVEN, user / 20).unwrap_or("伟");
    format!("{family}{given}")
}

/// Appends one event (Segment JSON) to `out`, with messageId `{prefix}{k}`, and says what it is.
fn write_event(
    out: &mut String,
    rng: &mut StdRng,
    users: &Users,
    prefix: &str,
    k: usize,
    timestamp: &str,
) -> (Kind, u64) {
    let kind = Kind::draw(rng);
    let user = users.draw(rng);
    let anonymous = anonymous_id(user);
    let _ = write!(out, "{{\"type\":\"{}\",", kind.column());
    match kind {
        Kind::Track(name) => {
            let _ = write!(out, "\"event\":\"{name}\",");
        }
        Kind::Page(name) => {
            let _ = write!(out, "\"name\":\"{name}\",");
        }
        Kind::Identify => {}
    }
    let _ = write!(
        out,
        "\"userId\":\"u{user}\",\"anonymousId\":\"{anonymous}\",\"messageId\":\"{prefix}{k}\",\"timestamp\":\"{timestamp}\","
    );
    let (sku, product, category, price) = pick(&PRODUCTS, rng.gen()).unwrap_or(PRODUCTS[0]);
    let _ = match kind {
        Kind::Track("Product Viewed") => write!(
            out,
            "\"properties\":{{\"product_id\":\"{sku}\",\"name\":\"{product}\",\"category\":\"{category}\",\"price\":{price},\"currency\":\"CNY\"}}"
        ),
        Kind::Track("Products Searched") => write!(
            out,
            "\"properties\":{{\"query\":\"{}\",\"results\":{}}}",
            pick(&QUERIES, rng.gen()).unwrap_or("保温杯"),
            rng.gen_range(0..200u32)
        ),
        Kind::Track("Product Added") => write!(
            out,
            "\"properties\":{{\"product_id\":\"{sku}\",\"name\":\"{product}\",\"price\":{price},\"quantity\":{},\"currency\":\"CNY\"}}",
            rng.gen_range(1..4u32)
        ),
        Kind::Track(_) => {
            let items = rng.gen_range(1..6u32);
            write!(
                out,
                "\"properties\":{{\"order_id\":\"O{:010}\",\"total\":{}.{:02},\"currency\":\"CNY\",\"products\":{items},\"payment\":\"{}\"}}",
                rng.gen_range(0..10_000_000_000u64),
                price * items,
                rng.gen_range(0..100u32),
                pick(&PAYMENTS, rng.gen()).unwrap_or("微信支付")
            )
        }
        Kind::Page(name) => {
            let path = PAGES
                .iter()
                .find(|(n, _)| *n == name)
                .map_or("/", |(_, p)| p);
            write!(
                out,
                "\"properties\":{{\"path\":\"{path}\",\"url\":\"https://shop.example.cn{path}\",\"title\":\"{name} - 示例商城\",\"referrer\":\"{}\"}}",
                pick(&REFERRERS, rng.gen()).unwrap_or("")
            )
        }
        Kind::Identify => write!(
            out,
            "\"traits\":{{\"email\":\"u{user}@example.cn\",\"name\":\"{}\"}}",
            user_name(user)
        ),
    };
    out.push_str(
        ",\"context\":{\"library\":{\"name\":\"analytics-python\",\"version\":\"2.3.3\"},\"locale\":\"zh-CN\"}}",
    );
    (kind, user)
}

// ---------------------------------------------------------------------------------------------
// Rapport over HTTP.

/// The tracking load and what the answers said.
struct Ingest {
    client: reqwest::Client,
    url: String,
    users: Users,
    batch: usize,
    tag: String,
    accepted: AtomicU64,
    duplicates: AtomicU64,
    /// Rejected or quarantined events (there should be none).
    held: AtomicU64,
    first_held: Mutex<Option<String>>,
}

impl Ingest {
    /// One request body; message ids `{tag}-{phase}{task}-{iter}-{k}` are unique in the run.
    fn body(&self, phase: char, call: Call) -> String {
        let mut rng = StdRng::seed_from_u64(call.random);
        let timestamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let prefix = format!("{}-{phase}{}-{}-", self.tag, call.task, call.iter);
        let mut out = String::with_capacity(self.batch * 480 + 64);
        out.push_str("{\"batch\":[");
        for k in 0..self.batch {
            if k > 0 {
                out.push(',');
            }
            write_event(&mut out, &mut rng, &self.users, &prefix, k, &timestamp);
        }
        let _ = write!(out, "],\"sentAt\":\"{timestamp}\"}}");
        out
    }

    async fn send(self: Arc<Self>, phase: char, call: Call) -> Result<(), String> {
        let request = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(self.body(phase, call))
            .send();
        let body = bench::body_of(request.await).await?;
        let report: Json =
            serde_json::from_slice(body.as_ref()).map_err(|e| format!("unreadable answer: {e}"))?;
        let count = |key: &str| report.get(key).and_then(Json::as_u64).unwrap_or(0);
        let held: Vec<&Json> = ["rejected", "quarantined"]
            .iter()
            .filter_map(|key| report.get(*key).and_then(Json::as_array))
            .flatten()
            .collect();
        self.accepted.fetch_add(count("accepted"), Relaxed);
        self.duplicates.fetch_add(count("duplicates"), Relaxed);
        if let Some(first) = held.first() {
            self.held
                .fetch_add(u64::try_from(held.len()).unwrap_or(0), Relaxed);
            if let Ok(mut slot) = self.first_held.lock() {
                slot.get_or_insert_with(|| first.to_string());
            }
        }
        Ok(())
    }
}

/// A warm-up run (discarded), `between`, then the measured run; `op(phase)` makes the operation
/// of a phase ('w' warm-up, 'm' measured).
async fn measure<F, Fut>(
    args: &IngestArgs,
    label: &str,
    op: impl Fn(char) -> F,
    between: impl FnOnce(),
) -> Result<Stats>
where
    F: Fn(Call) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let load = bench::load_average();
    if args.warmup_secs > 0 {
        bench::drive(
            args.concurrency,
            Duration::from_secs(args.warmup_secs),
            Arc::new(op('w')),
        )
        .await?;
    }
    between();
    let mut stats = bench::drive(
        args.concurrency,
        Duration::from_secs(args.duration_secs),
        Arc::new(op('m')),
    )
    .await?;
    stats.load = load;
    println!(
        "  {label:<40} {:>8.0} ops/s  p50 {:>9}  p99 {:>9}  errors {}{}",
        stats.per_sec(),
        bench::ms(stats.p50_us),
        bench::ms(stats.p99_us),
        stats.errors,
        stats
            .first_error
            .as_deref()
            .map(|e| format!(" (first: {e})"))
            .unwrap_or_default()
    );
    Ok(stats)
}

// ---------------------------------------------------------------------------------------------
// The group commit's size.

/// Counts, on SQLite's one writer connection, the transactions that inserted into `cdp_events`
/// (an update hook marks the transaction, the commit hook counts it).
async fn count_event_commits(writer: &SqlitePool) -> Result<Arc<AtomicU64>> {
    let commits = Arc::new(AtomicU64::new(0));
    let touched = Arc::new(AtomicBool::new(false));
    let mut conn = writer.acquire().await?;
    let mut handle = conn.lock_handle().await?;
    let mark = touched.clone();
    handle.set_update_hook(move |change| {
        if change.table == "cdp_events" {
            mark.store(true, Relaxed);
        }
    });
    let (mark, counter) = (touched.clone(), commits.clone());
    handle.set_commit_hook(move || {
        if mark.swap(false, Relaxed) {
            counter.fetch_add(1, Relaxed);
        }
        true
    });
    handle.set_rollback_hook(move || touched.store(false, Relaxed));
    Ok(commits)
}

async fn stop_counting(writer: &SqlitePool) -> Result<()> {
    let mut conn = writer.acquire().await?;
    let mut handle = conn.lock_handle().await?;
    handle.remove_update_hook();
    handle.remove_commit_hook();
    handle.remove_rollback_hook();
    Ok(())
}

/// On PostgreSQL, the transactions that wrote the measured events: their distinct `xmin`.
async fn pg_event_commits(store: &Store, source_id: &str, pattern: &str) -> Result<(u64, u64)> {
    let row = store
        .db
        .fetch_optional(
            "SELECT COUNT(DISTINCT xmin::text), COUNT(*) FROM cdp_events WHERE source_id = $1 AND message_id LIKE $2",
            &[
                SqlParam::Text(source_id.into()),
                SqlParam::Text(pattern.into()),
            ],
            &[ColumnKind::Int, ColumnKind::Int],
        )
        .await?
        .context("COUNT returned no row")?;
    Ok((
        u64::try_from(row.int(0)?).unwrap_or(0),
        u64::try_from(row.int(1)?).unwrap_or(0),
    ))
}

// ---------------------------------------------------------------------------------------------
// The bare baselines.

/// One prepared `cdp_events` row (everything but the ids that make it unique).
struct BareRow {
    kind: &'static str,
    name: Option<&'static str>,
    profile_id: String,
    user_id: String,
    anonymous_id: String,
    ts: i64,
    received_at: i64,
    body: String,
}

struct BareLoad {
    bare: Bare,
    ws: String,
    /// A source id of its own, so the baseline's rows never meet Rapport's.
    source_id: String,
    tag: String,
    rows: Vec<BareRow>,
    /// Rows per statement → the INSERT.
    statements: HashMap<usize, String>,
}

/// The same kind of events as the load, serialized once, with a made-up profile per user.
fn bare_rows(users: &Users, tag: &str) -> Vec<BareRow> {
    let mut rng = StdRng::seed_from_u64(7);
    let now = chrono::Utc::now();
    let timestamp = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let ms = now.timestamp_millis();
    let mut profiles: HashMap<u64, String> = HashMap::new();
    (0..POOL_ROWS)
        .map(|k| {
            let mut body = String::with_capacity(480);
            let (kind, user) = write_event(
                &mut body,
                &mut rng,
                users,
                &format!("{tag}-pool-"),
                k,
                &timestamp,
            );
            BareRow {
                kind: kind.column(),
                name: kind.name(),
                profile_id: profiles.entry(user).or_insert_with(bench::uuid_v7).clone(),
                user_id: format!("u{user}"),
                anonymous_id: anonymous_id(user),
                ts: ms,
                received_at: ms,
                body,
            }
        })
        .collect()
}

/// `INSERT … VALUES (…) × rows ON CONFLICT DO NOTHING`, as the group commit writes events. On
/// SQLite the parameters are anonymous (`?`): with numbered ones (`?N`) sqlx looks each name up
/// with `sqlite3_bind_parameter_name`, a linear scan, so binding costs grow with the square of
/// the parameters (11,000 for 1,000 rows).
fn insert_sql(dialect: Dialect, rows: usize) -> String {
    let values: Vec<String> = (0..rows)
        .map(|r| {
            let cols: Vec<String> = (1..=11)
                .map(|c| match dialect {
                    Dialect::Sqlite => "?".to_string(),
                    Dialect::Postgres if c == 11 => format!("${}::jsonb", r * 11 + c),
                    Dialect::Postgres => placeholder(dialect, r * 11 + c),
                })
                .collect();
            format!("({})", cols.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO cdp_events (workspace_id, source_id, message_id, kind, name, profile_id, user_id, anonymous_id, ts, received_at, body) \
         VALUES {} ON CONFLICT (source_id, message_id) DO NOTHING",
        values.join(", ")
    )
}

/// One transaction of `message_ids.len()` rows, in statements of at most `CHUNK` rows.
macro_rules! insert_rows {
    ($pool:expr, $load:expr, $ids:expr, $start:expr) => {{
        let mut tx = $pool.begin().await.map_err(bench::err)?;
        for (c, chunk) in $ids.chunks(CHUNK).enumerate() {
            let sql = $load
                .statements
                .get(&chunk.len())
                .ok_or_else(|| format!("no statement for {} rows", chunk.len()))?;
            let mut query = sqlx::query(sql);
            for (k, id) in chunk.iter().enumerate() {
                let row = &$load.rows[($start + c * CHUNK + k) % $load.rows.len()];
                query = query
                    .bind(&$load.ws)
                    .bind(&$load.source_id)
                    .bind(id)
                    .bind(row.kind)
                    .bind(row.name)
                    .bind(&row.profile_id)
                    .bind(&row.user_id)
                    .bind(&row.anonymous_id)
                    .bind(row.ts)
                    .bind(row.received_at)
                    .bind(&row.body);
            }
            let done = query.execute(&mut *tx).await.map_err(bench::err)?;
            if usize::try_from(done.rows_affected()).ok() != Some(chunk.len()) {
                return Err(format!(
                    "{} of {} rows inserted",
                    done.rows_affected(),
                    chunk.len()
                ));
            }
        }
        tx.commit().await.map_err(bench::err)
    }};
}

async fn bare_insert(
    load: Arc<BareLoad>,
    per_tx: usize,
    phase: char,
    call: Call,
) -> Result<(), String> {
    let prefix = format!("{}-b{per_tx}-{phase}{}-{}-", load.tag, call.task, call.iter);
    let ids: Vec<String> = (0..per_tx).map(|k| format!("{prefix}{k}")).collect();
    let start = usize::try_from(call.random % POOL_ROWS as u64).unwrap_or(0);
    match &load.bare {
        Bare::Sqlite { writer, .. } => insert_rows!(writer, load, ids, start),
        Bare::Postgres(pool) => insert_rows!(pool, load, ids, start),
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers on the store.

async fn count(store: &Store, sql: &str, param: &str) -> Result<u64> {
    let row = store
        .db
        .fetch_optional(sql, &[SqlParam::Text(param.into())], &[ColumnKind::Int])
        .await?
        .context("COUNT returned no row")?;
    Ok(u64::try_from(row.int(0)?).unwrap_or(0))
}

/// Waits (at most `DRAIN_LIMIT`) until the workspace's CRM sync queue is empty, so the sync
/// loop does not compete with the baselines. Returns the wait and what is left.
async fn drain_sync_queue(store: &Store, ws: &str) -> Result<(Duration, u64)> {
    let sql = format!(
        "SELECT COUNT(*) FROM cdp_sync_queue WHERE workspace_id = {}",
        placeholder(store.db.dialect(), 1)
    );
    let started = Instant::now();
    loop {
        let left = count(store, &sql, ws).await?;
        if left == 0 || started.elapsed() >= DRAIN_LIMIT {
            return Ok((started.elapsed(), left));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn number(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

// ---------------------------------------------------------------------------------------------

/// What the run found, for the report.
struct Findings {
    backend: &'static str,
    version: String,
    rapport: Stats,
    accepted: u64,
    duplicates: u64,
    held: u64,
    first_held: Option<String>,
    /// Events stored for the source, and events acknowledged (warm-up included).
    stored: u64,
    acknowledged: u64,
    /// Measured events and the transactions that wrote them.
    group: Option<(u64, u64)>,
    group_rows: usize,
    profiles: u64,
    identities: u64,
    drain: (Duration, u64),
    bare_batch: Stats,
    bare_group: Stats,
}

impl Findings {
    fn events_per_sec(&self) -> f64 {
        self.accepted as f64 / self.rapport.elapsed.as_secs_f64().max(0.001)
    }
}

fn rows_per_sec(stats: &Stats, per_tx: usize) -> f64 {
    stats.per_sec() * per_tx as f64
}

pub async fn run(args: IngestArgs) -> Result<()> {
    if args.concurrency == 0 || args.duration_secs == 0 || args.users == 0 {
        bail!("--concurrency, --duration-secs and --users must be positive");
    }
    if args.batch == 0 || args.batch > CHUNK {
        bail!("--batch goes from 1 to {CHUNK}");
    }
    let store = args.storage.open().await?;
    let backend = match store.db.dialect() {
        Dialect::Sqlite => "SQLite",
        Dialect::Postgres => "PostgreSQL",
    };
    let bare = Bare::of(&store.db);
    let version = bench::db_version(&bare).await;
    let (ws, admin) = bench::ensure_admin(&store).await?;
    let (token, _) = bench::api_token(&store, &admin).await?;
    let tag = bench::run_tag();

    // The server, a source and the registered events.
    let server = bench::Server::start(&store).await?;
    let admin_client = bench::http_client(&format!("Bearer {token}"), 1)?;
    let source = bench::body_of(
        admin_client
            .post(format!("{}/api/v1/cdp/sources", server.base))
            .json(&json!({"name": format!("bench-ingest {tag}"), "kind": "server"}))
            .send()
            .await,
    )
    .await
    .map_err(|e| anyhow::anyhow!("creating the source: {e}"))?;
    let source: Json = serde_json::from_slice(source.as_ref())?;
    let text = |key: &str| {
        source
            .get(key)
            .and_then(Json::as_str)
            .map(str::to_string)
            .with_context(|| format!("the new source has no {key}"))
    };
    let (source_id, write_key) = (text("id")?, text("write_key")?);
    for (name, _) in TRACKS {
        bench::body_of(
            admin_client
                .post(format!("{}/api/v1/cdp/event-types", server.base))
                .json(&json!({"name": name, "schema": {"type": "object"}}))
                .send()
                .await,
        )
        .await
        .map_err(|e| anyhow::anyhow!("registering {name}: {e}"))?;
    }
    // The Basic header reqwest would send, made once.
    let basic = reqwest::Client::new()
        .get(&server.base)
        .basic_auth(&write_key, Some(""))
        .build()?
        .headers()
        .get(reqwest::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .context("no Basic authorization header")?;
    let load = Arc::new(Ingest {
        client: bench::http_client(&basic, args.concurrency)?,
        url: format!("{}/v1/batch", server.base),
        users: Users::new(args.users),
        batch: args.batch,
        tag: tag.clone(),
        accepted: AtomicU64::new(0),
        duplicates: AtomicU64::new(0),
        held: AtomicU64::new(0),
        first_held: Mutex::new(None),
    });

    println!(
        "{backend}: {} connections, POST /v1/batch of {} events, {} s after {} s of warm-up",
        args.concurrency, args.batch, args.duration_secs, args.warmup_secs
    );
    let commits = match &bare {
        Bare::Sqlite { writer, .. } => Some(count_event_commits(writer).await?),
        Bare::Postgres(_) => None,
    };
    let (mut before_accepted, mut before_commits) = (0, 0);
    let rapport = measure(
        &args,
        "Rapport POST /v1/batch (requests)",
        |phase| {
            let load = load.clone();
            move |call| load.clone().send(phase, call)
        },
        || {
            before_accepted = load.accepted.load(Relaxed);
            before_commits = commits.as_ref().map_or(0, |c| c.load(Relaxed));
        },
    )
    .await?;
    let acknowledged = load.accepted.load(Relaxed);
    let accepted = acknowledged - before_accepted;
    let group = match (&bare, &commits) {
        (Bare::Sqlite { writer, .. }, Some(c)) => {
            let n = c.load(Relaxed) - before_commits;
            stop_counting(writer).await?;
            Some((accepted, n))
        }
        _ => {
            let (n, events) = pg_event_commits(&store, &source_id, &format!("{tag}-m%")).await?;
            Some((events, n))
        }
    }
    .filter(|(_, n)| *n > 0);
    let group_rows = group.map_or(CHUNK, |(events, n)| {
        usize::try_from(events / n).unwrap_or(CHUNK).max(args.batch)
    });
    let stored = count(
        &store,
        &format!(
            "SELECT COUNT(*) FROM cdp_events WHERE source_id = {}",
            placeholder(store.db.dialect(), 1)
        ),
        &source_id,
    )
    .await?;
    println!(
        "  acknowledged {acknowledged} events, {stored} stored for the source; {}",
        group.map_or("group size not measured".into(), |(e, n)| format!(
            "{n} group commits, {:.0} events each",
            e as f64 / n as f64
        ))
    );
    let p = placeholder(store.db.dialect(), 1);
    let profiles = count(
        &store,
        &format!("SELECT COUNT(*) FROM cdp_profiles WHERE workspace_id = {p}"),
        &ws,
    )
    .await?;
    let identities = count(
        &store,
        &format!("SELECT COUNT(*) FROM cdp_identities WHERE workspace_id = {p}"),
        &ws,
    )
    .await?;
    // The server's workers drain the queue: it stops only after, so the baselines run alone.
    println!("  waiting for the CRM sync queue to drain…");
    let drain = drain_sync_queue(&store, &ws).await?;
    server.stop().await;

    // The baselines.
    println!("bare sqlx, multi-row INSERT … ON CONFLICT DO NOTHING into cdp_events:");
    let mut statements = HashMap::new();
    for rows in [args.batch, group_rows.min(CHUNK), group_rows % CHUNK] {
        if rows > 0 {
            statements.insert(rows, insert_sql(store.db.dialect(), rows));
        }
    }
    let bare_load = Arc::new(BareLoad {
        bare: bare.clone(),
        ws: ws.clone(),
        source_id: format!("bench-bare-{tag}"),
        tag: tag.clone(),
        rows: bare_rows(&load.users, &tag),
        statements,
    });
    let mut bare_stats = Vec::new();
    for per_tx in [args.batch, group_rows] {
        let label = format!("bare, {per_tx} rows per transaction");
        let stats = measure(
            &args,
            &label,
            |phase| {
                let bare_load = bare_load.clone();
                move |call| bare_insert(bare_load.clone(), per_tx, phase, call)
            },
            || {},
        )
        .await?;
        println!("  {:<40} {:>8.0} rows/s", "", rows_per_sec(&stats, per_tx));
        bare_stats.push(stats);
    }
    let started = Instant::now();
    let removed = store
        .db
        .execute(
            &format!("DELETE FROM cdp_events WHERE source_id = {p}"),
            &[SqlParam::Text(bare_load.source_id.clone())],
        )
        .await?;
    println!(
        "  removed the baselines' {removed} rows in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let bare_group = bare_stats.pop().unwrap_or_default();
    let bare_batch = bare_stats.pop().unwrap_or_default();
    let first_held = load.first_held.lock().ok().and_then(|s| s.clone());
    let findings = Findings {
        backend,
        version,
        rapport,
        accepted,
        duplicates: load.duplicates.load(Relaxed),
        held: load.held.load(Relaxed),
        first_held,
        stored,
        acknowledged,
        group,
        group_rows,
        profiles,
        identities,
        drain,
        bare_batch,
        bare_group,
    };
    let md = report(&args, &findings, &load.users);
    bench::publish(&md, args.out.as_deref())?;
    store.db.close().await;
    Ok(())
}

fn report(args: &IngestArgs, f: &Findings, users: &Users) -> String {
    let mut md = String::new();
    let now = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let _ = writeln!(md, "## Ingestion, {}: {now}\n", f.backend);
    if let Some(note) = &args.note {
        let _ = writeln!(md, "> {note}\n");
    }
    let _ = writeln!(md, "- Machine: {}", bench::machine());
    let _ = writeln!(
        md,
        "- 1-minute load average at the start of each run (Rapport, bare {}, bare {}): {}, {}, {}",
        args.batch, f.group_rows, f.rapport.load, f.bare_batch.load, f.bare_group.load
    );
    let _ = writeln!(md, "- Database: {}; build profile: {profile}", f.version);
    let _ = writeln!(
        md,
        "- Load: {} connections over loopback (one keep-alive HTTP/1.1 client in the server's process), each in a closed loop sending `POST /v1/batch` with {} events; {} s measured after {} s of warm-up. Bare sqlx: {} tasks on the store's own pools for the same time",
        args.concurrency, args.batch, args.duration_secs, args.warmup_secs, args.concurrency
    );
    let _ = writeln!(
        md,
        "- Events: 80% track ({}), 15% page, 5% identify (traits email and name); every event has a userId and that user's stable anonymousId; {} users drawn Zipf-like (s = {ZIPF_S}): the top 1% of users send {:.0}% of the events, the top 20% {:.0}%",
        TRACKS
            .iter()
            .map(|(name, share)| format!("{name} {share}%"))
            .collect::<Vec<_>>()
            .join(", "),
        number(args.users),
        users.share(0.01) * 100.0,
        users.share(0.2) * 100.0
    );
    let _ = writeln!(
        md,
        "- Check: `cdp_events` holds {} rows for the source, {} events were acknowledged (warm-up included): {}; duplicates {}, rejected or quarantined {}{}",
        number(f.stored),
        number(f.acknowledged),
        if f.stored == f.acknowledged {
            "equal"
        } else {
            "**they differ**"
        },
        f.duplicates,
        f.held,
        f.first_held
            .as_deref()
            .map(|h| format!(" (first: {h})"))
            .unwrap_or_default()
    );
    let _ = writeln!(
        md,
        "- Group commit: {}",
        match f.group {
            Some((events, commits)) => format!(
                "{} transactions wrote the {} measured events: {:.0} events ({:.1} requests) per commit{}",
                number(commits),
                number(events),
                events as f64 / commits as f64,
                events as f64 / commits as f64 / args.batch as f64,
                match f.backend {
                    "SQLite" => " (counted by commit and update hooks on the writer connection)",
                    _ => " (distinct `xmin` of the rows)",
                }
            ),
            None => format!(
                "not measured; the second baseline uses {} rows per transaction",
                number(f.group_rows as u64)
            ),
        }
    );
    let _ = writeln!(
        md,
        "- After the run the workspace has {} profiles and {} identities; the identify → CRM contact sync queue took {:.0} s to drain before the baselines{}\n",
        number(f.profiles),
        number(f.identities),
        f.drain.0.as_secs_f64(),
        if f.drain.1 > 0 {
            format!(" and still held {} entries", number(f.drain.1))
        } else {
            String::new()
        }
    );
    let _ = writeln!(
        md,
        "| run | events (rows)/s | requests (transactions)/s | p50 | p99 | errors | Rapport ÷ bare |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|");
    let events = f.events_per_sec();
    let _ = writeln!(
        md,
        "| Rapport `POST /v1/batch`, {} events per request | {events:.0} | {:.0} | {} | {} | {} | |",
        args.batch,
        f.rapport.per_sec(),
        bench::ms(f.rapport.p50_us),
        bench::ms(f.rapport.p99_us),
        f.rapport.errors
    );
    let mut ratios = Vec::new();
    for (stats, per_tx, what) in [
        (&f.bare_batch, args.batch, "what one request commits"),
        (
            &f.bare_group,
            f.group_rows,
            "the group size Rapport achieved",
        ),
    ] {
        let rows = rows_per_sec(stats, per_tx);
        let ratio = (rows > 0.0).then(|| events / rows);
        ratios.push((ratio, per_tx));
        let _ = writeln!(
            md,
            "| bare sqlx, {} rows per transaction ({what}) | {rows:.0} | {:.0} | {} | {} | {} | {} |",
            number(per_tx as u64),
            stats.per_sec(),
            bench::ms(stats.p50_us),
            bench::ms(stats.p99_us),
            stats.errors,
            ratio.map_or("n/a".into(), |r| format!("{r:.2}"))
        );
    }
    let _ = writeln!(
        md,
        "\nBare sqlx inserts prepared rows (the same kind of events, serialized once, with a made-up profile per user) into `cdp_events` with multi-row `INSERT … ON CONFLICT (source_id, message_id) DO NOTHING` in statements of up to {CHUNK} rows, as the group commit does, under a source id of its own (the rows are deleted afterwards): no HTTP, no parsing, no identity resolution, no validation, no data health. Rapport's events/s counts the `accepted` of the answers; a request's latency runs from sending it to its answer (the events committed)."
    );
    for (stats, who) in [
        (&f.rapport, "Rapport"),
        (&f.bare_batch, "bare (batch)"),
        (&f.bare_group, "bare (group)"),
    ] {
        if let Some(e) = &stats.first_error {
            let _ = writeln!(md, "\nFirst error of {who} ({} errors): {e}", stats.errors);
        }
    }
    let _ = writeln!(md, "\nGoals (stated for SQLite on 2 cores):\n");
    let _ = writeln!(
        md,
        "- ≥ 100,000 events/s{}: {events:.0}/s: {}",
        if f.backend == "SQLite" {
            ""
        } else {
            " (the goal is for SQLite; shown for reference)"
        },
        bench::met(events >= 100_000.0)
    );
    for (ratio, per_tx) in &ratios {
        let _ = writeln!(
            md,
            "- throughput ≥ 0.5 × bare insert ({} rows per transaction): {}: {}",
            number(*per_tx as u64),
            ratio.map_or("n/a (the baseline failed)".into(), |r| format!("{r:.2}×")),
            bench::met(ratio.is_some_and(|r| r >= 0.5))
        );
    }
    let _ = writeln!(
        md,
        "- p99 acknowledgement < 50 ms: {}: {}\n",
        bench::ms(f.rapport.p99_us),
        bench::met(f.rapport.p99_us < 50_000 && f.rapport.ops > 0)
    );
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn users_are_skewed_and_in_range() {
        let users = Users::new(1_000_000);
        let mut rng = StdRng::seed_from_u64(3);
        let draws: Vec<u64> = (0..100_000).map(|_| users.draw(&mut rng)).collect();
        assert!(draws.iter().all(|u| (1..=1_000_000).contains(u)));
        let top = draws.iter().filter(|u| **u <= 10_000).count() as f64 / draws.len() as f64;
        assert!((top - users.share(0.01)).abs() < 0.02, "top 1%: {top}");
        assert!(users.share(0.01) > 0.3 && users.share(0.2) > 0.65);
        assert_eq!(Users::new(1).draw(&mut rng), 1);
        assert!((Users::new(1).share(0.5) - 1.0).abs() < f64::EPSILON);
    }

    #[test]
    fn request_bodies_are_valid_segment_batches() {
        let load = Ingest {
            client: reqwest::Client::new(),
            url: String::new(),
            users: Users::new(1_000),
            batch: 1_000,
            tag: "t".into(),
            accepted: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            held: AtomicU64::new(0),
            first_held: Mutex::new(None),
        };
        let body = load.body(
            'm',
            Call {
                task: 3,
                iter: 9,
                random: 42,
            },
        );
        let value: Json = serde_json::from_str(&body).expect("valid JSON");
        let batch = value["batch"].as_array().expect("a batch");
        assert_eq!(batch.len(), 1_000);
        let ids: HashSet<&str> = batch
            .iter()
            .map(|e| e["messageId"].as_str().expect("messageId"))
            .collect();
        assert_eq!(ids.len(), 1_000);
        assert!(ids.contains("t-m3-9-0"));
        let share = |kind: &str| batch.iter().filter(|e| e["type"] == kind).count();
        assert!((700..900).contains(&share("track")), "{}", share("track"));
        assert!((100..200).contains(&share("page")));
        assert!((20..80).contains(&share("identify")));
        for event in batch {
            let user = event["userId"].as_str().expect("userId");
            let n: u64 = user[1..].parse().expect("u<n>");
            assert_eq!(
                event["anonymousId"].as_str(),
                Some(anonymous_id(n).as_str())
            );
            match event["type"].as_str() {
                Some("track") => {
                    let name = event["event"].as_str().expect("event");
                    assert!(TRACKS.iter().any(|(t, _)| *t == name));
                    assert!(event["properties"].is_object());
                }
                Some("page") => assert!(event["properties"]["url"].is_string()),
                Some("identify") => {
                    assert_eq!(event["traits"]["email"], format!("{user}@example.cn"));
                }
                other => panic!("unexpected type {other:?}"),
            }
        }
        assert!(body.len() < 500 * 1024, "{} bytes", body.len());
    }

    #[test]
    fn insert_statements_have_eleven_parameters_a_row() {
        let sqlite = insert_sql(Dialect::Sqlite, 2);
        assert!(sqlite.contains("VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?), (?, "));
        assert_eq!(sqlite.matches('?').count(), 22);
        assert!(sqlite.ends_with("?) ON CONFLICT (source_id, message_id) DO NOTHING"));
        let pg = insert_sql(Dialect::Postgres, 2);
        assert!(pg.contains("$10, $11::jsonb), ($12, "));
        assert!(pg.contains("$21, $22::jsonb) ON CONFLICT"));
    }

    #[test]
    fn numbers_get_thousands_separators() {
        assert_eq!(number(0), "0");
        assert_eq!(number(999), "999");
        assert_eq!(number(1_000), "1,000");
        assert_eq!(number(1_234_567), "1,234,567");
    }
}
