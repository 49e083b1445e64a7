//! Where the database is, as a command line says it: the `--data-dir` / `--database-url`
//! arguments every Rapport binary takes (`rapport`, `rapport-bench`), declared once. Behind the
//! `cli` feature, so only binaries pull in clap.

use crate::{Store, StoreError};
use std::path::PathBuf;

#[derive(clap::Args, Clone, Debug)]
pub struct StorageArgs {
    /// Directory of the embedded SQLite database (ignored with --database-url).
    #[arg(long, env = "RAPPORT_DATA_DIR", default_value = "./rapport-data")]
    pub data_dir: PathBuf,
    /// postgres://… to run on PostgreSQL instead of SQLite.
    #[arg(long, env = "RAPPORT_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

impl StorageArgs {
    /// Opens the database these arguments name and brings its schema up to date.
    pub async fn open(&self) -> Result<Store, StoreError> {
        Store::open(self.database_url.as_deref(), &self.data_dir).await
    }
}
