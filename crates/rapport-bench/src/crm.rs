//! `rapport-bench crm`: measures the HTTP API on a workspace of many contacts, and beside it the same
//! SQL run by the bare driver (sqlx) on the same database in the same run, so the ratio shows
//! what Rapport adds (HTTP, authentication, validation, JSON, history and outbox).
//!
//! It opens the store, makes sure there is a workspace, an administrator, a fresh API token and
//! at least `--contacts` contacts (filling the rest through the record write path,
//! `Store::create_records`, history and outbox included), starts the real server in-process on
//! loopback and drives it with `--concurrency` tasks sharing one keep-alive HTTP/1.1 client for
//! `--duration-secs` per scenario: get by id, filtered and sorted list (first page), create and
//! update. Then it runs the baselines: the same statements through sqlx on the store's own
//! pools (SQLite: one writer connection, eight readers; PostgreSQL: the store's pool). Results
//! are a Markdown section printed and appended to `--out`.

use crate::common::{
    api_token, body_of, db_version, drive, ensure_admin, err, http_client, load_average, machine,
    met, ms, publish, run_tag, uuid_v7, Bare, Call, Server, Stats, FAMILY, GIVEN,
};
use anyhow::{bail, Context, Result};
use clap::Args;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rapport_core::condition::{Condition, DateContext};
use rapport_core::metadata::{ObjectDef, WorkspaceSchema};
use rapport_core::names::quote;
use rapport_core::sql::Dialect;
use rapport_core::value::format_datetime;
use rapport_core::{Principal, Source};
use rapport_store::accounts::Credential;
use rapport_store::cli::StorageArgs;
use rapport_store::records::{
    list_statement, select_sql, ListQuery, RecordInput, SortKey, WriteCtx,
};
use rapport_store::schema::placeholder;
use rapport_store::{table_name, Store};
use serde_json::{json, Map, Value as Json};
use sqlx::Row as _;
use std::fmt::Write as _;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

const OBJECT: &str = "contact";
/// Contact ids sampled once and picked at random by the id-based scenarios.
const ID_SAMPLE: usize = 10_000;
const PAGE: usize = 50;
const FILL_BATCH: usize = 1000;

#[derive(Args)]
pub struct BenchArgs {
    #[command(flatten)]
    storage: StorageArgs,
    /// Contacts the workspace must hold; missing ones are created first (kept between runs).
    #[arg(long, default_value_t = 1_000_000)]
    contacts: usize,
    /// Measured seconds per scenario.
    #[arg(long, default_value_t = 10)]
    duration_secs: u64,
    /// Unmeasured seconds before each scenario.
    #[arg(long, default_value_t = 1)]
    warmup_secs: u64,
    /// Concurrent connections (HTTP) or tasks (bare SQL).
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Append the Markdown results to this file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// A remark printed under the section's heading.
    #[arg(long)]
    note: Option<String>,
    /// How an empty workspace is filled: the demo data set (companies, deals, activities… and
    /// the contacts), or contacts only. Contacts still missing afterwards are always added alone.
    #[arg(long, value_enum, default_value_t = Fill::Demo)]
    fill: Fill,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Fill {
    Demo,
    Contacts,
}

/// Lifecycle stages and their share (percent) of the filled contacts.
const STAGES: [(&str, u32); 8] = [
    ("subscriber", 20),
    ("lead", 25),
    ("mql", 12),
    ("sql", 8),
    ("opportunity", 10),
    ("customer", 18),
    ("evangelist", 2),
    ("churned", 5),
];
const TITLES: [&str; 12] = [
    "销售经理",
    "采购总监",
    "技术总监",
    "CTO",
    "总经理",
    "市场专员",
    "产品经理",
    "Software Engineer",
    "Head of Procurement",
    "财务经理",
    "运营主管",
    "IT Manager",
];
const CITIES: [&str; 12] = [
    "北京",
    "上海",
    "广州",
    "深圳",
    "杭州",
    "成都",
    "武汉",
    "南京",
    "西安",
    "苏州",
    "Singapore",
    "Hong Kong",
];
const DOMAINS: [&str; 6] = [
    "example.com",
    "example.cn",
    "mail.example.org",
    "corp.example.net",
    "example.com.cn",
    "test.example",
];
const MOBILE_PREFIXES: [&str; 10] = [
    "138", "139", "135", "137", "150", "151", "158", "186", "187", "189",
];

/// One generated contact, with the values as sent to the API and as stored.
struct ContactData {
    name: String,
    title: String,
    stage: &'static str,
    email: String,
    /// As typed (national format); stored as E.164 (`phone_e164`).
    phone: String,
    phone_e164: String,
    city: String,
    birthday: String,
}

fn pick<T: Copy>(rng: &mut StdRng, items: &[T]) -> Option<T> {
    if items.is_empty() {
        None
    } else {
        items.get(rng.gen_range(0..items.len())).copied()
    }
}

fn weighted_stage(rng: &mut StdRng) -> &'static str {
    let total: u32 = STAGES.iter().map(|(_, w)| w).sum();
    let mut roll = rng.gen_range(0..total.max(1));
    for (stage, weight) in STAGES {
        if roll < weight {
            return stage;
        }
        roll -= weight;
    }
    "lead"
}

