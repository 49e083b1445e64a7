// Generated from crates/rapport-core/src/codes.rs by `make error-codes`; do not edit.
// Every code the server can answer with, by kind, with its status (errors) and meaning.

export const catalogue = {
  "errors": [
    {
      "code": "invalid_json",
      "meaning": "The body is not valid JSON.",
      "status": 400
    },
    {
      "code": "invalid_body",
      "meaning": "The JSON body does not have the expected shape: a property is missing, unknown or of the wrong type.",
      "status": 400
    },
    {
      "code": "invalid_path",
      "meaning": "A path segment is not valid UTF-8 or not of the expected form.",
      "status": 400
    },
    {
      "code": "invalid_query",
      "meaning": "A query-string parameter is missing, unknown or of the wrong type.",
      "status": 400
    },
    {
      "code": "nul_character",
      "meaning": "A text in the request (an id, a name, a cursor, …) holds a NUL character (`\\u0000`), which Rapport neither stores nor looks up.",
      "status": 400
    },
    {
      "code": "invalid_gzip",
      "meaning": "A gzip-encoded tracking request could not be decompressed.",
      "status": 400
    },
    {
      "code": "unsupported_encoding",
      "meaning": "A tracking request's Content-Encoding is neither gzip nor absent.",
      "status": 400
    },
    {
      "code": "request_too_large",
      "meaning": "A tracking request carries more than 500 KB of JSON.",
      "status": 400
    },
    {
      "code": "batch_too_large",
      "meaning": "A tracking batch holds more than 2,500 calls.",
      "status": 400
    },
    {
      "code": "invalid_batch",
      "meaning": "A batch tracking request has no `batch` array.",
      "status": 400
    },
    {
      "code": "invalid_condition",
      "meaning": "A condition does not parse or does not fit the metadata; `details.path` says where.",
      "status": 400
    },
    {
      "code": "invalid_sort",
      "meaning": "A sort key names an unknown or unsortable field, or there are more than 5 keys.",
      "status": 400
    },
    {
      "code": "invalid_cursor",
      "meaning": "A page cursor was not issued by this list with this sort, filter and recycle-bin setting.",
      "status": 400
    },
    {
      "code": "invalid_fields",
      "meaning": "`fields` names a field the object does not have.",
      "status": 400
    },
    {
      "code": "invalid_expand",
      "meaning": "`expand` names a field that is not a relation.",
      "status": 400
    },
    {
      "code": "invalid_batch_size",
      "meaning": "A batch create or update holds fewer than 1 or more than 1,000 records.",
      "status": 400
    },
    {
      "code": "invalid_if_match",
      "meaning": "`If-Match` is not a record version such as `\"3\"`.",
      "status": 400
    },
    {
      "code": "invalid_permissions",
      "meaning": "A role's permissions are not a map from object to allowed actions, or its name is unusable.",
      "status": 400
    },
    {
      "code": "unknown_role",
      "meaning": "A user is given a role that does not exist in the workspace.",
      "status": 400
    },
    {
      "code": "invalid_locale",
      "meaning": "The locale is neither `zh-CN` nor `en`.",
      "status": 400
    },
    {
      "code": "before_creation",
      "meaning": "A history restore names a time before the record existed.",
      "status": 400
    },
    {
      "code": "invalid_group_by",
      "meaning": "An aggregate groups by an unknown field or by one that cannot be grouped.",
      "status": 400
    },
    {
      "code": "invalid_metric",
      "meaning": "An aggregate metric is unknown or sums a field that cannot be summed.",
      "status": 400
    },
    {
      "code": "invalid_job",
      "meaning": "A job to enqueue has an unusable queue, kind, attempt limit or idempotency key.",
      "status": 400
    },
    {
      "code": "invalid_backup",
      "meaning": "`rapport restore`: the file is not a Rapport backup, or is damaged at the line named.",
      "status": 400
    },
    {
      "code": "invalid_limit",
      "meaning": "`limit` is outside its allowed range.",
      "status": 400
    },
    {
      "code": "unknown_event_type",
      "meaning": "A segment condition names an event type that is not registered; `details.path` says where.",
      "status": 400
    },
    {
      "code": "unknown_property",
      "meaning": "A segment condition names a property its event type's schema does not declare; `details.path` says where.",
      "status": 400
    },
    {
      "code": "invalid_window",
      "meaning": "A segment condition's time window is outside 1 minute to 366 days; `details.path` says where.",
      "status": 400
    },
    {
      "code": "invalid_count",
      "meaning": "A segment condition's count is not a whole number from 0 to 1,000, or compares with 0 so that the test is always true or always false; `details.path` says where.",
      "status": 400
    },
    {
      "code": "segment_matches_everything",
      "meaning": "A segment condition would match every customer; add at least one test.",
      "status": 400
    },
    {
      "code": "preview_too_expensive",
      "meaning": "A segment preview would take too long to count; save the segment and let it be evaluated.",
      "status": 400
    },
    {
      "code": "unauthenticated",
      "meaning": "No valid session cookie or API token was sent, or it has ended.",
      "status": 401
    },
    {
      "code": "invalid_signature",
      "meaning": "An inbound hook's request is not signed by its secret (Standard Webhooks: `webhook-id`, `webhook-timestamp` within 5 minutes, `webhook-signature`) or lacks its bearer token.",
      "status": 401
    },
    {
      "code": "invalid_credentials",
      "meaning": "Wrong email or password at login.",
      "status": 401
    },
    {
      "code": "missing_write_key",
      "meaning": "A tracking request carries no write key.",
      "status": 401
    },
    {
      "code": "invalid_write_key",
      "meaning": "The write key is unknown, or its source is archived.",
      "status": 401
    },
    {
      "code": "write_key_mismatch",
      "meaning": "The write keys in the Authorization header and in the body differ.",
      "status": 401
    },
    {
      "code": "invalid_authorization",
      "meaning": "A tracking request's Authorization header is not HTTP Basic with the write key as user.",
      "status": 401
    },
    {
      "code": "forbidden",
      "meaning": "Your role may not do this; the refusal is in the audit log.",
      "status": 403
    },
    {
      "code": "invalid_credentials",
      "meaning": "The current password given to change it is wrong.",
      "status": 403
    },
    {
      "code": "cross_site_request",
      "meaning": "A change sent with the session cookie came without `X-Requested-With` and not from Rapport's own pages.",
      "status": 403
    },
    {
      "code": "not_found",
      "meaning": "The path, or what it names, does not exist (or not in your workspace).",
      "status": 404
    },
    {
      "code": "method_not_allowed",
      "meaning": "The path exists but does not take this HTTP method.",
      "status": 405
    },
    {
      "code": "request_timeout",
      "meaning": "The request body did not arrive within the body timeout; the connection is closed.",
      "status": 408
    },
    {
      "code": "version_conflict",
      "meaning": "The record changed since the version you sent (`version` or `If-Match`).",
      "status": 409
    },
    {
      "code": "duplicate_value",
      "meaning": "Another record already holds this value of a unique field; the message starts with the field.",
      "status": 409
    },
    {
      "code": "duplicate_values_exist",
      "meaning": "A field cannot be made unique while records share a value of it.",
      "status": 409
    },
    {
      "code": "object_exists",
      "meaning": "An object with this API name exists (perhaps archived).",
      "status": 409
    },
    {
      "code": "field_exists",
      "meaning": "A field with this API name exists on the object (perhaps archived).",
      "status": 409
    },
    {
      "code": "archived",
      "meaning": "The object or field is archived; restore it first.",
      "status": 409
    },
    {
      "code": "not_archived",
      "meaning": "Only an archived object or field can be purged; archive it first.",
      "status": 409
    },
    {
      "code": "standard_object",
      "meaning": "Standard objects cannot be archived or purged.",
      "status": 409
    },
    {
      "code": "standard_field",
      "meaning": "Standard fields cannot be archived or purged.",
      "status": 409
    },
    {
      "code": "object_in_use",
      "meaning": "Relation fields of other objects point at this object.",
      "status": 409
    },
    {
      "code": "field_in_use",
      "meaning": "Formula fields read this field.",
      "status": 409
    },
    {
      "code": "name_field",
      "meaning": "An object's name field cannot be archived.",
      "status": 409
    },
    {
      "code": "type_change_unsupported",
      "meaning": "This change of a field's type or relation target is not supported.",
      "status": 409
    },
    {
      "code": "email_taken",
      "meaning": "A user with this email already exists.",
      "status": 409
    },
    {
      "code": "role_exists",
      "meaning": "A role with this name already exists.",
      "status": 409
    },
    {
      "code": "team_exists",
      "meaning": "A team with this name already exists.",
      "status": 409
    },
    {
      "code": "admin_role",
      "meaning": "The built-in admin role stays an administrator role.",
      "status": 409
    },
    {
      "code": "self_lockout",
      "meaning": "You cannot deactivate yourself or change your own role.",
      "status": 409
    },
    {
      "code": "merge_already_undone",
      "meaning": "This profile merge was already undone.",
      "status": 409
    },
    {
      "code": "too_many_segments",
      "meaning": "The workspace has as many segments as it may; archive some.",
      "status": 409
    },
    {
      "code": "segment_archived",
      "meaning": "The segment is archived.",
      "status": 409
    },
    {
      "code": "segment_not_ready",
      "meaning": "The segment is not live yet (still being evaluated).",
      "status": 409
    },
    {
      "code": "segment_building",
      "meaning": "The segment is being built by another node; try again shortly.",
      "status": 409
    },
    {
      "code": "too_many_tags",
      "meaning": "The customer has as many manual tags as they may.",
      "status": 409
    },
    {
      "code": "secret_key_mismatch",
      "meaning": "The connector's credentials were sealed under another secret key than this node's (`RAPPORT_SECRET_KEY`); set the same key on every node, or enter the credentials again.",
      "status": 409
    },
    {
      "code": "job_not_retryable",
      "meaning": "Only a failed or dead job can be retried.",
      "status": 409
    },
    {
      "code": "job_finished",
      "meaning": "The job has already finished, so it cannot be cancelled.",
      "status": 409
    },
    {
      "code": "job_not_discardable",
      "meaning": "Only a dead or cancelled job can be discarded.",
      "status": 409
    },
    {
      "code": "workspace_exists",
      "meaning": "`rapport restore`: the backup's workspace already exists in this database; restore into a fresh one.",
      "status": 409
    },
    {
      "code": "identity_race",
      "meaning": "Another node claimed one of the event's identifiers at the same moment; the write is tried again.",
      "status": 409
    },
    {
      "code": "contact_unverified",
      "meaning": "An event from an unverified client source names the email of an existing contact; the contact is not taken over.",
      "status": 409
    },
    {
      "code": "contact_taken",
      "meaning": "The contact with this email belongs to another customer profile.",
      "status": 409
    },
    {
      "code": "consumer_busy",
      "meaning": "`rapport outbox rewind`: a node holds this outbox consumer's lease now; try again in a minute.",
      "status": 409
    },
    {
      "code": "payload_too_large",
      "meaning": "The request body is larger than the server accepts (`RAPPORT_MAX_BODY_BYTES`).",
      "status": 413
    },
    {
      "code": "unsupported_media_type",
      "meaning": "The body was not sent as `Content-Type: application/json`.",
      "status": 415
    },
    {
      "code": "file_too_large",
      "meaning": "The uploaded file is larger than the attachment field takes (`max_size_mb`).",
      "status": 413
    },
    {
      "code": "file_type_not_allowed",
      "meaning": "The attachment field takes pictures only (PNG, JPEG, GIF or WebP, judged by content).",
      "status": 415
    },
    {
      "code": "invalid_upload",
      "meaning": "The upload is not `multipart/form-data` with one part named `file`.",
      "status": 400
    },
    {
      "code": "validation_failed",
      "meaning": "Record values do not fit their fields; `details.fields[]` has `field`, `code` and `message` for each.",
      "status": 422
    },
    {
      "code": "batch_validation_failed",
      "meaning": "Records of a batch failed validation and nothing was written; `details.records[]` has `index` and `errors`.",
      "status": 422
    },
    {
      "code": "invalid_api_name",
      "meaning": "An API name is not lower snake case (`[a-z][a-z0-9_]*`) or is too long.",
      "status": 422
    },
    {
      "code": "reserved_name",
      "meaning": "The name is a system column or otherwise reserved.",
      "status": 422
    },
    {
      "code": "invalid_label",
      "meaning": "A label is empty or longer than 200 characters in a language.",
      "status": 422
    },
    {
      "code": "invalid_field_config",
      "meaning": "A field setting does not apply to its type or is out of range.",
      "status": 422
    },
    {
      "code": "duplicate_field",
      "meaning": "A definition names the same field twice.",
      "status": 422
    },
    {
      "code": "invalid_name_field",
      "meaning": "The name field must be a text field of the object.",
      "status": 422
    },
    {
      "code": "invalid_layout",
      "meaning": "A page layout names a field the object does not have.",
      "status": 422
    },
    {
      "code": "unknown_target",
      "meaning": "A relation points at an object that does not exist.",
      "status": 422
    },
    {
      "code": "invalid_formula",
      "meaning": "A formula does not parse or does not type-check.",
      "status": 422
    },
    {
      "code": "too_many_fields",
      "meaning": "The object has 500 fields, archived ones included.",
      "status": 422
    },
    {
      "code": "weak_password",
      "meaning": "The new password is too short, too long, too repetitive or too common.",
      "status": 422
    },
    {
      "code": "invalid_email",
      "meaning": "A user's email is not an email address.",
      "status": 422
    },
    {
      "code": "invalid_name",
      "meaning": "A name is empty or too long.",
      "status": 422
    },
    {
      "code": "invalid_team",
      "meaning": "A team's members are not users of this workspace, appear twice or are too many.",
      "status": 422
    },
    {
      "code": "invalid_source",
      "meaning": "A source's name, kind, trust, schema policy or rate limit is not acceptable.",
      "status": 422
    },
    {
      "code": "invalid_settings",
      "meaning": "The identity settings are not acceptable (identifier types, mappings, limits).",
      "status": 422
    },
    {
      "code": "invalid_event_type",
      "meaning": "An event type name is empty, too long, unprintable or reserved.",
      "status": 422
    },
    {
      "code": "invalid_schema",
      "meaning": "A JSON Schema uses an unsupported keyword, does not compile or is too large.",
      "status": 422
    },
    {
      "code": "invalid_replay",
      "meaning": "A replay names neither 1 to 5,000 held event ids nor an event type.",
      "status": 422
    },
    {
      "code": "invalid_view",
      "meaning": "A saved view's name, column or group-by is not acceptable.",
      "status": 422
    },
    {
      "code": "invalid_tag",
      "meaning": "A tag is empty, longer than 50 characters or holds a comma.",
      "status": 422
    },
    {
      "code": "invalid_description",
      "meaning": "A description is longer than 2,000 characters.",
      "status": 422
    },
    {
      "code": "invalid_url",
      "meaning": "A webhook URL is not an absolute http(s) URL of acceptable length.",
      "status": 422
    },
    {
      "code": "url_not_allowed",
      "meaning": "Rapport does not call this address (loopback, private or reserved) unless the operator allows it.",
      "status": 422
    },
    {
      "code": "invalid_webhook",
      "meaning": "A webhook endpoint names an unknown topic, no topic, too many objects, or a description over 500 characters; or the workspace has 50 endpoints already.",
      "status": 422
    },
    {
      "code": "invalid_connector",
      "meaning": "A connector's name, kind or settings are not acceptable (an unknown setting, a missing required one, a value of the wrong shape), or the workspace has 50 connectors already.",
      "status": 422
    },
    {
      "code": "invalid_message",
      "meaning": "A message does not fit its connector: no recipient, no subject for an email, no provider template for an SMS, no text for a chat robot, or too large.",
      "status": 422
    },
    {
      "code": "invalid_inbound_hook",
      "meaning": "An inbound hook names an unknown object or field, maps no field or a source that is not a JSON pointer, has a match field that is not a mapped text, email or phone field, changes its auth in place, or the workspace has 50 hooks already.",
      "status": 422
    },
    {
      "code": "invalid_payload",
      "meaning": "An inbound hook's payload is not an object or an array of 1 to 100 objects, an item has none of the mapped fields or no value for the match field, or it is over 1 MB; it is kept in the hook's log.",
      "status": 422
    },
    {
      "code": "invalid_value_map",
      "meaning": "A semantic-dictionary mapping names an unknown object or field, a field that is not single-select or text, a value that is not one of its options, a value or code twice, or the system already maps this field.",
      "status": 422
    },
    {
      "code": "unmapped_value",
      "meaning": "The value has no mapping in the semantic dictionary for this system and field; it was refused and recorded, not passed through.",
      "status": 422
    },
    {
      "code": "invalid_link",
      "meaning": "The link was not made by this Rapport (its signature does not match).",
      "status": 400
    },
    {
      "code": "different_segments",
      "meaning": "Only snapshots of the same segment can be compared.",
      "status": 422
    },
    {
      "code": "too_many_attempts",
      "meaning": "Too many failed logins from this client; try again later (`Retry-After`).",
      "status": 429
    },
    {
      "code": "rate_limited",
      "meaning": "The source is over its events-per-second rate; retry after `Retry-After` seconds.",
      "status": 429
    },
    {
      "code": "internal_error",
      "meaning": "Something went wrong on the server's side; it is logged with the request id.",
      "status": 500
    },
    {
      "code": "identity_loop",
      "meaning": "A customer's merge chain does not end: the identity graph is damaged.",
      "status": 500
    },
    {
      "code": "database_unavailable",
      "meaning": "The database does not answer.",
      "status": 503
    },
    {
      "code": "ingest_overloaded",
      "meaning": "Ingestion is saturated or the database cannot be reached; retry after `Retry-After` seconds.",
      "status": 503
    },
    {
      "code": "server_busy",
      "meaning": "Too many password checks are running at once; retry after `Retry-After` seconds.",
      "status": 503
    }
  ],
  "events": [
    {
      "code": "missing_identity",
      "meaning": "No usable `userId` or `anonymousId` (empty, or a blocked value such as `\"null\"`, `0` or the zero UUID)."
    },
    {
      "code": "missing_event",
      "meaning": "A `track` call without `event`."
    },
    {
      "code": "missing_group_id",
      "meaning": "A `group` call without `groupId`."
    },
    {
      "code": "missing_previous_id",
      "meaning": "An `alias` call without a usable `previousId`."
    },
    {
      "code": "invalid_type",
      "meaning": "The call's `type` is not identify, track, page, screen, group or alias."
    },
    {
      "code": "invalid_field",
      "meaning": "A known field has the wrong JSON type."
    },
    {
      "code": "invalid_event",
      "meaning": "The call is not a JSON object."
    },
    {
      "code": "invalid_timestamp",
      "meaning": "A timestamp is not an ISO 8601 date-time."
    },
    {
      "code": "timestamp_in_future",
      "meaning": "The timestamp is more than an hour ahead."
    },
    {
      "code": "timestamp_too_old",
      "meaning": "The timestamp is before the year 2000."
    },
    {
      "code": "event_too_large",
      "meaning": "The call is larger than 32 KB."
    },
    {
      "code": "nesting_too_deep",
      "meaning": "The call nests more than 32 levels."
    },
    {
      "code": "value_too_long",
      "meaning": "An id is longer than 255 characters."
    },
    {
      "code": "invalid_utf8",
      "meaning": "The call is not valid UTF-8."
    },
    {
      "code": "nul_character",
      "meaning": "A key or string holds a NUL character (`\\u0000`)."
    },
    {
      "code": "too_many_identifiers",
      "meaning": "The call names more than 20 identifiers."
    },
    {
      "code": "event_not_stored",
      "meaning": "The event alone failed to store; the failure is logged for the operators."
    },
    {
      "code": "unregistered_event_type",
      "meaning": "The event type is not registered in the schema registry."
    },
    {
      "code": "unregistered_property",
      "meaning": "The event has properties its registered schema does not declare."
    },
    {
      "code": "schema_violation",
      "meaning": "The event does not fit its registered schema."
    }
  ],
  "fields": [
    {
      "code": "unknown_field",
      "meaning": "The object has no such field."
    },
    {
      "code": "read_only_field",
      "meaning": "The field is computed or maintained by the system and cannot be written."
    },
    {
      "code": "required",
      "meaning": "The field is required and has no value."
    },
    {
      "code": "invalid_type",
      "meaning": "The value is not of the field's kind (a number for text, a list for a single value, …)."
    },
    {
      "code": "invalid_value",
      "meaning": "The text holds a NUL character (`\\u0000`), which cannot be stored."
    },
    {
      "code": "invalid_number",
      "meaning": "Not a number at the field's scale, or out of the 64-bit range."
    },
    {
      "code": "invalid_currency",
      "meaning": "Not an amount with a three-letter currency code."
    },
    {
      "code": "invalid_date",
      "meaning": "Not a date `YYYY-MM-DD` from 0001-01-01 to 9999-12-31."
    },
    {
      "code": "invalid_datetime",
      "meaning": "Not an RFC 3339 date-time."
    },
    {
      "code": "invalid_email",
      "meaning": "Not an email address."
    },
    {
      "code": "invalid_phone",
      "meaning": "Not a phone number (read in the field's default region)."
    },
    {
      "code": "invalid_url",
      "meaning": "Not an http(s) URL."
    },
    {
      "code": "invalid_option",
      "meaning": "Not one of the field's options."
    },
    {
      "code": "too_long",
      "meaning": "Longer than the field's maximum length."
    },
    {
      "code": "too_short",
      "meaning": "Shorter than the field's minimum length."
    },
    {
      "code": "pattern_mismatch",
      "meaning": "Does not match the field's pattern."
    },
    {
      "code": "out_of_range",
      "meaning": "Below the field's minimum or above its maximum (or outside the years 0001–9999 in UTC)."
    },
    {
      "code": "too_many_values",
      "meaning": "A multi-select holds more values than allowed."
    },
    {
      "code": "unknown_reference",
      "meaning": "A relation names a record that does not exist."
    },
    {
      "code": "unknown_user",
      "meaning": "A user field names a user that does not exist in the workspace."
    },
    {
      "code": "unknown_region",
      "meaning": "An address names a region code that is not in the national region list."
    },
    {
      "code": "unknown_file",
      "meaning": "An attachment names a file that was not uploaded for this field."
    },
    {
      "code": "duplicate_value",
      "meaning": "Another record already holds this value of a unique field."
    },
    {
      "code": "record_not_found",
      "meaning": "A batch update names a record (field `id`) that does not exist."
    }
  ],
  "warnings": [
    {
      "code": "merge_refused_user_ids",
      "meaning": "Two profiles were not merged because they carry different user ids."
    },
    {
      "code": "merge_refused_identifier_limit",
      "meaning": "An identifier has already caused `max_merges_per_identifier` merges; no more."
    },
    {
      "code": "merge_refused_too_many_customers",
      "meaning": "One event named more than five customers; none were merged."
    },
    {
      "code": "contact_sync_failed",
      "meaning": "A profile's contact could not be created or updated in the CRM."
    },
    {
      "code": "company_sync_failed",
      "meaning": "A group's company could not be created or updated in the CRM."
    },
    {
      "code": "contact_unverified",
      "meaning": "An email from an unverified client source was not used to link an existing contact."
    }
  ]
} as const;

export type ErrorCode = (typeof catalogue.errors)[number]['code'];
export type FieldCode = (typeof catalogue.fields)[number]['code'];
export type EventCode = (typeof catalogue.events)[number]['code'];
export type WarningCode = (typeof catalogue.warnings)[number]['code'];
