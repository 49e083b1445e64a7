//! Behaviour counters are counted exactly once, whatever the interleaving of group commits and
//! the backfill of a new segment's counters: concurrent senders stream generated events while
//! three segments (sharing some behaviours) are created mid-stream — on SQLite through one
//! `rapport serve`, on PostgreSQL through two over one database, requests alternating between
//! them. Afterwards **every** counter is compared with a recount of the stored events done here
//! (not by Rapport's code), and every segment's members with a model computed from the events
//! the test sent. No request may fail (a deadlock between the nodes is retried inside them).
//!
//! The same scenario runs over split roles: one `--role web` node takes every request while two
//! `--role worker` nodes do the background work, and one of them is killed with SIGKILL in the
//! middle; the other drains what it left (queued judgements, builds, CRM syncs), and every
//! identified customer has exactly one CRM contact.

use crate::server::{pg_admin_url, postgres_storage, Admin, Server, TestDatabase};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rapport_core::sql::ColumnKind;
use rapport_store::Db;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const USERS: usize = 300;
const EVENTS: usize = 15_000;
const BATCH: usize = 100;
const SENDERS: usize = 4;
const KINDS: [&str; 3] = ["Product Viewed", "Order Completed", "WeCom Message"];
const DAY_MS: i64 = 86_400_000;

/// One event the test sent, as the model sees it (the person behind an anonymous id).
#[derive(Clone)]
struct Sent {
    user: String,
    event: &'static str,
    series: &'static str,
    ts: i64,
}

/// A behaviour test as the model evaluates it.
struct Rule {
    event: &'static str,
    series: Option<&'static str>,
    days: i64,
    op: &'static str,
    value: usize,
}

impl Rule {
    fn json(&self) -> Value {
        let mut b = json!({"event": self.event, "window": {"last": self.days, "unit": "days"},
                           "count": {"op": self.op, "value": self.value}});
        if let Some(s) = self.series {
            b["where"] = json!([{"property": "series", "op": "eq", "value": s}]);
        }
        json!({ "behavior": b })
    }

    fn holds(&self, events: &[Sent], now: i64) -> bool {
        let n = events
            .iter()
            .filter(|e| {
                e.event == self.event
                    && self.series.is_none_or(|s| s == e.series)
                    && e.ts > now - self.days * DAY_MS
            })
            .count();
        match self.op {
            "gte" => n >= self.value,
            "eq" => n == self.value,
            _ => unreachable!("the test uses gte and eq"),
        }
    }
}

fn rule(
    event: &'static str,
    series: Option<&'static str>,
    days: i64,
    op: &'static str,
    value: usize,
) -> Rule {
    Rule {
        event,
        series,
        days,
        op,
        value,
    }
}

/// Whether a person's events (at a time) put them in a segment, as the model sees it.
type Holds = Box<dyn Fn(&[Sent], i64) -> bool + Send + Sync>;

/// The segments, each a condition for Rapport and its meaning for the model.
struct Segment {
    name: &'static str,
    condition: Value,
    holds: Holds,
}

fn segments() -> Vec<Segment> {
    let s1 = [
        rule("Product Viewed", Some("A"), 30, "gte", 1),
        rule("Order Completed", None, 30, "eq", 0),
        rule("WeCom Message", None, 30, "gte", 5),
    ];
    let s2 = [
        rule("Product Viewed", None, 7, "gte", 3),
        // Shares the WeCom counter of the first segment (same depth).
        rule("WeCom Message", None, 14, "gte", 2),
    ];
    let s3 = [
        // Shares the order counter of the first segment.
        rule("Order Completed", None, 20, "gte", 1),
        rule("Product Viewed", Some("B"), 3, "gte", 2),
    ];
    vec![
        Segment {
            name: "A系列高意向",
            condition: json!({"all": s1.iter().map(Rule::json).collect::<Vec<_>>()}),
            holds: Box::new(move |e, now| s1.iter().all(|r| r.holds(e, now))),
        },
        Segment {
            name: "active browsers, quiet on WeCom",
            condition: json!({"all": [s2[0].json(), {"not": s2[1].json()}]}),
            holds: Box::new(move |e, now| s2[0].holds(e, now) && !s2[1].holds(e, now)),
        },
        Segment {
            name: "buyers or B fans",
            condition: json!({"any": [s3[0].json(), s3[1].json()]}),
            holds: Box::new(move |e, now| s3[0].holds(e, now) || s3[1].holds(e, now)),
        },
    ]
}

