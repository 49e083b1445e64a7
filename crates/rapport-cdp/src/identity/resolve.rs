//! Identity resolution inside the group commit. For each event, in order: look its identifiers
//! up (one batched query per group, through a node-local cache — safe, because an identifier's
//! owner never changes), create a profile for a stranger, merge the clusters an event links
//! (when its identifier type merges and the guard allows), attach new identifiers, and say which
//! profile owns the event. Everything is written in `finish`, in the caller's transaction.
//!
//! The guard refuses to merge two clusters that carry different user ids (unless an `alias`
//! from a trusted source says they are one person), to let one identifier value cause more than
//! `max_merges_per_identifier` merges, and to fold more than [`MAX_CUSTOMERS_PER_EVENT`]
//! customers together through one event; each refusal becomes a data-health warning.
//!
//! Across nodes (PostgreSQL), a group commit that walks or changes the merge tree of a
//! workspace first takes that workspace's graph lock, so the guard judges the graph as it is;
//! profile rows are then written in id order (see the writer's lock order).

use super::Ident;
use crate::error::CdpError;
use crate::settings::Settings;
use crate::{json_ph, ph};
use rapport_core::codes::{ErrorCode, WarningCode};
use rapport_core::sql::{ColumnKind, SqlParam, ValueRows};
use rapport_store::cache::Cache;
use rapport_store::Tx;
use serde_json::{json, Map, Value as Json};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Identifier → owning profile, shared by the node's group commits (an owner never changes, so
/// entries never go stale; the cache is bounded).
pub struct IdentityCache(Cache<String, String>);

impl Default for IdentityCache {
    fn default() -> Self {
        Self(Cache::bounded(500_000))
    }
}

fn cache_key(ws: &str, ident: &Ident) -> String {
    format!("{ws}\u{1f}{}\u{1f}{}", ident.id_type, ident.value)
}

impl IdentityCache {
    fn get(&self, ws: &str, ident: &Ident) -> Option<String> {
        self.0.get(&cache_key(ws, ident))
    }

    pub fn insert_all(&self, ws: &str, owners: &[(Ident, String)]) {
        for (ident, owner) in owners {
            self.0.insert(cache_key(ws, ident), owner.clone());
        }
    }

    /// Forgets everything (after an erasure or a failed commit).
    pub fn clear(&self) {
        self.0.clear();
    }
}

/// A data-health warning raised while resolving.
#[derive(Debug, Clone)]
pub struct Warning {
    pub source_id: String,
    pub code: WarningCode,
    pub message: String,
    pub details: Json,
}

#[derive(Debug, Clone)]
struct MergeRecord {
    id: String,
    survivor: String,
    absorbed: String,
    cause: Ident,
    source_id: String,
    message_id: String,
}

/// One event naming more customers than this merges none of them (a red flag, not a person).
pub const MAX_CUSTOMERS_PER_EVENT: usize = 5;

/// What the resolver needs to know of an event.
pub struct EventIdentity<'a> {
    pub idents: &'a [Ident],
    /// An alias's previousId (already normalised and checked against the blocklist): an older
    /// user id or an anonymous id.
    pub previous_id: Option<&'a str>,
    /// From a server source, or carrying a valid identity verification: an alias may then join
    /// two user ids.
    pub trusted: bool,
    pub source_id: &'a str,
    pub message_id: &'a str,
    pub at: i64,
}

pub struct Resolver<'a> {
    ws: String,
    settings: &'a Settings,
    cache: &'a IdentityCache,
    owners: HashMap<Ident, String>,
    parents: HashMap<String, Option<String>>,
    first_seen: HashMap<String, i64>,
    user_ids: HashMap<String, BTreeSet<String>>,
    merge_counts: HashMap<Ident, i64>,
    new_profiles: Vec<String>,
    new_identities: Vec<(Ident, String)>,
    merges: Vec<MergeRecord>,
    warnings: Vec<Warning>,
    traits: HashMap<String, Map<String, Json>>,
    /// Whether this transaction holds the workspace's graph lock.
    graph_locked: bool,
}

const MAX_CHAIN: usize = 10_000;

impl<'a> Resolver<'a> {
    pub fn new(ws: &str, settings: &'a Settings, cache: &'a IdentityCache) -> Self {
        Self {
            ws: ws.to_string(),
            settings,
            cache,
            owners: HashMap::new(),
            parents: HashMap::new(),
            first_seen: HashMap::new(),
            user_ids: HashMap::new(),
            merge_counts: HashMap::new(),
            new_profiles: Vec::new(),
            new_identities: Vec::new(),
            merges: Vec::new(),
            warnings: Vec::new(),
            traits: HashMap::new(),
            graph_locked: false,
        }
    }

