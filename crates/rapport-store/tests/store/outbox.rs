//! The outbox's consumers on both backends: two nodes (two stores over one database) claiming
//! the same consumer concurrently handle every entry exactly once while nothing fails; a
//! consumer that stops before `done` has its entries read again once its lease runs out (at
//! least once); a rewind to an id or a time replays; topics and objects filter; entries written
//! in a rolled-back transaction never appear; a consumer reading while writers append misses
//! nothing.

use super::support::{open_store, postgres_url, PgDatabase};
use chrono::Duration;
use rapport_core::codes::ErrorCode;
use rapport_core::ManualClock;
use rapport_store::outbox::{self, Consumer, NewEntry, Rewind, Topic};
use rapport_store::{Db, Store};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

const ALL_RECORDS: Consumer = Consumer {
    name: "test.records",
    topics: &[Topic::RecordCreated, Topic::RecordUpdated],
    objects: &[],
};

const DEALS_CREATED: Consumer = Consumer {
    name: "test.deals",
    topics: &[Topic::RecordCreated],
    objects: &["deal"],
};

fn entry(store: &Store, i: usize) -> NewEntry {
    NewEntry {
        workspace_id: "w1".into(),
        topic: if i.is_multiple_of(3) {
            Topic::RecordUpdated
        } else {
            Topic::RecordCreated
        },
        object: if i.is_multiple_of(2) {
            "deal"
        } else {
            "contact"
        }
        .into(),
        record_id: format!("r{i}"),
        payload: json!({ "n": i }),
        at: store.now(),
    }
}

async fn append(store: &Store, from: usize, n: usize) {
    let mut tx = store.db.begin().await.unwrap();
    let entries: Vec<NewEntry> = (from..from + n).map(|i| entry(store, i)).collect();
    outbox::append(&mut tx, &entries).await.unwrap();
    tx.commit().await.unwrap();
}

/// Claims until the consumer has nothing left; returns the record ids handled.
async fn drain(store: &Store, consumer: Consumer, limit: usize) -> Vec<String> {
    let mut handled = Vec::new();
    for _ in 0..10_000 {
        match consumer.claim(store, limit).await.unwrap() {
            Some(claim) => {
                let n = claim.entries.len();
                handled.extend(claim.entries.iter().map(|e| e.record_id.clone()));
                claim.done(store).await.unwrap();
                if n == 0 {
                    return handled;
                }
            }
            // Another node holds the lease: let it work.
            None => tokio::time::sleep(std::time::Duration::from_millis(2)).await,
        }
    }
    panic!("the consumer never ran dry");
}

