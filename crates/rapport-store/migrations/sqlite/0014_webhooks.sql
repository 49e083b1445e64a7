-- Outbound webhooks on SQLite (rapport-integrations). An endpoint: where a workspace's changes
-- go and the secret that signs them (the previous one keeps signing until `previous_until`
-- during a rotation). A message: one change for one endpoint, its id the `webhook-id` of every
-- attempt. An attempt: one POST and what came back, for the delivery log.
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    url TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    topics TEXT NOT NULL,
    objects TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_until TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX webhook_endpoints_workspace ON webhook_endpoints (workspace_id, created_at);
CREATE TABLE webhook_messages (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_status INTEGER,
    created_at TEXT NOT NULL
);
CREATE INDEX webhook_messages_endpoint ON webhook_messages (endpoint_id, created_at);
CREATE TABLE webhook_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL,
    workspace_id TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    at TEXT NOT NULL,
    status INTEGER,
    response TEXT NOT NULL,
    error TEXT,
    latency_ms INTEGER NOT NULL
);
CREATE INDEX webhook_attempts_message ON webhook_attempts (message_id, id);
