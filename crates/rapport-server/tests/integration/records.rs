//! Records on standard objects: create / read / update with optimistic concurrency / soft
//! delete and restore, field validation, and all-or-nothing batches.

use crate::harness::{assert_error, field_errors, pair, TestServer};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;

crate::both_backends!(
    crud_on_standard_objects,
    validation_errors_are_precise,
    batch_create_is_all_or_nothing,
    batch_update_is_all_or_nothing,
    relations_and_related_lists,
    probability_follows_the_stage,
);

const CONTACTS: &str = "/api/v1/objects/contact/records";

async fn crud_on_standard_objects(b: crate::harness::Backend) {
    let s = TestServer::start(b).await;
    let created = s
        .create(
            "contact",
            json!({
                "name": "  王小明 🎉 ",
                "phone": "138 0013 8000",
                "email": " Wang.XiaoMing@Example.CN ",
                "title": "销售总监",
                "birthday": "1990-02-28",
            }),
        )
        .await;
    let id = created["id"].as_str().expect("id").to_string();
    assert_eq!(created["object"], "contact");
    assert_eq!(created["version"], 1);
    assert_eq!(created["name"], "王小明 🎉");
    assert_eq!(created["values"]["name"], "王小明 🎉");
    assert_eq!(created["values"]["phone"], "+8613800138000");
    assert_eq!(created["values"]["email"], "wang.xiaoming@example.cn");
    assert_eq!(created["values"]["birthday"], "1990-02-28");
    assert_eq!(created["values"]["mobile"], Value::Null);
    assert_eq!(created["created_by"], s.admin.id.as_str());
    assert_eq!(created["updated_by"], s.admin.id.as_str());
    assert_eq!(created["owner_id"], s.admin.id.as_str());
    assert_eq!(created["deleted_at"], Value::Null);

    // Read back, with the version as ETag.
    let path = format!("{CONTACTS}/{id}");
    let got = s.call(Method::GET, &path).send().await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(got.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(got.body["values"], created["values"]);
    assert_eq!(got.body["created_at"], created["created_at"]);

    // Update with the version read.
    let (status, updated) = s
        .patch(&path, json!({"values": {"title": "经理"}, "version": 1}))
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["version"], 2);
    assert_eq!(updated["values"]["title"], "经理");
    assert_eq!(updated["values"]["phone"], "+8613800138000");

    // A stale version in the body or in If-Match is a conflict and changes nothing.
    let stale = s
        .patch(&path, json!({"values": {"title": "stale"}, "version": 1}))
        .await;
    assert_error(&stale, 409, "version_conflict");
    let stale = s
        .call(Method::PATCH, &path)
        .header("if-match", "\"1\"")
        .json(&json!({"values": {"title": "stale"}}))
        .send()
        .await
        .pair();
    assert_error(&stale, 409, "version_conflict");
    let (_, now) = s.get(&path).await;
    assert_eq!(now["version"], 2);
    assert_eq!(now["values"]["title"], "经理");

    // The current version in If-Match (weak or strong) is accepted; the new ETag follows.
    let ok = s
        .call(Method::PATCH, &path)
        .header("if-match", "W/\"2\"")
        .json(&json!({"values": {"title": "总经理"}}))
        .send()
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.body["version"], 3);
    assert_eq!(ok.header("etag").as_deref(), Some("\"3\""));
    let bad = s
        .call(Method::PATCH, &path)
        .header("if-match", "abc")
        .json(&json!({"values": {"title": "x"}}))
        .send()
        .await
        .pair();
    assert_error(&bad, 400, "invalid_if_match");
    let disagree = s
        .call(Method::PATCH, &path)
        .header("if-match", "\"3\"")
        .json(&json!({"values": {"title": "x"}, "version": 2}))
        .send()
        .await
        .pair();
    assert_error(&disagree, 400, "invalid_if_match");

    // An update that changes nothing keeps the version.
    let (status, same) = s.patch(&path, json!({"values": {"title": "总经理"}})).await;
    assert_eq!(status, 200, "{same}");
    assert_eq!(same["version"], 3);

    // Clearing a field with null.
    let (status, cleared) = s.patch(&path, json!({"values": {"birthday": null}})).await;
    assert_eq!(status, 200, "{cleared}");
    assert_eq!(cleared["values"]["birthday"], Value::Null);
    assert_eq!(cleared["version"], 4);

    // Delete: gone from reads and lists, present in the recycle bin.
    let (status, body) = s.delete(&path).await;
    assert_eq!(status, 204, "{body}");
    assert_error(&s.get(&path).await, 404, "not_found");
    assert!(!s.all_ids("contact").await.contains(&id));
    let (status, bin) = s.list("contact", &[("deleted", "true")]).await;
    assert_eq!(status, 200, "{bin}");
    let in_bin: Vec<&Value> = bin["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter(|r| r["id"] == id.as_str())
        .collect();
    assert_eq!(in_bin.len(), 1, "{bin}");
    assert!(in_bin[0]["deleted_at"].is_string());
    let (status, deleted) = s.get(&format!("{path}?deleted=true")).await;
    assert_eq!(status, 200, "{deleted}");
    assert!(deleted["deleted_at"].is_string());
    assert_eq!(deleted["version"], 5);
    // Deleting twice, or changing a deleted record, is 404 (the PATCH is checked at the end).
    assert_error(&s.delete(&path).await, 404, "not_found");
    let mut late = vec![s.patch(&path, json!({"values": {"title": "ghost"}})).await];

    // Restore: back in reads and lists, out of the bin.
    let (status, restored) = s.post(&format!("{path}/restore"), json!({})).await;
    assert_eq!(status, 200, "{restored}");
    assert_eq!(restored["deleted_at"], Value::Null);
    assert_eq!(restored["version"], 6);
    assert_eq!(restored["values"]["name"], "王小明 🎉");
    let (status, back) = s.get(&path).await;
    assert_eq!(status, 200, "{back}");
    assert_eq!(back["values"]["title"], "总经理");
    assert!(s.all_ids("contact").await.contains(&id));
    let (_, bin) = s.list("contact", &[("deleted", "true")]).await;
    assert!(bin["data"].as_array().expect("data").is_empty(), "{bin}");
    // Restoring a live record is 404 (nothing in the bin).
    assert_error(
        &s.post(&format!("{path}/restore"), json!({})).await,
        404,
        "not_found",
    );

    // Unknown ids and objects.
    let nobody = format!("{CONTACTS}/0190aaaa-0000-7000-8000-000000000000");
    assert_error(&s.get(&nobody).await, 404, "not_found");
    assert_error(&s.delete(&nobody).await, 404, "not_found");
    late.push(s.patch(&nobody, json!({"values": {"title": "x"}})).await);
    assert_error(
        &s.get("/api/v1/objects/no_such_object/records").await,
        404,
        "not_found",
    );
    assert_error(
        &s.post(
            "/api/v1/objects/no_such_object/records",
            json!({"values": {"name": "x"}}),
        )
        .await,
        404,
        "not_found",
    );

    // owner_id must be a user of the workspace.
    let (status, owned) = s
        .post(
            CONTACTS,
            json!({"values": {"name": "Owned"}, "owner_id": s.admin.id}),
        )
        .await;
    assert_eq!(status, 201, "{owned}");
    assert_eq!(owned["owner_id"], s.admin.id.as_str());
    let bad_owner = s
        .post(
            CONTACTS,
            json!({"values": {"name": "Orphan"}, "owner_id": "nobody"}),
        )
        .await;
    assert_eq!(
        field_errors(&bad_owner),
        vec![pair("owner_id", "unknown_user")]
    );

    // PATCH of a deleted or unknown record is 404 like every other single-record call.
    for got in late {
        assert_error(&got, 404, "not_found");
    }
}

