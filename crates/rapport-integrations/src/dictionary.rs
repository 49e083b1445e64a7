//! The semantic dictionary (业务语义字典): per outside system, named value mappings between
//! one CRM field's values and that system's codes — "ERP: SHIPPED ↔ 订单状态 已发货" — so a
//! status is never read as another. A mapping is one-to-one both ways. Connectors translate
//! outgoing values through it (`{{record.stage | map:ERP}}` in a template) and incoming ones
//! (`"/data/status | map:ERP"` in a response mapping, inbound webhooks); a value without a
//! mapping is refused with the reason recorded and shown on the admin page — never passed
//! through raw.

use crate::owned::Table;
use chrono::{DateTime, Utc};
use rapport_core::codes::ErrorCode;
use rapport_core::metadata::FieldType;
use rapport_core::sql::{ColumnKind, SqlParam};
use rapport_store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use utoipa::ToSchema;

/// The most entries one mapping holds.
pub const MAX_ENTRIES: usize = 1000;

/// Which way a value goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From Rapport to the outside system (a CRM value becomes the system's code).
    Outbound,
    /// From the outside system into Rapport (a code becomes a CRM value).
    Inbound,
}

impl Direction {
    fn as_str(self) -> &'static str {
        match self {
            Direction::Outbound => "outbound",
            Direction::Inbound => "inbound",
        }
    }
}

/// One pair: a CRM value and the system's code for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ValueMapEntry)]
pub struct Entry {
    pub crm_value: String,
    pub external_code: String,
}

/// A value that arrived or left without a mapping, and how often.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Unmapped {
    pub direction: Direction,
    pub value: String,
    pub count: i64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Where it was met (`connector ERP 下单`, `inbound webhook …`).
    pub last_context: String,
}

/// A mapping between one field and one system's codes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ValueMap {
    pub id: String,
    /// The outside system's name as templates name it (`ERP`, `金蝶`, `WMS`).
    pub system: String,
    pub object: String,
    pub field: String,
    pub description: String,
    pub entries: Vec<Entry>,
    /// Values met in traffic that had no mapping, most recent first.
    pub unmapped: Vec<Unmapped>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What an admin sends to create a mapping or replace one.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"system": "ERP", "object": "order", "field": "status", "entries": [{"crm_value": "shipped", "external_code": "SHIPPED"}]}))]
pub struct ValueMapInput {
    pub system: String,
    pub object: String,
    pub field: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub entries: Vec<Entry>,
}

fn invalid(message: impl Into<String>) -> StoreError {
    StoreError::bad_request(ErrorCode::InvalidValueMap, message)
}

/// A system name: 1 to 50 characters, no `|`, `}` or spaces at the ends (it sits in templates).
fn check_system(system: &str) -> Result<(), StoreError> {
    if system.trim() != system
        || system.is_empty()
        || system.chars().count() > 50
        || system.contains(['|', '}', '{'])
    {
        return Err(invalid(
            "a system name is 1 to 50 characters without |, { or } and without spaces at the ends",
        ));
    }
    Ok(())
}

