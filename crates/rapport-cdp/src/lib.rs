//! Rapport's customer data platform: events arriving in the Segment wire format (`wire`), the
//! sources that send them (`sources`), the schema registry that checks them (`registry`,
//! `json_schema`), the group commit that stores them durably (`writer`), the identity graph that
//! turns identifiers into one profile (`identity`), the journey timeline (`timeline`), held
//! events (`held`), data health (`health`), the sync of profiles into CRM records (`sync`) and
//! segments with their snapshots, tags and lineage (`segments`), and the planner statistics of
//! its fast-growing tables (`statistics`).
//!
//! `Cdp` is the handle the HTTP layer holds. Its caches (write keys, schemas, settings,
//! identifier owners) are accelerators with short lifetimes or immutable contents; the
//! database stays the only source of truth, so several nodes can ingest side by side.

use rapport_core::codes::ErrorCode;
pub mod error;
pub mod events;
pub mod health;
pub mod held;
pub mod identity;
pub mod json_schema;
pub mod registry;
pub mod segments;
pub mod settings;
pub mod sources;
pub mod statistics;
pub mod sync;
pub mod timeline;
pub mod wire;
pub mod workers;
pub mod writer;

pub use error::CdpError;

use rapport_store::Store;
use serde::Serialize;
use settings::Settings;
use sources::{SchemaPolicy, Source};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use utoipa::ToSchema;
use wire::{Kind, Rejection};
use writer::{Held, Job, Work};

/// What a tracking request came to. Segment clients only look at the status; the body tells a
/// person what happened to each event.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IngestReport {
    pub success: bool,
    /// Events stored now.
    pub accepted: usize,
    /// Events whose messageId this source had already sent (dropped).
    pub duplicates: usize,
    /// Events refused, each with its reason (counted in data health).
    pub rejected: Vec<Rejection>,
    /// Events kept aside by the schema policy (replayable).
    pub quarantined: Vec<Rejection>,
}

/// Workspace → settings, re-read every 2 s (other nodes' changes).
pub struct SettingsCache(rapport_store::cache::Cache<String, Arc<Settings>>);

impl Default for SettingsCache {
    fn default() -> Self {
        Self(rapport_store::cache::Cache::with_ttl(
            Duration::from_secs(2),
            10_000,
        ))
    }
}

impl SettingsCache {
    pub async fn get(&self, store: &Store, workspace_id: &str) -> Result<Arc<Settings>, CdpError> {
        if let Some(s) = self.0.get(workspace_id) {
            return Ok(s);
        }
        let loaded = Arc::new(settings::load(store, workspace_id).await?);
        self.0.insert(workspace_id.to_string(), loaded.clone());
        Ok(loaded)
    }

    pub fn forget(&self, workspace_id: &str) {
        self.0.remove(workspace_id);
    }
}

