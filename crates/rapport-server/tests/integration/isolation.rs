//! Workspaces are sealed from each other: with workspace A's credentials, nothing of workspace
//! B can be read, changed, referenced, searched or even confirmed to exist.

use crate::harness::{assert_error, data_ids, field_errors, pair, Backend, TestServer};
use chrono::Utc;
use serde_json::{json, Value};

crate::both_backends!(workspaces_are_isolated);

async fn workspaces_are_isolated(b: Backend) {
    let s = TestServer::start(b).await;
    let a = s.api.clone();
    let (ws_b, user_b, api_b) = s.other_workspace("Workspace B").await;
    assert_ne!(ws_b.id, s.workspace.id);

    // Workspace B: standard records, a custom object with records, history, a token.
    let b_company = api_b
        .create(
            "company",
            json!({"name": "乙方公司 Secret Corp", "industry": "finance"}),
        )
        .await;
    let b_company_id = b_company["id"].as_str().expect("id").to_string();
    let b_contact = api_b
        .create(
            "contact",
            json!({"name": "秘密联系人 Hidden", "email": "hidden@b.example", "phone": "139 1234 5678", "company": b_company_id}),
        )
        .await;
    let b_contact_id = b_contact["id"].as_str().expect("id").to_string();
    let (status, _) = api_b
        .patch(
            &format!("/api/v1/objects/contact/records/{b_contact_id}"),
            json!({"values": {"title": "CFO"}}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = api_b
        .post(
            "/api/v1/objects",
            json!({"api_name": "vault", "label": "Vault", "plural_label": "Vaults",
                   "fields": [{"api_name": "owner_company", "label": "Company", "type": "relation", "config": {"target": "company"}}]}),
        )
        .await;
    assert_eq!(status, 201);
    let b_vault = api_b
        .create(
            "vault",
            json!({"name": "Vault 1", "owner_company": b_company_id}),
        )
        .await;
    let b_vault_id = b_vault["id"].as_str().expect("id").to_string();
    let (_, b_history) = api_b
        .get(&format!(
            "/api/v1/objects/contact/records/{b_contact_id}/history"
        ))
        .await;
    let b_change = b_history[0]["id"].as_i64().expect("change id");
    let (status, b_token) = api_b.post("/api/v1/tokens", json!({"name": "b"})).await;
    assert_eq!(status, 201);
    // A deleted B record too.
    let b_deleted = api_b
        .create("contact", json!({"name": "Deleted in B"}))
        .await;
    let b_deleted_id = b_deleted["id"].as_str().expect("id").to_string();
    assert_eq!(
        api_b
            .delete(&format!("/api/v1/objects/contact/records/{b_deleted_id}"))
            .await
            .0,
        204
    );

    // Workspace A has records of its own.
    let a_company = a.create("company", json!({"name": "A Corp"})).await;
    let a_contact = a
        .create(
            "contact",
            json!({"name": "A person", "company": a_company["id"]}),
        )
        .await;

    // Every record endpoint answers 404 for B's ids, with A's (admin) credentials.
    let targets = [
        ("contact", b_contact_id.as_str()),
        ("company", b_company_id.as_str()),
        ("contact", b_deleted_id.as_str()),
    ];
    let mut late_patches = Vec::new();
    for (object, id) in targets {
        let path = format!("/api/v1/objects/{object}/records/{id}");
        assert_error(&a.get(&path).await, 404, "not_found");
        assert_error(
            &a.get(&format!("{path}?deleted=true")).await,
            404,
            "not_found",
        );
        // PATCH answers are checked at the end (so the rest of the test runs regardless).
        late_patches.push(a.patch(&path, json!({"values": {"name": "pwned"}})).await);
        late_patches.push(
            a.patch(&path, json!({"values": {"name": "pwned"}, "version": 2}))
                .await,
        );
        assert_error(&a.delete(&path).await, 404, "not_found");
        assert_error(
            &a.post(&format!("{path}/restore"), json!({})).await,
            404,
            "not_found",
        );
        assert_error(&a.get(&format!("{path}/history")).await, 404, "not_found");
        assert_error(
            &a.post(
                &format!("{path}/history/restore"),
                json!({"at": Utc::now().to_rfc3339()}),
            )
            .await,
            404,
            "not_found",
        );
        assert_error(
            &a.post(
                &format!("{path}/history/restore"),
                json!({ "change_id": b_change }),
            )
            .await,
            404,
            "not_found",
        );
    }
    assert_error(
        &a.get(&format!(
            "/api/v1/objects/company/records/{b_company_id}/related/contact/company"
        ))
        .await,
        404,
        "not_found",
    );
    // Batch updates name no B records either.
    let batch = a
        .post(
            "/api/v1/objects/contact/records/batch/update",
            json!({"records": [{"id": b_contact_id, "values": {"name": "pwned"}}]}),
        )
        .await;
    assert_eq!(batch.0, 422, "{}", batch.1);
    assert_eq!(batch.1["code"], "batch_validation_failed");
    assert_eq!(
        batch.1["details"]["records"][0]["errors"][0]["code"],
        "record_not_found"
    );

    // B's custom object does not exist for A.
    for path in [
        "/api/v1/objects/vault".to_string(),
        "/api/v1/objects/vault/records".to_string(),
        format!("/api/v1/objects/vault/records/{b_vault_id}"),
        format!("/api/v1/objects/vault/records/{b_vault_id}/history"),
        "/api/v1/objects/vault/related".to_string(),
    ] {
        assert_error(&a.get(&path).await, 404, "not_found");
    }
    assert_error(
        &a.post(
            "/api/v1/objects/vault/records",
            json!({"values": {"name": "x"}}),
        )
        .await,
        404,
        "not_found",
    );
    assert_error(
        &a.post("/api/v1/objects/vault/records/query", json!({}))
            .await,
        404,
        "not_found",
    );
    assert_error(
        &a.post(
            "/api/v1/objects/vault/fields",
            json!({"api_name": "x", "label": "X", "type": "text"}),
        )
        .await,
        404,
        "not_found",
    );
    assert_error(&a.delete("/api/v1/objects/vault").await, 404, "not_found");
    assert_error(
        &a.patch("/api/v1/objects/vault", json!({"label": "Mine"}))
            .await,
        404,
        "not_found",
    );
    assert_error(
        &a.post("/api/v1/objects/vault/purge", json!({})).await,
        404,
        "not_found",
    );
    let (_, objects) = a.get("/api/v1/objects?archived=true").await;
    assert!(!objects
        .as_array()
        .expect("objects")
        .iter()
        .any(|o| o["api_name"] == "vault"));
    // A may create its own `vault`, unrelated to B's.
    let (status, _) = a
        .post(
            "/api/v1/objects",
            json!({"api_name": "vault", "label": "Vault", "plural_label": "Vaults"}),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(a.count("vault").await, 0);
    assert_error(
        &a.get(&format!("/api/v1/objects/vault/records/{b_vault_id}"))
            .await,
        404,
        "not_found",
    );
    assert_eq!(api_b.count("vault").await, 1);

    // References into B are unknown; so are B's users as owners.
    let reference = a
        .post(
            "/api/v1/objects/contact/records",
            json!({"values": {"name": "Sneaky", "company": b_company_id}}),
        )
        .await;
    assert_eq!(
        field_errors(&reference),
        vec![pair("company", "unknown_reference")]
    );
    let owner = a
        .post(
            "/api/v1/objects/contact/records",
            json!({"values": {"name": "Sneaky"}, "owner_id": user_b.id}),
        )
        .await;
    assert_eq!(field_errors(&owner), vec![pair("owner_id", "unknown_user")]);
    let path = format!(
        "/api/v1/objects/contact/records/{}",
        a_contact["id"].as_str().expect("id")
    );
    let relink = a
        .patch(&path, json!({"values": {"company": b_company_id}}))
        .await;
    assert_eq!(
        field_errors(&relink),
        vec![pair("company", "unknown_reference")]
    );
    // Filters on B's ids match nothing.
    let filter = json!({"field": "company", "op": "eq", "value": b_company_id}).to_string();
    let (status, none) = a.list("contact", &[("filter", &filter)]).await;
    assert_eq!(status, 200);
    assert!(data_ids(&none).is_empty());

    // Lists and search in A never show B's data.
    let a_contacts = a.all_ids("contact").await;
    assert!(!a_contacts.contains(&b_contact_id));
    assert_eq!(a_contacts.len(), 1);
    let (_, bin) = a.list("contact", &[("deleted", "true")]).await;
    assert!(data_ids(&bin).is_empty());
    for q in ["秘密", "Hidden", "hidden@b", "1391234", "Secret", "乙方"] {
        let (status, hits) = a
            .call(reqwest::Method::GET, "/api/v1/search")
            .query(&[("q", q)])
            .send()
            .await
            .pair();
        assert_eq!(status, 200, "{hits}");
        assert_eq!(hits, json!([]), "search {q:?} in A");
        // …while B finds its own.
        let (_, hits) = api_b
            .call(reqwest::Method::GET, "/api/v1/search")
            .query(&[("q", q)])
            .send()
            .await
            .pair();
        assert!(
            !hits.as_array().expect("hits").is_empty(),
            "search {q:?} in B"
        );
    }

    // Accounts: users, tokens, roles and audit stay in their workspace.
    let (_, users) = a.get("/api/v1/users").await;
    assert!(!users.to_string().contains(&user_b.id));
    assert_error(
        &a.patch(
            &format!("/api/v1/users/{}", user_b.id),
            json!({"active": false}),
        )
        .await,
        404,
        "not_found",
    );
    let (_, tokens) = a.get("/api/v1/tokens?all=true").await;
    assert!(!tokens
        .to_string()
        .contains(b_token["id"].as_str().expect("id")));
    assert_error(
        &a.delete(&format!(
            "/api/v1/tokens/{}",
            b_token["id"].as_str().expect("id")
        ))
        .await,
        404,
        "not_found",
    );
    let (_, audit) = a.get("/api/v1/audit?limit=1000").await;
    assert!(!audit.to_string().contains(&user_b.id), "{audit}");
    // B's token still works (A's attempts changed nothing in B).
    let (_, b_me) = api_b.get("/api/v1/auth/me").await;
    assert_eq!(b_me["workspace"]["id"], ws_b.id.as_str());
    let (_, b_view) = api_b
        .get(&format!("/api/v1/objects/contact/records/{b_contact_id}"))
        .await;
    assert_eq!(b_view["values"]["name"], "秘密联系人 Hidden");
    assert_eq!(b_view["version"], 2);
    let (_, b_history) = api_b
        .get(&format!(
            "/api/v1/objects/contact/records/{b_contact_id}/history"
        ))
        .await;
    assert_eq!(b_history.as_array().expect("history").len(), 2);

    // And symmetrically: B cannot see A.
    let a_path = format!(
        "/api/v1/objects/company/records/{}",
        a_company["id"].as_str().expect("id")
    );
    assert_error(&api_b.get(&a_path).await, 404, "not_found");
    let value: Value = api_b.get("/api/v1/objects/vault").await.1;
    assert_eq!(value["fields"].as_array().expect("fields").len(), 2);

    for got in late_patches {
        assert_error(&got, 404, "not_found");
    }
}
