//! The web app, served from the binary: the files of `web/dist` (built by `npm run build` in
//! `web/`, which `make run` does first) are embedded in release builds and read from disk in
//! debug builds. Unknown GET paths outside the API get `index.html`, so the app's own routes
//! work on reload; API paths keep the JSON 404. When the app was not built, a short page says
//! how to build it. The build writes brotli and gzip copies beside each compressible file
//! (`web/scripts/precompress.mjs`); the one the request's `Accept-Encoding` allows is sent.

use crate::routes::system::not_found;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};

#[derive(rust_embed::Embed)]
#[folder = "../../web/dist"]
#[allow_missing = true]
struct WebApp;

/// Hashed build output: the name changes whenever the content does.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `index.html` and other unhashed files: always revalidate.
const REVALIDATE: &str = "no-cache";

const NOT_BUILT: &str = "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Rapport</title>\
<body style=\"font-family:sans-serif;max-width:40em;margin:4em auto\"><h1>Rapport</h1>\
<p>The web app was not built into this binary. Run <code>make web</code> (or <code>make run</code>), \
then start Rapport again. The API is at <a href=\"/api/openapi.json\">/api/openapi.json</a>.</p>\
<p lang=\"zh-CN\">此程序未包含网页界面。请运行 <code>make web</code>(或 <code>make run</code>)后重新启动。</p></body></html>";

fn is_api_path(path: &str) -> bool {
    ["/api", "/v1", "/healthz", "/metrics"]
        .iter()
        .any(|prefix| path == *prefix || path.starts_with(&format!("{prefix}/")))
}

/// The precompressed copies the build writes, best first: (file suffix, `Content-Encoding`).
const ENCODINGS: [(&str, &str); 2] = [(".br", "br"), (".gz", "gzip")];

/// Whether `Accept-Encoding` allows `coding` (a listed coding or `*`, and not with `q=0`).
fn accepts(headers: &HeaderMap, coding: &str) -> bool {
    let Some(accept) = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mut star = false;
    for item in accept.split(',') {
        let mut parts = item.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default().to_ascii_lowercase();
        let refused = parts.any(|p| {
            p.strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        if name == coding {
            return !refused;
        }
        if name == "*" {
            star = !refused;
        }
    }
    star
}

fn file_response(path: &str, cache: &'static str, headers: &HeaderMap) -> Option<Response> {
    let file = WebApp::get(path)?;
    // An embedded file whose type is not a header value is served as not found.
    let mime = HeaderValue::from_str(file.metadata.mimetype()).ok()?;
    let compressed = ENCODINGS.iter().find_map(|(suffix, coding)| {
        accepts(headers, coding)
            .then(|| WebApp::get(&format!("{path}{suffix}")))
            .flatten()
            .map(|copy| (copy, *coding))
    });
    let mut response = match compressed {
        Some((copy, coding)) => (
            [(header::CONTENT_ENCODING, HeaderValue::from_static(coding))],
            copy.data.into_owned(),
        )
            .into_response(),
        None => file.data.into_owned().into_response(),
    };
    let out = response.headers_mut();
    out.insert(header::CONTENT_TYPE, mime);
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    out.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    Some(response)
}

/// The router's fallback: the web app for GET and HEAD outside the API, else the JSON 404.
pub async fn fallback(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    if is_api_path(path) || (method != Method::GET && method != Method::HEAD) {
        return not_found().await.into_response();
    }
    let relative = path.trim_start_matches('/');
    if !relative.is_empty() && relative != "index.html" {
        let cache = if relative.starts_with("assets/") {
            IMMUTABLE
        } else {
            REVALIDATE
        };
        if let Some(response) = file_response(relative, cache, &headers) {
            return response;
        }
        // A missing file (it has an extension) is a 404; any other path is a page of the app.
        let last = relative.rsplit('/').next().unwrap_or_default();
        if last.contains('.') {
            return (StatusCode::NOT_FOUND, "not found").into_response();
        }
    }
    file_response("index.html", REVALIDATE, &headers)
        .unwrap_or_else(|| (StatusCode::OK, Html(NOT_BUILT)).into_response())
}

#[cfg(test)]
mod tests {
    use super::{accepts, is_api_path};
    use axum::http::{header, HeaderMap, HeaderValue};

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        headers
    }

    #[test]
    fn accept_encoding_is_read_with_its_weights() {
        assert!(accepts(&accept("gzip, deflate, br, zstd"), "br"));
        assert!(accepts(&accept("gzip;q=1.0, br;q=0.5"), "br"));
        assert!(!accepts(&accept("gzip, br;q=0"), "br"));
        assert!(accepts(&accept("gzip, br;q=0"), "gzip"));
        assert!(accepts(&accept("*"), "br"));
        assert!(!accepts(&accept("*, br;q=0"), "br"));
        assert!(!accepts(&accept("identity"), "gzip"));
        assert!(!accepts(&HeaderMap::new(), "gzip"));
        assert!(accepts(&accept("BR"), "br"));
    }

    #[test]
    fn api_paths_are_recognised() {
        for path in ["/api", "/api/v1/x", "/v1/track", "/healthz", "/metrics"] {
            assert!(is_api_path(path), "{path}");
        }
        for path in [
            "/",
            "/objects/deal",
            "/apis",
            "/metrics-board",
            "/assets/a.js",
        ] {
            assert!(!is_api_path(path), "{path}");
        }
    }
}
