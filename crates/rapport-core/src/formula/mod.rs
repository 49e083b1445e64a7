//! Formula fields: a small, safe, Excel-flavoured expression language over the other fields of
//! the same record. A formula is compiled (parsed and type-checked) against the object's
//! metadata, evaluated on every write, and its result stored like any other value so it can be
//! filtered and sorted.
//!
//! # Language
//! - Literals: numbers (`12`, `3.5`, at most 8 fraction digits), text in double quotes with
//!   `\"`, `\\`, `\n` and `\t` escapes, `true`, `false`, `null` (case-insensitive).
//! - Field references: bare api names of the object's active fields, and the system columns of
//!   [`crate::record::system_fields`] (`id`, `created_at`, `updated_at`, `created_by`,
//!   `updated_by`, `owner_id`). Formula and multi-select fields, archived fields and relation
//!   paths (`account.name`) are refused. Fields named `and`, `or`, `not`, `true`, `false` or
//!   `null` cannot be referenced (they read as keywords).
//! - Operators, loosest first: `OR`/`||`; `AND`/`&&`; prefix `NOT`/`!`; comparisons
//!   `= == != <> < <= > >=`; `&` (text concatenation); `+ -`; `* /`; unary `-`.
//! - Functions (case-insensitive): `IF(c, a[, b])`, `AND(..)`, `OR(..)`, `NOT(x)`,
//!   `CONCAT(..)`, `ROUND(x, digits)`, `ABS(x)`, `MIN(..)`, `MAX(..)`, `COALESCE(..)`,
//!   `LEN(s)`, `UPPER(s)`, `LOWER(s)`, `ISBLANK(x)`, `TEXT(x)`, `DAYS_BETWEEN(a, b)`,
//!   `YEAR(d)`, `MONTH(d)`.
//!
//! # Types
//! number (integer, decimal, percent, currency amount), text (text-likes, select, relation and
//! user ids), boolean, date, datetime. Operands are checked at compile time: arithmetic needs
//! numbers, comparisons need one shared type (booleans only with `=`/`!=`; a date does not
//! compare with a datetime), `AND`/`OR`/`NOT`/`IF` conditions need booleans, IF branches and
//! COALESCE/MIN/MAX arguments share one type. `&`, `CONCAT` and `TEXT` take anything. The whole
//! expression must give the field's `result_type`: decimal ← number, text ← text, boolean ←
//! boolean (`null` fits all).
//!
//! # Evaluation
//! - Numbers are exact: `i128` fixed point at 8 digits; `*` and `/` round half away from zero
//!   at that scale; the result is rounded half away from zero to the field's scale.
//! - Null: arithmetic, comparison, `NOT`, `ABS`, `ROUND`, `MIN`/`MAX` (any null argument),
//!   `UPPER`/`LOWER`/`TEXT`, `YEAR`/`MONTH`/`DAYS_BETWEEN` give null for a null input.
//!   `AND`/`OR` are three-valued (`false AND null` is false, `true OR null` is true). `IF` with a
//!   null condition takes the else branch (null when there is none). `&` and `CONCAT` read null
//!   as `""`; `LEN(null)` is 0; `ISBLANK` is true for null and `""`.
//! - Division by zero and overflow (also a final value that does not fit the column) give null.
//!   Text longer than [`crate::value::MAX_TEXT_BYTES`] gives null.
//! - `TEXT` of a number is its shortest exact form (`1234.5`, `3`), of a date `YYYY-MM-DD`, of a
//!   datetime RFC 3339 UTC, of a boolean `true`/`false`.
//! - `DAYS_BETWEEN(a, b)` is `b − a` in whole calendar days; datetimes count by their UTC date.
//!   `YEAR`/`MONTH` of a datetime also use UTC.
//! - A text result of `""` is stored as null, like an empty text field.
//!
//! # Limits
//! At most [`MAX_LEN`] characters, nesting (parentheses, calls, prefix operators) at most
//! [`MAX_DEPTH`] deep, operator chains at most [`MAX_HEIGHT`] deep.