    /// Takes the workspace's graph lock (PostgreSQL) before the first look at the merge tree,
    /// and forgets what was read of it before.
    async fn lock_graph(&mut self, tx: &mut Tx) -> Result<(), CdpError> {
        if self.graph_locked {
            return Ok(());
        }
        if tx.dialect() == rapport_core::sql::Dialect::Postgres {
            lock_graph(tx, &self.ws).await?;
            let new: BTreeSet<String> = self.new_profiles.iter().cloned().collect();
            self.parents.retain(|id, _| new.contains(id));
            self.user_ids.retain(|id, _| new.contains(id));
        }
        self.graph_locked = true;
        Ok(())
    }

    /// Looks up every identifier the group will need, in batches.
    pub async fn prefetch(&mut self, tx: &mut Tx, idents: &[Ident]) -> Result<(), CdpError> {
        let mut missing: Vec<&Ident> = Vec::new();
        let mut seen = BTreeSet::new();
        for ident in idents {
            if !seen.insert(ident) || self.owners.contains_key(ident) {
                continue;
            }
            match self.cache.get(&self.ws, ident) {
                Some(owner) => {
                    self.owners.insert(ident.clone(), owner);
                }
                None => missing.push(ident),
            }
        }
        // One lookup per identifier type: `id_type = ? AND id_value IN (…)` walks the primary
        // key on both backends (a row-value IN list made PostgreSQL scan the table).
        let mut by_type: BTreeMap<&str, Vec<&Ident>> = BTreeMap::new();
        for ident in missing {
            by_type
                .entry(ident.id_type.as_str())
                .or_default()
                .push(ident);
        }
        for (id_type, idents) in by_type {
            for chunk in crate::statement_chunks(&idents) {
                let mut params = Vec::with_capacity(chunk.len() + 2);
                params.push(SqlParam::Text(self.ws.clone()));
                params.push(SqlParam::Text(id_type.to_string()));
                let mut marks = Vec::with_capacity(chunk.len());
                for ident in chunk {
                    params.push(SqlParam::Text(ident.value.clone()));
                    marks.push(ph(tx, params.len()));
                }
                let sql = format!(
                    "SELECT id_value, profile_id FROM cdp_identities WHERE workspace_id = {} AND id_type = {} AND id_value IN ({})",
                    ph(tx, 1),
                    ph(tx, 2),
                    marks.join(", ")
                );
                let rows = tx
                    .fetch_all(&sql, &params, &[ColumnKind::Text, ColumnKind::Text])
                    .await?;
                let mut found = Vec::with_capacity(rows.len());
                for row in rows {
                    let ident = Ident::new(id_type, row.text("id_value")?);
                    let owner = row.text("profile_id")?;
                    found.push((ident.clone(), owner.clone()));
                    self.owners.insert(ident, owner);
                }
                self.cache.insert_all(&self.ws, &found);
            }
        }
        Ok(())
    }

    fn merges_enabled(&self, ident: &Ident) -> bool {
        self.settings
            .identifier(&ident.id_type)
            .is_some_and(|t| t.merge)
    }

    async fn load_profiles(&mut self, tx: &mut Tx, ids: &[String]) -> Result<(), CdpError> {
        let wanted: Vec<&String> = ids
            .iter()
            .filter(|id| !self.parents.contains_key(*id))
            .collect();
        for chunk in crate::statement_chunks(&wanted) {
            let list = (0..chunk.len())
                .map(|i| ph(tx, i + 1))
                .collect::<Vec<_>>()
                .join(", ");
            let params: Vec<SqlParam> = chunk
                .iter()
                .map(|id| SqlParam::Text((*id).clone()))
                .collect();
            let sql = format!(
                "SELECT id, merged_into, first_seen FROM cdp_profiles WHERE id IN ({list})"
            );
            let rows = tx
                .fetch_all(
                    &sql,
                    &params,
                    &[ColumnKind::Text, ColumnKind::Text, ColumnKind::Int],
                )
                .await?;
            for row in rows {
                let id = row.text("id")?;
                self.parents
                    .insert(id.clone(), row.opt_text("merged_into")?);
                self.first_seen.insert(id, row.int("first_seen")?);
            }
        }
        Ok(())
    }

