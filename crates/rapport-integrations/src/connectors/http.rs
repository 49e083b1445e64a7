//! Generic HTTP / ERP calls: an optional pre-check call whose answer gates the push (ERP stock
//! before an order), a method, a URL template (placeholders percent-encoded), headers,
//! auth (basic, bearer, or an HMAC-SHA256 signature of `timestamp.body` in a header with
//! `X-Rapport-Timestamp`), a body template (placeholders JSON-escaped), and values of the
//! answer written back into the message's record (`response_mapping`: field → JSON pointer,
//! optionally `| map:<system>` to translate the system's code through the semantic dictionary)
//! through the write path, source `integration`.

use super::render::{self, Escape};
use super::send::{exchange, judged, shown_url, Failed, Message, Outcome, Prepared, Sent};
use super::Opened;
use crate::dictionary::{self, Direction, Translator};
use rapport_core::Source;
use rapport_store::records::{RecordUpdate, WriteCtx};
use rapport_store::Store;
use serde_json::{Map, Value as Json};

/// The signature header's value: `sha256=` and the hex HMAC-SHA256 of `timestamp.body`.
pub fn hmac_signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mac = super::hmac_sha256(secret.as_bytes(), format!("{timestamp}.{body}").as_bytes());
    format!("sha256={}", hex::encode(mac))
}

/// One call of the connector: `url_template` and `body_template` (or the pre-check's) rendered,
/// the headers and auth applied. Answers the request and how the log shows it.
async fn call(
    store: &Store,
    connector: &Opened,
    message: &Prepared,
    method_key: &str,
    url_key: &str,
    body_key: &str,
) -> Result<(reqwest::RequestBuilder, String), Failed> {
    let url = message
        .render(store, url_key, &connector.setting(url_key), Escape::Url)
        .await?;
    let url = reqwest::Url::parse(&url)
        .map_err(|_| Failed::permanent(format!("{url_key}: {url:?} is not a URL")))?;
    let method = reqwest::Method::from_bytes(connector.setting(method_key).as_bytes())
        .map_err(|_| Failed::permanent(format!("{method_key} is not an HTTP method")))?;
    let template = connector.setting(body_key);
    let body = if template.is_empty() || method == reqwest::Method::GET {
        String::new()
    } else {
        message
            .render(store, body_key, &template, Escape::Json)
            .await?
    };
    let mut request = store
        .outbound()
        .shared_client()
        .map_err(|e| Failed::permanent(e.to_string()))?
        .request(method.clone(), &url)
        .map_err(|e| Failed::permanent(e.to_string()))?;
    if !body.is_empty() {
        request = request.header("content-type", "application/json; charset=utf-8");
    }
    if let Some(map) = connector.setting_json("headers").as_object() {
        for (name, value) in map {
            let value = message
                .render(
                    store,
                    &format!("header {name}"),
                    &render::text_of(value),
                    Escape::Plain,
                )
                .await?;
            request = request.header(name.as_str(), value);
        }
    }
    request = match connector.setting("auth").as_str() {
        "basic" => request.basic_auth(
            connector.setting("username"),
            Some(connector.secret("password")),
        ),
        "bearer" => request.bearer_auth(connector.secret("token")),
        "hmac" => {
            let timestamp = store.now().timestamp();
            request
                .header("x-rapport-timestamp", timestamp.to_string())
                .header(
                    connector.setting("hmac_header"),
                    hmac_signature(&connector.secret("hmac_secret"), timestamp, &body),
                )
        }
        _ => request,
    };
    let shown = format!("{method} {}\n{body}", shown_url(&url, false));
    Ok((request.body(body), shown))
}

pub async fn send(store: &Store, connector: &Opened, message: &Prepared) -> Outcome {
    let checked = precheck(store, connector, message).await?;
    let (request, shown) = call(
        store,
        connector,
        message,
        "method",
        "url_template",
        "body_template",
    )
    .await?;
    let shown = match checked {
        Some(precheck) => format!("{precheck}\n{shown}"),
        None => shown,
    };
    let (status, text) = exchange(request, &shown).await?;
    judged(&shown, status, text, true, false, String::new)
}

