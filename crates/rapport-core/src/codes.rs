//! The catalogue of every code a client can meet, each declared once with its one-line
//! meaning (and, for an error answer, its HTTP status): the `code` of an error answer
//! ([`ErrorCode`]), a field's code inside `validation_failed` ([`FieldCode`]), why one tracked
//! event was rejected or held ([`EventCode`]), and a data-health warning ([`WarningCode`]).
//!
//! Everything that produces one of these codes names a variant here, never a string; the
//! tables in docs/API.md and the web app's `web/src/api/errorCodes.ts` are rendered from these
//! lists (`rapport error-codes`, `make error-codes`), and a test fails when a committed copy
//! disagrees. A code string never changes once published: clients switch on it.

use serde::Serialize;
use serde_json::{json, Value as Json};
use std::fmt;

/// What every kind of code has, for the renderings below.
trait Described {
    fn code(&self) -> &'static str;
    fn meaning(&self) -> &'static str;
}

/// Declares one kind of code: the enum, its strings and meanings, and the `impl`s every kind
/// shares (text, JSON as the bare string, OpenAPI as a string enum).
macro_rules! code_kind {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $variant:ident = ($code:literal, $meaning:literal), )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( #[doc = $meaning] $variant, )+
        }

        impl $name {
            /// Every code of this kind, in catalogue order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The code as clients see it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $code,)+
                }
            }

            /// What the code means, in one English sentence.
            pub const fn meaning(self) -> &'static str {
                match self {
                    $($name::$variant => $meaning,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl Described for $name {
            fn code(&self) -> &'static str {
                self.as_str()
            }
            fn meaning(&self) -> &'static str {
                $name::meaning(*self)
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                let mut codes: Vec<&'static str> = Vec::new();
                for code in Self::ALL {
                    if !codes.contains(&code.as_str()) {
                        codes.push(code.as_str());
                    }
                }
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some(codes))
                    .description(Some(concat!(
                        "One of the catalogue's codes (docs/API.md): ",
                        stringify!($name),
                        "."
                    )))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

/// Declares the kind that carries an HTTP status per code.
macro_rules! error_codes {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $variant:ident = ($code:literal, $status:literal, $meaning:literal), )+
        }
    ) => {
        code_kind! {
            $(#[$meta])*
            $name { $( $variant = ($code, $meaning), )+ }
        }

        impl $name {
            /// The HTTP status of an answer with this code.
            pub const fn status(self) -> u16 {
                match self {
                    $($name::$variant => $status,)+
                }
            }
        }
    };
}

