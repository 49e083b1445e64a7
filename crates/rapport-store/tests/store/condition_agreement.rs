//! SQL and in-memory evaluation agree.
//!
//! A property test over the real store: random records of an object with a field of every type
//! are written through the one write path, then random condition trees select records twice —
//! by `list_records` (the condition compiled to SQL) and by `CheckedCondition::eval` on the
//! records read back — and the two id sets must be equal, for the condition and its negation.
//! Runs on SQLite always and on PostgreSQL when `RAPPORT_TEST_DATABASE_URL` is set.
//!
//! Values come from small domains so that equal values, nulls, boundaries (local midnight in
//! UTC+8, week / month / quarter edges, `i64` limits), case differences, non-ASCII text and the
//! LIKE metacharacters `%` `_` `\` are frequent. `PROPTEST_CASES` changes the number of cases
//! and `PROPTEST_RNG_SEED` fixes the seed.

use super::support::{
    field, fixed_now, object, open_store, options, postgres_url, principal, PgDatabase,
    DATABASE_URL_VAR,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::Union;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use rapport_core::condition::{CheckedCondition, Condition, DateContext};
use rapport_core::metadata::{FieldConfig, FieldDef, FieldType, FormulaResult, ObjectDef};
use rapport_core::names::quote;
use rapport_core::sql::SqlBuilder;
use rapport_core::value::parse_datetime;
use rapport_core::{ManualClock, Principal, Record, Source};
use rapport_store::accounts::Workspace;
use rapport_store::records::{ListQuery, RecordInput, WriteCtx};
use rapport_store::{table_name, Db, Store, StoreError};
use serde_json::{json, Map, Value as Json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The workspace's UTC offset, also used to resolve relative dates.
const OFFSET_MINUTES: i32 = 480;
const DEFAULT_CASES: u32 = 64;

// ---------------------------------------------------------------------------------------------
// Value domains
// ---------------------------------------------------------------------------------------------

/// Text inputs of records (blank ones clear the field).
const TEXTS: &[&str] = &[
    "alpha",
    "Alpha",
    "ALPHA",
    "alphabet",
    "beta",
    "Beta",
    "b",
    "B",
    "50%_off",
    "50%",
    "100%",
    "a_b",
    "a%b",
    "axb",
    "ab",
    "x\\y",
    "中文",
    "中文客户",
    "客户🎉",
    "🎉",
    "Ärger",
    "ärger",
    "été",
    "z",
    "Zeta",
    " padded ",
    "line\nbreak",
    "",
    "   ",
];

/// Text values compared against in conditions.
const TEXT_VALUES: &[&str] = &[
    "alpha",
    "Alpha",
    "ALPHA",
    "alphabet",
    "ALPHABET",
    "alph",
    "beta",
    "b",
    "B",
    "50%_off",
    "50%",
    "a_b",
    "a%b",
    "axb",
    "x\\y",
    "中",
    "中文",
    "客户🎉",
    "🎉",
    "Ärger",
    "ÄRGER",
    "ärger",
    "été",
    "z",
    "zzz",
    "0",
    " padded ",
    "padded",
];

/// Substrings for `contains` / `starts_with`.
const NEEDLES: &[&str] = &[
    "a", "A", "AL", "alp", "PH", "%", "_", "\\", "50%", "%_", "a_b", "x_", "ä", "Ä", "é", "É",
    "中", "文客", "🎉", "zz", "b", " a ", "eta", "%o", "\\y", "@x", "+86", "138", "HTTPS", "例子",
    "0", "-7", "019", "F", "pad",
];

const STAGES: &[&str] = &["new", "won", "lost", "50%_off", "中文"];
const TAGS: &[&str] = &["hot", "cold", "vip", "50%_off"];
const INDUSTRIES: &[&str] = &["retail", "finance", "technology", "other"];
const INDUSTRY_VALUES: &[&str] = &["retail", "finance", "technology", "other", "energy"];
const EMAILS: &[&str] = &[
    "a@x.cn",
    "B@X.cn",
    "zed@y.com",
    "50%_@x.cn",
    "Wang.Wei@Example.CN",
    "li@例子.中国",
];
const EMAIL_VALUES: &[&str] = &[
    "a@x.cn",
    "A@X.CN",
    "b@x.cn",
    "zed@y.com",
    "50%_@x.cn",
    "wang.wei@example.cn",
    "li@例子.中国",
];
const PHONES: &[&str] = &[
    "13800138000",
    "+86 138 0013 8000",
    "13912345678",
    "+1 415 555 2671",
    "+44 20 7946 0958",
];
const URLS: &[&str] = &[
    "https://example.com",
    "http://例子.中国/路径",
    "https://x.cn/50%_off",
    "https://example.com/A?b=1",
];
const DATES: &[&str] = &[
    "2025-12-31",
    "2026-01-01",
    "2026-03-24",
    "2026-03-25",
    "2026-03-29",
    "2026-03-30",
    "2026-03-31",
    "2026-04-01",
    "2026-04-02",
    "2026-04-05",
    "2026-04-06",
    "2026-04-30",
    "2026-05-01",
    "2026-06-30",
    "2026-07-01",
];
/// Instants around local (UTC+8) midnights of the week, month and quarter boundaries of
/// [`fixed_now`], with sub-microsecond noise.
const TIMES: &[&str] = &[
    "2026-03-31T16:00:00Z",
    "2026-03-31T15:59:59.999999Z",
    "2026-03-31T15:59:59.9999995Z",
    "2026-03-31T18:00:00Z",
    "2026-04-01T15:59:59.999999Z",
    "2026-04-01T16:00:00Z",
    "2026-03-29T16:00:00Z",
    "2026-03-29T15:59:59Z",
    "2026-04-05T16:00:00Z",
    "2026-04-05T15:59:59.5Z",
    "2026-03-31T23:59:59.000001Z",
    "2026-03-01T00:00:00Z",
    "2026-02-28T15:59:59Z",
    "2026-06-30T15:59:59Z",
    "2026-06-30T16:00:00Z",
    "2026-03-24T16:00:00Z",
    "2026-03-25T16:00:00+08:00",
    "2026-04-11T16:00:00Z",
];
const DAYS: &[u64] = &[1, 2, 6, 7, 30, 31, 90, 365, 3650];

fn integers() -> Vec<Json> {
    [
        -3,
        -1,
        0,
        1,
        2,
        3,
        100,
        9_007_199_254_740_993,
        i64::MAX,
        i64::MIN,
    ]
    .map(Json::from)
    .to_vec()
}

fn employee_counts() -> Vec<Json> {
    [0_i64, 1, 10, 100, 9_007_199_254_740_993]
        .map(Json::from)
        .to_vec()
}

fn decimals() -> Vec<Json> {
    vec![
        json!("-1.5"),
        json!("0"),
        json!("0.01"),
        json!("0.1"),
        json!("1"),
        json!("1.50"),
        json!("2"),
        json!("-0.01"),
        json!("1.230"),
        json!("92233720368547758.07"),
        json!("-92233720368547758.07"),
        json!(1.5),
        json!(0),
        json!(-2),
    ]
}

fn currencies() -> Vec<Json> {
    vec![
        json!({"amount": "1.5", "currency": "USD"}),
        json!({"amount": 2}),
        json!({"amount": "-1", "currency": "cny"}),
        json!({"amount": "1.50", "currency": "EUR"}),
        json!("0"),
        json!(1),
        json!("-0.01"),
    ]
}

fn percents() -> Vec<Json> {
    vec![
        json!("12.5"),
        json!("0"),
        json!("100"),
        json!("-0.1"),
        json!(50),
        json!("33.3"),
    ]
}

// ---------------------------------------------------------------------------------------------
// The object under test
// ---------------------------------------------------------------------------------------------

/// What a field's values look like, for generating inputs and condition values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    LongText,
    Email,
    Phone,
    Url,
    Integer,
    Employees,
    Decimal,
    Currency,
    Percent,
    Boolean,
    Date,
    Datetime,
    Select,
    Industry,
    Multi,
    /// A multi-user field: lists of user ids.
    Users,
    /// An address: a region code and a street.
    Address,
    Relation,
    User,
    /// A record id (`id`, `company.id`): text operators.
    Id,
}

/// Writable fields of the object and the kind of their values.
const INPUT_FIELDS: &[(&str, Kind)] = &[
    ("name", Kind::Text),
    ("memo", Kind::LongText),
    ("qty", Kind::Integer),
    ("price", Kind::Decimal),
    ("amount", Kind::Currency),
    ("rate", Kind::Percent),
    ("active", Kind::Boolean),
    ("due", Kind::Date),
    ("seen_at", Kind::Datetime),
    ("stage", Kind::Select),
    ("tags", Kind::Multi),
    ("helpers", Kind::Users),
    ("place", Kind::Address),
    ("email", Kind::Email),
    ("phone", Kind::Phone),
    ("site", Kind::Url),
    ("company", Kind::Relation),
];

/// Everything a condition may name: fields (formulas too), system columns, relation paths.
const TARGETS: &[(&str, Kind)] = &[
    ("name", Kind::Text),
    ("memo", Kind::LongText),
    ("qty", Kind::Integer),
    ("price", Kind::Decimal),
    ("amount", Kind::Currency),
    ("rate", Kind::Percent),
    ("active", Kind::Boolean),
    ("due", Kind::Date),
    ("seen_at", Kind::Datetime),
    ("stage", Kind::Select),
    ("tags", Kind::Multi),
    ("helpers", Kind::Users),
    ("place", Kind::Address),
    ("email", Kind::Email),
    ("phone", Kind::Phone),
    ("site", Kind::Url),
    ("company", Kind::Relation),
    ("total", Kind::Decimal),
    ("shout", Kind::Text),
    ("big", Kind::Boolean),
    ("id", Kind::Id),
    ("created_at", Kind::Datetime),
    ("updated_at", Kind::Datetime),
    ("owner_id", Kind::User),
    ("created_by", Kind::User),
    ("company.industry", Kind::Industry),
    ("company.name", Kind::Text),
    ("company.employees", Kind::Employees),
    ("company.created_at", Kind::Datetime),
    ("company.owner_id", Kind::User),
    ("company.id", Kind::Id),
];

fn formula(name: &str, expression: &str, result: FormulaResult) -> FieldDef {
    field(
        name,
        FieldType::Formula,
        FieldConfig {
            expression: Some(expression.to_string()),
            result_type: Some(result),
            scale: (result == FormulaResult::Decimal).then_some(2),
            ..Default::default()
        },
    )
}

fn thing(name: &str) -> ObjectDef {
    let scale = |s| FieldConfig {
        scale: Some(s),
        ..Default::default()
    };
    object(
        name,
        "name",
        vec![
            field("name", FieldType::Text, FieldConfig::default()),
            field("memo", FieldType::LongText, FieldConfig::default()),
            field("qty", FieldType::Integer, FieldConfig::default()),
            field("price", FieldType::Decimal, scale(2)),
            field("amount", FieldType::Currency, FieldConfig::default()),
            field("rate", FieldType::Percent, scale(1)),
            field("active", FieldType::Boolean, FieldConfig::default()),
            field("due", FieldType::Date, FieldConfig::default()),
            field("seen_at", FieldType::Datetime, FieldConfig::default()),
            field("stage", FieldType::Select, options(STAGES)),
            field("tags", FieldType::MultiSelect, options(TAGS)),
            field("helpers", FieldType::MultiUser, FieldConfig::default()),
            field("place", FieldType::Address, FieldConfig::default()),
            field("email", FieldType::Email, FieldConfig::default()),
            field("phone", FieldType::Phone, FieldConfig::default()),
            field("site", FieldType::Url, FieldConfig::default()),
            field(
                "company",
                FieldType::Relation,
                FieldConfig {
                    target: Some("company".into()),
                    ..Default::default()
                },
            ),
            formula("total", "qty * 2 + price", FormulaResult::Decimal),
            formula("shout", "UPPER(name)", FormulaResult::Text),
            formula("big", "qty > 1", FormulaResult::Boolean),
        ],
    )
}

// ---------------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------------

fn strings(items: &'static [&'static str]) -> BoxedStrategy<Json> {
    select(items).prop_map(Json::from).boxed()
}

