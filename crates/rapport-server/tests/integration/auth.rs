//! Authentication and authorisation: sessions in HttpOnly SameSite cookies, failed logins and
//! their throttle, logout, bearer tokens (garbage, revoked), the audit of token changes,
//! read-only roles, custom roles and deactivated users.

use crate::harness::{assert_error, unique_email, Auth, Backend, TestServer, ADMIN_PASSWORD};
use reqwest::Method;
use serde_json::{json, Value};

crate::both_backends!(
    login_sessions_and_logout,
    failed_logins_are_throttled,
    bearer_tokens,
    roles_limit_what_users_do,
    deactivated_users_lose_access,
);

async fn login_sessions_and_logout(b: Backend) {
    let s = TestServer::start(b).await;
    let anonymous = s.as_auth(Auth::None);
    let login = anonymous
        .call(Method::POST, "/api/v1/auth/login")
        .json(&json!({"email": format!("  {}  ", s.admin.email.to_uppercase()), "password": ADMIN_PASSWORD}))
        .send()
        .await;
    assert_eq!(login.status, 200, "{}", login.text);
    let set_cookie = login.header("set-cookie").expect("set-cookie");
    assert!(
        set_cookie.starts_with("rapport_session=rpt_"),
        "{set_cookie}"
    );
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=1209600"] {
        assert!(
            set_cookie.contains(attribute),
            "{attribute} missing: {set_cookie}"
        );
    }
    assert!(
        !set_cookie.contains("Secure"),
        "not Secure by default: {set_cookie}"
    );
    assert_eq!(login.body["user"]["id"], s.admin.id.as_str());
    assert_eq!(login.body["role"]["id"], "admin");
    assert_eq!(login.body["workspace"]["id"], s.workspace.id.as_str());
    assert!(login.body["user"].get("password_hash").is_none());
    let cookie = login.session_cookie().expect("cookie");
    let session = s.as_auth(Auth::Cookie(cookie.clone()));

    let (status, me) = session.get("/api/v1/auth/me").await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["user"]["email"], s.admin.email.as_str());
    assert_eq!(me["workspace"]["utc_offset_minutes"], 480);
    // The session works on every API route.
    assert_eq!(session.get("/api/v1/objects/contact/records").await.0, 200);
    // Change own name and language.
    let (status, me) = session
        .patch(
            "/api/v1/auth/me",
            json!({"name": "管理员", "locale": "zh-CN"}),
        )
        .await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["user"]["name"], "管理员");
    assert_eq!(me["user"]["locale"], "zh-CN");
    assert_error(
        &session
            .patch("/api/v1/auth/me", json!({"locale": "fr"}))
            .await,
        400,
        "invalid_locale",
    );
    assert_error(
        &session
            .patch(
                "/api/v1/auth/me",
                json!({"current_password": "wrong password", "new_password": "a new password"}),
            )
            .await,
        403,
        "invalid_credentials",
    );
    assert_error(
        &session
            .patch(
                "/api/v1/auth/me",
                json!({"current_password": ADMIN_PASSWORD, "new_password": "short"}),
            )
            .await,
        422,
        "weak_password",
    );

    // Wrong password, unknown email: the same 401.
    let wrong = anonymous
        .post(
            "/api/v1/auth/login",
            json!({"email": s.admin.email, "password": "not the password"}),
        )
        .await;
    assert_error(&wrong, 401, "invalid_credentials");
    let unknown = anonymous
        .post(
            "/api/v1/auth/login",
            json!({"email": "nobody@example.com", "password": "not the password"}),
        )
        .await;
    assert_error(&unknown, 401, "invalid_credentials");
    assert_eq!(wrong.1["message"], unknown.1["message"]);
    assert_error(
        &anonymous
            .post("/api/v1/auth/login", json!({"email": s.admin.email}))
            .await,
        400,
        "invalid_body",
    );
    assert_error(
        &anonymous
            .post(
                "/api/v1/auth/login",
                json!({"email": s.admin.email, "password": ADMIN_PASSWORD, "remember": true}),
            )
            .await,
        400,
        "invalid_body",
    );

    // Logins are audited, successes and failures.
    let (_, audit) = s.get("/api/v1/audit?action=login").await;
    let outcomes: Vec<&str> = audit
        .as_array()
        .expect("audit")
        .iter()
        .map(|e| e["outcome"].as_str().expect("outcome"))
        .collect();
    assert!(outcomes.contains(&"success"), "{audit}");
    assert!(outcomes.contains(&"failure"), "{audit}");

    // Logout ends the session and clears the cookie.
    let logout = session
        .call(Method::POST, "/api/v1/auth/logout")
        .send()
        .await;
    assert_eq!(logout.status, 204, "{}", logout.text);
    let cleared = logout.header("set-cookie").expect("set-cookie");
    assert!(cleared.starts_with("rapport_session=;"), "{cleared}");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert_error(
        &session.get("/api/v1/auth/me").await,
        401,
        "unauthenticated",
    );
    assert_error(
        &session.get("/api/v1/objects/contact/records").await,
        401,
        "unauthenticated",
    );
    // Logging out without a session is harmless.
    assert_eq!(
        anonymous
            .call(Method::POST, "/api/v1/auth/logout")
            .send()
            .await
            .status,
        204
    );

    // No credentials at all, and made-up cookies.
    for path in [
        "/api/v1/auth/me",
        "/api/v1/objects/contact/records",
        "/api/v1/objects",
        "/api/v1/search?q=a",
        "/api/v1/users",
    ] {
        assert_error(&anonymous.get(path).await, 401, "unauthenticated");
    }
    assert_error(
        &anonymous
            .post(
                "/api/v1/objects/contact/records",
                json!({"values": {"name": "x"}}),
            )
            .await,
        401,
        "unauthenticated",
    );
    for fake in ["rpt_forged", "", &"x".repeat(500)] {
        let forged = s.as_auth(Auth::Cookie(fake.to_string()));
        assert_error(&forged.get("/api/v1/auth/me").await, 401, "unauthenticated");
    }
    // The public routes need none.
    assert_eq!(anonymous.get("/healthz").await.0, 200);
    assert_eq!(anonymous.get("/api/openapi.json").await.0, 200);
}