/// The events to send, in order, with what the model knows of each.
fn generate(seed: u64, now: i64) -> Vec<(Value, Sent)> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..EVENTS)
        .map(|n| {
            // A few heavy customers and a long tail.
            let u = if rng.gen_bool(0.3) {
                rng.gen_range(0..10)
            } else {
                rng.gen_range(0..USERS)
            };
            let user = format!("u{u:03}");
            let event = KINDS[[0, 0, 0, 1, 2, 2][rng.gen_range(0..6)]];
            let series = ["A", "B"][rng.gen_range(0..2)];
            // Whole hours plus 30 minutes ago: never near a window's edge while the test runs.
            let ts = now - rng.gen_range(0..24 * 25) * 3_600_000 - 1_800_000;
            let id = format!("{seed:x}-{n}");
            let at = chrono::DateTime::from_timestamp_millis(ts)
                .unwrap()
                .to_rfc3339();
            if rng.gen_bool(0.03) {
                // Traits for the CRM: the sync makes (or updates) the customer's contact.
                let body = json!({"type": "identify", "userId": user, "timestamp": at, "messageId": id,
                                  "traits": {"email": format!("{user}@example.com"), "name": format!("客户 {user}")}});
                let sent = Sent {
                    user,
                    event: "identify",
                    series: "",
                    ts,
                };
                return (body, sent);
            }
            let body = if rng.gen_bool(0.2) {
                json!({"type": "track", "anonymousId": format!("anon-{user}"), "event": event,
                       "properties": {"series": series}, "timestamp": at, "messageId": id})
            } else {
                json!({"type": "track", "userId": user, "event": event,
                       "properties": {"series": series}, "timestamp": at, "messageId": id})
            };
            (
                body,
                Sent {
                    user,
                    event,
                    series,
                    ts,
                },
            )
        })
        .collect()
}

/// Sends `events` in batches to the nodes in turn; every request must be answered 200 with
/// everything accepted. Returns the events acknowledged (all of them).
async fn send(
    nodes: Arc<Vec<String>>,
    write_key: String,
    events: Vec<(Value, Sent)>,
    acked: Arc<AtomicUsize>,
) -> Vec<Sent> {
    let client = reqwest::Client::new();
    let mut out = Vec::with_capacity(events.len());
    for (i, chunk) in events.chunks(BATCH).enumerate() {
        let node = &nodes[i % nodes.len()];
        let body: Vec<&Value> = chunk.iter().map(|(b, _)| b).collect();
        let response = client
            .post(format!("{node}/v1/batch"))
            .basic_auth(&write_key, Some(""))
            .json(&json!({ "batch": body }))
            .timeout(Duration::from_secs(120))
            .send()
            .await
            .expect("send a batch");
        let status = response.status().as_u16();
        let report: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(status, 200, "a batch failed: {report}");
        assert_eq!(report["accepted"], json!(chunk.len()), "{report}");
        out.extend(chunk.iter().map(|(_, s)| s.clone()));
        acked.fetch_add(chunk.len(), Ordering::SeqCst);
    }
    out
}

