//! The domain error type. Every variant carries a stable snake_case code that the API layer
//! passes through to clients unchanged.

use crate::codes::{ErrorCode, FieldCode};
use serde::Serialize;

/// One problem with one field of a record or a definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: FieldCode,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: FieldCode, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CoreError {
    /// Record values that do not satisfy their fields (422 `validation_failed`).
    #[error("{} field(s) failed validation", .0.len())]
    Validation(Vec<FieldError>),
    /// A condition tree that does not parse or does not fit the metadata (400 `invalid_condition`).
    #[error("invalid condition at {path}: {message}")]
    InvalidCondition { path: String, message: String },
    /// An object or field definition that cannot be accepted (422, code given).
    #[error("{message}")]
    InvalidDefinition { code: ErrorCode, message: String },
    /// A formula that does not parse or type-check (422 `invalid_formula`).
    #[error("invalid formula: {0}")]
    InvalidFormula(String),
}

impl CoreError {
    pub fn field(field: impl Into<String>, code: FieldCode, message: impl Into<String>) -> Self {
        CoreError::Validation(vec![FieldError::new(field, code, message)])
    }

    pub fn definition(code: ErrorCode, message: impl Into<String>) -> Self {
        CoreError::InvalidDefinition {
            code,
            message: message.into(),
        }
    }

    pub fn condition(path: impl Into<String>, message: impl Into<String>) -> Self {
        CoreError::InvalidCondition {
            path: path.into(),
            message: message.into(),
        }
    }
}
