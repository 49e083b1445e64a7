//! The test server: a real Rapport server on a loopback port over a fresh database (SQLite in a
//! temporary directory, or a new PostgreSQL database), a workspace with an admin, and an HTTP
//! client that fails the test on any 5xx.

use rapport_core::{Clock, SystemClock};
use rapport_server::{auth, AppState, ServerConfig};
use rapport_store::accounts::{User, Workspace};
use rapport_store::outbound::Outbound;
use rapport_store::{Db, Store};
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const PG_ENV: &str = "RAPPORT_TEST_DATABASE_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub fn postgres_url() -> Option<String> {
    std::env::var(PG_ENV).ok().filter(|u| !u.trim().is_empty())
}

/// Generates `mod <name> { sqlite, postgres }` tests calling `async fn <name>(Backend)`.
/// The PostgreSQL variant passes with a note only when `RAPPORT_TEST_DATABASE_URL` is unset.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::harness::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::harness::postgres_url().is_none() {
                    eprintln!("skipped: RAPPORT_TEST_DATABASE_URL not set");
                    return;
                }
                super::$name($crate::harness::Backend::Postgres).await;
            }
        }
    )+};
}

/// Where a test server keeps its data; survives a restart of the server.
enum Storage {
    Sqlite(tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl Storage {
    async fn create(backend: Backend) -> Storage {
        match backend {
            Backend::Sqlite => Storage::Sqlite(tempfile::tempdir().expect("temp dir")),
            Backend::Postgres => {
                let admin_url = postgres_url().expect("RAPPORT_TEST_DATABASE_URL");
                let name = format!("t_{}", uuid::Uuid::new_v4().simple());
                let admin = Db::open_postgres(&admin_url)
                    .await
                    .expect("connect to the PostgreSQL test cluster");
                let mut tries = 0;
                loop {
                    match admin
                        .execute(&format!("CREATE DATABASE \"{name}\""), &[])
                        .await
                    {
                        Ok(_) => break,
                        Err(e) if tries < 5 => {
                            tries += 1;
                            eprintln!("CREATE DATABASE failed ({e}); retrying");
                            tokio::time::sleep(Duration::from_millis(200 * tries)).await;
                        }
                        Err(e) => panic!("CREATE DATABASE {name}: {e}"),
                    }
                }
                admin.close().await;
                Storage::Postgres { admin_url, name }
            }
        }
    }

    async fn open(&self) -> Db {
        match self {
            Storage::Sqlite(dir) => Db::open_sqlite(dir.path()).await.expect("open SQLite"),
            Storage::Postgres { admin_url, name } => {
                Db::open_postgres(&database_url(admin_url, name))
                    .await
                    .expect("open PostgreSQL test database")
            }
        }
    }
}

impl Drop for Storage {
    fn drop(&mut self) {
        let Storage::Postgres { admin_url, name } = self else {
            return;
        };
        let (admin_url, name) = (admin_url.clone(), name.clone());
        // Best effort: drop the test database from a thread with its own runtime.
        let dropper = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(admin) = Db::open_postgres(&admin_url).await {
                    let _ = admin
                        .execute(
                            &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
                            &[],
                        )
                        .await;
                    admin.close().await;
                }
            });
        });
        let _ = dropper.join();
    }
}

/// `postgres://u@h:p/postgres` with the database name replaced.
fn database_url(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin_url, None),
    };
    let (prefix, _) = base.rsplit_once('/').expect("database URL has a path");
    match query {
        Some(q) => format!("{prefix}/{name}?{q}"),
        None => format!("{prefix}/{name}"),
    }
}

pub fn unique_email(prefix: &str) -> String {
    format!("{prefix}.{}@example.com", uuid::Uuid::new_v4().simple())
}

pub const ADMIN_PASSWORD: &str = "correct horse battery staple";
/// The `/metrics` token of servers started with `TestServer::start`.
pub const METRICS_TOKEN: &str = "test-metrics-token";

/// A running server over its own database.
pub struct TestServer {
    pub api: Api,
    pub store: Store,
    pub workspace: Workspace,
    pub admin: User,
    pub config: ServerConfig,
    outbound: Outbound,
    storage: Option<Storage>,
    node: Option<Node>,
}