/// A realistic contact whose email is unique through `unique` (e.g. `c123.ab12`).
fn contact_data(rng: &mut StdRng, unique: &str) -> ContactData {
    let (family, pinyin) = pick(rng, &FAMILY).unwrap_or(("王", "wang"));
    let given = pick(rng, &GIVEN).unwrap_or("伟");
    let prefix = pick(rng, &MOBILE_PREFIXES).unwrap_or("138");
    let phone = format!("{prefix}{:08}", rng.gen_range(0..100_000_000u32));
    ContactData {
        name: format!("{family}{given}"),
        title: pick(rng, &TITLES).unwrap_or("CTO").to_string(),
        stage: weighted_stage(rng),
        email: format!(
            "{pinyin}.{unique}@{}",
            pick(rng, &DOMAINS).unwrap_or("example.com")
        ),
        phone_e164: format!("+86{phone}"),
        phone,
        city: pick(rng, &CITIES).unwrap_or("北京").to_string(),
        birthday: format!(
            "19{}-{:02}-{:02}",
            rng.gen_range(60..100),
            rng.gen_range(1..13),
            rng.gen_range(1..29)
        ),
    }
}

/// The API values of a contact (`with_birthday` for the fill; the create scenario sends the
/// six columns the bare INSERT writes).
fn contact_values(c: &ContactData, with_birthday: bool) -> Map<String, Json> {
    let mut values = Map::new();
    values.insert("name".into(), json!(c.name));
    values.insert("title".into(), json!(c.title));
    values.insert("lifecycle_stage".into(), json!(c.stage));
    values.insert("email".into(), json!(c.email));
    values.insert("phone".into(), json!(c.phone));
    values.insert("city".into(), json!(c.city));
    if with_birthday {
        values.insert("birthday".into(), json!(c.birthday));
    }
    values
}

async fn count_contacts(store: &Store, ws: &str) -> Result<usize> {
    let sql = format!(
        "SELECT COUNT(*) FROM {} WHERE \"deleted_at\" IS NULL",
        quote(&table_name(ws, OBJECT))
    );
    let row = store
        .db
        .fetch_optional(&sql, &[], &[rapport_core::sql::ColumnKind::Int])
        .await?
        .context("COUNT(*) returned no row")?;
    Ok(usize::try_from(row.int(0)?).unwrap_or(0))
}

