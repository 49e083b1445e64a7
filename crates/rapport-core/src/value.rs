//! Record values: the typed form of a field's content, how JSON input becomes a value
//! (normalisation and validation: E.164 phones, exact decimals, ISO currencies, known select
//! options) and how a value is written back as JSON.
use crate::codes::FieldCode;

use crate::decimal::Decimal;
use crate::metadata::{FieldDef, FieldType};
use crate::normalize;
use crate::FieldError;
use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Utc};
use serde_json::{json, Value as Json};

/// The longest text any field accepts, whatever its own limit (bytes).
pub const MAX_TEXT_BYTES: usize = 100_000;
const DEFAULT_TEXT_MAX_CHARS: u32 = 255;
const MAX_MULTI_SELECT: usize = 100;
/// The longest street of an address, in characters.
pub const MAX_STREET_CHARS: usize = 200;
const MAX_ID_CHARS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Value {
    Null,
    Text(String),
    Integer(i64),
    /// Units at the field's scale.
    Decimal(i64),
    Currency {
        units: i64,
        code: String,
    },
    Boolean(bool),
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
    /// A multi-select's option values or a multi-user field's user ids, sorted, each once.
    List(Vec<String>),
    /// A region code of the national list and a street.
    Address {
        region: String,
        street: Option<String>,
    },
    /// An attachment field's files, in the order given.
    Files(Vec<FileRef>),
}

/// A file held by an attachment field, as the record shows it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileRef {
    pub id: String,
    pub name: String,
    pub size: i64,
    pub content_type: String,
}

impl FileRef {
    /// A file named only by its id, as a write gives it; the store fills in the rest.
    pub fn named_by_id(id: &str) -> FileRef {
        FileRef {
            id: id.to_string(),
            name: String::new(),
            size: 0,
            content_type: String::new(),
        }
    }

    pub fn to_json(&self) -> Json {
        json!({
            "id": self.id,
            "name": self.name,
            "size": self.size,
            "content_type": self.content_type,
        })
    }

    /// Reads what `to_json` wrote (the stored form).
    pub fn from_json(json: &Json) -> Option<FileRef> {
        Some(FileRef {
            id: json.get("id")?.as_str()?.to_string(),
            name: json.get("name")?.as_str()?.to_string(),
            size: json.get("size")?.as_i64()?,
            content_type: json.get("content_type")?.as_str()?.to_string(),
        })
    }
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

pub fn is_currency_code(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
}

/// Formats a timestamp the one way Rapport writes them: RFC 3339, UTC, microseconds.
pub fn format_datetime(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Dates and date-times (in UTC) are kept to the years 0001–9999: four digits that sort as
/// text on SQLite and mean the same on PostgreSQL.
pub const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// Why a date-time input was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateTimeError {
    /// Not RFC 3339.
    Malformed,
    /// Outside 0001-01-01T00:00:00Z..=9999-12-31T23:59:59.999999Z once converted to UTC.
    OutOfRange,
}

/// Reads an RFC 3339 date-time the one way Rapport keeps them: in UTC, truncated to
/// microseconds (a leap second becomes the next minute), within [`YEARS`].
pub fn read_datetime(text: &str) -> Result<DateTime<Utc>, DateTimeError> {
    let parsed = DateTime::parse_from_rfc3339(text.trim()).map_err(|_| DateTimeError::Malformed)?;
    let at = DateTime::from_timestamp_micros(parsed.timestamp_micros())
        .ok_or(DateTimeError::OutOfRange)?;
    if datetime_in_range(&at) {
        Ok(at)
    } else {
        Err(DateTimeError::OutOfRange)
    }
}

/// [`read_datetime`], for callers that need not say why a text is refused.
pub fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    read_datetime(text).ok()
}

/// Whether a stored or computed instant lies within [`YEARS`] in UTC.
pub fn datetime_in_range(at: &DateTime<Utc>) -> bool {
    YEARS.contains(&at.year())
}

/// Reads a date written exactly `YYYY-MM-DD` (surrounding whitespace aside), years in [`YEARS`].
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shaped {
        return None;
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .filter(|d| YEARS.contains(&d.year()))
}