/// Every counter of every key, recounted here from `cdp_events`, must equal the stored one.
async fn check_every_counter(db: &Db) -> usize {
    let keys = db
        .fetch_all(
            "SELECT id, spec FROM cdp_behavior_keys",
            &[],
            &[ColumnKind::Text, ColumnKind::Text],
        )
        .await
        .unwrap();
    let events = db
        .fetch_all(
            "SELECT profile_id, name, ts, CAST(body AS TEXT) FROM cdp_events WHERE kind = 'track'",
            &[],
            &[
                ColumnKind::Text,
                ColumnKind::Text,
                ColumnKind::Int,
                ColumnKind::Text,
            ],
        )
        .await
        .unwrap();
    let events: Vec<(String, String, i64, String)> = events
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_str(&r.text(3).unwrap()).unwrap();
            let series = body["properties"]["series"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            (
                r.text(0).unwrap(),
                r.text(1).unwrap(),
                r.int(2).unwrap(),
                series,
            )
        })
        .collect();
    let mut checked = 0;
    let mut wrong = Vec::new();
    for key in &keys {
        let spec: Value = serde_json::from_str(&key.text(1).unwrap()).unwrap();
        let event = spec["event"].as_str().unwrap();
        let depth = spec["depth"].as_u64().unwrap() as usize;
        let series: Option<&str> = spec["filters"].as_array().unwrap().first().map(|f| {
            assert_eq!(f["property"], "series");
            assert_eq!(f["op"], "eq");
            f["value"].as_str().unwrap()
        });
        let mut want: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
        for (profile, name, ts, s) in &events {
            if name == event && series.is_none_or(|x| x == s) {
                want.entry(profile).or_default().push(*ts);
            }
        }
        let rows = db
            .fetch_all(
                &format!(
                    "SELECT profile_id, total, recent FROM cdp_behavior_counts WHERE key_id = {} AND total > 0",
                    match db.dialect() {
                        rapport_core::sql::Dialect::Sqlite => "?1",
                        rapport_core::sql::Dialect::Postgres => "$1",
                    }
                ),
                &[rapport_core::sql::SqlParam::Text(key.text(0).unwrap())],
                &[ColumnKind::Text, ColumnKind::Int, ColumnKind::Text],
            )
            .await
            .unwrap();
        let got: BTreeMap<String, (i64, Vec<i64>)> = rows
            .iter()
            .map(|r| {
                let recent: Vec<i64> = r
                    .text(2)
                    .unwrap()
                    .split(',')
                    .filter(|t| !t.is_empty())
                    .map(|t| t.parse().unwrap())
                    .collect();
                (r.text(0).unwrap(), (r.int(1).unwrap(), recent))
            })
            .collect();
        let profiles: BTreeSet<&str> = want
            .keys()
            .copied()
            .chain(got.keys().map(String::as_str))
            .collect();
        for profile in profiles {
            let mut times = want.get(profile).cloned().unwrap_or_default();
            times.sort_unstable_by(|a, b| b.cmp(a));
            let total = times.len() as i64;
            times.truncate(depth);
            let stored = got.get(profile).cloned().unwrap_or_default();
            if stored != (total, times.clone()) {
                wrong.push(format!(
                    "{event} {series:?} profile {profile}: stored total {} recent {:?}, recounted {total} {times:?}",
                    stored.0, stored.1
                ));
            }
            checked += 1;
        }
    }
    assert!(
        wrong.is_empty(),
        "{} counters differ from a recount of the stored events, e.g.:\n{}",
        wrong.len(),
        wrong[..wrong.len().min(10)].join("\n")
    );
    checked
}

/// Members of a segment by user id, once it is live.
async fn members(admin: &Admin, id: &str) -> Option<BTreeSet<String>> {
    let (status, segment) = admin.get(&format!("/api/v1/cdp/segments/{id}")).await;
    assert_eq!(status, 200, "{segment}");
    if segment["state"] != "live" {
        return None;
    }
    let mut out = BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/cdp/segments/{id}/members?limit=1000");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let (status, page) = admin.get(&path).await;
        assert_eq!(status, 200, "{page}");
        for m in page["items"].as_array().unwrap() {
            out.insert(m["user_id"].as_str().unwrap_or("?").to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return Some(out),
        }
    }
}

/// Which nodes run: each a `--role`; requests go to the nodes that answer the API. With
/// `kill_worker`, the first `worker` node is killed (SIGKILL) halfway through the stream.
struct Topology {
    roles: &'static [&'static str],
    kill_worker: bool,
}

