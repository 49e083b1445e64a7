//! Sources: the channels that send events (app, web, mini-program, POS, WeCom, ...), each with
//! its own write key, schema policy and rate. Write keys are looked up through a short-lived
//! cache, and each source's rate is enforced per node with a token bucket.

use crate::error::CdpError;
use chrono::{DateTime, Utc};
use rand::Rng;
use rapport_core::codes::ErrorCode;
use rapport_core::sql::{ColumnKind, SqlParam};
use rapport_store::cache::Cache;
use rapport_store::{Row, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use utoipa::ToSchema;

/// What happens to an event that does not fit the schema registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SchemaPolicy {
    /// Dropped, counted with its reason and kept a while for inspection.
    Reject,
    /// Kept aside, visible and replayable once the schema is fixed.
    Quarantine,
}

impl SchemaPolicy {
    fn as_str(self) -> &'static str {
        match self {
            SchemaPolicy::Reject => "reject",
            SchemaPolicy::Quarantine => "quarantine",
        }
    }

    fn parse(text: &str) -> Option<SchemaPolicy> {
        [SchemaPolicy::Reject, SchemaPolicy::Quarantine]
            .into_iter()
            .find(|p| p.as_str() == text)
    }
}

/// How far a source's events may speak for a person (docs/SECURITY.md, "Public write keys").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Trust {
    /// Code running on customers' devices (web, app, mini-program): its write key is public,
    /// so its events link profiles only by their own ids, and fill empty CRM fields only —
    /// unless an event carries a valid identity verification.
    Client,
    /// The company's own systems: events may link by email, phone and any identifier, and
    /// update CRM contacts.
    Server,
}

impl Trust {
    fn as_str(self) -> &'static str {
        match self {
            Trust::Client => "client",
            Trust::Server => "server",
        }
    }

    fn parse(text: &str) -> Option<Trust> {
        [Trust::Client, Trust::Server]
            .into_iter()
            .find(|t| t.as_str() == text)
    }

    /// The default of a new source of `kind`.
    pub fn of_kind(kind: &str) -> Trust {
        match kind {
            "app" | "web" | "mini_program" => Trust::Client,
            _ => Trust::Server,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Source {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    /// app, web, mini_program, pos, iot, ads, wecom, service, server or other.
    pub kind: String,
    pub write_key: String,
    pub schema_policy: SchemaPolicy,
    /// Events per second this source may send (per node); none for unlimited.
    pub rate_limit: Option<i64>,
    pub trust: Trust,
    /// The secret a company's server signs its logged-in users' ids with (identity
    /// verification): an event whose `context.userHash` is the hex HMAC-SHA256 of its `userId`
    /// under this secret is trusted even from a client source. Keep it on the server.
    pub verification_secret: Option<String>,
    pub created_at: DateTime<Utc>,
    pub archived_at: Option<DateTime<Utc>>,
}

impl Source {
    /// Whether `event` may speak for a person beyond its own ids: a server source, or a valid
    /// `context.userHash` for the event's `userId`.
    pub fn trusts(&self, event: &crate::wire::Incoming) -> bool {
        if self.trust == Trust::Server {
            return true;
        }
        let (Some(secret), Some(user_id)) = (&self.verification_secret, &event.user_id) else {
            return false;
        };
        let Some(hash) = event
            .body
            .get("context")
            .and_then(|c| c.get("userHash"))
            .and_then(serde_json::Value::as_str)
        else {
            return false;
        };
        let Ok(given) = hex::decode(hash.trim()) else {
            return false;
        };
        use hmac::Mac;
        let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) else {
            return false;
        };
        mac.update(user_id.as_bytes());
        mac.verify_slice(&given).is_ok()
    }
}

pub const KINDS: [&str; 10] = [
    "app",
    "web",
    "mini_program",
    "pos",
    "iot",
    "ads",
    "wecom",
    "service",
    "server",
    "other",
];

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Mini program", "kind": "mini_program", "rate_limit": 200}))]
pub struct SourceInput {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub schema_policy: Option<SchemaPolicy>,
    /// Events per second; 0 or null removes the limit.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub rate_limit: Option<Option<i64>>,
    /// true archives the source (its write key stops working), false restores it.
    pub archived: Option<bool>,
    /// Default: `client` for app, web and mini_program, `server` for the others.
    pub trust: Option<Trust>,
}

/// Tells an absent key from an explicit null.
mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
        Option::<i64>::deserialize(d).map(Some)
    }
}

const COLUMNS: &str = "id, workspace_id, name, kind, write_key, schema_policy, rate_limit, created_at, archived_at, trust, verification_secret";
const KINDS_OF_COLUMNS: [ColumnKind; 11] = [
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Int,
    ColumnKind::Timestamp,
    ColumnKind::Timestamp,
    ColumnKind::Text,
    ColumnKind::Text,
];

