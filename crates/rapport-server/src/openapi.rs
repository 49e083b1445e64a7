//! The OpenAPI 3 document, generated from the handlers' annotations. The committed
//! `openapi.json` at the repository root must equal `document()`; a test checks it.
//!
//! Every operation answers its documented statuses and, for anything else, an error body
//! (`default`: `{code, message, details}`); tests/conformance fuzzes a running server against
//! this document.

use crate::routes::{
    admin, aggregate, cdp, connectors, dictionary, files, inbound, ingest, jobs, metadata, records,
    segments, snapshots, system, teams, views, webhooks,
};
use crate::{auth, error, records_json};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "write_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "A source's write key as the user, with an empty password (or `writeKey` in the body).",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "metrics_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The server's `RAPPORT_METRICS_TOKEN`."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(auth::SESSION_COOKIE))),
        );
    }
}

/// The `Error` response (an `ErrorBody`) as every operation's `default`: any status an
/// operation does not list is an error with a catalogue code. The statuses an operation does
/// list keep their own description.
struct ErrorResponses;

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.responses.insert(
            "Error".to_string(),
            RefOr::T(
                ResponseBuilder::new()
                    .description(
                        "An error: `{code, message, details}` with a code of the catalogue \
                         (docs/API.md); the code decides the status.",
                    )
                    .content(
                        "application/json",
                        Content::new(Some(Ref::from_schema_name("ErrorBody"))),
                    )
                    .build(),
            ),
        );
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
                &mut item.head,
                &mut item.options,
                &mut item.trace,
            ];
            for operation in operations.into_iter().flatten() {
                operation
                    .responses
                    .responses
                    .entry("default".to_string())
                    .or_insert_with(|| RefOr::Ref(Ref::from_response_name("Error")));
            }
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Rapport API", description = "Rapport: CRM and customer data platform. Errors are `{code, message, details}` with stable codes (docs/API.md)."),
    modifiers(&Security, &ErrorResponses),
    security(("bearer" = []), ("session" = [])),
    paths(
        system::healthz, system::metrics, system::openapi, system::search,
        auth::login, auth::logout, auth::me, auth::update_me,
        admin::list_users, admin::create_user, admin::update_user, admin::list_roles, admin::save_role,
        teams::list, teams::create, teams::replace, teams::delete,
        admin::list_tokens, admin::create_token, admin::revoke_token, admin::list_audit,
        jobs::list_queues, jobs::list_jobs, jobs::get_job, jobs::retry_job, jobs::cancel_job, jobs::discard_job,
        metadata::list_objects, metadata::get_object, metadata::create_object, metadata::update_object,
        metadata::archive_object, metadata::restore_object, metadata::purge_object,
        metadata::add_field, metadata::update_field, metadata::archive_field, metadata::restore_field, metadata::purge_field,
        records::list, records::query, records::create, records::batch_create, records::batch_update,
        records::get, records::update, records::delete, records::undelete, records::history, records::restore_history,
        records::related_lists, records::related, records::export, records::repair, aggregate::aggregate,
        files::upload, files::download, files::regions,
        webhooks::list, webhooks::create, webhooks::get, webhooks::replace, webhooks::delete,
        webhooks::secret, webhooks::rotate_secret, webhooks::deliveries, webhooks::resend, webhooks::resend_range, webhooks::health,
        connectors::kinds, connectors::list, connectors::create, connectors::get, connectors::replace, connectors::delete,
        connectors::test, connectors::enqueue, connectors::messages, connectors::unsubscribe_page, connectors::unsubscribe,
        dictionary::list, dictionary::create, dictionary::get, dictionary::replace, dictionary::delete, dictionary::translate,
        inbound::list, inbound::create, inbound::get, inbound::replace, inbound::delete, inbound::rotate_secret, inbound::deliveries, inbound::receive,
        views::list_views, views::create_view, views::get_view, views::update_view, views::delete_view,
        ingest::call, ingest::batch,
        cdp::list_sources, cdp::create_source, cdp::get_source, cdp::update_source, cdp::rotate_key, cdp::rotate_verification_secret,
        cdp::get_settings, cdp::save_settings,
        cdp::list_event_types, cdp::save_event_type, cdp::delete_event_type, cdp::observed, cdp::register_observed,
        cdp::list_held, cdp::replay,
        cdp::list_profiles, cdp::get_profile, cdp::profile_timeline, cdp::contact_journey,
        cdp::list_merges, cdp::undo_merge, cdp::list_events, cdp::data_health,
        segments::list, segments::create, segments::get, segments::update, segments::archive,
        segments::preview, segments::evaluate, segments::recount, segments::members, segments::members_csv,
        segments::changes, segments::versions, segments::profile_segments, segments::lineage,
        segments::contact_tags, segments::add_tag, segments::remove_tag,
        snapshots::take_snapshot, snapshots::list_snapshots, snapshots::get_snapshot,
        snapshots::snapshot_members, snapshots::snapshot_csv, snapshots::push_snapshot,
        snapshots::diff_snapshots,
    ),
    components(schemas(error::ErrorBody, records_json::RecordBody, rapport_cdp::wire::Kind))
)]
struct ApiDoc;

/// The document as pretty JSON, with a trailing newline (the form committed in the repo).
pub fn document() -> String {
    let mut text = ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}
