//! The `rapport` binary: `serve` (the default), `demo`, `user create`, `token create`,
//! `backup`, `restore`, `outbox` and `openapi` (the benchmarks are the `rapport-bench` binary).
//! Configuration comes from defaults, then `RAPPORT_*` environment variables, then flags;
//! `--database-url` (or `RAPPORT_DATABASE_URL`) selects PostgreSQL, otherwise SQLite under
//! `--data-dir`.

mod backup_cli;
mod outbox_cli;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use rapport_server::{auth, AppState, ServerConfig};
use rapport_store::cli::StorageArgs;
use rapport_store::Store;

#[derive(Parser)]
#[command(
    name = "rapport",
    version,
    about = "Rapport: CRM and customer data platform in one binary"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    storage: StorageArgs,
    #[arg(long, env = "RAPPORT_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    /// Largest request body in bytes.
    #[arg(long, env = "RAPPORT_MAX_BODY_BYTES", default_value_t = 8 * 1024 * 1024)]
    max_body_bytes: usize,
    /// Always mark the session cookie Secure (serve behind HTTPS). Without it the cookie is
    /// still Secure when a proxy sends `X-Forwarded-Proto: https`.
    #[arg(long, env = "RAPPORT_SECURE_COOKIES")]
    secure_cookies: bool,
    /// Reverse proxies (addresses or networks, comma-separated) whose X-Forwarded-For names
    /// the client; other peers are the client themselves.
    #[arg(long, env = "RAPPORT_TRUSTED_PROXIES", default_value = "")]
    trusted_proxies: String,
    /// Password hashes computed at once (each needs 19 MiB); default: the number of cores.
    #[arg(long, env = "RAPPORT_HASH_CONCURRENCY")]
    hash_concurrency: Option<usize>,
    /// Seconds a request's head may take to arrive (also how long an idle connection stays).
    #[arg(long, env = "RAPPORT_HEADER_TIMEOUT_SECS", default_value_t = 20)]
    header_timeout_secs: u64,
    /// Seconds a request's whole body may take to arrive.
    #[arg(long, env = "RAPPORT_BODY_TIMEOUT_SECS", default_value_t = 60)]
    body_timeout_secs: u64,
    /// Open connections at most.
    #[arg(long, env = "RAPPORT_MAX_CONNECTIONS", default_value_t = 4096)]
    max_connections: usize,
    /// Open connections from one client address at most (trusted proxies are exempt).
    #[arg(
        long,
        env = "RAPPORT_MAX_CONNECTIONS_PER_CLIENT",
        default_value_t = 256
    )]
    max_connections_per_client: usize,
    /// Intranet hosts outbound calls (webhooks) may reach besides public addresses:
    /// comma-separated addresses, networks and host names (`erp.corp.local, 10.20.0.0/16`).
    #[arg(long, env = "RAPPORT_OUTBOUND_ALLOW", default_value = "")]
    outbound_allow: String,
    /// Serve Prometheus metrics at /metrics to scrapers sending this bearer token (off
    /// without it).
    #[arg(long, env = "RAPPORT_METRICS_TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
    /// On first start, fill the new workspace with demo data.
    #[arg(long, env = "RAPPORT_DEMO")]
    demo: bool,
    /// Email of the admin created on first start.
    #[arg(
        long,
        env = "RAPPORT_ADMIN_EMAIL",
        default_value = "admin@rapport.local"
    )]
    admin_email: String,
    /// Password of the admin created on first start (random and printed when absent).
    #[arg(long, env = "RAPPORT_ADMIN_PASSWORD", hide_env_values = true)]
    admin_password: Option<String>,
    /// What this node does: `all` (the API and the background workers), `web` (the API and
    /// ingestion only) or `worker` (the background workers, with /healthz and /metrics only).
    #[arg(long, env = "RAPPORT_ROLE", value_enum, default_value_t = Role::All)]
    role: Role,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Role {
    All,
    Web,
    Worker,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default command).
    Serve(ServeArgs),
    /// Fill a workspace with realistic demo data.
    Demo {
        #[command(flatten)]
        storage: StorageArgs,
        /// Number of contacts (up to 1,000,000 for benchmarks).
        #[arg(long, default_value_t = 200)]
        scale: usize,
        /// Workspace id (default: the first workspace).
        #[arg(long)]
        workspace: Option<String>,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// See and rewind the outbox consumers (operators).
    Outbox {
        #[command(flatten)]
        storage: StorageArgs,
        #[command(subcommand)]
        command: outbox_cli::OutboxCommand,
    },
    /// Back up: a copy of the SQLite database file, or one workspace as NDJSON (either backend).
    Backup {
        #[command(flatten)]
        args: backup_cli::BackupArgs,
    },
    /// Restore a backup: a SQLite file into a data dir, an NDJSON export into either backend.
    Restore {
        #[command(flatten)]
        args: backup_cli::RestoreArgs,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Print the catalogue of codes as docs/API.md's tables (or the web app's module), or
    /// rewrite the tables of a Markdown file in place (`make error-codes`).
    ErrorCodes {
        /// Print the web app's TypeScript module (web/src/api/errorCodes.ts) instead.
        #[arg(long, conflicts_with = "splice")]
        typescript: bool,
        /// Rewrite the tables between `<!-- errors:begin -->` and `<!-- errors:end -->` in
        /// this file instead of printing them.
        #[arg(long)]
        splice: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user.
    Create {
        #[command(flatten)]
        storage: StorageArgs,
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        #[arg(long, default_value = "sales")]
        role: String,
        #[arg(long)]
        name: Option<String>,
        /// Workspace id (default: the first workspace).
        #[arg(long)]
        workspace: Option<String>,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for a user and print it.
    Create {
        #[command(flatten)]
        storage: StorageArgs,
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "cli")]
        name: String,
    },
}