async fn failed_logins_are_throttled(b: Backend) {
    let s = TestServer::start(b).await;
    let (victim, _) = s.user_with_role("sales").await;
    // The attacker guesses from 127.0.0.2; the victim logs in from 127.0.0.1.
    let attacker = s.as_auth(Auth::None).on_address([127, 0, 0, 2].into());
    for attempt in 1..=10 {
        let got = attacker
            .post(
                "/api/v1/auth/login",
                json!({"email": victim.email, "password": format!("guess {attempt}")}),
            )
            .await;
        assert_error(&got, 401, "invalid_credentials");
    }
    let throttled = attacker
        .call(Method::POST, "/api/v1/auth/login")
        .json(&json!({"email": victim.email, "password": "guess 11"}))
        .send()
        .await;
    assert_error(
        &(throttled.status, throttled.body.clone()),
        429,
        "too_many_attempts",
    );
    assert_eq!(throttled.header("retry-after").as_deref(), Some("900"));
    // While throttled even the right password is refused from that client, whatever the case,
    // whitespace or X-Forwarded-For it sends…
    let right = attacker
        .call(Method::POST, "/api/v1/auth/login")
        .header("x-forwarded-for", "203.0.113.50")
        .json(&json!({"email": format!(" {} ", victim.email.to_uppercase()), "password": ADMIN_PASSWORD}))
        .send()
        .await;
    assert_error(&(right.status, right.body), 429, "too_many_attempts");
    // …but the account's owner, on another address, is not locked out,
    let owner = s.login(&victim.email, ADMIN_PASSWORD).await;
    assert_eq!(owner.get("/api/v1/auth/me").await.0, 200);
    // and other accounts are not affected for anyone.
    let other = s.login(&s.admin.email, ADMIN_PASSWORD).await;
    assert_eq!(other.get("/api/v1/auth/me").await.0, 200);
    // The failures are audited under the account's email, aggregated: one entry when the
    // client started failing and one when it was locked out — not one per attempt.
    let (_, audit) = s.get("/api/v1/audit?action=login&limit=1000").await;
    let failures: Vec<&Value> = audit
        .as_array()
        .expect("audit")
        .iter()
        .filter(|e| e["target"] == victim.email.as_str() && e["outcome"] == "failure")
        .collect();
    assert_eq!(failures.len(), 2, "{audit}");
    assert_eq!(failures[0]["details"]["failures"], 10, "{audit}");
    assert_eq!(failures[0]["details"]["locked"], true, "{audit}");
    assert_eq!(failures[1]["details"]["failures"], 1, "{audit}");
    assert!(failures.iter().all(|e| e["ip"] == "127.0.0.2"), "{audit}");
}