fn nullable(values: BoxedStrategy<Json>) -> BoxedStrategy<Json> {
    prop_oneof![1 => Just(Json::Null), 3 => values].boxed()
}

/// A record input of a field (may be null or clear the field).
fn input(kind: Kind) -> BoxedStrategy<Json> {
    nullable(match kind {
        Kind::Text | Kind::LongText => strings(TEXTS),
        Kind::Integer => select(integers()).boxed(),
        Kind::Employees => select(employee_counts()).boxed(),
        Kind::Decimal => select(decimals()).boxed(),
        Kind::Currency => select(currencies()).boxed(),
        Kind::Percent => select(percents()).boxed(),
        Kind::Boolean => any::<bool>().prop_map(Json::from).boxed(),
        Kind::Date => strings(DATES),
        Kind::Datetime => strings(TIMES),
        Kind::Select => strings(STAGES),
        Kind::Industry => strings(INDUSTRIES),
        Kind::Multi => vec(select(TAGS), 0..4).prop_map(Json::from).boxed(),
        Kind::Users => vec(select(&["@u0", "@u1"][..]), 0..3)
            .prop_map(Json::from)
            .boxed(),
        Kind::Address => (
            select(REGIONS),
            select(&["", "漕溪北路 88 号", "50%_off"][..]),
        )
            .prop_map(|(code, street)| json!({"code": code, "street": street}))
            .boxed(),
        Kind::Email => strings(EMAILS),
        Kind::Phone => strings(PHONES),
        Kind::Url => strings(URLS),
        Kind::Relation => strings(&["@c0", "@c1", "@c2", "@c3", "@c4"]),
        Kind::User => strings(&["@u0", "@u1"]),
        Kind::Id => strings(&["@c0"]),
    })
}

