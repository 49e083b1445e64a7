//! Backups taken while the server is under write load, restored and checked through the API.
//!
//! Four writers create contacts one by one and four senders post `/v1/batch` requests of 20
//! tracked events against the real `rapport serve`, while `rapport backup` runs as a second
//! process. Each write remembers when it was sent and when its 2xx arrived. A backup is a
//! snapshot taken somewhere between the backup command's start and its end, so after restoring
//! it into a fresh data dir or database and starting a server there:
//!
//! - every write acknowledged before the backup started is present;
//! - nothing is present that was never sent, and nothing sent after the backup ended;
//! - every batch of events is present whole or not at all.
//!
//! `backup_under_load_sqlite`: the SQLite file copy (`VACUUM INTO`) and the NDJSON export, each
//! restored into its own fresh data dir. `backup_under_load_postgres`: the NDJSON export,
//! restored into a fresh PostgreSQL database and into a SQLite data dir.

use crate::server::{pg_admin_url, rapport, Admin, Server, TestDatabase};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const WRITERS: usize = 4;
const SENDERS: usize = 4;
const BATCH: usize = 20;
/// The load runs at least this long before the first backup …
const MIN_LOAD: Duration = Duration::from_millis(1_500);
/// … and until this many contacts and events were acknowledged (at most 30 s).
const WANT_CONTACTS: usize = 20;
const WANT_EVENTS: usize = 200;

/// One write: what it was, when it was sent, when (and whether) a 2xx came back.
#[derive(Clone, Debug)]
struct Write {
    /// Contact name, or the messageIds of one batch.
    items: Vec<String>,
    sent: Instant,
    acked: Option<Instant>,
}

async fn record_writer(
    admin: Arc<Admin>,
    me: usize,
    stop: Arc<AtomicBool>,
    acked_total: Arc<AtomicUsize>,
) -> Vec<Write> {
    let mut writes = Vec::new();
    for n in 0usize.. {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let name = if n % 2 == 0 {
            format!("load-{me}-{n} 客户")
        } else {
            format!("load-{me}-{n} customer")
        };
        let sent = Instant::now();
        let (status, body) = admin
            .post(
                "/api/v1/objects/contact/records",
                json!({"values": {"name": name, "city": "上海"}}),
            )
            .await;
        let acked = (status == 201).then(Instant::now);
        if acked.is_some() {
            acked_total.fetch_add(1, Ordering::SeqCst);
        }
        assert!(
            status == 201 || status == 503,
            "create contact: {status} {body}"
        );
        writes.push(Write {
            items: vec![name],
            sent,
            acked,
        });
    }
    writes
}

async fn event_sender(
    admin: Arc<Admin>,
    write_key: String,
    me: usize,
    stop: Arc<AtomicBool>,
    acked_total: Arc<AtomicUsize>,
) -> Vec<Write> {
    let mut writes = Vec::new();
    for request in 0usize.. {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let ids: Vec<String> = (0..BATCH)
            .map(|i| format!("backup-{me}-{request}-{i}"))
            .collect();
        let batch: Vec<Value> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                json!({"type": "track", "userId": format!("u{}", (me * 7 + i) % 31),
                       "event": "Tick", "messageId": id, "properties": {"n": i}})
            })
            .collect();
        let sent = Instant::now();
        let (status, report) = admin
            .post_basic("/v1/batch", &write_key, json!({ "batch": batch }))
            .await;
        let acked = (status == 200).then(Instant::now);
        if status == 200 {
            assert_eq!(report["accepted"], json!(BATCH), "{report}");
            acked_total.fetch_add(BATCH, Ordering::SeqCst);
        } else {
            assert!(status == 503 || status == 429, "batch: {status} {report}");
        }
        writes.push(Write {
            items: ids,
            sent,
            acked,
        });
    }
    writes
}

/// One backup taken during the load: its file and when its command ran.
struct Taken {
    label: &'static str,
    file: std::path::PathBuf,
    started: Instant,
    ended: Instant,
    seconds: f64,
    bytes: u64,
}

