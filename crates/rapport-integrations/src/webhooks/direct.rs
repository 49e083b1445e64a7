//! Messages sent to one endpoint on purpose, not from the outbox: a segment snapshot pushed
//! to a receiver goes out as messages of topic `segment.snapshot` — signed, delivered at least
//! once, retried, behind the endpoint's breaker and in its delivery log, like every other
//! message. The endpoint needs no subscription to the topic: the push names it.

use super::fanout::{self, MessageRow};
use rapport_core::codes::ErrorCode;
use rapport_core::sql::SqlParam;
use rapport_store::jobs;
use rapport_store::{Store, StoreError};
use serde_json::{json, Value as Json};

/// Queues one message per `data` for the endpoint, in order, each in the Standard Webhooks
/// envelope `{type, timestamp, data}`; answers the messages' ids (their `webhook-id`s).
pub async fn send(
    store: &Store,
    workspace_id: &str,
    endpoint_id: &str,
    topic: &str,
    data: Vec<Json>,
) -> Result<Vec<String>, StoreError> {
    let endpoint = super::get(store, workspace_id, endpoint_id).await?;
    if !endpoint.enabled {
        return Err(StoreError::bad_request(
            ErrorCode::InvalidWebhook,
            "the endpoint is switched off",
        ));
    }
    let now = store.now();
    let timestamp = rapport_core::value::format_datetime(&now);
    let state = fanout::first_state(&endpoint);
    let base = uuid::Uuid::now_v7().simple().to_string();
    let mut ids = Vec::with_capacity(data.len());
    let rows: Vec<MessageRow> = data
        .into_iter()
        .enumerate()
        .map(|(n, data)| {
            // One push's messages sort in order, after every message made before it.
            let id = format!("msg_push_{base}_{n:06}");
            ids.push(id.clone());
            [
                SqlParam::Text(state.to_string()),
                SqlParam::Text(id),
                SqlParam::Text(workspace_id.into()),
                SqlParam::Text(endpoint.id.clone()),
                SqlParam::Text(topic.into()),
                SqlParam::Json(json!({"type": topic, "timestamp": timestamp, "data": data})),
                SqlParam::Timestamp(now),
            ]
        })
        .collect();
    let mut tx = store.db.begin().await?;
    let deliveries = fanout::insert(
        store,
        &mut tx,
        &rows,
        std::iter::once((workspace_id, &endpoint)),
    )
    .await?;
    jobs::enqueue(store, &mut tx, &deliveries).await?;
    tx.commit().await?;
    jobs::wake(store);
    Ok(ids)
}
