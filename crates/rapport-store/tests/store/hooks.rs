//! Hooks join the one write path, on both backends: an access policy refuses a write and
//! nothing of it is stored (row, history, outbox); a before-save rule sets a field, which is
//! saved, recorded in history and sent in the outbox entry like any input, and recomputes
//! formulas; hooks run in stage order; and a write inside a caller's transaction commits or
//! rolls back with the caller's other work.

use super::support::{field, object, open_store, options, postgres_url, principal, PgDatabase};
use rapport_core::metadata::{FieldConfig, FieldType};
use rapport_core::sql::{ColumnKind, SqlParam};
use rapport_core::{Source, Value};
use rapport_store::records::hooks::{HookFuture, ProposedWrite, Stage, WriteHook};
use rapport_store::records::{RecordInput, RecordUpdate, WriteCtx};
use rapport_store::{Db, Store, StoreError, Tx};
use serde_json::json;
use std::sync::{Arc, Mutex};

/// "当商机金额大于50万且行业为制造业时,自动标记为重点客户".
struct KeyAccountRule {
    ran: Arc<Mutex<Vec<&'static str>>>,
}

impl WriteHook for KeyAccountRule {
    fn name(&self) -> &'static str {
        "key_account"
    }
    fn stage(&self) -> Stage {
        Stage::BeforeSave
    }
    fn before_save<'a, 'b: 'a>(
        &'a self,
        _tx: &'a mut Tx,
        write: &'a mut ProposedWrite<'b>,
    ) -> HookFuture<'a> {
        Box::pin(async move {
            self.ran.lock().unwrap().push("rule");
            let big =
                matches!(write.record.get("amount"), Value::Decimal(units) if units > 50_000_000);
            let manufacturing = write.record.get("industry") == Value::Text("manufacturing".into());
            if big && manufacturing {
                write
                    .record
                    .values
                    .insert("tier".into(), Value::Text("key".into()));
            }
            Ok(())
        })
    }
}

/// Nobody but the owner changes a closed deal; reads the database inside the transaction.
struct ClosedDealsPolicy {
    ran: Arc<Mutex<Vec<&'static str>>>,
}

impl WriteHook for ClosedDealsPolicy {
    fn name(&self) -> &'static str {
        "closed_deals"
    }
    fn stage(&self) -> Stage {
        Stage::AccessPolicy
    }
    fn before_save<'a, 'b: 'a>(
        &'a self,
        tx: &'a mut Tx,
        write: &'a mut ProposedWrite<'b>,
    ) -> HookFuture<'a> {
        Box::pin(async move {
            self.ran.lock().unwrap().push("policy");
            // A statement inside the write's transaction works.
            tx.fetch_optional("SELECT 1", &[], &[ColumnKind::Int])
                .await?;
            if write
                .before
                .is_some_and(|b| b.get("name") == Value::Text("closed".into()))
            {
                return Err(StoreError::forbidden("deal", "closed deals are frozen"));
            }
            Ok(())
        })
    }
}

async fn count(store: &Store, sql: &str, id: &str) -> i64 {
    let p = match store.db.dialect() {
        rapport_core::sql::Dialect::Sqlite => "?1",
        rapport_core::sql::Dialect::Postgres => "$1",
    };
    store
        .db
        .fetch_all(
            &sql.replace("$1", p),
            &[SqlParam::Text(id.to_string())],
            &[ColumnKind::Int],
        )
        .await
        .unwrap()[0]
        .int(0)
        .unwrap()
}

