//! Sales teams: a workspace's users grouped into named teams, each with its leads (a user may
//! be in several). Lists read them for "my team's" views, and a lead's home page for the
//! team's work. Admins change them; every user may read them.

use crate::{Store, StoreError};
use chrono::{DateTime, Utc};
use rapport_core::codes::ErrorCode;
use rapport_core::sql::{ColumnKind, SqlParam, ValueRows};
use rapport_core::CoreError;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

pub const MAX_TEAM_MEMBERS: usize = 500;
const MAX_TEAM_NAME: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamMember {
    pub user_id: String,
    /// A lead sees the team's work on their home page.
    #[serde(default)]
    pub is_lead: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Team {
    pub id: String,
    pub name: String,
    /// Leads first, then the others.
    pub members: Vec<TeamMember>,
    pub created_at: DateTime<Utc>,
}

/// What a caller sends to create a team or replace its name and members.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "华东销售组", "members": [{"user_id": "…", "is_lead": true}]}))]
pub struct TeamInput {
    pub name: String,
    #[serde(default)]
    pub members: Vec<TeamMember>,
}

impl Store {
    pub async fn teams(&self, workspace_id: &str) -> Result<Vec<Team>, StoreError> {
        let ws = SqlParam::Text(workspace_id.to_string());
        let rows = self
            .db
            .fetch_all(
                &format!(
                    "SELECT id, name, created_at FROM teams WHERE workspace_id = {} ORDER BY name, id",
                    self.ph(1)
                ),
                std::slice::from_ref(&ws),
                &[ColumnKind::Text, ColumnKind::Text, ColumnKind::Timestamp],
            )
            .await?;
        let members = self
            .db
            .fetch_all(
                &format!(
                    "SELECT team_id, user_id, is_lead FROM team_members WHERE workspace_id = {} \
                     ORDER BY is_lead DESC, user_id",
                    self.ph(1)
                ),
                &[ws],
                &[ColumnKind::Text, ColumnKind::Text, ColumnKind::Bool],
            )
            .await?;
        let mut by_team: BTreeMap<String, Vec<TeamMember>> = BTreeMap::new();
        for m in &members {
            by_team
                .entry(m.text("team_id")?)
                .or_default()
                .push(TeamMember {
                    user_id: m.text("user_id")?,
                    is_lead: m.bool("is_lead")?,
                });
        }
        rows.iter()
            .map(|r| {
                let id = r.text("id")?;
                Ok(Team {
                    members: by_team.remove(&id).unwrap_or_default(),
                    id,
                    name: r.text("name")?,
                    created_at: r.timestamp("created_at")?,
                })
            })
            .collect()
    }

    pub async fn team(&self, workspace_id: &str, id: &str) -> Result<Team, StoreError> {
        self.teams(workspace_id)
            .await?
            .into_iter()
            .find(|t| t.id == id)
            .ok_or_else(|| StoreError::not_found("team"))
    }

    pub async fn create_team(
        &self,
        workspace_id: &str,
        input: TeamInput,
    ) -> Result<Team, StoreError> {
        let id = uuid::Uuid::now_v7().to_string();
        self.write_team(workspace_id, &id, input, true).await?;
        self.team(workspace_id, &id).await
    }

    /// Replaces a team's name and members.
    pub async fn replace_team(
        &self,
        workspace_id: &str,
        id: &str,
        input: TeamInput,
    ) -> Result<Team, StoreError> {
        self.team(workspace_id, id).await?;
        self.write_team(workspace_id, id, input, false).await?;
        self.team(workspace_id, id).await
    }

    pub async fn delete_team(&self, workspace_id: &str, id: &str) -> Result<(), StoreError> {
        self.team(workspace_id, id).await?;
        let mut tx = self.db.begin().await?;
        let params = [
            SqlParam::Text(workspace_id.to_string()),
            SqlParam::Text(id.to_string()),
        ];
        for table in ["team_members", "teams"] {
            let column = if table == "teams" { "id" } else { "team_id" };
            tx.execute(
                &format!(
                    "DELETE FROM {table} WHERE workspace_id = {} AND {column} = {}",
                    self.ph(1),
                    self.ph(2)
                ),
                &params,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn write_team(
        &self,
        workspace_id: &str,
        id: &str,
        input: TeamInput,
        create: bool,
    ) -> Result<(), StoreError> {
        let name = input.name.trim().to_string();
        if name.is_empty() || name.chars().count() > MAX_TEAM_NAME {
            return Err(CoreError::definition(
                ErrorCode::InvalidName,
                format!("a team needs a name of 1 to {MAX_TEAM_NAME} characters"),
            )
            .into());
        }
        self.check_members(workspace_id, &input.members).await?;
        let mut tx = self.db.begin().await?;
        let ws = SqlParam::Text(workspace_id.to_string());
        let saved = if create {
            tx.execute(
                &format!(
                    "INSERT INTO teams (id, workspace_id, name, created_at) VALUES ({}, {}, {}, {})",
                    self.ph(1),
                    self.ph(2),
                    self.ph(3),
                    self.ph(4)
                ),
                &[
                    SqlParam::Text(id.to_string()),
                    ws.clone(),
                    SqlParam::Text(name),
                    SqlParam::Timestamp(self.now()),
                ],
            )
            .await
        } else {
            tx.execute(
                &format!(
                    "UPDATE teams SET name = {} WHERE workspace_id = {} AND id = {}",
                    self.ph(1),
                    self.ph(2),
                    self.ph(3)
                ),
                &[
                    SqlParam::Text(name),
                    ws.clone(),
                    SqlParam::Text(id.to_string()),
                ],
            )
            .await
        };
        saved.map_err(|e| match e.unique_violation() {
            Some(_) => StoreError::conflict(
                ErrorCode::TeamExists,
                "a team with that name already exists",
            ),
            None => e,
        })?;
        tx.execute(
            &format!(
                "DELETE FROM team_members WHERE workspace_id = {} AND team_id = {}",
                self.ph(1),
                self.ph(2)
            ),
            &[ws.clone(), SqlParam::Text(id.to_string())],
        )
        .await?;
        if !input.members.is_empty() {
            let mut rows = ValueRows::new(tx.dialect());
            for m in &input.members {
                rows.push([
                    ws.clone(),
                    SqlParam::Text(id.to_string()),
                    SqlParam::Text(m.user_id.clone()),
                    SqlParam::Bool(m.is_lead),
                ]);
            }
            tx.execute(
                &format!(
                    "INSERT INTO team_members (workspace_id, team_id, user_id, is_lead) VALUES {}",
                    rows.sql()
                ),
                &rows.into_params(),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Members are users of the workspace, each once, at most `MAX_TEAM_MEMBERS`.
    async fn check_members(
        &self,
        workspace_id: &str,
        members: &[TeamMember],
    ) -> Result<(), StoreError> {
        let invalid = |message: String| -> StoreError {
            CoreError::definition(ErrorCode::InvalidTeam, message).into()
        };
        if members.len() > MAX_TEAM_MEMBERS {
            return Err(invalid(format!(
                "a team has at most {MAX_TEAM_MEMBERS} members"
            )));
        }
        let users: HashSet<String> = self
            .users(workspace_id)
            .await?
            .into_iter()
            .map(|u| u.id)
            .collect();
        let mut seen = HashSet::new();
        for m in members {
            if !users.contains(&m.user_id) {
                return Err(invalid(format!(
                    "{:?} is not a user of this workspace",
                    m.user_id
                )));
            }
            if !seen.insert(m.user_id.as_str()) {
                return Err(invalid(format!("{:?} appears twice", m.user_id)));
            }
        }
        Ok(())
    }
}
