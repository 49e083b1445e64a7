//! The Segment HTTP tracking API's wire format: request bodies (plain or gzip), the write key,
//! the limits (32 KB an event, 500 KB a request, 2,500 events a batch) and each call turned into
//! an `Incoming` event with its corrected timestamp — or into a per-event `Rejection` that names
//! the reason, so one bad event never costs its neighbours.

use chrono::{DateTime, Utc};
use flate2::read::GzDecoder;
use rapport_core::codes::{ErrorCode, EventCode};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value as Json};
use std::io::Read;

use crate::error::CdpError;

pub const MAX_EVENT_BYTES: usize = 32 * 1024;
pub const MAX_REQUEST_BYTES: usize = 500 * 1024;
pub const MAX_BATCH_EVENTS: usize = 2_500;
/// Deeper JSON than this inside one event is rejected (`nesting_too_deep`).
pub const MAX_DEPTH: usize = 32;
/// Identifiers, message ids and event names longer than this are rejected.
pub const MAX_ID_CHARS: usize = 255;
/// Event times more than this after their arrival are rejected (`timestamp_in_future`).
pub const MAX_FUTURE_MS: i64 = 3_600_000;
/// Event times before 2000-01-01 are rejected (`timestamp_too_old`).
pub const MIN_EVENT_MS: i64 = 946_684_800_000;

/// The six Segment calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = TrackingCall)]
pub enum Kind {
    Identify,
    Track,
    Page,
    Screen,
    Group,
    Alias,
}

impl Kind {
    pub fn parse(text: &str) -> Option<Kind> {
        Some(match text {
            "identify" => Kind::Identify,
            "track" => Kind::Track,
            "page" => Kind::Page,
            "screen" => Kind::Screen,
            "group" => Kind::Group,
            "alias" => Kind::Alias,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Identify => "identify",
            Kind::Track => "track",
            Kind::Page => "page",
            Kind::Screen => "screen",
            Kind::Group => "group",
            Kind::Alias => "alias",
        }
    }
}

/// One accepted call, normalised. `body` is the event object as sent.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// Position in the request (0 for a single call).
    pub index: usize,
    pub kind: Kind,
    pub message_id: String,
    /// `event` of a track, `name` of a page or screen.
    pub name: Option<String>,
    pub user_id: Option<String>,
    pub anonymous_id: Option<String>,
    /// Event time in epoch milliseconds, after Segment's clock-skew correction.
    pub ts: i64,
    pub received_at: i64,
    pub body: Map<String, Json>,
    /// `body` as JSON text, filled in once the event is accepted (what is stored).
    pub body_text: String,
    /// Whether the event may speak for a person beyond its own device: sent by a server
    /// source, or carrying a valid identity verification (`context.userHash`). Set by the
    /// ingestion once the source is known.
    pub trusted: bool,
}

impl Incoming {
    /// The properties (track, page, screen) or traits (identify, group) the registry checks.
    pub fn payload(&self) -> Option<&Json> {
        match self.kind {
            Kind::Track | Kind::Page | Kind::Screen => self.body.get("properties"),
            // Some libraries (RudderStack) send identify traits as `context.traits`.
            Kind::Identify => self
                .body
                .get("traits")
                .filter(|t| t.as_object().is_some_and(|m| !m.is_empty()))
                .or_else(|| self.body.get("context").and_then(|c| c.get("traits")))
                .or_else(|| self.body.get("traits")),
            Kind::Group => self.body.get("traits"),
            Kind::Alias => None,
        }
    }

    /// Traits describing the person: identify's `traits`, else `context.traits`.
    pub fn person_traits(&self) -> Option<&Map<String, Json>> {
        let own = match self.kind {
            Kind::Identify => self
                .body
                .get("traits")
                .and_then(Json::as_object)
                .filter(|m| !m.is_empty()),
            _ => None,
        };
        own.or_else(|| {
            self.body
                .get("context")
                .and_then(|c| c.get("traits"))
                .and_then(Json::as_object)
        })
    }

    /// Fills `body_text` (what is stored) once the event is accepted.
    pub fn seal(&mut self) {
        // A map of JSON values always serialises.
        self.body_text = serde_json::to_string(&self.body).unwrap_or_default();
    }

