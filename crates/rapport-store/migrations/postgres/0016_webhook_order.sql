-- Webhook endpoints that keep their messages in order (on PostgreSQL): a message of such an
-- endpoint waits (state `waiting`) while an older one is queued, and is queued when it is done.
ALTER TABLE webhook_endpoints ADD COLUMN ordered BOOLEAN NOT NULL DEFAULT FALSE;
