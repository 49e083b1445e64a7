//! Cross-site request forgery: a state-changing request that authenticates with the session
//! cookie must show it comes from Rapport's own pages. SameSite=Lax keeps the cookie off
//! requests from other *sites*, but a page on another port or subdomain of the same site is
//! same-site, and its forms could still post (`text/plain` bodies, body-less POSTs) with the
//! cookie attached.
//!
//! Such a request (any method but GET, HEAD and OPTIONS, with the session cookie and no
//! `Authorization` header) passes if it carries any of:
//! - an `X-Requested-With` header (the web app sends it on every call): a page of another
//!   origin cannot add it without a CORS preflight, which Rapport never grants on `/api`;
//! - `Sec-Fetch-Site: same-origin` (set by the browser, not by pages);
//! - an `Origin` equal to the request's own origin (scheme-less `Host` comparison).
//!
//! Otherwise it is refused with 403 `cross_site_request`. Bearer-token clients and the
//! tracking API (write keys, no cookies) are not affected; command-line clients that log in
//! with a cookie jar add `X-Requested-With`.

use crate::auth::SESSION_COOKIE;
use crate::error::ApiError;
use axum::extract::Request;
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rapport_core::ErrorCode;

/// The header the web app sends to prove a request is its own.
pub const REQUEST_HEADER: &str = "x-requested-with";

fn has_session_cookie(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .any(|(name, _)| name == SESSION_COOKIE)
}

/// Whether the request shows it comes from this origin.
fn same_origin(headers: &HeaderMap) -> bool {
    if headers.contains_key(REQUEST_HEADER) {
        return true;
    }
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if text("sec-fetch-site") == Some("same-origin") {
        return true;
    }
    match (text(header::ORIGIN.as_str()), text(header::HOST.as_str())) {
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host)),
        _ => false,
    }
}

/// Middleware: refuses cookie-authenticated state-changing requests from other origins.
pub async fn check(request: Request, next: Next) -> Response {
    let method = request.method();
    let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    let headers = request.headers();
    let exposed = !safe
        && !request.uri().path().starts_with("/v1/")
        && !headers.contains_key(header::AUTHORIZATION)
        && has_session_cookie(headers);
    if exposed && !same_origin(headers) {
        return ApiError::new(
            ErrorCode::CrossSiteRequest,
            "this request came from another site; Rapport's pages send X-Requested-With",
        )
        .into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn same_origin_is_proved_by_header_fetch_metadata_or_origin() {
        assert!(same_origin(&headers(&[(
            "x-requested-with",
            "XMLHttpRequest"
        )])));
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(same_origin(&headers(&[
            ("origin", "http://crm.example.com:8080"),
            ("host", "crm.example.com:8080")
        ])));
        assert!(!same_origin(&headers(&[
            ("origin", "http://crm.example.com:9999"),
            ("host", "crm.example.com:8080")
        ])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(!same_origin(&headers(&[("origin", "null"), ("host", "x")])));
        assert!(!same_origin(&HeaderMap::new()));
        assert!(has_session_cookie(&headers(&[(
            "cookie",
            "a=b; rapport_session=rpt_x"
        )])));
        assert!(!has_session_cookie(&headers(&[(
            "cookie",
            "rapport_sessionx=1"
        )])));
    }
}
