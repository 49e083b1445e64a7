//! `rapport backup` and `rapport restore`: a consistent copy of the SQLite database file
//! (`VACUUM INTO`, while the server serves), or the logical export of one workspace as NDJSON
//! (`rapport_store::backup`) on either backend; and their restore. PostgreSQL's own file-level
//! backups are pg_dump's business (README). Neither command migrates the database it backs up,
//! so a backup taken before an upgrade is a copy of the old schema.

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use rapport_store::backup;
use rapport_store::{Db, Store};
use std::fs::{File, OpenOptions};
use std::io::{BufReader, BufWriter, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::StorageArgs;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A copy of the whole SQLite database file (SQLite only).
    Sqlite,
    /// One workspace as NDJSON, restorable into SQLite or PostgreSQL.
    Ndjson,
}

#[derive(Args)]
pub struct BackupArgs {
    #[command(flatten)]
    storage: StorageArgs,
    /// The file to write (refused if it exists, unless --force).
    #[arg(long)]
    out: PathBuf,
    /// `sqlite` (default on SQLite) or `ndjson` (required on PostgreSQL).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// The workspace an NDJSON export holds (default: the first workspace).
    #[arg(long)]
    workspace: Option<String>,
    /// Overwrite --out if it exists.
    #[arg(long)]
    force: bool,
}

#[derive(Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    storage: StorageArgs,
    /// A backup written by `rapport backup` (a SQLite file or an NDJSON export).
    #[arg(long = "in")]
    input: PathBuf,
    /// Replace a SQLite database that already holds data (it is kept beside as
    /// `rapport.db.before-restore`).
    #[arg(long)]
    force: bool,
}

const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";

/// A new file beside `out`, private to its owner (a backup holds password hashes and every
/// customer's data), renamed to `out` once complete.
fn partial_file(out: &Path, force: bool) -> Result<(PathBuf, File)> {
    if out.exists() && !force {
        bail!(
            "{} exists; choose another --out or add --force",
            out.display()
        );
    }
    let name = out
        .file_name()
        .context("--out names no file")?
        .to_string_lossy()
        .into_owned();
    let partial = out.with_file_name(format!(".{name}.partial"));
    let _ = std::fs::remove_file(&partial);
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&partial)
        .with_context(|| format!("creating {}", partial.display()))?;
    Ok((partial, file))
}

fn finish_file(partial: &Path, out: &Path) -> Result<()> {
    File::open(partial)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("syncing {}", partial.display()))?;
    std::fs::rename(partial, out).with_context(|| format!("renaming to {}", out.display()))?;
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

fn size_of(path: &Path) -> String {
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if bytes >= 10 * 1024 * 1024 {
        format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}

pub async fn backup(args: BackupArgs) -> Result<()> {
    let started = Instant::now();
    let store = backup::open_existing(args.storage.database_url.as_deref(), &args.storage.data_dir)
        .await
        .context("opening the database")?;
    let postgres = args.storage.database_url.is_some();
    let format = match (args.format, postgres) {
        (Some(f), _) => f,
        (None, false) => Format::Sqlite,
        (None, true) => bail!(
            "on PostgreSQL, back up the database with pg_dump (see README: `pg_dump \
             --format=custom --file rapport.dump \"$DATABASE_URL\"`), or export one workspace \
             with `rapport backup --format ndjson --workspace W --out FILE`"
        ),
    };
    let result = match format {
        Format::Sqlite if postgres => Err(anyhow::anyhow!(
            "--format sqlite copies a SQLite database; on PostgreSQL use pg_dump (README) or \
             --format ndjson"
        )),
        Format::Sqlite => sqlite_file(&store.db, &args).await,
        Format::Ndjson => ndjson(&store, &args).await,
    };
    store.db.close().await;
    result?;
    println!(
        "backup written to {} ({}, {:.2} s)",
        args.out.display(),
        size_of(&args.out),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn sqlite_file(db: &Db, args: &BackupArgs) -> Result<()> {
    if args.out.exists() && !args.force {
        bail!(
            "{} exists; choose another --out or add --force",
            args.out.display()
        );
    }
    // VACUUM INTO creates its file itself: it does so inside a directory only we may enter,
    // and the file is made private before it is moved to --out.
    let name = args
        .out
        .file_name()
        .context("--out names no file")?
        .to_string_lossy()
        .into_owned();
    let private = args.out.with_file_name(format!(".{name}.partial.d"));
    let _ = std::fs::remove_dir_all(&private);
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&private)
        .with_context(|| format!("creating {}", private.display()))?;
    let partial = private.join("rapport.db");
    let result = async {
        db.sqlite_snapshot(&partial).await.context("VACUUM INTO")?;
        set_private(&partial)?;
        finish_file(&partial, &args.out)
    }
    .await;
    let _ = std::fs::remove_dir_all(&private);
    result
}

fn set_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("making {} private", path.display()))
}