async fn scenario(store: Store) {
    let ws = store.create_workspace("H", 480).await.unwrap();
    let user = store
        .create_user(&ws.id, "admin@example.cn", "Admin", "x", "admin")
        .await
        .unwrap();
    let admin = principal(&store, &ws, &user).await;
    store
        .create_object(
            &ws.id,
            object(
                "opportunity",
                "name",
                vec![
                    field("name", FieldType::Text, FieldConfig::default()),
                    field(
                        "amount",
                        FieldType::Decimal,
                        FieldConfig {
                            scale: Some(2),
                            ..Default::default()
                        },
                    ),
                    field(
                        "industry",
                        FieldType::Select,
                        options(&["manufacturing", "retail"]),
                    ),
                    field("tier", FieldType::Select, options(&["key", "normal"])),
                    field(
                        "label",
                        FieldType::Formula,
                        FieldConfig {
                            expression: Some(r#"CONCAT(name, "/", COALESCE(tier, "-"))"#.into()),
                            result_type: Some(rapport_core::metadata::FormulaResult::Text),
                            ..Default::default()
                        },
                    ),
                ],
            ),
        )
        .await
        .unwrap();
    let schema = store.load_schema(&ws.id).await.unwrap();
    let ran = Arc::new(Mutex::new(Vec::new()));
    // Registered rule first: the stage decides the order, not registration.
    store
        .hooks
        .add(Arc::new(KeyAccountRule { ran: ran.clone() }));
    store
        .hooks
        .add(Arc::new(ClosedDealsPolicy { ran: ran.clone() }));
    let ctx = WriteCtx {
        principal: &admin,
        source: Source::Workflow,
        request_id: "hooks".into(),
    };
    let values = |v: serde_json::Value| v.as_object().cloned().unwrap();
    let big = store
        .create_record(
            &ctx,
            &schema,
            "opportunity",
            RecordInput {
                values: values(
                    json!({"name": "大单", "amount": "600000", "industry": "manufacturing"}),
                ),
                owner_id: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(*ran.lock().unwrap(), vec!["policy", "rule"]);
    assert_eq!(big.get("tier"), Value::Text("key".into()));
    assert_eq!(big.get("label"), Value::Text("大单/key".into()));
    let small = store
        .create_record(
            &ctx,
            &schema,
            "opportunity",
            RecordInput {
                values: values(json!({"name": "closed", "amount": "600000", "industry": "retail"})),
                owner_id: None,
            },
        )
        .await
        .unwrap();
    assert!(small.get("tier").is_null());
    // History and outbox carry what the rule set.
    let history = store
        .history(&admin, &schema, "opportunity", &big.id, None, 10)
        .await
        .unwrap();
    let created = history.iter().find(|h| h.kind == "created").unwrap();
    assert_eq!(created.new_value["tier"], "key");
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM outbox WHERE record_id = $1 AND CAST(payload AS TEXT) LIKE '%\"tier\"%'",
            &big.id
        )
        .await,
        1
    );
    // The policy refuses: nothing of the update is stored.
    let refused = store
        .update_record(
            &ctx,
            &schema,
            "opportunity",
            RecordUpdate {
                id: small.id.clone(),
                values: values(json!({"amount": "1"})),
                ..Default::default()
            },
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::Forbidden { .. })),
        "{refused:?}"
    );
    let stored = store
        .get_record(&admin, &schema, "opportunity", &small.id, false)
        .await
        .unwrap();
    assert_eq!(stored.version, 1);
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM outbox WHERE record_id = $1",
            &small.id
        )
        .await,
        1
    );
    // Inside the caller's transaction: rolled back with it, or committed with it.
    let mut tx = store.db.begin().await.unwrap();
    let inside = store
        .create_record_in(
            &mut tx,
            &ctx,
            &schema,
            "opportunity",
            RecordInput {
                values: values(json!({"name": "回滚", "amount": "1", "industry": "retail"})),
                owner_id: None,
            },
        )
        .await
        .unwrap();
    drop(tx);
    let gone = store
        .get_record(&admin, &schema, "opportunity", &inside.id, false)
        .await;
    assert!(matches!(gone, Err(StoreError::NotFound { .. })));
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM field_history WHERE record_id = $1",
            &inside.id
        )
        .await,
        0
    );
    let mut tx = store.db.begin().await.unwrap();
    let kept = store
        .update_record_in(
            &mut tx,
            &ctx,
            &schema,
            "opportunity",
            RecordUpdate {
                id: big.id.clone(),
                values: values(json!({"industry": "retail"})),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(kept.version, 2);
    // The rule does not unset what it once set; the label follows the name and tier.
    assert_eq!(kept.get("tier"), Value::Text("key".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hooks_join_the_write_path_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _clock) = open_store(Db::open_sqlite(dir.path()).await.unwrap()).await;
    scenario(store.clone()).await;
    store.db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hooks_join_the_write_path_postgres() {
    let Some(url) = postgres_url() else {
        eprintln!("skipped: RAPPORT_TEST_DATABASE_URL not set");
        return;
    };
    let database = PgDatabase::create(&url).await;
    let (store, _clock) = open_store(Db::open_postgres(&database.url).await.unwrap()).await;
    scenario(store.clone()).await;
    store.db.close().await;
    database.drop_database().await;
}
