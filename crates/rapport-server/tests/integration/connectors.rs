//! Connectors against their loopback counterparts (tests/connectors/counterparts.py): an
//! aiosmtpd SMTP server with login, and HTTP servers that check WeCom keys, DingTalk and
//! Feishu signatures (written out from their documents), Aliyun and Tencent Cloud signatures
//! (with those providers' own Python SDKs), a gateway's bearer token and an ERP's HMAC. Every
//! kind's test send arrives intact — hostile text included — and credentials never leave the
//! server. Wrong credentials fail for good; an outage is retried until it ends while four
//! writers queue sends; an ERP's answer is written back into the record (source
//! `integration`); unsubscribe links are signed, confirmed and honoured; bad input is refused
//! with its code; credentials survive a restart and do not open under another key. The
//! semantic dictionary translates a status both ways (SHIPPED is never read as 已签约), refuses
//! and records values without a mapping, and while writers queue sends and an admin edits the
//! mapping, the ERP never receives a raw CRM value.

use crate::harness::{assert_error, test_sealer, Backend, TestServer};
use reqwest::Method;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

crate::both_backends!(
    every_kind_reaches_its_counterpart,
    wrong_credentials_fail_and_outages_are_retried,
    unsubscribe_links_are_signed_and_honoured,
    bad_connectors_and_messages_are_refused,
    credentials_are_sealed_and_survive_a_restart,
    the_dictionary_translates_both_ways_and_refuses_the_unmapped,
    a_failed_precheck_refuses_the_push,
    a_dead_connector_opens_its_breaker_and_costs_the_others_nothing,
);

const CONNECTORS: &str = "/api/v1/connectors";
const SMTP_PASSWORD: &str = "口令-s3cret";
const WECOM_KEY: &str = "wecom-key-693a91f6";
const DINGTALK_TOKEN: &str = "dingtalk-token-1f2e";
const DINGTALK_SECRET: &str = "SECdingtalk0123456789";
const FEISHU_HOOK: &str = "feishu-hook-0a1b2c";
const FEISHU_SECRET: &str = "feishu-secret-xyz";
const ALIYUN_SECRET: &str = "aliyun-secret-key";
const TENCENT_KEY: &str = "tencent-secret-key";
const GATEWAY_TOKEN: &str = "gateway-token";
const ERP_HMAC: &str = "erp-hmac-secret";
/// Text that breaks whatever escapes it badly: quotes, a JSON break-out, markup, unicode.
const HOSTILE: &str = "报价 \"已发\"}, \"x\": 1 <script>alert(1)</script> \\ 🚀";

/// The counterparts, running until dropped.
pub struct Counterparts {
    child: Child,
    smtp: u16,
    pub http: String,
}