async fn check(store: &Store, workspace_id: &str, input: &ValueMapInput) -> Result<(), StoreError> {
    check_system(&input.system)?;
    if input.description.chars().count() > 500 {
        return Err(invalid("a description is at most 500 characters"));
    }
    let principal = store.system_principal(workspace_id).await?;
    let schema = store
        .schema(workspace_id, principal.metadata_version)
        .await?;
    let object = schema
        .object(&input.object)
        .ok_or_else(|| invalid(format!("there is no object {:?}", input.object)))?;
    let field = object
        .active_field(&input.field)
        .ok_or_else(|| invalid(format!("{} has no field {:?}", input.object, input.field)))?;
    let options: Option<BTreeSet<&str>> =
        matches!(field.field_type, FieldType::Select).then(|| {
            field
                .config
                .options
                .iter()
                .map(|o| o.value.as_str())
                .collect()
        });
    if !matches!(field.field_type, FieldType::Select | FieldType::Text) {
        return Err(invalid("a mapping is for a single-select or text field"));
    }
    if input.entries.len() > MAX_ENTRIES {
        return Err(invalid(format!(
            "a mapping has at most {MAX_ENTRIES} entries"
        )));
    }
    let mut crm = BTreeSet::new();
    let mut codes = BTreeSet::new();
    for entry in &input.entries {
        for text in [&entry.crm_value, &entry.external_code] {
            if text.is_empty() || text.len() > 200 {
                return Err(invalid("values and codes are 1 to 200 bytes"));
            }
        }
        if let Some(options) = &options {
            if !options.contains(entry.crm_value.as_str()) {
                return Err(invalid(format!(
                    "{:?} is not an option of {}.{}",
                    entry.crm_value, input.object, input.field
                )));
            }
        }
        if !crm.insert(entry.crm_value.as_str()) {
            return Err(invalid(format!(
                "{:?} is mapped twice: a value has one code",
                entry.crm_value
            )));
        }
        if !codes.insert(entry.external_code.as_str()) {
            return Err(invalid(format!(
                "{:?} is mapped twice: a code means one value",
                entry.external_code
            )));
        }
    }
    Ok(())
}

const TABLE: Table = Table {
    name: "value_maps",
    columns: "id, system, object, field, description, entries, created_at, updated_at",
    kinds: &KINDS,
    what: "value map",
};
const KINDS: [ColumnKind; 8] = [
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Json,
    ColumnKind::Timestamp,
    ColumnKind::Timestamp,
];

fn decode(row: &rapport_store::Row) -> Result<ValueMap, StoreError> {
    Ok(ValueMap {
        id: row.text(0)?,
        system: row.text(1)?,
        object: row.text(2)?,
        field: row.text(3)?,
        description: row.text(4)?,
        entries: serde_json::from_value(row.json(5)?).unwrap_or_default(),
        unmapped: Vec::new(),
        created_at: row.timestamp(6)?,
        updated_at: row.timestamp(7)?,
    })
}

async fn unmapped_of(store: &Store, map_id: &str) -> Result<Vec<Unmapped>, StoreError> {
    let rows = store
        .db
        .fetch_all(
            &format!(
                "SELECT direction, value, count, first_seen, last_seen, last_context \
                 FROM value_map_unmapped WHERE map_id = {} ORDER BY last_seen DESC LIMIT 100",
                store.ph(1)
            ),
            &[SqlParam::Text(map_id.into())],
            &[
                ColumnKind::Text,
                ColumnKind::Text,
                ColumnKind::Int,
                ColumnKind::Timestamp,
                ColumnKind::Timestamp,
                ColumnKind::Text,
            ],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Unmapped {
                direction: if r.text(0)? == "inbound" {
                    Direction::Inbound
                } else {
                    Direction::Outbound
                },
                value: r.text(1)?,
                count: r.int(2)?,
                first_seen: r.timestamp(3)?,
                last_seen: r.timestamp(4)?,
                last_context: r.text(5)?,
            })
        })
        .collect()
}

pub async fn list(store: &Store, workspace_id: &str) -> Result<Vec<ValueMap>, StoreError> {
    let rows = TABLE
        .all(store, workspace_id, "system, object, field")
        .await?;
    let mut maps = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut map = decode(row)?;
        map.unmapped = unmapped_of(store, &map.id).await?;
        maps.push(map);
    }
    Ok(maps)
}

pub async fn get(store: &Store, workspace_id: &str, id: &str) -> Result<ValueMap, StoreError> {
    let mut map = decode(&TABLE.one(store, workspace_id, id).await?)?;
    map.unmapped = unmapped_of(store, id).await?;
    Ok(map)
}

fn taken(e: StoreError) -> StoreError {
    match e.unique_violation() {
        Some(_) => invalid("this system already has a mapping for this field"),
        None => e,
    }
}

