//! Inbound webhooks: a URL per hook (`POST /api/v1/hooks/{id}`) where an outside system sends
//! its changes, authenticated by a Standard Webhooks signature (`webhook-id`,
//! `webhook-timestamp`, `webhook-signature` under the hook's `whsec_` secret; a `webhook-id`
//! seen before is answered again, not written twice) or a bearer token. Its JSON (an object or
//! an array of up to 100) is mapped into record upserts of one object — each field from a JSON
//! pointer, optionally translated through the semantic dictionary — on the one write path,
//! source `integration`, all or nothing (`receive`). Every request is logged; a bad payload
//! gets a 4xx with a code and is kept for inspection.

pub mod receive;

use crate::owned::Table;
use crate::webhooks::signing;
use chrono::{DateTime, Utc};
use rapport_core::codes::ErrorCode;
use rapport_core::metadata::FieldType;
use rapport_core::sql::{ColumnKind, SqlParam};
use rapport_store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use utoipa::ToSchema;

/// The most inbound hooks one workspace keeps.
pub const MAX_HOOKS: usize = 50;

/// How a sender proves it is the one the hook expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HookAuth {
    /// A Standard Webhooks signature under the hook's `whsec_` secret.
    StandardWebhooks,
    /// `Authorization: Bearer <the hook's secret>`.
    Token,
}

impl HookAuth {
    fn as_str(self) -> &'static str {
        match self {
            HookAuth::StandardWebhooks => "standard_webhooks",
            HookAuth::Token => "token",
        }
    }

    fn parse(text: &str) -> Self {
        if text == "token" {
            HookAuth::Token
        } else {
            HookAuth::StandardWebhooks
        }
    }
}

/// An inbound hook as admins see it (its secret only when made or rotated).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Hook {
    pub id: String,
    pub name: String,
    /// Where senders post: `/api/v1/hooks/{id}` under Rapport's address.
    pub path: String,
    pub object: String,
    pub auth: HookAuth,
    /// The field whose value finds the record to update; none: every item creates a record.
    pub match_field: Option<String>,
    /// Record field → JSON pointer into an item, optionally `| map:<system>`.
    #[schema(value_type = Object)]
    pub mapping: Map<String, Json>,
    pub enabled: bool,
    pub last_received_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What an admin sends to create a hook or change one.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "ERP 发货回传", "object": "deal", "auth": "standard_webhooks", "match_field": "erp_order_no", "mapping": {"erp_order_no": "/orderNo", "order_status": "/status | map:ERP"}}))]
pub struct HookInput {
    pub name: String,
    pub object: String,
    #[serde(default = "standard")]
    pub auth: HookAuth,
    #[serde(default)]
    pub match_field: Option<String>,
    #[schema(value_type = Object)]
    pub mapping: Map<String, Json>,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

fn standard() -> HookAuth {
    HookAuth::StandardWebhooks
}

fn enabled_by_default() -> bool {
    true
}

/// A hook's secret, shown when it is made or rotated.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HookSecret {
    pub secret: String,
}

fn invalid(message: impl Into<String>) -> StoreError {
    StoreError::bad_request(ErrorCode::InvalidInboundHook, message)
}

async fn check(store: &Store, workspace_id: &str, input: &HookInput) -> Result<(), StoreError> {
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(invalid("a hook's name is 1 to 100 characters"));
    }
    let principal = store.system_principal(workspace_id).await?;
    let schema = store
        .schema(workspace_id, principal.metadata_version)
        .await?;
    let object = schema
        .object(&input.object)
        .ok_or_else(|| invalid(format!("there is no object {:?}", input.object)))?;
    if input.mapping.is_empty() || input.mapping.len() > 200 {
        return Err(invalid("a mapping names 1 to 200 fields"));
    }
    for (field, source) in &input.mapping {
        if object.active_field(field).is_none() {
            return Err(invalid(format!("{} has no field {field:?}", input.object)));
        }
        let source = source
            .as_str()
            .ok_or_else(|| invalid(format!("{field}: a source is a JSON pointer text")))?;
        let (pointer, filter) = receive::split_source(source);
        if !(pointer.is_empty() || pointer.starts_with('/')) {
            return Err(invalid(format!(
                "{field}: {pointer:?} is not a JSON pointer (\"/orderNo\")"
            )));
        }
        if filter.is_some_and(|f| !f.starts_with("map:")) {
            return Err(invalid(format!("{field}: the only filter is map:<system>")));
        }
    }
    if let Some(field) = &input.match_field {
        let def = object
            .active_field(field)
            .ok_or_else(|| invalid(format!("{} has no field {field:?}", input.object)))?;
        if !matches!(
            def.field_type,
            FieldType::Text | FieldType::Email | FieldType::Phone
        ) {
            return Err(invalid("the match field is a text, email or phone field"));
        }
        if !input.mapping.contains_key(field) {
            return Err(invalid("the match field must be mapped"));
        }
    }
    Ok(())
}

const TABLE: Table = Table {
    name: "inbound_hooks",
    columns: "id, name, object, auth, match_field, mapping, enabled, last_received_at, \
              created_at, updated_at",
    kinds: &KINDS,
    what: "inbound hook",
};
const KINDS: [ColumnKind; 10] = [
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Json,
    ColumnKind::Bool,
    ColumnKind::Timestamp,
    ColumnKind::Timestamp,
    ColumnKind::Timestamp,
];

