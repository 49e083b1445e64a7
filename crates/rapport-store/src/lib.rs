//! Rapport's storage: the SQL seam (`db`), the global tables (`accounts`, `audit`), metadata
//! with run-time DDL (`schema`), saved list and kanban views (`views`), and the one write path
//! for records (`records`) that writes the row, its field history and an outbox entry in one
//! transaction, the outbox with its consumers (`outbox`), and durable jobs with their runner
//! (`jobs`).
//!
//! Nothing here speaks HTTP; nothing here keeps state that must be shared between nodes (the
//! schema cache is keyed by the workspace's metadata version, read from the database).

pub mod accounts;
pub mod audit;
pub mod db;
mod error;
pub mod history;
pub mod jobs;
pub mod outbox;
pub mod records;
pub mod schema;
pub mod views;

pub use db::{Db, Row, Tx};
pub use error::{StoreError, Transience};

use rapport_core::metadata::WorkspaceSchema;
use rapport_core::Clock;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Workspace id → (metadata version, schema).
type SchemaCache = HashMap<String, (i64, Arc<WorkspaceSchema>)>;

/// The storage handle every service shares: a database and the clock.
#[derive(Debug, Clone)]
pub struct Store {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    schemas: Arc<RwLock<SchemaCache>>,
    /// Bumped after jobs are committed on this node, so its runners look at once.
    jobs_wake: Arc<tokio::sync::watch::Sender<u64>>,
}

impl Store {
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        Self {
            db,
            clock,
            schemas: Arc::new(RwLock::new(HashMap::new())),
            jobs_wake: Arc::new(tokio::sync::watch::Sender::new(0)),
        }
    }

    /// The clock's time at the microsecond precision both databases store.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        let now = self.clock.now();
        chrono::DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
    }
}

/// The table that holds the records of `object` in `workspace`.
pub fn table_name(workspace_id: &str, object: &str) -> String {
    format!("w_{workspace_id}_{object}")
}