pub async fn create(
    store: &Store,
    workspace_id: &str,
    input: ValueMapInput,
) -> Result<ValueMap, StoreError> {
    check(store, workspace_id, &input).await?;
    let id = uuid::Uuid::now_v7().to_string();
    let now = store.now();
    let m: Vec<String> = (1..=9).map(|n| store.ph(n)).collect();
    store
        .db
        .execute(
            &format!(
                "INSERT INTO value_maps (id, workspace_id, system, object, field, description, \
                 entries, created_at, updated_at) VALUES ({})",
                m.join(", ")
            ),
            &[
                SqlParam::Text(id.clone()),
                SqlParam::Text(workspace_id.into()),
                SqlParam::Text(input.system),
                SqlParam::Text(input.object),
                SqlParam::Text(input.field),
                SqlParam::Text(input.description),
                SqlParam::Json(serde_json::to_value(&input.entries).unwrap_or_default()),
                SqlParam::Timestamp(now),
                SqlParam::Timestamp(now),
            ],
        )
        .await
        .map_err(taken)?;
    get(store, workspace_id, &id).await
}

/// Replaces a mapping's entries and description (its system, object and field stay). Values
/// seen unmapped that the new entries cover are forgotten.
pub async fn update(
    store: &Store,
    workspace_id: &str,
    id: &str,
    input: ValueMapInput,
) -> Result<ValueMap, StoreError> {
    let current = get(store, workspace_id, id).await?;
    if (&current.system, &current.object, &current.field)
        != (&input.system, &input.object, &input.field)
    {
        return Err(invalid(
            "a mapping's system, object and field do not change; make another mapping",
        ));
    }
    check(store, workspace_id, &input).await?;
    let mut tx = store.db.begin().await?;
    tx.execute(
        &format!(
            "UPDATE value_maps SET description = {}, entries = {}, updated_at = {} \
             WHERE workspace_id = {} AND id = {}",
            store.ph(1),
            store.ph(2),
            store.ph(3),
            store.ph(4),
            store.ph(5)
        ),
        &[
            SqlParam::Text(input.description),
            SqlParam::Json(serde_json::to_value(&input.entries).unwrap_or_default()),
            SqlParam::Timestamp(store.now()),
            SqlParam::Text(workspace_id.into()),
            SqlParam::Text(id.into()),
        ],
    )
    .await?;
    for entry in &input.entries {
        for (direction, value) in [
            (Direction::Outbound, &entry.crm_value),
            (Direction::Inbound, &entry.external_code),
        ] {
            tx.execute(
                &format!(
                    "DELETE FROM value_map_unmapped WHERE map_id = {} AND direction = {} AND value = {}",
                    store.ph(1),
                    store.ph(2),
                    store.ph(3)
                ),
                &[
                    SqlParam::Text(id.into()),
                    SqlParam::Text(direction.as_str().into()),
                    SqlParam::Text(value.clone()),
                ],
            )
            .await?;
        }
    }
    tx.commit().await?;
    get(store, workspace_id, id).await
}

