//! Sending through a connector: the [`Message`] a caller gives, its variables (the record's
//! values, the parameters), the kind's send, and the log of every send (`connector_messages`).
//! A test send runs now and answers what happened; a queued send is a job of the
//! `connectors` queue, tried again with backoff while the failure is temporary (no answer,
//! 5xx, 429, a provider's rate limit) and ended `failed` when it is not (refused credentials,
//! a bad template).

use super::kinds::{Channel, ConnectorKind};
use super::{render, Opened};
use crate::dictionary::{self, Direction, Translator};
use crate::owned::Table;
use chrono::{DateTime, Utc};
use rapport_core::codes::ErrorCode;
use rapport_core::sql::{ColumnKind, SqlParam};
use rapport_store::jobs::{self, NewJob};
use rapport_store::jobs::{JobCtx, JobError, QueueConfig};
use rapport_store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value as Json};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use utoipa::ToSchema;

/// The job queue of connector sends.
pub const QUEUE: &str = "connectors";
/// The job kind of one send.
pub const SEND: &str = "connector.send";
/// Attempts of a queued send before it ends `failed` (about a day with the runner's backoff).
pub const MAX_ATTEMPTS: i32 = 30;
/// How long one call waits for an answer.
pub const TIMEOUT: Duration = Duration::from_secs(15);
/// The most of a request or an answer the log keeps.
const LOGGED: usize = 1024;

pub fn queue(concurrency: usize) -> QueueConfig {
    QueueConfig::new(QUEUE, concurrency)
}

/// What to send. `subject` and `text` are templates (`{{record.name}}`, `{{params.code}}`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"to": ["+8613800138000"], "template": "SMS_154950909", "params": {"code": "4821"}}))]
pub struct Message {
    /// Email addresses (email), phone numbers (SMS), mobiles to @ (chat robots).
    #[serde(default)]
    pub to: Vec<String>,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub text: String,
    /// Chat robots: send `text` as markdown.
    #[serde(default)]
    pub markdown: bool,
    /// SMS: the provider's template (Aliyun `SMS_…`, Tencent's template id).
    #[serde(default)]
    pub template: Option<String>,
    /// SMS template parameters (Tencent's in key order); `{{params.<key>}}` in templates.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub params: Map<String, Json>,
    /// `{{record.<field>}}` comes from this record; an HTTP connector's response mapping
    /// writes into it.
    #[serde(default)]
    pub record: Option<RecordRef>,
    /// `zh-CN` or `en`: picks `translations[locale]` when there is one.
    #[serde(default)]
    pub locale: Option<String>,
    /// Subject and text in other languages, by locale.
    #[serde(default)]
    pub translations: std::collections::BTreeMap<String, Translation>,
    /// Email: a receipt or a password reset, sent even to addresses that unsubscribed and
    /// without an unsubscribe link.
    #[serde(default)]
    pub transactional: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordRef {
    pub object: String,
    pub id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Translation {
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub text: String,
}

/// A message with its templates rendered, as a kind sends it.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub markdown: bool,
    pub template: Option<String>,
    pub params: Map<String, Json>,
    pub transactional: bool,
    pub record: Option<RecordRef>,
    /// Every variable, for a kind's own templates (an HTTP body, an SMS gateway's body).
    pub vars: Map<String, Json>,
    /// The semantic dictionary's mappings the templates name (`map:<system>`), for the
    /// record's object.
    translators: Vec<Translator>,
    /// Where a value without a mapping was met, for the dictionary's page.
    context: String,
}

impl Prepared {
    /// `template` (the one named `what`) rendered with the message's variables, its `map:`
    /// filters translated through the semantic dictionary. A value without a mapping is
    /// recorded and fails the send for good.
    pub async fn render(
        &self,
        store: &Store,
        what: &str,
        template: &str,
        escape: render::Escape,
    ) -> Result<String, Failed> {
        let missed = std::sync::Mutex::new(None);
        let filter = |name: &str, filter: &str, value: &Json| -> Result<Json, String> {
            let system = filter
                .strip_prefix("map:")
                .map(str::trim)
                .ok_or_else(|| format!("unknown filter {filter:?}"))?;
            let field = name
                .strip_prefix("record.")
                .ok_or_else(|| format!("map: translates record fields, not {name}"))?;
            let translator = self
                .translators
                .iter()
                .find(|t| t.system() == system)
                .ok_or_else(|| format!("map:{system} needs the message's record"))?;
            if value.is_null() {
                return Ok(Json::Null);
            }
            match translator.translate(Direction::Outbound, field, &render::text_of(value)) {
                Ok(code) => Ok(Json::String(code)),
                Err(miss) => {
                    let reason = miss.reason(system, translator.object());
                    if let Ok(mut slot) = missed.lock() {
                        *slot = Some(miss);
                    }
                    Err(reason)
                }
            }
        };
        let rendered = render::render_with(template, &self.vars, escape, &filter);
        let missed = missed.lock().ok().and_then(|mut slot| slot.take());
        match rendered {
            Ok(text) => Ok(text),
            Err(e) => {
                let Some(miss) = missed else {
                    return Err(Failed::permanent(format!("{what}: {e}")));
                };
                if let Err(error) = dictionary::record_miss(store, &miss, &self.context).await {
                    tracing::warn!("recording an unmapped value: {error}");
                }
                Err(Failed::refused(format!("{what}: {e}")))
            }
        }
    }
}

/// The systems the texts' `map:` filters name.
fn systems_named<'a>(texts: impl Iterator<Item = &'a str>) -> BTreeSet<String> {
    let mut systems = BTreeSet::new();
    for text in texts {
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else { break };
            if let Some((_, filter)) = after[..end].split_once('|') {
                if let Some(system) = filter.trim().strip_prefix("map:") {
                    systems.insert(system.trim().to_string());
                }
            }
            rest = &after[end + 2..];
        }
    }
    systems
}

