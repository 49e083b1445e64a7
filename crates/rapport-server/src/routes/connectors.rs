//! Connectors (admins): the kinds and their settings, create / change / delete (credentials
//! sealed, never answered), send a test now, queue a send, the log of sends; and the public
//! unsubscribe page that marketing emails link to. Changes are audited.

use crate::auth::audit;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Ctx};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rapport_integrations::connectors::kinds::{self, KindInfo};
use rapport_integrations::connectors::send::{self, Message, SendLog};
use rapport_integrations::connectors::{self, render, unsubscribe, Connector, ConnectorInput};
use serde::Deserialize;
use serde_json::json;

/// Every kind of connector with the settings it takes.
#[utoipa::path(get, path = "/api/v1/connectors/kinds", tag = "integrations", responses((status = 200, body = [KindInfo])))]
pub async fn kinds(ctx: Ctx) -> ApiResult<Json<Vec<KindInfo>>> {
    ctx.require_admin("connectors")?;
    Ok(Json(kinds::catalogue()))
}

#[utoipa::path(get, path = "/api/v1/connectors", tag = "integrations", responses((status = 200, body = [Connector])))]
pub async fn list(State(state): State<AppState>, ctx: Ctx) -> ApiResult<Json<Vec<Connector>>> {
    ctx.require_admin("connectors")?;
    Ok(Json(
        connectors::list(&state.store, &ctx.principal.workspace_id).await?,
    ))
}

/// Create a connector; its credentials are sealed with the node's key.
#[utoipa::path(post, path = "/api/v1/connectors", tag = "integrations", request_body = ConnectorInput,
    responses((status = 201, body = Connector), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(body): ApiJson<ConnectorInput>,
) -> ApiResult<(StatusCode, Json<Connector>)> {
    ctx.require_admin("connectors")?;
    let connector = connectors::create(&state.store, &ctx.principal.workspace_id, body).await?;
    audited(&state, &ctx, "connector.create", &connector).await?;
    Ok((StatusCode::CREATED, Json(connector)))
}

#[utoipa::path(get, path = "/api/v1/connectors/{id}", tag = "integrations", params(("id" = String, Path)),
    responses((status = 200, body = Connector), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Connector>> {
    ctx.require_admin("connectors")?;
    Ok(Json(
        connectors::get(&state.store, &ctx.principal.workspace_id, &id).await?,
    ))
}

/// Replace a connector's settings; credentials left out keep their stored value, `null`
/// removes one. Its kind does not change.
#[utoipa::path(put, path = "/api/v1/connectors/{id}", tag = "integrations", params(("id" = String, Path)), request_body = ConnectorInput,
    responses((status = 200, body = Connector), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn replace(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ConnectorInput>,
) -> ApiResult<Json<Connector>> {
    ctx.require_admin("connectors")?;
    let connector =
        connectors::update(&state.store, &ctx.principal.workspace_id, &id, body).await?;
    audited(&state, &ctx, "connector.update", &connector).await?;
    Ok(Json(connector))
}

#[utoipa::path(delete, path = "/api/v1/connectors/{id}", tag = "integrations", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    ctx.require_admin("connectors")?;
    let ws = &ctx.principal.workspace_id;
    let connector = connectors::get(&state.store, ws, &id).await?;
    connectors::delete(&state.store, ws, &id).await?;
    audited(&state, &ctx, "connector.delete", &connector).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Send a message now and answer how it went (`sent` or `failed`, with the provider's answer):
/// the "send test" button.
#[utoipa::path(post, path = "/api/v1/connectors/{id}/test", tag = "integrations", params(("id" = String, Path)), request_body = Message,
    responses((status = 200, body = SendLog), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn test(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<Message>,
) -> ApiResult<Json<SendLog>> {
    ctx.require_admin("connectors")?;
    let log = send::test(&state.store, &ctx.principal.workspace_id, &id, body).await?;
    Ok(Json(log))
}

/// Queue a message: it is sent by a worker and tried again while the failure is temporary.
#[utoipa::path(post, path = "/api/v1/connectors/{id}/send", tag = "integrations", params(("id" = String, Path)), request_body = Message,
    responses((status = 202, body = SendLog), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn enqueue(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<Message>,
) -> ApiResult<(StatusCode, Json<SendLog>)> {
    ctx.require_admin("connectors")?;
    let log = send::enqueue(&state.store, &ctx.principal.workspace_id, &id, body).await?;
    Ok((StatusCode::ACCEPTED, Json(log)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LogParams {
    /// At most this many sends, newest first (1–200, default 50).
    pub limit: Option<i64>,
}

/// The connector's latest sends: the message, what was sent, what came back, how it ended.
#[utoipa::path(get, path = "/api/v1/connectors/{id}/messages", tag = "integrations",
    params(("id" = String, Path), LogParams),
    responses((status = 200, body = [SendLog]), (status = 404, body = crate::error::ErrorBody)))]
pub async fn messages(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
    ApiQuery(params): ApiQuery<LogParams>,
) -> ApiResult<Json<Vec<SendLog>>> {
    ctx.require_admin("connectors")?;
    let ws = &ctx.principal.workspace_id;
    connectors::get(&state.store, ws, &id).await?;
    Ok(Json(
        send::log(&state.store, ws, &id, params.limit.unwrap_or(50)).await?,
    ))
}

async fn audited(
    state: &AppState,
    ctx: &Ctx,
    action: &str,
    connector: &Connector,
) -> ApiResult<()> {
    audit(
        state,
        ctx,
        action,
        Some(connector.id.clone()),
        "success",
        json!({"kind": connector.kind, "name": connector.name, "secrets_set": connector.secrets_set}),
    )
    .await
}

fn page(status: StatusCode, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width\"><title>退订 · Unsubscribe</title></head>\
         <body style=\"font-family:sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem\">{body}</body></html>"
    );
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response()
}

/// The page an unsubscribe link opens: it asks to confirm (a link scanner opening it
/// unsubscribes nobody).
#[utoipa::path(get, path = "/api/v1/unsubscribe/{token}", tag = "integrations", security(()), params(("token" = String, Path)),
    responses((status = 200, description = "A page asking to confirm", content_type = "text/html")))]
pub async fn unsubscribe_page(ApiPath(_token): ApiPath<String>) -> Response {
    // The form posts back to this same address.
    page(
        StatusCode::OK,
        "<h1>退订邮件 / Unsubscribe</h1><p>不再接收此类邮件？<br>Stop receiving these emails?</p>\
         <form method=\"post\"><button type=\"submit\">确认退订 / Unsubscribe</button></form>",
    )
}

/// Unsubscribes the link's address: the confirm button, or a mail client's one-click POST
/// (RFC 8058).
#[utoipa::path(post, path = "/api/v1/unsubscribe/{token}", tag = "integrations", security(()), params(("token" = String, Path)),
    responses((status = 200, description = "Unsubscribed", content_type = "text/html"), (status = 400, description = "Not a link this Rapport made", content_type = "text/html")))]
pub async fn unsubscribe(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
) -> Response {
    match unsubscribe::apply(&state.store, &token).await {
        Ok(address) => page(
            StatusCode::OK,
            &format!(
                "<h1>已退订 / Unsubscribed</h1><p>{} 不会再收到此类邮件。<br>{} will receive no more of these emails.</p>",
                render::html(&address),
                render::html(&address)
            ),
        ),
        Err(e) => {
            let status = crate::error::ApiError::from(e).status();
            page(
                status,
                "<h1>链接无效 / Invalid link</h1><p>此退订链接无效。<br>This unsubscribe link is not valid.</p>",
            )
        }
    }
}
