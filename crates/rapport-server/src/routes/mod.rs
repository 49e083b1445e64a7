//! The route table: every path of the API and the handler that serves it.

pub mod admin;
pub mod aggregate;
pub mod cdp;
pub mod connectors;
pub mod dictionary;
pub mod files;
pub mod inbound;
pub mod ingest;
pub mod jobs;
pub mod metadata;
pub mod records;
pub mod segments;
pub mod snapshots;
pub mod system;
pub mod teams;
pub mod views;
pub mod webhooks;

use crate::auth;
use crate::AppState;
use axum::extract::DefaultBodyLimit;
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
        .route("/api/v1/teams", get(teams::list).post(teams::create))
        .route(
            "/api/v1/teams/{id}",
            put(teams::replace).delete(teams::delete),
        )
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
            "/api/v1/webhooks",
            get(webhooks::list).post(webhooks::create),
        )
        .route(
            "/api/v1/webhooks/{id}",
            get(webhooks::get)
                .put(webhooks::replace)
                .delete(webhooks::delete),
        )
        .route("/api/v1/webhooks/health", get(webhooks::health))
        .route("/api/v1/connectors/kinds", get(connectors::kinds))
        .route(
            "/api/v1/connectors",
            get(connectors::list).post(connectors::create),
        )
        .route(
            "/api/v1/connectors/{id}",
            get(connectors::get)
                .put(connectors::replace)
                .delete(connectors::delete),
        )
        .route("/api/v1/connectors/{id}/test", post(connectors::test))
        .route("/api/v1/connectors/{id}/send", post(connectors::enqueue))
        .route(
            "/api/v1/connectors/{id}/messages",
            get(connectors::messages),
        )
        .route(
            "/api/v1/dictionary",
            get(dictionary::list).post(dictionary::create),
        )
        .route(
            "/api/v1/dictionary/{id}",
            get(dictionary::get)
                .put(dictionary::replace)
                .delete(dictionary::delete),
        )
        .route(
            "/api/v1/dictionary/{id}/translate",
            post(dictionary::translate),
        )
        .route(
            "/api/v1/inbound-hooks",
            get(inbound::list).post(inbound::create),
        )
        .route(
            "/api/v1/inbound-hooks/{id}",
            get(inbound::get)
                .put(inbound::replace)
                .delete(inbound::delete),
        )
        .route(
            "/api/v1/inbound-hooks/{id}/rotate-secret",
            post(inbound::rotate_secret),
        )
        .route(
            "/api/v1/inbound-hooks/{id}/deliveries",
            get(inbound::deliveries),
        )
        .route("/api/v1/hooks/{id}", post(inbound::receive))
        .route(
            "/api/v1/unsubscribe/{token}",
            get(connectors::unsubscribe_page).post(connectors::unsubscribe),
        )
        .route("/api/v1/webhooks/{id}/secret", get(webhooks::secret))
        .route(
            "/api/v1/webhooks/{id}/rotate-secret",
            post(webhooks::rotate_secret),
        )
        .route(
            "/api/v1/webhooks/{id}/deliveries",
            get(webhooks::deliveries),
        )
        .route(
            "/api/v1/webhooks/deliveries/{id}/resend",
            post(webhooks::resend),
        )
        .route("/api/v1/webhooks/{id}/resend", post(webhooks::resend_range))
        .route("/api/v1/jobs", get(jobs::list_jobs))
        .route("/api/v1/jobs/queues", get(jobs::list_queues))
        .route(
            "/api/v1/jobs/{id}",
            get(jobs::get_job).delete(jobs::discard_job),
        )
        .route("/api/v1/jobs/{id}/retry", post(jobs::retry_job))
        .route("/api/v1/jobs/{id}/cancel", post(jobs::cancel_job))
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
            "/api/v1/objects/{object}/fields/{field}/files",
            post(files::upload).layer(DefaultBodyLimit::max(files::MAX_UPLOAD_BYTES)),
        )
        .route("/api/v1/files/{id}", get(files::download))
        .route("/api/v1/regions", get(files::regions))
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
            "/api/v1/objects/{object}/records/aggregate",
            post(aggregate::aggregate),
        )
        .route(
            "/api/v1/objects/{object}/records/repair",
            post(records::repair),
        )
        .route(
            "/api/v1/objects/{object}/views",
            get(views::list_views).post(views::create_view),
        )
        .route(
            "/api/v1/objects/{object}/views/{id}",
            get(views::get_view)
                .put(views::update_view)
                .delete(views::delete_view),
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
        .merge(cdp_routes())
        .merge(segment_routes())
        .merge(snapshot_routes())
        .merge(tracking_routes())
}

