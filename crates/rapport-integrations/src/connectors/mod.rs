//! Connectors: a workspace's configured ways of reaching people and systems outside — email
//! over SMTP (`smtp`), SMS through Aliyun, Tencent Cloud or any HTTP gateway (`sms`), the
//! WeCom, DingTalk and Feishu group robots (`robots`) and generic HTTP / ERP calls (`http`).
//! Each kind declares its settings ([`kinds`]); credentials are sealed at rest with the node's
//! key and never answered. What a connector sends is a [`Message`], rendered from templates
//! (`render`), sent now as a test or queued as a job, every send kept in a log (`send`).

pub mod breaker;
pub mod health;
pub mod http;
pub mod kinds;
pub mod render;
pub mod robots;
pub mod send;
pub mod sms;
pub mod smtp;
pub mod unsubscribe;

use crate::owned::Table;
use chrono::{DateTime, Utc};
use kinds::{ConnectorKind, FieldSpec};
use rapport_core::codes::ErrorCode;
use rapport_core::sql::{ColumnKind, SqlParam};
use rapport_store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use utoipa::ToSchema;

/// The most connectors one workspace keeps.
pub const MAX_CONNECTORS: usize = 50;

/// A connector as admins see it: its settings, and which credentials are stored (never their
/// values).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Connector {
    pub id: String,
    pub kind: ConnectorKind,
    pub name: String,
    pub description: String,
    /// The kind's settings that are not secret (host, sender, template of the body, …).
    #[schema(value_type = Object)]
    pub settings: Map<String, Json>,
    /// The credentials stored for it, by name (`password`, `access_key_secret`, …).
    pub secrets_set: Vec<String>,
    pub enabled: bool,
    /// While set, queued sends are put off until then: the breaker is open after temporary
    /// failures in a row (or a probe is under way).
    pub breaker_open_until: Option<DateTime<Utc>>,
    /// The latest send, test or not: when, and its error when it failed.
    pub last_sent_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What an admin sends to create a connector or change one. Credentials left out (or empty)
/// keep their stored value on a change; `null` removes one.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "dingtalk_robot", "name": "销售群机器人", "settings": {}, "secrets": {"access_token": "…", "signing_secret": "SEC…"}}))]
pub struct ConnectorInput {
    pub kind: ConnectorKind,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub settings: Map<String, Json>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub secrets: Map<String, Json>,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

pub(crate) fn invalid(message: impl Into<String>) -> StoreError {
    StoreError::bad_request(ErrorCode::InvalidConnector, message)
}

/// A connector with its credentials opened, as a send needs it.
#[derive(Debug, Clone)]
pub struct Opened {
    pub connector: Connector,
    pub workspace_id: String,
    secrets: Map<String, Json>,
}

impl Opened {
    /// A setting as text: the stored one, else the kind's default, else empty.
    pub fn setting(&self, key: &str) -> String {
        match self.connector.settings.get(key) {
            Some(Json::String(s)) => s.clone(),
            Some(Json::Number(n)) => n.to_string(),
            Some(Json::Bool(b)) => b.to_string(),
            _ => self
                .connector
                .kind
                .field(key)
                .and_then(|f| f.default)
                .unwrap_or_default()
                .to_string(),
        }
    }

    /// A setting holding JSON (headers, mappings); null when unset.
    pub fn setting_json(&self, key: &str) -> Json {
        self.connector
            .settings
            .get(key)
            .cloned()
            .unwrap_or(Json::Null)
    }

    /// A credential; empty when none is stored.
    pub fn secret(&self, key: &str) -> String {
        self.secrets
            .get(key)
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string()
    }
}

/// HMAC-SHA256 of `data` under `key`, as the robots, Tencent Cloud and the HTTP connector's
/// signatures use it.
pub(crate) fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    // HMAC takes a key of any length, so this never falls back.
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| <Hmac<sha2::Sha256> as Mac>::new(&Default::default()));
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn sealing_context(id: &str) -> String {
    format!("connector:{id}")
}

/// Checks the input against its kind: known settings of the right shape, required ones
/// present (credentials possibly already stored), sizes bounded.
fn check(
    store: &Store,
    input: &ConnectorInput,
    stored_secrets: &Map<String, Json>,
) -> Result<Map<String, Json>, StoreError> {
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(invalid("a connector's name is 1 to 100 characters"));
    }
    if input.description.chars().count() > 500 {
        return Err(invalid("a description is at most 500 characters"));
    }
    let kind = input.kind;
    for key in input.settings.keys().chain(input.secrets.keys()) {
        if kind.field(key).is_none() {
            let known: Vec<&str> = kind.fields().iter().map(|f| f.key).collect();
            return Err(invalid(format!(
                "{} has no setting {key:?}; its settings are {}",
                kind.as_str(),
                known.join(", ")
            )));
        }
    }
    let mut secrets = stored_secrets.clone();
    for (key, value) in &input.secrets {
        match value {
            Json::Null => {
                secrets.remove(key);
            }
            Json::String(s) if s.is_empty() => {}
            Json::String(s) if s.len() <= 4096 => {
                secrets.insert(key.clone(), Json::String(s.clone()));
            }
            _ => return Err(invalid(format!("{key} is a text of at most 4 KB"))),
        }
    }
    for field in kind.fields() {
        let given = if field.secret {
            secrets.get(field.key)
        } else {
            input.settings.get(field.key)
        };
        check_field(store, kind, field, given)?;
    }
    Ok(secrets)
}

