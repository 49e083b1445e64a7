//! Segments over HTTP: definitions (create, change — a new version —, archive), the live count
//! while editing, full re-evaluation, members (paged and CSV), entry / exit history, versions,
//! a customer's memberships and tags, manual tags, and lineage. Reading follows the caller's
//! permission to read contacts; defining segments is for administrators and audited.

use crate::auth::audit;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Ctx};
use crate::routes::cdp::require_contact_read;
use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rapport_cdp::identity::profiles;
use rapport_cdp::segments::definitions::{
    self, Segment, SegmentInput, SegmentPatch, SegmentVersion,
};
use rapport_cdp::segments::engine::FullReport;
use rapport_cdp::segments::lineage::{self, Lineage};
use rapport_cdp::segments::membership::{self, ChangePage, MemberPage, Membership};
use rapport_cdp::segments::tags::{self, Tag};
use rapport_cdp::segments::{self, Preview};
use rapport_core::spreadsheet::{Cell, CsvRows};
use rapport_core::Action;
use rapport_core::ErrorCode;
use serde::Deserialize;
use serde_json::{json, Value as Json_};
use utoipa::{IntoParams, ToSchema};

fn user(ctx: &Ctx) -> Option<&str> {
    Some(ctx.principal.user_id.as_str())
}

#[utoipa::path(get, path = "/api/v1/cdp/segments", tag = "segments",
    responses((status = 200, body = [Segment])))]
pub async fn list(State(state): State<AppState>, ctx: Ctx) -> ApiResult<Json<Vec<Segment>>> {
    require_contact_read(&ctx)?;
    Ok(Json(
        definitions::list(&state.store, &ctx.principal.workspace_id).await?,
    ))
}

/// Creates a segment. It starts `building`: its behaviour counters are filled from the stored
/// events and it is evaluated in the background, then it is `live`.
#[utoipa::path(post, path = "/api/v1/cdp/segments", tag = "segments", request_body = SegmentInput,
    responses((status = 201, body = Segment), (status = 400, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(input): ApiJson<SegmentInput>,
) -> ApiResult<(StatusCode, Json<Segment>)> {
    ctx.require_admin("cdp.segments")?;
    let segment =
        definitions::create(&state.store, &ctx.principal.workspace_id, input, user(&ctx)).await?;
    // A worker builds it (fills its counters, evaluates it); this node's at once.
    state.cdp.segments.builds.notify_one();
    audit(
        &state,
        &ctx,
        "cdp.segment.create",
        Some(segment.id.clone()),
        "success",
        json!({"name": segment.name, "condition": segment.condition}),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(segment)))
}

#[utoipa::path(get, path = "/api/v1/cdp/segments/{id}", tag = "segments",
    params(("id" = String, Path)),
    responses((status = 200, body = Segment), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Segment>> {
    require_contact_read(&ctx)?;
    Ok(Json(
        definitions::get(&state.store, &ctx.principal.workspace_id, &id).await?,
    ))
}

/// Changes a segment; a new condition is a new version, rebuilt and re-evaluated in the
/// background (members stay until then).
#[utoipa::path(patch, path = "/api/v1/cdp/segments/{id}", tag = "segments",
    params(("id" = String, Path)), request_body = SegmentPatch,
    responses((status = 200, body = Segment), (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
    ApiJson(patch): ApiJson<SegmentPatch>,
) -> ApiResult<Json<Segment>> {
    ctx.require_admin("cdp.segments")?;
    let (segment, rebuilt) = definitions::update(
        &state.store,
        &ctx.principal.workspace_id,
        &id,
        patch,
        user(&ctx),
    )
    .await?;
    if rebuilt {
        state.cdp.segments.builds.notify_one();
    }
    audit(
        &state,
        &ctx,
        "cdp.segment.update",
        Some(id),
        "success",
        json!({"version": segment.version, "condition_changed": rebuilt}),
    )
    .await?;
    Ok(Json(segment))
}

/// Archives a segment: its members leave it (cause `archived`).
#[utoipa::path(delete, path = "/api/v1/cdp/segments/{id}", tag = "segments",
    params(("id" = String, Path)),
    responses((status = 200, body = Segment), (status = 404, body = crate::error::ErrorBody)))]
