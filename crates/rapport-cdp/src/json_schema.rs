//! The JSON Schema subset the schema registry validates event properties and traits against,
//! and the inference of a schema from observed payloads ("register in one step").
//!
//! Owns: the subset and its limits, checked when a document is compiled ([`Schema::compile`]);
//! the [`Violation`]s a value gets ([`Schema::validate`]); and inferring or widening documents
//! ([`infer`], [`widen`]). Checking values is done by the `jsonschema` crate (draft 2020-12,
//! formats asserted), built once per schema. This module does no I/O and knows nothing of
//! storage or HTTP. It never ignores a keyword it does not understand: the schema is rejected
//! with the JSON pointer of the offending place instead.
//!
//! Supported keywords:
//! - `type` (a name or an array of `string`, `number`, `integer`, `boolean`, `object`, `array`,
//!   `null`); an integer is a number with no fractional part (`1.0` is an integer);
//! - objects: `properties`, `required`, `additionalProperties` (a boolean or a schema; default
//!   `true`);
//! - any value: `enum`, `const` (numbers compare by value, so `1` equals `1.0`);
//! - numbers: `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum` (numbers, not the
//!   draft-4 booleans);
//! - strings: `minLength`, `maxLength` (counted in Unicode scalar values, so `"你好"` has length
//!   2), `pattern` (a Rust `regex`, searched unanchored as JSON Schema requires), `format`
//!   (`date-time` per RFC 3339, `date`, `email`, `uri`; all checked);
//! - arrays: `items` (a single schema), `minItems`, `maxItems`;
//! - annotations, accepted and ignored: `title`, `description`, `$schema`, `$id`, `examples`,
//!   `default`.
//!
//! `true` and `false` are schemas too. Anything else (`$ref`, `oneOf`, `anyOf`, `allOf`, `not`,
//! `if`, `patternProperties`, other formats, …) is a [`SchemaError`]. Schemas nest at most
//! [`MAX_DEPTH`] levels, so validation recursion is bounded by the schema, never by the value.
//!
//! What this module keeps around the crate:
//! - the walk above, which also hands the crate the document without its annotations (so a
//!   `$schema` naming another draft, or an odd `$id`, changes nothing);
//! - `pattern`, a custom keyword of the crate running the `regex::Regex` the walk compiled (with
//!   a size limit): the crate reads patterns as ECMA-262, where `\w` and `\d` are ASCII only,
//!   while our patterns are documented as Rust regexes;
//! - the `email` format (valid when `rapport_core::normalize::email` accepts it, as everywhere
//!   else in Rapport) and the `uri` format (a scheme, then URI characters with valid
//!   percent-escapes and at most one `#`: the crate's RFC 3986 grammar would refuse page URLs
//!   such as `?filter[name]=x`); `date` and `date-time` are the crate's (a leap second is valid
//!   at 23:59:60 UTC only);
//! - turning the crate's errors into violations: stable codes and messages, one violation per
//!   unknown or missing property, each at the path of the offending value; a type mismatch hides
//!   whatever else its subschema says about that value; depth-first order (a value's own checks,
//!   then its missing properties, then its items by index or properties by name); at most
//!   [`MAX_VIOLATIONS`].

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::paths::Location;
use jsonschema::{Draft, Keyword, ValidationError, Validator};
use regex::{Regex, RegexBuilder};
use serde::Serialize;
use serde_json::{Map, Number, Value};

/// The deepest a schema may nest (the root is level 1; each `properties` entry, `items` or
/// `additionalProperties` schema is one level further). `enum` and `const` values are held to
/// the same depth.
pub const MAX_DEPTH: usize = 32;

/// [`Schema::validate`] stops after this many violations.
pub const MAX_VIOLATIONS: usize = 20;

/// Largest compiled program a `pattern` may produce (the `regex` crate's default); a pattern
/// such as `\w{5000}` is refused rather than compiled.
const PATTERN_SIZE_LIMIT: usize = 10 << 20;

/// The stable codes a [`Violation`] carries.
pub mod code {
    pub const TYPE_MISMATCH: &str = "type_mismatch";
    pub const REQUIRED_MISSING: &str = "required_missing";
    pub const UNKNOWN_PROPERTY: &str = "unknown_property";
    pub const ENUM_MISMATCH: &str = "enum_mismatch";
    pub const CONST_MISMATCH: &str = "const_mismatch";
    pub const TOO_SMALL: &str = "too_small";
    pub const TOO_LARGE: &str = "too_large";
    pub const TOO_SHORT: &str = "too_short";
    pub const TOO_LONG: &str = "too_long";
    pub const PATTERN_MISMATCH: &str = "pattern_mismatch";
    pub const FORMAT_MISMATCH: &str = "format_mismatch";
    pub const TOO_FEW_ITEMS: &str = "too_few_items";
    pub const TOO_MANY_ITEMS: &str = "too_many_items";
    /// The value sits where the schema is `false`.
    pub const NOT_ALLOWED: &str = "not_allowed";
}

/// One way a value fails its schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// JSON pointer to the offending value (for a missing property, where it should be).
    pub path: String,
    /// One of [`code`].
    pub code: &'static str,
    pub message: String,
}

/// Why a schema document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid schema at {}: {message}", display_pointer(.pointer))]
pub struct SchemaError {
    /// JSON pointer into the schema document (`""` is the root).
    pub pointer: String,
    pub message: String,
}

fn display_pointer(pointer: &str) -> &str {
    if pointer.is_empty() {
        "the root"
    } else {
        pointer
    }
}

fn schema_error(pointer: &str, message: impl Into<String>) -> SchemaError {
    SchemaError {
        pointer: pointer.to_owned(),
        message: message.into(),
    }
}

/// A compiled schema: validated once when registered, cheap to evaluate per event.
#[derive(Debug, Clone)]
pub struct Schema {
    document: Value,
    validator: Validator,
}

impl Schema {
    /// Compiles a JSON Schema document of the supported subset.
    pub fn compile(doc: &Value) -> Result<Schema, SchemaError> {
        let mut patterns = HashMap::new();
        let checked = compile_node(doc, "", 1, &mut patterns)?;
        let validator = jsonschema::options()
            .with_draft(Draft::Draft202012)
            .should_validate_formats(true)
            .with_format("email", |s: &str| {
                rapport_core::normalize::email(s).is_some()
            })
            .with_format("uri", is_uri)
            .with_keyword(
                "pattern",
                move |_: &Map<String, Value>, value: &Value, _: Location| {
                    pattern_keyword(&patterns, value)
                },
            )
            .build(&checked)
            .map_err(|e| schema_error(e.instance_path().as_str(), e.to_string()))?;
        Ok(Schema {
            document: doc.clone(),
            validator,
        })
    }

    /// Every violation of `value` (at most [`MAX_VIOLATIONS`]); empty when it fits.
    pub fn validate(&self, value: &Value) -> Vec<Violation> {
        if self.validator.is_valid(value) {
            return Vec::new();
        }
        let mut findings = Vec::new();
        for error in self.validator.iter_errors(value) {
            self.explain(&error, value, &mut findings);
        }
        findings.sort_by(|a, b| a.order.cmp(&b.order));
        let mut violations = Vec::new();
        // Under a type mismatch, the rest of what the value's subschema says (`enum`, `required`,
        // `items`, ...) is left out. A value has one subschema, so that is all that sorts under it.
        let mut mismatched: Option<Vec<Step>> = None;
        for finding in findings {
            if mismatched
                .as_ref()
                .is_some_and(|under| finding.order.starts_with(under))
            {
                continue;
            }
            if finding.violation.code == code::TYPE_MISMATCH {
                mismatched = Some(finding.anchor().to_vec());
            }
            violations.push(finding.violation);
            if violations.len() == MAX_VIOLATIONS {
                break;
            }
        }
        violations
    }

    /// The top-level property names the schema declares, sorted.
    pub fn declared_properties(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .document
            .get("properties")
            .and_then(Value::as_object)
            .map(|properties| properties.keys().cloned().collect())
            .unwrap_or_default();
        names.sort();
        names
    }

    /// The document the schema was compiled from.
    pub fn document(&self) -> &Value {
        &self.document
    }

