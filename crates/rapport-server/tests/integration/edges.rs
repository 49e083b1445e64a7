//! A property test over the edges of every field type: proptest generates records whose values
//! sit at the limits (years 0001 and 9999 in every UTC offset, sub-microsecond fractions, the
//! range of each decimal scale, 64-bit integers, Unicode spaces such as NBSP and the ideographic
//! space around text, long strings, invalid dates and codes). Each value is either refused with
//! a 4xx and a code, or stored — and then read back unchanged, found by a filter on it, paged
//! through in both orders of its field, summed exactly and exported, never with a 5xx (the
//! harness fails the test on any 5xx).

use crate::harness::{data_ids, Backend, TestServer};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

crate::both_backends!(edge_values_are_refused_or_round_trip);

const RECORDS: &str = "/api/v1/objects/edge/records";
const CASES: usize = 48;

/// Field name, type and config of the test object (the formula reads `n`).
fn fields() -> Vec<Value> {
    let options = json!({"options": [
        {"value": "a", "label": "A"}, {"value": "b", "label": "B"}, {"value": "长", "label": "长"}
    ]});
    vec![
        json!({"api_name": "name", "label": "Name", "type": "text"}),
        json!({"api_name": "lt", "label": "Notes", "type": "long_text"}),
        json!({"api_name": "n", "label": "N", "type": "integer"}),
        json!({"api_name": "d0", "label": "D0", "type": "decimal", "config": {"scale": 0}}),
        json!({"api_name": "d2", "label": "D2", "type": "decimal"}),
        json!({"api_name": "d8", "label": "D8", "type": "decimal", "config": {"scale": 8}}),
        json!({"api_name": "pct", "label": "Pct", "type": "percent"}),
        json!({"api_name": "m", "label": "M", "type": "currency"}),
        json!({"api_name": "b", "label": "B", "type": "boolean"}),
        json!({"api_name": "dt", "label": "Day", "type": "date"}),
        json!({"api_name": "ts", "label": "Time", "type": "datetime"}),
        json!({"api_name": "sel", "label": "Sel", "type": "select", "config": options.clone()}),
        json!({"api_name": "ms", "label": "Multi", "type": "multi_select", "config": options}),
        json!({"api_name": "em", "label": "Email", "type": "email"}),
        json!({"api_name": "ph", "label": "Phone", "type": "phone"}),
        json!({"api_name": "url", "label": "URL", "type": "url"}),
        json!({"api_name": "usr", "label": "User", "type": "user"}),
        json!({"api_name": "f", "label": "F", "type": "formula",
               "config": {"result_type": "decimal", "expression": "n + 1"}}),
    ]
}

/// Text made of awkward characters: Unicode spaces (NBSP, ideographic, thin, zero-width),
/// tabs, CJK, emoji, combining marks, quotes and CSV specials.
fn awkward_text(max: usize) -> BoxedStrategy<String> {
    let chars = prop::sample::select(vec![
        "a", "Z", " ", "\u{a0}", "\u{3000}", "\u{2009}", "\u{200b}", "\t", "客", "户", "🎉",
        "e\u{301}", "\"", ",", "=", "-", "\\", "'", "%", "_",
    ]);
    prop::collection::vec(chars, 0..max)
        .prop_map(|parts| parts.concat())
        .boxed()
}

fn one_of(values: Vec<Value>) -> BoxedStrategy<Value> {
    prop::sample::select(values).boxed()
}

/// An RFC 3339 offset from -23:59 to +23:59 (`Z` for zero).
fn offset() -> BoxedStrategy<String> {
    (-1439i32..=1439)
        .prop_map(|minutes| {
            if minutes == 0 {
                return "Z".to_string();
            }
            let sign = if minutes < 0 { '-' } else { '+' };
            let m = minutes.abs();
            format!("{sign}{:02}:{:02}", m / 60, m % 60)
        })
        .boxed()
}