/// Creates contacts through the one write path (row, history and outbox) in batches of 1,000
/// until the workspace holds `want`.
async fn fill_contacts(
    store: &Store,
    principal: &Principal,
    schema: &WorkspaceSchema,
    mut have: usize,
    want: usize,
) -> Result<()> {
    let tag = run_tag();
    let ctx = WriteCtx {
        principal,
        source: Source::Import,
        request_id: format!("bench-fill-{tag}"),
    };
    let mut rng = StdRng::seed_from_u64(u64::try_from(have).unwrap_or(0));
    let started = Instant::now();
    let first = have;
    let mut reported = have;
    while have < want {
        let n = (want - have).min(FILL_BATCH);
        let inputs = (0..n)
            .map(|k| {
                let c = contact_data(&mut rng, &format!("c{}.{tag}", have + k));
                RecordInput {
                    values: contact_values(&c, true),
                    owner_id: None,
                }
            })
            .collect();
        store
            .create_records(&ctx, schema, OBJECT, inputs)
            .await
            .with_context(|| format!("creating contacts {have}..{}", have + n))?;
        have += n;
        if have - reported >= 50_000 || have == want {
            reported = have;
            let secs = started.elapsed().as_secs_f64();
            println!(
                "  {have} contacts ({:.0} rows/s)",
                (have - first) as f64 / secs.max(0.001)
            );
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The load driver.

/// A warm-up (discarded) then the measured run.
async fn measure<F, Fut>(args: &BenchArgs, label: &str, op: F) -> Result<Stats>
where
    F: Fn(Call) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let op = Arc::new(op);
    let load = load_average();
    if args.warmup_secs > 0 {
        drive(
            args.concurrency,
            Duration::from_secs(args.warmup_secs),
            op.clone(),
        )
        .await?;
    }
    let mut stats = drive(
        args.concurrency,
        Duration::from_secs(args.duration_secs),
        op,
    )
    .await?;
    stats.load = load;
    println!(
        "  {label:<28} {:>9.0} /s  p50 {:>8}  p99 {:>8}  errors {}{}",
        stats.per_sec(),
        ms(stats.p50_us),
        ms(stats.p99_us),
        stats.errors,
        stats
            .first_error
            .as_deref()
            .map(|e| format!(" (first: {e})"))
            .unwrap_or_default()
    );
    Ok(stats)
}

async fn check(response: reqwest::Result<reqwest::Response>) -> Result<(), String> {
    body_of(response).await.map(|_| ())
}

fn pick_id(ids: &[String], random: u64) -> &str {
    let n = ids.len().max(1) as u64;
    ids.get(usize::try_from(random % n).unwrap_or(0))
        .map_or("", String::as_str)
}

fn pick_stage(random: u64) -> &'static str {
    let i = usize::try_from((random >> 32) % STAGES.len() as u64).unwrap_or(0);
    STAGES.get(i).map_or("customer", |(s, _)| s)
}

fn unique_contact(tag: &str, call: Call) -> ContactData {
    let mut rng = StdRng::seed_from_u64(call.random);
    contact_data(
        &mut rng,
        &format!("b{tag}.{}.{}.{:x}", call.task, call.iter, call.random),
    )
}

// ---------------------------------------------------------------------------------------------
// Bare SQL on the store's own pools.

/// The statements of every baseline, in the store's dialect.
struct Statements {
    /// What `Store::principal_for` runs for a bearer token.
    auth: String,
    get: String,
    list: String,
    insert: String,
    history: String,
    outbox: String,
    update_title: String,
    update_versioned: String,
}

fn statements(
    dialect: Dialect,
    ws: &str,
    def: &ObjectDef,
    schema: &WorkspaceSchema,
    dates: &DateContext,
) -> Result<Statements> {
    let p = |n| placeholder(dialect, n);
    let table = quote(&table_name(ws, OBJECT));
    // Exactly what `Store::get_record` runs.
    let (select, _) = select_sql(def, &table);
    let get = format!(
        "{select} WHERE \"id\" = {} AND \"deleted_at\" IS NULL",
        p(1)
    );
    // Exactly what `Store::list_records` runs for the list scenario's request.
    let condition = Condition::parse(&json!({
        "field": "lifecycle_stage", "op": "eq", "value": "customer"
    }))?
    .check(schema, OBJECT, dates)?;
    let query = ListQuery {
        filter: Some(condition),
        sort: vec![SortKey::parse("-created_at")],
        limit: PAGE,
        ..ListQuery::default()
    };
    let b = list_statement(dialect, ws, def, &query)?.sql;
    if b.params.len() != 1 {
        bail!("the list filter binds {} parameters, not 1", b.params.len());
    }
    let columns = [
        "id",
        "version",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "owner_id",
        "name",
        "title",
        "lifecycle_stage",
        "email",
        "phone",
        "city",
    ];
    let insert = format!(
        "INSERT INTO {table} ({}) VALUES ({})",
        columns.map(quote).join(", "),
        (1..=columns.len()).map(p).collect::<Vec<_>>().join(", ")
    );
    let history = format!(
        "INSERT INTO field_history (workspace_id, object, record_id, kind, field, old_value, new_value, actor_id, source, request_id, changed_at) VALUES ({})",
        (1..=11).map(p).collect::<Vec<_>>().join(", ")
    );
    let outbox = format!(
        "INSERT INTO outbox (workspace_id, topic, object, record_id, payload, created_at) VALUES ({})",
        (1..=6).map(p).collect::<Vec<_>>().join(", ")
    );
    let update_title = format!(
        "UPDATE {table} SET \"title\" = {} WHERE \"id\" = {}",
        p(1),
        p(2)
    );
    let update_versioned = format!(
        "UPDATE {table} SET \"title\" = {}, \"version\" = {}, \"updated_at\" = {}, \"updated_by\" = {} WHERE \"id\" = {} AND \"version\" = {}",
        p(1), p(2), p(3), p(4), p(5), p(6)
    );
    let auth = format!(
        "SELECT u.id, u.email, u.workspace_id, r.id, r.name, r.is_admin, r.permissions, w.metadata_version, w.utc_offset_minutes, c.id, c.last_used_at \
         FROM api_tokens c JOIN users u ON u.id = c.user_id \
         JOIN roles r ON r.workspace_id = u.workspace_id AND r.id = u.role_id \
         JOIN workspaces w ON w.id = u.workspace_id \
         WHERE c.token_hash = {} AND c.revoked_at IS NULL AND u.active = TRUE",
        p(1)
    );
    Ok(Statements {
        auth,
        get,
        list: b.sql,
        insert,
        history,
        outbox,
        update_title,
        update_versioned,
    })
}

/// A read of one text parameter, all rows fetched (not decoded further).
async fn bare_select(bare: &Bare, sql: &str, param: &str) -> Result<usize, String> {
    match bare {
        Bare::Sqlite { readers, .. } => Ok(sqlx::query(sql)
            .bind(param.to_string())
            .fetch_all(readers)
            .await
            .map_err(err)?
            .len()),
        Bare::Postgres(pool) => Ok(sqlx::query(sql)
            .bind(param.to_string())
            .fetch_all(pool)
            .await
            .map_err(err)?
            .len()),
    }
}

/// The context of one bare write: who, when, which workspace.
struct WriteInfo<'a> {
    ws: &'a str,
    user: &'a str,
    request_id: String,
    now: chrono::DateTime<chrono::Utc>,
}

fn snapshot(c: &ContactData, owner: &str) -> Json {
    json!({
        "name": c.name, "title": c.title, "lifecycle_stage": c.stage, "email": c.email,
        "phone": c.phone_e164, "city": c.city, "owner_id": owner
    })
}

macro_rules! insert_contact {
    ($sql:expr, $id:expr, $c:expr, $w:expr, $ts:expr) => {
        sqlx::query($sql)
            .bind($id.to_string())
            .bind(1_i64)
            .bind($ts)
            .bind($ts)
            .bind($w.user.to_string())
            .bind($w.user.to_string())
            .bind($w.user.to_string())
            .bind($c.name.clone())
            .bind($c.title.clone())
            .bind($c.stage.to_string())
            .bind($c.email.clone())
            .bind($c.phone_e164.clone())
            .bind($c.city.clone())
    };
}

macro_rules! history_row {
    ($sql:expr, $w:expr, $id:expr, $kind:expr, $field:expr, $old:expr, $new:expr, $ts:expr) => {
        sqlx::query($sql)
            .bind($w.ws.to_string())
            .bind(OBJECT)
            .bind($id.to_string())
            .bind($kind)
            .bind($field)
            .bind($old)
            .bind($new)
            .bind($w.user.to_string())
            .bind(Source::Api.as_str())
            .bind($w.request_id.clone())
            .bind($ts)
    };
}

