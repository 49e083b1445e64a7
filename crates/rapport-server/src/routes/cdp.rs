//! The CDP's management API: sources and write keys, identity settings and trait mappings,
//! the schema registry, held (quarantined / rejected) events and replay, profiles with their
//! identifiers and merges (and unmerge), the journey timeline, raw events and data health.
//! Configuration is for administrators and audited; profiles and timelines follow the
//! caller's permission to read contacts.

use crate::auth::audit;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Ctx};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use rapport_cdp::identity::{normalize, profiles};
use rapport_cdp::registry::{self, EventType, EventTypeInput, Observed};
use rapport_cdp::settings::{self, Settings};
use rapport_cdp::sources::{self, Source, SourceInput};
use rapport_cdp::{events, health, held, timeline};
use rapport_core::access::Action;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

pub(crate) fn require_contact_read(ctx: &Ctx) -> ApiResult<()> {
    if ctx.principal.can("contact", Action::Read) {
        Ok(())
    } else {
        Err(ApiError::forbidden("contact", "you may not read contacts"))
    }
}

// ---- sources

#[utoipa::path(get, path = "/api/v1/cdp/sources", tag = "cdp", responses((status = 200, body = [Source])))]
pub async fn list_sources(State(state): State<AppState>, ctx: Ctx) -> ApiResult<Json<Vec<Source>>> {
    ctx.require_admin("cdp.sources")?;
    Ok(Json(
        sources::list(&state.store, &ctx.principal.workspace_id).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/cdp/sources", tag = "cdp", request_body = SourceInput,
    responses((status = 201, body = Source), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_source(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(input): ApiJson<SourceInput>,
) -> ApiResult<(StatusCode, Json<Source>)> {
    ctx.require_admin("cdp.sources")?;
    let source = sources::create(&state.store, &ctx.principal.workspace_id, input).await?;
    audit(
        &state,
        &ctx,
        "cdp.source.create",
        Some(source.id.clone()),
        "success",
        json!({"name": source.name}),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(source)))
}

#[utoipa::path(get, path = "/api/v1/cdp/sources/{id}", tag = "cdp", params(("id" = String, Path)),
    responses((status = 200, body = Source), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_source(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Source>> {
    ctx.require_admin("cdp.sources")?;
    Ok(Json(
        sources::get(&state.store, &ctx.principal.workspace_id, &id).await?,
    ))
}

#[utoipa::path(patch, path = "/api/v1/cdp/sources/{id}", tag = "cdp", params(("id" = String, Path)), request_body = SourceInput,
    responses((status = 200, body = Source), (status = 404, body = crate::error::ErrorBody)))]
pub async fn update_source(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<SourceInput>,
) -> ApiResult<Json<Source>> {
    ctx.require_admin("cdp.sources")?;
    let source = sources::update(
        &state.store,
        &ctx.principal.workspace_id,
        &id,
        input,
        sources::Rotate::default(),
    )
    .await?;
    state.cdp.sources.forget();
    audit(
        &state,
        &ctx,
        "cdp.source.update",
        Some(id),
        "success",
        json!({}),
    )
    .await?;
    Ok(Json(source))
}

/// Issues a new write key; the old one stops working (on other nodes within 2 s).
#[utoipa::path(post, path = "/api/v1/cdp/sources/{id}/rotate-key", tag = "cdp", params(("id" = String, Path)),
    responses((status = 200, body = Source), (status = 404, body = crate::error::ErrorBody)))]
pub async fn rotate_key(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Source>> {
    ctx.require_admin("cdp.sources")?;
    rotate(
        state,
        ctx,
        id,
        sources::Rotate {
            write_key: true,
            ..Default::default()
        },
        "cdp.source.rotate_key",
    )
    .await
}

/// Issues a new identity-verification secret; `context.userHash` values signed with the old
/// one stop verifying.
#[utoipa::path(post, path = "/api/v1/cdp/sources/{id}/rotate-verification-secret", tag = "cdp", params(("id" = String, Path)),
    responses((status = 200, body = Source), (status = 404, body = crate::error::ErrorBody)))]