    /// The root of the cluster `profile` belongs to.
    async fn root(&mut self, tx: &mut Tx, profile: &str) -> Result<String, CdpError> {
        let mut current = profile.to_string();
        for _ in 0..MAX_CHAIN {
            if !self.parents.contains_key(&current) {
                self.load_profiles(tx, std::slice::from_ref(&current))
                    .await?;
            }
            match self.parents.get(&current) {
                Some(Some(parent)) => current = parent.clone(),
                // A profile that vanished (erased) counts as its own root.
                _ => return Ok(current),
            }
        }
        Err(CdpError::invalid(
            ErrorCode::IdentityLoop,
            format!("the merge chain of profile {profile} does not end"),
        ))
    }

    /// The user ids a cluster carries (loaded once, then kept up to date in memory).
    async fn cluster_user_ids(
        &mut self,
        tx: &mut Tx,
        root: &str,
    ) -> Result<BTreeSet<String>, CdpError> {
        if let Some(ids) = self.user_ids.get(root) {
            return Ok(ids.clone());
        }
        let sql = format!(
            "WITH RECURSIVE members(id) AS (SELECT {p1} UNION SELECT p.id FROM cdp_profiles p JOIN members m ON p.merged_into = m.id) \
             SELECT i.id_value FROM cdp_identities i JOIN members m ON i.profile_id = m.id \
             WHERE i.workspace_id = {p2} AND i.id_type = 'user_id'",
            p1 = ph(tx, 1),
            p2 = ph(tx, 2)
        );
        let rows = tx
            .fetch_all(
                &sql,
                &[SqlParam::Text(root.into()), SqlParam::Text(self.ws.clone())],
                &[ColumnKind::Text],
            )
            .await?;
        let ids: BTreeSet<String> = rows
            .iter()
            .map(|r| r.text("id_value"))
            .collect::<Result<_, _>>()?;
        self.user_ids.insert(root.to_string(), ids.clone());
        Ok(ids)
    }

    async fn merges_caused(&mut self, tx: &mut Tx, cause: &Ident) -> Result<i64, CdpError> {
        if let Some(n) = self.merge_counts.get(cause) {
            return Ok(*n);
        }
        let row = tx
            .fetch_optional(
                &format!(
                    "SELECT COUNT(*) FROM cdp_merges WHERE workspace_id = {} AND cause_type = {} AND cause_value = {} AND undone_at IS NULL",
                    ph(tx, 1),
                    ph(tx, 2),
                    ph(tx, 3)
                ),
                &[
                    SqlParam::Text(self.ws.clone()),
                    SqlParam::Text(cause.id_type.clone()),
                    SqlParam::Text(cause.value.clone()),
                ],
                &[ColumnKind::Int],
            )
            .await?;
        let n = row.map_or(Ok(0), |r| r.int(0))?;
        self.merge_counts.insert(cause.clone(), n);
        Ok(n)
    }

    fn new_profile(&mut self, at: i64) -> String {
        let id = uuid::Uuid::now_v7().to_string();
        self.parents.insert(id.clone(), None);
        self.first_seen.insert(id.clone(), at);
        self.user_ids.insert(id.clone(), BTreeSet::new());
        self.new_profiles.push(id.clone());
        id
    }

    fn attach(&mut self, ident: &Ident, profile: &str, root: &str) {
        self.owners.insert(ident.clone(), profile.to_string());
        self.new_identities
            .push((ident.clone(), profile.to_string()));
        if ident.id_type == "user_id" {
            if let Some(ids) = self.user_ids.get_mut(root) {
                ids.insert(ident.value.clone());
            }
        }
    }

