//! Record routes: create, read, update (with optimistic concurrency), soft delete and restore,
//! all-or-nothing batches, lists with the condition filter, sorts, cursors, field selection and
//! relation expansion, related lists, CSV export, history and point-in-time restore, and the
//! admins' repair of stored values that cannot be read.

use crate::auth::audit;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Ctx};
use crate::records_json::{record_body, RecordBody};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use rapport_core::condition::{Condition, DateContext};
use rapport_core::metadata::{FieldType, ObjectDef};
use rapport_core::spreadsheet::{Cell, CsvRows};
use rapport_core::ErrorCode;
use rapport_core::{Action, Record};
use rapport_store::history::HistoryEntry;
use rapport_store::records::{
    object_for, ListQuery, RecordInput, RecordUpdate, RepairedRecord, SortKey,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value as Json_};
use std::collections::{BTreeMap, BTreeSet};

const DEFAULT_PAGE: usize = 50;
const MAX_EXPORT_ROWS: usize = 100_000;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"values": {"name": "Li Wei", "email": "li.wei@example.com"}}))]
pub struct CreateRecord {
    #[schema(value_type = Object)]
    pub values: Map<String, Json_>,
    pub owner_id: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"values": {"name": "Li Wei (Shanghai)"}}))]
pub struct UpdateRecord {
    #[serde(default)]
    #[schema(value_type = Object)]
    pub values: Map<String, Json_>,
    pub owner_id: Option<String>,
    /// Apply only if the record is still at this version (409 otherwise). `If-Match` works too.
    pub version: Option<i64>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchUpdateItem {
    pub id: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub values: Map<String, Json_>,
    pub owner_id: Option<String>,
    pub version: Option<i64>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchCreate {
    pub records: Vec<CreateRecord>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchUpdate {
    pub records: Vec<BatchUpdateItem>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RecordList {
    pub data: Vec<RecordBody>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// The number of matching records, when asked for with `total=true`.
    pub total: Option<i64>,
}

/// A list request, as a POST body (`/records/query`).
#[derive(Deserialize, Default, Clone, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"filter": {"field": "name", "op": "contains", "value": "Li"}, "sort": ["-created_at"], "limit": 20}))]
pub struct ListRequest {
    /// A condition tree: `{"all": [...]}`, `{"any": [...]}`, `{"not": …}` or a leaf
    /// `{"field": "amount", "op": "gt", "value": 1000}`.
    #[schema(value_type = Option<Object>)]
    pub filter: Option<Json_>,
    /// Sort keys, `-` for descending: `["-amount", "name"]`.
    #[serde(default)]
    pub sort: Vec<String>,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
    /// Only these fields in `values`.
    pub fields: Option<Vec<String>>,
    /// Relation fields whose records to include under `expanded`.
    #[serde(default)]
    pub expand: Vec<String>,
    /// The recycle bin: deleted records instead of live ones.
    #[serde(default)]
    pub deleted: bool,
    #[serde(default)]
    pub total: bool,
}

/// A list request, as query parameters (comma-separated lists; `filter` as JSON).
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    pub filter: Option<String>,
    pub sort: Option<String>,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
    pub fields: Option<String>,
    pub expand: Option<String>,
    pub deleted: Option<bool>,
    pub total: Option<bool>,
}

fn split(text: Option<String>) -> Vec<String> {
    text.map(|t| {
        t.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    })
    // No list given is an empty list.
    .unwrap_or_default()
}

impl TryFrom<ListParams> for ListRequest {
    type Error = ApiError;

    fn try_from(p: ListParams) -> Result<Self, ApiError> {
        let filter = match p.filter {
            Some(text) => Some(serde_json::from_str(&text).map_err(|e| {
                ApiError::new(
                    ErrorCode::InvalidCondition,
                    format!("filter is not JSON: {e}"),
                )
            })?),
            None => None,
        };
        Ok(ListRequest {
            filter,
            sort: split(p.sort),
            limit: p.limit,
            cursor: p.cursor,
            fields: p.fields.map(|f| split(Some(f))),
            expand: split(p.expand),
            deleted: p.deleted.unwrap_or(false),
            total: p.total.unwrap_or(false),
        })
    }
}

fn date_context(state: &AppState, ctx: &Ctx) -> DateContext {
    DateContext::new(state.store.now(), ctx.principal.utc_offset_minutes)
}

fn def<'a>(ctx: &'a Ctx, object: &str, action: Action) -> ApiResult<&'a ObjectDef> {
    Ok(object_for(&ctx.principal, &ctx.schema, object, action)?)
}

/// Adds `expanded` with the records the given relation fields point at.
async fn expand(
    state: &AppState,
    ctx: &Ctx,
    def: &ObjectDef,
    fields: &[String],
    records: &[Record],
    bodies: &mut [RecordBody],
) -> ApiResult<()> {
    for name in fields {
        let field = def
            .active_field(name)
            .filter(|f| f.field_type == FieldType::Relation)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidExpand,
                    format!("{name:?} is not a relation field"),
                )
            })?;
        // A relation without a target names no object, so object_for below refuses it.
        let target = field.config.target.clone().unwrap_or_default();
        let Ok(target_def) = object_for(&ctx.principal, &ctx.schema, &target, Action::Read) else {
            continue;
        };
        let ids: BTreeSet<String> = records
            .iter()
            .filter_map(|r| match r.get(name) {
                rapport_core::Value::Text(id) => Some(id),
                _ => None,
            })
            .collect();
        let ids: Vec<String> = ids.into_iter().collect();
        let related = state
            .store
            .records_by_ids(&ctx.principal.workspace_id, target_def, &ids)
            .await?;
        let by_id: BTreeMap<&str, &Record> = related.iter().map(|r| (r.id.as_str(), r)).collect();
        for (record, body) in records.iter().zip(bodies.iter_mut()) {
            if let rapport_core::Value::Text(id) = record.get(name) {
                if let Some(rel) = by_id.get(id.as_str()) {
                    let json = serde_json::to_value(record_body(target_def, rel, None))
                        .map_err(ApiError::internal)?;
                    body.expanded
                        .get_or_insert_with(Map::new)
                        .insert(name.clone(), json);
                }
            }
        }
    }
    Ok(())
}