    pub fn text(&self, key: &str) -> Option<String> {
        scalar_text(self.body.get(key)?)
    }

    /// The registry name of this event: the track's event name, or `$page`, `$identify`, ...
    pub fn type_name(&self) -> Option<String> {
        match self.kind {
            Kind::Track => self.name.clone(),
            Kind::Alias => None,
            other => Some(format!("${}", other.as_str())),
        }
    }
}

/// Why one event of a request was not accepted.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Rejection {
    pub index: usize,
    #[serde(rename = "messageId", skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    pub code: EventCode,
    pub message: String,
}

impl Rejection {
    fn new(
        index: usize,
        message_id: Option<String>,
        code: EventCode,
        message: impl Into<String>,
    ) -> Self {
        Self {
            index,
            message_id,
            code,
            message: message.into(),
        }
    }
}

/// A request body after decompression and the envelope parse.
pub struct Request {
    pub write_key: Option<String>,
    pub events: Vec<Result<Incoming, (Rejection, Option<Json>)>>,
}

/// Whether any key or string inside `value` holds a NUL character.
fn has_nul(value: &Json) -> bool {
    match value {
        Json::String(s) => s.contains('\0'),
        Json::Array(items) => items.iter().any(has_nul),
        Json::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// `value` with every NUL character replaced by U+FFFD.
pub(crate) fn without_nul(value: Json) -> Json {
    match value {
        Json::String(s) => Json::String(s.replace('\0', "\u{FFFD}")),
        Json::Array(items) => Json::Array(items.into_iter().map(without_nul).collect()),
        Json::Object(map) => Json::Object(
            map.into_iter()
                .map(|(k, v)| (k.replace('\0', "\u{FFFD}"), without_nul(v)))
                .collect(),
        ),
        other => other,
    }
}

/// Undoes `Content-Encoding: gzip` (at most `MAX_REQUEST_BYTES` out) and checks the size.
pub fn decode_body(body: &[u8], encoding: Option<&str>) -> Result<Vec<u8>, CdpError> {
    let too_large = || {
        CdpError::bad_request(
            ErrorCode::RequestTooLarge,
            format!("a request may carry at most {MAX_REQUEST_BYTES} bytes of JSON"),
        )
    };
    if body.len() > MAX_REQUEST_BYTES {
        return Err(too_large());
    }
    match encoding.map(|e| e.trim().to_ascii_lowercase()) {
        None => {}
        Some(e) if e.is_empty() || e == "identity" => {}
        Some(e) if e == "gzip" || e == "x-gzip" => {
            let mut out = Vec::with_capacity(body.len() * 4);
            let limit = u64::try_from(MAX_REQUEST_BYTES + 1).unwrap_or(u64::MAX);
            GzDecoder::new(body)
                .take(limit)
                .read_to_end(&mut out)
                .map_err(|e| {
                    CdpError::bad_request(
                        ErrorCode::InvalidGzip,
                        format!("the gzip body could not be decompressed: {e}"),
                    )
                })?;
            if out.len() > MAX_REQUEST_BYTES {
                return Err(too_large());
            }
            return Ok(out);
        }
        Some(other) => {
            return Err(CdpError::bad_request(
                ErrorCode::UnsupportedEncoding,
                format!("Content-Encoding {other} is not supported; send gzip or nothing"),
            ))
        }
    }
    Ok(body.to_vec())
}

#[derive(Deserialize)]
struct BatchEnvelope<'a> {
    #[serde(borrow)]
    batch: Option<Vec<&'a RawValue>>,
    #[serde(rename = "writeKey")]
    write_key: Option<Json>,
    #[serde(rename = "sentAt")]
    sent_at: Option<Json>,
    context: Option<Json>,
}

#[derive(Deserialize)]
struct SingleEnvelope {
    #[serde(rename = "writeKey")]
    write_key: Option<Json>,
}

/// Parses a request for `kind` (`None` for `/v1/batch`) received at `received_at` (epoch ms).
pub fn parse_request(
    raw: &[u8],
    kind: Option<Kind>,
    received_at: i64,
) -> Result<Request, CdpError> {
    // Invalid UTF-8 is replaced, and the events that contain a replacement are rejected below.
    let (text, lossy) = match std::str::from_utf8(raw) {
        Ok(text) => (std::borrow::Cow::Borrowed(text), false),
        Err(_) => (String::from_utf8_lossy(raw), true),
    };
    let invalid_json = |e: serde_json::Error| {
        CdpError::bad_request(ErrorCode::InvalidJson, format!("invalid JSON: {e}"))
    };
    match kind {
        None => {
            let envelope: BatchEnvelope = serde_json::from_str(&text).map_err(invalid_json)?;
            let batch = envelope.batch.ok_or_else(|| {
                CdpError::bad_request(
                    ErrorCode::InvalidBatch,
                    "a batch request needs a `batch` array",
                )
            })?;
            if batch.len() > MAX_BATCH_EVENTS {
                return Err(CdpError::bad_request(
                    ErrorCode::BatchTooLarge,
                    format!(
                        "a batch may hold at most {MAX_BATCH_EVENTS} events, this one has {}",
                        batch.len()
                    ),
                ));
            }
            let sent_at = envelope.sent_at.as_ref().and_then(parse_time);
            let events = batch
                .iter()
                .enumerate()
                .map(|(i, raw)| {
                    parse_event(
                        i,
                        raw,
                        None,
                        sent_at,
                        envelope.context.as_ref(),
                        received_at,
                        lossy,
                    )
                })
                .collect();
            Ok(Request {
                write_key: envelope.write_key.as_ref().and_then(scalar_text),
                events,
            })
        }
        Some(kind) => {
            let raw: &RawValue = serde_json::from_str(&text).map_err(invalid_json)?;
            let envelope: SingleEnvelope =
                serde_json::from_str(raw.get()).unwrap_or(SingleEnvelope { write_key: None });
            let event = parse_event(0, raw, Some(kind), None, None, received_at, lossy);
            Ok(Request {
                write_key: envelope.write_key.as_ref().and_then(scalar_text),
                events: vec![event],
            })
        }
    }
}

/// A string, or a number written as text (Segment libraries send numeric user ids).
pub fn scalar_text(value: &Json) -> Option<String> {
    match value {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub fn parse_time(value: &Json) -> Option<DateTime<Utc>> {
    let text = value.as_str()?;
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            // `2024-01-02T03:04:05.678` without an offset: read as UTC, as Segment does.
            chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        })
}

/// How deeply `value` nests, without recursion.
fn depth(value: &Json) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 1usize)];
    while let Some((v, d)) = stack.pop() {
        deepest = deepest.max(d);
        match v {
            Json::Array(items) => stack.extend(items.iter().map(|i| (i, d + 1))),
            Json::Object(map) => stack.extend(map.values().map(|i| (i, d + 1))),
            _ => {}
        }
    }
    deepest
}

