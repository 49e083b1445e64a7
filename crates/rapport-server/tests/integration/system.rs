//! Health, metrics, the OpenAPI document (served and committed), request ids.

use crate::harness::{assert_error, Auth, Backend, TestServer, METRICS_TOKEN};
use reqwest::Method;
use serde_json::Value;

crate::both_backends!(
    health_metrics_and_openapi,
    every_response_has_a_request_id_and_a_json_error,
    answers_are_compressed_when_the_client_accepts,
);

async fn health_metrics_and_openapi(b: Backend) {
    let s = TestServer::start(b).await;
    let anonymous = s.as_auth(Auth::None);
    let health = anonymous.call(Method::GET, "/healthz").send().await;
    assert_eq!(health.status, 200, "{}", health.text);
    assert_eq!(health.body["status"], "ok");
    let database = match b {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    assert_eq!(health.body["database"], database);
    // Every response carries a request id; a sane one sent is echoed.
    let generated = health.header("x-request-id").expect("x-request-id");
    assert!(uuid::Uuid::parse_str(&generated).is_ok(), "{generated}");
    let echoed = anonymous
        .call(Method::GET, "/healthz")
        .header("x-request-id", "abc-123_x.y")
        .send()
        .await;
    assert_eq!(
        echoed.header("x-request-id").as_deref(),
        Some("abc-123_x.y")
    );
    let too_long = anonymous
        .call(Method::GET, "/healthz")
        .header("x-request-id", &"a".repeat(65))
        .send()
        .await;
    assert_ne!(too_long.header("x-request-id"), Some("a".repeat(65)));

    // Some traffic, then the metrics.
    assert_eq!(s.get("/api/v1/objects/contact/records").await.0, 200);
    assert_eq!(s.get("/api/v1/objects/nope/records").await.0, 404);
    // Metrics need the scrape token; without it, or with a wrong one, they are refused.
    assert_error(&anonymous.get("/metrics").await, 401, "unauthenticated");
    assert_error(
        &s.as_auth(Auth::Header("Bearer wrong-token".into()))
            .get("/metrics")
            .await,
        401,
        "unauthenticated",
    );
    let metrics = s
        .as_auth(Auth::Header(format!("Bearer {METRICS_TOKEN}")))
        .call(Method::GET, "/metrics")
        .send()
        .await;
    assert_eq!(metrics.status, 200);
    assert!(metrics
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/plain")));
    let text = &metrics.text;
    assert!(
        text.contains("# TYPE rapport_http_requests_total counter"),
        "{text}"
    );
    let line = text
        .lines()
        .find(|l| {
            l.starts_with("rapport_http_requests_total{")
                && l.contains("route=\"/api/v1/objects/{object}/records\"")
                && l.contains("status=\"200\"")
                && l.contains("method=\"GET\"")
        })
        .unwrap_or_else(|| panic!("no counter for the list route in:\n{text}"));
    let count: f64 = line
        .rsplit(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a number");
    assert!(count >= 1.0, "{line}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("rapport_http_requests_total{")
                && l.contains("route=\"/healthz\"")),
        "{text}"
    );
    assert!(text.lines().any(|l| l.contains("status=\"404\"")), "{text}");
    // The job runner runs on this node (role all) as a supervised service.
    assert!(
        text.lines()
            .any(|l| l == "rapport_worker_state{worker=\"jobs\"} 1"),
        "{text}"
    );

    // The OpenAPI document, served.
    let doc = anonymous
        .call(Method::GET, "/api/openapi.json")
        .send()
        .await;
    assert_eq!(doc.status, 200);
    assert!(doc
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json")));
    let version = doc.body["openapi"].as_str().expect("openapi key");
    assert!(version.starts_with("3."), "{version}");
    let paths = doc.body["paths"].as_object().expect("paths");
    for path in [
        "/api/v1/objects/{object}/records",
        "/api/v1/objects/{object}/records/{id}",
        "/api/v1/objects/{object}/records/{id}/history/restore",
        "/api/v1/search",
        "/api/v1/auth/login",
        "/healthz",
    ] {
        assert!(paths.contains_key(path), "{path} missing from the document");
    }
    assert_eq!(doc.text, rapport_server::openapi::document());
    let _: Value = serde_json::from_str(&doc.text).expect("valid JSON");
}

async fn every_response_has_a_request_id_and_a_json_error(b: Backend) {
    let s = TestServer::start(b).await;
    let mut problems = Vec::new();
    // Unknown routes are JSON 404s with a request id, like every other response.
    let unknown = s
        .call(Method::GET, "/api/v1/nope")
        .header("x-request-id", "req-404")
        .send()
        .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.body["code"], "not_found");
    if unknown.header("x-request-id").as_deref() != Some("req-404") {
        problems.push(format!(
            "404 of an unknown route has X-Request-Id {:?}",
            unknown.header("x-request-id")
        ));
    }
    // A known path with the wrong method: 405, still a JSON error with a request id.
    let wrong = s
        .call(Method::PUT, "/api/v1/objects/contact/records")
        .header("x-request-id", "req-405")
        .send()
        .await;
    if wrong.status != 405 || !wrong.body["code"].is_string() {
        problems.push(format!(
            "wrong method answered {} with body {:?}",
            wrong.status, wrong.text
        ));
    }
    if wrong.header("x-request-id").as_deref() != Some("req-405") {
        problems.push(format!(
            "405 has X-Request-Id {:?}",
            wrong.header("x-request-id")
        ));
    }
    // A path segment that is not UTF-8: a JSON 400 like any other refusal, not axum's text.
    for path in [
        "/api/v1/objects/%FF/records",
        "/api/v1/objects/contact/records/%C0%AF",
        "/api/v1/cdp/segments/%FF",
    ] {
        let bad = s.call(Method::GET, path).send().await;
        if !(bad.status == 400
            && bad.body["code"] == "invalid_path"
            && bad.body["details"].is_object()
            && bad
                .header("content-type")
                .is_some_and(|c| c.starts_with("application/json")))
        {
            problems.push(format!(
                "{path} answered {} {:?}: {}",
                bad.status,
                bad.header("content-type"),
                bad.text
            ));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// Every parameter the document puts in a path is in that path's template and every
/// `{name}` of a template is documented (utoipa puts the fields of `IntoParams` in the path
/// unless told otherwise, which sent clients' query strings nowhere).
#[test]
fn openapi_parameters_are_where_the_paths_say() {
    let doc: Value = serde_json::from_str(&rapport_server::openapi::document()).unwrap();
    let mut problems = Vec::new();
    for (template, item) in doc["paths"].as_object().unwrap() {
        let named: Vec<&str> = template
            .split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
            .collect();
        for (method, operation) in item.as_object().unwrap() {
            let in_path: Vec<&str> = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            for name in &in_path {
                if !named.contains(name) {
                    problems.push(format!("{method} {template}: `{name}` is not in the path"));
                }
            }
            for name in &named {
                if !in_path.contains(name) {
                    problems.push(format!("{method} {template}: `{name}` is not documented"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// The committed `openapi.json` must be what the code generates.
#[test]
fn openapi_document_is_committed() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let generated = rapport_server::openapi::document();
    assert!(
        committed == generated,
        "openapi.json at the repository root is missing or out of date: run `make openapi`"
    );
}

/// docs/API.md's tables of codes and the web app's catalogue must be what the catalogue in
/// `rapport_core::codes` renders.
#[test]
fn error_catalogue_is_committed() {
    use rapport_core::codes;
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let doc = std::fs::read_to_string(format!("{root}/docs/API.md")).unwrap_or_default();
    assert!(
        codes::splice_markdown(&doc).is_some_and(|spliced| spliced == doc),
        "docs/API.md's tables of error codes are missing or out of date: run `make error-codes`"
    );
    let web =
        std::fs::read_to_string(format!("{root}/web/src/api/errorCodes.ts")).unwrap_or_default();
    assert!(
        web == codes::typescript(),
        "web/src/api/errorCodes.ts is missing or out of date: run `make error-codes`"
    );
}

/// A page of records is sent compressed to a client that accepts it (brotli or gzip), plainly
/// to one that does not; a tiny answer is never compressed.
async fn answers_are_compressed_when_the_client_accepts(b: Backend) {
    let s = TestServer::start(b).await;
    for i in 0..40 {
        s.create(
            "contact",
            serde_json::json!({"name": format!("联系人 {i}"), "email": format!("c{i}@example.com")}),
        )
        .await;
    }
    let page = "/api/v1/objects/contact/records?limit=40";
    let plain = s.call(Method::GET, page).send().await;
    assert_eq!(plain.status, 200);
    assert!(plain.headers.get("content-encoding").is_none());
    assert_eq!(plain.body["data"].as_array().map(Vec::len), Some(40));
    for encoding in ["gzip", "br"] {
        let packed = s
            .call(Method::GET, page)
            .header("accept-encoding", encoding)
            .send()
            .await;
        assert_eq!(packed.status, 200);
        assert_eq!(
            packed
                .headers
                .get("content-encoding")
                .and_then(|v| v.to_str().ok()),
            Some(encoding)
        );
        assert!(
            packed.bytes * 3 < plain.bytes,
            "{encoding}: {} bytes against {}",
            packed.bytes,
            plain.bytes
        );
    }
    let health = s
        .call(Method::GET, "/healthz")
        .header("accept-encoding", "gzip")
        .send()
        .await;
    assert!(health.headers.get("content-encoding").is_none());
    assert_eq!(health.body["status"], "ok");
}