/// Turns a JSON input into the value of `field`, or says precisely what is wrong with it.
/// `Null` (or an empty string for text-like fields) clears the field; `required` is checked by
/// the caller, who knows whether the record is being created or updated.
pub fn parse_input(field: &FieldDef, input: &Json) -> Result<Value, FieldError> {
    let name = field.api_name.as_str();
    let err = |code: FieldCode, message: String| Err(FieldError::new(name, code, message));
    if input.is_null() {
        return Ok(Value::Null);
    }
    match field.field_type {
        FieldType::Formula => err(
            FieldCode::ReadOnlyField,
            format!("{name} is a formula field and is computed, not written"),
        ),
        FieldType::AutoNumber => err(
            FieldCode::ReadOnlyField,
            format!("{name} is an auto-number given by the server, not written"),
        ),
        FieldType::MultiUser => parse_ids(field, input, MAX_MULTI_SELECT).map(|mut ids| {
            ids.sort();
            ids.dedup();
            list_or_null(ids)
        }),
        FieldType::Attachment => {
            let mut ids = parse_ids(field, input, field.max_files())?;
            let mut seen = std::collections::HashSet::new();
            ids.retain(|id| seen.insert(id.clone()));
            Ok(if ids.is_empty() {
                Value::Null
            } else {
                Value::Files(ids.iter().map(|id| FileRef::named_by_id(id)).collect())
            })
        }
        FieldType::Address => parse_address(field, input),
        FieldType::Text
        | FieldType::LongText
        | FieldType::Email
        | FieldType::Phone
        | FieldType::Url
        | FieldType::Select
        | FieldType::Relation
        | FieldType::User => {
            let Json::String(raw) = input else {
                return err(FieldCode::InvalidType, format!("{name} expects a string"));
            };
            if raw.len() > MAX_TEXT_BYTES {
                return err(
                    FieldCode::TooLong,
                    format!("{name} is longer than {MAX_TEXT_BYTES} bytes"),
                );
            }
            if raw.chars().any(|c| c == '\0') {
                return err(FieldCode::InvalidValue, format!("{name} contains a NUL character"));
            }
            let text = if field.field_type == FieldType::LongText {
                raw.clone()
            } else {
                raw.trim().to_string()
            };
            if text.is_empty() {
                return Ok(Value::Null);
            }
            parse_text(field, text)
        }
        FieldType::Integer => match input.as_i64() {
            Some(i) => check_range(field, Value::Integer(i), Decimal::new(i, 0)),
            None => err(FieldCode::InvalidType, format!("{name} expects a whole number")),
        },
        FieldType::Decimal | FieldType::Percent => match Decimal::from_json(input, field.scale()) {
            Ok(d) => check_range(field, Value::Decimal(d.units), d),
            Err(e) => err(FieldCode::InvalidNumber, format!("{name}: {e}")),
        },
        FieldType::Currency => {
            let (amount, code) = match input {
                Json::Object(map) => {
                    if map.keys().any(|k| k != "amount" && k != "currency") {
                        return err(
                            FieldCode::InvalidType,
                            format!("{name} expects {{\"amount\", \"currency\"}}"),
                        );
                    }
                    let Some(amount) = map.get("amount") else {
                        return err(FieldCode::InvalidType, format!("{name} needs an amount"));
                    };
                    if amount.is_null() {
                        return Ok(Value::Null);
                    }
                    let code = match map.get("currency") {
                        Some(Json::String(c)) => c.trim().to_ascii_uppercase(),
                        None | Some(Json::Null) => field.default_currency().to_string(),
                        Some(_) => {
                            return err(FieldCode::InvalidType, format!("{name}.currency must be a string"))
                        }
                    };
                    (amount, code)
                }
                other => (other, field.default_currency().to_string()),
            };
            if !is_currency_code(&code) {
                return err(
                    FieldCode::InvalidCurrency,
                    format!("{code:?} is not an ISO 4217 currency code"),
                );
            }
            match Decimal::from_json(amount, field.scale()) {
                Ok(d) => check_range(
                    field,
                    Value::Currency {
                        units: d.units,
                        code,
                    },
                    d,
                ),
                Err(e) => err(FieldCode::InvalidNumber, format!("{name}: {e}")),
            }
        }
        FieldType::Boolean => match input {
            Json::Bool(b) => Ok(Value::Boolean(*b)),
            _ => err(FieldCode::InvalidType, format!("{name} expects true or false")),
        },
        FieldType::Date => match input.as_str().and_then(parse_date) {
            Some(d) => {
                let c = &field.config;
                let below = c.min.as_deref().and_then(parse_date).is_some_and(|m| d < m);
                let above = c.max.as_deref().and_then(parse_date).is_some_and(|m| d > m);
                if below || above {
                    return err(
                        FieldCode::OutOfRange,
                        format!("{name} is outside its allowed range"),
                    );
                }
                Ok(Value::Date(d))
            }
            None => err(
                FieldCode::InvalidDate,
                format!("{name} expects a date as YYYY-MM-DD, from 0001-01-01 to 9999-12-31"),
            ),
        },
        FieldType::Datetime => match input.as_str().map(read_datetime) {
            Some(Ok(d)) => Ok(Value::DateTime(d)),
            Some(Err(DateTimeError::OutOfRange)) => err(
                FieldCode::OutOfRange,
                format!(
                    "{name} must lie between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z once converted to UTC"
                ),
            ),
            Some(Err(DateTimeError::Malformed)) | None => err(
                FieldCode::InvalidDatetime,
                format!("{name} expects an RFC 3339 date-time such as 2026-01-31T09:30:00+08:00"),
            ),
        },
        FieldType::MultiSelect => {
            let Json::Array(items) = input else {
                return err(
                    FieldCode::InvalidType,
                    format!("{name} expects a list of option values"),
                );
            };
            if items.len() > MAX_MULTI_SELECT {
                return err(
                    FieldCode::TooManyValues,
                    format!("{name} takes at most {MAX_MULTI_SELECT} values"),
                );
            }
            let mut values: Vec<String> = Vec::with_capacity(items.len());
            for item in items {
                let Some(v) = item.as_str() else {
                    return err(FieldCode::InvalidType, format!("{name} expects a list of strings"));
                };
                if field.option(v).is_none() {
                    return err(
                        FieldCode::InvalidOption,
                        format!("{v:?} is not an option of {name}"),
                    );
                }
                if !values.iter().any(|x| x == v) {
                    values.push(v.to_string());
                }
            }
            if values.is_empty() {
                return Ok(Value::Null);
            }
            values.sort();
            Ok(Value::List(values))
        }
    }
}

