//! Metadata routes: list and read objects (everyone), and — for admins — create objects, add,
//! change, archive, restore and purge fields and objects. Every change is audited.

use crate::auth::audit;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Ctx};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use rapport_core::metadata::{FieldDef, LayoutSection, ObjectDef};
use rapport_core::names::generate_api_name;
use rapport_core::{Action, Label};
use rapport_store::schema::{FieldPatch, ObjectPatch};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ObjectListParams {
    /// Include archived objects (admins).
    pub archived: Option<bool>,
}

/// Objects the caller may read, with their fields.
#[utoipa::path(get, path = "/api/v1/objects", tag = "metadata", params(ObjectListParams), responses((status = 200, body = [ObjectDef])))]
pub async fn list_objects(
    ctx: Ctx,
    ApiQuery(params): ApiQuery<ObjectListParams>,
) -> ApiResult<Json<Vec<ObjectDef>>> {
    let archived = params.archived.unwrap_or(false) && ctx.principal.is_admin();
    Ok(Json(
        ctx.schema
            .objects
            .iter()
            .filter(|o| archived || o.is_active())
            .filter(|o| ctx.principal.can(&o.api_name, Action::Read))
            .map(|o| without_archived_fields(o, archived))
            .collect(),
    ))
}

fn without_archived_fields(object: &ObjectDef, keep: bool) -> ObjectDef {
    let mut object = object.clone();
    if !keep {
        object.fields.retain(|f| f.is_active());
    }
    object
}

