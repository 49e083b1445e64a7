//! The customer data platform over HTTP: Segment-compatible tracking (auth, gzip, limits,
//! per-event rejections, de-duplication, clock-skew correction, rate limits), the schema
//! registry with quarantine and replay, the identity graph (merges, the guard, unmerge),
//! profile ↔ contact sync, the journey timeline and data health.

use crate::harness::{Api, Auth, Backend, TestServer, METRICS_TOKEN};
use reqwest::Method;
use serde_json::{json, Value};
use std::io::Write;
use std::time::Duration;

crate::both_backends!(
    tracking_stores_dedups_and_authenticates,
    bad_input_is_rejected_per_event_or_per_request,
    clock_skew_is_corrected,
    rate_limit_answers_429_with_retry_after,
    registry_quarantines_rejects_and_replays,
    identity_links_merges_guards_and_unmerges,
    shared_identifiers_cannot_fold_customers,
    profiles_and_contacts_stay_in_sync,
    journey_merges_events_and_crm_in_time_order,
    health_reports_counts_delay_and_fill_rate,
    admins_configure_identifier_types_and_mappings,
);

pub(crate) fn basic(write_key: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = format!("{write_key}:").into_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    format!("Basic {out}")
}

pub(crate) struct Source {
    pub(crate) id: String,
    pub(crate) key: String,
    pub(crate) tracker: Api,
}

/// A source; a server source unless `body` says otherwise (these tests are about the identity
/// graph and the sync, which client sources may use only partly; `security.rs` tests those).
pub(crate) async fn source(server: &TestServer, mut body: Value) -> Source {
    if body.get("trust").is_none() {
        body["trust"] = json!("server");
    }
    let (status, s) = server.post("/api/v1/cdp/sources", body).await;
    assert_eq!(status, 201, "{s}");
    let key = s["write_key"].as_str().unwrap().to_string();
    Source {
        id: s["id"].as_str().unwrap().to_string(),
        tracker: server.as_auth(Auth::Header(basic(&key))),
        key,
    }
}

