//! Generic HTTP / ERP calls: a method, a URL template (placeholders percent-encoded), headers,
//! auth (basic, bearer, or an HMAC-SHA256 signature of `timestamp.body` in a header with
//! `X-Rapport-Timestamp`), a body template (placeholders JSON-escaped), and values of the
//! answer written back into the message's record (`response_mapping`: field → JSON pointer,
//! optionally `| map:<system>` to translate the system's code through the semantic dictionary)
//! through the write path, source `integration`.

use super::render::{self, Escape};
use super::send::{exchange, judged, shown_url, Failed, Message, Outcome, Prepared, Sent};
use super::Opened;
use crate::dictionary::{self, Direction, Translator};
use hmac::{Hmac, Mac};
use rapport_core::Source;
use rapport_store::records::{RecordUpdate, WriteCtx};
use rapport_store::Store;
use serde_json::{Map, Value as Json};
use sha2::Sha256;

/// The signature header's value: `sha256=` and the hex HMAC-SHA256 of `timestamp.body`.
pub fn hmac_signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| <Hmac<Sha256> as Mac>::new(&Default::default()));
    mac.update(format!("{timestamp}.{body}").as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

pub async fn send(store: &Store, connector: &Opened, message: &Prepared) -> Outcome {
    let url = render::render(
        &connector.setting("url_template"),
        &message.vars,
        Escape::Url,
    )
    .map_err(|e| Failed::permanent(format!("url_template: {e}")))?;
    let url = reqwest::Url::parse(&url)
        .map_err(|_| Failed::permanent(format!("{url:?} is not a URL")))?;
    let method = reqwest::Method::from_bytes(connector.setting("method").as_bytes())
        .map_err(|_| Failed::permanent("method is not an HTTP method"))?;
    let template = connector.setting("body_template");
    let body = if template.is_empty() || method == reqwest::Method::GET {
        String::new()
    } else {
        message
            .render(store, "body_template", &template, Escape::Json)
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
    let (status, text) = exchange(request.body(body), &shown).await?;
    judged(&shown, status, text, true, false, String::new)
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
