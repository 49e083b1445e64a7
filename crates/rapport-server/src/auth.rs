//! Authentication: Argon2id password hashes, login sessions in an HttpOnly SameSite cookie,
//! API tokens sent as `Authorization: Bearer` (random, stored as SHA-256 digests, shown once),
//! throttling of failed logins, and the `/auth` routes.

use crate::client::{throttle_key, ClientAddr};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Ctx, RequestId};
use crate::passwords::check_strength;
use crate::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::Duration;
use rand::Rng;
use rapport_core::ErrorCode;
use rapport_core::Principal;
use rapport_store::accounts::{Credential, User, UserChange};
use rapport_store::audit::AuditEvent;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

pub use crate::passwords::{
    check_strength as check_password_strength, hash_password, verify_password,
};

pub const SESSION_COOKIE: &str = "rapport_session";
pub const TOKEN_PREFIX: &str = "rpt_";
/// Failures of one client for one account within the window before that client is refused.
pub const MAX_FAILED_LOGINS: i64 = 10;
/// Failures of one client for all accounts together within the window (password spraying).
pub const MAX_CLIENT_FAILURES: i64 = 100;
const THROTTLE_MINUTES: i64 = 15;

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

/// The digest of the session the request came with, if it authenticated by session cookie.
pub fn current_session(headers: &HeaderMap, ctx: &Ctx) -> Option<String> {
    cookie_value(headers, SESSION_COOKIE)
        .filter(|_| ctx.via_session)
        .map(|s| digest(&s))
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

/// Whether the request came over HTTPS as far as a proxy in front of Rapport says
/// (`X-Forwarded-Proto: https` or `Forwarded: proto=https`). Trusting this from anyone is safe:
/// it only ever makes the cookie stricter.
fn forwarded_https(headers: &HeaderMap) -> bool {
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
    let forwarded = headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split([';', ',']))
        .any(|pair| pair.trim().eq_ignore_ascii_case("proto=https"));
    proto || forwarded
}

/// The session cookie: HttpOnly, SameSite=Lax, and Secure when the server is configured so or
/// the request came through an HTTPS proxy.
fn session_cookie(
    state: &AppState,
    headers: &HeaderMap,
    value: &str,
    max_age: i64,
) -> Result<HeaderValue, ApiError> {
    let secure = if state.config.secure_cookies || forwarded_https(headers) {
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

fn too_many_attempts() -> ApiError {
    ApiError::new(
        ErrorCode::TooManyAttempts,
        "too many failed logins from here; try again later",
    )
    .retry_after(u64::try_from(THROTTLE_MINUTES * 60).unwrap_or(900))
}

/// Log in with email and password; sets the session cookie. A client that failed 10 times for
/// an account (or 100 times in all) within 15 minutes is refused with 429 for a while; other
/// clients, the account's owner among them, are not.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", security(()), request_body = LoginRequest,
    responses((status = 200, body = MeResponse), (status = 401, body = crate::error::ErrorBody),
        (status = 429, body = crate::error::ErrorBody), (status = 503, body = crate::error::ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    ClientAddr(ip): ClientAddr,
    headers: HeaderMap,
    ApiJson(body): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let email = body.email.trim().to_ascii_lowercase();
    let store = &state.store;
    let client = throttle_key(ip);
    let since = store.now() - Duration::minutes(THROTTLE_MINUTES);
    let failures = store.login_failures(&client, &email, since).await?;
    if failures.account >= MAX_FAILED_LOGINS || failures.client >= MAX_CLIENT_FAILURES {
        return Err(too_many_attempts());
    }
    let found = store.user_for_login(&email).await?;
    let hash = found.as_ref().map(|(_, h)| h.clone());
    let verified = state.passwords.verify(body.password, hash).await?;
    let user = match found {
        Some((user, _)) if verified && user.active => user,
        other => {
            let count = store.record_login_failure(&client, &email, since).await?;
            // One audit entry when a client starts failing for an account and one when it is
            // locked out, not one per attempt; unknown emails belong to no workspace.
            if let Some((user, _)) = other {
                if count == 1 || count == MAX_FAILED_LOGINS {
                    store
                        .audit(AuditEvent {
                            workspace_id: Some(user.workspace_id),
                            action: "login".into(),
                            target: Some(email),
                            outcome: "failure",
                            details: json!({
                                "failures": count,
                                "locked": count >= MAX_FAILED_LOGINS,
                                "window_minutes": THROTTLE_MINUTES,
                            }),
                            ip: Some(ip.to_string()),
                            request_id: Some(request_id.0),
                            ..Default::default()
                        })
                        .await?;
                }
            }
            return Err(ApiError::new(
                ErrorCode::InvalidCredentials,
                "wrong email or password",
            ));
        }
    };
    store.clear_login_failures(&client, &email).await?;
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
            ip: Some(ip.to_string()),
            request_id: Some(request_id.0),
            ..Default::default()
        })
        .await?;
    let found = store
        .principal_for(Credential::Session(&digest(&session)))
        .await?
        .ok_or_else(|| ApiError::internal("session vanished after login"))?;
    let me = me_for(&state, &found.0).await?;
    let cookie = session_cookie(&state, &headers, &session, ttl * 3600)?;
    Ok(([(header::SET_COOKIE, cookie)], Json(me)).into_response())
}

/// End the session and clear the cookie.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(()), responses((status = 204)))]
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(session) = cookie_value(&headers, SESSION_COOKIE) {
        state.store.delete_session(&digest(&session)).await?;
        state.principals.clear();
    }
    let cookie = session_cookie(&state, &headers, "", 0)?;
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
        Err(ApiError::new(
            ErrorCode::InvalidLocale,
            "locale is zh-CN or en",
        ))
    }
}

/// Change your own name, language or password. A new password ends every other session of
/// yours (API tokens stay) and is audited.
#[utoipa::path(patch, path = "/api/v1/auth/me", tag = "auth", request_body = MeUpdate, responses((status = 200, body = MeResponse)))]
pub async fn update_me(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
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
    let changes_password = body.new_password.is_some();
    if let Some(new_password) = body.new_password {
        check_strength(&new_password)?;
        // No current password is a wrong one: it is checked against the hash below.
        let current = body.current_password.unwrap_or_default();
        let (_, hash) = state
            .store
            .user_for_login(&ctx.principal.email)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        if !state.passwords.verify(current, Some(hash)).await? {
            audit(
                &state,
                &ctx,
                "user.password_change",
                Some(ctx.principal.user_id.clone()),
                "failure",
                json!({"reason": "wrong current password"}),
            )
            .await?;
            return Err(ApiError::new(
                ErrorCode::WrongCurrentPassword,
                "the current password is wrong",
            ));
        }
        change.password_hash = Some(state.passwords.hash(new_password).await?);
    }
    state
        .store
        .update_user(&ctx.principal.workspace_id, &ctx.principal.user_id, change)
        .await?;
    if changes_password {
        let keep = current_session(&headers, &ctx);
        let ended = state
            .store
            .end_sessions(&ctx.principal.user_id, keep.as_deref())
            .await?;
        audit(
            &state,
            &ctx,
            "user.password_change",
            Some(ctx.principal.user_id.clone()),
            "success",
            json!({"other_sessions_ended": ended}),
        )
        .await?;
    }
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
