//! Demo data: fills a workspace with a realistic, bilingual (about 70 % Chinese, 30 % English)
//! sales team and CRM data, through the one write path (`Store::create_records`, batches of
//! 1,000, source `system`, request id `demo-…`) so validation, history and outbox behave
//! exactly as for real data.
//!
//! What `rapport demo --scale N` writes (N contacts, N ≤ 1,000,000):
//!
//! | object     | count                        | cap     |
//! |------------|------------------------------|---------|
//! | users      | 6 sales reps (skipped if their email exists), in 2 teams (if none exist) | — |
//! | companies  | N / 4, at least 20           | 250,000 |
//! | contacts   | N                            | —       |
//! | leads      | N / 2                        | 100,000 |
//! | deals      | N / 2, across all stages     | 100,000 |
//! | activities | N × 2, over the past year    | 200,000 |
//! | tasks      | N / 2                        | 50,000  |
//! | notes      | N / 4                        | 50,000  |
//! | tickets    | N / 4                        | 50,000  |
//! | campaigns  | 10 + N / 500, minus existing | 20      |
//!
//! Beside them: the day-one fields (contract number, address, attachments, …) and two example
//! webhook endpoints, switched off (`integrations`), unless the workspace has endpoints.
//!
//! So N = 1,000,000 writes about 1.8 million records.
//!
//! Design:
//! - Streaming: each batch is generated, written and dropped. What stays in memory is the ids
//!   of this run's companies (≤ 250,000) and uniform samples of ≤ 50,000 contacts and deals,
//!   which later records link to (a deal's contact belongs to its company, an activity's
//!   deal, contact and company agree, and records are owned by the owner of their account).
//! - Deterministic: one `StdRng` seeded from the number of contact rows already in the
//!   workspace; dates are relative to `Store::now` in the workspace's time zone. Running twice
//!   adds a second, different set (contact emails carry a serial that starts after the
//!   existing rows, so the unique `contact.email` never collides).
//! - Robust to a customised workspace: archived objects are skipped, values for archived
//!   fields and select values that are no longer options are dropped.
//! - Progress goes to stderr (one line per object, redrawn at most 10 times a second); a
//!   summary to stdout.

use rapport_core::codes::ErrorCode;
mod generator;
mod integrations;
mod journeys;
mod words;

use anyhow::{anyhow, Context, Result};
use generator::Gen;
use rapport_core::metadata::{FieldConfig, FieldDef, FieldType, WorkspaceSchema};
use rapport_core::names::quote;
use rapport_core::sql::ColumnKind;
use rapport_core::{Action, Label, Principal, Source};
use rapport_store::files::Upload;
use rapport_store::records::{RecordInput, WriteCtx};
use rapport_store::teams::{TeamInput, TeamMember};
use rapport_store::{table_name, Store, StoreError};
use std::io::Write as _;
use std::time::{Duration, Instant};

/// Records per `create_records` call (the write path's maximum).
const BATCH: usize = 1000;

/// How many records of each object a scale writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Plan {
    companies: usize,
    contacts: usize,
    leads: usize,
    deals: usize,
    activities: usize,
    tasks: usize,
    notes: usize,
    tickets: usize,
    campaigns: usize,
}

impl Plan {
    fn for_scale(scale: usize) -> Self {
        Plan {
            companies: (scale / 4).clamp(20, 250_000),
            contacts: scale,
            leads: (scale / 2).min(100_000),
            deals: (scale / 2).min(100_000),
            activities: scale.saturating_mul(2).min(200_000),
            tasks: (scale / 2).min(50_000),
            notes: (scale / 4).min(50_000),
            tickets: (scale / 4).min(50_000),
            campaigns: (10 + scale / 500).min(20),
        }
    }
}

