//! Segment snapshots over HTTP: a snapshot keeps its members while the segment moves on, the
//! CSV export (BOM, header, RFC 4180 quoting, Chinese text, the formula guard), diffs between
//! snapshots, signed webhook pushes in batches to a receiver started by the test, failing
//! receivers and bad URLs, workspace isolation and the administrator-only actions.

use crate::cdp::basic;
use crate::harness::{assert_error, Api, Auth, Backend, TestServer};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

crate::both_backends!(
    snapshots_freeze_members_diff_and_export,
    snapshots_push_signed_batches_and_report_failures,
);

/// A source's tracking client.
pub(crate) async fn tracker(server: &TestServer) -> Api {
    let (status, s) = server
        .post(
            "/api/v1/cdp/sources",
            json!({"name": "商城 App", "kind": "app", "trust": "server"}),
        )
        .await;
    assert_eq!(status, 201, "{s}");
    server.as_auth(Auth::Header(basic(s["write_key"].as_str().unwrap())))
}

async fn register(server: &TestServer, name: &str) {
    let (status, body) = server
        .post(
            "/api/v1/cdp/event-types",
            json!({"name": name, "schema": {"type": "object"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

pub(crate) async fn batch(tracker: &Api, events: Vec<Value>) {
    for chunk in events.chunks(500) {
        let (status, body) = tracker.post("/v1/batch", json!({ "batch": chunk })).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["accepted"].as_u64(),
            Some(chunk.len() as u64),
            "{body}"
        );
    }
}

/// Polls `check` for up to 60 s (the segment engine works after the commit).
async fn eventually<F, Fut, T>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..600 {
        if let Some(v) = check().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn profile_id(server: &TestServer, user_id: &str) -> String {
    let (status, body) = server
        .call(Method::GET, "/api/v1/cdp/profiles")
        .query(&[("identifier_type", "user_id"), ("identifier", user_id)])
        .send()
        .await
        .pair();
    assert_eq!(status, 200, "{user_id}: {body}");
    body["profiles"][0]["id"].as_str().unwrap().to_string()
}

/// Creates a segment and waits until it is live; returns its id.
pub(crate) async fn live_segment(server: &TestServer, name: &str, condition: Value) -> String {
    let (status, segment) = server
        .post(
            "/api/v1/cdp/segments",
            json!({"name": name, "condition": condition}),
        )
        .await;
    assert_eq!(status, 201, "{segment}");
    let id = segment["id"].as_str().unwrap().to_string();
    eventually("the segment to be live", || async {
        let (_, s) = server.get(&format!("/api/v1/cdp/segments/{id}")).await;
        (s["state"] == "live").then_some(())
    })
    .await;
    id
}

/// The segment's current members (profile ids), following cursors.
async fn current_members(server: &TestServer, segment: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut query = vec![("limit", "1000".to_string())];
        if let Some(c) = &cursor {
            query.push(("cursor", c.clone()));
        }
        let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, page) = server
            .call(
                Method::GET,
                &format!("/api/v1/cdp/segments/{segment}/members"),
            )
            .query(&query)
            .send()
            .await
            .pair();
        assert_eq!(status, 200, "{page}");
        for m in page["items"].as_array().unwrap() {
            out.insert(m["profile_id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return out,
        }
    }
}

async fn wait_for_members(server: &TestServer, segment: &str, expected: &BTreeSet<String>) {
    eventually("the segment's membership", || async {
        (current_members(server, segment).await == *expected).then_some(())
    })
    .await;
}

pub(crate) async fn take(server: &TestServer, segment: &str, name: &str) -> Value {
    let (status, snapshot) = server
        .post(
            &format!("/api/v1/cdp/segments/{segment}/snapshots"),
            json!({ "name": name }),
        )
        .await;
    assert_eq!(status, 201, "{snapshot}");
    snapshot
}

/// Every member of a snapshot, following cursors, with a small page size.
async fn snapshot_members(api: &Api, snapshot: &str, limit: usize) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let limit = limit.to_string();
        let mut query = vec![("limit", limit.as_str())];
        if let Some(c) = &cursor {
            query.push(("cursor", c.as_str()));
        }
        let (status, page) = api
            .call(
                Method::GET,
                &format!("/api/v1/cdp/snapshots/{snapshot}/members"),
            )
            .query(&query)
            .send()
            .await
            .pair();
        assert_eq!(status, 200, "{page}");
        out.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return out,
        }
    }
}

fn profile_ids(members: &[Value]) -> BTreeSet<String> {
    members
        .iter()
        .map(|m| m["profile_id"].as_str().unwrap().to_string())
        .collect()
}

/// An RFC 4180 reader: quoted fields with doubled quotes, CRLF records.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            ',' => row.push(std::mem::take(&mut field)),
            '\r' => {
                assert_eq!(chars.next(), Some('\n'), "a lone CR in {text:?}");
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            '\n' => panic!("a record ends with a bare LF in {text:?}"),
            _ => field.push(c),
        }
    }
    assert!(
        field.is_empty() && row.is_empty(),
        "no CRLF after the last record"
    );
    rows
}

