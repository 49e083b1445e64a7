//! Lists: filters (equality, ranges on currency amounts, lists, substrings, emptiness,
//! relative dates, relation paths), multi-key sorts with nulls last, keyset cursors, field
//! selection, relation expansion, totals, and the POST form of the same query.

use crate::harness::{data_ids, Backend, TestServer};
use chrono::{Duration, Utc};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

crate::both_backends!(
    filters_sorts_fields_and_expand,
    cursor_pagination_visits_every_record_once,
    query_endpoint_matches_get,
);

/// The workspace's local date (UTC+8) shifted by `days`.
fn local_day(days: i64) -> String {
    (Utc::now() + Duration::minutes(480) + Duration::days(days))
        .date_naive()
        .format("%Y-%m-%d")
        .to_string()
}

struct Fixture {
    /// deal name → id
    deals: BTreeMap<String, String>,
    tech: String,
}

async fn fixture(s: &TestServer) -> Fixture {
    let tech = s
        .create(
            "company",
            json!({"name": "Tech Co", "industry": "technology"}),
        )
        .await;
    let fin = s
        .create("company", json!({"name": "Fin Co", "industry": "finance"}))
        .await;
    let plain = s.create("company", json!({"name": "Plain Co"})).await;
    let rows = [
        (
            "Alpha one",
            json!(500),
            json!("prospecting"),
            json!(local_day(-3)),
            tech["id"].clone(),
        ),
        (
            "Alpha two",
            json!("1500"),
            json!("proposal"),
            json!(local_day(-30)),
            fin["id"].clone(),
        ),
        (
            "Beta",
            json!({"amount": "1500.00", "currency": "USD"}),
            json!("negotiation"),
            Value::Null,
            tech["id"].clone(),
        ),
        (
            "Gamma",
            Value::Null,
            json!("proposal"),
            json!(local_day(0)),
            plain["id"].clone(),
        ),
        (
            "Delta",
            json!(2000),
            json!("closed_won"),
            json!(local_day(-7)),
            Value::Null,
        ),
        (
            "Epsilon",
            json!("1000.00"),
            Value::Null,
            json!(local_day(3)),
            tech["id"].clone(),
        ),
    ];
    let mut deals = BTreeMap::new();
    for (name, amount, stage, close, company) in rows {
        let d = s
            .create(
                "deal",
                json!({"name": name, "amount": amount, "stage": stage, "close_date": close, "company": company}),
            )
            .await;
        deals.insert(name.to_string(), d["id"].as_str().expect("id").to_string());
    }
    Fixture {
        deals,
        tech: tech["id"].as_str().expect("id").to_string(),
    }
}

fn names(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data: {body}"))
        .iter()
        .map(|r| r["name"].as_str().expect("name").to_string())
        .collect()
}