/// A stored source; an unknown policy or trust is corrupt data, never quietly the laxer one.
fn decode(row: &Row) -> Result<Source, StoreError> {
    let policy = row.text("schema_policy")?;
    let trust = row.text("trust")?;
    Ok(Source {
        id: row.text("id")?,
        workspace_id: row.text("workspace_id")?,
        name: row.text("name")?,
        kind: row.text("kind")?,
        write_key: row.text("write_key")?,
        schema_policy: SchemaPolicy::parse(&policy)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown schema policy {policy:?}")))?,
        rate_limit: row.opt_int("rate_limit")?,
        trust: Trust::parse(&trust)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown source trust {trust:?}")))?,
        verification_secret: row.opt_text("verification_secret")?,
        created_at: row.timestamp("created_at")?,
        archived_at: row.opt_timestamp("archived_at")?,
    })
}

fn random_text(prefix: &str, len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    let tail: String = (0..len)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect();
    format!("{prefix}{tail}")
}

fn new_write_key() -> String {
    random_text("wk_", 32)
}

fn new_verification_secret() -> String {
    random_text("vs_", 48)
}

fn check_input(input: &SourceInput) -> Result<(), CdpError> {
    if let Some(name) = &input.name {
        let n = name.trim().chars().count();
        if n == 0 || n > 100 {
            return Err(CdpError::invalid(
                ErrorCode::InvalidSource,
                "a source needs a name of 1 to 100 characters",
            ));
        }
    }
    if let Some(kind) = &input.kind {
        if !KINDS.contains(&kind.as_str()) {
            return Err(CdpError::invalid(
                ErrorCode::InvalidSource,
                format!("kind must be one of {}", KINDS.join(", ")),
            ));
        }
    }
    if let Some(Some(rate)) = input.rate_limit {
        if !(0..=10_000_000).contains(&rate) {
            return Err(CdpError::invalid(
                ErrorCode::InvalidSource,
                "rate_limit must be between 0 and 10,000,000 events per second",
            ));
        }
    }
    Ok(())
}

pub async fn list(store: &Store, workspace_id: &str) -> Result<Vec<Source>, CdpError> {
    let rows = store
        .db
        .fetch_all(
            &format!(
                "SELECT {COLUMNS} FROM cdp_sources WHERE workspace_id = {} ORDER BY created_at, id",
                store.ph(1)
            ),
            &[SqlParam::Text(workspace_id.into())],
            &KINDS_OF_COLUMNS,
        )
        .await?;
    Ok(rows.iter().map(decode).collect::<Result<_, _>>()?)
}

pub async fn get(store: &Store, workspace_id: &str, id: &str) -> Result<Source, CdpError> {
    let row = store
        .db
        .fetch_optional(
            &format!(
                "SELECT {COLUMNS} FROM cdp_sources WHERE workspace_id = {} AND id = {}",
                store.ph(1),
                store.ph(2)
            ),
            &[
                SqlParam::Text(workspace_id.into()),
                SqlParam::Text(id.into()),
            ],
            &KINDS_OF_COLUMNS,
        )
        .await?;
    row.as_ref()
        .map(decode)
        .transpose()?
        .ok_or(CdpError::NotFound { what: "source" })
}

pub async fn create(
    store: &Store,
    workspace_id: &str,
    input: SourceInput,
) -> Result<Source, CdpError> {
    check_input(&input)?;
    let name = input
        .name
        .map(|n| n.trim().to_string())
        .ok_or_else(|| CdpError::invalid(ErrorCode::InvalidSource, "a source needs a name"))?;
    let id = uuid::Uuid::now_v7().to_string();
    let rate = input.rate_limit.flatten().filter(|r| *r > 0);
    let kind = input.kind.unwrap_or_else(|| "other".into());
    let trust = input.trust.unwrap_or_else(|| Trust::of_kind(&kind));
    store
        .db
        .execute(
            &format!(
                "INSERT INTO cdp_sources ({COLUMNS}) VALUES ({})",
                (1..=11).map(|i| store.ph(i)).collect::<Vec<_>>().join(", ")
            ),
            &[
                SqlParam::Text(id.clone()),
                SqlParam::Text(workspace_id.into()),
                SqlParam::Text(name),
                SqlParam::Text(kind),
                SqlParam::Text(new_write_key()),
                SqlParam::Text(
                    input
                        .schema_policy
                        .unwrap_or(SchemaPolicy::Quarantine)
                        .as_str()
                        .into(),
                ),
                rate.map_or(SqlParam::NullOf(ColumnKind::Int), SqlParam::Int),
                SqlParam::Timestamp(store.now()),
                SqlParam::NullOf(ColumnKind::Timestamp),
                SqlParam::Text(trust.as_str().into()),
                SqlParam::Text(new_verification_secret()),
            ],
        )
        .await?;
    get(store, workspace_id, &id).await
}

/// What `update` may change besides the input's fields.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rotate {
    pub write_key: bool,
    pub verification_secret: bool,
}

