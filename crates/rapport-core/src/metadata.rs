//! Object and field metadata. An object is a real table, a field a typed column (two for a
//! currency). Definitions are validated here; the store turns them into DDL.

use crate::codes::ErrorCode;
use crate::decimal::{Decimal, MAX_SCALE};
use crate::names::{validate_api_name, SYSTEM_COLUMNS};
use crate::{CoreError, Label};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Fields of one object at most, archived ones included (their columns stay): a currency
/// takes two columns and PostgreSQL allows 1,600 per table.
pub const MAX_FIELDS_PER_OBJECT: usize = 500;
/// Options of one select or multi-select field at most.
pub const MAX_OPTIONS: usize = 1_000;
/// The most files an attachment field may be set to hold, and its default.
pub const MAX_FILES: u8 = 20;
const DEFAULT_MAX_FILES: u8 = 10;
/// The largest file size an attachment field may be set to take (MiB), and its default.
pub const MAX_SIZE_MB: u8 = 25;
const DEFAULT_MAX_SIZE_MB: u8 = 10;

/// 422 `too_many_fields`.
pub fn too_many_fields() -> CoreError {
    CoreError::definition(
        ErrorCode::TooManyFields,
        format!("an object has at most {MAX_FIELDS_PER_OBJECT} fields, archived ones included"),
    )
}
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Text,
    LongText,
    Integer,
    Decimal,
    Currency,
    Percent,
    Boolean,
    Date,
    Datetime,
    Select,
    MultiSelect,
    Email,
    Phone,
    Url,
    Relation,
    User,
    Formula,
    /// A number the server gives each new record from the field's `format` (`HT-2026-0001`).
    AutoNumber,
    /// Several users of the workspace.
    MultiUser,
    /// A region of the national list (省 / 市 / 区) and a street.
    Address,
    /// Files uploaded for the field (`images_only` for pictures).
    Attachment,
}

/// What a formula computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FormulaResult {
    Text,
    Decimal,
    Boolean,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SelectOption {
    /// Left out when defining the option: made from its label (`FieldConfig::name_options`).
    #[serde(default)]
    #[schema(required = true)]
    pub value: String,
    pub label: Label,
    /// Win probability in percent, for pipeline stages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
}

/// Type-specific settings and validation rules of a field. Only the settings that make sense
/// for the field's type may be set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    /// A regular expression the whole value must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Inclusive lower bound for numbers (decimal string) and dates (ISO string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<String>,
    /// Digits after the decimal point for decimal, percent, currency and decimal formulas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<u8>,
    /// ISO 4217 code used when a currency value comes without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_currency: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<SelectOption>,
    /// Target object of a relation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Label of the reverse list shown on the target's records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverse_label: Option<Label>,
    /// Region used to read phone numbers written without a country code (ISO 3166, e.g. "CN").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_region: Option<String>,
    /// Global search looks in this text field too (names, emails, phones and unique text
    /// fields always are searched), so a serial number such as `SN-2024-0850` is found.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub searchable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<FormulaResult>,
    /// An auto-number's format: text with `{YYYY}`, `{YY}`, `{MM}`, `{DD}` and one sequence
    /// token of zeros, e.g. `HT-{YYYY}-{0000}`; the sequence restarts when the date part changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// An attachment field takes only pictures (PNG, JPEG, GIF, WebP, judged by content).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub images_only: bool,
    /// The most files an attachment field holds (1–20, default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_files: Option<u8>,
    /// The largest file an attachment field takes, in MiB (1–25, default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_size_mb: Option<u8>,
}

