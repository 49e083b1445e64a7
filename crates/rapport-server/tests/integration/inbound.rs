//! Inbound webhooks: requests signed by the `standardwebhooks` library (PyPI, through the
//! loopback counterparts) become record upserts found by a match field, statuses translated
//! through the semantic dictionary, source `integration`; a replayed `webhook-id` writes
//! nothing twice; a batch with one bad item writes nothing and is kept for inspection with its
//! code; unsigned, stale or foreign-signed requests are refused without keeping their payload;
//! token hooks check their bearer token; four senders racing on shared order numbers make one
//! record per number.

use crate::harness::{assert_error, Backend, TestServer};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;

crate::both_backends!(inbound_hooks_upsert_records_all_or_nothing);

const HOOKS: &str = "/api/v1/inbound-hooks";

/// Posts `body` to the hook signed by the `standardwebhooks` library with `secret`.
async fn signed(
    s: &TestServer,
    counterparts: &str,
    hook: &str,
    secret: &str,
    message_id: &str,
    body: &str,
) -> (u16, Value) {
    let client = reqwest::Client::new();
    let headers: Value = client
        .post(format!("{counterparts}/_sign"))
        .query(&[("secret", secret), ("id", message_id)])
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut call = client
        .post(format!("{}/api/v1/hooks/{hook}", s.api.base))
        .header("content-type", "application/json")
        .body(body.to_string());
    for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        call = call.header(name, headers[name].as_str().unwrap());
    }
    let answer = call.send().await.unwrap();
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}

async fn deals_numbered(s: &TestServer) -> Vec<(String, Value)> {
    let (_, page) = s.get("/api/v1/objects/deal/records?limit=200").await;
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["values"]["erp_order_no"].is_string())
        .map(|r| {
            (
                r["values"]["erp_order_no"].as_str().unwrap().to_string(),
                r.clone(),
            )
        })
        .collect()
}

