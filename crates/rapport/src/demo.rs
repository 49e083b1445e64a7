//! Demo data (being written).

use anyhow::Result;
use rapport_store::Store;

pub async fn fill(_store: &Store, _workspace_id: &str, _scale: usize) -> Result<()> {
    Ok(())
}