pub async fn archive(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Segment>> {
    ctx.require_admin("cdp.segments")?;
    let ws = &ctx.principal.workspace_id;
    let segment = definitions::archive(&state.store, ws, &id).await?;
    state.cdp.segments.archive(ws, &id).await?;
    audit(
        &state,
        &ctx,
        "cdp.segment.archive",
        Some(id),
        "success",
        json!({}),
    )
    .await?;
    Ok(Json(segment))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"condition": {"behavior": {"event": "Order Completed", "window": {"last": 30, "unit": "days"}, "count": {"op": "gte", "value": 1}}}, "sample": 5}))]
pub struct PreviewRequest {
    #[schema(value_type = Object)]
    pub condition: Json_,
    /// Members to show (0–50, default 10).
    pub sample: Option<usize>,
}

/// The live count of a condition while it is edited (nothing is saved).
#[utoipa::path(post, path = "/api/v1/cdp/segments/preview", tag = "segments",
    request_body = PreviewRequest,
    responses((status = 200, body = Preview), (status = 400, body = crate::error::ErrorBody)))]
pub async fn preview(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(req): ApiJson<PreviewRequest>,
) -> ApiResult<Json<Preview>> {
    require_contact_read(&ctx)?;
    // The count and sample of a condition through `contact.company.*` tell about companies:
    // the caller must be allowed to read every object the contact's field tests pass through.
    let compiled =
        definitions::compile(&state.store, &ctx.principal.workspace_id, &req.condition).await?;
    let contact = ctx.schema.active_object("contact");
    let unreadable = compiled.contact_relations.iter().find_map(|relation| {
        contact
            .and_then(|c| c.active_field(relation))
            .and_then(|f| f.config.target.clone())
            .filter(|object| !ctx.principal.can(object, Action::Read))
    });
    if let Some(object) = unreadable {
        return Err(ApiError::forbidden(
            &object,
            format!("your role may not read {object} records, which this condition reads"),
        ));
    }
    Ok(Json(
        segments::preview(
            &state.store,
            &ctx.principal.workspace_id,
            &req.condition,
            req.sample.unwrap_or(10),
        )
        .await?,
    ))
}

/// Evaluates the segment over every customer now and writes the differences (waits for it).
#[utoipa::path(post, path = "/api/v1/cdp/segments/{id}/evaluate", tag = "segments",
    params(("id" = String, Path)),
    responses((status = 200, body = FullReport), (status = 404, body = crate::error::ErrorBody)))]
