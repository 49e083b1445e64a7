//! Opening real stores for tests: SQLite in a temporary directory, PostgreSQL in a fresh
//! database on the server named by `RAPPORT_TEST_DATABASE_URL`; plus small metadata builders.

use chrono::{DateTime, TimeZone, Utc};
use rapport_core::metadata::{FieldConfig, FieldDef, FieldType, ObjectDef, SelectOption};
use rapport_core::{Label, ManualClock, Principal};
use rapport_store::accounts::{User, Workspace};
use rapport_store::{Db, Store};
use std::sync::Arc;

pub const DATABASE_URL_VAR: &str = "RAPPORT_TEST_DATABASE_URL";

/// The PostgreSQL server to test against, if any.
pub fn postgres_url() -> Option<String> {
    std::env::var(DATABASE_URL_VAR)
        .ok()
        .filter(|url| !url.trim().is_empty())
}

/// The moment the tests' clocks start at: 02:00 on Wednesday 2026-04-01 in UTC+8, so the local
/// date differs from the UTC date and `today` starts a month and a quarter.
pub fn fixed_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 31, 18, 0, 0)
        .single()
        .expect("valid time")
}

/// `url` with its database replaced by `database` (the query string is kept).
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let server = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{server}/{database}?{query}"),
        None => format!("{server}/{database}"),
    }
}

/// A database of its own on the test server, for one test.
pub struct PgDatabase {
    server_url: String,
    pub name: String,
    pub url: String,
}

impl PgDatabase {
    pub async fn create(server_url: &str) -> PgDatabase {
        let name = format!("p_{}", uuid::Uuid::new_v4().simple());
        let server = Db::open_postgres(server_url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {DATABASE_URL_VAR}: {e}"));
        server
            .execute(&format!("CREATE DATABASE {name}"), &[])
            .await
            .expect("create the test database");
        server.close().await;
        PgDatabase {
            server_url: server_url.to_string(),
            url: with_database(server_url, &name),
            name,
        }
    }

    /// Drops the database (close every pool on it first).
    pub async fn drop_database(self) {
        let server = Db::open_postgres(&self.server_url)
            .await
            .expect("reconnect to the test server");
        server
            .execute(
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
                &[],
            )
            .await
            .expect("drop the test database");
        server.close().await;
    }
}

/// A migrated store over `db` with a manual clock at [`fixed_now`].
pub async fn open_store(db: Db) -> (Store, Arc<ManualClock>) {
    db.migrate().await.expect("migrate");
    let clock = Arc::new(ManualClock::new(fixed_now()));
    (Store::new(db, clock.clone()), clock)
}

/// The principal of `user`, built the way a request would see it.
pub async fn principal(store: &Store, workspace: &Workspace, user: &User) -> Principal {
    let role = store
        .roles(&workspace.id)
        .await
        .expect("roles")
        .into_iter()
        .find(|r| r.id == user.role_id)
        .expect("the user's role exists");
    Principal {
        workspace_id: workspace.id.clone(),
        user_id: user.id.clone(),
        email: user.email.clone(),
        role,
        metadata_version: 1,
        utc_offset_minutes: workspace.utc_offset_minutes,
    }
}

pub fn field(name: &str, field_type: FieldType, config: FieldConfig) -> FieldDef {
    FieldDef {
        api_name: name.to_string(),
        label: Label::new(name, name),
        field_type,
        required: false,
        unique: false,
        config,
        is_standard: false,
        archived_at: None,
    }
}

pub fn options(values: &[&str]) -> FieldConfig {
    FieldConfig {
        options: values
            .iter()
            .map(|v| SelectOption {
                value: (*v).to_string(),
                label: Label::new(*v, *v),
                probability: None,
                color: None,
            })
            .collect(),
        ..Default::default()
    }
}

pub fn object(name: &str, name_field: &str, fields: Vec<FieldDef>) -> ObjectDef {
    ObjectDef {
        api_name: name.to_string(),
        label: Label::new(name, name),
        plural_label: Label::new(name, name),
        is_standard: false,
        name_field: name_field.to_string(),
        fields,
        archived_at: None,
        layout: Vec::new(),
    }
}

#[test]
fn database_urls_are_rewritten() {
    assert_eq!(
        with_database("postgres://rapport@127.0.0.1:55432/postgres", "p_x"),
        "postgres://rapport@127.0.0.1:55432/p_x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/db?sslmode=disable", "p_x"),
        "postgres://u:p@h/p_x?sslmode=disable"
    );
    assert_eq!(
        with_database("postgres://h:5432", "p_x"),
        "postgres://h:5432/p_x"
    );
}
