//! The circuit breaker of each endpoint: a destination that stops answering is not attempted
//! again and again while the others wait. Closed, every message is attempted. After
//! [`BreakerConfig::timeouts`] attempts in a row got no answer (timed out or refused the
//! connection), or when at least [`BreakerConfig::failure_percent`] of the last
//! [`BreakerConfig::window`] attempts failed (no answer, 5xx or 429), it opens: messages are
//! parked (kept, in order, not attempted — the offline queue) until a probe is due. Then it is
//! half-open: the oldest parked message is tried alone. Its success closes the breaker and the
//! parked messages drain, oldest first, [`BreakerConfig::drain_per_second`] at a time; its
//! failure opens it again for twice the cool-down (at most [`MAX_COOLDOWN_SECONDS`]).
//!
//! The state lives on the endpoint's row, changed under its row lock in the transaction that
//! completes a delivery, so every node sees one breaker; [`tick`] (a worker of every node)
//! starts probes and drains.

use super::deliver::{self, Delivery};
use rapport_core::codes::ErrorCode;
use rapport_core::sql::{placeholder, placeholders, ColumnKind, SqlParam};
use rapport_store::{Store, StoreError, Tx};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use utoipa::ToSchema;

/// The longest cool-down between probes.
pub const MAX_COOLDOWN_SECONDS: i64 = 3600;

/// When an endpoint's breaker opens and how it recovers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct BreakerConfig {
    /// Attempts in a row without an answer that open the breaker (1–20, default 3).
    pub timeouts: u32,
    /// The share of failed attempts among the last `window` that opens it (1–100, default 50).
    pub failure_percent: u32,
    /// How many of the latest attempts the failure share is taken over (5–100, default 20).
    pub window: u32,
    /// How long the breaker stays open before the first probe (1–3600 s, default 30).
    pub cooldown_seconds: u32,
    /// Parked messages sent again per second once it closes (1–1000, default 100).
    pub drain_per_second: u32,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            timeouts: 3,
            failure_percent: 50,
            window: 20,
            cooldown_seconds: 30,
            drain_per_second: 100,
        }
    }
}

impl BreakerConfig {
    pub fn check(&self) -> Result<(), StoreError> {
        let ranges = [
            ("timeouts", self.timeouts, 1, 20),
            ("failure_percent", self.failure_percent, 1, 100),
            ("window", self.window, 5, 100),
            ("cooldown_seconds", self.cooldown_seconds, 1, 3600),
            ("drain_per_second", self.drain_per_second, 1, 1000),
        ];
        for (name, value, low, high) in ranges {
            if !(low..=high).contains(&value) {
                return Err(StoreError::bad_request(
                    ErrorCode::InvalidWebhook,
                    format!("breaker.{name} is between {low} and {high}"),
                ));
            }
        }
        Ok(())
    }

    /// The stored settings; missing ones take their defaults.
    pub fn from_json(json: Json) -> Self {
        serde_json::from_value(json).unwrap_or_default()
    }
}

/// Where a breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }

    pub fn parse(text: &str) -> BreakerState {
        match text {
            "open" => BreakerState::Open,
            "half_open" => BreakerState::HalfOpen,
            _ => BreakerState::Closed,
        }
    }
}

/// What one attempt tells the breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx.
    Delivered,
    /// Another answer the receiver gave on purpose (a 4xx other than 429): the message's
    /// problem, not the destination's.
    Refused,
    /// A 5xx or 429.
    Failed,
    /// No answer in time, or no connection.
    NoAnswer,
}

impl Outcome {
    pub fn of(status: Option<i64>) -> Outcome {
        match status {
            None => Outcome::NoAnswer,
            Some(s) if (200..300).contains(&s) => Outcome::Delivered,
            Some(s) if s == 429 || s >= 500 => Outcome::Failed,
            Some(_) => Outcome::Refused,
        }
    }

    fn failed(self) -> bool {
        matches!(self, Outcome::Failed | Outcome::NoAnswer)
    }
}

/// A breaker's counters, as its endpoint's row keeps them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breaker {
    pub state: BreakerState,
    /// Consecutive attempts without an answer.
    pub timeouts: u32,
    /// The latest outcomes, oldest first: `o` answered, `x` failed.
    pub recent: String,
    /// The cool-down of the current opening, in seconds (0 while closed).
    pub cooldown: i64,
}

