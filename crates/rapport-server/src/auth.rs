//! Authentication: Argon2id password hashes, login sessions in an HttpOnly SameSite cookie,
//! API tokens sent as `Authorization: Bearer` (random, stored as SHA-256 digests, shown once),
//! throttling of failed logins, and the `/auth` routes.

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Ctx, RequestId};
use crate::AppState;
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::Duration;
use rand::Rng;
use rapport_core::Principal;
use rapport_store::accounts::{Credential, User, UserChange};
use rapport_store::audit::AuditEvent;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

pub const SESSION_COOKIE: &str = "rapport_session";
pub const TOKEN_PREFIX: &str = "rpt_";
const MAX_FAILED_LOGINS: i64 = 10;
const THROTTLE_MINUTES: i64 = 15;
pub const MIN_PASSWORD_CHARS: usize = 8;

pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn random_text(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rngs::OsRng;
    (0..len)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}

/// A new API token: `rpt_` and 40 random characters (about 238 bits).
pub fn new_token() -> String {
    format!("{TOKEN_PREFIX}{}", random_text(40))
}

pub fn new_password() -> String {
    random_text(16)
}

pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(ApiError::internal)
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

pub fn check_password_strength(password: &str) -> Result<(), ApiError> {
    if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > 1024 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "weak_password",
            format!("a password has {MIN_PASSWORD_CHARS} to 1024 characters"),
        ));
    }
    Ok(())
}

fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// The principal behind a request's bearer token or session cookie, and whether it came from a
/// session. A bearer header that is present but wrong is an error, not an anonymous request.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<(Principal, bool)>, ApiError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| t.starts_with(TOKEN_PREFIX) && t.len() < 200)
            .ok_or_else(ApiError::unauthorized)?;
        let digest = digest(token);
        let key = format!("token:{digest}");
        if let Some(principal) = state.principals.get(&key) {
            return Ok(Some((principal, false)));
        }
        let found = state
            .store
            .principal_for(Credential::Token(&digest))
            .await?;
        let Some((principal, token_info)) = found else {
            return Err(ApiError::unauthorized());
        };
        if let Some((id, last_used)) = token_info {
            let stale = last_used.is_none_or(|t| state.store.now() - t > Duration::minutes(10));
            if stale {
                state.store.touch_token(&id).await?;
            }
        }
        state.principals.put(key, principal.clone());
        return Ok(Some((principal, false)));
    }
    let Some(session) = cookie_value(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    if session.len() > 200 {
        return Ok(None);
    }
    let digest = digest(&session);
    let key = format!("session:{digest}");
    if let Some(principal) = state.principals.get(&key) {
        return Ok(Some((principal, true)));
    }
    let found = state
        .store
        .principal_for(Credential::Session(&digest))
        .await?
        .map(|(p, _)| p);
    if let Some(principal) = &found {
        state.principals.put(key, principal.clone());
    }
    Ok(found.map(|p| (p, true)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MeResponse {
    pub user: User,
    pub role: rapport_core::Role,
    pub workspace: rapport_store::accounts::Workspace,
}

fn session_cookie(state: &AppState, value: &str, max_age: i64) -> Result<HeaderValue, ApiError> {
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .map_err(ApiError::internal)
}

async fn me_for(state: &AppState, principal: &Principal) -> ApiResult<MeResponse> {
    let user = state
        .store
        .user(&principal.workspace_id, &principal.user_id)
        .await?;
    let workspace = state.store.workspace(&principal.workspace_id).await?;
    Ok(MeResponse {
        user,
        role: principal.role.clone(),
        workspace,
    })
}

/// Log in with email and password; sets the session cookie.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = MeResponse), (status = 401, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    ApiJson(body): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let email = body.email.trim().to_lowercase();
    let store = &state.store;
    let since = store.now() - Duration::minutes(THROTTLE_MINUTES);
    if store.failed_logins_since(&email, since).await? >= MAX_FAILED_LOGINS {
        let mut error = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            "too many failed logins for this account; try again later",
        );
        error.retry_after = Some(u64::try_from(THROTTLE_MINUTES * 60).unwrap_or(900));
        return Err(error);
    }
    let found = store.user_for_login(&email).await?;
    let password = body.password.clone();
    let hash = found.as_ref().map(|(_, h)| h.clone());
    let verified = tokio::task::spawn_blocking(move || match hash {
        Some(hash) => verify_password(&password, &hash),
        None => {
            // Same work for unknown emails, so timing does not reveal which exist.
            let _ = hash_password(&password);
            false
        }
    })
    .await
    .map_err(ApiError::internal)?;
    let user = match found {
        Some((user, _)) if verified && user.active => user,
        other => {
            store
                .audit(AuditEvent {
                    workspace_id: other.map(|(u, _)| u.workspace_id),
                    action: "login".into(),
                    target: Some(email),
                    outcome: "failure",
                    request_id: Some(request_id.0),
                    ..Default::default()
                })
                .await?;
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "wrong email or password",
            ));
        }
    };
    let session = new_token();
    let ttl = state.config.session_ttl_hours;
    store
        .create_session(&user, &digest(&session), store.now() + Duration::hours(ttl))
        .await?;
    store
        .audit(AuditEvent {
            workspace_id: Some(user.workspace_id.clone()),
            actor_id: Some(user.id.clone()),
            action: "login".into(),
            target: Some(email),
            outcome: "success",
            request_id: Some(request_id.0),
            ..Default::default()
        })
        .await?;
    let found = store
        .principal_for(Credential::Session(&digest(&session)))
        .await?
        .ok_or_else(|| ApiError::internal("session vanished after login"))?;
    let me = me_for(&state, &found.0).await?;
    let cookie = session_cookie(&state, &session, ttl * 3600)?;
    Ok(([(header::SET_COOKIE, cookie)], Json(me)).into_response())
}

