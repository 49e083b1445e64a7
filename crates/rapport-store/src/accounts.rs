//! Workspaces (tenants), users, roles, login sessions and API tokens, and resolving a session or
//! token hash to the `Principal` of a request in one query. Secrets never reach this module:
//! it stores password hashes and SHA-256 digests of tokens, computed by the caller.

use crate::schema::{bump_metadata_version, load_schema_tx, placeholder};
use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use rapport_core::access::{validate_permissions, Permissions};
use rapport_core::codes::ErrorCode;
use rapport_core::sql::{ColumnKind, SqlParam};
use rapport_core::standard::standard_objects;
use rapport_core::{CoreError, Principal, Role};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: String,
    pub workspace_id: String,
    pub email: String,
    pub name: String,
    pub role_id: String,
    pub locale: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApiToken {
    pub id: String,
    pub user_id: String,
    pub name: String,
    /// The first characters of the token, to recognise it; the token itself is never stored.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Workspace {
    pub id: String,
    pub name: String,
    pub utc_offset_minutes: i32,
}

/// What a user update may change.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub name: Option<String>,
    pub role_id: Option<String>,
    pub locale: Option<String>,
    pub active: Option<bool>,
    pub password_hash: Option<String>,
}

const USER_COLUMNS: &str = "id, workspace_id, email, name, role_id, locale, active, created_at";
const USER_KINDS: [ColumnKind; 8] = [
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Text,
    ColumnKind::Bool,
    ColumnKind::Timestamp,
];

/// A role's stored permissions; unreadable ones are an error, never "no permissions".
fn stored_permissions(value: serde_json::Value) -> Result<Permissions, StoreError> {
    serde_json::from_value(value)
        .map_err(|e| StoreError::Corrupt(format!("a role's permissions are unreadable: {e}")))
}

/// A workspace's stored UTC offset in minutes.
fn stored_offset(minutes: i64) -> Result<i32, StoreError> {
    i32::try_from(minutes)
        .map_err(|_| StoreError::Corrupt(format!("a workspace's UTC offset of {minutes} minutes")))
}

fn user_from(row: &crate::Row) -> Result<User, StoreError> {
    Ok(User {
        id: row.text("id")?,
        workspace_id: row.text("workspace_id")?,
        email: row.text("email")?,
        name: row.text("name")?,
        role_id: row.text("role_id")?,
        locale: row.text("locale")?,
        active: row.bool("active")?,
        created_at: row.timestamp("created_at")?,
    })
}

/// A short random id: lowercase letters and digits, starting with a letter.
pub fn short_id(len: usize) -> String {
    let raw = uuid::Uuid::new_v4().simple().to_string();
    let mut id: String = "abcdefghijklmnopqrstuvwxyz"
        .chars()
        .nth(usize::from(raw.as_bytes()[0]) % 26)
        .into_iter()
        .collect();
    id.push_str(&raw[1..len.min(raw.len())]);
    id
}

fn default_roles() -> Vec<(&'static str, &'static str, bool, Permissions)> {
    let all = |letters: &str| BTreeMap::from([("*".to_string(), letters.to_string())]);
    vec![
        ("admin", "Administrator / 管理员", true, all("crud")),
        ("sales", "Sales / 销售", false, all("crud")),
        ("read_only", "Read only / 只读", false, all("r")),
    ]
}