/// A send that was answered as done.
#[derive(Debug, Clone, Default)]
pub struct Sent {
    /// What was sent, credentials left out.
    pub request: String,
    pub status: Option<i64>,
    pub response: String,
    /// The answer parsed as JSON (an HTTP connector maps values back from it).
    pub answer: Option<Json>,
}

/// A send that did not happen, and whether trying again could help.
#[derive(Debug, Clone, Default)]
pub struct Failed {
    pub transient: bool,
    /// Stopped on purpose before sending (a pre-check, the semantic dictionary).
    pub refused: bool,
    pub reason: String,
    pub request: String,
    pub status: Option<i64>,
    pub response: String,
}

impl Failed {
    pub fn permanent(reason: impl Into<String>) -> Self {
        Failed {
            reason: reason.into(),
            ..Default::default()
        }
    }

    pub fn refused(reason: impl Into<String>) -> Self {
        Failed {
            refused: true,
            reason: reason.into(),
            ..Default::default()
        }
    }
}

pub type Outcome = Result<Sent, Failed>;

/// How a send ended, as the log shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SendState {
    /// Waiting for its (next) attempt.
    Queued,
    Sent,
    /// Failed for good (or after its last attempt).
    Failed,
    /// Stopped before anything was sent: a pre-check said no, or a value had no mapping in
    /// the semantic dictionary. The caller's error path takes over (a task, an approval, a
    /// workflow branch).
    Refused,
}

impl SendState {
    fn as_str(self) -> &'static str {
        match self {
            SendState::Queued => "queued",
            SendState::Sent => "sent",
            SendState::Failed => "failed",
            SendState::Refused => "refused",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "sent" => SendState::Sent,
            "failed" => SendState::Failed,
            "refused" => SendState::Refused,
            _ => SendState::Queued,
        }
    }
}

/// One send in the log.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SendLog {
    pub id: String,
    pub connector_id: String,
    /// A test from the connector's page (sent at once, not queued).
    pub test: bool,
    pub state: SendState,
    pub attempts: i64,
    pub message: Message,
    /// What was sent (credentials left out), the first KB.
    pub request: String,
    pub status: Option<i64>,
    /// What came back, the first KB.
    pub response: String,
    pub error: Option<String>,
    pub latency_ms: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

