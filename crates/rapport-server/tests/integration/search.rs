//! Global search: name fragments (Chinese too), email fragments, phone digits, unique and
//! searchable text fields; deleted records and objects the caller may not read are left out;
//! each hit carries what tells it apart (the matched value, its company, its owner).

use crate::harness::{assert_error, Backend, TestServer};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;

crate::both_backends!(
    search_finds_names_emails_and_phones,
    search_finds_identifiers_and_tells_results_apart,
);

async fn search(api: &crate::harness::Api, q: &str) -> Vec<(String, String, String)> {
    let (status, hits) = api
        .call(Method::GET, "/api/v1/search")
        .query(&[("q", q)])
        .send()
        .await
        .pair();
    assert_eq!(status, 200, "{q}: {hits}");
    hits.as_array()
        .unwrap_or_else(|| panic!("{hits}"))
        .iter()
        .map(|h| {
            (
                h["object"].as_str().expect("object").to_string(),
                h["name"].as_str().expect("name").to_string(),
                h["matched_field"]
                    .as_str()
                    .expect("matched_field")
                    .to_string(),
            )
        })
        .collect()
}

fn hit(object: &str, name: &str, field: &str) -> (String, String, String) {
    (object.to_string(), name.to_string(), field.to_string())
}

async fn search_finds_names_emails_and_phones(b: Backend) {
    let s = TestServer::start(b).await;
    let company = s
        .create(
            "company",
            json!({"name": "伟业科技有限公司", "phone": "010 8888 6666"}),
        )
        .await;
    let zhang = s
        .create(
            "contact",
            json!({"name": "张伟明", "email": "Zhang.Wei@Example.cn", "phone": "138 0013 8000", "company": company["id"]}),
        )
        .await;
    s.create(
        "contact",
        json!({"name": "李娜", "email": "li.na@corp.example", "mobile": "+1 415 555 2671"}),
    )
    .await;
    s.create(
        "lead",
        json!({"name": "王伟", "email": "wang@lead.example"}),
    )
    .await;
    let deleted = s.create("contact", json!({"name": "伟 deleted"})).await;
    assert_eq!(
        s.delete(&format!(
            "/api/v1/objects/contact/records/{}",
            deleted["id"].as_str().expect("id")
        ))
        .await
        .0,
        204
    );

    // A Chinese name fragment across objects.
    let got: BTreeSet<_> = search(&s, "伟").await.into_iter().collect();
    assert_eq!(
        got,
        BTreeSet::from([
            hit("company", "伟业科技有限公司", "name"),
            hit("contact", "张伟明", "name"),
            hit("lead", "王伟", "name"),
        ])
    );
    assert_eq!(
        search(&s, "伟明").await,
        vec![hit("contact", "张伟明", "name")]
    );
    // Email fragments, case-insensitively.
    assert_eq!(
        search(&s, "zhang.wei@").await,
        vec![hit("contact", "张伟明", "email")]
    );
    assert_eq!(
        search(&s, "ZHANG.WEI").await,
        vec![hit("contact", "张伟明", "email")]
    );
    let got: BTreeSet<_> = search(&s, "example").await.into_iter().collect();
    assert_eq!(
        got,
        BTreeSet::from([
            hit("contact", "张伟明", "email"),
            hit("contact", "李娜", "email"),
            hit("lead", "王伟", "email"),
        ])
    );
    // Phone digits, whatever the formatting of the query.
    assert_eq!(
        search(&s, "13800").await,
        vec![hit("contact", "张伟明", "phone")]
    );
    assert_eq!(
        search(&s, "138-0013").await,
        vec![hit("contact", "张伟明", "phone")]
    );
    assert_eq!(
        search(&s, "5552671").await,
        vec![hit("contact", "李娜", "mobile")]
    );
    assert_eq!(
        search(&s, "8888 6666").await,
        vec![hit("company", "伟业科技有限公司", "phone")]
    );
    // Nothing, and wildcards taken literally.
    assert!(search(&s, "nobody at all").await.is_empty());
    assert!(search(&s, "   ").await.is_empty());
    assert!(search(&s, "%").await.is_empty());
    assert!(search(&s, "_").await.is_empty());
    assert!(search(&s, "deleted").await.is_empty());
    assert_error(
        &s.call(Method::GET, "/api/v1/search")
            .query(&[("q", "x".repeat(201).as_str())])
            .send()
            .await
            .pair(),
        400,
        "invalid_query",
    );
    assert_error(&s.get("/api/v1/search").await, 400, "invalid_query");
    // Hits per object are limited.
    for i in 0..8 {
        s.create("contact", json!({"name": format!("Many {i}")}))
            .await;
    }
    assert_eq!(search(&s, "Many").await.len(), 5);
    let (_, hits) = s
        .call(Method::GET, "/api/v1/search")
        .query(&[("q", "Many"), ("limit", "7")])
        .send()
        .await
        .pair();
    assert_eq!(hits.as_array().expect("hits").len(), 7);
    let ids: Vec<&Value> = hits
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| &h["id"])
        .collect();
    assert!(ids.iter().all(|id| id.is_string()));
    assert_ne!(zhang["id"], Value::Null);

    // Read permission: a role that may not read contacts does not find them.
    let (status, _) = s
        .call(Method::PUT, "/api/v1/roles/no_contacts")
        .json(&json!({"name": "No contacts", "permissions": {"*": "crud", "contact": ""}}))
        .send()
        .await
        .pair();
    assert_eq!(status, 200);
    let (_, limited) = s.user_with_role("no_contacts").await;
    let got: BTreeSet<_> = search(&limited, "伟").await.into_iter().collect();
    assert_eq!(
        got,
        BTreeSet::from([
            hit("company", "伟业科技有限公司", "name"),
            hit("lead", "王伟", "name"),
        ])
    );
    assert!(search(&limited, "13800").await.is_empty());
    assert!(search(&limited, "zhang").await.is_empty());
    // Archived objects are not searched.
    let (status, _) = s
        .post(
            "/api/v1/objects",
            json!({"api_name": "archive_me", "label": "A", "plural_label": "As"}),
        )
        .await;
    assert_eq!(status, 201);
    s.create("archive_me", json!({"name": "伟 archived"})).await;
    assert_eq!(search(&s, "伟 archived").await.len(), 1);
    assert_eq!(s.delete("/api/v1/objects/archive_me").await.0, 200);
    assert!(search(&s, "伟 archived").await.is_empty());
}

