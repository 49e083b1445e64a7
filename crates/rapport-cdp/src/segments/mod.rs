//! Segments (人群包): saved audiences of customers described by a condition (`condition`),
//! kept current as events arrive and as time windows pass (`engine`), from per-profile
//! behaviour counters the group commit maintains (`behavior`). Definitions and their versions
//! (`definitions`), membership with its history (`membership`), whole-workspace evaluation
//! (`full`), per-customer evaluation (`evaluate`), snapshots (`snapshots`), tags (`tags`) and
//! lineage (`lineage`). See docs/SEGMENTS.md.

pub mod behavior;
pub mod condition;
pub mod definitions;
pub mod engine;
pub mod evaluate;
pub mod full;
pub mod lineage;
pub mod membership;
pub mod snapshots;
pub mod tags;

pub use definitions::Compiled;

use crate::error::CdpError;
use full::CountSource;
use membership::Member;
use rapport_store::Store;
use serde::Serialize;
use std::time::{Duration, Instant};
use utoipa::ToSchema;

/// How long a preview may count before it gives up.
pub const PREVIEW_BUDGET: Duration = Duration::from_secs(10);

/// A live count while a condition is being edited.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Preview {
    pub count: i64,
    /// A few members, for a look.
    pub sample: Vec<Member>,
    pub took_ms: u64,
}

/// Counts the customers a condition matches now, without saving anything: from the counters
/// where a behaviour's key is filled already, else from the stored events (within
/// [`PREVIEW_BUDGET`]).
pub async fn preview(
    store: &Store,
    ws: &str,
    condition: &serde_json::Value,
    sample: usize,
) -> Result<Preview, CdpError> {
    let started = Instant::now();
    let deadline = started + PREVIEW_BUDGET;
    let compiled = definitions::compile(store, ws, condition).await?;
    let mut sources = Vec::with_capacity(compiled.behaviors.len());
    for b in &compiled.behaviors {
        match behavior::find_key(store, ws, &b.spec).await? {
            Some(key) if key.ready => sources.push(CountSource::Key(key.id)),
            _ => {
                let mut counted = 0;
                let counts = behavior::scan_events(
                    store,
                    ws,
                    &b.spec,
                    i64::MAX,
                    Some(deadline),
                    &mut counted,
                )
                .await?;
                sources.push(CountSource::Events(counts));
            }
        }
    }
    let now = store.now().timestamp_millis();
    let result = full::evaluate(store, ws, &compiled, sources, now, Some(deadline)).await?;
    let mut ids: Vec<String> = result.members.keys().cloned().collect();
    ids.sort();
    ids.truncate(sample.min(50));
    let mut described = membership::describe(store, ws, &ids).await?;
    Ok(Preview {
        count: i64::try_from(result.members.len()).unwrap_or(i64::MAX),
        sample: ids.iter().filter_map(|id| described.remove(id)).collect(),
        took_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    })
}
