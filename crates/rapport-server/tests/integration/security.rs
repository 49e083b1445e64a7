//! The security suite (issue 20): response headers on every page, bounded password hashing
//! and per-client login throttling, filter paths through objects the caller may not read,
//! connection timeouts and caps, outbound requests to private addresses, cross-site requests,
//! and the lower findings — each with the attack that used to work.

use crate::harness::{
    assert_error, unique_email, Api, Auth, Backend, Resp, TestServer, ADMIN_PASSWORD,
};
use crate::snapshots;
use rapport_server::connections::Limits;
use rapport_server::ServerConfig;
use rapport_store::outbound::Outbound;
use reqwest::Method;
use serde_json::json;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

crate::both_backends!(
    security_headers_on_every_response,
    password_changes_end_other_sessions,
    common_passwords_are_refused,
    session_cookies_are_secure_behind_https,
    filters_through_unreadable_objects_are_refused,
    read_only_users_cannot_share_views,
    slow_connections_are_closed,
    connections_are_capped_per_client,
    metrics_are_off_without_a_token,
    outbound_calls_to_private_addresses_are_refused,
    cross_site_requests_with_the_session_cookie_are_refused,
    fields_and_labels_are_capped,
    exported_multi_select_values_are_neutralised,
);

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

async fn password_changes_end_other_sessions(b: Backend) {
    let s = TestServer::start(b).await;
    let (user, _) = s.user_with_role("sales").await;
    let laptop = s.login(&user.email, ADMIN_PASSWORD).await;
    let phone = s.login(&user.email, ADMIN_PASSWORD).await;
    assert_eq!(phone.get("/api/v1/auth/me").await.0, 200);
    // The user changes their password on the laptop: the phone's session ends, the laptop's
    // stays.
    let (status, body) = laptop
        .patch(
            "/api/v1/auth/me",
            json!({"current_password": ADMIN_PASSWORD, "new_password": "a fresh passphrase 42"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_error(&phone.get("/api/v1/auth/me").await, 401, "unauthenticated");
    assert_eq!(laptop.get("/api/v1/auth/me").await.0, 200);
    let (_, changes) = s.get("/api/v1/audit?action=user.password_change").await;
    let entry = &changes[0];
    assert_eq!(entry["actor_id"], user.id.as_str(), "{changes}");
    assert_eq!(entry["outcome"], "success", "{changes}");
    assert_eq!(entry["details"]["other_sessions_ended"], 1, "{changes}");
    assert!(!changes.to_string().contains("a fresh passphrase"));

    // An administrator resets it: every session of the user ends, and the audit says a reset
    // happened (not `{"active": null, "role": null}`).
    let (status, body) = s
        .patch(
            &format!("/api/v1/users/{}", user.id),
            json!({"password": "reset by the admin 7"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_error(&laptop.get("/api/v1/auth/me").await, 401, "unauthenticated");
    let (_, updates) = s.get("/api/v1/audit?action=user.update").await;
    assert_eq!(updates[0]["target"], user.id.as_str(), "{updates}");
    assert_eq!(
        updates[0]["details"],
        json!({"password_reset": true, "sessions_ended": 1}),
        "{updates}"
    );
    assert!(!updates.to_string().contains("reset by the admin"));
    // A role change is audited as just that.
    s.patch(
        &format!("/api/v1/users/{}", user.id),
        json!({"role_id": "read_only"}),
    )
    .await;
    let (_, updates) = s.get("/api/v1/audit?action=user.update").await;
    assert_eq!(
        updates[0]["details"],
        json!({"role": "read_only"}),
        "{updates}"
    );
}

async fn common_passwords_are_refused(b: Backend) {
    let s = TestServer::start(b).await;
    for weak in [
        "12345678",
        "        ",
        "password1",
        "Iloveyou",
        "aaaaaaaaaaaa",
    ] {
        let got = s
            .post(
                "/api/v1/users",
                json!({"email": unique_email("weak"), "name": "W", "password": weak, "role_id": "sales"}),
            )
            .await;
        assert_error(&got, 422, "weak_password");
        let got = s
            .patch(
                "/api/v1/auth/me",
                json!({"current_password": ADMIN_PASSWORD, "new_password": weak}),
            )
            .await;
        assert_error(&got, 422, "weak_password");
    }
}

async fn session_cookies_are_secure_behind_https(b: Backend) {
    let s = TestServer::start(b).await;
    let login = |proto: Option<&'static str>| {
        let mut call = s
            .as_auth(Auth::None)
            .call(Method::POST, "/api/v1/auth/login")
            .json(&json!({"email": s.admin.email, "password": ADMIN_PASSWORD}));
        if let Some(proto) = proto {
            call = call.header("x-forwarded-proto", proto);
        }
        call.send()
    };
    let plain = login(None).await;
    assert!(!plain.header("set-cookie").unwrap().contains("Secure"));
    let proxied = login(Some("https")).await;
    let cookie = proxied.header("set-cookie").unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    let configured = TestServer::start_with(
        b,
        ServerConfig {
            secure_cookies: true,
            ..ServerConfig::default()
        },
    )
    .await;
    let r = configured
        .as_auth(Auth::None)
        .call(Method::POST, "/api/v1/auth/login")
        .json(&json!({"email": configured.admin.email, "password": ADMIN_PASSWORD}))
        .send()
        .await;
    assert!(r.header("set-cookie").unwrap().contains("; Secure"));
}

async fn filters_through_unreadable_objects_are_refused(b: Backend) {
    let s = TestServer::start(b).await;
    let company = s
        .create(
            "company",
            json!({"name": "Secret Co", "annual_revenue": "777000"}),
        )
        .await;
    s.create(
        "contact",
        json!({"name": "Alice", "company": company["id"]}),
    )
    .await;
    // A role that reads contacts but not companies.
    let (status, role) = s
        .call(Method::PUT, "/api/v1/roles/contacts_only")
        .json(&json!({"name": "Contacts only", "permissions": {"*": "crud", "company": ""}}))
        .send()
        .await
        .pair();
    assert_eq!(status, 200, "{role}");
    let (_, reader) = s.user_with_role("contacts_only").await;
    assert_error(&reader.list("company", &[]).await, 403, "forbidden");

    let leak = json!({"field": "company.annual_revenue", "op": "gte", "value": 777000});
    let own = json!({"field": "name", "op": "eq", "value": "Alice"});
    let records = "/api/v1/objects/contact/records";
    // Lists (body and query string), totals, aggregates, exports, views and segment previews.
    assert_error(
        &reader
            .post(
                &format!("{records}/query"),
                json!({"filter": leak, "total": true}),
            )
            .await,
        403,
        "forbidden",
    );
    assert_error(
        &reader
            .list(
                "contact",
                &[("filter", &leak.to_string()), ("total", "true")],
            )
            .await,
        403,
        "forbidden",
    );
    assert_error(
        &reader
            .post(&format!("{records}/aggregate"), json!({"filter": leak}))
            .await,
        403,
        "forbidden",
    );
    let export = reader
        .call(Method::POST, &format!("{records}/export"))
        .json(&json!({"filter": leak}))
        .send()
        .await;
    assert_error(&(export.status, export.body), 403, "forbidden");
    assert_error(
        &reader
            .post(
                "/api/v1/objects/contact/views",
                json!({"name": "Rich", "kind": "list", "filter": leak}),
            )
            .await,
        403,
        "forbidden",
    );
    // Nested anywhere in the tree.
    assert_error(
        &reader
            .post(
                &format!("{records}/query"),
                json!({"filter": {"any": [own, {"not": leak}]}}),
            )
            .await,
        403,
        "forbidden",
    );
    assert_error(
        &reader
            .post(
                "/api/v1/cdp/segments/preview",
                json!({"condition": {"field": "contact.company.annual_revenue", "op": "gte", "value": 777000}}),
            )
            .await,
        403,
        "forbidden",
    );
    // Their own fields still filter, and the administrator may use the path.
    let (status, body) = reader
        .post(
            &format!("{records}/query"),
            json!({"filter": own, "total": true}),
        )
        .await;
    assert_eq!((status, &body["total"]), (200, &json!(1)), "{body}");
    let (status, body) = s
        .post(
            &format!("{records}/query"),
            json!({"filter": leak, "total": true}),
        )
        .await;
    assert_eq!((status, &body["total"]), (200, &json!(1)), "{body}");
    let (status, body) = s
        .post(
            "/api/v1/cdp/segments/preview",
            json!({"condition": {"field": "contact.company.annual_revenue", "op": "gte", "value": 777000}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // The refusals are audited against the unreadable object.
    let (_, denied) = s.get("/api/v1/audit?action=permission_denied").await;
    assert!(
        denied
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["target"] == "company" || e["target"] == "contact")
            .count()
            >= 4,
        "{denied}"
    );
}

async fn read_only_users_cannot_share_views(b: Backend) {
    let s = TestServer::start(b).await;
    let (_, reader) = s.user_with_role("read_only").await;
    let view = |shared: bool| json!({"name": "Mine", "kind": "list", "shared": shared});
    assert_error(
        &reader
            .post("/api/v1/objects/contact/views", view(true))
            .await,
        403,
        "forbidden",
    );
    let (status, private) = reader
        .post("/api/v1/objects/contact/views", view(false))
        .await;
    assert_eq!(status, 201, "{private}");
    let id = private["id"].as_str().unwrap();
    let made_shared = reader
        .call(Method::PUT, &format!("/api/v1/objects/contact/views/{id}"))
        .json(&view(true))
        .send()
        .await;
    assert_error(&(made_shared.status, made_shared.body), 403, "forbidden");
    let (_, sales) = s.user_with_role("sales").await;
    let (status, shared) = sales
        .post("/api/v1/objects/contact/views", view(true))
        .await;
    assert_eq!((status, &shared["shared"]), (201, &json!(true)), "{shared}");
}

/// A raw connection to the test server from a given loopback address.
async fn connect_from(s: &TestServer, from: [u8; 4]) -> TcpStream {
    let addr: SocketAddr = s.base.trim_start_matches("http://").parse().unwrap();
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((from, 0))).unwrap();
    socket.connect(addr).await.unwrap()
}

/// Reads until the server closes the connection; returns what it sent. Waits at most 60 s so
/// that a server that never closes fails the test instead of hanging it (the server's own
/// timeouts in these tests are 1 s).
async fn read_until_closed(stream: &mut (impl tokio::io::AsyncRead + Unpin), what: &str) -> String {
    let mut got = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(60), async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "{what}: the server kept the connection open");
    String::from_utf8_lossy(&got).into_owned()
}

async fn slow_connections_are_closed(b: Backend) {
    let s = TestServer::start_with(
        b,
        ServerConfig {
            limits: Limits {
                header_timeout: Duration::from_secs(1),
                body_timeout: Duration::from_secs(1),
                ..Limits::default()
            },
            ..ServerConfig::default()
        },
    )
    .await;
    // A connection that never sends a byte.
    let mut idle = connect_from(&s, [127, 0, 0, 1]).await;
    let sent = read_until_closed(&mut idle, "an idle connection").await;
    assert!(!sent.contains("200 OK"), "{sent}");
    // Half a request head, never finished.
    let mut half = connect_from(&s, [127, 0, 0, 1]).await;
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: rapport\r\nX-Slow: ")
        .await
        .unwrap();
    let sent = read_until_closed(&mut half, "half-sent headers").await;
    assert!(!sent.contains("200 OK"), "{sent}");
    // A kept-alive connection, idle after its answer.
    let mut kept = connect_from(&s, [127, 0, 0, 1]).await;
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: rapport\r\n\r\n")
        .await
        .unwrap();
    let sent = read_until_closed(&mut kept, "an idle kept-alive connection").await;
    assert!(sent.starts_with("HTTP/1.1 200 OK"), "{sent}");
    // A body that trickles in a byte at a time, each well within any per-chunk timer.
    let mut slow = connect_from(&s, [127, 0, 0, 1]).await;
    slow.write_all(
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: rapport\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n{",
    )
    .await
    .unwrap();
    let (mut reader, mut writer) = slow.into_split();
    let trickle = async {
        for _ in 0..4000 {
            if writer.write_all(b" ").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let (sent, ()) = tokio::join!(read_until_closed(&mut reader, "a trickling body"), trickle);
    assert!(sent.starts_with("HTTP/1.1 408"), "{sent}");
    assert!(sent.contains("\"code\":\"request_timeout\""), "{sent}");
    // The server still answers.
    assert_eq!(s.get("/healthz").await.0, 200);
}

async fn connections_are_capped_per_client(b: Backend) {
    let s = TestServer::start_with(
        b,
        ServerConfig {
            limits: Limits {
                header_timeout: Duration::from_secs(300),
                max_connections: 8,
                max_connections_per_client: 4,
                ..Limits::default()
            },
            ..ServerConfig::default()
        },
    )
    .await;
    let request = b"GET /healthz HTTP/1.1\r\nHost: rapport\r\n\r\n";
    // One client holds its four connections idle…
    let mut hogs = Vec::new();
    for _ in 0..4 {
        hogs.push(connect_from(&s, [127, 0, 0, 3]).await);
    }
    // …a fifth is closed without an answer…
    let mut fifth = connect_from(&s, [127, 0, 0, 3]).await;
    let _ = fifth.write_all(request).await;
    let sent = read_until_closed(&mut fifth, "a connection over the per-client cap").await;
    assert!(!sent.contains("200 OK"), "{sent}");
    // …while other clients are served.
    let mut other = connect_from(&s, [127, 0, 0, 4]).await;
    other.write_all(request).await.unwrap();
    let mut answer = [0u8; 64];
    let n = other.read(&mut answer).await.unwrap();
    assert!(
        String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 200 OK"),
        "another client was not served"
    );
    // The global cap: three more clients fill it (4 + 1 + 3 = 8); the next is closed.
    for from in [5, 6, 7] {
        hogs.push(connect_from(&s, [127, 0, 0, from]).await);
    }
    let mut late = connect_from(&s, [127, 0, 0, 8]).await;
    let _ = late.write_all(request).await;
    let sent = read_until_closed(&mut late, "a connection over the global cap").await;
    assert!(!sent.contains("200 OK"), "{sent}");
    // Closed connections give their places back.
    drop(hogs);
    let mut served = false;
    for _ in 0..100 {
        let mut again = connect_from(&s, [127, 0, 0, 3]).await;
        let _ = again.write_all(request).await;
        let mut answer = [0u8; 64];
        if let Ok(n) = again.read(&mut answer).await {
            if String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 200 OK") {
                served = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        served,
        "the places of closed connections were not given back"
    );
}

async fn metrics_are_off_without_a_token(b: Backend) {
    let s = TestServer::start_with(b, ServerConfig::default()).await;
    assert_error(
        &s.as_auth(Auth::None).get("/metrics").await,
        404,
        "not_found",
    );
    // Not even a user's own API token opens them.
    assert_error(&s.get("/metrics").await, 404, "not_found");
}

async fn outbound_calls_to_private_addresses_are_refused(b: Backend) {
    // A server as deployed: no allow-list.
    let s = TestServer::start_with_outbound(b, ServerConfig::default(), Outbound::strict()).await;
    // A receiver on loopback that must never be called — standing in for Rapport's own API
    // (the original attack POSTed to /api/v1/auth/logout), the database or an intranet host.
    let (base, received, _task) = snapshots::receiver().await;
    let port = base.rsplit(':').next().unwrap();
    let own = s.base.rsplit(':').next().unwrap();
    let endpoint = |server: &TestServer, url: String| {
        let api = server.api.clone();
        async move {
            api.post(
                "/api/v1/webhooks",
                json!({"url": url, "topics": ["record.created"], "objects": ["deal"]}),
            )
            .await
        }
    };
    for target in [
        format!("{base}/ok"),
        format!("http://127.0.0.1:{own}/api/v1/auth/logout"),
        format!("http://localhost:{port}/ok"),
        format!("http://LocalHost.:{port}/ok"),
        format!("http://127.1:{port}/ok"),
        format!("http://0x7f000001:{port}/ok"),
        format!("http://2130706433:{port}/ok"),
        format!("http://0177.0.0.1:{port}/ok"),
        format!("http://[::1]:{port}/ok"),
        format!("http://[::ffff:127.0.0.1]:{port}/ok"),
        format!("http://0.0.0.0:{port}/ok"),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://100.100.100.200/latest/meta-data/".to_string(),
        "http://10.0.0.1/hook".to_string(),
        "http://192.168.1.1/hook".to_string(),
        "http://[fd00:ec2::254]/hook".to_string(),
    ] {
        let got = endpoint(&s, target.clone()).await;
        assert_error(&got, 422, "url_not_allowed");
        assert!(
            !got.1["message"].as_str().unwrap().contains(port),
            "{target}: {}",
            got.1
        );
    }
    // A name that resolves to loopback passes the URL check and is refused when connecting,
    // with the same words as a port where nothing listens: no port scanning through it.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let loopback_name = std::fs::read_to_string("/etc/hosts")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            l.split_whitespace()
                .collect::<Vec<_>>()
                .split_first()
                .map(|(ip, names)| {
                    (
                        ip.to_string(),
                        names.iter().map(|n| n.to_string()).collect::<Vec<_>>(),
                    )
                })
        })
        .filter(|(ip, _)| ip.starts_with("127."))
        .flat_map(|(_, names)| names)
        .find(|n| !n.contains("localhost"))
        .unwrap_or_else(|| "localhost.localdomain".to_string());
    let (status, blocked) = endpoint(&s, format!("http://{loopback_name}:{port}/ok")).await;
    assert_eq!(status, 201, "{blocked}");
    let allowed = TestServer::start_with_outbound(
        b,
        ServerConfig::default(),
        Outbound::allowing("127.0.0.1").unwrap(),
    )
    .await;
    let (_, refused) = endpoint(&allowed, format!("http://127.0.0.1:{closed}/hook")).await;
    s.create("deal", json!({"name": "x"})).await;
    allowed.create("deal", json!({"name": "x"})).await;
    let first_error = |server: &TestServer, id: String| {
        let api = server.api.clone();
        async move {
            for _ in 0..300 {
                let (_, log) = api.get(&format!("/api/v1/webhooks/{id}/deliveries")).await;
                let attempt = log[0]["attempts"]
                    .as_array()
                    .and_then(|a| a.first())
                    .cloned();
                if let Some(attempt) = attempt {
                    assert!(attempt["status"].is_null(), "{attempt}");
                    return attempt["error"].as_str().unwrap().to_string();
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            panic!("no attempt logged")
        }
    };
    let blocked_error = first_error(&s, blocked["id"].as_str().unwrap().to_string()).await;
    let refused_error = first_error(&allowed, refused["id"].as_str().unwrap().to_string()).await;
    assert_eq!(
        blocked_error, refused_error,
        "a refused address ({loopback_name}) and a closed port must read the same"
    );
    assert!(
        received.lock().unwrap().is_empty(),
        "the loopback receiver was called"
    );
    // The operator's allow-list lets an intranet receiver in.
    let (status, _) = endpoint(&allowed, format!("{base}/ok")).await;
    assert_eq!(status, 201);
    allowed.create("deal", json!({"name": "y"})).await;
    for _ in 0..300 {
        if !received.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(received.lock().unwrap().len(), 1);
}

async fn cross_site_requests_with_the_session_cookie_are_refused(b: Backend) {
    let s = TestServer::start(b).await;
    let login = s
        .as_auth(Auth::None)
        .call(Method::POST, "/api/v1/auth/login")
        .json(&json!({"email": s.admin.email, "password": ADMIN_PASSWORD}))
        .send()
        .await;
    let cookie = format!("rapport_session={}", login.session_cookie().unwrap());
    let raw = s.as_auth(Auth::None);
    let host = s.base.trim_start_matches("http://").to_string();
    let (status, hook) = s
        .post(
            "/api/v1/webhooks",
            json!({"url": "https://erp.example.cn/hook", "topics": ["record.created"], "enabled": false}),
        )
        .await;
    assert_eq!(status, 201, "{hook}");
    let rotate = format!(
        "/api/v1/webhooks/{}/rotate-secret",
        hook["id"].as_str().unwrap()
    );
    let secret_path = format!("/api/v1/webhooks/{}/secret", hook["id"].as_str().unwrap());
    let (_, before) = s.get(&secret_path).await;
    // What a page on another port of the same host can send: a text/plain form post and a
    // body-less POST, with the browser's fetch metadata.
    let attacks: [(&str, &str); 4] = [
        (rotate.as_str(), "text/plain"),
        ("/api/v1/auth/logout", ""),
        (
            "/api/v1/objects/contact/records",
            "application/x-www-form-urlencoded",
        ),
        ("/api/v1/cdp/sources", "text/plain"),
    ];
    for (path, content_type) in attacks {
        for (origin, fetch_site) in [
            (Some("http://127.0.0.1:1"), Some("same-site")),
            (Some("http://evil.example"), Some("cross-site")),
            (None, None),
        ] {
            let mut call = raw
                .call(Method::POST, path)
                .header("cookie", &cookie)
                .raw("{}", (!content_type.is_empty()).then_some(content_type));
            if let Some(origin) = origin {
                call = call.header("origin", origin);
            }
            if let Some(site) = fetch_site {
                call = call.header("sec-fetch-site", site);
            }
            let r = call.send().await;
            assert_error(&(r.status, r.body), 403, "cross_site_request");
        }
    }
    let (_, after) = s.get(&secret_path).await;
    assert_eq!(before, after, "the signing secret was rotated");
    let session = raw
        .call(Method::GET, "/api/v1/auth/me")
        .header("cookie", &cookie);
    assert_eq!(session.send().await.status, 200, "the session was ended");
    // Rapport's own pages pass: X-Requested-With, same-origin fetch metadata, or its origin.
    let own: [(&str, String); 3] = [
        ("x-requested-with", "XMLHttpRequest".into()),
        ("sec-fetch-site", "same-origin".into()),
        ("origin", format!("http://{host}")),
    ];
    for (name, value) in own {
        let r = raw
            .call(Method::POST, &rotate)
            .header("cookie", &cookie)
            .header(name, &value)
            .json(&json!({}))
            .send()
            .await;
        assert_eq!(r.status, 200, "{name}: {}", r.text);
    }
    // Bearer-token clients and the tracking API do not need it.
    let r = s
        .call(Method::POST, &rotate)
        .header("origin", "http://evil.example")
        .json(&json!({}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let (status, source) = s
        .post(
            "/api/v1/cdp/sources",
            json!({"name": "Shop", "kind": "web"}),
        )
        .await;
    assert_eq!(status, 201, "{source}");
    let r = raw
        .call(Method::POST, "/v1/track")
        .header("cookie", &cookie)
        .header("origin", "http://shop.example")
        .header("sec-fetch-site", "cross-site")
        .json(&json!({"writeKey": source["write_key"], "userId": "u1", "event": "Viewed"}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

async fn fields_and_labels_are_capped(b: Backend) {
    let s = TestServer::start(b).await;
    let field =
        |i: usize| json!({"api_name": format!("f{i}"), "label": format!("F{i}"), "type": "text"});
    // 501 fields in one object: 422, not a database error.
    let too_many: Vec<_> = (1..=501).map(field).collect();
    let got = s
        .post(
            "/api/v1/objects",
            json!({"api_name": "wide", "label": "Wide", "plural_label": "Wides", "fields": too_many}),
        )
        .await;
    assert_error(&got, 422, "too_many_fields");
    // 499 and the name field make 500; the next one is refused, archived ones count.
    let fields: Vec<_> = (1..=499).map(field).collect();
    let (status, body) = s
        .post(
            "/api/v1/objects",
            json!({"api_name": "wide", "label": "Wide", "plural_label": "Wides", "fields": fields}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let more = s.post("/api/v1/objects/wide/fields", field(500)).await;
    assert_error(&more, 422, "too_many_fields");
    assert_eq!(s.delete("/api/v1/objects/wide/fields/f1").await.0, 200);
    let more = s.post("/api/v1/objects/wide/fields", field(501)).await;
    assert_error(&more, 422, "too_many_fields");
    // The object still works.
    s.create("wide", json!({"name": "w", "f499": "x"})).await;

    // Labels: 200 characters per language at most, on fields, options, objects.
    let long = "标".repeat(201);
    let got = s
        .post(
            "/api/v1/objects/contact/fields",
            json!({"api_name": "nickname", "label": long, "type": "text"}),
        )
        .await;
    assert_error(&got, 422, "invalid_label");
    let got = s
        .post(
            "/api/v1/objects/contact/fields",
            json!({"api_name": "tier", "label": "Tier", "type": "select",
                   "config": {"options": [{"value": "a", "label": {"en": "A", "zh": long}}]}}),
        )
        .await;
    assert_error(&got, 422, "invalid_label");
    let got = s
        .patch(
            "/api/v1/objects/contact",
            json!({"label": {"en": long, "zh": "联系人"}}),
        )
        .await;
    assert_error(&got, 422, "invalid_label");
    let ok = s
        .post(
            "/api/v1/objects/contact/fields",
            json!({"api_name": "nickname", "label": "标".repeat(200), "type": "text"}),
        )
        .await;
    assert_eq!(ok.0, 201, "{}", ok.1);
}

async fn exported_multi_select_values_are_neutralised(b: Backend) {
    let s = TestServer::start(b).await;
    let formula = "=HYPERLINK(\"http://evil.example\",\"x\")";
    let (status, body) = s
        .post(
            "/api/v1/objects/contact/fields",
            json!({"api_name": "tags", "label": "Tags", "type": "multi_select",
                   "config": {"options": [{"value": formula, "label": "Formula"},
                                          {"value": "@SUM(A1)", "label": "At"},
                                          {"value": "plain", "label": "Plain"}]}}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    s.create(
        "contact",
        json!({"name": "+1 formula", "tags": [formula, "plain"]}),
    )
    .await;
    s.create("contact", json!({"name": "Second", "tags": ["@SUM(A1)"]}))
        .await;
    let csv = s
        .call(Method::POST, "/api/v1/objects/contact/records/export")
        .json(&json!({"fields": ["name", "tags"], "sort": ["name"]}))
        .send()
        .await;
    assert_eq!(csv.status, 200, "{}", csv.text);
    let rows: Vec<&str> = csv.text.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{}", csv.text);
    for row in rows {
        for cell in row.split(',').skip(1) {
            let cell = cell.trim_start_matches('"');
            assert!(
                !cell.starts_with(['=', '+', '-', '@']),
                "an exported cell starts a formula: {row}"
            );
        }
    }
    assert!(csv.text.contains("'@SUM(A1)"), "{}", csv.text);
    assert!(csv.text.contains("'=HYPERLINK("), "{}", csv.text);
    assert!(csv.text.contains("'+1 formula"), "{}", csv.text);
}
