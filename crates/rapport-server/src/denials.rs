//! The one place a permission denial is audited: every 403 answered to a caller whose
//! credentials were accepted becomes one audit entry — action `permission_denied`, outcome
//! `denied`, the refused thing as target (an object, `metadata`, `users`, `cdp.sources`, …;
//! the route when the error names none) and the method, route, code and message in the
//! details — whichever handler, extractor or store check refused. Handlers never audit a
//! denial themselves. A 403 `cross_site_request` is answered before the caller is known and
//! is not in a workspace's log.

use crate::error::Denial;
use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use rapport_store::audit::AuditEvent;
use serde_json::json;
use std::sync::{Arc, OnceLock};

/// Who is asking, filled in by the `Ctx` extractor once the credentials are accepted.
#[derive(Debug, Clone, Default)]
pub struct Caller(Arc<OnceLock<CallerInfo>>);

#[derive(Debug, Clone)]
pub struct CallerInfo {
    pub workspace_id: String,
    pub user_id: String,
    pub ip: Option<String>,
    pub request_id: String,
}

impl Caller {
    pub fn identify(&self, info: CallerInfo) {
        // A second extraction of `Ctx` in one request names the same caller.
        let _ = self.0.set(info);
    }
}

/// Middleware on every route: audits the 403 a known caller gets.
pub async fn audit(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let caller = Caller::default();
    request.extensions_mut().insert(caller.clone());
    let route = format!(
        "{} {}",
        request.method(),
        request
            .extensions()
            .get::<MatchedPath>()
            .map_or("unmatched", |m| m.as_str())
    );
    let response = next.run(request).await;
    if response.status() != StatusCode::FORBIDDEN {
        return response;
    }
    let Some(who) = caller.0.get() else {
        return response;
    };
    let denial = response.extensions().get::<Denial>();
    let event = AuditEvent {
        workspace_id: Some(who.workspace_id.clone()),
        actor_id: Some(who.user_id.clone()),
        action: "permission_denied".into(),
        target: Some(
            denial
                .and_then(|d| d.target.clone())
                .unwrap_or_else(|| route.clone()),
        ),
        outcome: "denied",
        details: json!({
            "route": route,
            "code": denial.map(|d| d.code.as_str()),
            "message": denial.map(|d| d.message.as_str()),
        }),
        ip: who.ip.clone(),
        request_id: Some(who.request_id.clone()),
    };
    if let Err(e) = state.store.audit(event).await {
        // The refusal stands; only its record is missing, which the operators must know.
        tracing::error!("could not audit a permission denial ({route}): {e}");
    }
    response
}