type Parsed = Result<Incoming, (Rejection, Option<Json>)>;

fn parse_event(
    index: usize,
    raw: &RawValue,
    path_kind: Option<Kind>,
    batch_sent_at: Option<DateTime<Utc>>,
    batch_context: Option<&Json>,
    received_at: i64,
    lossy: bool,
) -> Parsed {
    let reject = |id: Option<String>, code: EventCode, msg: String, body: Option<Json>| {
        Err((Rejection::new(index, id, code, msg), body))
    };
    let text = raw.get();
    if text.len() > MAX_EVENT_BYTES {
        return reject(
            None,
            EventCode::EventTooLarge,
            format!(
                "an event may be at most {MAX_EVENT_BYTES} bytes, this one is {}",
                text.len()
            ),
            None,
        );
    }
    let value: Json = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) if e.to_string().contains("recursion limit") => {
            return reject(
                None,
                EventCode::NestingTooDeep,
                format!("an event may nest at most {MAX_DEPTH} levels"),
                None,
            )
        }
        Err(e) => {
            return reject(
                None,
                EventCode::InvalidEvent,
                format!("invalid event: {e}"),
                None,
            )
        }
    };
    let too_deep = depth(&value) > MAX_DEPTH;
    let Json::Object(mut body) = value else {
        return reject(
            None,
            EventCode::InvalidEvent,
            "an event must be a JSON object".into(),
            None,
        );
    };
    let message_id = body.get("messageId").and_then(scalar_text);
    let keep = |body: &Map<String, Json>| Some(Json::Object(body.clone()));
    if lossy && text.contains('\u{FFFD}') {
        return reject(
            message_id,
            EventCode::InvalidUtf8,
            "the event contains bytes that are not valid UTF-8".into(),
            None,
        );
    }
    if too_deep {
        return reject(
            message_id,
            EventCode::NestingTooDeep,
            format!("an event may nest at most {MAX_DEPTH} levels"),
            None,
        );
    }
    let kind = match path_kind {
        Some(k) => k,
        None => match body
            .get("type")
            .and_then(Json::as_str)
            .and_then(Kind::parse)
        {
            Some(k) => k,
            None => {
                return reject(
                    message_id,
                    EventCode::InvalidType,
                    "`type` must be identify, track, page, screen, group or alias".into(),
                    keep(&body),
                )
            }
        },
    };
    body.insert("type".into(), Json::String(kind.as_str().into()));
    if !body.contains_key("context") {
        if let Some(ctx) = batch_context {
            body.insert("context".into(), ctx.clone());
        }
    }
    if body.iter().any(|(k, v)| k.contains('\0') || has_nul(v)) {
        // Kept for inspection with each NUL shown as U+FFFD (no database stores NUL in text).
        let shown = without_nul(Json::Object(body));
        return reject(
            message_id.map(|m| m.replace('\0', "\u{FFFD}")),
            EventCode::NulCharacter,
            "the event contains a NUL character (\\u0000), which no field may hold".into(),
            Some(shown),
        );
    }
    for key in [
        "userId",
        "anonymousId",
        "messageId",
        "event",
        "groupId",
        "previousId",
    ] {
        if let Some(v) = body.get(key) {
            if v.is_null() {
                continue;
            }
            match scalar_text(v) {
                Some(t) if t.chars().count() <= MAX_ID_CHARS => {}
                Some(_) => {
                    return reject(
                        message_id,
                        EventCode::ValueTooLong,
                        format!("`{key}` may be at most {MAX_ID_CHARS} characters"),
                        keep(&body),
                    )
                }
                None => {
                    return reject(
                        message_id,
                        EventCode::InvalidField,
                        format!("`{key}` must be a string"),
                        keep(&body),
                    )
                }
            }
        }
    }
    let non_empty = |key: &str| {
        body.get(key)
            .and_then(scalar_text)
            .filter(|t| !t.trim().is_empty())
    };
    let user_id = non_empty("userId");
    let anonymous_id = non_empty("anonymousId");
    if user_id.is_none() && anonymous_id.is_none() {
        return reject(
            message_id,
            EventCode::MissingIdentity,
            "every call needs a `userId` or an `anonymousId`".into(),
            keep(&body),
        );
    }
    let name = match kind {
        Kind::Track => match non_empty("event") {
            Some(event) => Some(event),
            None => {
                return reject(
                    message_id,
                    EventCode::MissingEvent,
                    "a track call needs an `event` name".into(),
                    keep(&body),
                )
            }
        },
        Kind::Page | Kind::Screen => body
            .get("name")
            .and_then(scalar_text)
            .map(|n| n.chars().take(MAX_ID_CHARS).collect()),
        Kind::Group => {
            if non_empty("groupId").is_none() {
                return reject(
                    message_id,
                    EventCode::MissingGroupId,
                    "a group call needs a `groupId`".into(),
                    keep(&body),
                );
            }
            None
        }
        Kind::Alias => {
            if non_empty("previousId").is_none() || user_id.is_none() {
                return reject(
                    message_id,
                    EventCode::MissingPreviousId,
                    "an alias call needs a `previousId` and a `userId`".into(),
                    keep(&body),
                );
            }
            None
        }
        Kind::Identify => None,
    };
    for key in ["properties", "traits", "context"] {
        if let Some(v) = body.get(key) {
            if !v.is_object() && !v.is_null() {
                return reject(
                    message_id,
                    EventCode::InvalidField,
                    format!("`{key}` must be an object"),
                    keep(&body),
                );
            }
        }
    }
    let ts = match event_time(&body, batch_sent_at, received_at) {
        Ok(ts) => ts,
        Err((code, msg)) => return reject(message_id, code, msg, keep(&body)),
    };
    // Stored as Segment archives them: the corrected `timestamp`, the client's own time as
    // `originalTimestamp`, and when it arrived.
    let iso = |ms: i64| {
        DateTime::from_timestamp_millis(ms).map_or(Json::Null, |t| {
            Json::String(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        })
    };
    if !body.contains_key("originalTimestamp") {
        if let Some(original) = body.get("timestamp").filter(|t| !t.is_null()).cloned() {
            body.insert("originalTimestamp".into(), original);
        }
    }
    if !body.contains_key("sentAt") {
        if let Some(sent) = batch_sent_at {
            body.insert("sentAt".into(), iso(sent.timestamp_millis()));
        }
    }
    body.insert("timestamp".into(), iso(ts));
    body.insert("receivedAt".into(), iso(received_at));
    let message_id = message_id.unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    Ok(Incoming {
        index,
        kind,
        message_id,
        name,
        user_id,
        anonymous_id,
        ts,
        received_at,
        body,
        body_text: String::new(),
        trusted: false,
    })
}

