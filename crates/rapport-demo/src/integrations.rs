//! The integration hub in the demo: example webhook endpoints a company would add first — the
//! ERP that takes won deals in order, and a logistics system that hears of every new contact —
//! and example connectors (a WeCom sales group robot, the company mailbox, Aliyun SMS, the
//! ERP's order API with its stock pre-check), all switched off, since their example addresses
//! answer nobody and their credentials are placeholders; an administrator points them at real
//! systems and switches them on. Also the ERP's codes for the deal stages in the semantic
//! dictionary (one stage deliberately unmapped) and an inbound hook for the ERP's shipping
//! notices. They show on the integration pages and the health map.

use anyhow::Result;
use rapport_integrations::connectors::{self, kinds::ConnectorKind, ConnectorInput};
use rapport_integrations::dictionary::{self, Entry, ValueMapInput};
use rapport_integrations::inbound::{self, HookAuth, HookInput};
use rapport_integrations::webhooks::{self, breaker::BreakerConfig, deliver, EndpointInput};
use rapport_store::Store;
use serde_json::{json, Map, Value as Json};

/// Adds the example endpoints unless the workspace has endpoints already.
pub async fn add_webhooks(store: &Store, workspace_id: &str) -> Result<()> {
    if !webhooks::list(store, workspace_id).await?.is_empty() {
        return Ok(());
    }
    let examples = [
        (
            "https://erp.example.cn/hooks/rapport",
            "ERP 订单同步（示例：启用前请改成贵公司 ERP 的地址）",
            vec!["record.created", "record.updated"],
            vec!["deal"],
            true,
        ),
        (
            "https://logistics.example.com/rapport/contacts",
            "Logistics contact sync (example: point it at your system before switching it on)",
            vec!["record.created", "record.updated", "record.deleted"],
            vec!["contact", "company"],
            false,
        ),
    ];
    for (url, description, topics, objects, ordered) in examples {
        webhooks::create(
            store,
            workspace_id,
            EndpointInput {
                url: url.into(),
                topics: topics.into_iter().map(str::to_string).collect(),
                objects: objects.into_iter().map(str::to_string).collect(),
                description: description.into(),
                enabled: false,
                ordered,
                timeout_seconds: deliver::DEFAULT_TIMEOUT_SECONDS,
                breaker: BreakerConfig::default(),
            },
        )
        .await?;
    }
    Ok(())
}

fn object(value: Json) -> Map<String, Json> {
    match value {
        Json::Object(map) => map,
        _ => Map::new(),
    }
}

/// Adds the example connectors, the ERP's stage codes and its inbound hook, unless the
/// workspace has connectors already.
pub async fn add_connectors(store: &Store, workspace_id: &str) -> Result<()> {
    if !connectors::list(store, workspace_id).await?.is_empty() {
        return Ok(());
    }
    let examples = [
        (
            ConnectorKind::WecomRobot,
            "销售群机器人",
            "新商机与赢单通知（示例：填入群机器人的 key 后启用）",
            json!({}),
            json!({"key": "替换为群机器人的 key"}),
        ),
        (
            ConnectorKind::Smtp,
            "公司邮箱",
            "Quotes and follow-ups from sales@example.cn (example)",
            json!({"host": "smtp.example.cn", "port": 465, "security": "tls", "username": "sales@example.cn",
                   "from_address": "sales@example.cn", "from_name": "华东销售部", "public_url": "https://crm.example.cn"}),
            json!({"password": "placeholder"}),
        ),
        (
            ConnectorKind::SmsAliyun,
            "阿里云短信",
            "验证码与到货通知（示例）",
            json!({"access_key_id": "LTAI-EXAMPLE", "sign_name": "睿谱科技"}),
            json!({"access_key_secret": "placeholder"}),
        ),
        (
            ConnectorKind::Http,
            "ERP 下单",
            "Pushes a won deal to the ERP after checking stock (example)",
            json!({"url_template": "https://erp.example.cn/api/orders", "auth": "bearer",
                   "body_template": "{\"customer\": \"{{record.name}}\", \"stage\": \"{{record.stage | map:ERP}}\", \"amount\": \"{{record.amount}}\"}",
                   "response_mapping": {"next_step": "/data/orderNo"},
                   "precheck_url_template": "https://erp.example.cn/api/stock/{{params.sku}}",
                   "precheck_pass": {"/data/available": {">=": "{{params.quantity}}"}}}),
            json!({"token": "placeholder"}),
        ),
    ];
    for (kind, name, description, settings, secrets) in examples {
        connectors::create(
            store,
            workspace_id,
            ConnectorInput {
                kind,
                name: name.into(),
                description: description.into(),
                settings: object(settings),
                secrets: object(secrets),
                enabled: false,
            },
        )
        .await?;
    }
    // The ERP's codes for the deal stages; "closed_lost" is left out on purpose: the
    // dictionary page shows it as unmapped once a lost deal is pushed.
    let pairs = [
        ("prospecting", "LEAD"),
        ("qualification", "QUALIFIED"),
        ("proposal", "QUOTED"),
        ("negotiation", "NEGOTIATING"),
        ("closed_won", "CONTRACTED"),
    ];
    dictionary::create(
        store,
        workspace_id,
        ValueMapInput {
            system: "ERP".into(),
            object: "deal".into(),
            field: "stage".into(),
            description: "金蝶 ERP 的商机状态码".into(),
            entries: pairs
                .iter()
                .map(|(crm, code)| Entry {
                    crm_value: (*crm).into(),
                    external_code: (*code).into(),
                })
                .collect(),
        },
    )
    .await?;
    inbound::create(
        store,
        workspace_id,
        HookInput {
            name: "ERP 商机回传".into(),
            object: "deal".into(),
            auth: HookAuth::StandardWebhooks,
            match_field: Some("name".into()),
            mapping: object(json!({"name": "/customer", "stage": "/status | map:ERP"})),
            enabled: false,
        },
    )
    .await?;
    Ok(())
}