/// Fills `workspace_id` with demo data for `scale` contacts (see the module docs).
pub async fn fill(store: &Store, workspace_id: &str, scale: usize) -> Result<()> {
    let started = Instant::now();
    let workspace = store.workspace(workspace_id).await?;
    let roles = store.roles(workspace_id).await?;
    let added = add_team(store, workspace_id, &roles).await?;
    let users = store.users(workspace_id).await?;
    let admin = users
        .iter()
        .find(|u| u.active && roles.iter().any(|r| r.id == u.role_id && r.is_admin))
        .context("the workspace has no active administrator to write demo data as")?;
    add_sales_teams(store, workspace_id, &admin.id, &users).await?;
    add_day_one_fields(store, workspace_id).await?;
    integrations::add_webhooks(store, workspace_id).await?;
    integrations::add_connectors(store, workspace_id).await?;
    let role = roles
        .iter()
        .find(|r| r.id == admin.role_id)
        .cloned()
        .context("the administrator's role is missing")?;
    let principal = Principal {
        workspace_id: workspace_id.to_owned(),
        user_id: admin.id.clone(),
        email: admin.email.clone(),
        role,
        metadata_version: 0,
        utc_offset_minutes: workspace.utc_offset_minutes,
    };
    let schema = store.load_schema(workspace_id).await?;
    let existing = existing_rows(store, workspace_id, "contact").await;
    let now = store.now();
    // Sales reps own most records; administrators a few.
    let owners: Vec<(String, u8)> = users
        .iter()
        .filter(|u| u.active)
        .filter_map(|u| {
            let role = roles.iter().find(|r| r.id == u.role_id)?;
            role.allows("contact", Action::Create)
                .then(|| (u.id.clone(), if role.is_admin { 1 } else { 3 }))
        })
        .collect();
    let seed = 0x5241_5050_4f52_5444_u64 ^ u64::try_from(existing).unwrap_or(0);
    let mut g = Gen::new(seed, now, workspace.utc_offset_minutes, owners, existing);
    let mut writer = Writer {
        store,
        schema: &schema,
        ctx: WriteCtx {
            principal: &principal,
            source: Source::System,
            request_id: format!("demo-{}", now.timestamp_millis()),
        },
        written: Vec::new(),
    };
    let mut plan = Plan::for_scale(scale.min(1_000_000));
    g.campaign_base = existing_rows(store, workspace_id, "campaign").await;
    g.deal_files = sample_deal_files(store, workspace_id, &schema, &admin.id).await?;
    plan.campaigns = plan.campaigns.saturating_sub(g.campaign_base);
    eprintln!("Writing demo data to workspace {workspace_id} (scale {scale}, {added} new users)…");
    let nothing = |_: &mut Gen, _: String, _: ()| {};
    writer
        .phase(
            &mut g,
            "company",
            "companies",
            plan.companies,
            Gen::company,
            Gen::keep_company,
        )
        .await?;
    writer
        .phase(
            &mut g,
            "contact",
            "contacts",
            plan.contacts,
            Gen::contact,
            Gen::keep_contact,
        )
        .await?;
    writer
        .phase(
            &mut g,
            "campaign",
            "campaigns",
            plan.campaigns,
            Gen::campaign,
            nothing,
        )
        .await?;
    writer
        .phase(&mut g, "lead", "leads", plan.leads, Gen::lead, nothing)
        .await?;
    writer
        .phase(
            &mut g,
            "deal",
            "deals",
            plan.deals,
            Gen::deal,
            Gen::keep_deal,
        )
        .await?;
    writer
        .phase(
            &mut g,
            "activity",
            "activities",
            plan.activities,
            Gen::activity,
            nothing,
        )
        .await?;
    writer
        .phase(&mut g, "task", "tasks", plan.tasks, Gen::task, nothing)
        .await?;
    writer
        .phase(&mut g, "note", "notes", plan.notes, Gen::note, nothing)
        .await?;
    writer
        .phase(
            &mut g,
            "ticket",
            "tickets",
            plan.tickets,
            Gen::ticket,
            nothing,
        )
        .await?;
    let total: usize = writer.written.iter().map(|(_, n)| n).sum();
    let elapsed = started.elapsed();
    let list: Vec<String> = writer
        .written
        .iter()
        .map(|(label, n)| format!("{n} {label}"))
        .collect();
    println!(
        "Demo data written: {} ({total} records in {:.1} s, {:.0} records/s; {added} users added).",
        list.join(", "),
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64().max(0.001)
    );
    journeys::fill(store, workspace_id, (scale / 2).clamp(20, 2_000)).await
}

