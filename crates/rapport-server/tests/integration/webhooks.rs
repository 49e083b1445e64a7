//! Outbound webhooks: changes reach the endpoints that asked for their topic and object, each
//! message signed as Standard Webhooks says (checked here with HMAC written out, independent of
//! the server), one `webhook-id` per message that stays the same when it is sent again; a
//! refusing receiver's attempts are logged with its status and answer; a rotated secret signs
//! beside the new one; a disabled endpoint gets nothing; bad endpoints are refused. Retries
//! (on a clock the test moves) keep the `webhook-id`, an endpoint failing for five days is
//! switched off and audited, and a time range is sent again. A destination that stops answering
//! opens its breaker after three timeouts while the others keep receiving, its messages are
//! parked meanwhile, and after it recovers a probe closes the breaker and everything parked is
//! delivered — in order for an ordered endpoint. Four writers race with hostile names and
//! refused writes mixed in, an endpoint is added while they write, and the receiver flaps: every
//! accepted record reaches every endpoint that was there when it was written, intact, under one
//! `webhook-id`, and nothing else arrives.

use crate::harness::{assert_error, Auth, Backend, TestServer, METRICS_TOKEN};
use crate::snapshots::{hmac_sha256, receiver, Received};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use chrono::{DateTime, Utc};
use rapport_core::ManualClock;
use rapport_server::ServerConfig;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

crate::both_backends!(
    webhooks_deliver_signed_messages,
    retries_keep_the_id_and_failing_endpoints_switch_off,
    ordered_endpoints_deliver_one_at_a_time,
    a_dead_destination_opens_its_breaker_and_drains_after_recovery,
    racing_writers_and_a_flapping_destination_lose_nothing,
);

const HOOKS: &str = "/api/v1/webhooks";

