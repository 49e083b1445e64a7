//! Lineage (数据血缘) of a membership: the definition version that produced it and, for each
//! test, what satisfied it — for a behaviour, the raw events (in time order) that counted in its
//! window at the moment the customer entered; for a trait, its value. A customer who is not a
//! member is explained as of now, which shows why not.

use super::behavior::Behavior;
use super::condition::LeafInfo;
use super::evaluate::clusters;
use super::{definitions, membership};
use crate::error::CdpError;
use crate::identity::profiles;
use crate::time_of_ms;
use chrono::{DateTime, Utc};
use rapport_core::sql::{placeholders, ColumnKind, SqlParam};
use rapport_store::Store;
use serde::Serialize;
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Events read per behaviour at most (newest first, within the window).
const SCAN_LIMIT: usize = 5_000;
/// Events shown per behaviour at most.
const SHOWN: usize = 50;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LineageEvent {
    pub seq: i64,
    /// The event type (`$page` etc. for non-track calls).
    pub event: String,
    pub ts: DateTime<Utc>,
    pub source_id: String,
    pub message_id: String,
    #[schema(value_type = Object)]
    pub properties: Json,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TestLineage {
    /// `behavior`, `trait` or `field`.
    pub kind: String,
    /// The test as written in the definition.
    #[schema(value_type = Object)]
    pub test: Json,
    /// Under an odd number of `not`s.
    pub negated: bool,
    /// Matching events in the window (behaviours; capped at the counter's depth).
    pub count: Option<u32>,
    /// Whether the test itself (before any `not`) held.
    pub passed: Option<bool>,
    /// The events that satisfied it, oldest first (at most 50: the newest).
    pub events: Vec<LineageEvent>,
    /// A trait's value.
    #[schema(value_type = Option<Object>)]
    pub value: Option<Json>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Lineage {
    pub segment_id: String,
    pub segment_name: String,
    pub profile_id: String,
    pub member: bool,
    pub version: i64,
    #[schema(value_type = Object)]
    pub condition: Json,
    pub entered_at: Option<DateTime<Utc>>,
    /// The moment explained: the entry, or now for a non-member.
    pub as_of: DateTime<Utc>,
    pub tests: Vec<TestLineage>,
    /// Every event shown, in time order: [点击广告] → [注册表单] → [首单支付] → …
    pub chain: Vec<LineageEvent>,
}

pub async fn explain(
    store: &Store,
    ws: &str,
    profile_id: &str,
    segment_id: &str,
) -> Result<Lineage, CdpError> {
    let segment = definitions::get(store, ws, segment_id).await?;
    // The customer of the profile, in this workspace only (NotFound otherwise).
    let root = profiles::root(store, ws, profile_id).await?;
    let membership = membership::of_profile(store, ws, &root)
        .await?
        .into_iter()
        .find(|m| m.segment_id == segment_id);
    let version = membership.as_ref().map_or(segment.version, |m| m.version);
    let condition = definitions::version(store, segment_id, version).await?;
    let compiled = definitions::compile(store, ws, &condition).await?;
    let as_of = membership
        .as_ref()
        .map_or(store.now().timestamp_millis(), |m| {
            m.entered_at.timestamp_millis()
        });
    let members = clusters(store, std::slice::from_ref(&root))
        .await?
        .remove(&root)
        .unwrap_or_else(|| vec![root.clone()]);
    let traits = traits_of(store, &root).await?;
    let mut tests = Vec::new();
    let mut chain: BTreeMap<(i64, i64), LineageEvent> = BTreeMap::new();
    for leaf in compiled.leaves() {
        match leaf {
            LeafInfo::Behavior { index, negated } => {
                let b = &compiled.behaviors[index];
                let matched = matching_events(store, &members, b, as_of).await?;
                let count = b.cap(matched.len() as u64);
                let passed = b.count.eval(count);
                let shown: Vec<LineageEvent> = if passed && !negated && b.count.requires_events() {
                    let keep = usize::try_from(b.count.value.max(1))
                        .unwrap_or(SHOWN)
                        .min(SHOWN);
                    matched.into_iter().take(keep).rev().collect()
                } else {
                    matched.into_iter().take(SHOWN).rev().collect()
                };
                if passed != negated {
                    for e in &shown {
                        chain.insert((e.ts.timestamp_millis(), e.seq), e.clone());
                    }
                }
                tests.push(TestLineage {
                    kind: "behavior".into(),
                    test: b.json.clone(),
                    negated,
                    count: Some(count),
                    passed: Some(passed),
                    events: shown,
                    value: None,
                });
            }
            LeafInfo::Trait {
                name,
                json,
                negated,
            } => tests.push(TestLineage {
                kind: "trait".into(),
                test: json,
                negated,
                count: None,
                passed: None,
                events: Vec::new(),
                value: traits.get(&name).cloned(),
            }),
            LeafInfo::Field { json, negated } => tests.push(TestLineage {
                kind: "field".into(),
                test: json,
                negated,
                count: None,
                passed: None,
                events: Vec::new(),
                value: None,
            }),
        }
    }
    Ok(Lineage {
        segment_id: segment.id,
        segment_name: segment.name,
        profile_id: root,
        member: membership.is_some(),
        version,
        condition,
        entered_at: membership.map(|m| m.entered_at),
        as_of: time_of_ms(as_of)?,
        tests,
        chain: chain.into_values().collect(),
    })
}

async fn traits_of(store: &Store, root: &str) -> Result<Map<String, Json>, CdpError> {
    let row = store
        .db
        .fetch_optional(
            &format!("SELECT traits FROM cdp_profiles WHERE id = {}", store.ph(1)),
            &[SqlParam::Text(root.to_string())],
            &[ColumnKind::Json],
        )
        .await?;
    Ok(match row.map(|r| r.json("traits")).transpose()? {
        Some(Json::Object(m)) => m,
        _ => Map::new(),
    })
}

/// The cluster's events a behaviour counted at `as_of`, newest first.
async fn matching_events(
    store: &Store,
    members: &[String],
    b: &Behavior,
    as_of: i64,
) -> Result<Vec<LineageEvent>, CdpError> {
    let start = b.window_start(as_of);
    let end = match b.window {
        super::behavior::Window::Between { to, .. } => to - 1,
        super::behavior::Window::Last { .. } => i64::MAX,
    };
    let n = members.len();
    let mut params: Vec<SqlParam> = members.iter().map(|m| SqlParam::Text(m.clone())).collect();
    params.push(SqlParam::Int(start));
    params.push(SqlParam::Int(end.min(as_of.max(start))));
    let rows = store
        .db
        .fetch_all(
            &format!(
                "SELECT seq, source_id, message_id, kind, name, ts, body FROM cdp_events \
                 WHERE profile_id IN ({}) AND ts >= {} AND ts <= {} ORDER BY ts DESC, seq DESC LIMIT {SCAN_LIMIT}",
                placeholders(store.db.dialect(), 1, n),
                store.ph(n + 1),
                store.ph(n + 2)
            ),
            &params,
            &[
                ColumnKind::Int,
                ColumnKind::Text,
                ColumnKind::Text,
                ColumnKind::Text,
                ColumnKind::Text,
                ColumnKind::Int,
                ColumnKind::Json,
            ],
        )
        .await?;
    let mut out = Vec::new();
    for r in &rows {
        let kind = r.text("kind")?;
        let name = r.opt_text("name")?;
        let ts = r.int("ts")?;
        let body = r.json("body")?;
        let payload = body.get(super::behavior::payload_field(&kind));
        if !b.spec.matches(&kind, name.as_deref(), ts, payload) {
            continue;
        }
        out.push(LineageEvent {
            seq: r.int("seq")?,
            event: b.spec.event.clone(),
            ts: time_of_ms(ts)?,
            source_id: r.text("source_id")?,
            message_id: r.text("message_id")?,
            properties: body.get("properties").cloned().unwrap_or(Json::Null),
        });
    }
    Ok(out)
}