async fn inbound_hooks_upsert_records_all_or_nothing(b: Backend) {
    let s = TestServer::start(b).await;
    let c = crate::connectors::Counterparts::start();
    for field in [
        json!({"api_name": "erp_order_no", "label": {"zh": "ERP 订单号"}, "type": "text"}),
        json!({"api_name": "order_status", "label": {"zh": "订单状态"}, "type": "select",
               "config": {"options": [{"value": "signed", "label": {"zh": "已签约"}}, {"value": "shipped", "label": {"zh": "已发货"}}]}}),
    ] {
        let (status, body) = s.post("/api/v1/objects/deal/fields", field).await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, _) = s
        .post("/api/v1/dictionary", json!({"system": "ERP", "object": "deal", "field": "order_status",
            "entries": [{"crm_value": "shipped", "external_code": "SHIPPED"}, {"crm_value": "signed", "external_code": "CONTRACTED"}]}))
        .await;
    assert_eq!(status, 201);
    let (status, hook) = s
        .post(HOOKS, json!({"name": "ERP 订单回传", "object": "deal", "match_field": "erp_order_no",
            "mapping": {"erp_order_no": "/orderNo", "name": "/customer", "order_status": "/status | map:ERP"}}))
        .await;
    assert_eq!(status, 201, "{hook}");
    let id = hook["id"].as_str().unwrap().to_string();
    let secret = hook["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(hook["path"], format!("/api/v1/hooks/{id}"));
    let (_, listed) = s.get(HOOKS).await;
    assert!(
        !listed.to_string().contains(&secret),
        "the secret is shown once"
    );
    let send = |message_id: &str, body: Value| {
        let (s, c, id, secret, message_id) =
            (&s, &c, id.clone(), secret.clone(), message_id.to_string());
        async move { signed(s, &c.http, &id, &secret, &message_id, &body.to_string()).await }
    };

    // Created, then the same message again changes nothing, then an update by order number.
    let (status, got) = send(
        "msg_1",
        json!({"orderNo": "SO-001", "customer": "华为 <b>技术</b>", "status": "CONTRACTED"}),
    )
    .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["records"][0]["action"], "created");
    let deal_id = got["records"][0]["id"].as_str().unwrap().to_string();
    let (status, again) = send(
        "msg_1",
        json!({"orderNo": "SO-001", "customer": "华为 <b>技术</b>", "status": "CONTRACTED"}),
    )
    .await;
    assert_eq!(
        (status, again["replayed"].as_bool()),
        (200, Some(true)),
        "{again}"
    );
    assert_eq!(again["records"], got["records"]);
    let (status, got) = send("msg_2", json!({"orderNo": "SO-001", "status": "SHIPPED"})).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(
        got["records"],
        json!([{"id": deal_id, "action": "updated"}])
    );
    let (_, deal) = s
        .get(&format!("/api/v1/objects/deal/records/{deal_id}"))
        .await;
    assert_eq!(deal["values"]["order_status"], "shipped");
    assert_eq!(deal["values"]["name"], "华为 <b>技术</b>");
    let (_, history) = s
        .get(&format!("/api/v1/objects/deal/records/{deal_id}/history"))
        .await;
    assert!(
        history
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["source"] == "integration"),
        "{history}"
    );

    // One bad item in a batch: nothing written, the request kept with its code.
    let before = deals_numbered(&s).await.len();
    let batch = json!([{"orderNo": "SO-002", "customer": "小米", "status": "SHIPPED"},
                      {"orderNo": "SO-003", "customer": "美的", "status": "SHIPPED"},
                      {"orderNo": "SO-004", "customer": "格力", "status": "CANCELLED"}]);
    let got = send("msg_3", batch).await;
    assert_error(&got, 422, "unmapped_value");
    assert!(
        got.1["message"].as_str().unwrap().contains("item 2"),
        "{}",
        got.1
    );
    for (message_id, body, status, code) in [
        (
            "msg_4",
            json!([{"customer": "没有订单号"}]),
            422,
            "invalid_payload",
        ),
        ("msg_5", json!({"unrelated": 1}), 422, "invalid_payload"),
        (
            "msg_6",
            json!((0..101)
                .map(|i| json!({"orderNo": format!("X{i}")}))
                .collect::<Vec<_>>()),
            422,
            "invalid_payload",
        ),
        (
            "msg_7",
            json!({"orderNo": "SO-009", "customer": "x".repeat(300_000)}),
            422,
            "validation_failed",
        ),
    ] {
        let got = send(message_id, body).await;
        assert_error(&got, status, code);
    }
    let raw = signed(&s, &c.http, &id, &secret, "msg_8", "{\"orderNo\": ").await;
    assert_error(&raw, 400, "invalid_json");
    assert_eq!(
        deals_numbered(&s).await.len(),
        before,
        "nothing half-written"
    );
    let (_, map) = s.get("/api/v1/dictionary").await;
    assert!(
        map[0]["unmapped"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["value"] == "CANCELLED" && u["last_context"] == "inbound hook ERP 订单回传"),
        "{map}"
    );

    // Not signed by this hook's secret, stale, or unsigned: refused, payload not kept.
    let other = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let got = signed(
        &s,
        &c.http,
        &id,
        other,
        "msg_9",
        "{\"orderNo\": \"SO-666\"}",
    )
    .await;
    assert_error(&got, 401, "invalid_signature");
    let stale = s
        .call(Method::POST, &format!("/api/v1/hooks/{id}"))
        .header("webhook-id", "msg_10")
        .header("webhook-timestamp", "1500000000")
        .header("webhook-signature", "v1,AAAA")
        .raw("{}", Some("application/json"))
        .send()
        .await
        .pair();
    assert_error(&stale, 401, "invalid_signature");
    let bare = reqwest::Client::new()
        .post(format!("{}/api/v1/hooks/{id}", s.api.base))
        .body("{\"orderNo\": \"SO-667\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status().as_u16(), 401);
    let (status, log) = s.get(&format!("{HOOKS}/{id}/deliveries?limit=200")).await;
    assert_eq!(status, 200, "{log}");
    let log = log.as_array().unwrap();
    let codes: Vec<&str> = log.iter().filter_map(|d| d["code"].as_str()).collect();
    for code in [
        "unmapped_value",
        "invalid_payload",
        "validation_failed",
        "invalid_json",
        "invalid_signature",
    ] {
        assert!(codes.contains(&code), "{code} not logged: {codes:?}");
    }
    let kept = log.iter().find(|d| d["code"] == "unmapped_value").unwrap();
    assert!(
        kept["payload"].as_str().unwrap().contains("CANCELLED"),
        "{kept}"
    );
    assert!(log
        .iter()
        .filter(|d| d["code"] == "invalid_signature")
        .all(|d| d["payload"] == ""));
    assert!(!log
        .iter()
        .any(|d| d["payload"].as_str().unwrap().contains("SO-666")));
    assert_eq!(log.iter().filter(|d| d["state"] == "accepted").count(), 2);

    // Four senders race on five shared order numbers: one record per number, all accepted.
    let mut senders = Vec::new();
    for w in 0..4 {
        let (api_base, http, id, secret) = (
            s.api.base.clone(),
            c.http.clone(),
            id.clone(),
            secret.clone(),
        );
        senders.push(tokio::spawn(async move {
            for i in 0..10 {
                let body = json!({"orderNo": format!("RACE-{}", (w + i) % 5), "customer": format!("客户 \"{w}\" 🚀 {i}"), "status": "SHIPPED"}).to_string();
                let client = reqwest::Client::new();
                let headers: Value = client
                    .post(format!("{http}/_sign"))
                    .query(&[("secret", secret.clone()), ("id", format!("race-{w}-{i}"))])
                    .body(body.clone())
                    .send().await.unwrap().json().await.unwrap();
                let answer = client
                    .post(format!("{api_base}/api/v1/hooks/{id}"))
                    .header("webhook-id", headers["webhook-id"].as_str().unwrap())
                    .header("webhook-timestamp", headers["webhook-timestamp"].as_str().unwrap())
                    .header("webhook-signature", headers["webhook-signature"].as_str().unwrap())
                    .body(body)
                    .send().await.unwrap();
                assert_eq!(answer.status().as_u16(), 200, "{}", answer.text().await.unwrap());
            }
        }));
    }
    for sender in senders {
        sender.await.unwrap();
    }
    let numbers: Vec<String> = deals_numbered(&s)
        .await
        .into_iter()
        .map(|(n, _)| n)
        .filter(|n| n.starts_with("RACE-"))
        .collect();
    assert_eq!(numbers.len(), 5, "{numbers:?}");
    assert_eq!(numbers.iter().collect::<BTreeSet<_>>().len(), 5);

    // A token hook; a disabled or unknown hook is not there.
    let (status, token_hook) = s
        .post(HOOKS, json!({"name": "OA 审批回传", "object": "deal", "auth": "token", "mapping": {"name": "/title"}}))
        .await;
    assert_eq!(status, 201, "{token_hook}");
    let token = token_hook["secret"].as_str().unwrap();
    let token_path = format!("/api/v1/hooks/{}", token_hook["id"].as_str().unwrap());
    let client = reqwest::Client::new();
    let ok = client
        .post(format!("{}{token_path}", s.api.base))
        .bearer_auth(token)
        .body("{\"title\": \"OA 审批通过\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    let wrong = client
        .post(format!("{}{token_path}", s.api.base))
        .bearer_auth("rtok_wrong")
        .body("{\"title\": \"x\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    let (status, _) = s
        .call(Method::PUT, &format!("{HOOKS}/{id}"))
        .json(&json!({"name": "ERP 订单回传", "object": "deal", "match_field": "erp_order_no", "enabled": false,
            "mapping": {"erp_order_no": "/orderNo"}}))
        .send().await.pair();
    assert_eq!(status, 200);
    let got = send("msg_11", json!({"orderNo": "SO-100"})).await;
    assert_error(&got, 404, "not_found");
    let unknown = client
        .post(format!("{}/api/v1/hooks/nope", s.api.base))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status().as_u16(), 404);

    // Bad hooks are refused.
    for body in [
        json!({"name": "x", "object": "nope", "mapping": {"name": "/n"}}),
        json!({"name": "x", "object": "deal", "mapping": {}}),
        json!({"name": "x", "object": "deal", "mapping": {"nope": "/n"}}),
        json!({"name": "x", "object": "deal", "mapping": {"name": "n"}}),
        json!({"name": "x", "object": "deal", "mapping": {"name": "/n | upper"}}),
        json!({"name": "x", "object": "deal", "match_field": "erp_order_no", "mapping": {"name": "/n"}}),
        json!({"name": "x", "object": "deal", "match_field": "amount", "mapping": {"amount": "/a"}}),
        json!({"name": "", "object": "deal", "mapping": {"name": "/n"}}),
    ] {
        assert_error(&s.post(HOOKS, body).await, 422, "invalid_inbound_hook");
    }
}