error_codes! {
    /// The `code` of an error answer `{code, message, details}`. The status belongs to the
    /// code: `invalid_credentials` is listed twice because a wrong password is 401 at login
    /// and 403 when a logged-in user changes their password (a 401 would end their session).
    ErrorCode {
        InvalidJson = ("invalid_json", 400, "The body is not valid JSON."),
        InvalidBody = ("invalid_body", 400, "The JSON body does not have the expected shape: a property is missing, unknown or of the wrong type."),
        InvalidPath = ("invalid_path", 400, "A path segment is not valid UTF-8 or not of the expected form."),
        InvalidQuery = ("invalid_query", 400, "A query-string parameter is missing, unknown or of the wrong type."),
        NulCharacter = ("nul_character", 400, "A text in the request (an id, a name, a cursor, …) holds a NUL character (`\\u0000`), which Rapport neither stores nor looks up."),
        InvalidGzip = ("invalid_gzip", 400, "A gzip-encoded tracking request could not be decompressed."),
        UnsupportedEncoding = ("unsupported_encoding", 400, "A tracking request's Content-Encoding is neither gzip nor absent."),
        RequestTooLarge = ("request_too_large", 400, "A tracking request carries more than 500 KB of JSON."),
        BatchTooLarge = ("batch_too_large", 400, "A tracking batch holds more than 2,500 calls."),
        InvalidBatch = ("invalid_batch", 400, "A batch tracking request has no `batch` array."),
        InvalidCondition = ("invalid_condition", 400, "A condition does not parse or does not fit the metadata; `details.path` says where."),
        InvalidSort = ("invalid_sort", 400, "A sort key names an unknown or unsortable field, or there are more than 5 keys."),
        InvalidCursor = ("invalid_cursor", 400, "A page cursor was not issued by this list with this sort, filter and recycle-bin setting."),
        InvalidFields = ("invalid_fields", 400, "`fields` names a field the object does not have."),
        InvalidExpand = ("invalid_expand", 400, "`expand` names a field that is not a relation."),
        InvalidBatchSize = ("invalid_batch_size", 400, "A batch create or update holds fewer than 1 or more than 1,000 records."),
        InvalidIfMatch = ("invalid_if_match", 400, "`If-Match` is not a record version such as `\"3\"`."),
        InvalidPermissions = ("invalid_permissions", 400, "A role's permissions are not a map from object to allowed actions, or its name is unusable."),
        UnknownRole = ("unknown_role", 400, "A user is given a role that does not exist in the workspace."),
        InvalidLocale = ("invalid_locale", 400, "The locale is neither `zh-CN` nor `en`."),
        BeforeCreation = ("before_creation", 400, "A history restore names a time before the record existed."),
        InvalidGroupBy = ("invalid_group_by", 400, "An aggregate groups by an unknown field or by one that cannot be grouped."),
        InvalidMetric = ("invalid_metric", 400, "An aggregate metric is unknown or sums a field that cannot be summed."),
        InvalidJob = ("invalid_job", 400, "A job to enqueue has an unusable queue, kind, attempt limit or idempotency key."),
        InvalidBackup = ("invalid_backup", 400, "`rapport restore`: the file is not a Rapport backup, or is damaged at the line named."),
        InvalidLimit = ("invalid_limit", 400, "`limit` is outside its allowed range."),
        UnknownEventType = ("unknown_event_type", 400, "A segment condition names an event type that is not registered; `details.path` says where."),
        UnknownProperty = ("unknown_property", 400, "A segment condition names a property its event type's schema does not declare; `details.path` says where."),
        InvalidWindow = ("invalid_window", 400, "A segment condition's time window is outside 1 minute to 366 days; `details.path` says where."),
        InvalidCount = ("invalid_count", 400, "A segment condition's count is not a whole number from 0 to 1,000, or compares with 0 so that the test is always true or always false; `details.path` says where."),
        SegmentMatchesEverything = ("segment_matches_everything", 400, "A segment condition would match every customer; add at least one test."),
        PreviewTooExpensive = ("preview_too_expensive", 400, "A segment preview would take too long to count; save the segment and let it be evaluated."),
        Unauthenticated = ("unauthenticated", 401, "No valid session cookie or API token was sent, or it has ended."),
        InvalidSignature = ("invalid_signature", 401, "An inbound hook's request is not signed by its secret (Standard Webhooks: `webhook-id`, `webhook-timestamp` within 5 minutes, `webhook-signature`) or lacks its bearer token."),
        InvalidCredentials = ("invalid_credentials", 401, "Wrong email or password at login."),
        MissingWriteKey = ("missing_write_key", 401, "A tracking request carries no write key."),
        InvalidWriteKey = ("invalid_write_key", 401, "The write key is unknown, or its source is archived."),
        WriteKeyMismatch = ("write_key_mismatch", 401, "The write keys in the Authorization header and in the body differ."),
        InvalidAuthorization = ("invalid_authorization", 401, "A tracking request's Authorization header is not HTTP Basic with the write key as user."),
        Forbidden = ("forbidden", 403, "Your role may not do this; the refusal is in the audit log."),
        WrongCurrentPassword = ("invalid_credentials", 403, "The current password given to change it is wrong."),
        CrossSiteRequest = ("cross_site_request", 403, "A change sent with the session cookie came without `X-Requested-With` and not from Rapport's own pages."),
        NotFound = ("not_found", 404, "The path, or what it names, does not exist (or not in your workspace)."),
        MethodNotAllowed = ("method_not_allowed", 405, "The path exists but does not take this HTTP method."),
        RequestTimeout = ("request_timeout", 408, "The request body did not arrive within the body timeout; the connection is closed."),
        VersionConflict = ("version_conflict", 409, "The record changed since the version you sent (`version` or `If-Match`)."),
        DuplicateValue = ("duplicate_value", 409, "Another record already holds this value of a unique field; the message starts with the field."),
        DuplicateValuesExist = ("duplicate_values_exist", 409, "A field cannot be made unique while records share a value of it."),
        ObjectExists = ("object_exists", 409, "An object with this API name exists (perhaps archived)."),
        FieldExists = ("field_exists", 409, "A field with this API name exists on the object (perhaps archived)."),
        Archived = ("archived", 409, "The object or field is archived; restore it first."),
        NotArchived = ("not_archived", 409, "Only an archived object or field can be purged; archive it first."),
        StandardObject = ("standard_object", 409, "Standard objects cannot be archived or purged."),
        StandardField = ("standard_field", 409, "Standard fields cannot be archived or purged."),
        ObjectInUse = ("object_in_use", 409, "Relation fields of other objects point at this object."),
        FieldInUse = ("field_in_use", 409, "Formula fields read this field."),
        NameField = ("name_field", 409, "An object's name field cannot be archived."),
        TypeChangeUnsupported = ("type_change_unsupported", 409, "This change of a field's type or relation target is not supported."),
        EmailTaken = ("email_taken", 409, "A user with this email already exists."),
        RoleExists = ("role_exists", 409, "A role with this name already exists."),
        TeamExists = ("team_exists", 409, "A team with this name already exists."),
        AdminRole = ("admin_role", 409, "The built-in admin role stays an administrator role."),
        SelfLockout = ("self_lockout", 409, "You cannot deactivate yourself or change your own role."),
        MergeAlreadyUndone = ("merge_already_undone", 409, "This profile merge was already undone."),
        TooManySegments = ("too_many_segments", 409, "The workspace has as many segments as it may; archive some."),
        SegmentArchived = ("segment_archived", 409, "The segment is archived."),
        SegmentNotReady = ("segment_not_ready", 409, "The segment is not live yet (still being evaluated)."),
        SegmentBuilding = ("segment_building", 409, "The segment is being built by another node; try again shortly."),
        TooManyTags = ("too_many_tags", 409, "The customer has as many manual tags as they may."),
        SecretKeyMismatch = ("secret_key_mismatch", 409, "The connector's credentials were sealed under another secret key than this node's (`RAPPORT_SECRET_KEY`); set the same key on every node, or enter the credentials again."),
        JobNotRetryable = ("job_not_retryable", 409, "Only a failed or dead job can be retried."),
        JobFinished = ("job_finished", 409, "The job has already finished, so it cannot be cancelled."),
        JobNotDiscardable = ("job_not_discardable", 409, "Only a dead or cancelled job can be discarded."),
        WorkspaceExists = ("workspace_exists", 409, "`rapport restore`: the backup's workspace already exists in this database; restore into a fresh one."),
        IdentityRace = ("identity_race", 409, "Another node claimed one of the event's identifiers at the same moment; the write is tried again."),
        ContactUnverified = ("contact_unverified", 409, "An event from an unverified client source names the email of an existing contact; the contact is not taken over."),
        ContactTaken = ("contact_taken", 409, "The contact with this email belongs to another customer profile."),
        ConsumerBusy = ("consumer_busy", 409, "`rapport outbox rewind`: a node holds this outbox consumer's lease now; try again in a minute."),
        PayloadTooLarge = ("payload_too_large", 413, "The request body is larger than the server accepts (`RAPPORT_MAX_BODY_BYTES`)."),
        UnsupportedMediaType = ("unsupported_media_type", 415, "The body was not sent as `Content-Type: application/json`."),
        FileTooLarge = ("file_too_large", 413, "The uploaded file is larger than the attachment field takes (`max_size_mb`)."),
        FileTypeNotAllowed = ("file_type_not_allowed", 415, "The attachment field takes pictures only (PNG, JPEG, GIF or WebP, judged by content)."),
        InvalidUpload = ("invalid_upload", 400, "The upload is not `multipart/form-data` with one part named `file`."),
        ValidationFailed = ("validation_failed", 422, "Record values do not fit their fields; `details.fields[]` has `field`, `code` and `message` for each."),
        BatchValidationFailed = ("batch_validation_failed", 422, "Records of a batch failed validation and nothing was written; `details.records[]` has `index` and `errors`."),
        InvalidApiName = ("invalid_api_name", 422, "An API name is not lower snake case (`[a-z][a-z0-9_]*`) or is too long."),
        ReservedName = ("reserved_name", 422, "The name is a system column or otherwise reserved."),
        InvalidLabel = ("invalid_label", 422, "A label is empty or longer than 200 characters in a language."),
        InvalidFieldConfig = ("invalid_field_config", 422, "A field setting does not apply to its type or is out of range."),
        DuplicateField = ("duplicate_field", 422, "A definition names the same field twice."),
        InvalidNameField = ("invalid_name_field", 422, "The name field must be a text field of the object."),
        InvalidLayout = ("invalid_layout", 422, "A page layout names a field the object does not have."),
        UnknownTarget = ("unknown_target", 422, "A relation points at an object that does not exist."),
        InvalidFormula = ("invalid_formula", 422, "A formula does not parse or does not type-check."),
        TooManyFields = ("too_many_fields", 422, "The object has 500 fields, archived ones included."),
        WeakPassword = ("weak_password", 422, "The new password is too short, too long, too repetitive or too common."),
        InvalidEmail = ("invalid_email", 422, "A user's email is not an email address."),
        InvalidName = ("invalid_name", 422, "A name is empty or too long."),
        InvalidTeam = ("invalid_team", 422, "A team's members are not users of this workspace, appear twice or are too many."),
        InvalidSource = ("invalid_source", 422, "A source's name, kind, trust, schema policy or rate limit is not acceptable."),
        InvalidSettings = ("invalid_settings", 422, "The identity settings are not acceptable (identifier types, mappings, limits)."),
        InvalidEventType = ("invalid_event_type", 422, "An event type name is empty, too long, unprintable or reserved."),
        InvalidSchema = ("invalid_schema", 422, "A JSON Schema uses an unsupported keyword, does not compile or is too large."),
        InvalidReplay = ("invalid_replay", 422, "A replay names neither 1 to 5,000 held event ids nor an event type."),
        InvalidView = ("invalid_view", 422, "A saved view's name, column or group-by is not acceptable."),
        InvalidTag = ("invalid_tag", 422, "A tag is empty, longer than 50 characters or holds a comma."),
        InvalidDescription = ("invalid_description", 422, "A description is longer than 2,000 characters."),
        InvalidUrl = ("invalid_url", 422, "A webhook URL is not an absolute http(s) URL of acceptable length."),
        UrlNotAllowed = ("url_not_allowed", 422, "Rapport does not call this address (loopback, private or reserved) unless the operator allows it."),
        InvalidWebhook = ("invalid_webhook", 422, "A webhook endpoint names an unknown topic, no topic, too many objects, or a description over 500 characters; or the workspace has 50 endpoints already."),
        InvalidConnector = ("invalid_connector", 422, "A connector's name, kind or settings are not acceptable (an unknown setting, a missing required one, a value of the wrong shape), or the workspace has 50 connectors already."),
        InvalidMessage = ("invalid_message", 422, "A message does not fit its connector: no recipient, no subject for an email, no provider template for an SMS, no text for a chat robot, or too large."),
        InvalidInboundHook = ("invalid_inbound_hook", 422, "An inbound hook names an unknown object or field, maps no field or a source that is not a JSON pointer, has a match field that is not a mapped text, email or phone field, changes its auth in place, or the workspace has 50 hooks already."),
        InvalidPayload = ("invalid_payload", 422, "An inbound hook's payload is not an object or an array of 1 to 100 objects, an item has none of the mapped fields or no value for the match field, or it is over 1 MB; it is kept in the hook's log."),
        InvalidValueMap = ("invalid_value_map", 422, "A semantic-dictionary mapping names an unknown object or field, a field that is not single-select or text, a value that is not one of its options, a value or code twice, or the system already maps this field."),
        UnmappedValue = ("unmapped_value", 422, "The value has no mapping in the semantic dictionary for this system and field; it was refused and recorded, not passed through."),
        InvalidLink = ("invalid_link", 400, "The link was not made by this Rapport (its signature does not match)."),
        DifferentSegments = ("different_segments", 422, "Only snapshots of the same segment can be compared."),
        TooManyAttempts = ("too_many_attempts", 429, "Too many failed logins from this client; try again later (`Retry-After`)."),
        RateLimited = ("rate_limited", 429, "The source is over its events-per-second rate; retry after `Retry-After` seconds."),
        InternalError = ("internal_error", 500, "Something went wrong on the server's side; it is logged with the request id."),
        IdentityLoop = ("identity_loop", 500, "A customer's merge chain does not end: the identity graph is damaged."),
        DatabaseUnavailable = ("database_unavailable", 503, "The database does not answer."),
        IngestOverloaded = ("ingest_overloaded", 503, "Ingestion is saturated or the database cannot be reached; retry after `Retry-After` seconds."),
        ServerBusy = ("server_busy", 503, "Too many password checks are running at once; retry after `Retry-After` seconds."),
    }
}