/// What observing outcomes did to a breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    None,
    /// It opened (or opened again after a failed probe); the next probe is due after this many
    /// seconds.
    Opened(i64),
    Closed,
}

impl Breaker {
    pub fn closed() -> Self {
        Self {
            state: BreakerState::Closed,
            timeouts: 0,
            recent: String::new(),
            cooldown: 0,
        }
    }

    fn open(&mut self, cooldown: i64) -> Transition {
        self.state = BreakerState::Open;
        self.timeouts = 0;
        self.recent.clear();
        self.cooldown = cooldown;
        Transition::Opened(cooldown)
    }

    /// Takes in the outcomes of attempts in the order they ended. While closed they may open
    /// it; a probe's outcome closes or reopens it; other outcomes of an open breaker (attempts
    /// that were under way when it opened) change nothing.
    pub fn observe(
        &mut self,
        config: &BreakerConfig,
        probe: bool,
        outcomes: &[Outcome],
    ) -> Transition {
        if probe {
            let Some(outcome) = outcomes.first() else {
                return Transition::None;
            };
            if outcome.failed() {
                let doubled = (self.cooldown.max(1) * 2).min(MAX_COOLDOWN_SECONDS);
                return self.open(doubled.max(i64::from(config.cooldown_seconds)));
            }
            *self = Breaker::closed();
            return Transition::Closed;
        }
        if self.state != BreakerState::Closed {
            return Transition::None;
        }
        let window = usize::try_from(config.window).unwrap_or(20);
        for outcome in outcomes {
            self.timeouts = if *outcome == Outcome::NoAnswer {
                self.timeouts + 1
            } else {
                0
            };
            self.recent.push(if outcome.failed() { 'x' } else { 'o' });
            if self.recent.len() > window {
                self.recent.drain(..self.recent.len() - window);
            }
            let failed = self.recent.chars().filter(|c| *c == 'x').count();
            let rate_reached = self.recent.len() >= window
                && failed * 100 >= usize::try_from(config.failure_percent).unwrap_or(50) * window;
            if self.timeouts >= config.timeouts || rate_reached {
                return self.open(i64::from(config.cooldown_seconds));
            }
        }
        Transition::None
    }
}

/// Reads an endpoint's breaker under its row lock, inside `tx`.
pub(super) async fn lock(tx: &mut Tx, endpoint_id: &str) -> Result<Option<Breaker>, StoreError> {
    let row = tx
        .fetch_optional(
            &format!(
                "SELECT breaker_state, breaker_timeouts, breaker_recent, breaker_cooldown \
                 FROM webhook_endpoints WHERE id = {}{}",
                placeholder(tx.dialect(), 1),
                tx.for_update()
            ),
            &[SqlParam::Text(endpoint_id.into())],
            &[
                ColumnKind::Text,
                ColumnKind::Int,
                ColumnKind::Text,
                ColumnKind::Int,
            ],
        )
        .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(Breaker {
        state: BreakerState::parse(&row.text(0)?),
        timeouts: u32::try_from(row.int(1)?).unwrap_or(0),
        recent: row.text(2)?,
        cooldown: row.int(3)?,
    }))
}

/// Writes an endpoint's breaker back, inside `tx`, with when it opened and when its next probe
/// is due when `transition` opened it.
pub(super) async fn save(
    tx: &mut Tx,
    endpoint_id: &str,
    breaker: &Breaker,
    transition: Transition,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), StoreError> {
    let d = tx.dialect();
    let mut params = vec![
        SqlParam::Text(breaker.state.as_str().into()),
        SqlParam::Int(i64::from(breaker.timeouts)),
        SqlParam::Text(breaker.recent.clone()),
        SqlParam::Int(breaker.cooldown),
        SqlParam::Text(endpoint_id.into()),
    ];
    let timing = match transition {
        Transition::Opened(seconds) => {
            params.push(SqlParam::Timestamp(now));
            params.push(SqlParam::Timestamp(
                now + chrono::Duration::seconds(seconds),
            ));
            format!(
                ", breaker_opened_at = COALESCE(breaker_opened_at, {}), breaker_probe_at = {}",
                placeholder(d, 6),
                placeholder(d, 7)
            )
        }
        Transition::Closed => ", breaker_opened_at = NULL, breaker_probe_at = NULL".to_string(),
        Transition::None => String::new(),
    };
    tx.execute(
        &format!(
            "UPDATE webhook_endpoints SET breaker_state = {}, breaker_timeouts = {}, \
             breaker_recent = {}, breaker_cooldown = {}{timing} WHERE id = {}",
            placeholder(d, 1),
            placeholder(d, 2),
            placeholder(d, 3),
            placeholder(d, 4),
            placeholder(d, 5)
        ),
        &params,
    )
    .await?;
    Ok(())
}