/// The pre-check (two-way validation): when `precheck_url_template` is set, that call is made
/// first and every `precheck_pass` condition must hold on its JSON answer — a pointer equal to
/// a value, or compared (`{">=": "{{params.quantity}}"}`; `>`, `<`, `<=`, `==`, `!=`) — or
/// the send is refused before anything is pushed. Answers how the log shows the pre-check.
async fn precheck(
    store: &Store,
    connector: &Opened,
    message: &Prepared,
) -> Result<Option<String>, Failed> {
    if connector.setting("precheck_url_template").is_empty() {
        return Ok(None);
    }
    let (request, shown) = call(
        store,
        connector,
        message,
        "precheck_method",
        "precheck_url_template",
        "precheck_body_template",
    )
    .await?;
    let shown = format!("pre-check: {shown}");
    let (_, text) = exchange(request, &shown).await?;
    let refused = |reason: String| Failed {
        refused: true,
        reason: format!("pre-check refused: {reason}"),
        request: shown.clone(),
        response: text.chars().take(1024).collect(),
        ..Default::default()
    };
    let answer: Json =
        serde_json::from_str(&text).map_err(|_| refused("the answer is not JSON".into()))?;
    let conditions = connector.setting_json("precheck_pass");
    for (pointer, expected) in conditions.as_object().into_iter().flatten() {
        let actual = answer
            .pointer(pointer)
            .ok_or_else(|| refused(format!("the answer has no {pointer}")))?;
        let (holds, needs) = match expected.as_object().filter(|o| o.len() == 1) {
            Some(comparison) => {
                let (op, bound) = comparison
                    .iter()
                    .next()
                    .map_or(("", &Json::Null), |(k, v)| (k.as_str(), v));
                let bound = message
                    .render(
                        store,
                        "precheck_pass",
                        &render::text_of(bound),
                        Escape::Plain,
                    )
                    .await?;
                let holds =
                    compare(actual, op, &bound).map_err(|e| refused(format!("{pointer}: {e}")))?;
                (holds, format!("{op} {bound}"))
            }
            None => (actual == expected, expected.to_string()),
        };
        if !holds {
            return Err(refused(format!("{pointer} is {actual}, needs {needs}")));
        }
    }
    Ok(Some(shown))
}

/// `actual op bound` as numbers.
fn compare(actual: &Json, op: &str, bound: &str) -> Result<bool, String> {
    let number = |text: &str| {
        text.trim()
            .parse::<f64>()
            .map_err(|_| format!("{text:?} is not a number"))
    };
    let left = match actual {
        Json::Number(n) => n.as_f64().unwrap_or(f64::NAN),
        Json::String(s) => number(s)?,
        other => return Err(format!("{other} is not a number")),
    };
    let right = number(bound)?;
    Ok(match op {
        ">=" => left >= right,
        ">" => left > right,
        "<=" => left <= right,
        "<" => left < right,
        "==" => left == right,
        "!=" => left != right,
        _ => return Err(format!("unknown comparison {op:?}")),
    })
}

/// After a send that succeeded: an HTTP connector's mapped answer values written into the
/// message's record. A value missing from the answer or refused by the field fails the send
/// for good (it is not sent again: the other side has it).
pub async fn map_back(store: &Store, connector: &Opened, message: &Message, sent: Sent) -> Outcome {
    let mapping = connector.setting_json("response_mapping");
    let (Some(mapping), Some(record)) = (mapping.as_object(), &message.record) else {
        return Ok(sent);
    };
    if mapping.is_empty() {
        return Ok(sent);
    }
    let fail = |reason: String| Failed {
        refused: false,
        transient: false,
        reason: format!("sent, but the answer was not written back: {reason}"),
        request: sent.request.clone(),
        status: sent.status,
        response: sent.response.clone(),
    };
    let Some(answer) = &sent.answer else {
        return Err(fail("the answer is not JSON".into()));
    };
    let mut values = Map::new();
    for (field, source) in mapping {
        let source = source.as_str().unwrap_or_default();
        let (pointer, filter) = match source.split_once('|') {
            Some((pointer, filter)) => (pointer.trim(), Some(filter.trim())),
            None => (source.trim(), None),
        };
        let value = answer
            .pointer(pointer)
            .ok_or_else(|| fail(format!("the answer has no {pointer}")))?;
        let value = match filter {
            None => value.clone(),
            Some(filter) => {
                let system = filter
                    .strip_prefix("map:")
                    .map(str::trim)
                    .ok_or_else(|| fail(format!("unknown filter {filter:?}")))?;
                let translator =
                    Translator::load(store, &connector.workspace_id, system, &record.object)
                        .await
                        .map_err(|e| fail(e.to_string()))?;
                match translator.translate(Direction::Inbound, field, &render::text_of(value)) {
                    Ok(crm) => Json::String(crm),
                    Err(miss) => {
                        let context = format!("connector {}", connector.connector.name);
                        if let Err(e) = dictionary::record_miss(store, &miss, &context).await {
                            tracing::warn!("recording an unmapped value: {e}");
                        }
                        return Err(fail(miss.reason(system, &record.object)));
                    }
                }
            }
        };
        values.insert(field.clone(), value);
    }
    let principal = store
        .system_principal(&connector.workspace_id)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let schema = store
        .schema(&connector.workspace_id, principal.metadata_version)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let ctx = WriteCtx {
        principal: &principal,
        source: Source::Integration,
        request_id: format!("connector-{}", connector.connector.id),
    };
    store
        .update_record(
            &ctx,
            &schema,
            &record.object,
            RecordUpdate {
                id: record.id.clone(),
                values,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| fail(e.to_string()))?;
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hmac_signature_covers_timestamp_and_body() {
        // python3 -c 'import hmac,hashlib; print(hmac.new(b"k", b"1700000000.{}",
        // hashlib.sha256).hexdigest())'
        assert_eq!(
            hmac_signature("k", 1_700_000_000, "{}"),
            "sha256=c6ef4734033cee2367414a0939385eca0397754aa7a59716da7463a9298b5146"
        );
    }
}