pub async fn rotate_verification_secret(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Source>> {
    rotate(
        state,
        ctx,
        id,
        sources::Rotate {
            verification_secret: true,
            ..Default::default()
        },
        "cdp.source.rotate_verification_secret",
    )
    .await
}

async fn rotate(
    state: AppState,
    ctx: Ctx,
    id: String,
    what: sources::Rotate,
    action: &str,
) -> ApiResult<Json<Source>> {
    ctx.require_admin("cdp.sources")?;
    let source = sources::update(
        &state.store,
        &ctx.principal.workspace_id,
        &id,
        SourceInput::default(),
        what,
    )
    .await?;
    state.cdp.sources.forget();
    audit(&state, &ctx, action, Some(id), "success", json!({})).await?;
    Ok(Json(source))
}

// ---- settings

#[utoipa::path(get, path = "/api/v1/cdp/settings", tag = "cdp", responses((status = 200, body = Settings)))]
pub async fn get_settings(State(state): State<AppState>, ctx: Ctx) -> ApiResult<Json<Settings>> {
    ctx.require_admin("cdp.settings")?;
    Ok(Json(
        settings::load(&state.store, &ctx.principal.workspace_id).await?,
    ))
}

#[utoipa::path(put, path = "/api/v1/cdp/settings", tag = "cdp", request_body = Settings,
    responses((status = 200, body = Settings), (status = 422, body = crate::error::ErrorBody)))]
pub async fn save_settings(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(input): ApiJson<Settings>,
) -> ApiResult<Json<Settings>> {
    ctx.require_admin("cdp.settings")?;
    input.validate(&ctx.schema)?;
    settings::save(&state.store, &ctx.principal.workspace_id, &input).await?;
    state.cdp.settings.forget(&ctx.principal.workspace_id);
    audit(
        &state,
        &ctx,
        "cdp.settings.update",
        None,
        "success",
        json!({}),
    )
    .await?;
    Ok(Json(input))
}

// ---- schema registry

/// The registered event types with their display names. Every signed-in user may read them
/// (journeys and segment summaries name events by them); only admins change them.
#[utoipa::path(get, path = "/api/v1/cdp/event-types", tag = "cdp", responses((status = 200, body = [EventType])))]
pub async fn list_event_types(
    State(state): State<AppState>,
    ctx: Ctx,
) -> ApiResult<Json<Vec<EventType>>> {
    Ok(Json(
        registry::list(&state.store, &ctx.principal.workspace_id).await?,
    ))
}

/// Registers an event type or replaces its schema (the version goes up).
#[utoipa::path(post, path = "/api/v1/cdp/event-types", tag = "cdp", request_body = EventTypeInput,
    responses((status = 200, body = EventType), (status = 422, body = crate::error::ErrorBody)))]
pub async fn save_event_type(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(input): ApiJson<EventTypeInput>,
) -> ApiResult<Json<EventType>> {
    ctx.require_admin("cdp.event_types")?;
    let name = input.name.clone();
    let saved = registry::save(&state.store, &ctx.principal.workspace_id, input).await?;
    state.cdp.registry.forget(&ctx.principal.workspace_id);
    audit(
        &state,
        &ctx,
        "cdp.event_type.save",
        Some(name),
        "success",
        json!({"version": saved.version}),
    )
    .await?;
    Ok(Json(saved))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct NameParam {
    pub name: String,
}

#[utoipa::path(delete, path = "/api/v1/cdp/event-types", tag = "cdp", params(NameParam),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_event_type(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiQuery(q): ApiQuery<NameParam>,
) -> ApiResult<StatusCode> {
    ctx.require_admin("cdp.event_types")?;
    registry::delete(&state.store, &ctx.principal.workspace_id, &q.name).await?;
    state.cdp.registry.forget(&ctx.principal.workspace_id);
    audit(
        &state,
        &ctx,
        "cdp.event_type.delete",
        Some(q.name),
        "success",
        json!({}),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Event types and properties that arrived without fitting the registry, each with the schema
/// that would register it.
#[utoipa::path(get, path = "/api/v1/cdp/event-types/observed", tag = "cdp", responses((status = 200, body = [Observed])))]
pub async fn observed(State(state): State<AppState>, ctx: Ctx) -> ApiResult<Json<Vec<Observed>>> {
    ctx.require_admin("cdp.event_types")?;
    Ok(Json(
        registry::observed(&state.store, &ctx.principal.workspace_id).await?,
    ))
}

/// Registers (or widens) an event type from what arrived, in one step.
#[utoipa::path(post, path = "/api/v1/cdp/event-types/observed/register", tag = "cdp", request_body = RegisterObserved,
    responses((status = 200, body = EventType), (status = 422, body = crate::error::ErrorBody)))]
