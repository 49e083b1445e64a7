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
pub mod backup;
pub mod cache;
#[cfg(feature = "cli")]
pub mod cli;
pub mod db;
mod error;
pub mod files;
pub mod history;
pub mod jobs;
pub mod metrics;
pub mod outbound;
pub mod outbox;
pub mod records;
pub mod schema;
pub mod secrets;
pub mod teams;
pub mod throttle;
pub mod views;
pub mod worker;

pub use db::{Db, Row, Tx};
pub use error::{StoreError, Transience};

use rapport_core::metadata::WorkspaceSchema;
use rapport_core::Clock;
use std::sync::Arc;

/// Workspace id → (metadata version, schema): a schema is current while the workspace's metadata
/// version is.
type SchemaCache = cache::Cache<String, (i64, Arc<WorkspaceSchema>)>;

/// The storage handle every service shares: a database, the clock, the outbound policy and
/// the secret key.
#[derive(Debug, Clone)]
pub struct Store {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    schemas: Arc<SchemaCache>,
    /// Plugins of the record write path (see `records::hooks`).
    pub hooks: Arc<records::hooks::Hooks>,
    outbound: outbound::Outbound,
    /// The key that seals credentials at rest (see `secrets`).
    sealer: Arc<secrets::Sealer>,
    /// Bumped after jobs are committed on this node, so its runners look at once.
    jobs_wake: Arc<tokio::sync::watch::Sender<u64>>,
    /// The node's metrics (see `metrics`).
    metrics: prometheus::Registry,
}

impl Store {
    /// A store whose outbound calls reach public addresses only (see `outbound`).
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        Self {
            db,
            clock,
            schemas: Arc::new(cache::Cache::bounded(10_000)),
            hooks: Arc::default(),
            outbound: outbound::Outbound::strict(),
            sealer: Arc::new(secrets::Sealer::ephemeral()),
            jobs_wake: Arc::new(tokio::sync::watch::Sender::new(0)),
            metrics: prometheus::Registry::new(),
        }
    }

    /// Opens PostgreSQL at `database_url` when one is given, otherwise SQLite under `data_dir`,
    /// and brings its schema up to date; the clock is the system's.
    pub async fn open(
        database_url: Option<&str>,
        data_dir: &std::path::Path,
    ) -> Result<Self, StoreError> {
        let db = match database_url {
            Some(url) => Db::open_postgres(url).await?,
            None => Db::open_sqlite(data_dir).await?,
        };
        db.migrate().await?;
        Ok(Self::new(db, Arc::new(rapport_core::SystemClock)))
    }

    /// The node's one metrics registry.
    pub fn metrics(&self) -> &prometheus::Registry {
        &self.metrics
    }

    /// The same store with another outbound policy (the operator's allow-list).
    pub fn with_outbound(mut self, outbound: outbound::Outbound) -> Self {
        self.outbound = outbound;
        self
    }

    /// The same store with the node's secret key (a new store has a key of its own process
    /// only).
    pub fn with_sealer(mut self, sealer: secrets::Sealer) -> Self {
        self.sealer = Arc::new(sealer);
        self
    }

    /// The key that seals and opens credentials at rest.
    pub fn sealer(&self) -> &secrets::Sealer {
        &self.sealer
    }

    /// The policy every outbound HTTP call goes through.
    pub fn outbound(&self) -> &outbound::Outbound {
        &self.outbound
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
