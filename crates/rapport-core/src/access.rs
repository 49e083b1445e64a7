//! Who is acting and what they may do: the principal of a request, its role, and the
//! per-object create / read / update / delete permissions of roles.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Read,
    Update,
    Delete,
}

impl Action {
    fn letter(self) -> char {
        match self {
            Action::Create => 'c',
            Action::Read => 'r',
            Action::Update => 'u',
            Action::Delete => 'd',
        }
    }
}

/// Per-object permissions: object api name (or `*` for every object) → a subset of `crud`.
/// The most specific entry wins: `{"*": "crud", "deal": "r"}` may only read deals.
pub type Permissions = BTreeMap<String, String>;

pub fn validate_permissions(permissions: &Permissions) -> Result<(), String> {
    for (object, letters) in permissions {
        if object != "*" && crate::names::validate_api_name(object, "object").is_err() {
            return Err(format!("{object:?} is not an object name or *"));
        }
        if !letters.chars().all(|c| "crud".contains(c)) {
            return Err(format!("{letters:?} must be letters from \"crud\""));
        }
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Role {
    pub id: String,
    pub name: String,
    /// Admins may do everything, including metadata, users, roles, tokens of others and the
    /// audit log.
    pub is_admin: bool,
    /// Object api name (or `*`) → letters of `crud`.
    #[schema(value_type = Object)]
    pub permissions: Permissions,
}

impl Role {
    pub fn allows(&self, object: &str, action: Action) -> bool {
        if self.is_admin {
            return true;
        }
        let letters = self
            .permissions
            .get(object)
            .or_else(|| self.permissions.get("*"));
        letters.is_some_and(|l| l.contains(action.letter()))
    }
}

/// Where a change came from; recorded with every field change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Ui,
    Api,
    Import,
    Workflow,
    Ai,
    Cdp,
    /// A connector's answer or an inbound webhook (the integration hub).
    Integration,
    System,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Ui => "ui",
            Source::Api => "api",
            Source::Import => "import",
            Source::Workflow => "workflow",
            Source::Ai => "ai",
            Source::Cdp => "cdp",
            Source::Integration => "integration",
            Source::System => "system",
        }
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub workspace_id: String,
    pub user_id: String,
    pub email: String,
    pub role: Role,
    /// Bumped on every metadata change; lets nodes keep a schema cache without shared memory.
    pub metadata_version: i64,
    pub utc_offset_minutes: i32,
}

impl Principal {
    pub fn can(&self, object: &str, action: Action) -> bool {
        self.role.allows(object, action)
    }

    pub fn is_admin(&self) -> bool {
        self.role.is_admin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_specific_permission_wins() {
        let role = Role {
            id: "r".into(),
            name: "sales".into(),
            is_admin: false,
            permissions: BTreeMap::from([("*".into(), "crud".into()), ("deal".into(), "r".into())]),
        };
        assert!(role.allows("contact", Action::Delete));
        assert!(role.allows("deal", Action::Read));
        assert!(!role.allows("deal", Action::Update));
        let none = Role {
            permissions: BTreeMap::new(),
            ..role
        };
        assert!(!none.allows("contact", Action::Read));
    }
}
