//! From the outbox to messages: each change is matched against the enabled endpoints of its
//! workspace, and each match becomes a message (`webhook_messages`); an endpoint's new messages
//! go out in delivery jobs of up to [`deliver::BATCH`], written in the same transaction. A
//! message's id is made from the outbox entry and the endpoint, so reading the same entries
//! again (the outbox is at-least-once) makes no second message or job, and the receiver sees
//! the same `webhook-id` on every attempt. A message of an ordered endpoint waits for its turn
//! (see `order`); one of an endpoint whose breaker is open is parked at once.

use super::breaker::BreakerState;
use super::deliver::{self, Delivery};
use super::Endpoint;
use rapport_core::sql::{ColumnKind, SqlParam, ValueRows};
use rapport_store::jobs;
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
    let mut messages: Vec<MessageRow> = Vec::new();
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
            messages.push([
                SqlParam::Text(first_state(endpoint).to_string()),
                SqlParam::Text(id),
                SqlParam::Text(entry.workspace_id.clone()),
                SqlParam::Text(endpoint.id.clone()),
                SqlParam::Text(entry.topic.as_str().to_string()),
                SqlParam::Json(body(entry)),
                SqlParam::Timestamp(entry.created_at),
            ]);
        }
    }
    let read = claim.entries.len();
    if !messages.is_empty() {
        let mut tx = store.db.begin().await?;
        let mut pairs: Vec<(&str, &Endpoint)> = Vec::new();
        for (ws, list) in &endpoints {
            pairs.extend(list.iter().map(|e| (ws.as_str(), e)));
        }
        let deliveries = insert(store, &mut tx, &messages, pairs.into_iter()).await?;
        jobs::enqueue(store, &mut tx, &deliveries).await?;
        tx.commit().await?;
        jobs::wake(store);
    }
    claim.done(store).await?;
    Ok(read)
}

/// A message row to insert: state, id, workspace, endpoint, topic, payload, created at.
pub(super) type MessageRow = [SqlParam; 7];

/// Inserts messages (a message whose id exists is skipped) and answers the delivery jobs of
/// those made now: an endpoint's queued messages in jobs of up to [`deliver::BATCH`], an
/// ordered endpoint's next in turn; parked ones get none.
pub(super) async fn insert<'a>(
    store: &Store,
    tx: &mut rapport_store::Tx,
    messages: &[MessageRow],
    endpoints: impl Iterator<Item = (&'a str, &'a Endpoint)>,
) -> Result<Vec<jobs::NewJob>, StoreError> {
    // Only messages made now get jobs: entries read again make nothing twice.
    let mut made: HashMap<String, Vec<String>> = HashMap::new();
    for chunk in messages.chunks(ROWS_PER_INSERT) {
        let mut rows = ValueRows::new(store.db.dialect());
        for row in chunk {
            rows.push(row.clone());
        }
        let inserted = tx
            .fetch_all(
                &format!(
                    "INSERT INTO webhook_messages (state, id, workspace_id, endpoint_id, topic, payload, created_at) \
                     VALUES {} ON CONFLICT (id) DO NOTHING RETURNING endpoint_id, id",
                    rows.sql()
                ),
                rows.params(),
                &[ColumnKind::Text, ColumnKind::Text],
            )
            .await?;
        for row in inserted {
            made.entry(row.text(0)?).or_default().push(row.text(1)?);
        }
    }
    let mut deliveries = Vec::new();
    for (workspace_id, endpoint) in endpoints {
        let Some(mut ids) = made.remove(&endpoint.id) else {
            continue;
        };
        match first_state(endpoint) {
            "waiting" => deliveries.extend(super::order::next(tx, &endpoint.id).await?),
            "pending" => {
                ids.sort();
                deliveries.extend(ids.chunks(deliver::BATCH).map(|chunk| {
                    Delivery {
                        endpoint_id: endpoint.id.clone(),
                        message_ids: chunk.to_vec(),
                        probe: false,
                    }
                    .job(workspace_id)
                }));
            }
            _ => {}
        }
    }
    Ok(deliveries)
}

/// A new message's state: an ordered endpoint's waits its turn, an open breaker's is parked
/// (no job: the breaker drains it), any other is queued.
pub(super) fn first_state(endpoint: &Endpoint) -> &'static str {
    if endpoint.ordered {
        "waiting"
    } else if endpoint.breaker_state != BreakerState::Closed {
        "parked"
    } else {
        "pending"
    }
}
