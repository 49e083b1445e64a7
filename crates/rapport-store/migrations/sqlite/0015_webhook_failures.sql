-- Failing webhook endpoints on SQLite: when the current run of failed attempts began (NULL
-- after a success), and why an endpoint was switched off by Rapport rather than an admin.
ALTER TABLE webhook_endpoints ADD COLUMN failing_since TEXT;
ALTER TABLE webhook_endpoints ADD COLUMN disabled_reason TEXT;
