//! The semantic dictionary (admins): value mappings between a field's values and an outside
//! system's codes, with the values met in traffic that had none; and a translation endpoint
//! (what a connector or an inbound webhook would get). Changes are audited.

use crate::auth::audit;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, Ctx};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use rapport_integrations::dictionary::{self, Direction, ValueMap, ValueMapInput};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[utoipa::path(get, path = "/api/v1/dictionary", tag = "integrations", responses((status = 200, body = [ValueMap])))]
pub async fn list(State(state): State<AppState>, ctx: Ctx) -> ApiResult<Json<Vec<ValueMap>>> {
    ctx.require_admin("dictionary")?;
    Ok(Json(
        dictionary::list(&state.store, &ctx.principal.workspace_id).await?,
    ))
}

/// Map a field's values to an outside system's codes (one-to-one both ways).
#[utoipa::path(post, path = "/api/v1/dictionary", tag = "integrations", request_body = ValueMapInput,
    responses((status = 201, body = ValueMap), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<ValueMapInput>,
) -> ApiResult<(StatusCode, Json<ValueMap>)> {
    ctx.require_admin("dictionary")?;
    let map = dictionary::create(&state.store, &ctx.principal.workspace_id, body).await?;
    audited(&state, &ctx, "dictionary.create", &map).await?;
    Ok((StatusCode::CREATED, Json(map)))
}

#[utoipa::path(get, path = "/api/v1/dictionary/{id}", tag = "integrations", params(("id" = String, Path)),
    responses((status = 200, body = ValueMap), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ValueMap>> {
    ctx.require_admin("dictionary")?;
    Ok(Json(
        dictionary::get(&state.store, &ctx.principal.workspace_id, &id).await?,
    ))
}

/// Replace a mapping's entries and description (its system, object and field stay).
#[utoipa::path(put, path = "/api/v1/dictionary/{id}", tag = "integrations", params(("id" = String, Path)), request_body = ValueMapInput,
    responses((status = 200, body = ValueMap), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn replace(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ValueMapInput>,
) -> ApiResult<Json<ValueMap>> {
    ctx.require_admin("dictionary")?;
    let map = dictionary::update(&state.store, &ctx.principal.workspace_id, &id, body).await?;
    audited(&state, &ctx, "dictionary.update", &map).await?;
    Ok(Json(map))
}

#[utoipa::path(delete, path = "/api/v1/dictionary/{id}", tag = "integrations", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    ctx.require_admin("dictionary")?;
    let ws = &ctx.principal.workspace_id;
    let map = dictionary::get(&state.store, ws, &id).await?;
    dictionary::delete(&state.store, ws, &id).await?;
    audited(&state, &ctx, "dictionary.delete", &map).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A value to translate.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TranslateRequest {
    pub direction: Direction,
    pub value: String,
}

/// The translation.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Translated {
    pub value: String,
}

/// Translate one value through a mapping, as a connector or an inbound webhook would; a value
/// without a mapping is refused (`unmapped_value`) and recorded.
#[utoipa::path(post, path = "/api/v1/dictionary/{id}/translate", tag = "integrations", params(("id" = String, Path)), request_body = TranslateRequest,
    responses((status = 200, body = Translated), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn translate(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<TranslateRequest>,
) -> ApiResult<Json<Translated>> {
    ctx.require_admin("dictionary")?;
    let value = dictionary::translate(
        &state.store,
        &ctx.principal.workspace_id,
        &id,
        body.direction,
        &body.value,
        "translation API",
    )
    .await?;
    Ok(Json(Translated { value }))
}

async fn audited(state: &AppState, ctx: &Ctx, action: &str, map: &ValueMap) -> ApiResult<()> {
    audit(
        state,
        ctx,
        action,
        Some(map.id.clone()),
        "success",
        json!({"system": map.system, "object": map.object, "field": map.field, "entries": map.entries.len()}),
    )
    .await
}