pub async fn evaluate(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<FullReport>> {
    ctx.require_admin("cdp.segments")?;
    let segment = definitions::get(&state.store, &ctx.principal.workspace_id, &id).await?;
    if segment.state == "archived" {
        return Err(ApiError::new(
            ErrorCode::SegmentArchived,
            "the segment is archived",
        ));
    }
    Ok(Json(state.cdp.segments.evaluate(&id).await?))
}

/// Recounts the segment's behaviour counters from the stored events (a repair): the segment,
/// and any other sharing one of its behaviours, is `building` until the counters are filled
/// again, then evaluated; membership changes are recorded as usual. Answers at once (202).
#[utoipa::path(post, path = "/api/v1/cdp/segments/{id}/recount", tag = "segments",
    params(("id" = String, Path)),
    responses((status = 202, body = Segment), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn recount(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<(StatusCode, Json<Segment>)> {
    ctx.require_admin("cdp.segments")?;
    let ws = ctx.principal.workspace_id.clone();
    let segment = definitions::get(&state.store, &ws, &id).await?;
    if segment.state == "archived" {
        return Err(ApiError::new(
            ErrorCode::SegmentArchived,
            "the segment is archived",
        ));
    }
    state.cdp.segments.recount(&ws, &id).await?;
    audit(
        &state,
        &ctx,
        "cdp.segment.recount",
        Some(id.clone()),
        "success",
        json!({}),
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(definitions::get(&state.store, &ws, &id).await?),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    /// 1–1000, default 100.
    pub limit: Option<usize>,
    pub cursor: Option<String>,
    /// Only this customer's history (changes).
    pub profile_id: Option<String>,
}

fn limit(p: &PageParams) -> ApiResult<usize> {
    match p.limit {
        None => Ok(100),
        Some(n) if (1..=1000).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::new(
            ErrorCode::InvalidLimit,
            "limit is from 1 to 1000",
        )),
    }
}

#[utoipa::path(get, path = "/api/v1/cdp/segments/{id}/members", tag = "segments",
    params(("id" = String, Path), PageParams),
    responses((status = 200, body = MemberPage), (status = 404, body = crate::error::ErrorBody)))]
pub async fn members(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
    ApiQuery(p): ApiQuery<PageParams>,
) -> ApiResult<Json<MemberPage>> {
    require_contact_read(&ctx)?;
    Ok(Json(
        membership::members(
            &state.store,
            &ctx.principal.workspace_id,
            &id,
            limit(&p)?,
            p.cursor.as_deref(),
        )
        .await?,
    ))
}

/// Every member as CSV (UTF-8 with a BOM): profile_id, contact_id, contact_name, email, phone,
/// user_id, entered_at. Audited as an export.
#[utoipa::path(get, path = "/api/v1/cdp/segments/{id}/members.csv", tag = "segments",
    params(("id" = String, Path)),
    responses((status = 200, content_type = "text/csv", body = String),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn members_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    require_contact_read(&ctx)?;
    let ws = &ctx.principal.workspace_id;
    let mut out = String::from("\u{feff}");
    let mut csv = CsvRows::default();
    csv.row(
        [
            "profile_id",
            "contact_id",
            "contact_name",
            "email",
            "phone",
            "user_id",
            "entered_at",
        ]
        .map(Cell::Value),
    )
    .map_err(ApiError::internal)?;
    let mut cursor: Option<String> = None;
    let mut rows = 0usize;
    loop {
        let page = membership::members(&state.store, ws, &id, 1000, cursor.as_deref()).await?;
        for m in &page.items {
            rows += 1;
            // A member with no entry time gets an empty cell.
            let entered_at = m.entered_at.map(|t| t.to_rfc3339()).unwrap_or_default();
            csv.row([
                Cell::Value(&m.profile_id),
                Cell::Value(m.contact_id.as_deref().unwrap_or("")),
                Cell::Text(m.contact_name.as_deref().unwrap_or("")),
                Cell::Text(m.email.as_deref().unwrap_or("")),
                Cell::Text(m.phone.as_deref().unwrap_or("")),
                Cell::Text(m.user_id.as_deref().unwrap_or("")),
                Cell::Value(&entered_at),
            ])
            .map_err(ApiError::internal)?;
        }
        out.push_str(&csv.take().map_err(ApiError::internal)?);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    audit(
        &state,
        &ctx,
        "cdp.segment.export",
        Some(id.clone()),
        "success",
        json!({"rows": rows}),
    )
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"segment-{id}.csv\""),
            ),
        ],
        out,
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/cdp/segments/{id}/changes", tag = "segments",
    params(("id" = String, Path), PageParams),
    responses((status = 200, body = ChangePage), (status = 404, body = crate::error::ErrorBody)))]