/// The Standard Webhooks signature of a message, computed here from the secret's key bytes.
pub(crate) fn expected_signature(secret: &str, id: &str, timestamp: &str, body: &str) -> String {
    let key = BASE64
        .decode(secret.strip_prefix("whsec_").expect("whsec_ prefix"))
        .expect("base64 key");
    let mac = hex_bytes(&hmac_sha256(
        &key,
        format!("{id}.{timestamp}.{body}").as_bytes(),
    ));
    format!("v1,{}", BASE64.encode(mac))
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

/// The messages received so far: (webhook-id, signatures, body), each checked for its headers.
fn messages(received: &Received) -> Vec<(String, Vec<String>, String, String)> {
    received
        .lock()
        .unwrap()
        .iter()
        .map(|(headers, body)| {
            let header = |name: &str| headers.get(name).unwrap().to_str().unwrap().to_string();
            assert_eq!(header("content-type"), "application/json");
            let timestamp = header("webhook-timestamp");
            let seconds: i64 = timestamp.parse().unwrap();
            assert!((chrono::Utc::now().timestamp() - seconds).abs() < 300);
            let signatures = header("webhook-signature")
                .split(' ')
                .map(str::to_string)
                .collect();
            (header("webhook-id"), signatures, timestamp, body.clone())
        })
        .collect()
}

async fn wait_for(received: &Received, n: usize) {
    for _ in 0..600 {
        if received.lock().unwrap().len() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "expected {n} deliveries, got {}",
        received.lock().unwrap().len()
    );
}

async fn webhooks_deliver_signed_messages(b: Backend) {
    let s = TestServer::start(b).await;
    let (base, received, _task) = receiver().await;

    // Refusals, each with its code; nothing is created by them.
    for (body, status, code) in [
        (
            json!({"url": format!("{base}/ok"), "topics": ["record.made"]}),
            422,
            "invalid_webhook",
        ),
        (
            json!({"url": format!("{base}/ok"), "topics": []}),
            422,
            "invalid_webhook",
        ),
        (
            json!({"url": "ftp://example.com/x", "topics": ["record.created"]}),
            422,
            "invalid_url",
        ),
        (
            json!({"url": "http://10.1.2.3/hook", "topics": ["record.created"]}),
            422,
            "url_not_allowed",
        ),
    ] {
        assert_error(&s.post(HOOKS, body).await, status, code);
    }
    assert_eq!(s.get(HOOKS).await.1, json!([]));
    let (_, rep) = s.user_with_role("sales").await;
    assert_error(&rep.get(HOOKS).await, 403, "forbidden");

    let (status, deals) = s
        .post(
            HOOKS,
            json!({"url": format!("{base}/ok"), "topics": ["record.created", "record.updated"],
                   "objects": ["deal"], "description": "ERP 订单同步 <script>"}),
        )
        .await;
    assert_eq!(status, 201, "{deals}");
    let secret = deals["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    let deals_id = deals["id"].as_str().unwrap().to_string();
    let (status, failing) = s
        .post(
            HOOKS,
            json!({"url": format!("{base}/fail"), "topics": ["record.created"], "objects": ["contact"]}),
        )
        .await;
    assert_eq!(status, 201, "{failing}");

    // Three deals and an update of one; a contact goes only to the refusing endpoint.
    let mut ids = BTreeSet::new();
    for name in ["华东项目", "Acme renewal", "深圳 <img src=x>"] {
        ids.insert(
            s.create("deal", json!({"name": name})).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let first = ids.iter().next().unwrap().clone();
    let (status, _) = s
        .patch(
            &format!("/api/v1/objects/deal/records/{first}"),
            json!({"values": {"name": "华东项目二期"}}),
        )
        .await;
    assert_eq!(status, 200);
    s.create(
        "contact",
        json!({"name": "王芳", "email": "wang.fang@hooks.example"}),
    )
    .await;

    wait_for(&received, 4).await;
    // The refusing endpoint is tried too: wait for its attempt to be logged.
    let failing_id = failing["id"].as_str().unwrap();
    let mut logged = Value::Null;
    for _ in 0..600 {
        let (_, d) = s.get(&format!("{HOOKS}/{failing_id}/deliveries")).await;
        if d[0]["attempts"].as_array().is_some_and(|a| !a.is_empty()) {
            logged = d;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(logged[0]["topic"], "record.created", "{logged}");
    assert_eq!(logged[0]["attempts"][0]["status"], 500, "{logged}");
    assert_eq!(logged[0]["state"], "pending");

    // The receiver logs both endpoints' requests; the contact went to the refusing one.
    let all = messages(&received);
    let deal_messages: Vec<_> = all
        .iter()
        .filter(|(_, _, _, body)| body.contains("\"object\":\"deal\""))
        .collect();
    assert_eq!(deal_messages.len(), 4, "{all:?}");
    let mut seen_ids = BTreeSet::new();
    let mut created = BTreeSet::new();
    let mut updates = 0;
    for (id, signatures, timestamp, body) in &deal_messages {
        assert!(seen_ids.insert(id.clone()), "a webhook-id was used twice");
        assert_eq!(
            signatures,
            &vec![expected_signature(&secret, id, timestamp, body)]
        );
        let body: Value = serde_json::from_str(body).unwrap();
        match body["type"].as_str().unwrap() {
            "record.created" => {
                created.insert(body["data"]["id"].as_str().unwrap().to_string());
            }
            "record.updated" => updates += 1,
            other => panic!("unexpected {other}"),
        }
        assert_eq!(body["data"]["object"], "deal");
    }
    assert_eq!(created, ids);
    assert_eq!(updates, 1);

    // The delivery log shows each message delivered at the first attempt.
    let (_, log) = s.get(&format!("{HOOKS}/{deals_id}/deliveries")).await;
    assert_eq!(log.as_array().unwrap().len(), 4, "{log}");
    assert!(log
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["state"] == "delivered" && d["attempts"][0]["status"] == 200));

    // Sent again: the same webhook-id.
    // (Counted before asking: the resent message may arrive before the answer does.)
    let again = log[0]["id"].as_str().unwrap().to_string();
    let before = received.lock().unwrap().len();
    let (status, _) = s
        .post(&format!("{HOOKS}/deliveries/{again}/resend"), json!({}))
        .await;
    assert_eq!(status, 202);
    wait_for(&received, before + 1).await;
    for _ in 0..600 {
        if messages(&received)[before..].iter().any(|m| m.0 == again) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(messages(&received)[before..].iter().any(|m| m.0 == again));
    assert_error(
        &s.post(&format!("{HOOKS}/deliveries/msg_nope/resend"), json!({}))
            .await,
        404,
        "not_found",
    );

    // A rotation: both secrets sign for a while.
    let (status, rotated) = s
        .post(&format!("{HOOKS}/{deals_id}/rotate-secret"), json!({}))
        .await;
    assert_eq!(status, 200);
    let new_secret = rotated["secret"].as_str().unwrap().to_string();
    assert_ne!(new_secret, secret);
    assert_eq!(
        s.get(&format!("{HOOKS}/{deals_id}/secret")).await.1["secret"],
        new_secret
    );
    s.create("deal", json!({"name": "轮换之后"})).await;
    let mut rotated_message = None;
    for _ in 0..600 {
        rotated_message = messages(&received)
            .into_iter()
            .find(|m| m.3.contains("轮换之后"));
        if rotated_message.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (id, signatures, timestamp, body) = rotated_message.expect("the message after rotation");
    assert_eq!(
        signatures,
        vec![
            expected_signature(&new_secret, &id, &timestamp, &body),
            expected_signature(&secret, &id, &timestamp, &body)
        ]
    );

    // Disabled: nothing more arrives.
    let (status, disabled) = s
        .call(Method::PUT, &format!("{HOOKS}/{deals_id}"))
        .json(&json!({"url": format!("{base}/ok"), "topics": ["record.created"], "enabled": false}))
        .send()
        .await
        .pair();
    assert_eq!(status, 200, "{disabled}");
    assert_eq!(disabled["enabled"], false);
    let before = received.lock().unwrap().len();
    s.create("deal", json!({"name": "停用之后"})).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let after: Vec<_> = messages(&received)[before..]
        .iter()
        .filter(|(_, _, _, body)| body.contains("停用之后"))
        .cloned()
        .collect();
    assert!(after.is_empty(), "{after:?}");
    let (status, _) = s.delete(&format!("{HOOKS}/{deals_id}")).await;
    assert_eq!(status, 204);
    assert_error(
        &s.get(&format!("{HOOKS}/{deals_id}")).await,
        404,
        "not_found",
    );
}

/// A receiver that fails its first `failures` requests on `/flaky` (503) and every one on
/// `/down` (500).
#[derive(Clone, Default)]
struct Flaky {
    got: Arc<Mutex<Vec<(String, HeaderMap, String)>>>,
    failures: Arc<AtomicUsize>,
}

impl Flaky {
    fn on(&self, path: &str) -> Vec<(HeaderMap, String)> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, ..)| p == path)
            .map(|(_, h, b)| (h.clone(), b.clone()))
            .collect()
    }

    /// Moves the clock on by `step` until `path` has had `n` requests: a retry is due at a time
    /// computed when its attempt failed, which may be after the clock's last step.
    async fn advance_until(
        &self,
        clock: &ManualClock,
        path: &str,
        n: usize,
        step: chrono::Duration,
    ) {
        for _ in 0..120 {
            if self.on(path).len() >= n {
                return;
            }
            clock.advance(step);
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!(
            "expected {n} requests on {path}, got {}",
            self.on(path).len()
        );
    }

    async fn wait(&self, path: &str, n: usize) {
        for _ in 0..600 {
            if self.on(path).len() >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "expected {n} requests on {path}, got {}",
            self.on(path).len()
        );
    }
}

async fn flaky(State(r): State<Flaky>, headers: HeaderMap, body: String) -> StatusCode {
    r.got.lock().unwrap().push(("/flaky".into(), headers, body));
    let left = r.failures.load(Ordering::SeqCst);
    if left > 0 {
        r.failures.store(left - 1, Ordering::SeqCst);
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    }
}

async fn down(State(r): State<Flaky>, headers: HeaderMap, body: String) -> StatusCode {
    r.got.lock().unwrap().push(("/down".into(), headers, body));
    StatusCode::INTERNAL_SERVER_ERROR
}

async fn retries_keep_the_id_and_failing_endpoints_switch_off(b: Backend) {
    let start: DateTime<Utc> = "2026-03-01T09:00:00Z".parse().unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let s = TestServer::start_with_clock(b, ServerConfig::default(), clock.clone()).await;
    let receiver = Flaky::default();
    receiver.failures.store(2, Ordering::SeqCst);
    let app = axum::Router::new()
        .route("/flaky", axum::routing::post(flaky))
        .route("/down", axum::routing::post(down))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let subscribe = |path: &str| json!({"url": format!("{base}{path}"), "topics": ["record.created"], "objects": ["deal"]});
    let (_, flaky_endpoint) = s.post(HOOKS, subscribe("/flaky")).await;
    let (_, down_endpoint) = s.post(HOOKS, subscribe("/down")).await;
    let secret = flaky_endpoint["secret"].as_str().unwrap().to_string();
    let flaky_id = flaky_endpoint["id"].as_str().unwrap().to_string();
    let down_id = down_endpoint["id"].as_str().unwrap().to_string();

    s.create("deal", json!({"name": "重试的商机"})).await;
    // PostgreSQL's outbox is read once entries have settled (five seconds).
    clock.advance(chrono::Duration::seconds(6));
    receiver.wait("/flaky", 1).await;
    receiver.wait("/down", 1).await;
    // Each retry comes once the clock passes its backoff (at most a minute, then two).
    for n in 2..=3 {
        receiver
            .advance_until(&clock, "/flaky", n, chrono::Duration::minutes(10))
            .await;
    }
    let attempts = receiver.on("/flaky");
    let ids: BTreeSet<String> = attempts
        .iter()
        .map(|(h, _)| h["webhook-id"].to_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 1, "one webhook-id for every attempt");
    let mut stamps = Vec::new();
    for (headers, body) in &attempts {
        let header = |name: &str| headers[name].to_str().unwrap().to_string();
        let (id, timestamp) = (header("webhook-id"), header("webhook-timestamp"));
        assert_eq!(
            header("webhook-signature"),
            expected_signature(&secret, &id, &timestamp, body)
        );
        stamps.push(timestamp.parse::<i64>().unwrap());
    }
    assert!(
        stamps.windows(2).all(|w| w[0] < w[1]),
        "each attempt has its own time: {stamps:?}"
    );
    let mut delivered = Value::Null;
    for _ in 0..600 {
        let (_, log) = s.get(&format!("{HOOKS}/{flaky_id}/deliveries")).await;
        if log[0]["state"] == "delivered" {
            delivered = log;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let statuses: Vec<i64> = delivered[0]["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .map(|a| a["status"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses, vec![200, 503, 503]);

    // The dead endpoint has failed since the first attempt; six days on, its next attempt
    // switches it off, audited, and it gets nothing more.
    let (_, before) = s.get(&format!("{HOOKS}/{down_id}")).await;
    assert!(before["failing_since"].is_string(), "{before}");
    assert_eq!(before["enabled"], true);
    let seen = receiver.on("/down").len();
    clock.advance(chrono::Duration::days(6));
    receiver
        .advance_until(&clock, "/down", seen + 1, chrono::Duration::hours(1))
        .await;
    let mut off = Value::Null;
    for _ in 0..600 {
        let (_, now) = s.get(&format!("{HOOKS}/{down_id}")).await;
        if now["enabled"] == false {
            off = now;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(off["disabled_reason"], "failing", "{off}");
    let (_, audit) = s
        .call(Method::GET, "/api/v1/audit")
        .query(&[("action", "webhook.auto_disable")])
        .send()
        .await
        .pair();
    assert_eq!(audit.as_array().map(Vec::len), Some(1), "{audit}");
    assert_eq!(audit[0]["target"], down_id);
    // Enabled again by an admin: the reason and the run of failures are forgotten.
    let (status, back) = s
        .call(Method::PUT, &format!("{HOOKS}/{down_id}"))
        .json(&subscribe("/down"))
        .send()
        .await
        .pair();
    assert_eq!(status, 200, "{back}");
    assert_eq!(
        (
            back["enabled"].clone(),
            back["disabled_reason"].clone(),
            back["failing_since"].clone()
        ),
        (json!(true), Value::Null, Value::Null)
    );

    // A time range sent again: the same message, the same id, a fourth time.
    let now = chrono::DateTime::parse_from_rfc3339(back["updated_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc);
    let (status, resent) = s
        .post(
            &format!("{HOOKS}/{flaky_id}/resend"),
            json!({"since": (start - chrono::Duration::hours(1)).to_rfc3339(), "until": now.to_rfc3339()}),
        )
        .await;
    assert_eq!(
        (status, resent["queued"].clone()),
        (202, json!(1)),
        "{resent}"
    );
    receiver.wait("/flaky", 4).await;
    let last = receiver.on("/flaky").last().unwrap().0["webhook-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(ids.contains(&last));
    assert_error(
        &s.post(
            &format!("{HOOKS}/{flaky_id}/resend"),
            json!({"since": now.to_rfc3339(), "until": start.to_rfc3339()}),
        )
        .await,
        422,
        "invalid_webhook",
    );
}

async fn ordered_endpoints_deliver_one_at_a_time(b: Backend) {
    let start: DateTime<Utc> = "2026-03-01T09:00:00Z".parse().unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let s = TestServer::start_with_clock(b, ServerConfig::default(), clock.clone()).await;
    let receiver = Flaky::default();
    receiver.failures.store(1, Ordering::SeqCst);
    let app = axum::Router::new()
        .route("/flaky", axum::routing::post(flaky))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let (status, endpoint) = s
        .post(
            HOOKS,
            json!({"url": format!("{base}/flaky"), "topics": ["record.created"], "objects": ["deal"], "ordered": true}),
        )
        .await;
    assert_eq!(status, 201, "{endpoint}");
    assert_eq!(endpoint["ordered"], true);

    // Five deals at once; the first delivery fails, and nothing overtakes it.
    let mut created = Vec::new();
    for i in 1..=5 {
        created.push(
            s.create("deal", json!({"name": format!("有序 {i}")})).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    clock.advance(chrono::Duration::seconds(6));
    receiver.wait("/flaky", 1).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        receiver.on("/flaky").len(),
        1,
        "a later message overtook the failed one"
    );
    receiver
        .advance_until(&clock, "/flaky", 6, chrono::Duration::minutes(10))
        .await;
    let order: Vec<String> = receiver
        .on("/flaky")
        .iter()
        .map(|(_, body)| {
            let body: Value = serde_json::from_str(body).unwrap();
            body["data"]["id"].as_str().unwrap().to_string()
        })
        .collect();
    let mut expected = vec![created[0].clone()];
    expected.extend(created.iter().cloned());
    assert_eq!(
        order, expected,
        "the first message twice, then the rest in order"
    );
}

/// A receiver whose `/a` and `/b` stop answering in time while `down` (they hold each request
/// three seconds, past the endpoints' one-second timeout); `/c` always answers. Requests
/// answered while up are kept as (path, webhook-id, record id).
#[derive(Clone, Default)]
struct Switch {
    down: Arc<std::sync::atomic::AtomicBool>,
    tried: Arc<Mutex<Vec<String>>>,
    delivered: Arc<Mutex<Vec<(String, String, String)>>>,
}

impl Switch {
    fn delivered(&self, path: &str) -> Vec<(String, String)> {
        self.delivered
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, ..)| p == path)
            .map(|(_, id, record)| (id.clone(), record.clone()))
            .collect()
    }

    fn tried(&self, path: &str) -> usize {
        self.tried
            .lock()
            .unwrap()
            .iter()
            .filter(|p| *p == path)
            .count()
    }
}

async fn switched(
    State(r): State<Switch>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    let path = uri.path().to_string();
    r.tried.lock().unwrap().push(path.clone());
    if path != "/c" && r.down.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_secs(3)).await;
        return StatusCode::OK;
    }
    let body: Value = serde_json::from_str(&body).unwrap();
    r.delivered.lock().unwrap().push((
        path,
        headers["webhook-id"].to_str().unwrap().to_string(),
        body["data"]["id"].as_str().unwrap().to_string(),
    ));
    StatusCode::OK
}

/// Deals named 熔断 1, 熔断 2, …; their ids in order.
async fn create_deals(s: &TestServer, numbers: std::ops::RangeInclusive<i32>) -> Vec<String> {
    let mut ids = Vec::new();
    for i in numbers {
        let deal = s.create("deal", json!({"name": format!("熔断 {i}")})).await;
        ids.push(deal["id"].as_str().unwrap().to_string());
    }
    ids
}

async fn until_state(s: &TestServer, id: &str, state: &str, clock: Option<&ManualClock>) -> Value {
    for _ in 0..240 {
        let (_, endpoint) = s.get(&format!("{HOOKS}/{id}")).await;
        if endpoint["breaker_state"] == state {
            return endpoint;
        }
        if let Some(clock) = clock {
            clock.advance(chrono::Duration::minutes(10));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("the breaker of {id} never became {state}");
}

async fn until_delivered(receiver: &Switch, path: &str, n: usize, clock: Option<&ManualClock>) {
    for _ in 0..600 {
        if receiver.delivered(path).len() >= n {
            return;
        }
        if let Some(clock) = clock {
            clock.advance(chrono::Duration::minutes(2));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "expected {n} deliveries on {path}, got {}",
        receiver.delivered(path).len()
    );
}

async fn a_dead_destination_opens_its_breaker_and_drains_after_recovery(b: Backend) {
    let start: DateTime<Utc> = "2026-03-01T09:00:00Z".parse().unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let config = ServerConfig {
        metrics_token: Some(METRICS_TOKEN.to_string()),
        ..ServerConfig::default()
    };
    let s = TestServer::start_with_clock(b, config, clock.clone()).await;
    let receiver = Switch::default();
    receiver.down.store(true, Ordering::SeqCst);
    let app = axum::Router::new()
        .fallback(axum::routing::post(switched))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    // Bad breaker settings are refused.
    for bad in [
        json!({"timeout_seconds": 0}),
        json!({"timeout_seconds": 61}),
        json!({"breaker": {"timeouts": 0}}),
        json!({"breaker": {"window": 500}}),
        json!({"breaker": {"trips": 3}}),
    ] {
        let mut body = json!({"url": format!("{base}/a"), "topics": ["record.created"]});
        body.as_object_mut()
            .unwrap()
            .extend(bad.as_object().unwrap().clone());
        let (status, answer) = s.post(HOOKS, body).await;
        assert!(status == 422 || status == 400, "{bad}: {status} {answer}");
    }
    let endpoint = |path: &str, ordered: bool| {
        json!({"url": format!("{base}{path}"), "topics": ["record.created"], "objects": ["deal"],
               "ordered": ordered, "timeout_seconds": 1, "breaker": {"timeouts": 3, "cooldown_seconds": 30}})
    };
    let (status, a) = s.post(HOOKS, endpoint("/a", false)).await;
    assert_eq!(status, 201, "{a}");
    assert_eq!(a["breaker_state"], "closed");
    assert_eq!(
        a["breaker"]["window"], 20,
        "unset settings take their defaults"
    );
    let (_, b_endpoint) = s.post(HOOKS, endpoint("/b", true)).await;
    let (_, c) = s.post(HOOKS, endpoint("/c", false)).await;
    let c_id = c["id"].as_str().unwrap().to_string();
    let a_id = a["id"].as_str().unwrap().to_string();
    let b_id = b_endpoint["id"].as_str().unwrap().to_string();

    let mut deals = create_deals(&s, 1..=10).await;
    clock.advance(chrono::Duration::seconds(6));
    // The healthy destination gets everything while the other two time out.
    until_delivered(&receiver, "/c", 10, None).await;
    let open = until_state(&s, &a_id, "open", None).await;
    assert!(
        open["last_error"].as_str().unwrap().contains("no answer"),
        "{open}"
    );
    assert!(open["next_probe_at"].is_string(), "{open}");
    // The ordered endpoint tries its oldest message alone, three times over its backoff.
    until_state(&s, &b_id, "open", Some(&clock)).await;

    // While open, new messages are parked without an attempt.
    deals.extend(create_deals(&s, 11..=15).await);
    clock.advance(chrono::Duration::seconds(6));
    until_delivered(&receiver, "/c", 15, None).await;
    let mut log = Value::Null;
    for _ in 0..600 {
        let (_, deliveries) = s.get(&format!("{HOOKS}/{a_id}/deliveries")).await;
        if deliveries.as_array().unwrap().len() == 15 {
            log = deliveries;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let newest: Vec<&Value> = log
        .as_array()
        .expect("15 messages")
        .iter()
        .take(5)
        .collect();
    for message in newest {
        assert_eq!(message["state"], "parked", "{message}");
        assert_eq!(message["attempts"], json!([]), "{message}");
    }
    assert!(receiver.delivered("/a").is_empty() && receiver.delivered("/b").is_empty());
    assert!(receiver.tried("/a") >= 3 && receiver.tried("/b") >= 3);

    // The health map: the dead destination's breaker, its parked messages and failures beside
    // the healthy one's deliveries; the same in the node's metrics.
    let (status, map) = s.get(&format!("{HOOKS}/health?window_minutes=1440")).await;
    assert_eq!(status, 200, "{map}");
    let node = |id: &str| {
        map["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == id)
            .cloned()
            .unwrap()
    };
    let (dead, healthy) = (node(&a_id), node(&c_id));
    assert_ne!(dead["breaker_state"], "closed", "{dead}");
    // (Parked, or the one a probe is trying now.)
    assert_eq!(
        dead["parked"].as_i64().unwrap() + dead["queued"].as_i64().unwrap(),
        15,
        "{dead}"
    );
    assert_eq!(dead["failure_rate"], 1.0, "{dead}");
    assert!(dead["last_error"].as_str().unwrap().contains("no answer"));
    assert_eq!(healthy["breaker_state"], "closed");
    assert_eq!(healthy["failure_rate"], 0.0, "{healthy}");
    assert_eq!(healthy["parked"], 0);
    assert!(healthy["delivered_per_minute"].as_f64().unwrap() > 0.0);
    assert!(
        healthy["latency_p95_ms"].as_i64().unwrap() >= healthy["latency_p50_ms"].as_i64().unwrap()
    );
    assert_error(
        &s.get(&format!("{HOOKS}/health?window=5")).await,
        400,
        "invalid_query",
    );
    let metrics = || async {
        s.as_auth(Auth::Header(format!("Bearer {METRICS_TOKEN}")))
            .call(Method::GET, "/metrics")
            .send()
            .await
            .text
    };
    let text = metrics().await;
    assert!(
        text.contains(&format!(
            "rapport_webhook_attempts_total{{endpoint=\"{c_id}\",outcome=\"delivered\"}} 15"
        )),
        "{text}"
    );
    assert!(text.contains(&format!(
        "rapport_webhook_attempts_total{{endpoint=\"{a_id}\",outcome=\"no_answer\"}}"
    )));
    let mut gauged = false;
    for _ in 0..100 {
        let text = metrics().await;
        if text.contains(&format!(
            "rapport_webhook_messages{{endpoint=\"{a_id}\",state=\"parked\"}} 15"
        )) && text.contains(&format!(
            "rapport_webhook_breaker_state{{endpoint=\"{c_id}\"}} 0"
        )) {
            gauged = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gauged, "the gauges never showed the parked messages");

    // Back up: past the longest cool-down a probe closes each breaker and the parked messages
    // drain — every one of them, and the ordered endpoint's in the order they were made.
    receiver.down.store(false, Ordering::SeqCst);
    // (A probe under way when it came back may still fail and put the next one off: the clock
    // moves on while waiting.)
    until_delivered(&receiver, "/a", 15, Some(&clock)).await;
    until_delivered(&receiver, "/b", 15, Some(&clock)).await;
    let a_records: BTreeSet<String> = receiver
        .delivered("/a")
        .into_iter()
        .map(|(_, r)| r)
        .collect();
    assert_eq!(a_records, deals.iter().cloned().collect::<BTreeSet<_>>());
    let b_records: Vec<String> = receiver
        .delivered("/b")
        .into_iter()
        .map(|(_, r)| r)
        .collect();
    assert_eq!(
        b_records, deals,
        "the ordered endpoint's messages, in order"
    );
    for path in ["/a", "/b"] {
        let mut id_of = std::collections::BTreeMap::new();
        for (id, record) in receiver.delivered(path) {
            assert_eq!(id_of.entry(record).or_insert_with(|| id.clone()), &id);
        }
    }
    let closed = until_state(&s, &a_id, "closed", None).await;
    assert!(closed["breaker_opened_at"].is_null(), "{closed}");
    let (_, deliveries) = s.get(&format!("{HOOKS}/{a_id}/deliveries")).await;
    assert!(
        deliveries
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["state"] == "delivered"),
        "{deliveries}"
    );
}

/// A receiver that refuses (503) everything while `down`, and keeps (path, webhook-id, body) of
/// what it accepts.
#[derive(Clone, Default)]
struct Flapping {
    down: Arc<std::sync::atomic::AtomicBool>,
    refused: Arc<AtomicUsize>,
    accepted: Arc<Mutex<Vec<(String, String, Value)>>>,
}

async fn flapping(
    State(r): State<Flapping>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    if r.down.load(Ordering::SeqCst) {
        r.refused.fetch_add(1, Ordering::SeqCst);
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    r.accepted.lock().unwrap().push((
        uri.path().to_string(),
        headers["webhook-id"].to_str().unwrap().to_string(),
        serde_json::from_str(&body).unwrap(),
    ));
    StatusCode::OK
}

/// Names the writers use: ordinary, Chinese, emoji, markup and SQL-looking text, all of which
/// must arrive byte for byte.
const NAMES: [&str; 6] = [
    "华东区域 年度框架协议",
    "Acme renewal",
    "<script>alert('x')</script>",
    "'; DROP TABLE deals; --",
    "🙂 表情 \u{200b} 零宽",
    "名\"引号\" and \\ backslash",
];

async fn racing_writers_and_a_flapping_destination_lose_nothing(b: Backend) {
    let start: DateTime<Utc> = "2026-03-01T09:00:00Z".parse().unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let s = TestServer::start_with_clock(b, ServerConfig::default(), clock.clone()).await;
    let receiver = Flapping::default();
    let app = axum::Router::new()
        .fallback(axum::routing::post(flapping))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let subscribe = |path: &str, objects: Value| json!({"url": format!("{base}{path}"), "topics": ["record.created"], "objects": objects});
    let (status, _) = s
        .post(HOOKS, subscribe("/all-deals", json!(["deal"])))
        .await;
    assert_eq!(status, 201);
    let (status, _) = s
        .post(HOOKS, subscribe("/contacts", json!(["contact"])))
        .await;
    assert_eq!(status, 201);

    // The receiver flaps, and time runs fast (retries, breaker probes), until the end.
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let calm = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let weather = {
        let (receiver, clock) = (receiver.clone(), clock.clone());
        let (done, calm) = (done.clone(), calm.clone());
        tokio::spawn(async move {
            // Down from the start until it has refused some deliveries, then down two ticks in
            // five while the writers write; then up for good, with time running faster so that
            // retries and breaker probes put off by the flapping come round soon.
            receiver.down.store(true, Ordering::SeqCst);
            let mut tick = 0u32;
            while !done.load(Ordering::SeqCst) {
                let refused_some = receiver.refused.load(Ordering::SeqCst) >= 5;
                let settled = calm.load(Ordering::SeqCst) && refused_some;
                if refused_some {
                    receiver
                        .down
                        .store(!settled && tick % 5 < 2, Ordering::SeqCst);
                }
                clock.advance(chrono::Duration::seconds(if settled { 300 } else { 20 }));
                tick += 1;
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
            receiver.down.store(false, Ordering::SeqCst);
        })
    };

    // Four writers: deals (some refused: a bad amount), and now and then a contact. Each
    // accepted record is noted with when its request began.
    let written = Arc::new(Mutex::new(Vec::<(String, String, String, usize)>::new()));
    let started = Arc::new(AtomicUsize::new(0));
    let mut writers = Vec::new();
    for w in 0..4 {
        let (api, written, started) = (s.api.clone(), written.clone(), started.clone());
        writers.push(tokio::spawn(async move {
            for i in 0..30 {
                let order = started.fetch_add(1, Ordering::SeqCst);
                let name = format!("{} #{w}-{i}", NAMES[(w + i) % NAMES.len()]);
                let (object, values) = match i % 6 {
                    5 => (
                        "contact",
                        json!({"name": name, "email": format!("w{w}i{i}@race.example")}),
                    ),
                    // Refused: nothing may be sent for it.
                    4 => ("deal", json!({"name": name, "amount": "不是数字"})),
                    _ => ("deal", json!({"name": name})),
                };
                let (status, body) = api
                    .post(
                        &format!("/api/v1/objects/{object}/records"),
                        json!({ "values": values }),
                    )
                    .await;
                match status {
                    201 => written.lock().unwrap().push((
                        object.to_string(),
                        body["id"].as_str().unwrap().to_string(),
                        name,
                        order,
                    )),
                    422 => assert_eq!(i % 6, 4, "{body}"),
                    other => panic!("{other}: {body}"),
                }
            }
        }));
    }
    // An endpoint added while they write: it gets every deal whose request began after.
    while started.load(Ordering::SeqCst) < 40 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (status, _) = s.post(HOOKS, subscribe("/late", json!(["deal"]))).await;
    assert_eq!(status, 201);
    let late_from = started.load(Ordering::SeqCst);
    for writer in writers {
        writer.await.unwrap();
    }
    calm.store(true, Ordering::SeqCst);

    // The model: what each endpoint must get.
    let written = written.lock().unwrap().clone();
    let deals: std::collections::BTreeMap<String, String> = written
        .iter()
        .filter(|(o, ..)| o == "deal")
        .map(|(_, id, name, _)| (id.clone(), name.clone()))
        .collect();
    let contacts: BTreeSet<String> = written
        .iter()
        .filter(|(o, ..)| o == "contact")
        .map(|(_, id, ..)| id.clone())
        .collect();
    let late: BTreeSet<String> = written
        .iter()
        .filter(|(o, _, _, order)| o == "deal" && *order >= late_from)
        .map(|(_, id, ..)| id.clone())
        .collect();
    assert_eq!(deals.len(), 80);
    let arrived = |path: &str| -> BTreeSet<String> {
        receiver
            .accepted
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, ..)| p == path)
            .map(|(_, _, body)| body["data"]["id"].as_str().unwrap().to_string())
            .collect()
    };
    let mut complete = false;
    for _ in 0..600 {
        let all = arrived("/all-deals");
        if deals.keys().all(|id| all.contains(id))
            && contacts.iter().all(|id| arrived("/contacts").contains(id))
            && late.iter().all(|id| arrived("/late").contains(id))
        {
            complete = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    done.store(true, Ordering::SeqCst);
    weather.await.unwrap();
    assert!(
        complete,
        "missing: {} deals, {} contacts, {} late deals",
        deals
            .keys()
            .filter(|id| !arrived("/all-deals").contains(*id))
            .count(),
        contacts
            .iter()
            .filter(|id| !arrived("/contacts").contains(*id))
            .count(),
        late.iter()
            .filter(|id| !arrived("/late").contains(*id))
            .count()
    );

    // The flapping was felt: deliveries were refused and tried again.
    assert!(receiver.refused.load(Ordering::SeqCst) > 0);
    // Nothing else arrived; every body is intact; one webhook-id per endpoint and record.
    let accepted = receiver.accepted.lock().unwrap().clone();
    let mut ids = std::collections::BTreeMap::new();
    for (path, webhook_id, body) in &accepted {
        let id = body["data"]["id"].as_str().unwrap().to_string();
        match path.as_str() {
            "/all-deals" | "/late" => {
                assert_eq!(
                    body["data"]["change"]["name"].as_str(),
                    deals.get(&id).map(String::as_str),
                    "{body}"
                );
            }
            "/contacts" => assert!(contacts.contains(&id), "{body}"),
            other => panic!("a request on {other}"),
        }
        assert_eq!(
            ids.entry((path.clone(), id))
                .or_insert_with(|| webhook_id.clone()),
            webhook_id
        );
    }
    assert!(arrived("/late").iter().all(|id| deals.contains_key(id)));
}