fn shorten(text: &str) -> String {
    if text.len() <= LOGGED {
        return text.to_string();
    }
    let mut end = LOGGED;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// Checks a message against its connector's kind before it is logged or queued.
fn check(kind: ConnectorKind, message: &Message) -> Result<(), StoreError> {
    let bad = |m: String| StoreError::bad_request(ErrorCode::InvalidMessage, m);
    if message.to.len() > 100 || message.to.iter().any(|t| t.is_empty() || t.len() > 254) {
        return Err(bad("to is at most 100 addresses or numbers".into()));
    }
    let size = serde_json::to_string(message).map_or(usize::MAX, |s| s.len());
    if size > render::MAX_TEMPLATE {
        return Err(bad(format!(
            "a message is at most {} KB",
            render::MAX_TEMPLATE / 1024
        )));
    }
    match kind.channel() {
        Channel::Email => {
            if message.to.is_empty() || message.subject.trim().is_empty() {
                return Err(bad("an email needs to and a subject".into()));
            }
            if let Some(bad_address) = message.to.iter().find(|a| super::smtp::mailbox(a).is_err())
            {
                return Err(bad(format!("{bad_address:?} is not an email address")));
            }
        }
        Channel::Sms => {
            if message.to.is_empty() {
                return Err(bad("a text message needs to".into()));
            }
            if kind != ConnectorKind::SmsHttp && message.template.is_none() {
                return Err(bad(format!(
                    "{} sends a provider template: give template",
                    kind.as_str()
                )));
            }
        }
        Channel::Chat => {
            if message.text.trim().is_empty() {
                return Err(bad("a chat message needs text".into()));
            }
        }
        Channel::Http => {}
    }
    Ok(())
}

/// The message's variables, its templates rendered, the language picked.
async fn prepare(store: &Store, connector: &Opened, message: &Message) -> Result<Prepared, Failed> {
    let workspace_id = connector.workspace_id.as_str();
    let mut vars = Map::new();
    vars.insert("to".into(), Json::String(message.to.join(", ")));
    vars.insert("params".into(), Json::Object(message.params.clone()));
    vars.insert("now".into(), Json::String(store.now().to_rfc3339()));
    vars.insert(
        "locale".into(),
        Json::String(message.locale.clone().unwrap_or_else(|| "zh-CN".into())),
    );
    if let Some(record) = &message.record {
        vars.insert(
            "record".into(),
            record_values(store, workspace_id, record).await?,
        );
    }
    let (subject, text) = match message
        .locale
        .as_ref()
        .and_then(|l| message.translations.get(l))
    {
        Some(t) => (t.subject.as_str(), t.text.as_str()),
        None => (message.subject.as_str(), message.text.as_str()),
    };
    let settings = connector
        .connector
        .settings
        .values()
        .filter_map(Json::as_str)
        .chain([subject, text]);
    let mut translators = Vec::new();
    if let Some(record) = &message.record {
        for system in systems_named(settings) {
            translators.push(
                Translator::load(store, workspace_id, &system, &record.object)
                    .await
                    .map_err(|e| Failed {
                        transient: e.transience().is_some(),
                        reason: e.to_string(),
                        ..Default::default()
                    })?,
            );
        }
    }
    let mut prepared = Prepared {
        to: message.to.clone(),
        subject: String::new(),
        text: String::new(),
        markdown: message.markdown,
        template: message.template.clone(),
        params: message.params.clone(),
        transactional: message.transactional,
        record: message.record.clone(),
        vars,
        translators,
        context: format!("connector {}", connector.connector.name),
    };
    prepared.subject = prepared
        .render(store, "subject", subject, render::Escape::Plain)
        .await?;
    prepared.text = prepared
        .render(store, "text", text, render::Escape::Plain)
        .await?;
    prepared
        .vars
        .insert("subject".into(), Json::String(prepared.subject.clone()));
    prepared
        .vars
        .insert("text".into(), Json::String(prepared.text.clone()));
    Ok(prepared)
}

/// A record's values by field name, as the API shows them, with its id.
async fn record_values(
    store: &Store,
    workspace_id: &str,
    record: &RecordRef,
) -> Result<Json, Failed> {
    let failed = |e: StoreError| Failed {
        transient: e.transience().is_some(),
        reason: format!("record {}/{}: {e}", record.object, record.id),
        ..Default::default()
    };
    let principal = store.system_principal(workspace_id).await.map_err(failed)?;
    let schema = store
        .schema(workspace_id, principal.metadata_version)
        .await
        .map_err(failed)?;
    let found = store
        .get_record(&principal, &schema, &record.object, &record.id, false)
        .await
        .map_err(failed)?;
    let mut values = Map::new();
    values.insert("id".into(), Json::String(found.id.clone()));
    if let Some(def) = schema.object(&record.object) {
        for (name, value) in &found.values {
            if let Some(field) = def.active_field(name) {
                values.insert(name.clone(), rapport_core::value::to_json(field, value));
            }
        }
    }
    Ok(Json::Object(values))
}

/// Sends `message` through `connector` now.
async fn dispatch(store: &Store, connector: &Opened, message: &Message) -> Outcome {
    if !connector.connector.enabled {
        return Err(Failed::permanent("the connector is switched off"));
    }
    let prepared = prepare(store, connector, message).await?;
    match connector.connector.kind {
        ConnectorKind::Smtp => super::smtp::send(store, connector, &prepared).await,
        ConnectorKind::SmsHttp => super::sms::send_http(store, connector, &prepared).await,
        ConnectorKind::SmsAliyun => super::sms::send_aliyun(store, connector, &prepared).await,
        ConnectorKind::SmsTencent => super::sms::send_tencent(store, connector, &prepared).await,
        ConnectorKind::WecomRobot => super::robots::send_wecom(store, connector, &prepared).await,
        ConnectorKind::DingtalkRobot => {
            super::robots::send_dingtalk(store, connector, &prepared).await
        }
        ConnectorKind::FeishuBot => super::robots::send_feishu(store, connector, &prepared).await,
        ConnectorKind::Http => super::http::send(store, connector, &prepared).await,
    }
}

/// One HTTP exchange for a kind: the status and the answer's body (its first 64 KB). No
/// answer in time, a refused connection, 5xx and 429 are temporary; `shown` is the request
/// as the log keeps it.
pub(crate) async fn exchange(
    request: reqwest::RequestBuilder,
    shown: &str,
) -> Result<(i64, String), Failed> {
    let transient = |reason: String| Failed {
        transient: true,
        reason,
        request: shorten(shown),
        ..Default::default()
    };
    let answer = request
        .timeout(TIMEOUT)
        .send()
        .await
        .map_err(|e| transient(describe(&e)))?;
    let status = i64::from(answer.status().as_u16());
    let mut body = Vec::new();
    let mut stream = answer;
    while let Some(chunk) = stream.chunk().await.map_err(|e| transient(describe(&e)))? {
        body.extend_from_slice(&chunk);
        if body.len() > 64 * 1024 {
            break;
        }
    }
    let text = String::from_utf8_lossy(&body).into_owned();
    if status == 429 || status >= 500 {
        return Err(Failed {
            refused: false,
            transient: true,
            reason: format!("answered {status}"),
            request: shorten(shown),
            status: Some(status),
            response: shorten(&text),
        });
    }
    if !(200..300).contains(&status) {
        return Err(Failed {
            refused: false,
            transient: false,
            reason: format!("answered {status}"),
            request: shorten(shown),
            status: Some(status),
            response: shorten(&text),
        });
    }
    Ok((status, text))
}

/// A transport error in a few words (no URL: it may carry a token).
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        format!("no answer within {} s", TIMEOUT.as_secs())
    } else if error.is_connect() {
        "could not connect".into()
    } else {
        // Without the URL, which may hold a token.
        let mut text = error.to_string();
        if let Some(url) = error.url() {
            text = text.replace(url.as_str(), "…");
        }
        text
    }
}

