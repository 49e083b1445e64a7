//! Custom objects and fields at run time: creation with every kind of field, records right
//! away, formulas, adding fields to objects with data, archive / restore / purge, and the
//! admin-only rule with its audit trail.

use crate::harness::{assert_error, field_errors, pair, Backend, TestServer, ADMIN_PASSWORD};
use serde_json::{json, Value};
use std::collections::BTreeSet;

crate::both_backends!(
    custom_object_lifecycle,
    field_archive_restore_and_purge,
    object_archive_restore_and_purge,
    only_admins_change_metadata,
    invalid_definitions_are_refused,
    chinese_only_names,
);

const EQUIPMENT: &str = "/api/v1/objects/equipment";
const RECORDS: &str = "/api/v1/objects/equipment/records";

fn equipment_definition() -> Value {
    json!({
        "api_name": "equipment",
        "label": {"en": "Equipment", "zh": "设备"},
        "plural_label": {"en": "Equipment", "zh": "设备"},
        "fields": [
            {"api_name": "serial", "label": {"en": "Serial number", "zh": "序列号"}, "type": "text",
             "unique": true, "config": {"pattern": "EQ-[0-9]{4}"}},
            {"api_name": "purchased_on", "label": "Purchased on", "type": "date"},
            {"api_name": "price", "label": "Price", "type": "currency"},
            {"api_name": "status", "label": "Status", "type": "select",
             "config": {"options": [
                 {"value": "active", "label": {"en": "Active", "zh": "在用"}},
                 {"value": "retired", "label": {"en": "Retired", "zh": "报废"}}
             ]}},
            {"api_name": "site", "label": "Site", "type": "relation",
             "config": {"target": "company", "reverse_label": {"en": "Equipment", "zh": "设备"}}},
            {"api_name": "warranty_years", "label": "Warranty (years)", "type": "integer",
             "config": {"min": "0", "max": "10"}},
            {"api_name": "price_with_tax", "label": "Price with tax", "type": "formula",
             "config": {"result_type": "decimal", "expression": "price * 1.13"}}
        ]
    })
}

async fn create_equipment(s: &TestServer) -> Value {
    let (status, object) = s.post("/api/v1/objects", equipment_definition()).await;
    assert_eq!(status, 201, "{object}");
    object
}

