//! Rapport's HTTP API: the axum router over the store, authentication, errors with stable
//! codes, the OpenAPI document, health and Prometheus metrics. Handlers are thin: they
//! authenticate, parse, call one store service and shape the JSON.

pub mod auth;
pub mod client;
pub mod connections;
pub mod csrf;
pub mod denials;
pub mod error;
pub mod extract;
pub mod headers;
pub mod metrics;
pub mod openapi;
pub mod passwords;
mod principal_cache;
mod records_json;
pub mod routes;
mod web;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use extract::RequestId;
use rapport_store::jobs::Runner;
use rapport_store::worker::Supervisor;
use rapport_store::Store;
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The largest request body accepted, in bytes (413 beyond).
    pub max_body_bytes: usize,
    pub session_ttl_hours: i64,
    /// Always mark the session cookie `Secure` (it is also marked when a proxy says the request
    /// came over HTTPS).
    pub secure_cookies: bool,
    /// Proxies whose `X-Forwarded-For` names the client (see `client`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Argon2 computations at once (see `passwords`); by default the number of cores.
    pub hash_concurrency: usize,
    /// Timeouts and connection caps (see `connections`).
    pub limits: connections::Limits,
    /// The bearer token `/metrics` requires; without one, `/metrics` is off (404).
    pub metrics_token: Option<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 8 * 1024 * 1024,
            session_ttl_hours: 24 * 14,
            secure_cookies: false,
            trusted_proxies: Vec::new(),
            hash_concurrency: std::thread::available_parallelism().map_or(2, |n| n.get()),
            limits: connections::Limits::default(),
            metrics_token: None,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// The customer data platform: ingestion, identity graph, registry, health.
    pub cdp: Arc<rapport_cdp::Cdp>,
    pub config: Arc<ServerConfig>,
    pub metrics: Arc<metrics::Metrics>,
    pub principals: Arc<principal_cache::PrincipalCache>,
    /// The node's background workers, when it runs them (`run_workers`).
    pub workers: Arc<Supervisor>,
    /// Password hashing within bounded memory.
    pub passwords: passwords::Hasher,
}

impl AppState {
    /// What a node that answers HTTP needs (ingestion's group commit included); background
    /// work starts with [`AppState::run_workers`].
    pub fn new(store: Store, config: ServerConfig) -> Self {
        Self {
            cdp: rapport_cdp::Cdp::start(store.clone()),
            passwords: passwords::Hasher::new(config.hash_concurrency),
            config: Arc::new(config),
            metrics: Arc::new(metrics::Metrics::new(store.metrics())),
            principals: Arc::new(principal_cache::PrincipalCache::default()),
            workers: Arc::new(Supervisor::new(store.metrics())),
            store,
        }
    }

    /// Starts every background worker on this node (a node of role `all` or `worker`).
    pub fn run_workers(&self) {
        for worker in rapport_cdp::workers::workers(&self.cdp) {
            self.workers.spawn(worker);
        }
        self.workers.spawn(Arc::new(rapport_store::files::FilePurge(
            self.store.clone(),
        )));
        let webhooks = Arc::new(rapport_integrations::webhooks::deliver::Node::new(
            self.store.metrics(),
        ));
        for worker in rapport_integrations::workers::workers(&self.store, webhooks.clone()) {
            self.workers.spawn(worker);
        }
        let connector_metrics = Arc::new(rapport_integrations::connectors::health::Metrics::new(
            self.store.metrics(),
        ));
        // The job runner: it reaps the leases of dead nodes and prunes finished jobs, and runs
        // the queues and handlers of feature crates (webhook deliveries, connector sends).
        let runner = Arc::new(
            Runner::new(self.store.clone(), node_name())
                .queue(rapport_integrations::webhooks::deliver::queue(8))
                .handle(
                    rapport_integrations::webhooks::deliver::DELIVER,
                    move |ctx| rapport_integrations::webhooks::deliver::run(ctx, webhooks.clone()),
                )
                .queue(rapport_integrations::connectors::send::queue(4))
                .handle(rapport_integrations::connectors::send::SEND, move |ctx| {
                    rapport_integrations::connectors::send::run(ctx, connector_metrics.clone())
                }),
        );
        self.workers.spawn_service("jobs", move |stop| {
            let runner = runner.clone();
            Box::pin(async move { runner.run(stop).await })
        });
    }
}

/// This node's name in job attempts: host and process id.
fn node_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        // No name to be had: the process id alone still tells this node's attempts apart.
        .unwrap_or_else(|| "node".to_string());
    format!("{host}:{}", std::process::id())
}

fn sane_request_id(value: &HeaderValue) -> Option<String> {
    // A request id that is not visible ASCII is replaced by ours.
    let text = value.to_str().ok()?;
    let ok = !text.is_empty()
        && text.len() <= 64
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    ok.then(|| text.to_string())
}

/// Gives every request an id, echoed as `X-Request-Id` (the caller's when it is sane).
async fn assign_request_id(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(sane_request_id)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    request.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// Counts a routed request in the metrics, by route template.
async fn count(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let method = request.method().to_string();
    let response = next.run(request).await;
    state.metrics.observe(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

pub fn router(state: AppState) -> Router {
    let max_body = state.config.max_body_bytes;
    let app = routes::routes()
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            denials::audit,
        ))
        .route_layer(middleware::from_fn_with_state(state.clone(), count))
        .fallback(web::fallback)
        .method_not_allowed_fallback(routes::system::method_not_allowed)
        .layer(middleware::from_fn(csrf::check))
        .layer(middleware::from_fn(assign_request_id))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            connections::body_deadline,
        ))
        .layer(compression());
    headers::with_security_headers(app).with_state(state)
}

/// Answers of 1 KiB or more (JSON, metrics) compressed with brotli or gzip as the client
/// accepts: a page of deals with its companies and contacts is 108 KB as JSON and 13 KB
/// gzipped. The web app's files come precompressed (`web`) and are left as they are, as are
/// images and event streams, and CSV downloads: the streamed snapshot export stalled after its
/// first chunk once compressed (seen by the conformance fuzz), so downloads go as they are.
fn compression() -> tower_http::compression::CompressionLayer<
    tower_http::compression::predicate::And<
        tower_http::compression::predicate::And<
            tower_http::compression::DefaultPredicate,
            tower_http::compression::predicate::SizeAbove,
        >,
        tower_http::compression::predicate::NotForContentType,
    >,
> {
    use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
    tower_http::compression::CompressionLayer::new().compress_when(
        tower_http::compression::DefaultPredicate::new()
            .and(SizeAbove::new(1024))
            .and(NotForContentType::const_new("text/csv")),
    )
}

/// Serves only `/healthz` and `/metrics` on `listener` until `shutdown` resolves: what a node
/// of role `worker` (no API) answers, for its orchestrator and Prometheus.
pub async fn serve_operations(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.config.limits.clone();
    let trusted = state.config.trusted_proxies.clone();
    let app = Router::new()
        .route("/healthz", axum::routing::get(routes::system::healthz))
        .route("/metrics", axum::routing::get(routes::system::metrics));
    let app = headers::with_security_headers(app).with_state(state);
    connections::serve(listener, app, limits, trusted, shutdown).await
}

/// Serves the API on `listener` until `shutdown` resolves, within the configured timeouts
/// and connection caps.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.config.limits.clone();
    let trusted = state.config.trusted_proxies.clone();
    connections::serve(listener, router(state), limits, trusted, shutdown).await
}