impl Counterparts {
    pub fn start() -> Self {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/connectors");
        let python = dir.join(".venv/bin/python");
        assert!(
            python.exists(),
            "{} is missing: `make test` makes it (python3 -m venv tests/connectors/.venv && \
             tests/connectors/.venv/bin/pip install -r tests/connectors/requirements.txt)",
            python.display()
        );
        let mut child = Command::new(python)
            .arg(dir.join("counterparts.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start counterparts.py");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let ports: Value = serde_json::from_str(&line).expect("ports line");
        Counterparts {
            child,
            smtp: ports["smtp"].as_u64().unwrap() as u16,
            http: format!("http://127.0.0.1:{}", ports["http"]),
        }
    }

    async fn received(&self, party: &str) -> Vec<Value> {
        let all: Value = reqwest::get(format!("{}/_received", self.http))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        all.as_array()
            .unwrap()
            .iter()
            .filter(|e| e["party"] == party)
            .cloned()
            .collect()
    }

    async fn set(&self, party: &str, mode: &str) {
        reqwest::Client::new()
            .post(format!("{}/_mode?party={party}&mode={mode}", self.http))
            .send()
            .await
            .unwrap();
    }
}

impl Drop for Counterparts {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn create(s: &TestServer, body: Value) -> String {
    let (status, created) = s.post(CONNECTORS, body).await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_str().unwrap().to_string()
}

async fn test_send(s: &TestServer, id: &str, message: Value) -> Value {
    let (status, log) = s.post(&format!("{CONNECTORS}/{id}/test"), message).await;
    assert_eq!(status, 200, "{log}");
    log
}

/// Every kind's connector, pointed at the counterparts; answers (name, id) pairs.
async fn connectors(s: &TestServer, c: &Counterparts) -> Vec<(&'static str, String)> {
    let http = &c.http;
    vec![
        ("smtp", create(s, json!({"kind": "smtp", "name": "销售邮箱", "settings": {
            "host": "127.0.0.1", "port": c.smtp, "security": "none", "username": "crm@example.cn",
            "from_address": "crm@example.cn", "from_name": "华东销售部", "public_url": "https://crm.example.cn"},
            "secrets": {"password": SMTP_PASSWORD}})).await),
        ("wecom", create(s, json!({"kind": "wecom_robot", "name": "企业微信群", "settings": {
            "url": format!("{http}/cgi-bin/webhook/send")}, "secrets": {"key": WECOM_KEY}})).await),
        ("dingtalk", create(s, json!({"kind": "dingtalk_robot", "name": "钉钉群", "settings": {
            "url": format!("{http}/robot/send")},
            "secrets": {"access_token": DINGTALK_TOKEN, "signing_secret": DINGTALK_SECRET}})).await),
        ("feishu", create(s, json!({"kind": "feishu_bot", "name": "飞书群", "settings": {
            "url": format!("{http}/open-apis/bot/v2/hook/")},
            "secrets": {"hook_id": FEISHU_HOOK, "signing_secret": FEISHU_SECRET}})).await),
        ("aliyun", create(s, json!({"kind": "sms_aliyun", "name": "阿里云短信", "settings": {
            "endpoint": format!("{http}/aliyun/"), "access_key_id": "LTAI5tTestKeyId", "sign_name": "睿谱科技"},
            "secrets": {"access_key_secret": ALIYUN_SECRET}})).await),
        ("tencent", create(s, json!({"kind": "sms_tencent", "name": "腾讯云短信", "settings": {
            "endpoint": format!("{http}/tencent/"), "secret_id": "AKIDtestSecretId",
            "sdk_app_id": "1400006666", "sign_name": "睿谱科技"},
            "secrets": {"secret_key": TENCENT_KEY}})).await),
        ("gateway", create(s, json!({"kind": "sms_http", "name": "短信网关", "settings": {
            "url": format!("{http}/sms-gateway"), "headers": {"X-Channel": "crm"}},
            "secrets": {"token": GATEWAY_TOKEN}})).await),
        ("erp", create(s, json!({"kind": "http", "name": "ERP 下单", "settings": {
            "url_template": format!("{http}/erp/orders/{{{{record.name}}}}"), "auth": "hmac",
            "body_template": "{\"customer\": \"{{record.name}}\", \"note\": \"{{text}}\"}",
            "response_mapping": {"erp_order_no": "/data/orderNo"}},
            "secrets": {"hmac_secret": ERP_HMAC}})).await),
    ]
}

async fn every_kind_reaches_its_counterpart(b: Backend) {
    let s = TestServer::start(b).await;
    let c = Counterparts::start();
    let (status, body) = s
        .post(
            "/api/v1/objects/deal/fields",
            json!({"api_name": "erp_order_no", "label": {"zh": "ERP 订单号", "en": "ERP order"}, "type": "text"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let deal = s.create("deal", json!({"name": "华为 2026 Q4"})).await;
    let deal_id = deal["id"].as_str().unwrap().to_string();
    let ids = connectors(&s, &c).await;
    let id = |name: &str| ids.iter().find(|(n, _)| *n == name).unwrap().1.clone();
    let record = json!({"object": "deal", "id": deal_id});

    // Email: subject and text from the record, multipart, login, an unsubscribe link.
    let log = test_send(&s, &id("smtp"), json!({"to": ["王经理 <wang@example.cn>"],
        "subject": "关于 {{record.name}} 的报价", "text": format!("您好，\n\n{HOSTILE}"), "record": record})).await;
    assert_eq!(log["state"], "sent", "{log}");
    let mails = c.received("smtp").await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    let mail = &mails[0];
    assert_eq!(mail["subject"], "关于 华为 2026 Q4 的报价");
    assert_eq!(mail["rcpt_tos"], json!(["wang@example.cn"]));
    assert_eq!(mail["login"], true);
    assert_eq!(mail["multipart"], "multipart/alternative");
    assert!(mail["text"].as_str().unwrap().contains(HOSTILE), "{mail}");
    let html = mail["html"].as_str().unwrap();
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("&lt;script&gt;"), "{html}");
    let unsubscribe = mail["list_unsubscribe"].as_str().unwrap();
    assert!(
        unsubscribe.starts_with("<https://crm.example.cn/api/v1/unsubscribe/"),
        "{unsubscribe}"
    );
    assert_eq!(mail["list_unsubscribe_post"], "List-Unsubscribe=One-Click");

    // Chat robots: WeCom text with mentions, DingTalk signed, Feishu signed markdown card.
    let log = test_send(
        &s,
        &id("wecom"),
        json!({"text": HOSTILE, "to": ["13800138000"]}),
    )
    .await;
    assert_eq!(log["state"], "sent", "{log}");
    let got = &c.received("wecom").await[0];
    assert_eq!(got["ok"], true, "{got}");
    assert_eq!(got["body"]["text"]["content"], HOSTILE);
    assert_eq!(
        got["body"]["text"]["mentioned_mobile_list"],
        json!(["13800138000"])
    );
    let log = test_send(
        &s,
        &id("dingtalk"),
        json!({"text": HOSTILE, "markdown": true, "subject": "新商机"}),
    )
    .await;
    assert_eq!(log["state"], "sent", "{log}");
    let got = &c.received("dingtalk").await[0];
    assert_eq!(got["ok"], true, "{got}");
    assert_eq!(got["body"]["markdown"]["text"], HOSTILE);
    assert_eq!(got["body"]["markdown"]["title"], "新商机");
    let log = test_send(
        &s,
        &id("feishu"),
        json!({"text": HOSTILE, "markdown": true}),
    )
    .await;
    assert_eq!(log["state"], "sent", "{log}");
    let got = &c.received("feishu").await[0];
    assert_eq!(got["ok"], true, "{got}");
    assert_eq!(got["body"]["card"]["elements"][0]["content"], HOSTILE);

    // SMS: the providers' SDKs accepted the signatures.
    let log = test_send(
        &s,
        &id("aliyun"),
        json!({"to": ["13800138000", "13900139000"],
        "template": "SMS_154950909", "params": {"code": "4821", "name": "王经理"}}),
    )
    .await;
    assert_eq!(log["state"], "sent", "{log}");
    let got = &c.received("aliyun").await[0];
    assert_eq!(got["ok"], true, "{got}");
    assert_eq!(got["body"]["PhoneNumbers"], "13800138000,13900139000");
    assert_eq!(got["body"]["SignName"], "睿谱科技");
    let params: Value =
        serde_json::from_str(got["body"]["TemplateParam"].as_str().unwrap()).unwrap();
    assert_eq!(params, json!({"code": "4821", "name": "王经理"}));
    let log = test_send(
        &s,
        &id("tencent"),
        json!({"to": ["+8613800138000"],
        "template": "1234567", "params": {"1": "4821", "2": "5"}}),
    )
    .await;
    assert_eq!(log["state"], "sent", "{log}");
    let got = &c.received("tencent").await[0];
    assert_eq!(got["ok"], true, "{got}");
    assert_eq!(got["body"]["TemplateParamSet"], json!(["4821", "5"]));
    assert_eq!(got["body"]["SmsSdkAppId"], "1400006666");

    // An HTTP gateway: one JSON body per number, the text escaped into it intact.
    let log = test_send(
        &s,
        &id("gateway"),
        json!({"to": ["13800138000", "13900139000"], "text": HOSTILE}),
    )
    .await;
    assert_eq!(log["state"], "sent", "{log}");
    let got = c.received("gateway").await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got
        .iter()
        .all(|g| g["ok"] == true && g["body"]["text"] == HOSTILE));
    assert_eq!(got[1]["body"]["phone"], "13900139000");
    assert_eq!(got[0]["headers"]["x-channel"], "crm", "{got:?}");

    // The ERP: signed, its order number written back into the deal, source `integration`.
    let log = test_send(&s, &id("erp"), json!({"text": HOSTILE, "record": record})).await;
    assert_eq!(log["state"], "sent", "{log}");
    let got = &c.received("erp").await[0];
    assert_eq!(got["ok"], true, "{got}");
    assert_eq!(got["path"], "/erp/orders/%E5%8D%8E%E4%B8%BA%202026%20Q4");
    assert_eq!(
        got["body"],
        json!({"customer": "华为 2026 Q4", "note": HOSTILE})
    );
    let (_, deal) = s
        .get(&format!("/api/v1/objects/deal/records/{deal_id}"))
        .await;
    assert_eq!(deal["values"]["erp_order_no"], "SO-华为 2026 Q4", "{deal}");
    let (_, history) = s
        .get(&format!("/api/v1/objects/deal/records/{deal_id}/history"))
        .await;
    assert!(
        history
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"] == "erp_order_no" && e["source"] == "integration"),
        "{history}"
    );

    // No credential in any answer or log.
    let (_, listed) = s.get(CONNECTORS).await;
    let mut shown = listed.to_string();
    for (_, id) in &ids {
        let (_, log) = s.get(&format!("{CONNECTORS}/{id}/messages")).await;
        assert_eq!(log.as_array().unwrap().len(), 1, "{log}");
        shown.push_str(&log.to_string());
    }
    for secret in [
        SMTP_PASSWORD,
        WECOM_KEY,
        DINGTALK_TOKEN,
        DINGTALK_SECRET,
        FEISHU_HOOK,
        FEISHU_SECRET,
        ALIYUN_SECRET,
        TENCENT_KEY,
        GATEWAY_TOKEN,
        ERP_HMAC,
    ] {
        assert!(!shown.contains(secret), "{secret} shown");
    }
    let smtp = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "smtp")
        .unwrap();
    assert_eq!(smtp["secrets_set"], json!(["password"]));
    assert!(
        smtp["last_sent_at"].is_string() && smtp["last_error"].is_null(),
        "{smtp}"
    );
}

async fn wrong_credentials_fail_and_outages_are_retried(b: Backend) {
    let s = TestServer::start(b).await;
    let c = Counterparts::start();
    let ids = connectors(&s, &c).await;
    let id = |name: &str| ids.iter().find(|(n, _)| *n == name).unwrap().1.clone();

    // A wrong signing secret: DingTalk refuses it, and the test says so.
    let (status, _) = s
        .call(Method::PUT, &format!("{CONNECTORS}/{}", id("dingtalk")))
        .json(&json!({"kind": "dingtalk_robot", "name": "钉钉群", "settings": {"url": format!("{}/robot/send", c.http)},
            "secrets": {"signing_secret": "SECwrong"}}))
        .send()
        .await
        .pair();
    assert_eq!(status, 200);
    let log = test_send(&s, &id("dingtalk"), json!({"text": "hi"})).await;
    assert_eq!(log["state"], "failed", "{log}");
    assert!(log["error"].as_str().unwrap().contains("310000"), "{log}");
    assert!(
        log["response"].as_str().unwrap().contains("sign not match"),
        "{log}"
    );
    // Aliyun with a wrong secret: its SDK's check fails, 400 SignatureDoesNotMatch.
    s.call(Method::PUT, &format!("{CONNECTORS}/{}", id("aliyun")))
        .json(&json!({"kind": "sms_aliyun", "name": "阿里云短信", "settings": {
            "endpoint": format!("{}/aliyun/", c.http), "access_key_id": "LTAI5tTestKeyId", "sign_name": "睿谱科技"},
            "secrets": {"access_key_secret": "wrong"}}))
        .send()
        .await;
    let log = test_send(
        &s,
        &id("aliyun"),
        json!({"to": ["13800138000"], "template": "SMS_1"}),
    )
    .await;
    assert_eq!(log["state"], "failed", "{log}");
    assert_eq!(log["status"], 400, "{log}");
    assert!(
        log["response"]
            .as_str()
            .unwrap()
            .contains("SignatureDoesNotMatch"),
        "{log}"
    );

    // The gateway goes down while four writers queue 40 sends; when it is back, every send
    // ends `sent`, each text arrived, and the sends that met the outage were tried again.
    c.set("gateway", "down").await;
    let gateway = id("gateway");
    let mut writers = Vec::new();
    for w in 0..4 {
        let api = s.api.clone();
        let gateway = gateway.clone();
        writers.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..10 {
                let (status, log) = api
                    .post(&format!("{CONNECTORS}/{gateway}/send"),
                        json!({"to": [format!("1380000{w}{i:03}")], "text": format!("{HOSTILE} #{w}-{i}")}))
                    .await;
                assert_eq!(status, 202, "{log}");
                assert_eq!(log["state"], "queued");
                ids.push(log["id"].as_str().unwrap().to_string());
                // Hostile input mixed in: refused, nothing queued.
                let (status, body) = api
                    .post(&format!("{CONNECTORS}/{gateway}/send"), json!({"to": [], "text": "x"}))
                    .await;
                assert_eq!((status, body["code"].as_str()), (422, Some("invalid_message")));
            }
            ids
        }));
    }
    let mut queued = Vec::new();
    for w in writers {
        queued.extend(w.await.unwrap());
    }
    assert_eq!(queued.len(), 40);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(c
        .received("gateway")
        .await
        .iter()
        .any(|g| g["down"] == true));
    c.set("gateway", "up").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let (_, log) = s
            .get(&format!("{CONNECTORS}/{gateway}/messages?limit=200"))
            .await;
        let log = log.as_array().unwrap().clone();
        let sent = log.iter().filter(|l| l["state"] == "sent").count();
        assert!(log.iter().all(|l| l["state"] != "failed"), "{log:?}");
        if sent == 40 {
            assert_eq!(log.len(), 40);
            assert!(
                log.iter().any(|l| l["attempts"].as_i64().unwrap() > 1),
                "no send was retried"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "only {sent} of 40 sent"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let arrived: std::collections::BTreeSet<String> = c
        .received("gateway")
        .await
        .iter()
        .filter(|g| g["ok"] == true)
        .map(|g| g["body"]["text"].as_str().unwrap().to_string())
        .collect();
    for w in 0..4 {
        for i in 0..10 {
            assert!(
                arrived.contains(&format!("{HOSTILE} #{w}-{i}")),
                "#{w}-{i} lost"
            );
        }
    }
    assert_eq!(arrived.len(), 40);

    // The health map shows the connectors beside the endpoints: the outage's failed attempts,
    // the wrong signature's failure, nothing queued.
    let (status, health) = s.get("/api/v1/webhooks/health?window_minutes=60").await;
    assert_eq!(status, 200, "{health}");
    let node = |id: &str| {
        health["connectors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .cloned()
            .unwrap()
    };
    let gateway_health = node(&gateway);
    assert_eq!(gateway_health["sends"], 40, "{gateway_health}");
    assert_eq!(gateway_health["queued"], 0);
    assert!(
        gateway_health["failure_rate"].as_f64().unwrap() > 0.0,
        "{gateway_health}"
    );
    assert!(gateway_health["latency_p95_ms"].is_i64());
    let dingtalk_health = node(&id("dingtalk"));
    assert_eq!(dingtalk_health["failure_rate"], 1.0, "{dingtalk_health}");
    assert!(dingtalk_health["last_error"]
        .as_str()
        .unwrap()
        .contains("310000"));
    let metrics = reqwest::Client::new()
        .get(format!("{}/metrics", s.api.base))
        .bearer_auth(crate::harness::METRICS_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(&format!("rapport_connector_sends_total{{connector=\"{gateway}\",kind=\"sms_http\",outcome=\"retry\"}}")),
        "{metrics}"
    );
}

async fn unsubscribe_links_are_signed_and_honoured(b: Backend) {
    let s = TestServer::start(b).await;
    let c = Counterparts::start();
    let ids = connectors(&s, &c).await;
    let smtp = ids[0].1.clone();
    let mail = json!({"to": ["li@example.cn"], "subject": "十二月活动", "text": "欢迎参加"});
    assert_eq!(test_send(&s, &smtp, mail.clone()).await["state"], "sent");
    let text = c.received("smtp").await[0]["text"]
        .as_str()
        .unwrap()
        .to_string();
    let link = text
        .lines()
        .find_map(|l| {
            l.split_once("https://crm.example.cn")
                .map(|(_, path)| path.trim().to_string())
        })
        .expect("an unsubscribe link in the text");
    // Opening the link only asks; a tampered link is refused.
    let page = s.call(Method::GET, &link).send().await;
    assert_eq!(page.status, 200);
    assert!(
        page.text.contains("<form method=\"post\">"),
        "{}",
        page.text
    );
    let tampered = format!("{}x", &link[..link.len() - 1]);
    let refused = s.call(Method::POST, &tampered).send().await;
    assert_eq!(refused.status, 400, "{}", refused.text);
    assert_eq!(test_send(&s, &smtp, mail.clone()).await["state"], "sent");
    // Confirming unsubscribes; later marketing mail skips the address, a receipt still goes.
    let done = s.call(Method::POST, &link).send().await;
    assert_eq!(done.status, 200);
    assert!(done.text.contains("li@example.cn"), "{}", done.text);
    let log = test_send(&s, &smtp, mail.clone()).await;
    assert_eq!(log["state"], "failed", "{log}");
    assert!(
        log["error"].as_str().unwrap().contains("unsubscribed"),
        "{log}"
    );
    let mut receipt = mail.clone();
    receipt["transactional"] = json!(true);
    receipt["to"] = json!(["LI@example.cn", "zhao@example.cn"]);
    assert_eq!(test_send(&s, &smtp, receipt).await["state"], "sent");
    let mut both = mail;
    both["to"] = json!(["li@example.cn", "zhao@example.cn"]);
    let log = test_send(&s, &smtp, both).await;
    assert_eq!(log["state"], "sent");
    assert!(
        log["response"]
            .as_str()
            .unwrap()
            .contains("skipped (unsubscribed): li@example.cn"),
        "{log}"
    );
    let mails = c.received("smtp").await;
    assert_eq!(mails.len(), 5, "{mails:?}");
    assert!(
        mails[3]["list_unsubscribe"].is_null(),
        "a receipt carries no unsubscribe link"
    );
    assert_eq!(mails[4]["rcpt_tos"], json!(["zhao@example.cn"]));
}

async fn bad_connectors_and_messages_are_refused(b: Backend) {
    let s = TestServer::start(b).await;
    let c = Counterparts::start();
    let ids = connectors(&s, &c).await;
    let cases = [
        (
            json!({"kind": "smtp", "name": "x", "settings": {"host": "h", "from_address": "a@b.cn", "colour": "red"}}),
            422,
            "invalid_connector",
        ),
        (
            json!({"kind": "smtp", "name": "x", "settings": {"from_address": "a@b.cn"}}),
            422,
            "invalid_connector",
        ),
        (
            json!({"kind": "smtp", "name": "x", "settings": {"host": "h", "from_address": "a@b.cn", "port": 70000}}),
            422,
            "invalid_connector",
        ),
        (
            json!({"kind": "smtp", "name": "x", "settings": {"host": "h", "from_address": "a@b.cn", "security": "ssl3"}}),
            422,
            "invalid_connector",
        ),
        (
            json!({"kind": "wecom_robot", "name": "x", "settings": {"url": "ftp://x"}, "secrets": {"key": "k"}}),
            422,
            "invalid_url",
        ),
        (
            json!({"kind": "wecom_robot", "name": "x", "settings": {"url": "http://10.0.0.1/hook"}, "secrets": {"key": "k"}}),
            422,
            "url_not_allowed",
        ),
        (
            json!({"kind": "wecom_robot", "name": "x"}),
            422,
            "invalid_connector",
        ),
        (
            json!({"kind": "http", "name": "x", "settings": {"url_template": "http://127.0.0.1/", "headers": "not an object"}}),
            422,
            "invalid_connector",
        ),
        (
            json!({"kind": "wecom_robot", "name": "企业微信群", "secrets": {"key": "k"}}),
            422,
            "invalid_connector",
        ),
        (
            json!({"kind": "wecom_robot", "name": "", "secrets": {"key": "k"}}),
            422,
            "invalid_connector",
        ),
        (
            json!({"kind": "carrier_pigeon", "name": "x"}),
            400,
            "invalid_body",
        ),
    ];
    for (body, status, code) in cases {
        let got = s.post(CONNECTORS, body.clone()).await;
        assert_error(&got, status, code);
    }
    let (_, listed) = s.get(CONNECTORS).await;
    assert_eq!(
        listed.as_array().unwrap().len(),
        ids.len(),
        "nothing half-made"
    );
    // A kind does not change.
    let got = s
        .call(Method::PUT, &format!("{CONNECTORS}/{}", ids[1].1))
        .json(&json!({"kind": "dingtalk_robot", "name": "企业微信群"}))
        .send()
        .await
        .pair();
    assert_error(&got, 422, "invalid_connector");
    // Messages that do not fit their kind.
    let smtp = &ids[0].1;
    for (id, message) in [
        (
            smtp,
            json!({"to": ["not an address"], "subject": "s", "text": "t"}),
        ),
        (smtp, json!({"to": ["a@b.cn"], "text": "no subject"})),
        (&ids[4].1, json!({"to": ["13800138000"]})),
        (&ids[1].1, json!({"text": "  "})),
        (&ids[1].1, json!({"text": "x".repeat(70_000)})),
    ] {
        let got = s.post(&format!("{CONNECTORS}/{id}/test"), message).await;
        assert_error(&got, 422, "invalid_message");
    }
    let got = s
        .post(
            &format!("{CONNECTORS}/{}/test", ids[1].1),
            json!({"text": "x", "colour": 1}),
        )
        .await;
    assert_error(&got, 400, "invalid_body");
    // A placeholder naming nothing fails the send for good, with the reason; nothing is sent.
    let log = test_send(&s, &ids[1].1, json!({"text": "您好 {{record.nmae}}"})).await;
    assert_eq!(log["state"], "failed");
    assert!(
        log["error"].as_str().unwrap().contains("no variable"),
        "{log}"
    );
    assert!(c.received("wecom").await.is_empty());
    let got = s
        .post(&format!("{CONNECTORS}/nope/test"), json!({"text": "x"}))
        .await;
    assert_error(&got, 404, "not_found");
    // Non-admins may not see or use connectors.
    let (_, member) = s.user_with_role("sales").await;
    let got = member.get(CONNECTORS).await;
    assert_error(&got, 403, "forbidden");
}

async fn credentials_are_sealed_and_survive_a_restart(b: Backend) {
    let mut s = TestServer::start(b).await;
    let c = Counterparts::start();
    let ids = connectors(&s, &c).await;
    let wecom = ids[1].1.clone();
    // At rest: sealed, not the key itself.
    let row = s
        .store
        .db
        .fetch_optional(
            &format!(
                "SELECT secrets FROM connectors WHERE id = {}",
                s.store.ph(1)
            ),
            &[rapport_core::sql::SqlParam::Text(wecom.clone())],
            &[rapport_core::sql::ColumnKind::Text],
        )
        .await
        .unwrap()
        .unwrap();
    let sealed = row.text(0).unwrap();
    assert!(
        sealed.starts_with(&format!("rs1.{}.", test_sealer().key_id())),
        "{sealed}"
    );
    assert!(!sealed.contains(WECOM_KEY));
    // A change that leaves the key out keeps it.
    let (status, changed) = s
        .call(Method::PUT, &format!("{CONNECTORS}/{wecom}"))
        .json(&json!({"kind": "wecom_robot", "name": "企业微信群（改名）", "settings": {"url": format!("{}/cgi-bin/webhook/send", c.http)}}))
        .send()
        .await
        .pair();
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["secrets_set"], json!(["key"]));
    s.restart().await;
    assert_eq!(
        test_send(&s, &wecom, json!({"text": "重启之后"})).await["state"],
        "sent"
    );
    // Under another key the credentials do not open, and the answer says why.
    let other = s
        .store
        .clone()
        .with_sealer(rapport_store::secrets::Sealer::from_key([7; 32]));
    let err = rapport_integrations::connectors::open(&other, &s.workspace.id, &wecom)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("sealed under key"), "{err}");
}

