//! Tags on a customer: from segments (carried while a member, named by the segment's tag) and
//! set by hand (kept on the customer's root profile).

use super::membership;
use crate::error::CdpError;
use chrono::{DateTime, Utc};
use rapport_core::codes::ErrorCode;
use rapport_core::sql::{ColumnKind, SqlParam};
use rapport_store::Store;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Tag {
    pub tag: String,
    /// `segment` (while a member; see the segment's lineage) or `manual`.
    pub source: String,
    pub segment_id: Option<String>,
    pub segment_name: Option<String>,
    /// Since when the customer carries it.
    pub since: DateTime<Utc>,
    pub created_by: Option<String>,
}

/// Every tag of a customer (root profile): segment tags first, then manual ones, by name.
pub async fn of_profile(store: &Store, ws: &str, root: &str) -> Result<Vec<Tag>, CdpError> {
    let mut out: Vec<Tag> = membership::of_profile(store, ws, root)
        .await?
        .into_iter()
        .filter_map(|m| {
            Some(Tag {
                tag: m.tag?,
                source: "segment".into(),
                segment_id: Some(m.segment_id),
                segment_name: Some(m.segment_name),
                since: m.entered_at,
                created_by: None,
            })
        })
        .collect();
    out.sort_by(|a, b| a.tag.cmp(&b.tag));
    let rows = store
        .db
        .fetch_all(
            &format!(
                "SELECT tag, created_by, created_at FROM cdp_tags WHERE workspace_id = {} AND profile_id = {} ORDER BY tag",
                store.ph(1),
                store.ph(2)
            ),
            &[SqlParam::Text(ws.to_string()), SqlParam::Text(root.to_string())],
            &[ColumnKind::Text, ColumnKind::Text, ColumnKind::Int],
        )
        .await?;
    for r in &rows {
        out.push(Tag {
            tag: r.text("tag")?,
            source: "manual".into(),
            segment_id: None,
            segment_name: None,
            since: r.millis("created_at")?,
            created_by: r.opt_text("created_by")?,
        });
    }
    Ok(out)
}

/// Most manual tags on one customer.
pub const MAX_MANUAL_TAGS: i64 = 100;

pub async fn add(
    store: &Store,
    ws: &str,
    root: &str,
    tag: &str,
    by: Option<&str>,
) -> Result<(), CdpError> {
    let Some(tag) = super::definitions::clean_tag(Some(tag))? else {
        return Err(CdpError::invalid(
            ErrorCode::InvalidTag,
            "a tag is not empty",
        ));
    };
    let count = store
        .db
        .fetch_optional(
            &format!(
                "SELECT COUNT(*) FROM cdp_tags WHERE workspace_id = {} AND profile_id = {}",
                store.ph(1),
                store.ph(2)
            ),
            &[
                SqlParam::Text(ws.to_string()),
                SqlParam::Text(root.to_string()),
            ],
            &[ColumnKind::Int],
        )
        .await?
        .map(|r| r.int(0))
        .transpose()?
        // COUNT(*) always answers one row; none would mean no tag.
        .unwrap_or(0);
    if count >= MAX_MANUAL_TAGS {
        return Err(CdpError::Conflict {
            code: ErrorCode::TooManyTags,
            message: format!("a customer has at most {MAX_MANUAL_TAGS} manual tags"),
        });
    }
    store
        .db
        .execute(
            &format!(
                "INSERT INTO cdp_tags (workspace_id, profile_id, tag, created_by, created_at) VALUES ({}, {}, {}, {}, {}) \
                 ON CONFLICT (workspace_id, profile_id, tag) DO NOTHING",
                store.ph(1),
                store.ph(2),
                store.ph(3),
                store.ph(4),
                store.ph(5)
            ),
            &[
                SqlParam::Text(ws.to_string()),
                SqlParam::Text(root.to_string()),
                SqlParam::Text(tag),
                by.map_or(SqlParam::NullOf(ColumnKind::Text), |b| {
                    SqlParam::Text(b.to_string())
                }),
                SqlParam::Int(store.now().timestamp_millis()),
            ],
        )
        .await?;
    Ok(())
}

pub async fn remove(store: &Store, ws: &str, root: &str, tag: &str) -> Result<(), CdpError> {
    let n = store
        .db
        .execute(
            &format!(
                "DELETE FROM cdp_tags WHERE workspace_id = {} AND profile_id = {} AND tag = {}",
                store.ph(1),
                store.ph(2),
                store.ph(3)
            ),
            &[
                SqlParam::Text(ws.to_string()),
                SqlParam::Text(root.to_string()),
                SqlParam::Text(tag.to_string()),
            ],
        )
        .await?;
    if n == 0 {
        return Err(CdpError::NotFound { what: "tag" });
    }
    Ok(())
}
