-- Webhook endpoints that keep their messages in order (on SQLite): a message of such an
-- endpoint waits (state `waiting`) while an older one is queued, and is queued when it is done.
ALTER TABLE webhook_endpoints ADD COLUMN ordered INTEGER NOT NULL DEFAULT 0;
