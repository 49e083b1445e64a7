//! Plain store behaviour on SQLite: a new workspace's objects, and metadata and records that
//! outlive the connection.

use super::support::{field, object, open_store, options, principal};
use rapport_core::metadata::{FieldConfig, FieldType};
use rapport_core::standard::standard_objects;
use rapport_core::{Source, Value};
use rapport_store::records::{ListQuery, RecordInput, WriteCtx};
use rapport_store::Db;
use serde_json::json;
use std::collections::BTreeSet;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

#[test]
fn create_workspace_makes_the_nine_standard_objects() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Db::open_sqlite(dir.path()).await.expect("open sqlite");
        let (store, _clock) = open_store(db).await;
        let ws = store.create_workspace("P", 480).await.expect("workspace");
        let schema = store.load_schema(&ws.id).await.expect("schema");
        let names: BTreeSet<&str> = schema.objects.iter().map(|o| o.api_name.as_str()).collect();
        let standard: Vec<String> = standard_objects().into_iter().map(|o| o.api_name).collect();
        let expected: BTreeSet<&str> = standard.iter().map(String::as_str).collect();
        assert_eq!(schema.objects.len(), 9, "{names:?}");
        assert_eq!(names, expected);
        assert!(schema
            .objects
            .iter()
            .all(|o| o.is_standard && o.is_active()));

        // Every standard object has a table that lists (empty) for an admin.
        let user = store
            .create_user(&ws.id, "admin@example.cn", "Admin", "x", "admin")
            .await
            .expect("user");
        let admin = principal(&store, &ws, &user).await;
        for name in &names {
            let page = store
                .list_records(
                    &admin,
                    &schema,
                    name,
                    &ListQuery {
                        limit: 10,
                        ..Default::default()
                    },
                )
                .await
                .unwrap_or_else(|e| panic!("list {name}: {e}"));
            assert!(page.records.is_empty(), "{name}");
        }
        store.db.close().await;
    });
}

#[test]
fn a_custom_object_and_its_records_survive_reopening_sqlite() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let (ws_id, user_id, record_id) = {
            let db = Db::open_sqlite(dir.path()).await.expect("open sqlite");
            let (store, _clock) = open_store(db).await;
            let ws = store.create_workspace("P", 480).await.expect("workspace");
            let user = store
                .create_user(&ws.id, "admin@example.cn", "Admin", "x", "admin")
                .await
                .expect("user");
            let admin = principal(&store, &ws, &user).await;
            store
                .create_object(
                    &ws.id,
                    object(
                        "gadget",
                        "name",
                        vec![
                            field("name", FieldType::Text, FieldConfig::default()),
                            field(
                                "price",
                                FieldType::Decimal,
                                FieldConfig {
                                    scale: Some(2),
                                    ..Default::default()
                                },
                            ),
                            field("tags", FieldType::MultiSelect, options(&["a", "b"])),
                        ],
                    ),
                )
                .await
                .expect("create object");
            let schema = store.load_schema(&ws.id).await.expect("schema");
            let ctx = WriteCtx {
                principal: &admin,
                source: Source::Api,
                request_id: "t".into(),
            };
            let input = RecordInput {
                values: json!({"name": "小部件 🎉", "price": "12.5", "tags": ["b", "a"]})
                    .as_object()
                    .cloned()
                    .expect("object"),
                owner_id: None,
            };
            let record = store
                .create_record(&ctx, &schema, "gadget", input)
                .await
                .expect("create record");
            store.db.close().await;
            (ws.id, user.id, record.id)
        };

        let db = Db::open_sqlite(dir.path()).await.expect("reopen sqlite");
        let (store, _clock) = open_store(db).await;
        let ws = store.workspace(&ws_id).await.expect("workspace");
        let user = store.user(&ws_id, &user_id).await.expect("user");
        let admin = principal(&store, &ws, &user).await;
        let schema = store.load_schema(&ws_id).await.expect("schema");
        let gadget = schema.active_object("gadget").expect("custom object kept");
        assert_eq!(gadget.fields.len(), 3);
        assert_eq!(schema.objects.len(), 10);
        let page = store
            .list_records(
                &admin,
                &schema,
                "gadget",
                &ListQuery {
                    limit: 10,
                    ..Default::default()
                },
            )
            .await
            .expect("list");
        assert_eq!(page.records.len(), 1);
        let record = &page.records[0];
        assert_eq!(record.id, record_id);
        assert_eq!(record.get("name"), Value::Text("小部件 🎉".into()));
        assert_eq!(record.get("price"), Value::Decimal(1250));
        assert_eq!(
            record.get("tags"),
            Value::List(vec!["a".into(), "b".into()])
        );
        assert_eq!(record.owner_id.as_deref(), Some(user_id.as_str()));
        store.db.close().await;
    });
}

/// Point-in-time restore rebuilds a record from its whole history, however long: here the
/// creation entry is more than a thousand entries back.
#[test]
fn restore_to_a_time_before_a_thousand_changes() {
    runtime().block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Db::open_sqlite(dir.path()).await.expect("open sqlite");
        let (store, clock) = open_store(db).await;
        let ws = store.create_workspace("P", 480).await.expect("workspace");
        let user = store
            .create_user(&ws.id, "admin@example.cn", "Admin", "x", "admin")
            .await
            .expect("user");
        let admin = principal(&store, &ws, &user).await;
        let schema = store.load_schema(&ws.id).await.expect("schema");
        let ctx = WriteCtx {
            principal: &admin,
            source: Source::Api,
            request_id: "history-test".into(),
        };
        let mut values = serde_json::Map::new();
        values.insert("name".into(), json!("初始名称"));
        values.insert("city".into(), json!("杭州"));
        let created = store
            .create_record(
                &ctx,
                &schema,
                "company",
                RecordInput {
                    values,
                    owner_id: None,
                },
            )
            .await
            .expect("create");
        let before_changes = store.now() + chrono::Duration::seconds(1);
        for i in 0..1_005 {
            clock.advance(chrono::Duration::seconds(2));
            let mut values = serde_json::Map::new();
            values.insert("name".into(), json!(format!("名称 {i}")));
            store
                .update_record(
                    &ctx,
                    &schema,
                    "company",
                    rapport_store::records::RecordUpdate {
                        id: created.id.clone(),
                        values,
                        ..Default::default()
                    },
                )
                .await
                .expect("update");
        }
        clock.advance(chrono::Duration::seconds(2));
        let restored = store
            .restore_record_to(&ctx, &schema, "company", &created.id, before_changes)
            .await
            .expect("restore");
        assert_eq!(restored.get("name"), Value::Text("初始名称".into()));
        assert_eq!(restored.get("city"), Value::Text("杭州".into()));
        assert_eq!(restored.version, 1_005 + 2);
        store.db.close().await;
    });
}