/// A serial number in a custom field is found once the field is searchable (or unique), with
/// the matched value; two contacts of the same name are told apart by their companies; a user
/// who may not read companies gets no company names.
async fn search_finds_identifiers_and_tells_results_apart(b: Backend) {
    let s = TestServer::start(b).await;
    let (status, _) = s
        .post(
            "/api/v1/objects",
            json!({"api_name": "equipment", "label": {"zh": "设备"}, "fields": [
                {"api_name": "serial", "label": "序列号", "type": "text"},
                {"api_name": "asset_tag", "label": "资产编号", "type": "text", "unique": true},
                {"api_name": "weight", "label": "重量", "type": "integer"},
            ]}),
        )
        .await;
    assert_eq!(status, 201);
    s.create(
        "equipment",
        json!({"name": "数控机床", "serial": "SN-2024-0850", "asset_tag": "AT-77"}),
    )
    .await;
    assert!(search(&s, "SN-2024").await.is_empty(), "not searchable yet");
    assert_eq!(
        search(&s, "AT-77").await,
        vec![hit("equipment", "数控机床", "asset_tag")]
    );
    let (status, _) = s
        .patch(
            "/api/v1/objects/equipment/fields/serial",
            json!({"config": {"searchable": true}}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, hits) = s
        .call(Method::GET, "/api/v1/search")
        .query(&[("q", "sn-2024-0850")])
        .send()
        .await
        .pair();
    assert_eq!(hits[0]["matched_field"], "serial", "{hits}");
    assert_eq!(hits[0]["matched_value"], "SN-2024-0850", "{hits}");
    // Only text fields can be searchable.
    let refused = s
        .patch(
            "/api/v1/objects/equipment/fields/weight",
            json!({"config": {"searchable": true}}),
        )
        .await;
    assert_error(&refused, 422, "invalid_field_config");

    // Two 王磊 at two companies: each hit names its company and its owner.
    for company in ["星河科技", "华创职业"] {
        let c = s.create("company", json!({"name": company})).await;
        s.create("contact", json!({"name": "王磊", "company": c["id"]}))
            .await;
    }
    let (_, hits) = s
        .call(Method::GET, "/api/v1/search")
        .query(&[("q", "王磊")])
        .send()
        .await
        .pair();
    let mut told: Vec<(String, String)> = hits
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| {
            assert_eq!(h["owner_id"], s.admin.id.as_str(), "{h}");
            assert_eq!(
                h["matched_value"],
                Value::Null,
                "a name match repeats no value: {h}"
            );
            (
                h["name"].as_str().expect("name").to_string(),
                h["context"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    told.sort();
    assert_eq!(
        told,
        vec![
            ("王磊".to_string(), "华创职业".to_string()),
            ("王磊".to_string(), "星河科技".to_string())
        ]
    );
    let (_, role) = s
        .api
        .call(Method::PUT, "/api/v1/roles/no_companies")
        .json(&json!({"name": "不看公司", "permissions": {"contact": "r"}}))
        .send()
        .await
        .pair();
    assert_eq!(role["id"], "no_companies", "{role}");
    let (_, limited) = s.user_with_role("no_companies").await;
    let (_, hits) = limited
        .call(Method::GET, "/api/v1/search")
        .query(&[("q", "王磊")])
        .send()
        .await
        .pair();
    let hits = hits.as_array().expect("hits");
    assert_eq!(hits.len(), 2);
    assert!(hits.iter().all(|h| h["context"].is_null()), "{hits:?}");
}