async fn snapshots_freeze_members_diff_and_export(backend: Backend) {
    let server = TestServer::start(backend).await;
    let app = tracker(&server).await;
    register(&server, "Order Completed").await;
    let customers = [
        ("u-1", "王小明@例子.中国", "13800138001", "王小明"),
        ("u-2", "li.lei@example.com", "13800138002", "李雷"),
        // Needs quoting (comma and quote) and the formula guard (leading '='); an email
        // cannot hold a comma, so the user id carries them.
        (
            "=HYPERLINK(\"http://x\",\"y\")",
            "han.mei@example.com",
            "13800138003",
            "韩梅梅",
        ),
    ];
    let mut events = Vec::new();
    for (i, (user, email, phone, name)) in customers.iter().enumerate() {
        events.push(
            json!({"type": "identify", "userId": user, "messageId": format!("i{i}"),
            "traits": {"email": email, "phone": phone, "name": name, "plan": "pro"}}),
        );
        events.push(
            json!({"type": "track", "userId": user, "event": "Order Completed",
            "messageId": format!("o{i}"), "properties": {"total": 10 + i}}),
        );
    }
    batch(&app, events).await;
    let mut ids = Vec::new();
    for (user, ..) in &customers {
        ids.push(profile_id(&server, user).await);
    }
    let condition = json!({"all": [
        {"behavior": {"event": "Order Completed", "window": {"last": 30, "unit": "days"},
                      "count": {"op": "gte", "value": 1}}},
        {"trait": "plan", "op": "eq", "value": "pro"},
    ]});
    let segment = live_segment(&server, "复购人群", condition.clone()).await;
    let first_set: BTreeSet<String> = ids.iter().cloned().collect();
    wait_for_members(&server, &segment, &first_set).await;

    // Only administrators take snapshots; anyone who reads contacts reads them.
    let (_, sales) = server.user_with_role("sales").await;
    let denied = sales
        .post(
            &format!("/api/v1/cdp/segments/{segment}/snapshots"),
            json!({"name": "x"}),
        )
        .await;
    assert_error(&denied, 403, "forbidden");
    let too_long = "名".repeat(201);
    for bad in ["", "   ", too_long.as_str()] {
        let got = server
            .post(
                &format!("/api/v1/cdp/segments/{segment}/snapshots"),
                json!({ "name": bad }),
            )
            .await;
        assert_error(&got, 422, "invalid_name");
    }
    let missing = server
        .post(
            "/api/v1/cdp/segments/no-such-segment/snapshots",
            json!({"name": "x"}),
        )
        .await;
    assert_error(&missing, 404, "not_found");

    let a = take(&server, &segment, "  六月活动 A ").await;
    let a_id = a["id"].as_str().unwrap().to_string();
    assert_eq!(a["name"], "六月活动 A");
    assert_eq!(a["segment_id"], segment.as_str());
    assert_eq!(a["member_count"], 3);
    assert_eq!(a["version"], 1);
    assert_eq!(a["condition"], condition);
    let (status, got) = sales.get(&format!("/api/v1/cdp/snapshots/{a_id}")).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["member_count"], 3);
    assert_eq!(got["taken_at"], a["taken_at"]);
    let frozen = snapshot_members(&sales, &a_id, 2).await;
    assert_eq!(frozen.len(), 3);
    assert_eq!(profile_ids(&frozen), first_set);
    let by_profile: BTreeMap<String, Value> = frozen
        .iter()
        .map(|m| (m["profile_id"].as_str().unwrap().to_string(), m.clone()))
        .collect();
    let first = &by_profile[&ids[0]];
    assert_eq!(first["user_id"], "u-1");
    assert_eq!(first["email"], "王小明@例子.中国");
    assert_eq!(first["phone"], "+8613800138001");
    assert!(first["entered_at"].is_string());

    // The segment moves on: u-4 joins, u-2 leaves. The snapshot does not move.
    batch(
        &app,
        vec![
            json!({"type": "identify", "userId": "u-4", "messageId": "i4",
                   "traits": {"email": "new@example.com", "plan": "pro"}}),
            json!({"type": "track", "userId": "u-4", "event": "Order Completed", "messageId": "o4"}),
            json!({"type": "identify", "userId": "u-2", "messageId": "i5", "traits": {"plan": "free"}}),
        ],
    )
    .await;
    let joined = profile_id(&server, "u-4").await;
    let second_set: BTreeSet<String> = [ids[0].clone(), ids[2].clone(), joined.clone()].into();
    wait_for_members(&server, &segment, &second_set).await;
    assert_eq!(
        profile_ids(&snapshot_members(&server, &a_id, 1000).await),
        first_set
    );
    let (_, again) = server.get(&format!("/api/v1/cdp/snapshots/{a_id}")).await;
    assert_eq!(again["member_count"], 3);

    let b = take(&server, &segment, "六月活动 B").await;
    let b_id = b["id"].as_str().unwrap().to_string();
    assert_eq!(b["member_count"], 3);
    let (status, d) = sales
        .get(&format!("/api/v1/cdp/snapshots/{a_id}/diff/{b_id}"))
        .await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(
        (d["joined"].clone(), d["left"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(d["joined_sample"][0]["profile_id"], joined.as_str());
    assert_eq!(d["joined_sample"][0]["user_id"], "u-4");
    assert_eq!(d["left_sample"][0]["profile_id"], ids[1].as_str());
    assert_eq!(d["left_sample"][0]["email"], "li.lei@example.com");
    let (_, reverse) = server
        .get(&format!("/api/v1/cdp/snapshots/{b_id}/diff/{a_id}?limit=0"))
        .await;
    assert_eq!(
        (reverse["joined"].clone(), reverse["left"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(reverse["joined_sample"], json!([]));
    let (_, same) = server
        .get(&format!("/api/v1/cdp/snapshots/{a_id}/diff/{a_id}"))
        .await;
    assert_eq!(
        (same["joined"].clone(), same["left"].clone()),
        (json!(0), json!(0))
    );
    let other_segment = live_segment(
        &server,
        "其他",
        json!({"trait": "plan", "op": "eq", "value": "free"}),
    )
    .await;
    wait_for_members(&server, &other_segment, &[ids[1].clone()].into()).await;
    let c = take(&server, &other_segment, "其他快照").await;
    let different = server
        .get(&format!(
            "/api/v1/cdp/snapshots/{a_id}/diff/{}",
            c["id"].as_str().unwrap()
        ))
        .await;
    assert_error(&different, 422, "different_segments");

    let (status, listed) = sales
        .get(&format!("/api/v1/cdp/segments/{segment}/snapshots"))
        .await;
    assert_eq!(status, 200, "{listed}");
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["六月活动 B", "六月活动 A"]);

    // CSV: BOM, header, CRLF, quoting, Chinese text, the formula guard.
    let r = sales
        .call(
            Method::GET,
            &format!("/api/v1/cdp/snapshots/{a_id}/members.csv"),
        )
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/csv; charset=utf-8")
    );
    assert!(r
        .header("content-disposition")
        .unwrap()
        .starts_with("attachment;"));
    let body = r.text.strip_prefix('\u{feff}').expect("a UTF-8 BOM first");
    let rows = parse_csv(body);
    assert_eq!(
        rows[0],
        [
            "profile_id",
            "contact_id",
            "user_id",
            "email",
            "phone",
            "entered_at"
        ]
    );
    assert_eq!(rows.len(), 4, "{body}");
    let csv_rows: BTreeMap<&str, &Vec<String>> =
        rows[1..].iter().map(|r| (r[0].as_str(), r)).collect();
    let row = |i: usize| csv_rows[ids[i].as_str()];
    assert_eq!(row(0)[2], "u-1");
    assert_eq!(row(0)[3], "王小明@例子.中国");
    assert_eq!(row(0)[4], "'+8613800138001", "phones are guarded");
    assert_eq!(row(2)[2], "'=HYPERLINK(\"http://x\",\"y\")");
    assert_eq!(row(2)[3], "han.mei@example.com");
    assert!(body.contains("\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""));
    for r in &rows[1..] {
        let at = chrono::DateTime::parse_from_rfc3339(&r[5]).expect("RFC 3339");
        assert!(r[5].ends_with('Z') && at.offset().local_minus_utc() == 0);
    }
    // The contact the CRM sync made for u-1 is in the CSV once it exists.
    let contact = by_profile[&ids[0]]["contact_id"].clone();
    assert_eq!(
        row(0)[1],
        contact.as_str().unwrap_or(""),
        "the CSV agrees with the JSON"
    );

    // Another workspace sees none of it.
    let (_, _, stranger) = server.other_workspace("Other").await;
    for path in [
        format!("/api/v1/cdp/snapshots/{a_id}"),
        format!("/api/v1/cdp/snapshots/{a_id}/members"),
        format!("/api/v1/cdp/snapshots/{a_id}/members.csv"),
        format!("/api/v1/cdp/snapshots/{a_id}/diff/{b_id}"),
        format!("/api/v1/cdp/segments/{segment}/snapshots"),
    ] {
        assert_error(&stranger.get(&path).await, 404, "not_found");
    }
    let foreign = stranger
        .post(
            &format!("/api/v1/cdp/segments/{segment}/snapshots"),
            json!({"name": "x"}),
        )
        .await;
    assert_error(&foreign, 404, "not_found");

    // Taking and exporting are audited, and so is the refused attempt.
    assert_eq!(audited(&server, "cdp.snapshot.take").await.len(), 3);
    assert_eq!(audited(&server, "cdp.snapshot.export").await.len(), 1);
    assert!(!audited(&server, "permission_denied").await.is_empty());
}

/// The audit entries of `action`.
async fn audited(server: &TestServer, action: &str) -> Vec<Value> {
    let (status, entries) = server
        .call(Method::GET, "/api/v1/audit")
        .query(&[("action", action), ("limit", "200")])
        .send()
        .await
        .pair();
    assert_eq!(status, 200, "{entries}");
    entries.as_array().unwrap().clone()
}

/// What the test's webhook receiver got: headers and body of each request.
pub(crate) type Received = Arc<Mutex<Vec<(HeaderMap, String)>>>;

async fn receive(State(received): State<Received>, headers: HeaderMap, body: String) -> StatusCode {
    received.lock().unwrap().push((headers, body));
    StatusCode::OK
}

async fn refuse(State(received): State<Received>, headers: HeaderMap, body: String) -> StatusCode {
    received.lock().unwrap().push((headers, body));
    StatusCode::INTERNAL_SERVER_ERROR
}

/// A webhook receiver on a loopback port: `/ok` answers 200, `/fail` 500.
pub(crate) async fn receiver() -> (String, Received, tokio::task::JoinHandle<()>) {
    let received: Received = Arc::default();
    let app = axum::Router::new()
        .route("/ok", axum::routing::post(receive))
        .route("/fail", axum::routing::post(refuse))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (format!("http://{addr}"), received, task)
}

/// HMAC-SHA256 written out (RFC 2104), independent of the server's implementation.
pub(crate) fn hmac_sha256(key: &[u8], message: &[u8]) -> String {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    let outer = Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize();
    hex::encode(outer)
}

/// Checks every request's Standard Webhooks signature with the endpoint's `secret`; returns
/// (webhook-id, body) pairs in batch order.
fn verified(received: &[(HeaderMap, String)], secret: &str) -> Vec<(String, Value)> {
    let now = chrono::Utc::now().timestamp();
    let mut bodies: Vec<(String, Value)> = received
        .iter()
        .map(|(headers, body)| {
            let header = |name: &str| headers.get(name).unwrap().to_str().unwrap().to_string();
            assert_eq!(header("content-type"), "application/json");
            let id = header("webhook-id");
            let timestamp = header("webhook-timestamp");
            let seconds: i64 = timestamp.parse().unwrap();
            assert!(
                (now - seconds).abs() < 300,
                "timestamp {seconds} vs now {now}"
            );
            assert_eq!(
                header("webhook-signature"),
                crate::webhooks::expected_signature(secret, &id, &timestamp, body)
            );
            (id, serde_json::from_str(body).unwrap())
        })
        .collect();
    bodies.sort_by_key(|(_, b)| b["data"]["batch"].as_i64());
    bodies
}

async fn snapshots_push_signed_batches_and_report_failures(backend: Backend) {
    let server = TestServer::start(backend).await;
    let app = tracker(&server).await;
    // 2,100 customers: three batches of 1,000, 1,000 and 100.
    let events: Vec<Value> = (0..2_100)
        .map(|i| {
            json!({"type": "identify", "userId": format!("c-{i:04}"), "messageId": format!("m{i}"),
                        "traits": {"plan": "pro", "email": format!("c{i}@example.com")}})
        })
        .collect();
    batch(&app, events).await;
    let segment = live_segment(
        &server,
        "专业版",
        json!({"trait": "plan", "op": "eq", "value": "pro"}),
    )
    .await;
    eventually("2,100 members", || async {
        let (_, s) = server.get(&format!("/api/v1/cdp/segments/{segment}")).await;
        (s["member_count"] == 2_100).then_some(())
    })
    .await;
    let snapshot = take(&server, &segment, "全部专业版").await;
    assert_eq!(snapshot["member_count"], 2_100);
    let id = snapshot["id"].as_str().unwrap().to_string();
    let all = snapshot_members(&server, &id, 1000).await;
    assert_eq!(all.len(), 2_100);

    // The push goes to a webhook endpoint: one message per batch, through the hub.
    let (base, received, task) = receiver().await;
    let endpoint = |url: String, enabled: bool| {
        let server = &server;
        async move {
            let (status, made) = server
                .post(
                    "/api/v1/webhooks",
                    // A topic nothing here makes: the receiver gets the pushes alone.
                    json!({"url": url, "topics": ["record.deleted"], "objects": ["deal"], "description": "营销平台", "enabled": enabled}),
                )
                .await;
            assert_eq!(status, 201, "{made}");
            (
                made["id"].as_str().unwrap().to_string(),
                made["secret"].as_str().unwrap().to_string(),
            )
        }
    };
    let (ok, secret) = endpoint(format!("{base}/ok"), true).await;
    let (status, report) = server
        .post(
            &format!("/api/v1/cdp/snapshots/{id}/push"),
            json!({"endpoint_id": ok}),
        )
        .await;
    assert_eq!(status, 202, "{report}");
    assert_eq!(
        (report["members"].as_i64(), report["batches"].as_i64()),
        (Some(2_100), Some(3))
    );
    let ids: Vec<String> = report["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 3);
    eventually("three messages delivered", || async {
        (received.lock().unwrap().len() >= 3).then_some(())
    })
    .await;
    let bodies = verified(&received.lock().unwrap(), &secret);
    assert_eq!(bodies.len(), 3, "each batch once");
    let mut pushed = Vec::new();
    for (k, (webhook_id, body)) in bodies.iter().enumerate() {
        assert_eq!(
            webhook_id, &ids[k],
            "the report's ids are the webhook-ids, in batch order"
        );
        assert_eq!(body["type"], "segment.snapshot");
        let data = &body["data"];
        assert_eq!(data["batch"], k + 1);
        assert_eq!(data["batches"], 3);
        assert_eq!(data["snapshot"]["id"], id.as_str());
        assert_eq!(data["snapshot"]["name"], "全部专业版");
        assert_eq!(data["snapshot"]["segment_id"], segment.as_str());
        assert_eq!(data["snapshot"]["version"], 1);
        assert_eq!(data["snapshot"]["member_count"], 2_100);
        assert_eq!(data["snapshot"]["taken_at"], snapshot["taken_at"]);
        pushed.extend(data["members"].as_array().unwrap().iter().cloned());
    }
    assert_eq!(
        bodies
            .iter()
            .map(|(_, b)| b["data"]["members"].as_array().unwrap().len())
            .collect::<Vec<_>>(),
        [1_000, 1_000, 100]
    );
    assert_eq!(
        pushed, all,
        "every member once, in order, as the API shows them"
    );
    let (_, log) = server
        .get(&format!("/api/v1/webhooks/{ok}/deliveries"))
        .await;
    assert_eq!(
        log.as_array()
            .unwrap()
            .iter()
            .filter(|m| m["topic"] == "segment.snapshot")
            .count(),
        3,
        "{log}"
    );

    // A receiver answering 500: the push is queued all the same and its attempts are logged
    // (the hub retries them with backoff).
    let (failing, _) = endpoint(format!("{base}/fail"), true).await;
    let (status, report) = server
        .post(
            &format!("/api/v1/cdp/snapshots/{id}/push"),
            json!({"endpoint_id": failing}),
        )
        .await;
    assert_eq!(status, 202, "{report}");
    eventually("failed attempts logged", || async {
        let (_, log) = server
            .get(&format!("/api/v1/webhooks/{failing}/deliveries"))
            .await;
        log.as_array()
            .unwrap()
            .iter()
            .any(|m| {
                m["attempts"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|t| t["status"] == 500))
            })
            .then_some(())
    })
    .await;
    // A switched-off or unknown endpoint, an unknown snapshot: refused, nothing queued.
    let (off, _) = endpoint(format!("{base}/ok"), false).await;
    let got = server
        .post(
            &format!("/api/v1/cdp/snapshots/{id}/push"),
            json!({"endpoint_id": off}),
        )
        .await;
    assert_error(&got, 422, "invalid_webhook");
    let got = server
        .post(
            &format!("/api/v1/cdp/snapshots/{id}/push"),
            json!({"endpoint_id": "nope"}),
        )
        .await;
    assert_error(&got, 404, "not_found");
    let got = server
        .post(
            "/api/v1/cdp/snapshots/no-such-snapshot/push",
            json!({"endpoint_id": ok}),
        )
        .await;
    assert_error(&got, 404, "not_found");
    let got = server
        .post(
            &format!("/api/v1/cdp/snapshots/{id}/push"),
            json!({"url": format!("{base}/ok")}),
        )
        .await;
    assert_error(&got, 400, "invalid_body");

    // Administrators only; other workspaces see neither the snapshot nor the endpoint.
    let (_, sales) = server.user_with_role("sales").await;
    let denied = sales
        .post(
            &format!("/api/v1/cdp/snapshots/{id}/push"),
            json!({"endpoint_id": ok}),
        )
        .await;
    assert_error(&denied, 403, "forbidden");
    let (_, _, stranger) = server.other_workspace("Other").await;
    let foreign = stranger
        .post(
            &format!("/api/v1/cdp/snapshots/{id}/push"),
            json!({"endpoint_id": ok}),
        )
        .await;
    assert_error(&foreign, 404, "not_found");

    let pushes = audited(&server, "cdp.snapshot.push").await;
    assert_eq!(pushes.len(), 2, "{pushes:?}");
    assert!(pushes.iter().all(|e| e["outcome"] == "success"));
    task.abort();
}
