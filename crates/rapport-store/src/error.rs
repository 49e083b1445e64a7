//! The storage layer's one error type.

use rapport_core::{CoreError, FieldError};

/// Field errors of one row of a bulk request.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RowErrors {
    pub index: usize,
    pub errors: Vec<FieldError>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{what} not found")]
    NotFound { what: &'static str },
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("{message}")]
    Forbidden { message: String },
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
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

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        StoreError::Conflict {
            code,
            message: message.into(),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        StoreError::Forbidden {
            message: message.into(),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        StoreError::BadRequest {
            code,
            message: message.into(),
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