pub async fn register_observed(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(input): ApiJson<RegisterObserved>,
) -> ApiResult<Json<EventType>> {
    ctx.require_admin("cdp.event_types")?;
    let saved =
        registry::register_observed(&state.store, &ctx.principal.workspace_id, &input.name).await?;
    state.cdp.registry.forget(&ctx.principal.workspace_id);
    audit(
        &state,
        &ctx,
        "cdp.event_type.save",
        Some(input.name),
        "success",
        json!({"version": saved.version, "from": "observed"}),
    )
    .await?;
    Ok(Json(saved))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterObserved {
    pub name: String,
}

// ---- held events

#[utoipa::path(get, path = "/api/v1/cdp/held", tag = "cdp", params(held::HeldQuery),
    responses((status = 200, body = [held::HeldEvent])))]
pub async fn list_held(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiQuery(q): ApiQuery<held::HeldQuery>,
) -> ApiResult<Json<Vec<held::HeldEvent>>> {
    ctx.require_admin("cdp.held")?;
    Ok(Json(
        held::list(&state.cdp, &ctx.principal.workspace_id, &q).await?,
    ))
}

/// Re-checks quarantined events against today's registry and stores those that fit.
#[utoipa::path(post, path = "/api/v1/cdp/held/replay", tag = "cdp", request_body = held::ReplayRequest,
    responses((status = 200, body = held::ReplayReport), (status = 422, body = crate::error::ErrorBody)))]
pub async fn replay(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(input): ApiJson<held::ReplayRequest>,
) -> ApiResult<Json<held::ReplayReport>> {
    ctx.require_admin("cdp.held")?;
    let report = held::replay(&state.cdp, &ctx.principal.workspace_id, &input).await?;
    audit(
        &state,
        &ctx,
        "cdp.held.replay",
        input.name.clone(),
        "success",
        json!({"replayed": report.replayed}),
    )
    .await?;
    Ok(Json(report))
}

// ---- profiles and merges

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProfileQuery {
    /// With `identifier`: find the profile carrying it (email, phone, user_id, ...).
    pub identifier_type: Option<String>,
    pub identifier: Option<String>,
    pub limit: Option<i64>,
    /// Page backwards from this profile id.
    pub before: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProfilePage {
    pub profiles: Vec<profiles::Profile>,
    pub next_before: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/cdp/profiles", tag = "cdp", params(ProfileQuery),
    responses((status = 200, body = ProfilePage), (status = 404, body = crate::error::ErrorBody)))]
pub async fn list_profiles(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiQuery(q): ApiQuery<ProfileQuery>,
) -> ApiResult<Json<ProfilePage>> {
    require_contact_read(&ctx)?;
    let ws = &ctx.principal.workspace_id;
    if let (Some(t), Some(v)) = (&q.identifier_type, &q.identifier) {
        let settings = state.cdp.settings.get(&state.store, ws).await?;
        let value = normalize(t, v, &settings).unwrap_or_else(|| v.trim().to_string());
        let profile = profiles::find(&state.store, ws, t, &value).await?;
        return Ok(Json(ProfilePage {
            profiles: vec![profile],
            next_before: None,
        }));
    }
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let ids = profiles::list_roots(&state.store, ws, q.before.as_deref(), limit).await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in &ids {
        out.push(profiles::get(&state.store, ws, id).await?);
    }
    let next_before = (i64::try_from(ids.len()).unwrap_or(0) == limit)
        .then(|| ids.last().cloned())
        .flatten();
    Ok(Json(ProfilePage {
        profiles: out,
        next_before,
    }))
}

