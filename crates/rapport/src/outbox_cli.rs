//! `rapport outbox`: the operator's view of the outbox consumers — where each stands and how
//! far behind — and a rewind that makes one read the outbox again from an id or a time (every
//! consumer is idempotent, so a replay repeats work, never changes the outcome). A deployment-
//! wide action, hence a command on the server and not an API a workspace admin could call.

use anyhow::{Context, Result};
use clap::Subcommand;
use rapport_store::outbox::{self, Rewind};
use rapport_store::Store;

#[derive(Subcommand)]
pub enum OutboxCommand {
    /// Every consumer's position and backlog.
    List,
    /// Moves a consumer back so it reads again every entry after `--after-id`, or from
    /// `--from` (RFC 3339).
    Rewind {
        consumer: String,
        #[arg(long, conflicts_with = "from", required_unless_present = "from")]
        after_id: Option<i64>,
        #[arg(long)]
        from: Option<chrono::DateTime<chrono::Utc>>,
    },
}

pub async fn run(store: &Store, command: OutboxCommand) -> Result<()> {
    match command {
        OutboxCommand::List => {
            let positions = outbox::positions(store).await?;
            if positions.is_empty() {
                println!("no consumer has read the outbox yet");
            }
            for p in positions {
                println!(
                    "{:<28} position {:>10}  behind {:>8}{}",
                    p.consumer,
                    p.position,
                    p.behind,
                    p.leased_until
                        .map(|t| format!("  (reading until {t})"))
                        // No lease: nothing to add to the line.
                        .unwrap_or_default()
                );
            }
        }
        OutboxCommand::Rewind {
            consumer,
            after_id,
            from,
        } => {
            let to = match (after_id, from) {
                (Some(id), _) => Rewind::AfterId(id),
                (None, Some(at)) => Rewind::From(at),
                (None, None) => anyhow::bail!("give --after-id or --from"),
            };
            let p = outbox::rewind(store, &consumer, to)
                .await
                .with_context(|| format!("rewinding {consumer}"))?;
            println!(
                "{} now reads after entry {} ({} entries to go)",
                p.consumer, p.position, p.behind
            );
        }
    }
    Ok(())
}