/// A non-empty value a condition compares against.
fn value(kind: Kind) -> BoxedStrategy<Json> {
    match kind {
        Kind::Text | Kind::LongText => strings(TEXT_VALUES),
        Kind::Integer => select(integers()).boxed(),
        Kind::Employees => select(integers()).boxed(),
        Kind::Decimal => select(decimals()).boxed(),
        Kind::Currency => select(currencies()).boxed(),
        Kind::Percent => select(percents()).boxed(),
        Kind::Boolean => any::<bool>().prop_map(Json::from).boxed(),
        Kind::Date => strings(DATES),
        Kind::Datetime => strings(TIMES),
        Kind::Select => strings(STAGES),
        Kind::Industry => strings(INDUSTRY_VALUES),
        Kind::Multi => strings(TAGS),
        Kind::Users => strings(&["@u0", "@u1", "nobody"]),
        Kind::Address => strings(REGION_VALUES),
        Kind::Email => strings(EMAIL_VALUES),
        Kind::Phone => strings(PHONES),
        Kind::Url => strings(URLS),
        Kind::Relation => strings(&["@c0", "@c1", "@c2", "@c3", "@c4", "@cx"]),
        Kind::User => strings(&["@u0", "@u1", "nobody"]),
        Kind::Id => strings(&["0", "019", "01a", "019z", "f", "@c0", "@c1", "@cx"]),
    }
}

