//! Evaluating a segment over every customer at once: one pass over each behaviour's counters
//! (or, for a preview of an unsaved condition, over the stored events), summed per customer;
//! candidates come from the anchor behaviour when there is one (a customer without a single
//! matching event cannot be a member), else from every customer.

use super::behavior::{self, Behavior, Counts};
use super::condition::{Facts, SegmentCondition};
use super::evaluate::{customers, empty_record};
use super::Compiled;
use crate::error::CdpError;
use rapport_core::codes::ErrorCode;
use rapport_core::record::Record;
use rapport_core::sql::{ColumnKind, SqlParam};
use rapport_store::Store;
use serde_json::Map;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// Customers evaluated per batch when traits or the contact must be loaded.
const BATCH: usize = 1_000;

/// A behaviour's count and next window expiry for one customer.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    count: u64,
    expiry: Option<i64>,
}

/// Merged profile → the profile it was merged into, for the whole workspace.
pub struct Parents(HashMap<String, String>);

impl Parents {
    pub async fn load(store: &Store, ws: &str) -> Result<Parents, CdpError> {
        let rows = store
            .db
            .fetch_all(
                &format!(
                    "SELECT id, merged_into FROM cdp_profiles WHERE workspace_id = {} AND merged_into IS NOT NULL",
                    store.ph(1)
                ),
                &[SqlParam::Text(ws.to_string())],
                &[ColumnKind::Text, ColumnKind::Text],
            )
            .await?;
        Ok(Parents(
            rows.iter()
                .map(|r| Ok((r.text("id")?, r.text("merged_into")?)))
                .collect::<Result<_, CdpError>>()?,
        ))
    }

    pub fn root<'a>(&'a self, mut id: &'a str) -> &'a str {
        for _ in 0..64 {
            match self.0.get(id) {
                Some(parent) => id = parent,
                None => break,
            }
        }
        id
    }
}

/// Where a behaviour's per-profile counts come from.
pub enum CountSource {
    /// The key's stored counters.
    Key(String),
    /// Counted from the stored events now (previews of conditions without filled keys).
    Events(HashMap<String, Counts>),
}

/// The outcome of evaluating a condition over the workspace: members with their next window
/// change, and the due times of the candidates that are not members.
pub struct Evaluation {
    pub members: HashMap<String, Option<i64>>,
    pub others_due: HashMap<String, i64>,
}

/// Evaluates `condition` over every customer of the workspace at `now`.
pub async fn evaluate(
    store: &Store,
    ws: &str,
    condition: &SegmentCondition,
    sources: Vec<CountSource>,
    now: i64,
    deadline: Option<Instant>,
) -> Result<Evaluation, CdpError> {
    let parents = Parents::load(store, ws).await?;
    // Each behaviour's counters are read on their own connection, side by side.
    let scans = condition
        .behaviors
        .iter()
        .zip(sources)
        .map(|(b, source)| tally(store, b, source, &parents, now));
    let tallies: Vec<HashMap<String, Tally>> = futures_util::future::try_join_all(scans).await?;
    check_deadline(deadline)?;
    let candidates: Vec<String> = match condition.anchor() {
        Some(i) => tallies[i]
            .iter()
            .filter(|(_, t)| t.count > 0)
            .map(|(root, _)| root.clone())
            .collect(),
        None => all_roots(store, ws).await?,
    };
    let mut members = HashMap::new();
    let mut others_due = HashMap::new();
    let mut judge = |root: &str,
                     traits: &Map<String, serde_json::Value>,
                     contact: &Record,
                     related: &dyn Fn(&str, &str) -> Option<Record>| {
        let mut counts = Vec::with_capacity(tallies.len());
        let mut expiries = Vec::with_capacity(tallies.len());
        for (b, per_root) in condition.behaviors.iter().zip(&tallies) {
            // A customer without a counted event has a zero count and no expiry.
            let t = per_root.get(root).copied().unwrap_or_default();
            counts.push(b.cap(t.count));
            expiries.push(t.expiry);
        }
        let member = condition.eval(&Facts {
            traits,
            contact,
            related,
            counts: &counts,
        });
        let due = condition.due(member, &expiries);
        if member {
            members.insert(root.to_string(), due);
        } else if let Some(d) = due {
            others_due.insert(root.to_string(), d);
        }
    };
    if condition.uses_traits || condition.uses_contact {
        let probe = Arc::new(Compiled {
            id: String::new(),
            workspace_id: ws.to_string(),
            name: String::new(),
            version: 0,
            condition: condition.clone(),
            keys: Vec::new(),
        });
        for chunk in candidates.chunks(BATCH) {
            let (found, related) =
                customers(store, ws, std::slice::from_ref(&probe), chunk).await?;
            let lookup = |relation: &str, id: &str| related.get(relation, id);
            for c in &found {
                judge(&c.root, &c.traits, &c.contact, &lookup);
            }
            check_deadline(deadline)?;
        }
    } else {
        let none = Map::new();
        let empty = empty_record();
        let nothing = |_: &str, _: &str| None;
        for root in &candidates {
            judge(root, &none, &empty, &nothing);
        }
    }
    Ok(Evaluation {
        members,
        others_due,
    })
}

/// One behaviour's count and next expiry per customer at `now`.
async fn tally(
    store: &Store,
    b: &Behavior,
    source: CountSource,
    parents: &Parents,
    now: i64,
) -> Result<HashMap<String, Tally>, CdpError> {
    let mut per_root: HashMap<String, Tally> = HashMap::new();
    let mut add = |profile: String, c: &Counts| {
        let n = b.count_one(c, now);
        let e = b.expiry_one(c, now);
        if n == 0 && e.is_none() {
            return;
        }
        let root = match parents.root(&profile) {
            r if r == profile => profile,
            r => r.to_string(),
        };
        let t = per_root.entry(root).or_default();
        t.count += n;
        t.expiry = match (t.expiry, e) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    };
    match source {
        CountSource::Key(key) => {
            let since = b.window_start(now) - 1;
            behavior::scan_key(store, &key, since, |profile, c| add(profile, &c)).await?
        }
        CountSource::Events(map) => {
            for (profile, c) in map {
                add(profile, &c);
            }
        }
    }
    Ok(per_root)
}

fn check_deadline(deadline: Option<Instant>) -> Result<(), CdpError> {
    if deadline.is_some_and(|d| Instant::now() > d) {
        return Err(CdpError::Condition {
            code: ErrorCode::PreviewTooExpensive,
            path: "/".into(),
            message: "this condition takes too long to count for a preview; save the segment \
                      to evaluate it in the background"
                .into(),
        });
    }
    Ok(())
}

/// Every customer (root profile) of the workspace.
async fn all_roots(store: &Store, ws: &str) -> Result<Vec<String>, CdpError> {
    let mut out = Vec::new();
    let mut after = String::new();
    loop {
        let rows = store
            .db
            .fetch_all(
                &format!(
                    "SELECT id FROM cdp_profiles WHERE workspace_id = {} AND merged_into IS NULL AND id > {} \
                     ORDER BY id LIMIT 50000",
                    store.ph(1),
                    store.ph(2)
                ),
                &[SqlParam::Text(ws.to_string()), SqlParam::Text(after.clone())],
                &[ColumnKind::Text],
            )
            .await?;
        let n = rows.len();
        for r in &rows {
            out.push(r.text("id")?);
        }
        match out.last() {
            Some(last) if n == 50_000 => after = last.clone(),
            _ => return Ok(out),
        }
    }
}
