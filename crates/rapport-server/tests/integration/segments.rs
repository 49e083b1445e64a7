//! Segments over HTTP: the articles' example segment followed in real time (entries, exits,
//! history, outbox events, members, CSV), sliding windows expiring on their own, lineage and
//! tags, definition changes and archiving, the live preview, bad definitions, and a random
//! event stream whose streaming membership must equal both a model computed in the test and a
//! full re-evaluation.

use crate::cdp::basic;
use crate::harness::{assert_error, Api, Auth, Backend, TestServer};
use chrono::{Duration as Age, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

crate::both_backends!(
    example_segment_follows_events_in_real_time,
    windows_expire_without_new_events,
    lineage_tags_versions_and_archive,
    bad_definitions_get_clear_errors,
    streaming_agrees_with_a_model_and_full_evaluation,
    recount_repairs_wrong_counters,
    upgrade_repair_recounts_every_key,
);

async fn tracker(server: &TestServer) -> Api {
    let (status, s) = server
        .post("/api/v1/cdp/sources", json!({"name": "App", "kind": "app"}))
        .await;
    assert_eq!(status, 201, "{s}");
    server.as_auth(Auth::Header(basic(s["write_key"].as_str().unwrap())))
}

async fn register_types(server: &TestServer) {
    for (name, schema) in [
        (
            "Product Viewed",
            json!({"type": "object", "properties": {"series": {"type": "string"}, "sku": {"type": "string"}}}),
        ),
        (
            "Order Completed",
            json!({"type": "object", "properties": {"total": {"type": "number"}}}),
        ),
        ("WeCom Message", json!({"type": "object"})),
    ] {
        let (status, body) = server
            .post(
                "/api/v1/cdp/event-types",
                json!({"name": name, "schema": schema}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
}

fn ago(age: Age) -> String {
    (Utc::now() - age).to_rfc3339()
}

fn track(user: &str, event: &str, props: Value, at: &str) -> Value {
    json!({"type": "track", "userId": user, "event": event, "properties": props,
           "timestamp": at, "messageId": uuid::Uuid::now_v7().to_string()})
}

async fn send(tracker: &Api, events: Vec<Value>) {
    let (status, body) = tracker.post("/v1/batch", json!({ "batch": events })).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["rejected"].as_array().unwrap().is_empty(), "{body}");
    assert!(body["quarantined"].as_array().unwrap().is_empty(), "{body}");
}

/// A product view of `series` at an age, `messages` WeCom messages one `step` apart (the first
/// one `step` ago), and an order at an age.
fn journey(
    user: &str,
    (series, viewed): (&str, Age),
    messages: i32,
    step: Age,
    ordered: Option<Age>,
) -> Vec<Value> {
    let mut out = vec![track(
        user,
        "Product Viewed",
        json!({ "series": series }),
        &ago(viewed),
    )];
    for i in 1..=messages {
        out.push(track(user, "WeCom Message", json!({}), &ago(step * i)));
    }
    if let Some(age) = ordered {
        out.push(track(
            user,
            "Order Completed",
            json!({"total": 10}),
            &ago(age),
        ));
    }
    out
}

/// 近30天浏览过A系列商品且未下单,且企业微信互动频次≥5次
fn example() -> Value {
    json!({"all": [
        {"behavior": {"event": "Product Viewed", "where": [{"property": "series", "op": "eq", "value": "A"}],
                      "window": {"last": 30, "unit": "days"}, "count": {"op": "gte", "value": 1}}},
        {"behavior": {"event": "Order Completed", "window": {"last": 30, "unit": "days"},
                      "count": {"op": "eq", "value": 0}}},
        {"behavior": {"event": "WeCom Message", "window": {"last": 30, "unit": "days"},
                      "count": {"op": "gte", "value": 5}}}
    ]})
}

/// Creates a segment and waits for it to be live (its counters are filled and it is evaluated
/// in the background).
async fn segment(server: &TestServer, name: &str, condition: Value) -> Value {
    let (status, created) = server
        .post(
            "/api/v1/cdp/segments",
            json!({"name": name, "condition": condition, "tag": name}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["state"], "building");
    let id = created["id"].as_str().unwrap().to_string();
    for _ in 0..400 {
        let (_, seg) = server.get(&format!("/api/v1/cdp/segments/{id}")).await;
        if seg["state"] == "live" {
            return seg;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("segment {name} did not become live");
}

async fn member_users(server: &TestServer, id: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut query = vec![("limit", "7".to_string())];
        if let Some(c) = &cursor {
            query.push(("cursor", c.clone()));
        }
        let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, page) = server
            .call(Method::GET, &format!("/api/v1/cdp/segments/{id}/members"))
            .query(&query)
            .send()
            .await
            .pair();
        assert_eq!(status, 200, "{page}");
        for m in page["items"].as_array().unwrap() {
            out.insert(m["user_id"].as_str().unwrap_or("?").to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

/// Polls until the members are `want` (streaming is asynchronous after the acknowledgement).
async fn await_members(server: &TestServer, id: &str, want: &[&str]) {
    let want: BTreeSet<String> = want.iter().map(|s| s.to_string()).collect();
    let mut last = BTreeSet::new();
    for _ in 0..200 {
        last = member_users(server, id).await;
        if last == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("members are {last:?}, expected {want:?}");
}

async fn example_segment_follows_events_in_real_time(backend: Backend) {
    let server = TestServer::start(backend).await;
    register_types(&server).await;
    let t = tracker(&server).await;
    let mut events = Vec::new();
    // ana: viewed A, 5 WeCom messages, no order → member.
    events.extend(journey("ana", ("A", Age::days(3)), 5, Age::days(1), None));
    // bo: viewed A and 5 messages, but ordered → not a member.
    events.extend(journey(
        "bo",
        ("A", Age::days(2)),
        5,
        Age::days(1),
        Some(Age::days(1)),
    ));
    // cy: viewed series B only → not a member.
    events.extend(journey("cy", ("B", Age::days(1)), 6, Age::hours(1), None));
    // dee: viewed A 40 days ago (outside the window) → not a member.
    events.extend(journey("dee", ("A", Age::days(40)), 5, Age::days(1), None));
    // eve: four messages so far.
    events.extend(journey("eve", ("A", Age::days(5)), 4, Age::days(1), None));
    send(&t, events).await;

    // The live count while editing agrees with what the saved segment finds.
    let (status, preview) = server
        .post(
            "/api/v1/cdp/segments/preview",
            json!({"condition": example(), "sample": 5}),
        )
        .await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["count"], 1, "{preview}");
    assert_eq!(preview["sample"][0]["user_id"], "ana");

    let seg = segment(&server, "A系列高意向", example()).await;
    let id = seg["id"].as_str().unwrap();
    assert_eq!(seg["member_count"], 1);
    await_members(&server, id, &["ana"]).await;

    // eve's fifth message makes her enter; ana's order makes her leave — in real time.
    send(
        &t,
        vec![track(
            "eve",
            "WeCom Message",
            json!({}),
            &ago(Age::minutes(1)),
        )],
    )
    .await;
    await_members(&server, id, &["ana", "eve"]).await;
    send(
        &t,
        vec![track(
            "ana",
            "Order Completed",
            json!({"total": 99}),
            &ago(Age::seconds(5)),
        )],
    )
    .await;
    await_members(&server, id, &["eve"]).await;
    // A duplicate messageId changes nothing.
    let (_, seg) = server.get(&format!("/api/v1/cdp/segments/{id}")).await;
    assert_eq!(seg["member_count"], 1);

    // History: entries and exits with time and cause, newest first.
    let (status, history) = server
        .get(&format!("/api/v1/cdp/segments/{id}/changes"))
        .await;
    assert_eq!(status, 200, "{history}");
    let items = history["items"].as_array().unwrap();
    let summary: Vec<(String, String)> = items
        .iter()
        .map(|c| {
            (
                c["change"].as_str().unwrap().to_string(),
                c["cause"]["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("exited".to_string(), "event".to_string()),
            ("entered".to_string(), "event".to_string()),
            ("entered".to_string(), "evaluated".to_string()),
        ]
    );
    // Each change says who, as the member list does (here by user id: no contact, no email).
    let who: Vec<&str> = items
        .iter()
        .map(|c| {
            assert_eq!(c["customer"]["profile_id"], c["profile_id"], "{c}");
            c["customer"]["user_id"].as_str().unwrap_or_default()
        })
        .collect();
    assert_eq!(who, vec!["ana", "eve", "ana"], "{history}");

    // Each change is an outbox event for workflows.
    let topics = server
        .store
        .db
        .fetch_all(
            "SELECT topic FROM outbox WHERE object = 'segment' ORDER BY id",
            &[],
            &[rapport_core::sql::ColumnKind::Text],
        )
        .await
        .unwrap();
    let topics: Vec<String> = topics.iter().map(|r| r.text(0).unwrap()).collect();
    assert_eq!(
        topics,
        vec!["segment.entered", "segment.entered", "segment.exited"]
    );

    // CSV of the members.
    let resp = server
        .call(
            Method::GET,
            &format!("/api/v1/cdp/segments/{id}/members.csv"),
        )
        .send()
        .await;
    assert_eq!(resp.status, 200);
    let text = resp.text;
    assert!(text.starts_with("\u{feff}profile_id,contact_id"), "{text}");
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.contains(",eve,"), "{text}");

    // The full evaluation agrees with what streaming did.
    let (status, report) = server
        .post(&format!("/api/v1/cdp/segments/{id}/evaluate"), json!({}))
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (report["entered"].as_i64(), report["exited"].as_i64()),
        (Some(0), Some(0))
    );
    assert_eq!(report["members"], 1);
}

async fn windows_expire_without_new_events(backend: Backend) {
    let server = TestServer::start(backend).await;
    register_types(&server).await;
    let t = tracker(&server).await;
    // Active in the last minute: fay's message is 57 s old, so she leaves in about 3 s.
    send(
        &t,
        vec![
            track("fay", "WeCom Message", json!({}), &ago(Age::seconds(57))),
            track("gus", "WeCom Message", json!({}), &ago(Age::seconds(10))),
        ],
    )
    .await;
    let active = json!({"behavior": {"event": "WeCom Message", "window": {"last": 1, "unit": "minutes"},
                                     "count": {"op": "gte", "value": 1}}});
    let quiet = json!({"all": [{"trait": "plan", "op": "eq", "value": "pro"},
        {"behavior": {"event": "WeCom Message", "window": {"last": 1, "unit": "minutes"},
                      "count": {"op": "eq", "value": 0}}}]});
    let seg = segment(&server, "active", active).await;
    let id = seg["id"].as_str().unwrap();
    let mut identify = Vec::new();
    for u in ["fay", "gus"] {
        identify.push(
            json!({"type": "identify", "userId": u, "traits": {"plan": "pro"},
                             "messageId": uuid::Uuid::now_v7().to_string()}),
        );
    }
    send(&t, identify).await;
    let quiet_seg = segment(&server, "quiet pros", quiet).await;
    let quiet_id = quiet_seg["id"].as_str().unwrap();
    await_members(&server, id, &["fay", "gus"]).await;
    await_members(&server, quiet_id, &[]).await;
    // No new event: the window moves on and fay leaves one segment and enters the other.
    let mut left = false;
    for _ in 0..100 {
        if member_users(&server, id).await == BTreeSet::from(["gus".to_string()]) {
            left = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        left,
        "fay did not leave when her event aged out of the window"
    );
    await_members(&server, quiet_id, &["fay"]).await;
    let (_, history) = server
        .get(&format!("/api/v1/cdp/segments/{id}/changes"))
        .await;
    assert_eq!(history["items"][0]["change"], "exited");
    assert_eq!(history["items"][0]["cause"]["kind"], "window_expired");
}

async fn lineage_tags_versions_and_archive(backend: Backend) {
    let server = TestServer::start(backend).await;
    register_types(&server).await;
    let t = tracker(&server).await;
    let mut events = vec![
        json!({"type": "identify", "userId": "han", "traits": {"email": "han@example.com", "name": "韩梅梅"},
                                 "messageId": uuid::Uuid::now_v7().to_string()}),
    ];
    events.push(track(
        "han",
        "Product Viewed",
        json!({"series": "A", "sku": "A-100"}),
        &ago(Age::days(4)),
    ));
    for d in 0..6 {
        events.push(track(
            "han",
            "WeCom Message",
            json!({"n": d}),
            &ago(Age::hours(d * 10 + 1)),
        ));
    }
    send(&t, events).await;
    let seg = segment(&server, "高意向", example()).await;
    let id = seg["id"].as_str().unwrap().to_string();
    await_members(&server, &id, &["han"]).await;

    // The contact made by the CDP carries the segment's tag, and a manual one.
    let mut contact = None;
    for _ in 0..200 {
        let (_, list) = server.list("contact", &[]).await;
        if let Some(c) = list["data"].as_array().and_then(|d| d.first()) {
            contact = Some(c["id"].as_str().unwrap().to_string());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let contact = contact.expect("the identify made a contact");
    let (status, tags) = server
        .post(
            &format!("/api/v1/cdp/contacts/{contact}/tags"),
            json!({"tag": "VIP"}),
        )
        .await;
    assert_eq!(status, 200, "{tags}");
    let names: Vec<(&str, &str)> = tags
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["tag"].as_str().unwrap(), t["source"].as_str().unwrap()))
        .collect();
    assert_eq!(names, vec![("高意向", "segment"), ("VIP", "manual")]);
    let (status, tags) = server
        .delete(&format!("/api/v1/cdp/contacts/{contact}/tags/VIP"))
        .await;
    assert_eq!(status, 200, "{tags}");
    assert_eq!(tags.as_array().unwrap().len(), 1);
    server
        .post(
            &format!("/api/v1/cdp/contacts/{contact}/tags"),
            json!({"tag": "VIP"}),
        )
        .await;
    let (status, bad) = server
        .post(
            &format!("/api/v1/cdp/contacts/{contact}/tags"),
            json!({"tag": "a,b"}),
        )
        .await;
    assert_error(&(status, bad.clone()), 422, "invalid_tag");

    // A segment on the contact's fields follows edits made in the CRM.
    let ctos = segment(
        &server,
        "CTOs",
        json!({"all": [{"field": "contact.title", "op": "eq", "value": "CTO"},
                       {"behavior": {"event": "WeCom Message", "window": {"last": 7, "unit": "days"},
                                     "count": {"op": "gte", "value": 1}}}]}),
    )
    .await;
    let ctos = ctos["id"].as_str().unwrap().to_string();
    await_members(&server, &ctos, &[]).await;
    let (status, body) = server
        .patch(
            &format!("/api/v1/objects/contact/records/{contact}"),
            json!({"values": {"title": "CTO"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let mut entered = false;
    for _ in 0..150 {
        if member_users(&server, &ctos).await.contains("han") {
            entered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        entered,
        "the contact's new title did not bring han into the segment"
    );
    let (_, history) = server
        .get(&format!("/api/v1/cdp/segments/{ctos}/changes"))
        .await;
    assert_eq!(history["items"][0]["cause"]["kind"], "contact_changed");

    // Lineage: the version and the events that satisfied each test, in time order.
    let profile = tags_profile(&server, &id).await;
    let (status, lineage) = server
        .get(&format!("/api/v1/cdp/profiles/{profile}/lineage/{id}"))
        .await;
    assert_eq!(status, 200, "{lineage}");
    assert_eq!(lineage["member"], true);
    assert_eq!(lineage["version"], 1);
    let tests = lineage["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 3);
    assert_eq!(tests[0]["events"][0]["properties"]["sku"], "A-100");
    assert_eq!(tests[1]["count"], 0);
    assert_eq!(tests[2]["events"].as_array().unwrap().len(), 5);
    let chain: Vec<&str> = lineage["chain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(chain.len(), 6);
    assert_eq!(chain[0], "Product Viewed", "oldest first: {chain:?}");
    let times: Vec<&str> = lineage["chain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["ts"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);

    // A new condition is a new version; members are re-evaluated against it.
    let stricter = json!({"all": [example(), {"behavior": {"event": "WeCom Message",
        "window": {"last": 30, "unit": "days"}, "count": {"op": "gte", "value": 10}}}]});
    let (status, changed) = server
        .patch(
            &format!("/api/v1/cdp/segments/{id}"),
            json!({"condition": stricter}),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["version"], 2);
    let (status, report) = server
        .post(&format!("/api/v1/cdp/segments/{id}/evaluate"), json!({}))
        .await;
    assert_eq!(status, 200, "{report}");
    await_members(&server, &id, &[]).await;
    let (_, versions) = server
        .get(&format!("/api/v1/cdp/segments/{id}/versions"))
        .await;
    assert_eq!(versions.as_array().unwrap().len(), 2);
    let (status, lineage) = server
        .get(&format!("/api/v1/cdp/profiles/{profile}/lineage/{id}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (lineage["member"].as_bool(), lineage["version"].as_i64()),
        (Some(false), Some(2))
    );

    // Archiving: members leave, the segment says so, changes are refused.
    let (status, _) = server
        .patch(
            &format!("/api/v1/cdp/segments/{id}"),
            json!({"condition": example()}),
        )
        .await;
    assert_eq!(status, 200);
    server
        .post(&format!("/api/v1/cdp/segments/{id}/evaluate"), json!({}))
        .await;
    await_members(&server, &id, &["han"]).await;
    let (status, archived) = server.delete(&format!("/api/v1/cdp/segments/{id}")).await;
    assert_eq!(status, 200, "{archived}");
    assert_eq!(archived["state"], "archived");
    await_members(&server, &id, &[]).await;
    let (status, body) = server
        .patch(&format!("/api/v1/cdp/segments/{id}"), json!({"name": "x"}))
        .await;
    assert_error(&(status, body.clone()), 409, "segment_archived");

    // Another workspace sees none of it.
    let (_, _, other) = server.other_workspace("Other").await;
    let (status, _) = other.get(&format!("/api/v1/cdp/segments/{id}")).await;
    assert_eq!(status, 404);
    let (status, _) = other
        .get(&format!("/api/v1/cdp/profiles/{profile}/lineage/{id}"))
        .await;
    assert_eq!(status, 404);
}

async fn tags_profile(server: &TestServer, segment_id: &str) -> String {
    let (_, page) = server
        .get(&format!("/api/v1/cdp/segments/{segment_id}/members"))
        .await;
    page["items"][0]["profile_id"].as_str().unwrap().to_string()
}

async fn bad_definitions_get_clear_errors(backend: Backend) {
    let server = TestServer::start(backend).await;
    register_types(&server).await;
    let behavior = |b: Value| json!({"behavior": b});
    let cases = vec![
        (
            behavior(
                json!({"event": "Nope", "window": {"last": 1, "unit": "days"}, "count": {"op": "gte", "value": 1}}),
            ),
            "unknown_event_type",
            "/behavior/event",
        ),
        (
            behavior(
                json!({"event": "Product Viewed", "where": [{"property": "colour", "op": "eq", "value": "red"}],
                            "window": {"last": 1, "unit": "days"}, "count": {"op": "gte", "value": 1}}),
            ),
            "unknown_property",
            "/behavior/where/0/property",
        ),
        (
            behavior(
                json!({"event": "Product Viewed", "window": {"last": 0, "unit": "days"}, "count": {"op": "gte", "value": 1}}),
            ),
            "invalid_window",
            "/behavior/window/last",
        ),
        (
            behavior(
                json!({"event": "Product Viewed", "window": {"last": -3, "unit": "hours"}, "count": {"op": "gte", "value": 1}}),
            ),
            "invalid_window",
            "/behavior/window/last",
        ),
        (
            behavior(
                json!({"event": "Product Viewed", "window": {"from": "2026-06-18", "to": "2026-06-15"}, "count": {"op": "gte", "value": 1}}),
            ),
            "invalid_window",
            "/behavior/window/to",
        ),
        (
            behavior(
                json!({"event": "Product Viewed", "window": {"last": 1, "unit": "days"}, "count": {"op": "gte", "value": 100000}}),
            ),
            "invalid_count",
            "/behavior/count/value",
        ),
        (
            behavior(
                json!({"event": "Product Viewed", "window": {"last": 1, "unit": "days"}, "count": {"op": "gte", "value": 0}}),
            ),
            "invalid_count",
            "/behavior/count/value",
        ),
        (json!({"all": []}), "segment_matches_everything", "/"),
        (
            json!({"not": {"any": []}}),
            "segment_matches_everything",
            "/",
        ),
        (
            json!({"field": "contact.no_such_field", "op": "eq", "value": "x"}),
            "invalid_condition",
            "/field",
        ),
        (
            json!({"field": "email", "op": "eq", "value": "x"}),
            "invalid_condition",
            "/field",
        ),
        (
            json!({"trait": "plan", "op": "between", "value": 1}),
            "invalid_condition",
            "/op",
        ),
        (
            json!({"behavior": {"event": "Product Viewed", "window": {"last": 1, "unit": "weeks"}, "count": {"op": "gte", "value": 1}}}),
            "invalid_condition",
            "/behavior/window/unit",
        ),
    ];
    for (condition, code, path) in cases {
        let (status, body) = server
            .post(
                "/api/v1/cdp/segments",
                json!({"name": "x", "condition": condition.clone()}),
            )
            .await;
        assert_error(&(status, body.clone()), 400, code);
        assert_eq!(body["details"]["path"], path, "{condition} → {body}");
        // The preview refuses it the same way.
        let (status, body) = server
            .post(
                "/api/v1/cdp/segments/preview",
                json!({"condition": condition}),
            )
            .await;
        assert_error(&(status, body.clone()), 400, code);
    }
    // Too deep, and hostile unicode in names and values, are refused or kept intact.
    let mut deep = json!({"trait": "plan", "op": "eq", "value": "x"});
    for _ in 0..20 {
        deep = json!({"not": deep});
    }
    let (status, body) = server
        .post(
            "/api/v1/cdp/segments",
            json!({"name": "deep", "condition": deep}),
        )
        .await;
    assert_error(&(status, body.clone()), 400, "invalid_condition");
    let (status, body) = server
        .post(
            "/api/v1/cdp/segments",
            json!({"name": "  ", "condition": {"trait": "plan", "op": "eq", "value": "x"}}),
        )
        .await;
    assert_error(&(status, body.clone()), 422, "invalid_name");
    let (status, body) = server
        .post(
            "/api/v1/cdp/segments",
            json!({"name": "x", "condition": {"trait": "城市", "op": "eq", "value": "上海\u{0}"}}),
        )
        .await;
    assert_error(&(status, body.clone()), 400, "invalid_condition");
    assert_eq!(body["details"]["path"], "/value");
    let (status, body) = server
        .post(
            "/api/v1/cdp/segments",
            json!({"name": "名\u{202e}字", "condition": {"trait": "城市", "op": "eq", "value": "上海"}}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["name"], "名\u{202e}字");
    // Non-administrators may look but not define.
    let (_, viewer) = server.user_with_role("sales").await;
    let (status, _) = viewer
        .post(
            "/api/v1/cdp/segments",
            json!({"name": "x", "condition": example()}),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = viewer.get("/api/v1/cdp/segments").await;
    assert_eq!(status, 200);
    let (status, body) = server
        .call(Method::GET, "/api/v1/cdp/segments/nope/members")
        .query(&[("limit", "5000")])
        .send()
        .await
        .pair();
    assert_error(&(status, body.clone()), 400, "invalid_limit");
}

/// A small model of the rules, computed from the events the test sent.
struct Model {
    /// user → (event, series, ts ms)
    events: BTreeMap<String, Vec<(String, String, i64)>>,
}

#[derive(Clone, Debug)]
struct Rule {
    event: &'static str,
    series: Option<&'static str>,
    days: i64,
    op: &'static str,
    value: u32,
}

impl Rule {
    fn json(&self) -> Value {
        let mut b = json!({"event": self.event, "window": {"last": self.days, "unit": "days"},
                           "count": {"op": self.op, "value": self.value}});
        if let Some(s) = self.series {
            b["where"] = json!([{"property": "series", "op": "eq", "value": s}]);
        }
        json!({ "behavior": b })
    }

    fn holds(&self, events: &[(String, String, i64)], now: i64) -> bool {
        let n = events
            .iter()
            .filter(|(e, s, ts)| {
                e == self.event
                    && self.series.is_none_or(|want| s == want)
                    && *ts > now - self.days * 86_400_000
            })
            .count() as u32;
        match self.op {
            "gte" => n >= self.value,
            "lte" => n <= self.value,
            "eq" => n == self.value,
            _ => n != self.value,
        }
    }
}

async fn streaming_agrees_with_a_model_and_full_evaluation(backend: Backend) {
    for seed in [0x5e9_2026, 7, 1_000_003] {
        random_stream(backend, seed).await;
    }
}

/// Random rules, random events (some anonymous, linked later), random batches: after the
/// stream, each segment's members are exactly the model's, and a full re-evaluation changes
/// nothing.
async fn random_stream(backend: Backend, seed: u64) {
    let server = TestServer::start(backend).await;
    register_types(&server).await;
    let t = tracker(&server).await;
    let mut rng = StdRng::seed_from_u64(seed);
    let kinds = ["Product Viewed", "Order Completed", "WeCom Message"];
    let mut rules = Vec::new();
    for _ in 0..4 {
        let event = kinds[rng.gen_range(0..3)];
        rules.push(Rule {
            event,
            series: (event == "Product Viewed" && rng.gen_bool(0.5)).then_some("A"),
            days: rng.gen_range(1..8),
            op: ["gte", "lte", "eq", "ne"][rng.gen_range(0..4)],
            value: rng.gen_range(0..4),
        });
    }
    // (r0 AND r1) OR NOT r2 OR (r3 AND r0), written as segments of two and three rules too.
    let conditions = [
        json!({"all": [rules[0].json(), rules[1].json()]}),
        json!({"any": [{"all": [rules[0].json(), rules[1].json()]}, {"not": rules[2].json()}]}),
        json!({"all": [rules[3].json(), {"not": rules[1].json()}, rules[0].json()]}),
    ];
    let model_of = |m: &Model, now: i64, which: usize| -> BTreeSet<String> {
        m.events
            .iter()
            .filter(|(_, ev)| {
                let r = |i: usize| rules[i].holds(ev, now);
                match which {
                    0 => r(0) && r(1),
                    1 => (r(0) && r(1)) || !r(2),
                    _ => r(3) && !r(1) && r(0),
                }
            })
            .map(|(u, _)| u.clone())
            .collect()
    };
    // Segments exist before the stream (so every event flows through streaming), on an
    // initial set of events (so the first build reads stored events too).
    let mut model = Model {
        events: BTreeMap::new(),
    };
    let users: Vec<String> = (0..25).map(|i| format!("u{i:02}")).collect();
    let random_events = |rng: &mut StdRng, model: &mut Model, n: usize| -> Vec<Value> {
        let now = Utc::now();
        (0..n)
            .map(|_| {
                let user = users[rng.gen_range(0..users.len())].clone();
                let event = kinds[rng.gen_range(0..3)];
                let series = ["A", "B"][rng.gen_range(0..2)];
                // Whole hours plus 30 minutes ago: never near a window's edge during the test.
                let at = now - Age::hours(rng.gen_range(0..24 * 9)) - Age::minutes(30);
                model.events.entry(user.clone()).or_default().push((
                    event.to_string(),
                    series.to_string(),
                    at.timestamp_millis(),
                ));
                // Some events come from the anonymous id first and are linked by an identify.
                if rng.gen_bool(0.2) {
                    json!({"type": "track", "anonymousId": format!("anon-{user}"), "event": event,
                           "properties": {"series": series}, "timestamp": at.to_rfc3339(),
                           "messageId": uuid::Uuid::now_v7().to_string()})
                } else {
                    track(&user, event, json!({"series": series}), &at.to_rfc3339())
                }
            })
            .collect()
    };
    let first = random_events(&mut rng, &mut model, 150);
    send(&t, first).await;
    let mut ids = Vec::new();
    for (i, c) in conditions.iter().enumerate() {
        ids.push(
            segment(&server, &format!("random {i}"), c.clone()).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    for round in 0..6 {
        let n = rng.gen_range(1..60);
        let mut batch = random_events(&mut rng, &mut model, n);
        if round % 2 == 1 {
            for u in &users {
                if rng.gen_bool(0.3) {
                    batch.push(
                        json!({"type": "identify", "userId": u, "anonymousId": format!("anon-{u}"),
                                      "messageId": uuid::Uuid::now_v7().to_string()}),
                    );
                }
            }
        }
        send(&t, batch).await;
    }
    // Link every remaining anonymous history, as the model assumes.
    let links: Vec<Value> = users
        .iter()
        .map(|u| {
            json!({"type": "identify", "userId": u, "anonymousId": format!("anon-{u}"),
                        "messageId": uuid::Uuid::now_v7().to_string()})
        })
        .collect();
    send(&t, links).await;
    let now = Utc::now().timestamp_millis();
    for (i, id) in ids.iter().enumerate() {
        let want = model_of(&model, now, i);
        let want: Vec<&str> = want.iter().map(String::as_str).collect();
        await_members(&server, id, &want).await;
        // A full re-evaluation finds nothing to change.
        let (status, report) = server
            .post(&format!("/api/v1/cdp/segments/{id}/evaluate"), json!({}))
            .await;
        assert_eq!(status, 200, "{report}");
        assert_eq!(
            (report["entered"].as_i64(), report["exited"].as_i64()),
            (Some(0), Some(0)),
            "segment {i} ({}) disagrees: {report}",
            conditions[i]
        );
        assert_eq!(report["members"].as_u64(), Some(want.len() as u64));
    }
}

/// Four customers of the example segment's journeys (ana and fay members).
async fn example_with_members(server: &TestServer) -> String {
    register_types(server).await;
    let t = tracker(server).await;
    let mut events = Vec::new();
    events.extend(journey("ana", ("A", Age::days(3)), 5, Age::days(1), None));
    events.extend(journey(
        "bo",
        ("A", Age::days(2)),
        5,
        Age::days(1),
        Some(Age::days(1)),
    ));
    events.extend(journey("cy", ("B", Age::days(1)), 6, Age::hours(1), None));
    events.extend(journey("fay", ("A", Age::days(2)), 7, Age::hours(5), None));
    send(&t, events).await;
    let seg = segment(server, "A系列高意向", example()).await;
    let id = seg["id"].as_str().unwrap().to_string();
    await_members(server, &id, &["ana", "fay"]).await;
    id
}

/// Breaks every counter: totals tripled, the newest times forgotten (so nobody has a WeCom
/// message in the window any more).
async fn corrupt_counters(server: &TestServer) {
    server
        .store
        .db
        .execute(
            "UPDATE cdp_behavior_counts SET total = total * 3, recent = '', latest = 0",
            &[],
        )
        .await
        .unwrap();
}

/// (total, newest time) per counter row, for comparing before and after a repair.
async fn counter_rows(server: &TestServer) -> BTreeMap<(String, String), (i64, String)> {
    use rapport_core::sql::ColumnKind;
    let rows = server
        .store
        .db
        .fetch_all(
            "SELECT k.signature, c.profile_id, c.total, c.recent FROM cdp_behavior_counts c \
             JOIN cdp_behavior_keys k ON k.id = c.key_id",
            &[],
            &[
                ColumnKind::Text,
                ColumnKind::Text,
                ColumnKind::Int,
                ColumnKind::Text,
            ],
        )
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            (
                (r.text(0).unwrap(), r.text(1).unwrap()),
                (r.int(2).unwrap(), r.text(3).unwrap()),
            )
        })
        .collect()
}

async fn await_live(server: &TestServer, id: &str) {
    for _ in 0..400 {
        let (_, seg) = server.get(&format!("/api/v1/cdp/segments/{id}")).await;
        if seg["state"] == "live" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("segment {id} did not become live again");
}

async fn recount_repairs_wrong_counters(backend: Backend) {
    let server = TestServer::start(backend).await;
    let id = example_with_members(&server).await;
    let good = counter_rows(&server).await;
    assert!(!good.is_empty());
    corrupt_counters(&server).await;
    assert_ne!(counter_rows(&server).await, good);
    let (_, sales) = server.user_with_role("sales").await;
    let (status, _) = sales
        .post(&format!("/api/v1/cdp/segments/{id}/recount"), json!({}))
        .await;
    assert_eq!(status, 403);
    let (status, body) = server
        .post(&format!("/api/v1/cdp/segments/{id}/recount"), json!({}))
        .await;
    assert_eq!(status, 202, "{body}");
    await_live(&server, &id).await;
    assert_eq!(counter_rows(&server).await, good);
    await_members(&server, &id, &["ana", "fay"]).await;
    // Nothing left to change; the members never left.
    let (_, report) = server
        .post(&format!("/api/v1/cdp/segments/{id}/evaluate"), json!({}))
        .await;
    assert_eq!(
        (report["entered"].as_i64(), report["exited"].as_i64()),
        (Some(0), Some(0))
    );
    let (_, changes) = server
        .get(&format!("/api/v1/cdp/segments/{id}/changes"))
        .await;
    assert!(
        changes["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["change"] == "entered"),
        "{changes}"
    );
    let missing = server
        .post("/api/v1/cdp/segments/nope/recount", json!({}))
        .await;
    assert_error(&missing, 404, "not_found");
}

/// The upgrade that fixed double counting resets every key and rebuilds every segment (the
/// repair statements of migration 0005, run here on a database whose counters are wrong); the
/// engine resumes the rebuild when the server starts.
async fn upgrade_repair_recounts_every_key(backend: Backend) {
    let mut server = TestServer::start(backend).await;
    let id = example_with_members(&server).await;
    let good = counter_rows(&server).await;
    corrupt_counters(&server).await;
    let migration = match backend {
        Backend::Sqlite => {
            include_str!("../../../rapport-store/migrations/sqlite/0005_exact_counters.sql")
        }
        Backend::Postgres => {
            include_str!("../../../rapport-store/migrations/postgres/0005_exact_counters.sql")
        }
    };
    let repair = &migration[migration.find("DELETE FROM").unwrap()..];
    // Nothing is sent meanwhile, as during an upgrade; the engine resumes the rebuild when the
    // server starts again.
    let db = server.store.db.clone();
    for statement in repair.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let sql: String = statement
            .lines()
            .filter(|l| !l.trim_start().starts_with("--"))
            .collect::<Vec<_>>()
            .join("\n");
        db.execute(&sql, &[]).await.unwrap();
    }
    server.restart().await;
    await_live(&server, &id).await;
    assert_eq!(counter_rows(&server).await, good);
    await_members(&server, &id, &["ana", "fay"]).await;
}
