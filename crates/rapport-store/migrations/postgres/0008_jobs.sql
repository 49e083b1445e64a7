-- Durable jobs (rapport_store::jobs): one queue in the database, enqueued inside the business
-- transaction that needs the work, claimed with leases (FOR UPDATE SKIP LOCKED), retried with
-- backoff, dead-lettered after max_attempts. Times are epoch milliseconds of the store's clock.
CREATE TABLE jobs (
    id TEXT COLLATE "C" PRIMARY KEY,
    -- NULL for system jobs (no workspace's business; never shown through a workspace's API).
    workspace_id TEXT,
    queue TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload JSONB NOT NULL,
    -- pending | running | failed (waiting for its retry) | done | dead | cancelled
    state TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    run_at BIGINT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    idempotency_key TEXT,
    lease_owner TEXT,
    leased_until BIGINT,
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT
);
-- Claims: the ready jobs of a queue, most urgent first.
CREATE INDEX jobs_ready ON jobs (queue, priority DESC, run_at, id) WHERE state IN ('pending', 'failed');
-- Leases that ran out (their node died).
CREATE INDEX jobs_leases ON jobs (leased_until) WHERE state = 'running';
-- An idempotency key names one job per queue for as long as the job is kept.
CREATE UNIQUE INDEX jobs_idempotency ON jobs (queue, idempotency_key) WHERE idempotency_key IS NOT NULL;
-- Admin lists (newest first) and counts.
CREATE INDEX jobs_workspace ON jobs (workspace_id, id);
CREATE INDEX jobs_workspace_state ON jobs (workspace_id, state, id);
-- Pruning of finished jobs past their retention.
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE state IN ('done', 'cancelled');

-- Every attempt that did not succeed (failed, lost with its node, cancelled); the successful
-- one is the job's own started_at / finished_at.
CREATE TABLE job_attempts (
    job_id TEXT COLLATE "C" NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    node TEXT,
    started_at BIGINT,
    finished_at BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    error TEXT,
    PRIMARY KEY (job_id, attempt)
);
