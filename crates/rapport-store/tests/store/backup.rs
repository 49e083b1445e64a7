//! The NDJSON workspace export (`rapport_store::backup`): its table list covers the whole schema
//! on both backends; an export reads back into a fresh database (SQLite → SQLite, SQLite →
//! PostgreSQL, PostgreSQL → SQLite) with records, archived fields, history and users; a file
//! that is cut off, foreign, for a workspace that exists, or that names another workspace's rows
//! is refused with nothing restored.

use super::support::{field, object, open_store, options, postgres_url, principal, PgDatabase};
use rapport_core::metadata::{FieldConfig, FieldType};
use rapport_core::sql::{ColumnKind, SqlParam};
use rapport_core::Source;
use rapport_store::backup::{self, NOT_EXPORTED, TABLES};
use rapport_store::records::{ListQuery, RecordInput, RecordUpdate, WriteCtx};
use rapport_store::{Db, Store, StoreError};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Table → its columns, as the database has them.
async fn schema_tables(db: &Db) -> BTreeMap<String, BTreeSet<String>> {
    let sql = match db {
        Db::Sqlite { .. } => {
            "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'"
        }
        Db::Postgres(_) => {
            "SELECT table_name::text, column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema()"
        }
    };
    let rows = db
        .fetch_all(sql, &[], &[ColumnKind::Text, ColumnKind::Text])
        .await
        .expect("list the schema");
    let mut tables: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in rows {
        tables
            .entry(row.text(0).unwrap())
            .or_default()
            .insert(row.text(1).unwrap());
    }
    tables
}

async fn catalogue_covers(db: Db) {
    let (store, _clock) = open_store(db).await;
    let tables = schema_tables(&store.db).await;
    for (table, columns) in &tables {
        if NOT_EXPORTED.iter().any(|(t, _)| t == table) {
            continue;
        }
        let known = TABLES.iter().find(|t| t.name == table).unwrap_or_else(|| {
            panic!("table {table} is neither exported (backup::TABLES) nor in NOT_EXPORTED")
        });
        let listed: BTreeSet<String> = known.columns.iter().map(|(c, _)| c.to_string()).collect();
        assert_eq!(&listed, columns, "columns of {table}");
    }
    for t in TABLES {
        assert!(
            tables.contains_key(t.name),
            "{} is not in the schema",
            t.name
        );
    }
    store.db.close().await;
}

#[tokio::test]
async fn the_export_covers_every_table_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    catalogue_covers(Db::open_sqlite(dir.path()).await.expect("sqlite")).await;
}

#[tokio::test]
async fn the_export_covers_every_table_postgres() {
    let Some(url) = postgres_url() else {
        eprintln!("skipped: RAPPORT_TEST_DATABASE_URL not set");
        return;
    };
    let database = PgDatabase::create(&url).await;
    catalogue_covers(Db::open_postgres(&database.url).await.expect("pg")).await;
    database.drop_database().await;
}

/// A workspace with a custom object (one field archived), records, an update and a delete.
async fn fill(store: &Store) -> String {
    let ws = store
        .create_workspace("备份 Backup", 480)
        .await
        .expect("workspace");
    let user = store
        .create_user(&ws.id, "admin@example.cn", "管理员", "hash", "admin")
        .await
        .expect("user");
    let admin = principal(store, &ws, &user).await;
    store
        .create_object(
            &ws.id,
            object(
                "gadget",
                "name",
                vec![
                    field("name", FieldType::Text, FieldConfig::default()),
                    field("price", FieldType::Currency, FieldConfig::default()),
                    field("tags", FieldType::MultiSelect, options(&["a", "b"])),
                    field("note", FieldType::Text, FieldConfig::default()),
                    field(
                        "serial",
                        FieldType::AutoNumber,
                        FieldConfig {
                            format: Some("G-{000}".into()),
                            ..FieldConfig::default()
                        },
                    ),
                    field("photo", FieldType::Attachment, FieldConfig::default()),
                ],
            ),
        )
        .await
        .expect("object");
    let schema = store.load_schema(&ws.id).await.expect("schema");
    let ctx = WriteCtx {
        principal: &admin,
        source: Source::Api,
        request_id: "backup-test".into(),
    };
    // A file whose bytes are every byte value, NUL included.
    let gadget = schema.object("gadget").expect("gadget");
    let photo = store
        .save_file(
            &ws.id,
            gadget,
            gadget.field("photo").expect("photo"),
            rapport_store::files::Upload {
                name: "照片.bin",
                claimed_type: None,
                content: (0..=255u8).collect(),
            },
            &user.id,
        )
        .await
        .expect("file");
    let mut ids = Vec::new();
    for (name, note) in [
        ("小部件 🎉", "第一"),
        ("Widget", "second"),
        ("零件", "third"),
    ] {
        let input = RecordInput {
            values: json!({"name": name, "price": {"amount": "12.50", "currency": "CNY"},
                           "tags": ["b", "a"], "note": note, "photo": [photo.id]})
            .as_object()
            .cloned()
            .expect("object"),
            owner_id: None,
        };
        let record = store
            .create_record(&ctx, &schema, "gadget", input)
            .await
            .expect("create");
        ids.push(record.id);
    }
    let patch = RecordUpdate {
        id: ids[1].clone(),
        values: json!({"name": "Widget v2"})
            .as_object()
            .cloned()
            .expect("object"),
        owner_id: None,
        expected_version: None,
    };
    store
        .update_record(&ctx, &schema, "gadget", patch)
        .await
        .expect("update");
    store
        .set_field_archived(&ws.id, "gadget", "note", true)
        .await
        .expect("archive note");
    ws.id
}

