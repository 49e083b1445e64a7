//! Field history and restores: who changed what, from where, under which request; restoring a
//! record to a moment and undoing one change, each itself recorded.

use crate::harness::{assert_error, Backend, TestServer};
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

crate::both_backends!(history_and_restore, history_of_deletes_and_sources);

const DEALS: &str = "/api/v1/objects/deal/records";

fn at(entry: &Value) -> DateTime<Utc> {
    entry["changed_at"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("changed_at in {entry}"))
}

async fn pause() {
    tokio::time::sleep(Duration::from_millis(20)).await;
}

async fn history_and_restore(b: Backend) {
    let s = TestServer::start(b).await;
    let created = s
        .call(Method::POST, DEALS)
        .header("x-request-id", "req-create-1")
        // An explicit probability (none): the stage changes below are the only changes.
        .json(&json!({"values": {"name": "华东项目", "stage": "prospecting", "amount": 1000, "probability": null}}))
        .send()
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(
        created.header("x-request-id").as_deref(),
        Some("req-create-1")
    );
    let id = created.body["id"].as_str().expect("id").to_string();
    let path = format!("{DEALS}/{id}");
    pause().await;
    for (stage, request) in [
        ("qualification", "req-update-1"),
        ("proposal", "req-update-2"),
    ] {
        let r = s
            .call(Method::PATCH, &path)
            .header("x-request-id", request)
            .json(&json!({"values": {"stage": stage, "probability": null}}))
            .send()
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        pause().await;
    }
    let r = s
        .call(Method::PATCH, &path)
        .header("x-request-id", "req-update-3")
        .json(&json!({"values": {"amount": {"amount": "2500.5", "currency": "USD"}}}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    pause().await;

    let (status, history) = s.get(&format!("{path}/history")).await;
    assert_eq!(status, 200, "{history}");
    let entries = history.as_array().expect("entries").clone();
    assert_eq!(entries.len(), 4, "{history}");
    // Newest first.
    let kinds: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().expect("kind"),
                e["field"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("updated", "amount"),
            ("updated", "stage"),
            ("updated", "stage"),
            ("created", "")
        ]
    );
    for e in &entries {
        assert_eq!(e["actor_id"], s.admin.id.as_str(), "{e}");
        assert_eq!(e["source"], "api", "{e}");
    }
    let requests: Vec<&str> = entries
        .iter()
        .map(|e| e["request_id"].as_str().expect("request_id"))
        .collect();
    assert_eq!(
        requests,
        vec![
            "req-update-3",
            "req-update-2",
            "req-update-1",
            "req-create-1"
        ]
    );
    assert_eq!(
        entries[0]["old_value"],
        json!({"amount": "1000.00", "currency": "CNY"})
    );
    assert_eq!(
        entries[0]["new_value"],
        json!({"amount": "2500.50", "currency": "USD"})
    );
    assert_eq!(entries[1]["old_value"], "qualification");
    assert_eq!(entries[1]["new_value"], "proposal");
    assert_eq!(entries[2]["old_value"], "prospecting");
    assert_eq!(entries[2]["new_value"], "qualification");
    let snapshot = &entries[3]["new_value"];
    assert_eq!(snapshot["name"], "华东项目");
    assert_eq!(snapshot["stage"], "prospecting");
    assert_eq!(
        snapshot["amount"],
        json!({"amount": "1000.00", "currency": "CNY"})
    );
    assert_eq!(snapshot["owner_id"], s.admin.id.as_str());
    assert!(at(&entries[3]) < at(&entries[2]));
    assert!(at(&entries[2]) < at(&entries[1]));
    // Paging backwards by entry id.
    let before = entries[1]["id"].as_i64().expect("id");
    let (status, older) = s
        .get(&format!("{path}/history?before={before}&limit=1"))
        .await;
    assert_eq!(status, 200, "{older}");
    assert_eq!(older.as_array().expect("entries").len(), 1);
    assert_eq!(older[0]["id"], entries[2]["id"]);

    // Restore to a moment between the two stage changes: stage back to qualification, amount
    // back to CNY 1000; recorded as a new change with this request's id.
    let between = at(&entries[2]) + (at(&entries[1]) - at(&entries[2])) / 2;
    let restored = s
        .call(Method::POST, &format!("{path}/history/restore"))
        .header("x-request-id", "req-restore-at")
        .json(&json!({"at": between.to_rfc3339()}))
        .send()
        .await;
    assert_eq!(restored.status, 200, "{}", restored.text);
    assert_eq!(restored.body["values"]["stage"], "qualification");
    assert_eq!(
        restored.body["values"]["amount"],
        json!({"amount": "1000.00", "currency": "CNY"})
    );
    assert_eq!(restored.body["values"]["name"], "华东项目");
    assert_eq!(restored.body["version"], 5);
    let (_, history) = s.get(&format!("{path}/history")).await;
    let entries = history.as_array().expect("entries").clone();
    assert_eq!(entries.len(), 6, "{history}");
    let newest: Vec<(&str, &Value, &Value, &str)> = entries[..2]
        .iter()
        .map(|e| {
            (
                e["field"].as_str().expect("field"),
                &e["old_value"],
                &e["new_value"],
                e["request_id"].as_str().expect("request_id"),
            )
        })
        .collect();
    assert!(newest.contains(&(
        "stage",
        &json!("proposal"),
        &json!("qualification"),
        "req-restore-at"
    )));
    assert!(newest.contains(&(
        "amount",
        &json!({"amount": "2500.50", "currency": "USD"}),
        &json!({"amount": "1000.00", "currency": "CNY"}),
        "req-restore-at"
    )));
    pause().await;

    // Undo one change: the first stage change (prospecting → qualification).
    let first_stage_change = entries
        .iter()
        .find(|e| e["request_id"] == "req-update-1")
        .expect("first change")["id"]
        .as_i64()
        .expect("id");
    let (status, reverted) = s
        .post(
            &format!("{path}/history/restore"),
            json!({ "change_id": first_stage_change }),
        )
        .await;
    assert_eq!(status, 200, "{reverted}");
    assert_eq!(reverted["values"]["stage"], "prospecting");
    assert_eq!(
        reverted["values"]["amount"],
        json!({"amount": "1000.00", "currency": "CNY"}),
        "only the one field changes"
    );
    assert_eq!(reverted["version"], 6);
    let (_, history) = s.get(&format!("{path}/history")).await;
    assert_eq!(history.as_array().expect("entries").len(), 7);
    assert_eq!(history[0]["field"], "stage");
    assert_eq!(history[0]["old_value"], "qualification");
    assert_eq!(history[0]["new_value"], "prospecting");

    // Restoring to "now" changes nothing and records nothing.
    let (status, same) = s
        .post(
            &format!("{path}/history/restore"),
            json!({"at": Utc::now().to_rfc3339()}),
        )
        .await;
    assert_eq!(status, 200, "{same}");
    assert_eq!(same["version"], 6);
    let (_, history) = s.get(&format!("{path}/history")).await;
    assert_eq!(history.as_array().expect("entries").len(), 7);

    // Before the record existed; a change id that is not a field change of this record.
    assert_error(
        &s.post(
            &format!("{path}/history/restore"),
            json!({"at": "2000-01-01T00:00:00Z"}),
        )
        .await,
        400,
        "before_creation",
    );
    let created_entry = history[6]["id"].as_i64().expect("id");
    assert_error(
        &s.post(
            &format!("{path}/history/restore"),
            json!({ "change_id": created_entry }),
        )
        .await,
        404,
        "not_found",
    );
    let other = s
        .create("deal", json!({"name": "Other", "stage": "proposal"}))
        .await;
    let other_path = format!("{DEALS}/{}", other["id"].as_str().expect("id"));
    assert_eq!(
        s.patch(&other_path, json!({"values": {"stage": "negotiation"}}))
            .await
            .0,
        200
    );
    let (_, other_history) = s.get(&format!("{other_path}/history")).await;
    let other_change = other_history[0]["id"].as_i64().expect("id");
    assert_error(
        &s.post(
            &format!("{path}/history/restore"),
            json!({ "change_id": other_change }),
        )
        .await,
        404,
        "not_found",
    );
    assert_error(
        &s.post(
            &format!("{path}/history/restore"),
            json!({ "change_id": 999_999_999 }),
        )
        .await,
        404,
        "not_found",
    );
    // History of unknown records.
    assert_error(
        &s.get(&format!(
            "{DEALS}/0190aaaa-0000-7000-8000-000000000000/history"
        ))
        .await,
        404,
        "not_found",
    );
}

async fn history_of_deletes_and_sources(b: Backend) {
    let s = TestServer::start(b).await;
    let created = s
        .call(Method::POST, DEALS)
        .header("x-rapport-source", "import")
        .header("x-request-id", "this is not a sane id!")
        .json(&json!({"values": {"name": "Imported"}}))
        .send()
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    // An insane request id is replaced by a fresh one, which is echoed and stored.
    let echoed = created.header("x-request-id").expect("x-request-id");
    assert_ne!(echoed, "this is not a sane id!");
    let id = created.body["id"].as_str().expect("id").to_string();
    let path = format!("{DEALS}/{id}");

    // A session's changes are recorded as `ui`.
    let ui = s
        .login(&s.admin.email, crate::harness::ADMIN_PASSWORD)
        .await;
    assert_eq!(
        // (the probability kept as it is, so the stage is the one change)
        ui.patch(
            &path,
            json!({"values": {"stage": "proposal", "probability": null}})
        )
        .await
        .0,
        200
    );
    assert_eq!(s.delete(&path).await.0, 204);
    // History stays readable while the record is in the recycle bin.
    let (status, history) = s.get(&format!("{path}/history")).await;
    assert_eq!(status, 200, "{history}");
    let summary: Vec<(&str, &str)> = history
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().expect("kind"),
                e["source"].as_str().expect("source"),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![("deleted", "api"), ("updated", "ui"), ("created", "import")]
    );
    assert_eq!(history[2]["request_id"], echoed.as_str());
    // A deleted record cannot be restored through history; only through the recycle bin.
    assert_error(
        &s.post(
            &format!("{path}/history/restore"),
            json!({"at": Utc::now().to_rfc3339()}),
        )
        .await,
        404,
        "not_found",
    );
    assert_eq!(s.post(&format!("{path}/restore"), json!({})).await.0, 200);
    let (_, history) = s.get(&format!("{path}/history")).await;
    assert_eq!(history[0]["kind"], "restored");
    assert_eq!(history.as_array().expect("entries").len(), 4);

    // Owner changes are recorded under `owner_id`, and can be undone.
    let (other, _) = s.user_with_role("sales").await;
    let (status, moved) = s.patch(&path, json!({"owner_id": other.id})).await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["owner_id"], other.id.as_str());
    let (_, history) = s.get(&format!("{path}/history")).await;
    assert_eq!(history[0]["field"], "owner_id");
    assert_eq!(history[0]["old_value"], s.admin.id.as_str());
    assert_eq!(history[0]["new_value"], other.id.as_str());
    let change = history[0]["id"].as_i64().expect("id");
    let (status, back) = s
        .post(
            &format!("{path}/history/restore"),
            json!({ "change_id": change }),
        )
        .await;
    assert_eq!(status, 200, "{back}");
    assert_eq!(back["owner_id"], s.admin.id.as_str());
}