fn check_field(
    store: &Store,
    kind: ConnectorKind,
    field: &FieldSpec,
    given: Option<&Json>,
) -> Result<(), StoreError> {
    let key = field.key;
    let empty = match given {
        None | Some(Json::Null) => true,
        Some(Json::String(s)) => s.trim().is_empty(),
        _ => false,
    };
    if empty {
        if field.required && field.default.is_none() {
            return Err(invalid(format!("{} needs {key}", kind.as_str())));
        }
        return Ok(());
    }
    let Some(value) = given else {
        return Ok(());
    };
    let text = value.as_str();
    match field.input {
        kinds::Input::Json => {
            if !(value.is_object()) || value.to_string().len() > 16 * 1024 {
                return Err(invalid(format!("{key} is a JSON object of at most 16 KB")));
            }
        }
        kinds::Input::Number => {
            let n = value
                .as_i64()
                .or_else(|| text.and_then(|t| t.trim().parse().ok()));
            if !n.is_some_and(|n| (1..=65535).contains(&n)) {
                return Err(invalid(format!("{key} is a number from 1 to 65535")));
            }
        }
        kinds::Input::Select(options) => {
            if !text.is_some_and(|t| options.contains(&t)) {
                return Err(invalid(format!("{key} is one of {}", options.join(", "))));
            }
        }
        kinds::Input::Url => {
            let url = text
                .and_then(|t| reqwest::Url::parse(t.trim()).ok())
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .ok_or_else(|| {
                    StoreError::bad_request(
                        ErrorCode::InvalidUrl,
                        format!("{key} is not an http(s) URL"),
                    )
                })?;
            store
                .outbound()
                .check_url(&url)
                .map_err(|e| StoreError::bad_request(ErrorCode::UrlNotAllowed, e.to_string()))?;
        }
        kinds::Input::Text | kinds::Input::Textarea => {
            let limit = if matches!(field.input, kinds::Input::Textarea) {
                16 * 1024
            } else {
                1024
            };
            if text.is_none_or(|t| t.len() > limit) {
                return Err(invalid(format!("{key} is a text of at most {limit} bytes")));
            }
        }
    }
    Ok(())
}

const TABLE: Table = Table {
    name: "connectors",
    columns: "id, kind, name, description, settings, secret_names, enabled, last_sent_at, \
              last_error, created_at, updated_at, workspace_id, secrets, breaker_open_until",
    kinds: &KINDS,
    what: "connector",
};
const KINDS: [ColumnKind; 14] = [
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Json,
    ColumnKind::Json,
    ColumnKind::Bool,
    ColumnKind::Timestamp,
    ColumnKind::Text,
    ColumnKind::Timestamp,
    ColumnKind::Timestamp,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Timestamp,
];

fn decode(row: &rapport_store::Row) -> Result<Connector, StoreError> {
    let id = row.text(0)?;
    let kind = ConnectorKind::parse(&row.text(1)?)
        .ok_or_else(|| StoreError::Corrupt(format!("connector {id} has an unknown kind")))?;
    let settings = match row.json(4)? {
        Json::Object(map) => map,
        _ => Map::new(),
    };
    Ok(Connector {
        id,
        kind,
        name: row.text(2)?,
        description: row.text(3)?,
        settings,
        secrets_set: serde_json::from_value(row.json(5)?).unwrap_or_default(),
        enabled: row.bool(6)?,
        last_sent_at: row.opt_timestamp(7)?,
        breaker_open_until: row.opt_timestamp(13)?,
        last_error: row.opt_text(8)?,
        created_at: row.timestamp(9)?,
        updated_at: row.timestamp(10)?,
    })
}

/// A workspace's connectors, by name.
pub async fn list(store: &Store, workspace_id: &str) -> Result<Vec<Connector>, StoreError> {
    let rows = TABLE.all(store, workspace_id, "name, id").await?;
    rows.iter().map(decode).collect()
}

