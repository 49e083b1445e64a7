//! The hub's tables keep rows per workspace (endpoints, connectors, mappings, hooks, logs):
//! one way to read all of a workspace's rows, read one by id, and delete one by id, each
//! refusing a row of another workspace as not found.

use rapport_core::sql::{ColumnKind, SqlParam};
use rapport_store::{Row, Store, StoreError};

/// A table of workspace-owned rows, with the columns its module decodes.
pub(crate) struct Table {
    pub name: &'static str,
    pub columns: &'static str,
    pub kinds: &'static [ColumnKind],
    /// What a missing row is called in the `not_found` answer.
    pub what: &'static str,
}

impl Table {
    /// Every row of the workspace, in `order` (an `ORDER BY` list).
    pub async fn all(
        &self,
        store: &Store,
        workspace_id: &str,
        order: &str,
    ) -> Result<Vec<Row>, StoreError> {
        store
            .db
            .fetch_all(
                &format!(
                    "SELECT {} FROM {} WHERE workspace_id = {} ORDER BY {order}",
                    self.columns,
                    self.name,
                    store.ph(1)
                ),
                &[SqlParam::Text(workspace_id.into())],
                self.kinds,
            )
            .await
    }

    /// The workspace's row `id`.
    pub async fn one(
        &self,
        store: &Store,
        workspace_id: &str,
        id: &str,
    ) -> Result<Row, StoreError> {
        store
            .db
            .fetch_optional(
                &format!(
                    "SELECT {} FROM {} WHERE workspace_id = {} AND id = {}",
                    self.columns,
                    self.name,
                    store.ph(1),
                    store.ph(2)
                ),
                &[
                    SqlParam::Text(workspace_id.into()),
                    SqlParam::Text(id.into()),
                ],
                self.kinds,
            )
            .await?
            .ok_or_else(|| StoreError::not_found(self.what))
    }

    /// Deletes the workspace's row `id` inside `tx`.
    pub async fn delete(
        &self,
        store: &Store,
        tx: &mut rapport_store::Tx,
        workspace_id: &str,
        id: &str,
    ) -> Result<(), StoreError> {
        let n = tx
            .execute(
                &format!(
                    "DELETE FROM {} WHERE workspace_id = {} AND id = {}",
                    self.name,
                    store.ph(1),
                    store.ph(2)
                ),
                &[
                    SqlParam::Text(workspace_id.into()),
                    SqlParam::Text(id.into()),
                ],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::not_found(self.what));
        }
        Ok(())
    }
}