fn datetime() -> BoxedStrategy<Value> {
    let edge = (
        prop::sample::select(vec![
            "0001-01-01T00:00:00",
            "0001-01-01T23:59:59",
            "9999-12-31T00:00:00",
            "9999-12-31T23:59:59",
            "2016-12-31T23:59:60",
            "2024-02-29T12:00:00",
        ]),
        prop::sample::select(vec!["", ".5", ".999999", ".1234567", ".999999999"]),
        offset(),
    )
        .prop_map(|(at, fraction, offset)| json!(format!("{at}{fraction}{offset}")));
    let random = (1i32..=9999, 1u32..=12, 1u32..=28, 0u32..24, offset())
        .prop_map(|(y, mo, d, h, off)| json!(format!("{y:04}-{mo:02}-{d:02}T{h:02}:30:00{off}")));
    let refused = one_of(vec![
        json!("9999-12-31T23:00:00-05:00"),
        json!("+10000-01-01T00:00:00Z"),
        json!("2026-13-01T00:00:00Z"),
        json!("2026-01-01"),
        json!(20260101),
    ]);
    prop_oneof![4 => edge, 2 => random, 1 => refused].boxed()
}

fn date() -> BoxedStrategy<Value> {
    let edge = one_of(vec![
        json!("0001-01-01"),
        json!("9999-12-31"),
        json!("2024-02-29"),
        json!("\u{3000}2026-01-05\u{a0}"),
        json!("+10000-01-01"),
        json!("10000-01-01"),
        json!("0000-12-31"),
        json!("2023-02-29"),
        json!("2026-1-5"),
    ]);
    let random = (1i32..=9999, 1u32..=12, 1u32..=28)
        .prop_map(|(y, m, d)| json!(format!("{y:04}-{m:02}-{d:02}")));
    prop_oneof![edge, random].boxed()
}

/// Units at the edges of a scale, written as decimal text (and some that are refused).
fn decimal(scale: u32) -> BoxedStrategy<Value> {
    let text = move |units: i128| {
        if scale == 0 {
            return units.to_string();
        }
        let factor = 10i128.pow(scale);
        let sign = if units < 0 { "-" } else { "" };
        let abs = units.abs();
        format!(
            "{sign}{}.{:0width$}",
            abs / factor,
            abs % factor,
            width = scale as usize
        )
    };
    let max = i128::from(i64::MAX);
    let edges = vec![
        json!(text(max)),
        json!(text(-max)),
        json!(text(max + 1)),
        json!(text(-max - 1)),
        json!(text(0)),
        json!(text(1)),
        json!(text(-1)),
        json!(format!("\u{a0}{}\u{3000}", text(12345))),
        json!(format!("{}1", text(1))),
        json!("1e3"),
        json!(0.1),
        json!(true),
    ];
    let random = any::<i64>().prop_map(move |u| json!(text(i128::from(u))));
    prop_oneof![2 => one_of(edges), 1 => random].boxed()
}