fn decode(row: &rapport_store::Row) -> Result<Hook, StoreError> {
    let id = row.text(0)?;
    Ok(Hook {
        path: format!("/api/v1/hooks/{id}"),
        id,
        name: row.text(1)?,
        object: row.text(2)?,
        auth: HookAuth::parse(&row.text(3)?),
        match_field: row.opt_text(4)?,
        mapping: match row.json(5)? {
            Json::Object(map) => map,
            _ => Map::new(),
        },
        enabled: row.bool(6)?,
        last_received_at: row.opt_timestamp(7)?,
        created_at: row.timestamp(8)?,
        updated_at: row.timestamp(9)?,
    })
}

pub async fn list(store: &Store, workspace_id: &str) -> Result<Vec<Hook>, StoreError> {
    let rows = TABLE.all(store, workspace_id, "created_at, id").await?;
    rows.iter().map(decode).collect()
}

pub async fn get(store: &Store, workspace_id: &str, id: &str) -> Result<Hook, StoreError> {
    decode(&TABLE.one(store, workspace_id, id).await?)
}

fn context(id: &str) -> String {
    format!("inbound_hook:{id}")
}

fn new_secret(auth: HookAuth) -> String {
    match auth {
        HookAuth::StandardWebhooks => signing::new_secret(),
        HookAuth::Token => signing::new_secret().replacen("whsec_", "rtok_", 1),
    }
}

/// Creates a hook with a new secret; answers it and the secret (shown this once).
pub async fn create(
    store: &Store,
    workspace_id: &str,
    input: HookInput,
) -> Result<(Hook, HookSecret), StoreError> {
    check(store, workspace_id, &input).await?;
    if list(store, workspace_id).await?.len() >= MAX_HOOKS {
        return Err(invalid(format!(
            "a workspace has at most {MAX_HOOKS} inbound hooks"
        )));
    }
    let id = uuid::Uuid::now_v7().to_string();
    let secret = new_secret(input.auth);
    let now = store.now();
    let m: Vec<String> = (1..=11).map(|n| store.ph(n)).collect();
    store
        .db
        .execute(
            &format!(
                "INSERT INTO inbound_hooks (id, workspace_id, name, object, auth, match_field, \
                 mapping, enabled, secret, created_at, updated_at) VALUES ({})",
                m.join(", ")
            ),
            &[
                SqlParam::Text(id.clone()),
                SqlParam::Text(workspace_id.into()),
                SqlParam::Text(input.name.trim().into()),
                SqlParam::Text(input.object),
                SqlParam::Text(input.auth.as_str().into()),
                input
                    .match_field
                    .map_or(SqlParam::NullOf(ColumnKind::Text), SqlParam::Text),
                SqlParam::Json(Json::Object(input.mapping)),
                SqlParam::Bool(input.enabled),
                SqlParam::Text(store.sealer().seal(&context(&id), secret.as_bytes())),
                SqlParam::Timestamp(now),
                SqlParam::Timestamp(now),
            ],
        )
        .await?;
    Ok((get(store, workspace_id, &id).await?, HookSecret { secret }))
}

/// Replaces a hook's settings; its secret stays (a change of `auth` needs a rotation).
pub async fn update(
    store: &Store,
    workspace_id: &str,
    id: &str,
    input: HookInput,
) -> Result<Hook, StoreError> {
    let current = get(store, workspace_id, id).await?;
    if current.auth != input.auth {
        return Err(invalid(
            "auth does not change in place: make a new hook for the other kind of secret",
        ));
    }
    check(store, workspace_id, &input).await?;
    let m: Vec<String> = (1..=8).map(|n| store.ph(n)).collect();
    store
        .db
        .execute(
            &format!(
                "UPDATE inbound_hooks SET name = {}, object = {}, match_field = {}, mapping = {}, \
                 enabled = {}, updated_at = {} WHERE workspace_id = {} AND id = {}",
                m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7]
            ),
            &[
                SqlParam::Text(input.name.trim().into()),
                SqlParam::Text(input.object),
                input
                    .match_field
                    .map_or(SqlParam::NullOf(ColumnKind::Text), SqlParam::Text),
                SqlParam::Json(Json::Object(input.mapping)),
                SqlParam::Bool(input.enabled),
                SqlParam::Timestamp(store.now()),
                SqlParam::Text(workspace_id.into()),
                SqlParam::Text(id.into()),
            ],
        )
        .await?;
    get(store, workspace_id, id).await
}

pub async fn delete(store: &Store, workspace_id: &str, id: &str) -> Result<(), StoreError> {
    let mut tx = store.db.begin().await?;
    TABLE.delete(store, &mut tx, workspace_id, id).await?;
    tx.commit().await
}

/// A new secret for the hook; the old one stops working at once.
pub async fn rotate_secret(
    store: &Store,
    workspace_id: &str,
    id: &str,
) -> Result<HookSecret, StoreError> {
    let hook = get(store, workspace_id, id).await?;
    let secret = new_secret(hook.auth);
    store
        .db
        .execute(
            &format!(
                "UPDATE inbound_hooks SET secret = {}, updated_at = {} WHERE workspace_id = {} AND id = {}",
                store.ph(1),
                store.ph(2),
                store.ph(3),
                store.ph(4)
            ),
            &[
                SqlParam::Text(store.sealer().seal(&context(id), secret.as_bytes())),
                SqlParam::Timestamp(store.now()),
                SqlParam::Text(workspace_id.into()),
                SqlParam::Text(id.into()),
            ],
        )
        .await?;
    Ok(HookSecret { secret })
}
