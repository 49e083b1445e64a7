//! Tests of the real `rapport` binary run as child processes: crash durability under kill -9
//! (`crash`), exact behaviour counting while segments are created during ingestion on one node,
//! two, or a web node and two workers (`counting`), a CRM sync killed between the contact and its
//! profile link (`sync_crash`), job runners killed mid-work (`jobs`), and the process's own
//! security: memory under a login flood, no password echoed (`security`), backups taken under
//! write load and restored (`backup`), upgrades from the previous release's database
//! (`upgrade`), and webhook deliveries under kill -9 (`webhooks_crash`).

// Test code: a failed expectation is a panic by design (clippy's allow-*-in-tests only covers
// `#[test]` functions, not the async bodies and helpers they call).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "process/server.rs"]
mod server;

#[path = "process/backup.rs"]
mod backup;
#[path = "process/counting.rs"]
mod counting;
#[path = "process/crash.rs"]
mod crash;
#[path = "process/jobs.rs"]
mod jobs;
#[path = "process/security.rs"]
mod security;
#[path = "process/sync_crash.rs"]
mod sync_crash;
#[path = "process/upgrade.rs"]
mod upgrade;
#[path = "process/webhooks_crash.rs"]
mod webhooks_crash;
