-- Connectors on PostgreSQL (rapport-integrations). A connector: a workspace's way of reaching an
-- outside system (SMTP, an SMS provider, a chat robot, an HTTP API); `settings` are its plain
-- settings, `secrets` its credentials sealed with the node's key (`secret_names` says which
-- are stored). A connector message: one send and how it ended, for the log. An unsubscribe:
-- an address that asked for no more marketing email from the workspace.
CREATE TABLE connectors (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    settings JSONB NOT NULL,
    secrets TEXT NOT NULL DEFAULT '',
    secret_names JSONB NOT NULL DEFAULT '[]',
    enabled BOOLEAN NOT NULL,
    last_sent_at TIMESTAMPTZ,
    last_error TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (workspace_id, name)
);
CREATE TABLE connector_messages (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    connector_id TEXT NOT NULL,
    test BOOLEAN NOT NULL,
    message JSONB NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    request TEXT NOT NULL,
    status BIGINT,
    response TEXT NOT NULL,
    error TEXT,
    latency_ms BIGINT,
    created_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ
);
CREATE INDEX connector_messages_connector ON connector_messages (connector_id, created_at);
CREATE TABLE email_unsubscribes (
    workspace_id TEXT NOT NULL,
    address TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, address)
);