/// A provider's answer that came back 2xx: `ok` when its own code says done; else a failure
/// whose `transient` says whether the provider asked to slow down.
pub(crate) fn judged(
    shown: &str,
    status: i64,
    text: String,
    ok: bool,
    transient: bool,
    reason: impl FnOnce() -> String,
) -> Outcome {
    let answer = serde_json::from_str(&text).ok();
    if ok {
        Ok(Sent {
            request: shorten(shown),
            status: Some(status),
            response: shorten(&text),
            answer,
        })
    } else {
        Err(Failed {
            refused: false,
            transient,
            reason: reason(),
            request: shorten(shown),
            status: Some(status),
            response: shorten(&text),
        })
    }
}

/// A URL as the log shows it: every query value and the given path segments hidden.
pub(crate) fn shown_url(url: &reqwest::Url, hide_last_segment: bool) -> String {
    let mut shown = url.clone();
    let names: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
    if names.is_empty() {
        shown.set_query(None);
    } else {
        let hidden: Vec<String> = names.iter().map(|k| format!("{k}=…")).collect();
        shown.set_query(Some(&hidden.join("&")));
    }
    if hide_last_segment {
        if let Ok(mut segments) = shown.path_segments_mut() {
            segments.pop().push("…");
        }
    }
    shown.to_string()
}