/// Creates the demo sales team; users whose email exists already are skipped. Returns how many
/// were created.
async fn add_team(
    store: &Store,
    workspace_id: &str,
    roles: &[rapport_core::Role],
) -> Result<usize> {
    let Some(role) = roles
        .iter()
        .find(|r| r.id == "sales")
        .or_else(|| roles.iter().find(|r| !r.is_admin))
    else {
        return Ok(0);
    };
    let mut added = 0;
    for (email, name) in words::DEMO_USERS {
        let password = rapport_server::auth::new_password();
        let hash = rapport_server::auth::hash_password(&password)
            .map_err(|e| anyhow!("hashing a password: {}", e.message))?;
        match store
            .create_user(workspace_id, email, name, &hash, &role.id)
            .await
        {
            Ok(_) => added += 1,
            Err(StoreError::Conflict {
                code: ErrorCode::EmailTaken,
                ..
            }) => {}
            Err(e) => return Err(e).with_context(|| format!("creating demo user {email}")),
        }
    }
    Ok(added)
}

/// Groups the demo salespeople into two teams when the workspace has none: 华东销售组, led by
/// the administrator (so the demo login sees a lead's home page), and 大客户组.
async fn add_sales_teams(
    store: &Store,
    workspace_id: &str,
    admin_id: &str,
    users: &[rapport_store::accounts::User],
) -> Result<()> {
    if !store.teams(workspace_id).await?.is_empty() {
        return Ok(());
    }
    let id_of = |email: &str| {
        users
            .iter()
            .find(|u| u.email == email)
            .map(|u| u.id.clone())
    };
    let member = |user_id: String, is_lead: bool| TeamMember { user_id, is_lead };
    for (name, lead, emails) in words::DEMO_TEAMS {
        let lead = match lead {
            Some(email) => id_of(email),
            None => Some(admin_id.to_owned()),
        };
        let mut members: Vec<TeamMember> = lead.into_iter().map(|id| member(id, true)).collect();
        members.extend(
            emails
                .iter()
                .filter_map(|e| id_of(e))
                .map(|id| member(id, false)),
        );
        store
            .create_team(
                workspace_id,
                TeamInput {
                    name: (*name).to_owned(),
                    members,
                },
            )
            .await
            .with_context(|| format!("creating the demo team {name}"))?;
    }
    Ok(())
}

/// Fields a company adds on its first day: where a company is (a region of the national list),
/// a deal's number (商机编号 SJ-2026-0001), its collaborators and its attachments.
fn day_one_fields() -> Vec<(&'static str, FieldDef)> {
    let field = |api_name: &str, zh: &str, en: &str, field_type: FieldType| FieldDef {
        api_name: api_name.to_owned(),
        label: Label::new(en, zh),
        field_type,
        required: false,
        unique: false,
        config: FieldConfig::default(),
        is_standard: false,
        archived_at: None,
    };
    let mut number = field("deal_no", "商机编号", "Deal number", FieldType::AutoNumber);
    number.config.format = Some("SJ-{YYYY}-{0000}".to_owned());
    vec![
        (
            "company",
            field("location", "所在地区", "Location", FieldType::Address),
        ),
        ("deal", number),
        (
            "deal",
            field(
                "collaborators",
                "协作人",
                "Collaborators",
                FieldType::MultiUser,
            ),
        ),
        (
            "deal",
            field("attachments", "附件", "Attachments", FieldType::Attachment),
        ),
    ]
}

