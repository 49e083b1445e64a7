//! One request to an inbound hook: the sender verified, the payload mapped item by item (JSON
//! pointers, the semantic dictionary inbound), the records upserted in one transaction with the
//! log entry — all or nothing — and every request logged (a refused one with its code, its
//! payload kept unless the sender was not verified).

use super::{Hook, HookAuth};
use crate::dictionary::{self, Direction, Translator};
use crate::webhooks::signing;
use chrono::{DateTime, Utc};
use rapport_core::codes::ErrorCode;
use rapport_core::names::quote;
use rapport_core::sql::{ColumnKind, Dialect, SqlParam};
use rapport_core::Source;
use rapport_store::records::{RecordInput, RecordUpdate, WriteCtx};
use rapport_store::{table_name, Store, StoreError, Tx};
use serde::Serialize;
use serde_json::{Map, Value as Json};
use std::collections::HashMap;
use utoipa::ToSchema;

/// The most items one request carries.
pub const MAX_ITEMS: usize = 100;
/// The largest payload accepted.
pub const MAX_BYTES: usize = 1024 * 1024;
/// How far a Standard Webhooks timestamp may be from now.
const TOLERANCE_SECONDS: i64 = 300;
/// The most of a payload the log keeps.
const KEPT: usize = 64 * 1024;

/// What came in: the headers that matter and the body.
#[derive(Debug, Clone, Default)]
pub struct Incoming {
    pub webhook_id: Option<String>,
    pub webhook_timestamp: Option<String>,
    pub webhook_signature: Option<String>,
    pub authorization: Option<String>,
    pub body: Vec<u8>,
}

/// One record written.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct Written {
    pub id: String,
    /// `created` or `updated`.
    pub action: String,
}

/// The answer to a sender.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Received {
    pub records: Vec<Written>,
    /// This `webhook-id` was accepted before: nothing was written again.
    pub replayed: bool,
}

/// One request in a hook's log.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InboundDelivery {
    pub id: String,
    pub message_id: Option<String>,
    pub received_at: DateTime<Utc>,
    /// `accepted` or `rejected`.
    pub state: String,
    pub code: Option<String>,
    pub error: Option<String>,
    /// The payload as received (its first 64 KB; none when the sender was not verified).
    pub payload: String,
    pub records: Vec<Written>,
}