async fn run_list(
    state: &AppState,
    ctx: &Ctx,
    object: &str,
    req: ListRequest,
) -> ApiResult<RecordList> {
    let d = def(ctx, object, Action::Read)?;
    let filter = match &req.filter {
        Some(json) => {
            Some(Condition::parse(json)?.check(&ctx.schema, object, &date_context(state, ctx))?)
        }
        None => None,
    };
    if let Some(fields) = &req.fields {
        if let Some(unknown) = fields.iter().find(|f| d.active_field(f).is_none()) {
            return Err(ApiError::new(
                ErrorCode::InvalidFields,
                format!("unknown field {unknown:?}"),
            ));
        }
    }
    let query = ListQuery {
        filter,
        sort: req.sort.iter().map(|s| SortKey::parse(s)).collect(),
        limit: req.limit.unwrap_or(DEFAULT_PAGE),
        cursor: req.cursor.clone(),
        deleted: req.deleted,
        with_total: req.total,
    };
    let page = state
        .store
        .list_records(&ctx.principal, &ctx.schema, object, &query)
        .await?;
    let mut data: Vec<RecordBody> = page
        .records
        .iter()
        .map(|r| record_body(d, r, req.fields.as_deref()))
        .collect();
    expand(state, ctx, d, &req.expand, &page.records, &mut data).await?;
    Ok(RecordList {
        data,
        next_cursor: page.next_cursor,
        total: page.total,
    })
}

