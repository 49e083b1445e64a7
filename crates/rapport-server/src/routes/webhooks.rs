//! Outbound webhook endpoints and their delivery log (admins): create, change, delete, rotate
//! the signing secret, see each message with its attempts, send one again, and the health map
//! of every destination. Changes are audited.

use crate::auth::audit;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Ctx};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use rapport_integrations::webhooks::health::IntegrationHealth;
use rapport_integrations::webhooks::{self, Delivery, Endpoint, EndpointInput, EndpointSecret};
use serde::Deserialize;
use serde_json::json;

/// An endpoint as created: with its signing secret, shown this once in the answer.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct CreatedEndpoint {
    #[serde(flatten)]
    pub endpoint: Endpoint,
    pub secret: String,
}

#[utoipa::path(get, path = "/api/v1/webhooks", tag = "integrations", responses((status = 200, body = [Endpoint])))]
pub async fn list(State(state): State<AppState>, ctx: Ctx) -> ApiResult<Json<Vec<Endpoint>>> {
    ctx.require_admin("webhooks")?;
    Ok(Json(
        webhooks::list(&state.store, &ctx.principal.workspace_id).await?,
    ))
}

/// Create an endpoint; the answer carries its signing secret (`whsec_…`).
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "integrations", request_body = EndpointInput,
    responses((status = 201, body = CreatedEndpoint), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<EndpointInput>,
) -> ApiResult<(StatusCode, Json<CreatedEndpoint>)> {
    ctx.require_admin("webhooks")?;
    let (endpoint, secret) =
        webhooks::create(&state.store, &ctx.principal.workspace_id, body).await?;
    audited(&state, &ctx, "webhook.create", &endpoint).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedEndpoint {
            endpoint,
            secret: secret.secret,
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "integrations", params(("id" = String, Path)),
    responses((status = 200, body = Endpoint), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Endpoint>> {
    ctx.require_admin("webhooks")?;
    Ok(Json(
        webhooks::get(&state.store, &ctx.principal.workspace_id, &id).await?,
    ))
}

/// Replace an endpoint's URL, topics, objects, description and whether it is enabled.
#[utoipa::path(put, path = "/api/v1/webhooks/{id}", tag = "integrations", params(("id" = String, Path)), request_body = EndpointInput,
    responses((status = 200, body = Endpoint), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn replace(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<EndpointInput>,
) -> ApiResult<Json<Endpoint>> {
    ctx.require_admin("webhooks")?;
    let endpoint = webhooks::update(&state.store, &ctx.principal.workspace_id, &id, body).await?;
    audited(&state, &ctx, "webhook.update", &endpoint).await?;
    Ok(Json(endpoint))
}

#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "integrations", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    ctx.require_admin("webhooks")?;
    let ws = &ctx.principal.workspace_id;
    let endpoint = webhooks::get(&state.store, ws, &id).await?;
    webhooks::delete(&state.store, ws, &id).await?;
    audited(&state, &ctx, "webhook.delete", &endpoint).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The endpoint's signing secret.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/secret", tag = "integrations", params(("id" = String, Path)),
    responses((status = 200, body = EndpointSecret), (status = 404, body = crate::error::ErrorBody)))]
pub async fn secret(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<EndpointSecret>> {
    ctx.require_admin("webhooks")?;
    Ok(Json(
        webhooks::secret(&state.store, &ctx.principal.workspace_id, &id).await?,
    ))
}

/// A new signing secret; for 24 hours messages are signed with the old one too.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/rotate-secret", tag = "integrations", params(("id" = String, Path)),
    responses((status = 200, body = EndpointSecret), (status = 404, body = crate::error::ErrorBody)))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<EndpointSecret>> {
    ctx.require_admin("webhooks")?;
    let ws = &ctx.principal.workspace_id;
    let secret = webhooks::rotate_secret(&state.store, ws, &id).await?;
    let endpoint = webhooks::get(&state.store, ws, &id).await?;
    audited(&state, &ctx, "webhook.rotate_secret", &endpoint).await?;
    Ok(Json(secret))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HealthParams {
    /// The window the rates and latencies are taken over, in minutes (1–1440, default 60).
    pub window_minutes: Option<i64>,
}

/// The integration health map: every destination with its delivered messages per minute,
/// p50/p95 latency and failure rate over the window, its breaker, what waits for it and its
/// last error.
#[utoipa::path(get, path = "/api/v1/webhooks/health", tag = "integrations", params(HealthParams),
    responses((status = 200, body = IntegrationHealth)))]
pub async fn health(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiQuery(params): ApiQuery<HealthParams>,
) -> ApiResult<Json<IntegrationHealth>> {
    ctx.require_admin("webhooks")?;
    Ok(Json(
        webhooks::health::health(
            &state.store,
            &ctx.principal.workspace_id,
            params.window_minutes.unwrap_or(60),
        )
        .await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveryParams {
    /// At most this many messages, newest first (1–200, default 50).
    pub limit: Option<usize>,
}

/// The endpoint's latest messages with every attempt (status, first KB of the answer, latency).
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "integrations",
    params(("id" = String, Path), DeliveryParams),
    responses((status = 200, body = [Delivery]), (status = 404, body = crate::error::ErrorBody)))]
pub async fn deliveries(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
    ApiQuery(params): ApiQuery<DeliveryParams>,
) -> ApiResult<Json<Vec<Delivery>>> {
    ctx.require_admin("webhooks")?;
    Ok(Json(
        webhooks::deliveries(
            &state.store,
            &ctx.principal.workspace_id,
            &id,
            params.limit.unwrap_or(50),
        )
        .await?,
    ))
}

/// Send one message again, with the same `webhook-id`.
#[utoipa::path(post, path = "/api/v1/webhooks/deliveries/{id}/resend", tag = "integrations", params(("id" = String, Path)),
    responses((status = 202), (status = 404, body = crate::error::ErrorBody)))]
pub async fn resend(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    ctx.require_admin("webhooks")?;
    webhooks::resend(&state.store, &ctx.principal.workspace_id, &id).await?;
    audit(
        &state,
        &ctx,
        "webhook.resend",
        Some(id),
        "success",
        json!({}),
    )
    .await?;
    Ok(StatusCode::ACCEPTED)
}

/// A time range of an endpoint's messages to send again.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResendRange {
    pub since: chrono::DateTime<chrono::Utc>,
    pub until: chrono::DateTime<chrono::Utc>,
}

/// How many messages were queued again.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Resent {
    pub queued: usize,
}

/// Send again every message of the endpoint made in `[since, until)` (at most 10,000).
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/resend", tag = "integrations", params(("id" = String, Path)), request_body = ResendRange,
    responses((status = 202, body = Resent), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn resend_range(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ResendRange>,
) -> ApiResult<(StatusCode, Json<Resent>)> {
    ctx.require_admin("webhooks")?;
    let ws = &ctx.principal.workspace_id;
    let queued = webhooks::resend_range(&state.store, ws, &id, body.since, body.until).await?;
    audit(
        &state,
        &ctx,
        "webhook.resend",
        Some(id),
        "success",
        json!({"since": body.since, "until": body.until, "queued": queued}),
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(Resent { queued })))
}

async fn audited(state: &AppState, ctx: &Ctx, action: &str, endpoint: &Endpoint) -> ApiResult<()> {
    audit(
        state,
        ctx,
        action,
        Some(endpoint.id.clone()),
        "success",
        json!({"url": endpoint.url, "topics": endpoint.topics}),
    )
    .await
}