fn strategy() -> BoxedStrategy<Map<String, Value>> {
    let text = prop_oneof![
        4 => awkward_text(40).prop_map(Value::String),
        1 => one_of(vec![json!("x".repeat(255)), json!("x".repeat(256)), json!("客".repeat(255)), json!(12)]),
    ];
    let long_text = prop_oneof![
        3 => awkward_text(200).prop_map(Value::String),
        1 => one_of(vec![
            json!(" ".repeat(10) + &"長".repeat(33_000)),
            json!("y".repeat(100_000)),
            json!("y".repeat(100_001)),
            json!("nul\u{0}"),
        ]),
    ];
    let integer = prop_oneof![
        one_of(vec![
            json!(i64::MAX),
            json!(i64::MIN),
            json!(0),
            json!(u64::MAX),
            json!(9_007_199_254_740_993_i64),
            json!(1.5),
            json!("1"),
        ]),
        any::<i64>().prop_map(|i| json!(i)),
    ];
    let currency = (
        decimal(2),
        one_of(vec![
            json!("CNY"),
            json!("usd"),
            json!("\u{a0}EUR"),
            json!("YUAN"),
            Value::Null,
        ]),
    )
        .prop_map(|(amount, code)| json!({"amount": amount, "currency": code}));
    let boolean = one_of(vec![json!(true), json!(false), json!("true"), json!(0)]);
    let select = one_of(vec![
        json!("a"),
        json!("\u{3000}长\u{a0}"),
        json!("c"),
        json!("A"),
    ]);
    let multi = one_of(vec![
        json!(["a", "b"]),
        json!(["b", "a", "a"]),
        json!(["长"]),
        json!([]),
        json!(["x"]),
        json!("a"),
    ]);
    let email = one_of(vec![
        json!("\u{a0}Wang.Wei@Example.CN\u{3000}"),
        json!(format!("{}@example.com", "a".repeat(64))),
        json!(format!("{}@example.com", "a".repeat(65))),
        json!("a b@example.com"),
        json!("no-at.example.com"),
    ]);
    let phone = one_of(vec![
        json!("\u{3000}138 0013 8000\u{a0}"),
        json!("+1 415 555 2671"),
        json!("+86 138-0013-8000"),
        json!("12"),
        json!("１３８００１３８０００"),
    ]);
    let url = one_of(vec![
        json!("https://例子.中国/路径?q=1"),
        json!(format!("https://example.com/{}", "p".repeat(2020))),
        json!(format!("https://example.com/{}", "p".repeat(2100))),
        json!("javascript:alert(1)"),
        json!("https://"),
    ]);
    let user = one_of(vec![json!("ADMIN"), json!("no-such-user"), Value::Null]);
    let values = (
        (text, long_text, integer, decimal(0), decimal(2), decimal(8)),
        (decimal(2), currency, boolean, date(), datetime(), select),
        (multi, email, phone, url, user),
    );
    values
        .prop_map(
            |((name, lt, n, d0, d2, d8), (pct, m, b, dt, ts, sel), (ms, em, ph, url, usr))| {
                let mut map = Map::new();
                for (k, v) in [
                    ("name", name),
                    ("lt", lt),
                    ("n", n),
                    ("d0", d0),
                    ("d2", d2),
                    ("d8", d8),
                    ("pct", pct),
                    ("m", m),
                    ("b", b),
                    ("dt", dt),
                    ("ts", ts),
                    ("sel", sel),
                    ("ms", ms),
                    ("em", em),
                    ("ph", ph),
                    ("url", url),
                    ("usr", usr),
                ] {
                    map.insert(k.to_string(), v);
                }
                map
            },
        )
        .boxed()
}

/// Asserts a refusal is a 4xx with a stable snake_case code (and field codes for a 422).
#[track_caller]
fn assert_refusal(status: u16, body: &Value, what: &str) {
    assert!((400..500).contains(&status), "{what}: {status} {body}");
    let snake = |c: &str| !c.is_empty() && c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    let code = body["code"].as_str().unwrap_or_default();
    assert!(snake(code), "{what}: no code: {body}");
    if code == "validation_failed" {
        for e in body["details"]["fields"].as_array().expect("fields") {
            assert!(
                snake(e["code"].as_str().unwrap_or_default()),
                "{what}: {body}"
            );
        }
    }
}

/// Creates a record from `values`, dropping the fields the server refuses (a refused name is
/// replaced) until it stores the rest. Returns the stored record.
async fn store(
    s: &TestServer,
    mut values: Map<String, Value>,
    refusals: &mut BTreeSet<String>,
) -> Value {
    loop {
        let (status, body) = s.post(RECORDS, json!({ "values": values })).await;
        if status == 201 {
            return body;
        }
        assert_refusal(status, &body, &format!("create {values:?}"));
        let refused: Vec<String> = body["details"]["fields"]
            .as_array()
            .unwrap_or_else(|| panic!("a refused create names its fields: {body}"))
            .iter()
            .map(|e| e["field"].as_str().expect("field").to_string())
            .collect();
        assert!(!refused.is_empty(), "{body}");
        for f in refused {
            refusals.insert(f.clone());
            let sent = if f == "name" {
                values.insert(f.clone(), json!("fallback name"))
            } else {
                values.remove(&f)
            };
            assert!(
                sent.is_some_and(|v| v != json!("fallback name")),
                "{f}: {body}"
            );
        }
    }
}