const TEXT_OPS: &[&str] = &[
    "eq",
    "ne",
    "lt",
    "lte",
    "gt",
    "gte",
    "between",
    "in",
    "not_in",
    "contains",
    "starts_with",
    "is_empty",
    "is_not_empty",
];
const CHOICE_OPS: &[&str] = &["eq", "ne", "in", "not_in", "is_empty", "is_not_empty"];
const NUMBER_OPS: &[&str] = &[
    "eq",
    "ne",
    "lt",
    "lte",
    "gt",
    "gte",
    "between",
    "in",
    "not_in",
    "is_empty",
    "is_not_empty",
];
const BOOLEAN_OPS: &[&str] = &["eq", "ne", "is_empty", "is_not_empty"];
const DATE_OPS: &[&str] = &[
    "eq",
    "ne",
    "lt",
    "lte",
    "gt",
    "gte",
    "between",
    "in",
    "not_in",
    "is_empty",
    "is_not_empty",
    "today",
    "last_n_days",
    "next_n_days",
    "this_week",
    "this_month",
    "this_quarter",
];
const MULTI_OPS: &[&str] = &["contains", "in", "not_in", "is_empty", "is_not_empty"];
const ADDRESS_OPS: &[&str] = &["in", "not_in", "is_empty", "is_not_empty"];
/// Region codes of addresses: provinces, cities and districts that nest, and one apart.
const REGIONS: &[&str] = &["31", "3101", "310104", "310105", "33", "3301", "330106"];
/// Regions conditions ask for: a code is within another when it starts with it.
const REGION_VALUES: &[&str] = &["31", "3101", "310104", "33", "330106", "11"];