const COLUMNS: &str = "id, connector_id, test, state, attempts, message, request, status, \
                       response, error, latency_ms, created_at, finished_at";
const TABLE: Table = Table {
    name: "connector_messages",
    columns: COLUMNS,
    kinds: &KINDS,
    what: "connector message",
};
const KINDS: [ColumnKind; 13] = [
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Bool,
    ColumnKind::Text,
    ColumnKind::Int,
    ColumnKind::Json,
    ColumnKind::Text,
    ColumnKind::Int,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Int,
    ColumnKind::Timestamp,
    ColumnKind::Timestamp,
];

fn decode(row: &rapport_store::Row) -> Result<SendLog, StoreError> {
    Ok(SendLog {
        id: row.text(0)?,
        connector_id: row.text(1)?,
        test: row.bool(2)?,
        state: SendState::parse(&row.text(3)?),
        attempts: row.int(4)?,
        message: serde_json::from_value(row.json(5)?).unwrap_or_default(),
        request: row.text(6)?,
        status: row.opt_int(7)?,
        response: row.text(8)?,
        error: row.opt_text(9)?,
        latency_ms: row.opt_int(10)?,
        created_at: row.timestamp(11)?,
        finished_at: row.opt_timestamp(12)?,
    })
}

async fn log_row(store: &Store, workspace_id: &str, id: &str) -> Result<SendLog, StoreError> {
    decode(&TABLE.one(store, workspace_id, id).await?)
}

/// A connector's sends, newest first.
pub async fn log(
    store: &Store,
    workspace_id: &str,
    connector_id: &str,
    limit: i64,
) -> Result<Vec<SendLog>, StoreError> {
    let rows = store
        .db
        .fetch_all(
            &format!(
                "SELECT {COLUMNS} FROM connector_messages WHERE workspace_id = {} AND connector_id = {} \
                 ORDER BY created_at DESC, id DESC LIMIT {}",
                store.ph(1),
                store.ph(2),
                limit.clamp(1, 200)
            ),
            &[
                SqlParam::Text(workspace_id.into()),
                SqlParam::Text(connector_id.into()),
            ],
            &KINDS,
        )
        .await?;
    rows.iter().map(decode).collect()
}

async fn insert(
    tx: &mut rapport_store::Tx,
    store: &Store,
    workspace_id: &str,
    connector_id: &str,
    message: &Message,
    test: bool,
) -> Result<String, StoreError> {
    let id = uuid::Uuid::now_v7().to_string();
    let m: Vec<String> = (1..=6).map(|n| store.ph(n)).collect();
    tx.execute(
        &format!(
            "INSERT INTO connector_messages (id, workspace_id, connector_id, test, message, \
             created_at, state, attempts, request, response) VALUES ({}, 'queued', 0, '', '')",
            m.join(", ")
        ),
        &[
            SqlParam::Text(id.clone()),
            SqlParam::Text(workspace_id.into()),
            SqlParam::Text(connector_id.into()),
            SqlParam::Bool(test),
            SqlParam::Json(serde_json::to_value(message).unwrap_or_default()),
            SqlParam::Timestamp(store.now()),
        ],
    )
    .await?;
    Ok(id)
}

