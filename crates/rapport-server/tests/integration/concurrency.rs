//! Concurrent requests: optimistic concurrency picks exactly one winner, unique values stay
//! unique, blind updates of different fields all land, and concurrent metadata changes are
//! all kept.

use crate::harness::{Backend, TestServer};
use serde_json::{json, Value};
use std::collections::BTreeSet;

crate::both_backends!(
    concurrent_updates_with_one_version_have_one_winner,
    concurrent_creates_keep_values_unique,
    concurrent_blind_updates_all_land,
    concurrent_field_additions_are_all_kept,
);

async fn join_all<T: Send + 'static>(tasks: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("task"));
    }
    out
}

async fn concurrent_updates_with_one_version_have_one_winner(b: Backend) {
    let s = TestServer::start(b).await;
    let c = s.create("contact", json!({"name": "Contested"})).await;
    let path = format!(
        "/api/v1/objects/contact/records/{}",
        c["id"].as_str().expect("id")
    );
    let tasks = (0..10)
        .map(|i| {
            let api = s.api.clone();
            let path = path.clone();
            tokio::spawn(async move {
                api.patch(
                    &path,
                    json!({"values": {"title": format!("T{i}")}, "version": 1}),
                )
                .await
            })
        })
        .collect();
    let results: Vec<(u16, Value)> = join_all(tasks).await;
    let winners: Vec<&Value> = results
        .iter()
        .filter(|(s, _)| *s == 200)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for (status, body) in &results {
        if *status != 200 {
            assert_eq!(
                (*status, body["code"].as_str()),
                (409, Some("version_conflict"))
            );
        }
    }
    let (_, now) = s.get(&path).await;
    assert_eq!(now["version"], 2);
    assert_eq!(now["values"]["title"], winners[0]["values"]["title"]);
    let (_, history) = s.get(&format!("{path}/history")).await;
    assert_eq!(history.as_array().expect("history").len(), 2);
}

async fn concurrent_creates_keep_values_unique(b: Backend) {
    let s = TestServer::start(b).await;
    let tasks = (0..10)
        .map(|i| {
            let api = s.api.clone();
            tokio::spawn(async move {
                api.post(
                    "/api/v1/objects/contact/records",
                    json!({"values": {"name": format!("Twin {i}"), "email": "twin@example.com"}}),
                )
                .await
            })
        })
        .collect();
    let results: Vec<(u16, Value)> = join_all(tasks).await;
    let created = results.iter().filter(|(s, _)| *s == 201).count();
    assert_eq!(created, 1, "{results:?}");
    for (status, body) in &results {
        if *status != 201 {
            assert_eq!(
                (*status, body["code"].as_str()),
                (409, Some("duplicate_value"))
            );
        }
    }
    assert_eq!(s.count("contact").await, 1);
}

async fn concurrent_blind_updates_all_land(b: Backend) {
    let s = TestServer::start(b).await;
    let c = s.create("contact", json!({"name": "Busy"})).await;
    let path = format!(
        "/api/v1/objects/contact/records/{}",
        c["id"].as_str().expect("id")
    );
    let fields = ["title", "wechat", "city", "description"];
    let tasks = fields
        .iter()
        .map(|field| {
            let api = s.api.clone();
            let path = path.clone();
            let field = field.to_string();
            tokio::spawn(async move {
                api.patch(
                    &path,
                    json!({"values": {field.clone(): format!("set {field}")}}),
                )
                .await
            })
        })
        .collect();
    let results: Vec<(u16, Value)> = join_all(tasks).await;
    // No version was sent: none of these may fail, and none may undo another.
    for (status, body) in &results {
        assert_eq!(*status, 200, "{body}");
    }
    let (_, now) = s.get(&path).await;
    for field in fields {
        assert_eq!(now["values"][field], format!("set {field}"), "{now}");
    }
    assert_eq!(now["version"], 1 + fields.len() as i64);
}

async fn concurrent_field_additions_are_all_kept(b: Backend) {
    let s = TestServer::start(b).await;
    let (status, _) = s
        .post(
            "/api/v1/objects",
            json!({"api_name": "asset", "label": "Asset", "plural_label": "Assets"}),
        )
        .await;
    assert_eq!(status, 201);
    s.create("asset", json!({"name": "Existing"})).await;
    let names: Vec<String> = (0..6).map(|i| format!("extra_{i}")).collect();
    let tasks = names
        .iter()
        .map(|name| {
            let api = s.api.clone();
            let name = name.clone();
            tokio::spawn(async move {
                api.post(
                    "/api/v1/objects/asset/fields",
                    json!({"api_name": name, "label": name, "type": "text"}),
                )
                .await
            })
        })
        .collect();
    let results: Vec<(u16, Value)> = join_all(tasks).await;
    for (status, body) in &results {
        assert_eq!(*status, 201, "{body}");
    }
    let (_, object) = s.get("/api/v1/objects/asset").await;
    let listed: BTreeSet<String> = object["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["api_name"].as_str().expect("api_name").to_string())
        .collect();
    for name in &names {
        assert!(listed.contains(name), "{name} was lost: {listed:?}");
    }
    let mut values = serde_json::Map::new();
    values.insert("name".into(), json!("All fields"));
    for name in &names {
        values.insert(name.clone(), json!(name));
    }
    let rec = s.create("asset", Value::Object(values)).await;
    for name in &names {
        assert_eq!(rec["values"][name], name.as_str());
    }
}
