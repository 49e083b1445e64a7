//! `rapport-bench segments`: measures segments on a large data set: the full evaluation of the
//! example segment against DuckDB running the same SQL over the same events in the same run, the
//! delay from an event's acknowledgement to the membership change while events stream in, and
//! the server's memory.
//!
//! 1. Fill: on a freshly migrated database, it creates a workspace, a source, the event types,
//!    `--profiles` profiles (one user id each) and `--events` track events over the last 90 days,
//!    in time order, from profiles drawn with a heavy tail (a few with tens of thousands of
//!    events, most with a handful). Rows go straight into the tables (multi-row INSERTs on
//!    SQLite, COPY on PostgreSQL); the secondary indexes of the loaded tables are dropped first
//!    and rebuilt afterwards from their own DDL, so they are exactly the migrations' indexes.
//! 2. DuckDB: the events are read back out of the database and piped as CSV into
//!    `bench/segments/duckdb_eval.py`, which loads them into a DuckDB table and a Parquet file
//!    and times the equivalent SQL on both.
//! 3. Rapport: `rapport serve` runs as a child process (so its peak memory can be read); the
//!    segment is created (which builds its behaviour counters from the events), then evaluated
//!    again from the counters. Member counts (and the member sets) must equal DuckDB's.
//! 4. Streaming: while a background load ingests at a sustained rate through `/v1/batch`, fresh
//!    customers are sent the events that make them members; the delay from the acknowledgement
//!    of the deciding event to the membership showing in `GET /profiles/{id}/segments` is
//!    measured.
//!
//! No event is dated between 30 days ago and `GAP_MS` later, so every evaluation made within
//! `GAP_MS` of the fill sees the same 30-day window as DuckDB's fixed cutoff. Results are a
//! Markdown section printed and appended to `--out`.

use crate::common::{self as bench, Bare};
use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rapport_cdp::registry::{self, EventTypeInput};
use rapport_cdp::sources::{self, SourceInput};
use rapport_core::sql::Dialect;
use rapport_store::cli::StorageArgs;
use serde_json::{json, Value as Json};
use sqlx::postgres::PgPoolCopyExt;
use sqlx::{PgPool, SqlitePool};
use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

#[derive(Args)]
pub struct SegmentsArgs {
    #[command(flatten)]
    storage: StorageArgs,
    /// Profiles to create (each with one user id).
    #[arg(long, default_value_t = 1_000_000)]
    profiles: u64,
    /// Events to create, over the last 90 days.
    #[arg(long, default_value_t = 50_000_000)]
    events: u64,
    /// Seed of the generated data set.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The Python interpreter that has the `duckdb` package.
    #[arg(long, default_value = "python3")]
    python: PathBuf,
    /// The DuckDB side of the benchmark.
    #[arg(long, default_value = "bench/segments/duckdb_eval.py")]
    duckdb_script: PathBuf,
    /// DuckDB's threads (0: its default, one per core).
    #[arg(long, default_value_t = 0)]
    duckdb_threads: usize,
    /// Where DuckDB's database file and the Parquet file go (deleted afterwards).
    #[arg(long, default_value = "/tmp/rapport-bench-segments-work")]
    work_dir: PathBuf,
    /// Timed runs of each evaluation (best and median are reported).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Measured membership changes while events stream in.
    #[arg(long, default_value_t = 300)]
    samples: usize,
    /// A new sample starts at most this often (milliseconds), so the samples spread over the
    /// background load.
    #[arg(long, default_value_t = 100)]
    sample_every_ms: u64,
    /// Events per second of the background load during the streaming measurement.
    #[arg(long, default_value_t = 2_000)]
    stream_rate: u64,
    /// Events per `/v1/batch` request of the background load.
    #[arg(long, default_value_t = 100)]
    stream_batch: usize,
    /// Append the Markdown results to this file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// A remark printed under the section's heading.
    #[arg(long)]
    note: Option<String>,
}

const DAY_MS: i64 = 86_400_000;
/// Events span this many days before the fill.
const SPAN_DAYS: i64 = 90;
/// The segment's window.
const WINDOW_DAYS: i64 = 30;
/// No events from `WINDOW_DAYS` ago to this much later (see the module's comment).
const GAP_MS: i64 = DAY_MS;
/// Profiles' weights are Pareto(α) with this α (below 1: a very heavy tail), capped at
/// `WEIGHT_CAP` times the lightest weight.
const PARETO_ALPHA: f64 = 0.9;
const WEIGHT_CAP: f64 = 20_000.0;
/// Rows per generated chunk (and per INSERT statement on SQLite).
const CHUNK: usize = 1_000;
/// Rows per transaction on SQLite, per COPY on PostgreSQL.
const TX_ROWS: usize = 200_000;
/// Rows per page when reading the events back for DuckDB.
const EXPORT_PAGE: i64 = 100_000;
/// Warm-up samples of the streaming measurement (not counted).
const WARMUP_SAMPLES: usize = 10;
/// The longest wait for a membership to show.
const VISIBLE_LIMIT: Duration = Duration::from_secs(10);
const POLL_EVERY: Duration = Duration::from_millis(2);
/// The longest wait for a new segment to be live.
const BUILD_LIMIT: Duration = Duration::from_secs(4 * 3600);

// ---------------------------------------------------------------------------------------------
// The events.

const PRODUCT_VIEWED: &str = "Product Viewed";
const ORDER_COMPLETED: &str = "Order Completed";
const WECOM_MESSAGE: &str = "WeCom Message";

/// Event names and their share of all events (per mille). The first three are the segment's.
const MIX: [(&str, u32); 5] = [
    (PRODUCT_VIEWED, 380),
    (ORDER_COMPLETED, 40),
    (WECOM_MESSAGE, 150),
    ("Page Viewed", 300),
    ("Coupon Claimed", 130),
];
/// Product series of `Product Viewed` and their share (percent).
const SERIES: [(&str, u32); 4] = [("A", 25), ("B", 30), ("C", 25), ("D", 20)];

fn segment_condition() -> Json {
    json!({"all": [
        {"behavior": {"event": PRODUCT_VIEWED,
                      "where": [{"property": "series", "op": "eq", "value": "A"}],
                      "window": {"last": WINDOW_DAYS, "unit": "days"},
                      "count": {"op": "gte", "value": 1}}},
        {"behavior": {"event": ORDER_COMPLETED, "window": {"last": WINDOW_DAYS, "unit": "days"},
                      "count": {"op": "eq", "value": 0}}},
        {"behavior": {"event": WECOM_MESSAGE, "window": {"last": WINDOW_DAYS, "unit": "days"},
                      "count": {"op": "gte", "value": 5}}}
    ]})
}

fn weighted<T: Copy>(items: &[(T, u32)], roll: u32) -> Option<T> {
    let mut roll = roll;
    for (item, share) in items {
        if roll < *share {
            return Some(*item);
        }
        roll -= share;
    }
    items.last().map(|(item, _)| *item)
}

/// One generated event (before it is written out).
struct Event {
    profile: usize,
    name: &'static str,
    series: Option<&'static str>,
    /// A random number for the event's other properties.
    detail: u32,
}

impl Event {
    fn draw(rng: &mut StdRng, population: &Population) -> Event {
        let profile = population.draw(rng);
        let name = weighted(&MIX, rng.gen_range(0..1000)).unwrap_or(PRODUCT_VIEWED);
        let series = (name == PRODUCT_VIEWED)
            .then(|| weighted(&SERIES, rng.gen_range(0..100)).unwrap_or("A"));
        Event {
            profile,
            name,
            series,
            detail: rng.gen(),
        }
    }

    /// The event as Segment JSON (kept small: no context, no anonymousId).
    fn write_body(&self, out: &mut String, user: &str, message_id: &str, ts: i64) {
        let time = chrono::DateTime::from_timestamp_millis(ts).unwrap_or_default();
        let _ = write!(
            out,
            "{{\"type\":\"track\",\"event\":\"{}\",\"userId\":\"{user}\",\"messageId\":\"{message_id}\",\"timestamp\":\"{}\",\"properties\":",
            self.name,
            time.format("%Y-%m-%dT%H:%M:%S%.3fZ")
        );
        let d = self.detail;
        let _ = match self.name {
            PRODUCT_VIEWED => {
                let series = self.series.unwrap_or("A");
                write!(
                    out,
                    "{{\"series\":\"{series}\",\"sku\":\"{series}-{}\"}}}}",
                    100 + d % 40
                )
            }
            ORDER_COMPLETED => write!(
                out,
                "{{\"order_id\":\"O{:08}\",\"total\":{}}}}}",
                d % 100_000_000,
                49 + d % 2_000
            ),
            WECOM_MESSAGE => write!(
                out,
                "{{\"direction\":\"{}\"}}}}",
                if d.is_multiple_of(3) { "out" } else { "in" }
            ),
            "Page Viewed" => write!(out, "{{\"path\":\"/p/{}\"}}}}", d % 500),
            _ => write!(out, "{{\"coupon\":\"C{}\"}}}}", 5 + d % 20 * 5),
        };
    }
}