async fn export(store: &Store, workspace: &str) -> Vec<u8> {
    let mut out = Vec::new();
    backup::export_workspace(store, workspace, &mut out)
        .await
        .expect("export");
    out
}

async fn import(store: &Store, bytes: &[u8]) -> Result<backup::Summary, StoreError> {
    let mut input = bytes;
    backup::import_workspace(store, &mut input).await
}

/// Names of the gadgets (deleted ones too) and the number of history rows of the workspace.
async fn contents(store: &Store, workspace: &str) -> (BTreeSet<String>, i64) {
    let ws = store
        .workspace(workspace)
        .await
        .expect("workspace restored");
    let users = store.users(workspace).await.expect("users");
    let admin = principal(store, &ws, &users[0]).await;
    let schema = store.load_schema(workspace).await.expect("schema");
    let gadget = schema.object("gadget").expect("gadget");
    let note = gadget.field("note").expect("note kept");
    assert!(
        note.archived_at.is_some(),
        "the archived field stays archived"
    );
    let page = store
        .list_records(
            &admin,
            &schema,
            "gadget",
            &ListQuery {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .expect("list");
    let names = page
        .records
        .iter()
        .map(|r| match r.get("name") {
            rapport_core::Value::Text(t) => t,
            other => panic!("name {other:?}"),
        })
        .collect();
    let ph = match store.db {
        Db::Sqlite { .. } => "?1",
        Db::Postgres(_) => "$1",
    };
    let history = store
        .db
        .fetch_optional(
            &format!("SELECT COUNT(*) FROM field_history WHERE workspace_id = {ph}"),
            &[SqlParam::Text(workspace.to_string())],
            &[ColumnKind::Int],
        )
        .await
        .expect("count")
        .expect("a row")
        .int(0)
        .unwrap();
    (names, history)
}

/// The workspace's first file and its content.
async fn first_file(store: &Store, workspace: &str) -> (String, Vec<u8>) {
    let ph = match store.db {
        Db::Sqlite { .. } => "?1",
        Db::Postgres(_) => "$1",
    };
    let id = store
        .db
        .fetch_optional(
            &format!("SELECT id FROM files WHERE workspace_id = {ph} ORDER BY id"),
            &[SqlParam::Text(workspace.to_string())],
            &[ColumnKind::Text],
        )
        .await
        .expect("files")
        .expect("a file")
        .text(0)
        .unwrap();
    let (_, content) = store
        .file(workspace, &id)
        .await
        .expect("read")
        .expect("the file");
    (id, content)
}

async fn sqlite_store(dir: &std::path::Path) -> Store {
    open_store(Db::open_sqlite(dir).await.expect("sqlite"))
        .await
        .0
}

/// Exports from `from`, restores into `to` (fresh), checks, then checks every refusal on `to`.
async fn round_trip(from: &Store, to: &Store) {
    let workspace = fill(from).await;
    let before = contents(from, &workspace).await;
    let bytes = export(from, &workspace).await;
    let text = String::from_utf8(bytes.clone()).expect("UTF-8");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines[0]["type"], "header");
    assert_eq!(lines[0]["format"], backup::FORMAT);
    assert_eq!(lines.last().expect("lines")["type"], "end");

    // Refusals first, on the fresh target: nothing may be left behind by any of them.
    let cut = &bytes[..bytes.len() - 20];
    let err = import(to, cut)
        .await
        .expect_err("a cut-off file is refused");
    assert!(err.to_string().contains("line"), "{err}");
    let without_end: String = text
        .lines()
        .take(lines.len() - 1)
        .map(|l| format!("{l}\n"))
        .collect();
    let err = import(to, without_end.as_bytes())
        .await
        .expect_err("no end line");
    assert!(err.to_string().contains("end line"), "{err}");
    let err = import(to, b"{\"hello\": 1}\n").await.expect_err("foreign");
    assert!(err.to_string().contains("type"), "{err}");
    let err = import(to, b"SELECT 1;\n").await.expect_err("not JSON");
    assert!(err.to_string().contains("JSON"), "{err}");
    let other = text.replacen(
        &format!("\"role_id\":\"admin\",\"workspace_id\":\"{workspace}\""),
        "\"role_id\":\"admin\",\"workspace_id\":\"someoneelse\"",
        1,
    );
    assert_ne!(other, text, "the test edits a users row");
    let err = import(to, other.as_bytes())
        .await
        .expect_err("another workspace's row");
    assert!(err.to_string().contains("another workspace"), "{err}");
    assert!(
        to.workspace(&workspace).await.is_err(),
        "a refused import left the workspace behind"
    );
    assert!(to.first_workspace().await.expect("read").is_none());

    let summary = import(to, &bytes).await.expect("import");
    assert_eq!(summary.workspace_id, workspace);
    assert_eq!(contents(to, &workspace).await, before);
    assert_eq!(before.0.len(), 3);
    assert!(before.0.contains("Widget v2"));

    // The file comes back byte for byte.
    let (file_id, content) = first_file(from, &workspace).await;
    assert_eq!(content, (0..=255u8).collect::<Vec<_>>());
    assert_eq!(first_file(to, &workspace).await, (file_id, content));
    // Again: the workspace exists now, and nothing changes.
    let err = import(to, &bytes).await.expect_err("the workspace exists");
    assert!(err.to_string().contains("already exists"), "{err}");
    assert_eq!(contents(to, &workspace).await, before);
    // The restored workspace exports the same records again.
    let again = String::from_utf8(export(to, &workspace).await).expect("UTF-8");
    let records = |t: &str| -> BTreeSet<String> {
        t.lines()
            .filter(|l| l.contains("\"type\":\"record\""))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(records(&again), records(&text));
    // The auto-number goes on where it was.
    let users = to.users(&workspace).await.expect("users");
    let ws = to.workspace(&workspace).await.expect("workspace");
    let admin = principal(to, &ws, &users[0]).await;
    let schema = to.load_schema(&workspace).await.expect("schema");
    let next = to
        .create_record(
            &WriteCtx {
                principal: &admin,
                source: Source::Api,
                request_id: "after-restore".into(),
            },
            &schema,
            "gadget",
            RecordInput {
                values: json!({"name": "恢复后"})
                    .as_object()
                    .cloned()
                    .expect("object"),
                owner_id: None,
            },
        )
        .await
        .expect("create after restore");
    assert_eq!(
        next.get("serial"),
        rapport_core::Value::Text("G-004".into())
    );
}

#[tokio::test]
async fn a_workspace_export_restores_sqlite_to_sqlite() {
    let (a, b) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let (from, to) = (sqlite_store(a.path()).await, sqlite_store(b.path()).await);
    round_trip(&from, &to).await;
    from.db.close().await;
    to.db.close().await;
}

#[tokio::test]
async fn a_workspace_export_restores_across_backends() {
    let Some(url) = postgres_url() else {
        eprintln!("skipped: RAPPORT_TEST_DATABASE_URL not set");
        return;
    };
    let (a, b) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    for sqlite_first in [true, false] {
        let database = PgDatabase::create(&url).await;
        let pg = open_store(Db::open_postgres(&database.url).await.expect("pg"))
            .await
            .0;
        let dir = if sqlite_first { a.path() } else { b.path() };
        let sqlite = sqlite_store(dir).await;
        if sqlite_first {
            round_trip(&sqlite, &pg).await;
        } else {
            round_trip(&pg, &sqlite).await;
        }
        sqlite.db.close().await;
        pg.db.close().await;
        database.drop_database().await;
    }
}
