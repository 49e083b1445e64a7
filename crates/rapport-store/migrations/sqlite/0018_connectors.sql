-- Connectors on SQLite (rapport-integrations). A connector: a workspace's way of reaching an
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
    settings TEXT NOT NULL,
    secrets TEXT NOT NULL DEFAULT '',
    secret_names TEXT NOT NULL DEFAULT '[]',
    enabled INTEGER NOT NULL,
    last_sent_at TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (workspace_id, name)
);
CREATE TABLE connector_messages (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    connector_id TEXT NOT NULL,
    test INTEGER NOT NULL,
    message TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    request TEXT NOT NULL,
    status INTEGER,
    response TEXT NOT NULL,
    error TEXT,
    latency_ms INTEGER,
    created_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX connector_messages_connector ON connector_messages (connector_id, created_at);
CREATE TABLE email_unsubscribes (
    workspace_id TEXT NOT NULL,
    address TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (workspace_id, address)
);
