//! Files of attachment fields — uploaded for one object's field by whoever may create or
//! update its records, downloaded by whoever may read them — and the national region list
//! that address fields take their regions from.

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, ApiQuery, Ctx};
use crate::AppState;
use axum::body::Body;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rapport_core::regions::Region;
use rapport_core::{Action, ErrorCode};
use rapport_store::files::{StoredFile, Upload};
use serde::Deserialize;

/// The largest request an upload may be: the largest file any field takes, and room for the
/// multipart framing.
pub const MAX_UPLOAD_BYTES: usize = ((rapport_core::metadata::MAX_SIZE_MB as usize) << 20) + 65_536;

fn invalid_upload(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidUpload, message)
}

/// Upload a file for an attachment field (multipart/form-data, one part named `file`); a
/// record write then names it by id. Uploads no record takes are deleted after a day.
#[utoipa::path(post, path = "/api/v1/objects/{object}/fields/{field}/files", tag = "records",
    params(("object" = String, Path), ("field" = String, Path)),
    request_body(content_type = "multipart/form-data", description = "One part named `file`."),
    responses((status = 201, body = StoredFile), (status = 400, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 413, body = crate::error::ErrorBody), (status = 415, body = crate::error::ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath((object, field)): ApiPath<(String, String)>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<StoredFile>)> {
    let p = &ctx.principal;
    let action = if p.can(&object, Action::Create) {
        Action::Create
    } else {
        Action::Update
    };
    let def = rapport_store::records::object_for(p, &ctx.schema, &object, action)?;
    let field_def = def
        .active_field(&field)
        .ok_or_else(|| ApiError::not_found("field"))?;
    let mut multipart =
        multipart.map_err(|e| invalid_upload(format!("not a multipart upload: {e}")))?;
    let limit = field_def.max_file_bytes();
    loop {
        let part = multipart.next_field().await.map_err(part_error)?;
        let Some(mut part) = part else {
            return Err(invalid_upload("the upload has no part named file"));
        };
        if part.name() != Some("file") {
            continue;
        }
        let name = part.file_name().unwrap_or("file").to_string();
        let claimed = part.content_type().map(str::to_string);
        let mut content = Vec::new();
        while let Some(chunk) = part.chunk().await.map_err(part_error)? {
            // Read no further than one byte past the limit: enough to refuse it.
            if content.len() + chunk.len() > limit {
                content.extend_from_slice(&chunk[..=limit - content.len()]);
                break;
            }
            content.extend_from_slice(&chunk);
        }
        let file = state
            .store
            .save_file(
                &p.workspace_id,
                def,
                field_def,
                Upload {
                    name: &name,
                    claimed_type: claimed.as_deref(),
                    content,
                },
                &p.user_id,
            )
            .await?;
        return Ok((StatusCode::CREATED, Json(file)));
    }
}

fn part_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            ErrorCode::FileTooLarge,
            "the file is larger than any attachment field takes",
        )
    } else {
        invalid_upload(format!("the upload could not be read: {}", e.body_text()))
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DownloadParams {
    /// Always as a download, even a picture.
    pub download: Option<bool>,
}

/// A file of an attachment field: pictures inline (so `<img>` shows them), anything else as
/// a download. Refused (403) to a caller who may not read the field's object.
#[utoipa::path(get, path = "/api/v1/files/{id}", tag = "records",
    params(("id" = String, Path), DownloadParams),
    responses((status = 200, description = "The file's content"), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn download(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
    ApiQuery(params): ApiQuery<DownloadParams>,
) -> ApiResult<Response> {
    let Some((file, content)) = state.store.file(&ctx.principal.workspace_id, &id).await? else {
        return Err(ApiError::not_found("file"));
    };
    rapport_store::records::object_for(&ctx.principal, &ctx.schema, &file.object, Action::Read)?;
    let picture = rapport_core::files::sniff_image(&content).is_some();
    let disposition = if picture && !params.download.unwrap_or(false) {
        "inline"
    } else {
        "attachment"
    };
    let ascii: String = file
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, file.content_type.clone()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "{disposition}; filename=\"{ascii}\"; filename*=UTF-8''{}",
                    crate::headers::percent_encode(&file.name)
                ),
            ),
            // A file is never changed under its id.
            (header::CACHE_CONTROL, "private, max-age=86400".to_string()),
            (
                header::CONTENT_SECURITY_POLICY,
                "sandbox; default-src 'none'; style-src 'unsafe-inline'".to_string(),
            ),
        ],
        Body::from(content),
    )
        .into_response())
}

/// The national region list (省 / 市 / 区县 with the statistics bureau's codes) that address
/// fields name their region from.
#[utoipa::path(get, path = "/api/v1/regions", tag = "records",
    responses((status = 200, body = [Region])))]
pub async fn regions(_ctx: Ctx) -> Response {
    (
        [(header::CACHE_CONTROL, "private, max-age=86400")],
        Json(rapport_core::regions::tree()),
    )
        .into_response()
}
