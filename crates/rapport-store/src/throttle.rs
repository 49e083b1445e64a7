//! Failed logins, counted per client address and account in the database (so every node sees
//! them): the login throttle's memory. A window starts at a client's first failure for an
//! account and lasts `window`; a success clears the client's count for that account. Expired
//! windows are deleted as new failures arrive, so the table holds at most the clients that
//! failed recently.

use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use rapport_core::sql::{ColumnKind, SqlParam};

/// Recent failures of one client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failures {
    /// For the account in question.
    pub account: i64,
    /// For every account together.
    pub client: i64,
}

impl Store {
    /// The failures of `client` (for `email`, and in all) in windows started after `since`.
    pub async fn login_failures(
        &self,
        client: &str,
        email: &str,
        since: DateTime<Utc>,
    ) -> Result<Failures, StoreError> {
        let row = self
            .db
            .fetch_optional(
                &format!(
                    "SELECT CAST(COALESCE(SUM(failures), 0) AS BIGINT), COALESCE(MAX(CASE WHEN email = {} THEN failures END), 0) \
                     FROM login_failures WHERE client = {} AND window_start > {}",
                    self.ph(1),
                    self.ph(2),
                    self.ph(3)
                ),
                &[
                    SqlParam::Text(email.to_string()),
                    SqlParam::Text(client.to_string()),
                    SqlParam::Timestamp(since),
                ],
                &[ColumnKind::Int, ColumnKind::Int],
            )
            .await?;
        Ok(match row {
            Some(r) => Failures {
                client: r.int(0)?,
                account: r.int(1)?,
            },
            None => Failures {
                account: 0,
                client: 0,
            },
        })
    }

    /// Counts a failure of `client` for `email` and returns the count of its window (1 when
    /// this failure starts a new one). Windows started before `since` are over.
    pub async fn record_login_failure(
        &self,
        client: &str,
        email: &str,
        since: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        self.db
            .execute(
                &format!(
                    "DELETE FROM login_failures WHERE window_start <= {}",
                    self.ph(1)
                ),
                &[SqlParam::Timestamp(since)],
            )
            .await?;
        let rows = self
            .db
            .write_returning(
                &format!(
                    "INSERT INTO login_failures (client, email, window_start, failures) VALUES ({}, {}, {}, 1) \
                     ON CONFLICT (client, email) DO UPDATE SET \
                     failures = CASE WHEN login_failures.window_start > {} THEN login_failures.failures + 1 ELSE 1 END, \
                     window_start = CASE WHEN login_failures.window_start > {} THEN login_failures.window_start ELSE excluded.window_start END \
                     RETURNING failures",
                    self.ph(1),
                    self.ph(2),
                    self.ph(3),
                    self.ph(4),
                    self.ph(4)
                ),
                &[
                    SqlParam::Text(client.to_string()),
                    SqlParam::Text(email.to_string()),
                    SqlParam::Timestamp(self.now()),
                    SqlParam::Timestamp(since),
                ],
                &[ColumnKind::Int],
            )
            .await?;
        rows.first().map_or(Ok(1), |r| r.int(0))
    }

    /// Forgets the failures of `client` for `email` (after a successful login).
    pub async fn clear_login_failures(&self, client: &str, email: &str) -> Result<(), StoreError> {
        self.db
            .execute(
                &format!(
                    "DELETE FROM login_failures WHERE client = {} AND email = {}",
                    self.ph(1),
                    self.ph(2)
                ),
                &[
                    SqlParam::Text(client.to_string()),
                    SqlParam::Text(email.to_string()),
                ],
            )
            .await?;
        Ok(())
    }
}