code_kind! {
    /// One field's problem inside a `validation_failed` answer (`details.fields[].code`), or
    /// a record's inside `batch_validation_failed`.
    FieldCode {
        UnknownField = ("unknown_field", "The object has no such field."),
        ReadOnlyField = ("read_only_field", "The field is computed or maintained by the system and cannot be written."),
        Required = ("required", "The field is required and has no value."),
        InvalidType = ("invalid_type", "The value is not of the field's kind (a number for text, a list for a single value, …)."),
        InvalidValue = ("invalid_value", "The text holds a NUL character (`\\u0000`), which cannot be stored."),
        InvalidNumber = ("invalid_number", "Not a number at the field's scale, or out of the 64-bit range."),
        InvalidCurrency = ("invalid_currency", "Not an amount with a three-letter currency code."),
        InvalidDate = ("invalid_date", "Not a date `YYYY-MM-DD` from 0001-01-01 to 9999-12-31."),
        InvalidDatetime = ("invalid_datetime", "Not an RFC 3339 date-time."),
        InvalidEmail = ("invalid_email", "Not an email address."),
        InvalidPhone = ("invalid_phone", "Not a phone number (read in the field's default region)."),
        InvalidUrl = ("invalid_url", "Not an http(s) URL."),
        InvalidOption = ("invalid_option", "Not one of the field's options."),
        TooLong = ("too_long", "Longer than the field's maximum length."),
        TooShort = ("too_short", "Shorter than the field's minimum length."),
        PatternMismatch = ("pattern_mismatch", "Does not match the field's pattern."),
        OutOfRange = ("out_of_range", "Below the field's minimum or above its maximum (or outside the years 0001–9999 in UTC)."),
        TooManyValues = ("too_many_values", "A multi-select holds more values than allowed."),
        UnknownReference = ("unknown_reference", "A relation names a record that does not exist."),
        UnknownUser = ("unknown_user", "A user field names a user that does not exist in the workspace."),
        UnknownRegion = ("unknown_region", "An address names a region code that is not in the national region list."),
        UnknownFile = ("unknown_file", "An attachment names a file that was not uploaded for this field."),
        DuplicateValue = ("duplicate_value", "Another record already holds this value of a unique field."),
        RecordNotFound = ("record_not_found", "A batch update names a record (field `id`) that does not exist."),
    }
}

