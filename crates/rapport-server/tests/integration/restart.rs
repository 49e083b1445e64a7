//! A restart keeps everything: the server is shut down through its shutdown future, the
//! database closed and opened again, and a new server serves the same data and metadata.

use crate::harness::{Backend, TestServer};
use serde_json::json;

crate::both_backends!(data_and_metadata_survive_a_restart);

async fn data_and_metadata_survive_a_restart(b: Backend) {
    let mut s = TestServer::start(b).await;
    let (status, object) = s
        .post(
            "/api/v1/objects",
            json!({
                "api_name": "machine",
                "label": {"en": "Machine", "zh": "机器"},
                "plural_label": {"en": "Machines", "zh": "机器"},
                "fields": [
                    {"api_name": "serial", "label": "Serial", "type": "text", "unique": true},
                    {"api_name": "cost", "label": "Cost", "type": "currency", "config": {"default_currency": "EUR"}},
                    {"api_name": "doubled", "label": "Doubled", "type": "formula",
                     "config": {"result_type": "decimal", "expression": "cost * 2"}},
                    {"api_name": "site", "label": "Site", "type": "relation", "config": {"target": "company"}}
                ]
            }),
        )
        .await;
    assert_eq!(status, 201, "{object}");
    let site = s.create("company", json!({"name": "北京工厂"})).await;
    let (status, batch) = s
        .post(
            "/api/v1/objects/machine/records/batch/create",
            json!({"records": (0..25).map(|i| json!({"values": {
                "name": format!("机器 {i}"), "serial": format!("S-{i}"), "cost": i, "site": site["id"]
            }})).collect::<Vec<_>>()}),
        )
        .await;
    assert_eq!(status, 201, "{batch}");
    let first = batch["data"][3].clone();
    let path = format!(
        "/api/v1/objects/machine/records/{}",
        first["id"].as_str().expect("id")
    );
    assert_eq!(
        s.patch(&path, json!({"values": {"cost": 100}})).await.0,
        200
    );
    let (status, _) = s
        .post(
            "/api/v1/objects/machine/fields",
            json!({"api_name": "note", "label": "Note", "type": "long_text"}),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(s.delete("/api/v1/objects/machine/fields/note").await.0, 200);
    let (_, object_before) = s.get("/api/v1/objects/machine").await;
    let (_, record_before) = s.get(&path).await;
    let (_, history_before) = s.get(&format!("{path}/history")).await;
    let (status, token) = s.post("/api/v1/tokens", json!({"name": "kept"})).await;
    assert_eq!(status, 201);
    let old_base = s.base.clone();

    // Shut down: the address no longer answers. Then serve the same database again.
    s.stop().await;
    let old = reqwest::Client::new()
        .get(format!("{old_base}/healthz"))
        .send()
        .await;
    assert!(old.is_err(), "the old server still answers");
    s.restart().await;

    let (status, object_after) = s.get("/api/v1/objects/machine").await;
    assert_eq!(status, 200, "{object_after}");
    assert_eq!(object_after, object_before);
    assert_eq!(object_after["label"]["zh"], "机器");
    let (status, record_after) = s.get(&path).await;
    assert_eq!(status, 200, "{record_after}");
    assert_eq!(record_after, record_before);
    assert_eq!(
        record_after["values"]["cost"],
        json!({"amount": "100.00", "currency": "EUR"})
    );
    assert_eq!(record_after["values"]["doubled"], "200.00");
    assert_eq!(record_after["version"], 2);
    let (_, history_after) = s.get(&format!("{path}/history")).await;
    assert_eq!(history_after, history_before);
    assert_eq!(s.count("machine").await, 25);
    // Tokens made through the API survive too.
    let kept = s.as_auth(crate::harness::Auth::Bearer(
        token["token"].as_str().expect("token").to_string(),
    ));
    assert_eq!(kept.get("/api/v1/auth/me").await.0, 200);
    // The unique index, the formula and the archived field still behave.
    let dup = s
        .post(
            "/api/v1/objects/machine/records",
            json!({"values": {"name": "Dup", "serial": "S-1"}}),
        )
        .await;
    crate::harness::assert_error(&dup, 409, "duplicate_value");
    let fresh = s
        .create(
            "machine",
            json!({"name": "New", "serial": "S-NEW", "cost": "1.5"}),
        )
        .await;
    assert_eq!(fresh["values"]["doubled"], "3.00");
    assert!(fresh["values"].get("note").is_none());
    assert_eq!(
        s.post("/api/v1/objects/machine/fields/note/restore", json!({}))
            .await
            .0,
        200
    );
    let filter = json!({"field": "site.name", "op": "eq", "value": "北京工厂"}).to_string();
    let (_, by_site) = s
        .list("machine", &[("filter", &filter), ("total", "true")])
        .await;
    assert_eq!(by_site["total"], 25);

    // A second restart, for good measure.
    s.restart().await;
    assert_eq!(s.count("machine").await, 26);
    s.stop().await;
}