/// Every operator valid for the kind.
fn ops(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Text | Kind::LongText | Kind::Email | Kind::Phone | Kind::Url | Kind::Id => TEXT_OPS,
        Kind::Select | Kind::Industry | Kind::Relation | Kind::User => CHOICE_OPS,
        Kind::Integer | Kind::Employees | Kind::Decimal | Kind::Currency | Kind::Percent => {
            NUMBER_OPS
        }
        Kind::Boolean => BOOLEAN_OPS,
        Kind::Date | Kind::Datetime => DATE_OPS,
        Kind::Multi | Kind::Users => MULTI_OPS,
        Kind::Address => ADDRESS_OPS,
    }
}

fn leaf_on(path: &'static str, kind: Kind) -> BoxedStrategy<Json> {
    let v = value(kind);
    (
        select(ops(kind)),
        v.clone(),
        v.clone(),
        vec(v, 1..4),
        select(NEEDLES),
        select(DAYS),
    )
        .prop_map(move |(op, a, b, list, needle, days)| {
            let value = match op {
                "is_empty" | "is_not_empty" | "today" | "this_week" | "this_month"
                | "this_quarter" => None,
                "last_n_days" | "next_n_days" => Some(json!(days)),
                "between" => Some(json!([a, b])),
                "in" | "not_in" => Some(Json::Array(list)),
                "contains" | "starts_with" if !matches!(kind, Kind::Multi | Kind::Users) => {
                    Some(json!(needle))
                }
                _ => Some(a),
            };
            match value {
                Some(value) => json!({"field": path, "op": op, "value": value}),
                None => json!({"field": path, "op": op}),
            }
        })
        .boxed()
}

/// A condition tree at most four nodes deep.
fn condition() -> BoxedStrategy<Json> {
    let leaf = Union::new(TARGETS.iter().map(|(path, kind)| leaf_on(path, *kind))).boxed();
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|c| json!({ "not": c })),
            vec(inner.clone(), 0..4).prop_map(|items| json!({ "all": items })),
            vec(inner, 0..4).prop_map(|items| json!({ "any": items })),
        ]
    })
    .boxed()
}

#[derive(Debug, Clone)]
struct CompanyInput {
    name: Json,
    industry: Json,
    employees: Json,
    owner: usize,
}

#[derive(Debug, Clone)]
struct ThingInput {
    /// Aligned with [`INPUT_FIELDS`].
    values: Vec<Json>,
    /// Which write batch (and so which `created_at`) the record belongs to.
    batch: usize,
    /// 0 and 1: that user; 2: no owner given (the writer).
    owner: usize,
    deleted: bool,
}

#[derive(Debug, Clone)]
struct Case {
    /// `@c0` .. `@c4`; `@c4` is deleted after the things are written.
    companies: Vec<CompanyInput>,
    company_time: &'static str,
    batch_times: Vec<&'static str>,
    things: Vec<ThingInput>,
    conditions: Vec<Json>,
}

fn case() -> impl Strategy<Value = Case> {
    let company = (
        strings(&["Acme", "acme", "中文公司", "50%_co", "Zeta"]),
        input(Kind::Industry),
        input(Kind::Employees),
        0..2usize,
    )
        .prop_map(|(name, industry, employees, owner)| CompanyInput {
            name,
            industry,
            employees,
            owner,
        });
    let record_values: Vec<BoxedStrategy<Json>> =
        INPUT_FIELDS.iter().map(|(_, kind)| input(*kind)).collect();
    let thing = (
        record_values,
        0..3usize,
        0..3usize,
        prop::bool::weighted(0.1),
    )
        .prop_map(|(values, batch, owner, deleted)| ThingInput {
            values,
            batch,
            owner,
            deleted,
        });
    (
        vec(company, 5),
        select(TIMES),
        vec(select(TIMES), 3),
        vec(thing, 30..=60),
        vec(condition(), 12..=20),
    )
        .prop_map(
            |(companies, company_time, batch_times, things, conditions)| Case {
                companies,
                company_time,
                batch_times,
                things,
                conditions,
            },
        )
}

// ---------------------------------------------------------------------------------------------
// Running a case against a store
// ---------------------------------------------------------------------------------------------

struct Env {
    store: Store,
    clock: Arc<ManualClock>,
    workspace: Workspace,
    admin: Principal,
    /// The admin and one more user.
    users: Vec<String>,
    next_object: AtomicUsize,
}