macro_rules! outbox_row {
    ($sql:expr, $w:expr, $topic:expr, $id:expr, $payload:expr, $ts:expr) => {
        sqlx::query($sql)
            .bind($w.ws.to_string())
            .bind($topic)
            .bind(OBJECT)
            .bind($id.to_string())
            .bind($payload)
            .bind($ts)
    };
}

/// One INSERT of a contact row, in its own (implicit) transaction.
async fn bare_insert(
    bare: &Bare,
    s: &Statements,
    c: &ContactData,
    w: &WriteInfo<'_>,
) -> Result<(), String> {
    let id = uuid_v7();
    match bare {
        Bare::Sqlite { writer, .. } => {
            let ts = format_datetime(&w.now);
            insert_contact!(&s.insert, id, c, w, ts.clone())
                .execute(writer)
                .await
                .map_err(err)?;
        }
        Bare::Postgres(pool) => {
            insert_contact!(&s.insert, id, c, w, w.now)
                .execute(pool)
                .await
                .map_err(err)?;
        }
    }
    Ok(())
}

/// The INSERT, its history row and its outbox row in one transaction: the statements of
/// Rapport's create.
async fn bare_insert_tx(
    bare: &Bare,
    s: &Statements,
    c: &ContactData,
    w: &WriteInfo<'_>,
) -> Result<(), String> {
    let id = uuid_v7();
    let snap = snapshot(c, w.user);
    match bare {
        Bare::Sqlite { writer, .. } => {
            let ts = format_datetime(&w.now);
            let mut tx = writer.begin().await.map_err(err)?;
            insert_contact!(&s.insert, id, c, w, ts.clone())
                .execute(&mut *tx)
                .await
                .map_err(err)?;
            history_row!(
                &s.history,
                w,
                id,
                "created",
                None::<String>,
                "null".to_string(),
                snap.to_string(),
                ts.clone()
            )
            .execute(&mut *tx)
            .await
            .map_err(err)?;
            outbox_row!(&s.outbox, w, "record.created", id, snap.to_string(), ts)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
            tx.commit().await.map_err(err)?;
        }
        Bare::Postgres(pool) => {
            let mut tx = pool.begin().await.map_err(err)?;
            insert_contact!(&s.insert, id, c, w, w.now)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
            history_row!(
                &s.history,
                w,
                id,
                "created",
                None::<String>,
                sqlx::types::Json(Json::Null),
                sqlx::types::Json(snap.clone()),
                w.now
            )
            .execute(&mut *tx)
            .await
            .map_err(err)?;
            outbox_row!(
                &s.outbox,
                w,
                "record.created",
                id,
                sqlx::types::Json(snap),
                w.now
            )
            .execute(&mut *tx)
            .await
            .map_err(err)?;
            tx.commit().await.map_err(err)?;
        }
    }
    Ok(())
}

/// One UPDATE of one column, in its own (implicit) transaction.
async fn bare_update(bare: &Bare, s: &Statements, id: &str, title: &str) -> Result<(), String> {
    match bare {
        Bare::Sqlite { writer, .. } => {
            sqlx::query(&s.update_title)
                .bind(title.to_string())
                .bind(id.to_string())
                .execute(writer)
                .await
                .map_err(err)?;
        }
        Bare::Postgres(pool) => {
            sqlx::query(&s.update_title)
                .bind(title.to_string())
                .bind(id.to_string())
                .execute(pool)
                .await
                .map_err(err)?;
        }
    }
    Ok(())
}

/// The statements of Rapport's update in one transaction: read the row, versioned UPDATE,
/// history row, outbox row.
async fn bare_update_tx(
    bare: &Bare,
    s: &Statements,
    id: &str,
    title: &str,
    w: &WriteInfo<'_>,
) -> Result<(), String> {
    let change = |old: Option<String>| (json!(old), json!(title), json!({ "title": title }));
    match bare {
        Bare::Sqlite { writer, .. } => {
            let ts = format_datetime(&w.now);
            let mut tx = writer.begin().await.map_err(err)?;
            let row = sqlx::query(&s.get)
                .bind(id.to_string())
                .fetch_optional(&mut *tx)
                .await
                .map_err(err)?
                .ok_or("no such contact")?;
            let version: i64 = row.try_get("version").map_err(err)?;
            let old: Option<String> = row.try_get("title").map_err(err)?;
            let (old, new, payload) = change(old);
            sqlx::query(&s.update_versioned)
                .bind(title.to_string())
                .bind(version + 1)
                .bind(ts.clone())
                .bind(w.user.to_string())
                .bind(id.to_string())
                .bind(version)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
            history_row!(
                &s.history,
                w,
                id,
                "updated",
                Some("title"),
                old.to_string(),
                new.to_string(),
                ts.clone()
            )
            .execute(&mut *tx)
            .await
            .map_err(err)?;
            outbox_row!(&s.outbox, w, "record.updated", id, payload.to_string(), ts)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
            tx.commit().await.map_err(err)?;
        }
        Bare::Postgres(pool) => {
            let mut tx = pool.begin().await.map_err(err)?;
            let row = sqlx::query(&s.get)
                .bind(id.to_string())
                .fetch_optional(&mut *tx)
                .await
                .map_err(err)?
                .ok_or("no such contact")?;
            let version: i64 = row.try_get("version").map_err(err)?;
            let old: Option<String> = row.try_get("title").map_err(err)?;
            let (old, new, payload) = change(old);
            sqlx::query(&s.update_versioned)
                .bind(title.to_string())
                .bind(version + 1)
                .bind(w.now)
                .bind(w.user.to_string())
                .bind(id.to_string())
                .bind(version)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
            history_row!(
                &s.history,
                w,
                id,
                "updated",
                Some("title"),
                sqlx::types::Json(old),
                sqlx::types::Json(new),
                w.now
            )
            .execute(&mut *tx)
            .await
            .map_err(err)?;
            outbox_row!(
                &s.outbox,
                w,
                "record.updated",
                id,
                sqlx::types::Json(payload),
                w.now
            )
            .execute(&mut *tx)
            .await
            .map_err(err)?;
            tx.commit().await.map_err(err)?;
        }
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scenario {
    Get,
    List,
    Create,
    Update,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::Get => "get by id",
            Scenario::List => "list (filter + sort)",
            Scenario::Create => "create",
            Scenario::Update => "update",
        }
    }

    /// The statement of the first baseline, and the sequence of the second.
    fn bare_sql(self) -> (&'static str, &'static str) {
        match self {
            Scenario::Get => ("SELECT by id", "token lookup + SELECT by id"),
            Scenario::List => ("the list SELECT", "token lookup + the list SELECT"),
            Scenario::Create => (
                "one INSERT",
                "token lookup + transaction: INSERT row, history, outbox",
            ),
            Scenario::Update => (
                "one UPDATE of the title",
                "token lookup + transaction: SELECT row, versioned UPDATE, history, outbox",
            ),
        }
    }
}

