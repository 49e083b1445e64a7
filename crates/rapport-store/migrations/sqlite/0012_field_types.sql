-- Auto-numbers and attachments on SQLite. A counter per auto-number field and period (the
-- date part of its format: "2026" for HT-{YYYY}-{0000}) holds the last number given, bumped
-- inside the write transaction that creates the record. Attachment files are kept here, with
-- their content, so a backup and every node see the same files.
CREATE TABLE auto_number_counters (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    object TEXT NOT NULL,
    field TEXT NOT NULL,
    period TEXT NOT NULL,
    last_value INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, object, field, period)
);
CREATE TABLE files (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    object TEXT NOT NULL,
    field TEXT NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    content BLOB NOT NULL,
    uploaded_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    -- The record that first took the file; NULL while it is only uploaded.
    record_id TEXT
);
CREATE INDEX files_unattached ON files (created_at) WHERE record_id IS NULL;
