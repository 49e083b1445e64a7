//! Inbound webhooks: the hooks (admins: create with a secret shown once, change, delete,
//! rotate the secret, the log of requests) and the public endpoint senders post to,
//! authenticated by the hook's own secret, not a session or token. Changes are audited.

use crate::auth::audit;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Ctx};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use rapport_integrations::inbound::receive::{self, InboundDelivery, Incoming, Received};
use rapport_integrations::inbound::{self, Hook, HookInput, HookSecret};
use serde::Deserialize;
use serde_json::json;

/// A hook as created: with its secret, shown this once.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct CreatedHook {
    #[serde(flatten)]
    pub hook: Hook,
    pub secret: String,
}

#[utoipa::path(get, path = "/api/v1/inbound-hooks", tag = "integrations", responses((status = 200, body = [Hook])))]
pub async fn list(State(state): State<AppState>, ctx: Ctx) -> ApiResult<Json<Vec<Hook>>> {
    ctx.require_admin("inbound_hooks")?;
    Ok(Json(
        inbound::list(&state.store, &ctx.principal.workspace_id).await?,
    ))
}

/// Create an inbound hook; the answer carries its secret (`whsec_…` or `rtok_…`).
#[utoipa::path(post, path = "/api/v1/inbound-hooks", tag = "integrations", request_body = HookInput,
    responses((status = 201, body = CreatedHook), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<HookInput>,
) -> ApiResult<(StatusCode, Json<CreatedHook>)> {
    ctx.require_admin("inbound_hooks")?;
    let (hook, secret) = inbound::create(&state.store, &ctx.principal.workspace_id, body).await?;
    audited(&state, &ctx, "inbound_hook.create", &hook).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedHook {
            hook,
            secret: secret.secret,
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/inbound-hooks/{id}", tag = "integrations", params(("id" = String, Path)),
    responses((status = 200, body = Hook), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Hook>> {
    ctx.require_admin("inbound_hooks")?;
    Ok(Json(
        inbound::get(&state.store, &ctx.principal.workspace_id, &id).await?,
    ))
}

/// Replace a hook's name, object, match field, mapping and whether it is enabled.
#[utoipa::path(put, path = "/api/v1/inbound-hooks/{id}", tag = "integrations", params(("id" = String, Path)), request_body = HookInput,
    responses((status = 200, body = Hook), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn replace(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<HookInput>,
) -> ApiResult<Json<Hook>> {
    ctx.require_admin("inbound_hooks")?;
    let hook = inbound::update(&state.store, &ctx.principal.workspace_id, &id, body).await?;
    audited(&state, &ctx, "inbound_hook.update", &hook).await?;
    Ok(Json(hook))
}

#[utoipa::path(delete, path = "/api/v1/inbound-hooks/{id}", tag = "integrations", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    ctx.require_admin("inbound_hooks")?;
    let ws = &ctx.principal.workspace_id;
    let hook = inbound::get(&state.store, ws, &id).await?;
    inbound::delete(&state.store, ws, &id).await?;
    audited(&state, &ctx, "inbound_hook.delete", &hook).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new secret for the hook; the old one stops working at once.
#[utoipa::path(post, path = "/api/v1/inbound-hooks/{id}/rotate-secret", tag = "integrations", params(("id" = String, Path)),
    responses((status = 200, body = HookSecret), (status = 404, body = crate::error::ErrorBody)))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<HookSecret>> {
    ctx.require_admin("inbound_hooks")?;
    let ws = &ctx.principal.workspace_id;
    let secret = inbound::rotate_secret(&state.store, ws, &id).await?;
    let hook = inbound::get(&state.store, ws, &id).await?;
    audited(&state, &ctx, "inbound_hook.rotate_secret", &hook).await?;
    Ok(Json(secret))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveryParams {
    /// At most this many requests, newest first (1–200, default 50).
    pub limit: Option<i64>,
}

/// The hook's latest requests: accepted with the records written, or rejected with the code
/// and the payload as received.
#[utoipa::path(get, path = "/api/v1/inbound-hooks/{id}/deliveries", tag = "integrations",
    params(("id" = String, Path), DeliveryParams),
    responses((status = 200, body = [InboundDelivery]), (status = 404, body = crate::error::ErrorBody)))]
pub async fn deliveries(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
    ApiQuery(params): ApiQuery<DeliveryParams>,
) -> ApiResult<Json<Vec<InboundDelivery>>> {
    ctx.require_admin("inbound_hooks")?;
    Ok(Json(
        receive::deliveries(
            &state.store,
            &ctx.principal.workspace_id,
            &id,
            params.limit.unwrap_or(50),
        )
        .await?,
    ))
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Where an outside system posts its changes: a JSON object or an array of up to 100, signed
/// as Standard Webhooks says under the hook's secret (or with `Authorization: Bearer` for a
/// token hook). Each item becomes a record created or updated (found by the hook's match
/// field); all or nothing. A `webhook-id` accepted before is answered again without writing.
#[utoipa::path(post, path = "/api/v1/hooks/{id}", tag = "integrations", security(()), params(("id" = String, Path)),
    request_body(content = Object, content_type = "application/json"),
    responses((status = 200, body = Received), (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn receive(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Received>> {
    let incoming = Incoming {
        webhook_id: header(&headers, "webhook-id"),
        webhook_timestamp: header(&headers, "webhook-timestamp"),
        webhook_signature: header(&headers, "webhook-signature"),
        authorization: header(&headers, "authorization"),
        body: body.to_vec(),
    };
    Ok(Json(receive::receive(&state.store, &id, incoming).await?))
}

async fn audited(state: &AppState, ctx: &Ctx, action: &str, hook: &Hook) -> ApiResult<()> {
    audit(
        state,
        ctx,
        action,
        Some(hook.id.clone()),
        "success",
        json!({"name": hook.name, "object": hook.object, "auth": hook.auth}),
    )
    .await
}