async fn scenario(a: Store, b: Store, clock: Arc<ManualClock>) {
    append(&a, 0, 300).await;
    // A rolled-back transaction leaves nothing behind.
    let mut tx = a.db.begin().await.unwrap();
    outbox::append(&mut tx, &[entry(&a, 999)]).await.unwrap();
    drop(tx);
    // On PostgreSQL consumers read entries that have settled: move time past that.
    clock.advance(Duration::seconds(10));

    // Two nodes drain one consumer concurrently: every entry exactly once.
    let (left, right) = tokio::join!(drain(&a, ALL_RECORDS, 7), drain(&b, ALL_RECORDS, 11));
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for id in left.iter().chain(&right) {
        *seen.entry(id.clone()).or_insert(0) += 1;
    }
    assert_eq!(seen.len(), 300, "every entry handled");
    assert!(seen.values().all(|n| *n == 1), "an entry handled twice");
    assert!(!seen.contains_key("r999"));

    // Filters: deals created only.
    let deals = drain(&a, DEALS_CREATED, 50).await;
    let want: Vec<String> = (0..300)
        .filter(|i: &usize| i.is_multiple_of(2) && !i.is_multiple_of(3))
        .map(|i| format!("r{i}"))
        .collect();
    assert_eq!(deals, want);

    // At least once: a node claims and dies before `done`; nobody else reads until the lease
    // expires, then the same entries come again.
    append(&a, 300, 5).await;
    clock.advance(Duration::seconds(10));
    let lost = ALL_RECORDS.claim(&a, 100).await.unwrap().unwrap();
    let lost_ids: Vec<String> = lost.entries.iter().map(|e| e.record_id.clone()).collect();
    assert_eq!(lost_ids.len(), 5);
    drop(lost);
    assert!(ALL_RECORDS.claim(&b, 100).await.unwrap().is_none());
    let busy = outbox::rewind(&a, ALL_RECORDS.name, Rewind::AfterId(0)).await;
    assert!(
        matches!(
            busy,
            Err(rapport_store::StoreError::Conflict {
                code: ErrorCode::ConsumerBusy,
                ..
            })
        ),
        "{busy:?}"
    );
    clock.advance(Duration::seconds(61));
    assert_eq!(drain(&b, ALL_RECORDS, 100).await, lost_ids);

    // Positions: nothing behind now for the consumer that read everything.
    let positions = outbox::positions(&a).await.unwrap();
    let all = positions
        .iter()
        .find(|p| p.consumer == ALL_RECORDS.name)
        .unwrap();
    assert_eq!(all.behind, 0);
    assert!(all.leased_until.is_none());

    // Rewind by id: everything after the 300th entry comes again.
    let ids = drain(&a, ALL_RECORDS, 100).await;
    assert!(ids.is_empty());
    let first = outbox::rewind(&a, ALL_RECORDS.name, Rewind::AfterId(0))
        .await
        .unwrap();
    assert_eq!(first.position, 0);
    assert_eq!(drain(&a, ALL_RECORDS, 100).await.len(), 305);
    // Rewind by time: entries created from then on come again.
    let from = a.now();
    clock.advance(Duration::seconds(1));
    append(&a, 400, 3).await;
    clock.advance(Duration::seconds(10));
    assert_eq!(drain(&a, ALL_RECORDS, 100).await.len(), 3);
    outbox::rewind(&a, ALL_RECORDS.name, Rewind::From(from))
        .await
        .unwrap();
    assert_eq!(
        drain(&a, ALL_RECORDS, 100).await,
        vec!["r400", "r401", "r402"]
    );
    let missing = outbox::rewind(&a, "nobody", Rewind::AfterId(0)).await;
    assert!(matches!(
        missing,
        Err(rapport_store::StoreError::NotFound { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumers_read_each_entry_once_and_replay_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let (a, clock) = open_store(Db::open_sqlite(dir.path()).await.unwrap()).await;
    let b = Store::new(Db::open_sqlite(dir.path()).await.unwrap(), clock.clone());
    scenario(a.clone(), b.clone(), clock).await;
    a.db.close().await;
    b.db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumers_read_each_entry_once_and_replay_postgres() {
    let Some(url) = postgres_url() else {
        eprintln!("skipped: RAPPORT_TEST_DATABASE_URL not set");
        return;
    };
    let database = PgDatabase::create(&url).await;
    let (a, clock) = open_store(Db::open_postgres(&database.url).await.unwrap()).await;
    let b = Store::new(
        Db::open_postgres(&database.url).await.unwrap(),
        clock.clone(),
    );
    scenario(a.clone(), b.clone(), clock).await;
    a.db.close().await;
    b.db.close().await;
    database.drop_database().await;
}

/// A consumer claims over and over while a writer appends 400 entries in small transactions:
/// each entry is read exactly once. (The end of a short page was once read after the page, so
/// entries committed in between were passed over.)
async fn reading_while_writing(store: Store, clock: Arc<ManualClock>) {
    let writer = {
        let store = store.clone();
        let clock = clock.clone();
        tokio::spawn(async move {
            for i in 0..200 {
                append(&store, i * 2, 2).await;
                // PostgreSQL's consumers read settled entries only.
                clock.advance(Duration::seconds(10));
                tokio::task::yield_now().await;
            }
        })
    };
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    while !writer.is_finished() {
        if let Some(claim) = ALL_RECORDS.claim(&store, 7).await.unwrap() {
            for e in &claim.entries {
                *seen.entry(e.record_id.clone()).or_insert(0) += 1;
            }
            claim.done(&store).await.unwrap();
        }
    }
    writer.await.unwrap();
    clock.advance(Duration::seconds(10));
    for id in drain(&store, ALL_RECORDS, 7).await {
        *seen.entry(id).or_insert(0) += 1;
    }
    let missing: Vec<String> = (0..400)
        .map(|i| format!("r{i}"))
        .filter(|id| !seen.contains_key(id))
        .collect();
    assert!(missing.is_empty(), "never read: {missing:?}");
    assert!(seen.values().all(|n| *n == 1), "an entry read twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_while_writing_misses_nothing_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let (store, clock) = open_store(Db::open_sqlite(dir.path()).await.unwrap()).await;
    reading_while_writing(store.clone(), clock).await;
    store.db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_while_writing_misses_nothing_postgres() {
    let Some(url) = postgres_url() else {
        eprintln!("skipped: RAPPORT_TEST_DATABASE_URL not set");
        return;
    };
    let database = PgDatabase::create(&url).await;
    let (store, clock) = open_store(Db::open_postgres(&database.url).await.unwrap()).await;
    reading_while_writing(store.clone(), clock).await;
    store.db.close().await;
    database.drop_database().await;
}