/// List records with query parameters.
#[utoipa::path(get, path = "/api/v1/objects/{object}/records", tag = "records", params(("object" = String, Path), ListParams),
    responses((status = 200, body = RecordList), (status = 400, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(object): ApiPath<String>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> ApiResult<Json<RecordList>> {
    run_list(&state, &ctx, &object, params.try_into()?)
        .await
        .map(Json)
}

/// List records with a JSON body (for long conditions).
#[utoipa::path(post, path = "/api/v1/objects/{object}/records/query", tag = "records", params(("object" = String, Path)),
    request_body = ListRequest, responses((status = 200, body = RecordList), (status = 400, body = crate::error::ErrorBody)))]
pub async fn query(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(object): ApiPath<String>,
    ApiJson(req): ApiJson<ListRequest>,
) -> ApiResult<Json<RecordList>> {
    run_list(&state, &ctx, &object, req).await.map(Json)
}

/// Create a record.
#[utoipa::path(post, path = "/api/v1/objects/{object}/records", tag = "records", params(("object" = String, Path)),
    request_body = CreateRecord, responses((status = 201, body = RecordBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(object): ApiPath<String>,
    ApiJson(body): ApiJson<CreateRecord>,
) -> ApiResult<(StatusCode, Json<RecordBody>)> {
    let input = RecordInput {
        values: body.values,
        owner_id: body.owner_id,
    };
    let record = state
        .store
        .create_record(&ctx.write(), &ctx.schema, &object, input)
        .await?;
    let d = def(&ctx, &object, Action::Read)?;
    Ok((StatusCode::CREATED, Json(record_body(d, &record, None))))
}

/// The records a batch wrote, as one page.
fn written(ctx: &Ctx, object: &str, records: &[Record]) -> ApiResult<RecordList> {
    let d = def(ctx, object, Action::Read)?;
    Ok(RecordList {
        data: records.iter().map(|r| record_body(d, r, None)).collect(),
        next_cursor: None,
        total: None,
    })
}

/// Create up to 1,000 records; all or nothing.
#[utoipa::path(post, path = "/api/v1/objects/{object}/records/batch/create", tag = "records", params(("object" = String, Path)),
    request_body = BatchCreate, responses((status = 201, body = RecordList), (status = 422, body = crate::error::ErrorBody)))]
pub async fn batch_create(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(object): ApiPath<String>,
    ApiJson(body): ApiJson<BatchCreate>,
) -> ApiResult<(StatusCode, Json<RecordList>)> {
    let inputs = body
        .records
        .into_iter()
        .map(|r| RecordInput {
            values: r.values,
            owner_id: r.owner_id,
        })
        .collect();
    let records = state
        .store
        .create_records(&ctx.write(), &ctx.schema, &object, inputs)
        .await?;
    Ok((StatusCode::CREATED, Json(written(&ctx, &object, &records)?)))
}

/// Update up to 1,000 records; all or nothing.
#[utoipa::path(post, path = "/api/v1/objects/{object}/records/batch/update", tag = "records", params(("object" = String, Path)),
    request_body = BatchUpdate, responses((status = 200, body = RecordList), (status = 422, body = crate::error::ErrorBody)))]
