//! The audit log: append-only entries for logins, permission denials, metadata changes, token
//! creation and revocation, and exports. Admins read it; nothing updates or deletes it.

use crate::schema::placeholder;
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use rapport_core::sql::{ColumnKind, SqlParam};
use serde::Serialize;
use serde_json::Value as Json;

#[derive(Debug, Clone, Default)]
pub struct AuditEvent {
    pub workspace_id: Option<String>,
    pub actor_id: Option<String>,
    pub action: String,
    pub target: Option<String>,
    /// success, failure or denied.
    pub outcome: &'static str,
    pub details: Json,
    pub ip: Option<String>,
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub outcome: String,
    pub details: Json,
    pub ip: Option<String>,
    pub request_id: Option<String>,
}

impl Store {
    pub async fn audit(&self, event: AuditEvent) -> Result<(), StoreError> {
        let d = self.db.dialect();
        let marks: Vec<String> = (1..=10).map(|n| placeholder(d, n)).collect();
        let text = |v: Option<String>| v.map_or(SqlParam::Null, SqlParam::Text);
        self.db
            .execute(
                &format!(
                    "INSERT INTO audit_log (workspace_id, at, actor_id, action, target, outcome, details, ip, request_id) VALUES ({})",
                    marks[..9].join(", ")
                ),
                &[
                    text(event.workspace_id),
                    SqlParam::Timestamp(self.now()),
                    text(event.actor_id),
                    SqlParam::Text(event.action),
                    text(event.target),
                    SqlParam::Text(event.outcome.to_string()),
                    SqlParam::Json(if event.details.is_null() { serde_json::json!({}) } else { event.details }),
                    text(event.ip),
                    text(event.request_id),
                ],
            )
            .await?;
        Ok(())
    }

    /// A workspace's audit entries, newest first, optionally of one action.
    pub async fn list_audit(
        &self,
        workspace_id: &str,
        action: Option<&str>,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let d = self.db.dialect();
        let mut params = vec![
            SqlParam::Text(workspace_id.to_string()),
            SqlParam::Int(before.unwrap_or(i64::MAX)),
        ];
        let mut sql = format!(
            "SELECT id, at, actor_id, action, target, outcome, details, ip, request_id FROM audit_log WHERE workspace_id = {} AND id < {}",
            placeholder(d, 1),
            placeholder(d, 2)
        );
        if let Some(action) = action {
            params.push(SqlParam::Text(action.to_string()));
            sql.push_str(&format!(" AND action = {}", placeholder(d, 3)));
        }
        sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", limit.clamp(1, 1000)));
        let rows = self
            .db
            .fetch_all(
                &sql,
                &params,
                &[
                    ColumnKind::Int,
                    ColumnKind::Timestamp,
                    ColumnKind::Text,
                    ColumnKind::Text,
                    ColumnKind::Text,
                    ColumnKind::Text,
                    ColumnKind::Json,
                    ColumnKind::Text,
                    ColumnKind::Text,
                ],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.int("id")?,
                    at: r.timestamp("at")?,
                    actor_id: r.opt_text("actor_id")?,
                    action: r.text("action")?,
                    target: r.opt_text("target")?,
                    outcome: r.text("outcome")?,
                    details: r.json("details")?,
                    ip: r.opt_text("ip")?,
                    request_id: r.opt_text("request_id")?,
                })
            })
            .collect()
    }
}
