//! Where the database is, as a command line says it: the `--data-dir` / `--database-url`
//! arguments every Rapport binary takes (`rapport`, `rapport-bench`), declared once. Behind the
//! `cli` feature, so only binaries pull in clap.

use crate::secrets::Sealer;
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
    /// The key sealing credentials at rest: 32 bytes in base64 (`openssl rand -base64 32`).
    /// Without it, `secret.key` in the data directory (made on first start). Every node of one
    /// PostgreSQL database must have the same key.
    #[arg(long, env = "RAPPORT_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
}

impl StorageArgs {
    /// Opens the database these arguments name and brings its schema up to date.
    pub async fn open(&self) -> Result<Store, StoreError> {
        let sealer = match self.secret_key.as_deref().filter(|k| !k.trim().is_empty()) {
            Some(key) => {
                Sealer::parse(key).map_err(|e| StoreError::Config(format!("--secret-key: {e}")))?
            }
            None => Sealer::load_or_create(&self.data_dir.join("secret.key"))
                .map_err(|e| StoreError::Config(format!("the secret key file: {e}")))?,
        };
        Ok(Store::open(self.database_url.as_deref(), &self.data_dir)
            .await?
            .with_sealer(sealer))
    }
}