pub(crate) async fn register(server: &TestServer, name: &str, schema: Value) {
    let (status, body) = server
        .post(
            "/api/v1/cdp/event-types",
            json!({"name": name, "schema": schema}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

pub(crate) async fn batch(src: &Source, events: Value) -> Value {
    let (status, body) = src
        .tracker
        .post("/v1/batch", json!({ "batch": events }))
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

pub(crate) async fn events(server: &TestServer, source_id: &str) -> Vec<Value> {
    let (status, body) = server
        .call(Method::GET, "/api/v1/cdp/events")
        .query(&[("source_id", source_id), ("limit", "1000")])
        .send()
        .await
        .pair();
    assert_eq!(status, 200, "{body}");
    body.as_array().unwrap().clone()
}

fn message_ids(events: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = events
        .iter()
        .map(|e| e["message_id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

pub(crate) async fn profile_of(server: &TestServer, id_type: &str, value: &str) -> Value {
    let (status, body) = server
        .call(Method::GET, "/api/v1/cdp/profiles")
        .query(&[("identifier_type", id_type), ("identifier", value)])
        .send()
        .await
        .pair();
    assert_eq!(status, 200, "{id_type}={value}: {body}");
    body["profiles"][0].clone()
}

/// Polls `check` for up to 15 s (background work: the CRM sync).
pub(crate) async fn eventually<F, Fut>(what: &str, mut check: F) -> Value
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<Value>>,
{
    for _ in 0..150 {
        if let Some(v) = check().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

async fn tracking_stores_dedups_and_authenticates(backend: Backend) {
    let server = TestServer::start(backend).await;
    let src = source(&server, json!({"name": "App 应用", "kind": "app"})).await;
    register(&server, "Order Completed", json!({"type": "object"})).await;
    let sent = json!([
        {"type": "identify", "userId": "u1", "anonymousId": "a1", "traits": {"email": "ann@example.com"}, "messageId": "m1"},
        {"type": "track", "userId": "u1", "event": "Order Completed", "properties": {"total": 99.5, "城市": "上海"}, "messageId": "m2"},
        {"type": "page", "anonymousId": "a1", "name": "Home", "messageId": "m3"},
        {"type": "screen", "userId": "u1", "name": "Cart", "messageId": "m4"},
    ]);
    let report = batch(&src, sent.clone()).await;
    assert_eq!(report["accepted"], 4, "{report}");
    assert_eq!(report["duplicates"], 0);
    // The same messageIds again (a client retry): nothing new is stored.
    let again = batch(&src, sent).await;
    assert_eq!(again["accepted"], 0, "{again}");
    assert_eq!(again["duplicates"], 4);
    let stored = events(&server, &src.id).await;
    assert_eq!(message_ids(&stored), vec!["m1", "m2", "m3", "m4"]);
    let track = stored.iter().find(|e| e["message_id"] == "m2").unwrap();
    assert_eq!(track["type"], "track");
    assert_eq!(track["name"], "Order Completed");
    assert_eq!(track["body"]["properties"]["城市"], "上海");
    assert!(track["body"]["receivedAt"].is_string());

    // Single calls, the write key in the body instead of the header.
    let anonymous = server.as_auth(Auth::None);
    let (status, body) = anonymous
        .post(
            "/v1/track",
            json!({"writeKey": src.key, "userId": "u1", "event": "Order Completed", "messageId": "m5"}),
        )
        .await;
    assert_eq!(
        (status, body["accepted"].clone()),
        (200, json!(1)),
        "{body}"
    );
    // Gzip with Basic auth (as RudderStack's SDK sends).
    let gz = gzip(
        json!({"batch": [{"type": "track", "userId": "u2", "event": "Order Completed", "messageId": "m6"}]})
            .to_string()
            .as_bytes(),
    );
    let (status, body) = src
        .tracker
        .call(Method::POST, "/v1/batch")
        .header("content-encoding", "gzip")
        .raw(gz, Some("application/json"))
        .send()
        .await
        .pair();
    assert_eq!(
        (status, body["accepted"].clone()),
        (200, json!(1)),
        "{body}"
    );

    // Keys: missing, unknown, conflicting, archived.
    let (status, body) = anonymous
        .post("/v1/track", json!({"userId": "u", "event": "x"}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("missing_write_key"))
    );
    let (status, body) = server
        .as_auth(Auth::Header(basic("wk_nope")))
        .post("/v1/track", json!({"userId": "u", "event": "x"}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("invalid_write_key"))
    );
    let (status, body) = src
        .tracker
        .post(
            "/v1/track",
            json!({"writeKey": "wk_other", "userId": "u", "event": "x"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("write_key_mismatch"))
    );
    let (status, _) = server
        .patch(
            &format!("/api/v1/cdp/sources/{}", src.id),
            json!({"archived": true}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = src
        .tracker
        .post(
            "/v1/track",
            json!({"userId": "u", "event": "Order Completed"}),
        )
        .await;
    assert_eq!(status, 401);
    // Unknown call and CORS preflight.
    let (status, _) = src.tracker.post("/v1/nonsense", json!({})).await;
    assert_eq!(status, 404);
    let r = anonymous.call(Method::OPTIONS, "/v1/batch").send().await;
    assert_eq!(r.status, 204);
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    // Only admins manage sources.
    let (_, sales) = server.user_with_role("sales").await;
    let (status, _) = sales.get("/api/v1/cdp/sources").await;
    assert_eq!(status, 403);
}

async fn bad_input_is_rejected_per_event_or_per_request(backend: Backend) {
    let server = TestServer::start(backend).await;
    let src = source(&server, json!({"name": "web", "kind": "web"})).await;
    register(&server, "Clicked", json!({"type": "object"})).await;
    let ok =
        |id: &str| json!({"type": "track", "userId": "u", "event": "Clicked", "messageId": id});
    let deep = format!("{}1{}", "[".repeat(3000), "]".repeat(3000));
    let far_future = (chrono::Utc::now() + chrono::Duration::days(400)).to_rfc3339();
    // One batch with good events between bad ones: neighbours are never lost.
    let mut text = json!({"batch": [
        ok("ok1"),
        {"type": "track", "event": "Clicked", "messageId": "no-id"},
        {"type": "track", "userId": "u", "messageId": "no-event"},
        {"type": "track", "userId": "u", "event": "Clicked", "messageId": "huge", "properties": {"blob": "x".repeat(40_000)}},
        {"type": "track", "userId": "u", "event": "Clicked", "messageId": "future", "timestamp": far_future},
        {"type": "track", "userId": "u", "event": "Clicked", "messageId": "old", "timestamp": "1969-07-20T20:17:00Z"},
        {"type": "bogus", "userId": "u", "messageId": "bogus"},
        {"type": "group", "userId": "u", "messageId": "no-group"},
        ok("ok2"),
    ]})
    .to_string();
    // A 3,000-deep value inside one event.
    text = text.replacen(
        "]}",
        &format!(r#", {{"type":"track","userId":"u","event":"Clicked","messageId":"deep","properties":{{"x":{deep}}}}}]}}"#),
        1,
    );
    let (status, report) = src
        .tracker
        .call(Method::POST, "/v1/batch")
        .raw(text, Some("application/json"))
        .send()
        .await
        .pair();
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["accepted"], 2, "{report}");
    let codes: Vec<&str> = report["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    for code in [
        "missing_identity",
        "missing_event",
        "event_too_large",
        "timestamp_in_future",
        "timestamp_too_old",
        "invalid_type",
        "missing_group_id",
        "nesting_too_deep",
    ] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    // Invalid UTF-8 inside one event of a batch.
    let mut raw = br#"{"batch": [{"type":"track","userId":"u","event":"Clicked","messageId":"utf-ok"}, {"type":"track","userId":"u","event":"Clicked","messageId":"utf-bad","properties":{"x":""#.to_vec();
    raw.extend_from_slice(&[0xc3, 0x28, 0xff]);
    raw.extend_from_slice(br#""}}]}"#);
    let (status, report) = src
        .tracker
        .call(Method::POST, "/v1/batch")
        .raw(raw, Some("application/json"))
        .send()
        .await
        .pair();
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["accepted"], 1);
    assert_eq!(report["rejected"][0]["code"], "invalid_utf8");
    assert_eq!(
        message_ids(&events(&server, &src.id).await),
        vec!["ok1", "ok2", "utf-ok"]
    );

    // Whole requests that cannot be read: 400 with a code, nothing stored.
    let post_raw = |body: Vec<u8>, encoding: Option<&'static str>| {
        let mut call = src.tracker.call(Method::POST, "/v1/batch");
        if let Some(e) = encoding {
            call = call.header("content-encoding", e);
        }
        call.raw(body, Some("application/json")).send()
    };
    let (status, body) = post_raw(b"{\"batch\": [".to_vec(), None).await.pair();
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_json")));
    let zipped = gzip(json!({"batch": [ok("gz")]}).to_string().as_bytes());
    let (status, body) = post_raw(zipped[..zipped.len() / 2].to_vec(), Some("gzip"))
        .await
        .pair();
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_gzip")));
    let big: Vec<Value> = (0..30).map(|i| json!({"type": "track", "userId": "u", "event": "Clicked", "messageId": format!("big{i}"), "properties": {"b": "y".repeat(20_000)}})).collect();
    let (status, body) = post_raw(json!({ "batch": big }).to_string().into_bytes(), None)
        .await
        .pair();
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("request_too_large"))
    );
    // Beyond the server's own body limit (8 MB) it is still Segment's 400, in JSON.
    let (status, body) = post_raw(vec![b' '; 9_000_000], None).await.pair();
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("request_too_large"))
    );
    let bomb = gzip(&vec![b' '; 3_000_000]);
    let (status, body) = post_raw(bomb, Some("gzip")).await.pair();
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("request_too_large"))
    );
    let many: Vec<Value> = (0..2_501).map(|i| ok(&format!("n{i}"))).collect();
    let (status, body) = post_raw(json!({ "batch": many }).to_string().into_bytes(), None)
        .await
        .pair();
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("batch_too_large"))
    );
    assert_eq!(events(&server, &src.id).await.len(), 3);
    // A full batch of 2,500 is fine.
    let full: Vec<Value> = (0..2_500).map(|i| ok(&format!("f{i}"))).collect();
    assert_eq!(batch(&src, json!(full)).await["accepted"], 2_500);
}

async fn clock_skew_is_corrected(backend: Backend) {
    let server = TestServer::start(backend).await;
    let src = source(&server, json!({"name": "pos", "kind": "pos"})).await;
    register(&server, "Paid", json!({"type": "object"})).await;
    // The device's clock runs 10 minutes fast; the event happened 5 s before it was sent.
    let now = chrono::Utc::now();
    let sent_at = now + chrono::Duration::minutes(10);
    let happened = sent_at - chrono::Duration::seconds(5);
    let (status, body) = src
        .tracker
        .post(
            "/v1/batch",
            json!({"sentAt": sent_at.to_rfc3339(), "batch": [{"type": "track", "userId": "u", "event": "Paid", "messageId": "skewed", "timestamp": happened.to_rfc3339()}]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let stored = &events(&server, &src.id).await[0];
    let ts: chrono::DateTime<chrono::Utc> = stored["timestamp"].as_str().unwrap().parse().unwrap();
    let expected = now - chrono::Duration::seconds(5);
    assert!(
        (ts - expected).num_milliseconds().abs() < 3_000,
        "corrected {ts}, expected about {expected}"
    );
    // The client's own time is kept as originalTimestamp, the corrected one as timestamp.
    assert_eq!(
        stored["body"]["originalTimestamp"],
        happened.to_rfc3339().as_str()
    );
    assert_eq!(
        stored["body"]["sentAt"].as_str().map(|t| !t.is_empty()),
        Some(true)
    );
}

async fn rate_limit_answers_429_with_retry_after(backend: Backend) {
    let server = TestServer::start(backend).await;
    let src = source(
        &server,
        json!({"name": "iot", "kind": "iot", "rate_limit": 10}),
    )
    .await;
    register(&server, "Beat", json!({"type": "object"})).await;
    let events_of = |n: usize, tag: &str| -> Value {
        json!((0..n).map(|i| json!({"type": "track", "anonymousId": "dev1", "event": "Beat", "messageId": format!("{tag}{i}")})).collect::<Vec<_>>())
    };
    assert_eq!(batch(&src, events_of(10, "a")).await["accepted"], 10);
    let r = src
        .tracker
        .call(Method::POST, "/v1/batch")
        .json(&json!({"batch": events_of(10, "b")}))
        .send()
        .await;
    assert_eq!(r.status, 429);
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    assert_eq!(r.body["code"], "rate_limited");
    // Nothing of the refused request was stored; after waiting it goes through.
    assert_eq!(events(&server, &src.id).await.len(), 10);
    tokio::time::sleep(Duration::from_secs(retry)).await;
    assert_eq!(batch(&src, events_of(10, "b")).await["accepted"], 10);
    // Lifting the limit takes effect at once on this node.
    let (status, _) = server
        .patch(
            &format!("/api/v1/cdp/sources/{}", src.id),
            json!({"rate_limit": null}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(batch(&src, events_of(50, "c")).await["accepted"], 50);
}

async fn registry_quarantines_rejects_and_replays(backend: Backend) {
    let server = TestServer::start(backend).await;
    let quarantine = source(&server, json!({"name": "app", "kind": "app"})).await;
    let strict = source(
        &server,
        json!({"name": "ads", "kind": "ads", "schema_policy": "reject"}),
    )
    .await;
    register(
        &server,
        "Product Viewed",
        json!({"type": "object", "properties": {"series": {"type": "string", "enum": ["A", "B"]}, "price": {"type": "number", "minimum": 0}}, "required": ["series"], "additionalProperties": false}),
    )
    .await;
    let report = batch(
        &quarantine,
        json!([
            {"type": "track", "userId": "u", "event": "Product Viewed", "properties": {"series": "A", "price": 10}, "messageId": "fits"},
            {"type": "track", "userId": "u", "event": "Product Viewed", "properties": {"series": "C"}, "messageId": "bad-enum"},
            {"type": "track", "userId": "u", "event": "Product Viewed", "properties": {"series": "A", "color": "red"}, "messageId": "new-prop"},
            {"type": "track", "userId": "u", "event": "Coupon Used", "properties": {"code": "618", "amount": 20}, "messageId": "new-type"},
        ]),
    )
    .await;
    assert_eq!(report["accepted"], 1, "{report}");
    let quarantined: Vec<(&str, &str)> = report["quarantined"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            (
                q["messageId"].as_str().unwrap(),
                q["code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        quarantined,
        vec![
            ("bad-enum", "schema_violation"),
            ("new-prop", "unregistered_property"),
            ("new-type", "unregistered_event_type")
        ]
    );
    // The reject policy drops (and counts) instead of holding for replay.
    let report = batch(
        &strict,
        json!([{"type": "track", "userId": "u", "event": "Coupon Used", "messageId": "strict-1"}]),
    )
    .await;
    assert_eq!(report["rejected"][0]["code"], "unregistered_event_type");
    let (_, held) = server
        .call(Method::GET, "/api/v1/cdp/held")
        .query(&[("source_id", strict.id.as_str())])
        .send()
        .await
        .pair();
    assert_eq!(held[0]["disposition"], "rejected");

    // Admins see what arrived unregistered, with the schema that would register it.
    let (status, observed) = server.get("/api/v1/cdp/event-types/observed").await;
    assert_eq!(status, 200, "{observed}");
    let coupon = observed
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "Coupon Used")
        .unwrap_or_else(|| panic!("{observed}"));
    assert_eq!(coupon["registered"], false);
    assert_eq!(
        coupon["proposed_schema"]["properties"]["amount"]["type"],
        "integer"
    );
    let viewed = observed
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "Product Viewed")
        .unwrap();
    assert_eq!(viewed["unregistered_properties"], json!(["color"]));
    // Display names in both languages; one language given serves both. Bad ones are refused
    // and change nothing.
    let (_, before) = server.get("/api/v1/cdp/event-types").await;
    let product = |types: &Value| {
        types
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "Product Viewed")
            .cloned()
            .unwrap_or_else(|| panic!("{types}"))
    };
    let schema = product(&before)["schema"].clone();
    for (labels, what) in [
        (json!({"label": {"zh": " ", "en": ""}}), "a blank label"),
        (
            json!({"label": {"zh": "长".repeat(201)}}),
            "an overlong label",
        ),
        (
            json!({"property_labels": {"": {"zh": "空"}}}),
            "an unnamed property",
        ),
        (
            json!({"property_labels": (0..501).map(|i| (format!("p{i}"), json!({"zh": "属性"}))).collect::<serde_json::Map<_, _>>()}),
            "too many properties",
        ),
    ] {
        let mut body = json!({"name": "Product Viewed", "schema": schema});
        body.as_object_mut()
            .unwrap()
            .extend(labels.as_object().unwrap().clone());
        let (status, got) = server.post("/api/v1/cdp/event-types", body).await;
        assert_eq!(
            (status, got["code"].as_str()),
            (422, Some("invalid_label")),
            "{what}: {got}"
        );
    }
    let (_, after) = server.get("/api/v1/cdp/event-types").await;
    assert_eq!(product(&after), product(&before));
    let (status, labelled) = server
        .post(
            "/api/v1/cdp/event-types",
            json!({"name": "Product Viewed", "schema": schema,
                   "label": {"zh": "浏览商品", "en": "Product viewed"},
                   "property_labels": {"series": {"zh": "系列"}, "color": {"zh": "颜色", "en": "Colour"}}}),
        )
        .await;
    assert_eq!(status, 200, "{labelled}");
    assert_eq!(
        labelled["label"],
        json!({"zh": "浏览商品", "en": "Product viewed"})
    );
    assert_eq!(
        labelled["property_labels"]["series"],
        json!({"zh": "系列", "en": "系列"})
    );
    // Register both in one step each (display names are kept), then replay the quarantine.
    for name in ["Coupon Used", "Product Viewed"] {
        let (status, body) = server
            .post(
                "/api/v1/cdp/event-types/observed/register",
                json!({"name": name}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let (_, registered) = server.get("/api/v1/cdp/event-types").await;
    assert_eq!(product(&registered)["label"]["zh"], "浏览商品");
    assert_eq!(
        product(&registered)["property_labels"]["color"]["en"],
        "Colour"
    );
    let (status, replay) = server
        .post("/api/v1/cdp/held/replay", json!({"name": "Coupon Used"}))
        .await;
    assert_eq!(status, 200, "{replay}");
    assert_eq!(replay["replayed"], 1, "{replay}");
    let (_, replay) = server
        .post("/api/v1/cdp/held/replay", json!({"name": "Product Viewed"}))
        .await;
    // The new property is now declared; the enum violation still does not fit.
    assert_eq!(replay["replayed"], 1, "{replay}");
    assert_eq!(replay["still_held"][0]["code"], "schema_violation");
    assert_eq!(
        message_ids(&events(&server, &quarantine.id).await),
        vec!["fits", "new-prop", "new-type"]
    );
    // Replaying again stores nothing twice (the replayed rows are marked).
    let (_, replay) = server
        .post("/api/v1/cdp/held/replay", json!({"name": "Coupon Used"}))
        .await;
    assert_eq!(replay["replayed"], 0);
    // Invalid schemas and names are refused with reasons.
    let (status, body) = server
        .post(
            "/api/v1/cdp/event-types",
            json!({"name": "X", "schema": {"oneOf": []}}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("invalid_schema"))
    );
    // A schema is an object, as the document says: the boolean schemas `true` and `false`
    // (valid JSON Schema) are refused, and nothing is registered (found by the conformance
    // fuzz: `false` was stored and listed where the document promises an object).
    for schema in [json!(false), json!(true)] {
        let (status, body) = server
            .post(
                "/api/v1/cdp/event-types",
                json!({"name": "Boolean", "schema": schema}),
            )
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some("invalid_schema")),
            "{body}"
        );
    }
    let (_, types) = server.get("/api/v1/cdp/event-types").await;
    assert!(
        types
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["name"] != "Boolean"),
        "{types}"
    );
    let (status, body) = server
        .post(
            "/api/v1/cdp/event-types",
            json!({"name": "$custom", "schema": {}}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("invalid_event_type"))
    );
}

async fn identity_links_merges_guards_and_unmerges(backend: Backend) {
    let server = TestServer::start(backend).await;
    let web = source(&server, json!({"name": "web", "kind": "web"})).await;
    let app = source(&server, json!({"name": "app", "kind": "app"})).await;
    register(&server, "App Opened", json!({"type": "object"})).await;
    // Browsing anonymously, then signing up: the anonymous history joins the customer.
    batch(&web, json!([
        {"type": "page", "anonymousId": "browser-1", "name": "Pricing", "messageId": "w1"},
        {"type": "page", "anonymousId": "browser-1", "name": "Signup", "messageId": "w2"},
        {"type": "identify", "anonymousId": "browser-1", "userId": "u-100", "traits": {"email": "Li.Lei@Example.com"}, "messageId": "w3"},
    ]))
    .await;
    let customer = profile_of(&server, "user_id", "u-100").await;
    assert_eq!(
        profile_of(&server, "anonymous_id", "browser-1").await["id"],
        customer["id"]
    );
    // Emails are matched case-insensitively.
    assert_eq!(
        profile_of(&server, "email", "li.lei@example.com").await["id"],
        customer["id"]
    );
    // The phone app knew them by device and phone only; an identify with the same email merges.
    batch(&app, json!([
        {"type": "track", "anonymousId": "phone-9", "event": "App Opened", "messageId": "p1", "context": {"traits": {"phone": "138 0013 8000"}}},
    ]))
    .await;
    let phone_profile = profile_of(&server, "phone", "+8613800138000").await;
    assert_ne!(phone_profile["id"], customer["id"]);
    batch(&app, json!([
        {"type": "identify", "anonymousId": "phone-9", "traits": {"email": "li.lei@example.com"}, "messageId": "p2"},
    ]))
    .await;
    let merged = profile_of(&server, "phone", "+8613800138000").await;
    assert_eq!(merged["id"], customer["id"], "{merged}");
    // Signing up merged the anonymous browser profile; the email now merges the phone's.
    let members = merged["merged_profiles"].as_array().unwrap();
    assert_eq!(members.len(), 2, "{merged}");
    assert!(members.contains(&phone_profile["id"]));
    let merge = &merged["merges"][0];
    assert_eq!(
        (merge["cause_type"].as_str(), merge["cause_value"].as_str()),
        (Some("email"), Some("li.lei@example.com"))
    );
    assert_eq!(merge["message_id"], "p2");
    // The journey shows events of both profiles.
    let timeline = |id: String| {
        let server = &server;
        async move {
            let (status, page) = server
                .get(&format!("/api/v1/cdp/profiles/{id}/timeline?limit=50"))
                .await;
            assert_eq!(status, 200, "{page}");
            let mut ids: Vec<String> = page["entries"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["category"] == "event")
                .map(|e| e["data"]["messageId"].as_str().unwrap().to_string())
                .collect();
            ids.sort();
            ids
        }
    };
    assert_eq!(
        timeline(customer["id"].as_str().unwrap().to_string()).await,
        vec!["p1", "p2", "w1", "w2", "w3"]
    );

    // The guard: another user id sharing an identifier is never merged in.
    let report = batch(&web, json!([
        {"type": "identify", "userId": "u-200", "anonymousId": "browser-2", "traits": {"email": "han.mei@example.com"}, "messageId": "g1"},
        {"type": "alias", "userId": "u-200", "previousId": "browser-1", "messageId": "g2"},
    ]))
    .await;
    assert_eq!(report["accepted"], 2);
    assert_ne!(
        profile_of(&server, "user_id", "u-200").await["id"],
        customer["id"]
    );
    let (_, health) = server.get("/api/v1/cdp/health").await;
    let warning = health["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["code"] == "merge_refused_user_ids")
        .unwrap_or_else(|| panic!("{health}"));
    assert_eq!(warning["details"]["message_id"], "g2");
    let web_health = health["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source_id"] == web.id.as_str())
        .unwrap();
    assert_eq!(web_health["merge_refused"], 1);

    // Unmerge: both profiles come back with their own identifiers and events.
    let merge_id = merge["id"].as_str().unwrap();
    let (_, sales) = server.user_with_role("sales").await;
    let (status, _) = sales
        .post(&format!("/api/v1/cdp/merges/{merge_id}/undo"), json!({}))
        .await;
    assert_eq!(status, 403);
    let (status, undone) = server
        .post(&format!("/api/v1/cdp/merges/{merge_id}/undo"), json!({}))
        .await;
    assert_eq!(status, 200, "{undone}");
    let (status, again) = server
        .post(&format!("/api/v1/cdp/merges/{merge_id}/undo"), json!({}))
        .await;
    assert_eq!(
        (status, again["code"].as_str()),
        (409, Some("merge_already_undone"))
    );
    let phone_again = profile_of(&server, "phone", "+8613800138000").await;
    assert_eq!(phone_again["id"], phone_profile["id"]);
    assert_eq!(
        timeline(customer["id"].as_str().unwrap().to_string()).await,
        vec!["w1", "w2", "w3"]
    );
    assert_eq!(
        timeline(phone_profile["id"].as_str().unwrap().to_string()).await,
        vec!["p1", "p2"]
    );
    let (_, log) = server.get("/api/v1/cdp/merges").await;
    assert!(log["data"][0]["undone_at"].is_string(), "{log}");
}

async fn shared_identifiers_cannot_fold_customers(backend: Backend) {
    let server = TestServer::start(backend).await;
    let src = source(&server, json!({"name": "forms", "kind": "web"})).await;
    // 30 anonymous visitors all type the same throw-away email.
    let shared: Vec<Value> = (0..30)
        .map(|i| json!({"type": "identify", "anonymousId": format!("visitor-{i}"), "traits": {"email": "shared@corp.example"}, "messageId": format!("s{i}")}))
        .collect();
    assert_eq!(batch(&src, json!(shared)).await["accepted"], 30);
    let folded = profile_of(&server, "email", "shared@corp.example").await;
    assert_eq!(
        folded["merged_profiles"].as_array().unwrap().len(),
        10,
        "the default limit is 10 merges per identifier"
    );
    let (_, health) = server.get("/api/v1/cdp/health").await;
    let refusals = health["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["code"] == "merge_refused_identifier_limit")
        .count();
    // visitor-0 brought the email; 10 of the other 29 merged, 19 were refused.
    assert_eq!(refusals, 19);
    // Known junk values never link anyone.
    let junk: Vec<Value> = (0..5)
        .map(|i| json!({"type": "identify", "anonymousId": format!("tester-{i}"), "traits": {"email": "test@test.com"}, "messageId": format!("t{i}")}))
        .collect();
    batch(&src, json!(junk)).await;
    let (status, _) = server
        .call(Method::GET, "/api/v1/cdp/profiles")
        .query(&[
            ("identifier_type", "email"),
            ("identifier", "test@test.com"),
        ])
        .send()
        .await
        .pair();
    assert_eq!(status, 404);
    assert_ne!(
        profile_of(&server, "anonymous_id", "tester-0").await["id"],
        profile_of(&server, "anonymous_id", "tester-1").await["id"]
    );
}

async fn profiles_and_contacts_stay_in_sync(backend: Backend) {
    let server = TestServer::start(backend).await;
    let src = source(&server, json!({"name": "crm-sync", "kind": "app"})).await;
    batch(&src, json!([
        {"type": "identify", "userId": "c-1", "traits": {"name": "王小明", "email": "xiaoming@example.com", "title": "采购经理", "phone": "13900139000", "plan": "pro"}, "messageId": "i1"},
        {"type": "group", "userId": "c-1", "groupId": "acme", "traits": {"name": "Acme 制造", "website": "https://acme.example"}, "messageId": "g1"},
    ]))
    .await;
    let contact_id = eventually("the contact", || async {
        let p = profile_of(&server, "user_id", "c-1").await;
        p["contact_id"].as_str().map(|c| json!(c))
    })
    .await;
    let contact_id = contact_id.as_str().unwrap().to_string();
    let (status, contact) = server
        .get(&format!("/api/v1/objects/contact/records/{contact_id}"))
        .await;
    assert_eq!(status, 200, "{contact}");
    assert_eq!(contact["values"]["name"], "王小明");
    assert_eq!(contact["values"]["email"], "xiaoming@example.com");
    assert_eq!(contact["values"]["mobile"], "+8613900139000");
    let company = eventually("the company link", || async {
        let (_, c) = server
            .get(&format!("/api/v1/objects/contact/records/{contact_id}"))
            .await;
        c["values"]["company"].as_str().map(|v| json!(v))
    })
    .await;
    let (_, company) = server
        .get(&format!(
            "/api/v1/objects/company/records/{}",
            company.as_str().unwrap()
        ))
        .await;
    assert_eq!(company["values"]["name"], "Acme 制造");
    // The history says the CDP made these changes.
    let (_, history) = server
        .get(&format!(
            "/api/v1/objects/contact/records/{contact_id}/history"
        ))
        .await;
    assert!(
        history
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["source"] == "cdp"),
        "{history}"
    );
    // A new trait value updates the same contact.
    batch(&src, json!([{"type": "identify", "userId": "c-1", "traits": {"title": "采购总监"}, "messageId": "i2"}])).await;
    eventually("the title update", || async {
        let (_, c) = server
            .get(&format!("/api/v1/objects/contact/records/{contact_id}"))
            .await;
        (c["values"]["title"] == "采购总监").then_some(c)
    })
    .await;
    // A contact created in the CRM gets a profile, found by its email.
    let created = server
        .create(
            "contact",
            json!({"name": "Zhang San", "email": "zhang.san@example.com"}),
        )
        .await;
    let crm_id = created["id"].as_str().unwrap().to_string();
    let profile = eventually("a profile for the CRM contact", || async {
        let (status, body) = server
            .call(Method::GET, "/api/v1/cdp/profiles")
            .query(&[
                ("identifier_type", "email"),
                ("identifier", "zhang.san@example.com"),
            ])
            .send()
            .await
            .pair();
        (status == 200).then(|| body["profiles"][0].clone())
    })
    .await;
    assert_eq!(profile["contact_id"], crm_id.as_str());
    // Later events with that email join the same profile and contact.
    batch(&src, json!([{"type": "identify", "userId": "z-3", "traits": {"email": "Zhang.San@example.com"}, "messageId": "z1"}])).await;
    let joined = profile_of(&server, "user_id", "z-3").await;
    assert_eq!(joined["contact_id"], crm_id.as_str(), "{joined}");

    // Two users sharing a family email stay apart, in the CRM too: the second is not linked
    // to the first one's contact, and data health says why.
    batch(&src, json!([
        {"type": "identify", "userId": "fam-1", "traits": {"name": "Mum", "email": "family@example.com"}, "messageId": "f1"},
        {"type": "identify", "userId": "fam-2", "traits": {"name": "Son", "email": "family@example.com"}, "messageId": "f2"},
    ]))
    .await;
    let warning = eventually("the contact_taken warning", || async {
        let (_, health) = server.get("/api/v1/cdp/health").await;
        health["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["code"] == "contact_sync_failed")
            .cloned()
    })
    .await;
    assert!(
        warning["message"]
            .as_str()
            .unwrap()
            .contains("linked to profile"),
        "{warning}"
    );
    let mum = profile_of(&server, "user_id", "fam-1").await;
    let son = profile_of(&server, "user_id", "fam-2").await;
    assert_ne!(mum["id"], son["id"]);
    assert!(mum["contact_id"].is_string(), "{mum}");
    assert!(son["contact_id"].is_null(), "{son}");
}

async fn journey_merges_events_and_crm_in_time_order(backend: Backend) {
    let server = TestServer::start(backend).await;
    let web = source(&server, json!({"name": "web", "kind": "web"})).await;
    let wecom = source(&server, json!({"name": "企业微信", "kind": "wecom"})).await;
    register(&server, "Chat", json!({"type": "object"})).await;
    let contact = server
        .create(
            "contact",
            json!({"name": "Journey", "email": "journey@example.com"}),
        )
        .await;
    let contact_id = contact["id"].as_str().unwrap().to_string();
    eventually("the contact's profile", || async {
        let (status, body) = server
            .call(Method::GET, "/api/v1/cdp/profiles")
            .query(&[
                ("identifier_type", "email"),
                ("identifier", "journey@example.com"),
            ])
            .send()
            .await
            .pair();
        (status == 200).then_some(body)
    })
    .await;
    let base = chrono::Utc::now() - chrono::Duration::hours(2);
    let at = |minutes: i64| (base + chrono::Duration::minutes(minutes)).to_rfc3339();
    batch(&web, json!([
        {"type": "page", "anonymousId": "j-browser", "name": "Ad landing", "messageId": "j1", "timestamp": at(1)},
        {"type": "identify", "anonymousId": "j-browser", "traits": {"email": "journey@example.com"}, "messageId": "j2", "timestamp": at(2)},
    ]))
    .await;
    let chats: Vec<Value> = (0..30)
        .map(|i| json!({"type": "track", "userId": "j-user", "event": "Chat", "messageId": format!("c{i}"), "timestamp": at(10 + i), "context": {"traits": {"email": "journey@example.com"}}}))
        .collect();
    batch(&wecom, json!(chats)).await;
    // A call logged now that happened between the sign-up and the first chat.
    let (status, body) = server
        .post(
            "/api/v1/objects/activity/records",
            json!({"values": {"subject": "客服咨询", "type": "call", "contact": contact_id, "occurred_at": at(5)}}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = server
        .patch(
            &format!("/api/v1/objects/contact/records/{contact_id}"),
            json!({"values": {"title": "VIP"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // Page through the whole journey: time order, no entry twice, nothing lost.
    let mut seen: Vec<Value> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut query = vec![("limit", "7")];
        if let Some(c) = &cursor {
            query.push(("cursor", c.as_str()));
        }
        let (status, page) = server
            .call(
                Method::GET,
                &format!("/api/v1/cdp/contacts/{contact_id}/journey"),
            )
            .query(&query)
            .send()
            .await
            .pair();
        assert_eq!(status, 200, "{page}");
        seen.extend(page["entries"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let times: Vec<String> = seen
        .iter()
        .map(|e| e["at"].as_str().unwrap().to_string())
        .collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted, "newest first");
    let events: Vec<&Value> = seen.iter().filter(|e| e["category"] == "event").collect();
    assert_eq!(events.len(), 32, "{seen:?}");
    let position = |pred: &dyn Fn(&Value) -> bool| seen.iter().position(pred).unwrap();
    let call = position(&|e| e["type"] == "activity");
    assert_eq!(seen[call]["title"], "客服咨询");
    assert!(
        position(&|e| e["data"]["messageId"] == "c0") < call,
        "the call comes after the first chat in newest-first order"
    );
    assert!(call < position(&|e| e["data"]["messageId"] == "j2"));
    assert_eq!(
        seen[position(&|e| e["data"]["messageId"] == "c0")]["source_kind"],
        "wecom"
    );
    assert!(seen
        .iter()
        .any(|e| e["category"] == "field_change" && e["title"] == "title"));
    // Filters: one source, one type.
    let (_, only_wecom) = server
        .call(
            Method::GET,
            &format!("/api/v1/cdp/contacts/{contact_id}/journey"),
        )
        .query(&[("sources", wecom.id.as_str()), ("limit", "200")])
        .send()
        .await
        .pair();
    let entries = only_wecom["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 30);
    assert!(entries.iter().all(|e| e["source_name"] == "企业微信"));
    let (_, pages) = server
        .call(
            Method::GET,
            &format!("/api/v1/cdp/contacts/{contact_id}/journey"),
        )
        .query(&[("types", "page"), ("limit", "200")])
        .send()
        .await
        .pair();
    assert_eq!(pages["entries"].as_array().unwrap().len(), 1);
    let (status, body) = server
        .call(
            Method::GET,
            &format!("/api/v1/cdp/contacts/{contact_id}/journey"),
        )
        .query(&[("cursor", "zz")])
        .send()
        .await
        .pair();
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_cursor"))
    );
}

async fn health_reports_counts_delay_and_fill_rate(backend: Backend) {
    let server = TestServer::start(backend).await;
    let src = source(&server, json!({"name": "mini", "kind": "mini_program"})).await;
    register(&server, "Tap", json!({"type": "object"})).await;
    let late = (chrono::Utc::now() - chrono::Duration::minutes(3)).to_rfc3339();
    batch(&src, json!([
        {"type": "track", "userId": "h1", "event": "Tap", "messageId": "h1"},
        {"type": "track", "userId": "h1", "event": "Tap", "messageId": "h2", "timestamp": late},
        {"type": "track", "userId": "h1", "event": "Unknown", "messageId": "h3"},
        {"type": "track", "event": "Tap", "messageId": "h4"},
        {"type": "identify", "userId": "h1", "traits": {"email": "h1@example.com", "city": "杭州"}, "messageId": "h5"},
        {"type": "identify", "userId": "h2", "traits": {"email": "h2@example.com"}, "messageId": "h6"},
    ]))
    .await;
    batch(
        &src,
        json!([{"type": "track", "userId": "h1", "event": "Tap", "messageId": "h1"}]),
    )
    .await;
    let (status, health) = server.get("/api/v1/cdp/health?minutes=30").await;
    assert_eq!(status, 200, "{health}");
    let s = health["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source_id"] == src.id.as_str())
        .unwrap();
    assert_eq!(
        (
            s["received"].as_i64(),
            s["accepted"].as_i64(),
            s["quarantined"].as_i64(),
            s["rejected"].as_i64(),
            s["duplicates"].as_i64()
        ),
        (Some(7), Some(4), Some(1), Some(1), Some(1)),
        "{s}"
    );
    assert_eq!(s["delay_p50_ms"], 100);
    assert_eq!(
        s["delay_p95_ms"], 300_000,
        "one of four accepted events arrived 3 minutes late"
    );
    let reasons: Vec<&str> = s["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert!(
        reasons.contains(&"missing_identity") && reasons.contains(&"unregistered_event_type"),
        "{reasons:?}"
    );
    let fill = |name: &str| {
        health["traits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["trait"] == name)
            .map(|t| t["fill_rate"].as_f64().unwrap())
    };
    assert_eq!(health["profiles"], 2);
    assert_eq!(fill("email"), Some(1.0));
    assert_eq!(fill("city"), Some(0.5));
    let metrics = server
        .as_auth(Auth::Header(format!("Bearer {METRICS_TOKEN}")))
        .call(Method::GET, "/metrics")
        .send()
        .await
        .text;
    assert!(
        metrics.contains(&format!(
            "rapport_cdp_events_total{{outcome=\"accepted\",source=\"{}\"}} 4",
            src.id
        )),
        "{metrics}"
    );
    assert!(metrics.contains("rapport_cdp_ingestion_delay_seconds_bucket"));
    assert!(
        metrics.contains(&format!(
            "rapport_cdp_ingestion_delay_seconds_count{{source=\"{}\"}} 4",
            src.id
        )),
        "{metrics}"
    );
}

async fn admins_configure_identifier_types_and_mappings(backend: Backend) {
    let server = TestServer::start(backend).await;
    let src = source(&server, json!({"name": "pos", "kind": "pos"})).await;
    let (status, mut settings) = server.get("/api/v1/cdp/settings").await;
    assert_eq!(status, 200, "{settings}");
    // A loyalty card number that identifies a member in every store, and a mapping of the
    // member's tier onto the contact's description.
    settings["identifier_types"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "member_no", "label_en": "Member no.", "label_zh": "会员卡号", "merge": true}));
    settings["contact_mapping"]["tier"] = json!("description");
    let (status, saved) = server
        .call(Method::PUT, "/api/v1/cdp/settings")
        .json(&settings)
        .send()
        .await
        .pair();
    assert_eq!(status, 200, "{saved}");
    batch(&src, json!([
        {"type": "identify", "anonymousId": "till-1", "traits": {"member_no": "M-0001"}, "messageId": "k1"},
        {"type": "identify", "anonymousId": "till-2", "context": {"externalIds": [{"id": "M-0001", "type": "member_no"}]}, "messageId": "k2"},
        {"type": "identify", "userId": "member-1", "traits": {"member_no": "M-0001", "name": "赵敏", "tier": "金卡"}, "messageId": "k3"},
    ]))
    .await;
    let member = profile_of(&server, "member_no", "M-0001").await;
    assert_eq!(
        profile_of(&server, "anonymous_id", "till-2").await["id"],
        member["id"]
    );
    assert_eq!(
        profile_of(&server, "user_id", "member-1").await["id"],
        member["id"]
    );
    let contact = eventually("the member's contact", || async {
        let p = profile_of(&server, "member_no", "M-0001").await;
        p["contact_id"].as_str().map(|c| json!(c))
    })
    .await;
    let (_, record) = server
        .get(&format!(
            "/api/v1/objects/contact/records/{}",
            contact.as_str().unwrap()
        ))
        .await;
    assert_eq!(record["values"]["description"], "金卡");
    assert_eq!(record["values"]["name"], "赵敏");
    // Turning merging off for a type keeps new profiles apart.
    for t in settings["identifier_types"].as_array_mut().unwrap() {
        if t["name"] == "member_no" {
            t["merge"] = json!(false);
        }
    }
    let (status, _) = server
        .call(Method::PUT, "/api/v1/cdp/settings")
        .json(&settings)
        .send()
        .await
        .pair();
    assert_eq!(status, 200);
    batch(&src, json!([
        {"type": "identify", "anonymousId": "till-3", "traits": {"member_no": "M-0001"}, "messageId": "k4"},
    ]))
    .await;
    assert_ne!(
        profile_of(&server, "anonymous_id", "till-3").await["id"],
        member["id"]
    );
    // Bad settings are refused with a reason; only admins may change them.
    for bad in [
        json!({"contact_mapping": {"tier": "no_such_field"}}),
        json!({"max_merges_per_identifier": 0}),
        json!({"phone_region": "XX"}),
    ] {
        let mut candidate = settings.clone();
        for (k, v) in bad.as_object().unwrap() {
            candidate[k] = v.clone();
        }
        let (status, body) = server
            .call(Method::PUT, "/api/v1/cdp/settings")
            .json(&candidate)
            .send()
            .await
            .pair();
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some("invalid_settings")),
            "{body}"
        );
    }
    let mut without_anonymous = settings.clone();
    without_anonymous["identifier_types"]
        .as_array_mut()
        .unwrap()
        .retain(|t| t["name"] != "anonymous_id");
    let (status, _) = server
        .call(Method::PUT, "/api/v1/cdp/settings")
        .json(&without_anonymous)
        .send()
        .await
        .pair();
    assert_eq!(status, 422);
    let (_, sales) = server.user_with_role("sales").await;
    let (status, _) = sales
        .call(Method::PUT, "/api/v1/cdp/settings")
        .json(&settings)
        .send()
        .await
        .pair();
    assert_eq!(status, 403);
}
