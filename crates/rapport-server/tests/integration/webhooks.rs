//! Outbound webhooks: changes reach the endpoints that asked for their topic and object, each
//! message signed as Standard Webhooks says (checked here with HMAC written out, independent of
//! the server), one `webhook-id` per message that stays the same when it is sent again; a
//! refusing receiver's attempts are logged with its status and answer; a rotated secret signs
//! beside the new one; a disabled endpoint gets nothing; bad endpoints are refused.

use crate::harness::{assert_error, Backend, TestServer};
use crate::snapshots::{hmac_sha256, receiver, Received};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;

crate::both_backends!(webhooks_deliver_signed_messages,);

const HOOKS: &str = "/api/v1/webhooks";

/// The Standard Webhooks signature of a message, computed here from the secret's key bytes.
fn expected_signature(secret: &str, id: &str, timestamp: &str, body: &str) -> String {
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
    for _ in 0..300 {
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
    for _ in 0..300 {
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
    let again = log[0]["id"].as_str().unwrap().to_string();
    let (status, _) = s
        .post(&format!("{HOOKS}/deliveries/{again}/resend"), json!({}))
        .await;
    assert_eq!(status, 202);
    let before = received.lock().unwrap().len();
    wait_for(&received, before + 1).await;
    for _ in 0..300 {
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
    for _ in 0..300 {
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