code_kind! {
    /// Why one tracked event was rejected or held aside (`rejected[].code`,
    /// `quarantined[].code`, a held event's `reason_code`, data health's reasons).
    EventCode {
        MissingIdentity = ("missing_identity", "No usable `userId` or `anonymousId` (empty, or a blocked value such as `\"null\"`, `0` or the zero UUID)."),
        MissingEvent = ("missing_event", "A `track` call without `event`."),
        MissingGroupId = ("missing_group_id", "A `group` call without `groupId`."),
        MissingPreviousId = ("missing_previous_id", "An `alias` call without a usable `previousId`."),
        InvalidType = ("invalid_type", "The call's `type` is not identify, track, page, screen, group or alias."),
        InvalidField = ("invalid_field", "A known field has the wrong JSON type."),
        InvalidEvent = ("invalid_event", "The call is not a JSON object."),
        InvalidTimestamp = ("invalid_timestamp", "A timestamp is not an ISO 8601 date-time."),
        TimestampInFuture = ("timestamp_in_future", "The timestamp is more than an hour ahead."),
        TimestampTooOld = ("timestamp_too_old", "The timestamp is before the year 2000."),
        EventTooLarge = ("event_too_large", "The call is larger than 32 KB."),
        NestingTooDeep = ("nesting_too_deep", "The call nests more than 32 levels."),
        ValueTooLong = ("value_too_long", "An id is longer than 255 characters."),
        InvalidUtf8 = ("invalid_utf8", "The call is not valid UTF-8."),
        NulCharacter = ("nul_character", "A key or string holds a NUL character (`\\u0000`)."),
        TooManyIdentifiers = ("too_many_identifiers", "The call names more than 20 identifiers."),
        EventNotStored = ("event_not_stored", "The event alone failed to store; the failure is logged for the operators."),
        UnregisteredEventType = ("unregistered_event_type", "The event type is not registered in the schema registry."),
        UnregisteredProperty = ("unregistered_property", "The event has properties its registered schema does not declare."),
        SchemaViolation = ("schema_violation", "The event does not fit its registered schema."),
    }
}