/// One object with its fields (archived fields too, for admins).
#[utoipa::path(get, path = "/api/v1/objects/{object}", tag = "metadata", params(("object" = String, Path)),
    responses((status = 200, body = ObjectDef), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_object(ctx: Ctx, ApiPath(object): ApiPath<String>) -> ApiResult<Json<ObjectDef>> {
    let admin = ctx.principal.is_admin();
    let def = ctx
        .schema
        .object(&object)
        .filter(|o| (o.is_active() || admin) && ctx.principal.can(&o.api_name, Action::Read))
        .ok_or_else(|| ApiError::not_found("object"))?;
    Ok(Json(without_archived_fields(def, admin)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewObject {
    /// Left out: made from the label (English if it has Latin letters, else pinyin).
    #[serde(default)]
    pub api_name: String,
    pub label: Label,
    /// Left out: the label (Chinese has no plural).
    #[serde(default)]
    pub plural_label: Option<Label>,
    /// The name field is created as a required text field when it is not among `fields`.
    pub name_field: Option<String>,
    #[serde(default)]
    pub fields: Vec<FieldDef>,
    #[serde(default)]
    pub layout: Vec<LayoutSection>,
}

async fn changed(
    state: &AppState,
    ctx: &Ctx,
    action: &str,
    target: String,
    result: Result<ObjectDef, rapport_store::StoreError>,
) -> ApiResult<Json<ObjectDef>> {
    let object = result?;
    state.principals.clear();
    audit(state, ctx, action, Some(target), "success", json!({})).await?;
    Ok(Json(object))
}

/// Create a custom object (admins). Its table exists when this returns.
#[utoipa::path(post, path = "/api/v1/objects", tag = "metadata", request_body = NewObject,
    responses((status = 201, body = ObjectDef), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_object(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<NewObject>,
) -> ApiResult<(StatusCode, Json<ObjectDef>)> {
    ctx.require_admin("metadata")?;
    let ws = &ctx.principal.workspace_id;
    let mut body = body;
    if body.api_name.is_empty() {
        body.label.check("the new object")?;
        let schema = state
            .store
            .schema(ws, ctx.principal.metadata_version)
            .await?;
        body.api_name =
            generate_api_name(&body.label, "object", |name| schema.object(name).is_some());
    }
    let name_field = body.name_field.unwrap_or_else(|| "name".to_string());
    let mut fields = body.fields;
    for at in 0..fields.len() {
        fields[at].config.name_options();
        if fields[at].api_name.is_empty() {
            fields[at].label.check("a field of the new object")?;
            let named = generate_api_name(&fields[at].label, "field", |name| {
                name == name_field || fields.iter().any(|f| f.api_name == name)
            });
            fields[at].api_name = named;
        }
    }
    if !fields.iter().any(|f| f.api_name == name_field) {
        fields.insert(
            0,
            FieldDef {
                api_name: name_field.clone(),
                label: Label::new("Name", "名称"),
                field_type: rapport_core::FieldType::Text,
                required: true,
                unique: false,
                config: Default::default(),
                is_standard: false,
                archived_at: None,
            },
        );
    }
    for field in &mut fields {
        field.is_standard = false;
        field.archived_at = None;
    }
    let layout = if body.layout.is_empty() {
        vec![LayoutSection {
            label: Label::new("Details", "基本信息"),
            fields: fields.iter().map(|f| f.api_name.clone()).collect(),
        }]
    } else {
        body.layout
    };
    let object = ObjectDef {
        api_name: body.api_name.clone(),
        plural_label: body.plural_label.unwrap_or_else(|| body.label.clone()),
        label: body.label,
        is_standard: false,
        name_field,
        fields,
        archived_at: None,
        layout,
    };
    let result = state.store.create_object(ws, object).await;
    let Json(object) = changed(&state, &ctx, "object.create", body.api_name, result).await?;
    Ok((StatusCode::CREATED, Json(object)))
}

/// Relabel an object, change its name field or its layout (admins). Data is untouched.
#[utoipa::path(patch, path = "/api/v1/objects/{object}", tag = "metadata", params(("object" = String, Path)), request_body = ObjectPatch,
    responses((status = 200, body = ObjectDef)))]
pub async fn update_object(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(object): ApiPath<String>,
    ApiJson(patch): ApiJson<ObjectPatch>,
) -> ApiResult<Json<ObjectDef>> {
    ctx.require_admin("metadata")?;
    let result = state
        .store
        .update_object(&ctx.principal.workspace_id, &object, patch)
        .await;
    changed(&state, &ctx, "object.update", object, result).await
}

/// Archive an object (admins): hidden, data kept, restorable.
#[utoipa::path(delete, path = "/api/v1/objects/{object}", tag = "metadata", params(("object" = String, Path)), responses((status = 200, body = ObjectDef)))]
pub async fn archive_object(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(object): ApiPath<String>,
) -> ApiResult<Json<ObjectDef>> {
    ctx.require_admin("metadata")?;
    let result = state
        .store
        .set_object_archived(&ctx.principal.workspace_id, &object, true)
        .await;
    changed(&state, &ctx, "object.archive", object, result).await
}

/// Restore an archived object (admins).
#[utoipa::path(post, path = "/api/v1/objects/{object}/restore", tag = "metadata", params(("object" = String, Path)), responses((status = 200, body = ObjectDef)))]
pub async fn restore_object(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(object): ApiPath<String>,
) -> ApiResult<Json<ObjectDef>> {
    ctx.require_admin("metadata")?;
    let result = state
        .store
        .set_object_archived(&ctx.principal.workspace_id, &object, false)
        .await;
    changed(&state, &ctx, "object.restore", object, result).await
}

/// Drop an archived object and all its records for good (admins).
#[utoipa::path(post, path = "/api/v1/objects/{object}/purge", tag = "metadata", params(("object" = String, Path)), responses((status = 204)))]
pub async fn purge_object(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(object): ApiPath<String>,
) -> ApiResult<StatusCode> {
    ctx.require_admin("metadata")?;
    state
        .store
        .purge_object(&ctx.principal.workspace_id, &object)
        .await?;
    state.principals.clear();
    audit(
        &state,
        &ctx,
        "object.purge",
        Some(object),
        "success",
        json!({}),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Add a field (admins): its column exists when this returns.
#[utoipa::path(post, path = "/api/v1/objects/{object}/fields", tag = "metadata", params(("object" = String, Path)), request_body = FieldDef,
    responses((status = 201, body = ObjectDef), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn add_field(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(object): ApiPath<String>,
    ApiJson(field): ApiJson<FieldDef>,
) -> ApiResult<(StatusCode, Json<ObjectDef>)> {
    ctx.require_admin("metadata")?;
    let result = state
        .store
        .add_field(&ctx.principal.workspace_id, &object, field)
        .await;
    // The new field is the object's last, named by the caller or from its label.
    let added = result
        .as_ref()
        .ok()
        .and_then(|o| o.fields.last())
        .map(|f| f.api_name.clone())
        .unwrap_or_default();
    let target = format!("{object}.{added}");
    let Json(object) = changed(&state, &ctx, "field.create", target, result).await?;
    Ok((StatusCode::CREATED, Json(object)))
}

/// Change a field's label, validation or settings (admins). The type cannot change.
#[utoipa::path(patch, path = "/api/v1/objects/{object}/fields/{field}", tag = "metadata",
    params(("object" = String, Path), ("field" = String, Path)), request_body = FieldPatch, responses((status = 200, body = ObjectDef)))]
pub async fn update_field(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath((object, field)): ApiPath<(String, String)>,
    ApiJson(patch): ApiJson<FieldPatch>,
) -> ApiResult<Json<ObjectDef>> {
    ctx.require_admin("metadata")?;
    let result = state
        .store
        .update_field(&ctx.principal.workspace_id, &object, &field, patch)
        .await;
    changed(
        &state,
        &ctx,
        "field.update",
        format!("{object}.{field}"),
        result,
    )
    .await
}

/// Archive a field (admins): hidden, data kept, restorable.
#[utoipa::path(delete, path = "/api/v1/objects/{object}/fields/{field}", tag = "metadata",
    params(("object" = String, Path), ("field" = String, Path)), responses((status = 200, body = ObjectDef)))]
pub async fn archive_field(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath((object, field)): ApiPath<(String, String)>,
) -> ApiResult<Json<ObjectDef>> {
    ctx.require_admin("metadata")?;
    let result = state
        .store
        .set_field_archived(&ctx.principal.workspace_id, &object, &field, true)
        .await;
    changed(
        &state,
        &ctx,
        "field.archive",
        format!("{object}.{field}"),
        result,
    )
    .await
}

/// Restore an archived field (admins).
#[utoipa::path(post, path = "/api/v1/objects/{object}/fields/{field}/restore", tag = "metadata",
    params(("object" = String, Path), ("field" = String, Path)), responses((status = 200, body = ObjectDef)))]
pub async fn restore_field(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath((object, field)): ApiPath<(String, String)>,
) -> ApiResult<Json<ObjectDef>> {
    ctx.require_admin("metadata")?;
    let result = state
        .store
        .set_field_archived(&ctx.principal.workspace_id, &object, &field, false)
        .await;
    changed(
        &state,
        &ctx,
        "field.restore",
        format!("{object}.{field}"),
        result,
    )
    .await
}

/// Drop an archived field's data for good (admins).
#[utoipa::path(post, path = "/api/v1/objects/{object}/fields/{field}/purge", tag = "metadata",
    params(("object" = String, Path), ("field" = String, Path)), responses((status = 200, body = ObjectDef)))]
pub async fn purge_field(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath((object, field)): ApiPath<(String, String)>,
) -> ApiResult<Json<ObjectDef>> {
    ctx.require_admin("metadata")?;
    let result = state
        .store
        .purge_field(&ctx.principal.workspace_id, &object, &field)
        .await;
    changed(
        &state,
        &ctx,
        "field.purge",
        format!("{object}.{field}"),
        result,
    )
    .await
}