/// Which profile an event comes from: profile i with probability weight_i / Σ weight.
struct Population {
    /// Running sums of the weights.
    cumulative: Vec<f64>,
}

impl Population {
    fn new(profiles: usize, rng: &mut StdRng) -> Population {
        let mut total = 0.0;
        let cumulative = (0..profiles)
            .map(|_| {
                let u: f64 = rng.gen();
                total += (1.0 - u).powf(-1.0 / PARETO_ALPHA).min(WEIGHT_CAP);
                total
            })
            .collect();
        Population { cumulative }
    }

    fn draw(&self, rng: &mut StdRng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let x = rng.gen::<f64>() * total;
        self.cumulative
            .partition_point(|c| *c <= x)
            .min(self.cumulative.len().saturating_sub(1))
    }
}

/// The profiles of the data set, by index.
struct Profiles {
    ids: Vec<String>,
    users: Vec<String>,
    first_seen: Vec<i64>,
    population: Population,
}

impl Profiles {
    /// Profile ids are UUIDv7 of the profile's first sighting, up to a year before the events.
    fn new(n: usize, seed: u64, start: i64) -> Profiles {
        let mut rng = StdRng::seed_from_u64(seed);
        let population = Population::new(n, &mut rng);
        let mut ids = Vec::with_capacity(n);
        let mut first_seen = Vec::with_capacity(n);
        for _ in 0..n {
            let ms = start - rng.gen_range(0..365 * DAY_MS);
            ids.push(uuid_v7(ms, &mut rng));
            first_seen.push(ms);
        }
        Profiles {
            ids,
            users: (1..=n).map(|i| format!("u{i}")).collect(),
            first_seen,
            population,
        }
    }

    fn len(&self) -> usize {
        self.ids.len()
    }
}

fn uuid_v7(ms: i64, rng: &mut StdRng) -> String {
    let ms = u64::try_from(ms).unwrap_or(0);
    let a: u16 = rng.gen::<u16>() & 0x0fff | 0x7000;
    let b: u16 = rng.gen::<u16>() & 0x3fff | 0x8000;
    let c: u64 = rng.gen::<u64>() & 0xffff_ffff_ffff;
    format!(
        "{:08x}-{:04x}-{a:04x}-{b:04x}-{c:012x}",
        (ms >> 16) & 0xffff_ffff,
        ms & 0xffff
    )
}

/// Event times: `events` of them spread evenly (with jitter) over the `SPAN_DAYS` before `now`,
/// skipping the `GAP_MS` that starts `WINDOW_DAYS` ago.
#[derive(Clone, Copy)]
struct Timeline {
    start: i64,
    gap_start: i64,
    usable: i64,
    events: u64,
}

impl Timeline {
    fn new(now: i64, events: u64) -> Timeline {
        Timeline {
            start: now - SPAN_DAYS * DAY_MS,
            gap_start: now - WINDOW_DAYS * DAY_MS,
            usable: SPAN_DAYS * DAY_MS - GAP_MS,
            events: events.max(1),
        }
    }

    fn ts(&self, k: u64, jitter: f64) -> i64 {
        let offset = ((k as f64 + jitter) * self.usable as f64 / self.events as f64) as i64;
        let t = self.start + offset.min(self.usable - 1);
        if t >= self.gap_start {
            t + GAP_MS
        } else {
            t
        }
    }

    /// DuckDB's window: events strictly after this count.
    fn cutoff(&self) -> i64 {
        self.gap_start
    }
}

/// Fixed width, so message ids sort as they were made (the unique index grows at its end).
fn message_id(k: u64) -> String {
    format!("m{k:08x}")
}

/// One `cdp_events` row for SQLite.
struct Row {
    message_id: String,
    name: &'static str,
    profile: usize,
    ts: i64,
    received_at: i64,
    body: String,
}

enum Chunk {
    Rows(Vec<Row>),
    /// PostgreSQL COPY text of `rows` rows.
    Copy {
        text: Vec<u8>,
        rows: usize,
    },
}

/// Appends `value` to COPY text, escaped.
fn copy_text(out: &mut Vec<u8>, value: &str) {
    for b in value.bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
}

struct Generator {
    profiles: Arc<Profiles>,
    timeline: Timeline,
    seed: u64,
    ws: String,
    source_id: String,
    copy: bool,
}

impl Generator {
    /// Makes every event in time order and sends them in chunks; returns the events per profile
    /// and the bytes of all bodies.
    fn run(self, tx: &mpsc::Sender<Chunk>) -> (Vec<u32>, u64) {
        let mut rng = StdRng::seed_from_u64(self.seed ^ 0x5eed_0e7e_4750_0001);
        let mut counts = vec![0u32; self.profiles.len()];
        let mut body = String::with_capacity(256);
        let mut k = 0u64;
        let mut body_bytes = 0u64;
        while k < self.timeline.events {
            let n = usize::try_from(self.timeline.events - k)
                .unwrap_or(CHUNK)
                .min(CHUNK);
            let mut rows = Vec::with_capacity(if self.copy { 0 } else { n });
            let mut text = Vec::with_capacity(if self.copy { n * 320 } else { 0 });
            for _ in 0..n {
                let event = Event::draw(&mut rng, &self.profiles.population);
                let ts = self.timeline.ts(k, rng.gen());
                let received_at = ts + rng.gen_range(50..3_000);
                let id = message_id(k);
                let user = self
                    .profiles
                    .users
                    .get(event.profile)
                    .map_or("", String::as_str);
                if let Some(c) = counts.get_mut(event.profile) {
                    *c += 1;
                }
                body.clear();
                event.write_body(&mut body, user, &id, ts);
                body_bytes += body.len() as u64;
                if self.copy {
                    let profile_id = self
                        .profiles
                        .ids
                        .get(event.profile)
                        .map_or("", String::as_str);
                    for (i, field) in [
                        self.ws.as_str(),
                        &self.source_id,
                        &id,
                        "track",
                        event.name,
                        profile_id,
                        user,
                    ]
                    .iter()
                    .enumerate()
                    {
                        if i > 0 {
                            text.push(b'\t');
                        }
                        copy_text(&mut text, field);
                    }
                    let _ = write!(text, "\t\\N\t{ts}\t{received_at}\t");
                    copy_text(&mut text, &body);
                    text.push(b'\n');
                } else {
                    rows.push(Row {
                        message_id: id,
                        name: event.name,
                        profile: event.profile,
                        ts,
                        received_at,
                        body: body.clone(),
                    });
                }
                k += 1;
            }
            let chunk = if self.copy {
                Chunk::Copy { text, rows: n }
            } else {
                Chunk::Rows(rows)
            };
            if tx.blocking_send(chunk).is_err() {
                break;
            }
        }
        (counts, body_bytes)
    }
}

// ---------------------------------------------------------------------------------------------
// Phase 1: the fill.

/// What the fill did.
struct Fill {
    setup: Duration,
    profiles: Duration,
    events: Duration,
    indexes: Duration,
    /// PostgreSQL's VACUUM ANALYZE after the load.
    vacuum: Option<Duration>,
    index_names: Vec<String>,
    counts: Vec<u32>,
    body_bytes: u64,
    db_bytes: u64,
}

/// The secondary indexes of `table` (not those behind a constraint): (name, DDL).
async fn secondary_indexes(bare: &Bare, table: &str) -> Result<Vec<(String, String)>> {
    Ok(match bare {
        Bare::Sqlite { writer, .. } => sqlx::query_as::<_, (String, String)>(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT NULL ORDER BY name",
        )
        .bind(table)
        .fetch_all(writer)
        .await?,
        Bare::Postgres(pool) => sqlx::query_as::<_, (String, String)>(
            "SELECT i.indexname::text, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() AND i.tablename = $1 \
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname AND c.conrelid = $1::regclass) ORDER BY 1",
        )
        .bind(table)
        .fetch_all(pool)
        .await?,
    })
}

async fn execute(bare: &Bare, sql: &str) -> Result<()> {
    match bare {
        Bare::Sqlite { writer, .. } => {
            sqlx::raw_sql(sql).execute(writer).await?;
        }
        Bare::Postgres(pool) => {
            sqlx::raw_sql(sql).execute(pool).await?;
        }
    }
    Ok(())
}

async fn count_events(bare: &Bare) -> Result<i64> {
    Ok(match bare {
        Bare::Sqlite { readers, .. } => {
            sqlx::query_scalar("SELECT COUNT(*) FROM cdp_events")
                .fetch_one(readers)
                .await?
        }
        Bare::Postgres(pool) => {
            sqlx::query_scalar("SELECT COUNT(*) FROM cdp_events")
                .fetch_one(pool)
                .await?
        }
    })
}

fn insert_sql(table_and_columns: &str, columns: usize, rows: usize) -> String {
    let row = format!("({})", vec!["?"; columns].join(", "));
    format!(
        "INSERT INTO {table_and_columns} VALUES {}",
        vec![row.as_str(); rows].join(", ")
    )
}

const EVENT_COLUMNS: &str = "cdp_events (workspace_id, source_id, message_id, kind, name, profile_id, user_id, anonymous_id, ts, received_at, body)";