async fn filtered(s: &TestServer, filter: Value) -> BTreeSet<String> {
    let (status, body) = s
        .list("deal", &[("filter", &filter.to_string()), ("limit", "100")])
        .await;
    assert_eq!(status, 200, "{filter}: {body}");
    names(&body).into_iter().collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

async fn filters_sorts_fields_and_expand(b: Backend) {
    let s = TestServer::start(b).await;
    let f = fixture(&s).await;

    let cases = [
        (
            json!({"field": "stage", "op": "eq", "value": "proposal"}),
            set(&["Alpha two", "Gamma"]),
        ),
        (
            json!({"field": "stage", "op": "ne", "value": "proposal"}),
            set(&["Alpha one", "Beta", "Delta", "Epsilon"]),
        ),
        // A currency compares by its amount (the code is ignored).
        (
            json!({"field": "amount", "op": "gt", "value": 1000}),
            set(&["Alpha two", "Beta", "Delta"]),
        ),
        (
            json!({"field": "amount", "op": "gte", "value": "1000"}),
            set(&["Alpha two", "Beta", "Delta", "Epsilon"]),
        ),
        (
            json!({"field": "amount", "op": "lt", "value": {"amount": "1000", "currency": "CNY"}}),
            set(&["Alpha one"]),
        ),
        (
            json!({"field": "amount", "op": "between", "value": [1000, 1500]}),
            set(&["Alpha two", "Beta", "Epsilon"]),
        ),
        (
            json!({"field": "amount", "op": "eq", "value": 1500}),
            set(&["Alpha two", "Beta"]),
        ),
        (
            json!({"field": "stage", "op": "in", "value": ["proposal", "negotiation"]}),
            set(&["Alpha two", "Beta", "Gamma"]),
        ),
        (
            json!({"field": "stage", "op": "not_in", "value": ["proposal", "negotiation"]}),
            set(&["Alpha one", "Delta", "Epsilon"]),
        ),
        (
            json!({"field": "name", "op": "contains", "value": "ALPHA"}),
            set(&["Alpha one", "Alpha two"]),
        ),
        (
            json!({"field": "name", "op": "contains", "value": "ta"}),
            set(&["Beta", "Delta"]),
        ),
        (
            json!({"field": "name", "op": "starts_with", "value": "alpha t"}),
            set(&["Alpha two"]),
        ),
        (
            json!({"field": "close_date", "op": "is_empty"}),
            set(&["Beta"]),
        ),
        (
            json!({"field": "stage", "op": "is_empty"}),
            set(&["Epsilon"]),
        ),
        (
            json!({"field": "amount", "op": "is_empty"}),
            set(&["Gamma"]),
        ),
        (
            json!({"field": "company", "op": "is_empty"}),
            set(&["Delta"]),
        ),
        (
            json!({"field": "company", "op": "is_not_empty"}),
            set(&["Alpha one", "Alpha two", "Beta", "Gamma", "Epsilon"]),
        ),
        (
            json!({"field": "company", "op": "eq", "value": f.tech}),
            set(&["Alpha one", "Beta", "Epsilon"]),
        ),
        // Relative dates in the workspace's time zone (UTC+8): [today - 7, today].
        (
            json!({"field": "close_date", "op": "last_n_days", "value": 7}),
            set(&["Alpha one", "Gamma", "Delta"]),
        ),
        (
            json!({"field": "close_date", "op": "next_n_days", "value": 3}),
            set(&["Gamma", "Epsilon"]),
        ),
        (
            json!({"field": "close_date", "op": "today"}),
            set(&["Gamma"]),
        ),
        (
            json!({"field": "close_date", "op": "lt", "value": local_day(-7)}),
            set(&["Alpha two"]),
        ),
        (
            json!({"field": "created_at", "op": "last_n_days", "value": 1}),
            set(&[
                "Alpha one",
                "Alpha two",
                "Beta",
                "Gamma",
                "Delta",
                "Epsilon",
            ]),
        ),
        (
            json!({"field": "created_by", "op": "eq", "value": s.admin.id}),
            set(&[
                "Alpha one",
                "Alpha two",
                "Beta",
                "Gamma",
                "Delta",
                "Epsilon",
            ]),
        ),
        // One hop through a relation; a missing related record reads as empty.
        (
            json!({"field": "company.industry", "op": "eq", "value": "technology"}),
            set(&["Alpha one", "Beta", "Epsilon"]),
        ),
        (
            json!({"field": "company.industry", "op": "is_empty"}),
            set(&["Gamma", "Delta"]),
        ),
        (
            json!({"field": "company.name", "op": "starts_with", "value": "fin"}),
            set(&["Alpha two"]),
        ),
        // Combinators.
        (
            json!({"all": [
                {"field": "amount", "op": "gte", "value": 1000},
                {"any": [
                    {"field": "company.industry", "op": "eq", "value": "technology"},
                    {"field": "stage", "op": "eq", "value": "closed_won"}
                ]}
            ]}),
            set(&["Beta", "Delta", "Epsilon"]),
        ),
        (
            json!({"not": {"field": "stage", "op": "in", "value": ["proposal", "negotiation"]}}),
            set(&["Alpha one", "Delta", "Epsilon"]),
        ),
        (
            json!({"all": []}),
            set(&[
                "Alpha one",
                "Alpha two",
                "Beta",
                "Gamma",
                "Delta",
                "Epsilon",
            ]),
        ),
        (json!({"any": []}), set(&[])),
    ];
    for (filter, want) in cases {
        assert_eq!(filtered(&s, filter.clone()).await, want, "filter {filter}");
    }

    // Deleted records never match; the recycle bin can be filtered too.
    let gamma = format!("/api/v1/objects/deal/records/{}", f.deals["Gamma"]);
    assert_eq!(s.delete(&gamma).await.0, 204);
    assert_eq!(
        filtered(
            &s,
            json!({"field": "stage", "op": "eq", "value": "proposal"})
        )
        .await,
        set(&["Alpha two"])
    );
    let (status, bin) = s
        .list(
            "deal",
            &[
                ("deleted", "true"),
                (
                    "filter",
                    &json!({"field": "stage", "op": "eq", "value": "proposal"}).to_string(),
                ),
            ],
        )
        .await;
    assert_eq!(status, 200, "{bin}");
    assert_eq!(names(&bin), vec!["Gamma"]);
    assert_eq!(s.post(&format!("{gamma}/restore"), json!({})).await.0, 200);

    // Multi-key sorts, nulls last in both directions.
    let (status, body) = s.list("deal", &[("sort", "-amount,name")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        names(&body),
        vec![
            "Delta",
            "Alpha two",
            "Beta",
            "Epsilon",
            "Alpha one",
            "Gamma"
        ]
    );
    let (_, body) = s.list("deal", &[("sort", "amount,-name")]).await;
    assert_eq!(
        names(&body),
        vec![
            "Alpha one",
            "Epsilon",
            "Beta",
            "Alpha two",
            "Delta",
            "Gamma"
        ]
    );
    let (_, body) = s.list("deal", &[("sort", "name")]).await;
    assert_eq!(
        names(&body),
        vec![
            "Alpha one",
            "Alpha two",
            "Beta",
            "Delta",
            "Epsilon",
            "Gamma"
        ]
    );
    let (_, body) = s.list("deal", &[("sort", "-close_date")]).await;
    assert_eq!(
        names(&body),
        vec![
            "Epsilon",
            "Gamma",
            "Alpha one",
            "Delta",
            "Alpha two",
            "Beta"
        ]
    );
    let (_, body) = s.list("deal", &[("sort", "stage,name")]).await;
    assert_eq!(
        names(&body),
        vec![
            "Delta",
            "Beta",
            "Alpha two",
            "Gamma",
            "Alpha one",
            "Epsilon"
        ]
    );
    // The default order is newest first.
    let (_, body) = s.list("deal", &[]).await;
    let created: Vec<String> = body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|r| r["created_at"].as_str().expect("created_at").to_string())
        .collect();
    let mut sorted = created.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(created, sorted);

    // Field selection.
    let (status, body) = s
        .list("deal", &[("fields", "name,amount"), ("sort", "name")])
        .await;
    assert_eq!(status, 200, "{body}");
    for r in body["data"].as_array().expect("data") {
        let keys: BTreeSet<&str> = r["values"]
            .as_object()
            .expect("values")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, BTreeSet::from(["name", "amount"]), "{r}");
        assert!(r["name"].is_string());
        assert!(r["id"].is_string());
    }
    assert_eq!(
        body["data"][0]["values"]["amount"],
        json!({"amount": "500.00", "currency": "CNY"})
    );
    assert_eq!(
        body["data"][2]["values"]["amount"],
        json!({"amount": "1500.00", "currency": "USD"})
    );

    // Expansion of a relation.
    let (status, body) = s
        .list("deal", &[("expand", "company"), ("sort", "name")])
        .await;
    assert_eq!(status, 200, "{body}");
    let by_name: BTreeMap<String, &Value> = body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|r| (r["name"].as_str().expect("name").to_string(), r))
        .collect();
    assert_eq!(
        by_name["Alpha one"]["expanded"]["company"]["name"],
        "Tech Co"
    );
    assert_eq!(
        by_name["Alpha one"]["expanded"]["company"]["id"],
        f.tech.as_str()
    );
    assert_eq!(
        by_name["Alpha two"]["expanded"]["company"]["values"]["industry"],
        "finance"
    );
    assert!(by_name["Delta"]
        .get("expanded")
        .is_none_or(|e| e.get("company").is_none()));
    // Without expand there is no `expanded`.
    let (_, plain) = s.list("deal", &[]).await;
    assert!(plain["data"][0].get("expanded").is_none(), "{plain}");

    // Totals count every match, not the page.
    let filter = json!({"field": "amount", "op": "gt", "value": 1000}).to_string();
    let (status, body) = s
        .list(
            "deal",
            &[("filter", &filter), ("total", "true"), ("limit", "1")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["total"], 3);
    assert_eq!(body["data"].as_array().expect("data").len(), 1);
    assert!(body["next_cursor"].is_string());
    let (_, body) = s.list("deal", &[("total", "true")]).await;
    assert_eq!(body["total"], 6);
    let (_, body) = s.list("deal", &[]).await;
    assert_eq!(body["total"], Value::Null);
    assert_eq!(body["next_cursor"], Value::Null);

    // Sorting by id honours the direction.
    let (_, up) = s.list("deal", &[("sort", "id")]).await;
    let (_, down) = s.list("deal", &[("sort", "-id")]).await;
    let mut ids = data_ids(&up);
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "sort=id is ascending");
    ids.reverse();
    assert_eq!(data_ids(&down), ids, "sort=-id is descending");
}