    /// Turns one error of the crate into violations (several for unknown properties).
    fn explain(&self, error: &ValidationError<'_>, root: &Value, out: &mut Vec<Finding>) {
        use ValidationErrorKind as Kind;
        let path = error.instance_path().as_str();
        let schema_path = error.schema_path().as_str();
        let (anchor, located) = locate(root, path);
        let here = located.unwrap_or_else(|| error.instance().as_ref());
        let length = || here.as_str().map_or(0, |s| s.chars().count());
        let count = || here.as_array().map_or(0, Vec::len);
        // The rank orders the checks of one value: type (or `false`), const, enum, then those of
        // its kind in the order the module header lists them.
        let (rank, code, message) = match error.kind() {
            Kind::AdditionalProperties { .. } => {
                return self.unknown_properties(schema_path, path, &anchor, here, out);
            }
            Kind::FalseSchema if ends_at_additional_properties(schema_path) => {
                return self.unknown_properties(schema_path, path, &anchor, here, out);
            }
            Kind::Required { property } => {
                return self.missing_property(schema_path, path, &anchor, here, property, out);
            }
            Kind::Type { kind } => (
                0,
                code::TYPE_MISMATCH,
                format!(
                    "expected {}, found {}",
                    describe_types(kind),
                    value_kind(here)
                ),
            ),
            Kind::FalseSchema => (0, code::NOT_ALLOWED, "no value is allowed here".to_owned()),
            Kind::Constant { expected_value } => (
                1,
                code::CONST_MISMATCH,
                format!("must be {}", preview(std::slice::from_ref(expected_value))),
            ),
            Kind::Enum { options } => (
                2,
                code::ENUM_MISMATCH,
                format!(
                    "must be one of {}",
                    preview(options.as_array().map(Vec::as_slice).unwrap_or_default())
                ),
            ),
            Kind::Minimum { limit } => (
                3,
                code::TOO_SMALL,
                format!("must be at least {}", Bound(limit)),
            ),
            Kind::ExclusiveMinimum { limit } => (
                4,
                code::TOO_SMALL,
                format!("must be greater than {}", Bound(limit)),
            ),
            Kind::Maximum { limit } => (
                5,
                code::TOO_LARGE,
                format!("must be at most {}", Bound(limit)),
            ),
            Kind::ExclusiveMaximum { limit } => (
                6,
                code::TOO_LARGE,
                format!("must be less than {}", Bound(limit)),
            ),
            Kind::MinLength { limit } => (
                3,
                code::TOO_SHORT,
                format!(
                    "must be at least {limit} characters long, found {}",
                    length()
                ),
            ),
            Kind::MaxLength { limit } => (
                4,
                code::TOO_LONG,
                format!(
                    "must be at most {limit} characters long, found {}",
                    length()
                ),
            ),
            Kind::Custom { keyword, message } if keyword == "pattern" => {
                (5, code::PATTERN_MISMATCH, message.clone())
            }
            Kind::Format { format } => (
                6,
                code::FORMAT_MISMATCH,
                format!("must be {}", describe_format(format)),
            ),
            Kind::MinItems { limit } => (
                3,
                code::TOO_FEW_ITEMS,
                format!("must have at least {limit} items, found {}", count()),
            ),
            Kind::MaxItems { limit } => (
                4,
                code::TOO_MANY_ITEMS,
                format!("must have at most {limit} items, found {}", count()),
            ),
            // Keywords outside the subset never compile; should the crate report anything
            // else, it is still a refusal, in the crate's words.
            _ => (7, code::NOT_ALLOWED, error.to_string()),
        };
        out.push(Finding {
            order: [anchor.as_slice(), &[Step::Here(rank)]].concat(),
            violation: Violation {
                path: path.to_owned(),
                code,
                message,
            },
        });
    }

    /// The violation for a property `required` names and `object` lacks.
    fn missing_property(
        &self,
        schema_path: &str,
        path: &str,
        anchor: &[Step],
        object: &Value,
        property: &Value,
        out: &mut Vec<Finding>,
    ) {
        let name = property.as_str().unwrap_or_default();
        // jsonschema 0.61 also reports a present property as missing when the object is closed,
        // requires exactly one name and does not declare it: only its absence counts.
        if object.get(name).is_some() {
            return;
        }
        let place = self
            .document
            .pointer(schema_path)
            .and_then(Value::as_array)
            .and_then(|names| names.iter().position(|n| n == property))
            .unwrap_or(usize::MAX);
        out.push(Finding {
            order: [anchor, &[Step::Required(place)]].concat(),
            violation: Violation {
                path: child_pointer(path, name),
                code: code::REQUIRED_MISSING,
                message: format!("required property \"{name}\" is missing"),
            },
        });
    }

