-- The customer data platform's tables on PostgreSQL. Times of events are epoch milliseconds.

-- A channel that sends events (app, web, POS, WeCom, ...) with its own write key.
CREATE TABLE cdp_sources (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    write_key TEXT NOT NULL UNIQUE,
    schema_policy TEXT NOT NULL,
    rate_limit BIGINT,
    created_at TIMESTAMPTZ NOT NULL,
    archived_at TIMESTAMPTZ
);
CREATE INDEX cdp_sources_workspace ON cdp_sources (workspace_id);

-- Per workspace: identifier types and merge rules, trait mappings, guard limits.
CREATE TABLE cdp_settings (
    workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id),
    settings JSONB NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- One customer. A merged profile points at the profile it was merged into.
CREATE TABLE cdp_profiles (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    merged_into TEXT,
    contact_id TEXT,
    company_id TEXT,
    traits JSONB NOT NULL DEFAULT '{}',
    first_seen BIGINT NOT NULL,
    traits_updated_at BIGINT
);
CREATE INDEX cdp_profiles_merged ON cdp_profiles (merged_into) WHERE merged_into IS NOT NULL;
CREATE INDEX cdp_profiles_contact ON cdp_profiles (workspace_id, contact_id) WHERE contact_id IS NOT NULL;
CREATE INDEX cdp_profiles_workspace ON cdp_profiles (workspace_id, id);

-- Identifier → the profile that first carried it. Never moves (merges link profiles instead).
CREATE TABLE cdp_identities (
    workspace_id TEXT NOT NULL,
    id_type TEXT NOT NULL,
    id_value TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    first_seen BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id_type, id_value)
);
CREATE INDEX cdp_identities_profile ON cdp_identities (profile_id);

-- Every merge, with its cause; an unmerge sets undone_at.
CREATE TABLE cdp_merges (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    survivor_id TEXT NOT NULL,
    absorbed_id TEXT NOT NULL,
    cause_type TEXT NOT NULL,
    cause_value TEXT NOT NULL,
    source_id TEXT,
    message_id TEXT,
    merged_at BIGINT NOT NULL,
    undone_at BIGINT,
    undone_by TEXT
);
CREATE INDEX cdp_merges_workspace ON cdp_merges (workspace_id, merged_at);
CREATE INDEX cdp_merges_cause ON cdp_merges (workspace_id, cause_type, cause_value);
CREATE INDEX cdp_merges_profiles ON cdp_merges (survivor_id);
CREATE INDEX cdp_merges_absorbed ON cdp_merges (absorbed_id);

-- Accepted events, append-only. `profile_id` is the profile owning the event's main identifier.
CREATE TABLE cdp_events (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    source_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT,
    profile_id TEXT NOT NULL,
    user_id TEXT,
    anonymous_id TEXT,
    ts BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    body JSONB NOT NULL
);
CREATE UNIQUE INDEX cdp_events_message ON cdp_events (source_id, message_id);
CREATE INDEX cdp_events_profile ON cdp_events (profile_id, ts);

-- Events that did not fit: quarantined (replayable) or rejected (kept for inspection).
CREATE TABLE cdp_held (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    source_id TEXT NOT NULL,
    disposition TEXT NOT NULL,
    reason_code TEXT NOT NULL,
    reason TEXT NOT NULL,
    kind TEXT,
    name TEXT,
    message_id TEXT,
    payload JSONB NOT NULL,
    received_at BIGINT NOT NULL,
    replayed_at BIGINT
);
CREATE INDEX cdp_held_source ON cdp_held (workspace_id, source_id, received_at);
CREATE INDEX cdp_held_name ON cdp_held (workspace_id, name);

-- The schema registry: one JSON Schema per event type (`$identify`, `$page`, ... for built-ins).
CREATE TABLE cdp_event_types (
    workspace_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    schema JSONB NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, name)
);

-- Data health per source and minute.
CREATE TABLE cdp_health (
    source_id TEXT NOT NULL,
    minute BIGINT NOT NULL,
    workspace_id TEXT NOT NULL,
    received BIGINT NOT NULL DEFAULT 0,
    accepted BIGINT NOT NULL DEFAULT 0,
    rejected BIGINT NOT NULL DEFAULT 0,
    quarantined BIGINT NOT NULL DEFAULT 0,
    duplicates BIGINT NOT NULL DEFAULT 0,
    merge_refused BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (source_id, minute)
);
-- Ingestion delay (received − event time) per source and minute, counted in fixed buckets.
CREATE TABLE cdp_health_delay (
    source_id TEXT NOT NULL,
    minute BIGINT NOT NULL,
    bucket BIGINT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (source_id, minute, bucket)
);
CREATE TABLE cdp_health_reasons (
    source_id TEXT NOT NULL,
    minute BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (source_id, minute, outcome, reason)
);
-- Data-health warnings that name a profile or identifier (merge-guard refusals).
CREATE TABLE cdp_warnings (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    source_id TEXT,
    at BIGINT NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    details JSONB NOT NULL
);
CREATE INDEX cdp_warnings_workspace ON cdp_warnings (workspace_id, id);

-- Work that follows an event commit: syncing traits into CRM contacts and companies.
CREATE TABLE cdp_sync_queue (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload JSONB NOT NULL,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    leased_until BIGINT NOT NULL DEFAULT 0,
    last_error TEXT
);

-- A `group` call's groupId → the CRM company it maps to.
CREATE TABLE cdp_groups (
    workspace_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    PRIMARY KEY (workspace_id, group_id)
);

-- How far each outbox consumer has read.
CREATE TABLE outbox_cursors (
    consumer TEXT PRIMARY KEY,
    position BIGINT NOT NULL,
    leased_until BIGINT NOT NULL DEFAULT 0
);