async fn validation_errors_are_precise(b: crate::harness::Backend) {
    let s = TestServer::start(b).await;
    let before = s.count("contact").await;

    let unknown = s
        .post(CONTACTS, json!({"values": {"name": "A", "nope": 1}}))
        .await;
    assert_eq!(field_errors(&unknown), vec![pair("nope", "unknown_field")]);

    let wrong_type = s.post(CONTACTS, json!({"values": {"name": 123}})).await;
    assert_eq!(
        field_errors(&wrong_type),
        vec![pair("name", "invalid_type")]
    );

    let missing = s.post(CONTACTS, json!({"values": {"title": "CEO"}})).await;
    assert_eq!(field_errors(&missing), vec![pair("name", "required")]);
    let blank = s.post(CONTACTS, json!({"values": {"name": "   "}})).await;
    assert_eq!(field_errors(&blank), vec![pair("name", "required")]);

    let option = s
        .post(
            CONTACTS,
            json!({"values": {"name": "A", "lifecycle_stage": "bogus"}}),
        )
        .await;
    assert_eq!(
        field_errors(&option),
        vec![pair("lifecycle_stage", "invalid_option")]
    );

    let email = s
        .post(
            CONTACTS,
            json!({"values": {"name": "A", "email": "not-an-email"}}),
        )
        .await;
    assert_eq!(field_errors(&email), vec![pair("email", "invalid_email")]);
    let phone = s
        .post(CONTACTS, json!({"values": {"name": "A", "phone": "12"}}))
        .await;
    assert_eq!(field_errors(&phone), vec![pair("phone", "invalid_phone")]);
    let date = s
        .post(
            CONTACTS,
            json!({"values": {"name": "A", "birthday": "2026-02-30"}}),
        )
        .await;
    assert_eq!(field_errors(&date), vec![pair("birthday", "invalid_date")]);
    let long = s
        .post(CONTACTS, json!({"values": {"name": "x".repeat(256)}}))
        .await;
    assert_eq!(field_errors(&long), vec![pair("name", "too_long")]);

    let reference = s
        .post(
            CONTACTS,
            json!({"values": {"name": "A", "company": "0190aaaa-0000-7000-8000-000000000000"}}),
        )
        .await;
    assert_eq!(
        field_errors(&reference),
        vec![pair("company", "unknown_reference")]
    );

    // Several problems at once are all reported.
    let several = s
        .post(
            CONTACTS,
            json!({"values": {"nope": 1, "email": "bad", "lifecycle_stage": "x"}}),
        )
        .await;
    let got: BTreeSet<_> = field_errors(&several).into_iter().collect();
    let want: BTreeSet<_> = [
        pair("nope", "unknown_field"),
        pair("email", "invalid_email"),
        pair("lifecycle_stage", "invalid_option"),
    ]
    .into_iter()
    .collect();
    assert_eq!(got, want, "{}", several.1);

    // Deal rules: amount is at least 0, currency codes are ISO, probability is 0..100.
    let deals = "/api/v1/objects/deal/records";
    let negative = s
        .post(deals, json!({"values": {"name": "D", "amount": -1}}))
        .await;
    assert_eq!(
        field_errors(&negative),
        vec![pair("amount", "out_of_range")]
    );
    let currency = s
        .post(
            deals,
            json!({"values": {"name": "D", "amount": {"amount": "1", "currency": "yuan"}}}),
        )
        .await;
    assert_eq!(
        field_errors(&currency),
        vec![pair("amount", "invalid_currency")]
    );
    let number = s
        .post(deals, json!({"values": {"name": "D", "amount": "lots"}}))
        .await;
    assert_eq!(
        field_errors(&number),
        vec![pair("amount", "invalid_number")]
    );
    let probability = s
        .post(
            deals,
            json!({"values": {"name": "D", "probability": "101"}}),
        )
        .await;
    assert_eq!(
        field_errors(&probability),
        vec![pair("probability", "out_of_range")]
    );

    // Unique email: case-insensitive (emails are lowercased), and a 409.
    s.create(
        "contact",
        json!({"name": "First", "email": "dup@example.com"}),
    )
    .await;
    let dup = s
        .post(
            CONTACTS,
            json!({"values": {"name": "Second", "email": "DUP@Example.com"}}),
        )
        .await;
    assert_error(&dup, 409, "duplicate_value");
    assert!(
        dup.1["message"].as_str().unwrap_or("").contains("email"),
        "{}",
        dup.1
    );
    // Nothing but the first contact was written.
    assert_eq!(s.count("contact").await, before + 1);

    // Updates are validated the same way.
    let other = s.create("contact", json!({"name": "Other"})).await;
    let path = format!("{CONTACTS}/{}", other["id"].as_str().expect("id"));
    let bad_update = s.patch(&path, json!({"values": {"nope": true}})).await;
    assert_eq!(
        field_errors(&bad_update),
        vec![pair("nope", "unknown_field")]
    );
    let clear_required = s.patch(&path, json!({"values": {"name": null}})).await;
    assert_eq!(
        field_errors(&clear_required),
        vec![pair("name", "required")]
    );
    let dup_update = s
        .patch(&path, json!({"values": {"email": "dup@example.com"}}))
        .await;
    assert_error(&dup_update, 409, "duplicate_value");
    let (_, unchanged) = s.get(&path).await;
    assert_eq!(unchanged["version"], 1);
    assert_eq!(unchanged["values"]["email"], Value::Null);

    // A deleted record frees its unique value; restoring the old one then conflicts.
    let first_id = s.all_ids("contact").await;
    let first = first_id
        .iter()
        .find(|id| *id != other["id"].as_str().expect("id"))
        .expect("first")
        .clone();
    let first_path = format!("{CONTACTS}/{first}");
    assert_eq!(s.delete(&first_path).await.0, 204);
    let (status, reused) = s
        .patch(&path, json!({"values": {"email": "dup@example.com"}}))
        .await;
    assert_eq!(status, 200, "{reused}");
    assert_error(
        &s.post(&format!("{first_path}/restore"), json!({})).await,
        409,
        "duplicate_value",
    );
}

