//! Text messages: Aliyun SMS (`SendSms`, RPC signature version 1.0: HMAC-SHA1 over the
//! sorted, percent-encoded parameters), Tencent Cloud SMS (API 3.0 `SendSms`, TC3-HMAC-SHA256
//! over the canonical request) and any HTTP gateway (a body template posted once per number).

use super::render::{self, Escape};
use super::send::{exchange, judged, shown_url, Failed, Outcome, Prepared, Sent};
use super::Opened;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use rapport_store::Store;
use serde_json::{json, Value as Json};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt::Write;

fn client(store: &Store) -> Result<&rapport_store::outbound::OutboundClient, Failed> {
    store
        .outbound()
        .shared_client()
        .map_err(|e| Failed::permanent(e.to_string()))
}

fn endpoint(connector: &Opened, key: &str) -> Result<reqwest::Url, Failed> {
    reqwest::Url::parse(&connector.setting(key))
        .map_err(|_| Failed::permanent(format!("{key} is not a URL")))
}

/// Percent-encoding as Aliyun's signature wants it: RFC 3986 unreserved characters kept,
/// every other byte `%XX` in upper case (so a space is `%20`, `*` is `%2A`, `~` stays).
pub fn aliyun_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// The signed form body of an Aliyun RPC call: the parameters sorted and encoded, then
/// `Signature` = Base64(HMAC-SHA1(secret + "&", "POST&%2F&" + encode(canonical))).
pub fn aliyun_signed_body(params: &BTreeMap<String, String>, secret: &str) -> String {
    let canonical = params
        .iter()
        .map(|(k, v)| format!("{}={}", aliyun_encode(k), aliyun_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let to_sign = format!("POST&{}&{}", aliyun_encode("/"), aliyun_encode(&canonical));
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(format!("{secret}&").as_bytes())
        .unwrap_or_else(|_| <Hmac<Sha1> as Mac>::new(&Default::default()));
    mac.update(to_sign.as_bytes());
    let signature = B64.encode(mac.finalize().into_bytes());
    format!("{canonical}&Signature={}", aliyun_encode(&signature))
}

pub async fn send_aliyun(store: &Store, connector: &Opened, message: &Prepared) -> Outcome {
    let url = endpoint(connector, "endpoint")?;
    let mut params = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        params.insert(k.to_string(), v);
    };
    put("AccessKeyId", connector.setting("access_key_id"));
    put("Action", "SendSms".into());
    put("Format", "JSON".into());
    put("PhoneNumbers", message.to.join(","));
    put("RegionId", connector.setting("region"));
    put("SignName", connector.setting("sign_name"));
    put("SignatureMethod", "HMAC-SHA1".into());
    put("SignatureNonce", uuid::Uuid::new_v4().to_string());
    put("SignatureVersion", "1.0".into());
    put("TemplateCode", message.template.clone().unwrap_or_default());
    if !message.params.is_empty() {
        put(
            "TemplateParam",
            Json::Object(message.params.clone()).to_string(),
        );
    }
    put(
        "Timestamp",
        store.now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    );
    put("Version", "2017-05-25".into());
    let shown = format!(
        "POST {} Action=SendSms PhoneNumbers={} TemplateCode={} TemplateParam={}",
        shown_url(&url, false),
        message.to.join(","),
        message.template.clone().unwrap_or_default(),
        Json::Object(message.params.clone())
    );
    let body = aliyun_signed_body(&params, &connector.secret("access_key_secret"));
    let request = client(store)?
        .request(reqwest::Method::POST, &url)
        .map_err(|e| Failed::permanent(e.to_string()))?
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    let (status, text) = exchange(request, &shown).await?;
    let code = serde_json::from_str::<Json>(&text)
        .ok()
        .and_then(|j| j["Code"].as_str().map(str::to_string))
        .unwrap_or_default();
    judged(
        &shown,
        status,
        text,
        code == "OK",
        code.starts_with("Throttling") || code == "isp.SYSTEM_ERROR",
        || format!("Aliyun answered {code}"),
    )
}

fn hmac256(key: &[u8], data: &str) -> Vec<u8> {
    super::hmac_sha256(key, data.as_bytes())
}

/// The TC3-HMAC-SHA256 `Authorization` header of a Tencent Cloud API 3.0 POST of `body`
/// with the headers `content-type;host;x-tc-action` signed.
pub fn tencent_authorization(
    secret_id: &str,
    secret_key: &str,
    host: &str,
    action: &str,
    service: &str,
    timestamp: i64,
    body: &str,
) -> String {
    let date = chrono::DateTime::from_timestamp(timestamp, 0)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string();
    let signed_headers = "content-type;host;x-tc-action";
    let canonical = format!(
        "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:{host}\nx-tc-action:{}\n\n{signed_headers}\n{}",
        action.to_lowercase(),
        hex::encode(Sha256::digest(body.as_bytes()))
    );
    let scope = format!("{date}/{service}/tc3_request");
    let to_sign = format!(
        "TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let secret_date = hmac256(format!("TC3{secret_key}").as_bytes(), &date);
    let secret_service = hmac256(&secret_date, service);
    let secret_signing = hmac256(&secret_service, "tc3_request");
    let signature = hex::encode(hmac256(&secret_signing, &to_sign));
    format!(
        "TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders={signed_headers}, Signature={signature}"
    )
}

pub async fn send_tencent(store: &Store, connector: &Opened, message: &Prepared) -> Outcome {
    let url = endpoint(connector, "endpoint")?;
    let host = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_string(),
    };
    let body = json!({
        "PhoneNumberSet": message.to,
        "SmsSdkAppId": connector.setting("sdk_app_id"),
        "SignName": connector.setting("sign_name"),
        "TemplateId": message.template.clone().unwrap_or_default(),
        "TemplateParamSet": message.params.values().map(render::text_of).collect::<Vec<_>>(),
    })
    .to_string();
    let timestamp = store.now().timestamp();
    let authorization = tencent_authorization(
        &connector.setting("secret_id"),
        &connector.secret("secret_key"),
        &host,
        "SendSms",
        "sms",
        timestamp,
        &body,
    );
    let shown = format!("POST {} SendSms\n{body}", shown_url(&url, false));
    let request = client(store)?
        .request(reqwest::Method::POST, &url)
        .map_err(|e| Failed::permanent(e.to_string()))?
        .header("content-type", "application/json; charset=utf-8")
        .header("host", host)
        .header("x-tc-action", "SendSms")
        .header("x-tc-timestamp", timestamp.to_string())
        .header("x-tc-version", "2021-01-11")
        .header("x-tc-region", connector.setting("region"))
        .header("authorization", authorization)
        .body(body);
    let (status, text) = exchange(request, &shown).await?;
    let answer: Json = serde_json::from_str(&text).unwrap_or_default();
    let error = answer["Response"]["Error"]["Code"]
        .as_str()
        .map(str::to_string);
    let statuses: Vec<String> = answer["Response"]["SendStatusSet"]
        .as_array()
        .map(|set| {
            set.iter()
                .map(|s| s["Code"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default();
    let ok = error.is_none() && !statuses.is_empty() && statuses.iter().all(|c| c == "Ok");
    let transient = error
        .as_deref()
        .is_some_and(|c| c.starts_with("RequestLimitExceeded") || c.starts_with("InternalError"));
    judged(&shown, status, text, ok, transient, || match &error {
        Some(code) => format!("Tencent Cloud answered {code}"),
        None => format!("Tencent Cloud answered {}", statuses.join(", ")),
    })
}

/// Any HTTP gateway: the body template posted once per number (`{{to}}` is that number).
pub async fn send_http(store: &Store, connector: &Opened, message: &Prepared) -> Outcome {
    let url = endpoint(connector, "url")?;
    let headers = connector.setting_json("headers");
    let token = connector.secret("token");
    let mut last = Sent::default();
    let mut answers = Vec::new();
    for number in &message.to {
        let mut vars = message.vars.clone();
        vars.insert("to".into(), Json::String(number.clone()));

        let mut one = message.clone();
        one.vars = vars;
        let body = one
            .render(
                store,
                "body_template",
                &connector.setting("body_template"),
                Escape::Json,
            )
            .await?;
        let mut request = client(store)?
            .request(reqwest::Method::POST, &url)
            .map_err(|e| Failed::permanent(e.to_string()))?
            .header("content-type", "application/json; charset=utf-8");
        if let Some(map) = headers.as_object() {
            for (name, value) in map {
                request = request.header(name.as_str(), render::text_of(value));
            }
        }
        if !token.is_empty() {
            request = request.bearer_auth(&token);
        }
        let shown = format!("POST {}\n{body}", shown_url(&url, false));
        let (status, text) = exchange(request.body(body), &shown).await?;
        last = judged(&shown, status, text, true, false, String::new)?;
        answers.push(last.response.clone());
    }
    last.response = answers.join("\n");
    Ok(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliyun_percent_encoding_is_rfc3986() {
        assert_eq!(aliyun_encode("a b*c~d/é"), "a%20b%2Ac~d%2F%C3%A9");
    }

    #[test]
    fn aliyun_signature_matches_an_independent_computation() {
        // The parameters of Aliyun's signature document; the signature computed apart with
        // Python's urllib.parse.quote(safe="~"), hmac and hashlib.sha1 (POST, "testsecret").
        let params: BTreeMap<String, String> = [
            ("AccessKeyId", "testid"),
            ("Action", "SendSms"),
            ("Format", "XML"),
            ("PhoneNumbers", "15300000001"),
            ("RegionId", "cn-hangzhou"),
            ("SignName", "阿里云短信测试专用"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "45e25e9b-0a6f-4070-8c85-2956eda1b466"),
            ("SignatureVersion", "1.0"),
            ("TemplateCode", "SMS_71390007"),
            ("TemplateParam", "{\"customer\":\"test\"}"),
            ("Timestamp", "2017-07-12T02:42:19Z"),
            ("Version", "2017-05-25"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let body = aliyun_signed_body(&params, "testsecret");
        let signature = body.rsplit("Signature=").next().unwrap();
        assert_eq!(signature, "efFG5lGVSEmBzC%2BANyUFyqougr8%3D");
    }
}
