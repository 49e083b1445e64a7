//! Segment snapshots over HTTP: take (freeze a segment's members), list, read, page the
//! members, export them as CSV (streamed, with a BOM for Excel), compare two snapshots, and
//! push them to a webhook endpoint through the integration hub (`segment.snapshot` messages,
//! signed, retried and logged as every webhook message is). Reading follows the caller's
//! permission to read contacts; taking and pushing are for administrators, and those actions
//! (and exports) are audited.

use crate::auth::audit;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Ctx};
use crate::routes::cdp::require_contact_read;
use crate::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rapport_cdp::segments::snapshots::{self, CsvExport, Diff, PushReport, Snapshot, SnapshotPage};
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Campaign audience"}))]
pub struct TakeSnapshot {
    /// 1–200 characters (trimmed).
    pub name: String,
}

/// Freezes the segment's current members (the segment must be live).
#[utoipa::path(post, path = "/api/v1/cdp/segments/{id}/snapshots", tag = "segments",
    params(("id" = String, Path)), request_body = TakeSnapshot,
    responses((status = 201, body = Snapshot), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn take_snapshot(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<TakeSnapshot>,
) -> ApiResult<(StatusCode, Json<Snapshot>)> {
    ctx.require_admin("cdp.snapshot.take")?;
    let snapshot = snapshots::take(
        &state.store,
        &ctx.principal.workspace_id,
        &id,
        &input.name,
        Some(&ctx.principal.user_id),
    )
    .await?;
    audit(
        &state,
        &ctx,
        "cdp.snapshot.take",
        Some(snapshot.id.clone()),
        "success",
        json!({"segment_id": id, "name": snapshot.name, "version": snapshot.version,
               "member_count": snapshot.member_count}),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(snapshot)))
}

/// The segment's snapshots, newest first.
#[utoipa::path(get, path = "/api/v1/cdp/segments/{id}/snapshots", tag = "segments",
    params(("id" = String, Path)),
    responses((status = 200, body = [Snapshot]), (status = 404, body = crate::error::ErrorBody)))]
pub async fn list_snapshots(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Vec<Snapshot>>> {
    require_contact_read(&ctx)?;
    Ok(Json(
        snapshots::list(&state.store, &ctx.principal.workspace_id, &id).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/cdp/snapshots/{id}", tag = "segments",
    params(("id" = String, Path)),
    responses((status = 200, body = Snapshot), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_snapshot(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Snapshot>> {
    require_contact_read(&ctx)?;
    Ok(Json(
        snapshots::get(&state.store, &ctx.principal.workspace_id, &id).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MembersQuery {
    /// Members per page, 1–1000 (default 100).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The frozen members, in profile id order.
#[utoipa::path(get, path = "/api/v1/cdp/snapshots/{id}/members", tag = "segments",
    params(("id" = String, Path), MembersQuery),
    responses((status = 200, body = SnapshotPage), (status = 404, body = crate::error::ErrorBody)))]
pub async fn snapshot_members(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<MembersQuery>,
) -> ApiResult<Json<SnapshotPage>> {
    require_contact_read(&ctx)?;
    Ok(Json(
        snapshots::members(
            &state.store,
            &ctx.principal.workspace_id,
            &id,
            q.limit,
            q.cursor.as_deref(),
        )
        .await?,
    ))
}

/// The members as CSV (UTF-8 with a BOM, CRLF line ends): `profile_id, contact_id, user_id,
/// email, phone, entered_at` (RFC 3339, UTC). Cells a spreadsheet would read as a formula
/// start with `'`. Audited as an export.
#[utoipa::path(get, path = "/api/v1/cdp/snapshots/{id}/members.csv", tag = "segments",
    params(("id" = String, Path)),
    responses((status = 200, content_type = "text/csv", body = String),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn snapshot_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    require_contact_read(&ctx)?;
    let ws = &ctx.principal.workspace_id;
    let snapshot = snapshots::get(&state.store, ws, &id).await?;
    let export = snapshots::csv_export(&state.store, ws, &id).await?;
    audit(
        &state,
        &ctx,
        "cdp.snapshot.export",
        Some(id.clone()),
        "success",
        json!({"rows": snapshot.member_count}),
    )
    .await?;
    let disposition = format!(
        "attachment; filename=\"snapshot-{id}.csv\"; filename*=UTF-8''{}.csv",
        crate::headers::percent_encode(&snapshot.name)
    );
    // The BOM first, then the file chunk by chunk; a failure half-way ends the download early
    // (the status line is already sent), and is logged.
    let stream = futures_util::stream::unfold(
        (Some(export), false),
        |(export, bom_sent): (Option<CsvExport>, bool)| async move {
            let mut export = export?;
            if !bom_sent {
                return Some((Ok(String::from("\u{feff}")), (Some(export), true)));
            }
            match export.next_chunk().await {
                Ok(Some(chunk)) => Some((Ok(chunk), (Some(export), true))),
                Ok(None) => None,
                Err(e) => {
                    tracing::error!("snapshot CSV export failed: {e}");
                    Some((Err(std::io::Error::other(e.to_string())), (None, true)))
                }
            }
        },
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    /// The outbound webhook endpoint to push to (enabled; it needs no subscription to
    /// `segment.snapshot`).
    pub endpoint_id: String,
}

/// Queues the members for the endpoint as `segment.snapshot` messages of up to 1,000 members
/// (`data: {snapshot, batch, batches, members}`), signed as Standard Webhooks says, delivered
/// at least once with retries behind the endpoint's breaker, and listed in its delivery log.
/// Receivers de-duplicate on `webhook-id` or on `(snapshot.id, batch)`.
#[utoipa::path(post, path = "/api/v1/cdp/snapshots/{id}/push", tag = "segments",
    params(("id" = String, Path)), request_body = PushRequest,
    responses((status = 202, body = PushReport), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn push_snapshot(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<PushRequest>,
) -> ApiResult<(StatusCode, Json<PushReport>)> {
    ctx.require_admin("cdp.snapshot.push")?;
    let ws = &ctx.principal.workspace_id;
    let endpoint =
        rapport_integrations::webhooks::get(&state.store, ws, &input.endpoint_id).await?;
    let (batches, members) = snapshots::push_batches(&state.store, ws, &id).await?;
    let count = u32::try_from(batches.len()).unwrap_or(u32::MAX);
    let messages = rapport_integrations::webhooks::direct::send(
        &state.store,
        ws,
        &endpoint.id,
        "segment.snapshot",
        batches,
    )
    .await?;
    audit(
        &state,
        &ctx,
        "cdp.snapshot.push",
        Some(id),
        "success",
        json!({"endpoint_id": endpoint.id, "url": endpoint.url, "members": members, "batches": count}),
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(PushReport {
            endpoint_id: endpoint.id,
            messages,
            members,
            batches: count,
        }),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DiffQuery {
    /// Members in each sample, 0–1000 (default 100).
    pub limit: Option<i64>,
}

/// How snapshot `other` differs from snapshot `id` (both of one segment): `joined` are in
/// `other` only, `left` in `id` only.
#[utoipa::path(get, path = "/api/v1/cdp/snapshots/{id}/diff/{other}", tag = "segments",
    params(("id" = String, Path), ("other" = String, Path), DiffQuery),
    responses((status = 200, body = Diff), (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn diff_snapshots(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath((id, other)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<DiffQuery>,
) -> ApiResult<Json<Diff>> {
    require_contact_read(&ctx)?;
    Ok(Json(
        snapshots::diff(
            &state.store,
            &ctx.principal.workspace_id,
            &id,
            &other,
            q.limit,
        )
        .await?,
    ))
}
