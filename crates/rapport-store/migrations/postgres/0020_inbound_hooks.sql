-- Inbound webhooks on PostgreSQL (rapport-integrations). A hook: where an outside system posts,
-- the object its items become records of, the field that finds an existing record, the
-- mapping (field → JSON pointer, optionally `| map:<system>`) and its secret, sealed with the
-- node's key. A delivery: one request, accepted (with the records written) or rejected (with
-- its code, the payload kept for inspection unless the sender was not verified).
CREATE TABLE inbound_hooks (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    object TEXT NOT NULL,
    auth TEXT NOT NULL,
    match_field TEXT,
    mapping JSONB NOT NULL,
    enabled BOOLEAN NOT NULL,
    secret TEXT NOT NULL,
    last_received_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE inbound_deliveries (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    hook_id TEXT NOT NULL,
    message_id TEXT,
    received_at TIMESTAMPTZ NOT NULL,
    state TEXT NOT NULL,
    code TEXT,
    error TEXT,
    payload TEXT NOT NULL,
    records JSONB NOT NULL
);
CREATE INDEX inbound_deliveries_hook ON inbound_deliveries (hook_id, received_at);
CREATE INDEX inbound_deliveries_message ON inbound_deliveries (hook_id, message_id);
