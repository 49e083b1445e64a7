//! Operational routes: health, Prometheus metrics, the OpenAPI document, global search, and
//! the JSON 404 for unknown paths.

use crate::auth::digest;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiQuery, Ctx};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::IntoResponse;
use axum::Json;
use rapport_core::ErrorCode;
use rapport_store::records::SearchHit;
use serde::Deserialize;
use serde_json::{json, Value};

/// Liveness and database reachability.
#[utoipa::path(get, path = "/healthz", tag = "system", security(()), responses((status = 200, body = Object), (status = 503, body = crate::error::ErrorBody)))]
pub async fn healthz(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    state
        .store
        .db
        .fetch_optional("SELECT 1", &[], &[rapport_core::sql::ColumnKind::Int])
        .await
        .map_err(|e| {
            tracing::warn!("health check failed: {e}");
            ApiError::new(
                ErrorCode::DatabaseUnavailable,
                "the database does not answer",
            )
        })?;
    Ok(Json(
        json!({ "status": "ok", "database": format!("{:?}", state.store.db.dialect()).to_lowercase() }),
    ))
}

/// Prometheus metrics in the text exposition format. Off unless the server has a metrics
/// token (`RAPPORT_METRICS_TOKEN`); then scrapers send it as `Authorization: Bearer <token>`.
#[utoipa::path(get, path = "/metrics", tag = "system", security(("metrics_token" = [])), responses((status = 200, content_type = "text/plain", body = String),
    (status = 401, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<impl IntoResponse> {
    let Some(expected) = &state.config.metrics_token else {
        return Err(ApiError::not_found("route"));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    // Digests are compared, so the comparison's time says nothing about the token.
    if given.map(digest) != Some(digest(expected)) {
        return Err(ApiError::unauthorized());
    }
    state.workers.publish();
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        rapport_store::metrics::render(state.store.metrics()),
    ))
}

/// This API's OpenAPI 3 document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "system", security(()), responses((status = 200, body = Object)))]
pub async fn openapi() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi::document(),
    )
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    pub q: String,
    /// Hits per object (default 5, at most 50).
    pub limit: Option<usize>,
}

/// Search names, emails and phones across every object you may read.
#[utoipa::path(get, path = "/api/v1/search", tag = "records", params(SearchParams), responses((status = 200, body = [SearchHit])))]
pub async fn search(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> ApiResult<Json<Vec<SearchHit>>> {
    if params.q.chars().count() > 200 {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            "search text is at most 200 characters",
        ));
    }
    Ok(Json(
        state
            .store
            .search(
                &ctx.principal,
                &ctx.schema,
                &params.q,
                params.limit.unwrap_or(5),
            )
            .await?,
    ))
}

pub async fn not_found() -> ApiError {
    ApiError::not_found("route")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        "this path does not take that method",
    )
}
