//! API names of objects and fields: the identifiers that become table and column names, so they
//! are restricted to a safe alphabet and may never collide with system columns.

use crate::codes::ErrorCode;
use crate::CoreError;

/// Columns every record table has; no field may take these names.
pub const SYSTEM_COLUMNS: &[&str] = &[
    "id",
    "version",
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
    "owner_id",
    "deleted_at",
];

pub const MAX_NAME_LEN: usize = 40;

/// Checks that `name` is lower snake case: `[a-z][a-z0-9_]*`, at most 40 characters, no double
/// underscore (reserved for derived columns such as a currency's code column).
pub fn validate_api_name(name: &str, what: &str) -> Result<(), CoreError> {
    let mut chars = name.chars();
    let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !starts_with_letter
        || !rest_ok
        || name.len() > MAX_NAME_LEN
        || name.contains("__")
        || name.ends_with('_')
    {
        return Err(CoreError::definition(
            ErrorCode::InvalidApiName,
            format!(
                "{what} api name {name:?} must be lower snake case ([a-z][a-z0-9_]*), at most {MAX_NAME_LEN} characters"
            ),
        ));
    }
    Ok(())
}

/// Quotes an identifier that has already passed `validate_api_name` (or is a system column).
pub fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', ""))
}