async fn bearer_tokens(b: Backend) {
    let s = TestServer::start(b).await;
    // Garbage in the Authorization header is a 401, never an anonymous request.
    for header in [
        "Bearer garbage",
        "Bearer rpt_garbage",
        "Bearer ",
        "Basic YWRtaW46YWRtaW4=",
        "bearer rpt_lowercase_scheme",
        "rpt_no_scheme",
        &format!("Bearer rpt_{}", "a".repeat(300)),
    ] {
        let api = s.as_auth(Auth::Header(header.to_string()));
        assert_error(&api.get("/api/v1/auth/me").await, 401, "unauthenticated");
        assert_error(
            &api.get("/api/v1/objects/contact/records").await,
            401,
            "unauthenticated",
        );
    }

    // Create a token through the API: shown once, works at once.
    let (status, created) = s
        .call(Method::POST, "/api/v1/tokens")
        .header("x-request-id", "token-create-1")
        .json(&json!({"name": "CI 集成"}))
        .send()
        .await
        .pair();
    assert_eq!(status, 201, "{created}");
    let secret = created["token"].as_str().expect("token").to_string();
    let token_id = created["id"].as_str().expect("id").to_string();
    assert!(secret.starts_with("rpt_") && secret.len() == 44, "{secret}");
    assert_eq!(created["prefix"], &secret[..8]);
    assert_eq!(created["name"], "CI 集成");
    assert_eq!(created["user_id"], s.admin.id.as_str());
    let api = s.as_auth(Auth::Bearer(secret.clone()));
    let (status, me) = api.get("/api/v1/auth/me").await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["user"]["id"], s.admin.id.as_str());
    // Listed without the secret, with its last use.
    let (_, tokens) = s.get("/api/v1/tokens").await;
    let listed = tokens
        .as_array()
        .expect("tokens")
        .iter()
        .find(|t| t["id"] == token_id.as_str())
        .cloned()
        .expect("listed");
    assert!(listed.get("token").is_none(), "{listed}");
    assert!(!tokens.to_string().contains(&secret));
    assert!(listed["last_used_at"].is_string(), "{listed}");
    assert_error(
        &s.post("/api/v1/tokens", json!({"name": "  "})).await,
        422,
        "invalid_name",
    );

    // Revoke: the token stops working at once.
    let revoke = s
        .call(Method::DELETE, &format!("/api/v1/tokens/{token_id}"))
        .header("x-request-id", "token-revoke-1")
        .send()
        .await;
    assert_eq!(revoke.status, 204, "{}", revoke.text);
    assert_error(&api.get("/api/v1/auth/me").await, 401, "unauthenticated");
    assert_error(
        &api.post(
            "/api/v1/objects/contact/records",
            json!({"values": {"name": "x"}}),
        )
        .await,
        401,
        "unauthenticated",
    );
    let (_, tokens) = s.get("/api/v1/tokens").await;
    let listed = tokens
        .as_array()
        .expect("tokens")
        .iter()
        .find(|t| t["id"] == token_id.as_str())
        .cloned()
        .expect("still listed");
    assert!(listed["revoked_at"].is_string());
    assert_error(
        &s.delete("/api/v1/tokens/no-such-token").await,
        404,
        "not_found",
    );

    // Both are in the audit log.
    let (_, created_log) = s.get("/api/v1/audit?action=token.create").await;
    let entry = created_log
        .as_array()
        .expect("audit")
        .iter()
        .find(|e| e["target"] == token_id.as_str())
        .cloned()
        .expect("token.create audited");
    assert_eq!(entry["actor_id"], s.admin.id.as_str());
    assert_eq!(entry["request_id"], "token-create-1");
    assert_eq!(entry["outcome"], "success");
    assert!(
        !created_log.to_string().contains(&secret),
        "the secret is never logged"
    );
    let (_, revoked_log) = s.get("/api/v1/audit?action=token.revoke").await;
    let entry = revoked_log
        .as_array()
        .expect("audit")
        .iter()
        .find(|e| e["target"] == token_id.as_str())
        .cloned()
        .expect("token.revoke audited");
    assert_eq!(entry["request_id"], "token-revoke-1");

    // Users manage their own tokens only; admins may revoke anyone's.
    let (sales, sales_api) = s.user_with_role("sales").await;
    let (status, own) = sales_api
        .post("/api/v1/tokens", json!({"name": "mine"}))
        .await;
    assert_eq!(status, 201, "{own}");
    assert_eq!(own["user_id"], sales.id.as_str());
    let (_, theirs) = sales_api.get("/api/v1/tokens").await;
    assert!(theirs
        .as_array()
        .expect("tokens")
        .iter()
        .all(|t| t["user_id"] == sales.id.as_str()));
    assert_error(
        &sales_api.get("/api/v1/tokens?all=true").await,
        403,
        "forbidden",
    );
    let (_, admin_tokens) = s.get("/api/v1/tokens").await;
    let admin_token = admin_tokens[0]["id"].as_str().expect("id").to_string();
    assert_error(
        &sales_api
            .delete(&format!("/api/v1/tokens/{admin_token}"))
            .await,
        404,
        "not_found",
    );
    let (_, all) = s.get("/api/v1/tokens?all=true").await;
    assert!(all
        .as_array()
        .expect("tokens")
        .iter()
        .any(|t| t["id"] == own["id"]));
    assert_eq!(
        s.delete(&format!(
            "/api/v1/tokens/{}",
            own["id"].as_str().expect("id")
        ))
        .await
        .0,
        204
    );
    let revoked = s.as_auth(Auth::Bearer(
        own["token"].as_str().expect("token").to_string(),
    ));
    assert_error(
        &revoked.get("/api/v1/auth/me").await,
        401,
        "unauthenticated",
    );
}