/// A mapping source: the JSON pointer and the filter after `|`, if any.
pub fn split_source(source: &str) -> (&str, Option<&str>) {
    match source.split_once('|') {
        Some((pointer, filter)) => (pointer.trim(), Some(filter.trim())),
        None => (source.trim(), None),
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A hook with what receiving needs.
struct Target {
    hook: Hook,
    workspace_id: String,
    secret: String,
}

async fn target(store: &Store, id: &str) -> Result<Target, StoreError> {
    let row = store
        .db
        .fetch_optional(
            &format!(
                "SELECT workspace_id, secret FROM inbound_hooks WHERE id = {}",
                store.ph(1)
            ),
            &[SqlParam::Text(id.into())],
            &[ColumnKind::Text, ColumnKind::Text],
        )
        .await?
        .ok_or_else(|| StoreError::not_found("inbound hook"))?;
    let workspace_id = row.text(0)?;
    let hook = super::get(store, &workspace_id, id).await?;
    if !hook.enabled {
        return Err(StoreError::not_found("inbound hook"));
    }
    let secret = store
        .sealer()
        .open(&super::context(id), &row.text(1)?)
        .map_err(|e| {
            StoreError::conflict(
                ErrorCode::SecretKeyMismatch,
                format!("the hook's secret does not open: {e}"),
            )
        })?;
    Ok(Target {
        hook,
        workspace_id,
        secret: String::from_utf8_lossy(&secret).into_owned(),
    })
}

fn verify(store: &Store, target: &Target, incoming: &Incoming) -> Result<(), StoreError> {
    let refused = |why: &str| StoreError::bad_request(ErrorCode::InvalidSignature, why.to_string());
    match target.hook.auth {
        HookAuth::Token => {
            let given = incoming
                .authorization
                .as_deref()
                .and_then(|a| a.strip_prefix("Bearer "))
                .ok_or_else(|| refused("Authorization: Bearer <token> is missing"))?;
            if !constant_time_eq(given.trim(), &target.secret) {
                return Err(refused("the token is not this hook's"));
            }
        }
        HookAuth::StandardWebhooks => {
            let (Some(id), Some(timestamp), Some(signatures)) = (
                incoming.webhook_id.as_deref(),
                incoming.webhook_timestamp.as_deref(),
                incoming.webhook_signature.as_deref(),
            ) else {
                return Err(refused(
                    "webhook-id, webhook-timestamp and webhook-signature are required",
                ));
            };
            let seconds: i64 = timestamp
                .trim()
                .parse()
                .map_err(|_| refused("webhook-timestamp is not a number of seconds"))?;
            if (store.now().timestamp() - seconds).abs() > TOLERANCE_SECONDS {
                return Err(refused("webhook-timestamp is more than 5 minutes away"));
            }
            let body = String::from_utf8_lossy(&incoming.body);
            let expected = signing::sign(&target.secret, id, seconds, &body)
                .ok_or_else(|| refused("the hook's secret is unusable"))?;
            if !signatures
                .split(' ')
                .any(|given| constant_time_eq(given, &expected))
            {
                return Err(refused("no signature matches"));
            }
        }
    }
    Ok(())
}

/// Receives one request for hook `id`.
pub async fn receive(store: &Store, id: &str, incoming: Incoming) -> Result<Received, StoreError> {
    let target = target(store, id).await?;
    if let Err(e) = verify(store, &target, &incoming) {
        log_rejected(store, &target, &incoming, &e).await;
        return Err(e);
    }
    match accept(store, &target, &incoming).await {
        Ok(received) => Ok(received),
        Err(e) => {
            log_rejected(store, &target, &incoming, &e).await;
            Err(e)
        }
    }
}

fn payload_error(message: impl Into<String>) -> StoreError {
    StoreError::bad_request(ErrorCode::InvalidPayload, message)
}

/// An item's values by field, through the mapping.
async fn values_of(
    store: &Store,
    target: &Target,
    translators: &mut HashMap<String, Translator>,
    item: &Json,
    index: usize,
) -> Result<Map<String, Json>, StoreError> {
    let mut values = Map::new();
    for (field, source) in &target.hook.mapping {
        let (pointer, filter) = split_source(source.as_str().unwrap_or_default());
        let Some(value) = item.pointer(pointer) else {
            continue;
        };
        let value = match filter.and_then(|f| f.strip_prefix("map:")).map(str::trim) {
            None => value.clone(),
            Some(_) if value.is_null() => Json::Null,
            Some(system) => {
                if !translators.contains_key(system) {
                    let loaded =
                        Translator::load(store, &target.workspace_id, system, &target.hook.object)
                            .await?;
                    translators.insert(system.to_string(), loaded);
                }
                let translator = &translators[system];
                let text = match value {
                    Json::String(s) => s.clone(),
                    other => other.to_string(),
                };
                match translator.translate(Direction::Inbound, field, &text) {
                    Ok(crm) => Json::String(crm),
                    Err(miss) => {
                        let context = format!("inbound hook {}", target.hook.name);
                        dictionary::record_miss(store, &miss, &context).await?;
                        return Err(StoreError::bad_request(
                            ErrorCode::UnmappedValue,
                            format!("item {index}: {}", miss.reason(system, &target.hook.object)),
                        ));
                    }
                }
            }
        };
        values.insert(field.clone(), value);
    }
    if values.is_empty() {
        return Err(payload_error(format!(
            "item {index} has none of the mapped pointers"
        )));
    }
    Ok(values)
}

async fn accept(
    store: &Store,
    target: &Target,
    incoming: &Incoming,
) -> Result<Received, StoreError> {
    if incoming.body.len() > MAX_BYTES {
        return Err(payload_error("the payload is over 1 MB"));
    }
    let payload: Json = serde_json::from_slice(&incoming.body)
        .map_err(|e| StoreError::bad_request(ErrorCode::InvalidJson, e.to_string()))?;
    let items = match payload {
        Json::Array(items) if !items.is_empty() && items.len() <= MAX_ITEMS => items,
        object @ Json::Object(_) => vec![object],
        _ => {
            return Err(payload_error(format!(
                "the payload is an object or an array of 1 to {MAX_ITEMS} objects"
            )))
        }
    };
    let mut translators = HashMap::new();
    let mut changes = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        if !item.is_object() {
            return Err(payload_error(format!("item {index} is not an object")));
        }
        let values = values_of(store, target, &mut translators, item, index).await?;
        let key = match &target.hook.match_field {
            Some(field) => match values.get(field) {
                Some(Json::String(s)) if !s.trim().is_empty() => Some((field.clone(), s.clone())),
                _ => {
                    return Err(payload_error(format!(
                        "item {index} has no {field} to find its record by"
                    )))
                }
            },
            None => None,
        };
        changes.push((values, key));
    }

    let ws = &target.workspace_id;
    let mut principal = store.system_principal(ws).await?;
    let schema = store.schema(ws, principal.metadata_version).await?;
    principal.user_id = format!("inbound:{}", target.hook.id);
    let request_id = incoming
        .webhook_id
        .clone()
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let ctx = WriteCtx {
        principal: &principal,
        source: Source::Integration,
        request_id,
    };
    let mut tx = store.db.begin().await?;
    // One request of a hook at a time: two senders with the same key make one record.
    if tx.dialect() == Dialect::Postgres {
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtext('inbound:' || $1))",
            &[SqlParam::Text(target.hook.id.clone())],
        )
        .await?;
    }
    if let Some(message_id) = &incoming.webhook_id {
        if let Some(records) = accepted_before(store, &mut tx, &target.hook.id, message_id).await? {
            return Ok(Received {
                records,
                replayed: true,
            });
        }
    }
    let table = quote(&table_name(ws, &target.hook.object));
    let mut written = Vec::with_capacity(changes.len());
    for (values, key) in changes {
        let existing = match &key {
            Some((field, value)) => tx
                .fetch_optional(
                    &format!(
                        "SELECT id FROM {table} WHERE {} = {} AND deleted_at IS NULL ORDER BY created_at LIMIT 1",
                        quote(field),
                        store.ph(1)
                    ),
                    &[SqlParam::Text(value.clone())],
                    &[ColumnKind::Text],
                )
                .await?
                .map(|row| row.text(0))
                .transpose()?,
            None => None,
        };
        let record = match existing {
            Some(id) => {
                store
                    .update_record_in(
                        &mut tx,
                        &ctx,
                        &schema,
                        &target.hook.object,
                        RecordUpdate {
                            id: id.clone(),
                            values,
                            ..Default::default()
                        },
                    )
                    .await?;
                Written {
                    id,
                    action: "updated".into(),
                }
            }
            None => {
                let record = store
                    .create_record_in(
                        &mut tx,
                        &ctx,
                        &schema,
                        &target.hook.object,
                        RecordInput {
                            values,
                            ..Default::default()
                        },
                    )
                    .await?;
                Written {
                    id: record.id,
                    action: "created".into(),
                }
            }
        };
        written.push(record);
    }
    log(store, &mut tx, target, incoming, "accepted", None, &written).await?;
    tx.commit().await?;
    Ok(Received {
        records: written,
        replayed: false,
    })
}

