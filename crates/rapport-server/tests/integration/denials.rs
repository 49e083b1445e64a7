//! Every refusal is audited the same way: a sweep of every operation of the OpenAPI document
//! as logged-in users who are not administrators (a role with no permissions, and the standard
//! read-only role). Each call carries its own request id; every 403 must leave exactly one
//! `permission_denied` entry with that id, naming the route, and no other answer may leave
//! one. The role with no permissions must be refused everywhere but on the few operations any
//! user may call (their own account and tokens, the users' names and the roles, the lists of
//! what they may read).

use crate::cdp::basic;
use crate::harness::{assert_error, Api, Auth, Backend, TestServer};
use reqwest::Method;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

crate::both_backends!(every_refusal_is_audited_once,);

/// Operations a user whose role allows nothing is not refused: their own account and tokens,
/// the workspace's users and roles, the (empty) lists of what they may read, search, one
/// object's definition (an object you may not read is not found: 404), the region list and
/// the event types' display names.
const ANYONE: &[&str] = &[
    "GET /api/v1/auth/me",
    "PATCH /api/v1/auth/me",
    "POST /api/v1/auth/logout",
    "GET /api/v1/tokens",
    "POST /api/v1/tokens",
    "DELETE /api/v1/tokens/{id}",
    "GET /api/v1/users",
    "GET /api/v1/roles",
    "GET /api/v1/teams",
    "GET /api/v1/objects",
    "GET /api/v1/objects/{object}",
    "GET /api/v1/search",
    "GET /api/v1/regions",
    "GET /api/v1/cdp/event-types",
];

/// Bodies the schema alone does not make acceptable (checked before the permission is).
fn body_for(operation: &str) -> Option<Value> {
    match operation {
        "POST /api/v1/objects/{object}/records/{id}/history/restore" => {
            Some(json!({"at": "2026-01-01T00:00:00Z"}))
        }
        _ => None,
    }
}

/// What the sweep's path parameters name: one of everything, made by the administrator.
struct Fixtures {
    values: BTreeMap<&'static str, String>,
}

