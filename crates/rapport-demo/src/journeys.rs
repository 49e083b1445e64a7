//! Demo behaviour for the customer data platform: four sources (app, mini-program, WeCom,
//! website), registered event types, and 90 days of journeys for some of the demo contacts —
//! anonymous browsing, sign-up (an identify with the contact's email, signed with the app's
//! identity-verification secret as the company's server would, which links the profile to the
//! CRM contact), product views of series A and B, orders and WeCom conversations — sent
//! through the real ingestion path (`Cdp::ingest`, Segment batches). A few events of an
//! unregistered type land in quarantine and one shared email trips the merge guard, so the
//! registry and data-health screens have something to show.

use anyhow::{Context, Result};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rapport_cdp::registry::{self, EventTypeInput};
use rapport_cdp::sources::{self, SourceInput};
use rapport_cdp::Cdp;
use rapport_core::sql::ColumnKind;
use rapport_core::Label;
use rapport_store::{table_name, Store};
use serde_json::{json, Value as Json};
use std::sync::Arc;

const DAY_MS: i64 = 86_400_000;

/// What the company's server sends with a logged-in user's events from an app: the hex
/// HMAC-SHA256 of the user id under the source's verification secret.
fn user_hash(secret: &str, user_id: &str) -> String {
    use hmac::Mac;
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(user_id.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The demo's event types: name, description, display names (event, then properties: zh, en)
/// and schema.
fn event_types() -> Vec<EventTypeInput> {
    let label = |zh: &str, en: &str| Label::new(en, zh);
    let input = |name: &str,
                 description: &str,
                 (zh, en): (&str, &str),
                 properties: &[(&str, &str, &str)],
                 schema: Json| EventTypeInput {
        name: name.into(),
        description: description.into(),
        schema,
        label: Some(label(zh, en)),
        property_labels: properties
            .iter()
            .map(|(p, zh, en)| ((*p).to_string(), label(zh, en)))
            .collect(),
    };
    vec![
        input(
            "Product Viewed",
            "顾客打开了商品详情页",
            ("浏览商品", "Product viewed"),
            &[
                ("sku", "商品编码", "SKU"),
                ("series", "系列", "Series"),
                ("name", "商品名称", "Product name"),
                ("price", "价格", "Price"),
            ],
            json!({"type": "object", "properties": {
                "sku": {"type": "string"}, "series": {"type": "string", "enum": ["A", "B", "C"]},
                "name": {"type": "string"}, "price": {"type": "number", "minimum": 0}},
                "required": ["sku", "series"], "additionalProperties": false}),
        ),
        input(
            "Order Completed",
            "订单已支付",
            ("下单支付", "Order completed"),
            &[
                ("order_id", "订单号", "Order ID"),
                ("total", "订单金额", "Total"),
                ("currency", "币种", "Currency"),
                ("series", "系列", "Series"),
            ],
            json!({"type": "object", "properties": {
                "order_id": {"type": "string"}, "total": {"type": "number", "minimum": 0},
                "currency": {"type": "string", "enum": ["CNY", "USD"]}, "series": {"type": "string"}},
                "required": ["order_id", "total"], "additionalProperties": false}),
        ),
        input(
            "WeCom Message",
            "企业微信会话中的一条消息",
            ("企业微信互动", "WeCom message"),
            &[
                ("direction", "方向", "Direction"),
                ("agent", "客服", "Agent"),
            ],
            json!({"type": "object", "properties": {
                "direction": {"type": "string", "enum": ["inbound", "outbound"]},
                "agent": {"type": "string"}}, "additionalProperties": false}),
        ),
        input(
            "Ad Clicked",
            "顾客点击了投放的广告",
            ("点击广告", "Ad clicked"),
            &[
                ("campaign", "广告活动", "Campaign"),
                ("channel", "渠道", "Channel"),
            ],
            json!({"type": "object", "properties": {
                "campaign": {"type": "string"}, "channel": {"type": "string"}},
                "additionalProperties": false}),
        ),
    ]
}

const PRODUCTS: [(&str, &str, &str, f64); 6] = [
    ("A-100", "A", "空调 A1 变频挂机", 3299.0),
    ("A-200", "A", "空调 A2 立式柜机", 6899.0),
    ("A-FLT", "A", "空调滤芯", 129.0),
    ("B-300", "B", "空气净化器 B3", 2499.0),
    ("B-310", "B", "净化器滤网", 199.0),
    ("C-050", "C", "加湿器 C5", 459.0),
];

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        // Demo times are recent, always representable.
        .unwrap_or_default()
}

/// Sends journeys for up to `customers` contacts that have an email (once per workspace).
pub async fn fill(store: &Store, workspace_id: &str, customers: usize) -> Result<()> {
    if !sources::list(store, workspace_id).await?.is_empty() {
        return Ok(());
    }
    let cdp: Arc<Cdp> = Cdp::start(store.clone());
    // The CRM sync and the segments' workers link profiles to contacts and judge customers.
    let workers = rapport_store::worker::Supervisor::default();
    for worker in rapport_cdp::workers::workers(&cdp) {
        workers.spawn(worker);
    }
    let mut result = send(store, &cdp, workspace_id, customers).await;
    if result.is_ok() {
        result = segments(store, &cdp, workspace_id).await;
    }
    workers.shutdown(std::time::Duration::from_secs(30)).await;
    cdp.stop();
    result
}

/// The articles' example segment and two others, evaluated, and a snapshot of one.
async fn segments(store: &Store, cdp: &Cdp, workspace_id: &str) -> Result<()> {
    let last_30 = json!({"last": 30, "unit": "days"});
    let definitions = [
        (
            "A系列高意向客户",
            "近30天浏览过A系列商品且未下单,且企业微信互动频次≥5次",
            "A系列高意向",
            json!({"all": [
                {"behavior": {"event": "Product Viewed", "where": [{"property": "series", "op": "eq", "value": "A"}],
                              "window": last_30, "count": {"op": "gte", "value": 1}}},
                {"behavior": {"event": "Order Completed", "window": last_30, "count": {"op": "eq", "value": 0}}},
                {"behavior": {"event": "WeCom Message", "window": last_30, "count": {"op": "gte", "value": 5}}}
            ]}),
        ),
        (
            "近72小时活跃",
            "Active in the last 72 hours (any product view)",
            "活跃",
            json!({"behavior": {"event": "Product Viewed", "window": {"last": 72, "unit": "hours"},
                                "count": {"op": "gte", "value": 1}}}),
        ),
        (
            "Repeat buyers",
            "Two or more orders in the last 90 days",
            "复购",
            json!({"behavior": {"event": "Order Completed", "window": {"last": 90, "unit": "days"},
                                "count": {"op": "gte", "value": 2}}}),
        ),
    ];
    let mut ids = Vec::new();
    for (name, description, tag, condition) in definitions {
        let segment = rapport_cdp::segments::definitions::create(
            store,
            workspace_id,
            rapport_cdp::segments::definitions::SegmentInput {
                name: name.into(),
                description: description.into(),
                tag: Some(tag.into()),
                condition,
            },
            None,
        )
        .await?;
        cdp.segments.evaluate(&segment.id).await?;
        ids.push(segment.id);
    }
    rapport_cdp::segments::snapshots::take(
        store,
        workspace_id,
        &ids[1],
        "618大促前72小时活跃用户群",
        None,
    )
    .await?;
    Ok(())
}

async fn send(store: &Store, cdp: &Cdp, workspace_id: &str, customers: usize) -> Result<()> {
    let mut keys = Vec::new();
    let mut secrets = Vec::new();
    for (name, kind) in [
        ("App 应用", "app"),
        ("微信小程序", "mini_program"),
        ("企业微信", "wecom"),
        ("官网", "web"),
    ] {
        let source = sources::create(
            store,
            workspace_id,
            SourceInput {
                name: Some(name.into()),
                kind: Some(kind.into()),
                ..SourceInput::default()
            },
        )
        .await?;
        keys.push(source.write_key);
        // A source without a secret gets events without a userHash.
        secrets.push(source.verification_secret.unwrap_or_default());
    }
    for event_type in event_types() {
        registry::save(store, workspace_id, event_type).await?;
    }
    let table = rapport_core::names::quote(&table_name(workspace_id, "contact"));
    let rows = store
        .db
        .fetch_all(
            &format!(
                "SELECT email FROM {table} WHERE email IS NOT NULL AND deleted_at IS NULL ORDER BY created_at, id LIMIT {}",
                customers.max(1)
            ),
            &[],
            &[ColumnKind::Text],
        )
        .await?;
    let emails: Vec<String> = rows
        .iter()
        .map(|r| r.text("email"))
        .collect::<Result<_, _>>()?;
    let mut rng = StdRng::seed_from_u64(0x4a4f_5552_4e45_5953);
    let now = store.now().timestamp_millis();
    let mut sent = 0usize;
    for (i, email) in emails.iter().enumerate() {
        let mut events: Vec<(usize, Json)> = Vec::new();
        let anon = format!("demo-anon-{i}");
        let user = format!("demo-user-{i}");
        let signed_up = now - rng.gen_range(5..85) * DAY_MS;
        let mut t = signed_up - rng.gen_range(1..5) * DAY_MS;
        let mut seq = 0;
        let mut push = |source: usize, t: i64, body: Json, events: &mut Vec<(usize, Json)>| {
            let mut body = body;
            seq += 1;
            body["messageId"] = json!(format!("demo-{i}-{seq}"));
            body["timestamp"] = json!(iso(t));
            events.push((source, body));
        };
        push(
            3,
            t,
            json!({"type": "track", "anonymousId": anon, "event": "Ad Clicked",
            "properties": {"campaign": "618 大促", "channel": "抖音"}}),
            &mut events,
        );
        t += 60_000;
        push(
            3,
            t,
            json!({"type": "page", "anonymousId": anon, "name": "空调 A 系列",
            "properties": {"path": "/series/a", "title": "空调 A 系列"}}),
            &mut events,
        );
        push(
            0,
            signed_up,
            json!({"type": "identify", "anonymousId": anon, "userId": user,
            "traits": {"email": email, "plan": if rng.gen_bool(0.3) { "会员" } else { "普通" }},
            "context": {"userHash": user_hash(&secrets[0], &user)}}),
            &mut events,
        );
        let mut t = signed_up;
        while t < now - DAY_MS {
            t += rng.gen_range(1..6) * DAY_MS / 2;
            let (sku, series, name, price) = PRODUCTS[rng.gen_range(0..PRODUCTS.len())];
            let source = rng.gen_range(0..2);
            push(
                source,
                t,
                json!({"type": "track", "userId": user, "event": "Product Viewed",
                "properties": {"sku": sku, "series": series, "name": name, "price": price}}),
                &mut events,
            );
            if rng.gen_bool(0.15) {
                push(
                    source,
                    t + 300_000,
                    json!({"type": "track", "userId": user, "event": "Order Completed",
                    "properties": {"order_id": format!("SO{i:05}{:03}", events.len()), "total": price, "currency": "CNY", "series": series}}),
                    &mut events,
                );
            }
            if rng.gen_bool(0.4) {
                for k in 0..rng.gen_range(1..4) {
                    push(
                        2,
                        t + 3_600_000 + k * 120_000,
                        json!({"type": "track", "userId": user, "event": "WeCom Message",
                        "properties": {"direction": if k % 2 == 0 { "inbound" } else { "outbound" }}}),
                        &mut events,
                    );
                }
            }
        }
        if i % 25 == 0 {
            // An event type nobody registered yet: quarantined, visible in the registry screen.
            push(
                1,
                now - 3_600_000,
                json!({"type": "track", "userId": user, "event": "Coupon Claimed",
                "properties": {"coupon": "满300减50", "value": 50}}),
                &mut events,
            );
        }
        for (source, key) in keys.iter().enumerate() {
            let batch: Vec<&Json> = events
                .iter()
                .filter(|(s, _)| *s == source)
                .map(|(_, b)| b)
                .collect();
            if batch.is_empty() {
                continue;
            }
            let body = json!({ "batch": batch }).to_string();
            let report = cdp
                .ingest(Some(key.clone()), body.as_bytes(), None, None)
                .await
                .context("sending demo events")?;
            sent += report.accepted;
        }
    }
    // Two users who share a family email (sent by the WeCom integration, a server source, whose
    // emails link): the guard keeps them apart and says so.
    let shared = json!({"batch": [
        {"type": "identify", "userId": "demo-family-1", "traits": {"email": "family@example.cn"}, "messageId": "demo-family-1"},
        {"type": "identify", "userId": "demo-family-2", "traits": {"email": "family@example.cn"}, "messageId": "demo-family-2"},
    ]})
    .to_string();
    cdp.ingest(Some(keys[2].clone()), shared.as_bytes(), None, None)
        .await?;
    println!(
        "Demo behaviour written: {sent} events for {} customers across {} sources.",
        emails.len(),
        keys.len()
    );
    // Give the CRM sync a moment to link the profiles to their contacts.
    for _ in 0..50 {
        let pending = store
            .db
            .fetch_optional(
                "SELECT COUNT(*) FROM cdp_sync_queue",
                &[],
                &[ColumnKind::Int],
            )
            .await?
            .map_or(Ok(0), |r| r.int(0))?;
        if pending == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    Ok(())
}
