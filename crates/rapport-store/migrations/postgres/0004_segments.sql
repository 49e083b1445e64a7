-- Segments on PostgreSQL: definitions and their immutable versions, behaviour counters kept by the
-- group commit, current membership with its entry / exit history, window-expiry timers,
-- snapshots, manual tags and the webhook signing secret. Times are epoch milliseconds.

CREATE TABLE cdp_segments (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    tag TEXT,
    version BIGINT NOT NULL,
    definition TEXT NOT NULL,
    state TEXT NOT NULL,
    member_count BIGINT NOT NULL DEFAULT 0,
    evaluated_at BIGINT,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    archived_at BIGINT
);
CREATE INDEX cdp_segments_workspace ON cdp_segments (workspace_id, created_at);

CREATE TABLE cdp_segment_versions (
    segment_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    definition TEXT NOT NULL,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (segment_id, version)
);

-- One counter per distinct behaviour (event, property filters, absolute window, depth).
CREATE TABLE cdp_behavior_keys (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    signature TEXT NOT NULL,
    spec TEXT NOT NULL,
    event TEXT NOT NULL,
    ready BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    UNIQUE (workspace_id, signature)
);

-- Per (behaviour, profile): how many matching events, the newest `depth` of their times
-- (comma-separated epoch ms, newest first) and the newest alone (`latest`, 0 when none), which
-- lets a full evaluation read only the counters with an event inside its window. The profile is
-- the event's own profile.
CREATE TABLE cdp_behavior_counts (
    key_id TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    total BIGINT NOT NULL,
    recent TEXT NOT NULL,
    latest BIGINT NOT NULL,
    PRIMARY KEY (key_id, profile_id)
);
CREATE INDEX cdp_behavior_counts_latest ON cdp_behavior_counts (key_id, latest, profile_id);

CREATE TABLE cdp_segment_members (
    segment_id TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    entered_at BIGINT NOT NULL,
    PRIMARY KEY (segment_id, profile_id)
);
CREATE INDEX cdp_segment_members_profile ON cdp_segment_members (profile_id);

CREATE TABLE cdp_segment_changes (
    seq BIGSERIAL PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    segment_id TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    change TEXT NOT NULL,
    at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    cause TEXT NOT NULL
);
CREATE INDEX cdp_segment_changes_segment ON cdp_segment_changes (segment_id, seq);
CREATE INDEX cdp_segment_changes_profile ON cdp_segment_changes (profile_id, seq);

CREATE TABLE cdp_segment_timers (
    segment_id TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    PRIMARY KEY (segment_id, profile_id)
);
CREATE INDEX cdp_segment_timers_due ON cdp_segment_timers (due_at);

CREATE TABLE cdp_snapshots (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    segment_id TEXT NOT NULL,
    name TEXT NOT NULL,
    version BIGINT NOT NULL,
    definition TEXT NOT NULL,
    taken_at BIGINT NOT NULL,
    member_count BIGINT NOT NULL,
    created_by TEXT
);
CREATE INDEX cdp_snapshots_segment ON cdp_snapshots (segment_id, taken_at);

CREATE TABLE cdp_snapshot_members (
    snapshot_id TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    contact_id TEXT,
    user_id TEXT,
    email TEXT,
    phone TEXT,
    entered_at BIGINT NOT NULL,
    PRIMARY KEY (snapshot_id, profile_id)
);

CREATE TABLE cdp_tags (
    workspace_id TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    tag TEXT NOT NULL,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, profile_id, tag)
);

CREATE TABLE cdp_signing_secrets (
    workspace_id TEXT PRIMARY KEY,
    secret TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Backfilling a behaviour reads its event type only.
CREATE INDEX cdp_events_name ON cdp_events (workspace_id, name, ts);