impl Fixtures {
    async fn seed(s: &TestServer) -> Fixtures {
        let mut values = BTreeMap::new();
        let contact = s
            .create(
                "contact",
                json!({"name": "Sweep", "email": "sweep@example.com"}),
            )
            .await;
        values.insert("contact", contact["id"].as_str().unwrap().to_string());
        let (status, view) = s
            .post(
                "/api/v1/objects/contact/views",
                json!({"name": "Everyone's", "kind": "list", "shared": true}),
            )
            .await;
        assert_eq!(status, 201, "{view}");
        values.insert("view", view["id"].as_str().unwrap().to_string());
        let (status, source) = s
            .post(
                "/api/v1/cdp/sources",
                json!({"name": "Sweep", "kind": "server"}),
            )
            .await;
        assert_eq!(status, 201, "{source}");
        values.insert("source", source["id"].as_str().unwrap().to_string());
        let (status, body) = s
            .post(
                "/api/v1/cdp/event-types",
                json!({"name": "Order Completed", "schema": {"type": "object"}}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let tracker = s.as_auth(Auth::Header(basic(source["write_key"].as_str().unwrap())));
        let batch = json!({"batch": [
            {"type": "identify", "userId": "sweep-user", "traits": {"email": "sweep@example.com"}},
            {"type": "track", "userId": "sweep-user", "event": "Order Completed"},
            {"type": "identify", "anonymousId": "sweep-anon", "traits": {"plan": "pro"}},
            {"type": "alias", "userId": "sweep-user", "previousId": "sweep-anon"},
        ]});
        let (status, body) = tracker.post("/v1/batch", batch).await;
        assert_eq!(status, 200, "{body}");
        let (_, profiles) = s
            .get("/api/v1/cdp/profiles?identifier_type=user_id&identifier=sweep-user")
            .await;
        values.insert(
            "profile",
            profiles["profiles"][0]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("no profile: {profiles}"))
                .to_string(),
        );
        let (_, merges) = s.get("/api/v1/cdp/merges").await;
        values.insert(
            "merge",
            merges["data"][0]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("no merge: {merges}"))
                .to_string(),
        );
        let condition = json!({"behavior": {"event": "Order Completed",
            "window": {"last": 30, "unit": "days"}, "count": {"op": "gte", "value": 1}}});
        let (status, segment) = s
            .post(
                "/api/v1/cdp/segments",
                json!({"name": "Buyers", "condition": condition}),
            )
            .await;
        assert_eq!(status, 201, "{segment}");
        let segment = segment["id"].as_str().unwrap().to_string();
        let mut live = false;
        for _ in 0..200 {
            let (_, now) = s.get(&format!("/api/v1/cdp/segments/{segment}")).await;
            if now["state"] == "live" {
                live = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(live, "the segment did not become live");
        let (status, snapshot) = s
            .post(
                &format!("/api/v1/cdp/segments/{segment}/snapshots"),
                json!({"name": "Now"}),
            )
            .await;
        assert_eq!(status, 201, "{snapshot}");
        values.insert("snapshot", snapshot["id"].as_str().unwrap().to_string());
        values.insert("segment", segment);
        values.insert("user", s.admin.id.clone());
        let (status, body) = s
            .post(
                "/api/v1/objects/contact/fields",
                json!({"api_name": "papers", "label": {"zh": "资料"}, "type": "attachment"}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let boundary = "sweep-boundary";
        let upload = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nsweep\r\n--{boundary}--\r\n"
        );
        let file = s
            .call(Method::POST, "/api/v1/objects/contact/fields/papers/files")
            .raw(
                upload.into_bytes(),
                Some(&format!("multipart/form-data; boundary={boundary}")),
            )
            .send()
            .await;
        assert_eq!(file.status, 201, "{}", file.text);
        values.insert("file", file.body["id"].as_str().unwrap().to_string());
        Fixtures { values }
    }

    /// `template` with each `{parameter}` replaced by the fixture it names there.
    fn path(&self, template: &str) -> String {
        let v = |k: &str| self.values[k].clone();
        let id = if template.starts_with("/api/v1/objects/{object}/views/") {
            v("view")
        } else if template.starts_with("/api/v1/objects/") || template.contains("/contacts/") {
            v("contact")
        } else if template.contains("/sources/") {
            v("source")
        } else if template.contains("/segments/") {
            v("segment")
        } else if template.contains("/snapshots/") {
            v("snapshot")
        } else if template.contains("/profiles/") {
            v("profile")
        } else if template.contains("/merges/") {
            v("merge")
        } else if template.starts_with("/api/v1/users/") {
            v("user")
        } else if template.starts_with("/api/v1/roles/") {
            "sales".to_string()
        } else if template.starts_with("/api/v1/files/") {
            v("file")
        } else {
            // Jobs and tokens: nothing to name; a refusal comes before the lookup.
            uuid::Uuid::now_v7().to_string()
        };
        let field = if template.contains("/related/") {
            "contact"
        } else {
            "email"
        };
        template
            .replace("{object}", "contact")
            .replace("{id}", &id)
            .replace("{field}", field)
            .replace("{related}", "deal")
            .replace("{tag}", "vip")
            .replace("{segment_id}", &v("segment"))
            .replace("{other}", &v("snapshot"))
    }
}

/// The smallest value that fits `schema` (required properties only), so a refusal is not
/// hidden behind a 400 for a missing property.
fn instance(schema: &Value, doc: &Value) -> Value {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap();
        return instance(&doc["components"]["schemas"][name], doc);
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(options) = schema[key].as_array() {
            let first = options.iter().find(|o| o["type"] != "null").unwrap();
            return instance(first, doc);
        }
    }
    if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
        return first.clone();
    }
    let kind = match &schema["type"] {
        Value::Array(kinds) => kinds.iter().find(|k| *k != "null").cloned(),
        other => Some(other.clone()),
    };
    match kind.as_ref().and_then(Value::as_str) {
        Some("object") | None => {
            let mut out = Map::new();
            for name in schema["required"].as_array().into_iter().flatten() {
                let name = name.as_str().unwrap();
                out.insert(name.to_string(), instance(&schema["properties"][name], doc));
            }
            Value::Object(out)
        }
        Some("array") => json!([instance(&schema["items"], doc)]),
        Some("string") => match schema["format"].as_str() {
            Some("date-time") => json!("2026-01-01T00:00:00Z"),
            Some("date") => json!("2026-01-01"),
            _ => json!("sweep"),
        },
        Some("integer" | "number") => json!(1),
        Some("boolean") => json!(false),
        Some(other) => panic!("unexpected schema type {other}"),
    }
}

struct Answer {
    operation: String,
    status: u16,
    body: Value,
}

/// Calls every `/api/v1` operation as `api`, each with its own request id (`{tag}-{n}`).
async fn sweep(api: &Api, doc: &Value, fixtures: &Fixtures, tag: &str) -> BTreeMap<String, Answer> {
    let mut answers = BTreeMap::new();
    let mut n = 0;
    for (template, item) in doc["paths"].as_object().unwrap() {
        if !template.starts_with("/api/v1/") || template == "/api/v1/auth/login" {
            continue;
        }
        for (method, operation) in item.as_object().unwrap() {
            // Operations open to anyone (an unsubscribe link, an inbound hook, which check a
            // signature of their own) refuse nobody by role.
            if operation["security"] == serde_json::json!([{}]) {
                continue;
            }
            n += 1;
            let request_id = format!("{tag}-{n}");
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let name = format!("{method} {template}");
            // Required query parameters, with the smallest values that fit.
            let query: Vec<(String, String)> = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "query" && p["required"] == true)
                .map(|p| {
                    let value = match instance(&p["schema"], doc) {
                        Value::String(text) => text,
                        other => other.to_string(),
                    };
                    (p["name"].as_str().unwrap().to_string(), value)
                })
                .collect();
            let query: Vec<(&str, &str)> = query
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let mut call = api
                .call(method.clone(), &fixtures.path(template))
                .query(&query)
                .header("x-request-id", &request_id);
            if let Some(schema) = operation.pointer("/requestBody/content/application~1json/schema")
            {
                call = call.json(&body_for(&name).unwrap_or_else(|| instance(schema, doc)));
            }
            let response = call.send().await;
            answers.insert(
                request_id,
                Answer {
                    operation: name,
                    status: response.status,
                    body: response.body,
                },
            );
        }
    }
    answers
}

