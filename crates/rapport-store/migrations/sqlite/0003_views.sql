-- Saved views on SQLite: named list or kanban views of an object, private to their owner or
-- shared with the workspace. `definition` is JSON: columns, filter (a condition), sort, group_by.
CREATE TABLE saved_views (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    object TEXT NOT NULL,
    owner_id TEXT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    shared INTEGER NOT NULL DEFAULT 0,
    definition TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX saved_views_object ON saved_views (workspace_id, object, owner_id);