fn list_or_null(items: Vec<String>) -> Value {
    if items.is_empty() {
        Value::Null
    } else {
        Value::List(items)
    }
}

/// A list of ids (users, files): strings, or objects with an `id` (a file as records show it).
fn parse_ids(field: &FieldDef, input: &Json, max: usize) -> Result<Vec<String>, FieldError> {
    let name = field.api_name.as_str();
    let err = |code: FieldCode, message: String| Err(FieldError::new(name, code, message));
    let Json::Array(items) = input else {
        return err(
            FieldCode::InvalidType,
            format!("{name} expects a list of ids"),
        );
    };
    if items.len() > max {
        return err(
            FieldCode::TooManyValues,
            format!("{name} takes at most {max} values"),
        );
    }
    let mut ids = Vec::with_capacity(items.len());
    for item in items {
        let id = match item {
            Json::String(id) => id,
            Json::Object(o) => match o.get("id") {
                Some(Json::String(id)) => id,
                _ => return err(FieldCode::InvalidType, format!("{name} expects ids")),
            },
            _ => return err(FieldCode::InvalidType, format!("{name} expects ids")),
        };
        if id.is_empty() || id.chars().count() > MAX_ID_CHARS || id.chars().any(char::is_control) {
            return err(
                FieldCode::InvalidValue,
                format!("{name} holds an id that is empty, too long or has control characters"),
            );
        }
        ids.push(id.clone());
    }
    Ok(ids)
}

