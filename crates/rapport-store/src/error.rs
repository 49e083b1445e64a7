//! The storage layer's one error type.

use rapport_core::{CoreError, ErrorCode, FieldError};

/// Field errors of one row of a bulk request.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RowErrors {
    pub index: usize,
    pub errors: Vec<FieldError>,
}

/// A failure that is not about the data (see [`StoreError::transience`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transience {
    /// Conflicting with concurrent work (named for metrics): try the same again.
    Retry(&'static str),
    /// The database cannot be reached or has no room now.
    Unavailable,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{what} not found")]
    NotFound { what: &'static str },
    #[error("{message}")]
    Conflict { code: ErrorCode, message: String },
    /// The caller's role may not do this to `object` (403 `forbidden`, audited).
    #[error("{message}")]
    Forbidden { object: String, message: String },
    #[error("{message}")]
    BadRequest { code: ErrorCode, message: String },
    #[error(transparent)]
    Core(#[from] CoreError),
    #[error("{} row(s) failed validation", .0.len())]
    Bulk(Vec<RowErrors>),
    #[error("configuration: {0}")]
    Config(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

impl StoreError {
    pub fn not_found(what: &'static str) -> Self {
        StoreError::NotFound { what }
    }

    pub fn conflict(code: ErrorCode, message: impl Into<String>) -> Self {
        StoreError::Conflict {
            code,
            message: message.into(),
        }
    }

    pub fn forbidden(object: impl Into<String>, message: impl Into<String>) -> Self {
        StoreError::Forbidden {
            object: object.into(),
            message: message.into(),
        }
    }

    pub fn bad_request(code: ErrorCode, message: impl Into<String>) -> Self {
        StoreError::BadRequest {
            code,
            message: message.into(),
        }
    }

    /// Whether the failure says nothing about the data: the same work may succeed if tried
    /// again (`Some(Retry)`) or later, once the database is reachable (`Some(Unavailable)`).
    pub fn transience(&self) -> Option<Transience> {
        let StoreError::Db(e) = self else {
            return None;
        };
        match e {
            sqlx::Error::Database(db) => match db.code().as_deref() {
                Some("40P01") => Some(Transience::Retry("deadlock")),
                Some("40001") => Some(Transience::Retry("serialization")),
                // SQLite's SQLITE_BUSY and SQLITE_LOCKED, with their extended codes.
                Some("5" | "6" | "261" | "262" | "517") => Some(Transience::Retry("busy")),
                // PostgreSQL shutting down or out of connections.
                Some("57P01" | "57P02" | "57P03" | "53300") => Some(Transience::Unavailable),
                _ => None,
            },
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed => Some(Transience::Unavailable),
            _ => None,
        }
    }

    /// The column named by a unique-constraint violation, if this is one.
    pub fn unique_violation(&self) -> Option<String> {
        let StoreError::Db(sqlx::Error::Database(db)) = self else {
            return None;
        };
        if !matches!(db.kind(), sqlx::error::ErrorKind::UniqueViolation) {
            return None;
        }
        if let Some(constraint) = db.constraint() {
            return Some(constraint.to_string());
        }
        // SQLite: "UNIQUE constraint failed: table.column"
        db.message()
            .rsplit_once('.')
            .map(|(_, column)| column.trim().to_string())
    }
}
