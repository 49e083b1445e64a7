//! The job queue over HTTP, for a workspace's administrators: its queues with counts by state,
//! its jobs (filtered, keyset-paged), one job with every attempt and error, and retry, cancel
//! and discard — each audited. System jobs (no workspace) are never shown here: they are no
//! workspace's business (operators see them through the store, e.g. a future `rapport jobs`).

use crate::auth::audit;
use crate::error::ApiResult;
use crate::extract::{ApiPath, ApiQuery, Ctx};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use rapport_store::jobs::{self, JobDetail, JobFilter, JobPage, JobState, QueueCounts, Scope};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

fn admin_only(ctx: &Ctx) -> ApiResult<()> {
    ctx.require_admin("jobs")
}

fn scope(ctx: &Ctx) -> Scope<'_> {
    Scope::Workspace(&ctx.principal.workspace_id)
}

/// The workspace's queues with their jobs counted by state (admins).
#[utoipa::path(get, path = "/api/v1/jobs/queues", tag = "jobs",
    responses((status = 200, body = [QueueCounts]), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list_queues(
    State(state): State<AppState>,
    ctx: Ctx,
) -> ApiResult<Json<Vec<QueueCounts>>> {
    admin_only(&ctx)?;
    Ok(Json(jobs::queues(&state.store, scope(&ctx)).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct JobListParams {
    /// Only this queue.
    pub queue: Option<String>,
    /// Only jobs in this state.
    pub state: Option<JobState>,
    /// The previous page's `next`.
    pub before: Option<String>,
    /// 1 to 200 (default 50).
    pub limit: Option<usize>,
}

/// The workspace's jobs, newest first (admins).
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", params(JobListParams),
    responses((status = 200, body = JobPage), (status = 400, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody)))]
pub async fn list_jobs(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiQuery(params): ApiQuery<JobListParams>,
) -> ApiResult<Json<JobPage>> {
    admin_only(&ctx)?;
    let filter = JobFilter {
        queue: params.queue,
        state: params.state,
        before: params.before,
        limit: params.limit,
    };
    Ok(Json(jobs::list(&state.store, scope(&ctx), &filter).await?))
}

/// One job with every attempt it made and their errors (admins).
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs", params(("id" = String, Path)),
    responses((status = 200, body = JobDetail), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_job(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<JobDetail>> {
    admin_only(&ctx)?;
    Ok(Json(jobs::get(&state.store, scope(&ctx), &id).await?))
}

async fn audited(state: &AppState, ctx: &Ctx, action: &str, job: &JobDetail) -> ApiResult<()> {
    audit(
        state,
        ctx,
        action,
        Some(job.job.id.clone()),
        "success",
        json!({ "queue": job.job.queue, "kind": job.job.kind, "state": job.job.state }),
    )
    .await
}

/// Runs a failed or dead job again now; a dead one gets one more attempt (admins).
#[utoipa::path(post, path = "/api/v1/jobs/{id}/retry", tag = "jobs", params(("id" = String, Path)),
    responses((status = 200, body = JobDetail), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn retry_job(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<JobDetail>> {
    admin_only(&ctx)?;
    let job = jobs::retry(&state.store, scope(&ctx), &id).await?;
    jobs::wake(&state.store);
    audited(&state, &ctx, "job.retry", &job).await?;
    Ok(Json(job))
}

/// Cancels a pending or failed job; asks a running one to stop (admins).
#[utoipa::path(post, path = "/api/v1/jobs/{id}/cancel", tag = "jobs", params(("id" = String, Path)),
    responses((status = 200, body = JobDetail), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn cancel_job(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<JobDetail>> {
    admin_only(&ctx)?;
    let job = jobs::cancel(&state.store, scope(&ctx), &id).await?;
    audited(&state, &ctx, "job.cancel", &job).await?;
    Ok(Json(job))
}

/// Deletes a dead or cancelled job with its attempts (admins).
#[utoipa::path(delete, path = "/api/v1/jobs/{id}", tag = "jobs", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn discard_job(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    admin_only(&ctx)?;
    let job = jobs::get(&state.store, scope(&ctx), &id).await?;
    jobs::discard(&state.store, scope(&ctx), &id).await?;
    audited(&state, &ctx, "job.discard", &job).await?;
    Ok(StatusCode::NO_CONTENT)
}