    /// Merges cluster `b` into `a` or `a` into `b`; the survivor's root, or None if refused.
    async fn try_merge(
        &mut self,
        tx: &mut Tx,
        a: &str,
        b: &str,
        cause: &Ident,
        event: &EventIdentity<'_>,
        explicit: bool,
    ) -> Result<Option<String>, CdpError> {
        let ids_a = self.cluster_user_ids(tx, a).await?;
        let ids_b = self.cluster_user_ids(tx, b).await?;
        if !explicit && !ids_a.is_empty() && !ids_b.is_empty() && ids_a.is_disjoint(&ids_b) {
            self.warnings.push(Warning {
                source_id: event.source_id.to_string(),
                code: WarningCode::MergeRefusedUserIds,
                message: format!(
                    "refused to merge two profiles with different user ids ({} and {}) linked by {} {}",
                    // Both sides hold user ids (that is why the merge is refused); only the message uses them.
                    ids_a.iter().next().cloned().unwrap_or_default(),
                    ids_b.iter().next().cloned().unwrap_or_default(),
                    cause.id_type,
                    cause.value
                ),
                details: json!({
                    "profiles": [a, b],
                    "user_ids": [ids_a, ids_b],
                    "identifier": {"type": cause.id_type, "value": cause.value},
                    "message_id": event.message_id,
                }),
            });
            return Ok(None);
        }
        let caused = self.merges_caused(tx, cause).await?;
        if caused >= self.settings.max_merges_per_identifier {
            self.warnings.push(Warning {
                source_id: event.source_id.to_string(),
                code: WarningCode::MergeRefusedIdentifierLimit,
                message: format!(
                    "refused to merge: {} {} has already linked {caused} profiles",
                    cause.id_type, cause.value
                ),
                details: json!({
                    "profiles": [a, b],
                    "identifier": {"type": cause.id_type, "value": cause.value},
                    "limit": self.settings.max_merges_per_identifier,
                    "message_id": event.message_id,
                }),
            });
            return Ok(None);
        }
        // The cluster with a user id survives; else the older one.
        let older = |r: &Resolver, x: &str, y: &str| {
            let fx = r.first_seen.get(x).copied().unwrap_or(i64::MAX);
            let fy = r.first_seen.get(y).copied().unwrap_or(i64::MAX);
            (fx, x) <= (fy, y)
        };
        let a_wins = match (ids_a.is_empty(), ids_b.is_empty()) {
            (false, true) => true,
            (true, false) => false,
            _ => older(self, a, b),
        };
        let (survivor, absorbed) = if a_wins { (a, b) } else { (b, a) };
        self.parents
            .insert(absorbed.to_string(), Some(survivor.to_string()));
        let mut merged_ids = ids_a;
        merged_ids.extend(ids_b);
        self.user_ids.insert(survivor.to_string(), merged_ids);
        self.merge_counts.insert(cause.clone(), caused + 1);
        if let Some(moved) = self.traits.remove(absorbed) {
            let into = self.traits.entry(survivor.to_string()).or_default();
            for (k, v) in moved {
                into.entry(k).or_insert(v);
            }
        }
        self.merges.push(MergeRecord {
            id: uuid::Uuid::now_v7().to_string(),
            survivor: survivor.to_string(),
            absorbed: absorbed.to_string(),
            cause: cause.clone(),
            source_id: event.source_id.to_string(),
            message_id: event.message_id.to_string(),
        });
        Ok(Some(survivor.to_string()))
    }

