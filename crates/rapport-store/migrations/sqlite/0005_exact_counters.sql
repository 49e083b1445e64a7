-- Behaviour counters counted exactly once (docs/SEGMENTS.md, "Counting exactly once"): each key
-- keeps the cutoff fixed when it became visible, and its backfill's progress.
ALTER TABLE cdp_behavior_keys ADD COLUMN cutoff_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE cdp_behavior_keys ADD COLUMN filled_to TEXT NOT NULL DEFAULT '';

-- The repair: counters kept before this version could hold an event twice (a key created while
-- events arrived). Every key counts again from the stored events, and its segments rebuild
-- (the engine resumes segments in `building` when it starts).
DELETE FROM cdp_behavior_counts;
UPDATE cdp_behavior_keys SET ready = FALSE, filled_to = '',
    cutoff_seq = (SELECT COALESCE(MAX(seq), 0) FROM cdp_events);
UPDATE cdp_segments SET state = 'building' WHERE state = 'live' AND archived_at IS NULL;