async fn fill_sqlite(
    writer: &SqlitePool,
    ws: &str,
    source_id: &str,
    profiles: &Arc<Profiles>,
    rx: &mut mpsc::Receiver<Chunk>,
) -> Result<(Duration, Duration)> {
    let mut conn = writer.acquire().await?;
    // A throw-away load: no fsync, and a large page cache for the index builds that follow.
    sqlx::raw_sql("PRAGMA synchronous = OFF; PRAGMA cache_size = -1048576")
        .execute(&mut *conn)
        .await?;
    let started = Instant::now();
    let mut order: Vec<usize> = (0..profiles.len()).collect();
    order.sort_unstable_by(|a, b| profiles.ids.get(*a).cmp(&profiles.ids.get(*b)));
    sqlx::raw_sql("BEGIN").execute(&mut *conn).await?;
    for chunk in order.chunks(CHUNK) {
        let sql = insert_sql(
            "cdp_profiles (id, workspace_id, traits, first_seen)",
            4,
            chunk.len(),
        );
        let mut query = sqlx::query(&sql);
        for i in chunk {
            query = query
                .bind(profiles.ids.get(*i))
                .bind(ws)
                .bind("{}")
                .bind(profiles.first_seen.get(*i));
        }
        query.execute(&mut *conn).await?;
    }
    order.sort_unstable_by(|a, b| profiles.users.get(*a).cmp(&profiles.users.get(*b)));
    for chunk in order.chunks(CHUNK) {
        let sql = insert_sql(
            "cdp_identities (workspace_id, id_type, id_value, profile_id, first_seen)",
            5,
            chunk.len(),
        );
        let mut query = sqlx::query(&sql);
        for i in chunk {
            query = query
                .bind(ws)
                .bind("user_id")
                .bind(profiles.users.get(*i))
                .bind(profiles.ids.get(*i))
                .bind(profiles.first_seen.get(*i));
        }
        query.execute(&mut *conn).await?;
    }
    sqlx::raw_sql("COMMIT").execute(&mut *conn).await?;
    let profiles_took = started.elapsed();

    let started = Instant::now();
    let full = insert_sql(EVENT_COLUMNS, 11, CHUNK);
    let (mut in_tx, mut done) = (0usize, 0u64);
    sqlx::raw_sql("BEGIN").execute(&mut *conn).await?;
    while let Some(chunk) = rx.recv().await {
        let Chunk::Rows(rows) = chunk else {
            bail!("the generator made COPY text for SQLite");
        };
        let partial;
        let sql = if rows.len() == CHUNK {
            &full
        } else {
            partial = insert_sql(EVENT_COLUMNS, 11, rows.len());
            &partial
        };
        let mut query = sqlx::query(sql);
        for row in &rows {
            query = query
                .bind(ws)
                .bind(source_id)
                .bind(&row.message_id)
                .bind("track")
                .bind(row.name)
                .bind(profiles.ids.get(row.profile))
                .bind(profiles.users.get(row.profile))
                .bind(None::<&str>)
                .bind(row.ts)
                .bind(row.received_at)
                .bind(&row.body);
        }
        query.execute(&mut *conn).await?;
        in_tx += rows.len();
        done += rows.len() as u64;
        if in_tx >= TX_ROWS {
            sqlx::raw_sql("COMMIT; BEGIN").execute(&mut *conn).await?;
            in_tx = 0;
            progress(done, started);
        }
    }
    sqlx::raw_sql("COMMIT").execute(&mut *conn).await?;
    Ok((profiles_took, started.elapsed()))
}

fn progress(done: u64, started: Instant) {
    if done.is_multiple_of(5_000_000) {
        println!(
            "  {} events ({:.0} rows/s)",
            number(done),
            done as f64 / started.elapsed().as_secs_f64().max(0.001)
        );
    }
}

async fn copy_in(pool: &PgPool, statement: &str, text: Vec<u8>) -> Result<u64> {
    let mut copy = pool.copy_in_raw(statement).await?;
    copy.send(text).await?;
    Ok(copy.finish().await?)
}

async fn fill_postgres(
    pool: &PgPool,
    ws: &str,
    profiles: &Arc<Profiles>,
    rx: &mut mpsc::Receiver<Chunk>,
) -> Result<(Duration, Duration)> {
    let started = Instant::now();
    let mut text = Vec::with_capacity(profiles.len() * 80);
    for i in 0..profiles.len() {
        let (Some(id), Some(seen)) = (profiles.ids.get(i), profiles.first_seen.get(i)) else {
            continue;
        };
        let _ = writeln!(text, "{id}\t{ws}\t{seen}");
    }
    copy_in(
        pool,
        "COPY cdp_profiles (id, workspace_id, first_seen) FROM STDIN",
        text,
    )
    .await?;
    let mut text = Vec::with_capacity(profiles.len() * 80);
    for i in 0..profiles.len() {
        let (Some(id), Some(user), Some(seen)) = (
            profiles.ids.get(i),
            profiles.users.get(i),
            profiles.first_seen.get(i),
        ) else {
            continue;
        };
        let _ = writeln!(text, "{ws}\tuser_id\t{user}\t{id}\t{seen}");
    }
    copy_in(
        pool,
        "COPY cdp_identities (workspace_id, id_type, id_value, profile_id, first_seen) FROM STDIN",
        text,
    )
    .await?;
    let profiles_took = started.elapsed();

    let started = Instant::now();
    let statement = format!("COPY {EVENT_COLUMNS} FROM STDIN");
    let mut done = 0u64;
    let mut copy = None;
    let mut in_copy = 0usize;
    while let Some(chunk) = rx.recv().await {
        let Chunk::Copy { text, rows } = chunk else {
            bail!("the generator made rows for PostgreSQL");
        };
        if copy.is_none() {
            copy = Some(pool.copy_in_raw(&statement).await?);
        }
        if let Some(c) = copy.as_mut() {
            c.send(text).await?;
        }
        in_copy += rows;
        done += rows as u64;
        if in_copy >= TX_ROWS {
            if let Some(c) = copy.take() {
                c.finish().await?;
            }
            in_copy = 0;
            progress(done, started);
        }
    }
    if let Some(c) = copy.take() {
        c.finish().await?;
    }
    Ok((profiles_took, started.elapsed()))
}