async fn open_store(storage: &StorageArgs) -> Result<Store> {
    storage.open().await.context("opening the database")
}

async fn workspace_id(store: &Store, given: Option<String>) -> Result<String> {
    match given {
        Some(id) => Ok(store.workspace(&id).await.context("no such workspace")?.id),
        None => Ok(store
            .first_workspace()
            .await?
            .context("no workspace yet: start `rapport serve` once")?
            .id),
    }
}

/// Creates the first workspace and its admin on an empty database; prints how to log in.
async fn bootstrap(store: &Store, args: &ServeArgs) -> Result<()> {
    if store.first_workspace().await?.is_some() {
        return Ok(());
    }
    let workspace = store.create_workspace("Rapport", 480).await?;
    let (password, shown) = match &args.admin_password {
        Some(given) => {
            auth::check_password_strength(given)
                .map_err(|e| anyhow::anyhow!("--admin-password: {}", e.message))?;
            // Never echoed: it is on the operator's command line or in their environment.
            (
                given.clone(),
                "the password given with --admin-password".to_string(),
            )
        }
        None => {
            let generated = auth::new_password();
            (generated.clone(), format!("password: {generated}"))
        }
    };
    let hash = auth::hash_password(&password).map_err(|e| anyhow::anyhow!(e.message))?;
    store
        .create_user(&workspace.id, &args.admin_email, "Admin", &hash, "admin")
        .await?;
    println!("Created workspace {} and its administrator.", workspace.id);
    println!(
        "  Log in at http://{} as {} with {shown}",
        args.listen, args.admin_email
    );
    if args.demo {
        rapport_demo::fill(store, &workspace.id, 200).await?;
    }
    Ok(())
}