    /// One violation per property of `object` that the subschema holding the
    /// `additionalProperties: false` at `schema_path` does not declare.
    fn unknown_properties(
        &self,
        schema_path: &str,
        path: &str,
        anchor: &[Step],
        object: &Value,
        out: &mut Vec<Finding>,
    ) {
        let Value::Object(map) = object else {
            return;
        };
        let node = schema_path.rsplit_once('/').map_or("", |(node, _)| node);
        let declared = self
            .document
            .pointer(node)
            .and_then(|n| n.get("properties"))
            .and_then(Value::as_object);
        for name in map
            .keys()
            .filter(|name| !declared.is_some_and(|d| d.contains_key(*name)))
        {
            out.push(Finding {
                order: [anchor, &[Step::Key(name.clone()), Step::Here(0)]].concat(),
                violation: Violation {
                    path: child_pointer(path, name),
                    code: code::UNKNOWN_PROPERTY,
                    message: format!("property \"{name}\" is not declared in the schema"),
                },
            });
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Compiling: the allow-list walk
// ---------------------------------------------------------------------------------------------

const TYPE_NAMES: [&str; 7] = [
    "string", "number", "integer", "boolean", "object", "array", "null",
];

/// The formats a schema may name, and how a violation describes each.
const FORMATS: [(&str, &str); 4] = [
    ("date-time", "an RFC 3339 date-time"),
    ("date", "a date (YYYY-MM-DD)"),
    ("email", "an email address"),
    ("uri", "an absolute URI"),
];

fn describe_format(name: &str) -> String {
    FORMATS
        .iter()
        .find(|(known, _)| *known == name)
        .map_or_else(
            || format!("a valid {name}"),
            |(_, described)| (*described).to_owned(),
        )
}

fn child_pointer(pointer: &str, segment: &str) -> String {
    let mut out = pointer.to_owned();
    out.push('/');
    for c in segment.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            _ => out.push(c),
        }
    }
    out
}

fn value_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if is_integer(n) => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn is_integer(n: &Number) -> bool {
    n.is_i64()
        || n.is_u64()
        || n.as_f64()
            .is_some_and(|f| f.is_finite() && f.fract() == 0.0)
}

/// Checks `doc` against the subset and returns what the crate is given: the same schema without
/// its annotations. Compiled patterns are collected in `patterns`, keyed by their text.
fn compile_node(
    doc: &Value,
    pointer: &str,
    depth: usize,
    patterns: &mut HashMap<String, Regex>,
) -> Result<Value, SchemaError> {
    if depth > MAX_DEPTH {
        return Err(schema_error(
            pointer,
            format!("schemas may nest at most {MAX_DEPTH} levels"),
        ));
    }
    let map = match doc {
        Value::Bool(_) => return Ok(doc.clone()),
        Value::Object(map) => map,
        other => {
            return Err(schema_error(
                pointer,
                format!(
                    "a schema must be an object or a boolean, found {}",
                    value_kind(other)
                ),
            ))
        }
    };
    let mut checked = Map::new();
    let (mut minimum, mut maximum) = (None, None);
    let (mut min_length, mut max_length) = (None, None);
    let (mut min_items, mut max_items) = (None, None);
    for (key, value) in map {
        let at = child_pointer(pointer, key);
        let kept = match key.as_str() {
            "type" => {
                check_types(value, &at)?;
                value.clone()
            }
            "properties" => {
                let Value::Object(properties) = value else {
                    return Err(schema_error(&at, "\"properties\" must be an object"));
                };
                let mut kept = Map::new();
                for (name, sub) in properties {
                    let sub = compile_node(sub, &child_pointer(&at, name), depth + 1, patterns)?;
                    kept.insert(name.clone(), sub);
                }
                Value::Object(kept)
            }
            "required" => {
                check_required(value, &at)?;
                value.clone()
            }
            "additionalProperties" => compile_node(value, &at, depth + 1, patterns)?,
            "items" => {
                if value.is_array() {
                    return Err(schema_error(
                        &at,
                        "\"items\" must be a single schema (the array form is not supported)",
                    ));
                }
                compile_node(value, &at, depth + 1, patterns)?
            }
            "enum" => {
                let Value::Array(values) = value else {
                    return Err(schema_error(&at, "\"enum\" must be an array"));
                };
                if values.is_empty() {
                    return Err(schema_error(&at, "\"enum\" must list at least one value"));
                }
                for (i, v) in values.iter().enumerate() {
                    check_value_depth(v, &format!("{at}/{i}"))?;
                }
                value.clone()
            }
            "const" => {
                check_value_depth(value, &at)?;
                value.clone()
            }
            "minimum" => {
                minimum = Some(compile_number(value, &at, key)?);
                value.clone()
            }
            "maximum" => {
                maximum = Some(compile_number(value, &at, key)?);
                value.clone()
            }
            "exclusiveMinimum" | "exclusiveMaximum" => {
                compile_number(value, &at, key)?;
                value.clone()
            }
            "minLength" => Value::from(*min_length.insert(compile_count(value, &at, key)?)),
            "maxLength" => Value::from(*max_length.insert(compile_count(value, &at, key)?)),
            "minItems" => Value::from(*min_items.insert(compile_count(value, &at, key)?)),
            "maxItems" => Value::from(*max_items.insert(compile_count(value, &at, key)?)),
            "pattern" => {
                let Value::String(pattern) = value else {
                    return Err(schema_error(&at, "\"pattern\" must be a string"));
                };
                let regex = RegexBuilder::new(pattern)
                    .size_limit(PATTERN_SIZE_LIMIT)
                    .build()
                    .map_err(|e| schema_error(&at, pattern_error_message(&e)))?;
                patterns.insert(pattern.clone(), regex);
                value.clone()
            }
            "format" => {
                let Value::String(name) = value else {
                    return Err(schema_error(&at, "\"format\" must be a string"));
                };
                if !FORMATS.iter().any(|(known, _)| known == name) {
                    return Err(schema_error(
                        &at,
                        format!(
                            "unsupported format \"{name}\" (supported: date-time, date, email, uri)"
                        ),
                    ));
                }
                value.clone()
            }
            "title" | "description" | "$schema" | "$id" | "examples" | "default" => continue,
            _ => return Err(schema_error(&at, format!("unsupported keyword \"{key}\""))),
        };
        checked.insert(key.clone(), kept);
    }
    check_order(pointer, "minimum", minimum, "maximum", maximum)?;
    check_order(pointer, "minLength", min_length, "maxLength", max_length)?;
    check_order(pointer, "minItems", min_items, "maxItems", max_items)?;
    Ok(Value::Object(checked))
}

fn pattern_error_message(error: &regex::Error) -> String {
    match error {
        regex::Error::CompiledTooBig(limit) => format!(
            "pattern compiles to more than {limit} bytes; Unicode classes repeated many times \
             (such as \\w{{1,255}}) are large: use an ASCII class like [A-Za-z0-9_] or (?-u:\\w)"
        ),
        other => format!("invalid pattern: {other}"),
    }
}

fn check_types(value: &Value, at: &str) -> Result<(), SchemaError> {
    let check_name = |at: &str, name: &str| {
        if TYPE_NAMES.contains(&name) {
            Ok(())
        } else {
            Err(schema_error(
                at,
                format!(
                    "unknown type \"{name}\" (expected string, number, integer, boolean, object, array or null)"
                ),
            ))
        }
    };
    match value {
        Value::String(name) => check_name(at, name),
        Value::Array(names) => {
            if names.is_empty() {
                return Err(schema_error(at, "\"type\" must list at least one type"));
            }
            let mut seen = BTreeSet::new();
            for (i, name) in names.iter().enumerate() {
                let at = format!("{at}/{i}");
                let Value::String(name) = name else {
                    return Err(schema_error(&at, "a type name must be a string"));
                };
                check_name(&at, name)?;
                if !seen.insert(name.as_str()) {
                    return Err(schema_error(
                        &at,
                        format!("type \"{name}\" is listed twice"),
                    ));
                }
            }
            Ok(())
        }
        _ => Err(schema_error(
            at,
            "\"type\" must be a type name or an array of type names",
        )),
    }
}

fn check_required(value: &Value, at: &str) -> Result<(), SchemaError> {
    let Value::Array(names) = value else {
        return Err(schema_error(at, "\"required\" must be an array of strings"));
    };
    let mut seen = BTreeSet::new();
    for (i, name) in names.iter().enumerate() {
        let Value::String(name) = name else {
            return Err(schema_error(
                &format!("{at}/{i}"),
                "a required property name must be a string",
            ));
        };
        if !seen.insert(name.as_str()) {
            return Err(schema_error(
                &format!("{at}/{i}"),
                format!("property \"{name}\" is listed twice"),
            ));
        }
    }
    Ok(())
}

fn compile_number(value: &Value, at: &str, key: &str) -> Result<Num, SchemaError> {
    match value {
        Value::Number(n) => {
            Num::of(n).ok_or_else(|| schema_error(at, format!("\"{key}\" must be a finite number")))
        }
        _ => Err(schema_error(at, format!("\"{key}\" must be a number"))),
    }
}

fn compile_count(value: &Value, at: &str, key: &str) -> Result<u64, SchemaError> {
    let refuse = || schema_error(at, format!("\"{key}\" must be a non-negative integer"));
    let Value::Number(n) = value else {
        return Err(refuse());
    };
    if let Some(u) = n.as_u64() {
        return Ok(u);
    }
    match n.as_f64() {
        Some(f) if f >= 0.0 && f.fract() == 0.0 && f <= u64::MAX as f64 => Ok(f as u64),
        _ => Err(refuse()),
    }
}

/// A lower bound above its upper bound accepts nothing: refused at the lower bound.
fn check_order<T: PartialOrd + fmt::Display>(
    pointer: &str,
    min_key: &str,
    min: Option<T>,
    max_key: &str,
    max: Option<T>,
) -> Result<(), SchemaError> {
    match (min, max) {
        (Some(lo), Some(hi)) if lo > hi => Err(schema_error(
            &child_pointer(pointer, min_key),
            format!("\"{min_key}\" ({lo}) is greater than \"{max_key}\" ({hi})"),
        )),
        _ => Ok(()),
    }
}

/// `enum` and `const` values are compared recursively, so they are held to [`MAX_DEPTH`].
fn check_value_depth(value: &Value, at: &str) -> Result<(), SchemaError> {
    if nests_deeper_than(value, MAX_DEPTH) {
        Err(schema_error(
            at,
            format!("values may nest at most {MAX_DEPTH} levels"),
        ))
    } else {
        Ok(())
    }
}

fn nests_deeper_than(value: &Value, levels: usize) -> bool {
    match value {
        Value::Array(items) => {
            levels == 0 || items.iter().any(|v| nests_deeper_than(v, levels - 1))
        }
        Value::Object(map) => levels == 0 || map.values().any(|v| nests_deeper_than(v, levels - 1)),
        _ => false,
    }
}

/// A schema bound, with integers kept exact (`i64` and `u64` both fit in `i128`), so that
/// `minimum` and `maximum` are compared exactly at compile time.
#[derive(Debug, Clone, Copy)]
enum Num {
    Int(i128),
    Float(f64),
}

impl Num {
    fn of(n: &Number) -> Option<Num> {
        if let Some(i) = n.as_i64() {
            Some(Num::Int(i128::from(i)))
        } else if let Some(u) = n.as_u64() {
            Some(Num::Int(i128::from(u)))
        } else {
            n.as_f64().filter(|f| f.is_finite()).map(Num::Float)
        }
    }
}

impl PartialEq for Num {
    fn eq(&self, other: &Num) -> bool {
        self.partial_cmp(other) == Some(Ordering::Equal)
    }
}

impl PartialOrd for Num {
    fn partial_cmp(&self, other: &Num) -> Option<Ordering> {
        match (*self, *other) {
            (Num::Int(a), Num::Int(b)) => Some(a.cmp(&b)),
            (Num::Float(a), Num::Float(b)) => a.partial_cmp(&b),
            (Num::Int(a), Num::Float(b)) => Some(compare_int_float(a, b)),
            (Num::Float(a), Num::Int(b)) => Some(compare_int_float(b, a).reverse()),
        }
    }
}

/// Exact comparison of an integer with a finite float.
fn compare_int_float(i: i128, f: f64) -> Ordering {
    let bound = 2f64.powi(127);
    if f >= bound {
        Ordering::Less
    } else if f < -bound {
        Ordering::Greater
    } else {
        let floor = f.floor();
        // In range and integral, so the cast is exact.
        match i.cmp(&(floor as i128)) {
            Ordering::Equal if f > floor => Ordering::Less,
            other => other,
        }
    }
}

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Num::Int(i) => write!(f, "{i}"),
            Num::Float(x) => write!(f, "{x}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Validating: what the crate runs for us, and how its errors become violations
// ---------------------------------------------------------------------------------------------

/// `pattern` as a keyword of the crate, built from the regex the walk compiled.
fn pattern_keyword<'a>(
    patterns: &HashMap<String, Regex>,
    value: &'a Value,
) -> Result<Box<dyn for<'i> Keyword<'i>>, ValidationError<'a>> {
    match value.as_str().and_then(|pattern| patterns.get(pattern)) {
        Some(regex) => Ok(Box::new(Pattern(regex.clone()))),
        None => Err(ValidationError::schema(format!(
            "pattern {value} was not compiled"
        ))),
    }
}

struct Pattern(Regex);

impl<'i> Keyword<'i> for Pattern {
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        if self.is_valid(instance) {
            Ok(())
        } else {
            Err(ValidationError::custom(format!(
                "does not match the pattern {}",
                self.0.as_str()
            )))
        }
    }

    fn is_valid(&self, instance: &'i Value) -> bool {
        instance.as_str().is_none_or(|s| self.0.is_match(s))
    }
}

/// An absolute URI per RFC 3986: a scheme, then only URI characters with valid
/// percent-escapes, at most one `#`.
fn is_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let mut scheme_chars = scheme.chars();
    let scheme_ok = scheme_chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme_chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok || rest.matches('#').count() > 1 {
        return false;
    }
    let bytes = rest.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_hexdigit);
            if !(hex(i + 1) && hex(i + 2)) {
                return false;
            }
            i += 3;
            continue;
        }
        let allowed = b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=".contains(&b);
        if !allowed {
            return false;
        }
        i += 1;
    }
    true
}

/// One step on the way to a violation; violations sort by their steps, which gives a
/// depth-first order: a value's own checks (by keyword), then its missing properties (in the
/// order `required` lists them), then its items or properties.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    /// A check of the value itself, ranked by keyword.
    Here(u8),
    /// A missing property, by its place in `required`.
    Required(usize),
    /// An array item.
    Index(usize),
    /// An object property (a map orders its keys the same way).
    Key(String),
}

struct Finding {
    /// The steps to the value the crate reported on, then one for the check.
    order: Vec<Step>,
    violation: Violation,
}

impl Finding {
    /// The steps to the value the crate reported on.
    fn anchor(&self) -> &[Step] {
        self.order.split_last().map_or(&[], |(_, anchor)| anchor)
    }
}

/// The steps to the value at `pointer` (an instance path of the crate), and that value.
fn locate<'v>(root: &'v Value, pointer: &str) -> (Vec<Step>, Option<&'v Value>) {
    let mut node = Some(root);
    let mut steps = Vec::new();
    for raw in pointer.split('/').skip(1) {
        let segment = raw.replace("~1", "/").replace("~0", "~");
        let step = match (node, segment.parse::<usize>()) {
            (Some(Value::Array(items)), Ok(i)) => {
                node = items.get(i);
                Step::Index(i)
            }
            (Some(Value::Object(map)), _) => {
                node = map.get(&segment);
                Step::Key(segment)
            }
            _ => {
                node = None;
                Step::Key(segment)
            }
        };
        steps.push(step);
    }
    (steps, node)
}