async fn ndjson(store: &Store, args: &BackupArgs) -> Result<()> {
    let workspace = crate::workspace_id(store, args.workspace.clone()).await?;
    let (partial, file) = partial_file(&args.out, args.force)?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let summary = match backup::export_workspace(store, &workspace, &mut out).await {
        Ok(summary) => summary,
        Err(e) => {
            drop(out);
            let _ = std::fs::remove_file(&partial);
            return Err(anyhow::Error::new(e).context("exporting the workspace"));
        }
    };
    out.into_inner()
        .map_err(|e| anyhow::anyhow!("writing {}: {}", partial.display(), e.error()))?;
    finish_file(&partial, &args.out)?;
    print_summary("exported", &summary);
    Ok(())
}

fn print_summary(what: &str, summary: &backup::Summary) {
    let parts: Vec<String> = summary
        .counts
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "header" | "workspace"))
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    println!(
        "{what} workspace {}: {}",
        summary.workspace_id,
        parts.join(", ")
    );
    if summary.unreadable_values > 0 {
        println!(
            "warning: {} record values were not readable as their field's type and were copied as stored",
            summary.unreadable_values
        );
    }
}

pub async fn restore(args: RestoreArgs) -> Result<()> {
    let started = Instant::now();
    let mut head = [0u8; 16];
    let mut file =
        File::open(&args.input).with_context(|| format!("opening {}", args.input.display()))?;
    let read = file.read(&mut head)?;
    let head = &head[..read];
    if head.starts_with(SQLITE_MAGIC) {
        if args.storage.database_url.is_some() {
            bail!(
                "{} is a SQLite database file; it restores into a SQLite data dir. To move a \
                 workspace to PostgreSQL, export it with `rapport backup --format ndjson` and \
                 restore that",
                args.input.display()
            );
        }
        restore_sqlite_file(&args).await?;
    } else if head.first() == Some(&b'{') {
        restore_ndjson(&args).await?;
    } else if head.starts_with(&[0x1f, 0x8b]) {
        bail!(
            "{} is compressed; decompress it first",
            args.input.display()
        );
    } else {
        bail!(
            "{} is not a Rapport backup (neither a SQLite database nor an NDJSON export)",
            args.input.display()
        );
    }
    println!("restored in {:.2} s", started.elapsed().as_secs_f64());
    Ok(())
}

async fn restore_ndjson(args: &RestoreArgs) -> Result<()> {
    let store = crate::open_store(&args.storage).await?;
    let file = File::open(&args.input)?;
    let mut input = BufReader::with_capacity(1 << 20, file);
    let result = backup::import_workspace(&store, &mut input).await;
    store.db.close().await;
    let summary = result.map_err(|e| anyhow::anyhow!("{e}; nothing was restored"))?;
    print_summary("restored", &summary);
    Ok(())
}

async fn restore_sqlite_file(args: &RestoreArgs) -> Result<()> {
    let latest = backup::latest_sqlite_migration();
    let backup::SqliteFile {
        migration: version,
        has_workspace,
    } = backup::inspect_sqlite_file(&args.input)
        .await
        .with_context(|| format!("reading {}", args.input.display()))?
        .with_context(|| {
            format!(
                "{} is a SQLite database but not Rapport's",
                args.input.display()
            )
        })?;
    if version > latest {
        bail!(
            "{} comes from a newer Rapport (migration {version}; this one knows up to {latest})",
            args.input.display()
        );
    }
    if !has_workspace {
        bail!("{} holds no workspace", args.input.display());
    }
    let dir = &args.storage.data_dir;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let target = dir.join("rapport.db");
    let wal = dir.join("rapport.db-wal");
    let shm = dir.join("rapport.db-shm");
    if target.exists() {
        backup::claim_sqlite_file(&target).await?;
        let holds_data = backup::inspect_sqlite_file(&target)
            .await?
            .is_none_or(|f| f.has_workspace);
        if holds_data && !args.force {
            bail!(
                "{} already holds data; add --force to replace it (it is kept as \
                 rapport.db.before-restore)",
                target.display()
            );
        }
    }
    let incoming = dir.join(".rapport.db.restoring");
    let _ = std::fs::remove_file(&incoming);
    std::fs::copy(&args.input, &incoming)
        .with_context(|| format!("copying {} into {}", args.input.display(), dir.display()))?;
    set_private(&incoming)?;
    File::open(&incoming)?.sync_all()?;
    if target.exists() {
        let aside = dir.join("rapport.db.before-restore");
        std::fs::rename(&target, &aside)?;
        if wal.exists() {
            std::fs::rename(&wal, dir.join("rapport.db.before-restore-wal"))?;
        }
    }
    // A stale WAL or shared-memory file must never meet the new database.
    let _ = std::fs::remove_file(&wal);
    let _ = std::fs::remove_file(&shm);
    std::fs::rename(&incoming, &target)?;
    File::open(dir)?.sync_all()?;
    let upgrade = if version < latest {
        format!("; `rapport serve` upgrades it from migration {version} to {latest} on start")
    } else {
        String::new()
    };
    println!(
        "restored {} into {}{upgrade}",
        args.input.display(),
        target.display()
    );
    let _ = std::io::stdout().flush();
    Ok(())
}