pub async fn changes(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
    ApiQuery(p): ApiQuery<PageParams>,
) -> ApiResult<Json<ChangePage>> {
    require_contact_read(&ctx)?;
    Ok(Json(
        membership::changes(
            &state.store,
            &ctx.principal.workspace_id,
            &id,
            p.profile_id.as_deref(),
            limit(&p)?,
            p.cursor.as_deref(),
        )
        .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/cdp/segments/{id}/versions", tag = "segments",
    params(("id" = String, Path)),
    responses((status = 200, body = [SegmentVersion]), (status = 404, body = crate::error::ErrorBody)))]
pub async fn versions(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Vec<SegmentVersion>>> {
    require_contact_read(&ctx)?;
    Ok(Json(
        definitions::versions(&state.store, &ctx.principal.workspace_id, &id).await?,
    ))
}

/// The customer (root profile) of a profile id of this workspace.
async fn customer(state: &AppState, ctx: &Ctx, profile_id: &str) -> ApiResult<String> {
    Ok(profiles::root(&state.store, &ctx.principal.workspace_id, profile_id).await?)
}

/// The customer of a contact the caller may read.
async fn customer_of_contact(state: &AppState, ctx: &Ctx, contact: &str) -> ApiResult<String> {
    state
        .store
        .get_record(&ctx.principal, &ctx.schema, "contact", contact, false)
        .await?;
    let ws = &ctx.principal.workspace_id;
    let profile = profiles::for_contact(&state.store, ws, contact)
        .await?
        .ok_or_else(|| ApiError::not_found("profile"))?;
    customer(state, ctx, &profile).await
}

#[utoipa::path(get, path = "/api/v1/cdp/profiles/{id}/segments", tag = "segments",
    params(("id" = String, Path)),
    responses((status = 200, body = [Membership]), (status = 404, body = crate::error::ErrorBody)))]
pub async fn profile_segments(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Vec<Membership>>> {
    require_contact_read(&ctx)?;
    let root = customer(&state, &ctx, &id).await?;
    Ok(Json(
        membership::of_profile(&state.store, &ctx.principal.workspace_id, &root).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/cdp/profiles/{id}/lineage/{segment_id}", tag = "segments",
    params(("id" = String, Path), ("segment_id" = String, Path)),
    responses((status = 200, body = Lineage), (status = 404, body = crate::error::ErrorBody)))]
pub async fn lineage(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath((id, segment_id)): ApiPath<(String, String)>,
) -> ApiResult<Json<Lineage>> {
    require_contact_read(&ctx)?;
    Ok(Json(
        lineage::explain(&state.store, &ctx.principal.workspace_id, &id, &segment_id).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/cdp/contacts/{id}/tags", tag = "segments",
    params(("id" = String, Path)),
    responses((status = 200, body = [Tag]), (status = 404, body = crate::error::ErrorBody)))]
pub async fn contact_tags(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Vec<Tag>>> {
    let root = customer_of_contact(&state, &ctx, &id).await?;
    Ok(Json(
        tags::of_profile(&state.store, &ctx.principal.workspace_id, &root).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"tag": "vip"}))]
pub struct TagInput {
    /// 1–50 characters, no comma.
    pub tag: String,
}

/// Adds a manual tag (needs permission to edit the contact).
#[utoipa::path(post, path = "/api/v1/cdp/contacts/{id}/tags", tag = "segments",
    params(("id" = String, Path)), request_body = TagInput,
    responses((status = 200, body = [Tag]), (status = 422, body = crate::error::ErrorBody)))]
pub async fn add_tag(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<TagInput>,
) -> ApiResult<Json<Vec<Tag>>> {
    require_contact_edit(&ctx)?;
    let root = customer_of_contact(&state, &ctx, &id).await?;
    let ws = &ctx.principal.workspace_id;
    tags::add(&state.store, ws, &root, &input.tag, user(&ctx)).await?;
    Ok(Json(tags::of_profile(&state.store, ws, &root).await?))
}

#[utoipa::path(delete, path = "/api/v1/cdp/contacts/{id}/tags/{tag}", tag = "segments",
    params(("id" = String, Path), ("tag" = String, Path)),
    responses((status = 200, body = [Tag]), (status = 404, body = crate::error::ErrorBody)))]
pub async fn remove_tag(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath((id, tag)): ApiPath<(String, String)>,
) -> ApiResult<Json<Vec<Tag>>> {
    require_contact_edit(&ctx)?;
    let root = customer_of_contact(&state, &ctx, &id).await?;
    let ws = &ctx.principal.workspace_id;
    tags::remove(&state.store, ws, &root, &tag).await?;
    Ok(Json(tags::of_profile(&state.store, ws, &root).await?))
}

fn require_contact_edit(ctx: &Ctx) -> ApiResult<()> {
    if ctx
        .principal
        .can("contact", rapport_core::access::Action::Update)
    {
        Ok(())
    } else {
        Err(ApiError::forbidden("contact", "you may not edit contacts"))
    }
}
