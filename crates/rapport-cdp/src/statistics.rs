//! Planner statistics of the CDP tables that grow fast (PostgreSQL). A table that was small at
//! its last ANALYZE makes the identity lookup filter instead of probing the primary key, and
//! autovacuum catches up only after a minute or more; so a worker (`cdp.statistics`, every
//! five seconds) refreshes them once enough rows changed. It runs beside ingestion, never on the
//! acknowledgement path, and one node at a time (a transaction-scoped advisory lock taken
//! without waiting).

use crate::error::CdpError;
use rapport_core::sql::ColumnKind;
use rapport_store::Store;

/// The advisory lock the refreshing node holds.
const STATISTICS_LOCK: i64 = 0x0053_5441_5453_4344;
/// The tables kept fresh.
const TABLES: [&str; 3] = ["cdp_identities", "cdp_profiles", "cdp_events"];

/// Analyzes each table whose rows changed by more than 2,000 and a fifth since its last
/// analysis, unless another node is at it. Returns the tables analyzed.
pub async fn refresh(store: &Store) -> Result<Vec<String>, CdpError> {
    let mut tx = store.db.begin().await?;
    let got = tx
        .fetch_optional(
            &format!("SELECT pg_try_advisory_xact_lock({STATISTICS_LOCK})"),
            &[],
            &[ColumnKind::Bool],
        )
        .await?
        .map(|r| r.bool(0))
        .transpose()?
        .unwrap_or(false);
    if !got {
        return Ok(Vec::new());
    }
    let rows = tx
        .fetch_all(
            "SELECT relname::text AS relname, n_mod_since_analyze, n_live_tup FROM pg_stat_user_tables \
             WHERE schemaname = current_schema() AND relname IN ('cdp_identities', 'cdp_profiles', 'cdp_events')",
            &[],
            &[ColumnKind::Text, ColumnKind::Int, ColumnKind::Int],
        )
        .await?;
    let mut analyzed = Vec::new();
    for row in rows {
        let (table, changed, live) = (
            row.text("relname")?,
            row.int("n_mod_since_analyze")?,
            row.int("n_live_tup")?,
        );
        if !TABLES.contains(&table.as_str()) || changed < 2_000.max(live / 5) {
            continue;
        }
        tx.execute(&format!("ANALYZE {table}"), &[]).await?;
        analyzed.push(table);
    }
    tx.commit().await?;
    Ok(analyzed)
}
