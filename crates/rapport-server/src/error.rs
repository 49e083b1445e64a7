//! The API's one error type: `{"code": "snake_case", "message": …, "details": …}` with the
//! right HTTP status. Every failure a client can see goes through `ApiError`; codes are stable
//! and documented in docs/API.md.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rapport_core::CoreError;
use rapport_store::StoreError;
use serde::Serialize;
use serde_json::{json, Value as Json};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Json,
    pub retry_after: Option<u64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `validation_failed`.
    pub code: String,
    pub message: String,
    #[schema(value_type = Object)]
    pub details: Json,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: Json::Null,
            retry_after: None,
        }
    }

    pub fn with_details(mut self, details: Json) -> Self {
        self.details = details;
        self
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "log in or send an API token as `Authorization: Bearer …`",
        )
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    pub fn internal(message: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {message}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "something went wrong on our side; it has been logged",
        )
    }
}

impl From<CoreError> for ApiError {
    fn from(error: CoreError) -> Self {
        match error {
            CoreError::Validation(errors) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                match errors.as_slice() {
                    [one] => one.message.clone(),
                    _ => format!("{} fields failed validation", errors.len()),
                },
            )
            .with_details(json!({ "fields": errors })),
            CoreError::InvalidCondition { path, message } => ApiError::bad_request(
                "invalid_condition",
                format!("invalid condition at {path}: {message}"),
            )
            .with_details(json!({ "path": path })),
            CoreError::InvalidDefinition { code, message } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
            }
            CoreError::InvalidFormula(message) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_formula", message)
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound { what } => ApiError::not_found(what),
            StoreError::Conflict { code, message } => {
                ApiError::new(StatusCode::CONFLICT, code, message)
            }
            StoreError::Forbidden { message } => ApiError::forbidden(message),
            StoreError::BadRequest { code, message } => ApiError::bad_request(code, message),
            StoreError::Core(core) => core.into(),
            StoreError::Bulk(rows) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "batch_validation_failed",
                format!("{} record(s) failed; nothing was written", rows.len()),
            )
            .with_details(json!({ "records": rows })),
            other => ApiError::internal(other),
        }
    }
}

impl From<rapport_cdp::CdpError> for ApiError {
    fn from(error: rapport_cdp::CdpError) -> Self {
        use rapport_cdp::CdpError;
        match error {
            CdpError::BadRequest { code, message } => ApiError::bad_request(code, message),
            CdpError::Unauthorized { code, message } => {
                ApiError::new(StatusCode::UNAUTHORIZED, code, message)
            }
            CdpError::RateLimited { retry_after, .. } => {
                let mut e = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    error.to_string(),
                );
                e.retry_after = Some(retry_after);
                e
            }
            CdpError::Overloaded => {
                let mut e = ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "ingest_overloaded",
                    "ingestion is saturated; retry shortly",
                );
                e.retry_after = Some(1);
                e
            }
            CdpError::NotFound { what } => ApiError::not_found(what),
            CdpError::Invalid { code, message } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
            }
            CdpError::Conflict { code, message } => {
                ApiError::new(StatusCode::CONFLICT, code, message)
            }
            CdpError::Condition { code, ref path, .. } => {
                ApiError::new(StatusCode::BAD_REQUEST, code, error.to_string())
                    .with_details(json!({ "path": path }))
            }
            CdpError::Store(store) => store.into(),
            CdpError::Internal(message) => ApiError::internal(message),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: self.code.to_string(),
            message: self.message,
            details: self.details,
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