async fn roles_limit_what_users_do(b: Backend) {
    let s = TestServer::start(b).await;
    let contact = s.create("contact", json!({"name": "Existing"})).await;
    let path = format!(
        "/api/v1/objects/contact/records/{}",
        contact["id"].as_str().expect("id")
    );

    // A read-only user, created through the API and logged in.
    let email = unique_email("reader");
    let (status, reader) = s
        .post(
            "/api/v1/users",
            json!({"email": email, "name": "Reader", "password": ADMIN_PASSWORD, "role_id": "read_only"}),
        )
        .await;
    assert_eq!(status, 201, "{reader}");
    let ro = s.login(&email, ADMIN_PASSWORD).await;
    let (status, list) = ro.list("contact", &[]).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["data"].as_array().expect("data").len(), 1);
    assert_eq!(ro.get(&path).await.0, 200);
    assert_eq!(
        ro.post("/api/v1/objects/contact/records/query", json!({}))
            .await
            .0,
        200
    );
    assert_error(
        &ro.post(
            "/api/v1/objects/contact/records",
            json!({"values": {"name": "No"}}),
        )
        .await,
        403,
        "forbidden",
    );
    assert_error(
        &ro.patch(&path, json!({"values": {"name": "No"}})).await,
        403,
        "forbidden",
    );
    assert_error(&ro.delete(&path).await, 403, "forbidden");
    assert_error(
        &ro.post(
            "/api/v1/objects/contact/records/batch/create",
            json!({"records": [{"values": {"name": "No"}}]}),
        )
        .await,
        403,
        "forbidden",
    );
    assert_error(
        &ro.post(
            &format!("{path}/history/restore"),
            json!({"at": chrono::Utc::now().to_rfc3339()}),
        )
        .await,
        403,
        "forbidden",
    );
    assert_eq!(s.count("contact").await, 1);
    let (_, still) = s.get(&path).await;
    assert_eq!(still["values"]["name"], "Existing");
    // The denials are audited against the object.
    let (_, denied) = s.get("/api/v1/audit?action=permission_denied").await;
    let reader_id = reader["id"].as_str().expect("id");
    let targets: Vec<&str> = denied
        .as_array()
        .expect("audit")
        .iter()
        .filter(|e| e["actor_id"] == reader_id)
        .map(|e| e["target"].as_str().expect("target"))
        .collect();
    assert!(
        targets.len() >= 5 && targets.iter().all(|t| *t == "contact"),
        "{denied}"
    );

    // A custom role: deals read-only, contacts hidden, everything else full.
    let (status, role) = s
        .call(Method::PUT, "/api/v1/roles/deal_viewer")
        .json(&json!({"name": "Deal viewer", "permissions": {"*": "crud", "deal": "r", "contact": ""}}))
        .send()
        .await
        .pair();
    assert_eq!(status, 200, "{role}");
    assert_error(
        &s.call(Method::PUT, "/api/v1/roles/bad_role")
            .json(&json!({"name": "Bad", "permissions": {"*": "crudx"}}))
            .send()
            .await
            .pair(),
        400,
        "invalid_permissions",
    );
    let (_, viewer) = s.user_with_role("deal_viewer").await;
    assert_eq!(viewer.list("deal", &[]).await.0, 200);
    assert_error(
        &viewer
            .post(
                "/api/v1/objects/deal/records",
                json!({"values": {"name": "D"}}),
            )
            .await,
        403,
        "forbidden",
    );
    assert_error(&viewer.list("contact", &[]).await, 403, "forbidden");
    assert_error(&viewer.get(&path).await, 403, "forbidden");
    let company = viewer.create("company", json!({"name": "Viewer Co"})).await;
    // Hidden objects are missing from the object list, reverse lists and expansions.
    let (_, objects) = viewer.get("/api/v1/objects").await;
    assert!(!objects
        .as_array()
        .expect("objects")
        .iter()
        .any(|o| o["api_name"] == "contact"));
    let (_, related) = viewer.get("/api/v1/objects/company/related").await;
    assert!(!related
        .as_array()
        .expect("lists")
        .iter()
        .any(|l| l["object"] == "contact"));
    assert!(company["values"]["name"] == "Viewer Co");
    // Users are listed for everyone in the workspace, with emails for administrators only;
    // only admins change them.
    let (status, listed) = viewer.get("/api/v1/users").await;
    assert_eq!(status, 200, "{listed}");
    let listed = listed.as_array().expect("users");
    assert!(listed
        .iter()
        .any(|u| u["id"] == s.admin.id.as_str() && u["email"].is_null()));
    assert!(listed.iter().all(|u| u["name"].is_string()));
    let (_, all) = s.get("/api/v1/users").await;
    assert!(all
        .as_array()
        .expect("users")
        .iter()
        .all(|u| u["email"].as_str().is_some_and(|e| e.contains('@'))));
    let (_, roles) = s.get("/api/v1/roles").await;
    let ids: Vec<&str> = roles
        .as_array()
        .expect("roles")
        .iter()
        .map(|r| r["id"].as_str().expect("id"))
        .collect();
    for id in ["admin", "sales", "read_only", "deal_viewer"] {
        assert!(ids.contains(&id), "{roles}");
    }
    // Creating users: unknown roles, taken emails, weak passwords, bad emails.
    let cases: [(Value, u16, &str); 4] = [
        (
            json!({"email": unique_email("x"), "name": "X", "password": ADMIN_PASSWORD, "role_id": "nope"}),
            400,
            "unknown_role",
        ),
        (
            json!({"email": s.admin.email.to_uppercase(), "name": "X", "password": ADMIN_PASSWORD, "role_id": "sales"}),
            409,
            "email_taken",
        ),
        (
            json!({"email": unique_email("x"), "name": "X", "password": "short", "role_id": "sales"}),
            422,
            "weak_password",
        ),
        (
            json!({"email": "not an email", "name": "X", "password": ADMIN_PASSWORD, "role_id": "sales"}),
            422,
            "invalid_email",
        ),
    ];
    for (body, status, code) in cases {
        assert_error(&s.post("/api/v1/users", body).await, status, code);
    }
    // Admins cannot lock themselves out.
    assert_error(
        &s.patch(
            &format!("/api/v1/users/{}", s.admin.id),
            json!({"active": false}),
        )
        .await,
        409,
        "self_lockout",
    );
    assert_error(
        &s.patch(
            &format!("/api/v1/users/{}", s.admin.id),
            json!({"role_id": "sales"}),
        )
        .await,
        409,
        "self_lockout",
    );
}