pub async fn batch_update(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(object): ApiPath<String>,
    ApiJson(body): ApiJson<BatchUpdate>,
) -> ApiResult<Json<RecordList>> {
    let updates = body
        .records
        .into_iter()
        .map(|r| RecordUpdate {
            id: r.id,
            values: r.values,
            owner_id: r.owner_id,
            expected_version: r.version,
        })
        .collect();
    let records = state
        .store
        .update_records(&ctx.write(), &ctx.schema, &object, updates)
        .await?;
    Ok(Json(written(&ctx, &object, &records)?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct GetParams {
    /// Comma-separated relation fields to expand.
    pub expand: Option<String>,
    /// Also find a deleted record.
    pub deleted: Option<bool>,
}

fn with_etag(body: RecordBody) -> Response {
    let etag = format!("\"{}\"", body.version);
    ([(header::ETAG, etag)], Json(body)).into_response()
}

/// Read one record.
#[utoipa::path(get, path = "/api/v1/objects/{object}/records/{id}", tag = "records",
    params(("object" = String, Path), ("id" = String, Path), GetParams),
    responses((status = 200, body = RecordBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath((object, id)): ApiPath<(String, String)>,
    ApiQuery(params): ApiQuery<GetParams>,
) -> ApiResult<Response> {
    let record = state
        .store
        .get_record(
            &ctx.principal,
            &ctx.schema,
            &object,
            &id,
            params.deleted.unwrap_or(false),
        )
        .await?;
    let d = def(&ctx, &object, Action::Read)?;
    let mut bodies = vec![record_body(d, &record, None)];
    expand(
        &state,
        &ctx,
        d,
        &split(params.expand),
        std::slice::from_ref(&record),
        &mut bodies,
    )
    .await?;
    bodies
        .pop()
        .map(with_etag)
        .ok_or_else(|| ApiError::internal("no body"))
}

fn if_match(headers: &HeaderMap) -> ApiResult<Option<i64>> {
    match headers.get(header::IF_MATCH) {
        None => Ok(None),
        Some(value) => value
            .to_str()
            .ok()
            .map(|v| v.trim().trim_start_matches("W/").trim_matches('"'))
            .and_then(|v| v.parse().ok())
            .map(Some)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidIfMatch,
                    "If-Match takes the record's version, e.g. \"3\"",
                )
            }),
    }
}

/// Change some fields of a record.
#[utoipa::path(patch, path = "/api/v1/objects/{object}/records/{id}", tag = "records",
    params(("object" = String, Path), ("id" = String, Path), ("If-Match" = Option<String>, Header, description = "the version you read")),
    request_body = UpdateRecord,
    responses((status = 200, body = RecordBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath((object, id)): ApiPath<(String, String)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<UpdateRecord>,
) -> ApiResult<Response> {
    let expected_version = match (if_match(&headers)?, body.version) {
        (Some(a), Some(b)) if a != b => {
            return Err(ApiError::new(
                ErrorCode::InvalidIfMatch,
                "If-Match and version disagree",
            ))
        }
        (a, b) => a.or(b),
    };
    let update = RecordUpdate {
        id,
        values: body.values,
        owner_id: body.owner_id,
        expected_version,
    };
    let record = state
        .store
        .update_record(&ctx.write(), &ctx.schema, &object, update)
        .await?;
    Ok(with_etag(record_body(
        def(&ctx, &object, Action::Read)?,
        &record,
        None,
    )))
}

/// Move a record to the recycle bin (restorable).
#[utoipa::path(delete, path = "/api/v1/objects/{object}/records/{id}", tag = "records",
    params(("object" = String, Path), ("id" = String, Path)), responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath((object, id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    state
        .store
        .set_record_deleted(&ctx.write(), &ctx.schema, &object, &id, true)
        .await
        .map(|_| StatusCode::NO_CONTENT)
        .map_err(ApiError::from)
}

/// Bring a deleted record back.
#[utoipa::path(post, path = "/api/v1/objects/{object}/records/{id}/restore", tag = "records",
    params(("object" = String, Path), ("id" = String, Path)), responses((status = 200, body = RecordBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn undelete(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath((object, id)): ApiPath<(String, String)>,
) -> ApiResult<Json<RecordBody>> {
    let record = state
        .store
        .set_record_deleted(&ctx.write(), &ctx.schema, &object, &id, false)
        .await?;
    Ok(Json(record_body(
        def(&ctx, &object, Action::Read)?,
        &record,
        None,
    )))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HistoryParams {
    /// Entries older than this entry id.
    pub before: Option<i64>,
    pub limit: Option<usize>,
}

/// A record's field history, newest first.
#[utoipa::path(get, path = "/api/v1/objects/{object}/records/{id}/history", tag = "records",
    params(("object" = String, Path), ("id" = String, Path), HistoryParams), responses((status = 200, body = [HistoryEntry])))]
pub async fn history(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath((object, id)): ApiPath<(String, String)>,
    ApiQuery(params): ApiQuery<HistoryParams>,
) -> ApiResult<Json<Vec<HistoryEntry>>> {
    state
        .store
        .history(
            &ctx.principal,
            &ctx.schema,
            &object,
            &id,
            params.before,
            params.limit.unwrap_or(100),
        )
        .await
        .map(Json)
        .map_err(ApiError::from)
}

/// What to restore: the whole record as it was at a moment, or one recorded change.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestoreRequest {
    pub at: Option<DateTime<Utc>>,
    pub change_id: Option<i64>,
}

/// Restore a record to a point in time, or undo one field change. Recorded as a new change.
#[utoipa::path(post, path = "/api/v1/objects/{object}/records/{id}/history/restore", tag = "records",
    params(("object" = String, Path), ("id" = String, Path)), request_body = RestoreRequest,
    responses((status = 200, body = RecordBody), (status = 400, body = crate::error::ErrorBody)))]
pub async fn restore_history(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath((object, id)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<RestoreRequest>,
) -> ApiResult<Json<RecordBody>> {
    let w = ctx.write();
    let record = match (body.at, body.change_id) {
        (Some(at), None) => {
            state
                .store
                .restore_record_to(&w, &ctx.schema, &object, &id, at)
                .await?
        }
        (None, Some(change)) => {
            state
                .store
                .revert_change(&w, &ctx.schema, &object, &id, change)
                .await?
        }
        _ => {
            return Err(ApiError::new(
                ErrorCode::InvalidBody,
                "send exactly one of `at` or `change_id`",
            ))
        }
    };
    Ok(Json(record_body(
        def(&ctx, &object, Action::Read)?,
        &record,
        None,
    )))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RelatedList {
    pub object: String,
    pub field: String,
    pub label: rapport_core::Label,
}

/// The reverse lists of a record: which objects point at it, through which field.
#[utoipa::path(get, path = "/api/v1/objects/{object}/related", tag = "records",
    params(("object" = String, Path)), responses((status = 200, body = [RelatedList])))]
pub async fn related_lists(
    ctx: Ctx,
    ApiPath(object): ApiPath<String>,
) -> ApiResult<Json<Vec<RelatedList>>> {
    def(&ctx, &object, Action::Read)?;
    Ok(Json(
        ctx.schema
            .relations_to(&object)
            .filter(|(o, _)| ctx.principal.can(&o.api_name, Action::Read))
            .map(|(o, f)| RelatedList {
                object: o.api_name.clone(),
                field: f.api_name.clone(),
                label: f
                    .config
                    .reverse_label
                    .clone()
                    .unwrap_or_else(|| o.plural_label.clone()),
            })
            .collect(),
    ))
}

/// Records of `related` whose relation `field` points at this record.
#[utoipa::path(get, path = "/api/v1/objects/{object}/records/{id}/related/{related}/{field}", tag = "records",
    params(("object" = String, Path), ("id" = String, Path), ("related" = String, Path), ("field" = String, Path), ListParams),
    responses((status = 200, body = RecordList)))]
