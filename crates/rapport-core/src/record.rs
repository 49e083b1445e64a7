//! A record as the domain sees it: system columns plus typed field values.

use crate::metadata::{FieldDef, FieldType};
use crate::value::Value;
use crate::Label;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub id: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub created_by: Option<String>,
    pub updated_by: Option<String>,
    pub owner_id: Option<String>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub values: BTreeMap<String, Value>,
    /// Fields whose stored value could not be read as their type (see
    /// `sql::value_from_columns`); their `values` entry is `Null`. Writing such a field
    /// replaces the stored value.
    pub unreadable: Vec<String>,
}

/// System columns that conditions and sorts may name, described as fields.
pub fn system_fields() -> Vec<FieldDef> {
    let make = |name: &str, t: FieldType, en: &str, zh: &str| FieldDef {
        api_name: name.to_string(),
        label: Label::new(en, zh),
        field_type: t,
        required: false,
        unique: false,
        config: Default::default(),
        is_standard: true,
        archived_at: None,
    };
    vec![
        make("id", FieldType::Text, "ID", "ID"),
        make("created_at", FieldType::Datetime, "Created at", "创建时间"),
        make("updated_at", FieldType::Datetime, "Updated at", "更新时间"),
        make("created_by", FieldType::User, "Created by", "创建人"),
        make("updated_by", FieldType::User, "Updated by", "更新人"),
        make("owner_id", FieldType::User, "Owner", "负责人"),
    ]
}

impl Record {
    /// The value of a field or of a system column.
    pub fn get(&self, name: &str) -> Value {
        let text = |v: &Option<String>| v.clone().map_or(Value::Null, Value::Text);
        match name {
            "id" => Value::Text(self.id.clone()),
            "created_at" => Value::DateTime(self.created_at),
            "updated_at" => Value::DateTime(self.updated_at),
            "created_by" => text(&self.created_by),
            "updated_by" => text(&self.updated_by),
            "owner_id" => text(&self.owner_id),
            _ => self.values.get(name).cloned().unwrap_or(Value::Null),
        }
    }
}
