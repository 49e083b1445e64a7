//! The route table: every path of the API and the handler that serves it.

pub mod admin;
pub mod metadata;
pub mod records;
pub mod system;

use crate::auth;
use crate::AppState;
use axum::routing::{get, patch, post, put};
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(system::healthz))
        .route("/metrics", get(system::metrics))
        .route("/api/openapi.json", get(system::openapi))
        .route("/api/v1/auth/login", post(auth::login))
        .route("/api/v1/auth/logout", post(auth::logout))
        .route("/api/v1/auth/me", get(auth::me).patch(auth::update_me))
        .route("/api/v1/search", get(system::search))
        .route(
            "/api/v1/users",
            get(admin::list_users).post(admin::create_user),
        )
        .route("/api/v1/users/{id}", patch(admin::update_user))
        .route("/api/v1/roles", get(admin::list_roles))
        .route("/api/v1/roles/{id}", put(admin::save_role))
        .route(
            "/api/v1/tokens",
            get(admin::list_tokens).post(admin::create_token),
        )
        .route(
            "/api/v1/tokens/{id}",
            axum::routing::delete(admin::revoke_token),
        )
        .route("/api/v1/audit", get(admin::list_audit))
        .route(
            "/api/v1/objects",
            get(metadata::list_objects).post(metadata::create_object),
        )
        .route(
            "/api/v1/objects/{object}",
            get(metadata::get_object)
                .patch(metadata::update_object)
                .delete(metadata::archive_object),
        )
        .route(
            "/api/v1/objects/{object}/restore",
            post(metadata::restore_object),
        )
        .route(
            "/api/v1/objects/{object}/purge",
            post(metadata::purge_object),
        )
        .route(
            "/api/v1/objects/{object}/related",
            get(records::related_lists),
        )
        .route("/api/v1/objects/{object}/fields", post(metadata::add_field))
        .route(
            "/api/v1/objects/{object}/fields/{field}",
            patch(metadata::update_field).delete(metadata::archive_field),
        )
        .route(
            "/api/v1/objects/{object}/fields/{field}/restore",
            post(metadata::restore_field),
        )
        .route(
            "/api/v1/objects/{object}/fields/{field}/purge",
            post(metadata::purge_field),
        )
        .route(
            "/api/v1/objects/{object}/records",
            get(records::list).post(records::create),
        )
        .route(
            "/api/v1/objects/{object}/records/query",
            post(records::query),
        )
        .route(
            "/api/v1/objects/{object}/records/export",
            post(records::export),
        )
        .route(
            "/api/v1/objects/{object}/records/batch/create",
            post(records::batch_create),
        )
        .route(
            "/api/v1/objects/{object}/records/batch/update",
            post(records::batch_update),
        )
        .route(
            "/api/v1/objects/{object}/records/{id}",
            get(records::get)
                .patch(records::update)
                .delete(records::delete),
        )
        .route(
            "/api/v1/objects/{object}/records/{id}/restore",
            post(records::undelete),
        )
        .route(
            "/api/v1/objects/{object}/records/{id}/history",
            get(records::history),
        )
        .route(
            "/api/v1/objects/{object}/records/{id}/history/restore",
            post(records::restore_history),
        )
        .route(
            "/api/v1/objects/{object}/records/{id}/related/{related}/{field}",
            get(records::related),
        )
}