impl Store {
    /// Creates a workspace with its default roles and the standard objects, in one transaction.
    pub async fn create_workspace(
        &self,
        name: &str,
        utc_offset_minutes: i32,
    ) -> Result<Workspace, StoreError> {
        let id = short_id(10);
        let now = self.now();
        let mut tx = self.db.begin().await?;
        tx.execute(
            &format!(
                "INSERT INTO workspaces (id, name, utc_offset_minutes, created_at) VALUES ({}, {}, {}, {})",
                self.ph(1), self.ph(2), self.ph(3), self.ph(4)
            ),
            &[
                SqlParam::Text(id.clone()),
                SqlParam::Text(name.to_string()),
                SqlParam::Int(i64::from(utc_offset_minutes)),
                SqlParam::Timestamp(now),
            ],
        )
        .await?;
        for (role_id, role_name, is_admin, permissions) in default_roles() {
            self.insert_role(
                &mut tx,
                &id,
                role_id,
                role_name,
                is_admin,
                &permissions,
                now,
            )
            .await?;
        }
        for object in standard_objects() {
            let schema = load_schema_tx(&mut tx, &id).await?;
            self.create_object_tx(&mut tx, &id, &schema, object).await?;
        }
        bump_metadata_version(&mut tx, &id).await?;
        tx.commit().await?;
        Ok(Workspace {
            id,
            name: name.to_string(),
            utc_offset_minutes,
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn insert_role(
        &self,
        tx: &mut crate::Tx,
        workspace_id: &str,
        role_id: &str,
        name: &str,
        is_admin: bool,
        permissions: &Permissions,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        tx.execute(
            &format!(
                "INSERT INTO roles (workspace_id, id, name, is_admin, permissions, created_at) VALUES ({}, {}, {}, {}, {}, {})",
                self.ph(1), self.ph(2), self.ph(3), self.ph(4), self.ph(5), self.ph(6)
            ),
            &[
                SqlParam::Text(workspace_id.to_string()),
                SqlParam::Text(role_id.to_string()),
                SqlParam::Text(name.to_string()),
                SqlParam::Bool(is_admin),
                // Permissions are plain maps of strings: serialising them cannot fail.
                SqlParam::Json(serde_json::to_value(permissions).unwrap_or_default()),
                SqlParam::Timestamp(now),
            ],
        )
        .await
        .map_err(|e| match e.unique_violation() {
            Some(_) => StoreError::conflict(ErrorCode::RoleExists, format!("a role named {name:?} already exists")),
            None => e,
        })?;
        Ok(())
    }

    pub async fn workspace(&self, id: &str) -> Result<Workspace, StoreError> {
        let row = self
            .db
            .fetch_optional(
                &format!(
                    "SELECT id, name, utc_offset_minutes FROM workspaces WHERE id = {}",
                    self.ph(1)
                ),
                &[SqlParam::Text(id.to_string())],
                &[ColumnKind::Text, ColumnKind::Text, ColumnKind::Int],
            )
            .await?
            .ok_or_else(|| StoreError::not_found("workspace"))?;
        Ok(Workspace {
            id: row.text("id")?,
            name: row.text("name")?,
            utc_offset_minutes: stored_offset(row.int("utc_offset_minutes")?)?,
        })
    }

    /// The oldest workspace, if any: the one a first start and the CLI use by default.
    pub async fn first_workspace(&self) -> Result<Option<Workspace>, StoreError> {
        let row = self
            .db
            .fetch_optional(
                "SELECT id FROM workspaces ORDER BY created_at, id LIMIT 1",
                &[],
                &[ColumnKind::Text],
            )
            .await?;
        match row {
            Some(r) => Ok(Some(self.workspace(&r.text("id")?).await?)),
            None => Ok(None),
        }
    }

    /// The principal automated changes act as (the CDP's contact sync): the workspace's oldest
    /// active administrator, so records it creates have a real owner. Its changes carry their
    /// own source (`cdp`, `workflow`, ...) in history.
    pub async fn system_principal(&self, workspace_id: &str) -> Result<Principal, StoreError> {
        let row = self
            .db
            .fetch_optional(
                &format!(
                    "SELECT u.id AS user_id, u.email, r.id AS role_id, r.name AS role_name, r.permissions, w.metadata_version, w.utc_offset_minutes \
                     FROM users u JOIN roles r ON r.workspace_id = u.workspace_id AND r.id = u.role_id \
                     JOIN workspaces w ON w.id = u.workspace_id \
                     WHERE u.workspace_id = {} AND u.active = TRUE AND r.is_admin = TRUE ORDER BY u.created_at, u.id LIMIT 1",
                    self.ph(1)
                ),
                &[SqlParam::Text(workspace_id.to_string())],
                &[
                    ColumnKind::Text,
                    ColumnKind::Text,
                    ColumnKind::Text,
                    ColumnKind::Text,
                    ColumnKind::Json,
                    ColumnKind::Int,
                    ColumnKind::Int,
                ],
            )
            .await?
            .ok_or_else(|| StoreError::not_found("active administrator"))?;
        Ok(Principal {
            user_id: row.text("user_id")?,
            email: row.text("email")?,
            workspace_id: workspace_id.to_string(),
            role: Role {
                id: row.text("role_id")?,
                name: row.text("role_name")?,
                is_admin: true,
                permissions: stored_permissions(row.json("permissions")?)?,
            },
            metadata_version: row.int("metadata_version")?,
            utc_offset_minutes: stored_offset(row.int("utc_offset_minutes")?)?,
        })
    }

    pub async fn roles(&self, workspace_id: &str) -> Result<Vec<Role>, StoreError> {
        let rows = self
            .db
            .fetch_all(
                &format!(
                    "SELECT id, name, is_admin, permissions FROM roles WHERE workspace_id = {} ORDER BY created_at, id",
                    self.ph(1)
                ),
                &[SqlParam::Text(workspace_id.to_string())],
                &[ColumnKind::Text, ColumnKind::Text, ColumnKind::Bool, ColumnKind::Json],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Role {
                    id: r.text("id")?,
                    name: r.text("name")?,
                    is_admin: r.bool("is_admin")?,
                    permissions: stored_permissions(r.json("permissions")?)?,
                })
            })
            .collect()
    }

    /// Creates or replaces a role's name and permissions.
    pub async fn save_role(&self, workspace_id: &str, role: &Role) -> Result<Role, StoreError> {
        validate_permissions(&role.permissions)
            .map_err(|m| StoreError::bad_request(ErrorCode::InvalidPermissions, m))?;
        if role.name.trim().is_empty() || role.name.chars().count() > 100 {
            return Err(CoreError::definition(
                ErrorCode::InvalidName,
                "a role needs a name of 1 to 100 characters",
            )
            .into());
        }
        let exists = self
            .roles(workspace_id)
            .await?
            .iter()
            .any(|r| r.id == role.id);
        if exists {
            if role.id == "admin" && !role.is_admin {
                return Err(StoreError::conflict(
                    ErrorCode::AdminRole,
                    "the admin role stays an admin role",
                ));
            }
            self.db
                .execute(
                    &format!(
                        "UPDATE roles SET name = {}, is_admin = {}, permissions = {} WHERE workspace_id = {} AND id = {}",
                        self.ph(1), self.ph(2), self.ph(3), self.ph(4), self.ph(5)
                    ),
                    &[
                        SqlParam::Text(role.name.clone()),
                        SqlParam::Bool(role.is_admin),
                        // Plain maps of strings: serialising them cannot fail.
                        SqlParam::Json(serde_json::to_value(&role.permissions).unwrap_or_default()),
                        SqlParam::Text(workspace_id.to_string()),
                        SqlParam::Text(role.id.clone()),
                    ],
                )
                .await
                .map_err(|e| match e.unique_violation() {
                    Some(_) => StoreError::conflict(ErrorCode::RoleExists, "a role with that name already exists"),
                    None => e,
                })?;
        } else {
            let mut tx = self.db.begin().await?;
            self.insert_role(
                &mut tx,
                workspace_id,
                &role.id,
                &role.name,
                role.is_admin,
                &role.permissions,
                self.now(),
            )
            .await?;
            tx.commit().await?;
        }
        Ok(role.clone())
    }

    pub async fn create_user(
        &self,
        workspace_id: &str,
        email: &str,
        name: &str,
        password_hash: &str,
        role_id: &str,
    ) -> Result<User, StoreError> {
        if !self
            .roles(workspace_id)
            .await?
            .iter()
            .any(|r| r.id == role_id)
        {
            return Err(StoreError::bad_request(
                ErrorCode::UnknownRole,
                format!("no role {role_id:?} in this workspace"),
            ));
        }
        let id = uuid::Uuid::now_v7().to_string();
        let now = self.now();
        self.db
            .execute(
                &format!(
                    "INSERT INTO users (id, workspace_id, email, name, password_hash, role_id, created_at) VALUES ({}, {}, {}, {}, {}, {}, {})",
                    self.ph(1), self.ph(2), self.ph(3), self.ph(4), self.ph(5), self.ph(6), self.ph(7)
                ),
                &[
                    SqlParam::Text(id.clone()),
                    SqlParam::Text(workspace_id.to_string()),
                    SqlParam::Text(email.trim().to_ascii_lowercase()),
                    SqlParam::Text(name.to_string()),
                    SqlParam::Text(password_hash.to_string()),
                    SqlParam::Text(role_id.to_string()),
                    SqlParam::Timestamp(now),
                ],
            )
            .await
            .map_err(|e| match e.unique_violation() {
                Some(_) => StoreError::conflict(ErrorCode::EmailTaken, "a user with this email already exists"),
                None => e,
            })?;
        self.user(workspace_id, &id).await
    }

    pub async fn user(&self, workspace_id: &str, id: &str) -> Result<User, StoreError> {
        let row = self
            .db
            .fetch_optional(
                &format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE workspace_id = {} AND id = {}",
                    self.ph(1),
                    self.ph(2)
                ),
                &[
                    SqlParam::Text(workspace_id.to_string()),
                    SqlParam::Text(id.to_string()),
                ],
                &USER_KINDS,
            )
            .await?
            .ok_or_else(|| StoreError::not_found("user"))?;
        user_from(&row)
    }

