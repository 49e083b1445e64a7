//! Deciding membership for a few customers at once (streaming, timers, preview samples,
//! lineage): find each customer's cluster, load the counters of every behaviour the segments
//! test, the traits and the linked contact (with the records its field tests reach), and
//! evaluate. Nothing is written here.

use super::behavior::{self, Counts};
use super::Compiled;
use crate::error::CdpError;
use rapport_core::record::Record;
use rapport_core::sql::{placeholders, ColumnKind, SqlParam};
use rapport_store::Store;
use serde_json::{Map, Value as Json};
use std::collections::{BTreeMap, HashMap};

/// One segment's verdict on one customer.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub segment_id: String,
    pub root: String,
    pub member: bool,
    /// When a sliding window next changes a count this decision depends on.
    pub due: Option<i64>,
}

/// The root of each profile (profiles that do not exist are left out).
pub async fn roots_of(
    store: &Store,
    profiles: &[String],
) -> Result<BTreeMap<String, String>, CdpError> {
    let mut out = BTreeMap::new();
    let mut pending: BTreeMap<String, Vec<String>> = profiles
        .iter()
        .map(|p| (p.clone(), vec![p.clone()]))
        .collect();
    for _ in 0..64 {
        if pending.is_empty() {
            break;
        }
        let ids: Vec<String> = pending.keys().cloned().collect();
        let mut next: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for chunk in ids.chunks(500) {
            let rows = store
                .db
                .fetch_all(
                    &format!(
                        "SELECT id, merged_into FROM cdp_profiles WHERE id IN ({})",
                        placeholders(store.db.dialect(), 1, chunk.len())
                    ),
                    &chunk
                        .iter()
                        .map(|c| SqlParam::Text(c.clone()))
                        .collect::<Vec<_>>(),
                    &[ColumnKind::Text, ColumnKind::Text],
                )
                .await?;
            for row in rows {
                let id = row.text("id")?;
                // Every id read was asked for as pending; one without origins adds none.
                let origins = pending.remove(&id).unwrap_or_default();
                match row.opt_text("merged_into")? {
                    None => {
                        for o in origins {
                            out.insert(o, id.clone());
                        }
                    }
                    Some(parent) => next.entry(parent).or_default().extend(origins),
                }
            }
        }
        pending = next;
    }
    Ok(out)
}

/// Each root with its members (the root first).
pub async fn clusters(
    store: &Store,
    roots: &[String],
) -> Result<BTreeMap<String, Vec<String>>, CdpError> {
    let mut out: BTreeMap<String, Vec<String>> =
        roots.iter().map(|r| (r.clone(), vec![r.clone()])).collect();
    let mut frontier: Vec<(String, String)> =
        roots.iter().map(|r| (r.clone(), r.clone())).collect();
    for _ in 0..64 {
        if frontier.is_empty() {
            break;
        }
        let root_of: HashMap<String, String> = frontier.iter().cloned().collect();
        let ids: Vec<String> = frontier.iter().map(|(p, _)| p.clone()).collect();
        let mut next = Vec::new();
        for chunk in ids.chunks(500) {
            let rows = store
                .db
                .fetch_all(
                    &format!(
                        "SELECT id, merged_into FROM cdp_profiles WHERE merged_into IN ({})",
                        placeholders(store.db.dialect(), 1, chunk.len())
                    ),
                    &chunk
                        .iter()
                        .map(|c| SqlParam::Text(c.clone()))
                        .collect::<Vec<_>>(),
                    &[ColumnKind::Text, ColumnKind::Text],
                )
                .await?;
            for row in rows {
                if let Some(root) = root_of.get(&row.text("merged_into")?) {
                    let id = row.text("id")?;
                    out.entry(root.clone()).or_default().push(id.clone());
                    next.push((id, root.clone()));
                }
            }
        }
        frontier = next;
    }
    Ok(out)
}

/// The facts of one customer, shared by every segment evaluated on it.
pub struct Customer {
    pub root: String,
    pub members: Vec<String>,
    pub traits: Map<String, Json>,
    pub contact: Record,
}

/// An empty record: what a customer without a contact shows to field tests.
pub fn empty_record() -> Record {
    Record {
        id: String::new(),
        version: 0,
        created_at: chrono::DateTime::UNIX_EPOCH,
        updated_at: chrono::DateTime::UNIX_EPOCH,
        created_by: None,
        updated_by: None,
        owner_id: None,
        deleted_at: None,
        values: Default::default(),
        unreadable: Vec::new(),
    }
}

