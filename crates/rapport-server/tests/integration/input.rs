//! Hostile and malformed input: bad JSON, unknown keys, wrong content types, oversized bodies,
//! SQL in values and in field names, conditions that are too deep or too large, unknown
//! routes. None of it may produce a 5xx (the harness fails on any).

use crate::harness::{assert_error, Backend, TestServer};
use rapport_server::ServerConfig;
use reqwest::Method;
use serde_json::{json, Value};

crate::both_backends!(
    malformed_bodies_are_client_errors,
    oversized_bodies_are_413,
    sql_in_values_is_data,
    sql_in_field_names_is_refused,
    conditions_have_limits,
    unknown_routes_are_json_404,
    nul_characters_outside_values_are_refused_alike,
);

const CONTACTS: &str = "/api/v1/objects/contact/records";

async fn malformed_bodies_are_client_errors(b: Backend) {
    let s = TestServer::start(b).await;
    let before = s.count("contact").await;

    let truncated = s
        .call(Method::POST, CONTACTS)
        .raw(r#"{"values": {"name": "A""#, Some("application/json"))
        .send()
        .await
        .pair();
    assert_error(&truncated, 400, "invalid_json");
    let garbage = s
        .call(Method::POST, CONTACTS)
        .raw("not json at all", Some("application/json"))
        .send()
        .await
        .pair();
    assert_error(&garbage, 400, "invalid_json");
    let empty = s
        .call(Method::POST, CONTACTS)
        .raw("", Some("application/json"))
        .send()
        .await
        .pair();
    assert_eq!(empty.0, 400, "{}", empty.1);

    let unknown_key = s
        .post(CONTACTS, json!({"values": {"name": "A"}, "extra": 1}))
        .await;
    assert_error(&unknown_key, 400, "invalid_body");
    let wrong_shape = s.post(CONTACTS, json!({"values": ["name", "A"]})).await;
    assert_error(&wrong_shape, 400, "invalid_body");
    let no_values = s.post(CONTACTS, json!({})).await;
    assert_error(&no_values, 400, "invalid_body");
    let array = s.post(CONTACTS, json!([{"values": {"name": "A"}}])).await;
    assert_error(&array, 400, "invalid_body");

    let text = s
        .call(Method::POST, CONTACTS)
        .raw(r#"{"values": {"name": "A"}}"#, Some("text/plain"))
        .send()
        .await
        .pair();
    assert_error(&text, 415, "unsupported_media_type");
    let none = s
        .call(Method::POST, CONTACTS)
        .raw(r#"{"values": {"name": "A"}}"#, None)
        .send()
        .await
        .pair();
    assert_error(&none, 415, "unsupported_media_type");
    let form = s
        .call(Method::POST, CONTACTS)
        .raw("values=1", Some("application/x-www-form-urlencoded"))
        .send()
        .await
        .pair();
    assert_error(&form, 415, "unsupported_media_type");
    // A JSON content type with parameters or a +json suffix is fine.
    let (status, body) = s
        .call(Method::POST, CONTACTS)
        .raw(
            r#"{"values": {"name": "Charset"}}"#,
            Some("application/json; charset=utf-8"),
        )
        .send()
        .await
        .pair();
    assert_eq!(status, 201, "{body}");

    // Invalid UTF-8 inside a JSON string.
    let mut bytes = br#"{"values": {"name": ""#.to_vec();
    bytes.extend_from_slice(&[0xff, 0xfe]);
    bytes.extend_from_slice(br#""}}"#);
    let bad_utf8 = s
        .call(Method::POST, CONTACTS)
        .raw(bytes, Some("application/json"))
        .send()
        .await
        .pair();
    assert_eq!(bad_utf8.0, 400, "{}", bad_utf8.1);

    // A NUL character in a value is refused per field.
    let nul = s
        .post(CONTACTS, json!({"values": {"name": "A\u{0}B"}}))
        .await;
    assert_eq!(
        crate::harness::field_errors(&nul),
        vec![crate::harness::pair("name", "invalid_value")]
    );

    // Query strings: unknown and mistyped parameters.
    assert_error(
        &s.list("contact", &[("bogus", "1")]).await,
        400,
        "invalid_query",
    );
    assert_error(
        &s.list("contact", &[("limit", "many")]).await,
        400,
        "invalid_query",
    );
    assert_error(
        &s.list("contact", &[("limit", "-1")]).await,
        400,
        "invalid_query",
    );
    assert_error(
        &s.list("contact", &[("cursor", "zz")]).await,
        400,
        "invalid_cursor",
    );
    assert_error(
        &s.list("contact", &[("cursor", "5b315d")]).await,
        400,
        "invalid_cursor",
    );
    assert_error(
        &s.list("contact", &[("filter", "{not json")]).await,
        400,
        "invalid_condition",
    );
    assert_error(
        &s.list("contact", &[("sort", "nope")]).await,
        400,
        "invalid_sort",
    );
    assert_error(
        &s.list("contact", &[("sort", "a,b,c,d,e,f")]).await,
        400,
        "invalid_sort",
    );
    assert_error(
        &s.list("contact", &[("fields", "name,nope")]).await,
        400,
        "invalid_fields",
    );
    assert_error(
        &s.list("contact", &[("expand", "nope")]).await,
        400,
        "invalid_expand",
    );

    // History restore needs exactly one of `at` and `change_id`.
    let c = s.create("contact", json!({"name": "R"})).await;
    let restore = format!(
        "{CONTACTS}/{}/history/restore",
        c["id"].as_str().expect("id")
    );
    assert_error(&s.post(&restore, json!({})).await, 400, "invalid_body");
    assert_error(
        &s.post(
            &restore,
            json!({"at": "2020-01-01T00:00:00Z", "change_id": 1}),
        )
        .await,
        400,
        "invalid_body",
    );
    assert_error(
        &s.post(&restore, json!({"at": "yesterday"})).await,
        400,
        "invalid_body",
    );

    assert_eq!(s.count("contact").await, before + 2);
}

async fn oversized_bodies_are_413(b: Backend) {
    let config = ServerConfig {
        max_body_bytes: 64 * 1024,
        ..ServerConfig::default()
    };
    let s = TestServer::start_with(b, config).await;
    let before = s.count("contact").await;
    let big = json!({"values": {"name": "Big", "description": "x".repeat(100 * 1024)}});
    let too_big = s.post(CONTACTS, big).await;
    assert_error(&too_big, 413, "payload_too_large");
    // Also on batch and query endpoints.
    let records: Vec<Value> = (0..2000)
        .map(|i| json!({"values": {"name": format!("contact number {i}")}}))
        .collect();
    assert_error(
        &s.post(
            &format!("{CONTACTS}/batch/create"),
            json!({ "records": records }),
        )
        .await,
        413,
        "payload_too_large",
    );
    assert_eq!(s.count("contact").await, before);
    // Just under the limit is fine.
    let fits = json!({"values": {"name": "Fits", "description": "y".repeat(50 * 1024)}});
    let (status, body) = s.post(CONTACTS, fits).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body["values"]["description"].as_str().map(str::len),
        Some(50 * 1024)
    );
}

async fn sql_in_values_is_data(b: Backend) {
    let s = TestServer::start(b).await;
    let hostile = [
        "Robert'); DROP TABLE x;--",
        "' OR '1'='1",
        "\"; DELETE FROM users; --",
        "100% _real_ \\ back\\slash",
        "$1 ?1 :name @p",
    ];
    let mut ids = Vec::new();
    for text in hostile {
        let created = s
            .create(
                "contact",
                json!({"name": text, "title": text, "wechat": text}),
            )
            .await;
        assert_eq!(created["values"]["name"], text);
        ids.push(created["id"].as_str().expect("id").to_string());
    }
    for (id, text) in ids.iter().zip(hostile) {
        let (status, got) = s.get(&format!("{CONTACTS}/{id}")).await;
        assert_eq!(status, 200, "{got}");
        assert_eq!(got["values"]["name"], text);
        assert_eq!(got["values"]["title"], text);
        assert_eq!(got["values"]["wechat"], text);
        // Filtering by the exact value finds exactly that record.
        let filter = json!({"field": "name", "op": "eq", "value": text}).to_string();
        let (status, found) = s.list("contact", &[("filter", &filter)]).await;
        assert_eq!(status, 200, "{found}");
        assert_eq!(crate::harness::data_ids(&found), vec![id.clone()], "{text}");
    }
    // contains with LIKE wildcards matches them literally.
    let filter = json!({"field": "name", "op": "contains", "value": "100%"}).to_string();
    let (_, found) = s.list("contact", &[("filter", &filter)]).await;
    assert_eq!(crate::harness::data_ids(&found), vec![ids[3].clone()]);
    let filter = json!({"field": "name", "op": "contains", "value": "_real_"}).to_string();
    let (_, found) = s.list("contact", &[("filter", &filter)]).await;
    assert_eq!(crate::harness::data_ids(&found), vec![ids[3].clone()]);
    let filter = json!({"field": "name", "op": "contains", "value": "%"}).to_string();
    let (_, found) = s.list("contact", &[("filter", &filter)]).await;
    assert_eq!(crate::harness::data_ids(&found), vec![ids[3].clone()]);
    // Search treats them as text too.
    let (status, hits) = s
        .call(Method::GET, "/api/v1/search")
        .query(&[("q", "'); DROP")])
        .send()
        .await
        .pair();
    assert_eq!(status, 200, "{hits}");
    let hit_ids: Vec<&str> = hits
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| h["id"].as_str().expect("id"))
        .collect();
    assert_eq!(hit_ids, vec![ids[0].as_str()]);
    // Everything is still there.
    assert_eq!(s.count("contact").await, hostile.len() as i64);
    assert_eq!(s.get("/api/v1/users").await.0, 200);
}

async fn sql_in_field_names_is_refused(b: Backend) {
    let s = TestServer::start(b).await;
    s.create("contact", json!({"name": "Keep me"})).await;
    let names = [
        "name\"; DROP TABLE users; --",
        "name) OR (1=1",
        "name' OR '1'='1",
        "1; SELECT * FROM users",
        "company.name\" --",
        "\"name\"",
        "deleted_at",
        "version",
        "company.\"x\"",
        "NAME",
    ];
    for name in names {
        let filter = json!({"field": name, "op": "eq", "value": "x"});
        let got = s.list("contact", &[("filter", &filter.to_string())]).await;
        assert_error(&got, 400, "invalid_condition");
        let got = s
            .post(&format!("{CONTACTS}/query"), json!({ "filter": filter }))
            .await;
        assert_error(&got, 400, "invalid_condition");
        assert_error(
            &s.list("contact", &[("sort", name)]).await,
            400,
            "invalid_sort",
        );
        let fields = s.list("contact", &[("fields", name)]).await;
        assert_eq!(fields.0, 400, "{}", fields.1);
    }
    // Operator names are checked too.
    let filter = json!({"field": "name", "op": "= 1 OR 1=1 --", "value": "x"}).to_string();
    assert_error(
        &s.list("contact", &[("filter", &filter)]).await,
        400,
        "invalid_condition",
    );
    // Path segments in URLs that look like SQL are simply unknown objects.
    assert_error(
        &s.get("/api/v1/objects/contact%3B%20DROP%20TABLE%20users/records")
            .await,
        404,
        "not_found",
    );
    assert_eq!(s.count("contact").await, 1);
}

fn nested_not(depth: usize) -> Value {
    let mut node = json!({"field": "name", "op": "eq", "value": "x"});
    for _ in 1..depth {
        node = json!({ "not": node });
    }
    node
}

async fn conditions_have_limits(b: Backend) {
    let s = TestServer::start(b).await;
    s.create("contact", json!({"name": "x"})).await;
    let query = format!("{CONTACTS}/query");

    // Depth 8 is allowed, 9 and 50 are not.
    let (status, body) = s.post(&query, json!({ "filter": nested_not(8) })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"].as_array().expect("data").len(),
        0,
        "not^7 of a match is false"
    );
    let (status, body) = s.post(&query, json!({ "filter": nested_not(7) })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"].as_array().expect("data").len(), 1);
    assert_error(
        &s.post(&query, json!({ "filter": nested_not(9) })).await,
        400,
        "invalid_condition",
    );
    let deep = nested_not(50);
    assert_error(
        &s.post(&query, json!({ "filter": deep })).await,
        400,
        "invalid_condition",
    );
    assert_error(
        &s.list("contact", &[("filter", &deep.to_string())]).await,
        400,
        "invalid_condition",
    );
    // Deeper than serde_json's own recursion limit: still a 400.
    let mut very_deep = String::new();
    for _ in 0..200 {
        very_deep.push_str(r#"{"not":"#);
    }
    very_deep.push_str(r#"{"field":"name","op":"is_empty"}"#);
    for _ in 0..200 {
        very_deep.push('}');
    }
    let got = s
        .call(Method::POST, &query)
        .raw(
            format!(r#"{{"filter": {very_deep}}}"#),
            Some("application/json"),
        )
        .send()
        .await
        .pair();
    assert_eq!(got.0, 400, "{}", got.1);
    let got = s.list("contact", &[("filter", &very_deep)]).await;
    assert_error(&got, 400, "invalid_condition");

    // 10,000 leaves: refused, not a 500.
    let leaves: Vec<Value> = (0..10_000)
        .map(|i| json!({"field": "name", "op": "eq", "value": format!("n{i}")}))
        .collect();
    assert_error(
        &s.post(&query, json!({"filter": {"any": leaves}})).await,
        400,
        "invalid_condition",
    );
    // 200 nodes is the limit: 1 combinator + 199 leaves passes, 1 + 200 does not.
    let leaves: Vec<Value> = (0..199)
        .map(|i| json!({"field": "name", "op": "eq", "value": format!("n{i}")}))
        .collect();
    let (status, body) = s.post(&query, json!({"filter": {"any": leaves}})).await;
    assert_eq!(status, 200, "{body}");
    let leaves: Vec<Value> = (0..200)
        .map(|i| json!({"field": "name", "op": "eq", "value": format!("n{i}")}))
        .collect();
    assert_error(
        &s.post(&query, json!({"filter": {"any": leaves}})).await,
        400,
        "invalid_condition",
    );
    // An `in` list of 1,000 values works; 1,001 does not; 10,000 does not.
    let values: Vec<String> = (0..1000).map(|i| format!("v{i}")).collect();
    let (status, body) = s
        .post(
            &query,
            json!({"filter": {"field": "name", "op": "in", "value": values}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    for n in [1001, 10_000] {
        let values: Vec<String> = (0..n).map(|i| format!("v{i}")).collect();
        assert_error(
            &s.post(
                &query,
                json!({"filter": {"field": "name", "op": "in", "value": values}}),
            )
            .await,
            400,
            "invalid_condition",
        );
    }
    // Overlong strings and field names.
    assert_error(
        &s.post(
            &query,
            json!({"filter": {"field": "name", "op": "eq", "value": "x".repeat(1001)}}),
        )
        .await,
        400,
        "invalid_condition",
    );
    assert_error(
        &s.post(
            &query,
            json!({"filter": {"field": "n".repeat(10_000), "op": "eq", "value": "x"}}),
        )
        .await,
        400,
        "invalid_condition",
    );
    // Wrong shapes.
    for bad in [
        json!([]),
        json!("name = 1"),
        json!({}),
        json!({"all": {}}),
        json!({"all": [], "any": []}),
        json!({"field": "name"}),
        json!({"field": "name", "op": "eq"}),
        json!({"field": "name", "op": "eq", "value": null}),
        json!({"field": "name", "op": "is_empty", "value": 1}),
        json!({"field": "name", "op": "eq", "value": "x", "extra": 1}),
        json!({"field": "lifecycle_stage", "op": "eq", "value": "bogus"}),
        json!({"field": "name", "op": "last_n_days", "value": 3}),
        json!({"field": "created_at", "op": "last_n_days", "value": 0}),
        json!({"field": "created_at", "op": "last_n_days", "value": 100_000}),
        json!({"field": "birthday", "op": "between", "value": ["2020-01-01"]}),
        json!({"field": "name", "op": "in", "value": []}),
        json!({"field": "name", "op": "in", "value": [null]}),
    ] {
        assert_error(
            &s.post(&query, json!({ "filter": bad })).await,
            400,
            "invalid_condition",
        );
    }
}

async fn unknown_routes_are_json_404(b: Backend) {
    let s = TestServer::start(b).await;
    // Other paths belong to the web app, which routes them itself (index.html).
    let page = s.call(reqwest::Method::GET, "/nope").send().await;
    assert_eq!(page.status, 200);
    assert!(
        page.text.contains("<html") || page.text.contains("<!doctype html"),
        "{}",
        page.text
    );
    for path in [
        "/api/v1/nope",
        "/v1/nope/deeper",
        "/metrics/x",
        "/api/v2/objects",
        "/api/v1/objects/contact/records/x/y/z/w/v",
        "/api/v1/objects/contact/nope",
    ] {
        let got = s.get(path).await;
        assert_error(&got, 404, "not_found");
        // Even without credentials.
        let anonymous = s.as_auth(crate::harness::Auth::None).get(path).await;
        assert_error(&anonymous, 404, "not_found");
    }
    let got = s.post("/api/v1/nope", json!({})).await;
    assert_error(&got, 404, "not_found");
    // An unknown object and an unknown record of a known object.
    assert_error(&s.get("/api/v1/objects/nope").await, 404, "not_found");
    assert_error(
        &s.get("/api/v1/objects/nope/records").await,
        404,
        "not_found",
    );
    assert_error(
        &s.get(&format!("{CONTACTS}/does-not-exist")).await,
        404,
        "not_found",
    );
}

/// A NUL character (which PostgreSQL cannot hold) in an id, a cursor or a name is the same 400
/// `nul_character` on both backends — before, PostgreSQL answered 500; in a record value it
/// stays the field's `invalid_value`.
async fn nul_characters_outside_values_are_refused_alike(b: Backend) {
    let s = TestServer::start(b).await;
    let nul = "nul_character";
    assert_error(&s.get(&format!("{CONTACTS}/a%00b")).await, 400, nul);
    assert_error(&s.get("/api/v1/cdp/segments/%00").await, 400, nul);
    assert_error(&s.get("/api/v1/cdp/events?message_id=m%00").await, 400, nul);
    assert_error(
        &s.post(
            &format!("{CONTACTS}/batch/update"),
            json!({"records": [{"id": "x\u{0}", "values": {"name": "A"}}]}),
        )
        .await,
        400,
        nul,
    );
    assert_error(
        &s.post(
            "/api/v1/cdp/sources",
            json!({"name": "Web\u{0}", "kind": "web"}),
        )
        .await,
        400,
        nul,
    );
    let value = s
        .post(CONTACTS, json!({"values": {"name": "A\u{0}"}}))
        .await;
    assert_eq!(
        crate::harness::field_errors(&value),
        [crate::harness::pair("name", "invalid_value")]
    );
    assert_eq!(s.count("contact").await, 0);
}