code_kind! {
    /// A data-health warning (`GET /api/v1/cdp/health`, `warnings[].code`).
    WarningCode {
        MergeRefusedUserIds = ("merge_refused_user_ids", "Two profiles were not merged because they carry different user ids."),
        MergeRefusedIdentifierLimit = ("merge_refused_identifier_limit", "An identifier has already caused `max_merges_per_identifier` merges; no more."),
        MergeRefusedTooManyCustomers = ("merge_refused_too_many_customers", "One event named more than five customers; none were merged."),
        ContactSyncFailed = ("contact_sync_failed", "A profile's contact could not be created or updated in the CRM."),
        CompanySyncFailed = ("company_sync_failed", "A group's company could not be created or updated in the CRM."),
        ContactUnverified = ("contact_unverified", "An email from an unverified client source was not used to link an existing contact."),
    }
}

/// The catalogue as JSON: every kind with its codes, meanings and, for errors, statuses.
pub fn catalogue_json() -> Json {
    fn plain<T: Described>(all: &[T]) -> Json {
        all.iter()
            .map(|c| json!({"code": c.code(), "meaning": c.meaning()}))
            .collect()
    }
    json!({
        "errors": ErrorCode::ALL
            .iter()
            .map(|c| json!({"code": c.as_str(), "status": c.status(), "meaning": c.meaning()}))
            .collect::<Vec<_>>(),
        "fields": plain(FieldCode::ALL),
        "events": plain(EventCode::ALL),
        "warnings": plain(WarningCode::ALL),
    })
}