/// Loads what `segments` need to know about `roots`.
pub async fn customers(
    store: &Store,
    ws: &str,
    segments: &[std::sync::Arc<Compiled>],
    roots: &[String],
) -> Result<(Vec<Customer>, Related), CdpError> {
    let clusters = clusters(store, roots).await?;
    let needs_profile = segments
        .iter()
        .any(|s| s.condition.uses_traits || s.condition.uses_contact);
    let mut traits: HashMap<String, Map<String, Json>> = HashMap::new();
    let mut contact_of: HashMap<String, String> = HashMap::new();
    if needs_profile {
        let all: Vec<String> = clusters.values().flatten().cloned().collect();
        for chunk in all.chunks(500) {
            let rows = store
                .db
                .fetch_all(
                    &format!(
                        "SELECT id, merged_into, contact_id, traits FROM cdp_profiles WHERE id IN ({})",
                        placeholders(store.db.dialect(), 1, chunk.len())
                    ),
                    &chunk
                        .iter()
                        .map(|c| SqlParam::Text(c.clone()))
                        .collect::<Vec<_>>(),
                    &[
                        ColumnKind::Text,
                        ColumnKind::Text,
                        ColumnKind::Text,
                        ColumnKind::Json,
                    ],
                )
                .await?;
            for row in rows {
                let id = row.text("id")?;
                if row.opt_text("merged_into")?.is_none() {
                    if let Json::Object(t) = row.json("traits")? {
                        traits.insert(id.clone(), t);
                    }
                }
                if let Some(c) = row.opt_text("contact_id")? {
                    contact_of.insert(id, c);
                }
            }
        }
    }
    let mut contact_ids: HashMap<String, String> = HashMap::new();
    for (root, members) in &clusters {
        let linked = contact_of
            .get(root)
            .or_else(|| members.iter().find_map(|m| contact_of.get(m)));
        if let Some(c) = linked {
            contact_ids.insert(root.clone(), c.clone());
        }
    }
    let uses_contact = segments.iter().any(|s| s.condition.uses_contact);
    let mut related = Related::default();
    let mut contacts: HashMap<String, Record> = HashMap::new();
    if uses_contact && !contact_ids.is_empty() {
        let principal = store.system_principal(ws).await?;
        let schema = store.schema(ws, principal.metadata_version).await?;
        if let Some(def) = schema.active_object("contact") {
            let ids: Vec<String> = contact_ids.values().cloned().collect();
            for chunk in ids.chunks(500) {
                for r in store.records_by_ids(ws, def, chunk).await? {
                    contacts.insert(r.id.clone(), r);
                }
            }
            let relations: Vec<String> = segments
                .iter()
                .flat_map(|s| s.condition.contact_relations.iter().cloned())
                .collect();
            for relation in relations {
                let Some(target) = def
                    .fields
                    .iter()
                    .find(|f| f.api_name == relation)
                    .and_then(|f| f.config.target.clone())
                else {
                    continue;
                };
                let Some(target_def) = schema.active_object(&target) else {
                    continue;
                };
                let wanted: Vec<String> = contacts
                    .values()
                    .filter_map(|c| match c.get(&relation) {
                        rapport_core::value::Value::Text(id) => Some(id),
                        _ => None,
                    })
                    .collect();
                for chunk in wanted.chunks(500) {
                    for r in store.records_by_ids(ws, target_def, chunk).await? {
                        related.0.insert((relation.clone(), r.id.clone()), r);
                    }
                }
            }
        }
    }
    let out = clusters
        .into_iter()
        .map(|(root, members)| Customer {
            // Traits are loaded only when a segment tests them; a customer without any has none.
            traits: traits.remove(&root).unwrap_or_default(),
            contact: contact_ids
                .get(&root)
                .and_then(|c| contacts.get(c).cloned())
                .unwrap_or_else(empty_record),
            root,
            members,
        })
        .collect();
    Ok((out, related))
}

/// Records that contact field tests reach through a relation: (relation, id) → record.
#[derive(Default)]
pub struct Related(pub HashMap<(String, String), Record>);

impl Related {
    pub fn get(&self, relation: &str, id: &str) -> Option<Record> {
        self.0.get(&(relation.to_string(), id.to_string())).cloned()
    }
}

/// Decides every segment on every root at `now`.
pub async fn decide(
    store: &Store,
    ws: &str,
    segments: &[std::sync::Arc<Compiled>],
    roots: &[String],
    now: i64,
) -> Result<Vec<Decision>, CdpError> {
    if segments.is_empty() || roots.is_empty() {
        return Ok(Vec::new());
    }
    let (customers, related) = customers(store, ws, segments, roots).await?;
    let keys: Vec<String> = segments
        .iter()
        .flat_map(|s| s.keys.iter().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let all: Vec<String> = customers
        .iter()
        .flat_map(|c| c.members.iter().cloned())
        .collect();
    let counts = behavior::load_counts(store, &keys, &all).await?;
    let mut out = Vec::with_capacity(customers.len() * segments.len());
    let lookup = |relation: &str, id: &str| related.get(relation, id);
    for customer in &customers {
        for segment in segments {
            let (member, due) = judge(segment, customer, &counts, &lookup, now);
            out.push(Decision {
                segment_id: segment.id.clone(),
                root: customer.root.clone(),
                member,
                due,
            });
        }
    }
    Ok(out)
}

/// Membership and next window change of one customer in one segment.
pub fn judge(
    segment: &Compiled,
    customer: &Customer,
    counts: &HashMap<String, HashMap<String, Counts>>,
    related: &dyn Fn(&str, &str) -> Option<Record>,
    now: i64,
) -> (bool, Option<i64>) {
    let empty = HashMap::new();
    let mut tallies = Vec::with_capacity(segment.condition.behaviors.len());
    let mut expiries = Vec::with_capacity(segment.condition.behaviors.len());
    for (b, key) in segment.condition.behaviors.iter().zip(&segment.keys) {
        let by_profile = counts.get(key).unwrap_or(&empty);
        let rows: Vec<&Counts> = customer
            .members
            .iter()
            .filter_map(|m| by_profile.get(m))
            .collect();
        tallies.push(b.count_at(&rows, now));
        expiries.push(b.next_expiry(&rows, now));
    }
    let member = segment.condition.eval(&super::condition::Facts {
        traits: &customer.traits,
        contact: &customer.contact,
        related,
        counts: &tallies,
    });
    (member, segment.condition.due(member, &expiries))
}