/// `{"code": "310104", "street": "…"}`; the names an address shows are accepted and ignored.
fn parse_address(field: &FieldDef, input: &Json) -> Result<Value, FieldError> {
    let name = field.api_name.as_str();
    let err = |code: FieldCode, message: String| Err(FieldError::new(name, code, message));
    let Json::Object(parts) = input else {
        return err(
            FieldCode::InvalidType,
            format!("{name} expects an object such as {{\"code\": \"310104\", \"street\": \"…\"}}"),
        );
    };
    if let Some(key) = parts.keys().find(|k| {
        !matches!(
            k.as_str(),
            "code" | "street" | "province" | "city" | "district"
        )
    }) {
        return err(
            FieldCode::InvalidType,
            format!("{name} has an unknown part {key:?}; use code and street"),
        );
    }
    let street = match parts.get("street") {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) => {
            let s = s.trim();
            if s.chars().count() > MAX_STREET_CHARS {
                return err(
                    FieldCode::TooLong,
                    format!("{name}'s street is longer than {MAX_STREET_CHARS} characters"),
                );
            }
            if s.chars().any(char::is_control) {
                return err(
                    FieldCode::InvalidValue,
                    format!("{name}'s street holds a control character"),
                );
            }
            (!s.is_empty()).then(|| s.to_string())
        }
        Some(_) => return err(FieldCode::InvalidType, format!("{name}'s street is text")),
    };
    match parts.get("code") {
        Some(Json::String(code)) if crate::regions::is_known(code) => Ok(Value::Address {
            region: code.clone(),
            street,
        }),
        None | Some(Json::Null) if street.is_none() => Ok(Value::Null),
        _ => err(
            FieldCode::UnknownRegion,
            format!("{name} needs the code of a region of the national list (省, 市 or 区)"),
        ),
    }
}

fn parse_text(field: &FieldDef, text: String) -> Result<Value, FieldError> {
    let name = field.api_name.as_str();
    let err = |code: FieldCode, message: String| Err(FieldError::new(name, code, message));
    let text = match field.field_type {
        FieldType::Email => match normalize::email(&text) {
            Some(email) => email,
            None => {
                return err(
                    FieldCode::InvalidEmail,
                    format!("{text:?} is not an email address"),
                )
            }
        },
        FieldType::Phone => match normalize::phone(&text, field.config.default_region.as_deref()) {
            Some(e164) => e164,
            None => {
                return err(
                    FieldCode::InvalidPhone,
                    format!("{text:?} is not a valid phone number"),
                )
            }
        },
        FieldType::Url => match normalize::url(&text) {
            Ok(url) => url,
            Err(problem) => return err(FieldCode::InvalidUrl, format!("{text:?} {problem}")),
        },
        FieldType::Select => {
            if field.option(&text).is_none() {
                return err(
                    FieldCode::InvalidOption,
                    format!("{text:?} is not an option of {name}"),
                );
            }
            text
        }
        _ => text,
    };
    let chars = text.chars().count();
    let c = &field.config;
    let max = c.max_length.unwrap_or(match field.field_type {
        FieldType::LongText => MAX_TEXT_BYTES as u32,
        FieldType::Url => 2048,
        FieldType::Relation | FieldType::User => 64,
        _ => DEFAULT_TEXT_MAX_CHARS,
    });
    if chars > max as usize {
        return err(
            FieldCode::TooLong,
            format!("{name} is longer than {max} characters"),
        );
    }
    if c.min_length.is_some_and(|min| chars < min as usize) {
        return err(
            FieldCode::TooShort,
            format!(
                "{name} is shorter than {} characters",
                c.min_length.unwrap_or(0)
            ),
        );
    }
    if let Some(pattern) = &c.pattern {
        let anchored = format!("^(?:{pattern})$");
        match regex::Regex::new(&anchored) {
            Ok(re) if re.is_match(&text) => {}
            _ => {
                return err(
                    FieldCode::PatternMismatch,
                    format!("{name} does not match its pattern"),
                )
            }
        }
    }
    Ok(Value::Text(text))
}

fn check_range(field: &FieldDef, value: Value, number: Decimal) -> Result<Value, FieldError> {
    let scale = field.scale();
    let bound = |b: &Option<String>| b.as_deref().and_then(|s| Decimal::parse(s, scale).ok());
    let number = number.rescale(scale).unwrap_or(number);
    let below = bound(&field.config.min).is_some_and(|m| number.units < m.units);
    let above = bound(&field.config.max).is_some_and(|m| number.units > m.units);
    if below || above {
        let range = format!(
            "{}..{}",
            field.config.min.as_deref().unwrap_or(""),
            field.config.max.as_deref().unwrap_or("")
        );
        return Err(FieldError::new(
            &field.api_name,
            FieldCode::OutOfRange,
            format!("{} must be within {range}", field.api_name),
        ));
    }
    Ok(value)
}