    pub async fn users(&self, workspace_id: &str) -> Result<Vec<User>, StoreError> {
        let rows = self
            .db
            .fetch_all(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE workspace_id = {} ORDER BY created_at, id", self.ph(1)),
                &[SqlParam::Text(workspace_id.to_string())],
                &USER_KINDS,
            )
            .await?;
        rows.iter().map(user_from).collect()
    }

    /// A user and their password hash, by email (any workspace: emails are unique).
    pub async fn user_for_login(&self, email: &str) -> Result<Option<(User, String)>, StoreError> {
        let mut kinds = USER_KINDS.to_vec();
        kinds.push(ColumnKind::Text);
        let row = self
            .db
            .fetch_optional(
                &format!(
                    "SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = {}",
                    self.ph(1)
                ),
                &[SqlParam::Text(email.trim().to_ascii_lowercase())],
                &kinds,
            )
            .await?;
        row.map(|r| Ok((user_from(&r)?, r.text("password_hash")?)))
            .transpose()
    }

    pub async fn update_user(
        &self,
        workspace_id: &str,
        id: &str,
        change: UserChange,
    ) -> Result<User, StoreError> {
        self.user(workspace_id, id).await?;
        if let Some(role) = &change.role_id {
            if !self
                .roles(workspace_id)
                .await?
                .iter()
                .any(|r| &r.id == role)
            {
                return Err(StoreError::bad_request(
                    ErrorCode::UnknownRole,
                    format!("no role {role:?} in this workspace"),
                ));
            }
        }
        let mut sets = Vec::new();
        let mut params = Vec::new();
        let mut set = |column: &str, value: SqlParam, params: &mut Vec<SqlParam>| {
            params.push(value);
            sets.push(format!(
                "{column} = {}",
                placeholder(self.db.dialect(), params.len())
            ));
        };
        if let Some(v) = change.name {
            set("name", SqlParam::Text(v), &mut params);
        }
        if let Some(v) = change.role_id {
            set("role_id", SqlParam::Text(v), &mut params);
        }
        if let Some(v) = change.locale {
            set("locale", SqlParam::Text(v), &mut params);
        }
        if let Some(v) = change.active {
            set("active", SqlParam::Bool(v), &mut params);
        }
        if let Some(v) = change.password_hash {
            set("password_hash", SqlParam::Text(v), &mut params);
        }
        if !sets.is_empty() {
            params.push(SqlParam::Text(workspace_id.to_string()));
            params.push(SqlParam::Text(id.to_string()));
            let n = params.len();
            self.db
                .execute(
                    &format!(
                        "UPDATE users SET {} WHERE workspace_id = {} AND id = {}",
                        sets.join(", "),
                        self.ph(n - 1),
                        self.ph(n)
                    ),
                    &params,
                )
                .await?;
            if let Some(SqlParam::Bool(false)) =
                params.iter().find(|p| matches!(p, SqlParam::Bool(_)))
            {
                self.db
                    .execute(
                        &format!("DELETE FROM sessions WHERE user_id = {}", self.ph(1)),
                        &[SqlParam::Text(id.to_string())],
                    )
                    .await?;
            }
        }
        self.user(workspace_id, id).await
    }