impl FieldConfig {
    /// Gives each option defined without a value one made from its label, unique within the
    /// field ("华东" → `hua_dong`), so picklists can be written in Chinese only.
    pub fn name_options(&mut self) {
        for at in 0..self.options.len() {
            if !self.options[at].value.is_empty() || self.options[at].label.is_blank() {
                continue;
            }
            let named = crate::names::generate_api_name(&self.options[at].label, "option", |v| {
                self.options.iter().any(|o| o.value == v)
            });
            self.options[at].value = named;
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldDef {
    /// Left out when adding a field: made from the label (`names::generate_api_name`).
    #[serde(default)]
    #[schema(required = true)]
    pub api_name: String,
    pub label: Label,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub unique: bool,
    #[serde(default)]
    pub config: FieldConfig,
    #[serde(default)]
    pub is_standard: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ObjectDef {
    pub api_name: String,
    pub label: Label,
    pub plural_label: Label,
    #[serde(default)]
    pub is_standard: bool,
    /// The field that names a record in lists, lookups and search.
    pub name_field: String,
    pub fields: Vec<FieldDef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived_at: Option<DateTime<Utc>>,
    /// Sections of fields for the record page, in order.
    #[serde(default)]
    pub layout: Vec<LayoutSection>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LayoutSection {
    pub label: Label,
    pub fields: Vec<String>,
}

impl FieldType {
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            FieldType::Integer | FieldType::Decimal | FieldType::Percent | FieldType::Currency
        )
    }

    pub fn is_textual(self) -> bool {
        matches!(
            self,
            FieldType::Text
                | FieldType::LongText
                | FieldType::Email
                | FieldType::Phone
                | FieldType::Url
        )
    }

    /// Whether global search looks at fields of this type.
    pub fn is_searchable(self) -> bool {
        matches!(self, FieldType::Email | FieldType::Phone)
    }
}

impl FieldDef {
    pub fn is_active(&self) -> bool {
        self.archived_at.is_none()
    }

    /// Whether global search looks in this field: emails and phones, auto-numbers, unique text
    /// fields (an identifier such as a serial number) and text fields marked `searchable`.
    pub fn in_search(&self) -> bool {
        self.field_type.is_searchable()
            || self.field_type == FieldType::AutoNumber
            || (self.field_type.is_textual() && (self.unique || self.config.searchable))
    }

    /// Whether every value is unique among live records: unique fields and auto-numbers.
    pub fn has_unique_values(&self) -> bool {
        self.unique || self.field_type == FieldType::AutoNumber
    }

    /// An attachment field's most files.
    pub fn max_files(&self) -> usize {
        usize::from(self.config.max_files.unwrap_or(DEFAULT_MAX_FILES))
    }

    /// An attachment field's largest file, in bytes.
    pub fn max_file_bytes(&self) -> usize {
        usize::from(self.config.max_size_mb.unwrap_or(DEFAULT_MAX_SIZE_MB)) << 20
    }

    /// An auto-number field's format (checked when the field was defined).
    pub fn auto_number_format(&self) -> Option<crate::autonumber::Format> {
        crate::autonumber::Format::parse(self.config.format.as_deref()?).ok()
    }

    /// The decimal scale used for numeric storage (0 for integers).
    pub fn scale(&self) -> u8 {
        match self.field_type {
            FieldType::Integer => 0,
            FieldType::Decimal | FieldType::Percent | FieldType::Currency => {
                self.config.scale.unwrap_or(2)
            }
            FieldType::Formula => self.config.scale.unwrap_or(2),
            _ => 0,
        }
    }

    pub fn default_currency(&self) -> &str {
        self.config.default_currency.as_deref().unwrap_or("CNY")
    }

    pub fn option(&self, value: &str) -> Option<&SelectOption> {
        self.config.options.iter().find(|o| o.value == value)
    }

    /// The storage shape of the field's value: formulas take their result's shape.
    pub fn value_type(&self) -> FieldType {
        match (self.field_type, self.config.result_type) {
            (FieldType::Formula, Some(FormulaResult::Text)) => FieldType::Text,
            (FieldType::Formula, Some(FormulaResult::Boolean)) => FieldType::Boolean,
            (FieldType::Formula, _) => FieldType::Decimal,
            (FieldType::AutoNumber, _) => FieldType::Text,
            (other, _) => other,
        }
    }

    /// Checks the definition on its own (targets of relations are checked by the caller, who
    /// knows the other objects).
    pub fn validate(&self) -> Result<(), CoreError> {
        validate_api_name(&self.api_name, "field")?;
        if SYSTEM_COLUMNS.contains(&self.api_name.as_str()) {
            return Err(CoreError::definition(
                ErrorCode::ReservedName,
                format!(
                    "{:?} is a system column and cannot be a field name",
                    self.api_name
                ),
            ));
        }
        self.label.check(&format!("field {}", self.api_name))?;
        if let Some(reverse) = &self.config.reverse_label {
            reverse.check(&format!("the reverse list of {}", self.api_name))?;
        }
        let c = &self.config;
        let t = self.field_type;
        let bad = |setting: &str| {
            Err(CoreError::definition(
                ErrorCode::InvalidFieldConfig,
                format!(
                    "{setting} does not apply to a {t:?} field ({})",
                    self.api_name
                ),
            ))
        };
        if (c.min_length.is_some() || c.max_length.is_some() || c.pattern.is_some())
            && !t.is_textual()
        {
            return bad("min_length/max_length/pattern");
        }
        if let (Some(min), Some(max)) = (c.min_length, c.max_length) {
            if min > max {
                return Err(CoreError::definition(
                    ErrorCode::InvalidFieldConfig,
                    "min_length is greater than max_length",
                ));
            }
        }
        if let Some(pattern) = &c.pattern {
            if pattern.len() > 1000 {
                return Err(CoreError::definition(
                    ErrorCode::InvalidFieldConfig,
                    "pattern is longer than 1000 characters",
                ));
            }
            regex::Regex::new(pattern).map_err(|e| {
                CoreError::definition(
                    ErrorCode::InvalidFieldConfig,
                    format!("pattern does not compile: {e}"),
                )
            })?;
        }
        if c.scale.is_some()
            && !matches!(
                t,
                FieldType::Decimal | FieldType::Percent | FieldType::Currency | FieldType::Formula
            )
        {
            return bad("scale");
        }
        if c.scale.is_some_and(|s| s > MAX_SCALE) {
            return Err(CoreError::definition(
                ErrorCode::InvalidFieldConfig,
                format!("scale must be between 0 and {MAX_SCALE}"),
            ));
        }
        if c.min.is_some() || c.max.is_some() {
            match t {
                FieldType::Integer
                | FieldType::Decimal
                | FieldType::Percent
                | FieldType::Currency => {
                    for bound in [&c.min, &c.max].into_iter().flatten() {
                        Decimal::parse(bound, self.scale()).map_err(|e| {
                            CoreError::definition(
                                ErrorCode::InvalidFieldConfig,
                                format!("bound {bound:?}: {e}"),
                            )
                        })?;
                    }
                }
                FieldType::Date => {
                    for bound in [&c.min, &c.max].into_iter().flatten() {
                        chrono::NaiveDate::parse_from_str(bound, "%Y-%m-%d").map_err(|_| {
                            CoreError::definition(
                                ErrorCode::InvalidFieldConfig,
                                format!("date bound {bound:?} is not YYYY-MM-DD"),
                            )
                        })?;
                    }
                }
                _ => return bad("min/max"),
            }
        }
        if c.default_currency.is_some() && t != FieldType::Currency {
            return bad("default_currency");
        }
        if let Some(code) = &c.default_currency {
            if !crate::value::is_currency_code(code) {
                return Err(CoreError::definition(
                    ErrorCode::InvalidFieldConfig,
                    format!("{code:?} is not an ISO 4217 currency code"),
                ));
            }
        }
        match t {
            FieldType::Select | FieldType::MultiSelect => {
                if c.options.is_empty() {
                    return Err(CoreError::definition(
                        ErrorCode::InvalidFieldConfig,
                        format!("select field {} needs at least one option", self.api_name),
                    ));
                }
                if c.options.len() > MAX_OPTIONS {
                    return Err(CoreError::definition(
                        ErrorCode::InvalidFieldConfig,
                        format!("a select field has at most {MAX_OPTIONS} options"),
                    ));
                }
                let mut seen = std::collections::HashSet::new();
                for option in &c.options {
                    option.label.check(&format!("option {:?}", option.value))?;
                    if option.value.trim().is_empty() || option.value.chars().count() > 100 {
                        return Err(CoreError::definition(
                            ErrorCode::InvalidFieldConfig,
                            "option values must be 1 to 100 characters",
                        ));
                    }
                    if !seen.insert(option.value.as_str()) {
                        return Err(CoreError::definition(
                            ErrorCode::InvalidFieldConfig,
                            format!("option {:?} appears twice", option.value),
                        ));
                    }
                    if option.probability.is_some_and(|p| p > 100) {
                        return Err(CoreError::definition(
                            ErrorCode::InvalidFieldConfig,
                            "probability is a percentage from 0 to 100",
                        ));
                    }
                }
            }
            _ if !c.options.is_empty() => return bad("options"),
            _ => {}
        }
        match t {
            FieldType::Relation => {
                let Some(target) = &c.target else {
                    return Err(CoreError::definition(
                        ErrorCode::InvalidFieldConfig,
                        format!("relation field {} needs a target object", self.api_name),
                    ));
                };
                validate_api_name(target, "target object")?;
            }
            _ if c.target.is_some() || c.reverse_label.is_some() => return bad("target"),
            _ => {}
        }
        if c.searchable && !t.is_textual() {
            return bad("searchable");
        }
        if c.default_region.is_some() && t != FieldType::Phone {
            return bad("default_region");
        }
        if let Some(region) = &c.default_region {
            if region.parse::<phonenumber::country::Id>().is_err() {
                return Err(CoreError::definition(
                    ErrorCode::InvalidFieldConfig,
                    format!("{region:?} is not a region code"),
                ));
            }
        }
        match t {
            FieldType::Formula => {
                if c.expression.as_deref().is_none_or(|e| e.trim().is_empty()) {
                    return Err(CoreError::definition(
                        ErrorCode::InvalidFieldConfig,
                        format!("formula field {} needs an expression", self.api_name),
                    ));
                }
                if self.required || self.unique {
                    return Err(CoreError::definition(
                        ErrorCode::InvalidFieldConfig,
                        "a formula field is computed and cannot be required or unique",
                    ));
                }
            }
            _ if c.expression.is_some() || c.result_type.is_some() => return bad("expression"),
            _ => {}
        }
        self.validate_new_types()?;
        if self.unique
            && matches!(
                t,
                FieldType::LongText
                    | FieldType::Boolean
                    | FieldType::MultiSelect
                    | FieldType::MultiUser
                    | FieldType::Address
                    | FieldType::Attachment
            )
        {
            return bad("unique");
        }
        Ok(())
    }

    /// The settings of auto-number and attachment fields.
    fn validate_new_types(&self) -> Result<(), CoreError> {
        let c = &self.config;
        let t = self.field_type;
        let invalid = |message: String| {
            Err(CoreError::definition(
                ErrorCode::InvalidFieldConfig,
                message,
            ))
        };
        match (&c.format, t) {
            (Some(format), FieldType::AutoNumber) => {
                if let Err(problem) = crate::autonumber::Format::parse(format) {
                    return invalid(format!("the format {format:?} {problem}"));
                }
                if self.required {
                    return invalid(
                        "an auto-number is given by the server and cannot be required".into(),
                    );
                }
            }
            (None, FieldType::AutoNumber) => {
                return invalid(format!(
                    "auto-number field {} needs a format such as HT-{{YYYY}}-{{0000}}",
                    self.api_name
                ))
            }
            (Some(_), _) => return invalid(format!("format does not apply to a {t:?} field")),
            (None, _) => {}
        }
        let attachment_settings = c.images_only || c.max_files.is_some() || c.max_size_mb.is_some();
        if attachment_settings && t != FieldType::Attachment {
            return invalid(format!(
                "images_only/max_files/max_size_mb do not apply to a {t:?} field"
            ));
        }
        if c.max_files.is_some_and(|n| !(1..=MAX_FILES).contains(&n)) {
            return invalid(format!("max_files must be between 1 and {MAX_FILES}"));
        }
        if c.max_size_mb
            .is_some_and(|n| !(1..=MAX_SIZE_MB).contains(&n))
        {
            return invalid(format!("max_size_mb must be between 1 and {MAX_SIZE_MB}"));
        }
        Ok(())
    }
}

/// The api name of the percent field that follows a pipeline's stage.
pub const PROBABILITY_FIELD: &str = "probability";

/// The stages of an object's pipeline and the field their win probability is copied to.
#[derive(Debug, Clone, Copy)]
pub struct Pipeline<'a> {
    pub stage: &'a FieldDef,
    pub probability: Option<&'a FieldDef>,
}

impl Pipeline<'_> {
    /// The probability of `stage` as a value of the probability field, if both exist.
    pub fn probability_of(&self, stage: &str) -> Option<(&str, crate::Value)> {
        let field = self.probability?;
        let percent = self.stage.option(stage)?.probability?;
        let units = i64::from(percent) * 10_i64.pow(u32::from(field.scale()));
        Some((field.api_name.as_str(), crate::Value::Decimal(units)))
    }
}

impl ObjectDef {
    pub fn is_active(&self) -> bool {
        self.archived_at.is_none()
    }

