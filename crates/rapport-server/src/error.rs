//! The API's one error type: `{"code": "snake_case", "message": …, "details": {…}}`. The code
//! is a variant of the catalogue (`rapport_core::codes::ErrorCode`), which also fixes the HTTP
//! status; `details` is always an object (`{}` when there is nothing to add). Every failure a
//! client can see goes through `ApiError`.
//!
//! A 403 carries what was refused; the `audit` middleware writes it to the audit log, so no
//! handler audits a denial itself.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rapport_core::{CoreError, ErrorCode};
use rapport_store::StoreError;
use serde::Serialize;
use serde_json::{json, Map, Value as Json};

#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub details: Map<String, Json>,
    pub retry_after: Option<u64>,
    /// For a 403: what the caller was refused (an object's name, `metadata`, `users`, …), the
    /// target of the audit entry.
    pub denied: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code from the catalogue (docs/API.md).
    pub code: ErrorCode,
    pub message: String,
    /// More about the error, e.g. `fields` of `validation_failed`; `{}` when there is none.
    #[schema(value_type = Object)]
    pub details: Map<String, Json>,
}

/// What a 403 response tells the `audit` middleware (a response extension).
#[derive(Debug, Clone)]
pub struct Denial {
    pub code: ErrorCode,
    pub message: String,
    pub target: Option<String>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: Map::new(),
            retry_after: None,
            denied: None,
        }
    }

    /// The HTTP status, which belongs to the code.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// Adds one entry to `details`.
    pub fn with_detail(mut self, key: &str, value: impl Serialize) -> Self {
        self.details.insert(key.to_string(), json!(value));
        self
    }

    /// Asks the client to wait this many seconds (`Retry-After`).
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn unauthorized() -> Self {
        Self::new(
            ErrorCode::Unauthenticated,
            "log in or send an API token as `Authorization: Bearer …`",
        )
    }

    /// 403 `forbidden`: the caller may not do this to `target` (audited by the middleware).
    pub fn forbidden(target: impl Into<String>, message: impl Into<String>) -> Self {
        let mut error = Self::new(ErrorCode::Forbidden, message);
        error.denied = Some(target.into());
        error
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    pub fn internal(message: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {message}");
        Self::new(
            ErrorCode::InternalError,
            "something went wrong on our side; it has been logged",
        )
    }
}

impl From<CoreError> for ApiError {
    fn from(error: CoreError) -> Self {
        match error {
            CoreError::Validation(errors) => ApiError::new(
                ErrorCode::ValidationFailed,
                match errors.as_slice() {
                    [one] => one.message.clone(),
                    _ => format!("{} fields failed validation", errors.len()),
                },
            )
            .with_detail("fields", errors),
            CoreError::InvalidCondition { path, message } => ApiError::new(
                ErrorCode::InvalidCondition,
                format!("invalid condition at {path}: {message}"),
            )
            .with_detail("path", path),
            CoreError::InvalidDefinition { code, message } => ApiError::new(code, message),
            CoreError::InvalidFormula(message) => ApiError::new(ErrorCode::InvalidFormula, message),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound { what } => ApiError::not_found(what),
            StoreError::Conflict { code, message } | StoreError::BadRequest { code, message } => {
                ApiError::new(code, message)
            }
            StoreError::Forbidden { object, message } => ApiError::forbidden(object, message),
            StoreError::Core(core) => core.into(),
            StoreError::Bulk(rows) => ApiError::new(
                ErrorCode::BatchValidationFailed,
                format!("{} record(s) failed; nothing was written", rows.len()),
            )
            .with_detail("records", rows),
            other => ApiError::internal(other),
        }
    }
}

impl From<rapport_cdp::CdpError> for ApiError {
    fn from(error: rapport_cdp::CdpError) -> Self {
        use rapport_cdp::CdpError;
        match error {
            CdpError::BadRequest { code, message }
            | CdpError::Unauthorized { code, message }
            | CdpError::Invalid { code, message }
            | CdpError::Conflict { code, message } => ApiError::new(code, message),
            CdpError::RateLimited { retry_after, .. } => {
                ApiError::new(ErrorCode::RateLimited, error.to_string()).retry_after(retry_after)
            }
            CdpError::Overloaded => ApiError::new(
                ErrorCode::IngestOverloaded,
                "ingestion is saturated; retry shortly",
            )
            .retry_after(1),
            CdpError::NotFound { what } => ApiError::not_found(what),
            CdpError::Condition { code, ref path, .. } => {
                ApiError::new(code, error.to_string()).with_detail("path", path)
            }
            CdpError::Store(store) => store.into(),
            CdpError::Internal(message) => ApiError::internal(message),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let denial = (status == StatusCode::FORBIDDEN).then(|| Denial {
            code: self.code,
            message: self.message.clone(),
            target: self.denied,
        });
        let body = ErrorBody {
            code: self.code,
            message: self.message,
            details: self.details,
        };
        let mut response = (status, axum::Json(body)).into_response();
        if let Some(denial) = denial {
            response.extensions_mut().insert(denial);
        }
        if let Some(seconds) = self.retry_after {
            if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