    pub async fn create_session(
        &self,
        user: &User,
        token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.db
            .execute(
                &format!(
                    "INSERT INTO sessions (token_hash, workspace_id, user_id, created_at, expires_at) VALUES ({}, {}, {}, {}, {})",
                    self.ph(1), self.ph(2), self.ph(3), self.ph(4), self.ph(5)
                ),
                &[
                    SqlParam::Text(token_hash.to_string()),
                    SqlParam::Text(user.workspace_id.clone()),
                    SqlParam::Text(user.id.clone()),
                    SqlParam::Timestamp(self.now()),
                    SqlParam::Timestamp(expires_at),
                ],
            )
            .await?;
        Ok(())
    }

    /// Ends every session of a user but `keep` (a session digest); returns how many ended.
    pub async fn end_sessions(&self, user_id: &str, keep: Option<&str>) -> Result<u64, StoreError> {
        self.db
            .execute(
                &format!(
                    "DELETE FROM sessions WHERE user_id = {} AND token_hash <> {}",
                    self.ph(1),
                    self.ph(2)
                ),
                &[
                    SqlParam::Text(user_id.to_string()),
                    // No session to keep: the empty digest matches none, so all end.
                    SqlParam::Text(keep.unwrap_or_default().to_string()),
                ],
            )
            .await
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        self.db
            .execute(
                &format!("DELETE FROM sessions WHERE token_hash = {}", self.ph(1)),
                &[SqlParam::Text(token_hash.to_string())],
            )
            .await?;
        Ok(())
    }