async fn fill(
    store: &rapport_store::Store,
    bare: &Bare,
    args: &SegmentsArgs,
    timeline: Timeline,
) -> Result<(Setup, Fill, Arc<Profiles>)> {
    let started = Instant::now();
    if count_events(bare).await? > 0 {
        bail!("the database already holds events: bench-segments fills a freshly migrated database (empty the data directory or use a new PostgreSQL database)");
    }
    let (ws, admin) = bench::ensure_admin(store).await?;
    let (token, _) = bench::api_token(store, &admin).await?;
    let tag = bench::run_tag();
    let source = sources::create(
        store,
        &ws,
        SourceInput {
            name: Some(format!("bench-segments {tag}")),
            kind: Some("server".into()),
            ..SourceInput::default()
        },
    )
    .await?;
    for (name, _) in MIX {
        registry::save(
            store,
            &ws,
            EventTypeInput {
                name: name.into(),
                description: String::new(),
                schema: json!({"type": "object"}),
                label: None,
                property_labels: Default::default(),
            },
        )
        .await?;
    }
    let n = usize::try_from(args.profiles).context("--profiles is too large")?;
    let profiles = Arc::new(Profiles::new(n, args.seed, timeline.start));
    let setup = Setup {
        ws: ws.clone(),
        token,
        tag,
        write_key: source.write_key.clone(),
    };
    let setup_took = started.elapsed();

    // The secondary indexes of the loaded tables go, and come back from their own DDL.
    let mut dropped = Vec::new();
    for table in ["cdp_events", "cdp_identities"] {
        for (name, ddl) in secondary_indexes(bare, table).await? {
            execute(bare, &format!("DROP INDEX \"{name}\"")).await?;
            dropped.push((table, name, ddl));
        }
    }

    let copy = matches!(bare, Bare::Postgres(_));
    let (tx, mut rx) = mpsc::channel(8);
    let generator = Generator {
        profiles: profiles.clone(),
        timeline,
        seed: args.seed,
        ws: ws.clone(),
        source_id: source.id.clone(),
        copy,
    };
    let generating = std::thread::spawn(move || generator.run(&tx));
    let loaded = match bare {
        Bare::Sqlite { writer, .. } => {
            fill_sqlite(writer, &ws, &source.id, &profiles, &mut rx).await
        }
        Bare::Postgres(pool) => fill_postgres(pool, &ws, &profiles, &mut rx).await,
    };
    drop(rx);
    let (counts, body_bytes) = generating
        .join()
        .map_err(|_| anyhow!("the event generator failed"))?;
    let (profiles_took, events_took) = loaded?;
    println!(
        "  {} events in {:.0} s",
        number(args.events),
        events_took.as_secs_f64()
    );

    let started = Instant::now();
    let mut index_names = Vec::new();
    for (table, name, ddl) in &dropped {
        let one = Instant::now();
        match bare {
            Bare::Sqlite { writer, .. } => {
                sqlx::raw_sql(&format!("PRAGMA cache_size = -1048576; {ddl}"))
                    .execute(writer)
                    .await?;
            }
            Bare::Postgres(pool) => {
                let mut conn = pool.acquire().await?;
                sqlx::raw_sql(&format!("SET maintenance_work_mem = '1GB'; {ddl}"))
                    .execute(&mut *conn)
                    .await?;
            }
        }
        println!(
            "  index {name} rebuilt in {:.0} s",
            one.elapsed().as_secs_f64()
        );
        index_names.push(format!("{table}.{name}"));
    }
    for table in ["cdp_events", "cdp_identities"] {
        let now: Vec<(String, String)> = secondary_indexes(bare, table).await?;
        let before: Vec<(String, String)> = dropped
            .iter()
            .filter(|(t, _, _)| *t == table)
            .map(|(_, n, d)| (n.clone(), d.clone()))
            .collect();
        if now != before {
            bail!("the indexes of {table} differ after the rebuild: {now:?} instead of {before:?}");
        }
    }
    let indexes = started.elapsed();
    let vacuum = match bare {
        Bare::Sqlite { writer, .. } => {
            sqlx::raw_sql("PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536; PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(writer)
                .await?;
            None
        }
        Bare::Postgres(pool) => {
            let started = Instant::now();
            sqlx::raw_sql("VACUUM (ANALYZE) cdp_events, cdp_identities, cdp_profiles")
                .execute(pool)
                .await?;
            Some(started.elapsed())
        }
    };
    let stored = count_events(bare).await?;
    if u64::try_from(stored).ok() != Some(args.events) {
        bail!("cdp_events holds {stored} rows, not {}", args.events);
    }
    let db_bytes = database_bytes(bare, &args.storage).await;
    Ok((
        setup,
        Fill {
            setup: setup_took,
            profiles: profiles_took,
            events: events_took,
            indexes,
            vacuum,
            index_names,
            counts,
            body_bytes,
            db_bytes,
        },
        profiles,
    ))
}

async fn database_bytes(bare: &Bare, storage: &StorageArgs) -> u64 {
    match bare {
        Bare::Sqlite { .. } => ["rapport.db", "rapport.db-wal"]
            .iter()
            .filter_map(|f| std::fs::metadata(storage.data_dir.join(f)).ok())
            .map(|m| m.len())
            .sum(),
        Bare::Postgres(pool) => {
            sqlx::query_scalar::<_, i64>("SELECT pg_database_size(current_database())")
                .fetch_one(pool)
                .await
                .map_or(0, |b| u64::try_from(b).unwrap_or(0))
        }
    }
}

/// What later phases need from the setup.
struct Setup {
    ws: String,
    token: String,
    tag: String,
    write_key: String,
}

// ---------------------------------------------------------------------------------------------
// Phase 2: DuckDB.

#[derive(Debug, Default)]
struct Timed {
    runs_ms: Vec<f64>,
    members: u64,
}

impl Timed {
    fn best(&self) -> f64 {
        self.runs_ms.iter().copied().fold(f64::INFINITY, f64::min)
    }

    fn median(&self) -> f64 {
        let mut sorted = self.runs_ms.clone();
        sorted.sort_by(f64::total_cmp);
        sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN)
    }
}

struct DuckDb {
    version: String,
    threads: u64,
    rows: u64,
    load_s: f64,
    export_s: f64,
    db_bytes: u64,
    parquet_bytes: u64,
    sql: String,
    table: Timed,
    parquet: Timed,
    members: HashSet<String>,
}

fn timed_of(value: &Json) -> Timed {
    Timed {
        runs_ms: value
            .get("runs_ms")
            .and_then(Json::as_array)
            .map(|a| a.iter().filter_map(Json::as_f64).collect())
            .unwrap_or_default(),
        members: value.get("members").and_then(Json::as_u64).unwrap_or(0),
    }
}