impl std::ops::Deref for TestServer {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

/// A node of role `all`: the HTTP server and every background worker.
struct Node {
    base: String,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
    workers: Arc<rapport_store::worker::Supervisor>,
}

async fn spawn(store: Store, config: ServerConfig) -> Node {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let (tx, rx) = oneshot::channel::<()>();
    let state = AppState::new(store, config);
    state.run_workers();
    let workers = state.workers.clone();
    let task = tokio::spawn(rapport_server::serve(listener, state, async move {
        let _ = rx.await;
    }));
    Node {
        base: format!("http://{addr}"),
        shutdown: tx,
        task,
        workers,
    }
}

/// The outbound allow-list of test servers: the webhook receivers the tests start on
/// 127.0.0.1, as an operator would allow an intranet host (`RAPPORT_OUTBOUND_ALLOW`).
pub fn loopback_receivers() -> Outbound {
    Outbound::allowing("127.0.0.1").expect("allow-list")
}

/// The secret key every test node has (a restarted node opens what the last one sealed).
pub fn test_sealer() -> rapport_store::secrets::Sealer {
    rapport_store::secrets::Sealer::from_key([42; 32])
}

pub async fn hash(password: &str) -> String {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || auth::hash_password(&password).expect("hash"))
        .await
        .expect("hash task")
}

impl TestServer {
    pub async fn start(backend: Backend) -> TestServer {
        let config = ServerConfig {
            metrics_token: Some(METRICS_TOKEN.to_string()),
            ..ServerConfig::default()
        };
        Self::start_with(backend, config).await
    }

    pub async fn start_with(backend: Backend, config: ServerConfig) -> TestServer {
        Self::start_with_parts(backend, config, Arc::new(SystemClock), loopback_receivers()).await
    }

    /// A server whose store reads time from `clock` (a `ManualClock` stands still until told).
    pub async fn start_with_clock(
        backend: Backend,
        config: ServerConfig,
        clock: Arc<dyn Clock>,
    ) -> TestServer {
        Self::start_with_parts(backend, config, clock, loopback_receivers()).await
    }

    /// A server whose outbound calls follow `outbound` (the security suite uses the strict
    /// default, as a real server has).
    pub async fn start_with_outbound(
        backend: Backend,
        config: ServerConfig,
        outbound: Outbound,
    ) -> TestServer {
        Self::start_with_parts(backend, config, Arc::new(SystemClock), outbound).await
    }

    async fn start_with_parts(
        backend: Backend,
        config: ServerConfig,
        clock: Arc<dyn Clock>,
        outbound: Outbound,
    ) -> TestServer {
        // `RAPPORT_TEST_LOG=warn` (an env-filter) shows the servers' logs with the test's output.
        if let Ok(filter) = std::env::var("RAPPORT_TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                .with_test_writer()
                .try_init();
        }
        let storage = Storage::create(backend).await;
        let db = storage.open().await;
        db.migrate().await.expect("migrate");
        let store = Store::new(db, clock)
            .with_outbound(outbound.clone())
            .with_sealer(test_sealer());
        let workspace = store
            .create_workspace("Test", 480)
            .await
            .expect("create workspace");
        let admin = store
            .create_user(
                &workspace.id,
                &unique_email("admin"),
                "Admin",
                &hash(ADMIN_PASSWORD).await,
                "admin",
            )
            .await
            .expect("create admin");
        let token = token_for(&store, &admin).await;
        let node = spawn(store.clone(), config.clone()).await;
        TestServer {
            api: Api::new(&node.base, Auth::Bearer(token)),
            store,
            workspace,
            admin,
            config,
            outbound,
            storage: Some(storage),
            node: Some(node),
        }
    }

    /// Stops the server (triggering the shutdown future), closes the database, opens it again
    /// and serves it on a new port. The admin's token keeps working.
    pub async fn restart(&mut self) {
        self.stop().await;
        let storage = self.storage.as_ref().expect("storage");
        let db = storage.open().await;
        db.migrate().await.expect("migrate again");
        let store = Store::new(db, Arc::new(SystemClock))
            .with_outbound(self.outbound.clone())
            .with_sealer(test_sealer());
        let node = spawn(store.clone(), self.config.clone()).await;
        self.api.base = node.base.clone();
        self.store = store;
        self.node = Some(node);
    }

