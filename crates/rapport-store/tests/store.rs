//! The store crate's integration tests, in one binary: the real store on SQLite (always) and on
//! PostgreSQL (when `RAPPORT_TEST_DATABASE_URL` is set; each run creates and drops its own
//! database there).

// `cfg(test)` (always true here) marks the helpers as test code for clippy's
// allow-{unwrap,expect,panic}-in-tests settings.
#[cfg(test)]
mod store {
    mod backup;
    mod basics;
    mod condition_agreement;
    mod hooks;
    mod jobs;
    mod outbox;
    mod rows;
    mod support;
}