/// Whether a schema location ends at an `additionalProperties` keyword (rather than at a
/// property that happens to have that name).
fn ends_at_additional_properties(schema_path: &str) -> bool {
    let mut segments = schema_path.split('/').skip(1);
    let mut last = false;
    while let Some(segment) = segments.next() {
        last = segment == "additionalProperties";
        if segment == "properties" {
            segments.next();
        }
    }
    last
}

fn describe_types(kind: &TypeKind) -> String {
    let mut names: Vec<String> = match kind {
        TypeKind::Single(t) => vec![t.to_string()],
        TypeKind::Multiple(set) => set.iter().map(|t| t.to_string()).collect(),
    };
    names.sort();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => "nothing".to_owned(),
    }
}

/// A numeric bound in a message: integers exact, other numbers in their shortest form (`2.0`
/// shows as `2`, `1e30` in full).
struct Bound<'a>(&'a Value);

impl fmt::Display for Bound<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_number().and_then(Num::of) {
            Some(n) => n.fmt(f),
            None => self.0.fmt(f),
        }
    }
}

/// The values as JSON, cut short so a message stays readable.
fn preview(values: &[Value]) -> String {
    const LIMIT: usize = 200;
    let joined = values
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if joined.chars().count() > LIMIT {
        let cut: String = joined.chars().take(LIMIT).collect();
        format!("{cut}…")
    } else {
        joined
    }
}

// ---------------------------------------------------------------------------------------------
// Inference
// ---------------------------------------------------------------------------------------------

/// Infers a schema from observed examples: every property seen, typed by the JSON types seen
/// (`integer` only if every sample was an integer; several types give `"type": [..]`; `null`
/// adds `"null"`), nested objects recursively, array `items` from all elements,
/// `additionalProperties: false` on every object, and `required` listing the properties present
/// in every sample. Keys are sorted, so the result is deterministic and independent of the
/// order of `samples`. Values nested deeper than [`MAX_DEPTH`] are typed at that level without
/// their contents, so the result always compiles. No samples give `{}`.
pub fn infer(samples: &[Value]) -> Value {
    let mut shape = Shape::default();
    for sample in samples {
        shape.absorb(sample, 1);
    }
    shape.render(1)
}

/// Merges one more observed example into `doc` by the rules of [`infer`]:
/// `widen(&infer(samples), s) == infer(samples + [s])`.
///
/// Only `type`, `properties`, `required`, `additionalProperties` and `items` are managed; other
/// keywords an admin added (a description, a format, bounds) are kept as they are. A subschema
/// that names no type and declares nothing (`true`, `{"description": ..}`) already accepts
/// anything and is left alone; `{}` and `false` count as "nothing seen yet".
pub fn widen(doc: &Value, sample: &Value) -> Value {
    let mut shape = Shape::from_doc(doc, 1);
    shape.absorb(sample, 1);
    shape.render(1)
}

/// What has been observed at one place in the samples.
#[derive(Debug, Clone, Default)]
struct Shape {
    /// A document node kept verbatim (it accepts any value already).
    open: Option<Value>,
    null: bool,
    boolean: bool,
    integer: bool,
    number: bool,
    string: bool,
    object: Option<ObjectShape>,
    /// The shape of all elements of all arrays seen.
    array: Option<Box<Shape>>,
    /// Keywords this module does not manage, kept from a document.
    extras: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, Default)]
struct ObjectShape {
    properties: BTreeMap<String, Shape>,
    /// Present in every object seen so far.
    required: BTreeSet<String>,
    /// `None` leaves the keyword out (an open object kept from a document).
    additional: Option<Value>,
}

const MANAGED_KEYWORDS: [&str; 5] = [
    "additionalProperties",
    "items",
    "properties",
    "required",
    "type",
];

impl Shape {
    fn is_empty(&self) -> bool {
        self.open.is_none()
            && !(self.null || self.boolean || self.integer || self.number || self.string)
            && self.object.is_none()
            && self.array.is_none()
            && self.extras.is_empty()
    }

    fn absorb(&mut self, value: &Value, depth: usize) {
        if self.open.is_some() {
            return;
        }
        let descend = depth < MAX_DEPTH;
        match value {
            Value::Null => self.null = true,
            Value::Bool(_) => self.boolean = true,
            Value::Number(n) if is_integer(n) => self.integer = true,
            Value::Number(_) => self.number = true,
            Value::String(_) => self.string = true,
            Value::Array(items) => {
                let shape = self.array.get_or_insert_with(Box::default);
                if descend {
                    for item in items {
                        shape.absorb(item, depth + 1);
                    }
                }
            }
            Value::Object(map) => {
                let object = match &mut self.object {
                    Some(object) => {
                        object.required.retain(|name| map.contains_key(name));
                        object
                    }
                    None => self.object.insert(ObjectShape {
                        properties: BTreeMap::new(),
                        required: if descend {
                            map.keys().cloned().collect()
                        } else {
                            BTreeSet::new()
                        },
                        additional: Some(Value::Bool(false)),
                    }),
                };
                if descend {
                    for (name, v) in map {
                        object
                            .properties
                            .entry(name.clone())
                            .or_default()
                            .absorb(v, depth + 1);
                    }
                }
            }
        }
    }