/// Writes a value as the API shows it: decimals as exact strings, currencies as
/// `{"amount", "currency"}`, dates as `YYYY-MM-DD`, date-times in UTC.
pub fn to_json(field: &FieldDef, value: &Value) -> Json {
    let scale = field.scale();
    match value {
        Value::Null => Json::Null,
        Value::Text(t) => Json::String(t.clone()),
        Value::Integer(i) => json!(i),
        Value::Decimal(units) => Json::String(Decimal::new(*units, scale).to_string()),
        Value::Currency { units, code } => json!({
            "amount": Decimal::new(*units, scale).to_string(),
            "currency": code,
        }),
        Value::Boolean(b) => Json::Bool(*b),
        Value::Date(d) => Json::String(d.format("%Y-%m-%d").to_string()),
        Value::DateTime(d) => Json::String(format_datetime(d)),
        Value::List(items) => json!(items),
        Value::Files(files) => Json::Array(files.iter().map(FileRef::to_json).collect()),
        Value::Address { region, street } => address_json(region, street.as_deref()),
    }
}

/// An address as the API shows it: the code, the names of its province, city and district,
/// and the street.
fn address_json(region: &str, street: Option<&str>) -> Json {
    let mut out = serde_json::Map::new();
    out.insert("code".into(), json!(region));
    if let Some(place) = crate::regions::place(region) {
        out.insert("province".into(), json!(place.province));
        if let Some(city) = place.city {
            out.insert("city".into(), json!(city));
        }
        if let Some(district) = place.district {
            out.insert("district".into(), json!(district));
        }
    }
    if let Some(street) = street {
        out.insert("street".into(), json!(street));
    }
    Json::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::FieldConfig;
    use crate::Label;

    fn field(t: FieldType, config: FieldConfig) -> FieldDef {
        FieldDef {
            api_name: "f".into(),
            label: Label::new("F", "F"),
            field_type: t,
            required: false,
            unique: false,
            config,
            is_standard: false,
            archived_at: None,
        }
    }

    #[test]
    fn phones_become_e164_with_default_region() {
        let f = field(FieldType::Phone, FieldConfig::default());
        for input in [
            "13800138000",
            "+86 138 0013 8000",
            "138-0013-8000",
            "+8613800138000",
        ] {
            assert_eq!(
                parse_input(&f, &json!(input)).unwrap(),
                Value::Text("+8613800138000".into()),
                "{input}"
            );
        }
        assert_eq!(
            parse_input(&f, &json!("+1 415 555 2671")).unwrap(),
            Value::Text("+14155552671".into())
        );
        assert_eq!(
            parse_input(&f, &json!("12")).unwrap_err().code,
            "invalid_phone"
        );
    }

    #[test]
    fn currency_accepts_object_or_amount() {
        let f = field(FieldType::Currency, FieldConfig::default());
        assert_eq!(
            parse_input(&f, &json!({"amount": "500000.5", "currency": "usd"})).unwrap(),
            Value::Currency {
                units: 50000050,
                code: "USD".into()
            }
        );
        assert_eq!(
            parse_input(&f, &json!(12)).unwrap(),
            Value::Currency {
                units: 1200,
                code: "CNY".into()
            }
        );
        assert_eq!(
            parse_input(&f, &json!({"amount": "1", "currency": "yuan"}))
                .unwrap_err()
                .code,
            "invalid_currency"
        );
        let v = parse_input(&f, &json!("7.1")).unwrap();
        assert_eq!(
            to_json(&f, &v),
            json!({"amount": "7.10", "currency": "CNY"})
        );
    }

    #[test]
    fn text_limits_and_patterns() {
        let f = field(
            FieldType::Text,
            FieldConfig {
                pattern: Some("[A-Z]{2}-\\d+".into()),
                max_length: Some(6),
                ..Default::default()
            },
        );
        assert!(parse_input(&f, &json!("AB-12")).is_ok());
        assert_eq!(
            parse_input(&f, &json!("AB-12x")).unwrap_err().code,
            "pattern_mismatch"
        );
        assert_eq!(
            parse_input(&f, &json!("AB-1234")).unwrap_err().code,
            "too_long"
        );
        assert_eq!(
            parse_input(&f, &json!(12)).unwrap_err().code,
            "invalid_type"
        );
        assert_eq!(parse_input(&f, &json!("  ")).unwrap(), Value::Null);
        let emoji = field(FieldType::Text, FieldConfig::default());
        assert_eq!(
            parse_input(&emoji, &json!("客户🎉")).unwrap(),
            Value::Text("客户🎉".into())
        );
    }

    #[test]
    fn numbers_respect_range() {
        let f = field(
            FieldType::Integer,
            FieldConfig {
                min: Some("0".into()),
                max: Some("10".into()),
                ..Default::default()
            },
        );
        assert!(parse_input(&f, &json!(10)).is_ok());
        assert_eq!(
            parse_input(&f, &json!(11)).unwrap_err().code,
            "out_of_range"
        );
        assert_eq!(
            parse_input(&f, &json!(1.5)).unwrap_err().code,
            "invalid_type"
        );
        assert_eq!(
            parse_input(&f, &json!("1")).unwrap_err().code,
            "invalid_type"
        );
    }

    #[test]
    fn emails_urls_and_dates() {
        let e = field(FieldType::Email, FieldConfig::default());
        assert_eq!(
            parse_input(&e, &json!(" Wang.Wei@Example.CN ")).unwrap(),
            Value::Text("wang.wei@example.cn".into())
        );
        assert_eq!(
            parse_input(&e, &json!("nope")).unwrap_err().code,
            "invalid_email"
        );
        let u = field(FieldType::Url, FieldConfig::default());
        assert!(parse_input(&u, &json!("javascript:alert(1)")).is_err());
        let d = field(FieldType::Date, FieldConfig::default());
        assert_eq!(
            parse_input(&d, &json!("2026-02-30")).unwrap_err().code,
            "invalid_date"
        );
        let dt = field(FieldType::Datetime, FieldConfig::default());
        assert_eq!(
            to_json(
                &dt,
                &parse_input(&dt, &json!("2026-01-31T09:30:00+08:00")).unwrap()
            ),
            json!("2026-01-31T01:30:00.000000Z")
        );
    }

    #[test]
    fn dates_are_four_digit_years_only() {
        let d = field(FieldType::Date, FieldConfig::default());
        for refused in [
            "+10000-01-01",
            "10000-01-01",
            "0000-12-31",
            "2026-1-05",
            "2026-01-5",
            "-0001-01-01",
            "2026/01/05",
        ] {
            assert_eq!(
                parse_input(&d, &json!(refused)).unwrap_err().code,
                "invalid_date",
                "{refused}"
            );
        }
        for (accepted, shown) in [
            ("0001-01-01", "0001-01-01"),
            ("9999-12-31", "9999-12-31"),
            (" 2026-02-28 ", "2026-02-28"),
        ] {
            assert_eq!(
                to_json(&d, &parse_input(&d, &json!(accepted)).unwrap()),
                json!(shown)
            );
        }
    }

    #[test]
    fn datetimes_stay_within_four_digit_years_in_utc() {
        let dt = field(FieldType::Datetime, FieldConfig::default());
        for refused in [
            "9999-12-31T23:00:00-05:00",
            "0001-01-01T00:00:00+00:01",
            "0001-01-01T00:59:59+01:00",
        ] {
            assert_eq!(
                parse_input(&dt, &json!(refused)).unwrap_err().code,
                "out_of_range",
                "{refused}"
            );
        }
        for (accepted, shown) in [
            (
                "9999-12-31T23:59:59.999999999Z",
                "9999-12-31T23:59:59.999999Z",
            ),
            ("9999-12-31T23:59:59+00:00", "9999-12-31T23:59:59.000000Z"),
            ("0001-01-01T00:00:00-05:00", "0001-01-01T05:00:00.000000Z"),
            ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000000Z"),
        ] {
            assert_eq!(
                to_json(&dt, &parse_input(&dt, &json!(accepted)).unwrap()),
                json!(shown),
                "{accepted}"
            );
        }
        assert_eq!(
            parse_input(&dt, &json!("tomorrow")).unwrap_err().code,
            "invalid_datetime"
        );
    }

    #[test]
    fn datetimes_are_kept_to_microseconds() {
        let dt = field(FieldType::Datetime, FieldConfig::default());
        let a = parse_input(&dt, &json!("2026-03-01T10:00:59.1234567-05:00")).unwrap();
        let b = parse_input(&dt, &json!("2026-03-01T15:00:59.123456Z")).unwrap();
        assert_eq!(a, b);
        let leap = parse_input(&dt, &json!("2016-12-31T23:59:60.5Z")).unwrap();
        assert_eq!(to_json(&dt, &leap), json!("2017-01-01T00:00:00.500000Z"));
    }
}
