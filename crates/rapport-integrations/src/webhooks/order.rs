//! Ordered endpoints: their messages are delivered one at a time, oldest first. A message of
//! such an endpoint is made `waiting`; the oldest waiting one is queued (`pending`) when none of
//! the endpoint's messages is queued or parked (by its breaker), which the fan-out checks after making messages and a delivery
//! checks when its message is done. Both lock the endpoint's row first, so one of them always
//! sees the other's work and the line never stalls.

use super::deliver::Delivery;
use rapport_core::sql::{placeholder, ColumnKind, SqlParam};
use rapport_store::jobs::NewJob;
use rapport_store::{StoreError, Tx};

/// Inside `tx`: queues the endpoint's oldest waiting message unless one of its messages is
/// queued already; the job to enqueue in the same transaction.
pub(super) async fn next(tx: &mut Tx, endpoint_id: &str) -> Result<Option<NewJob>, StoreError> {
    let d = tx.dialect();
    let id = SqlParam::Text(endpoint_id.to_string());
    let endpoint = tx
        .fetch_optional(
            &format!(
                "SELECT workspace_id FROM webhook_endpoints WHERE id = {}{}",
                placeholder(d, 1),
                tx.for_update()
            ),
            std::slice::from_ref(&id),
            &[ColumnKind::Text],
        )
        .await?;
    let Some(endpoint) = endpoint else {
        return Ok(None);
    };
    let busy = tx
        .fetch_optional(
            &format!(
                "SELECT 1 FROM webhook_messages WHERE endpoint_id = {} AND state IN ('pending', 'parked') LIMIT 1",
                placeholder(d, 1)
            ),
            std::slice::from_ref(&id),
            &[ColumnKind::Int],
        )
        .await?;
    if busy.is_some() {
        return Ok(None);
    }
    let waiting = tx
        .fetch_optional(
            &format!(
                "SELECT id FROM webhook_messages WHERE endpoint_id = {} AND state = 'waiting' \
                 ORDER BY created_at, id LIMIT 1",
                placeholder(d, 1)
            ),
            std::slice::from_ref(&id),
            &[ColumnKind::Text],
        )
        .await?;
    let Some(waiting) = waiting else {
        return Ok(None);
    };
    let message_id = waiting.text(0)?;
    tx.execute(
        &format!(
            "UPDATE webhook_messages SET state = 'pending' WHERE id = {}",
            placeholder(d, 1)
        ),
        &[SqlParam::Text(message_id.clone())],
    )
    .await?;
    Ok(Some(
        Delivery {
            endpoint_id: endpoint_id.to_string(),
            message_ids: vec![message_id],
            probe: false,
        }
        .job(&endpoint.text(0)?),
    ))
}