    fn from_doc(doc: &Value, depth: usize) -> Shape {
        let map = match doc {
            Value::Object(map) => map,
            Value::Bool(true) => {
                return Shape {
                    open: Some(doc.clone()),
                    ..Shape::default()
                }
            }
            _ => return Shape::default(),
        };
        let declared_type = map.get("type");
        let object_keywords = ["properties", "required", "additionalProperties"]
            .iter()
            .any(|k| map.contains_key(*k));
        let array_keywords = map.contains_key("items");
        if declared_type.is_none() && !object_keywords && !array_keywords {
            return if map.is_empty() {
                Shape::default()
            } else {
                Shape {
                    open: Some(doc.clone()),
                    ..Shape::default()
                }
            };
        }
        let names: Vec<&str> = match declared_type {
            Some(Value::String(name)) => vec![name.as_str()],
            Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let mut shape = Shape {
            extras: map
                .iter()
                .filter(|(k, _)| !MANAGED_KEYWORDS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            ..Shape::default()
        };
        let mut is_object = declared_type.is_none() && object_keywords;
        let mut is_array = declared_type.is_none() && array_keywords;
        for name in names {
            match name {
                "null" => shape.null = true,
                "boolean" => shape.boolean = true,
                "integer" => shape.integer = true,
                "number" => shape.number = true,
                "string" => shape.string = true,
                "object" => is_object = true,
                "array" => is_array = true,
                _ => {}
            }
        }
        let descend = depth < MAX_DEPTH;
        if is_object {
            let properties = match map.get("properties") {
                Some(Value::Object(properties)) if descend => properties
                    .iter()
                    .map(|(name, sub)| (name.clone(), Shape::from_doc(sub, depth + 1)))
                    .collect(),
                _ => BTreeMap::new(),
            };
            let required = match map.get("required") {
                Some(Value::Array(names)) => names
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
                _ => BTreeSet::new(),
            };
            shape.object = Some(ObjectShape {
                properties,
                required,
                additional: map.get("additionalProperties").cloned(),
            });
        }
        if is_array {
            let items = match map.get("items") {
                Some(items) if descend => Shape::from_doc(items, depth + 1),
                _ => Shape::default(),
            };
            shape.array = Some(Box::new(items));
        }
        shape
    }

    fn render(&self, depth: usize) -> Value {
        if let Some(open) = &self.open {
            return open.clone();
        }
        let mut out = self.extras.clone();
        let mut types = Vec::new();
        if self.array.is_some() {
            types.push("array");
        }
        if self.boolean {
            types.push("boolean");
        }
        if self.integer && !self.number {
            types.push("integer");
        }
        if self.null {
            types.push("null");
        }
        if self.number {
            types.push("number");
        }
        if self.object.is_some() {
            types.push("object");
        }
        if self.string {
            types.push("string");
        }
        match types.as_slice() {
            [] => {}
            [only] => {
                out.insert("type".to_owned(), Value::from(*only));
            }
            many => {
                out.insert("type".to_owned(), Value::from(many.to_vec()));
            }
        }
        if depth < MAX_DEPTH {
            if let Some(object) = &self.object {
                if !object.properties.is_empty() {
                    let properties: Map<String, Value> = object
                        .properties
                        .iter()
                        .map(|(name, shape)| (name.clone(), shape.render(depth + 1)))
                        .collect();
                    out.insert("properties".to_owned(), Value::Object(properties));
                }
                if !object.required.is_empty() {
                    let required: Vec<Value> = object
                        .required
                        .iter()
                        .map(|n| Value::from(n.as_str()))
                        .collect();
                    out.insert("required".to_owned(), Value::Array(required));
                }
                if let Some(additional) = &object.additional {
                    out.insert("additionalProperties".to_owned(), additional.clone());
                }
            }
            if let Some(items) = self.array.as_deref().filter(|items| !items.is_empty()) {
                out.insert("items".to_owned(), items.render(depth + 1));
            }
        }
        Value::Object(out.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn compile(doc: Value) -> Schema {
        match Schema::compile(&doc) {
            Ok(schema) => schema,
            Err(e) => panic!("{doc} should compile: {e}"),
        }
    }

    fn compile_err(doc: Value) -> SchemaError {
        match Schema::compile(&doc) {
            Ok(_) => panic!("{doc} should not compile"),
            Err(e) => e,
        }
    }

    /// (path, code) of each violation.
    fn codes(schema: &Schema, value: &Value) -> Vec<(String, &'static str)> {
        schema
            .validate(value)
            .into_iter()
            .map(|v| (v.path, v.code))
            .collect()
    }

    fn one(path: &str, code: &'static str) -> Vec<(String, &'static str)> {
        vec![(path.to_owned(), code)]
    }

    fn accepts(schema: &Schema, value: Value) {
        assert_eq!(
            schema.validate(&value),
            vec![],
            "{value} should be accepted"
        );
    }

    /// Values this deep would overflow the stack in the recursive `Drop` of `Value`.
    fn drop_deep(mut value: Value) {
        loop {
            value = match value {
                Value::Array(mut items) => match items.pop() {
                    Some(inner) => inner,
                    None => return,
                },
                Value::Object(mut map) => match map.keys().next().cloned() {
                    Some(key) => match map.remove(&key) {
                        Some(inner) => inner,
                        None => return,
                    },
                    None => return,
                },
                _ => return,
            };
        }
    }

    fn nested_items(levels: usize) -> Value {
        let mut doc = json!({"type": "array"});
        for _ in 1..levels {
            doc = json!({"type": "array", "items": doc});
        }
        doc
    }

    // --- compiling --------------------------------------------------------------------------

    #[test]
    fn unsupported_keywords_are_errors_with_their_pointer() {
        for keyword in [
            "$ref",
            "oneOf",
            "anyOf",
            "allOf",
            "not",
            "if",
            "patternProperties",
        ] {
            let e = compile_err(json!({"properties": {"a": {keyword: {}}}}));
            assert_eq!(e.pointer, format!("/properties/a/{keyword}"));
            assert!(e.message.contains("unsupported keyword"), "{e}");
        }
        let e = compile_err(json!({"nullable": true}));
        assert_eq!(e.pointer, "/nullable");
    }

    #[test]
    fn pointers_escape_tilde_and_slash() {
        let e = compile_err(json!({"properties": {"a/b~c": {"type": "text"}}}));
        assert_eq!(e.pointer, "/properties/a~1b~0c/type");
    }

    #[test]
    fn display_gives_pointer_and_message() {
        let e = compile_err(json!({"items": {"oneOf": []}}));
        let shown = e.to_string();
        assert!(shown.contains("/items/oneOf"), "{shown}");
        assert!(shown.contains("unsupported keyword \"oneOf\""), "{shown}");
        let root = compile_err(json!(3));
        assert!(root.to_string().contains("the root"), "{root}");
    }

    #[test]
    fn malformed_keywords_are_errors() {
        let cases = [
            (json!({"type": "text"}), "/type"),
            (json!({"type": 3}), "/type"),
            (json!({"type": []}), "/type"),
            (json!({"type": ["string", "nope"]}), "/type/1"),
            (json!({"type": ["string", "string"]}), "/type/1"),
            (json!({"type": ["string", 1]}), "/type/1"),
            (json!({"properties": []}), "/properties"),
            (json!({"properties": {"a": 1}}), "/properties/a"),
            (json!({"properties": {"a": "string"}}), "/properties/a"),
            (json!({"required": "a"}), "/required"),
            (json!({"required": ["a", 1]}), "/required/1"),
            (json!({"required": ["a", "a"]}), "/required/1"),
            (
                json!({"additionalProperties": "no"}),
                "/additionalProperties",
            ),
            (
                json!({"additionalProperties": {"$ref": "#"}}),
                "/additionalProperties/$ref",
            ),
            (json!({"enum": "a"}), "/enum"),
            (json!({"enum": []}), "/enum"),
            (json!({"minimum": "1"}), "/minimum"),
            (json!({"exclusiveMinimum": true}), "/exclusiveMinimum"),
            (json!({"maximum": null}), "/maximum"),
            (json!({"minLength": -1}), "/minLength"),
            (json!({"maxLength": 1.5}), "/maxLength"),
            (json!({"minItems": "2"}), "/minItems"),
            (json!({"pattern": 5}), "/pattern"),
            (json!({"pattern": "(unclosed"}), "/pattern"),
            (json!({"items": [{"type": "string"}]}), "/items"),
            (json!({"items": 7}), "/items"),
            (json!({"format": "ipv4"}), "/format"),
            (json!({"format": 1}), "/format"),
            (json!({"minimum": 5, "maximum": 1}), "/minimum"),
            (json!({"minLength": 5, "maxLength": 1}), "/minLength"),
            (json!({"minItems": 5, "maxItems": 1}), "/minItems"),
            (json!(null), ""),
            (json!("string"), ""),
        ];
        for (doc, pointer) in cases {
            let e = compile_err(doc.clone());
            assert_eq!(e.pointer, pointer, "{doc}: {e}");
            assert!(!e.message.is_empty());
        }
    }

    #[test]
    fn annotations_are_accepted_and_ignored() {
        let schema = compile(json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://example.com/order",
            "title": "Order",
            "description": "An order",
            "type": "object",
            "properties": {"sku": {"type": "string", "examples": ["A-1"], "default": "A-0"}}
        }));
        accepts(&schema, json!({"sku": "B"}));
    }

    #[test]
    fn integral_floats_are_accepted_as_counts() {
        let schema = compile(json!({"maxLength": 2.0}));
        assert_eq!(codes(&schema, &json!("abc")), one("", code::TOO_LONG));
    }

    #[test]
    fn schema_depth_is_limited() {
        compile(nested_items(MAX_DEPTH));
        let e = compile_err(nested_items(MAX_DEPTH + 1));
        assert!(e.pointer.starts_with("/items/items"), "{}", e.pointer);
        assert_eq!(e.pointer.matches("/items").count(), MAX_DEPTH);
        let e = compile_err(nested_items(40));
        assert!(e.message.contains("nest"), "{e}");

        let mut deep = json!({"type": "string"});
        for _ in 0..40 {
            deep = json!({"type": "object", "properties": {"a": deep}});
        }
        compile_err(deep);
    }

    #[test]
    fn deep_enum_and_const_values_are_errors() {
        let mut value = json!(1);
        for _ in 0..=MAX_DEPTH {
            value = Value::Array(vec![value]);
        }
        assert_eq!(
            compile_err(json!({"const": value.clone()})).pointer,
            "/const"
        );
        assert_eq!(
            compile_err(json!({"enum": ["a", value]})).pointer,
            "/enum/1"
        );
    }

    // --- validating -------------------------------------------------------------------------

    #[test]
    fn type_checks_every_json_type() {
        let samples = [
            ("string", json!("x")),
            ("number", json!(1.5)),
            ("integer", json!(3)),
            ("boolean", json!(true)),
            ("object", json!({})),
            ("array", json!([])),
            ("null", json!(null)),
        ];
        for (name, _) in &samples {
            let schema = compile(json!({"type": name}));
            for (other, value) in &samples {
                let fits = name == other || (*name == "number" && *other == "integer");
                let found = codes(&schema, value);
                if fits {
                    assert_eq!(found, vec![], "{value} is a {name}");
                } else {
                    assert_eq!(
                        found,
                        one("", code::TYPE_MISMATCH),
                        "{value} is not a {name}"
                    );
                }
            }
        }
    }

    #[test]
    fn integers_are_numbers_without_a_fraction() {
        let schema = compile(json!({"type": "integer"}));
        accepts(&schema, json!(1));
        accepts(&schema, json!(-7));
        accepts(&schema, json!(u64::MAX));
        accepts(&schema, json!(2.0));
        accepts(&schema, json!(1e20));
        let violations = schema.validate(&json!(2.5));
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].code, code::TYPE_MISMATCH);
        assert_eq!(violations[0].message, "expected integer, found number");
    }

    #[test]
    fn type_arrays_and_null() {
        let schema = compile(json!({"type": ["string", "null"]}));
        accepts(&schema, json!("a"));
        accepts(&schema, json!(null));
        let violations = schema.validate(&json!(1));
        assert_eq!(
            violations[0].message,
            "expected null or string, found integer"
        );
        let schema = compile(json!({"type": ["integer", "boolean", "null"]}));
        assert_eq!(
            schema.validate(&json!("x"))[0].message,
            "expected boolean, integer or null, found string"
        );
    }

    #[test]
    fn a_type_mismatch_skips_the_other_checks() {
        let schema = compile(json!({"type": "string", "enum": ["a"], "minLength": 3}));
        assert_eq!(codes(&schema, &json!(5)), one("", code::TYPE_MISMATCH));
    }

    #[test]
    fn required_and_properties() {
        let schema = compile(json!({
            "type": "object",
            "properties": {"email": {"type": "string"}, "age": {"type": "integer"}},
            "required": ["email", "age"]
        }));
        accepts(&schema, json!({"email": "a@b.co", "age": 3}));
        assert_eq!(
            codes(&schema, &json!({"age": "3"})),
            vec![
                ("/email".to_owned(), code::REQUIRED_MISSING),
                ("/age".to_owned(), code::TYPE_MISMATCH)
            ]
        );
        let missing = schema.validate(&json!({"age": 1}));
        assert_eq!(missing[0].message, "required property \"email\" is missing");
        // Required applies to objects only.
        let untyped = compile(json!({"required": ["a"]}));
        accepts(&untyped, json!("not an object"));
    }

