//! Saved views: named list or kanban views of an object — the columns shown, a filter (a
//! condition of the kernel's model, kept as written so relative dates stay relative), the sort
//! keys and, for a kanban, the select field that makes the columns. A view is private to its
//! owner or shared with the workspace; only its owner or an administrator may change it.
//! Everything is checked against the metadata before it is stored.

use crate::records::{list_statement, object_for, ListQuery, SortKey};
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use rapport_core::codes::ErrorCode;
use rapport_core::condition::{Condition, DateContext};
use rapport_core::metadata::{FieldType, ObjectDef, WorkspaceSchema};
use rapport_core::record::system_fields;
use rapport_core::sql::{ColumnKind, SqlParam};
use rapport_core::{Action, CoreError, Principal};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

pub const MAX_VIEW_NAME: usize = 100;
pub const MAX_VIEW_COLUMNS: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ViewKind {
    List,
    Kanban,
}

impl ViewKind {
    fn as_str(self) -> &'static str {
        match self {
            ViewKind::List => "list",
            ViewKind::Kanban => "kanban",
        }
    }

    fn from_str(text: &str) -> Self {
        if text == "kanban" {
            ViewKind::Kanban
        } else {
            ViewKind::List
        }
    }
}

/// What a caller sends to create or replace a view.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Shanghai contacts", "kind": "list", "columns": ["name", "email"], "filter": {"field": "name", "op": "contains", "value": "Li"}}))]
pub struct ViewInput {
    pub name: String,
    pub kind: ViewKind,
    /// Visible to everyone in the workspace (else only to its owner).
    #[serde(default)]
    pub shared: bool,
    /// Field api names shown as columns (list) or on the cards (kanban), in order.
    #[serde(default)]
    pub columns: Vec<String>,
    /// A condition tree (see the records list `filter`).
    #[schema(value_type = Option<Object>)]
    pub filter: Option<Json>,
    /// Sort keys, `-` for descending: `["-amount", "name"]`.
    #[serde(default)]
    pub sort: Vec<String>,
    /// The select field whose options are the columns of a kanban.
    pub group_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SavedView {
    pub id: String,
    pub object: String,
    pub name: String,
    pub kind: ViewKind,
    pub shared: bool,
    pub owner_id: String,
    pub columns: Vec<String>,
    #[schema(value_type = Option<Object>)]
    pub filter: Option<Json>,
    pub sort: Vec<String>,
    pub group_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn invalid(message: impl Into<String>) -> StoreError {
    StoreError::Core(CoreError::definition(ErrorCode::InvalidView, message))
}

fn is_column(def: &ObjectDef, name: &str) -> bool {
    def.active_field(name).is_some() || system_fields().iter().any(|f| f.api_name == name)
}

/// Checks a view against the object's metadata: name, columns, filter, sort and group-by.
fn check_view(
    store: &Store,
    principal: &Principal,
    schema: &WorkspaceSchema,
    def: &ObjectDef,
    input: &ViewInput,
) -> Result<(), StoreError> {
    // A shared view is shown to everyone: only roles that may change the object's records
    // (and administrators) publish them; read-only roles keep their views private.
    if input.shared && !principal.can(&def.api_name, Action::Update) {
        return Err(StoreError::forbidden(
            &def.api_name,
            format!(
                "your role may not share views of {}; save it as a private view",
                def.api_name
            ),
        ));
    }
    let dates = DateContext::new(store.now(), principal.utc_offset_minutes);
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > MAX_VIEW_NAME {
        return Err(invalid(format!(
            "a view name has 1 to {MAX_VIEW_NAME} characters"
        )));
    }
    if input.columns.len() > MAX_VIEW_COLUMNS {
        return Err(invalid(format!("at most {MAX_VIEW_COLUMNS} columns")));
    }
    if let Some(unknown) = input.columns.iter().find(|c| !is_column(def, c)) {
        return Err(invalid(format!("unknown column {unknown:?}")));
    }
    let filter = match &input.filter {
        Some(json) if !json.is_null() => {
            Some(Condition::parse(json)?.check(schema, &def.api_name, &dates)?)
        }
        _ => None,
    };
    if let Some(filter) = &filter {
        crate::records::check_condition_readable(principal, filter)?;
    }
    // The list statement checks the sort keys exactly as a list request would.
    let query = ListQuery {
        filter,
        sort: input.sort.iter().map(|s| SortKey::parse(s)).collect(),
        limit: 1,
        ..ListQuery::default()
    };
    list_statement(store.db.dialect(), &principal.workspace_id, def, &query)?;
    match (input.kind, &input.group_by) {
        (ViewKind::Kanban, None) => Err(invalid("a kanban view needs a group_by select field")),
        (_, Some(field)) => match def.active_field(field) {
            Some(f) if f.field_type == FieldType::Select => Ok(()),
            _ => Err(invalid(format!("{field:?} is not a select field"))),
        },
        (ViewKind::List, None) => Ok(()),
    }
}

const VIEW_COLUMNS: &str =
    "id, object, name, kind, shared, owner_id, definition, created_at, updated_at";
const VIEW_KINDS: [ColumnKind; 9] = [
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Bool,
    ColumnKind::Text,
    ColumnKind::Json,
    ColumnKind::Timestamp,
    ColumnKind::Timestamp,
];

fn decode_view(row: &crate::Row) -> Result<SavedView, StoreError> {
    let definition = row.json("definition")?;
    // A key the view's definition leaves out (no sort, no columns chosen) is an empty list.
    let strings = |key: &str| -> Vec<String> {
        definition
            .get(key)
            .and_then(Json::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    Ok(SavedView {
        id: row.text("id")?,
        object: row.text("object")?,
        name: row.text("name")?,
        kind: ViewKind::from_str(&row.text("kind")?),
        shared: row.bool("shared")?,
        owner_id: row.text("owner_id")?,
        columns: strings("columns"),
        filter: definition.get("filter").filter(|f| !f.is_null()).cloned(),
        sort: strings("sort"),
        group_by: definition
            .get("group_by")
            .and_then(Json::as_str)
            .map(str::to_string),
        created_at: row.timestamp("created_at")?,
        updated_at: row.timestamp("updated_at")?,
    })
}

fn definition(input: &ViewInput) -> Json {
    json!({
        "columns": input.columns,
        "filter": input.filter,
        "sort": input.sort,
        "group_by": input.group_by,
    })
}

impl Store {
    /// The views of `object` the principal sees: their own and the shared ones, by name.
    pub async fn views(
        &self,
        principal: &Principal,
        schema: &WorkspaceSchema,
        object: &str,
    ) -> Result<Vec<SavedView>, StoreError> {
        object_for(principal, schema, object, Action::Read)?;
        let rows = self
            .db
            .fetch_all(
                &format!(
                    "SELECT {VIEW_COLUMNS} FROM saved_views WHERE workspace_id = {} AND object = {} AND (owner_id = {} OR shared = {}) ORDER BY name, id",
                    self.ph(1), self.ph(2), self.ph(3), self.ph(4)
                ),
                &[
                    SqlParam::Text(principal.workspace_id.clone()),
                    SqlParam::Text(object.to_string()),
                    SqlParam::Text(principal.user_id.clone()),
                    SqlParam::Bool(true),
                ],
                &VIEW_KINDS,
            )
            .await?;
        rows.iter().map(decode_view).collect()
    }

    /// One view the principal sees.
    pub async fn view(
        &self,
        principal: &Principal,
        schema: &WorkspaceSchema,
        object: &str,
        id: &str,
    ) -> Result<SavedView, StoreError> {
        object_for(principal, schema, object, Action::Read)?;
        let row = self
            .db
            .fetch_optional(
                &format!(
                    "SELECT {VIEW_COLUMNS} FROM saved_views WHERE workspace_id = {} AND object = {} AND id = {}",
                    self.ph(1), self.ph(2), self.ph(3)
                ),
                &[
                    SqlParam::Text(principal.workspace_id.clone()),
                    SqlParam::Text(object.to_string()),
                    SqlParam::Text(id.to_string()),
                ],
                &VIEW_KINDS,
            )
            .await?
            .ok_or_else(|| StoreError::not_found("view"))?;
        let view = decode_view(&row)?;
        if view.owner_id != principal.user_id && !view.shared {
            return Err(StoreError::not_found("view"));
        }
        Ok(view)
    }

    pub async fn create_view(
        &self,
        principal: &Principal,
        schema: &WorkspaceSchema,
        object: &str,
        input: &ViewInput,
    ) -> Result<SavedView, StoreError> {
        let def = object_for(principal, schema, object, Action::Read)?;
        check_view(self, principal, schema, def, input)?;
        let id = uuid::Uuid::now_v7().to_string();
        let now = self.now();
        self.db
            .execute(
                &format!(
                    "INSERT INTO saved_views (id, workspace_id, object, owner_id, name, kind, shared, definition, created_at, updated_at) VALUES ({})",
                    (1..=10).map(|n| self.ph(n)).collect::<Vec<_>>().join(", ")
                ),
                &[
                    SqlParam::Text(id.clone()),
                    SqlParam::Text(principal.workspace_id.clone()),
                    SqlParam::Text(object.to_string()),
                    SqlParam::Text(principal.user_id.clone()),
                    SqlParam::Text(input.name.trim().to_string()),
                    SqlParam::Text(input.kind.as_str().to_string()),
                    SqlParam::Bool(input.shared),
                    SqlParam::Json(definition(input)),
                    SqlParam::Timestamp(now),
                    SqlParam::Timestamp(now),
                ],
            )
            .await?;
        self.view(principal, schema, object, &id).await
    }

    /// A view the principal may change: their own, or a shared one if they are an admin.
    async fn own_view(
        &self,
        principal: &Principal,
        schema: &WorkspaceSchema,
        object: &str,
        id: &str,
    ) -> Result<SavedView, StoreError> {
        let view = self.view(principal, schema, object, id).await?;
        if view.owner_id != principal.user_id && !principal.is_admin() {
            return Err(StoreError::forbidden(
                object,
                "only its owner or an administrator may change a shared view",
            ));
        }
        Ok(view)
    }

    /// Replaces a view's name, kind, sharing and definition.
    pub async fn update_view(
        &self,
        principal: &Principal,
        schema: &WorkspaceSchema,
        object: &str,
        id: &str,
        input: &ViewInput,
    ) -> Result<SavedView, StoreError> {
        let def = object_for(principal, schema, object, Action::Read)?;
        self.own_view(principal, schema, object, id).await?;
        check_view(self, principal, schema, def, input)?;
        self.db
            .execute(
                &format!(
                    "UPDATE saved_views SET name = {}, kind = {}, shared = {}, definition = {}, updated_at = {} WHERE workspace_id = {} AND id = {}",
                    self.ph(1), self.ph(2), self.ph(3), self.ph(4), self.ph(5), self.ph(6), self.ph(7)
                ),
                &[
                    SqlParam::Text(input.name.trim().to_string()),
                    SqlParam::Text(input.kind.as_str().to_string()),
                    SqlParam::Bool(input.shared),
                    SqlParam::Json(definition(input)),
                    SqlParam::Timestamp(self.now()),
                    SqlParam::Text(principal.workspace_id.clone()),
                    SqlParam::Text(id.to_string()),
                ],
            )
            .await?;
        self.view(principal, schema, object, id).await
    }

    pub async fn delete_view(
        &self,
        principal: &Principal,
        schema: &WorkspaceSchema,
        object: &str,
        id: &str,
    ) -> Result<(), StoreError> {
        self.own_view(principal, schema, object, id).await?;
        self.db
            .execute(
                &format!(
                    "DELETE FROM saved_views WHERE workspace_id = {} AND id = {}",
                    self.ph(1),
                    self.ph(2)
                ),
                &[
                    SqlParam::Text(principal.workspace_id.clone()),
                    SqlParam::Text(id.to_string()),
                ],
            )
            .await?;
        Ok(())
    }
}
