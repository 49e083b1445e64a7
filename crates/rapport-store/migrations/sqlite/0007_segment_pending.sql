-- Customers whose segment membership must be judged again, written by the group commit in the
-- transaction that stores their events (so a crash loses none) and drained by the segments'
-- pending worker on any node. One row per profile (a second event before the judgement adds
-- nothing); a worker leases rows with a token, and a newer event clears the lease so the
-- profile is judged again.
CREATE TABLE cdp_segment_pending (
    workspace_id TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    queued_at INTEGER NOT NULL,
    leased_until INTEGER NOT NULL DEFAULT 0,
    lease TEXT,
    PRIMARY KEY (workspace_id, profile_id)
);
CREATE INDEX cdp_segment_pending_lease ON cdp_segment_pending (leased_until);

-- Who builds a segment (fills its counters and evaluates it): one node at a time.
ALTER TABLE cdp_segments ADD COLUMN build_leased_until INTEGER NOT NULL DEFAULT 0;
