//! The Segment-compatible tracking endpoints: `POST /v1/identify|track|page|screen|group|alias`
//! and `/v1/batch`. The write key comes as the HTTP Basic user (empty password), as `writeKey`
//! in the body, or both; bodies may be gzip. Browsers may call these from any origin (CORS), as
//! analytics.js does. A 200 is sent only once the events are committed.

use crate::error::{ApiError, ApiResult};
use crate::extract::ApiPath;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::Json;
use rapport_cdp::wire::Kind;
use rapport_cdp::IngestReport;
use rapport_core::ErrorCode;

/// The write key from `Authorization: Basic base64(key:)`.
fn basic_user(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let bad = || {
        ApiError::new(
            ErrorCode::InvalidAuthorization,
            "send the write key as HTTP Basic auth: base64(writeKey + \":\")",
        )
    };
    let text = value.to_str().map_err(|_| bad())?;
    let Some(encoded) = text
        .strip_prefix("Basic ")
        .or_else(|| text.strip_prefix("basic "))
    else {
        return Err(bad());
    };
    let decoded = decode_base64(encoded.trim()).ok_or_else(bad)?;
    let pair = String::from_utf8(decoded).map_err(|_| bad())?;
    let user = pair.split_once(':').map_or(pair.as_str(), |(u, _)| u);
    Ok((!user.is_empty()).then(|| user.to_string()))
}

/// Standard base64 (with or without padding).
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer = 0u32;
    let mut bits = 0;
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            // Masked to 8 bits, the conversion cannot fail.
            out.push(u8::try_from((buffer >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}

/// A body the server refused to read (beyond its global limit) is Segment's 400, not a 413.
fn read_body(body: Result<Bytes, BytesRejection>) -> ApiResult<Bytes> {
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                ErrorCode::RequestTooLarge,
                "a request may carry at most 500 KB of JSON",
            )
        } else {
            ApiError::new(ErrorCode::InvalidBody, rejection.body_text())
        }
    })
}

async fn ingest(
    state: &AppState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    kind: Option<Kind>,
) -> ApiResult<Json<IngestReport>> {
    let body = read_body(body)?;
    let key = basic_user(headers)?;
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok());
    let report = state.cdp.ingest(key, &body, encoding, kind).await?;
    Ok(Json(report))
}

/// One call: identify, track, page, screen, group or alias (Segment HTTP API).
#[utoipa::path(post, path = "/v1/{call}", tag = "tracking", security(("write_key" = []), ()),
    params(("call" = rapport_cdp::wire::Kind, Path, description = "The call (`/v1/import` is `/v1/batch`).")),
    request_body(content = Object, description = "A Segment call; gzip accepted"),
    responses((status = 200, body = IngestReport), (status = 400, body = crate::error::ErrorBody),
        (status = 401, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody),
        (status = 503, body = crate::error::ErrorBody)))]
pub async fn call(
    State(state): State<AppState>,
    ApiPath(call): ApiPath<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<IngestReport>> {
    if call == "batch" || call == "import" {
        return ingest(&state, &headers, body, None).await;
    }
    let kind = Kind::parse(&call).ok_or_else(|| ApiError::not_found("tracking call"))?;
    ingest(&state, &headers, body, Some(kind)).await
}

/// Up to 2,500 calls in one request (Segment's `/v1/batch`; `/v1/import` is an alias).
#[utoipa::path(post, path = "/v1/batch", tag = "tracking", security(("write_key" = []), ()),
    request_body(content = Object, description = "{batch: [...], sentAt?, writeKey?, context?}; gzip accepted"),
    responses((status = 200, body = IngestReport), (status = 400, body = crate::error::ErrorBody),
        (status = 401, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody),
        (status = 503, body = crate::error::ErrorBody)))]
pub async fn batch(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<IngestReport>> {
    ingest(&state, &headers, body, None).await
}

/// A CORS preflight; the headers are added by `cors`.
pub async fn preflight() -> StatusCode {
    StatusCode::NO_CONTENT
}

/// Lets browsers on other origins send events (analytics.js).
pub async fn cors(request: Request, next: Next) -> Response {
    let preflight = request.method() == Method::OPTIONS;
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    if preflight {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("POST, OPTIONS"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("Authorization, Content-Type, Content-Encoding"),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("86400"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_basic_user() {
        let mut headers = HeaderMap::new();
        // base64("wk_abc:")
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic d2tfYWJjOg=="),
        );
        assert_eq!(basic_user(&headers).unwrap().as_deref(), Some("wk_abc"));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic d2tfYWJjOg"),
        );
        assert_eq!(basic_user(&headers).unwrap().as_deref(), Some("wk_abc"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer x"));
        assert!(basic_user(&headers).is_err());
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic ***"));
        assert!(basic_user(&headers).is_err());
    }
}