async fn scenario(seed: u64, storage: &[String], topology: Topology, db: &Db, logs: &Path) {
    let mut servers = Vec::new();
    let mut workers = Vec::new();
    for (n, role) in topology.roles.iter().enumerate() {
        let mut flags = storage.to_vec();
        flags.extend(["--role".to_string(), (*role).to_string()]);
        let server = Server::start(&flags, logs.join(format!("{seed:x}-{n}-{role}.log"))).await;
        if *role == "worker" {
            workers.push(server);
        } else {
            servers.push(server);
        }
    }
    let bases: Vec<String> = servers.iter().map(|s| s.base.clone()).collect();
    let admins = [
        Admin::login(&bases[0]).await,
        Admin::login(bases.last().unwrap()).await,
    ];
    let (status, source) = admins[0]
        .post(
            "/api/v1/cdp/sources",
            json!({"name": format!("counting {seed:x}"), "kind": "server"}),
        )
        .await;
    assert_eq!(status, 201, "{source}");
    let write_key = source["write_key"].as_str().unwrap().to_string();
    for name in KINDS {
        let (status, body) = admins[0]
            .post(
                "/api/v1/cdp/event-types",
                json!({"name": name, "schema": {"type": "object", "properties": {"series": {"type": "string"}}}}),
            )
            .await;
        assert!(status == 200 || status == 201, "{body}");
    }
    let now = chrono::Utc::now().timestamp_millis();
    let events = generate(seed, now);
    let acked = Arc::new(AtomicUsize::new(0));
    let nodes_arc = Arc::new(bases.clone());
    let share = events.len().div_ceil(SENDERS);
    let senders: Vec<_> = events
        .chunks(share)
        .map(|part| {
            tokio::spawn(send(
                nodes_arc.clone(),
                write_key.clone(),
                part.to_vec(),
                acked.clone(),
            ))
        })
        .collect();
    // The segments are created while the events stream in, on the nodes in turn.
    let definitions = segments();
    let created: Arc<Mutex<Vec<String>>> = Arc::default();
    for (i, segment) in definitions.iter().enumerate() {
        let at = EVENTS * (3 + 2 * i) / 10;
        let started = Instant::now();
        while acked.load(Ordering::SeqCst) < at {
            assert!(
                started.elapsed() < Duration::from_secs(600),
                "ingest stalled"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let (status, body) = admins[i % admins.len()]
            .post(
                "/api/v1/cdp/segments",
                json!({"name": segment.name, "condition": segment.condition}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        created
            .lock()
            .unwrap()
            .push(body["id"].as_str().unwrap().to_string());
    }
    if topology.kill_worker {
        let started = Instant::now();
        while acked.load(Ordering::SeqCst) < EVENTS / 2 {
            assert!(
                started.elapsed() < Duration::from_secs(600),
                "ingest stalled"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        workers[0].kill9();
    }
    let mut sent: Vec<Sent> = Vec::new();
    for s in senders {
        sent.extend(s.await.unwrap());
    }
    assert_eq!(sent.len(), EVENTS);
    // Every anonymous history joins its person.
    let users: BTreeSet<&String> = sent.iter().map(|s| &s.user).collect();
    let links: Vec<Value> = users
        .iter()
        .map(|u| {
            json!({"type": "identify", "userId": u, "anonymousId": format!("anon-{u}"),
                   "messageId": format!("{seed:x}-link-{u}")})
        })
        .collect();
    let (status, report) = admins[0]
        .post_basic("/v1/batch", &write_key, json!({ "batch": links }))
        .await;
    assert_eq!(status, 200, "{report}");

    let ids = created.lock().unwrap().clone();
    let mut by_user: BTreeMap<String, Vec<Sent>> = BTreeMap::new();
    for s in &sent {
        by_user.entry(s.user.clone()).or_default().push(s.clone());
    }
    let now = chrono::Utc::now().timestamp_millis();
    for (segment, id) in definitions.iter().zip(&ids) {
        let want: BTreeSet<String> = by_user
            .iter()
            .filter(|(_, e)| (segment.holds)(e, now))
            .map(|(u, _)| u.clone())
            .collect();
        let started = Instant::now();
        let mut got = None;
        // A killed worker's claims (queued judgements, a build) return after their leases.
        while started.elapsed() < Duration::from_secs(240) {
            got = members(&admins[0], id).await;
            if got.as_ref() == Some(&want) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let got = got.unwrap_or_default();
        assert_eq!(
            got,
            want,
            "segment {} ({} members, model {}): extra {:?}, missing {:?}",
            segment.name,
            got.len(),
            want.len(),
            got.difference(&want).take(10).collect::<Vec<_>>(),
            want.difference(&got).take(10).collect::<Vec<_>>()
        );
    }
    let checked = check_every_counter(db).await;
    let contacts = check_contacts(&admins[0], &sent).await;
    // Nothing left queued (a killed worker's claims come back once their leases run out).
    let started = Instant::now();
    loop {
        let pending = db
            .fetch_all(
                "SELECT COUNT(*) FROM cdp_segment_pending",
                &[],
                &[ColumnKind::Int],
            )
            .await
            .unwrap();
        if pending[0].int(0).unwrap() == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "{} judgements still queued",
            pending[0].int(0).unwrap()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    println!(
        "seed {seed:x}: {EVENTS} events over nodes {:?}, {} segments, {checked} counters equal a recount, {contacts} contacts made once each",
        topology.roles,
        ids.len()
    );
}

/// Every customer that sent traits has exactly one CRM contact with their email, and no sync
/// failed (a contact made twice would fail on the unique email).
async fn check_contacts(admin: &Admin, sent: &[Sent]) -> usize {
    let identified: BTreeSet<&String> = sent
        .iter()
        .filter(|s| s.event == "identify")
        .map(|s| &s.user)
        .collect();
    let started = Instant::now();
    loop {
        let mut missing = Vec::new();
        for user in &identified {
            let filter =
                json!({"field": "email", "op": "eq", "value": format!("{user}@example.com")});
            let (status, page) = admin
                .post(
                    "/api/v1/objects/contact/records/query",
                    json!({"filter": filter, "limit": 10}),
                )
                .await;
            assert_eq!(status, 200, "{page}");
            let n = page["data"].as_array().map_or(0, Vec::len);
            assert!(n <= 1, "{n} contacts for {user}");
            if n == 0 {
                missing.push((*user).clone());
            }
        }
        if missing.is_empty() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no contact for {missing:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let (status, health) = admin.get("/api/v1/cdp/health").await;
    assert_eq!(status, 200, "{health}");
    let failed: Vec<&Value> = health["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["code"] == "contact_sync_failed")
        .collect();
    assert!(failed.is_empty(), "{failed:?}");
    identified.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn segments_created_during_ingest_count_exactly_sqlite() {
    for seed in [0x5e6_0001_u64, 0x5e6_0002] {
        let data = tempfile::tempdir().unwrap();
        let logs = tempfile::tempdir().unwrap();
        let storage = vec![
            "--data-dir".to_string(),
            data.path().to_string_lossy().into_owned(),
        ];
        // The test reads the counters beside the server (WAL allows a reader).
        let server_first = Server::start(&storage, logs.path().join("init.log")).await;
        drop(server_first);
        let db = Db::open_sqlite(data.path()).await.unwrap();
        let topology = Topology {
            roles: &["all"],
            kill_worker: false,
        };
        scenario(seed, &storage, topology, &db, logs.path()).await;
        db.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn segments_created_during_ingest_count_exactly_postgres_two_nodes() {
    let Some(admin_url) = pg_admin_url() else {
        return;
    };
    for seed in [0x5e6_0003_u64, 0x5e6_0004] {
        let database = TestDatabase::create(&admin_url, "counting").await;
        let data = tempfile::tempdir().unwrap();
        let logs = tempfile::tempdir().unwrap();
        let storage = vec![
            "--database-url".to_string(),
            database.url.clone(),
            "--data-dir".to_string(),
            data.path().to_string_lossy().into_owned(),
        ];
        // The first start creates the workspace; both nodes then serve it.
        drop(Server::start(&storage, logs.path().join("init.log")).await);
        let db = Db::open_postgres(&database.url).await.unwrap();
        let topology = Topology {
            roles: &["all", "all"],
            kill_worker: false,
        };
        scenario(seed, &storage, topology, &db, logs.path()).await;
        db.close().await;
        database.drop_now().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_web_node_and_two_workers_one_killed_postgres() {
    let Some(admin_url) = pg_admin_url() else {
        return;
    };
    let database = TestDatabase::create(&admin_url, "roles").await;
    let data = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let storage = postgres_storage(&database.url, data.path());
    drop(Server::start(&storage, logs.path().join("init.log")).await);
    let db = Db::open_postgres(&database.url).await.unwrap();
    let topology = Topology {
        roles: &["web", "worker", "worker"],
        kill_worker: true,
    };
    scenario(0x5e6_0005, &storage, topology, &db, logs.path()).await;
    db.close().await;
    database.drop_now().await;
}
