//! The integration hub in the demo: example webhook endpoints a company would add first — the
//! ERP that takes won deals in order, and a logistics system that hears of every new contact —
//! switched off, since their example addresses answer nobody; an administrator points them at
//! real systems and switches them on. They show on the webhooks page and the health map.

use anyhow::Result;
use rapport_integrations::webhooks::{self, breaker::BreakerConfig, deliver, EndpointInput};
use rapport_store::Store;

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
