-- Circuit breakers of webhook endpoints on PostgreSQL. Per endpoint: how long an attempt waits,
-- the breaker's settings (JSON: timeouts, failure_percent, window, cooldown_seconds,
-- drain_per_second) and its state — closed, open (messages are parked, not attempted, until a
-- probe is due) or half_open (one probe is under way) — with the run of consecutive timeouts,
-- the latest outcomes (`o` answered, `x` failed, oldest first), the current cool-down and when
-- the next probe is due; and the last error, for the health map. A parked message waits for the
-- breaker to close (state `parked`).
ALTER TABLE webhook_endpoints ADD COLUMN timeout_seconds BIGINT NOT NULL DEFAULT 15;
ALTER TABLE webhook_endpoints ADD COLUMN breaker JSONB NOT NULL DEFAULT '{}';
ALTER TABLE webhook_endpoints ADD COLUMN breaker_state TEXT NOT NULL DEFAULT 'closed';
ALTER TABLE webhook_endpoints ADD COLUMN breaker_timeouts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE webhook_endpoints ADD COLUMN breaker_recent TEXT NOT NULL DEFAULT '';
ALTER TABLE webhook_endpoints ADD COLUMN breaker_cooldown BIGINT NOT NULL DEFAULT 0;
ALTER TABLE webhook_endpoints ADD COLUMN breaker_opened_at TIMESTAMPTZ;
ALTER TABLE webhook_endpoints ADD COLUMN breaker_probe_at TIMESTAMPTZ;
ALTER TABLE webhook_endpoints ADD COLUMN last_error TEXT;
ALTER TABLE webhook_endpoints ADD COLUMN last_error_at TIMESTAMPTZ;
CREATE INDEX webhook_messages_state ON webhook_messages (endpoint_id, state, created_at, id);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, at);
