//! The security suite (issue 20): response headers on every page, bounded password hashing
//! and per-client login throttling, filter paths through objects the caller may not read,
//! connection timeouts and caps, outbound requests to private addresses, cross-site requests,
//! and the lower findings — each with the attack that used to work.

use crate::harness::{Api, Auth, Backend, Resp, TestServer};
use reqwest::Method;

crate::both_backends!(security_headers_on_every_response,);

const CSP_MUST: [&str; 6] = [
    "default-src 'self'",
    "script-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
];

/// Asserts the security headers of one response.
#[track_caller]
fn assert_security_headers(what: &str, r: &Resp) {
    let csp = r
        .header("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no Content-Security-Policy"));
    for directive in CSP_MUST {
        assert!(
            csp.contains(directive),
            "{what}: {directive} missing in {csp}"
        );
    }
    let script = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src"))
        .unwrap_or_default();
    assert!(
        !script.contains("unsafe"),
        "{what}: scripts must never run inline: {script}"
    );
    assert_eq!(
        r.header("x-content-type-options").as_deref(),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(
        r.header("x-frame-options").as_deref(),
        Some("DENY"),
        "{what}"
    );
    assert_eq!(
        r.header("referrer-policy").as_deref(),
        Some("same-origin"),
        "{what}"
    );
}

async fn security_headers_on_every_response(b: Backend) {
    let s = TestServer::start(b).await;
    let anonymous = s.as_auth(Auth::None);
    let pages: [(&Api, Method, &str); 10] = [
        (&anonymous, Method::GET, "/"),
        (&anonymous, Method::GET, "/o/contact"),
        (&anonymous, Method::GET, "/assets/missing.js"),
        (&anonymous, Method::GET, "/healthz"),
        (&anonymous, Method::GET, "/api/openapi.json"),
        (&anonymous, Method::GET, "/api/v1/auth/me"),
        (&anonymous, Method::GET, "/api/v1/no-such-route"),
        (&anonymous, Method::DELETE, "/healthz"),
        (&s.api, Method::GET, "/api/v1/objects/contact/records"),
        (&anonymous, Method::OPTIONS, "/v1/batch"),
    ];
    for (api, method, path) in pages {
        let r = api.call(method.clone(), path).send().await;
        assert_security_headers(&format!("{method} {path} ({})", r.status), &r);
    }
    // Errors produced before a handler runs (a body over the limit) carry them too.
    let big = s
        .call(Method::POST, "/api/v1/objects/contact/records")
        .raw(vec![b'x'; 9 * 1024 * 1024], Some("application/json"))
        .send()
        .await;
    assert_eq!(big.status, 413, "{}", big.text);
    assert_security_headers("an oversized body", &big);
}