    /// Decides the profile that owns one event, linking and creating as needed.
    pub async fn resolve(
        &mut self,
        tx: &mut Tx,
        event: EventIdentity<'_>,
    ) -> Result<String, CdpError> {
        let mut idents: Vec<Ident> = event.idents.to_vec();
        // An alias from a trusted source naming an older user id joins the two user ids.
        let mut explicit: Option<Ident> = None;
        if let Some(previous) = event.previous_id {
            let as_user = Ident::new("user_id", previous);
            let as_anon = Ident::new("anonymous_id", previous);
            let pick = if self.owners.contains_key(&as_user) {
                if event.trusted {
                    explicit = Some(as_user.clone());
                }
                as_user
            } else {
                as_anon
            };
            if !idents.contains(&pick) {
                idents.push(pick);
            }
        }
        let Some(primary) = idents.first().cloned() else {
            // `admissible` refused such events before the commit.
            return Err(CdpError::invalid(
                ErrorCode::InternalError,
                "the event carries no usable identifier",
            ));
        };
        let known: Vec<(Ident, String)> = idents
            .iter()
            .filter_map(|i| self.owners.get(i).map(|o| (i.clone(), o.clone())))
            .collect();
        let unknown: Vec<Ident> = idents
            .iter()
            .filter(|i| !self.owners.contains_key(*i))
            .cloned()
            .collect();
        if known.is_empty() {
            let profile = self.new_profile(event.at);
            for ident in &unknown {
                self.attach(ident, &profile, &profile.clone());
            }
            return Ok(profile);
        }
        // The main identifier's profile (a new one for a newcomer) is the anchor; every other
        // cluster the event names is merged into it, if the identifier type merges and the
        // guard allows — a newcomer linked by a shared identifier is a merge like any other.
        let home = match self.owners.get(&primary).cloned() {
            Some(owner) => owner,
            None => self.new_profile(event.at),
        };
        // The common case — every identifier already belongs to the event's profile — needs no
        // look at the merge tree at all.
        let links_others = known.iter().any(|(_, owner)| *owner != home);
        let adds_user_id = unknown.iter().any(|i| i.id_type == "user_id");
        if !links_others && !adds_user_id {
            for ident in &unknown {
                self.attach(ident, &home, &home.clone());
            }
            return Ok(home);
        }
        self.lock_graph(tx).await?;
        let mut target = self.root(tx, &home).await?;
        for ident in &unknown {
            let root = target.clone();
            self.attach(ident, &home, &root);
        }
        let mut others: Vec<(Ident, String)> = Vec::new();
        for (ident, owner) in &known {
            let other = self.root(tx, owner).await?;
            if other != target && self.merges_enabled(ident) {
                others.push((ident.clone(), other));
            }
        }
        let customers: BTreeSet<&String> = others.iter().map(|(_, root)| root).collect();
        if customers.len() + 1 > MAX_CUSTOMERS_PER_EVENT {
            self.warnings.push(Warning {
                source_id: event.source_id.to_string(),
                code: WarningCode::MergeRefusedTooManyCustomers,
                message: format!(
                    "refused to merge: one event named {} customers (at most {MAX_CUSTOMERS_PER_EVENT} may be joined by one event)",
                    customers.len() + 1
                ),
                details: json!({
                    "profiles": customers.iter().chain(std::iter::once(&&target)).collect::<Vec<_>>(),
                    "message_id": event.message_id,
                    "limit": MAX_CUSTOMERS_PER_EVENT,
                }),
            });
            return Ok(home);
        }
        for (ident, _) in &others {
            // The cluster may have joined the target through an earlier identifier. Every
            // identifier in `others` came from `owners`, so the lookup finds it.
            let other = self
                .root(tx, &self.owners.get(ident).cloned().unwrap_or_default())
                .await?;
            if other == target {
                continue;
            }
            let is_explicit = explicit.as_ref() == Some(ident);
            if let Some(survivor) = self
                .try_merge(tx, &target, &other, ident, &event, is_explicit)
                .await?
            {
                target = survivor;
            }
        }
        Ok(home)
    }

    /// Merges identify traits into the profile's cluster root.
    pub async fn add_traits(
        &mut self,
        tx: &mut Tx,
        profile: &str,
        traits: &Map<String, Json>,
    ) -> Result<(), CdpError> {
        let root = self.root(tx, profile).await?;
        let into = self.traits.entry(root).or_default();
        for (k, v) in traits {
            into.insert(k.clone(), v.clone());
        }
        Ok(())
    }