async fn cursor_pagination_visits_every_record_once(b: Backend) {
    let s = TestServer::start(b).await;
    // 120 deals with repeated and missing amounts, created in one batch (so they also share
    // created_at: the default order must break ties by id).
    let records: Vec<Value> = (0..120)
        .map(|i| {
            let amount = if i % 10 == 0 {
                Value::Null
            } else {
                json!((i % 7) * 100)
            };
            json!({"values": {"name": format!("P{i:03}"), "amount": amount}})
        })
        .collect();
    let (status, created) = s
        .post(
            "/api/v1/objects/deal/records/batch/create",
            json!({ "records": records }),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let all: BTreeSet<String> = data_ids(&created).into_iter().collect();
    assert_eq!(all.len(), 120);

    // Expected order for -amount,name: amount descending, nulls last, then name.
    let mut expected: Vec<(Option<i64>, String)> = (0..120)
        .map(|i| {
            let amount = if i % 10 == 0 {
                None
            } else {
                Some((i % 7) * 100)
            };
            (amount, format!("P{i:03}"))
        })
        .collect();
    expected.sort_by(|a, b| match (a.0, b.0) {
        (Some(x), Some(y)) => y.cmp(&x).then(a.1.cmp(&b.1)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.1.cmp(&b.1),
    });
    let expected_names: Vec<String> = expected.into_iter().map(|(_, n)| n).collect();

    for sort in [
        "-amount,name",
        "",
        "name",
        "-name",
        "amount",
        "-updated_at",
        "created_at,-amount",
    ] {
        let mut seen: Vec<String> = Vec::new();
        let mut seen_names: Vec<String> = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = Vec::new();
        loop {
            let mut query = vec![("limit", "50"), ("total", "true")];
            if !sort.is_empty() {
                query.push(("sort", sort));
            }
            if let Some(c) = &cursor {
                query.push(("cursor", c.as_str()));
            }
            let (status, body) = s.list("deal", &query).await;
            assert_eq!(status, 200, "{sort}: {body}");
            assert_eq!(body["total"], 120, "{sort}");
            pages.push(body["data"].as_array().expect("data").len());
            seen.extend(data_ids(&body));
            seen_names.extend(names(&body));
            match body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => break,
            }
            assert!(pages.len() < 10, "{sort}: pagination does not end");
        }
        assert_eq!(pages, vec![50, 50, 20], "{sort}");
        let unique: BTreeSet<String> = seen.iter().cloned().collect();
        assert_eq!(unique.len(), seen.len(), "{sort}: duplicates across pages");
        assert_eq!(unique, all, "{sort}: every record exactly once");
        // The pages, concatenated, are the same order as one big page.
        let mut query = vec![("limit", "1000")];
        if !sort.is_empty() {
            query.push(("sort", sort));
        }
        let (_, one) = s.list("deal", &query).await;
        assert_eq!(seen, data_ids(&one), "{sort}: pages differ from one page");
        if sort == "-amount,name" {
            assert_eq!(seen_names, expected_names);
        }
        if sort == "name" {
            let mut sorted = seen_names.clone();
            sorted.sort();
            assert_eq!(seen_names, sorted);
        }
    }

    // Pagination with a filter, and records added mid-way: no duplicates, nothing existing
    // skipped.
    let filter = json!({"field": "amount", "op": "is_not_empty"}).to_string();
    let (status, first) = s
        .list(
            "deal",
            &[
                ("filter", &filter),
                ("sort", "name"),
                ("limit", "40"),
                ("total", "true"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["total"], 108);
    let mut seen = data_ids(&first);
    s.create("deal", json!({"name": "P000x", "amount": 1}))
        .await;
    s.create("deal", json!({"name": "P999", "amount": 1})).await;
    let mut cursor = first["next_cursor"].as_str().map(str::to_string);
    while let Some(c) = cursor {
        let (status, page) = s
            .list(
                "deal",
                &[
                    ("filter", &filter),
                    ("sort", "name"),
                    ("limit", "40"),
                    ("cursor", &c),
                ],
            )
            .await;
        assert_eq!(status, 200, "{page}");
        seen.extend(data_ids(&page));
        cursor = page["next_cursor"].as_str().map(str::to_string);
    }
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len());
    // 108 originals with an amount, plus P999 (sorted after the cursor); P000x sorted before.
    assert_eq!(seen.len(), 109);

    // A cursor from one sort does not fit another.
    let (_, page) = s.list("deal", &[("sort", "name"), ("limit", "10")]).await;
    let cursor = page["next_cursor"].as_str().expect("cursor").to_string();
    let mismatched = s
        .list("deal", &[("sort", "-amount,name"), ("cursor", &cursor)])
        .await;
    crate::harness::assert_error(&mismatched, 400, "invalid_cursor");
    // Limits are clamped to 1..=1000.
    let (status, page) = s.list("deal", &[("limit", "0")]).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["data"].as_array().expect("data").len(), 1);
}

async fn query_endpoint_matches_get(b: Backend) {
    let s = TestServer::start(b).await;
    fixture(&s).await;
    let filter = json!({"all": [
        {"field": "amount", "op": "gte", "value": 500},
        {"not": {"field": "company", "op": "is_empty"}}
    ]});
    let (status, get) = s
        .list(
            "deal",
            &[
                ("filter", &filter.to_string()),
                ("sort", "-amount,name"),
                ("limit", "2"),
                ("fields", "name,amount,company"),
                ("expand", "company"),
                ("total", "true"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{get}");
    let (status, post) = s
        .post(
            "/api/v1/objects/deal/records/query",
            json!({
                "filter": filter,
                "sort": ["-amount", "name"],
                "limit": 2,
                "fields": ["name", "amount", "company"],
                "expand": ["company"],
                "total": true,
            }),
        )
        .await;
    assert_eq!(status, 200, "{post}");
    assert_eq!(get, post);
    assert_eq!(post["total"], 4);
    assert_eq!(names(&post), vec!["Alpha two", "Beta"]);
    assert_eq!(post["data"][0]["expanded"]["company"]["name"], "Fin Co");

    // The POST form pages with the cursor too.
    let cursor = post["next_cursor"].as_str().expect("cursor");
    let (status, next) = s
        .post(
            "/api/v1/objects/deal/records/query",
            json!({"filter": filter, "sort": ["-amount", "name"], "limit": 2, "cursor": cursor}),
        )
        .await;
    assert_eq!(status, 200, "{next}");
    assert_eq!(names(&next), vec!["Epsilon", "Alpha one"]);
    assert_eq!(next["next_cursor"], Value::Null);

    // The recycle bin through POST.
    let (status, bin) = s
        .post(
            "/api/v1/objects/deal/records/query",
            json!({"deleted": true, "total": true}),
        )
        .await;
    assert_eq!(status, 200, "{bin}");
    assert_eq!(bin["total"], 0);

    // Export takes the same body and writes CSV.
    let export = s
        .call(Method::POST, "/api/v1/objects/deal/records/export")
        .json(&json!({"filter": filter, "sort": ["name"], "fields": ["name", "amount"]}))
        .send()
        .await;
    assert_eq!(export.status, 200, "{}", export.text);
    assert!(export
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/csv")));
    let lines: Vec<&str> = export.text.trim_end().lines().collect();
    assert_eq!(lines[0].trim_start_matches('\u{feff}'), "id,name,amount");
    assert_eq!(lines.len(), 5, "{}", export.text);
    assert!(lines[1].ends_with(",Alpha one,500.00 CNY"), "{}", lines[1]);
}
