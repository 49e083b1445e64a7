//! Security headers on every response: a strict Content-Security-Policy (scripts only from
//! this origin, no plugins, no framing, no foreign form targets), `X-Content-Type-Options:
//! nosniff`, `X-Frame-Options: DENY` for browsers that predate `frame-ancestors`, a
//! same-origin `Referrer-Policy` and a same-origin opener policy. A handler that sets one of
//! them itself keeps its own value.
//!
//! Styles allow `'unsafe-inline'`: Ant Design injects its CSS-in-JS as `<style>` elements and
//! ECharts writes tooltips with inline `style` attributes. Scripts never run inline, so stored
//! markup cannot execute even where a string reaches HTML.

use axum::http::{header, HeaderName, HeaderValue};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

/// The Content-Security-Policy of every response.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; \
connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; \
form-action 'self'; frame-ancestors 'none'";

/// Every security header with its value.
pub fn security_headers() -> [(HeaderName, HeaderValue); 6] {
    [
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
        (
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
        ),
    ]
}

/// Adds the security headers to every response of `router`.
pub fn with_security_headers<S: Clone + Send + Sync + 'static>(mut router: Router<S>) -> Router<S> {
    for (name, value) in security_headers() {
        router = router.layer(SetResponseHeaderLayer::if_not_present(name, value));
    }
    router
}

/// `filename*` of Content-Disposition (RFC 5987): UTF-8, percent-encoded.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn file_names_are_percent_encoded() {
        assert_eq!(
            super::percent_encode("六月 A-1.x"),
            "%E5%85%AD%E6%9C%88%20A-1.x"
        );
    }
}