/// Parks messages: they wait, unattempted, for the breaker to close.
pub(super) async fn park(tx: &mut Tx, ids: &[String]) -> Result<(), StoreError> {
    for chunk in ids.chunks(500) {
        tx.execute(
            &format!(
                "UPDATE webhook_messages SET state = 'parked' WHERE id IN ({})",
                placeholders(tx.dialect(), 1, chunk.len())
            ),
            &chunk
                .iter()
                .map(|id| SqlParam::Text(id.clone()))
                .collect::<Vec<_>>(),
        )
        .await?;
    }
    Ok(())
}

/// One pass over the breakers: probes that are due are started, and parked messages of closed
/// breakers are queued again (at most `drain_per_second` an endpoint, so a pass a second keeps
/// the rate). How many endpoints it acted on.
pub async fn tick(store: &Store) -> Result<usize, StoreError> {
    let now = store.now();
    let due = store
        .db
        .fetch_all(
            &format!(
                "SELECT id FROM webhook_endpoints e WHERE enabled = {t} AND \
                 ((breaker_state = 'open' AND breaker_probe_at <= {}) OR \
                  (breaker_state = 'closed' AND EXISTS (SELECT 1 FROM webhook_messages m \
                   WHERE m.endpoint_id = e.id AND m.state = 'parked')))",
                store.ph(2),
                t = store.ph(1)
            ),
            &[SqlParam::Bool(true), SqlParam::Timestamp(now)],
            &[ColumnKind::Text],
        )
        .await?;
    let mut acted = 0;
    for row in due {
        let endpoint_id = row.text(0)?;
        let mut tx = store.db.begin().await?;
        let jobs = release(store, &mut tx, &endpoint_id).await?;
        rapport_store::jobs::enqueue(store, &mut tx, &jobs).await?;
        tx.commit().await?;
        if !jobs.is_empty() {
            acted += 1;
        }
    }
    if acted > 0 {
        rapport_store::jobs::wake(store);
    }
    Ok(acted)
}