    /// The principal behind a live session or an unrevoked API token (by digest), with the
    /// token's last use when it came from a token.
    pub async fn principal_for(
        &self,
        credential: Credential<'_>,
    ) -> Result<Option<(Principal, Option<(String, Option<DateTime<Utc>>)>)>, StoreError> {
        let (from, condition, extra, params) = match credential {
            Credential::Session(hash) => (
                "sessions c",
                format!(
                    "c.token_hash = {} AND c.expires_at > {}",
                    self.ph(1),
                    self.ph(2)
                ),
                "NULL AS token_id, NULL AS token_used_at",
                vec![
                    SqlParam::Text(hash.to_string()),
                    SqlParam::Timestamp(self.now()),
                ],
            ),
            Credential::Token(hash) => (
                "api_tokens c",
                format!("c.token_hash = {} AND c.revoked_at IS NULL", self.ph(1)),
                "c.id AS token_id, c.last_used_at AS token_used_at",
                vec![SqlParam::Text(hash.to_string())],
            ),
        };
        let sql = format!(
            "SELECT u.id AS user_id, u.email, u.workspace_id, r.id AS role_id, r.name AS role_name, r.is_admin, r.permissions, w.metadata_version, w.utc_offset_minutes, {extra} \
             FROM {from} JOIN users u ON u.id = c.user_id \
             JOIN roles r ON r.workspace_id = u.workspace_id AND r.id = u.role_id \
             JOIN workspaces w ON w.id = u.workspace_id \
             WHERE {condition} AND u.active = TRUE"
        );
        let row = self
            .db
            .fetch_optional(
                &sql,
                &params,
                &[
                    ColumnKind::Text,
                    ColumnKind::Text,
                    ColumnKind::Text,
                    ColumnKind::Text,
                    ColumnKind::Text,
                    ColumnKind::Bool,
                    ColumnKind::Json,
                    ColumnKind::Int,
                    ColumnKind::Int,
                    ColumnKind::Text,
                    ColumnKind::Timestamp,
                ],
            )
            .await?;
        row.map(|r| {
            let principal = Principal {
                user_id: r.text("user_id")?,
                email: r.text("email")?,
                workspace_id: r.text("workspace_id")?,
                role: Role {
                    id: r.text("role_id")?,
                    name: r.text("role_name")?,
                    is_admin: r.bool("is_admin")?,
                    permissions: stored_permissions(r.json("permissions")?)?,
                },
                metadata_version: r.int("metadata_version")?,
                utc_offset_minutes: stored_offset(r.int("utc_offset_minutes")?)?,
            };
            let token = match r.opt_text("token_id")? {
                Some(id) => Some((id, r.opt_timestamp("token_used_at")?)),
                None => None,
            };
            Ok((principal, token))
        })
        .transpose()
    }