/// Units of an exact decimal string (`"-12.30"` at scale 2 is -1230).
fn units(text: &str, scale: u32) -> i128 {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let negative = int.starts_with('-');
    let digits = format!(
        "{}{frac:0<width$}",
        int.trim_start_matches('-'),
        width = scale as usize
    );
    let n: i128 = digits.parse().unwrap_or_else(|_| panic!("decimal {text}"));
    if negative {
        -n
    } else {
        n
    }
}

fn format_units(units: i128, scale: u32) -> String {
    if scale == 0 {
        return units.to_string();
    }
    let factor = 10i128.pow(scale);
    let sign = if units < 0 { "-" } else { "" };
    format!(
        "{sign}{}.{:0width$}",
        units.abs() / factor,
        units.abs() % factor,
        width = scale as usize
    )
}

/// A filter that must select a record holding `value` in `field`.
fn filter_for(field: &str, value: &Value) -> Option<Value> {
    Some(match (field, value) {
        (_, Value::Null) => json!({"field": field, "op": "is_empty"}),
        ("lt", _) => json!({"field": field, "op": "is_not_empty"}),
        ("ms", Value::Array(items)) => json!({"field": field, "op": "contains", "value": items[0]}),
        ("m", m) => json!({"field": field, "op": "eq", "value": m["amount"]}),
        ("f", _) => return None,
        // Condition strings stop at 1,000 characters.
        (_, Value::String(t)) if t.chars().count() > 1000 => {
            let head: String = t.chars().take(500).collect();
            json!({"field": field, "op": "starts_with", "value": head})
        }
        _ => json!({"field": field, "op": "eq", "value": value}),
    })
}