/// Under the endpoint's row lock: a due probe of an open breaker, or the next drain of a closed
/// one with parked messages. The jobs to enqueue.
async fn release(
    store: &Store,
    tx: &mut Tx,
    endpoint_id: &str,
) -> Result<Vec<rapport_store::jobs::NewJob>, StoreError> {
    let d = tx.dialect();
    let row = tx
        .fetch_optional(
            &format!(
                "SELECT workspace_id, breaker_state, breaker_probe_at, breaker FROM webhook_endpoints \
                 WHERE id = {}{}",
                placeholder(d, 1),
                tx.for_update()
            ),
            &[SqlParam::Text(endpoint_id.into())],
            &[
                ColumnKind::Text,
                ColumnKind::Text,
                ColumnKind::Timestamp,
                ColumnKind::Json,
            ],
        )
        .await?;
    let Some(row) = row else {
        return Ok(Vec::new());
    };
    let workspace_id = row.text(0)?;
    let state = BreakerState::parse(&row.text(1)?);
    let config = BreakerConfig::from_json(row.json(3)?);
    let now = store.now();
    let probe_due =
        state == BreakerState::Open && row.opt_timestamp(2)?.is_some_and(|at| at <= now);
    let limit = match state {
        BreakerState::Closed => config.drain_per_second,
        BreakerState::Open if probe_due => 1,
        _ => return Ok(Vec::new()),
    };
    let parked: Vec<String> = tx
        .fetch_all(
            &format!(
                "SELECT id FROM webhook_messages WHERE endpoint_id = {} AND state = 'parked' \
                 ORDER BY created_at, id LIMIT {limit}",
                placeholder(d, 1)
            ),
            &[SqlParam::Text(endpoint_id.into())],
            &[ColumnKind::Text],
        )
        .await?
        .iter()
        .map(|r| r.text(0))
        .collect::<Result<_, _>>()?;
    if state == BreakerState::Open {
        if parked.is_empty() {
            // Nothing parked to try: the next message will be the probe.
            save(tx, endpoint_id, &Breaker::closed(), Transition::Closed, now).await?;
            return Ok(Vec::new());
        }
        tx.execute(
            &format!(
                "UPDATE webhook_endpoints SET breaker_state = 'half_open' WHERE id = {}",
                placeholder(d, 1)
            ),
            &[SqlParam::Text(endpoint_id.into())],
        )
        .await?;
    }
    if parked.is_empty() {
        return Ok(Vec::new());
    }
    deliver::queue_again(tx, &parked).await?;
    let probe = state == BreakerState::Open;
    Ok(parked
        .chunks(deliver::BATCH)
        .map(|chunk| {
            Delivery {
                endpoint_id: endpoint_id.to_string(),
                message_ids: chunk.to_vec(),
                probe,
            }
            .job(&workspace_id)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> BreakerConfig {
        BreakerConfig::default()
    }

    #[test]
    fn three_timeouts_in_a_row_open_it() {
        let mut b = Breaker::closed();
        use Outcome::*;
        assert_eq!(
            b.observe(&config(), false, &[NoAnswer, NoAnswer]),
            Transition::None
        );
        // An answer, even a failing one, breaks the run.
        assert_eq!(
            b.observe(&config(), false, &[Failed, NoAnswer, NoAnswer]),
            Transition::None
        );
        assert_eq!(
            b.observe(&config(), false, &[NoAnswer]),
            Transition::Opened(30)
        );
        assert_eq!(b.state, BreakerState::Open);
        // Attempts that were under way change nothing while it is open.
        assert_eq!(
            b.observe(&config(), false, &[Delivered, NoAnswer]),
            Transition::None
        );
        assert_eq!(b.state, BreakerState::Open);
    }

    #[test]
    fn a_failure_share_over_a_full_window_opens_it() {
        use Outcome::*;
        let mut b = Breaker::closed();
        // 9 failures among 19: the window is not full yet.
        let mut outcomes = Vec::new();
        for i in 0..19 {
            outcomes.push(if i % 2 == 0 { Delivered } else { Failed });
        }
        outcomes.push(Refused);
        assert_eq!(b.observe(&config(), false, &outcomes), Transition::None);
        assert_eq!(b.recent.len(), 20);
        // One more failure makes 10 of the last 20 (the oldest, a success, drops out).
        assert_eq!(
            b.observe(&config(), false, &[Failed]),
            Transition::Opened(30)
        );
    }

    #[test]
    fn a_probe_closes_it_or_doubles_the_cool_down() {
        use Outcome::*;
        let mut b = Breaker::closed();
        b.observe(&config(), false, &[NoAnswer; 3]);
        b.state = BreakerState::HalfOpen;
        assert_eq!(
            b.observe(&config(), true, &[NoAnswer]),
            Transition::Opened(60)
        );
        b.state = BreakerState::HalfOpen;
        assert_eq!(
            b.observe(&config(), true, &[Failed]),
            Transition::Opened(120)
        );
        for _ in 0..10 {
            b.observe(&config(), true, &[NoAnswer]);
        }
        assert_eq!(b.cooldown, MAX_COOLDOWN_SECONDS);
        b.state = BreakerState::HalfOpen;
        assert_eq!(b.observe(&config(), true, &[Refused]), Transition::Closed);
        assert_eq!(b, Breaker::closed());
    }

    #[test]
    fn settings_are_checked_and_default_when_missing() {
        assert!(config().check().is_ok());
        let bad = BreakerConfig {
            timeouts: 0,
            ..config()
        };
        assert!(bad.check().is_err());
        let partial = BreakerConfig::from_json(serde_json::json!({"timeouts": 5}));
        assert_eq!(partial.timeouts, 5);
        assert_eq!(partial.window, 20);
    }
}