    pub async fn touch_token(&self, token_id: &str) -> Result<(), StoreError> {
        self.db
            .execute(
                &format!(
                    "UPDATE api_tokens SET last_used_at = {} WHERE id = {}",
                    self.ph(1),
                    self.ph(2)
                ),
                &[
                    SqlParam::Timestamp(self.now()),
                    SqlParam::Text(token_id.to_string()),
                ],
            )
            .await?;
        Ok(())
    }

    pub async fn create_token(
        &self,
        user: &User,
        name: &str,
        token_hash: &str,
        prefix: &str,
    ) -> Result<ApiToken, StoreError> {
        let id = uuid::Uuid::now_v7().to_string();
        self.db
            .execute(
                &format!(
                    "INSERT INTO api_tokens (id, workspace_id, user_id, name, token_hash, prefix, created_at) VALUES ({}, {}, {}, {}, {}, {}, {})",
                    self.ph(1), self.ph(2), self.ph(3), self.ph(4), self.ph(5), self.ph(6), self.ph(7)
                ),
                &[
                    SqlParam::Text(id.clone()),
                    SqlParam::Text(user.workspace_id.clone()),
                    SqlParam::Text(user.id.clone()),
                    SqlParam::Text(name.to_string()),
                    SqlParam::Text(token_hash.to_string()),
                    SqlParam::Text(prefix.to_string()),
                    SqlParam::Timestamp(self.now()),
                ],
            )
            .await?;
        self.tokens(&user.workspace_id, None)
            .await?
            .into_iter()
            .find(|t| t.id == id)
            .ok_or_else(|| StoreError::Corrupt("token vanished".into()))
    }

    /// Tokens of a workspace, or of one user of it.
    pub async fn tokens(
        &self,
        workspace_id: &str,
        user_id: Option<&str>,
    ) -> Result<Vec<ApiToken>, StoreError> {
        let mut sql = format!(
            "SELECT id, user_id, name, prefix, created_at, last_used_at, revoked_at FROM api_tokens WHERE workspace_id = {}",
            self.ph(1)
        );
        let mut params = vec![SqlParam::Text(workspace_id.to_string())];
        if let Some(user) = user_id {
            sql.push_str(&format!(" AND user_id = {}", self.ph(2)));
            params.push(SqlParam::Text(user.to_string()));
        }
        sql.push_str(" ORDER BY created_at DESC, id");
        let rows = self
            .db
            .fetch_all(
                &sql,
                &params,
                &[
                    ColumnKind::Text,
                    ColumnKind::Text,
                    ColumnKind::Text,
                    ColumnKind::Text,
                    ColumnKind::Timestamp,
                    ColumnKind::Timestamp,
                    ColumnKind::Timestamp,
                ],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(ApiToken {
                    id: r.text("id")?,
                    user_id: r.text("user_id")?,
                    name: r.text("name")?,
                    prefix: r.text("prefix")?,
                    created_at: r.timestamp("created_at")?,
                    last_used_at: r.opt_timestamp("last_used_at")?,
                    revoked_at: r.opt_timestamp("revoked_at")?,
                })
            })
            .collect()
    }

    /// Revokes a token of the workspace (only the owner's own unless `any_user`).
    pub async fn revoke_token(
        &self,
        workspace_id: &str,
        token_id: &str,
        only_user: Option<&str>,
    ) -> Result<(), StoreError> {
        let token = self
            .tokens(workspace_id, only_user)
            .await?
            .into_iter()
            .find(|t| t.id == token_id)
            .ok_or_else(|| StoreError::not_found("token"))?;
        if token.revoked_at.is_none() {
            self.db
                .execute(
                    &format!(
                        "UPDATE api_tokens SET revoked_at = {} WHERE id = {}",
                        self.ph(1),
                        self.ph(2)
                    ),
                    &[
                        SqlParam::Timestamp(self.now()),
                        SqlParam::Text(token_id.to_string()),
                    ],
                )
                .await?;
        }
        Ok(())
    }
}

/// A credential digest presented by a request.
#[derive(Debug, Clone, Copy)]
pub enum Credential<'a> {
    Session(&'a str),
    Token(&'a str),
}
