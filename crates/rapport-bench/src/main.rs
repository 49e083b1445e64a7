//! `rapport-bench`: Rapport's benchmarks, run by `make bench` (`bench/run.sh`). Each suite
//! measures the real server (or the real store) and, in the same run on the same database, a
//! bare baseline, so the ratio holds on a noisy machine; results are Markdown sections.
//! - `crm`: the CRM API (get, list, create, update) against the same SQL through sqlx;
//! - `ingest`: event ingestion (`POST /v1/batch`) against bare multi-row inserts;
//! - `jobs`: the durable job queue against a bare `INSERT` + `SKIP LOCKED` / `DELETE` queue;
//! - `deliveries`: webhook deliveries against a bare HTTP client, and what a destination that
//!   times out costs the others;
//! - `segments`: segment evaluation against DuckDB, membership delay while events stream in, and
//!   the server's memory (it runs the `rapport` binary built beside this one).
//!
//! What each suite writes through the real write path and what it bypasses is said at the top
//! of its module.

mod common;
mod crm;
mod deliveries;
mod ingest;
mod jobs;
mod segments;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "rapport-bench", version, about = "Rapport's benchmarks")]
struct Cli {
    #[command(subcommand)]
    suite: Suite,
}

/// The database a suite runs on.
#[derive(Subcommand)]
enum Suite {
    /// Measure the API against bare SQL on the same database.
    Crm(crm::BenchArgs),
    /// Measure event ingestion (`/v1/batch`) against bare inserts.
    Ingest(ingest::IngestArgs),
    /// Measure the durable job queue against a bare queue on the same database.
    Jobs(jobs::JobsArgs),
    /// Measure webhook deliveries against a bare HTTP client, and a dead destination's cost.
    Deliveries(deliveries::DeliveriesArgs),
    /// Measure segment evaluation against DuckDB, streaming membership and memory.
    Segments(segments::SegmentsArgs),
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RAPPORT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    match Cli::parse().suite {
        Suite::Crm(args) => crm::run(args).await,
        Suite::Ingest(args) => ingest::run(args).await,
        Suite::Jobs(args) => jobs::run(args).await,
        Suite::Deliveries(args) => deliveries::run(args).await,
        Suite::Segments(args) => segments::run(args).await,
    }
}