/// What the bare baselines share.
struct BareRun {
    bare: Bare,
    s: Arc<Statements>,
    ids: Arc<Vec<String>>,
    ws: String,
    user: String,
    /// The bench token's digest, for the token lookup.
    digest: String,
    tag: String,
    store: Store,
}

/// One bare call: the scenario's single statement, or (`whole`) every statement Rapport runs
/// for the request.
async fn bare_call(
    run: Arc<BareRun>,
    scenario: Scenario,
    whole: bool,
    call: Call,
) -> Result<(), String> {
    let (bare, s) = (&run.bare, &run.s);
    if whole && bare_select(bare, &s.auth, &run.digest).await? != 1 {
        return Err("the token lookup found no principal".into());
    }
    let w = WriteInfo {
        ws: &run.ws,
        user: &run.user,
        request_id: format!("bench-{}-{}", call.task, call.iter),
        now: run.store.now(),
    };
    let variant = if whole { "w" } else { "s" };
    match scenario {
        Scenario::Get => match bare_select(bare, &s.get, pick_id(&run.ids, call.random)).await? {
            1 => Ok(()),
            n => Err(format!("{n} rows")),
        },
        Scenario::List => bare_select(bare, &s.list, pick_stage(call.random))
            .await
            .map(|_| ()),
        Scenario::Create => {
            let c = unique_contact(&format!("{variant}{}", run.tag), call);
            if whole {
                bare_insert_tx(bare, s, &c, &w).await
            } else {
                bare_insert(bare, s, &c, &w).await
            }
        }
        Scenario::Update => {
            let id = pick_id(&run.ids, call.random);
            let title = format!("Title {variant}{}.{}.{}", run.tag, call.task, call.iter);
            if whole {
                bare_update_tx(bare, s, id, &title, &w).await
            } else {
                bare_update(bare, s, id, &title).await
            }
        }
    }
}

/// The plan of the list statement, as the database reports it.
async fn list_plan(bare: &Bare, s: &Statements) -> String {
    let result: Result<Vec<String>, sqlx::Error> = match bare {
        Bare::Sqlite { readers, .. } => sqlx::query(&format!("EXPLAIN QUERY PLAN {}", s.list))
            .bind("customer")
            .fetch_all(readers)
            .await
            .map(|rows| {
                rows.iter()
                    .map(|r| r.try_get::<String, _>(3).unwrap_or_default())
                    .collect()
            }),
        Bare::Postgres(pool) => sqlx::query(&format!("EXPLAIN {}", s.list))
            .bind("customer")
            .fetch_all(pool)
            .await
            .map(|rows| {
                rows.iter()
                    .map(|r| r.try_get::<String, _>(0).unwrap_or_default())
                    .collect()
            }),
    };
    match result {
        Ok(lines) => lines.join("\n"),
        Err(e) => format!("(EXPLAIN failed: {e})"),
    }
}

/// Row counts of the main tables, e.g. `1000000 contacts, 5000 companies, …`.
/// What the database holds, for the report's header; a count that cannot be read is left out.
async fn data_summary(store: &Store, ws: &str) -> String {
    let mut parts = Vec::new();
    for (object, label) in [
        ("contact", "live contacts"),
        ("company", "companies"),
        ("deal", "deals"),
        ("activity", "activities"),
    ] {
        let sql = format!("SELECT COUNT(*) FROM {}", quote(&table_name(ws, object)));
        if let Ok(Some(row)) = store
            .db
            .fetch_optional(&sql, &[], &[rapport_core::sql::ColumnKind::Int])
            .await
        {
            let n = if object == OBJECT {
                count_contacts(store, ws).await.unwrap_or(0)
            } else {
                row.int(0).map_or(0, |n| usize::try_from(n).unwrap_or(0))
            };
            parts.push(format!("{n} {label}"));
        }
    }
    for table in ["field_history", "outbox"] {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        if let Ok(Some(row)) = store
            .db
            .fetch_optional(&sql, &[], &[rapport_core::sql::ColumnKind::Int])
            .await
        {
            if let Ok(n) = row.int(0) {
                parts.push(format!("{n} {table} rows"));
            }
        }
    }
    parts.join(", ")
}

