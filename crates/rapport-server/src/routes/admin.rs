//! Administration routes: users and roles (admins), API tokens (your own; admins see and revoke
//! all), and the audit log (admins). Token creation and revocation are audited.

use crate::auth::{audit, check_locale, current_session, digest, new_token};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Ctx};
use crate::passwords::check_strength;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use rapport_core::access::Permissions;
use rapport_core::ErrorCode;
use rapport_core::Role;
use rapport_store::accounts::{ApiToken, User, UserChange};
use rapport_store::audit::AuditEntry;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A user as the user list shows them: the email only to administrators (and to the user).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ListedUser {
    pub id: String,
    pub name: String,
    /// Only administrators see other users' emails.
    pub email: Option<String>,
    pub role_id: String,
    pub locale: String,
    pub active: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Users of the workspace (names for everyone, emails for administrators).
#[utoipa::path(get, path = "/api/v1/users", tag = "admin", responses((status = 200, body = [ListedUser])))]
pub async fn list_users(
    State(state): State<AppState>,
    ctx: Ctx,
) -> ApiResult<Json<Vec<ListedUser>>> {
    let admin = ctx.principal.is_admin();
    let users = state.store.users(&ctx.principal.workspace_id).await?;
    Ok(Json(
        users
            .into_iter()
            .map(|u| {
                let email = (admin || u.id == ctx.principal.user_id).then_some(u.email);
                ListedUser {
                    id: u.id,
                    name: u.name,
                    email,
                    role_id: u.role_id,
                    locale: u.locale,
                    active: u.active,
                    created_at: u.created_at,
                }
            })
            .collect(),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub password: String,
    pub role_id: String,
}

/// Add a user (admins).
#[utoipa::path(post, path = "/api/v1/users", tag = "admin", request_body = NewUser,
    responses((status = 201, body = User), (status = 409, body = crate::error::ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<NewUser>,
) -> ApiResult<(StatusCode, Json<User>)> {
    ctx.require_admin("users")?;
    check_strength(&body.password)?;
    let Some(email) = rapport_core::normalize::email(&body.email) else {
        return Err(ApiError::new(
            ErrorCode::InvalidEmail,
            "not an email address",
        ));
    };
    let hash = state.passwords.hash(body.password).await?;
    let user = state
        .store
        .create_user(
            &ctx.principal.workspace_id,
            &email,
            body.name.trim(),
            &hash,
            &body.role_id,
        )
        .await?;
    audit(
        &state,
        &ctx,
        "user.create",
        Some(user.id.clone()),
        "success",
        json!({ "email": email, "role": body.role_id }),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    pub name: Option<String>,
    pub role_id: Option<String>,
    pub locale: Option<String>,
    pub active: Option<bool>,
    pub password: Option<String>,
}

/// Change a user's role, name, language, password or deactivate them (admins).
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "admin", params(("id" = String, Path)), request_body = UserUpdate,
    responses((status = 200, body = User)))]
pub async fn update_user(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<UserUpdate>,
) -> ApiResult<Json<User>> {
    ctx.require_admin("users")?;
    if let Some(locale) = &body.locale {
        check_locale(locale)?;
    }
    if id == ctx.principal.user_id
        && (body.active == Some(false)
            || body
                .role_id
                .as_deref()
                .is_some_and(|r| r != ctx.principal.role.id))
    {
        return Err(ApiError::new(
            ErrorCode::SelfLockout,
            "you cannot deactivate yourself or change your own role",
        ));
    }
    let password_hash = match body.password {
        Some(password) => {
            check_strength(&password)?;
            Some(state.passwords.hash(password).await?)
        }
        None => None,
    };
    let reset = password_hash.is_some();
    // What changed, for the audit log: the fields sent, never the password itself.
    let mut changed = serde_json::Map::new();
    for (key, value) in [
        ("name", body.name.clone().map(Value::from)),
        ("role", body.role_id.clone().map(Value::from)),
        ("locale", body.locale.clone().map(Value::from)),
        ("active", body.active.map(Value::from)),
        ("password_reset", reset.then_some(Value::Bool(true))),
    ] {
        if let Some(value) = value {
            changed.insert(key.to_string(), value);
        }
    }
    let change = UserChange {
        name: body.name,
        role_id: body.role_id,
        locale: body.locale,
        active: body.active,
        password_hash,
    };
    let user = state
        .store
        .update_user(&ctx.principal.workspace_id, &id, change)
        .await?;
    if reset {
        // A reset password ends the user's sessions: whoever knew the old one is logged out
        // (an administrator resetting their own keeps the session they do it from).
        let keep = (id == ctx.principal.user_id)
            .then(|| current_session(&headers, &ctx))
            .flatten();
        let ended = state.store.end_sessions(&id, keep.as_deref()).await?;
        changed.insert("sessions_ended".into(), Value::from(ended));
    }
    state.principals.clear();
    audit(
        &state,
        &ctx,
        "user.update",
        Some(id),
        "success",
        Value::Object(changed),
    )
    .await?;
    Ok(Json(user))
}

/// Roles of the workspace with their per-object permissions.
#[utoipa::path(get, path = "/api/v1/roles", tag = "admin", responses((status = 200, body = [Role])))]
pub async fn list_roles(State(state): State<AppState>, ctx: Ctx) -> ApiResult<Json<Vec<Role>>> {
    Ok(Json(state.store.roles(&ctx.principal.workspace_id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    pub name: String,
    #[serde(default)]
    pub is_admin: bool,
    /// Object api name (or `*`) → letters of `crud`.
    #[schema(value_type = Object)]
    pub permissions: Permissions,
}

/// Create or replace a role (admins).
#[utoipa::path(put, path = "/api/v1/roles/{id}", tag = "admin", params(("id" = String, Path)), request_body = RoleBody,
    responses((status = 200, body = Role)))]
pub async fn save_role(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<RoleBody>,
) -> ApiResult<Json<Role>> {
    ctx.require_admin("roles")?;
    rapport_core::names::validate_api_name(&id, "role")?;
    let role = Role {
        id: id.clone(),
        name: body.name,
        is_admin: body.is_admin,
        permissions: body.permissions,
    };
    let saved = state
        .store
        .save_role(&ctx.principal.workspace_id, &role)
        .await?;
    state.principals.clear();
    audit(
        &state,
        &ctx,
        "role.save",
        Some(id),
        "success",
        json!({ "permissions": saved.permissions, "is_admin": saved.is_admin }),
    )
    .await?;
    Ok(Json(saved))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TokenListParams {
    /// Every user's tokens (admins).
    pub all: Option<bool>,
}

/// Your API tokens (everyone's with `all=true`, admins).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "admin", params(TokenListParams), responses((status = 200, body = [ApiToken])))]
pub async fn list_tokens(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiQuery(params): ApiQuery<TokenListParams>,
) -> ApiResult<Json<Vec<ApiToken>>> {
    let all = params.all.unwrap_or(false);
    if all {
        ctx.require_admin("tokens")?;
    }
    let user = (!all).then_some(ctx.principal.user_id.as_str());
    Ok(Json(
        state
            .store
            .tokens(&ctx.principal.workspace_id, user)
            .await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "ERP integration"}))]
pub struct NewToken {
    pub name: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    /// The secret; shown this once and never again.
    pub token: String,
    #[serde(flatten)]
    pub info: ApiToken,
}

/// Create an API token acting as you. The secret is in the response only.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "admin", request_body = NewToken, responses((status = 201, body = CreatedToken)))]
pub async fn create_token(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<NewToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::new(
            ErrorCode::InvalidName,
            "a token needs a name of 1 to 100 characters",
        ));
    }
    let user = state
        .store
        .user(&ctx.principal.workspace_id, &ctx.principal.user_id)
        .await?;
    let token = new_token();
    let info = state
        .store
        .create_token(&user, name, &digest(&token), &token[..8])
        .await?;
    audit(
        &state,
        &ctx,
        "token.create",
        Some(info.id.clone()),
        "success",
        json!({ "name": name }),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { token, info })))
}

/// Revoke a token (your own; any, for admins).
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "admin", params(("id" = String, Path)), responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    let only = (!ctx.principal.is_admin()).then_some(ctx.principal.user_id.as_str());
    state
        .store
        .revoke_token(&ctx.principal.workspace_id, &id, only)
        .await?;
    state.principals.clear();
    audit(&state, &ctx, "token.revoke", Some(id), "success", json!({})).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// Only this action, e.g. `login`, `export`, `permission_denied`, `field.create`.
    pub action: Option<String>,
    /// Entries older than this id.
    pub before: Option<i64>,
    pub limit: Option<usize>,
}

/// The audit log, newest first (admins).
#[utoipa::path(get, path = "/api/v1/audit", tag = "admin", params(AuditParams), responses((status = 200, body = [AuditEntry])))]
pub async fn list_audit(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    ctx.require_admin("audit")?;
    Ok(Json(
        state
            .store
            .list_audit(
                &ctx.principal.workspace_id,
                params.action.as_deref(),
                params.before,
                params.limit.unwrap_or(100),
            )
            .await?,
    ))
}