async fn deactivated_users_lose_access(b: Backend) {
    let s = TestServer::start(b).await;
    let (user, token_api) = s.user_with_role("sales").await;
    let session = s.login(&user.email, ADMIN_PASSWORD).await;
    assert_eq!(session.get("/api/v1/auth/me").await.0, 200);
    assert_eq!(token_api.get("/api/v1/auth/me").await.0, 200);

    let (status, changed) = s
        .patch(
            &format!("/api/v1/users/{}", user.id),
            json!({"active": false}),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["active"], false);
    assert_error(
        &session.get("/api/v1/auth/me").await,
        401,
        "unauthenticated",
    );
    assert_error(
        &token_api.get("/api/v1/auth/me").await,
        401,
        "unauthenticated",
    );
    let login = s
        .as_auth(Auth::None)
        .post(
            "/api/v1/auth/login",
            json!({"email": user.email, "password": ADMIN_PASSWORD}),
        )
        .await;
    assert_error(&login, 401, "invalid_credentials");

    // Reactivated, with a new role and password.
    let (status, changed) = s
        .patch(
            &format!("/api/v1/users/{}", user.id),
            json!({"active": true, "role_id": "read_only", "password": "a brand new password"}),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["role_id"], "read_only");
    let again = s.login(&user.email, "a brand new password").await;
    let (_, me) = again.get("/api/v1/auth/me").await;
    assert_eq!(me["role"]["id"], "read_only");
    assert_error(
        &again
            .post(
                "/api/v1/objects/contact/records",
                json!({"values": {"name": "x"}}),
            )
            .await,
        403,
        "forbidden",
    );
    // The old token works again, with the new role.
    let (_, me) = token_api.get("/api/v1/auth/me").await;
    assert_eq!(me["role"]["id"], "read_only");
    assert_error(
        &s.patch("/api/v1/users/nobody", json!({"name": "x"})).await,
        404,
        "not_found",
    );
}
