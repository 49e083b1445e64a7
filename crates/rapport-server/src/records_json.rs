//! How a record looks in the API: system attributes, a display `name`, `values` keyed by field
//! api name (decimals as exact strings, currencies as `{amount, currency}`), the fields whose
//! stored value cannot be read, and optionally the related records it points at under
//! `expanded`.

use chrono::{DateTime, Utc};
use rapport_core::metadata::ObjectDef;
use rapport_core::value::to_json;
use rapport_core::{Record, Value};
use serde::Serialize;
use serde_json::{Map, Value as Json};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecordBody {
    pub id: String,
    pub object: String,
    /// Increases with every change; send it back as `version` or `If-Match` to update safely.
    pub version: i64,
    /// The value of the object's name field, for display.
    pub name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub created_by: Option<String>,
    pub updated_by: Option<String>,
    pub owner_id: Option<String>,
    pub deleted_at: Option<DateTime<Utc>>,
    #[schema(value_type = Object)]
    pub values: Map<String, Json>,
    /// Fields whose stored value cannot be read as their type (left by an older version or a
    /// hand edit); they show as null. Writing such a field replaces the stored value.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreadable_fields: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub expanded: Option<Map<String, Json>>,
}

pub fn record_body(def: &ObjectDef, record: &Record, fields: Option<&[String]>) -> RecordBody {
    let mut values = Map::new();
    for field in def.active_fields() {
        if fields.is_some_and(|wanted| !wanted.contains(&field.api_name)) {
            continue;
        }
        values.insert(
            field.api_name.clone(),
            to_json(field, &record.get(&field.api_name)),
        );
    }
    let name = match record.get(&def.name_field) {
        Value::Text(text) => Some(text),
        Value::Null => None,
        other => def
            .field(&def.name_field)
            .and_then(|f| to_json(f, &other).as_str().map(str::to_string)),
    };
    RecordBody {
        id: record.id.clone(),
        object: def.api_name.clone(),
        version: record.version,
        name,
        created_at: record.created_at,
        updated_at: record.updated_at,
        created_by: record.created_by.clone(),
        updated_by: record.updated_by.clone(),
        owner_id: record.owner_id.clone(),
        deleted_at: record.deleted_at,
        values,
        unreadable_fields: record.unreadable.clone(),
        expanded: None,
    }
}
