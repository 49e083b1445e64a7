-- Failing webhook endpoints on PostgreSQL: when the current run of failed attempts began (NULL
-- after a success), and why an endpoint was switched off by Rapport rather than an admin.
ALTER TABLE webhook_endpoints ADD COLUMN failing_since TIMESTAMPTZ;
ALTER TABLE webhook_endpoints ADD COLUMN disabled_reason TEXT;
