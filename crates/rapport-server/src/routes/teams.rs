//! Sales teams: every user reads them (their lists' "my team's" views, a lead's home page);
//! admins create, replace and delete them, audited.

use crate::auth::audit;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, Ctx};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use rapport_store::teams::{Team, TeamInput};
use serde_json::json;

/// The workspace's teams with their members and leads.
#[utoipa::path(get, path = "/api/v1/teams", tag = "admin", responses((status = 200, body = [Team])))]
pub async fn list(State(state): State<AppState>, ctx: Ctx) -> ApiResult<Json<Vec<Team>>> {
    Ok(Json(state.store.teams(&ctx.principal.workspace_id).await?))
}

/// Create a team (admins).
#[utoipa::path(post, path = "/api/v1/teams", tag = "admin", request_body = TeamInput,
    responses((status = 201, body = Team), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<TeamInput>,
) -> ApiResult<(StatusCode, Json<Team>)> {
    ctx.require_admin("teams")?;
    let team = state
        .store
        .create_team(&ctx.principal.workspace_id, body)
        .await?;
    audited(&state, &ctx, "team.create", &team).await?;
    Ok((StatusCode::CREATED, Json(team)))
}

/// Replace a team's name and members (admins).
#[utoipa::path(put, path = "/api/v1/teams/{id}", tag = "admin", params(("id" = String, Path)), request_body = TeamInput,
    responses((status = 200, body = Team), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn replace(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<TeamInput>,
) -> ApiResult<Json<Team>> {
    ctx.require_admin("teams")?;
    let team = state
        .store
        .replace_team(&ctx.principal.workspace_id, &id, body)
        .await?;
    audited(&state, &ctx, "team.update", &team).await?;
    Ok(Json(team))
}

/// Delete a team (admins); its members' records are untouched.
#[utoipa::path(delete, path = "/api/v1/teams/{id}", tag = "admin", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    ctx.require_admin("teams")?;
    let ws = &ctx.principal.workspace_id;
    let team = state.store.team(ws, &id).await?;
    state.store.delete_team(ws, &id).await?;
    audited(&state, &ctx, "team.delete", &team).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn audited(state: &AppState, ctx: &Ctx, action: &str, team: &Team) -> ApiResult<()> {
    audit(
        state,
        ctx,
        action,
        Some(team.id.clone()),
        "success",
        json!({"name": team.name, "members": team.members.len()}),
    )
    .await
}
