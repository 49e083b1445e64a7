//! The CRM sync writes a contact and its profile's link in one transaction: a worker killed
//! with SIGKILL between the two leaves neither, and the retry makes exactly one contact. The
//! kill lands there on purpose: this test holds the profile's row locked, so the worker's sync
//! stops at the link, right after inserting the contact; the customer has no email, so a retry
//! could not find a contact committed before the crash and would make a second one. PostgreSQL
//! only (SQLite's single writer cannot be stopped between two statements from outside).

use crate::server::{pg_admin_url, postgres_storage, Admin, Server, TestDatabase};
use rapport_core::sql::{ColumnKind, SqlParam};
use rapport_store::Db;
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_worker_killed_mid_sync_leaves_one_contact_postgres() {
    let Some(admin_url) = pg_admin_url() else {
        return;
    };
    let database = TestDatabase::create(&admin_url, "sync_crash").await;
    let data = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let storage = postgres_storage(&database.url, data.path());
    let with_role = |role: &str| {
        let mut flags = storage.clone();
        flags.extend(["--role".to_string(), role.to_string()]);
        flags
    };
    // A web node only: the identify is stored and its sync queued, nobody runs it yet.
    let web = Server::start(&with_role("web"), logs.path().join("web.log")).await;
    let admin = Admin::login(&web.base).await;
    let (status, source) = admin
        .post(
            "/api/v1/cdp/sources",
            json!({"name": "crm", "kind": "server"}),
        )
        .await;
    assert_eq!(status, 201, "{source}");
    let key = source["write_key"].as_str().unwrap();
    let (status, report) = admin
        .post_basic(
            "/v1/batch",
            key,
            json!({"batch": [{"type": "identify", "userId": "no-email", "messageId": "m1",
                              "traits": {"name": "没有邮箱的客户", "phone": "+8613911112222"}}]}),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    let (_, found) = admin
        .get("/api/v1/cdp/profiles?identifier_type=user_id&identifier=no-email")
        .await;
    let profile = found["profiles"][0]["id"].as_str().unwrap().to_string();

    // Hold the profile's row: the sync will insert the contact, then wait on its link.
    let db = Db::open_postgres(&database.url).await.unwrap();
    let mut lock = db.begin().await.unwrap();
    lock.execute(
        "SELECT id FROM cdp_profiles WHERE id = $1 FOR UPDATE",
        &[SqlParam::Text(profile.clone())],
    )
    .await
    .unwrap();
    let mut worker = Server::start(&with_role("worker"), logs.path().join("worker1.log")).await;
    let started = Instant::now();
    loop {
        let waiting = db
            .fetch_all(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
                 AND query LIKE 'UPDATE cdp_profiles SET contact_id%'",
                &[],
                &[ColumnKind::Int],
            )
            .await
            .unwrap();
        if waiting[0].int(0).unwrap() > 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the sync never reached the link"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    worker.kill9();
    drop(lock);
    // The killed worker's lease on the queue entry runs out (here: at once).
    db.execute("UPDATE cdp_sync_queue SET leased_until = 0", &[])
        .await
        .unwrap();
    let _worker = Server::start(&with_role("worker"), logs.path().join("worker2.log")).await;
    let started = Instant::now();
    let linked = loop {
        let (_, found) = admin
            .get("/api/v1/cdp/profiles?identifier_type=user_id&identifier=no-email")
            .await;
        if let Some(contact) = found["profiles"][0]["contact_id"].as_str() {
            break contact.to_string();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the retry never linked a contact"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let contacts = db
        .fetch_all(
            "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'w\\_%\\_contact'",
            &[],
            &[ColumnKind::Text],
        )
        .await
        .unwrap();
    let table = contacts[0].text(0).unwrap();
    let rows = db
        .fetch_all(
            &format!("SELECT id FROM \"{table}\" WHERE name = $1"),
            &[SqlParam::Text("没有邮箱的客户".into())],
            &[ColumnKind::Text],
        )
        .await
        .unwrap();
    let ids: Vec<String> = rows.iter().map(|r| r.text(0).unwrap()).collect();
    assert_eq!(ids, vec![linked], "one contact, the linked one");
    db.close().await;
    drop(web);
    database.drop_now().await;
}