fn field_names(object: &Value) -> Vec<String> {
    object["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["api_name"].as_str().expect("api_name").to_string())
        .collect()
}

async fn custom_object_lifecycle(b: Backend) {
    let s = TestServer::start(b).await;
    let object = create_equipment(&s).await;
    assert_eq!(object["api_name"], "equipment");
    assert_eq!(object["label"], json!({"en": "Equipment", "zh": "设备"}));
    assert_eq!(object["is_standard"], false);
    assert_eq!(object["name_field"], "name");
    assert_eq!(
        field_names(&object),
        vec![
            "name",
            "serial",
            "purchased_on",
            "price",
            "status",
            "site",
            "warranty_years",
            "price_with_tax"
        ]
    );
    assert_eq!(object["fields"][0]["required"], true);
    assert_eq!(
        object["fields"][2]["label"],
        json!({"en": "Purchased on", "zh": "Purchased on"})
    );
    // It is listed and readable like any object.
    let (status, objects) = s.get("/api/v1/objects").await;
    assert_eq!(status, 200, "{objects}");
    assert!(objects
        .as_array()
        .expect("objects")
        .iter()
        .any(|o| o["api_name"] == "equipment"));
    let (status, got) = s.get(EQUIPMENT).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["fields"], object["fields"]);
    // Creating it twice is a conflict.
    assert_error(
        &s.post("/api/v1/objects", equipment_definition()).await,
        409,
        "object_exists",
    );
    // The company's reverse lists now include equipment.site.
    let (_, related) = s.get("/api/v1/objects/company/related").await;
    assert!(related
        .as_array()
        .expect("lists")
        .iter()
        .any(|l| l["object"] == "equipment" && l["field"] == "site" && l["label"]["zh"] == "设备"));

    // Records right away, with the formula computed.
    let site = s.create("company", json!({"name": "上海工厂"})).await;
    let drill = s
        .create(
            "equipment",
            json!({
                "name": "电钻 Drill",
                "serial": "EQ-0001",
                "purchased_on": "2024-05-01",
                "price": {"amount": "100", "currency": "CNY"},
                "status": "active",
                "site": site["id"],
                "warranty_years": 3,
            }),
        )
        .await;
    let drill_path = format!("{RECORDS}/{}", drill["id"].as_str().expect("id"));
    assert_eq!(drill["name"], "电钻 Drill");
    assert_eq!(
        drill["values"]["price"],
        json!({"amount": "100.00", "currency": "CNY"})
    );
    assert_eq!(drill["values"]["price_with_tax"], "113.00");
    assert_eq!(drill["values"]["purchased_on"], "2024-05-01");
    assert_eq!(drill["values"]["warranty_years"], 3);
    assert_eq!(drill["values"]["site"], site["id"]);

    // Field rules apply.
    let bad = s
        .post(
            RECORDS,
            json!({"values": {"name": "X", "serial": "XX-1", "warranty_years": 11, "status": "lost"}}),
        )
        .await;
    let got: BTreeSet<_> = field_errors(&bad).into_iter().collect();
    assert_eq!(
        got,
        BTreeSet::from([
            pair("serial", "pattern_mismatch"),
            pair("warranty_years", "out_of_range"),
            pair("status", "invalid_option"),
        ])
    );
    let negative = s
        .post(
            RECORDS,
            json!({"values": {"name": "X", "warranty_years": -1}}),
        )
        .await;
    assert_eq!(
        field_errors(&negative),
        vec![pair("warranty_years", "out_of_range")]
    );
    let formula = s
        .post(
            RECORDS,
            json!({"values": {"name": "X", "price_with_tax": "1"}}),
        )
        .await;
    assert_eq!(
        field_errors(&formula),
        vec![pair("price_with_tax", "read_only_field")]
    );
    let dup = s
        .post(
            RECORDS,
            json!({"values": {"name": "Y", "serial": "EQ-0001"}}),
        )
        .await;
    assert_error(&dup, 409, "duplicate_value");
    let missing = s
        .post(RECORDS, json!({"values": {"serial": "EQ-0002"}}))
        .await;
    assert_eq!(field_errors(&missing), vec![pair("name", "required")]);

    // The formula follows its inputs.
    let (status, updated) = s
        .patch(&drill_path, json!({"values": {"price": "200.5"}}))
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["values"]["price_with_tax"], "226.57");
    let (status, cleared) = s
        .patch(&drill_path, json!({"values": {"price": null}}))
        .await;
    assert_eq!(status, 200, "{cleared}");
    assert_eq!(cleared["values"]["price_with_tax"], Value::Null);
    let (_, restored) = s
        .patch(&drill_path, json!({"values": {"price": 200}}))
        .await;
    assert_eq!(restored["values"]["price_with_tax"], "226.00");
    // Formula values are stored: they filter and sort.
    s.create(
        "equipment",
        json!({"name": "Saw", "serial": "EQ-0002", "price": 50}),
    )
    .await;
    let filter = json!({"field": "price_with_tax", "op": "gt", "value": 100}).to_string();
    let (status, list) = s.list("equipment", &[("filter", &filter)]).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(
        crate::harness::data_ids(&list),
        vec![drill["id"].as_str().expect("id").to_string()]
    );
    let (_, sorted) = s.list("equipment", &[("sort", "price_with_tax")]).await;
    let order: Vec<&str> = sorted["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|r| r["name"].as_str().expect("name"))
        .collect();
    assert_eq!(order, vec!["Saw", "电钻 Drill"]);
    // Relation paths into the custom object's target work.
    let filter = json!({"field": "site.name", "op": "eq", "value": "上海工厂"}).to_string();
    let (_, by_site) = s.list("equipment", &[("filter", &filter)]).await;
    assert_eq!(by_site["data"].as_array().expect("data").len(), 1);

    // Adding fields to an object that has records.
    let (status, with_note) = s
        .post(
            &format!("{EQUIPMENT}/fields"),
            json!({"api_name": "location_note", "label": {"en": "Location", "zh": "位置"}, "type": "text"}),
        )
        .await;
    assert_eq!(status, 201, "{with_note}");
    assert!(field_names(&with_note).contains(&"location_note".to_string()));
    let (_, drill_now) = s.get(&drill_path).await;
    assert_eq!(drill_now["values"]["location_note"], Value::Null);
    let (status, noted) = s
        .patch(
            &drill_path,
            json!({"values": {"location_note": "B 区 3 号架"}}),
        )
        .await;
    assert_eq!(status, 200, "{noted}");
    assert_eq!(noted["values"]["location_note"], "B 区 3 号架");
    // A formula added later is computed for the existing records.
    let (status, _) = s
        .post(
            &format!("{EQUIPMENT}/fields"),
            json!({"api_name": "double_price", "label": "Double", "type": "formula",
                   "config": {"result_type": "decimal", "expression": "price * 2"}}),
        )
        .await;
    assert_eq!(status, 201);
    let (_, drill_now) = s.get(&drill_path).await;
    assert_eq!(drill_now["values"]["double_price"], "400.00");
    // A unique field added later, a required one, a multi-select one.
    let (status, body) = s
        .post(
            &format!("{EQUIPMENT}/fields"),
            json!({"api_name": "asset_tag", "label": "Asset tag", "type": "text", "unique": true}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = s
        .post(
            &format!("{EQUIPMENT}/fields"),
            json!({"api_name": "tags", "label": "Tags", "type": "multi_select",
                   "config": {"options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]}}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, tagged) = s
        .patch(
            &drill_path,
            json!({"values": {"tags": ["b", "a", "b"], "asset_tag": "T1"}}),
        )
        .await;
    assert_eq!(status, 200, "{tagged}");
    assert_eq!(tagged["values"]["tags"], json!(["a", "b"]));
    assert_error(
        &s.post(
            &format!("{EQUIPMENT}/fields"),
            json!({"api_name": "serial", "label": "Again", "type": "text"}),
        )
        .await,
        409,
        "field_exists",
    );
    // Labels change; data does not.
    let (status, relabeled) = s
        .patch(
            &format!("{EQUIPMENT}/fields/serial"),
            json!({"label": {"en": "Serial", "zh": "编号"}}),
        )
        .await;
    assert_eq!(status, 200, "{relabeled}");
    let (status, relabeled) = s
        .patch(EQUIPMENT, json!({"label": {"en": "Device", "zh": "设备"}}))
        .await;
    assert_eq!(status, 200, "{relabeled}");
    assert_eq!(relabeled["label"]["en"], "Device");
    let (_, drill_now) = s.get(&drill_path).await;
    assert_eq!(drill_now["values"]["serial"], "EQ-0001");

    // Every metadata change is audited.
    let (status, audit) = s.get("/api/v1/audit?limit=1000").await;
    assert_eq!(status, 200, "{audit}");
    let actions: BTreeSet<&str> = audit
        .as_array()
        .expect("audit")
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    for action in [
        "object.create",
        "field.create",
        "field.update",
        "object.update",
    ] {
        assert!(
            actions.contains(action),
            "{action} missing from {actions:?}"
        );
    }
}

async fn field_archive_restore_and_purge(b: Backend) {
    let s = TestServer::start(b).await;
    create_equipment(&s).await;
    let (status, _) = s
        .post(
            &format!("{EQUIPMENT}/fields"),
            json!({"api_name": "location_note", "label": "Location", "type": "text"}),
        )
        .await;
    assert_eq!(status, 201);
    let rec = s
        .create(
            "equipment",
            json!({"name": "Lathe", "location_note": "Hall 2", "price": 10}),
        )
        .await;
    let path = format!("{RECORDS}/{}", rec["id"].as_str().expect("id"));
    let field = format!("{EQUIPMENT}/fields/location_note");

    // Purge before archive is refused.
    assert_error(
        &s.post(&format!("{field}/purge"), json!({})).await,
        409,
        "not_archived",
    );
    // A field that a formula reads cannot be archived; nor standard or name fields.
    assert_error(
        &s.delete(&format!("{EQUIPMENT}/fields/price")).await,
        409,
        "field_in_use",
    );
    assert_error(
        &s.delete(&format!("{EQUIPMENT}/fields/name")).await,
        409,
        "name_field",
    );
    assert_error(
        &s.delete("/api/v1/objects/contact/fields/email").await,
        409,
        "standard_field",
    );
    assert_error(
        &s.delete(&format!("{EQUIPMENT}/fields/nope")).await,
        404,
        "not_found",
    );

    // Archive: hidden from values, filters, sorts and writes; the data is kept.
    let (status, archived) = s.delete(&field).await;
    assert_eq!(status, 200, "{archived}");
    let (_, got) = s.get(&path).await;
    assert!(got["values"].get("location_note").is_none(), "{got}");
    let filter = json!({"field": "location_note", "op": "eq", "value": "Hall 2"}).to_string();
    assert_error(
        &s.list("equipment", &[("filter", &filter)]).await,
        400,
        "invalid_condition",
    );
    assert_error(
        &s.list("equipment", &[("sort", "location_note")]).await,
        400,
        "invalid_sort",
    );
    assert_error(
        &s.list("equipment", &[("fields", "location_note")]).await,
        400,
        "invalid_fields",
    );
    let write = s
        .patch(&path, json!({"values": {"location_note": "elsewhere"}}))
        .await;
    assert_eq!(
        field_errors(&write),
        vec![pair("location_note", "unknown_field")]
    );
    // Other fields still update while it is archived.
    let (status, _) = s.patch(&path, json!({"values": {"name": "Lathe 2"}})).await;
    assert_eq!(status, 200);
    // Admins still see it, marked archived; the object list hides it.
    let (_, object) = s.get(EQUIPMENT).await;
    let note = object["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .find(|f| f["api_name"] == "location_note")
        .cloned()
        .expect("archived field visible to admins");
    assert!(note["archived_at"].is_string());
    let (_, objects) = s.get("/api/v1/objects").await;
    let listed = objects
        .as_array()
        .expect("objects")
        .iter()
        .find(|o| o["api_name"] == "equipment")
        .cloned()
        .expect("equipment");
    assert!(!field_names(&listed).contains(&"location_note".to_string()));
    // Adding a field of the same name is a conflict while it is archived.
    assert_error(
        &s.post(
            &format!("{EQUIPMENT}/fields"),
            json!({"api_name": "location_note", "label": "Again", "type": "text"}),
        )
        .await,
        409,
        "field_exists",
    );
    // An archived field cannot be edited.
    assert_error(
        &s.patch(&field, json!({"label": "New"})).await,
        409,
        "archived",
    );

    // Restore: the data is back.
    let (status, _) = s.post(&format!("{field}/restore"), json!({})).await;
    assert_eq!(status, 200);
    let (_, got) = s.get(&path).await;
    assert_eq!(got["values"]["location_note"], "Hall 2");
    assert_eq!(got["values"]["name"], "Lathe 2");
    let (_, found) = s.list("equipment", &[("filter", &filter)]).await;
    assert_eq!(found["data"].as_array().expect("data").len(), 1);

    // Archive then purge: gone for good; the name is free again and starts empty.
    assert_eq!(s.delete(&field).await.0, 200);
    let (status, purged) = s.post(&format!("{field}/purge"), json!({})).await;
    assert_eq!(status, 200, "{purged}");
    assert!(!field_names(&purged).contains(&"location_note".to_string()));
    let (_, object) = s.get(EQUIPMENT).await;
    assert!(!field_names(&object).contains(&"location_note".to_string()));
    let (status, body) = s
        .post(
            &format!("{EQUIPMENT}/fields"),
            json!({"api_name": "location_note", "label": "Location", "type": "text"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (_, got) = s.get(&path).await;
    assert_eq!(got["values"]["location_note"], Value::Null);

    // A unique field archived and restored keeps its index working.
    assert_eq!(s.delete(&format!("{EQUIPMENT}/fields/serial")).await.0, 200);
    assert_eq!(
        s.post(&format!("{EQUIPMENT}/fields/serial/restore"), json!({}))
            .await
            .0,
        200
    );
    s.create("equipment", json!({"name": "A", "serial": "EQ-1000"}))
        .await;
    assert_error(
        &s.post(
            RECORDS,
            json!({"values": {"name": "B", "serial": "EQ-1000"}}),
        )
        .await,
        409,
        "duplicate_value",
    );

    let (_, audit) = s.get("/api/v1/audit?limit=1000").await;
    let actions: BTreeSet<&str> = audit
        .as_array()
        .expect("audit")
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    for action in ["field.archive", "field.restore", "field.purge"] {
        assert!(
            actions.contains(action),
            "{action} missing from {actions:?}"
        );
    }
}

async fn object_archive_restore_and_purge(b: Backend) {
    let s = TestServer::start(b).await;
    let (status, _) = s
        .post(
            "/api/v1/objects",
            json!({"api_name": "gadget", "label": "Gadget", "plural_label": "Gadgets"}),
        )
        .await;
    assert_eq!(status, 201);
    let g = s.create("gadget", json!({"name": "G1"})).await;
    let path = format!(
        "/api/v1/objects/gadget/records/{}",
        g["id"].as_str().expect("id")
    );

    assert_error(
        &s.post("/api/v1/objects/gadget/purge", json!({})).await,
        409,
        "not_archived",
    );
    assert_error(
        &s.delete("/api/v1/objects/contact").await,
        409,
        "standard_object",
    );
    // An object that another object's relation points at cannot be archived.
    let (status, _) = s
        .post(
            "/api/v1/objects",
            json!({"api_name": "widget", "label": "Widget", "plural_label": "Widgets",
                   "fields": [{"api_name": "gadget", "label": "Gadget", "type": "relation", "config": {"target": "gadget"}}]}),
        )
        .await;
    assert_eq!(status, 201);
    assert_error(
        &s.delete("/api/v1/objects/gadget").await,
        409,
        "object_in_use",
    );
    assert_eq!(s.delete("/api/v1/objects/widget").await.0, 200);

    let (status, archived) = s.delete("/api/v1/objects/gadget").await;
    assert_eq!(status, 200, "{archived}");
    assert!(archived["archived_at"].is_string());
    assert_error(&s.get(&path).await, 404, "not_found");
    assert_error(
        &s.get("/api/v1/objects/gadget/records").await,
        404,
        "not_found",
    );
    assert_error(
        &s.post(
            "/api/v1/objects/gadget/records",
            json!({"values": {"name": "G2"}}),
        )
        .await,
        404,
        "not_found",
    );
    let (_, objects) = s.get("/api/v1/objects").await;
    assert!(!objects
        .as_array()
        .expect("objects")
        .iter()
        .any(|o| o["api_name"] == "gadget"));
    let (_, with_archived) = s.get("/api/v1/objects?archived=true").await;
    assert!(with_archived
        .as_array()
        .expect("objects")
        .iter()
        .any(|o| o["api_name"] == "gadget"));

    let (status, _) = s.post("/api/v1/objects/gadget/restore", json!({})).await;
    assert_eq!(status, 200);
    let (status, back) = s.get(&path).await;
    assert_eq!(status, 200, "{back}");
    assert_eq!(back["values"]["name"], "G1");

    assert_eq!(s.delete("/api/v1/objects/gadget").await.0, 200);
    let (status, _) = s.post("/api/v1/objects/gadget/purge", json!({})).await;
    assert_eq!(status, 204);
    assert_error(
        &s.get("/api/v1/objects/gadget?archived=true").await,
        404,
        "not_found",
    );
    // The name can be used again, with a fresh table.
    let (status, _) = s
        .post(
            "/api/v1/objects",
            json!({"api_name": "gadget", "label": "Gadget", "plural_label": "Gadgets"}),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(s.count("gadget").await, 0);
}

async fn only_admins_change_metadata(b: Backend) {
    let s = TestServer::start(b).await;
    let email = crate::harness::unique_email("sales");
    let (status, user) = s
        .post(
            "/api/v1/users",
            json!({"email": email.to_uppercase(), "name": "  销售 Sales  ", "password": ADMIN_PASSWORD, "role_id": "sales"}),
        )
        .await;
    assert_eq!(status, 201, "{user}");
    assert_eq!(user["email"], email.as_str());
    assert_eq!(user["name"], "销售 Sales");
    assert_eq!(user["role_id"], "sales");
    let sales_id = user["id"].as_str().expect("id").to_string();
    let sales = s.login(&email, ADMIN_PASSWORD).await;

    let denied = sales
        .call(reqwest::Method::POST, "/api/v1/objects")
        .header("x-request-id", "deny-me-1")
        .json(&equipment_definition())
        .send()
        .await
        .pair();
    assert_error(&denied, 403, "forbidden");
    assert_error(
        &sales
            .post(
                "/api/v1/objects/contact/fields",
                json!({"api_name": "x", "label": "X", "type": "text"}),
            )
            .await,
        403,
        "forbidden",
    );
    assert_error(
        &sales.delete("/api/v1/objects/contact/fields/title").await,
        403,
        "forbidden",
    );
    assert_error(
        &sales.post("/api/v1/users", json!({"email": "a@b.cn", "name": "A", "password": ADMIN_PASSWORD, "role_id": "admin"})).await,
        403,
        "forbidden",
    );
    assert_error(&sales.get("/api/v1/audit").await, 403, "forbidden");
    assert_error(
        &sales
            .call(reqwest::Method::PUT, "/api/v1/roles/sales")
            .json(&json!({"name": "Sales", "is_admin": true, "permissions": {"*": "crud"}}))
            .send()
            .await
            .pair(),
        403,
        "forbidden",
    );
    // Nothing was created.
    assert_error(&s.get(EQUIPMENT).await, 404, "not_found");
    // Sales may still read metadata and work with records.
    let (status, objects) = sales.get("/api/v1/objects").await;
    assert_eq!(status, 200, "{objects}");
    sales.create("contact", json!({"name": "From sales"})).await;
    // Once an admin created the object, sales can use it.
    create_equipment(&s).await;
    let rec = sales
        .create("equipment", json!({"name": "Sales drill", "price": 1}))
        .await;
    assert_eq!(rec["values"]["price_with_tax"], "1.13");
    assert_eq!(rec["created_by"], sales_id.as_str());

    // The denials are in the audit log, with actor, target and request id.
    let (status, audit) = s.get("/api/v1/audit?action=permission_denied").await;
    assert_eq!(status, 200, "{audit}");
    let entries = audit.as_array().expect("audit");
    assert!(entries.iter().all(|e| e["action"] == "permission_denied"));
    let mine: Vec<&Value> = entries
        .iter()
        .filter(|e| e["actor_id"] == sales_id.as_str())
        .collect();
    assert!(mine.len() >= 6, "{audit}");
    let first = mine
        .iter()
        .find(|e| e["request_id"] == "deny-me-1")
        .expect("the first denial, by request id");
    assert_eq!(first["target"], "metadata");
    assert_eq!(first["outcome"], "denied");
    assert!(
        first["ip"].as_str().is_some_and(|ip| ip == "127.0.0.1"),
        "{first}"
    );
    assert!(mine.iter().any(|e| e["target"] == "audit"));
    assert!(mine.iter().any(|e| e["target"] == "users"));
    assert!(mine.iter().any(|e| e["target"] == "roles"));
}

async fn invalid_definitions_are_refused(b: Backend) {
    let s = TestServer::start(b).await;
    let object = |api: &str, fields: Value| json!({"api_name": api, "label": "L", "plural_label": "Ls", "fields": fields});
    let cases = [
        (
            json!({"api_name": "Bad Name", "label": "L", "plural_label": "Ls"}),
            "invalid_api_name",
        ),
        (
            json!({"api_name": "x\"; DROP TABLE users; --", "label": "L", "plural_label": "Ls"}),
            "invalid_api_name",
        ),
        (
            json!({"api_name": "thing", "label": "", "plural_label": "Ls"}),
            "invalid_label",
        ),
        (
            object(
                "thing",
                json!([{"api_name": "id", "label": "Id", "type": "text"}]),
            ),
            "reserved_name",
        ),
        (
            object(
                "thing",
                json!([{"api_name": "a__b", "label": "A", "type": "text"}]),
            ),
            "invalid_api_name",
        ),
        (
            object(
                "thing",
                json!([{"api_name": "s", "label": "S", "type": "select"}]),
            ),
            "invalid_field_config",
        ),
        (
            object(
                "thing",
                json!([{"api_name": "r", "label": "R", "type": "relation"}]),
            ),
            "invalid_field_config",
        ),
        (
            object(
                "thing",
                json!([{"api_name": "r", "label": "R", "type": "relation", "config": {"target": "nothing"}}]),
            ),
            "unknown_target",
        ),
        (
            object(
                "thing",
                json!([{"api_name": "t", "label": "T", "type": "text", "config": {"pattern": "("}}]),
            ),
            "invalid_field_config",
        ),
        (
            object(
                "thing",
                json!([{"api_name": "n", "label": "N", "type": "integer", "config": {"pattern": "x"}}]),
            ),
            "invalid_field_config",
        ),
        (
            object(
                "thing",
                json!([{"api_name": "t", "label": "T", "type": "text"}, {"api_name": "t", "label": "T", "type": "text"}]),
            ),
            "duplicate_field",
        ),
        (
            object(
                "thing",
                json!([{"api_name": "f", "label": "F", "type": "formula", "config": {"result_type": "decimal"}}]),
            ),
            "invalid_field_config",
        ),
        (
            json!({"api_name": "contact", "label": "L", "plural_label": "Ls"}),
            "object_exists",
        ),
    ];
    for (definition, code) in cases {
        let got = s.post("/api/v1/objects", definition.clone()).await;
        let status = if code == "object_exists" { 409 } else { 422 };
        assert_error(&got, status, code);
        let name = definition["api_name"].as_str().unwrap_or("");
        if name == "thing" {
            assert_error(&s.get("/api/v1/objects/thing").await, 404, "not_found");
        }
    }
    // Field additions are checked the same way.
    let fields = "/api/v1/objects/contact/fields";
    assert_error(
        &s.post(fields, json!({"api_name": "f", "label": "F", "type": "formula", "config": {"result_type": "decimal", "expression": "1 +* 2"}})).await,
        422,
        "invalid_formula",
    );
    assert_error(
        &s.post(
            fields,
            json!({"api_name": "version", "label": "V", "type": "integer"}),
        )
        .await,
        422,
        "reserved_name",
    );
    assert_error(
        &s.post(
            fields,
            json!({"api_name": "w", "label": "W", "type": "warp"}),
        )
        .await,
        400,
        "invalid_body",
    );
    // A unique field cannot be added over existing duplicates.
    s.create("contact", json!({"name": "Same", "wechat": "dup"}))
        .await;
    s.create("contact", json!({"name": "Same", "wechat": "dup"}))
        .await;
    assert_error(
        &s.patch(&format!("{fields}/wechat"), json!({"unique": true}))
            .await,
        409,
        "duplicate_values_exist",
    );
    // Type-changing updates are refused.
    assert_error(
        &s.patch(
            &format!("{fields}/company"),
            json!({"config": {"target": "deal"}}),
        )
        .await,
        409,
        "type_change_unsupported",
    );

    // A formula that does not parse, reads an unknown field or gives the wrong type is refused
    // when the object is created, as it is when the field is added later.
    for (i, expression) in ["1 +* 2", "nope * 2", "name * 2"].into_iter().enumerate() {
        let api = format!("formula_thing_{i}");
        let got = s
            .post(
                "/api/v1/objects",
                object(
                    &api,
                    json!([{"api_name": "f", "label": "F", "type": "formula",
                            "config": {"result_type": "decimal", "expression": expression}}]),
                ),
            )
            .await;
        assert_error(&got, 422, "invalid_formula");
        assert_error(
            &s.get(&format!("/api/v1/objects/{api}")).await,
            404,
            "not_found",
        );
    }
}

/// An admin who types only Chinese names gets working objects and fields: the English label
/// falls back to the Chinese, the plural to the label, and the api name is the pinyin, made
/// unique; a field without any label is refused with what is missing.
async fn chinese_only_names(b: Backend) {
    let s = TestServer::start(b).await;
    let (status, project) = s
        .post(
            "/api/v1/objects",
            json!({"label": {"zh": "项目"}, "fields": [
                {"label": {"zh": "里程碑"}, "type": "text"},
                {"label": {"zh": "里程碑", "en": " "}, "type": "date"},
            ]}),
        )
        .await;
    assert_eq!(status, 201, "{project}");
    assert_eq!(project["api_name"], "xiang_mu");
    assert_eq!(project["label"], json!({"en": "项目", "zh": "项目"}));
    assert_eq!(project["plural_label"], project["label"]);
    let names: Vec<&str> = project["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["api_name"].as_str())
        .collect();
    assert_eq!(names, vec!["name", "li_cheng_bei", "li_cheng_bei_2"]);

    let (status, again) = s
        .post("/api/v1/objects", json!({"label": {"zh": "项目"}}))
        .await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(again["api_name"], "xiang_mu_2");

    let fields = "/api/v1/objects/contact/fields";
    let added = |o: &Value| o["fields"].as_array().and_then(|f| f.last()).cloned();
    let (status, contact) = s
        .post(fields, json!({"label": {"zh": "客户等级"}, "type": "text"}))
        .await;
    assert_eq!(status, 201, "{contact}");
    assert_eq!(added(&contact).expect("field")["api_name"], "ke_hu_deng_ji");
    let (_, contact) = s
        .post(fields, json!({"label": "客户等级", "type": "integer"}))
        .await;
    assert_eq!(
        added(&contact).expect("field")["api_name"],
        "ke_hu_deng_ji_2"
    );
    let (_, contact) = s
        .post(
            fields,
            json!({"label": {"en": "Owner id", "zh": "负责人编号"}, "type": "text"}),
        )
        .await;
    assert_eq!(added(&contact).expect("field")["api_name"], "owner_id_2");
    let missing = s
        .post(fields, json!({"label": {"zh": "  "}, "type": "text"}))
        .await;
    assert_error(&missing, 422, "invalid_label");

    // A picklist in Chinese only: option values from the labels, unique within the field.
    let (status, contact) = s
        .post(
            fields,
            json!({"label": {"zh": "区域"}, "type": "select", "config": {"options": [
                {"label": {"zh": "华东"}}, {"label": {"zh": "华南"}}, {"label": "华东"},
            ]}}),
        )
        .await;
    assert_eq!(status, 201, "{contact}");
    let region = added(&contact).expect("field");
    let values: Vec<&str> = region["config"]["options"]
        .as_array()
        .expect("options")
        .iter()
        .filter_map(|o| o["value"].as_str())
        .collect();
    assert_eq!(values, vec!["hua_dong", "hua_nan", "hua_dong_2"]);

    // The generated names work like typed ones, and the audit log names the field.
    let (status, record) = s
        .post(
            "/api/v1/objects/contact/records",
            json!({"values": {"name": "李雷", "ke_hu_deng_ji": "A", "ke_hu_deng_ji_2": 3, "qu_yu": "hua_nan"}}),
        )
        .await;
    assert_eq!(status, 201, "{record}");
    let (_, audit) = s.get("/api/v1/audit?action=field.create").await;
    let targets: Vec<&str> = audit
        .as_array()
        .expect("audit")
        .iter()
        .filter_map(|e| e["target"].as_str())
        .collect();
    assert!(targets.contains(&"contact.ke_hu_deng_ji_2"), "{audit}");
}
