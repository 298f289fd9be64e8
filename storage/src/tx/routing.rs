//! What routing and assignment read and write: a ticket's team, a team's members and its
//! round-robin place, and who is available with how many open tickets.

use sqlx::Row;

use super::Tx;
use crate::Result;

/// A team member as assignment needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberLoad {
    pub agent_id: i64,
    /// On duty and not disabled: may get tickets by assignment.
    pub on_duty: bool,
    /// Open and pending tickets assigned to them.
    pub open_tickets: i64,
}

impl Tx {
    /// Makes `agent_ids` the team's members, and only them.
    pub async fn set_team_members(&mut self, team_id: i64, agent_ids: &[i64]) -> Result<()> {
        sqlx::query("DELETE FROM agent_teams WHERE team_id = $1")
            .bind(team_id)
            .execute(&mut *self.inner)
            .await?;
        for &agent_id in agent_ids {
            self.add_agent_to_team(agent_id, team_id).await?;
        }
        Ok(())
    }

    pub async fn team_last_assigned(&mut self, team_id: i64) -> Result<Option<i64>> {
        let row = sqlx::query("SELECT last_assigned_agent_id FROM teams WHERE id = $1")
            .bind(team_id)
            .fetch_optional(&mut *self.inner)
            .await?;
        Ok(row
            .map(|r| r.try_get::<Option<i64>, _>("last_assigned_agent_id"))
            .transpose()?
            .flatten())
    }

    pub async fn set_team_last_assigned(&mut self, team_id: i64, agent_id: i64) -> Result<()> {
        sqlx::query("UPDATE teams SET last_assigned_agent_id = $2 WHERE id = $1")
            .bind(team_id)
            .bind(agent_id)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    /// Each of `agent_ids` (in that order) with whether they are on duty and how many open or
    /// pending tickets they hold. Unknown ids are left out.
    pub async fn member_loads(&mut self, agent_ids: &[i64]) -> Result<Vec<MemberLoad>> {
        let mut loads = Vec::with_capacity(agent_ids.len());
        if agent_ids.is_empty() {
            return Ok(loads);
        }
        let placeholders: Vec<String> = (1..=agent_ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT a.id, CASE WHEN a.disabled = 0 THEN a.on_duty ELSE 0 END AS on_duty, (SELECT COUNT(*) FROM tickets t WHERE t.assignee_id = a.id \
             AND t.status IN ('open', 'pending')) AS open_tickets \
             FROM agents a WHERE a.id IN ({})",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for id in agent_ids {
            query = query.bind(*id);
        }
        let rows = query.fetch_all(&mut *self.inner).await?;
        for &id in agent_ids {
            if let Some(row) = rows
                .iter()
                .find(|r| r.try_get::<i64, _>("id").ok() == Some(id))
            {
                loads.push(MemberLoad {
                    agent_id: id,
                    on_duty: row.try_get::<i64, _>("on_duty")? != 0,
                    open_tickets: row.try_get("open_tickets")?,
                });
            }
        }
        Ok(loads)
    }

    /// The agent's open and pending tickets of the team.
    pub async fn open_tickets_of(&mut self, agent_id: i64, team_id: i64) -> Result<Vec<i64>> {
        let rows = sqlx::query(
            "SELECT id FROM tickets WHERE assignee_id = $1 AND team_id = $2 \
             AND status IN ('open', 'pending') ORDER BY id",
        )
        .bind(agent_id)
        .bind(team_id)
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
    }

    /// Marks an agent on duty (`/back`) or away (`/away`).
    pub async fn set_on_duty(&mut self, agent_id: i64, on_duty: bool) -> Result<()> {
        sqlx::query("UPDATE agents SET on_duty = $2 WHERE id = $1")
            .bind(agent_id)
            .bind(i64::from(on_duty))
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }
}
