//! Group chat robots, as their platforms document them: WeCom (企业微信) group robots
//! (`?key=`), DingTalk (钉钉) custom robots (`?access_token=`, signed with `timestamp` and
//! `sign` = Base64(HMAC-SHA256(secret, "timestamp\nsecret")) when the robot has a signing
//! secret) and Feishu / Lark (飞书) custom bots (the body's `timestamp` and `sign` =
//! Base64(HMAC-SHA256 keyed by "timestamp\nsecret" over nothing)). Text or markdown; the
//! message's `to` are mobiles to @.

use super::send::{exchange, judged, shown_url, Failed, Outcome, Prepared};
use super::{hmac_sha256, Opened};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rapport_store::Store;
use serde_json::{json, Value as Json};

/// DingTalk's `sign` for `timestamp` (milliseconds).
pub fn dingtalk_sign(secret: &str, timestamp: i64) -> String {
    B64.encode(hmac_sha256(
        secret.as_bytes(),
        format!("{timestamp}\n{secret}").as_bytes(),
    ))
}

/// Feishu's `sign` for `timestamp` (seconds).
pub fn feishu_sign(secret: &str, timestamp: i64) -> String {
    B64.encode(hmac_sha256(
        format!("{timestamp}\n{secret}").as_bytes(),
        b"",
    ))
}

fn url(connector: &Opened, base_key: &str) -> Result<reqwest::Url, Failed> {
    reqwest::Url::parse(&connector.setting(base_key))
        .map_err(|_| Failed::permanent(format!("{base_key} is not a URL")))
}

async fn post(
    store: &Store,
    url: &reqwest::Url,
    body: &Json,
    hide_last_segment: bool,
) -> Result<(i64, String, String), Failed> {
    let client = store
        .outbound()
        .shared_client()
        .map_err(|e| Failed::permanent(e.to_string()))?;
    let request = client
        .request(reqwest::Method::POST, url)
        .map_err(|e| Failed::permanent(e.to_string()))?
        .header("content-type", "application/json; charset=utf-8")
        .body(body.to_string());
    let shown = format!("POST {}\n{body}", shown_url(url, hide_last_segment));
    let (status, text) = exchange(request, &shown).await?;
    Ok((status, text, shown))
}

/// The platform's own code in a 2xx answer.
fn code(text: &str, key: &str) -> Option<i64> {
    serde_json::from_str::<Json>(text)
        .ok()
        .and_then(|j| j.get(key).and_then(Json::as_i64))
}

pub async fn send_wecom(store: &Store, connector: &Opened, message: &Prepared) -> Outcome {
    let mut url = url(connector, "url")?;
    url.query_pairs_mut()
        .append_pair("key", &connector.secret("key"));
    let body = if message.markdown {
        json!({"msgtype": "markdown", "markdown": {"content": message.text}})
    } else {
        json!({"msgtype": "text", "text": {"content": message.text, "mentioned_mobile_list": message.to}})
    };
    let (status, text, shown) = post(store, &url, &body, false).await?;
    let errcode = code(&text, "errcode");
    // 45009: the robot's 20-messages-a-minute limit.
    judged(
        &shown,
        status,
        text,
        errcode == Some(0),
        errcode == Some(45009),
        || format!("WeCom answered errcode {}", errcode.unwrap_or(-1)),
    )
}

pub async fn send_dingtalk(store: &Store, connector: &Opened, message: &Prepared) -> Outcome {
    let mut url = url(connector, "url")?;
    {
        let mut query = url.query_pairs_mut();
        query.append_pair("access_token", &connector.secret("access_token"));
        let secret = connector.secret("signing_secret");
        if !secret.is_empty() {
            let timestamp = store.now().timestamp_millis();
            query.append_pair("timestamp", &timestamp.to_string());
            query.append_pair("sign", &dingtalk_sign(&secret, timestamp));
        }
    }
    let at = json!({"atMobiles": message.to, "isAtAll": false});
    let body = if message.markdown {
        let title = if message.subject.is_empty() {
            message.text.lines().next().unwrap_or_default().to_string()
        } else {
            message.subject.clone()
        };
        json!({"msgtype": "markdown", "markdown": {"title": title, "text": message.text}, "at": at})
    } else {
        json!({"msgtype": "text", "text": {"content": message.text}, "at": at})
    };
    let (status, text, shown) = post(store, &url, &body, false).await?;
    let errcode = code(&text, "errcode");
    // 130101: sent too fast (20 a minute).
    judged(
        &shown,
        status,
        text,
        errcode == Some(0),
        errcode == Some(130101),
        || format!("DingTalk answered errcode {}", errcode.unwrap_or(-1)),
    )
}

pub async fn send_feishu(store: &Store, connector: &Opened, message: &Prepared) -> Outcome {
    let mut url = url(connector, "url")?;
    url.path_segments_mut()
        .map_err(|_| Failed::permanent("url cannot take a hook id"))?
        .pop_if_empty()
        .push(&connector.secret("hook_id"));
    let mut body = if message.markdown {
        let mut card = json!({"elements": [{"tag": "markdown", "content": message.text}]});
        if !message.subject.is_empty() {
            card["header"] = json!({"title": {"tag": "plain_text", "content": message.subject}});
        }
        json!({"msg_type": "interactive", "card": card})
    } else {
        json!({"msg_type": "text", "content": {"text": message.text}})
    };
    let secret = connector.secret("signing_secret");
    if !secret.is_empty() {
        let timestamp = store.now().timestamp();
        body["timestamp"] = Json::String(timestamp.to_string());
        body["sign"] = Json::String(feishu_sign(&secret, timestamp));
    }
    let (status, text, shown) = post(store, &url, &body, true).await?;
    let code = code(&text, "code").or_else(|| code(&text, "StatusCode"));
    // 11232: the bot's frequency limit.
    judged(
        &shown,
        status,
        text,
        code == Some(0),
        code == Some(11232),
        || format!("Feishu answered code {}", code.unwrap_or(-1)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_the_platforms_documents() {
        // Computed independently: python3 -c 'import hmac,hashlib,base64;
        // print(base64.b64encode(hmac.new(b"SECabc", b"1700000000000\nSECabc",
        // hashlib.sha256).digest()).decode())'
        assert_eq!(
            dingtalk_sign("SECabc", 1_700_000_000_000),
            "jcUpW0QmtKduN03n4JqQ0PBosVjqnM8gU7fIIvsDmCM="
        );
        // python3 -c 'import hmac,hashlib,base64; print(base64.b64encode(hmac.new(
        // b"1700000000\nsecret", b"", hashlib.sha256).digest()).decode())'
        assert_eq!(
            feishu_sign("secret", 1_700_000_000),
            "fiWS2+gh28DOydAv7hzONH/mDn9+b1Y4Y5ivXWXy8vA="
        );
    }
}