async fn accepted_before(
    store: &Store,
    tx: &mut Tx,
    hook_id: &str,
    message_id: &str,
) -> Result<Option<Vec<Written>>, StoreError> {
    let row = tx
        .fetch_optional(
            &format!(
                "SELECT records FROM inbound_deliveries WHERE hook_id = {} AND message_id = {} AND state = 'accepted'",
                store.ph(1),
                store.ph(2)
            ),
            &[
                SqlParam::Text(hook_id.into()),
                SqlParam::Text(message_id.into()),
            ],
            &[ColumnKind::Json],
        )
        .await?;
    Ok(match row {
        Some(row) => Some(serde_json::from_value(row.json(0)?).unwrap_or_default()),
        None => None,
    })
}

fn kept(incoming: &Incoming) -> String {
    let text = String::from_utf8_lossy(&incoming.body);
    let mut end = text.len().min(KEPT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

async fn log(
    store: &Store,
    tx: &mut Tx,
    target: &Target,
    incoming: &Incoming,
    state: &str,
    error: Option<(&str, String)>,
    records: &[Written],
) -> Result<(), StoreError> {
    let m: Vec<String> = (1..=10).map(|n| store.ph(n)).collect();
    let now = store.now();
    let payload = if error
        .as_ref()
        .is_some_and(|(code, _)| *code == "invalid_signature")
    {
        String::new()
    } else {
        kept(incoming)
    };
    tx.execute(
        &format!(
            "INSERT INTO inbound_deliveries (id, workspace_id, hook_id, message_id, received_at, \
             state, code, error, payload, records) VALUES ({})",
            m.join(", ")
        ),
        &[
            SqlParam::Text(uuid::Uuid::now_v7().to_string()),
            SqlParam::Text(target.workspace_id.clone()),
            SqlParam::Text(target.hook.id.clone()),
            incoming
                .webhook_id
                .clone()
                .map_or(SqlParam::NullOf(ColumnKind::Text), SqlParam::Text),
            SqlParam::Timestamp(now),
            SqlParam::Text(state.into()),
            error
                .as_ref()
                .map_or(SqlParam::NullOf(ColumnKind::Text), |(code, _)| {
                    SqlParam::Text((*code).to_string())
                }),
            error.map_or(SqlParam::NullOf(ColumnKind::Text), |(_, message)| {
                SqlParam::Text(message.chars().take(1000).collect())
            }),
            SqlParam::Text(payload),
            SqlParam::Json(serde_json::to_value(records).unwrap_or_default()),
        ],
    )
    .await?;
    tx.execute(
        &format!(
            "UPDATE inbound_hooks SET last_received_at = {} WHERE id = {}",
            store.ph(1),
            store.ph(2)
        ),
        &[
            SqlParam::Timestamp(now),
            SqlParam::Text(target.hook.id.clone()),
        ],
    )
    .await?;
    Ok(())
}

/// Logs a refused request (best effort: the answer is the refusal either way).
async fn log_rejected(store: &Store, target: &Target, incoming: &Incoming, error: &StoreError) {
    let code = match error {
        StoreError::BadRequest { code, .. } | StoreError::Conflict { code, .. } => code.as_str(),
        StoreError::Core(_) | StoreError::Bulk(_) => "validation_failed",
        _ => "internal_error",
    };
    let result = async {
        let mut tx = store.db.begin().await?;
        log(
            store,
            &mut tx,
            target,
            incoming,
            "rejected",
            Some((code, error.to_string())),
            &[],
        )
        .await?;
        tx.commit().await
    }
    .await;
    if let Err(e) = result {
        tracing::warn!("logging a refused inbound request: {e}");
    }
}

/// A hook's latest requests, newest first.
pub async fn deliveries(
    store: &Store,
    workspace_id: &str,
    hook_id: &str,
    limit: i64,
) -> Result<Vec<InboundDelivery>, StoreError> {
    super::get(store, workspace_id, hook_id).await?;
    let rows = store
        .db
        .fetch_all(
            &format!(
                "SELECT id, message_id, received_at, state, code, error, payload, records \
                 FROM inbound_deliveries WHERE workspace_id = {} AND hook_id = {} \
                 ORDER BY received_at DESC, id DESC LIMIT {}",
                store.ph(1),
                store.ph(2),
                limit.clamp(1, 200)
            ),
            &[
                SqlParam::Text(workspace_id.into()),
                SqlParam::Text(hook_id.into()),
            ],
            &[
                ColumnKind::Text,
                ColumnKind::Text,
                ColumnKind::Timestamp,
                ColumnKind::Text,
                ColumnKind::Text,
                ColumnKind::Text,
                ColumnKind::Text,
                ColumnKind::Json,
            ],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(InboundDelivery {
                id: r.text(0)?,
                message_id: r.opt_text(1)?,
                received_at: r.timestamp(2)?,
                state: r.text(3)?,
                code: r.opt_text(4)?,
                error: r.opt_text(5)?,
                payload: r.text(6)?,
                records: serde_json::from_value(r.json(7)?).unwrap_or_default(),
            })
        })
        .collect()
}
