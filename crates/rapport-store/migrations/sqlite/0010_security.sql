-- Failed logins per client address and account (email), counted in windows that start at the
-- first failure; the login throttle reads them instead of the audit log, and the audit log
-- keeps one entry per window instead of one per attempt.
CREATE TABLE login_failures (
    client TEXT NOT NULL,
    email TEXT NOT NULL,
    window_start TEXT NOT NULL,
    failures INTEGER NOT NULL,
    PRIMARY KEY (client, email)
);
CREATE INDEX login_failures_window ON login_failures (window_start);