/// Sampled ids of live contacts.
async fn sample_ids(bare: &Bare, ws: &str) -> Result<Vec<String>> {
    let sql = format!(
        "SELECT \"id\" FROM {} WHERE \"deleted_at\" IS NULL ORDER BY random() LIMIT {ID_SAMPLE}",
        quote(&table_name(ws, OBJECT))
    );
    let ids = match bare {
        Bare::Sqlite { readers, .. } => {
            sqlx::query_scalar::<_, String>(&sql)
                .fetch_all(readers)
                .await?
        }
        Bare::Postgres(pool) => {
            sqlx::query_scalar::<_, String>(&sql)
                .fetch_all(pool)
                .await?
        }
    };
    if ids.is_empty() {
        bail!("the workspace has no contacts");
    }
    Ok(ids)
}

struct Row {
    scenario: Scenario,
    rapport: Stats,
    /// The one statement of the scenario.
    bare: Stats,
    /// Every statement Rapport runs for the request: the token lookup, then the statement (or
    /// for writes the whole transaction with field history and outbox).
    whole: Stats,
}

fn ratio_of(rapport: &Stats, bare: &Stats) -> f64 {
    bare.per_sec() / rapport.per_sec().max(0.001)
}

fn ratio(rapport: &Stats, bare: &Stats) -> String {
    if rapport.ops == 0 {
        return "n/a".into();
    }
    format!("{:.2}×", ratio_of(rapport, bare))
}

#[allow(clippy::too_many_arguments)]
fn report(
    args: &BenchArgs,
    backend: &str,
    version: &str,
    contacts: usize,
    fill_note: &str,
    rows: &[Row],
    list_sql: &str,
    plan: &str,
) -> String {
    let mut md = String::new();
    let now = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let _ = writeln!(md, "## {backend}: {contacts} contacts, {now}\n");
    if let Some(note) = &args.note {
        let _ = writeln!(md, "> {note}\n");
    }
    let _ = writeln!(md, "- Machine: {}", machine());
    let loads: Vec<String> = rows
        .iter()
        .map(|r| r.rapport.load.clone())
        .chain(rows.iter().map(|r| r.bare.load.clone()))
        .chain(rows.iter().map(|r| r.whole.load.clone()))
        .collect();
    let _ = writeln!(
        md,
        "- 1-minute load average at the start of each of the 12 runs (2 cores: above 2, other work was waiting for the CPU too): {}",
        loads.join(", ")
    );
    let _ = writeln!(md, "- Database: {version}; build profile: {profile}");
    let _ = writeln!(
        md,
        "- Load: {} concurrent connections over loopback (one keep-alive HTTP/1.1 client in the same process as the server), {} s measured per scenario after {} s of warm-up; bare SQL: {} concurrent tasks on the store's own pools",
        args.concurrency, args.duration_secs, args.warmup_secs, args.concurrency
    );
    let _ = writeln!(md, "- Data: {fill_note}\n");
    let _ = writeln!(
        md,
        "| scenario | Rapport req/s | p50 | p99 | errors | bare SQL ops/s | p50 | p99 | ratio |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let _ = writeln!(
            md,
            "| {} | {:.0} | {} | {} | {} | {:.0} | {} | {} | {} |",
            r.scenario.name(),
            r.rapport.per_sec(),
            ms(r.rapport.p50_us),
            ms(r.rapport.p99_us),
            r.rapport.errors,
            r.bare.per_sec(),
            ms(r.bare.p50_us),
            ms(r.bare.p99_us),
            ratio(&r.rapport, &r.bare)
        );
    }
    let singles: Vec<String> = rows
        .iter()
        .map(|r| format!("{}: {}", r.scenario.name(), r.scenario.bare_sql().0))
        .collect();
    let _ = writeln!(
        md,
        "\nratio = bare SQL ops/s ÷ Rapport req/s. Bare SQL here is the scenario's one statement ({}), in its own implicit transaction for writes.\n",
        singles.join("; ")
    );
    let _ = writeln!(
        md,
        "Every statement Rapport runs for such a request, run by bare sqlx (the token lookup each request makes, and for writes the whole transaction with field history and outbox):\n"
    );
    let _ = writeln!(
        md,
        "| scenario | statements | bare ops/s | p50 | p99 | errors | ratio to Rapport |"
    );
    let _ = writeln!(md, "|---|---|---:|---:|---:|---:|---:|");
    for r in rows {
        let _ = writeln!(
            md,
            "| {} | {} | {:.0} | {} | {} | {} | {} |",
            r.scenario.name(),
            r.scenario.bare_sql().1,
            r.whole.per_sec(),
            ms(r.whole.p50_us),
            ms(r.whole.p99_us),
            r.whole.errors,
            ratio(&r.rapport, &r.whole)
        );
    }
    let errors: Vec<String> = rows
        .iter()
        .flat_map(|r| {
            [
                ("Rapport", &r.rapport),
                ("bare statement", &r.bare),
                ("bare sequence", &r.whole),
            ]
            .into_iter()
            .filter_map(move |(who, stats)| {
                stats.first_error.as_ref().map(|e| {
                    format!(
                        "- {} ({who}, {} errors): {e}",
                        r.scenario.name(),
                        stats.errors
                    )
                })
            })
        })
        .collect();
    if !errors.is_empty() {
        let _ = writeln!(md, "\nFirst error of each run that had errors:\n");
        for e in errors {
            let _ = writeln!(md, "{e}");
        }
    }
    let _ = writeln!(md, "\nGoals (stated for SQLite on 2 cores):\n");
    for r in rows {
        let per_sec = r.rapport.per_sec();
        match r.scenario {
            Scenario::Get => {
                let _ = writeln!(
                    md,
                    "- ≥ 20,000 reads/s: get by id {per_sec:.0}/s: {}",
                    met(per_sec >= 20_000.0)
                );
            }
            Scenario::List => {
                let _ = writeln!(
                    md,
                    "- filtered list p99 < 50 ms: {}: {}",
                    ms(r.rapport.p99_us),
                    met(r.rapport.p99_us < 50_000)
                );
            }
            Scenario::Create | Scenario::Update => {
                let _ = writeln!(
                    md,
                    "- ≥ 5,000 writes/s (history included): {} {per_sec:.0}/s: {}",
                    r.scenario.name(),
                    met(per_sec >= 5_000.0)
                );
            }
        }
    }
    let worst = |pick: &dyn Fn(&Row) -> &Stats| {
        rows.iter()
            .map(|r| (r.scenario.name(), ratio_of(&r.rapport, pick(r))))
            .fold(("", 0.0_f64), |acc, x| if x.1 > acc.1 { x } else { acc })
    };
    let (seq_name, seq_ratio) = worst(&|r| &r.whole);
    let (one_name, one_ratio) = worst(&|r| &r.bare);
    let _ = writeln!(
        md,
        "- overhead ≤ 2× bare SQL: against the same SQL sequence, worst {seq_ratio:.2}× ({seq_name}): {}; against the single statement, worst {one_ratio:.2}× ({one_name}): {}",
        met(seq_ratio <= 2.0),
        met(one_ratio <= 2.0)
    );
    let _ = writeln!(
        md,
        "\nThe list request is `GET /api/v1/objects/contact/records?filter={{\"field\":\"lifecycle_stage\",\"op\":\"eq\",\"value\":<stage>}}&sort=-created_at&limit={PAGE}` with the stage drawn uniformly from the eight stages; its SQL and plan (for `customer`):\n"
    );
    let _ = writeln!(md, "```sql\n{list_sql}\n```\n");
    let _ = writeln!(md, "```\n{plan}\n```\n");
    md
}