/// Appends `field` to a CSV line, quoted when it has to be.
fn csv_field(out: &mut Vec<u8>, field: &str) {
    if field.contains([',', '"', '\n', '\r']) {
        out.push(b'"');
        out.extend_from_slice(field.replace('"', "\"\"").as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(field.as_bytes());
    }
}

type ExportRow = (i64, String, Option<String>, i64, Option<String>);

/// Reads every event of the workspace (profile, name, time, `properties.series`) in pages of
/// `EXPORT_PAGE` and sends them on as CSV.
async fn export(bare: &Bare, ws: &str, sink: &mpsc::Sender<Vec<u8>>) -> Result<u64> {
    let mut after = 0i64;
    let mut rows = 0u64;
    let mut header = b"profile_id,name,ts,series\n".to_vec();
    loop {
        let page: Vec<ExportRow> = match bare {
            Bare::Sqlite { readers, .. } => {
                // `+workspace_id`: walk the rowid, never the (workspace_id, name, ts) index.
                sqlx::query_as(
                    "SELECT seq, profile_id, name, ts, json_extract(body, '$.properties.series') FROM cdp_events \
                     WHERE seq > ?2 AND +workspace_id = ?1 ORDER BY seq LIMIT ?3",
                )
                .bind(ws)
                .bind(after)
                .bind(EXPORT_PAGE)
                .fetch_all(readers)
                .await?
            }
            Bare::Postgres(pool) => sqlx::query_as(
                "SELECT seq, profile_id, name, ts, body->'properties'->>'series' FROM cdp_events \
                     WHERE workspace_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            )
            .bind(ws)
            .bind(after)
            .bind(EXPORT_PAGE)
            .fetch_all(pool)
            .await?,
        };
        let Some(last) = page.last() else {
            break;
        };
        after = last.0;
        let mut out = std::mem::take(&mut header);
        out.reserve(page.len() * 72);
        for (_, profile, name, ts, series) in &page {
            csv_field(&mut out, profile);
            out.push(b',');
            csv_field(&mut out, name.as_deref().unwrap_or(""));
            let _ = write!(out, ",{ts},");
            csv_field(&mut out, series.as_deref().unwrap_or(""));
            out.push(b'\n');
        }
        rows += page.len() as u64;
        sink.send(out)
            .await
            .map_err(|_| anyhow!("DuckDB stopped reading the events"))?;
    }
    Ok(rows)
}

async fn duckdb(args: &SegmentsArgs, bare: &Bare, ws: &str, cutoff: i64) -> Result<DuckDb> {
    std::fs::create_dir_all(&args.work_dir)
        .with_context(|| format!("creating {}", args.work_dir.display()))?;
    let db = args.work_dir.join("events.duckdb");
    let parquet = args.work_dir.join("events.parquet");
    let members_file = args.work_dir.join("members.txt");
    let mut command = Command::new(&args.python);
    command
        .arg(&args.duckdb_script)
        .arg("--db")
        .arg(&db)
        .arg("--parquet")
        .arg(&parquet)
        .arg("--cutoff")
        .arg(cutoff.to_string())
        .arg("--runs")
        .arg(args.runs.to_string())
        .arg("--threads")
        .arg(args.duckdb_threads.to_string())
        .arg("--members-out")
        .arg(&members_file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = command.spawn().with_context(|| {
        format!(
            "starting {} {} (is the duckdb package installed?)",
            args.python.display(),
            args.duckdb_script.display()
        )
    })?;
    let stdin = child.stdin.take().context("no stdin for DuckDB")?;
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(4);
    let writer = std::thread::spawn(move || -> std::io::Result<()> {
        let mut stdin = std::io::BufWriter::with_capacity(1 << 20, stdin);
        while let Some(buf) = rx.blocking_recv() {
            stdin.write_all(&buf)?;
        }
        stdin.flush()
    });
    let started = Instant::now();
    let exported = export(bare, ws, &tx).await;
    drop(tx);
    let written = writer
        .join()
        .map_err(|_| anyhow!("the CSV writer thread failed"))?;
    let export_s = started.elapsed().as_secs_f64();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output()).await??;
    if !output.status.success() {
        bail!("the DuckDB script failed ({})", output.status);
    }
    let rows = exported?;
    written.context("writing the events to DuckDB")?;
    let report: Json = serde_json::from_slice(&output.stdout).with_context(|| {
        format!(
            "unreadable DuckDB output: {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })?;
    let members = std::fs::read_to_string(&members_file)
        .with_context(|| format!("reading {}", members_file.display()))?
        .lines()
        .map(str::to_string)
        .collect();
    let result = DuckDb {
        version: report["version"].as_str().unwrap_or("?").to_string(),
        threads: report["threads"].as_u64().unwrap_or(0),
        rows: report["rows"].as_u64().unwrap_or(0),
        load_s: report["load_s"].as_f64().unwrap_or(f64::NAN),
        export_s,
        db_bytes: report["db_bytes"].as_u64().unwrap_or(0),
        parquet_bytes: report["parquet_bytes"].as_u64().unwrap_or(0),
        sql: report["sql"].as_str().unwrap_or("").to_string(),
        table: timed_of(&report["table"]),
        parquet: timed_of(&report["parquet"]),
        members,
    };
    for file in [&db, &parquet, &members_file] {
        let _ = std::fs::remove_file(file);
    }
    let _ = std::fs::remove_file(args.work_dir.join("events.duckdb.wal"));
    let _ = std::fs::remove_dir(&args.work_dir);
    if result.rows != rows {
        bail!(
            "DuckDB loaded {} events, {} were exported",
            result.rows,
            rows
        );
    }
    Ok(result)
}

// ---------------------------------------------------------------------------------------------
// Phase 3: the server, as a child process.

struct ServerProcess {
    child: std::process::Child,
    base: String,
}

/// Peak and current resident memory of a process, KiB.
#[derive(Debug, Clone, Copy, Default)]
struct Memory {
    hwm_kib: u64,
    rss_kib: u64,
}

/// The `rapport` binary built beside this one (`target/release/rapport` next to
/// `target/release/rapport-bench`), or the one `RAPPORT_BIN` names.
fn rapport_binary() -> Result<PathBuf> {
    if let Some(given) = std::env::var_os("RAPPORT_BIN") {
        return Ok(PathBuf::from(given));
    }
    let here = std::env::current_exe()?;
    let beside = here.with_file_name("rapport");
    if !beside.is_file() {
        bail!(
            "no `rapport` binary beside {} (build it with `cargo build --release -p rapport`, or set RAPPORT_BIN)",
            here.display()
        );
    }
    Ok(beside)
}

impl ServerProcess {
    async fn start(storage: &StorageArgs) -> Result<ServerProcess> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let listen = format!("127.0.0.1:{port}");
        let mut command = Command::new(rapport_binary()?);
        command.arg("serve").arg("--listen").arg(&listen);
        match &storage.database_url {
            Some(url) => command.arg("--database-url").arg(url),
            None => command.arg("--data-dir").arg(&storage.data_dir),
        };
        command
            .env_remove("RAPPORT_DEMO")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let child = command.spawn().context("starting `rapport serve`")?;
        let mut server = ServerProcess {
            child,
            base: format!("http://{listen}"),
        };
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Some(status) = server.child.try_wait()? {
                bail!("`rapport serve` exited at start ({status})");
            }
            let up = client
                .get(format!("{}/healthz", server.base))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if up {
                return Ok(server);
            }
            if started.elapsed() > Duration::from_secs(120) {
                bail!("`rapport serve` did not answer within 120 s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn memory(&self) -> Memory {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        Memory {
            hwm_kib: field("VmHWM:"),
            rss_kib: field("VmRSS:"),
        }
    }

    /// Asks the server to stop (SIGINT, as Ctrl-C) and waits for it; kills it after 20 s.
    async fn stop(mut self) {
        let _ = Command::new("kill")
            .arg("-INT")
            .arg(self.child.id().to_string())
            .status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        println!("the server did not stop within 20 s; killing it");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

async fn json_of(request: reqwest::RequestBuilder) -> Result<Json> {
    let body = bench::body_of(request.send().await)
        .await
        .map_err(|e| anyhow!(e))?;
    Ok(serde_json::from_slice(body.as_ref())?)
}

/// Whether `value` holds the string `wanted` anywhere.
fn mentions(value: &Json, wanted: &str) -> bool {
    match value {
        Json::String(s) => s == wanted,
        Json::Array(items) => items.iter().any(|v| mentions(v, wanted)),
        Json::Object(map) => map.values().any(|v| mentions(v, wanted)),
        _ => false,
    }
}

struct Evaluation {
    segment_id: String,
    /// `POST /segments`: builds the counters from the events and evaluates.
    create: Duration,
    create_members: Option<u64>,
    /// `POST /segments/{id}/evaluate`.
    evaluate: Timed,
    /// `took_ms` as the server reported it.
    evaluate_took_ms: Vec<f64>,
    /// Events the evaluations read to fill counters (none: the counters were built).
    events_counted: u64,
    /// Rapport's members missing in DuckDB's and the other way round (a sample of each).
    only_rapport: Vec<String>,
    only_duckdb: Vec<String>,
    members_listed: usize,
    memory_after_create: Memory,
}

async fn evaluate(
    api: &reqwest::Client,
    server: &ServerProcess,
    runs: usize,
    duck: &DuckDb,
) -> Result<Evaluation> {
    let base = &server.base;
    let started = Instant::now();
    let created = json_of(
        api.post(format!("{base}/api/v1/cdp/segments"))
            .json(&json!({
                "name": "A系列浏览未下单且企微活跃",
                "description": "近30天浏览过A系列商品且未下单,且企业微信互动频次≥5次",
                "condition": segment_condition(),
            })),
    )
    .await
    .context("creating the segment")?;
    let segment_id = created
        .get("id")
        .and_then(Json::as_str)
        .context("the new segment has no id")?
        .to_string();
    // A new segment is `building` (its counters fill from the events, then it is evaluated in
    // the background) until it is `live`.
    let mut segment = created;
    while segment.get("state").and_then(Json::as_str) != Some("live") {
        if started.elapsed() > BUILD_LIMIT {
            bail!(
                "the segment was not live after {} s: {segment}",
                BUILD_LIMIT.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        segment = json_of(api.get(format!("{base}/api/v1/cdp/segments/{segment_id}"))).await?;
    }
    let create = started.elapsed();
    let memory_after_create = server.memory();
    let create_members = segment.get("member_count").and_then(Json::as_u64);
    println!(
        "  created the segment in {:.2} s: {} members",
        create.as_secs_f64(),
        create_members.map_or("?".into(), number)
    );
    let mut evaluation = Timed::default();
    let mut took = Vec::new();
    let mut events_counted = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let answer = json_of(api.post(format!("{base}/api/v1/cdp/segments/{segment_id}/evaluate")))
            .await
            .context("evaluating the segment")?;
        evaluation
            .runs_ms
            .push(started.elapsed().as_secs_f64() * 1000.0);
        evaluation.members = answer.get("members").and_then(Json::as_u64).unwrap_or(0);
        if let Some(t) = answer.get("took_ms").and_then(Json::as_f64) {
            took.push(t);
        }
        events_counted += answer
            .get("events_counted")
            .and_then(Json::as_u64)
            .unwrap_or(0);
        println!(
            "  evaluated in {:.0} ms: {} members",
            evaluation.runs_ms.last().copied().unwrap_or(0.0),
            number(evaluation.members)
        );
    }
    // The member sets, compared.
    let csv = bench::body_of(
        api.get(format!(
            "{base}/api/v1/cdp/segments/{segment_id}/members.csv"
        ))
        .send()
        .await,
    )
    .await
    .map_err(|e| anyhow!("listing the members: {e}"))?;
    let text = String::from_utf8_lossy(csv.as_ref()).into_owned();
    let ours = csv_column(&text, "profile_id");
    let only_rapport: Vec<String> = ours
        .iter()
        .filter(|id| !duck.members.contains(*id))
        .take(5)
        .cloned()
        .collect();
    let only_duckdb: Vec<String> = duck
        .members
        .iter()
        .filter(|id| !ours.contains(*id))
        .take(5)
        .cloned()
        .collect();
    Ok(Evaluation {
        segment_id,
        create,
        create_members,
        evaluate: evaluation,
        evaluate_took_ms: took,
        events_counted,
        only_rapport,
        only_duckdb,
        members_listed: ours.len(),
        memory_after_create,
    })
}

/// The values of the column named `name` of a CSV text (a header line, then rows; the ids this
/// reads are never quoted).
fn csv_column(text: &str, name: &str) -> HashSet<String> {
    let mut lines = text.lines();
    let Some(at) = lines
        .next()
        .map(|h| h.trim_start_matches('\u{feff}'))
        .and_then(|h| h.split(',').position(|c| c.trim_matches('"') == name))
    else {
        return HashSet::new();
    };
    lines
        .filter_map(|l| l.split(',').nth(at))
        .map(|v| v.trim_matches('"').to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Phase 4: streaming.

/// The background load: events of the fill's mix from existing users, at a steady rate.
struct Background {
    client: reqwest::Client,
    url: String,
    profiles: Arc<Profiles>,
    tag: String,
    batch: usize,
    accepted: AtomicU64,
    errors: AtomicU64,
    /// Ticks skipped because too many requests were in flight.
    skipped: AtomicU64,
    first_error: Mutex<Option<String>>,
    acks_us: Mutex<Vec<u32>>,
}

impl Background {
    fn body(&self, request: u64) -> String {
        let mut rng = StdRng::seed_from_u64(request ^ 0xb6d0_11ad);
        let now = chrono::Utc::now().timestamp_millis();
        let mut out = String::with_capacity(self.batch * 220 + 16);
        out.push_str("{\"batch\":[");
        for k in 0..self.batch {
            if k > 0 {
                out.push(',');
            }
            let event = Event::draw(&mut rng, &self.profiles.population);
            let user = self
                .profiles
                .users
                .get(event.profile)
                .map_or("u1", String::as_str);
            event.write_body(&mut out, user, &format!("{}-n{request}-{k}", self.tag), now);
        }
        out.push_str("]}");
        out
    }

    async fn send(self: Arc<Self>, request: u64) {
        let started = Instant::now();
        let sent = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(self.body(request))
            .send()
            .await;
        match bench::body_of(sent).await {
            Ok(body) => {
                let micros = u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX);
                if let Ok(mut acks) = self.acks_us.lock() {
                    acks.push(micros);
                }
                let accepted = serde_json::from_slice::<Json>(body.as_ref())
                    .ok()
                    .and_then(|r| r.get("accepted").and_then(Json::as_u64))
                    .unwrap_or(0);
                self.accepted.fetch_add(accepted, Relaxed);
            }
            Err(e) => {
                self.errors.fetch_add(1, Relaxed);
                if let Ok(mut first) = self.first_error.lock() {
                    first.get_or_insert(e);
                }
            }
        }
    }
}

/// Sends a request every `batch / rate` seconds until `stop`; returns the time it ran.
async fn background(load: Arc<Background>, rate: u64, stop: Arc<AtomicBool>) -> Duration {
    const IN_FLIGHT: usize = 64;
    let period = Duration::from_secs_f64(load.batch as f64 / rate.max(1) as f64);
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let limit = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    let started = Instant::now();
    let mut request = 0u64;
    while !stop.load(Relaxed) {
        ticker.tick().await;
        match limit.clone().try_acquire_owned() {
            Ok(permit) => {
                let load = load.clone();
                tokio::spawn(async move {
                    load.send(request).await;
                    drop(permit);
                });
            }
            Err(_) => {
                load.skipped.fetch_add(1, Relaxed);
            }
        }
        request += 1;
    }
    let took = started.elapsed();
    let _ = limit
        .acquire_many(u32::try_from(IN_FLIGHT).unwrap_or(1))
        .await;
    took
}

#[derive(Default)]
struct Streaming {
    /// Acknowledgement → membership visible, of the measured samples.
    delays_us: Vec<u64>,
    /// The deciding request's own acknowledgement time.
    trigger_acks_us: Vec<u64>,
    timeouts: usize,
    members_before: usize,
    background_events: u64,
    background_secs: f64,
    background_errors: u64,
    background_skipped: u64,
    background_first_error: Option<String>,
    background_acks_us: Vec<u32>,
    warmup: usize,
}

fn track(user: &str, event: &str, message_id: &str, properties: Json) -> Json {
    json!({
        "type": "track",
        "event": event,
        "userId": user,
        "messageId": message_id,
        "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "properties": properties,
    })
}

async fn stream(
    args: &SegmentsArgs,
    base: &str,
    setup: &Setup,
    profiles: &Arc<Profiles>,
    segment_id: &str,
) -> Result<Streaming> {
    let basic = reqwest::Client::new()
        .get(base)
        .basic_auth(&setup.write_key, Some(""))
        .build()?
        .headers()
        .get(reqwest::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .context("no Basic authorization header")?;
    let ingest = bench::http_client(&basic, 8)?;
    let api = bench::http_client(&format!("Bearer {}", setup.token), 8)?;
    let batch_url = format!("{base}/v1/batch");
    let load = Arc::new(Background {
        client: bench::http_client(&basic, 64)?,
        url: batch_url.clone(),
        profiles: profiles.clone(),
        tag: setup.tag.clone(),
        batch: args.stream_batch.max(1),
        accepted: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        skipped: AtomicU64::new(0),
        first_error: Mutex::new(None),
        acks_us: Mutex::new(Vec::new()),
    });
    let stop = Arc::new(AtomicBool::new(false));
    let running = tokio::spawn(background(load.clone(), args.stream_rate, stop.clone()));
    // Let the load settle before the first sample.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let mut out = Streaming {
        warmup: WARMUP_SAMPLES,
        ..Streaming::default()
    };
    let outcome = sample_all(
        args, &api, &ingest, &batch_url, base, setup, segment_id, &mut out,
    )
    .await;
    stop.store(true, Relaxed);
    let ran = running.await.context("the background load failed")?;
    outcome?;
    out.background_events = load.accepted.load(Relaxed);
    out.background_secs = ran.as_secs_f64();
    out.background_errors = load.errors.load(Relaxed);
    out.background_skipped = load.skipped.load(Relaxed);
    out.background_first_error = load.first_error.lock().ok().and_then(|f| f.clone());
    out.background_acks_us = load.acks_us.lock().map(|a| a.clone()).unwrap_or_default();
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
async fn sample_all(
    args: &SegmentsArgs,
    api: &reqwest::Client,
    ingest: &reqwest::Client,
    batch_url: &str,
    base: &str,
    setup: &Setup,
    segment_id: &str,
    out: &mut Streaming,
) -> Result<()> {
    let total = args.samples + WARMUP_SAMPLES;
    let every = Duration::from_millis(args.sample_every_ms);
    let mut next = Instant::now();
    for s in 0..total {
        tokio::time::sleep_until(next.into()).await;
        next = Instant::now() + every;
        let user = format!("{}-s{s}", setup.tag);
        // Four of the five WeCom messages and a view of a series-A product: not a member yet.
        let mut events = vec![track(
            &user,
            PRODUCT_VIEWED,
            &format!("{user}-0"),
            json!({"series": "A", "sku": "A-101"}),
        )];
        for i in 1..=4 {
            events.push(track(
                &user,
                WECOM_MESSAGE,
                &format!("{user}-{i}"),
                json!({"direction": "in"}),
            ));
        }
        json_of(ingest.post(batch_url).json(&json!({"batch": events})))
            .await
            .context("sending a sample's first events")?;
        let found = json_of(api.get(format!("{base}/api/v1/cdp/profiles")).query(&[
            ("identifier_type", "user_id"),
            ("identifier", user.as_str()),
        ]))
        .await
        .context("looking the sample's profile up")?;
        let profile = found
            .pointer("/profiles/0/id")
            .and_then(Json::as_str)
            .context("no profile for the sample")?
            .to_string();
        let memberships = format!("{base}/api/v1/cdp/profiles/{profile}/segments");
        if mentions(&json_of(api.get(&memberships)).await?, segment_id) {
            out.members_before += 1;
            continue;
        }
        // The fifth message makes the customer a member.
        let trigger = json!({"batch": [track(&user, WECOM_MESSAGE, &format!("{user}-5"), json!({"direction": "in"}))]});
        let sent = Instant::now();
        json_of(ingest.post(batch_url).json(&trigger))
            .await
            .context("sending a sample's deciding event")?;
        let acked = Instant::now();
        let visible = loop {
            let seen = mentions(&json_of(api.get(&memberships)).await?, segment_id);
            if seen {
                break Some(acked.elapsed());
            }
            if acked.elapsed() > VISIBLE_LIMIT {
                break None;
            }
            tokio::time::sleep(POLL_EVERY).await;
        };
        if s < WARMUP_SAMPLES {
            continue;
        }
        out.trigger_acks_us
            .push(u64::try_from((acked - sent).as_micros()).unwrap_or(u64::MAX));
        match visible {
            Some(delay) => out
                .delays_us
                .push(u64::try_from(delay.as_micros()).unwrap_or(u64::MAX)),
            None => out.timeouts += 1,
        }
        if (s + 1 - WARMUP_SAMPLES).is_multiple_of(100) {
            println!("  {} samples", s + 1 - WARMUP_SAMPLES);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------

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

fn percentile<T: Copy + Default>(sorted: &[T], q: f64) -> T {
    if sorted.is_empty() {
        return T::default();
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted.get(rank - 1).copied().unwrap_or_default()
}

fn ms(micros: u64) -> String {
    format!("{:.1} ms", micros as f64 / 1000.0)
}

fn gib(bytes: u64) -> String {
    format!("{:.2} GiB", bytes as f64 / f64::from(1u32 << 30))
}

fn mib(kib: u64) -> String {
    format!("{:.0} MiB", kib as f64 / 1024.0)
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 100.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.1} s")
    }
}

/// The skew of the data set, from the events per profile.
struct Skew {
    max: u64,
    median: u64,
    without: usize,
    top1: f64,
    top20: f64,
    over_10k: usize,
}

fn skew(counts: &[u32]) -> Skew {
    let mut sorted: Vec<u64> = counts.iter().map(|c| u64::from(*c)).collect();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    let total: u64 = sorted.iter().sum::<u64>().max(1);
    let share = |fraction: f64| {
        let n = ((sorted.len() as f64 * fraction).ceil() as usize).min(sorted.len());
        sorted.iter().take(n).sum::<u64>() as f64 / total as f64
    };
    Skew {
        max: sorted.first().copied().unwrap_or(0),
        median: sorted.get(sorted.len() / 2).copied().unwrap_or(0),
        without: sorted.iter().filter(|c| **c == 0).count(),
        top1: share(0.01),
        top20: share(0.2),
        over_10k: sorted.iter().filter(|c| **c >= 10_000).count(),
    }
}

struct Findings {
    backend: &'static str,
    version: String,
    load: String,
    fill: Fill,
    duck: DuckDb,
    eval: Evaluation,
    stream: Streaming,
    memory_after_evaluate: Memory,
    memory_end: Memory,
    /// Whether every evaluation came within `GAP_MS` of the fill (same window as DuckDB's).
    within_gap: bool,
}

impl Findings {
    /// Every count and set agrees.
    fn members_agree(&self) -> bool {
        let d = self.duck.table.members;
        d == self.duck.parquet.members
            && d == self.eval.evaluate.members
            && self.eval.create_members.is_none_or(|c| c == d)
            && self.eval.only_rapport.is_empty()
            && self.eval.only_duckdb.is_empty()
            && self.eval.members_listed == self.duck.members.len()
    }
}

pub async fn run(args: SegmentsArgs) -> Result<()> {
    if args.profiles == 0 || args.events == 0 || args.runs == 0 || args.samples == 0 {
        bail!("--profiles, --events, --runs and --samples must be positive");
    }
    if args.profiles > u64::from(u32::MAX) || args.events > 0xffff_ffff {
        bail!("--profiles and --events go up to 4,294,967,295");
    }
    let store = args.storage.open().await?;
    let backend = match store.db.dialect() {
        Dialect::Sqlite => "SQLite",
        Dialect::Postgres => "PostgreSQL",
    };
    let bare = Bare::of(&store.db);
    let version = bench::db_version(&bare).await;
    let load = bench::load_average();
    let now = chrono::Utc::now().timestamp_millis();
    let timeline = Timeline::new(now, args.events);

    println!(
        "{backend}: filling {} profiles and {} events",
        number(args.profiles),
        number(args.events)
    );
    let (setup, fill, profiles) = fill(&store, &bare, &args, timeline).await?;
    println!(
        "  filled in {} ({} on disk)",
        secs(
            fill.setup
                + fill.profiles
                + fill.events
                + fill.indexes
                + fill.vacuum.unwrap_or_default()
        ),
        gib(fill.db_bytes)
    );

    println!("DuckDB: exporting the events and timing the segment's SQL");
    let duck = duckdb(&args, &bare, &setup.ws, timeline.cutoff()).await?;
    store.db.close().await;

    println!("Rapport: `rapport serve` as a child process");
    let server = ServerProcess::start(&args.storage).await?;
    let api = bench::http_client(&format!("Bearer {}", setup.token), 8)?;
    let eval = evaluate(&api, &server, args.runs, &duck).await?;
    let memory_after_evaluate = server.memory();
    let within_gap = chrono::Utc::now().timestamp_millis() < now + GAP_MS;
    println!(
        "streaming: {} samples while {} events/s arrive",
        args.samples, args.stream_rate
    );
    let stream = stream(&args, &server.base, &setup, &profiles, &eval.segment_id).await?;
    let memory_end = server.memory();
    server.stop().await;

    let findings = Findings {
        backend,
        version,
        load,
        fill,
        duck,
        eval,
        stream,
        memory_after_evaluate,
        memory_end,
        within_gap,
    };
    let md = report(&args, &findings);
    bench::publish(&md, args.out.as_deref())?;
    if !findings.members_agree() {
        bail!(
            "Rapport's and DuckDB's members differ (Rapport {}, DuckDB {}): see the report",
            findings.eval.evaluate.members,
            findings.duck.table.members
        );
    }
    Ok(())
}

fn report(args: &SegmentsArgs, f: &Findings) -> String {
    let mut md = String::new();
    let now = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let _ = writeln!(
        md,
        "## Segments, {}: {} profiles, {} events, {now}\n",
        f.backend,
        number(args.profiles),
        number(args.events)
    );
    if let Some(note) = &args.note {
        let _ = writeln!(md, "> {note}\n");
    }
    let s = skew(&f.fill.counts);
    let fill_total = f.fill.setup
        + f.fill.profiles
        + f.fill.events
        + f.fill.indexes
        + f.fill.vacuum.unwrap_or_default();
    let _ = writeln!(
        md,
        "- Machine: {}; 1-minute load average at the start: {}",
        bench::machine(),
        f.load
    );
    let _ = writeln!(
        md,
        "- Database: {}; build profile: {profile}; DuckDB {} (Python package from PyPI) with {} threads",
        f.version, f.duck.version, f.duck.threads
    );
    let _ = writeln!(
        md,
        "- Data: {} profiles with one user id each; {} track events over the 90 days before the run, in time order ({}; `Product Viewed` carries `series` A {}%), bodies of {:.0} bytes on average. Events per profile are heavy-tailed (Pareto weights, α = {PARETO_ALPHA}): the top 1% of profiles have {:.0}% of the events, the top 20% {:.0}%; the heaviest has {}, {} have 10,000 or more, the median profile has {}, {} have none. No event falls between 30 days ago and {} h later, so every evaluation within {} h of the fill sees the same window as DuckDB's fixed cutoff{}",
        number(args.profiles),
        number(args.events),
        MIX.iter()
            .map(|(name, share)| format!("{name} {:.1}%", f64::from(*share) / 10.0))
            .collect::<Vec<_>>()
            .join(", "),
        SERIES.first().map_or(0, |(_, p)| *p),
        f.fill.body_bytes as f64 / args.events as f64,
        s.top1 * 100.0,
        s.top20 * 100.0,
        number(s.max),
        number(s.over_10k as u64),
        number(s.median),
        number(s.without as u64),
        GAP_MS / 3_600_000,
        GAP_MS / 3_600_000,
        if f.within_gap {
            " (this run did)"
        } else {
            " (**this run took longer: counts may differ at the window's edge**)"
        }
    );
    let _ = writeln!(
        md,
        "- Fill (straight into the tables, {}): {} in all — setup {}, profiles and identities {}, events {} ({:.0} rows/s), rebuilding the secondary indexes {} ({}){}; database size afterwards {}",
        if f.backend == "SQLite" {
            "multi-row INSERTs of 1,000 rows through sqlx, synchronous=OFF during the load"
        } else {
            "COPY through sqlx"
        },
        secs(fill_total),
        secs(f.fill.setup),
        secs(f.fill.profiles),
        secs(f.fill.events),
        args.events as f64 / f.fill.events.as_secs_f64().max(0.001),
        secs(f.fill.indexes),
        f.fill.index_names.join(", "),
        f.fill
            .vacuum
            .map(|v| format!(", VACUUM (ANALYZE) {}", secs(v)))
            .unwrap_or_default(),
        gib(f.fill.db_bytes)
    );
    let _ = writeln!(
        md,
        "- DuckDB input: the events read back out of `cdp_events` (profile id, name, time, `properties.series`) and piped as CSV into a DuckDB database file ({:.0} s, of which DuckDB's load {:.0} s; {} rows, {}), then written to Parquet ({}); neither step is timed",
        f.duck.export_s,
        f.duck.load_s,
        number(f.duck.rows),
        gib(f.duck.db_bytes),
        gib(f.duck.parquet_bytes)
    );
    let _ = writeln!(md, "\n### Full evaluation\n");
    let _ = writeln!(md, "| what | best | median | members |");
    let _ = writeln!(md, "|---|---:|---:|---:|");
    let create_ms = f.eval.create.as_secs_f64() * 1000.0;
    let _ = writeln!(
        md,
        "| Rapport: create the segment (`POST /segments`: builds the behaviour counters from the events, then evaluates) | {create_ms:.0} ms | (one run) | {} |",
        f.eval.create_members.map_or("?".into(), number)
    );
    let took = {
        let mut t = f.eval.evaluate_took_ms.clone();
        t.sort_by(f64::total_cmp);
        format!(
            " (server's took_ms: best {}; events read to fill counters: {})",
            t.first().map_or("?".into(), |b| format!("{b:.0}")),
            number(f.eval.events_counted)
        )
    };
    let _ = writeln!(
        md,
        "| Rapport: `POST /segments/{{id}}/evaluate` (from the counters), {} runs{took} | {:.0} ms | {:.0} ms | {} |",
        f.eval.evaluate.runs_ms.len(),
        f.eval.evaluate.best(),
        f.eval.evaluate.median(),
        number(f.eval.evaluate.members)
    );
    for (what, t) in [
        ("DuckDB: the SQL below on the DuckDB table", &f.duck.table),
        ("DuckDB: the same SQL on the Parquet file", &f.duck.parquet),
    ] {
        let _ = writeln!(
            md,
            "| {what}, {} runs | {:.0} ms | {:.0} ms | {} |",
            t.runs_ms.len(),
            t.best(),
            t.median(),
            number(t.members)
        );
    }
    let agree = f.members_agree();
    let _ = writeln!(
        md,
        "\nMembers: {}{}. Times are wall-clock at the client (Rapport: the HTTP request over loopback; DuckDB: `execute` + `fetchone` in Python). Ratios: Rapport's evaluation ÷ DuckDB's table scan {:.2}, ÷ Parquet {:.2}; creating (counters included) ÷ DuckDB's table scan {:.2}.",
        if agree {
            format!(
                "Rapport and DuckDB agree ({} profiles, the same sets)",
                number(f.duck.table.members)
            )
        } else {
            "**Rapport and DuckDB differ**".to_string()
        },
        if agree {
            String::new()
        } else {
            format!(
                " (Rapport listed {} members; only in Rapport, e.g. {:?}; only in DuckDB, e.g. {:?})",
                number(f.eval.members_listed as u64),
                f.eval.only_rapport,
                f.eval.only_duckdb
            )
        },
        f.eval.evaluate.best() / f.duck.table.best(),
        f.eval.evaluate.best() / f.duck.parquet.best(),
        create_ms / f.duck.table.best(),
    );
    let _ = writeln!(md, "\n```sql\n{}\n```", f.duck.sql);

    let st = &f.stream;
    let mut delays = st.delays_us.clone();
    delays.sort_unstable();
    let mut acks = st.trigger_acks_us.clone();
    acks.sort_unstable();
    let mut bg = st.background_acks_us.clone();
    bg.sort_unstable();
    let _ = writeln!(md, "\n### Streaming\n");
    let _ = writeln!(
        md,
        "While a background load sent `POST /v1/batch` requests of {} events of the fill's mix from the fill's profiles at a steady {} events/s (achieved {:.0} events/s over {:.0} s; acknowledgement p50 {}, p99 {}; {} errors{}{}), each sample sent a fresh customer one `Product Viewed` (series A) and four `WeCom Message` events, checked the customer was not a member, then sent the fifth message and polled `GET /api/v1/cdp/profiles/{{id}}/segments` every {} ms until the segment showed. Delay = answer of the poll that showed it − acknowledgement (200) of the fifth message. {} samples after {} of warm-up, one started at most every {} ms{}{}.\n",
        args.stream_batch,
        number(args.stream_rate),
        st.background_events as f64 / st.background_secs.max(0.001),
        st.background_secs,
        ms(u64::from(percentile(&bg, 0.5))),
        ms(u64::from(percentile(&bg, 0.99))),
        st.background_errors,
        st.background_first_error
            .as_deref()
            .map(|e| format!(", first: {e}"))
            .unwrap_or_default(),
        if st.background_skipped > 0 {
            format!(", {} requests skipped as 64 were in flight", st.background_skipped)
        } else {
            String::new()
        },
        POLL_EVERY.as_millis(),
        delays.len() + st.timeouts,
        st.warmup,
        args.sample_every_ms,
        if st.timeouts > 0 {
            format!(
                "; **{} never showed within {} s**",
                st.timeouts,
                VISIBLE_LIMIT.as_secs()
            )
        } else {
            String::new()
        },
        if st.members_before > 0 {
            format!(
                "; {} were members before their fifth message (not counted)",
                st.members_before
            )
        } else {
            String::new()
        }
    );
    let _ = writeln!(md, "| | p50 | p95 | p99 | max |");
    let _ = writeln!(md, "|---|---:|---:|---:|---:|");
    for (what, v) in [
        ("acknowledgement → membership visible", &delays),
        ("acknowledgement of the fifth message itself", &acks),
    ] {
        let _ = writeln!(
            md,
            "| {what} | {} | {} | {} | {} |",
            ms(percentile(v, 0.5)),
            ms(percentile(v, 0.95)),
            ms(percentile(v, 0.99)),
            ms(v.last().copied().unwrap_or(0))
        );
    }
    let _ = writeln!(md, "\n### Memory\n");
    let _ = writeln!(
        md,
        "The server (`rapport serve`, a child process of the bench started after the fill) as `/proc/<pid>/status` reports it: peak resident (VmHWM) {} after creating the segment, {} after the evaluations, {} at the end (current VmRSS {}).",
        mib(f.eval.memory_after_create.hwm_kib),
        mib(f.memory_after_evaluate.hwm_kib),
        mib(f.memory_end.hwm_kib),
        mib(f.memory_end.rss_kib)
    );
    if f.backend == "PostgreSQL" {
        let _ = writeln!(
            md,
            "PostgreSQL's own processes (its shared buffers and backends) are not included."
        );
    }
    let p99 = percentile(&delays, 0.99);
    let _ = writeln!(md, "\nGoals:\n");
    let _ = writeln!(
        md,
        "- full evaluation no slower than DuckDB's scan: {:.0} ms against {:.0} ms (DuckDB table): {}",
        f.eval.evaluate.best(),
        f.duck.table.best(),
        bench::met(f.eval.evaluate.best() <= f.duck.table.best())
    );
    let _ = writeln!(
        md,
        "- streaming p99 < 100 ms: {}: {}",
        ms(p99),
        bench::met(p99 < 100_000 && st.timeouts == 0 && !delays.is_empty())
    );
    let _ = writeln!(
        md,
        "- server memory < 1 GiB: peak {}: {}",
        mib(f.memory_end.hwm_kib),
        bench::met(f.memory_end.hwm_kib < 1 << 20 && f.memory_end.hwm_kib > 0)
    );
    let _ = writeln!(md, "- members equal to DuckDB's: {}\n", bench::met(agree));
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timeline_skips_the_gap_and_stays_in_the_past() {
        let now = 1_800_000_000_000;
        let t = Timeline::new(now, 1_000_000);
        let mut last = i64::MIN;
        for k in (0..1_000_000).step_by(997).chain([999_999]) {
            let ts = t.ts(k, 0.999);
            assert!(ts >= t.start && ts < now, "{ts}");
            assert!(ts < t.gap_start || ts >= t.gap_start + GAP_MS, "{ts}");
            assert!(ts >= last);
            last = ts;
        }
        assert_eq!(t.ts(0, 0.0), t.start);
        assert_eq!(t.cutoff(), now - 30 * DAY_MS);
    }

    #[test]
    fn profiles_are_heavy_tailed_and_deterministic() {
        let a = Profiles::new(20_000, 7, 0);
        let b = Profiles::new(20_000, 7, 0);
        assert_eq!(a.ids, b.ids);
        assert_eq!(a.ids.iter().collect::<HashSet<_>>().len(), 20_000);
        assert!(a.ids.iter().all(|id| id.len() == 36 && &id[14..15] == "7"));
        let mut rng = StdRng::seed_from_u64(1);
        let mut counts = vec![0u32; a.len()];
        for _ in 0..1_000_000 {
            counts[a.population.draw(&mut rng)] += 1;
        }
        let s = skew(&counts);
        assert!(s.top1 > 0.1 && s.top1 < 0.6, "top 1%: {}", s.top1);
        assert!(s.median < 40, "median {}", s.median);
        assert!(s.max > 1_000, "max {}", s.max);
    }

    #[test]
    fn bodies_are_segment_events() {
        let mut rng = StdRng::seed_from_u64(3);
        let profiles = Profiles::new(100, 1, 0);
        let mut seen = HashSet::new();
        for k in 0..2_000u64 {
            let event = Event::draw(&mut rng, &profiles.population);
            let mut body = String::new();
            event.write_body(&mut body, "u7", &message_id(k), 1_800_000_000_123);
            let v: Json = serde_json::from_str(&body).expect("valid JSON");
            assert_eq!(v["type"], "track");
            assert_eq!(v["userId"], "u7");
            assert_eq!(v["timestamp"], "2027-01-15T08:00:00.123Z");
            assert_eq!(v["event"], event.name);
            assert!(v["properties"].is_object());
            if event.name == PRODUCT_VIEWED {
                assert_eq!(v["properties"]["series"].as_str(), event.series);
            }
            seen.insert(event.name);
            assert!(body.len() < 200, "{body}");
        }
        assert_eq!(seen.len(), MIX.len());
        assert!(message_id(0xff) < message_id(0x100));
    }

    #[test]
    fn copy_text_and_csv_are_escaped() {
        let mut out = Vec::new();
        copy_text(&mut out, "a\\b\tc\nd");
        assert_eq!(out, b"a\\\\b\\tc\\nd");
        let mut csv = Vec::new();
        csv_field(&mut csv, "x,\"y\"");
        assert_eq!(csv, b"\"x,\"\"y\"\"\"");
        let column = csv_column(
            "\u{feff}name,profile_id\r\n\"a\",p1\r\nb,p2\r\n",
            "profile_id",
        );
        assert_eq!(column, HashSet::from(["p1".to_string(), "p2".to_string()]));
    }

    #[test]
    fn the_generator_writes_every_event_once() {
        let profiles = Arc::new(Profiles::new(50, 1, 0));
        for copy in [false, true] {
            let (tx, mut rx) = mpsc::channel(100);
            let (counts, bytes) = Generator {
                profiles: profiles.clone(),
                timeline: Timeline::new(1_800_000_000_000, 2_500),
                seed: 1,
                ws: "w".into(),
                source_id: "s".into(),
                copy,
            }
            .run(&tx);
            drop(tx);
            assert_eq!(counts.iter().map(|c| u64::from(*c)).sum::<u64>(), 2_500);
            assert!(bytes > 2_500 * 100 && bytes < 2_500 * 200, "{bytes}");
            let mut rows = 0;
            while let Ok(chunk) = rx.try_recv() {
                match chunk {
                    Chunk::Rows(r) => rows += r.len(),
                    Chunk::Copy { text, rows: n } => {
                        let text = String::from_utf8(text).expect("UTF-8");
                        assert_eq!(text.lines().count(), n);
                        assert!(text.lines().all(|l| l.split('\t').count() == 11));
                        rows += n;
                    }
                }
            }
            assert_eq!(rows, 2_500);
        }
    }
}