async fn take_backup(label: &'static str, args: Vec<String>, file: std::path::PathBuf) -> Taken {
    let started = Instant::now();
    let output = tokio::task::spawn_blocking(move || rapport(&args))
        .await
        .expect("backup task");
    let ended = Instant::now();
    assert!(
        output.status.success(),
        "rapport backup ({label}) failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let bytes = std::fs::metadata(&file).expect("backup file").len();
    Taken {
        label,
        file,
        started,
        ended,
        seconds: (ended - started).as_secs_f64(),
        bytes,
    }
}

/// What the restored server holds: contact names and event messageIds (with counts).
struct Restored {
    names: HashMap<String, usize>,
    events: HashMap<String, usize>,
    history_checked: bool,
}

async fn read_restored(server: &Server, source_id: &str) -> Restored {
    let admin = Admin::login(&server.base).await;
    let records = admin.all_records("contact").await;
    let mut names = HashMap::new();
    let mut some_id = None;
    for (id, record) in &records {
        let name = record["values"]["name"].as_str().unwrap_or_default();
        if name.starts_with("load-") {
            *names.entry(name.to_string()).or_insert(0) += 1;
            some_id = Some(id.clone());
        }
    }
    let mut history_checked = false;
    if let Some(id) = some_id {
        let (status, history) = admin
            .get(&format!("/api/v1/objects/contact/records/{id}/history"))
            .await;
        assert_eq!(status, 200, "history: {history}");
        let entries = history
            .as_array()
            .or_else(|| history["data"].as_array())
            .expect("history entries");
        assert!(!entries.is_empty(), "a restored record has its history");
        history_checked = true;
    }
    let events = admin.stored_message_ids(source_id).await;
    Restored {
        names,
        events,
        history_checked,
    }
}

/// The assertions of the module documentation, for one backup.
fn check(backup: &Taken, restored: &Restored, records: &[Write], batches: &[Write]) {
    let mut problems = Vec::new();
    let sent_names: HashSet<&str> = records.iter().map(|w| w.items[0].as_str()).collect();
    let sent_events: HashSet<&str> = batches
        .iter()
        .flat_map(|w| w.items.iter().map(String::as_str))
        .collect();
    let mut must = (0, 0);
    for w in records {
        let present = restored.names.get(&w.items[0]).copied().unwrap_or(0);
        if present > 1 {
            problems.push(format!("contact {} restored {present} times", w.items[0]));
        }
        if w.acked.is_some_and(|a| a < backup.started) {
            must.0 += 1;
            if present == 0 {
                problems.push(format!(
                    "contact {} acknowledged before the backup is missing",
                    w.items[0]
                ));
            }
        }
        if w.sent > backup.ended && present > 0 {
            problems.push(format!(
                "contact {} sent after the backup is in it",
                w.items[0]
            ));
        }
    }
    for w in batches {
        let present = w
            .items
            .iter()
            .filter(|id| restored.events.contains_key(id.as_str()))
            .count();
        if present != 0 && present != w.items.len() {
            problems.push(format!(
                "batch {} half restored ({present} of {})",
                w.items[0],
                w.items.len()
            ));
        }
        if w.acked.is_some_and(|a| a < backup.started) {
            must.1 += w.items.len();
            if present != w.items.len() {
                problems.push(format!(
                    "batch {} acknowledged before the backup is missing",
                    w.items[0]
                ));
            }
        }
        if w.sent > backup.ended && present > 0 {
            problems.push(format!(
                "batch {} sent after the backup is in it",
                w.items[0]
            ));
        }
    }
    for (name, _) in restored
        .names
        .iter()
        .filter(|(n, _)| !sent_names.contains(n.as_str()))
    {
        problems.push(format!("contact {name} was never sent"));
    }
    for (id, n) in &restored.events {
        if !sent_events.contains(id.as_str()) {
            problems.push(format!("event {id} was never sent"));
        }
        if *n > 1 {
            problems.push(format!("event {id} stored {n} times"));
        }
    }
    let acked_during = records
        .iter()
        .chain(batches)
        .filter(|w| {
            w.acked
                .is_some_and(|a| a >= backup.started && a <= backup.ended)
        })
        .count();
    println!(
        "{}: {:.2} s, {} bytes; acknowledged before it: {} contacts, {} events (all present); \
         writes acknowledged while it ran: {acked_during}; restored: {} contacts, {} events; \
         history checked: {}",
        backup.label,
        backup.seconds,
        backup.bytes,
        must.0,
        must.1,
        restored.names.len(),
        restored.events.len(),
        restored.history_checked
    );
    assert!(
        problems.is_empty(),
        "{} ({} problems), first: {:?}",
        backup.label,
        problems.len(),
        &problems[..problems.len().min(10)]
    );
    assert!(
        must.0 >= 10 && must.1 >= 100,
        "too little acknowledged before {}",
        backup.label
    );
}

/// The load, with `backups` run one after the other while it goes on.
async fn under_load(
    storage: &[String],
    logs: &Path,
    backups: Vec<(&'static str, Vec<String>, std::path::PathBuf)>,
) -> (String, Vec<Write>, Vec<Write>, Vec<Taken>) {
    let server = Server::start(storage, logs.join("loaded.log")).await;
    let admin = Arc::new(Admin::login(&server.base).await);
    let (status, source) = admin
        .post(
            "/api/v1/cdp/sources",
            json!({"name": "备份 load", "kind": "server"}),
        )
        .await;
    assert_eq!(status, 201, "create source: {source}");
    let source_id = source["id"].as_str().expect("source id").to_string();
    let write_key = source["write_key"].as_str().expect("write key").to_string();
    let (status, body) = admin
        .post(
            "/api/v1/cdp/event-types",
            json!({"name": "Tick", "schema": {"type": "object"}}),
        )
        .await;
    assert!(
        status == 200 || status == 201,
        "register Tick: {status} {body}"
    );

    let stop = Arc::new(AtomicBool::new(false));
    let contacts = Arc::new(AtomicUsize::new(0));
    let events = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..WRITERS)
        .map(|me| {
            tokio::spawn(record_writer(
                admin.clone(),
                me,
                stop.clone(),
                contacts.clone(),
            ))
        })
        .collect();
    let senders: Vec<_> = (0..SENDERS)
        .map(|me| {
            tokio::spawn(event_sender(
                admin.clone(),
                write_key.clone(),
                me,
                stop.clone(),
                events.clone(),
            ))
        })
        .collect();
    let load = Instant::now();
    while load.elapsed() < MIN_LOAD
        || ((contacts.load(Ordering::SeqCst) < WANT_CONTACTS
            || events.load(Ordering::SeqCst) < WANT_EVENTS)
            && load.elapsed() < Duration::from_secs(30))
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut taken = Vec::new();
    for (label, args, file) in backups {
        taken.push(take_backup(label, args, file).await);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    let mut records = Vec::new();
    for handle in writers {
        records.extend(handle.await.expect("writer"));
    }
    let mut batches = Vec::new();
    for handle in senders {
        batches.extend(handle.await.expect("sender"));
    }
    drop(server);
    (source_id, records, batches, taken)
}

fn restore(args: &[String]) {
    let output = rapport(args);
    assert!(
        output.status.success(),
        "rapport restore failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{}", String::from_utf8_lossy(&output.stdout).trim());
}

fn s(text: &str) -> String {
    text.to_string()
}

fn path(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backup_under_load_sqlite() {
    let data = tempfile::tempdir().expect("temp dir");
    let work = tempfile::tempdir().expect("temp dir");
    let storage = vec![s("--data-dir"), path(data.path())];
    let file_backup = work.path().join("rapport.db.bak");
    let ndjson_backup = work.path().join("workspace.ndjson");
    let backups = vec![
        (
            "SQLite file (VACUUM INTO)",
            vec![
                s("backup"),
                s("--data-dir"),
                path(data.path()),
                s("--out"),
                path(&file_backup),
            ],
            file_backup.clone(),
        ),
        (
            "NDJSON export from SQLite",
            vec![
                s("backup"),
                s("--data-dir"),
                path(data.path()),
                s("--format"),
                s("ndjson"),
                s("--out"),
                path(&ndjson_backup),
            ],
            ndjson_backup.clone(),
        ),
    ];
    let (source_id, records, batches, taken) = under_load(&storage, work.path(), backups).await;

    for (n, backup) in taken.iter().enumerate() {
        let target = work.path().join(format!("restored-{n}"));
        restore(&[
            s("restore"),
            s("--data-dir"),
            path(&target),
            s("--in"),
            path(&backup.file),
        ]);
        let server = Server::start(
            &[s("--data-dir"), path(&target)],
            work.path().join(format!("restored-{n}.log")),
        )
        .await;
        let restored = read_restored(&server, &source_id).await;
        check(backup, &restored, &records, &batches);
    }

    // A second restore onto a data dir that holds data is refused without --force.
    let target = work.path().join("restored-0");
    let output = rapport(&[
        s("restore"),
        s("--data-dir"),
        path(&target),
        s("--in"),
        path(&file_backup),
    ]);
    assert!(
        !output.status.success(),
        "restore over data without --force"
    );
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("--force"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // A restore while a server runs on the data dir is refused even with --force.
    let server = Server::start(
        &[s("--data-dir"), path(&target)],
        work.path().join("busy.log"),
    )
    .await;
    let output = rapport(&[
        s("restore"),
        s("--data-dir"),
        path(&target),
        s("--in"),
        path(&file_backup),
        s("--force"),
    ]);
    assert!(!output.status.success(), "restore under a running server");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("in use"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    drop(server);
    // Not a backup at all.
    let junk = work.path().join("junk.txt");
    std::fs::write(&junk, "hello\n").expect("write junk");
    let output = rapport(&[
        s("restore"),
        s("--data-dir"),
        path(&work.path().join("x")),
        s("--in"),
        path(&junk),
    ]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a Rapport backup"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backup_under_load_postgres() {
    let Some(admin_url) = pg_admin_url() else {
        return;
    };
    let source_db = TestDatabase::create(&admin_url, "backup_src").await;
    let target_db = TestDatabase::create(&admin_url, "backup_dst").await;
    let work = tempfile::tempdir().expect("temp dir");
    let storage = vec![
        s("--database-url"),
        source_db.url.clone(),
        s("--data-dir"),
        path(&work.path().join("unused")),
    ];
    let ndjson_backup = work.path().join("workspace.ndjson");
    // Without --format ndjson, PostgreSQL points to pg_dump.
    let output = rapport(&[
        s("backup"),
        s("--database-url"),
        source_db.url.clone(),
        s("--out"),
        path(&work.path().join("x")),
    ]);
    let backups = vec![(
        "NDJSON export from PostgreSQL",
        vec![
            s("backup"),
            s("--database-url"),
            source_db.url.clone(),
            s("--format"),
            s("ndjson"),
            s("--out"),
            path(&ndjson_backup),
        ],
        ndjson_backup.clone(),
    )];
    let (source_id, records, batches, taken) = under_load(&storage, work.path(), backups).await;
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("pg_dump"));
    let backup = &taken[0];

    // Into a fresh PostgreSQL database …
    restore(&[
        s("restore"),
        s("--database-url"),
        target_db.url.clone(),
        s("--in"),
        path(&backup.file),
    ]);
    let server = Server::start(
        &[
            s("--database-url"),
            target_db.url.clone(),
            s("--data-dir"),
            path(&work.path().join("unused")),
        ],
        work.path().join("restored-pg.log"),
    )
    .await;
    let restored = read_restored(&server, &source_id).await;
    check(backup, &restored, &records, &batches);
    drop(server);
    // … the same file again is refused: that workspace exists there now.
    let output = rapport(&[
        s("restore"),
        s("--database-url"),
        target_db.url.clone(),
        s("--in"),
        path(&backup.file),
    ]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("already exists"));

    // … and into SQLite.
    let target = work.path().join("restored-sqlite");
    restore(&[
        s("restore"),
        s("--data-dir"),
        path(&target),
        s("--in"),
        path(&backup.file),
    ]);
    let server = Server::start(
        &[s("--data-dir"), path(&target)],
        work.path().join("restored-sqlite.log"),
    )
    .await;
    let restored = read_restored(&server, &source_id).await;
    check(backup, &restored, &records, &batches);
    drop(server);

    source_db.drop_now().await;
    target_db.drop_now().await;
}