/// Adds the [`day_one_fields`] a workspace lacks (a field of that name, even archived, is kept).
async fn add_day_one_fields(store: &Store, workspace_id: &str) -> Result<()> {
    for (object, def) in day_one_fields() {
        let schema = store.load_schema(workspace_id).await?;
        let Some(current) = schema.active_object(object) else {
            continue;
        };
        if current.field(&def.api_name).is_none() {
            let name = def.api_name.clone();
            store
                .add_field(workspace_id, object, def)
                .await
                .with_context(|| format!("adding the demo field {object}.{name}"))?;
        }
    }
    Ok(())
}

/// Uploads a quotation and a site photo for deals' attachments (when that field is an
/// attachment field); deals pick from them.
async fn sample_deal_files(
    store: &Store,
    workspace_id: &str,
    schema: &WorkspaceSchema,
    uploaded_by: &str,
) -> Result<Vec<String>> {
    let Some(deal) = schema.active_object("deal") else {
        return Ok(Vec::new());
    };
    let Some(field) = deal
        .active_field("attachments")
        .filter(|f| f.field_type == FieldType::Attachment)
    else {
        return Ok(Vec::new());
    };
    let mut ids = Vec::new();
    for (name, content) in [
        (
            "报价单 Q-2026-018.pdf",
            &include_bytes!("../data/quotation.pdf")[..],
        ),
        (
            "现场照片.png",
            &include_bytes!("../data/site-photo.png")[..],
        ),
    ] {
        let file = store
            .save_file(
                workspace_id,
                deal,
                field,
                Upload {
                    name,
                    claimed_type: name.ends_with(".pdf").then_some("application/pdf"),
                    content: content.to_vec(),
                },
                uploaded_by,
            )
            .await
            .with_context(|| format!("uploading the demo file {name}"))?;
        ids.push(file.id);
    }
    Ok(ids)
}

/// Rows (live or deleted) in an object's table; 0 when it cannot be counted.
async fn existing_rows(store: &Store, workspace_id: &str, object: &str) -> usize {
    let sql = format!(
        "SELECT COUNT(*) FROM {}",
        quote(&table_name(workspace_id, object))
    );
    match store.db.fetch_optional(&sql, &[], &[ColumnKind::Int]).await {
        Ok(Some(row)) => row
            .int(0)
            .ok()
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0),
        _ => 0,
    }
}

struct Writer<'a> {
    store: &'a Store,
    schema: &'a WorkspaceSchema,
    ctx: WriteCtx<'a>,
    /// (label, records written) per object, for the summary.
    written: Vec<(&'static str, usize)>,
}

impl Writer<'_> {
    /// Generates and writes `total` records of `object`, batch by batch; `keep` receives the id
    /// and link data of each written record.
    async fn phase<M>(
        &mut self,
        g: &mut Gen,
        object: &str,
        label: &'static str,
        total: usize,
        make: fn(&mut Gen, usize) -> (RecordInput, M),
        keep: fn(&mut Gen, String, M),
    ) -> Result<()> {
        if total == 0 {
            return Ok(());
        }
        if self.schema.active_object(object).is_none() {
            eprintln!("skipping {label}: the {object} object is archived or missing");
            return Ok(());
        }
        let mut progress = Progress::new(label, total);
        let mut done = 0;
        while done < total {
            let end = (done + BATCH).min(total);
            let (mut inputs, metas): (Vec<RecordInput>, Vec<M>) =
                (done..end).map(|i| make(g, i)).unzip();
            for input in &mut inputs {
                self.fit(object, input);
            }
            let records = self
                .store
                .create_records(&self.ctx, self.schema, object, inputs)
                .await
                .map_err(|e| explain(object, done, e))?;
            for (record, meta) in records.into_iter().zip(metas) {
                keep(g, record.id, meta);
            }
            done = end;
            progress.update(done);
        }
        progress.finish();
        self.written.push((label, done));
        Ok(())
    }

    /// Drops values the workspace no longer accepts: archived fields, relations to archived
    /// objects and select values that are not options any more.
    fn fit(&self, object: &str, input: &mut RecordInput) {
        let Some(def) = self.schema.active_object(object) else {
            return;
        };
        input.values.retain(|name, value| {
            let Some(field) = def.active_field(name) else {
                return false;
            };
            match field.field_type {
                FieldType::Select => value.as_str().is_some_and(|v| field.option(v).is_some()),
                FieldType::Relation => field
                    .config
                    .target
                    .as_deref()
                    .is_some_and(|t| self.schema.active_object(t).is_some()),
                _ => true,
            }
        });
    }
}

