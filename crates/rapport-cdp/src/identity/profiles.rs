//! Reading the identity graph: a profile as its whole cluster (root, merged members, every
//! identifier, traits, linked contact and company), lookup by identifier, the merge log, and
//! unmerge — which restores both profiles; their events follow, since each event belongs to the
//! profile owning its main identifier.

use crate::error::CdpError;
use crate::settings::Settings;
use crate::time_of_ms;
use chrono::{DateTime, Utc};
use rapport_core::codes::ErrorCode;
use rapport_core::sql::{placeholders, ColumnKind, SqlParam};
use rapport_store::{Store, StoreError};
use serde::Serialize;
use serde_json::Value as Json;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Identifier {
    #[serde(rename = "type")]
    pub id_type: String,
    pub value: String,
    /// The member profile that carries it.
    pub profile_id: String,
    pub first_seen: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Profile {
    /// The cluster's root: the customer's profile id.
    pub id: String,
    /// Profiles merged into this one (directly or through others).
    pub merged_profiles: Vec<String>,
    pub identifiers: Vec<Identifier>,
    #[schema(value_type = Object)]
    pub traits: Json,
    pub contact_id: Option<String>,
    pub company_id: Option<String>,
    pub first_seen: DateTime<Utc>,
    pub merges: Vec<Merge>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Merge {
    pub id: String,
    pub survivor_id: String,
    pub absorbed_id: String,
    /// The identifier that linked them.
    pub cause_type: String,
    pub cause_value: String,
    pub source_id: Option<String>,
    pub message_id: Option<String>,
    pub merged_at: DateTime<Utc>,
    pub undone_at: Option<DateTime<Utc>>,
    pub undone_by: Option<String>,
}

/// The root of `profile_id`'s cluster, or NotFound.
pub async fn root(store: &Store, workspace_id: &str, profile_id: &str) -> Result<String, CdpError> {
    let mut current = profile_id.to_string();
    for _ in 0..10_000 {
        let row = store
            .db
            .fetch_optional(
                &format!(
                    "SELECT merged_into FROM cdp_profiles WHERE id = {} AND workspace_id = {}",
                    store.ph(1),
                    store.ph(2)
                ),
                &[
                    SqlParam::Text(current.clone()),
                    SqlParam::Text(workspace_id.into()),
                ],
                &[ColumnKind::Text],
            )
            .await?
            .ok_or(CdpError::NotFound { what: "profile" })?;
        match row.opt_text("merged_into")? {
            Some(parent) => current = parent,
            None => return Ok(current),
        }
    }
    Err(CdpError::invalid(
        ErrorCode::IdentityLoop,
        "the merge chain does not end",
    ))
}

/// The root and every profile merged into it.
pub async fn members(store: &Store, root: &str) -> Result<Vec<String>, CdpError> {
    let rows = store
        .db
        .fetch_all(
            &format!(
                "WITH RECURSIVE members(id) AS (SELECT {} UNION SELECT p.id FROM cdp_profiles p JOIN members m ON p.merged_into = m.id) \
                 SELECT id FROM members",
                store.ph(1)
            ),
            &[SqlParam::Text(root.into())],
            &[ColumnKind::Text],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| r.text("id"))
        .collect::<Result<_, _>>()?)
}

/// A customer as the timeline needs it: the root, every member profile and the linked contact
/// (the root's, else a member's) — without identifiers, traits or merges.
pub struct Cluster {
    pub root: String,
    pub members: Vec<String>,
    pub contact_id: Option<String>,
}

pub async fn cluster(
    store: &Store,
    workspace_id: &str,
    profile_id: &str,
) -> Result<Cluster, CdpError> {
    let root_id = root(store, workspace_id, profile_id).await?;
    let member_ids = members(store, &root_id).await?;
    let rows = store
        .db
        .fetch_all(
            &format!(
                "SELECT id, contact_id FROM cdp_profiles WHERE id IN ({}) AND contact_id IS NOT NULL",
                placeholders(store.db.dialect(), 1, member_ids.len())
            ),
            &member_ids.iter().map(|m| SqlParam::Text(m.clone())).collect::<Vec<_>>(),
            &[ColumnKind::Text, ColumnKind::Text],
        )
        .await?;
    let linked = rows
        .iter()
        .map(|r| Ok((r.text("id")?, r.text("contact_id")?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    let contact_id = linked
        .iter()
        .find(|(id, _)| *id == root_id)
        .or_else(|| linked.first())
        .map(|(_, contact)| contact.clone());
    Ok(Cluster {
        root: root_id,
        members: member_ids,
        contact_id,
    })
}

pub async fn get(store: &Store, workspace_id: &str, profile_id: &str) -> Result<Profile, CdpError> {
    let root_id = root(store, workspace_id, profile_id).await?;
    let member_ids = members(store, &root_id).await?;
    let params: Vec<SqlParam> = member_ids
        .iter()
        .map(|m| SqlParam::Text(m.clone()))
        .collect();
    let list = placeholders(store.db.dialect(), 1, member_ids.len());
    let rows = store
        .db
        .fetch_all(
            &format!(
                "SELECT id, traits, contact_id, company_id, first_seen FROM cdp_profiles WHERE id IN ({list})"
            ),
            &params,
            &[
                ColumnKind::Text,
                ColumnKind::Json,
                ColumnKind::Text,
                ColumnKind::Text,
                ColumnKind::Int,
            ],
        )
        .await?;
    struct Member {
        id: String,
        traits: Json,
        contact_id: Option<String>,
        company_id: Option<String>,
        first_seen: i64,
    }
    let members = rows
        .iter()
        .map(|r| {
            Ok(Member {
                id: r.text("id")?,
                traits: r.json("traits")?,
                contact_id: r.opt_text("contact_id")?,
                company_id: r.opt_text("company_id")?,
                first_seen: r.int("first_seen")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let root_row = members
        .iter()
        .find(|m| m.id == root_id)
        .ok_or(CdpError::NotFound { what: "profile" })?;
    // The root's own traits win; members fill what it lacks.
    let mut traits = match &root_row.traits {
        Json::Object(m) => m.clone(),
        _ => serde_json::Map::new(),
    };
    for member in members.iter().filter(|m| m.id != root_id) {
        if let Json::Object(m) = &member.traits {
            for (k, v) in m {
                traits.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
    }
    let first_member = |pick: fn(&Member) -> &Option<String>| {
        pick(root_row)
            .clone()
            .or_else(|| members.iter().find_map(|m| pick(m).clone()))
    };
    let identifiers = store
        .db
        .fetch_all(
            &format!(
                "SELECT id_type, id_value, profile_id, first_seen FROM cdp_identities WHERE profile_id IN ({list}) ORDER BY first_seen, id_type, id_value"
            ),
            &params,
            &[ColumnKind::Text, ColumnKind::Text, ColumnKind::Text, ColumnKind::Int],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(Identifier {
                id_type: r.text("id_type")?,
                value: r.text("id_value")?,
                profile_id: r.text("profile_id")?,
                first_seen: r.millis("first_seen")?,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    let merges = merges_touching(store, workspace_id, &member_ids).await?;
    Ok(Profile {
        merged_profiles: member_ids
            .iter()
            .filter(|m| **m != root_id)
            .cloned()
            .collect(),
        identifiers,
        traits: Json::Object(traits),
        contact_id: first_member(|m| &m.contact_id),
        company_id: first_member(|m| &m.company_id),
        // The root is one of the members, so the minimum is never empty.
        first_seen: time_of_ms(
            members
                .iter()
                .map(|m| m.first_seen)
                .min()
                .unwrap_or(root_row.first_seen),
        )?,
        merges,
        id: root_id,
    })
}

/// The profile that carries an identifier (normalised by the caller).
pub async fn find(
    store: &Store,
    workspace_id: &str,
    id_type: &str,
    value: &str,
) -> Result<Profile, CdpError> {
    let row = store
        .db
        .fetch_optional(
            &format!(
                "SELECT profile_id FROM cdp_identities WHERE workspace_id = {} AND id_type = {} AND id_value = {}",
                store.ph(1),
                store.ph(2),
                store.ph(3)
            ),
            &[
                SqlParam::Text(workspace_id.into()),
                SqlParam::Text(id_type.into()),
                SqlParam::Text(value.into()),
            ],
            &[ColumnKind::Text],
        )
        .await?
        .ok_or(CdpError::NotFound { what: "profile" })?;
    get(store, workspace_id, &row.text("profile_id")?).await
}

/// The profile linked to a CRM contact, if any.
pub async fn for_contact(
    store: &Store,
    workspace_id: &str,
    contact_id: &str,
) -> Result<Option<String>, CdpError> {
    let row = store
        .db
        .fetch_optional(
            &format!(
                "SELECT id FROM cdp_profiles WHERE workspace_id = {} AND contact_id = {} ORDER BY first_seen LIMIT 1",
                store.ph(1),
                store.ph(2)
            ),
            &[
                SqlParam::Text(workspace_id.into()),
                SqlParam::Text(contact_id.into()),
            ],
            &[ColumnKind::Text],
        )
        .await?;
    match row {
        Some(r) => Ok(Some(root(store, workspace_id, &r.text("id")?).await?)),
        None => Ok(None),
    }
}

const MERGE_COLUMNS: &str = "id, survivor_id, absorbed_id, cause_type, cause_value, source_id, message_id, merged_at, undone_at, undone_by";
const MERGE_KINDS: [ColumnKind; 10] = [
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Int,
    ColumnKind::Int,
    ColumnKind::Text,
];

fn decode_merge(r: &rapport_store::Row) -> Result<Merge, StoreError> {
    Ok(Merge {
        id: r.text("id")?,
        survivor_id: r.text("survivor_id")?,
        absorbed_id: r.text("absorbed_id")?,
        cause_type: r.text("cause_type")?,
        cause_value: r.text("cause_value")?,
        source_id: r.opt_text("source_id")?,
        message_id: r.opt_text("message_id")?,
        merged_at: r.millis("merged_at")?,
        undone_at: r.opt_millis("undone_at")?,
        undone_by: r.opt_text("undone_by")?,
    })
}

async fn merges_touching(
    store: &Store,
    workspace_id: &str,
    profiles: &[String],
) -> Result<Vec<Merge>, CdpError> {
    let n = profiles.len();
    let mut params = vec![SqlParam::Text(workspace_id.into())];
    params.extend(profiles.iter().map(|p| SqlParam::Text(p.clone())));
    let list = placeholders(store.db.dialect(), 2, n);
    let rows = store
        .db
        .fetch_all(
            &format!(
                "SELECT {MERGE_COLUMNS} FROM cdp_merges WHERE workspace_id = {} AND (survivor_id IN ({list}) OR absorbed_id IN ({list})) \
                 ORDER BY merged_at DESC, id DESC LIMIT 500",
                store.ph(1)
            ),
            &params,
            &MERGE_KINDS,
        )
        .await?;
    Ok(rows.iter().map(decode_merge).collect::<Result<_, _>>()?)
}

/// One page of the merge log.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MergePage {
    pub data: Vec<Merge>,
    /// Pass as `cursor` for the next (older) page; none after the last.
    pub next_cursor: Option<String>,
}

/// The workspace's merge log, newest first, keyset-paged (`cursor` from the previous page).
pub async fn merge_log(
    store: &Store,
    workspace_id: &str,
    limit: i64,
    cursor: Option<&str>,
) -> Result<MergePage, CdpError> {
    let limit = limit.clamp(1, 1000);
    let mut params = vec![SqlParam::Text(workspace_id.into())];
    let mut after = String::new();
    if let Some(c) = cursor {
        let (at, id) = c
            .split_once('_')
            // A cursor that does not parse is refused just below.
            .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id)))
            .filter(|(_, id)| !id.is_empty())
            .ok_or_else(|| {
                CdpError::bad_request(
                    ErrorCode::InvalidCursor,
                    "the cursor is not one this list gave",
                )
            })?;
        params.push(SqlParam::Int(at));
        params.push(SqlParam::Text(id.to_string()));
        after = format!(
            " AND (merged_at < {p2} OR (merged_at = {p2} AND id < {p3}))",
            p2 = store.ph(2),
            p3 = store.ph(3)
        );
    }
    let rows = store
        .db
        .fetch_all(
            &format!(
                "SELECT {MERGE_COLUMNS} FROM cdp_merges WHERE workspace_id = {}{after} ORDER BY merged_at DESC, id DESC LIMIT {}",
                store.ph(1),
                limit + 1
            ),
            &params,
            &MERGE_KINDS,
        )
        .await?;
    let more = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    let data: Vec<Merge> = rows
        .iter()
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .map(decode_merge)
        .collect::<Result<_, _>>()?;
    let next_cursor = if more {
        data.last()
            .map(|m| format!("{}_{}", m.merged_at.timestamp_millis(), m.id))
    } else {
        None
    };
    Ok(MergePage { data, next_cursor })
}

/// Undoes a merge: the absorbed profile (with whatever was merged into it) stands alone again.
/// When only one side has a CRM contact, the contact goes with the side its email belongs to,
/// and the side left without one gets a contact of its own from its own traits (queued).
pub async fn unmerge(
    store: &Store,
    settings: &Settings,
    workspace_id: &str,
    merge_id: &str,
    actor_id: &str,
) -> Result<Merge, CdpError> {
    let mut tx = store.db.begin().await?;
    super::resolve::lock_graph(&mut tx, workspace_id).await?;
    let row = tx
        .fetch_optional(
            &format!(
                "SELECT {MERGE_COLUMNS} FROM cdp_merges WHERE workspace_id = {} AND id = {}{}",
                store.ph(1),
                store.ph(2),
                tx.for_update()
            ),
            &[
                SqlParam::Text(workspace_id.into()),
                SqlParam::Text(merge_id.into()),
            ],
            &MERGE_KINDS,
        )
        .await?
        .ok_or(CdpError::NotFound { what: "merge" })?;
    let merge = decode_merge(&row)?;
    if merge.undone_at.is_some() {
        return Err(CdpError::Conflict {
            code: ErrorCode::MergeAlreadyUndone,
            message: "this merge was already undone".into(),
        });
    }
    let now = store.now().timestamp_millis();
    tx.execute(
        &format!(
            "UPDATE cdp_profiles SET merged_into = NULL WHERE id = {} AND merged_into = {}",
            store.ph(1),
            store.ph(2)
        ),
        &[
            SqlParam::Text(merge.absorbed_id.clone()),
            SqlParam::Text(merge.survivor_id.clone()),
        ],
    )
    .await?;
    tx.execute(
        &format!(
            "UPDATE cdp_merges SET undone_at = {}, undone_by = {} WHERE id = {}",
            store.ph(1),
            store.ph(2),
            store.ph(3)
        ),
        &[
            SqlParam::Int(now),
            SqlParam::Text(actor_id.into()),
            SqlParam::Text(merge_id.into()),
        ],
    )
    .await?;
    crate::sync::split_contact(&mut tx, store, settings, workspace_id, &merge, now).await?;
    tx.commit().await?;
    Ok(Merge {
        undone_at: Some(time_of_ms(now)?),
        undone_by: Some(actor_id.into()),
        ..merge
    })
}

/// Root profiles, newest first, keyset-paged by id.
pub async fn list_roots(
    store: &Store,
    workspace_id: &str,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<String>, CdpError> {
    let mut params = vec![SqlParam::Text(workspace_id.into())];
    let mut cond = String::new();
    if let Some(b) = before {
        params.push(SqlParam::Text(b.into()));
        cond = format!(" AND id < {}", store.ph(2));
    }
    let rows = store
        .db
        .fetch_all(
            &format!(
                "SELECT id FROM cdp_profiles WHERE workspace_id = {} AND merged_into IS NULL{cond} ORDER BY id DESC LIMIT {}",
                store.ph(1),
                limit.clamp(1, 200)
            ),
            &params,
            &[ColumnKind::Text],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| r.text("id"))
        .collect::<Result<_, _>>()?)
}