/// One send's log row.
struct Entry<'a> {
    workspace_id: &'a str,
    connector_id: &'a str,
    id: &'a str,
}

/// Writes an attempt's outcome on its log row and on the connector; `end` says whether the
/// send is over (a temporary failure with attempts left keeps it queued).
async fn settle(
    tx: &mut rapport_store::Tx,
    store: &Store,
    entry: &Entry<'_>,
    outcome: &Outcome,
    latency: Duration,
    end: bool,
) -> Result<(), StoreError> {
    let Entry {
        workspace_id,
        connector_id,
        id,
    } = *entry;
    let now = store.now();
    let (state, request, status, response, error) = match outcome {
        Ok(sent) => (
            SendState::Sent,
            &sent.request,
            sent.status,
            &sent.response,
            None,
        ),
        Err(failed) => (
            if failed.refused {
                SendState::Refused
            } else if end {
                SendState::Failed
            } else {
                SendState::Queued
            },
            &failed.request,
            failed.status,
            &failed.response,
            Some(failed.reason.clone()),
        ),
    };
    let m: Vec<String> = (1..=10).map(|n| store.ph(n)).collect();
    tx.execute(
        &format!(
            "UPDATE connector_messages SET state = {}, attempts = attempts + 1, request = {}, \
             status = {}, response = {}, error = {}, latency_ms = {}, finished_at = {} \
             WHERE workspace_id = {} AND id = {}",
            m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8]
        ),
        &[
            SqlParam::Text(state.as_str().into()),
            SqlParam::Text(request.clone()),
            status.map_or(SqlParam::NullOf(ColumnKind::Int), SqlParam::Int),
            SqlParam::Text(response.clone()),
            error
                .clone()
                .map_or(SqlParam::NullOf(ColumnKind::Text), SqlParam::Text),
            SqlParam::Int(i64::try_from(latency.as_millis()).unwrap_or(i64::MAX)),
            if state == SendState::Queued {
                SqlParam::NullOf(ColumnKind::Timestamp)
            } else {
                SqlParam::Timestamp(now)
            },
            SqlParam::Text(workspace_id.into()),
            SqlParam::Text(id.into()),
        ],
    )
    .await?;
    tx.execute(
        &format!(
            "UPDATE connectors SET last_sent_at = {}, last_error = {} WHERE workspace_id = {} AND id = {}",
            store.ph(1),
            store.ph(2),
            store.ph(3),
            store.ph(4)
        ),
        &[
            SqlParam::Timestamp(now),
            error.map_or(SqlParam::NullOf(ColumnKind::Text), SqlParam::Text),
            SqlParam::Text(workspace_id.into()),
            SqlParam::Text(connector_id.into()),
        ],
    )
    .await?;
    Ok(())
}

/// Sends `message` now and answers its log entry (sent or failed, with the provider's
/// answer): the connector page's "send test".
pub async fn test(
    store: &Store,
    workspace_id: &str,
    connector_id: &str,
    message: Message,
) -> Result<SendLog, StoreError> {
    let connector = super::open(store, workspace_id, connector_id).await?;
    check(connector.connector.kind, &message)?;
    let mut tx = store.db.begin().await?;
    let id = insert(&mut tx, store, workspace_id, connector_id, &message, true).await?;
    tx.commit().await?;
    let started = Instant::now();
    let outcome = dispatch(store, &connector, &message).await;
    let outcome = match outcome {
        Ok(sent) => super::http::map_back(store, &connector, &message, sent).await,
        failed => failed,
    };
    let mut tx = store.db.begin().await?;
    let entry = Entry {
        workspace_id,
        connector_id,
        id: &id,
    };
    settle(&mut tx, store, &entry, &outcome, started.elapsed(), true).await?;
    tx.commit().await?;
    log_row(store, workspace_id, &id).await
}