/// The workspace, users and principal the property runs as, on a freshly opened store.
async fn setup(store: Store, clock: Arc<ManualClock>) -> Result<Env, String> {
    let fail = |what: &'static str| move |e: StoreError| format!("{what}: {e} ({e:?})");
    let workspace = store
        .create_workspace("P", OFFSET_MINUTES)
        .await
        .map_err(fail("create the workspace"))?;
    let admin_user = store
        .create_user(&workspace.id, "admin@example.cn", "Admin", "x", "admin")
        .await
        .map_err(fail("create the admin"))?;
    let other = store
        .create_user(&workspace.id, "sales@example.cn", "销售", "x", "sales")
        .await
        .map_err(fail("create the second user"))?;
    let admin = principal(&store, &workspace, &admin_user).await;

    // The property writes owners and relation values; check once, up front, that the write
    // path takes them at all, so a broken write path fails here and is not shrunk for minutes.
    let schema = store
        .load_schema(&workspace.id)
        .await
        .map_err(fail("load the schema"))?;
    let ctx = WriteCtx {
        principal: &admin,
        source: Source::Api,
        request_id: "condition-agreement-setup".into(),
    };
    let probe = store
        .create_record(
            &ctx,
            &schema,
            "company",
            RecordInput {
                values: Map::from_iter([("name".to_string(), json!("probe"))]),
                owner_id: Some(other.id.clone()),
            },
        )
        .await
        .map_err(fail(
            "the write path refuses a record with an explicit owner",
        ))?;
    store
        .create_record(
            &ctx,
            &schema,
            "contact",
            RecordInput {
                values: Map::from_iter([
                    ("name".to_string(), json!("probe")),
                    ("company".to_string(), json!(probe.id)),
                ]),
                owner_id: None,
            },
        )
        .await
        .map_err(fail(
            "the write path refuses a record with a relation value",
        ))?;

    Ok(Env {
        store,
        clock,
        workspace,
        admin,
        users: vec![admin_user.id, other.id],
        next_object: AtomicUsize::new(0),
    })
}

