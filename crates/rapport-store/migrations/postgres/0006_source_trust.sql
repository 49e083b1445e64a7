-- How far a source's events may speak for a person (docs/SECURITY.md): client sources (web, app,
-- mini-program: public write keys) link profiles only by their own ids and fill empty CRM fields
-- only, unless an event carries a valid identity verification (HMAC of its userId under the
-- source's verification secret). Existing sources of those kinds become client sources.
ALTER TABLE cdp_sources ADD COLUMN trust TEXT NOT NULL DEFAULT 'server';
UPDATE cdp_sources SET trust = 'client' WHERE kind IN ('app', 'web', 'mini_program');
ALTER TABLE cdp_sources ADD COLUMN verification_secret TEXT;

-- A queued CRM sync remembers its source and whether its event was trusted.
ALTER TABLE cdp_sync_queue ADD COLUMN source_id TEXT;
ALTER TABLE cdp_sync_queue ADD COLUMN trusted BOOLEAN NOT NULL DEFAULT TRUE;