async fn edge_values_are_refused_or_round_trip(b: Backend) {
    let s = TestServer::start(b).await;
    let (status, body) = s
        .post(
            "/api/v1/objects",
            json!({"api_name": "edge", "label": "Edge", "plural_label": "Edges", "fields": fields()}),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    let mut runner = TestRunner::deterministic();
    let strategy = strategy();
    let mut stored: Vec<Value> = Vec::new();
    let mut refused_fields = BTreeSet::new();
    for _ in 0..CASES {
        let mut values = strategy.new_tree(&mut runner).expect("case").current();
        if values.get("usr") == Some(&json!("ADMIN")) {
            values.insert("usr".into(), json!(s.admin.id));
        }
        stored.push(store(&s, values, &mut refused_fields).await);
    }
    // The generators reach both sides of the limits.
    assert!(
        refused_fields.len() >= 10,
        "refused only {refused_fields:?}"
    );

    // Read back unchanged.
    for record in &stored {
        let id = record["id"].as_str().expect("id");
        let (status, got) = s.get(&format!("{RECORDS}/{id}")).await;
        assert_eq!(status, 200, "{got}");
        assert_eq!(got["values"], record["values"], "read back {id}");
        assert!(got.get("unreadable_fields").is_none(), "{got}");
    }

    // Found by a filter on each stored value.
    let names: Vec<String> = fields()
        .iter()
        .map(|f| f["api_name"].as_str().expect("name").to_string())
        .collect();
    for record in &stored {
        let id = record["id"].as_str().expect("id");
        for field in &names {
            let Some(filter) = filter_for(field, &record["values"][field]) else {
                continue;
            };
            let (status, body) = s
                .post(
                    &format!("{RECORDS}/query"),
                    json!({"filter": filter, "limit": 1000, "fields": ["name"]}),
                )
                .await;
            assert_eq!(status, 200, "{filter}: {body}");
            assert!(
                data_ids(&body).iter().any(|i| i == id),
                "{filter} misses {id}: {}",
                record["values"]
            );
        }
    }

    // Paged through in both orders of every sortable field, each record exactly once.
    let all: BTreeSet<String> = stored
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_string())
        .collect();
    for field in names.iter().filter(|f| !matches!(f.as_str(), "lt" | "ms")) {
        for sort in [field.clone(), format!("-{field}")] {
            let mut seen = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let mut req = json!({"sort": [sort], "limit": 7, "fields": ["name"]});
                if let Some(c) = &cursor {
                    req["cursor"] = json!(c);
                }
                let (status, body) = s.post(&format!("{RECORDS}/query"), req).await;
                assert_eq!(status, 200, "sort {sort}: {body}");
                seen.extend(data_ids(&body));
                match body["next_cursor"].as_str() {
                    Some(next) => cursor = Some(next.to_string()),
                    None => break,
                }
            }
            assert_eq!(seen.len(), all.len(), "sort {sort}");
            assert_eq!(
                seen.into_iter().collect::<BTreeSet<_>>(),
                all,
                "sort {sort}"
            );
        }
    }

    // Summed exactly (a currency per code), and grouped by every groupable field.
    let sums = [
        ("n", 0),
        ("d0", 0),
        ("d2", 2),
        ("d8", 8),
        ("pct", 2),
        ("f", 2),
    ];
    let metrics: Vec<Value> = sums
        .iter()
        .map(|(f, _)| json!({"op": "sum", "field": f}))
        .chain([json!({"op": "sum", "field": "m"})])
        .collect();
    let (status, body) = s
        .post(
            &format!("{RECORDS}/aggregate"),
            json!({"metrics": metrics.clone()}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let group = &body["groups"][0];
    assert_eq!(group["count"], stored.len());
    for (i, (field, scale)) in sums.iter().enumerate() {
        let expected: i128 = stored
            .iter()
            .filter_map(|r| match &r["values"][*field] {
                Value::Null => None,
                Value::Number(n) => Some(i128::from(n.as_i64().expect("integer"))),
                Value::String(t) => Some(units(t, *scale)),
                other => panic!("{field}: {other}"),
            })
            .sum();
        assert_eq!(
            group["metrics"][i],
            json!(format_units(expected, *scale)),
            "sum of {field}"
        );
    }
    let mut per_code: BTreeMap<String, i128> = BTreeMap::new();
    for r in &stored {
        if let Some(code) = r["values"]["m"]["currency"].as_str() {
            *per_code.entry(code.to_string()).or_default() +=
                units(r["values"]["m"]["amount"].as_str().expect("amount"), 2);
        }
    }
    let expected: Vec<Value> = per_code
        .iter()
        .map(|(code, u)| json!({"amount": format_units(*u, 2), "currency": code}))
        .collect();
    assert_eq!(group["metrics"][sums.len()], json!(expected), "sum of m");
    for by in ["name", "n", "b", "dt", "sel", "em", "ph", "url", "usr"] {
        let (status, body) = s
            .post(
                &format!("{RECORDS}/aggregate"),
                json!({"group_by": by, "metrics": metrics.clone()}),
            )
            .await;
        assert_eq!(status, 200, "group by {by}: {body}");
        let counted: i64 = body["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .map(|g| g["count"].as_i64().expect("count"))
            .sum();
        assert_eq!(counted, stored.len() as i64, "group by {by}");
    }

    // Exported: a header and one line per record (quoted cells may hold line breaks, so the
    // ids are looked for instead of counting lines).
    let exported = s
        .call(reqwest::Method::POST, &format!("{RECORDS}/export"))
        .json(&json!({}))
        .send()
        .await;
    assert_eq!(exported.status, 200, "{}", exported.text);
    for id in &all {
        assert!(exported.text.contains(id.as_str()), "export misses {id}");
    }
}
