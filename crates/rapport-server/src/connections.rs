//! The HTTP/1.1 server loop, with limits on what a connection may cost:
//!
//! - **Header timeout** (`header_timeout`, default 20 s): a request's head must arrive within
//!   it, counted from when the server starts waiting for it — right after the connection opens
//!   and after each response on a kept-alive connection. So half-sent headers and idle
//!   connections, fresh or kept alive, are both closed after it (hyper's header read timer).
//! - **Body deadline** (`body_timeout`, default 60 s): a request's whole body must arrive within
//!   it from the request's start; a slower one is answered 408 `request_timeout` and the
//!   connection closed (`DeadlineBody`, a body wrapper: tower-http's body timeout restarts with
//!   every chunk, so a byte every few seconds would pass it).
//! - **Connection caps**: at most `max_connections` open connections in all and
//!   `max_connections_per_client` from one client address (an IPv6 client by its /64; trusted
//!   proxies are exempt: their
//!   connections carry many clients). A connection beyond a cap is closed at once, so one client
//!   cannot take every slot from the others.
//!
//! Shutdown stops accepting, lets in-flight requests finish, closes idle connections and waits
//! for every connection to end.

use crate::error::ApiError;
use crate::AppState;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use ipnet::IpNet;
use rapport_core::ErrorCode;
use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tower::ServiceExt;

/// What one connection and one request may take.
#[derive(Debug, Clone)]
pub struct Limits {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub max_connections: usize,
    pub max_connections_per_client: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(20),
            body_timeout: Duration::from_secs(60),
            max_connections: 4096,
            max_connections_per_client: 256,
        }
    }
}

/// Open connections per client address; a slot gives its place back when dropped.
#[derive(Default)]
struct PerClient(Mutex<HashMap<String, usize>>);

struct ClientSlot {
    table: Arc<PerClient>,
    key: String,
}

impl PerClient {
    fn take(table: &Arc<PerClient>, ip: IpAddr, limit: usize) -> Option<ClientSlot> {
        let key = crate::client::throttle_key(ip);
        // A poisoned table refuses the connection rather than admit it uncounted.
        let mut counts = table.0.lock().ok()?;
        let count = counts.entry(key.clone()).or_default();
        if *count >= limit {
            return None;
        }
        *count += 1;
        Some(ClientSlot {
            table: table.clone(),
            key,
        })
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        if let Ok(mut counts) = self.table.0.lock() {
            if let Some(count) = counts.get_mut(&self.key) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    counts.remove(&self.key);
                }
            }
        }
    }
}

/// A place for a new connection from `peer`, or `None` when a cap is reached.
fn admit(
    open: &Arc<Semaphore>,
    per_client: &Arc<PerClient>,
    peer: IpAddr,
    limits: &Limits,
    trusted: &[IpNet],
) -> Option<(OwnedSemaphorePermit, Option<ClientSlot>)> {
    // No permit left: the connection is refused (that is the limit).
    let permit = open.clone().try_acquire_owned().ok()?;
    if trusted.iter().any(|net| net.contains(&peer)) {
        return Some((permit, None));
    }
    let slot = PerClient::take(per_client, peer, limits.max_connections_per_client)?;
    Some((permit, Some(slot)))
}

/// Serves `app` on `listener` until `shutdown` resolves, within `limits`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    trusted: Vec<IpNet>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let open = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let per_client = Arc::new(PerClient::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    // Every connection holds a receiver; the sender sees them all dropped once they ended.
    let (ended_tx, ended_rx) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors or a connection reset before it was accepted:
                    // keep serving the others.
                    tracing::warn!("accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Some(place) = admit(&open, &per_client, peer.ip(), &limits, &trusted) else {
            tracing::debug!("connection from {peer} refused: connection cap reached");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let mut stop = stop_rx.clone();
        let ended = ended_rx.clone();
        let header_timeout = limits.header_timeout;
        tokio::spawn(async move {
            let _held = (place, ended);
            let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                app.clone().oneshot(request.map(Body::new))
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!("connection from {peer} ended: {e}");
                    }
                }
                () = async { drop(stop.wait_for(|stopping| *stopping).await) } => {
                    connection.as_mut().graceful_shutdown();
                    if let Err(e) = connection.await {
                        tracing::debug!("connection from {peer} ended: {e}");
                    }
                }
            }
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(ended_rx);
    ended_tx.closed().await;
    Ok(())
}

/// A request body that fails once `deadline` passes (and says so in `expired`).
struct DeadlineBody {
    inner: Body,
    deadline: Pin<Box<tokio::time::Sleep>>,
    expired: Arc<AtomicBool>,
}

impl http_body::Body for DeadlineBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        if self.deadline.as_mut().poll(cx).is_ready() {
            self.expired.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(axum::Error::new(
                "the request body did not arrive in time",
            ))));
        }
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Middleware: the request's body must arrive within the body timeout; else 408 and the
/// connection is closed.
pub async fn body_deadline(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let expired = Arc::new(AtomicBool::new(false));
    let timeout = state.config.limits.body_timeout;
    let request = request.map(|inner| {
        Body::new(DeadlineBody {
            inner,
            deadline: Box::pin(tokio::time::sleep(timeout)),
            expired: expired.clone(),
        })
    });
    let response = next.run(request).await;
    if !expired.load(Ordering::Relaxed) {
        return response;
    }
    let mut response = ApiError::new(
        ErrorCode::RequestTimeout,
        format!(
            "the request body must arrive within {} s",
            timeout.as_secs()
        ),
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