/// A readable error for a failed batch: the first few row errors, with their index in the run.
fn explain(object: &str, first: usize, error: StoreError) -> anyhow::Error {
    match error {
        StoreError::Bulk(rows) => {
            let details: Vec<String> = rows
                .iter()
                .flat_map(|row| {
                    row.errors.iter().map(move |e| {
                        format!(
                            "#{} {}: {} ({})",
                            first + row.index,
                            e.field,
                            e.code,
                            e.message
                        )
                    })
                })
                .take(5)
                .collect();
            anyhow!(
                "writing demo {object} records failed: {} row(s) invalid: {}",
                rows.len(),
                details.join("; ")
            )
        }
        other => anyhow::Error::new(other)
            .context(format!("writing demo {object} records from #{first}")),
    }
}

/// A one-line progress bar on stderr: `[#####.....]  42% 420000/1000000 contacts, 12345/s`.
struct Progress {
    label: &'static str,
    total: usize,
    done: usize,
    started: Instant,
    /// When the line was last drawn, and with which count.
    drawn: Option<(Instant, usize)>,
}

impl Progress {
    const WIDTH: usize = 30;
    const EVERY: Duration = Duration::from_millis(100);

    fn new(label: &'static str, total: usize) -> Self {
        let mut p = Progress {
            label,
            total,
            done: 0,
            started: Instant::now(),
            drawn: None,
        };
        p.draw();
        p
    }

    fn update(&mut self, done: usize) {
        self.done = done;
        if self.drawn.is_none_or(|(at, _)| at.elapsed() >= Self::EVERY) {
            self.draw();
        }
    }

    fn finish(&mut self) {
        if self.drawn.is_none_or(|(_, done)| done != self.done) {
            self.draw();
        }
        eprintln!();
    }

    fn draw(&mut self) {
        let total = self.total.max(1);
        let filled = self.done * Self::WIDTH / total;
        let bar = format!(
            "{}{}",
            "#".repeat(filled),
            ".".repeat(Self::WIDTH - filled.min(Self::WIDTH))
        );
        let rate = self.done as f64 / self.started.elapsed().as_secs_f64().max(0.001);
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r[{bar}] {:>3}% {}/{} {}, {rate:.0}/s   ",
            self.done * 100 / total,
            self.done,
            self.total,
            self.label
        );
        let _ = err.flush();
        self.drawn = Some((Instant::now(), self.done));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_caps_large_scales() {
        let small = Plan::for_scale(200);
        assert_eq!(small.companies, 50);
        assert_eq!(small.activities, 400);
        assert_eq!(small.campaigns, 10);
        assert_eq!(Plan::for_scale(0).companies, 20);
        let big = Plan::for_scale(1_000_000);
        assert_eq!(big.companies, 250_000);
        assert_eq!(big.contacts, 1_000_000);
        assert_eq!(big.deals, 100_000);
        assert_eq!(big.leads, 100_000);
        assert_eq!(big.activities, 200_000);
        assert_eq!(
            (big.tasks, big.notes, big.tickets),
            (50_000, 50_000, 50_000)
        );
        assert_eq!(big.campaigns, 20);
    }
}
