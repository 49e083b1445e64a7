//! Request extractors: JSON bodies, query strings and path parameters whose failures become `ApiError`s with
//! stable codes, the request id, and `Ctx` — the authenticated principal of a request with its
//! workspace schema, change source and request id.

use crate::auth::authenticate;
use crate::denials::{Caller, CallerInfo};
use crate::error::ApiError;
use crate::AppState;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use rapport_core::metadata::WorkspaceSchema;
use rapport_core::ErrorCode;
use rapport_core::{Principal, Source};
use rapport_store::records::WriteCtx;
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// A JSON body; malformed JSON, wrong shapes and oversized bodies are 400 / 413 / 415.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let status = rejection.status();
    let text = rejection.body_text();
    match rejection {
        JsonRejection::JsonDataError(_) => ApiError::new(ErrorCode::InvalidBody, text),
        JsonRejection::JsonSyntaxError(_) => ApiError::new(ErrorCode::InvalidJson, text),
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "send the body as Content-Type: application/json",
        ),
        _ if status == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            ErrorCode::PayloadTooLarge,
            "the request body is larger than this server accepts",
        ),
        _ => ApiError::new(ErrorCode::InvalidBody, text),
    }
}

/// A query string; unknown or mistyped parameters are 400 `invalid_query`.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(query_rejection(rejection)),
        }
    }
}

fn query_rejection(rejection: QueryRejection) -> ApiError {
    ApiError::new(ErrorCode::InvalidQuery, rejection.body_text())
}

/// Path parameters; a segment that is not valid UTF-8 or not of the expected type is 400
/// `invalid_path` (axum's own rejection would be plain text).
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => Err(path_rejection(rejection)),
        }
    }
}

fn path_rejection(rejection: PathRejection) -> ApiError {
    match rejection {
        PathRejection::FailedToDeserializePathParams(e) => {
            ApiError::new(ErrorCode::InvalidPath, e.body_text())
        }
        other => ApiError::internal(other.body_text()),
    }
}

/// The id of the request: the caller's `X-Request-Id` when it is sane, else a new one.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Everything a handler needs to act for the caller.
pub struct Ctx {
    pub principal: Principal,
    pub schema: Arc<WorkspaceSchema>,
    pub source: Source,
    pub request_id: String,
    /// The client's address (see `client`).
    pub ip: Option<String>,
    /// Whether the caller authenticated with the session cookie (not a bearer token).
    pub via_session: bool,
}

impl Ctx {
    pub fn write(&self) -> WriteCtx<'_> {
        WriteCtx {
            principal: &self.principal,
            source: self.source,
            request_id: self.request_id.clone(),
        }
    }

    /// Refuses (403, audited against `target`) a caller who is not an administrator.
    pub fn require_admin(&self, target: &str) -> Result<(), ApiError> {
        if self.principal.is_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                target,
                "only administrators may do this",
            ))
        }
    }
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let request_id = parts
            .extensions
            .get::<RequestId>()
            .map(|r| r.0.clone())
            // The request-id layer runs first; a request without one is logged with an empty id.
            .unwrap_or_default();
        let (principal, via_session) = authenticate(state, &parts.headers)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        let schema = state
            .store
            .schema(&principal.workspace_id, principal.metadata_version)
            .await?;
        let declared = parts
            .headers
            .get("x-rapport-source")
            .and_then(|v| v.to_str().ok());
        let source = match declared {
            Some("ui") => Source::Ui,
            Some("import") => Source::Import,
            Some("api") => Source::Api,
            _ if via_session => Source::Ui,
            _ => Source::Api,
        };
        let ip = crate::client::request_client(parts, &state.config.trusted_proxies).to_string();
        if let Some(caller) = parts.extensions.get::<Caller>() {
            caller.identify(CallerInfo {
                workspace_id: principal.workspace_id.clone(),
                user_id: principal.user_id.clone(),
                ip: Some(ip.clone()),
                request_id: request_id.clone(),
            });
        }
        Ok(Ctx {
            principal,
            schema,
            source,
            request_id,
            ip: Some(ip),
            via_session,
        })
    }
}