    pub async fn stop(&mut self) {
        if let Some(node) = self.node.take() {
            node.workers.shutdown(Duration::from_secs(30)).await;
            let _ = node.shutdown.send(());
            let result = tokio::time::timeout(Duration::from_secs(30), node.task)
                .await
                .expect("server shuts down within 30 s")
                .expect("server task");
            result.expect("server ran without I/O errors");
        }
        self.store.db.close().await;
    }

    /// The API as another identity.
    pub fn as_auth(&self, auth: Auth) -> Api {
        Api::new(&self.api.base, auth)
    }

    /// A user of the admin's workspace with `role`, and an API client with a token of theirs.
    pub async fn user_with_role(&self, role: &str) -> (User, Api) {
        let user = self
            .store
            .create_user(
                &self.workspace.id,
                &unique_email(role),
                role,
                &hash(ADMIN_PASSWORD).await,
                role,
            )
            .await
            .expect("create user");
        let token = token_for(&self.store, &user).await;
        (user, self.as_auth(Auth::Bearer(token)))
    }

    /// A second workspace on the same server, with its own admin and a token of theirs.
    pub async fn other_workspace(&self, name: &str) -> (Workspace, User, Api) {
        let ws = self
            .store
            .create_workspace(name, 480)
            .await
            .expect("create workspace");
        let user = self
            .store
            .create_user(
                &ws.id,
                &unique_email("other-admin"),
                "Other admin",
                &hash(ADMIN_PASSWORD).await,
                "admin",
            )
            .await
            .expect("create user");
        let token = token_for(&self.store, &user).await;
        (ws, user, self.as_auth(Auth::Bearer(token)))
    }

    /// Logs in with email and password; the returned client sends the session cookie.
    pub async fn login(&self, email: &str, password: &str) -> Api {
        let r = self
            .as_auth(Auth::None)
            .call(Method::POST, "/api/v1/auth/login")
            .json(&json!({"email": email, "password": password}))
            .send()
            .await;
        assert_eq!(r.status, 200, "login failed: {}", r.text);
        let cookie = r.session_cookie().expect("session cookie");
        self.as_auth(Auth::Cookie(cookie))
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(node) = self.node.take() {
            node.workers.abort();
            let _ = node.shutdown.send(());
            node.task.abort();
        }
    }
}

pub async fn token_for(store: &Store, user: &User) -> String {
    let token = auth::new_token();
    store
        .create_token(user, "test", &auth::digest(&token), &token[..8])
        .await
        .expect("create token");
    token
}

#[derive(Debug, Clone)]
pub enum Auth {
    None,
    Bearer(String),
    /// The value of the `rapport_session` cookie.
    Cookie(String),
    /// A raw `Authorization` header.
    Header(String),
}

/// An HTTP client of the server acting as one identity.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub auth: Auth,
    client: reqwest::Client,
}

impl Api {
    pub fn new(base: &str, auth: Auth) -> Api {
        Api {
            base: base.to_string(),
            auth,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()
                .expect("client"),
        }
    }

    /// The same identity on connections from another loopback address (`127.0.0.2`, …), so
    /// the server sees another client.
    pub fn on_address(&self, ip: std::net::IpAddr) -> Api {
        Api {
            base: self.base.clone(),
            auth: self.auth.clone(),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .local_address(ip)
                .build()
                .expect("client"),
        }
    }

