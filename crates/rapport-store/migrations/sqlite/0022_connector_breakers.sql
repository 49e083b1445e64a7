-- A circuit breaker per connector (rapport-integrations): temporary failures in a row, and
-- until when queued sends are put off (set while open, or while a probe is under way).
ALTER TABLE connectors ADD COLUMN breaker_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE connectors ADD COLUMN breaker_open_until TEXT;
