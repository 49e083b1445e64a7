//! Honest row decoding on both backends: a column read by a name the row lacks, a SQL `NULL`
//! where a value is required, a value of another kind, or an epoch-milliseconds time no date
//! can hold is a `StoreError::Corrupt` naming the column — never a silent `""`, `0` or 1970.
//! A corrupted value in a fixed table (a role's permissions that are not permissions, a job
//! whose state is unknown or whose time is out of range) makes the read fail instead of
//! showing a made-up value — before, such a role read as one with no permissions at all.

use super::support::{open_store, postgres_url, PgDatabase};
use rapport_core::sql::{ColumnKind, SqlParam};
use rapport_store::jobs::{self, NewJob, Scope};
use rapport_store::{Db, Store, StoreError};
use serde_json::json;

fn corrupt(result: Result<impl std::fmt::Debug, StoreError>, naming: &str) {
    match result {
        Err(StoreError::Corrupt(message)) => {
            assert!(
                message.contains(naming),
                "{message:?} should name {naming:?}"
            )
        }
        other => panic!("expected a Corrupt error naming {naming:?}, got {other:?}"),
    }
}

async fn scenario(store: &Store) {
    let row = store
        .db
        .fetch_optional(
            "SELECT NULL AS missing_text, 'abc' AS word, 42 AS answer, 253402300800000 AS far",
            &[],
            &[
                ColumnKind::Text,
                ColumnKind::Text,
                ColumnKind::Int,
                ColumnKind::Int,
            ],
        )
        .await
        .unwrap()
        .unwrap();
    // Present values read, by name and by position.
    assert_eq!(row.text("word").unwrap(), "abc");
    assert_eq!(row.int(2).unwrap(), 42);
    assert_eq!(row.opt_int("answer").unwrap(), Some(42));
    // NULL is None for an optional read, an error for a required one.
    assert_eq!(row.opt_text("missing_text").unwrap(), None);
    corrupt(row.text("missing_text"), "missing_text");
    // Another kind is an error, for optional reads too.
    corrupt(row.int("word"), "word");
    corrupt(row.opt_int("word"), "word");
    corrupt(row.timestamp("answer"), "answer");
    corrupt(row.bool("word"), "word");
    // A name or a position the row lacks.
    corrupt(row.text("nope"), "nope");
    corrupt(row.int(9), "9");
    // Milliseconds past the year 9999 fit no date (chrono's range ends at 262143).
    assert!(row.millis("answer").is_ok());
    let huge = store
        .db
        .fetch_optional("SELECT 9223372036854775807 AS at", &[], &[ColumnKind::Int])
        .await
        .unwrap()
        .unwrap();
    corrupt(huge.millis("at"), "at");

    // A job whose stored state is unknown, or whose run_at is out of range, is not shown with
    // a made-up state or time: reading it fails and says why.
    let ws = store.create_workspace("Rows", 480).await.unwrap().id;
    assert!(!store.roles(&ws).await.unwrap().is_empty());
    store
        .db
        .execute(
            &format!(
                "UPDATE roles SET permissions = {} WHERE workspace_id = {}",
                store.ph(1),
                store.ph(2)
            ),
            &[
                SqlParam::Json(json!("everything")),
                SqlParam::Text(ws.clone()),
            ],
        )
        .await
        .unwrap();
    corrupt(store.roles(&ws).await, "permissions");

    let mut tx = store.db.begin().await.unwrap();
    let made = jobs::enqueue(
        store,
        &mut tx,
        &[NewJob::new("rows.test", "noop", json!({})).workspace(&ws)],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let id = made[0].id().to_string();
    let p = |n| store.ph(n);
    store
        .db
        .execute(
            &format!("UPDATE jobs SET state = {} WHERE id = {}", p(1), p(2)),
            &[
                SqlParam::Text("half-done".into()),
                SqlParam::Text(id.clone()),
            ],
        )
        .await
        .unwrap();
    corrupt(
        jobs::get(store, Scope::Workspace(&ws), &id).await,
        "half-done",
    );
    store
        .db
        .execute(
            &format!(
                "UPDATE jobs SET state = 'pending', run_at = {} WHERE id = {}",
                p(1),
                p(2)
            ),
            &[SqlParam::Int(i64::MAX), SqlParam::Text(id.clone())],
        )
        .await
        .unwrap();
    corrupt(jobs::get(store, Scope::Workspace(&ws), &id).await, "run_at");
}

#[tokio::test]
async fn rows_decode_honestly_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open_store(Db::open_sqlite(dir.path()).await.unwrap()).await;
    scenario(&store).await;
    store.db.close().await;
}

#[tokio::test]
async fn rows_decode_honestly_postgres() {
    let Some(url) = postgres_url() else {
        eprintln!("skipped: RAPPORT_TEST_DATABASE_URL not set");
        return;
    };
    let database = PgDatabase::create(&url).await;
    let (store, _) = open_store(Db::open_postgres(&database.url).await.unwrap()).await;
    scenario(&store).await;
    store.db.close().await;
    database.drop_database().await;
}