    pub fn call(&self, method: Method, path: &str) -> Call {
        let mut rb = self
            .client
            .request(method.clone(), format!("{}{path}", self.base));
        match &self.auth {
            Auth::None => {}
            Auth::Bearer(t) => rb = rb.bearer_auth(t),
            // As the web app does: its requests say they are its own (see `csrf`).
            Auth::Cookie(c) => {
                rb = rb
                    .header("cookie", format!("rapport_session={c}"))
                    .header("x-requested-with", "XMLHttpRequest")
            }
            Auth::Header(h) => rb = rb.header("authorization", h.clone()),
        }
        Call {
            rb,
            what: format!("{method} {path}"),
        }
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.call(Method::GET, path).send().await.pair()
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path)
            .json(&body)
            .send()
            .await
            .pair()
    }

    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::PATCH, path)
            .json(&body)
            .send()
            .await
            .pair()
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.call(Method::DELETE, path).send().await.pair()
    }

    /// `GET /api/v1/objects/{object}/records` with query parameters.
    pub async fn list(&self, object: &str, query: &[(&str, &str)]) -> (u16, Value) {
        self.call(Method::GET, &format!("/api/v1/objects/{object}/records"))
            .query(query)
            .send()
            .await
            .pair()
    }

    /// Creates a record and returns it; fails the test unless the server answers 201.
    pub async fn create(&self, object: &str, values: Value) -> Value {
        let (status, body) = self
            .post(
                &format!("/api/v1/objects/{object}/records"),
                json!({ "values": values }),
            )
            .await;
        assert_eq!(status, 201, "create {object}: {body}");
        body
    }

    /// The ids of every live record of `object` (following cursors).
    pub async fn all_ids(&self, object: &str) -> Vec<String> {
        let mut ids = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut query = vec![("limit", "1000")];
            if let Some(c) = &cursor {
                query.push(("cursor", c.as_str()));
            }
            let (status, body) = self.list(object, &query).await;
            assert_eq!(status, 200, "{body}");
            ids.extend(data_ids(&body));
            match body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => return ids,
            }
        }
    }

    /// `total` of the live records of `object`.
    pub async fn count(&self, object: &str) -> i64 {
        let (status, body) = self
            .list(object, &[("total", "true"), ("limit", "1")])
            .await;
        assert_eq!(status, 200, "{body}");
        body["total"].as_i64().expect("total")
    }
}

pub fn data_ids(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data in {body}"))
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_string())
        .collect()
}

pub struct Call {
    rb: reqwest::RequestBuilder,
    what: String,
}

impl Call {
    pub fn header(mut self, name: &str, value: &str) -> Call {
        self.rb = self.rb.header(name, value);
        self
    }

    pub fn json(mut self, body: &Value) -> Call {
        self.rb = self.rb.json(body);
        self
    }

    pub fn query(mut self, query: &[(&str, &str)]) -> Call {
        self.rb = self.rb.query(query);
        self
    }

    /// A raw body with an optional content type.
    pub fn raw(mut self, body: impl Into<Vec<u8>>, content_type: Option<&str>) -> Call {
        if let Some(ct) = content_type {
            self.rb = self.rb.header("content-type", ct);
        }
        self.rb = self.rb.body(body.into());
        self
    }

    pub async fn send(self) -> Resp {
        let response = self
            .rb
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: request failed: {e}", self.what));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let raw = response
            .bytes()
            .await
            .unwrap_or_else(|e| panic!("{}: reading body: {e}", self.what));
        let text = String::from_utf8_lossy(&raw).into_owned();
        assert!(
            status < 500,
            "{} answered {status} (no response may be a 5xx): {text}",
            self.what
        );
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            body,
            text,
            bytes: raw.len(),
            content: raw.to_vec(),
        }
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
    /// The body's length as sent (compressed, when it was).
    pub bytes: usize,
    /// The body as received.
    pub content: Vec<u8>,
}

impl Resp {
    pub fn pair(self) -> (u16, Value) {
        (self.status, self.body)
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    /// The value of `rapport_session` in `Set-Cookie`.
    pub fn session_cookie(&self) -> Option<String> {
        let set = self.header("set-cookie")?;
        let first = set.split(';').next()?;
        first
            .trim()
            .strip_prefix("rapport_session=")
            .map(str::to_string)
    }
}

/// Asserts an error response: status, stable code and the `{code, message, details}` shape.
#[track_caller]
pub fn assert_error(got: &(u16, Value), status: u16, code: &str) {
    let (s, body) = got;
    assert_eq!(
        (*s, body["code"].as_str()),
        (status, Some(code)),
        "expected {status} {code}, got {s}: {body}"
    );
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "error without message: {body}"
    );
    assert!(
        body["details"].is_object(),
        "error without a details object: {body}"
    );
}

/// The field errors of a 422 `validation_failed`, as (field, code) pairs.
#[track_caller]
pub fn field_errors(got: &(u16, Value)) -> Vec<(String, String)> {
    assert_error(got, 422, "validation_failed");
    got.1["details"]["fields"]
        .as_array()
        .unwrap_or_else(|| panic!("no details.fields: {}", got.1))
        .iter()
        .map(|e| {
            (
                e["field"].as_str().expect("field").to_string(),
                e["code"].as_str().expect("code").to_string(),
            )
        })
        .collect()
}

pub fn pair(field: &str, code: &str) -> (String, String) {
    (field.to_string(), code.to_string())
}