pub async fn related(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath((object, id, related, field)): ApiPath<(String, String, String, String)>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> ApiResult<Json<RecordList>> {
    state
        .store
        .get_record(&ctx.principal, &ctx.schema, &object, &id, false)
        .await?;
    let points_here = ctx
        .schema
        .relations_to(&object)
        .any(|(o, f)| o.api_name == related && f.api_name == field);
    if !points_here {
        return Err(ApiError::not_found("related list"));
    }
    let mut req: ListRequest = params.try_into()?;
    let link = json!({"field": field, "op": "eq", "value": id});
    req.filter = Some(match req.filter.take() {
        Some(other) => json!({"all": [link, other]}),
        None => link,
    });
    Ok(Json(run_list(&state, &ctx, &related, req).await?))
}

/// One CSV cell of a value: text (strings, and the options of a multi-select joined with `;`)
/// is guarded against formulas; numbers, booleans and amounts are written as they are.
fn csv_cell(value: &Json_) -> (String, bool) {
    match value {
        Json_::Null => (String::new(), false),
        Json_::String(s) => (s.clone(), true),
        Json_::Array(items) => (
            items
                .iter()
                .filter_map(Json_::as_str)
                .collect::<Vec<_>>()
                .join(";"),
            true,
        ),
        Json_::Object(map) if map.contains_key("amount") => (
            format!(
                "{} {}",
                map.get("amount").and_then(Json_::as_str).unwrap_or(""),
                map.get("currency").and_then(Json_::as_str).unwrap_or("")
            ),
            false,
        ),
        other => (other.to_string(), false),
    }
}

/// Export the records matching a list request as CSV (UTF-8 with BOM, for Excel). Audited.
#[utoipa::path(post, path = "/api/v1/objects/{object}/records/export", tag = "records", params(("object" = String, Path)),
    request_body = ListRequest, responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(object): ApiPath<String>,
    ApiJson(mut req): ApiJson<ListRequest>,
) -> ApiResult<Response> {
    let d = def(&ctx, &object, Action::Read)?.clone();
    let columns: Vec<String> = match &req.fields {
        Some(fields) => fields.clone(),
        None => d.active_fields().map(|f| f.api_name.clone()).collect(),
    };
    let mut out = String::from("\u{feff}");
    let mut csv = CsvRows::default();
    csv.row(std::iter::once(Cell::Value("id")).chain(columns.iter().map(|c| Cell::Value(c))))
        .map_err(ApiError::internal)?;
    req.limit = Some(1000);
    req.expand.clear();
    let mut rows = 0usize;
    loop {
        let page = run_list(&state, &ctx, &object, req.clone()).await?;
        for record in &page.data {
            let cells: Vec<(String, bool)> = columns
                .iter()
                .map(|column| csv_cell(record.values.get(column).unwrap_or(&Json_::Null)))
                .collect();
            csv.row(
                std::iter::once(Cell::Value(&record.id)).chain(cells.iter().map(
                    |(text, guarded)| {
                        if *guarded {
                            Cell::Text(text)
                        } else {
                            Cell::Value(text)
                        }
                    },
                )),
            )
            .map_err(ApiError::internal)?;
            rows += 1;
        }
        out.push_str(&csv.take().map_err(ApiError::internal)?);
        match page.next_cursor {
            Some(next) if rows < MAX_EXPORT_ROWS => req.cursor = Some(next),
            _ => break,
        }
    }
    audit(
        &state,
        &ctx,
        "export",
        Some(object.clone()),
        "success",
        json!({ "rows": rows, "filter": req.filter }),
    )
    .await?;
    let disposition = format!("attachment; filename=\"{object}.csv\"");
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        out,
    )
        .into_response())
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RepairResult {
    /// The records whose unreadable values were cleared, with the fields.
    pub repaired: Vec<RepairedRecord>,
}

/// Clear every stored value of the object's live records that cannot be read as its field's
/// type (admins; audited). Each repair is a recorded change.
#[utoipa::path(post, path = "/api/v1/objects/{object}/records/repair", tag = "records", params(("object" = String, Path)),
    responses((status = 200, body = RepairResult), (status = 403, body = crate::error::ErrorBody)))]
pub async fn repair(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(object): ApiPath<String>,
) -> ApiResult<Json<RepairResult>> {
    ctx.require_admin(&object)?;
    let repaired = state
        .store
        .repair_records(&ctx.write(), &ctx.schema, &object)
        .await?;
    audit(
        &state,
        &ctx,
        "records.repair",
        Some(object.clone()),
        "success",
        json!({ "repaired": repaired }),
    )
    .await?;
    Ok(Json(RepairResult { repaired }))
}