/// Queues `message` for sending through the connector; answers its log entry (`queued`).
pub async fn enqueue(
    store: &Store,
    workspace_id: &str,
    connector_id: &str,
    message: Message,
) -> Result<SendLog, StoreError> {
    let connector = super::get(store, workspace_id, connector_id).await?;
    check(connector.kind, &message)?;
    let mut tx = store.db.begin().await?;
    let id = insert(&mut tx, store, workspace_id, connector_id, &message, false).await?;
    jobs::enqueue(
        store,
        &mut tx,
        &[NewJob::new(QUEUE, SEND, json!({"message_id": id}))
            .workspace(workspace_id)
            .max_attempts(MAX_ATTEMPTS)],
    )
    .await?;
    tx.commit().await?;
    jobs::wake(store);
    log_row(store, workspace_id, &id).await
}

/// The job handler of a queued send; `metrics` count its attempts.
pub async fn run(
    ctx: JobCtx,
    metrics: std::sync::Arc<super::health::Metrics>,
) -> Result<(), JobError> {
    let store = ctx.store().clone();
    let workspace_id = ctx
        .job
        .workspace_id
        .clone()
        .ok_or_else(|| JobError::permanent("a connector send belongs to a workspace"))?;
    let id = match ctx.job.payload["message_id"].as_str() {
        Some(id) => id.to_string(),
        None => return Err(JobError::permanent("no message_id")),
    };
    let entry = match log_row(&store, &workspace_id, &id).await {
        Ok(entry) => entry,
        Err(StoreError::NotFound { .. }) => return ctx.complete(ctx.begin().await?).await,
        Err(e) => return Err(e.into()),
    };
    if entry.state != SendState::Queued {
        return ctx.complete(ctx.begin().await?).await;
    }
    let gave_up = store.now() - entry.created_at > super::breaker::GIVE_UP_AFTER;
    if !gave_up {
        if let super::breaker::Gate::Wait(until) =
            super::breaker::gate(&store, &entry.connector_id).await?
        {
            // The breaker is open: this send waits its turn without using an attempt, and its
            // queue slot goes to other connectors' sends now.
            let mut tx = ctx.begin().await?;
            jobs::enqueue(
                &store,
                &mut tx,
                &[NewJob::new(QUEUE, SEND, json!({"message_id": id}))
                    .workspace(&workspace_id)
                    .max_attempts(MAX_ATTEMPTS)
                    .run_at(until)],
            )
            .await?;
            return ctx.complete(tx).await;
        }
    }
    let started = Instant::now();
    let mut kind = None;
    let outcome = if gave_up {
        Err(Failed::permanent(
            "given up: the destination did not take it within 3 days",
        ))
    } else {
        match super::open(&store, &workspace_id, &entry.connector_id).await {
            Ok(connector) => {
                kind = Some(connector.connector.kind);
                match dispatch(&store, &connector, &entry.message).await {
                    Ok(sent) => {
                        super::http::map_back(&store, &connector, &entry.message, sent).await
                    }
                    failed => failed,
                }
            }
            Err(StoreError::NotFound { .. }) => Err(Failed::permanent("the connector was deleted")),
            Err(e) => Err(Failed {
                transient: true,
                reason: e.to_string(),
                ..Default::default()
            }),
        }
    };
    let last = ctx.job.attempt >= ctx.job.max_attempts;
    let retry = matches!(&outcome, Err(f) if f.transient) && !last;
    let ended = match &outcome {
        Ok(_) => SendState::Sent,
        Err(f) if f.refused => SendState::Refused,
        Err(_) if retry => SendState::Queued,
        Err(_) => SendState::Failed,
    };
    metrics.observe(
        &entry.connector_id,
        kind,
        &outcome,
        ended,
        started.elapsed(),
    );
    let mut tx = ctx.begin().await?;
    if kind.is_some() && !matches!(&outcome, Err(f) if f.refused) {
        let temporary = matches!(&outcome, Err(f) if f.transient);
        super::breaker::observe(&mut tx, &store, &entry.connector_id, temporary).await?;
    }
    let row = Entry {
        workspace_id: &workspace_id,
        connector_id: &entry.connector_id,
        id: &id,
    };
    settle(&mut tx, &store, &row, &outcome, started.elapsed(), !retry).await?;
    if retry {
        tx.commit().await?;
        let reason = outcome.err().map(|f| f.reason).unwrap_or_default();
        return Err(JobError::retry(reason));
    }
    ctx.complete(tx).await
}