/// One connector with its credentials opened.
pub async fn open(store: &Store, workspace_id: &str, id: &str) -> Result<Opened, StoreError> {
    let row = TABLE.one(store, workspace_id, id).await?;
    let connector = decode(&row)?;
    let sealed = row.text(12)?;
    let secrets = if sealed.is_empty() {
        Map::new()
    } else {
        let plain = store
            .sealer()
            .open(&sealing_context(&connector.id), &sealed)
            .map_err(|e| {
                StoreError::conflict(
                    ErrorCode::SecretKeyMismatch,
                    format!("the connector's credentials do not open: {e}"),
                )
            })?;
        serde_json::from_slice(&plain).unwrap_or_default()
    };
    Ok(Opened {
        connector,
        workspace_id: row.text(11)?,
        secrets,
    })
}

pub async fn get(store: &Store, workspace_id: &str, id: &str) -> Result<Connector, StoreError> {
    decode(&TABLE.one(store, workspace_id, id).await?)
}

fn seal(store: &Store, id: &str, secrets: &Map<String, Json>) -> String {
    if secrets.is_empty() {
        return String::new();
    }
    let plain = Json::Object(secrets.clone()).to_string();
    store.sealer().seal(&sealing_context(id), plain.as_bytes())
}

fn name_taken(e: StoreError) -> StoreError {
    match e.unique_violation() {
        Some(_) => invalid("another connector has this name"),
        None => e,
    }
}

fn secret_names(secrets: &Map<String, Json>) -> Json {
    Json::from(secrets.keys().cloned().collect::<Vec<_>>())
}

pub async fn create(
    store: &Store,
    workspace_id: &str,
    input: ConnectorInput,
) -> Result<Connector, StoreError> {
    let secrets = check(store, &input, &Map::new())?;
    if list(store, workspace_id).await?.len() >= MAX_CONNECTORS {
        return Err(invalid(format!(
            "a workspace has at most {MAX_CONNECTORS} connectors"
        )));
    }
    let id = uuid::Uuid::now_v7().to_string();
    let now = store.now();
    let marks: Vec<String> = (1..=11).map(|n| store.ph(n)).collect();
    store
        .db
        .execute(
            &format!(
                "INSERT INTO connectors (id, workspace_id, kind, name, description, settings, \
                 secrets, enabled, created_at, updated_at, secret_names) VALUES ({})",
                marks.join(", ")
            ),
            &[
                SqlParam::Text(id.clone()),
                SqlParam::Text(workspace_id.into()),
                SqlParam::Text(input.kind.as_str().into()),
                SqlParam::Text(input.name.trim().into()),
                SqlParam::Text(input.description),
                SqlParam::Json(Json::Object(input.settings)),
                SqlParam::Text(seal(store, &id, &secrets)),
                SqlParam::Bool(input.enabled),
                SqlParam::Timestamp(now),
                SqlParam::Timestamp(now),
                SqlParam::Json(secret_names(&secrets)),
            ],
        )
        .await
        .map_err(name_taken)?;
    get(store, workspace_id, &id).await
}

/// Replaces a connector's settings; credentials left out keep their stored value. Its kind
/// does not change.
pub async fn update(
    store: &Store,
    workspace_id: &str,
    id: &str,
    input: ConnectorInput,
) -> Result<Connector, StoreError> {
    let current = open(store, workspace_id, id).await?;
    if current.connector.kind != input.kind {
        return Err(invalid("a connector's kind does not change"));
    }
    let secrets = check(store, &input, &current.secrets)?;
    let m: Vec<String> = (1..=9).map(|n| store.ph(n)).collect();
    store
        .db
        .execute(
            &format!(
                "UPDATE connectors SET name = {}, description = {}, settings = {}, secrets = {}, \
                 enabled = {}, updated_at = {}, secret_names = {} WHERE workspace_id = {} AND id = {}",
                m[0], m[1], m[2], m[3], m[4], m[5], m[8], m[6], m[7]
            ),
            &[
                SqlParam::Text(input.name.trim().into()),
                SqlParam::Text(input.description),
                SqlParam::Json(Json::Object(input.settings)),
                SqlParam::Text(seal(store, id, &secrets)),
                SqlParam::Bool(input.enabled),
                SqlParam::Timestamp(store.now()),
                SqlParam::Text(workspace_id.into()),
                SqlParam::Text(id.into()),
                SqlParam::Json(secret_names(&secrets)),
            ],
        )
        .await
        .map_err(name_taken)?;
    get(store, workspace_id, id).await
}

/// Deletes a connector; its queued sends end `failed` when their turn comes.
pub async fn delete(store: &Store, workspace_id: &str, id: &str) -> Result<(), StoreError> {
    let mut tx = store.db.begin().await?;
    TABLE.delete(store, &mut tx, workspace_id, id).await?;
    tx.commit().await
}