async fn the_dictionary_translates_both_ways_and_refuses_the_unmapped(b: Backend) {
    let s = TestServer::start(b).await;
    let c = Counterparts::start();
    let (status, body) = s
        .post(
            "/api/v1/objects/deal/fields",
            json!({"api_name": "order_status", "label": {"zh": "订单状态", "en": "Order status"}, "type": "select",
                   "config": {"options": [{"value": "signed", "label": {"zh": "已签约", "en": "Signed"}},
                                          {"value": "shipped", "label": {"zh": "已发货", "en": "Shipped"}}]}}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let both = json!([{"crm_value": "shipped", "external_code": "SHIPPED"}, {"crm_value": "signed", "external_code": "CONTRACTED"}]);
    let (status, map) = s
        .post(
            "/api/v1/dictionary",
            json!({"system": "ERP", "object": "deal", "field": "order_status", "entries": both}),
        )
        .await;
    assert_eq!(status, 201, "{map}");
    let map_id = map["id"].as_str().unwrap().to_string();
    let erp = create(
        &s,
        json!({"kind": "http", "name": "ERP 状态", "settings": {
        "url_template": format!("{}/erp/orders/{{{{record.name}}}}", c.http), "auth": "hmac",
        "body_template": "{\"status\": \"{{record.order_status | map:ERP}}\"}",
        "response_mapping": {"order_status": "/data/status | map:ERP"}},
        "secrets": {"hmac_secret": ERP_HMAC}}),
    )
    .await;
    let deal = s
        .create("deal", json!({"name": "订单一", "order_status": "signed"}))
        .await;
    let deal_id = deal["id"].as_str().unwrap().to_string();
    let record = json!({"object": "deal", "id": deal_id});

    // Out: signed goes as CONTRACTED; back: SHIPPED becomes shipped — never signed.
    let log = test_send(&s, &erp, json!({"record": record})).await;
    assert_eq!(log["state"], "sent", "{log}");
    assert_eq!(
        c.received("erp").await[0]["body"],
        json!({"status": "CONTRACTED"})
    );
    let (_, got) = s
        .get(&format!("/api/v1/objects/deal/records/{deal_id}"))
        .await;
    assert_eq!(got["values"]["order_status"], "shipped", "{got}");
    let translate = |direction: &'static str, value: &'static str| {
        let api = s.api.clone();
        let path = format!("/api/v1/dictionary/{map_id}/translate");
        async move {
            api.post(&path, json!({"direction": direction, "value": value}))
                .await
        }
    };
    assert_eq!(translate("inbound", "SHIPPED").await.1["value"], "shipped");
    assert_eq!(
        translate("outbound", "signed").await.1["value"],
        "CONTRACTED"
    );
    assert_error(
        &translate("inbound", "CANCELLED").await,
        422,
        "unmapped_value",
    );

    // Without a mapping for signed, a send is refused before anything leaves, and recorded.
    let only_shipped = json!([{"crm_value": "shipped", "external_code": "SHIPPED"}]);
    let (status, _) = s
        .call(Method::PUT, &format!("/api/v1/dictionary/{map_id}"))
        .json(&json!({"system": "ERP", "object": "deal", "field": "order_status", "entries": only_shipped}))
        .send()
        .await
        .pair();
    assert_eq!(status, 200);
    let second = s
        .create("deal", json!({"name": "订单二", "order_status": "signed"}))
        .await;
    let second = json!({"object": "deal", "id": second["id"]});
    for _ in 0..2 {
        let log = test_send(&s, &erp, json!({"record": second})).await;
        assert_eq!(log["state"], "refused", "{log}");
        assert!(
            log["error"]
                .as_str()
                .unwrap()
                .contains("no outbound mapping for deal.order_status value \"signed\""),
            "{log}"
        );
    }
    assert_eq!(
        c.received("erp").await.len(),
        1,
        "nothing left for the refused sends"
    );
    let (_, map) = s.get(&format!("/api/v1/dictionary/{map_id}")).await;
    let unmapped = map["unmapped"].as_array().unwrap();
    let signed = unmapped
        .iter()
        .find(|u| u["value"] == "signed")
        .expect("signed recorded");
    assert_eq!(
        (signed["direction"].as_str(), signed["count"].as_i64()),
        (Some("outbound"), Some(2))
    );
    assert_eq!(signed["last_context"], "connector ERP 状态");
    assert!(
        unmapped
            .iter()
            .any(|u| u["value"] == "CANCELLED" && u["direction"] == "inbound"),
        "{map}"
    );

    // Writers queue sends while an admin adds the mapping back: every send ends sent or
    // refused as unmapped, and the ERP never receives a raw CRM value.
    let mut writers = Vec::new();
    for _ in 0..4 {
        let api = s.api.clone();
        let (erp, second) = (erp.clone(), second.clone());
        writers.push(tokio::spawn(async move {
            for _ in 0..5 {
                let (status, log) = api
                    .post(
                        &format!("{CONNECTORS}/{erp}/send"),
                        json!({"record": second}),
                    )
                    .await;
                assert_eq!(status, 202, "{log}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (status, fixed) = s
        .call(Method::PUT, &format!("/api/v1/dictionary/{map_id}"))
        .json(&json!({"system": "ERP", "object": "deal", "field": "order_status", "entries": both}))
        .send()
        .await
        .pair();
    assert_eq!(status, 200, "{fixed}");
    assert!(
        fixed["unmapped"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["value"] != "signed"),
        "covered values are forgotten"
    );
    for w in writers {
        w.await.unwrap();
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let log = loop {
        let (_, log) = s
            .get(&format!("{CONNECTORS}/{erp}/messages?limit=200"))
            .await;
        let log = log.as_array().unwrap().clone();
        if log.iter().all(|l| l["state"] != "queued") {
            break log;
        }
        assert!(std::time::Instant::now() < deadline, "sends still queued");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let sent = log.iter().filter(|l| l["state"] == "sent").count();
    for l in log.iter().filter(|l| l["state"] != "sent") {
        assert_eq!(l["state"], "refused", "{l}");
        assert!(
            l["error"].as_str().unwrap().contains("no outbound mapping"),
            "{l}"
        );
    }
    let received = c.received("erp").await;
    assert_eq!(received.len(), sent, "one request per sent message");
    for r in &received {
        let status = r["body"]["status"].as_str().unwrap();
        assert!(
            ["CONTRACTED", "SHIPPED"].contains(&status),
            "raw value {status} reached the ERP"
        );
    }

    // Bad mappings are refused.
    for body in [
        json!({"system": "ERP", "object": "nope", "field": "x"}),
        json!({"system": "ERP", "object": "deal", "field": "nope"}),
        json!({"system": "ERP", "object": "deal", "field": "amount"}),
        json!({"system": "WMS", "object": "deal", "field": "order_status", "entries": [{"crm_value": "已发货", "external_code": "S"}]}),
        json!({"system": "WMS", "object": "deal", "field": "order_status", "entries": [{"crm_value": "shipped", "external_code": "S"}, {"crm_value": "signed", "external_code": "S"}]}),
        json!({"system": "W|MS", "object": "deal", "field": "order_status"}),
        json!({"system": "ERP", "object": "deal", "field": "order_status"}),
    ] {
        assert_error(
            &s.post("/api/v1/dictionary", body).await,
            422,
            "invalid_value_map",
        );
    }
    let got = s
        .call(Method::PUT, &format!("/api/v1/dictionary/{map_id}"))
        .json(&json!({"system": "WMS", "object": "deal", "field": "order_status"}))
        .send()
        .await
        .pair();
    assert_error(&got, 422, "invalid_value_map");
}

async fn a_failed_precheck_refuses_the_push(b: Backend) {
    let s = TestServer::start(b).await;
    let c = Counterparts::start();
    let erp = create(
        &s,
        json!({"kind": "http", "name": "ERP 下单（查库存）", "settings": {
        "precheck_url_template": format!("{}/erp/stock/{{{{params.sku}}}}", c.http),
        "precheck_pass": {"/data/available": {">=": "{{params.quantity}}"}},
        "url_template": format!("{}/erp/orders/{{{{params.sku}}}}", c.http), "auth": "hmac",
        "body_template": "{\"sku\": \"{{params.sku}}\", \"quantity\": {{params.quantity}}}"},
        "secrets": {"hmac_secret": ERP_HMAC}}),
    )
    .await;
    let order = |sku: &str, quantity: i64| json!({"params": {"sku": sku, "quantity": quantity}});

    // In stock: the pre-check passes, then the order goes.
    let log = test_send(&s, &erp, order("A100", 5)).await;
    assert_eq!(log["state"], "sent", "{log}");
    assert!(
        log["request"]
            .as_str()
            .unwrap()
            .starts_with("pre-check: GET "),
        "{log}"
    );
    assert_eq!(
        c.received("erp").await[0]["body"],
        json!({"sku": "A100", "quantity": 5})
    );
    // Not in stock: refused before anything is pushed, with the reason; queued, not retried.
    let log = test_send(&s, &erp, order("B200", 1)).await;
    assert_eq!(log["state"], "refused", "{log}");
    assert_eq!(
        log["error"], "pre-check refused: /data/available is 0, needs >= 1",
        "{log}"
    );
    let log = test_send(&s, &erp, order("A100", 11)).await;
    assert_eq!(log["state"], "refused", "{log}");
    let (status, queued) = s
        .post(&format!("{CONNECTORS}/{erp}/send"), order("B200", 2))
        .await;
    assert_eq!(status, 202);
    let id = queued["id"].as_str().unwrap().to_string();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_, log) = s.get(&format!("{CONNECTORS}/{erp}/messages")).await;
        let entry = log
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["id"] == id.as_str())
            .unwrap()
            .clone();
        if entry["state"] != "queued" {
            assert_eq!(
                (entry["state"].as_str(), entry["attempts"].as_i64()),
                (Some("refused"), Some(1)),
                "{entry}"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still queued: {entry}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        c.received("erp").await.len(),
        1,
        "no order for refused pre-checks"
    );
    // The pre-check's system is down: that is temporary, so the send waits and goes after.
    c.set("stock", "down").await;
    let (_, queued) = s
        .post(&format!("{CONNECTORS}/{erp}/send"), order("A100", 2))
        .await;
    let id = queued["id"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_secs(2)).await;
    c.set("stock", "up").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (_, log) = s.get(&format!("{CONNECTORS}/{erp}/messages")).await;
        let entry = log
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["id"] == id.as_str())
            .unwrap()
            .clone();
        if entry["state"] == "sent" {
            assert!(entry["attempts"].as_i64().unwrap() >= 2, "{entry}");
            break;
        }
        assert_eq!(entry["state"], "queued", "{entry}");
        assert!(std::time::Instant::now() < deadline, "not sent: {entry}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(c.received("erp").await.len(), 2);
}

async fn a_dead_connector_opens_its_breaker_and_costs_the_others_nothing(b: Backend) {
    let s = TestServer::start(b).await;
    let c = Counterparts::start();
    let ids = connectors(&s, &c).await;
    let id = |name: &str| ids.iter().find(|(n, _)| *n == name).unwrap().1.clone();
    let (gateway, wecom) = (id("gateway"), id("wecom"));
    c.set("gateway", "down").await;
    for i in 0..12 {
        let (status, _) = s
            .post(
                &format!("{CONNECTORS}/{gateway}/send"),
                json!({"to": ["13800138000"], "text": format!("#{i}")}),
            )
            .await;
        assert_eq!(status, 202);
    }
    for i in 0..5 {
        let (status, _) = s
            .post(
                &format!("{CONNECTORS}/{wecom}/send"),
                json!({"text": format!("群消息 #{i}")}),
            )
            .await;
        assert_eq!(status, 202);
    }
    // The healthy robot's sends all go while the gateway is down.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (_, log) = s.get(&format!("{CONNECTORS}/{wecom}/messages")).await;
        if log
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["state"] == "sent")
            .count()
            == 5
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the healthy connector's sends waited"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The gateway's breaker opened after a few failures: most sends were never attempted.
    let (_, connector) = s.get(&format!("{CONNECTORS}/{gateway}")).await;
    assert!(connector["breaker_open_until"].is_string(), "{connector}");
    let (_, health) = s.get("/api/v1/webhooks/health").await;
    let node = health["connectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == gateway.as_str())
        .unwrap()
        .clone();
    assert!(node["breaker_open_until"].is_string(), "{node}");
    assert!(node["queued"].as_i64().unwrap() > 0, "{node}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let tried = c.received("gateway").await.len();
    assert!(
        tried < 12,
        "{tried} attempts at a dead gateway for 12 sends"
    );
    // Back up: the probe closes the breaker and every send goes, each text once.
    c.set("gateway", "up").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        let (_, log) = s.get(&format!("{CONNECTORS}/{gateway}/messages")).await;
        let log = log.as_array().unwrap().clone();
        assert!(log.iter().all(|l| l["state"] != "failed"), "{log:?}");
        if log.iter().all(|l| l["state"] == "sent") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still queued after recovery"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let texts: Vec<String> = c
        .received("gateway")
        .await
        .iter()
        .filter(|g| g["ok"] == true)
        .map(|g| g["body"]["text"].as_str().unwrap().to_string())
        .collect();
    let unique: std::collections::BTreeSet<&String> = texts.iter().collect();
    assert_eq!(unique.len(), 12, "{texts:?}");
    let (_, connector) = s.get(&format!("{CONNECTORS}/{gateway}")).await;
    assert!(connector["breaker_open_until"].is_null(), "{connector}");
}
