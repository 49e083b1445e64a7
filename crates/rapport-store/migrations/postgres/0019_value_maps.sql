-- The semantic dictionary on PostgreSQL (rapport-integrations). A value map: one outside system's
-- codes for one field's values (`entries`: [{crm_value, external_code}], one-to-one). An
-- unmapped value: met in traffic without a mapping, counted per direction and value.
CREATE TABLE value_maps (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    system TEXT NOT NULL,
    object TEXT NOT NULL,
    field TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    entries JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (workspace_id, system, object, field)
);
CREATE TABLE value_map_unmapped (
    map_id TEXT NOT NULL,
    direction TEXT NOT NULL,
    value TEXT NOT NULL,
    count BIGINT NOT NULL,
    first_seen TIMESTAMPTZ NOT NULL,
    last_seen TIMESTAMPTZ NOT NULL,
    last_context TEXT NOT NULL,
    PRIMARY KEY (map_id, direction, value)
);
