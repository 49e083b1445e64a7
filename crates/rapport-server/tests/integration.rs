//! Rapport's HTTP integration tests: one binary, every test against a real server on a loopback
//! port, on SQLite and on PostgreSQL (`RAPPORT_TEST_DATABASE_URL`, set by `make test`).

// Test code: a failed expectation is a panic by design (clippy's allow-*-in-tests only covers
// `#[test]` functions, not the async bodies and helpers they call).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "integration/harness.rs"]
mod harness;

#[path = "integration/aggregate.rs"]
mod aggregate;
#[path = "integration/auth.rs"]
mod auth;
#[path = "integration/cdp.rs"]
mod cdp;
#[path = "integration/concurrency.rs"]
mod concurrency;
#[path = "integration/connectors.rs"]
mod connectors;
#[path = "integration/denials.rs"]
mod denials;
#[path = "integration/edges.rs"]
mod edges;
#[path = "integration/fieldtypes.rs"]
mod fieldtypes;
#[path = "integration/history.rs"]
mod history;
#[path = "integration/inbound.rs"]
mod inbound;
#[path = "integration/ingest_safety.rs"]
mod ingest_safety;
#[path = "integration/input.rs"]
mod input;
#[path = "integration/isolation.rs"]
mod isolation;
#[path = "integration/jobs.rs"]
mod jobs;
#[path = "integration/kernel.rs"]
mod kernel;
#[path = "integration/lists.rs"]
mod lists;
#[path = "integration/metadata.rs"]
mod metadata;
#[path = "integration/records.rs"]
mod records;
#[path = "integration/restart.rs"]
mod restart;
#[path = "integration/search.rs"]
mod search;
#[path = "integration/security.rs"]
mod security;
#[path = "integration/segments.rs"]
mod segments;
#[path = "integration/snapshots.rs"]
mod snapshots;
#[path = "integration/system.rs"]
mod system;
#[path = "integration/teams.rs"]
mod teams;
#[path = "integration/views.rs"]
mod views;
#[path = "integration/webhooks.rs"]
mod webhooks;
