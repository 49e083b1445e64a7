//! Profile ↔ CRM. Two pieces of background work (run by the `cdp.sync_queue` and
//! `cdp.contact_profiles` workers), both restartable from the database:
//! - the sync queue (filled in the group commit): an identify's mapped traits create or update
//!   the profile's contact, and a `group` call creates or updates the company, always through
//!   the kernel's record write path with history source `cdp`;
//! - an outbox consumer: a contact created in the CRM gets a profile (linked by its email and
//!   phone when a profile already carries them).
//!
//! Queue entries are leased (so several nodes can share the work) and retried; after five
//! failures an entry becomes a data-health warning. Field history names the source that sent
//! the event (actor `source:<id>`). An entry from an untrusted event (a client source without
//! identity verification) only fills fields the contact leaves empty and never links a
//! contact found by its email: a public write key must not be able to rewrite the CRM.

use crate::error::CdpError;
use crate::identity::{normalize, profiles};
use crate::settings::Settings;
use rapport_core::codes::{ErrorCode, WarningCode};
use rapport_core::sql::{ColumnKind, Dialect, SqlParam};
use rapport_core::{CoreError, Source};
use rapport_store::outbox::{Consumer, Topic};
use rapport_store::records::{RecordInput, RecordUpdate, WriteCtx};
use rapport_store::{table_name, Store, StoreError, Tx};
use serde_json::{json, Map, Value as Json};

const LEASE_MS: i64 = 60_000;
const MAX_ATTEMPTS: i64 = 5;
/// Contacts created in the CRM, for their profiles.
const CONTACT_PROFILES: Consumer = Consumer {
    name: "cdp.contact_profiles",
    topics: &[Topic::RecordCreated],
    objects: &["contact"],
};

/// Rejected events are kept this long for inspection.
const REJECTED_KEPT_MS: i64 = 7 * 24 * 3_600_000;
/// Per-minute health rows are kept this long.
const HEALTH_KEPT_MS: i64 = 35 * 24 * 3_600_000;

/// Drops rejected events and health minutes past their retention (quarantined events stay
/// until replayed or an admin deals with them).
pub async fn prune(store: &Store) -> Result<(), CdpError> {
    let now = store.now().timestamp_millis();
    store
        .db
        .execute(
            &format!(
                "DELETE FROM cdp_held WHERE disposition = 'rejected' AND received_at < {}",
                store.ph(1)
            ),
            &[SqlParam::Int(now - REJECTED_KEPT_MS)],
        )
        .await?;
    let minute = (now - HEALTH_KEPT_MS) / 60_000;
    for table in ["cdp_health", "cdp_health_delay", "cdp_health_reasons"] {
        store
            .db
            .execute(
                &format!("DELETE FROM {table} WHERE minute < {}", store.ph(1)),
                &[SqlParam::Int(minute)],
            )
            .await?;
    }
    Ok(())
}

struct Entry {
    id: i64,
    /// Later entries of the same profile folded into this one (deleted with it).
    folded: Vec<i64>,
    workspace_id: String,
    profile_id: String,
    kind: String,
    payload: Json,
    attempts: i64,
    /// The source of the event (none for entries queued before sources were recorded).
    source_id: Option<String>,
    trusted: bool,
}

