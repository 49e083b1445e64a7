//! Upgrades from the previous release: a database made by `v0.1.0` (kept as fixtures in
//! `tests/fixtures/v0.1.0`: a SQLite file and a plain `pg_dump`, made by `make.sh` there) is
//! opened by the current binary, whose migrations run on start, and everything the old version
//! stored is checked through the HTTP API: objects and fields (a custom object, a custom field
//! on a standard one), records in Chinese and English (one deleted), their history, a saved
//! view, the CDP source, its events and the quarantined one; then the upgraded database takes
//! new writes and events with the old write key.

use crate::server::{pg_admin_url, Admin, Server, TestDatabase};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v0.1.0")
}

fn by_name(records: &HashMap<String, Value>) -> HashMap<String, Value> {
    records
        .values()
        .map(|r| {
            (
                r["name"].as_str().unwrap_or_default().to_string(),
                r.clone(),
            )
        })
        .collect()
}

fn field_names(object: &Value) -> Vec<String> {
    object["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["api_name"].as_str().expect("api_name").to_string())
        .collect()
}

async fn check_upgraded(server: &Server) {
    let admin = Admin::login(&server.base).await;

    // Metadata: the custom object with its fields and labels, the custom field of contact.
    let (status, equipment) = admin.get("/api/v1/objects/equipment").await;
    assert_eq!(status, 200, "{equipment}");
    assert_eq!(equipment["label"], json!({"en": "Equipment", "zh": "设备"}));
    let fields = field_names(&equipment);
    for f in [
        "name",
        "serial",
        "price",
        "status",
        "site",
        "warranty_years",
    ] {
        assert!(
            fields.contains(&f.to_string()),
            "equipment lost {f}: {fields:?}"
        );
    }
    let (status, contact) = admin.get("/api/v1/objects/contact").await;
    assert_eq!(status, 200);
    assert!(field_names(&contact).contains(&"vip_level".to_string()));

    // Records.
    let companies = by_name(&admin.all_records("company").await);
    let huawei = &companies["华为技术有限公司"];
    assert_eq!(huawei["values"]["industry"], "technology");
    assert!(companies.contains_key("Acme Corp"));
    let contacts = by_name(&admin.all_records("contact").await);
    let li = &contacts["李雷"];
    assert_eq!(li["values"]["vip_level"], "gold");
    assert_eq!(li["values"]["city"], "北京");
    assert_eq!(li["values"]["email"], "li.lei@example.cn");
    assert_eq!(li["values"]["company"], huawei["id"]);
    assert!(!contacts.contains_key("Jane Doe"), "Jane Doe was deleted");
    let (status, bin) = admin
        .get("/api/v1/objects/contact/records?deleted=true")
        .await;
    assert_eq!(status, 200, "{bin}");
    assert!(
        bin["data"]
            .as_array()
            .expect("data")
            .iter()
            .any(|r| r["name"] == "Jane Doe"),
        "Jane Doe is in the recycle bin: {bin}"
    );
    let equipment_records = by_name(&admin.all_records("equipment").await);
    let cnc = &equipment_records["数控机床 CNC-01"];
    assert_eq!(
        cnc["values"]["price"],
        json!({"amount": "98000.50", "currency": "CNY"})
    );
    assert_eq!(cnc["values"]["status"], "retired");
    assert_eq!(cnc["values"]["serial"], "EQ-0001");
    assert_eq!(cnc["values"]["warranty_years"], 3);
    assert_eq!(cnc["values"]["site"], huawei["id"]);
    assert!(equipment_records.contains_key("Forklift FL-7"));

    // History: the creation and both changes, newest first.
    let id = cnc["id"].as_str().expect("id");
    let (status, history) = admin
        .get(&format!("/api/v1/objects/equipment/records/{id}/history"))
        .await;
    assert_eq!(status, 200, "{history}");
    let entries = history.as_array().expect("history");
    assert!(entries.len() >= 3, "{history}");
    let text = history.to_string();
    assert!(
        text.contains("98000.50") && text.contains("120000.00"),
        "{history}"
    );
    assert!(text.contains("retired"), "{history}");

    // The saved view.
    let (status, views) = admin.get("/api/v1/objects/equipment/views").await;
    assert_eq!(status, 200, "{views}");
    assert!(views.to_string().contains("在用设备"), "{views}");

    // The CDP: the source, its events (by messageId), the quarantined one.
    let (status, sources) = admin.get("/api/v1/cdp/sources").await;
    assert_eq!(status, 200, "{sources}");
    let source = sources
        .as_array()
        .or_else(|| sources["data"].as_array())
        .expect("sources")
        .iter()
        .find(|s| s["name"] == "官网 Website")
        .expect("the v0.1.0 source")
        .clone();
    let source_id = source["id"].as_str().expect("id");
    let write_key = source["write_key"].as_str().expect("write key").to_string();
    let stored = admin.stored_message_ids(source_id).await;
    for id in ["fixture-1", "fixture-2", "fixture-3"] {
        assert_eq!(stored.get(id), Some(&1), "event {id}: {stored:?}");
    }
    let (status, held) = admin.get("/api/v1/cdp/held").await;
    assert_eq!(status, 200, "{held}");
    assert!(
        stored.contains_key("fixture-4") || held.to_string().contains("fixture-4"),
        "the unregistered event is kept somewhere: {held}"
    );

    // The upgraded database takes writes and events with the old write key.
    let (status, created) = admin
        .post(
            "/api/v1/objects/equipment/records",
            json!({"values": {"name": "升级后 after upgrade", "serial": "EQ-0003", "site": huawei["id"]}}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let (status, report) = admin
        .post_basic(
            "/v1/batch",
            &write_key,
            json!({"batch": [{"type": "track", "userId": "u-li", "event": "Product Viewed",
                              "messageId": "after-upgrade", "properties": {"series": "C"}}]}),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["accepted"], 1, "{report}");
    let stored = admin.stored_message_ids(source_id).await;
    assert!(stored.contains_key("after-upgrade"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrade_from_v0_1_0_sqlite() {
    let data = tempfile::tempdir().expect("temp dir");
    std::fs::copy(
        fixtures().join("rapport.db"),
        data.path().join("rapport.db"),
    )
    .expect("copy the v0.1.0 SQLite fixture");
    let server = Server::start(
        &[
            "--data-dir".to_string(),
            data.path().to_string_lossy().into_owned(),
        ],
        data.path().join("server.log"),
    )
    .await;
    check_upgraded(&server).await;
}

/// `psql` from PATH or from Debian's PostgreSQL packages (`scripts/pg-test-cluster.sh`).
fn psql() -> PathBuf {
    if Command::new("psql").arg("--version").output().is_ok() {
        return PathBuf::from("psql");
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dirs| {
            dirs.filter_map(Result::ok)
                .map(|d| d.path().join("bin/psql"))
                .filter(|p| p.exists())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
        .pop()
        .expect("psql is needed to load the PostgreSQL fixture (Debian: postgresql-client)")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrade_from_v0_1_0_postgres() {
    let Some(admin_url) = pg_admin_url() else {
        return;
    };
    let database = TestDatabase::create(&admin_url, "upgrade").await;
    let output = Command::new(psql())
        .args(["-q", "-v", "ON_ERROR_STOP=1", "-d", &database.url, "-f"])
        .arg(fixtures().join("postgres.sql"))
        .output()
        .expect("run psql");
    assert!(
        output.status.success(),
        "loading the v0.1.0 dump failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let data = tempfile::tempdir().expect("temp dir");
    let server = Server::start(
        &[
            "--database-url".to_string(),
            database.url.clone(),
            "--data-dir".to_string(),
            data.path().to_string_lossy().into_owned(),
        ],
        data.path().join("server.log"),
    )
    .await;
    check_upgraded(&server).await;
    drop(server);
    database.drop_now().await;
}