    /// Writes profiles, identities, merges, traits and warnings. Returns the new identifier
    /// owners for the cache (to be added only once the transaction commits).
    pub async fn finish(
        self,
        tx: &mut Tx,
        now: i64,
    ) -> Result<(Vec<(Ident, String)>, Vec<Warning>), CdpError> {
        let ws = SqlParam::Text(self.ws.clone());
        for chunk in crate::statement_chunks(&self.new_profiles) {
            let mut rows = ValueRows::new(tx.dialect()).cast(4, "jsonb");
            for id in chunk {
                rows.push([
                    SqlParam::Text(id.clone()),
                    ws.clone(),
                    self.parents
                        .get(id)
                        .cloned()
                        .flatten()
                        .map_or(SqlParam::NullOf(ColumnKind::Text), SqlParam::Text),
                    SqlParam::Int(self.first_seen.get(id).copied().unwrap_or(now)),
                    SqlParam::Text("{}".into()),
                ]);
            }
            tx.execute(
                &format!(
                    "INSERT INTO cdp_profiles (id, workspace_id, merged_into, first_seen, traits) VALUES {}",
                    rows.sql()
                ),
                rows.params(),
            )
            .await?;
        }
        let mut new_identities = self.new_identities.clone();
        new_identities.sort();
        for chunk in crate::statement_chunks(&new_identities) {
            let mut rows = ValueRows::new(tx.dialect());
            for (ident, owner) in chunk {
                rows.push([
                    ws.clone(),
                    SqlParam::Text(ident.id_type.clone()),
                    SqlParam::Text(ident.value.clone()),
                    SqlParam::Text(owner.clone()),
                    SqlParam::Int(now),
                ]);
            }
            let inserted = tx
                .execute(
                    &format!(
                        "INSERT INTO cdp_identities (workspace_id, id_type, id_value, profile_id, first_seen) VALUES {} \
                         ON CONFLICT (workspace_id, id_type, id_value) DO NOTHING",
                        rows.sql()
                    ),
                    rows.params(),
                )
                .await?;
            if usize::try_from(inserted).unwrap_or(0) < chunk.len() {
                // Another node claimed one of these identifiers first: resolve the group again.
                return Err(CdpError::Conflict {
                    code: ErrorCode::IdentityRace,
                    message: "an identifier was claimed concurrently".into(),
                });
            }
        }
        let new: BTreeSet<&String> = self.new_profiles.iter().collect();
        for merge in &self.merges {
            tx.execute(
                &format!(
                    "INSERT INTO cdp_merges (id, workspace_id, survivor_id, absorbed_id, cause_type, cause_value, source_id, message_id, merged_at) \
                     VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {})",
                    ph(tx, 1), ph(tx, 2), ph(tx, 3), ph(tx, 4), ph(tx, 5), ph(tx, 6), ph(tx, 7), ph(tx, 8), ph(tx, 9)
                ),
                &[
                    SqlParam::Text(merge.id.clone()),
                    ws.clone(),
                    SqlParam::Text(merge.survivor.clone()),
                    SqlParam::Text(merge.absorbed.clone()),
                    SqlParam::Text(merge.cause.id_type.clone()),
                    SqlParam::Text(merge.cause.value.clone()),
                    SqlParam::Text(merge.source_id.clone()),
                    SqlParam::Text(merge.message_id.clone()),
                    SqlParam::Int(now),
                ],
            )
            .await?;
        }
        // Existing profile rows change in id order: a merge's link, new traits, or both.
        let mut writes: BTreeMap<&String, ProfileWrite> = BTreeMap::new();
        for merge in &self.merges {
            if !new.contains(&merge.absorbed) {
                writes.entry(&merge.absorbed).or_default().0 = Some(&merge.survivor);
            }
        }
        for (root, traits) in &self.traits {
            writes.entry(root).or_default().1 = Some(traits);
        }
        for (profile, ProfileWrite(merged_into, traits)) in writes {
            if let Some(survivor) = merged_into {
                tx.execute(
                    &format!(
                        "UPDATE cdp_profiles SET merged_into = {} WHERE id = {}",
                        ph(tx, 1),
                        ph(tx, 2)
                    ),
                    &[
                        SqlParam::Text(survivor.clone()),
                        SqlParam::Text(profile.clone()),
                    ],
                )
                .await?;
            }
            let Some(traits) = traits else {
                continue;
            };
            let row = tx
                .fetch_optional(
                    &format!(
                        "SELECT traits FROM cdp_profiles WHERE id = {}{}",
                        ph(tx, 1),
                        tx.for_update()
                    ),
                    &[SqlParam::Text(profile.clone())],
                    &[ColumnKind::Json],
                )
                .await?;
            let mut current = match row.map(|r| r.json("traits")).transpose()? {
                Some(Json::Object(m)) => m,
                _ => Map::new(),
            };
            for (k, v) in traits {
                current.insert(k.clone(), v.clone());
            }
            tx.execute(
                &format!(
                    "UPDATE cdp_profiles SET traits = {}, traits_updated_at = {} WHERE id = {}",
                    json_ph(tx, 1),
                    ph(tx, 2),
                    ph(tx, 3)
                ),
                &[
                    SqlParam::Text(Json::Object(current).to_string()),
                    SqlParam::Int(now),
                    SqlParam::Text(profile.clone()),
                ],
            )
            .await?;
        }
        Ok((self.new_identities, self.warnings))
    }
}

/// What the commit changes on one existing profile row: the survivor it was merged into, and
/// traits learnt.
#[derive(Default)]
struct ProfileWrite<'a>(Option<&'a String>, Option<&'a Map<String, Json>>);

/// Takes a workspace's identity-graph lock for the rest of the transaction (PostgreSQL): every
/// change to the merge tree (merges, unmerges, new user ids on a cluster) holds it.
pub async fn lock_graph(tx: &mut Tx, ws: &str) -> Result<(), CdpError> {
    if tx.dialect() == rapport_core::sql::Dialect::Postgres {
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtext('cdp.identity:' || $1))",
            &[SqlParam::Text(ws.to_string())],
        )
        .await?;
    }
    Ok(())
}