/// The web app's module `web/src/api/errorCodes.ts`: the catalogue as a constant and a type
/// per kind, so its translations must name every code (the type checker says which is missing).
pub fn typescript() -> String {
    // A JSON value always serialises.
    let catalogue = serde_json::to_string_pretty(&catalogue_json()).unwrap_or_default();
    format!(
        "// Generated from crates/rapport-core/src/codes.rs by `make error-codes`; do not edit.\n\
         // Every code the server can answer with, by kind, with its status (errors) and meaning.\n\n\
         export const catalogue = {catalogue} as const;\n\n\
         export type ErrorCode = (typeof catalogue.errors)[number]['code'];\n\
         export type FieldCode = (typeof catalogue.fields)[number]['code'];\n\
         export type EventCode = (typeof catalogue.events)[number]['code'];\n\
         export type WarningCode = (typeof catalogue.warnings)[number]['code'];\n"
    )
}

/// Where the generated tables sit in docs/API.md.
pub const DOC_BEGIN: &str = "<!-- errors:begin -->";
pub const DOC_END: &str = "<!-- errors:end -->";

/// The tables of docs/API.md's "Errors" section, one per kind, errors sorted by status.
pub fn markdown() -> String {
    fn row(code: &str, meaning: &str) -> String {
        format!("| `{code}` | {} |\n", meaning.replace('|', "\\|"))
    }
    fn table<T: Described>(title: &str, all: &[T]) -> String {
        let rows: String = all.iter().map(|c| row(c.code(), c.meaning())).collect();
        format!("\n{title}\n\n| code | meaning |\n|---|---|\n{rows}")
    }
    let mut errors: Vec<ErrorCode> = ErrorCode::ALL.to_vec();
    errors.sort_by_key(|c| c.status());
    let mut out = String::from(
        "<!-- Generated from crates/rapport-core/src/codes.rs by `make error-codes`; do not edit. -->\n\n\
         | status | code | meaning |\n|---|---|---|\n",
    );
    for code in errors {
        out.push_str(&format!(
            "| {} {}",
            code.status(),
            row(code.as_str(), code.meaning())
        ));
    }
    out.push_str(&table(
        "Field codes inside `validation_failed` (`details.fields[].code`) and `batch_validation_failed`:",
        FieldCode::ALL,
    ));
    out.push_str(&table(
        "Per-event codes of the tracking API (`rejected[].code`, `quarantined[].code`, a held event's `reason_code`):",
        EventCode::ALL,
    ));
    out.push_str(&table(
        "Data-health warnings (`GET /api/v1/cdp/health`, `warnings[].code`):",
        WarningCode::ALL,
    ));
    out
}