    #[test]
    fn additional_properties_default_to_allowed() {
        let schema = compile(json!({"properties": {"a": {"type": "string"}}}));
        accepts(&schema, json!({"a": "x", "b": 1}));
    }

    #[test]
    fn additional_properties_false_reports_unknown_property() {
        let schema = compile(json!({
            "properties": {"a": {"type": "string"}},
            "additionalProperties": false
        }));
        accepts(&schema, json!({"a": "x"}));
        let violations = schema.validate(&json!({"a": "x", "b/c": 1}));
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].path, "/b~1c");
        assert_eq!(violations[0].code, code::UNKNOWN_PROPERTY);
        assert!(violations[0].message.contains("\"b/c\""));
    }

    #[test]
    fn additional_properties_schema_checks_the_extras() {
        let schema = compile(json!({
            "properties": {"a": {"type": "string"}},
            "additionalProperties": {"type": "integer"}
        }));
        accepts(&schema, json!({"a": "x", "b": 1, "c": 2}));
        assert_eq!(
            codes(&schema, &json!({"a": "x", "b": "y"})),
            one("/b", code::TYPE_MISMATCH)
        );
    }

    #[test]
    fn boolean_schemas() {
        let schema = compile(json!({"properties": {"gone": false, "any": true}}));
        accepts(&schema, json!({"any": [1, {"x": null}]}));
        assert_eq!(
            codes(&schema, &json!({"gone": 1})),
            one("/gone", code::NOT_ALLOWED)
        );
        let everything = compile(json!(true));
        accepts(&everything, json!({"x": 1}));
        assert!(everything.declared_properties().is_empty());
        let nothing = compile(json!(false));
        assert_eq!(codes(&nothing, &json!(null)), one("", code::NOT_ALLOWED));
    }

    #[test]
    fn enum_and_const() {
        let schema = compile(json!({"enum": ["red", "green", 1, {"a": [1]}]}));
        accepts(&schema, json!("red"));
        accepts(&schema, json!(1.0));
        accepts(&schema, json!({"a": [1]}));
        let violations = schema.validate(&json!("blue"));
        assert_eq!(violations[0].code, code::ENUM_MISMATCH);
        assert_eq!(
            violations[0].message,
            "must be one of \"red\", \"green\", 1, {\"a\":[1]}"
        );
        assert_eq!(
            codes(&schema, &json!({"a": [2]})),
            one("", code::ENUM_MISMATCH)
        );

        let schema = compile(json!({"const": 5}));
        accepts(&schema, json!(5));
        accepts(&schema, json!(5.0));
        assert_eq!(codes(&schema, &json!("5")), one("", code::CONST_MISMATCH));
        assert_eq!(codes(&schema, &json!(5.5)), one("", code::CONST_MISMATCH));
    }

    #[test]
    fn long_enum_messages_are_cut_short() {
        let values: Vec<String> = (0..200).map(|i| format!("value-{i}")).collect();
        let schema = compile(json!({"enum": values}));
        let message = &schema.validate(&json!("x"))[0].message;
        assert!(message.chars().count() < 260, "{message}");
        assert!(message.ends_with('…'));
    }

    #[test]
    fn numeric_bounds() {
        let schema = compile(json!({"minimum": 1, "maximum": 10}));
        accepts(&schema, json!(1));
        accepts(&schema, json!(10));
        accepts(&schema, json!(5.5));
        assert_eq!(codes(&schema, &json!(0.5)), one("", code::TOO_SMALL));
        assert_eq!(codes(&schema, &json!(10.01)), one("", code::TOO_LARGE));
        assert_eq!(schema.validate(&json!(0))[0].message, "must be at least 1");
        accepts(&schema, json!("not a number"));

        let schema = compile(json!({"exclusiveMinimum": 0, "exclusiveMaximum": 1.5}));
        accepts(&schema, json!(0.001));
        accepts(&schema, json!(1));
        assert_eq!(codes(&schema, &json!(0)), one("", code::TOO_SMALL));
        assert_eq!(codes(&schema, &json!(1.5)), one("", code::TOO_LARGE));
        assert_eq!(
            schema.validate(&json!(2))[0].message,
            "must be less than 1.5"
        );
    }

    #[test]
    fn numeric_bounds_are_exact_for_large_integers() {
        let schema = compile(json!({"maximum": 9_007_199_254_740_992_u64}));
        accepts(&schema, json!(9_007_199_254_740_992_u64));
        assert_eq!(
            codes(&schema, &json!(9_007_199_254_740_993_u64)),
            one("", code::TOO_LARGE)
        );
        let schema = compile(json!({"minimum": -1.5}));
        accepts(&schema, json!(-1));
        assert_eq!(codes(&schema, &json!(-2)), one("", code::TOO_SMALL));
        assert_eq!(codes(&schema, &json!(i64::MIN)), one("", code::TOO_SMALL));
        let schema = compile(json!({"maximum": 1e30}));
        accepts(&schema, json!(u64::MAX));
        let schema = compile(json!({"exclusiveMaximum": 1e3}));
        accepts(&schema, json!(999));
        assert_eq!(codes(&schema, &json!(1000)), one("", code::TOO_LARGE));
    }

    #[test]
    fn string_lengths_count_characters() {
        let schema = compile(json!({"minLength": 2, "maxLength": 4}));
        accepts(&schema, json!("ab"));
        accepts(&schema, json!("你好世界"));
        accepts(&schema, json!("😀😀"));
        accepts(&schema, json!("é!"));
        assert_eq!(
            codes(&schema, &json!("你好世界啊")),
            one("", code::TOO_LONG)
        );
        assert_eq!(codes(&schema, &json!("你")), one("", code::TOO_SHORT));
        assert_eq!(
            schema.validate(&json!("你好世界啊"))[0].message,
            "must be at most 4 characters long, found 5"
        );
        accepts(&schema, json!(12345));
    }

    #[test]
    fn patterns_search_unanchored() {
        let schema = compile(json!({"pattern": "[0-9]{3}"}));
        accepts(&schema, json!("abc123def"));
        assert_eq!(
            codes(&schema, &json!("ab12")),
            one("", code::PATTERN_MISMATCH)
        );
        let anchored = compile(json!({"pattern": "^SKU-[A-Z]+$"}));
        accepts(&anchored, json!("SKU-AB"));
        assert_eq!(
            codes(&anchored, &json!("xSKU-AB")),
            one("", code::PATTERN_MISMATCH)
        );
        let unicode = compile(json!({"pattern": "^\\p{Han}+$"}));
        accepts(&unicode, json!("上海"));
        for realistic in [
            "^[\\w.-]{1,64}$",
            "^[A-Za-z0-9_]{1,255}$",
            "^(?-u:\\w){1,255}$",
            "^[A-Z]{2}-\\d{4,10}$",
        ] {
            compile(json!({"pattern": realistic}));
        }
        let too_big = compile_err(json!({"pattern": "^\\w{1,255}$"}));
        assert_eq!(too_big.pointer, "/pattern");
        assert!(too_big.message.contains("[A-Za-z0-9_]"), "{too_big}");
        accepts(&anchored, json!(false));
    }

    #[test]
    fn items_and_item_counts() {
        let schema = compile(json!({
            "type": "array",
            "items": {"type": "string"},
            "minItems": 1,
            "maxItems": 3
        }));
        accepts(&schema, json!(["a"]));
        assert_eq!(codes(&schema, &json!([])), one("", code::TOO_FEW_ITEMS));
        assert_eq!(
            codes(&schema, &json!(["a", "b", "c", "d"])),
            one("", code::TOO_MANY_ITEMS)
        );
        assert_eq!(
            codes(&schema, &json!(["a", 2, "c", null])),
            vec![
                ("".to_owned(), code::TOO_MANY_ITEMS),
                ("/1".to_owned(), code::TYPE_MISMATCH),
                ("/3".to_owned(), code::TYPE_MISMATCH)
            ]
        );
    }

    #[test]
    fn formats_are_checked() {
        let cases: [(&str, &[&str], &[&str]); 4] = [
            (
                "date-time",
                &[
                    "2024-05-01T10:20:30Z",
                    "2024-05-01T10:20:30.123+08:00",
                    "2024-05-01t10:20:30z",
                ],
                &[
                    "2024-05-01",
                    "2024-05-01 10:20:30Z",
                    "2024-05-01T10:20:30",
                    "2024-13-01T10:20:30Z",
                    "2024-5-01T10:20:30Z",
                    "yesterday",
                    "",
                ],
            ),
            (
                "date",
                &["2024-02-29", "1999-12-31"],
                &[
                    "2023-02-29",
                    "2024-1-05",
                    "20240105",
                    "2024-01-05T00:00:00Z",
                    "２０２４-01-01",
                ],
            ),
            (
                "email",
                &[
                    "ann@example.com",
                    "a.b+tag@mail.example.cn",
                    "张三@例子.中国",
                ],
                &[
                    "ann",
                    "ann@",
                    "@example.com",
                    "ann@localhost",
                    "ann@@example.com",
                    "an n@example.com",
                    ".ann@example.com",
                    "a..b@example.com",
                    "ann@-example.com",
                    "ann@example..com",
                ],
            ),
            (
                "uri",
                &[
                    "https://example.com/a?b=c#d",
                    "mailto:ann@example.com",
                    "urn:isbn:0451450523",
                    "http://example.com/%E4%BD%A0",
                ],
                &[
                    "example.com/path",
                    "/relative",
                    "http://exa mple.com",
                    "http://example.com/你",
                    "http://example.com/%zz",
                    "http://example.com/#a#b",
                    "1http://x",
                    "",
                ],
            ),
        ];
        for (format, good, bad) in cases {
            let schema = compile(json!({"format": format}));
            for s in good {
                accepts(&schema, json!(s));
            }
            for s in bad {
                assert_eq!(
                    codes(&schema, &json!(s)),
                    one("", code::FORMAT_MISMATCH),
                    "{s:?} is not a {format}"
                );
            }
            accepts(&schema, json!(42));
        }
    }

    #[test]
    fn nested_paths() {
        let schema = compile(json!({
            "type": "object",
            "properties": {
                "address": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city", "zip"]
                },
                "items": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"sku": {"type": "string"}, "qty": {"minimum": 1}}
                    }
                }
            }
        }));
        let value = json!({
            "address": {"city": 3},
            "items": [{"sku": "a", "qty": 1}, {"sku": 2, "qty": 0}]
        });
        assert_eq!(
            codes(&schema, &value),
            vec![
                ("/address/zip".to_owned(), code::REQUIRED_MISSING),
                ("/address/city".to_owned(), code::TYPE_MISMATCH),
                ("/items/1/qty".to_owned(), code::TOO_SMALL),
                ("/items/1/sku".to_owned(), code::TYPE_MISMATCH),
            ]
        );
    }

    #[test]
    fn violations_are_capped() {
        let schema = compile(json!({"additionalProperties": false}));
        let value: Map<String, Value> = (0..100).map(|i| (format!("p{i:03}"), json!(i))).collect();
        let violations = schema.validate(&Value::Object(value));
        assert_eq!(violations.len(), MAX_VIOLATIONS);

        let schema = compile(json!({"items": {"type": "string", "minLength": 10}}));
        let value: Vec<Value> = (0..1000).map(|i| json!(i)).collect();
        assert_eq!(schema.validate(&Value::Array(value)).len(), MAX_VIOLATIONS);
    }

    #[test]
    fn violations_serialize_with_path_code_and_message() {
        let schema = compile(json!({"properties": {"price": {"type": "number"}}}));
        let violations = schema.validate(&json!({"price": "9.99"}));
        assert_eq!(
            serde_json::to_value(&violations).ok(),
            Some(json!([{
                "path": "/price",
                "code": "type_mismatch",
                "message": "expected number, found string"
            }]))
        );
    }

    #[test]
    fn declared_properties_and_document() {
        let doc = json!({"properties": {"b": {}, "a": {"type": "string"}}, "title": "x"});
        let schema = compile(doc.clone());
        assert_eq!(schema.declared_properties(), vec!["a", "b"]);
        assert_eq!(schema.document(), &doc);
        assert!(compile(json!({"type": "string"}))
            .declared_properties()
            .is_empty());
    }

    // --- around the jsonschema crate --------------------------------------------------------

    #[test]
    fn annotations_do_not_reach_the_validator() {
        let schema = compile(json!({
            "$schema": "http://json-schema.org/draft-04/schema#",
            "$id": 5,
            "exclusiveMinimum": 3
        }));
        accepts(&schema, json!(4));
        assert_eq!(codes(&schema, &json!(3)), one("", code::TOO_SMALL));
        assert_eq!(schema.document()["$id"], json!(5));
    }

    #[test]
    fn patterns_are_rust_regexes() {
        let word = compile(json!({"pattern": "^[\\w.-]{1,64}$"}));
        accepts(&word, json!("José.1"));
        let digits = compile(json!({"pattern": "^\\d+$"}));
        accepts(&digits, json!("٣٤"));
        let flags = compile(json!({"pattern": "(?i)^sku-\\d+\\z"}));
        accepts(&flags, json!("SKU-12"));
        let violations = flags.validate(&json!("SKU-12\n"));
        assert_eq!(
            violations,
            vec![Violation {
                path: String::new(),
                code: code::PATTERN_MISMATCH,
                message: "does not match the pattern (?i)^sku-\\d+\\z".to_owned(),
            }]
        );
    }

    #[test]
    fn uris_may_carry_brackets_in_their_query() {
        let schema = compile(json!({"format": "uri"}));
        accepts(
            &schema,
            json!("https://example.com/list?filter[name]=bob&page[size]=10"),
        );
    }

    #[test]
    fn leap_seconds_only_where_they_happen() {
        let schema = compile(json!({"format": "date-time"}));
        accepts(&schema, json!("2016-12-31T23:59:60Z"));
        accepts(&schema, json!("2016-12-31T15:59:60-08:00"));
        assert_eq!(
            codes(&schema, &json!("2024-05-01T10:20:60Z")),
            one("", code::FORMAT_MISMATCH)
        );
    }

    #[test]
    fn a_type_mismatch_hides_the_rest_of_its_subschema() {
        let schema = compile(json!({
            "properties": {
                "tags": {"type": "string", "items": {"type": "integer"}, "maxItems": 0},
                "meta": {"type": "string", "required": ["a"], "additionalProperties": false}
            }
        }));
        assert_eq!(
            codes(&schema, &json!({"tags": ["x"], "meta": {"b": 1}})),
            vec![
                ("/meta".to_owned(), code::TYPE_MISMATCH),
                ("/tags".to_owned(), code::TYPE_MISMATCH)
            ]
        );
    }

    #[test]
    fn keyword_names_as_property_names() {
        let schema = compile(json!({
            "properties": {"additionalProperties": false, "properties": {"type": "integer"}}
        }));
        assert_eq!(
            codes(
                &schema,
                &json!({"additionalProperties": 1, "properties": "x"})
            ),
            vec![
                ("/additionalProperties".to_owned(), code::NOT_ALLOWED),
                ("/properties".to_owned(), code::TYPE_MISMATCH)
            ]
        );
        let closed = compile(json!({"additionalProperties": false}));
        assert_eq!(
            codes(&closed, &json!({"b": 1, "a": {"c": 2}})),
            vec![
                ("/a".to_owned(), code::UNKNOWN_PROPERTY),
                ("/b".to_owned(), code::UNKNOWN_PROPERTY)
            ]
        );
    }

    #[test]
    fn a_required_property_that_is_present_is_not_missing() {
        let schema = compile(json!({
            "properties": {"a": {}},
            "required": ["b"],
            "additionalProperties": false
        }));
        assert_eq!(
            codes(&schema, &json!({"b": 1})),
            one("/b", code::UNKNOWN_PROPERTY)
        );
        assert_eq!(
            codes(&schema, &json!({"a": 1})),
            one("/b", code::REQUIRED_MISSING)
        );
    }

    #[test]
    fn violations_come_depth_first() {
        let schema = compile(json!({"items": {"type": "string"}}));
        let paths: Vec<String> = schema
            .validate(&json!([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]))
            .into_iter()
            .map(|v| v.path)
            .collect();
        let expected: Vec<String> = (0..12).map(|i| format!("/{i}")).collect();
        assert_eq!(paths, expected);

        let schema = compile(json!({"additionalProperties": {"type": "string"}}));
        assert_eq!(
            codes(&schema, &json!({"9": 1, "10": 2})),
            vec![
                ("/10".to_owned(), code::TYPE_MISMATCH),
                ("/9".to_owned(), code::TYPE_MISMATCH)
            ]
        );

        let schema = compile(json!({"additionalProperties": false}));
        let value: Map<String, Value> = (0..100).map(|i| (format!("p{i:03}"), json!(i))).collect();
        let paths: Vec<String> = schema
            .validate(&Value::Object(value))
            .into_iter()
            .map(|v| v.path)
            .collect();
        let expected: Vec<String> = (0..MAX_VIOLATIONS).map(|i| format!("/p{i:03}")).collect();
        assert_eq!(paths, expected);
    }

    #[test]
    fn bounds_read_as_written_in_messages() {
        let schema = compile(json!({"minimum": 2.0, "maximum": 1e30}));
        assert_eq!(schema.validate(&json!(1))[0].message, "must be at least 2");
        let schema = compile(json!({"minItems": 2}));
        assert_eq!(
            schema.validate(&json!([1]))[0].message,
            "must have at least 2 items, found 1"
        );
        let schema = compile(json!({"format": "email"}));
        assert_eq!(
            schema.validate(&json!("ann@"))[0].message,
            "must be an email address"
        );
    }

    // --- hostile input ----------------------------------------------------------------------

    #[test]
    fn deeply_nested_values_do_not_recurse_past_the_schema() {
        let mut value = json!(1);
        for _ in 0..10_000 {
            value = Value::Array(vec![value]);
        }
        for doc in [
            json!({}),
            json!({"type": "array"}),
            nested_items(MAX_DEPTH),
            json!({"items": {"items": {"items": {"type": "string"}}}}),
            json!({"const": [[[[1]]]]}),
            json!({"enum": [[[[1]]], "x"], "items": {"items": true}}),
        ] {
            let schema = compile(doc);
            let _ = schema.validate(&value);
        }
        let shallow = compile(json!({"items": {"items": {"type": "integer"}}}));
        assert_eq!(codes(&shallow, &value), one("/0/0", code::TYPE_MISMATCH));

        let inferred = infer(std::slice::from_ref(&value));
        let schema = compile(inferred.clone());
        assert_eq!(schema.validate(&value), vec![]);
        let widened = widen(&inferred, &value);
        assert_eq!(widened, inferred);
        drop_deep(value);
    }

    #[test]
    fn deeply_nested_objects_do_not_recurse_past_the_schema() {
        let mut value = json!({"leaf": true});
        for _ in 0..10_000 {
            value = Value::Object(Map::from_iter([("a".to_owned(), value)]));
        }
        let schema = compile(json!({
            "properties": {"a": {"properties": {"a": {"additionalProperties": false}}}}
        }));
        assert_eq!(
            codes(&schema, &value),
            one("/a/a/a", code::UNKNOWN_PROPERTY)
        );
        let inferred = infer(std::slice::from_ref(&value));
        assert_eq!(compile(inferred).validate(&value), vec![]);
        drop_deep(value);
    }

    #[test]
    fn huge_flat_values_are_fine() {
        let schema = compile(json!({"type": "array", "items": {"type": "integer"}}));
        let value = Value::Array((0..100_000).map(|i| json!(i)).collect());
        accepts(&schema, value);
    }

    // --- inference --------------------------------------------------------------------------

    #[test]
    fn infer_types_properties_and_required() {
        let doc = infer(&[
            json!({"name": "Ann", "age": 30, "score": 1, "tag": null, "vip": true}),
            json!({"name": "Bo", "age": 31, "score": 2.5, "tag": "x", "city": "上海"}),
        ]);
        assert_eq!(
            doc,
            json!({
                "type": "object",
                "properties": {
                    "age": {"type": "integer"},
                    "city": {"type": "string"},
                    "name": {"type": "string"},
                    "score": {"type": "number"},
                    "tag": {"type": ["null", "string"]},
                    "vip": {"type": "boolean"}
                },
                "required": ["age", "name", "score", "tag"],
                "additionalProperties": false
            })
        );
    }

    #[test]
    fn infer_nested_objects_and_arrays() {
        let doc = infer(&[
            json!({"address": {"city": "Paris"}, "items": [{"sku": "a", "qty": 1}, {"sku": "b"}]}),
            json!({"address": {"city": "Lyon", "zip": "69001"}, "items": [], "tags": [1, "x"]}),
        ]);
        assert_eq!(
            doc,
            json!({
                "type": "object",
                "properties": {
                    "address": {
                        "type": "object",
                        "properties": {"city": {"type": "string"}, "zip": {"type": "string"}},
                        "required": ["city"],
                        "additionalProperties": false
                    },
                    "items": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"qty": {"type": "integer"}, "sku": {"type": "string"}},
                            "required": ["sku"],
                            "additionalProperties": false
                        }
                    },
                    "tags": {"type": "array", "items": {"type": ["integer", "string"]}}
                },
                "required": ["address", "items"],
                "additionalProperties": false
            })
        );
    }

    #[test]
    fn infer_edge_cases() {
        assert_eq!(infer(&[]), json!({}));
        assert_eq!(
            infer(&[json!({})]),
            json!({"type": "object", "additionalProperties": false})
        );
        assert_eq!(
            infer(&[json!({"a": []})]),
            json!({
                "type": "object",
                "properties": {"a": {"type": "array"}},
                "required": ["a"],
                "additionalProperties": false
            })
        );
        assert_eq!(infer(&[json!(1), json!(2.0)]), json!({"type": "integer"}));
        assert_eq!(infer(&[json!(1), json!(2.5)]), json!({"type": "number"}));
        assert_eq!(
            infer(&[json!("a"), json!(null)]),
            json!({"type": ["null", "string"]})
        );
    }

    #[test]
    fn infer_is_deterministic_and_order_independent() {
        let a = json!({"z": 1, "a": {"y": [1, 2.5], "b": null}});
        let b = json!({"m": "x", "a": {"b": "s"}});
        let forward = infer(&[a.clone(), b.clone()]);
        let backward = infer(&[b, a]);
        assert_eq!(forward, backward);
        assert_eq!(forward.to_string(), backward.to_string());
        let keys: Vec<&String> = forward
            .as_object()
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
    }

    #[test]
    fn infer_then_validate_round_trip() {
        let sample = json!({
            "order_id": "o-1",
            "total": 99.5,
            "address": {"city": "北京", "zip": "100000"},
            "items": [{"sku": "a", "qty": 2}]
        });
        let doc = infer(std::slice::from_ref(&sample));
        let schema = compile(doc.clone());
        accepts(&schema, sample.clone());

        let mut extra = sample.clone();
        extra["coupon"] = json!("SPRING");
        extra["address"]["district"] = json!("朝阳");
        assert_eq!(
            codes(&schema, &extra),
            vec![
                ("/address/district".to_owned(), code::UNKNOWN_PROPERTY),
                ("/coupon".to_owned(), code::UNKNOWN_PROPERTY),
            ]
        );
        let unregistered: Vec<String> = extra
            .as_object()
            .map(|m| m.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .filter(|k| !schema.declared_properties().contains(k))
            .collect();
        assert_eq!(unregistered, vec!["coupon"]);

        let widened = widen(&doc, &extra);
        let schema = compile(widened.clone());
        accepts(&schema, extra.clone());
        accepts(&schema, sample.clone());
        assert_eq!(widened, infer(&[sample.clone(), extra.clone()]));
        // The new properties are known but not required.
        assert_eq!(
            widened["required"],
            json!(["address", "items", "order_id", "total"])
        );
        assert_eq!(widened["properties"]["coupon"], json!({"type": "string"}));
        // Still closed to anything else.
        let mut more = extra;
        more["other"] = json!(1);
        assert_eq!(codes(&schema, &more), one("/other", code::UNKNOWN_PROPERTY));
    }

    #[test]
    fn widen_drops_required_and_widens_types() {
        let doc = infer(&[json!({"a": 1, "b": "x"})]);
        let widened = widen(&doc, &json!({"a": 1.5}));
        assert_eq!(
            widened,
            json!({
                "type": "object",
                "properties": {"a": {"type": "number"}, "b": {"type": "string"}},
                "required": ["a"],
                "additionalProperties": false
            })
        );
        let widened = widen(&widened, &json!({"a": null, "b": 3}));
        assert_eq!(
            widened["properties"]["a"]["type"],
            json!(["null", "number"])
        );
        assert_eq!(
            widened["properties"]["b"]["type"],
            json!(["integer", "string"])
        );
    }

    #[test]
    fn widen_keeps_what_it_does_not_manage() {
        let doc = json!({
            "title": "Checkout",
            "type": "object",
            "properties": {
                "email": {"type": "string", "format": "email", "description": "buyer"},
                "notes": {"description": "anything goes"},
                "meta": true
            },
            "required": ["email"]
        });
        let widened = widen(
            &doc,
            &json!({"email": "a@b.co", "notes": 5, "meta": [1], "new": 1}),
        );
        assert_eq!(
            widened,
            json!({
                "title": "Checkout",
                "type": "object",
                "properties": {
                    "email": {"type": "string", "format": "email", "description": "buyer"},
                    "meta": true,
                    "new": {"type": "integer"},
                    "notes": {"description": "anything goes"}
                },
                "required": ["email"]
            })
        );
        compile(widened);
    }

    #[test]
    fn widen_from_nothing_is_infer() {
        let sample = json!({"a": [1, {"b": null}]});
        assert_eq!(
            widen(&json!({}), &sample),
            infer(std::slice::from_ref(&sample))
        );
        assert_eq!(
            widen(&json!(false), &sample),
            infer(std::slice::from_ref(&sample))
        );
        assert_eq!(widen(&json!(true), &sample), json!(true));
    }

    #[test]
    fn inferred_depth_stops_at_the_limit() {
        let mut value = json!({"leaf": 1});
        for _ in 0..50 {
            value = Value::Object(Map::from_iter([("a".to_owned(), value)]));
        }
        let doc = infer(std::slice::from_ref(&value));
        compile(doc.clone());
        let mut node = &doc;
        let mut levels = 1;
        while let Some(next) = node.get("properties").and_then(|p| p.get("a")) {
            node = next;
            levels += 1;
        }
        assert_eq!(levels, MAX_DEPTH);
        assert_eq!(node, &json!({"type": "object"}));
    }

    // --- properties -------------------------------------------------------------------------

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            (-100i32..100).prop_map(|i| Value::from(f64::from(i))),
            "\\PC{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::btree_map("[a-c/~]{1,3}", inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn arb_object() -> impl Strategy<Value = Value> {
        prop::collection::btree_map("[a-e/~]{1,3}|\\PC{1,4}", arb_json(), 0..6)
            .prop_map(|m| Value::Object(m.into_iter().collect()))
    }

    proptest! {
        #[test]
        fn inferred_schema_accepts_its_sample(v in arb_object()) {
            let doc = infer(std::slice::from_ref(&v));
            let schema = Schema::compile(&doc);
            prop_assert!(schema.is_ok(), "{doc}: {schema:?}");
            if let Ok(schema) = schema {
                prop_assert_eq!(schema.validate(&v), vec![]);
            }
        }

        #[test]
        fn widen_matches_infer_and_accepts_both(a in arb_object(), b in arb_object()) {
            let widened = widen(&infer(std::slice::from_ref(&a)), &b);
            prop_assert_eq!(&widened, &infer(&[a.clone(), b.clone()]));
            let schema = Schema::compile(&widened);
            prop_assert!(schema.is_ok(), "{widened}: {schema:?}");
            if let Ok(schema) = schema {
                prop_assert_eq!(schema.validate(&a), vec![]);
                prop_assert_eq!(schema.validate(&b), vec![]);
            }
        }
    }
}