pub async fn update(
    store: &Store,
    workspace_id: &str,
    id: &str,
    input: SourceInput,
    rotate: Rotate,
) -> Result<Source, CdpError> {
    check_input(&input)?;
    let mut source = get(store, workspace_id, id).await?;
    if let Some(name) = input.name {
        source.name = name.trim().to_string();
    }
    if let Some(kind) = input.kind {
        source.kind = kind;
    }
    if let Some(policy) = input.schema_policy {
        source.schema_policy = policy;
    }
    if let Some(rate) = input.rate_limit {
        source.rate_limit = rate.filter(|r| *r > 0);
    }
    match input.archived {
        Some(true) if source.archived_at.is_none() => source.archived_at = Some(store.now()),
        Some(false) => source.archived_at = None,
        _ => {}
    }
    if let Some(trust) = input.trust {
        source.trust = trust;
    }
    if rotate.write_key {
        source.write_key = new_write_key();
    }
    if rotate.verification_secret {
        source.verification_secret = Some(new_verification_secret());
    }
    store
        .db
        .execute(
            &format!(
                "UPDATE cdp_sources SET name = {}, kind = {}, schema_policy = {}, rate_limit = {}, archived_at = {}, write_key = {}, \
                 trust = {}, verification_secret = {} WHERE workspace_id = {} AND id = {}",
                store.ph(1),
                store.ph(2),
                store.ph(3),
                store.ph(4),
                store.ph(5),
                store.ph(6),
                store.ph(9),
                store.ph(10),
                store.ph(7),
                store.ph(8)
            ),
            &[
                SqlParam::Text(source.name.clone()),
                SqlParam::Text(source.kind.clone()),
                SqlParam::Text(source.schema_policy.as_str().into()),
                source
                    .rate_limit
                    .map_or(SqlParam::NullOf(ColumnKind::Int), SqlParam::Int),
                source
                    .archived_at
                    .map_or(SqlParam::NullOf(ColumnKind::Timestamp), SqlParam::Timestamp),
                SqlParam::Text(source.write_key.clone()),
                SqlParam::Text(workspace_id.into()),
                SqlParam::Text(id.into()),
                SqlParam::Text(source.trust.as_str().into()),
                source
                    .verification_secret
                    .clone()
                    .map_or(SqlParam::NullOf(ColumnKind::Text), SqlParam::Text),
            ],
        )
        .await?;
    Ok(source)
}

/// Write key → source, and the per-source token buckets. A rotated or archived key keeps
/// working on other nodes for at most the key cache's 2 s (the node that changed it forgets at
/// once).
pub struct SourceCache {
    keys: Cache<String, Option<Source>>,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Default for SourceCache {
    fn default() -> Self {
        Self {
            keys: Cache::with_ttl(Duration::from_secs(2), 10_000),
            buckets: Mutex::new(HashMap::new()),
        }
    }
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

impl SourceCache {
    /// The live source behind `write_key`.
    pub async fn authenticate(&self, store: &Store, write_key: &str) -> Result<Source, CdpError> {
        let source = match self.keys.get(write_key) {
            Some(source) => source,
            None => {
                let row = store
                    .db
                    .fetch_optional(
                        &format!(
                            "SELECT {COLUMNS} FROM cdp_sources WHERE write_key = {}",
                            store.ph(1)
                        ),
                        &[SqlParam::Text(write_key.into())],
                        &KINDS_OF_COLUMNS,
                    )
                    .await?;
                let source = row.as_ref().map(decode).transpose()?;
                self.keys.insert(write_key.to_string(), source.clone());
                source
            }
        };
        match source {
            Some(s) if s.archived_at.is_none() => Ok(s),
            _ => Err(CdpError::Unauthorized {
                code: ErrorCode::InvalidWriteKey,
                message: "the write key is unknown or its source is archived".into(),
            }),
        }
    }

    pub fn forget(&self) {
        self.keys.clear();
    }

    /// Takes `events` tokens from the source's bucket (one second of burst), or says how many
    /// seconds to wait.
    pub fn admit(&self, source: &Source, events: usize) -> Result<(), CdpError> {
        let Some(rate) = source.rate_limit.filter(|r| *r > 0) else {
            return Ok(());
        };
        let rate_f = rate as f64;
        let want = events as f64;
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        let bucket = buckets.entry(source.id.clone()).or_insert(Bucket {
            tokens: rate_f,
            at: Instant::now(),
        });
        let now = Instant::now();
        bucket.tokens = (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * rate_f)
            .min(rate_f.max(want));
        bucket.at = now;
        if bucket.tokens >= want {
            bucket.tokens -= want;
            return Ok(());
        }
        let wait = ((want - bucket.tokens) / rate_f).ceil().max(1.0);
        Err(CdpError::RateLimited {
            source_name: source.name.clone(),
            rate,
            retry_after: wait as u64,
        })
    }
}