/// The CDP's management API.
fn cdp_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/cdp/sources",
            get(cdp::list_sources).post(cdp::create_source),
        )
        .route(
            "/api/v1/cdp/sources/{id}",
            get(cdp::get_source).patch(cdp::update_source),
        )
        .route("/api/v1/cdp/sources/{id}/rotate-key", post(cdp::rotate_key))
        .route(
            "/api/v1/cdp/sources/{id}/rotate-verification-secret",
            post(cdp::rotate_verification_secret),
        )
        .route(
            "/api/v1/cdp/settings",
            get(cdp::get_settings).put(cdp::save_settings),
        )
        .route(
            "/api/v1/cdp/event-types",
            get(cdp::list_event_types)
                .post(cdp::save_event_type)
                .delete(cdp::delete_event_type),
        )
        .route("/api/v1/cdp/event-types/observed", get(cdp::observed))
        .route(
            "/api/v1/cdp/event-types/observed/register",
            post(cdp::register_observed),
        )
        .route("/api/v1/cdp/held", get(cdp::list_held))
        .route("/api/v1/cdp/held/replay", post(cdp::replay))
        .route("/api/v1/cdp/profiles", get(cdp::list_profiles))
        .route("/api/v1/cdp/profiles/{id}", get(cdp::get_profile))
        .route(
            "/api/v1/cdp/profiles/{id}/timeline",
            get(cdp::profile_timeline),
        )
        .route(
            "/api/v1/cdp/contacts/{id}/journey",
            get(cdp::contact_journey),
        )
        .route("/api/v1/cdp/merges", get(cdp::list_merges))
        .route("/api/v1/cdp/merges/{id}/undo", post(cdp::undo_merge))
        .route("/api/v1/cdp/events", get(cdp::list_events))
        .route("/api/v1/cdp/health", get(cdp::data_health))
}

/// Segments, memberships, tags and lineage.
fn segment_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/cdp/segments",
            get(segments::list).post(segments::create),
        )
        .route("/api/v1/cdp/segments/preview", post(segments::preview))
        .route(
            "/api/v1/cdp/segments/{id}",
            get(segments::get)
                .patch(segments::update)
                .delete(segments::archive),
        )
        .route(
            "/api/v1/cdp/segments/{id}/evaluate",
            post(segments::evaluate),
        )
        .route("/api/v1/cdp/segments/{id}/recount", post(segments::recount))
        .route("/api/v1/cdp/segments/{id}/members", get(segments::members))
        .route(
            "/api/v1/cdp/segments/{id}/members.csv",
            get(segments::members_csv),
        )
        .route("/api/v1/cdp/segments/{id}/changes", get(segments::changes))
        .route(
            "/api/v1/cdp/segments/{id}/versions",
            get(segments::versions),
        )
        .route(
            "/api/v1/cdp/profiles/{id}/segments",
            get(segments::profile_segments),
        )
        .route(
            "/api/v1/cdp/profiles/{id}/lineage/{segment_id}",
            get(segments::lineage),
        )
        .route(
            "/api/v1/cdp/contacts/{id}/tags",
            get(segments::contact_tags).post(segments::add_tag),
        )
        .route(
            "/api/v1/cdp/contacts/{id}/tags/{tag}",
            axum::routing::delete(segments::remove_tag),
        )
}

/// Segment snapshots and the webhook signing secret.
fn snapshot_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/cdp/segments/{id}/snapshots",
            get(snapshots::list_snapshots).post(snapshots::take_snapshot),
        )
        .route("/api/v1/cdp/snapshots/{id}", get(snapshots::get_snapshot))
        .route(
            "/api/v1/cdp/snapshots/{id}/members",
            get(snapshots::snapshot_members),
        )
        .route(
            "/api/v1/cdp/snapshots/{id}/members.csv",
            get(snapshots::snapshot_csv),
        )
        .route(
            "/api/v1/cdp/snapshots/{id}/push",
            post(snapshots::push_snapshot),
        )
        .route(
            "/api/v1/cdp/snapshots/{id}/diff/{other}",
            get(snapshots::diff_snapshots),
        )
}

/// The Segment-compatible tracking API, open to browsers on any origin.
fn tracking_routes() -> Router<AppState> {
    Router::new()
        .route("/v1/batch", post(ingest::batch).options(ingest::preflight))
        .route("/v1/{call}", post(ingest::call).options(ingest::preflight))
        .route_layer(axum::middleware::from_fn(ingest::cors))
}
