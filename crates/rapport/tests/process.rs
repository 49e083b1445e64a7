//! Tests of the real `rapport` binary run as child processes: crash durability under kill -9
//! (`crash`) and exact behaviour counting while segments are created during ingestion, on one
//! node or two over one PostgreSQL database (`counting`); job runners killed mid-work (`jobs`).

// Test code: a failed expectation is a panic by design (clippy's allow-*-in-tests only covers
// `#[test]` functions, not the async bodies and helpers they call).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "process/server.rs"]
mod server;

#[path = "process/counting.rs"]
mod counting;
#[path = "process/crash.rs"]
mod crash;
#[path = "process/jobs.rs"]
mod jobs;