#[utoipa::path(get, path = "/api/v1/cdp/profiles/{id}", tag = "cdp", params(("id" = String, Path)),
    responses((status = 200, body = profiles::Profile), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_profile(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<profiles::Profile>> {
    require_contact_read(&ctx)?;
    Ok(Json(
        profiles::get(&state.store, &ctx.principal.workspace_id, &id).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/cdp/profiles/{id}/timeline", tag = "cdp",
    params(("id" = String, Path), timeline::TimelineQuery),
    responses((status = 200, body = timeline::Page), (status = 404, body = crate::error::ErrorBody)))]
pub async fn profile_timeline(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<timeline::TimelineQuery>,
) -> ApiResult<Json<timeline::Page>> {
    require_contact_read(&ctx)?;
    Ok(Json(
        timeline::timeline(
            &state.store,
            &ctx.principal,
            &ctx.schema,
            Some(&id),
            None,
            &q,
        )
        .await?,
    ))
}

/// The journey of a CRM contact: its profile's events from every source and the CRM's own
/// activities, notes, tasks, tickets and field changes.
#[utoipa::path(get, path = "/api/v1/cdp/contacts/{id}/journey", tag = "cdp",
    params(("id" = String, Path), timeline::TimelineQuery),
    responses((status = 200, body = timeline::Page), (status = 404, body = crate::error::ErrorBody)))]
pub async fn contact_journey(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<timeline::TimelineQuery>,
) -> ApiResult<Json<timeline::Page>> {
    state
        .store
        .get_record(&ctx.principal, &ctx.schema, "contact", &id, false)
        .await?;
    Ok(Json(
        timeline::timeline(
            &state.store,
            &ctx.principal,
            &ctx.schema,
            None,
            Some(&id),
            &q,
        )
        .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MergeLogParams {
    /// 1–1,000 (default 100).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/cdp/merges", tag = "cdp", params(MergeLogParams),
    responses((status = 200, body = profiles::MergePage), (status = 400, body = crate::error::ErrorBody)))]
pub async fn list_merges(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiQuery(q): ApiQuery<MergeLogParams>,
) -> ApiResult<Json<profiles::MergePage>> {
    require_contact_read(&ctx)?;
    Ok(Json(
        profiles::merge_log(
            &state.store,
            &ctx.principal.workspace_id,
            q.limit.unwrap_or(100),
            q.cursor.as_deref(),
        )
        .await?,
    ))
}

/// Undoes a merge: both profiles stand alone again and their events follow them.
#[utoipa::path(post, path = "/api/v1/cdp/merges/{id}/undo", tag = "cdp", params(("id" = String, Path)),
    responses((status = 200, body = profiles::Merge), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn undo_merge(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<profiles::Merge>> {
    ctx.require_admin("cdp.merges")?;
    let settings = state
        .cdp
        .settings
        .get(&state.store, &ctx.principal.workspace_id)
        .await?;
    let merge = profiles::unmerge(
        &state.store,
        &settings,
        &ctx.principal.workspace_id,
        &id,
        &ctx.principal.user_id,
    )
    .await?;
    audit(
        &state,
        &ctx,
        "cdp.merge.undo",
        Some(id),
        "success",
        json!({"survivor": merge.survivor_id, "absorbed": merge.absorbed_id}),
    )
    .await?;
    Ok(Json(merge))
}

// ---- raw events

/// Stored events, newest first (admins; for debugging a source).
#[utoipa::path(get, path = "/api/v1/cdp/events", tag = "cdp", params(events::EventQuery),
    responses((status = 200, body = [events::StoredEvent])))]
pub async fn list_events(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiQuery(q): ApiQuery<events::EventQuery>,
) -> ApiResult<Json<Vec<events::StoredEvent>>> {
    ctx.require_admin("cdp.events")?;
    Ok(Json(
        events::list(&state.store, &ctx.principal.workspace_id, &q).await?,
    ))
}

// ---- data health

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HealthQuery {
    /// The window, in minutes (default 60, at most 7 days).
    pub minutes: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/cdp/health", tag = "cdp", params(HealthQuery),
    responses((status = 200, body = health::Report)))]
pub async fn data_health(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiQuery(q): ApiQuery<HealthQuery>,
) -> ApiResult<Json<health::Report>> {
    ctx.require_admin("cdp.health")?;
    Ok(Json(
        health::report(
            &state.store,
            &ctx.principal.workspace_id,
            q.minutes.unwrap_or(60),
        )
        .await?,
    ))
}