/// Claims and applies up to 100 queued syncs; returns how many it handled.
pub async fn process_queue(
    store: &Store,
    settings: &crate::SettingsCache,
) -> Result<usize, CdpError> {
    let now = store.now().timestamp_millis();
    let skip_locked = match store.db.dialect() {
        Dialect::Sqlite => "",
        Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
    };
    let rows = store
        .db
        .write_returning(
            &format!(
                "UPDATE cdp_sync_queue SET leased_until = {}, attempts = attempts + 1 WHERE id IN \
                 (SELECT id FROM cdp_sync_queue WHERE leased_until < {} ORDER BY id LIMIT 100{skip_locked}) \
                 RETURNING id, workspace_id, profile_id, kind, payload, attempts, source_id, trusted",
                store.ph(1),
                store.ph(2)
            ),
            &[SqlParam::Int(now + LEASE_MS), SqlParam::Int(now)],
            &[
                ColumnKind::Int,
                ColumnKind::Text,
                ColumnKind::Text,
                ColumnKind::Text,
                ColumnKind::Json,
                ColumnKind::Int,
                ColumnKind::Text,
                ColumnKind::Bool,
            ],
        )
        .await?;
    let mut entries: Vec<Entry> = rows
        .iter()
        .map(|r| {
            Ok(Entry {
                id: r.int("id")?,
                folded: Vec::new(),
                workspace_id: r.text("workspace_id")?,
                profile_id: r.text("profile_id")?,
                kind: r.text("kind")?,
                payload: r.json("payload")?,
                attempts: r.int("attempts")?,
                source_id: r.opt_text("source_id")?,
                trusted: r.bool("trusted")?,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    entries.sort_by_key(|e| e.id);
    let handled = entries.len();
    for entry in coalesce(entries) {
        let cfg = settings.get(store, &entry.workspace_id).await?;
        let result = match entry.kind.as_str() {
            "contact" => sync_contact(store, &cfg, &entry).await,
            "company" => sync_company(store, &cfg, &entry).await,
            _ => Ok(()),
        };
        match result {
            Ok(()) => {
                let ids: Vec<i64> = std::iter::once(entry.id).chain(entry.folded).collect();
                let marks: Vec<String> = (1..=ids.len()).map(|i| store.ph(i)).collect();
                store
                    .db
                    .execute(
                        &format!(
                            "DELETE FROM cdp_sync_queue WHERE id IN ({})",
                            marks.join(", ")
                        ),
                        &ids.into_iter().map(SqlParam::Int).collect::<Vec<_>>(),
                    )
                    .await?;
            }
            Err(error @ CdpError::Conflict { .. }) => {
                give_up(store, &entry, &error).await?;
            }
            Err(error) if entry.attempts >= MAX_ATTEMPTS => {
                tracing::warn!("giving up on cdp sync {}: {error}", entry.id);
                give_up(store, &entry, &error).await?;
            }
            Err(error) => {
                store
                    .db
                    .execute(
                        &format!(
                            "UPDATE cdp_sync_queue SET last_error = {}, leased_until = {} WHERE id = {}",
                            store.ph(1),
                            store.ph(2),
                            store.ph(3)
                        ),
                        &[
                            SqlParam::Text(error.to_string()),
                            SqlParam::Int(now + 1_000 * entry.attempts * entry.attempts),
                            SqlParam::Int(entry.id),
                        ],
                    )
                    .await?;
            }
        }
    }
    Ok(handled)
}

/// Folds the claimed entries of one profile into one write: a heavy user's many identifies
/// become one contact update with the newest value of each trait; group calls of the same
/// group keep the newest.
fn coalesce(entries: Vec<Entry>) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::with_capacity(entries.len());
    let mut index: std::collections::HashMap<(String, String, String), usize> =
        std::collections::HashMap::new();
    for entry in entries {
        let group = entry
            .payload
            .get("group_id")
            .and_then(crate::wire::scalar_text)
            // An event without a group id coalesces with the others of its kind.
            .unwrap_or_default();
        let key = (
            entry.profile_id.clone(),
            entry.kind.clone(),
            format!(
                "{}\u{1f}{group}\u{1f}{}\u{1f}{}",
                entry.workspace_id,
                // Entries without a source (CRM-made) share one key part.
                entry.source_id.as_deref().unwrap_or_default(),
                entry.trusted
            ),
        );
        match index.get(&key).and_then(|i| out.get_mut(*i)) {
            Some(first) => {
                match (&mut first.payload, entry.payload) {
                    (Json::Object(into), Json::Object(newer)) if first.kind == "contact" => {
                        into.extend(newer);
                    }
                    (slot, newer) => *slot = newer,
                }
                first.folded.push(entry.id);
            }
            None => {
                index.insert(key, out.len());
                out.push(entry);
            }
        }
    }
    out
}

async fn give_up(store: &Store, entry: &Entry, error: &CdpError) -> Result<(), CdpError> {
    let mut tx = store.db.begin().await?;
    let code = match (error, entry.kind.as_str()) {
        (
            CdpError::Conflict {
                code: ErrorCode::ContactUnverified,
                ..
            },
            _,
        ) => WarningCode::ContactUnverified,
        (_, "company") => WarningCode::CompanySyncFailed,
        _ => WarningCode::ContactSyncFailed,
    };
    crate::health::record_warning(
        &mut tx,
        &entry.workspace_id,
        None,
        store.now().timestamp_millis(),
        code,
        &format!("profile {} could not be synced: {error}", entry.profile_id),
        &json!({"profile": entry.profile_id, "payload": entry.payload}),
    )
    .await?;
    tx.execute(
        &format!("DELETE FROM cdp_sync_queue WHERE id = {}", store.ph(1)),
        &[SqlParam::Int(entry.id)],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Trait values mapped to fields of `object`; empty values are skipped.
fn mapped_values(
    traits: &Map<String, Json>,
    mapping: &std::collections::BTreeMap<String, String>,
) -> Map<String, Json> {
    traits
        .iter()
        .filter(|(_, v)| !v.is_null() && v.as_str() != Some(""))
        .filter_map(|(k, v)| mapping.get(k).map(|f| (f.clone(), v.clone())))
        .collect()
}

/// Who writes a sync and how far it may go.
struct Writer<'a> {
    workspace_id: &'a str,
    /// The event's source, named as the actor in field history.
    source_id: Option<&'a str>,
    /// Untrusted writes only fill fields that are empty.
    fill_only: bool,
}

/// Writes a record through the write path inside `tx`; fields the object rejects are dropped
/// and the rest retried, so one malformed trait does not block the others.
async fn write_record(
    store: &Store,
    tx: &mut Tx,
    writer: &Writer<'_>,
    object: &str,
    existing: Option<&str>,
    mut values: Map<String, Json>,
) -> Result<Option<String>, CdpError> {
    let workspace_id = writer.workspace_id;
    let mut principal = store.system_principal(workspace_id).await?;
    let schema = store
        .schema(workspace_id, principal.metadata_version)
        .await?;
    // Records stay owned by the workspace's first administrator; history names the source.
    let owner = principal.user_id.clone();
    if let Some(source) = writer.source_id {
        principal.user_id = format!("source:{source}");
    }
    if let (Some(id), true) = (existing, writer.fill_only) {
        let current = store
            .get_record(&principal, &schema, object, id, false)
            .await?;
        values.retain(|field, _| match current.values.get(field) {
            None | Some(rapport_core::value::Value::Null) => true,
            Some(rapport_core::value::Value::Text(t)) => t.trim().is_empty(),
            Some(_) => false,
        });
    }
    let ctx = WriteCtx {
        principal: &principal,
        source: Source::Cdp,
        request_id: format!("cdp-sync-{}", uuid::Uuid::now_v7()),
    };
    for _ in 0..3 {
        if values.is_empty() {
            return Ok(existing.map(str::to_string));
        }
        let result = match existing {
            Some(id) => {
                store
                    .update_record_in(
                        tx,
                        &ctx,
                        &schema,
                        object,
                        RecordUpdate {
                            id: id.to_string(),
                            values: values.clone(),
                            ..RecordUpdate::default()
                        },
                    )
                    .await
            }
            None => {
                store
                    .create_record_in(
                        tx,
                        &ctx,
                        &schema,
                        object,
                        RecordInput {
                            values: values.clone(),
                            owner_id: Some(owner.clone()),
                        },
                    )
                    .await
            }
        };
        match result {
            Ok(record) => return Ok(Some(record.id)),
            Err(StoreError::Core(CoreError::Validation(errors))) => {
                let bad: Vec<String> = errors.iter().map(|e| e.field.clone()).collect();
                let before = values.len();
                values.retain(|k, _| !bad.contains(k));
                if values.len() == before {
                    return Err(StoreError::Core(CoreError::Validation(errors)).into());
                }
            }
            Err(other) => return Err(other.into()),
        }
    }
    Ok(existing.map(str::to_string))
}

async fn live_record(
    store: &Store,
    workspace_id: &str,
    object: &str,
    id: &str,
) -> Result<bool, CdpError> {
    let table = rapport_core::names::quote(&table_name(workspace_id, object));
    let row = store
        .db
        .fetch_optional(
            &format!(
                "SELECT id FROM {table} WHERE id = {} AND deleted_at IS NULL",
                store.ph(1)
            ),
            &[SqlParam::Text(id.into())],
            &[ColumnKind::Text],
        )
        .await?;
    Ok(row.is_some())
}

async fn set_link(tx: &mut Tx, profile: &str, column: &str, id: &str) -> Result<(), CdpError> {
    tx.execute(
        &format!(
            "UPDATE cdp_profiles SET {column} = {} WHERE id = {}",
            crate::ph(tx, 1),
            crate::ph(tx, 2)
        ),
        &[SqlParam::Text(id.into()), SqlParam::Text(profile.into())],
    )
    .await?;
    Ok(())
}

async fn sync_contact(store: &Store, settings: &Settings, entry: &Entry) -> Result<(), CdpError> {
    let Json::Object(traits) = &entry.payload else {
        return Ok(());
    };
    let profile = profiles::get(store, &entry.workspace_id, &entry.profile_id).await?;
    let values = mapped_values(traits, &settings.contact_mapping);
    let writer = Writer {
        workspace_id: &entry.workspace_id,
        source_id: entry.source_id.as_deref(),
        fill_only: !entry.trusted,
    };
    let mut contact = match &profile.contact_id {
        Some(id) if live_record(store, &entry.workspace_id, "contact", id).await? => {
            Some(id.clone())
        }
        _ => None,
    };
    if contact.is_none() {
        // A contact with the same email already in the CRM: link instead of duplicating.
        let email_field = settings
            .contact_mapping
            .get("email")
            .cloned()
            .unwrap_or_else(|| "email".into());
        if let Some(email) = values.get(&email_field).and_then(Json::as_str) {
            if let Some(normalized) = normalize("email", email, settings) {
                let table = rapport_core::names::quote(&table_name(&entry.workspace_id, "contact"));
                let column = rapport_core::names::quote(&email_field);
                contact = store
                    .db
                    .fetch_optional(
                        &format!(
                            "SELECT id FROM {table} WHERE LOWER({column}) = {} AND deleted_at IS NULL ORDER BY created_at LIMIT 1",
                            store.ph(1)
                        ),
                        &[SqlParam::Text(normalized)],
                        &[ColumnKind::Text],
                    )
                    .await?
                    .map(|r| r.text("id"))
                    .transpose()?;
            }
        }
    }
    if let Some(found) = &contact {
        if profile.contact_id.as_deref() != Some(found.as_str()) {
            if !entry.trusted {
                // An email typed on a device proves nothing: the CRM's contact stays its own.
                return Err(CdpError::Conflict {
                    code: ErrorCode::ContactUnverified,
                    message: format!(
                        "contact {found} has this email, but the event came from a client source without identity verification"
                    ),
                });
            }
            if let Some(other) = profiles::for_contact(store, &entry.workspace_id, found).await? {
                if other != profile.id {
                    // The contact belongs to another customer (the guard kept them apart):
                    // do not fold them together in the CRM either.
                    return Err(CdpError::Conflict {
                        code: ErrorCode::ContactTaken,
                        message: format!(
                            "contact {found} with this email is linked to profile {other}"
                        ),
                    });
                }
            }
        }
    }
    let mut values = values;
    if contact.is_none() && !values.contains_key("name") {
        // A new contact needs a name: the best identifier the customer has.
        let name = traits
            .get("email")
            .or_else(|| traits.get("phone"))
            .and_then(Json::as_str)
            .map(str::to_string)
            .or_else(|| {
                profile
                    .identifiers
                    .iter()
                    .find(|i| i.id_type == "user_id")
                    .map(|i| i.value.clone())
            });
        match name {
            Some(n) => {
                values.insert("name".into(), Json::String(n));
            }
            None => return Ok(()),
        }
    }
    // The contact and the profile's link commit together: a crash between them could make a
    // retry create the contact again.
    let mut tx = store.db.begin().await?;
    let written = write_record(
        store,
        &mut tx,
        &writer,
        "contact",
        contact.as_deref(),
        values,
    );
    if let Some(id) = written.await? {
        if profile.contact_id.as_deref() != Some(id.as_str()) {
            set_link(&mut tx, &profile.id, "contact_id", &id).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

async fn sync_company(store: &Store, settings: &Settings, entry: &Entry) -> Result<(), CdpError> {
    let Some(group_id) = entry
        .payload
        .get("group_id")
        .and_then(crate::wire::scalar_text)
    else {
        return Ok(());
    };
    let traits = entry
        .payload
        .get("traits")
        .and_then(Json::as_object)
        .cloned()
        // A group call without traits has nothing to map.
        .unwrap_or_default();
    let mut values = mapped_values(&traits, &settings.company_mapping);
    let ws = &entry.workspace_id;
    let writer = Writer {
        workspace_id: ws,
        source_id: entry.source_id.as_deref(),
        fill_only: !entry.trusted,
    };
    let linked = store
        .db
        .fetch_optional(
            &format!(
                "SELECT company_id FROM cdp_groups WHERE workspace_id = {} AND group_id = {}",
                store.ph(1),
                store.ph(2)
            ),
            &[SqlParam::Text(ws.clone()), SqlParam::Text(group_id.clone())],
            &[ColumnKind::Text],
        )
        .await?
        .map(|r| r.text("company_id"))
        .transpose()?;
    let existing = match linked {
        Some(id) if live_record(store, ws, "company", &id).await? => Some(id),
        _ => None,
    };
    if existing.is_none() && !values.contains_key("name") {
        values.insert("name".into(), Json::String(group_id.clone()));
    }
    let profile = profiles::get(store, ws, &entry.profile_id).await?;
    let contact = match &profile.contact_id {
        Some(c) if live_record(store, ws, "contact", c).await? => Some(c.clone()),
        _ => None,
    };
    // The company, its group mapping and both links commit together.
    let mut tx = store.db.begin().await?;
    let written = write_record(
        store,
        &mut tx,
        &writer,
        "company",
        existing.as_deref(),
        values,
    );
    let Some(company) = written.await? else {
        return Ok(());
    };
    tx.execute(
        &format!(
            "INSERT INTO cdp_groups (workspace_id, group_id, company_id) VALUES ({}, {}, {}) \
             ON CONFLICT (workspace_id, group_id) DO UPDATE SET company_id = excluded.company_id",
            crate::ph(&tx, 1),
            crate::ph(&tx, 2),
            crate::ph(&tx, 3)
        ),
        &[
            SqlParam::Text(ws.clone()),
            SqlParam::Text(group_id),
            SqlParam::Text(company.clone()),
        ],
    )
    .await?;
    set_link(&mut tx, &profile.id, "company_id", &company).await?;
    if let Some(contact) = &contact {
        let mut link = Map::new();
        link.insert("company".into(), Json::String(company));
        write_record(store, &mut tx, &writer, "contact", Some(contact), link).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// After an unmerge (inside its transaction): when only one of the two customers has a CRM
/// contact, the contact goes with the customer its email belongs to, and the customer left
/// without one gets a contact of its own, queued from its own traits (as an untrusted sync: it
/// never takes over a contact by email).
pub(crate) async fn split_contact(
    tx: &mut rapport_store::Tx,
    store: &Store,
    settings: &Settings,
    ws: &str,
    merge: &profiles::Merge,
    now: i64,
) -> Result<(), CdpError> {
    let mut survivor_root = merge.survivor_id.clone();
    for _ in 0..10_000 {
        let parent = tx
            .fetch_optional(
                &format!(
                    "SELECT merged_into FROM cdp_profiles WHERE id = {}",
                    store.ph(1)
                ),
                &[SqlParam::Text(survivor_root.clone())],
                &[ColumnKind::Text],
            )
            .await?
            .map(|r| r.opt_text("merged_into"))
            .transpose()?
            .flatten();
        match parent {
            Some(p) => survivor_root = p,
            None => break,
        }
    }
    let sides = [
        side(tx, store, &survivor_root).await?,
        side(tx, store, &merge.absorbed_id).await?,
    ];
    let (holder, bare) = match (&sides[0].contact, &sides[1].contact) {
        (Some(_), None) => (0, 1),
        (None, Some(_)) => (1, 0),
        _ => return Ok(()),
    };
    let Some(contact) = sides[holder].contact.clone() else {
        return Ok(());
    };
    let email_field = settings
        .contact_mapping
        .get("email")
        .cloned()
        .unwrap_or_else(|| "email".into());
    let table = rapport_core::names::quote(&table_name(ws, "contact"));
    let email = tx
        .fetch_optional(
            &format!(
                "SELECT {} FROM {table} WHERE id = {}",
                rapport_core::names::quote(&email_field),
                store.ph(1)
            ),
            &[SqlParam::Text(contact.clone())],
            &[ColumnKind::Text],
        )
        .await?
        .map(|r| r.opt_text(0))
        .transpose()?
        .flatten()
        .and_then(|e| normalize("email", &e, settings));
    let mut owner = None;
    if let Some(email) = email {
        owner = tx
            .fetch_optional(
                &format!(
                    "SELECT profile_id FROM cdp_identities WHERE workspace_id = {} AND id_type = 'email' AND id_value = {}",
                    store.ph(1),
                    store.ph(2)
                ),
                &[SqlParam::Text(ws.into()), SqlParam::Text(email)],
                &[ColumnKind::Text],
            )
            .await?
            .map(|r| r.text("profile_id"))
            .transpose()?;
    }
    // The side that keeps the contact, and the side that gets a new one.
    let (keeper, other) = match owner {
        Some(o) if sides[bare].members.contains(&o) => (bare, holder),
        _ => (holder, bare),
    };
    if keeper != holder {
        for member in &sides[holder].members {
            tx.execute(
                &format!(
                    "UPDATE cdp_profiles SET contact_id = NULL WHERE id = {} AND contact_id = {}",
                    store.ph(1),
                    store.ph(2)
                ),
                &[
                    SqlParam::Text(member.clone()),
                    SqlParam::Text(contact.clone()),
                ],
            )
            .await?;
        }
        tx.execute(
            &format!(
                "UPDATE cdp_profiles SET contact_id = {} WHERE id = {}",
                store.ph(1),
                store.ph(2)
            ),
            &[
                SqlParam::Text(contact.clone()),
                SqlParam::Text(sides[keeper].root.clone()),
            ],
        )
        .await?;
    }
    let own: Map<String, Json> = sides[other]
        .traits
        .iter()
        .filter(|(k, _)| settings.contact_mapping.contains_key(*k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !own.is_empty() {
        tx.execute(
            &format!(
                "INSERT INTO cdp_sync_queue (workspace_id, profile_id, kind, payload, created_at, trusted)                  VALUES ({}, {}, 'contact', {}, {}, {})",
                store.ph(1),
                store.ph(2),
                match store.db.dialect() {
                    Dialect::Sqlite => store.ph(3),
                    Dialect::Postgres => format!("{}::jsonb", store.ph(3)),
                },
                store.ph(4),
                store.ph(5)
            ),
            &[
                SqlParam::Text(ws.into()),
                SqlParam::Text(sides[other].root.clone()),
                SqlParam::Text(Json::Object(own).to_string()),
                SqlParam::Int(now),
                SqlParam::Bool(false),
            ],
        )
        .await?;
    }
    Ok(())
}

/// One customer as an unmerge sees it: its profiles, its contact and its traits (the root's
/// win), read inside the unmerge's transaction.
struct Side {
    root: String,
    members: Vec<String>,
    contact: Option<String>,
    traits: Map<String, Json>,
}

async fn side(tx: &mut rapport_store::Tx, store: &Store, root: &str) -> Result<Side, CdpError> {
    let rows = tx
        .fetch_all(
            &format!(
                "WITH RECURSIVE members(id) AS (SELECT {} UNION SELECT p.id FROM cdp_profiles p JOIN members m ON p.merged_into = m.id)                  SELECT p.id, p.contact_id, p.traits FROM cdp_profiles p JOIN members m ON p.id = m.id",
                store.ph(1)
            ),
            &[SqlParam::Text(root.into())],
            &[ColumnKind::Text, ColumnKind::Text, ColumnKind::Json],
        )
        .await?;
    let mut members = rows
        .iter()
        .map(|r| Ok((r.text("id")?, r.opt_text("contact_id")?, r.json("traits")?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    // The root first, so its traits and contact win.
    members.sort_by_key(|(id, _, _)| id != root);
    let mut traits = Map::new();
    let mut contact = None;
    for (_, linked, member_traits) in &members {
        if contact.is_none() {
            contact.clone_from(linked);
        }
        if let Json::Object(m) = member_traits {
            for (k, v) in m {
                traits.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
    }
    Ok(Side {
        root: root.to_string(),
        members: members.into_iter().map(|(id, _, _)| id).collect(),
        contact,
        traits,
    })
}

/// Gives contacts created in the CRM (not by the CDP itself) a profile. Returns how many
/// outbox entries it read.
pub async fn consume_outbox(
    store: &Store,
    settings: &crate::SettingsCache,
) -> Result<usize, CdpError> {
    let Some(claim) = CONTACT_PROFILES.claim(store, 200).await? else {
        return Ok(0);
    };
    for row in &claim.entries {
        let cfg = settings.get(store, &row.workspace_id).await?;
        if let Err(e) =
            profile_for_contact(store, &cfg, &row.workspace_id, &row.record_id, &row.payload).await
        {
            tracing::warn!("profile for contact {}: {e}", row.record_id);
        }
    }
    let n = claim.entries.len();
    claim.done(store).await?;
    Ok(n)
}

async fn profile_for_contact(
    store: &Store,
    settings: &Settings,
    ws: &str,
    contact: &str,
    snapshot: &Json,
) -> Result<(), CdpError> {
    let created_by_cdp = store
        .db
        .fetch_optional(
            &format!(
                "SELECT source FROM field_history WHERE workspace_id = {} AND object = 'contact' AND record_id = {} AND kind = 'created' LIMIT 1",
                store.ph(1),
                store.ph(2)
            ),
            &[SqlParam::Text(ws.into()), SqlParam::Text(contact.into())],
            &[ColumnKind::Text],
        )
        .await?
        .map(|r| r.text("source"))
        .transpose()?
        .is_some_and(|source| source == "cdp");
    if created_by_cdp || profiles::for_contact(store, ws, contact).await?.is_some() {
        return Ok(());
    }
    let mut idents = Vec::new();
    for (id_type, fields) in [
        ("email", &["email"][..]),
        ("phone", &["mobile", "phone"][..]),
    ] {
        for field in fields {
            if let Some(v) = snapshot.get(*field).and_then(Json::as_str) {
                if let Some(n) = normalize(id_type, v, settings) {
                    idents.push((id_type, n));
                }
            }
        }
    }
    let now = store.now().timestamp_millis();
    let mut tx = store.db.begin().await?;
    let ph = |n| store.ph(n);
    // A profile already carrying the contact's email or phone is this customer.
    let mut owner = None;
    for (id_type, value) in &idents {
        owner = tx
            .fetch_optional(
                &format!(
                    "SELECT profile_id FROM cdp_identities WHERE workspace_id = {} AND id_type = {} AND id_value = {}",
                    ph(1),
                    ph(2),
                    ph(3)
                ),
                &[
                    SqlParam::Text(ws.into()),
                    SqlParam::Text((*id_type).into()),
                    SqlParam::Text(value.clone()),
                ],
                &[ColumnKind::Text],
            )
            .await?
            .map(|r| r.text("profile_id"))
            .transpose()?;
        if owner.is_some() {
            break;
        }
    }
    let profile = match owner {
        Some(p) => p,
        None => {
            let id = uuid::Uuid::now_v7().to_string();
            tx.execute(
                &format!(
                    "INSERT INTO cdp_profiles (id, workspace_id, first_seen) VALUES ({}, {}, {})",
                    ph(1),
                    ph(2),
                    ph(3)
                ),
                &[
                    SqlParam::Text(id.clone()),
                    SqlParam::Text(ws.into()),
                    SqlParam::Int(now),
                ],
            )
            .await?;
            for (id_type, value) in &idents {
                tx.execute(
                    &format!(
                        "INSERT INTO cdp_identities (workspace_id, id_type, id_value, profile_id, first_seen) VALUES ({}, {}, {}, {}, {}) \
                         ON CONFLICT (workspace_id, id_type, id_value) DO NOTHING",
                        ph(1),
                        ph(2),
                        ph(3),
                        ph(4),
                        ph(5)
                    ),
                    &[
                        SqlParam::Text(ws.into()),
                        SqlParam::Text((*id_type).into()),
                        SqlParam::Text(value.clone()),
                        SqlParam::Text(id.clone()),
                        SqlParam::Int(now),
                    ],
                )
                .await?;
            }
            id
        }
    };
    tx.execute(
        &format!(
            "UPDATE cdp_profiles SET contact_id = {} WHERE id = {} AND contact_id IS NULL",
            ph(1),
            ph(2)
        ),
        &[SqlParam::Text(contact.into()), SqlParam::Text(profile)],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: i64, profile: &str, kind: &str, payload: Json) -> Entry {
        Entry {
            id,
            folded: Vec::new(),
            workspace_id: "w".into(),
            profile_id: profile.into(),
            kind: kind.into(),
            payload,
            attempts: 1,
            source_id: None,
            trusted: true,
        }
    }

    #[test]
    fn one_write_per_profile_with_the_newest_traits() {
        let merged = coalesce(vec![
            entry(1, "p", "contact", json!({"name": "Ann", "title": "Buyer"})),
            entry(2, "q", "contact", json!({"name": "Bob"})),
            entry(3, "p", "contact", json!({"title": "Head buyer"})),
            entry(
                4,
                "p",
                "company",
                json!({"group_id": "g1", "traits": {"name": "A"}}),
            ),
            entry(
                5,
                "p",
                "company",
                json!({"group_id": "g2", "traits": {"name": "B"}}),
            ),
            entry(
                6,
                "p",
                "company",
                json!({"group_id": "g1", "traits": {"name": "A2"}}),
            ),
        ]);
        assert_eq!(merged.len(), 4);
        assert_eq!(
            merged[0].payload,
            json!({"name": "Ann", "title": "Head buyer"})
        );
        assert_eq!(merged[0].folded, vec![3]);
        assert_eq!(merged[2].payload["traits"]["name"], "A2");
        assert_eq!(merged[2].folded, vec![6]);
        assert!(merged[1].folded.is_empty() && merged[3].folded.is_empty());
    }
}
