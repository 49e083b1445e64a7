//! The CDP layer's one error type. Ingestion errors carry the status a Segment client expects
//! (400 for bad requests, 401 for a bad write key, 429 with a retry delay, 503 when the writer is
//! saturated); everything else wraps the store's error.

use rapport_core::ErrorCode;
use rapport_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum CdpError {
    /// The request as a whole is unusable (invalid JSON, too large, truncated gzip, ...).
    #[error("{message}")]
    BadRequest { code: ErrorCode, message: String },
    /// A missing, unknown or archived write key.
    #[error("{message}")]
    Unauthorized { code: ErrorCode, message: String },
    /// The source is over its configured rate; retry after the given seconds.
    #[error("source {source_name} is over its rate of {rate} events per second")]
    RateLimited {
        source_name: String,
        rate: i64,
        retry_after: u64,
    },
    /// The group-commit queue is full or the writer stopped; retry shortly.
    #[error("ingestion is saturated, retry shortly")]
    Overloaded,
    #[error("{what} not found")]
    NotFound { what: &'static str },
    #[error("{message}")]
    Invalid { code: ErrorCode, message: String },
    #[error("{message}")]
    Conflict { code: ErrorCode, message: String },
    /// A segment condition that cannot be accepted; `path` is a JSON pointer into it.
    #[error("invalid condition at {path}: {message}")]
    Condition {
        code: ErrorCode,
        path: String,
        message: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A fault of Rapport itself, not of the request (500).
    #[error("{0}")]
    Internal(String),
}

impl From<rapport_core::CoreError> for CdpError {
    fn from(error: rapport_core::CoreError) -> Self {
        CdpError::Store(error.into())
    }
}

impl CdpError {
    pub fn bad_request(code: ErrorCode, message: impl Into<String>) -> Self {
        CdpError::BadRequest {
            code,
            message: message.into(),
        }
    }

    pub fn invalid(code: ErrorCode, message: impl Into<String>) -> Self {
        CdpError::Invalid {
            code,
            message: message.into(),
        }
    }
}
