//! Kernel correctness at the edges of the value types: date-times and dates outside the years
//! 0001–9999 are refused, and one that an older version stored never makes a record, a page, an
//! update or a delete fail, and admins can clear them all at once; sums past 64 bits stay exact; a cursor only continues the list it
//! came from; date-times are compared at the precision they are kept; history times are
//! strictly ordered per record.

use crate::harness::{assert_error, field_errors, pair, Backend, TestServer};
use chrono::{DateTime, Duration, Utc};
use rapport_core::sql::SqlParam;
use rapport_core::ManualClock;
use rapport_server::ServerConfig;
use serde_json::{json, Value};
use std::sync::Arc;

crate::both_backends!(
    far_dates_are_refused_and_stored_ones_never_break_reads,
    sums_past_64_bits_stay_exact,
    a_cursor_only_continues_its_own_list,
    resending_a_datetime_finer_than_microseconds_changes_nothing,
    history_times_are_strictly_ordered_per_record,
    admins_repair_unreadable_values,
);

pub const PROBES: &str = "/api/v1/objects/probe/records";

/// A custom object with one field of each kind these tests need.
pub async fn create_probe(s: &TestServer) {
    let (status, body) = s
        .post(
            "/api/v1/objects",
            json!({
                "api_name": "probe",
                "label": "Probe",
                "plural_label": "Probes",
                "fields": [
                    {"api_name": "name", "label": "Name", "type": "text"},
                    {"api_name": "ts", "label": "Time", "type": "datetime"},
                    {"api_name": "dt", "label": "Day", "type": "date"},
                    {"api_name": "amt", "label": "Amount", "type": "decimal"},
                    {"api_name": "n", "label": "Count", "type": "integer"},
                    {"api_name": "money", "label": "Money", "type": "currency"}
                ]
            }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

/// Overwrites one stored value behind the API's back, as an older version or a hand edit may
/// have left it. `sql_value` is an SQL literal of the column's type.
async fn store_raw(s: &TestServer, id: &str, column: &str, sql_value: &str) {
    let table = rapport_store::table_name(&s.workspace.id, "probe");
    let sql = format!(
        "UPDATE \"{table}\" SET \"{column}\" = {sql_value} WHERE \"id\" = {}",
        s.store.ph(1)
    );
    let n = s
        .store
        .db
        .execute(&sql, &[SqlParam::Text(id.to_string())])
        .await
        .expect("raw update");
    assert_eq!(n, 1);
}

fn id_of(record: &Value) -> String {
    record["id"].as_str().expect("id").to_string()
}

/// Every id of a list, following cursors, with the given extra parameters.
async fn ids_paged(s: &TestServer, params: &[(&str, &str)], limit: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut query: Vec<(&str, &str)> = params.to_vec();
        query.push(("limit", limit));
        if let Some(c) = &cursor {
            query.push(("cursor", c));
        }
        let (status, body) = s.list("probe", &query).await;
        assert_eq!(status, 200, "{query:?}: {body}");
        ids.extend(crate::harness::data_ids(&body));
        match body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return ids,
        }
    }
}

async fn far_dates_are_refused_and_stored_ones_never_break_reads(b: Backend) {
    let s = TestServer::start(b).await;
    create_probe(&s).await;

    // Refused once converted to UTC: 9999-12-31T23:00-05:00 is 10000-01-01T04:00Z.
    for ts in ["9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+01:00"] {
        let got = s
            .post(PROBES, json!({"values": {"name": "far", "ts": ts}}))
            .await;
        assert_eq!(field_errors(&got), vec![pair("ts", "out_of_range")], "{ts}");
    }
    // Dates are YYYY-MM-DD: no fifth digit, no sign, no year 0.
    for dt in ["+10000-01-01", "10000-01-01", "0000-12-31"] {
        let got = s
            .post(PROBES, json!({"values": {"name": "far", "dt": dt}}))
            .await;
        assert_eq!(field_errors(&got), vec![pair("dt", "invalid_date")], "{dt}");
    }
    let far_filter = json!({"field": "dt", "op": "gt", "value": "+10000-01-01"}).to_string();
    assert_error(
        &s.list("probe", &[("filter", far_filter.as_str())]).await,
        400,
        "invalid_condition",
    );
    // The last instant and day are fine.
    let edge = s
        .create(
            "probe",
            json!({"name": "edge", "ts": "9999-12-31T18:59:59.999999-05:00", "dt": "9999-12-31"}),
        )
        .await;
    assert_eq!(edge["values"]["ts"], "9999-12-31T23:59:59.999999Z");
    assert_eq!(edge["values"]["dt"], "9999-12-31");

    // Rows as an older version stored them.
    let mut ids = vec![id_of(&edge)];
    let bad_ts = id_of(&s.create("probe", json!({"name": "bad ts", "n": 1})).await);
    let bad_dt = id_of(&s.create("probe", json!({"name": "bad dt", "n": 2})).await);
    let bad_n = id_of(&s.create("probe", json!({"name": "bad n", "n": 3})).await);
    for i in 0..4 {
        let r = s
            .create(
                "probe",
                json!({"name": format!("good {i}"), "ts": format!("2026-01-0{}T00:00:00Z", i + 1), "dt": "2026-05-01", "n": 10}),
            )
            .await;
        ids.push(id_of(&r));
    }
    match b {
        Backend::Sqlite => {
            store_raw(&s, &bad_ts, "ts", "'+10000-01-01T04:00:00.000000Z'").await;
            store_raw(&s, &bad_dt, "dt", "'+10000-01-01'").await;
            store_raw(&s, &bad_n, "n", "'twelve'").await;
        }
        Backend::Postgres => {
            store_raw(&s, &bad_ts, "ts", "'10000-01-01T04:00:00Z'::timestamptz").await;
            store_raw(&s, &bad_dt, "dt", "'+10000-01-01'").await;
            store_raw(&s, &bad_n, "ts", "'infinity'::timestamptz").await;
        }
    }
    let bad_n_field = if b == Backend::Sqlite { "n" } else { "ts" };
    ids.extend([bad_ts.clone(), bad_dt.clone(), bad_n.clone()]);

    // Read: the field is null and reported; nothing else is lost.
    let (status, got) = s.get(&format!("{PROBES}/{bad_ts}")).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["values"]["ts"], Value::Null);
    assert_eq!(got["values"]["n"], 1);
    assert_eq!(got["unreadable_fields"], json!(["ts"]));
    let (_, got) = s.get(&format!("{PROBES}/{bad_dt}")).await;
    assert_eq!(got["unreadable_fields"], json!(["dt"]), "{got}");
    let (_, got) = s.get(&format!("{PROBES}/{bad_n}")).await;
    assert_eq!(got["unreadable_fields"], json!([bad_n_field]), "{got}");
    let (_, good) = s.get(&format!("{PROBES}/{}", ids[1])).await;
    assert!(good.get("unreadable_fields").is_none(), "{good}");

    // Every list that holds the bad rows, in every order, a page at a time.
    ids.sort();
    for sort in ["", "ts", "-ts", "dt", "-dt", "n", "-n", "name"] {
        let params: Vec<(&str, &str)> = if sort.is_empty() {
            vec![]
        } else {
            vec![("sort", sort)]
        };
        for limit in ["1", "3", "50"] {
            let mut listed = ids_paged(&s, &params, limit).await;
            listed.sort();
            assert_eq!(listed, ids, "sort {sort:?} limit {limit}");
        }
    }
    let (status, page) = s.list("probe", &[("limit", "50")]).await;
    assert_eq!(status, 200);
    let reported: Vec<&Value> = page["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter(|r| r.get("unreadable_fields").is_some())
        .collect();
    assert_eq!(reported.len(), 3, "{page}");
    for filter in [
        json!({"field": "ts", "op": "gt", "value": "2026-01-02T00:00:00Z"}),
        json!({"field": "dt", "op": "is_not_empty"}),
        json!({"field": "n", "op": "gte", "value": 2}),
    ] {
        let text = filter.to_string();
        let (status, body) = s.list("probe", &[("filter", text.as_str())]).await;
        assert_eq!(status, 200, "{filter}: {body}");
    }
    let (status, body) = s
        .post(
            &format!("{PROBES}/aggregate"),
            json!({"group_by": "dt", "metrics": [{"op": "sum", "field": "n"}, {"op": "count"}]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let exported = s
        .call(reqwest::Method::POST, &format!("{PROBES}/export"))
        .json(&json!({}))
        .send()
        .await;
    assert_eq!(exported.status, 200, "{}", exported.text);
    assert!(exported.text.contains("bad ts"));

    // An update of another field keeps the unreadable value as it is; writing the field
    // replaces it (null too).
    let (status, got) = s
        .patch(
            &format!("{PROBES}/{bad_ts}"),
            json!({"values": {"name": "still bad"}}),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["unreadable_fields"], json!(["ts"]));
    let (status, got) = s
        .patch(
            &format!("{PROBES}/{bad_ts}"),
            json!({"values": {"ts": "2026-06-01T08:00:00+08:00"}}),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["values"]["ts"], "2026-06-01T00:00:00.000000Z");
    assert!(got.get("unreadable_fields").is_none(), "{got}");
    let (status, got) = s
        .patch(
            &format!("{PROBES}/{bad_dt}"),
            json!({"values": {"dt": null}}),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert!(got.get("unreadable_fields").is_none(), "{got}");
    let (_, got) = s.get(&format!("{PROBES}/{bad_dt}")).await;
    assert!(got.get("unreadable_fields").is_none(), "{got}");
    assert_eq!(got["values"]["dt"], Value::Null);

    // Delete and restore work on a record that still holds a bad value.
    let (status, body) = s.delete(&format!("{PROBES}/{bad_n}")).await;
    assert_eq!(status, 204, "{body}");
    let (status, got) = s
        .post(&format!("{PROBES}/{bad_n}/restore"), json!({}))
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["unreadable_fields"], json!([bad_n_field]));
}

fn sums(body: &Value) -> Value {
    body["groups"][0]["metrics"].clone()
}

async fn sums_past_64_bits_stay_exact(b: Backend) {
    let s = TestServer::start(b).await;
    create_probe(&s).await;
    let aggregate = format!("{PROBES}/aggregate");
    let metrics = json!([
        {"op": "sum", "field": "amt"},
        {"op": "sum", "field": "n"},
        {"op": "sum", "field": "money"},
        {"op": "count"}
    ]);
    // The largest values each type holds, twice.
    for name in ["max 1", "max 2"] {
        s.create(
            "probe",
            json!({
                "name": name,
                "amt": "92233720368547758.07",
                "n": i64::MAX,
                "money": {"amount": "92233720368547758.07", "currency": "USD"}
            }),
        )
        .await;
    }
    let (status, body) = s
        .post(&aggregate, json!({"metrics": metrics.clone()}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        sums(&body),
        json!([
            "184467440737095516.14",
            "18446744073709551614",
            [{"amount": "184467440737095516.14", "currency": "USD"}],
            2
        ])
    );
    // And the smallest (decimals are symmetric: ±(2^63 − 1) units), three times, grouped.
    for _ in 0..3 {
        s.create(
            "probe",
            json!({
                "name": "min",
                "amt": "-92233720368547758.07",
                "n": i64::MIN,
                "money": {"amount": "-92233720368547758.07", "currency": "USD"}
            }),
        )
        .await;
    }
    let filter = json!({"field": "name", "op": "eq", "value": "min"});
    let (status, body) = s
        .post(
            &aggregate,
            json!({"filter": filter, "group_by": "name", "metrics": metrics.clone()}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["groups"][0]["key"], "min");
    assert_eq!(
        sums(&body),
        json!([
            "-276701161105643274.21",
            "-27670116110564327424",
            [{"amount": "-276701161105643274.21", "currency": "USD"}],
            3
        ])
    );
    // All five together: 2 × max + 3 × min.
    let (status, body) = s.post(&aggregate, json!({"metrics": metrics})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        sums(&body),
        json!([
            "-92233720368547758.07",
            "-9223372036854775810",
            [{"amount": "-92233720368547758.07", "currency": "USD"}],
            5
        ])
    );
}

async fn a_cursor_only_continues_its_own_list(b: Backend) {
    let s = TestServer::start(b).await;
    create_probe(&s).await;
    for (name, dt) in [
        ("a", "2026-03-01"),
        ("b", "2026-01-01"),
        ("c", "2026-02-01"),
    ] {
        s.create("probe", json!({"name": name, "dt": dt})).await;
    }
    let (status, first) = s.list("probe", &[("sort", "name"), ("limit", "1")]).await;
    assert_eq!(status, 200, "{first}");
    let cursor = first["next_cursor"].as_str().expect("cursor").to_string();
    // The same list continues.
    let (status, next) = s
        .list(
            "probe",
            &[("sort", "name"), ("limit", "1"), ("cursor", &cursor)],
        )
        .await;
    assert_eq!(status, 200, "{next}");
    assert_eq!(next["data"][0]["name"], "b");
    // Another sort (same key types), direction, filter or the recycle bin does not.
    let filter = json!({"field": "name", "op": "ne", "value": "zzz"}).to_string();
    for other in [
        vec![("sort", "dt")],
        vec![("sort", "-name")],
        vec![("sort", "name,dt")],
        vec![("sort", "name"), ("filter", filter.as_str())],
        vec![("sort", "name"), ("deleted", "true")],
    ] {
        let mut query = other.clone();
        query.extend([("limit", "1"), ("cursor", cursor.as_str())]);
        assert_error(&s.list("probe", &query).await, 400, "invalid_cursor");
    }
    assert_error(
        &s.list("probe", &[("sort", "name"), ("cursor", "5b5d")])
            .await,
        400,
        "invalid_cursor",
    );
}

async fn history_len(s: &TestServer, id: &str) -> usize {
    let (status, body) = s.get(&format!("{PROBES}/{id}/history")).await;
    assert_eq!(status, 200, "{body}");
    body.as_array().expect("history").len()
}

async fn resending_a_datetime_finer_than_microseconds_changes_nothing(b: Backend) {
    let s = TestServer::start(b).await;
    create_probe(&s).await;
    let created = s
        .create(
            "probe",
            json!({"name": "p", "ts": "2026-03-01T10:00:59.1234567-05:00"}),
        )
        .await;
    assert_eq!(created["values"]["ts"], "2026-03-01T15:00:59.123456Z");
    let id = id_of(&created);
    for ts in [
        "2026-03-01T10:00:59.1234567-05:00",
        "2026-03-01T15:00:59.123456999Z",
        "2026-03-01T15:00:59.123456Z",
    ] {
        let (status, got) = s
            .patch(&format!("{PROBES}/{id}"), json!({"values": {"ts": ts}}))
            .await;
        assert_eq!(status, 200, "{got}");
        assert_eq!(got["version"], 1, "{ts} is no change: {got}");
    }
    assert_eq!(history_len(&s, &id).await, 1);
    // A stale version still updates nothing: no spurious conflicts.
    let (status, got) = s
        .patch(
            &format!("{PROBES}/{id}"),
            json!({"values": {"ts": "2026-03-01T10:00:59.1234569-05:00", "name": "q"}, "version": 1}),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["version"], 2);
}

fn time_of(entry: &Value) -> DateTime<Utc> {
    entry["changed_at"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("changed_at in {entry}"))
}

async fn history_times_are_strictly_ordered_per_record(b: Backend) {
    // The clock stands still, as it may for two writes within its resolution.
    let start = DateTime::parse_from_rfc3339("2026-04-01T09:00:00Z")
        .expect("time")
        .with_timezone(&Utc);
    let clock = Arc::new(ManualClock::new(start));
    let s = TestServer::start_with_clock(b, ServerConfig::default(), clock.clone()).await;
    create_probe(&s).await;
    let id = id_of(&s.create("probe", json!({"name": "v0", "n": 0})).await);
    let path = format!("{PROBES}/{id}");
    for n in 1..=3 {
        let (status, got) = s
            .patch(&path, json!({"values": {"name": format!("v{n}"), "n": n}}))
            .await;
        assert_eq!(status, 200, "{got}");
    }
    // And one after the clock stepped back.
    clock.set(start - Duration::hours(1));
    let (status, _) = s.patch(&path, json!({"values": {"n": 4}})).await;
    assert_eq!(status, 200);
    let (status, got) = s.delete(&path).await;
    assert_eq!(status, 204, "{got}");
    let (status, got) = s.post(&format!("{path}/restore"), json!({})).await;
    assert_eq!(status, 200, "{got}");

    let (_, history) = s.get(&format!("{path}/history")).await;
    let entries = history.as_array().expect("history");
    // Newest first: times strictly decrease down the list, a change's fields sharing one time.
    let mut times: Vec<DateTime<Utc>> = entries.iter().map(time_of).collect();
    times.dedup();
    assert_eq!(times.len(), 7, "{history}");
    assert!(times.windows(2).all(|w| w[0] > w[1]), "{times:?}");
    assert_eq!(times[6], start);

    // Restoring to each change's time reaches exactly the state it made.
    for n in 1..=2 {
        let entry = entries
            .iter()
            .find(|e| e["field"] == "n" && e["new_value"] == n)
            .expect("entry");
        let (status, got) = s
            .post(
                &format!("{path}/history/restore"),
                json!({"at": entry["changed_at"]}),
            )
            .await;
        assert_eq!(status, 200, "{got}");
        assert_eq!(got["values"]["n"], n, "{got}");
        assert_eq!(got["name"], format!("v{n}"), "{got}");
    }
}

async fn admins_repair_unreadable_values(b: Backend) {
    let s = TestServer::start(b).await;
    create_probe(&s).await;
    let bad = id_of(&s.create("probe", json!({"name": "bad", "n": 1})).await);
    let worse = id_of(&s.create("probe", json!({"name": "worse", "n": 2})).await);
    let good = s
        .create(
            "probe",
            json!({"name": "good", "ts": "2026-01-01T00:00:00Z"}),
        )
        .await;
    store_raw(&s, &bad, "dt", "'+10000-01-01'").await;
    match b {
        Backend::Sqlite => {
            store_raw(&s, &bad, "ts", "'+10000-01-01T04:00:00.000000Z'").await;
            store_raw(&s, &worse, "n", "'twelve'").await;
        }
        Backend::Postgres => {
            store_raw(&s, &bad, "ts", "'10000-01-01T04:00:00Z'::timestamptz").await;
            store_raw(&s, &worse, "ts", "'-infinity'::timestamptz").await;
        }
    }
    let worse_field = if b == Backend::Sqlite { "n" } else { "ts" };
    let repair = format!("{PROBES}/repair");

    let (_, sales) = s.user_with_role("sales").await;
    assert_error(&sales.post(&repair, json!({})).await, 403, "forbidden");

    let (status, body) = s.post(&repair, json!({})).await;
    assert_eq!(status, 200, "{body}");
    let mut repaired = body["repaired"].as_array().expect("repaired").clone();
    repaired.sort_by_key(|r| r["id"].as_str().map(str::to_string));
    let mut expected = vec![
        json!({"id": bad, "fields": ["ts", "dt"]}),
        json!({"id": worse, "fields": [worse_field]}),
    ];
    expected.sort_by_key(|r| r["id"].as_str().map(str::to_string));
    assert_eq!(repaired, expected);
    for id in [&bad, &worse] {
        let (_, got) = s.get(&format!("{PROBES}/{id}")).await;
        assert!(got.get("unreadable_fields").is_none(), "{got}");
        assert_eq!(got["version"], 2, "a repair is a recorded change: {got}");
    }
    let (_, got) = s.get(&format!("{PROBES}/{}", id_of(&good))).await;
    assert_eq!(got["version"], 1, "{got}");
    let (_, history) = s.get(&format!("{PROBES}/{bad}/history")).await;
    assert_eq!(history.as_array().map(Vec::len), Some(3), "{history}");
    // Nothing left to repair.
    let (status, body) = s.post(&repair, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["repaired"], json!([]));
}