/// `doc` with the text between [`DOC_BEGIN`] and [`DOC_END`] replaced by [`markdown`]; None
/// when the markers are missing or out of order.
pub fn splice_markdown(doc: &str) -> Option<String> {
    let start = doc.find(DOC_BEGIN)? + DOC_BEGIN.len();
    let end = start + doc[start..].find(DOC_END)?;
    Some(format!("{}\n{}{}", &doc[..start], markdown(), &doc[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    fn snake_case(code: &str) -> bool {
        code.starts_with(|c: char| c.is_ascii_lowercase())
            && code
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    }

    #[test]
    fn codes_are_snake_case_with_a_sentence_each() {
        let all = ErrorCode::ALL.iter().map(|c| (c.as_str(), c.meaning()));
        let all = all
            .chain(FieldCode::ALL.iter().map(|c| (c.as_str(), c.meaning())))
            .chain(EventCode::ALL.iter().map(|c| (c.as_str(), c.meaning())))
            .chain(WarningCode::ALL.iter().map(|c| (c.as_str(), c.meaning())));
        for (code, meaning) in all {
            assert!(snake_case(code), "{code}");
            assert!(
                meaning.ends_with('.') && !meaning.contains('\n'),
                "{code}: {meaning}"
            );
        }
    }

    #[test]
    fn an_error_code_has_one_status_unless_declared_twice_on_purpose() {
        let mut statuses: HashMap<&str, HashSet<u16>> = HashMap::new();
        for code in ErrorCode::ALL {
            assert!((400..600).contains(&code.status()), "{code}");
            statuses
                .entry(code.as_str())
                .or_default()
                .insert(code.status());
        }
        let several: Vec<_> = statuses
            .iter()
            .filter(|(_, s)| s.len() > 1)
            .map(|(c, _)| *c)
            .collect();
        assert_eq!(several, ["invalid_credentials"]);
        for kind in [
            FieldCode::ALL
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>(),
            EventCode::ALL.iter().map(|c| c.as_str()).collect(),
            WarningCode::ALL.iter().map(|c| c.as_str()).collect(),
        ] {
            assert_eq!(
                kind.iter().collect::<HashSet<_>>().len(),
                kind.len(),
                "{kind:?}"
            );
        }
    }

    #[test]
    fn the_markdown_is_spliced_between_the_markers() {
        let doc = format!("# Title\n\n{DOC_BEGIN}\nold table\n{DOC_END}\n\nAfter.\n");
        let spliced = splice_markdown(&doc).expect("markers");
        assert!(spliced.starts_with(&format!("# Title\n\n{DOC_BEGIN}\n<!-- Generated")));
        assert!(spliced.ends_with(&format!("{DOC_END}\n\nAfter.\n")));
        assert!(!spliced.contains("old table"));
        assert!(spliced.contains("| 422 | `validation_failed` |"));
        assert_eq!(splice_markdown(&spliced).as_deref(), Some(spliced.as_str()));
        assert_eq!(splice_markdown("no markers"), None);
        assert_eq!(splice_markdown(&format!("{DOC_END} {DOC_BEGIN}")), None);
    }
}
