//! Saved view routes: list, create, read, replace and delete the list and kanban views of an
//! object. The store checks each view against the metadata (filter, sort, columns, group-by).

use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, Ctx};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use rapport_store::views::{SavedView, ViewInput};

/// The views of an object you see: your own and the shared ones.
#[utoipa::path(get, path = "/api/v1/objects/{object}/views", tag = "views", params(("object" = String, Path)),
    responses((status = 200, body = [SavedView]), (status = 404, body = crate::error::ErrorBody)))]
pub async fn list_views(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(object): ApiPath<String>,
) -> ApiResult<Json<Vec<SavedView>>> {
    let views = state
        .store
        .views(&ctx.principal, &ctx.schema, &object)
        .await?;
    Ok(Json(views))
}

/// Save a new view (private unless `shared`).
#[utoipa::path(post, path = "/api/v1/objects/{object}/views", tag = "views", params(("object" = String, Path)),
    request_body = ViewInput,
    responses((status = 201, body = SavedView), (status = 400, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_view(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(object): ApiPath<String>,
    ApiJson(body): ApiJson<ViewInput>,
) -> ApiResult<(StatusCode, Json<SavedView>)> {
    let view = state
        .store
        .create_view(&ctx.principal, &ctx.schema, &object, &body)
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Read one view.
#[utoipa::path(get, path = "/api/v1/objects/{object}/views/{id}", tag = "views",
    params(("object" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = SavedView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_view(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath((object, id)): ApiPath<(String, String)>,
) -> ApiResult<Json<SavedView>> {
    let view = state
        .store
        .view(&ctx.principal, &ctx.schema, &object, &id)
        .await?;
    Ok(Json(view))
}

/// Replace a view (its owner, or an administrator for a shared view).
#[utoipa::path(put, path = "/api/v1/objects/{object}/views/{id}", tag = "views",
    params(("object" = String, Path), ("id" = String, Path)), request_body = ViewInput,
    responses((status = 200, body = SavedView), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update_view(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath((object, id)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<ViewInput>,
) -> ApiResult<Json<SavedView>> {
    let view = state
        .store
        .update_view(&ctx.principal, &ctx.schema, &object, &id, &body)
        .await?;
    Ok(Json(view))
}

/// Delete a view (its owner, or an administrator for a shared view).
#[utoipa::path(delete, path = "/api/v1/objects/{object}/views/{id}", tag = "views",
    params(("object" = String, Path), ("id" = String, Path)),
    responses((status = 204), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_view(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath((object, id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_view(&ctx.principal, &ctx.schema, &object, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