pub struct Cdp {
    pub store: Store,
    pub sources: sources::SourceCache,
    pub registry: registry::RegistryCache,
    pub settings: Arc<SettingsCache>,
    pub identities: Arc<identity::resolve::IdentityCache>,
    pub metrics: Arc<health::Metrics>,
    pub segments: Arc<segments::engine::Engine>,
    writer: mpsc::Sender<Job>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Cdp {
    /// Starts the group-commit writer, the segment engine and the CRM sync loop (needs a
    /// Tokio runtime).
    pub fn start(store: Store) -> Arc<Cdp> {
        let identities = Arc::new(identity::resolve::IdentityCache::default());
        let metrics = Arc::new(health::Metrics::new(store.metrics()));
        let settings = Arc::new(SettingsCache::default());
        let segments = segments::engine::Engine::new(store.clone());
        let (writer, writer_task) = writer::start(
            store.clone(),
            writer::Shared {
                identities: identities.clone(),
                metrics: metrics.clone(),
                keys: Arc::default(),
                segments: segments.clone(),
            },
        );

        Arc::new(Cdp {
            store,
            sources: sources::SourceCache::default(),
            registry: registry::RegistryCache::default(),
            settings,
            identities,
            metrics,
            segments,
            writer,
            tasks: Mutex::new(vec![writer_task]),
        })
    }

    /// Stops the writer and the sync loop (a command that ingested and is done, like `demo`).
    pub fn stop(&self) {
        if let Ok(mut tasks) = self.tasks.lock() {
            for task in tasks.drain(..) {
                task.abort();
            }
        }
    }

    /// Handles one tracking request: `kind` is the call of the path (`None` for `/v1/batch`),
    /// `header_key` the write key from HTTP Basic auth.
    pub async fn ingest(
        &self,
        header_key: Option<String>,
        body: &[u8],
        encoding: Option<&str>,
        kind: Option<Kind>,
    ) -> Result<IngestReport, CdpError> {
        let raw = wire::decode_body(body, encoding)?;
        let received_at = self.store.now().timestamp_millis();
        let request = wire::parse_request(&raw, kind, received_at)?;
        let write_key = match (header_key, request.write_key) {
            (Some(h), Some(b)) if h != b => {
                return Err(CdpError::Unauthorized {
                    code: ErrorCode::WriteKeyMismatch,
                    message: "the write key in the Authorization header and in the body differ"
                        .into(),
                })
            }
            (Some(k), _) | (None, Some(k)) => k,
            (None, None) => {
                return Err(CdpError::Unauthorized {
                    code: ErrorCode::MissingWriteKey,
                    message: "send the source's write key as the Basic auth user or as `writeKey`"
                        .into(),
                })
            }
        };
        let source = self.sources.authenticate(&self.store, &write_key).await?;
        self.sources.admit(&source, request.events.len().max(1))?;
        let schemas = self
            .registry
            .compiled(&self.store, &source.workspace_id)
            .await?;
        let settings = self.settings.get(&self.store, &source.workspace_id).await?;
        let received = request.events.len();
        let mut accepted = Vec::new();
        let mut held = Vec::new();
        let mut report = IngestReport {
            success: true,
            accepted: 0,
            duplicates: 0,
            rejected: Vec::new(),
            quarantined: Vec::new(),
        };
        for parsed in request.events {
            let parsed = parsed.and_then(|mut event| {
                event.trusted = source.trusts(&event);
                match identity::admissible(&event, &settings) {
                    Ok(()) => Ok(event),
                    Err((code, message)) => Err((
                        Rejection {
                            index: event.index,
                            message_id: Some(event.message_id.clone()),
                            code,
                            message,
                        },
                        Some(serde_json::Value::Object(event.body)),
                    )),
                }
            });
            match parsed {
                Ok(mut event) => match schemas.check(&event) {
                    None => {
                        // Serialised here, in parallel request handlers, not in the writer.
                        event.seal();
                        accepted.push(event);
                    }
                    Some(misfit) => {
                        let rejection = Rejection {
                            index: event.index,
                            message_id: Some(event.message_id.clone()),
                            code: misfit.code,
                            message: misfit.message.clone(),
                        };
                        let disposition = match source.schema_policy {
                            SchemaPolicy::Quarantine => "quarantined",
                            SchemaPolicy::Reject => "rejected",
                        };
                        held.push(Held {
                            disposition,
                            code: misfit.code,
                            reason: misfit.message,
                            kind: Some(event.kind.as_str().into()),
                            name: event.type_name(),
                            message_id: Some(event.message_id.clone()),
                            payload: serde_json::Value::Object(event.body),
                            received_at,
                        });
                        match source.schema_policy {
                            SchemaPolicy::Quarantine => report.quarantined.push(rejection),
                            SchemaPolicy::Reject => report.rejected.push(rejection),
                        }
                    }
                },
                Err((rejection, body)) => {
                    let kind = body
                        .as_ref()
                        .and_then(|b| b.get("type"))
                        .and_then(|t| t.as_str())
                        .map(str::to_string);
                    held.push(Held {
                        disposition: "rejected",
                        code: rejection.code,
                        reason: rejection.message.clone(),
                        kind,
                        name: None,
                        message_id: rejection.message_id.clone(),
                        payload: body.unwrap_or_else(|| serde_json::json!({})),
                        received_at,
                    });
                    report.rejected.push(rejection);
                }
            }
        }
        let n_accepted = accepted.len();
        let outcome = self
            .submit(Work {
                source,
                settings,
                accepted,
                held,
                received,
                replayed: Vec::new(),
            })
            .await?;
        report.duplicates = outcome.duplicates.len();
        report.accepted = n_accepted - report.duplicates - outcome.rejected.len();
        report.rejected.extend(outcome.rejected);
        Ok(report)
    }

    /// Hands a job to the group commit and waits for its durable outcome.
    pub(crate) async fn submit(&self, work: Work) -> Result<writer::Outcome, CdpError> {
        let (reply, answer) = oneshot::channel();
        self.writer
            .try_send(Job { work, reply })
            .map_err(|_| CdpError::Overloaded)?;
        answer.await.map_err(|_| CdpError::Overloaded)?
    }

    /// The source with `id`, for jobs that do not come with a write key (replays).
    pub(crate) async fn source(&self, workspace_id: &str, id: &str) -> Result<Source, CdpError> {
        sources::get(&self.store, workspace_id, id).await
    }
}

/// An epoch-milliseconds time (events, merges, health) as a date-time; one no date-time can
/// hold is an error, never 1970. Stored columns are read with `Row::millis`.
pub(crate) fn time_of_ms(
    ms: i64,
) -> Result<chrono::DateTime<chrono::Utc>, rapport_store::StoreError> {
    chrono::DateTime::from_timestamp_millis(ms).ok_or_else(|| {
        rapport_store::StoreError::Corrupt(format!("{ms} ms is out of any date's range"))
    })
}

/// A placeholder in the group commit's statements: `$n` on PostgreSQL, a positional `?` on
/// SQLite (parameters are bound in order there). Numbered `?n` makes SQLite look every
/// parameter up by name, which grows with the square of a multi-row statement's width.
pub(crate) fn placeholder(dialect: rapport_core::sql::Dialect, n: usize) -> String {
    match dialect {
        rapport_core::sql::Dialect::Sqlite => "?".to_string(),
        rapport_core::sql::Dialect::Postgres => format!("${n}"),
    }
}

pub(crate) fn ph(tx: &rapport_store::Tx, n: usize) -> String {
    placeholder(tx.dialect(), n)
}

/// A placeholder for JSON sent as text: cast to JSONB on PostgreSQL.
pub(crate) fn json_ph(tx: &rapport_store::Tx, n: usize) -> String {
    match tx.dialect() {
        rapport_core::sql::Dialect::Sqlite => "?".to_string(),
        rapport_core::sql::Dialect::Postgres => format!("${n}::jsonb"),
    }
}

/// Splits `items` into slices of 256, 128, …, 1 items, so a multi-row statement comes in at
/// most nine shapes and every shape stays in the driver's prepared-statement cache.
pub(crate) fn statement_chunks<T>(items: &[T]) -> Vec<&[T]> {
    let mut out = Vec::new();
    let mut rest = items;
    let mut size = 256;
    while !rest.is_empty() {
        while size > rest.len() {
            size /= 2;
        }
        let (head, tail) = rest.split_at(size);
        out.push(head);
        rest = tail;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::statement_chunks;

    #[test]
    fn chunks_come_in_few_shapes() {
        let items: Vec<usize> = (0..1_000).collect();
        let sizes: Vec<usize> = statement_chunks(&items).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, vec![256, 256, 256, 128, 64, 32, 8]);
        assert_eq!(sizes.iter().sum::<usize>(), 1_000);
        assert!(statement_chunks::<u8>(&[]).is_empty());
        assert_eq!(statement_chunks(&[1]).len(), 1);
    }
}