/// Segment's correction: `timestamp = receivedAt − (sentAt − originalTimestamp)` when the client
/// sent `sentAt`; the event's own time otherwise; the arrival time when it has none.
fn event_time(
    body: &Map<String, Json>,
    batch_sent_at: Option<DateTime<Utc>>,
    received_at: i64,
) -> Result<i64, (EventCode, String)> {
    let field = |key: &str| -> Result<Option<DateTime<Utc>>, (EventCode, String)> {
        match body.get(key) {
            None | Some(Json::Null) => Ok(None),
            Some(v) => parse_time(v).map(Some).ok_or((
                EventCode::InvalidTimestamp,
                format!("`{key}` must be an ISO-8601 date-time"),
            )),
        }
    };
    let original = match field("originalTimestamp")? {
        Some(t) => Some(t),
        None => field("timestamp")?,
    };
    let sent_at = field("sentAt")?.or(batch_sent_at);
    let ts = match (original, sent_at) {
        (Some(original), Some(sent)) => {
            received_at - (sent.timestamp_millis() - original.timestamp_millis())
        }
        (Some(original), None) => original.timestamp_millis(),
        (None, _) => received_at,
    };
    if ts > received_at + MAX_FUTURE_MS {
        return Err((
            EventCode::TimestampInFuture,
            "the event's time is more than an hour after it arrived".into(),
        ));
    }
    if ts < MIN_EVENT_MS {
        return Err((
            EventCode::TimestampTooOld,
            "the event's time is before 2000-01-01".into(),
        ));
    }
    Ok(ts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_790_000_000_000;

    fn one(body: Json, kind: Option<Kind>) -> Parsed {
        let text = serde_json::to_vec(&body).unwrap();
        let mut req = parse_request(&text, kind, NOW).unwrap();
        req.events.remove(0)
    }

    fn code(parsed: Parsed) -> EventCode {
        parsed.unwrap_err().0.code
    }

    #[test]
    fn corrects_client_clock_skew() {
        // The client's clock is 10 minutes fast: sentAt and timestamp both carry the skew.
        let sent = chrono::DateTime::from_timestamp_millis(NOW + 600_000).unwrap();
        let happened = chrono::DateTime::from_timestamp_millis(NOW + 600_000 - 5_000).unwrap();
        let ev = one(
            json!({"userId": "u1", "event": "Bought", "timestamp": happened.to_rfc3339(), "sentAt": sent.to_rfc3339()}),
            Some(Kind::Track),
        )
        .unwrap();
        assert_eq!(ev.ts, NOW - 5_000);
        let ev = one(
            json!({"userId": "u1", "event": "Bought"}),
            Some(Kind::Track),
        )
        .unwrap();
        assert_eq!(ev.ts, NOW);
    }

    #[test]
    fn rejects_each_bad_event_with_a_reason() {
        assert_eq!(
            code(one(json!({"event": "x"}), Some(Kind::Track))),
            "missing_identity"
        );
        assert_eq!(
            code(one(json!({"userId": "u"}), Some(Kind::Track))),
            "missing_event"
        );
        assert_eq!(
            code(one(json!({"userId": "u"}), Some(Kind::Group))),
            "missing_group_id"
        );
        assert_eq!(
            code(one(
                json!({"userId": "u", "event": "e", "timestamp": "2999-01-01T00:00:00Z"}),
                Some(Kind::Track)
            )),
            "timestamp_in_future"
        );
        assert_eq!(
            code(one(
                json!({"userId": "u", "event": "e", "timestamp": "1970-01-02T00:00:00Z"}),
                Some(Kind::Track)
            )),
            "timestamp_too_old"
        );
        assert_eq!(
            code(one(
                json!({"userId": "u", "event": "e", "timestamp": "yesterday"}),
                Some(Kind::Track)
            )),
            "invalid_timestamp"
        );
        assert_eq!(
            code(one(
                json!({"userId": "u", "event": "e", "properties": "x"}),
                Some(Kind::Track)
            )),
            "invalid_field"
        );
        let big = "x".repeat(MAX_EVENT_BYTES);
        assert_eq!(
            code(one(
                json!({"userId": "u", "event": "e", "properties": {"b": big}}),
                Some(Kind::Track)
            )),
            "event_too_large"
        );
    }

    #[test]
    fn a_deep_event_does_not_cost_its_neighbours() {
        let deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
        let body = format!(
            r#"{{"batch": [{{"type":"track","userId":"a","event":"ok"}}, {{"type":"track","userId":"b","event":"deep","properties":{{"x":{deep}}}}}, {{"type":"page","anonymousId":"c"}}]}}"#
        );
        let req = parse_request(body.as_bytes(), None, NOW).unwrap();
        assert!(req.events[0].is_ok());
        assert_eq!(
            req.events[1].as_ref().unwrap_err().0.code,
            "nesting_too_deep"
        );
        assert!(req.events[2].is_ok());
    }

    #[test]
    fn invalid_utf8_rejects_only_the_event_that_holds_it() {
        let mut body = br#"{"batch": [{"type":"track","userId":"a","event":"ok"}, {"type":"track","userId":"b","event":"x"#.to_vec();
        body.extend_from_slice(&[0xff, 0xfe]);
        body.extend_from_slice(br#""}]}"#);
        let req = parse_request(&body, None, NOW).unwrap();
        assert!(req.events[0].is_ok());
        assert_eq!(req.events[1].as_ref().unwrap_err().0.code, "invalid_utf8");
    }

    #[test]
    fn gzip_round_trip_and_truncation() {
        use flate2::write::GzEncoder;
        use std::io::Write;
        let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(br#"{"batch": []}"#).unwrap();
        let zipped = enc.finish().unwrap();
        assert_eq!(
            decode_body(&zipped, Some("gzip")).unwrap(),
            br#"{"batch": []}"#
        );
        let truncated = &zipped[..zipped.len() / 2];
        assert!(matches!(
            decode_body(truncated, Some("gzip")),
            Err(CdpError::BadRequest {
                code: ErrorCode::InvalidGzip,
                ..
            })
        ));
        let bomb = vec![b' '; MAX_REQUEST_BYTES * 3];
        let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&bomb).unwrap();
        assert!(matches!(
            decode_body(&enc.finish().unwrap(), Some("gzip")),
            Err(CdpError::BadRequest {
                code: ErrorCode::RequestTooLarge,
                ..
            })
        ));
    }

    #[test]
    fn batch_limits() {
        let events: Vec<Json> = (0..=MAX_BATCH_EVENTS).map(|_| json!({})).collect();
        let body = serde_json::to_vec(&json!({ "batch": events })).unwrap();
        assert!(matches!(
            parse_request(&body, None, NOW),
            Err(CdpError::BadRequest {
                code: ErrorCode::BatchTooLarge,
                ..
            })
        ));
        assert!(matches!(
            parse_request(b"{not json", None, NOW),
            Err(CdpError::BadRequest {
                code: ErrorCode::InvalidJson,
                ..
            })
        ));
    }
}