/// End the session and clear the cookie.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204)))]
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(session) = cookie_value(&headers, SESSION_COOKIE) {
        state.store.delete_session(&digest(&session)).await?;
        state.principals.clear();
    }
    let cookie = session_cookie(&state, "", 0)?;
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

/// The caller, their role and workspace.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", responses((status = 200, body = MeResponse), (status = 401, body = crate::error::ErrorBody)))]
pub async fn me(State(state): State<AppState>, ctx: Ctx) -> ApiResult<Json<MeResponse>> {
    Ok(Json(me_for(&state, &ctx.principal).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeUpdate {
    pub name: Option<String>,
    /// `zh-CN` or `en`.
    pub locale: Option<String>,
    pub current_password: Option<String>,
    pub new_password: Option<String>,
}

pub fn check_locale(locale: &str) -> Result<(), ApiError> {
    if matches!(locale, "zh-CN" | "en") {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "invalid_locale",
            "locale is zh-CN or en",
        ))
    }
}

/// Change your own name, language or password.
#[utoipa::path(patch, path = "/api/v1/auth/me", tag = "auth", request_body = MeUpdate, responses((status = 200, body = MeResponse)))]
pub async fn update_me(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<MeUpdate>,
) -> ApiResult<Json<MeResponse>> {
    let mut change = UserChange {
        name: body.name,
        locale: body.locale,
        ..Default::default()
    };
    if let Some(locale) = &change.locale {
        check_locale(locale)?;
    }
    if let Some(new_password) = body.new_password {
        check_password_strength(&new_password)?;
        let current = body.current_password.unwrap_or_default();
        let (_, hash) = state
            .store
            .user_for_login(&ctx.principal.email)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        let ok = tokio::task::spawn_blocking(move || verify_password(&current, &hash))
            .await
            .map_err(ApiError::internal)?;
        if !ok {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "invalid_credentials",
                "the current password is wrong",
            ));
        }
        change.password_hash = Some(
            tokio::task::spawn_blocking(move || hash_password(&new_password))
                .await
                .map_err(ApiError::internal)??,
        );
    }
    state
        .store
        .update_user(&ctx.principal.workspace_id, &ctx.principal.user_id, change)
        .await?;
    state.principals.clear();
    Ok(Json(me_for(&state, &ctx.principal).await?))
}

/// Records an audit entry for the caller.
pub async fn audit(
    state: &AppState,
    ctx: &Ctx,
    action: &str,
    target: Option<String>,
    outcome: &'static str,
    details: serde_json::Value,
) -> ApiResult<()> {
    state
        .store
        .audit(AuditEvent {
            workspace_id: Some(ctx.principal.workspace_id.clone()),
            actor_id: Some(ctx.principal.user_id.clone()),
            action: action.to_string(),
            target,
            outcome,
            details,
            ip: ctx.ip.clone(),
            request_id: Some(ctx.request_id.clone()),
        })
        .await?;
    Ok(())
}

/// Runs `result`; a permission denial is written to the audit log before it is returned.
pub async fn audit_denial<T>(
    state: &AppState,
    ctx: &Ctx,
    what: &str,
    result: ApiResult<T>,
) -> ApiResult<T> {
    if let Err(error) = &result {
        if error.status == StatusCode::FORBIDDEN {
            audit(
                state,
                ctx,
                "permission_denied",
                Some(what.to_string()),
                "denied",
                json!({ "message": error.message }),
            )
            .await?;
        }
    }
    result
}
