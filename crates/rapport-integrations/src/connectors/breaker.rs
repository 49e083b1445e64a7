//! A circuit breaker per connector, so a dead SMTP server or SMS gateway costs the other
//! connectors nothing: after [`THRESHOLD`] temporary failures in a row (no answer, 5xx, 429)
//! it opens for a cool-down (10 s, doubling with each failed probe, at most 10 minutes).
//! While it is open, queued sends are not attempted: their jobs are put off until it may close
//! and give their queue slot back at once. When the cool-down ends, the first job to see it
//! claims the probe (the breaker stays open for [`PROBE_HOLD`] meanwhile); an answer closes
//! the breaker, another temporary failure opens it again for longer. A send put off for longer
//! than [`GIVE_UP_AFTER`] ends `failed`.

use chrono::{DateTime, Duration, Utc};
use rapport_core::sql::{ColumnKind, SqlParam};
use rapport_store::{Store, StoreError};

/// Temporary failures in a row that open the breaker.
pub const THRESHOLD: i64 = 3;
/// The first cool-down; each failed probe doubles it.
pub const COOLDOWN: Duration = Duration::seconds(10);
/// The longest cool-down.
pub const MAX_COOLDOWN: Duration = Duration::minutes(10);
/// How long a probe holds the breaker open (longer than a send may take).
pub const PROBE_HOLD: Duration = Duration::seconds(30);
/// A queued send older than this ends `failed` instead of waiting on.
pub const GIVE_UP_AFTER: Duration = Duration::days(3);

/// What a send may do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Closed: send.
    Send,
    /// This send is the probe of an open breaker.
    Probe,
    /// Open: try again at this time.
    Wait(DateTime<Utc>),
}

/// The breaker of `connector_id` for a send about to start: closed, open until a time, or open
/// with its cool-down over — then the first caller wins the probe.
pub async fn gate(store: &Store, connector_id: &str) -> Result<Gate, StoreError> {
    let row = store
        .db
        .fetch_optional(
            &format!(
                "SELECT breaker_failures, breaker_open_until FROM connectors WHERE id = {}",
                store.ph(1)
            ),
            &[SqlParam::Text(connector_id.into())],
            &[ColumnKind::Int, ColumnKind::Timestamp],
        )
        .await?;
    let Some(row) = row else {
        return Ok(Gate::Send);
    };
    let Some(until) = row.opt_timestamp(1)? else {
        return Ok(Gate::Send);
    };
    let now = store.now();
    if until > now {
        return Ok(Gate::Wait(until));
    }
    // The cool-down is over: whoever moves `until` forward first probes.
    let claimed = store
        .db
        .execute(
            &format!(
                "UPDATE connectors SET breaker_open_until = {} WHERE id = {} AND breaker_open_until = {}",
                store.ph(1),
                store.ph(2),
                store.ph(3)
            ),
            &[
                SqlParam::Timestamp(now + PROBE_HOLD),
                SqlParam::Text(connector_id.into()),
                SqlParam::Timestamp(until),
            ],
        )
        .await?;
    Ok(if claimed == 1 {
        Gate::Probe
    } else {
        Gate::Wait(now + PROBE_HOLD)
    })
}

/// The cool-down after `failures` temporary failures in a row (THRESHOLD or more).
pub fn cooldown(failures: i64) -> Duration {
    let doublings = u32::try_from((failures - THRESHOLD).clamp(0, 10)).unwrap_or(0);
    let seconds = COOLDOWN.num_seconds() * (1_i64 << doublings);
    Duration::seconds(seconds).min(MAX_COOLDOWN)
}

/// Records how a send went, inside the transaction that settles it: a temporary failure counts
/// towards opening (or re-opens after a probe); anything the destination answered closes it.
pub async fn observe(
    tx: &mut rapport_store::Tx,
    store: &Store,
    connector_id: &str,
    temporary_failure: bool,
) -> Result<(), StoreError> {
    if !temporary_failure {
        tx.execute(
            &format!(
                "UPDATE connectors SET breaker_failures = 0, breaker_open_until = NULL WHERE id = {}",
                store.ph(1)
            ),
            &[SqlParam::Text(connector_id.into())],
        )
        .await?;
        return Ok(());
    }
    let row = tx
        .fetch_optional(
            &format!(
                "UPDATE connectors SET breaker_failures = breaker_failures + 1 WHERE id = {} \
                 RETURNING breaker_failures",
                store.ph(1)
            ),
            &[SqlParam::Text(connector_id.into())],
            &[ColumnKind::Int],
        )
        .await?;
    let Some(failures) = row.map(|r| r.int(0)).transpose()? else {
        return Ok(());
    };
    if failures >= THRESHOLD {
        tx.execute(
            &format!(
                "UPDATE connectors SET breaker_open_until = {} WHERE id = {}",
                store.ph(1),
                store.ph(2)
            ),
            &[
                SqlParam::Timestamp(store.now() + cooldown(failures)),
                SqlParam::Text(connector_id.into()),
            ],
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cooldown_doubles_up_to_its_ceiling() {
        assert_eq!(cooldown(3), Duration::seconds(10));
        assert_eq!(cooldown(4), Duration::seconds(20));
        assert_eq!(cooldown(6), Duration::seconds(80));
        assert_eq!(cooldown(50), MAX_COOLDOWN);
    }
}