    pub fn field(&self, api_name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.api_name == api_name)
    }

    /// Checks the object's label and plural label.
    pub fn check_labels(&self) -> Result<(), CoreError> {
        self.label.check(&format!("object {}", self.api_name))?;
        self.plural_label
            .check(&format!("the plural of object {}", self.api_name))
    }

    /// A field that is not archived.
    pub fn active_field(&self, api_name: &str) -> Option<&FieldDef> {
        self.field(api_name).filter(|f| f.is_active())
    }

    pub fn active_fields(&self) -> impl Iterator<Item = &FieldDef> {
        self.fields.iter().filter(|f| f.is_active())
    }

    /// The object's sales pipeline, if it has one: its first active select field whose options
    /// carry win probabilities (the stages), and the active percent field `probability` that
    /// follows the stage.
    pub fn pipeline(&self) -> Option<Pipeline<'_>> {
        let stage = self.active_fields().find(|f| {
            f.field_type == FieldType::Select
                && f.config.options.iter().any(|o| o.probability.is_some())
        })?;
        let probability = self
            .active_field(PROBABILITY_FIELD)
            .filter(|f| f.field_type == FieldType::Percent);
        Some(Pipeline { stage, probability })
    }

    pub fn validate(&self) -> Result<(), CoreError> {
        validate_api_name(&self.api_name, "object")?;
        self.check_labels()?;
        if self.fields.len() > MAX_FIELDS_PER_OBJECT {
            return Err(too_many_fields());
        }
        let mut seen = std::collections::HashSet::new();
        for field in &self.fields {
            field.validate()?;
            if !seen.insert(field.api_name.as_str()) {
                return Err(CoreError::definition(
                    ErrorCode::DuplicateField,
                    format!("field {} appears twice", field.api_name),
                ));
            }
        }
        match self.field(&self.name_field) {
            Some(f)
                if matches!(
                    f.field_type,
                    FieldType::Text | FieldType::Email | FieldType::Phone | FieldType::Formula
                ) => {}
            _ => {
                return Err(CoreError::definition(
                    ErrorCode::InvalidNameField,
                    format!(
                        "name field {:?} must be a text field of object {}",
                        self.name_field, self.api_name
                    ),
                ))
            }
        }
        for section in &self.layout {
            for name in &section.fields {
                if self.field(name).is_none() {
                    return Err(CoreError::definition(
                        ErrorCode::InvalidLayout,
                        format!("layout names unknown field {name:?}"),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// All objects of one workspace, as loaded for a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkspaceSchema {
    pub objects: Vec<ObjectDef>,
}

impl WorkspaceSchema {
    pub fn object(&self, api_name: &str) -> Option<&ObjectDef> {
        self.objects.iter().find(|o| o.api_name == api_name)
    }

    pub fn active_object(&self, api_name: &str) -> Option<&ObjectDef> {
        self.object(api_name).filter(|o| o.is_active())
    }

    /// Active relation fields of active objects that point at `target`: the reverse lists.
    pub fn relations_to<'a>(
        &'a self,
        target: &'a str,
    ) -> impl Iterator<Item = (&'a ObjectDef, &'a FieldDef)> + 'a {
        self.objects
            .iter()
            .filter(|o| o.is_active())
            .flat_map(move |o| {
                o.active_fields()
                    .filter(move |f| {
                        f.field_type == FieldType::Relation
                            && f.config.target.as_deref() == Some(target)
                    })
                    .map(move |f| (o, f))
            })
    }
}