pub async fn delete(store: &Store, workspace_id: &str, id: &str) -> Result<(), StoreError> {
    let mut tx = store.db.begin().await?;
    TABLE.delete(store, &mut tx, workspace_id, id).await?;
    tx.execute(
        &format!(
            "DELETE FROM value_map_unmapped WHERE map_id = {}",
            store.ph(1)
        ),
        &[SqlParam::Text(id.into())],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A system's mappings for one object, loaded once for a message: field → the pairs both
/// ways.
#[derive(Debug, Clone, Default)]
pub struct Translator {
    system: String,
    object: String,
    fields: HashMap<String, FieldMap>,
}

/// One field's mapping: its id, CRM value → code, and code → CRM value.
#[derive(Debug, Clone, Default)]
struct FieldMap {
    id: String,
    outbound: HashMap<String, String>,
    inbound: HashMap<String, String>,
}

/// A value that had no mapping: what to record and say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Miss {
    pub map_id: Option<String>,
    pub direction: Direction,
    pub field: String,
    pub value: String,
}

impl Miss {
    pub fn reason(&self, system: &str, object: &str) -> String {
        match &self.map_id {
            Some(_) => format!(
                "{system} has no {} mapping for {object}.{} value {:?}",
                self.direction.as_str(),
                self.field,
                self.value
            ),
            None => format!("{system} has no mapping for {object}.{}", self.field),
        }
    }
}

impl Translator {
    /// The mappings of `system` for `object` in the workspace.
    pub async fn load(
        store: &Store,
        workspace_id: &str,
        system: &str,
        object: &str,
    ) -> Result<Self, StoreError> {
        let rows = store
            .db
            .fetch_all(
                &format!(
                    "SELECT id, field, entries FROM value_maps WHERE workspace_id = {} AND system = {} AND object = {}",
                    store.ph(1),
                    store.ph(2),
                    store.ph(3)
                ),
                &[
                    SqlParam::Text(workspace_id.into()),
                    SqlParam::Text(system.into()),
                    SqlParam::Text(object.into()),
                ],
                &[ColumnKind::Text, ColumnKind::Text, ColumnKind::Json],
            )
            .await?;
        let mut fields = HashMap::new();
        for row in &rows {
            let entries: Vec<Entry> = serde_json::from_value(row.json(2)?).unwrap_or_default();
            let outbound = entries
                .iter()
                .map(|e| (e.crm_value.clone(), e.external_code.clone()))
                .collect();
            let inbound = entries
                .into_iter()
                .map(|e| (e.external_code, e.crm_value))
                .collect();
            fields.insert(
                row.text(1)?,
                FieldMap {
                    id: row.text(0)?,
                    outbound,
                    inbound,
                },
            );
        }
        Ok(Self {
            system: system.to_string(),
            object: object.to_string(),
            fields,
        })
    }

    pub fn system(&self) -> &str {
        &self.system
    }

    pub fn object(&self) -> &str {
        &self.object
    }

    /// `value` of `field` translated `direction`-wards.
    pub fn translate(
        &self,
        direction: Direction,
        field: &str,
        value: &str,
    ) -> Result<String, Miss> {
        let miss = |map_id: Option<String>| Miss {
            map_id,
            direction,
            field: field.to_string(),
            value: value.to_string(),
        };
        let map = self.fields.get(field).ok_or_else(|| miss(None))?;
        let table = match direction {
            Direction::Outbound => &map.outbound,
            Direction::Inbound => &map.inbound,
        };
        table
            .get(value)
            .cloned()
            .ok_or_else(|| miss(Some(map.id.clone())))
    }
}

/// Records a value met without a mapping (counted per value), for the admin page.
pub async fn record_miss(store: &Store, miss: &Miss, context: &str) -> Result<(), StoreError> {
    let Some(map_id) = &miss.map_id else {
        return Ok(());
    };
    let now = store.now();
    let m: Vec<String> = (1..=6).map(|n| store.ph(n)).collect();
    store
        .db
        .execute(
            &format!(
                "INSERT INTO value_map_unmapped (map_id, direction, value, count, first_seen, last_seen, last_context) \
                 VALUES ({}, {}, {}, 1, {}, {}, {}) ON CONFLICT (map_id, direction, value) DO UPDATE SET \
                 count = value_map_unmapped.count + 1, last_seen = excluded.last_seen, last_context = excluded.last_context",
                m[0], m[1], m[2], m[3], m[4], m[5]
            ),
            &[
                SqlParam::Text(map_id.clone()),
                SqlParam::Text(miss.direction.as_str().into()),
                SqlParam::Text(miss.value.chars().take(200).collect()),
                SqlParam::Timestamp(now),
                SqlParam::Timestamp(now),
                SqlParam::Text(context.chars().take(200).collect()),
            ],
        )
        .await?;
    Ok(())
}

/// `value` translated through the mapping `map_id`; a miss is recorded (with `context`) and
/// answered as the error `unmapped_value`.
pub async fn translate(
    store: &Store,
    workspace_id: &str,
    map_id: &str,
    direction: Direction,
    value: &str,
    context: &str,
) -> Result<String, StoreError> {
    let map = get(store, workspace_id, map_id).await?;
    let translator = Translator::load(store, workspace_id, &map.system, &map.object).await?;
    match translator.translate(direction, &map.field, value) {
        Ok(code) => Ok(code),
        Err(miss) => {
            record_miss(store, &miss, context).await?;
            Err(StoreError::bad_request(
                ErrorCode::UnmappedValue,
                miss.reason(&map.system, &map.object),
            ))
        }
    }
}
