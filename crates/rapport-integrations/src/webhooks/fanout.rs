//! From the outbox to messages: each change is matched against the enabled endpoints of its
//! workspace, and each match becomes a message (`webhook_messages`) and a delivery job, written
//! in one transaction. A message's id is made from the outbox entry and the endpoint, so reading
//! the same entries again (the outbox is at-least-once) makes no second message or job, and the
//! receiver sees the same `webhook-id` on every attempt. A message of an ordered endpoint waits
//! for its turn (see `order`).

use super::deliver::{DELIVER, MAX_ATTEMPTS, QUEUE};
use super::Endpoint;
use rapport_core::sql::{SqlParam, ValueRows};
use rapport_store::jobs::{self, NewJob};
use rapport_store::outbox::{Consumer, Entry, Topic};
use rapport_store::{Store, StoreError};
use serde_json::{json, Value as Json};
use std::collections::HashMap;

/// The outbox consumer of webhooks: every topic, every object.
pub const CONSUMER: Consumer = Consumer {
    name: "integrations.webhooks",
    topics: &Topic::ALL,
    objects: &[],
};

/// Entries read per tick.
const BATCH: usize = 500;
/// Messages per INSERT (seven parameters each, well under either backend's limit).
const ROWS_PER_INSERT: usize = 1_000;

fn wants(endpoint: &Endpoint, entry: &Entry) -> bool {
    endpoint.enabled
        && endpoint.topics.iter().any(|t| t == entry.topic.as_str())
        && (endpoint.objects.is_empty() || endpoint.objects.contains(&entry.object))
}

/// The body every receiver gets: the Standard Webhooks envelope `{type, timestamp, data}`.
pub fn body(entry: &Entry) -> Json {
    json!({
        "type": entry.topic.as_str(),
        "timestamp": rapport_core::value::format_datetime(&entry.created_at),
        "data": {
            "object": entry.object,
            "id": entry.record_id,
            "change": entry.payload,
        },
    })
}

/// Turns the next entries of the outbox into messages and delivery jobs; how many entries it
/// read.
pub async fn fan_out(store: &Store) -> Result<usize, StoreError> {
    let Some(claim) = CONSUMER.claim(store, BATCH).await? else {
        return Ok(0);
    };
    let mut endpoints: HashMap<String, Vec<Endpoint>> = HashMap::new();
    let mut messages: Vec<[SqlParam; 7]> = Vec::new();
    let mut deliveries = Vec::new();
    let mut ordered: Vec<String> = Vec::new();
    for entry in &claim.entries {
        if !endpoints.contains_key(&entry.workspace_id) {
            let found = super::list(store, &entry.workspace_id).await?;
            endpoints.insert(entry.workspace_id.clone(), found);
        }
        for endpoint in endpoints[&entry.workspace_id]
            .iter()
            .filter(|e| wants(e, entry))
        {
            // Zero-padded, so ids sort as the entries do.
            let id = format!("msg_{:020}_{}", entry.id, endpoint.id.replace('-', ""));
            let state = if endpoint.ordered {
                "waiting"
            } else {
                "pending"
            };
            messages.push([
                SqlParam::Text(state.to_string()),
                SqlParam::Text(id.clone()),
                SqlParam::Text(entry.workspace_id.clone()),
                SqlParam::Text(endpoint.id.clone()),
                SqlParam::Text(entry.topic.as_str().to_string()),
                SqlParam::Json(body(entry)),
                SqlParam::Timestamp(entry.created_at),
            ]);
            if endpoint.ordered {
                if !ordered.contains(&endpoint.id) {
                    ordered.push(endpoint.id.clone());
                }
                continue;
            }
            deliveries.push(
                NewJob::new(QUEUE, DELIVER, json!({ "message_id": id }))
                    .workspace(entry.workspace_id.clone())
                    .max_attempts(MAX_ATTEMPTS)
                    .idempotency_key(id),
            );
        }
    }
    let read = claim.entries.len();
    if !messages.is_empty() {
        let mut tx = store.db.begin().await?;
        for chunk in messages.chunks(ROWS_PER_INSERT) {
            let mut rows = ValueRows::new(store.db.dialect());
            for row in chunk {
                rows.push(row.clone());
            }
            tx.execute(
                &format!(
                    "INSERT INTO webhook_messages (state, id, workspace_id, endpoint_id, topic, payload, created_at) \
                     VALUES {} ON CONFLICT (id) DO NOTHING",
                    rows.sql()
                ),
                rows.params(),
            )
            .await?;
        }
        for endpoint in &ordered {
            deliveries.extend(super::order::next(&mut tx, endpoint).await?);
        }
        jobs::enqueue(store, &mut tx, &deliveries).await?;
        tx.commit().await?;
        jobs::wake(store);
    }
    claim.done(store).await?;
    Ok(read)
}