async fn serve(args: ServeArgs) -> Result<()> {
    let outbound = rapport_store::outbound::Outbound::allowing(&args.outbound_allow)
        .map_err(|e| anyhow::anyhow!("--outbound-allow: {e}"))?;
    let store = open_store(&args.storage).await?.with_outbound(outbound);
    bootstrap(&store, &args).await?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let defaults = ServerConfig::default();
    let config = ServerConfig {
        max_body_bytes: args.max_body_bytes,
        secure_cookies: args.secure_cookies,
        trusted_proxies: rapport_server::client::parse_networks(&args.trusted_proxies)
            .map_err(|e| anyhow::anyhow!("--trusted-proxies: {e}"))?,
        hash_concurrency: args.hash_concurrency.unwrap_or(defaults.hash_concurrency),
        limits: rapport_server::connections::Limits {
            header_timeout: std::time::Duration::from_secs(args.header_timeout_secs.max(1)),
            body_timeout: std::time::Duration::from_secs(args.body_timeout_secs.max(1)),
            max_connections: args.max_connections,
            max_connections_per_client: args.max_connections_per_client,
        },
        metrics_token: args.metrics_token.clone().filter(|t| !t.trim().is_empty()),
        ..defaults
    };
    let state = AppState::new(store.clone(), config);
    if args.role != Role::Web {
        state.run_workers();
    }
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let workers = state.workers.clone();
    let address = listener.local_addr()?;
    if args.role == Role::Worker {
        tracing::info!("Rapport worker node; health and metrics on http://{address}");
        println!("Rapport worker is running (health and metrics at http://{address})");
        rapport_server::serve_operations(listener, state, shutdown).await?;
    } else {
        tracing::info!("Rapport listening on http://{address}");
        println!("Rapport is running at http://{address}");
        rapport_server::serve(listener, state, shutdown).await?;
    }
    workers.shutdown(std::time::Duration::from_secs(30)).await;
    store.db.close().await;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RAPPORT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        .init();
    let cli = Cli::parse();
    let command = match cli.command {
        Some(command) => command,
        None => Cli::parse_from(["rapport", "serve"])
            .command
            .context("no command")?,
    };
    match command {
        Command::Serve(args) => serve(args).await,
        Command::Demo {
            storage,
            scale,
            workspace,
        } => {
            if scale > 1_000_000 {
                bail!("--scale goes up to 1,000,000");
            }
            let store = open_store(&storage).await?;
            let ws = workspace_id(&store, workspace).await?;
            rapport_demo::fill(&store, &ws, scale).await
        }
        Command::User {
            command:
                UserCommand::Create {
                    storage,
                    email,
                    password,
                    role,
                    name,
                    workspace,
                },
        } => {
            let email = rapport_core::normalize::email(&email)
                .with_context(|| format!("{email:?} is not an email address"))?;
            let store = open_store(&storage).await?;
            let ws = workspace_id(&store, workspace).await?;
            auth::check_password_strength(&password).map_err(|e| anyhow::anyhow!(e.message))?;
            let hash = auth::hash_password(&password).map_err(|e| anyhow::anyhow!(e.message))?;
            let name =
                name.unwrap_or_else(|| email.split('@').next().unwrap_or("user").to_string());
            let user = store.create_user(&ws, &email, &name, &hash, &role).await?;
            println!(
                "created user {} ({}) in workspace {ws} with role {role}",
                user.email, user.id
            );
            Ok(())
        }
        Command::Token {
            command:
                TokenCommand::Create {
                    storage,
                    email,
                    name,
                },
        } => {
            let store = open_store(&storage).await?;
            let (user, _) = store
                .user_for_login(&email)
                .await?
                .context("no user with that email")?;
            let token = auth::new_token();
            store
                .create_token(&user, &name, &auth::digest(&token), &token[..8])
                .await?;
            println!("{token}");
            Ok(())
        }
        Command::Outbox { storage, command } => {
            let store = open_store(&storage).await?;
            outbox_cli::run(&store, command).await
        }
        Command::Backup { args } => backup_cli::backup(args).await,
        Command::Restore { args } => backup_cli::restore(args).await,
        Command::Openapi => {
            print!("{}", rapport_server::openapi::document());
            Ok(())
        }
        Command::ErrorCodes { typescript, splice } => error_codes(typescript, splice),
    }
}

fn error_codes(typescript: bool, splice: Option<std::path::PathBuf>) -> anyhow::Result<()> {
    use rapport_core::codes;
    match splice {
        Some(path) => {
            let doc = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let spliced = codes::splice_markdown(&doc).with_context(|| {
                format!(
                    "{} has no `{}` … `{}` markers",
                    path.display(),
                    codes::DOC_BEGIN,
                    codes::DOC_END
                )
            })?;
            std::fs::write(&path, spliced)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        None if typescript => print!("{}", codes::typescript()),
        None => print!("{}", codes::markdown()),
    }
    Ok(())
}