fn contact_batch(n: usize, tag: &str) -> Vec<Value> {
    (0..n)
        .map(|i| json!({"values": {"name": format!("{tag} {i:04}"), "email": format!("{tag}{i}@batch.example")}}))
        .collect()
}

async fn batch_create_is_all_or_nothing(b: crate::harness::Backend) {
    let s = TestServer::start(b).await;
    let batch = format!("{CONTACTS}/batch/create");
    let before = s.count("contact").await;

    // 3 valid and 1 invalid: nothing written, the bad row named by index.
    let mut records = contact_batch(3, "ok");
    records.push(json!({"values": {"title": "no name"}}));
    let failed = s.post(&batch, json!({ "records": records })).await;
    assert_error(&failed, 422, "batch_validation_failed");
    let rows = failed.1["details"]["records"].as_array().expect("records");
    assert_eq!(rows.len(), 1, "{}", failed.1);
    assert_eq!(rows[0]["index"], 3);
    assert_eq!(rows[0]["errors"][0]["field"], "name");
    assert_eq!(rows[0]["errors"][0]["code"], "required");
    assert_eq!(s.count("contact").await, before);

    // Several bad rows are all reported, in order.
    let mut records = contact_batch(5, "multi");
    records[1] = json!({"values": {"name": "x", "nope": 1}});
    records[4] = json!({"values": {"name": "y", "lifecycle_stage": "bogus"}});
    let failed = s.post(&batch, json!({ "records": records })).await;
    assert_error(&failed, 422, "batch_validation_failed");
    let indexes: Vec<i64> = failed.1["details"]["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| r["index"].as_i64().expect("index"))
        .collect();
    assert_eq!(indexes, vec![1, 4]);
    assert_eq!(s.count("contact").await, before);

    // A duplicate unique value inside the batch: nothing written either.
    let mut records = contact_batch(3, "dupe");
    records[2]["values"]["email"] = records[0]["values"]["email"].clone();
    let failed = s.post(&batch, json!({ "records": records })).await;
    assert_error(&failed, 422, "batch_validation_failed");
    let row = &failed.1["details"]["records"][0];
    assert_eq!(row["index"], 2, "{}", failed.1);
    assert_eq!(row["errors"][0]["code"], "duplicate_value");
    assert_eq!(row["errors"][0]["field"], "email");
    assert_eq!(s.count("contact").await, before);

    // Sizes: 0 and 1,001 are refused.
    let too_many = s
        .post(&batch, json!({ "records": contact_batch(1001, "big") }))
        .await;
    assert_error(&too_many, 400, "invalid_batch_size");
    assert_error(
        &s.post(&batch, json!({ "records": [] })).await,
        400,
        "invalid_batch_size",
    );
    assert_eq!(s.count("contact").await, before);

    // 500 valid records: all written, returned in order.
    let records = contact_batch(500, "bulk");
    let (status, created) = s.post(&batch, json!({ "records": records })).await;
    assert_eq!(status, 201, "{created}");
    let data = created["data"].as_array().expect("data");
    assert_eq!(data.len(), 500);
    for (i, r) in data.iter().enumerate() {
        assert_eq!(r["values"]["name"], format!("bulk {i:04}"));
        assert_eq!(r["version"], 1);
    }
    assert_eq!(s.count("contact").await, before + 500);
    let listed: BTreeSet<String> = s.all_ids("contact").await.into_iter().collect();
    for r in data {
        assert!(listed.contains(r["id"].as_str().expect("id")));
    }
    // Every created record has its history entry.
    let first = data[0]["id"].as_str().expect("id");
    let (status, history) = s.get(&format!("{CONTACTS}/{first}/history")).await;
    assert_eq!(status, 200, "{history}");
    assert_eq!(history[0]["kind"], "created");

    // 1,000 is the limit, and accepted.
    let (status, created) = s
        .post(&batch, json!({ "records": contact_batch(1000, "max") }))
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(s.count("contact").await, before + 1500);
}

async fn batch_update_is_all_or_nothing(b: crate::harness::Backend) {
    let s = TestServer::start(b).await;
    let (status, created) = s
        .post(
            "/api/v1/objects/deal/records/batch/create",
            json!({"records": [
                {"values": {"name": "D1", "stage": "prospecting", "amount": 100}},
                {"values": {"name": "D2", "stage": "prospecting", "amount": 200}},
                {"values": {"name": "D3", "stage": "prospecting", "amount": 300}},
            ]}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let ids: Vec<String> = crate::harness::data_ids(&created);
    let update = "/api/v1/objects/deal/records/batch/update";
    let snapshot = |s: &TestServer| {
        let api = s.api.clone();
        let ids = ids.clone();
        async move {
            let mut out = Vec::new();
            for id in &ids {
                let (_, r) = api.get(&format!("/api/v1/objects/deal/records/{id}")).await;
                out.push((r["version"].clone(), r["values"]["stage"].clone()));
            }
            out
        }
    };
    let original = snapshot(&s).await;

    // One invalid value: nothing applied.
    let failed = s
        .post(
            update,
            json!({"records": [
                {"id": ids[0], "values": {"stage": "proposal"}},
                {"id": ids[1], "values": {"stage": "bogus"}},
                {"id": ids[2], "values": {"stage": "proposal"}},
            ]}),
        )
        .await;
    assert_error(&failed, 422, "batch_validation_failed");
    assert_eq!(failed.1["details"]["records"][0]["index"], 1);
    assert_eq!(
        failed.1["details"]["records"][0]["errors"][0]["code"],
        "invalid_option"
    );
    assert_eq!(snapshot(&s).await, original);

    // One stale version: a conflict, nothing applied.
    let stale = s
        .post(
            update,
            json!({"records": [
                {"id": ids[0], "values": {"stage": "proposal"}, "version": 1},
                {"id": ids[1], "values": {"stage": "proposal"}, "version": 7},
            ]}),
        )
        .await;
    assert_error(&stale, 409, "version_conflict");
    assert_eq!(snapshot(&s).await, original);

    // An unknown id: nothing applied.
    let unknown = s
        .post(
            update,
            json!({"records": [
                {"id": ids[0], "values": {"stage": "proposal"}},
                {"id": "0190aaaa-0000-7000-8000-000000000000", "values": {"stage": "proposal"}},
            ]}),
        )
        .await;
    assert_error(&unknown, 422, "batch_validation_failed");
    assert_eq!(unknown.1["details"]["records"][0]["index"], 1);
    assert_eq!(
        unknown.1["details"]["records"][0]["errors"][0]["code"],
        "record_not_found"
    );
    assert_eq!(snapshot(&s).await, original);

    // Sizes.
    let too_many: Vec<Value> = (0..1001)
        .map(|_| json!({"id": ids[0], "values": {"stage": "proposal"}}))
        .collect();
    assert_error(
        &s.post(update, json!({ "records": too_many })).await,
        400,
        "invalid_batch_size",
    );

    // All valid: all applied.
    let (status, updated) = s
        .post(
            update,
            json!({"records": [
                {"id": ids[0], "values": {"stage": "proposal"}, "version": 1},
                {"id": ids[1], "values": {"stage": "negotiation"}},
                {"id": ids[2], "values": {"amount": {"amount": "350.5", "currency": "USD"}}},
            ]}),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    let data = updated["data"].as_array().expect("data");
    assert_eq!(data.len(), 3);
    assert!(data.iter().all(|r| r["version"] == 2), "{updated}");
    let now = snapshot(&s).await;
    assert_eq!(now[0], (json!(2), json!("proposal")));
    assert_eq!(now[1], (json!(2), json!("negotiation")));
    assert_eq!(now[2], (json!(2), json!("prospecting")));
    let (_, d3) = s
        .get(&format!("/api/v1/objects/deal/records/{}", ids[2]))
        .await;
    assert_eq!(
        d3["values"]["amount"],
        json!({"amount": "350.50", "currency": "USD"})
    );
}

async fn relations_and_related_lists(b: crate::harness::Backend) {
    let s = TestServer::start(b).await;
    let acme = s
        .create(
            "company",
            json!({"name": "Acme 科技", "industry": "technology"}),
        )
        .await;
    let acme_id = acme["id"].as_str().expect("id");
    let other = s.create("company", json!({"name": "Other"})).await;
    let c1 = s
        .create("contact", json!({"name": "C1", "company": acme_id}))
        .await;
    s.create("contact", json!({"name": "C2", "company": acme_id}))
        .await;
    s.create("contact", json!({"name": "C3", "company": other["id"]}))
        .await;
    s.create(
        "deal",
        json!({"name": "Big deal", "company": acme_id, "contact": c1["id"]}),
    )
    .await;

    // Expand on a single read.
    let (status, got) = s
        .get(&format!(
            "{CONTACTS}/{}?expand=company",
            c1["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["values"]["company"], acme_id);
    assert_eq!(got["expanded"]["company"]["id"], acme_id);
    assert_eq!(got["expanded"]["company"]["name"], "Acme 科技");
    assert_eq!(
        got["expanded"]["company"]["values"]["industry"],
        "technology"
    );
    assert_error(
        &s.get(&format!(
            "{CONTACTS}/{}?expand=name",
            c1["id"].as_str().expect("id")
        ))
        .await,
        400,
        "invalid_expand",
    );

    // Reverse lists of company.
    let (status, lists) = s.get("/api/v1/objects/company/related").await;
    assert_eq!(status, 200, "{lists}");
    let pairs: BTreeSet<(String, String)> = lists
        .as_array()
        .expect("lists")
        .iter()
        .map(|l| {
            (
                l["object"].as_str().expect("object").to_string(),
                l["field"].as_str().expect("field").to_string(),
            )
        })
        .collect();
    assert!(
        pairs.contains(&("contact".into(), "company".into())),
        "{lists}"
    );
    assert!(
        pairs.contains(&("deal".into(), "company".into())),
        "{lists}"
    );

    let (status, related) = s
        .get(&format!(
            "/api/v1/objects/company/records/{acme_id}/related/contact/company?sort=name"
        ))
        .await;
    assert_eq!(status, 200, "{related}");
    let names: Vec<&str> = related["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|r| r["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, vec!["C1", "C2"]);
    // A further filter combines with the link.
    let (status, related) = s
        .call(
            Method::GET,
            &format!("/api/v1/objects/company/records/{acme_id}/related/contact/company"),
        )
        .query(&[("filter", r#"{"field":"name","op":"eq","value":"C2"}"#)])
        .send()
        .await
        .pair();
    assert_eq!(status, 200, "{related}");
    assert_eq!(related["data"].as_array().expect("data").len(), 1);
    // A field that does not point at the object is 404.
    assert_error(
        &s.get(&format!(
            "/api/v1/objects/company/records/{acme_id}/related/contact/name"
        ))
        .await,
        404,
        "not_found",
    );

    // A relation to a deleted record is refused.
    let path = format!(
        "/api/v1/objects/company/records/{}",
        other["id"].as_str().expect("id")
    );
    assert_eq!(s.delete(&path).await.0, 204);
    let dangling = s
        .post(
            CONTACTS,
            json!({"values": {"name": "C4", "company": other["id"]}}),
        )
        .await;
    assert_eq!(
        field_errors(&dangling),
        vec![pair("company", "unknown_reference")]
    );
}

/// A deal's win probability follows its stage unless the write sets it; an unrelated change
/// or a write that keeps the stage leaves a probability the user chose alone.
async fn probability_follows_the_stage(b: crate::harness::Backend) {
    let s = TestServer::start(b).await;
    let deals = "/api/v1/objects/deal/records";
    let (status, deal) = s
        .post(
            deals,
            json!({"values": {"name": "赢率", "stage": "proposal"}}),
        )
        .await;
    assert_eq!(status, 201, "{deal}");
    let id = deal["id"].as_str().expect("id").to_string();
    let url = format!("{deals}/{id}");
    // Decimals travel as strings, at the field's scale.
    let probability = |r: &Value| r["values"]["probability"].as_str().map(str::to_string);
    assert_eq!(probability(&deal).as_deref(), Some("50.00"), "{deal}");

    let (_, moved) = s
        .patch(&url, json!({"values": {"stage": "negotiation"}}))
        .await;
    assert_eq!(probability(&moved).as_deref(), Some("75.00"), "{moved}");

    // The user's own figure, set with the stage or later, is kept.
    let (_, chosen) = s
        .patch(
            &url,
            json!({"values": {"stage": "qualification", "probability": 35}}),
        )
        .await;
    assert_eq!(probability(&chosen).as_deref(), Some("35.00"), "{chosen}");
    let (_, same_stage) = s
        .patch(
            &url,
            json!({"values": {"stage": "qualification", "name": "赢率 2"}}),
        )
        .await;
    assert_eq!(
        probability(&same_stage).as_deref(),
        Some("35.00"),
        "{same_stage}"
    );
    let (_, renamed) = s.patch(&url, json!({"values": {"name": "赢率 3"}})).await;
    assert_eq!(probability(&renamed).as_deref(), Some("35.00"), "{renamed}");

    // Every stage of a batch moves its own record; a lost deal has no chance.
    let (status, batch) = s
        .post(
            &format!("{deals}/batch/update"),
            json!({"records": [{"id": id, "values": {"stage": "closed_lost"}}]}),
        )
        .await;
    assert_eq!(status, 200, "{batch}");
    let (_, lost) = s.get(&url).await;
    assert_eq!(probability(&lost).as_deref(), Some("0.00"), "{lost}");
    // The change is in the history like any other, attributed to the same write.
    let (_, history) = s.get(&format!("{url}/history")).await;
    assert!(
        history
            .as_array()
            .expect("history")
            .iter()
            .any(|h| h["field"] == "probability" && h["new_value"] == "0.00"),
        "{history}"
    );
}
