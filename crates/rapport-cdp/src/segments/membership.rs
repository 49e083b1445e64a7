//! Membership as stored: applying decisions (entries and exits with their time and cause, the
//! outbox events workflows trigger on, member counts, window timers) and reading it back
//! (members, history, a customer's memberships).

use super::evaluate::{clusters, Decision};
use crate::error::CdpError;
use crate::{ph, statement_chunks, time_of_ms};
use chrono::{DateTime, Utc};
use rapport_core::codes::ErrorCode;
use rapport_core::sql::{placeholders, ColumnKind, SqlParam, ValueRows};
use rapport_store::outbox::{self, Topic};
use rapport_store::{Store, StoreError, Tx};
use serde::Serialize;
use serde_json::{json, Value as Json};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use utoipa::ToSchema;

/// An entry into or an exit from a segment.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub segment_id: String,
    pub profile_id: String,
    pub entered: bool,
    pub version: i64,
}

/// Why memberships changed: `event`, `window_expired`, `evaluated` (a full evaluation),
/// `merged` (the customer was merged into another), `archived`, `contact_changed`.
pub type Cause<'a> = &'a str;

/// Applies decisions about some customers: compares them with the stored membership, writes
/// the differences, and replaces the customers' timers. `stale` are profiles that stopped
/// being customers (merged into another): they leave every segment.
pub async fn apply(
    tx: &mut Tx,
    ws: &str,
    versions: &HashMap<String, i64>,
    decisions: &[Decision],
    stale: &[String],
    cause: Cause<'_>,
    now: i64,
) -> Result<Vec<Change>, CdpError> {
    let mut profiles: BTreeSet<String> = decisions.iter().map(|d| d.root.clone()).collect();
    profiles.extend(stale.iter().cloned());
    let profiles: Vec<String> = profiles.into_iter().collect();
    let mut current: HashSet<(String, String)> = HashSet::new();
    for chunk in profiles.chunks(500) {
        let rows = tx
            .fetch_all(
                &format!(
                    "SELECT segment_id, profile_id FROM cdp_segment_members WHERE profile_id IN ({})",
                    placeholders(tx.dialect(), 1, chunk.len())
                ),
                &texts(chunk),
                &[ColumnKind::Text, ColumnKind::Text],
            )
            .await?;
        for r in &rows {
            current.insert((r.text("segment_id")?, r.text("profile_id")?));
        }
    }
    let mut changes = Vec::new();
    for d in decisions {
        let key = (d.segment_id.clone(), d.root.clone());
        let version = versions.get(&d.segment_id).copied().unwrap_or(1);
        if d.member && !current.contains(&key) {
            changes.push(Change {
                segment_id: d.segment_id.clone(),
                profile_id: d.root.clone(),
                entered: true,
                version,
            });
        } else if !d.member && current.contains(&key) {
            changes.push(Change {
                segment_id: d.segment_id.clone(),
                profile_id: d.root.clone(),
                entered: false,
                version,
            });
        }
    }
    let stale_set: HashSet<&String> = stale.iter().collect();
    for (segment, profile) in &current {
        if stale_set.contains(profile) {
            changes.push(Change {
                segment_id: segment.clone(),
                profile_id: profile.clone(),
                entered: false,
                version: versions.get(segment).copied().unwrap_or(1),
            });
        }
    }
    let stale_cause = if cause == "event" { "merged" } else { cause };
    let (regular, merged): (Vec<Change>, Vec<Change>) = changes
        .into_iter()
        .partition(|c| !stale_set.contains(&c.profile_id));
    write_changes(tx, ws, &regular, cause, now).await?;
    write_changes(tx, ws, &merged, stale_cause, now).await?;
    // Only timers that move are written.
    let roots: Vec<String> = decisions
        .iter()
        .map(|d| d.root.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut timers: HashMap<(String, String), i64> = HashMap::new();
    for chunk in roots.chunks(500) {
        let rows = tx
            .fetch_all(
                &format!(
                    "SELECT segment_id, profile_id, due_at FROM cdp_segment_timers WHERE profile_id IN ({})",
                    placeholders(tx.dialect(), 1, chunk.len())
                ),
                &texts(chunk),
                &[ColumnKind::Text, ColumnKind::Text, ColumnKind::Int],
            )
            .await?;
        for r in &rows {
            timers.insert(
                (r.text("segment_id")?, r.text("profile_id")?),
                r.int("due_at")?,
            );
        }
    }
    let mut set = Vec::new();
    let mut clear = Vec::new();
    for d in decisions {
        let key = (d.segment_id.clone(), d.root.clone());
        match (d.due, timers.get(&key)) {
            (Some(t), Some(old)) if t == *old => {}
            (Some(t), _) => set.push((key.0, key.1, t)),
            (None, Some(_)) => clear.push(key),
            (None, None) => {}
        }
    }
    write_timers(tx, &set, &clear).await?;
    if !stale.is_empty() {
        tx.execute(
            &format!(
                "DELETE FROM cdp_segment_timers WHERE profile_id IN ({})",
                placeholders(tx.dialect(), 1, stale.len())
            ),
            &texts(stale),
        )
        .await?;
    }
    let mut all = regular;
    all.extend(merged);
    Ok(all)
}

fn texts(items: &[String]) -> Vec<SqlParam> {
    items.iter().map(|i| SqlParam::Text(i.clone())).collect()
}

/// Writes entries and exits: membership rows, history, outbox events and member counts.
pub async fn write_changes(
    tx: &mut Tx,
    ws: &str,
    changes: &[Change],
    cause: Cause<'_>,
    now: i64,
) -> Result<(), CdpError> {
    if changes.is_empty() {
        return Ok(());
    }
    let cause_json = json!({ "kind": cause }).to_string();
    let (entries, exits): (Vec<&Change>, Vec<&Change>) = changes.iter().partition(|c| c.entered);
    for chunk in statement_chunks(&entries) {
        let mut values = ValueRows::new(tx.dialect());
        for c in chunk {
            values.push([
                SqlParam::Text(c.segment_id.clone()),
                SqlParam::Text(c.profile_id.clone()),
                SqlParam::Int(c.version),
                SqlParam::Int(now),
            ]);
        }
        tx.execute(
            &format!(
                "INSERT INTO cdp_segment_members (segment_id, profile_id, version, entered_at) VALUES {} \
                 ON CONFLICT (segment_id, profile_id) DO NOTHING",
                values.sql()
            ),
            values.params(),
        )
        .await?;
    }
    for chunk in statement_chunks(&exits) {
        let mut tuples = ValueRows::new(tx.dialect());
        for c in chunk {
            tuples.push([
                SqlParam::Text(c.segment_id.clone()),
                SqlParam::Text(c.profile_id.clone()),
            ]);
        }
        tx.execute(
            &format!(
                "DELETE FROM cdp_segment_members WHERE (segment_id, profile_id) IN (VALUES {})",
                tuples.sql()
            ),
            tuples.params(),
        )
        .await?;
    }
    for chunk in statement_chunks(changes) {
        let mut values = ValueRows::new(tx.dialect());
        let mut entries = Vec::with_capacity(chunk.len());
        for c in chunk {
            let change = if c.entered { "entered" } else { "exited" };
            values.push([
                SqlParam::Text(ws.to_string()),
                SqlParam::Text(c.segment_id.clone()),
                SqlParam::Text(c.profile_id.clone()),
                SqlParam::Text(change.into()),
                SqlParam::Int(now),
                SqlParam::Int(c.version),
                SqlParam::Text(cause_json.clone()),
            ]);
            entries.push(outbox::NewEntry {
                workspace_id: ws.to_string(),
                topic: if c.entered {
                    Topic::SegmentEntered
                } else {
                    Topic::SegmentExited
                },
                object: "segment".into(),
                record_id: c.segment_id.clone(),
                payload: json!({
                    "segment_id": c.segment_id,
                    "profile_id": c.profile_id,
                    "version": c.version,
                    "at": time_of_ms(now)?,
                    "cause": cause,
                }),
                at: time_of_ms(now)?,
            });
        }
        tx.execute(
            &format!(
                "INSERT INTO cdp_segment_changes (workspace_id, segment_id, profile_id, change, at, version, cause) VALUES {}",
                values.sql()
            ),
            values.params(),
        )
        .await?;
        outbox::append(tx, &entries).await?;
    }
    let mut delta: BTreeMap<&str, i64> = BTreeMap::new();
    for c in changes {
        *delta.entry(c.segment_id.as_str()).or_insert(0) += if c.entered { 1 } else { -1 };
    }
    for (segment, d) in delta {
        if d != 0 {
            tx.execute(
                &format!(
                    "UPDATE cdp_segments SET member_count = member_count + {} WHERE id = {}",
                    ph(tx, 1),
                    ph(tx, 2)
                ),
                &[SqlParam::Int(d), SqlParam::Text(segment.to_string())],
            )
            .await?;
        }
    }
    Ok(())
}

/// Sets (or moves) and clears window timers.
pub async fn write_timers(
    tx: &mut Tx,
    set: &[(String, String, i64)],
    clear: &[(String, String)],
) -> Result<(), CdpError> {
    for chunk in statement_chunks(set) {
        let mut values = ValueRows::new(tx.dialect());
        for (segment, profile, due) in chunk {
            values.push([
                SqlParam::Text(segment.clone()),
                SqlParam::Text(profile.clone()),
                SqlParam::Int(*due),
            ]);
        }
        tx.execute(
            &format!(
                "INSERT INTO cdp_segment_timers (segment_id, profile_id, due_at) VALUES {} \
                 ON CONFLICT (segment_id, profile_id) DO UPDATE SET due_at = excluded.due_at",
                values.sql()
            ),
            values.params(),
        )
        .await?;
    }
    for chunk in statement_chunks(clear) {
        let mut tuples = ValueRows::new(tx.dialect());
        for (segment, profile) in chunk {
            tuples.push([
                SqlParam::Text(segment.clone()),
                SqlParam::Text(profile.clone()),
            ]);
        }
        tx.execute(
            &format!(
                "DELETE FROM cdp_segment_timers WHERE (segment_id, profile_id) IN (VALUES {})",
                tuples.sql()
            ),
            tuples.params(),
        )
        .await?;
    }
    Ok(())
}

/// A member as lists and exports show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Member {
    pub profile_id: String,
    pub contact_id: Option<String>,
    pub contact_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub user_id: Option<String>,
    pub entered_at: Option<DateTime<Utc>>,
    pub version: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MemberPage {
    pub items: Vec<Member>,
    pub next_cursor: Option<String>,
}

/// Members in profile-id order, keyset-paged (the cursor is the last profile id).
pub async fn members(
    store: &Store,
    ws: &str,
    segment_id: &str,
    limit: usize,
    cursor: Option<&str>,
) -> Result<MemberPage, CdpError> {
    super::definitions::get(store, ws, segment_id).await?;
    let rows = store
        .db
        .fetch_all(
            &format!(
                "SELECT profile_id, entered_at, version FROM cdp_segment_members \
                 WHERE segment_id = {} AND profile_id > {} ORDER BY profile_id LIMIT {}",
                store.ph(1),
                store.ph(2),
                limit + 1
            ),
            &[
                SqlParam::Text(segment_id.to_string()),
                // No cursor: "" sorts before every profile id, so the first page.
                SqlParam::Text(cursor.unwrap_or_default().to_string()),
            ],
            &[ColumnKind::Text, ColumnKind::Int, ColumnKind::Int],
        )
        .await?;
    let more = rows.len() > limit;
    let rows = &rows[..rows.len().min(limit)];
    let ids: Vec<String> = rows
        .iter()
        .map(|r| r.text("profile_id"))
        .collect::<Result<_, _>>()?;
    let mut described = describe(store, ws, &ids).await?;
    let mut items: Vec<Member> = Vec::with_capacity(rows.len());
    for (r, id) in rows.iter().zip(&ids) {
        let mut m = described.remove(id).unwrap_or_else(|| blank(id));
        m.entered_at = Some(r.millis("entered_at")?);
        m.version = Some(r.int("version")?);
        items.push(m);
    }
    Ok(MemberPage {
        next_cursor: more.then(|| ids.last().cloned()).flatten(),
        items,
    })
}

fn blank(profile: &str) -> Member {
    Member {
        profile_id: profile.to_string(),
        contact_id: None,
        contact_name: None,
        email: None,
        phone: None,
        user_id: None,
        entered_at: None,
        version: None,
    }
}

/// Contact, name, email, phone and user id of customers (roots), from their clusters.
pub async fn describe(
    store: &Store,
    ws: &str,
    roots: &[String],
) -> Result<HashMap<String, Member>, CdpError> {
    let clusters = clusters(store, roots).await?;
    let mut root_of: HashMap<String, String> = HashMap::new();
    for (root, members) in &clusters {
        for m in members {
            root_of.insert(m.clone(), root.clone());
        }
    }
    let all: Vec<String> = root_of.keys().cloned().collect();
    let mut out: HashMap<String, Member> = roots.iter().map(|r| (r.clone(), blank(r))).collect();
    for chunk in all.chunks(400) {
        let params = texts(chunk);
        let rows = store
            .db
            .fetch_all(
                &format!(
                    "SELECT profile_id, id_type, id_value FROM cdp_identities WHERE profile_id IN ({}) \
                     AND id_type IN ('email', 'phone', 'user_id') ORDER BY first_seen",
                    placeholders(store.db.dialect(), 1, chunk.len())
                ),
                &params,
                &[ColumnKind::Text, ColumnKind::Text, ColumnKind::Text],
            )
            .await?;
        for r in rows {
            let Some(m) = root_of
                .get(&r.text("profile_id")?)
                .and_then(|root| out.get_mut(root))
            else {
                continue;
            };
            let slot = match r.text("id_type")?.as_str() {
                "email" => &mut m.email,
                "phone" => &mut m.phone,
                _ => &mut m.user_id,
            };
            if slot.is_none() {
                *slot = Some(r.text("id_value")?);
            }
        }
        let rows = store
            .db
            .fetch_all(
                &format!(
                    "SELECT id, contact_id FROM cdp_profiles WHERE id IN ({}) AND contact_id IS NOT NULL",
                    placeholders(store.db.dialect(), 1, chunk.len())
                ),
                &params,
                &[ColumnKind::Text, ColumnKind::Text],
            )
            .await?;
        for r in rows {
            let id = r.text("id")?;
            if let Some(m) = root_of.get(&id).and_then(|root| out.get_mut(root)) {
                if m.contact_id.is_none() || id == m.profile_id {
                    m.contact_id = Some(r.text("contact_id")?);
                }
            }
        }
    }
    let contact_ids: Vec<String> = out.values().filter_map(|m| m.contact_id.clone()).collect();
    if !contact_ids.is_empty() {
        let principal = store.system_principal(ws).await?;
        let schema = store.schema(ws, principal.metadata_version).await?;
        if let Some(def) = schema.active_object("contact") {
            let mut names: HashMap<String, String> = HashMap::new();
            for chunk in contact_ids.chunks(500) {
                for r in store.records_by_ids(ws, def, chunk).await? {
                    if let rapport_core::value::Value::Text(n) = r.get("name") {
                        names.insert(r.id.clone(), n);
                    }
                }
            }
            for m in out.values_mut() {
                m.contact_name = m.contact_id.as_ref().and_then(|c| names.get(c).cloned());
            }
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChangeEntry {
    pub seq: i64,
    pub profile_id: String,
    /// `entered` or `exited`.
    pub change: String,
    pub at: DateTime<Utc>,
    pub version: i64,
    #[schema(value_type = Object)]
    pub cause: Json,
    /// Who entered or left, as the member list shows them: their contact's name, email, phone
    /// or user id (`entered_at` and `version` are the member list's and stay null here).
    pub customer: Member,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChangePage {
    pub items: Vec<ChangeEntry>,
    pub next_cursor: Option<String>,
}

/// Entry / exit history of a segment, or of one customer in it, newest first.
pub async fn changes(
    store: &Store,
    ws: &str,
    segment_id: &str,
    profile_id: Option<&str>,
    limit: usize,
    cursor: Option<&str>,
) -> Result<ChangePage, CdpError> {
    super::definitions::get(store, ws, segment_id).await?;
    let before = match cursor {
        Some(c) => c.parse::<i64>().map_err(|_| {
            CdpError::bad_request(ErrorCode::InvalidCursor, "the cursor is not valid")
        })?,
        None => i64::MAX,
    };
    let mut params = vec![
        SqlParam::Text(segment_id.to_string()),
        SqlParam::Int(before),
    ];
    let mut filter = String::new();
    if let Some(p) = profile_id {
        params.push(SqlParam::Text(p.to_string()));
        filter = format!(" AND profile_id = {}", store.ph(3));
    }
    let rows = store
        .db
        .fetch_all(
            &format!(
                "SELECT seq, profile_id, change, at, version, cause FROM cdp_segment_changes \
                 WHERE segment_id = {} AND seq < {}{filter} ORDER BY seq DESC LIMIT {}",
                store.ph(1),
                store.ph(2),
                limit + 1
            ),
            &params,
            &[
                ColumnKind::Int,
                ColumnKind::Text,
                ColumnKind::Text,
                ColumnKind::Int,
                ColumnKind::Int,
                ColumnKind::Text,
            ],
        )
        .await?;
    let more = rows.len() > limit;
    let rows = &rows[..rows.len().min(limit)];
    let profiles: Vec<String> = rows
        .iter()
        .map(|r| r.text("profile_id"))
        .collect::<Result<BTreeSet<_>, _>>()?
        .into_iter()
        .collect();
    let described = describe(store, ws, &profiles).await?;
    let items: Vec<ChangeEntry> = rows
        .iter()
        .map(|r| {
            let cause = r.text("cause")?;
            let profile_id = r.text("profile_id")?;
            Ok(ChangeEntry {
                seq: r.int("seq")?,
                customer: described
                    .get(&profile_id)
                    .cloned()
                    .unwrap_or_else(|| blank(&profile_id)),
                profile_id,
                change: r.text("change")?,
                at: r.millis("at")?,
                version: r.int("version")?,
                // JSON text `write_changes` wrote; anything else is a corrupt row.
                cause: serde_json::from_str(&cause).map_err(|e| {
                    StoreError::Corrupt(format!("a segment change's cause is not JSON: {e}"))
                })?,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(ChangePage {
        next_cursor: more
            .then(|| items.last().map(|i| i.seq.to_string()))
            .flatten(),
        items,
    })
}

/// One of a customer's memberships.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Membership {
    pub segment_id: String,
    pub segment_name: String,
    pub tag: Option<String>,
    pub version: i64,
    pub entered_at: DateTime<Utc>,
}

/// The segments a customer (any profile of the cluster) belongs to now.
pub async fn of_profile(store: &Store, ws: &str, root: &str) -> Result<Vec<Membership>, CdpError> {
    let rows = store
        .db
        .fetch_all(
            &format!(
                "SELECT m.segment_id, s.name AS segment_name, s.tag, m.version, m.entered_at \
                 FROM cdp_segment_members m \
                 JOIN cdp_segments s ON s.id = m.segment_id \
                 WHERE m.profile_id = {} AND s.workspace_id = {} AND s.archived_at IS NULL ORDER BY s.name",
                store.ph(1),
                store.ph(2)
            ),
            &[SqlParam::Text(root.to_string()), SqlParam::Text(ws.to_string())],
            &[
                ColumnKind::Text,
                ColumnKind::Text,
                ColumnKind::Text,
                ColumnKind::Int,
                ColumnKind::Int,
            ],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            Ok(Membership {
                segment_id: r.text("segment_id")?,
                segment_name: r.text("segment_name")?,
                tag: r.opt_text("tag")?,
                version: r.int("version")?,
                entered_at: r.millis("entered_at")?,
            })
        })
        .collect::<Result<_, StoreError>>()?)
}

/// Every member's profile id (full evaluation, CSV export).
pub async fn all_member_ids(store: &Store, segment_id: &str) -> Result<Vec<String>, CdpError> {
    let mut out = Vec::new();
    let mut after = String::new();
    loop {
        let rows = store
            .db
            .fetch_all(
                &format!(
                    "SELECT profile_id FROM cdp_segment_members WHERE segment_id = {} AND profile_id > {} \
                     ORDER BY profile_id LIMIT 50000",
                    store.ph(1),
                    store.ph(2)
                ),
                &[
                    SqlParam::Text(segment_id.to_string()),
                    SqlParam::Text(after.clone()),
                ],
                &[ColumnKind::Text],
            )
            .await?;
        let n = rows.len();
        for r in &rows {
            out.push(r.text("profile_id")?);
        }
        match out.last() {
            Some(last) if n == 50_000 => after = last.clone(),
            _ => return Ok(out),
        }
    }
}