// ---------------------------------------------------------------------------------------------

pub async fn run(args: BenchArgs) -> Result<()> {
    if args.concurrency == 0 || args.duration_secs == 0 {
        bail!("--concurrency and --duration-secs must be positive");
    }
    let store = args.storage.open().await?;
    let backend = match store.db.dialect() {
        Dialect::Sqlite => "SQLite",
        Dialect::Postgres => "PostgreSQL",
    };
    let (ws, admin) = ensure_admin(&store).await?;
    let (token, digest) = api_token(&store, &admin).await?;
    let (principal, _) = store
        .principal_for(Credential::Token(&digest))
        .await?
        .context("the new token does not authenticate")?;
    let schema = store.schema(&ws, principal.metadata_version).await?;
    let def = schema
        .active_object(OBJECT)
        .context("the workspace has no contact object")?
        .clone();

    // Data.
    let before = count_contacts(&store, &ws).await?;
    let mut have = before;
    if have < args.contacts {
        let started = Instant::now();
        if have == 0 && args.fill == Fill::Demo {
            println!("filling with demo data at scale {}…", args.contacts);
            rapport_demo::fill(&store, &ws, args.contacts).await?;
            have = count_contacts(&store, &ws).await?;
        }
        if have < args.contacts {
            println!("creating {} contacts…", args.contacts - have);
            fill_contacts(&store, &principal, &schema, have, args.contacts).await?;
        }
        have = count_contacts(&store, &ws).await?;
        println!(
            "filled to {have} contacts in {:.0} s",
            started.elapsed().as_secs_f64()
        );
    }
    let bare = Bare::of(&store.db);
    if let Bare::Postgres(pool) = &bare {
        // What autovacuum would do after a bulk load; done now so the plan is not a guess.
        sqlx::query(&format!("ANALYZE {}", quote(&table_name(&ws, OBJECT))))
            .execute(pool)
            .await?;
    }
    let fill_note = format!(
        "{}; {}",
        if before >= args.contacts {
            "data already present".to_string()
        } else {
            format!(
                "{} contacts created before this run ({})",
                have - before,
                if before == 0 && args.fill == Fill::Demo {
                    "demo data set"
                } else {
                    "contacts only"
                }
            )
        },
        data_summary(&store, &ws).await
    );
    let ids = Arc::new(sample_ids(&bare, &ws).await?);
    let dates = DateContext::new(store.now(), principal.utc_offset_minutes);
    let s = Arc::new(statements(store.db.dialect(), &ws, &def, &schema, &dates)?);
    let plan = list_plan(&bare, &s).await;
    let version = db_version(&bare).await;
    let tag = run_tag();

    let server = Server::start(&store).await?;
    let client = http_client(&format!("Bearer {token}"), args.concurrency)?;
    let records = format!("{}/api/v1/objects/{OBJECT}/records", server.base);
    let list_urls: Arc<Vec<String>> = Arc::new(
        STAGES
            .iter()
            .map(|(stage, _)| {
                let filter =
                    json!({"field": "lifecycle_stage", "op": "eq", "value": stage}).to_string();
                reqwest::Url::parse_with_params(
                    &records,
                    &[
                        ("filter", filter.as_str()),
                        ("sort", "-created_at"),
                        ("limit", &PAGE.to_string()),
                    ],
                )
                .map(String::from)
            })
            .collect::<Result<_, _>>()?,
    );
    check(
        client
            .get(list_urls.first().map_or("", String::as_str))
            .send()
            .await,
    )
    .await
    .map_err(|e| anyhow::anyhow!("the list request fails: {e}"))?;

    println!(
        "{backend}, {have} contacts, {} connections, {} s per scenario",
        args.concurrency, args.duration_secs
    );
    println!("Rapport over HTTP:");
    let get = {
        let (client, records, ids) = (client.clone(), records.clone(), ids.clone());
        measure(&args, Scenario::Get.name(), move |call| {
            let url = format!("{records}/{}", pick_id(&ids, call.random));
            let request = client.get(url).send();
            async move { check(request.await).await }
        })
        .await?
    };
    let list = {
        let (client, urls) = (client.clone(), list_urls.clone());
        measure(&args, Scenario::List.name(), move |call| {
            let i = STAGES
                .iter()
                .position(|(s, _)| *s == pick_stage(call.random))
                .unwrap_or(0);
            let request = client.get(urls.get(i).map_or("", String::as_str)).send();
            async move { check(request.await).await }
        })
        .await?
    };
    let create = {
        let (client, records, tag) = (client.clone(), records.clone(), tag.clone());
        measure(&args, Scenario::Create.name(), move |call| {
            let c = unique_contact(&format!("h{tag}"), call);
            let body = json!({ "values": contact_values(&c, false) });
            let request = client.post(&records).json(&body).send();
            async move { check(request.await).await }
        })
        .await?
    };
    let update = {
        let (client, records, ids, tag) =
            (client.clone(), records.clone(), ids.clone(), tag.clone());
        measure(&args, Scenario::Update.name(), move |call| {
            let url = format!("{records}/{}", pick_id(&ids, call.random));
            let title = format!("Title {tag}.{}.{}", call.task, call.iter);
            let request = client
                .patch(url)
                .json(&json!({ "values": { "title": title } }))
                .send();
            async move { check(request.await).await }
        })
        .await?
    };
    drop(client);
    server.stop().await;

    println!("bare sqlx (single statement, then Rapport's whole SQL sequence per request):");
    let run = Arc::new(BareRun {
        bare: bare.clone(),
        s: s.clone(),
        ids: ids.clone(),
        ws,
        user: admin.id.clone(),
        digest,
        tag: tag.clone(),
        store: store.clone(),
    });
    let mut rows = Vec::new();
    for (scenario, rapport) in [
        (Scenario::Get, get),
        (Scenario::List, list),
        (Scenario::Create, create),
        (Scenario::Update, update),
    ] {
        let mut measured = Vec::new();
        for whole in [false, true] {
            let run = run.clone();
            let label = format!(
                "{} ({})",
                scenario.name(),
                if whole { "sequence" } else { "statement" }
            );
            measured.push(
                measure(&args, &label, move |call| {
                    bare_call(run.clone(), scenario, whole, call)
                })
                .await?,
            );
        }
        let whole = measured.pop().unwrap_or_default();
        let single = measured.pop().unwrap_or_default();
        rows.push(Row {
            scenario,
            rapport,
            bare: single,
            whole,
        });
    }
    let md = report(
        &args, backend, &version, have, &fill_note, &rows, &s.list, &plan,
    );
    publish(&md, args.out.as_deref())?;
    store.db.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rapport_core::standard::standard_objects;

    #[test]
    fn generated_contacts_are_valid_for_the_contact_object() {
        let mut rng = StdRng::seed_from_u64(1);
        for i in 0..200 {
            let c = contact_data(&mut rng, &format!("c{i}"));
            assert!(STAGES.iter().any(|(s, _)| *s == c.stage));
            assert_eq!(
                rapport_core::normalize::phone(&c.phone, None).as_deref(),
                Some(c.phone_e164.as_str())
            );
            assert!(c.email.contains(&format!(".c{i}@")));
        }
    }

    #[test]
    fn baseline_statements_match_what_the_store_generates() {
        let schema = WorkspaceSchema {
            objects: standard_objects(),
        };
        let def = schema.active_object(OBJECT).expect("contact");
        let dates = DateContext::new(chrono::Utc::now(), 480);
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            let s = statements(dialect, "ws1", def, &schema, &dates).expect("statements");
            let p1 = placeholder(dialect, 1);
            assert!(s.get.ends_with(&format!(
                "FROM \"w_ws1_contact\" WHERE \"id\" = {p1} AND \"deleted_at\" IS NULL"
            )));
            assert!(s.list.contains(&format!(
                "WHERE t.\"deleted_at\" IS NULL AND ((t.\"lifecycle_stage\" IS NOT NULL AND t.\"lifecycle_stage\" = {p1}))"
            )));
            assert!(s
                .list
                .ends_with("ORDER BY t.\"created_at\" DESC, t.\"id\" ASC LIMIT 51"));
            assert!(s.auth.contains(&format!("c.token_hash = {p1}")));
        }
    }
}
