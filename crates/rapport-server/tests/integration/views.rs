//! Saved views: private and shared views of an object, checked against the metadata (filter,
//! sort, columns, kanban group-by), changed only by their owner or an administrator.

use crate::harness::{assert_error, Backend, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

crate::both_backends!(
    views_are_private_or_shared,
    views_are_checked_against_metadata
);

fn names(body: &Value) -> Vec<&str> {
    body.as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|v| v["name"].as_str().expect("name"))
        .collect()
}

async fn views_are_private_or_shared(b: Backend) {
    let s = TestServer::start(b).await;
    let (status, mine) = s
        .post(
            "/api/v1/objects/deal/views",
            json!({
                "name": "My big deals",
                "kind": "list",
                "columns": ["name", "amount", "stage", "created_at"],
                "filter": {"all": [{"field": "amount", "op": "gt", "value": 100000}, {"field": "close_date", "op": "this_quarter"}]},
                "sort": ["-amount", "name"],
            }),
        )
        .await;
    assert_eq!(status, 201, "{mine}");
    assert_eq!(mine["shared"], false);
    assert_eq!(mine["sort"], json!(["-amount", "name"]));
    // The relative date stays relative.
    assert_eq!(mine["filter"]["all"][1]["op"], "this_quarter");
    let (status, pipeline) = s
        .post(
            "/api/v1/objects/deal/views",
            json!({"name": "Pipeline", "kind": "kanban", "shared": true, "group_by": "stage", "columns": ["amount"]}),
        )
        .await;
    assert_eq!(status, 201, "{pipeline}");

    let (sales, sales_api) = s.user_with_role("sales").await;
    let (status, seen) = sales_api.get("/api/v1/objects/deal/views").await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(names(&seen), vec!["Pipeline"]);
    let mine_path = format!(
        "/api/v1/objects/deal/views/{}",
        mine["id"].as_str().unwrap()
    );
    assert_error(&sales_api.get(&mine_path).await, 404, "not_found");

    // Others may not change a shared view; its owner and admins may.
    let pipeline_path = format!(
        "/api/v1/objects/deal/views/{}",
        pipeline["id"].as_str().unwrap()
    );
    let change = json!({"name": "Renamed", "kind": "kanban", "shared": true, "group_by": "stage"});
    assert_error(
        &sales_api
            .call(Method::PUT, &pipeline_path)
            .json(&change)
            .send()
            .await
            .pair(),
        403,
        "forbidden",
    );
    assert_error(&sales_api.delete(&pipeline_path).await, 403, "forbidden");
    let (status, renamed) = s
        .call(Method::PUT, &pipeline_path)
        .json(&change)
        .send()
        .await
        .pair();
    assert_eq!((status, renamed["name"].as_str()), (200, Some("Renamed")));

    let (status, own) = sales_api
        .post(
            "/api/v1/objects/deal/views",
            json!({"name": "Mine", "kind": "list"}),
        )
        .await;
    assert_eq!(
        (status, own["owner_id"].as_str()),
        (201, Some(sales.id.as_str()))
    );
    let (_, admin_sees) = s.get("/api/v1/objects/deal/views").await;
    assert_eq!(names(&admin_sees), vec!["My big deals", "Renamed"]);

    let (status, _) = s.delete(&pipeline_path).await;
    assert_eq!(status, 204);
    assert_error(&s.get(&pipeline_path).await, 404, "not_found");
    let (_, left) = sales_api.get("/api/v1/objects/deal/views").await;
    assert_eq!(names(&left), vec!["Mine"]);
}

async fn views_are_checked_against_metadata(b: Backend) {
    let s = TestServer::start(b).await;
    let api = &s.api;
    let create = |body: Value| async move { api.post("/api/v1/objects/deal/views", body).await };
    assert_error(
        &create(json!({"name": "x", "kind": "list", "filter": {"field": "nope", "op": "eq", "value": 1}})).await,
        400,
        "invalid_condition",
    );
    assert_error(
        &create(json!({"name": "x", "kind": "list", "sort": ["description"]})).await,
        400,
        "invalid_sort",
    );
    assert_error(
        &create(json!({"name": "x", "kind": "list", "columns": ["name", "nope"]})).await,
        422,
        "invalid_view",
    );
    assert_error(
        &create(json!({"name": " ", "kind": "list"})).await,
        422,
        "invalid_view",
    );
    assert_error(
        &create(json!({"name": "Board", "kind": "kanban"})).await,
        422,
        "invalid_view",
    );
    assert_error(
        &create(json!({"name": "Board", "kind": "kanban", "group_by": "amount"})).await,
        422,
        "invalid_view",
    );
    assert_error(
        &create(json!({"name": "x", "kind": "table"})).await,
        400,
        "invalid_body",
    );
    assert_error(
        &s.post(
            "/api/v1/objects/nothing/views",
            json!({"name": "x", "kind": "list"}),
        )
        .await,
        404,
        "not_found",
    );
    let (status, created) =
        create(json!({"name": "Owners", "kind": "list", "columns": ["owner_id", "name"]})).await;
    assert_eq!(status, 201, "{created}");
}