mod eval;
mod lexer;
mod num;
mod parser;
mod types;

#[cfg(test)]
mod tests;

use crate::metadata::{FieldDef, FieldType, FormulaResult, ObjectDef};
use crate::record::Record;
use crate::value::Value;
use crate::CoreError;
use eval::V;
use types::Ty;

/// Longest accepted expression, in characters.
pub const MAX_LEN: usize = 2000;
/// Deepest nesting of parentheses, function calls and prefix operators.
pub const MAX_DEPTH: usize = 32;
/// Tallest expression tree (bounds chains such as `a + b + c + …`).
pub const MAX_HEIGHT: usize = 200;

fn invalid(pos: usize, message: impl AsRef<str>) -> CoreError {
    CoreError::InvalidFormula(format!("{} (at position {pos})", message.as_ref()))
}

/// A compiled formula field: parsed, resolved against its object and type-checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Formula {
    root: parser::Expr,
    result: FormulaResult,
    scale: u8,
    inputs: Vec<String>,
}

impl Formula {
    /// Parses and type-checks `field`'s expression against the object's other fields.
    pub fn compile(field: &FieldDef, object: &ObjectDef) -> Result<Formula, CoreError> {
        if field.field_type != FieldType::Formula {
            return Err(CoreError::InvalidFormula(format!(
                "{} is not a formula field",
                field.api_name
            )));
        }
        let source = field.config.expression.as_deref().unwrap_or("");
        if source.trim().is_empty() {
            return Err(CoreError::InvalidFormula(format!(
                "formula field {} has no expression",
                field.api_name
            )));
        }
        let length = source.chars().count();
        if length > MAX_LEN {
            return Err(CoreError::InvalidFormula(format!(
                "the expression is {length} characters long; the limit is {MAX_LEN}"
            )));
        }
        let tokens = lexer::lex(source)?;
        let (root, inputs) = parser::parse(tokens, object)?;
        let ty = root.ty;
        let result = field.config.result_type.unwrap_or(FormulaResult::Decimal);
        let (wanted, hint) = match result {
            FormulaResult::Decimal => (Ty::Number, ""),
            FormulaResult::Text => (Ty::Text, "; use TEXT(...) or & to make text"),
            FormulaResult::Boolean => (Ty::Boolean, ""),
        };
        if ty != wanted && ty != Ty::Null {
            return Err(CoreError::InvalidFormula(format!(
                "the expression gives {} but the field's result_type needs {}{hint}",
                ty.name(),
                wanted.name()
            )));
        }
        Ok(Formula {
            root,
            result,
            scale: field.scale(),
            inputs: inputs.into_iter().collect(),
        })
    }

    /// Computes the value for a record (uses record.get(name) for field and system values).
    pub fn eval(&self, record: &Record) -> Value {
        match (self.result, eval::eval(&self.root, record)) {
            (FormulaResult::Decimal, V::Num(n)) => num::to_units(n, self.scale)
                .and_then(|units| i64::try_from(units).ok())
                .map_or(Value::Null, Value::Decimal),
            (FormulaResult::Text, V::Text(s)) if !s.is_empty() => Value::Text(s),
            (FormulaResult::Boolean, V::Bool(b)) => Value::Boolean(b),
            _ => Value::Null,
        }
    }

    /// The field names it reads (sorted, without duplicates; system columns included).
    pub fn inputs(&self) -> Vec<String> {
        self.inputs.clone()
    }
}

/// Recomputes every active formula field of `object` on `record` (in place), ignoring fields
/// whose expression fails to compile.
pub fn apply_formulas(object: &ObjectDef, record: &mut Record) {
    for field in object.active_fields() {
        if field.field_type != FieldType::Formula {
            continue;
        }
        if let Ok(formula) = Formula::compile(field, object) {
            let value = formula.eval(record);
            record.values.insert(field.api_name.clone(), value);
        }
    }
}