/// Replaces the placeholders `@c<i>` (company), `@cx` (no such record) and `@u<i>` (user).
fn resolve(json: &Json, companies: &[String], users: &[String]) -> Json {
    match json {
        Json::String(s) => {
            let pick = |list: &[String], i: &str| {
                i.parse::<usize>()
                    .ok()
                    .and_then(|i| list.get(i).cloned())
                    .unwrap_or_else(|| s.clone())
            };
            if s == "@cx" {
                Json::from("00000000-0000-7000-8000-000000000000")
            } else if let Some(i) = s.strip_prefix("@c") {
                Json::from(pick(companies, i))
            } else if let Some(i) = s.strip_prefix("@u") {
                Json::from(pick(users, i))
            } else {
                json.clone()
            }
        }
        Json::Array(items) => {
            Json::Array(items.iter().map(|i| resolve(i, companies, users)).collect())
        }
        Json::Object(map) => Json::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), resolve(v, companies, users)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn set_clock(clock: &ManualClock, at: &str) -> Result<(), String> {
    clock.set(parse_datetime(at).ok_or_else(|| format!("bad time {at}"))?);
    Ok(())
}

#[derive(Debug, Default, Clone, Copy)]
struct Stats {
    cases: usize,
    conditions: usize,
    /// Conditions that selected some but not all records.
    selective: usize,
    records: usize,
}

fn show(record: &Record) -> String {
    let values: Vec<String> = record
        .values
        .iter()
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    format!(
        "{} created_at={} updated_at={} owner={:?} created_by={:?} {}",
        record.id,
        rapport_core::value::format_datetime(&record.created_at),
        rapport_core::value::format_datetime(&record.updated_at),
        record.owner_id,
        record.created_by,
        values.join(" ")
    )
}

async fn run_case(env: &Env, case: &Case) -> Result<Stats, String> {
    let store = &env.store;
    let ws = &env.workspace.id;
    let err = |what: &str| {
        let what = what.to_string();
        move |e: StoreError| format!("{what}: {e} ({e:?})")
    };
    let name = format!("thing_{}", env.next_object.fetch_add(1, Ordering::Relaxed));
    store
        .create_object(ws, thing(&name))
        .await
        .map_err(err("create object"))?;
    let schema = store.load_schema(ws).await.map_err(err("load schema"))?;
    let ctx = WriteCtx {
        principal: &env.admin,
        source: Source::Api,
        request_id: "condition-agreement".into(),
    };

    // Companies (the last one is deleted once the things point at it).
    set_clock(&env.clock, case.company_time)?;
    let inputs = case
        .companies
        .iter()
        .map(|c| RecordInput {
            values: Map::from_iter([
                ("name".to_string(), c.name.clone()),
                ("industry".to_string(), c.industry.clone()),
                ("employees".to_string(), c.employees.clone()),
            ]),
            owner_id: env.users.get(c.owner).cloned(),
        })
        .collect();
    let companies: Vec<String> = store
        .create_records(&ctx, &schema, "company", inputs)
        .await
        .map_err(err("create companies"))?
        .into_iter()
        .map(|r| r.id)
        .collect();

    // Things, in batches written at different times.
    let mut deleted = Vec::new();
    for (batch, at) in case.batch_times.iter().enumerate() {
        let things: Vec<&ThingInput> = case.things.iter().filter(|t| t.batch == batch).collect();
        if things.is_empty() {
            continue;
        }
        set_clock(&env.clock, at)?;
        let inputs = things
            .iter()
            .map(|t| RecordInput {
                values: INPUT_FIELDS
                    .iter()
                    .zip(&t.values)
                    .map(|((field, _), v)| (field.to_string(), resolve(v, &companies, &env.users)))
                    .collect(),
                owner_id: env.users.get(t.owner).cloned(),
            })
            .collect();
        let written = store
            .create_records(&ctx, &schema, &name, inputs)
            .await
            .map_err(|e| format!("create records: {e} ({e:?})"))?;
        for (t, record) in things.iter().zip(written) {
            if t.deleted {
                deleted.push(record.id);
            }
        }
    }
    env.clock.set(fixed_now());
    for id in &deleted {
        store
            .set_record_deleted(&ctx, &schema, &name, id, true)
            .await
            .map_err(err("delete thing"))?;
    }
    if let Some(doomed) = companies.last() {
        store
            .set_record_deleted(&ctx, &schema, "company", doomed, true)
            .await
            .map_err(err("delete company"))?;
    }

    // Read back what the store holds.
    let everything = ListQuery {
        limit: 1000,
        ..Default::default()
    };
    let records = store
        .list_records(&env.admin, &schema, &name, &everything)
        .await
        .map_err(err("list all"))?
        .records;
    if records.len() + deleted.len() != case.things.len() {
        return Err(format!(
            "wrote {} records, deleted {}, but {} are listed",
            case.things.len(),
            deleted.len(),
            records.len()
        ));
    }
    let company_def = schema.active_object("company").ok_or("no company object")?;
    let related: BTreeMap<String, Record> = store
        .records_by_ids(ws, company_def, &companies)
        .await
        .map_err(err("read companies"))?
        .into_iter()
        .map(|r| (r.id.clone(), r))
        .collect();
    let lookup = |relation: &str, id: &str| {
        assert_eq!(relation, "company");
        related.get(id).cloned()
    };

    let dates = DateContext::new(fixed_now(), OFFSET_MINUTES);
    let mut stats = Stats {
        cases: 1,
        records: records.len(),
        ..Default::default()
    };
    for generated in &case.conditions {
        let resolved = resolve(generated, &companies, &env.users);
        for json in [resolved.clone(), json!({ "not": resolved })] {
            let checked = Condition::parse(&json)
                .and_then(|c| c.check(&schema, &name, &dates))
                .map_err(|e| format!("the generated condition is invalid: {e}\n{json}"))?;
            let query = ListQuery {
                filter: Some(checked.clone()),
                limit: 1000,
                ..Default::default()
            };
            let by_sql: BTreeSet<String> = store
                .list_records(&env.admin, &schema, &name, &query)
                .await
                .map_err(|e| format!("list with {json}: {e} ({e:?})"))?
                .records
                .into_iter()
                .map(|r| r.id)
                .collect();
            let by_eval: BTreeSet<String> = records
                .iter()
                .filter(|r| checked.eval(r, &lookup))
                .map(|r| r.id.clone())
                .collect();
            if by_sql != by_eval {
                return Err(disagreement(
                    env, &name, &json, &checked, &records, &related, &by_sql, &by_eval,
                ));
            }
            stats.conditions += 1;
            if !by_sql.is_empty() && by_sql.len() < records.len() {
                stats.selective += 1;
            }
        }
    }
    Ok(stats)
}

#[allow(clippy::too_many_arguments)]
fn disagreement(
    env: &Env,
    object: &str,
    json: &Json,
    checked: &CheckedCondition,
    records: &[Record],
    related: &BTreeMap<String, Record>,
    by_sql: &BTreeSet<String>,
    by_eval: &BTreeSet<String>,
) -> String {
    let ws = env.workspace.id.clone();
    let mut b = SqlBuilder::new(env.store.db.dialect());
    checked.to_sql(&mut b, "t", &move |o: &str| quote(&table_name(&ws, o)));
    let describe = |ids: Vec<&String>| -> String {
        ids.iter()
            .filter_map(|id| records.iter().find(|r| &r.id == *id))
            .map(|r| format!("    {}\n", show(r)))
            .collect()
    };
    let companies: String = related
        .values()
        .map(|r| format!("    {}\n", show(r)))
        .collect();
    format!(
        "SQL and eval disagree on {:?} (object {object}, now {}, offset {OFFSET_MINUTES} min)\n\
         condition: {json}\n\
         sql: {}\n\
         params: {:?}\n\
         selected by SQL only:\n{}\
         selected by eval only:\n{}\
         live companies:\n{}",
        env.store.db.dialect(),
        rapport_core::value::format_datetime(&fixed_now()),
        b.sql,
        b.params,
        describe(by_sql.difference(by_eval).collect()),
        describe(by_eval.difference(by_sql).collect()),
        companies,
    )
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Runs the property on `env`; the error is the (shrunk) disagreement.
fn check_agreement(rt: &tokio::runtime::Runtime, env: &Env) -> Result<Stats, String> {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    let mut runner = TestRunner::new(Config {
        cases,
        // Each shrink step rebuilds a case in the database: bound the time spent on it (the
        // report names the condition and the records that disagree anyway).
        max_shrink_iters: 200,
        max_shrink_time: 30_000,
        failure_persistence: None,
        ..Config::default()
    });
    let totals = std::sync::Mutex::new(Stats::default());
    let result = runner.run(&case(), |case| {
        let stats = rt
            .block_on(run_case(env, &case))
            .map_err(TestCaseError::fail)?;
        if let Ok(mut t) = totals.lock() {
            t.cases += stats.cases;
            t.conditions += stats.conditions;
            t.selective += stats.selective;
            t.records += stats.records;
        }
        Ok(())
    });
    let totals = *totals.lock().map_err(|e| e.to_string())?;
    match result {
        Ok(()) => {
            println!(
                "{:?}: {} cases, {} conditions checked ({} selective), {} live records",
                env.store.db.dialect(),
                totals.cases,
                totals.conditions,
                totals.selective,
                totals.records
            );
            // Guard against a vacuous property: most conditions must split the records.
            if totals.selective * 3 < totals.conditions {
                return Err(format!(
                    "only {} of {} conditions selected some but not all records",
                    totals.selective, totals.conditions
                ));
            }
            Ok(totals)
        }
        Err(TestError::Fail(reason, minimal)) => Err(format!(
            "{reason}\n(minimal case: {} records, {} conditions)",
            minimal.things.len(),
            minimal.conditions.len()
        )),
        Err(TestError::Abort(reason)) => Err(format!("aborted: {reason}")),
    }
}

/// Sets up on a migrated store and runs the property.
fn setup_and_check(
    rt: &tokio::runtime::Runtime,
    store: &Store,
    clock: Arc<ManualClock>,
) -> Result<Stats, String> {
    let env = rt.block_on(setup(store.clone(), clock))?;
    check_agreement(rt, &env)
}

#[test]
fn sql_and_eval_agree_sqlite() {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, clock) = rt.block_on(async {
        open_store(Db::open_sqlite(dir.path()).await.expect("open sqlite")).await
    });
    let result = setup_and_check(&rt, &store, clock);
    rt.block_on(store.db.close());
    if let Err(message) = result {
        panic!("{message}");
    }
}

#[test]
fn sql_and_eval_agree_postgres() {
    let Some(url) = postgres_url() else {
        println!("skipped: {DATABASE_URL_VAR} is not set");
        return;
    };
    let rt = runtime();
    let database = rt.block_on(PgDatabase::create(&url));
    let (store, clock) = rt.block_on(async {
        open_store(
            Db::open_postgres(&database.url)
                .await
                .expect("open postgres"),
        )
        .await
    });
    let result = setup_and_check(&rt, &store, clock);
    rt.block_on(async {
        store.db.close().await;
        database.drop_database().await;
    });
    if let Err(message) = result {
        panic!("{message}");
    }
}