async fn every_refusal_is_audited_once(b: Backend) {
    let s = TestServer::start(b).await;
    let fixtures = Fixtures::seed(&s).await;
    let (status, role) = s
        .call(Method::PUT, "/api/v1/roles/nothing")
        .json(&json!({"name": "Nothing", "permissions": {}}))
        .send()
        .await
        .pair();
    assert_eq!(status, 200, "{role}");
    let (_, nobody) = s.user_with_role("nothing").await;
    let (_, reader) = s.user_with_role("read_only").await;
    let doc: Value = serde_json::from_str(&rapport_server::openapi::document()).unwrap();

    let mut answers = sweep(&nobody, &doc, &fixtures, "nothing").await;
    let read_only = sweep(&reader, &doc, &fixtures, "read-only").await;

    let mut problems = Vec::new();
    // The role that allows nothing is refused everywhere but where any user may go.
    let refused: BTreeSet<&str> = answers
        .values()
        .filter(|a| a.status == 403)
        .map(|a| a.operation.as_str())
        .collect();
    for answer in answers.values() {
        let expected = !ANYONE.contains(&answer.operation.as_str());
        if expected != (answer.status == 403) {
            problems.push(format!(
                "a user without permissions: {} answered {} {}",
                answer.operation, answer.status, answer.body
            ));
        }
    }
    assert!(
        refused.len() > 80,
        "the sweep refused only {} operations",
        refused.len()
    );
    let reader_refusals = read_only.values().filter(|a| a.status == 403).count();
    assert!(
        reader_refusals > 40,
        "the read-only role was refused only {reader_refusals} times"
    );
    answers.extend(read_only);

    // Every 403 is audited once, with the route and the code; nothing else is.
    let entries = s
        .store
        .list_audit(&s.workspace.id, Some("permission_denied"), None, 1000)
        .await
        .unwrap();
    let mut by_request: BTreeMap<String, Vec<&_>> = BTreeMap::new();
    for entry in &entries {
        if let Some(id) = &entry.request_id {
            by_request.entry(id.clone()).or_default().push(entry);
        }
    }
    for (request_id, answer) in &answers {
        let audited = by_request.get(request_id).map_or(&[][..], Vec::as_slice);
        if answer.status == 403 {
            assert_error(&(answer.status, answer.body.clone()), 403, "forbidden");
            match audited {
                [entry] => {
                    let details = serde_json::to_value(entry).unwrap();
                    if details["details"]["route"] != answer.operation
                        || details["details"]["code"] != "forbidden"
                        || details["outcome"] != "denied"
                        || details["target"].as_str().is_none_or(str::is_empty)
                    {
                        problems.push(format!("{}: audited as {details}", answer.operation));
                    }
                }
                other => problems.push(format!(
                    "{}: 403 with {} permission_denied entries",
                    answer.operation,
                    other.len()
                )),
            }
        } else if !audited.is_empty() {
            problems.push(format!(
                "{}: answered {} but audited as a denial",
                answer.operation, answer.status
            ));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");

    // A cookie request without proof of origin is refused before the caller is known: no
    // workspace's log holds it.
    let before = entries.len();
    let session = s
        .as_auth(Auth::None)
        .call(Method::POST, "/api/v1/auth/login")
        .json(&json!({"email": s.admin.email, "password": crate::harness::ADMIN_PASSWORD}))
        .send()
        .await
        .session_cookie()
        .unwrap();
    let cross_site = s
        .as_auth(Auth::None)
        .call(Method::POST, "/api/v1/objects/contact/records")
        .header("cookie", &format!("rapport_session={session}"))
        .json(&json!({"values": {"name": "Forged"}}))
        .send()
        .await
        .pair();
    assert_error(&cross_site, 403, "cross_site_request");
    let after = s
        .store
        .list_audit(&s.workspace.id, Some("permission_denied"), None, 1000)
        .await
        .unwrap();
    assert_eq!(after.len(), before);
}
