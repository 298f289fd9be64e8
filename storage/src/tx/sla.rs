//! SLA bookkeeping: each ticket's due times, its clock pauses, warnings posted once, scheduled
//! runs claimed once, and the figures of a summary.

use chrono::{DateTime, Duration, Utc};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{opt_time, parse, time, Tx};
use crate::sla::{AlertKey, Due, OpenTicket, Pause, Scope, SummaryFacts, TicketSla};
use crate::{Platform, Priority, Result};

pub(super) const SLA_COLUMNS: &str =
    "ticket_id, policy, waiting_since, first_response_due, first_response_warn, \
     next_response_due, next_response_warn, resolution_due, resolution_warn, next_due_at, \
     first_response_business_ms, resolution_business_ms";

pub(super) fn ticket_sla(row: &AnyRow) -> Result<TicketSla> {
    let due = |warn: &str, due: &str| -> Result<Due> {
        Ok(Due {
            warn_at: opt_time(row, warn)?,
            due_at: opt_time(row, due)?,
        })
    };
    Ok(TicketSla {
        ticket_id: row.try_get("ticket_id")?,
        policy: row.try_get("policy")?,
        waiting_since: opt_time(row, "waiting_since")?,
        first_response: due("first_response_warn", "first_response_due")?,
        next_response: due("next_response_warn", "next_response_due")?,
        resolution: due("resolution_warn", "resolution_due")?,
        next_due_at: opt_time(row, "next_due_at")?,
        first_response_business_ms: row.try_get("first_response_business_ms")?,
        resolution_business_ms: row.try_get("resolution_business_ms")?,
    })
}

fn ms(t: Option<DateTime<Utc>>) -> Option<i64> {
    t.map(|t| t.timestamp_millis())
}

/// `(t.team_id = $a OR ($b = 1 AND t.team_id IS NULL) OR $c = 1)` with its three values.
fn scope_binds(scope: Scope) -> (Option<i64>, i64, i64) {
    match scope {
        Scope::All => (None, 0, 1),
        Scope::Team {
            team_id,
            with_unteamed,
        } => (team_id, i64::from(with_unteamed), 0),
    }
}

impl Tx {
    /// The ticket's stored SLA row, if computed before.
    pub async fn ticket_sla(&mut self, ticket_id: i64) -> Result<Option<TicketSla>> {
        let sql = format!("SELECT {SLA_COLUMNS} FROM ticket_sla WHERE ticket_id = $1");
        let row = sqlx::query(&sql)
            .bind(ticket_id)
            .fetch_optional(&mut *self.inner)
            .await?;
        row.as_ref().map(ticket_sla).transpose()
    }

    /// Writes a ticket's SLA row (insert or replace).
    pub async fn save_ticket_sla(&mut self, sla: &TicketSla, now_ms: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO ticket_sla (ticket_id, policy, waiting_since, first_response_due, \
             first_response_warn, next_response_due, next_response_warn, resolution_due, \
             resolution_warn, next_due_at, updated_at, first_response_business_ms, \
             resolution_business_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             ON CONFLICT (ticket_id) DO UPDATE SET policy = excluded.policy, \
             waiting_since = excluded.waiting_since, first_response_due = excluded.first_response_due, \
             first_response_warn = excluded.first_response_warn, \
             next_response_due = excluded.next_response_due, \
             next_response_warn = excluded.next_response_warn, \
             resolution_due = excluded.resolution_due, resolution_warn = excluded.resolution_warn, \
             next_due_at = excluded.next_due_at, updated_at = excluded.updated_at, \
             first_response_business_ms = excluded.first_response_business_ms, \
             resolution_business_ms = excluded.resolution_business_ms",
        )
        .bind(sla.ticket_id)
        .bind(sla.policy.as_deref())
        .bind(ms(sla.waiting_since))
        .bind(ms(sla.first_response.due_at))
        .bind(ms(sla.first_response.warn_at))
        .bind(ms(sla.next_response.due_at))
        .bind(ms(sla.next_response.warn_at))
        .bind(ms(sla.resolution.due_at))
        .bind(ms(sla.resolution.warn_at))
        .bind(ms(sla.next_due_at))
        .bind(now_ms)
        .bind(sla.first_response_business_ms)
        .bind(sla.resolution_business_ms)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// Tickets whose next warning or breach moment is at or before `now`, soonest first.
    pub async fn sla_due_tickets(&mut self, now_ms: i64, limit: i64) -> Result<Vec<i64>> {
        let rows = sqlx::query(
            "SELECT ticket_id FROM ticket_sla WHERE next_due_at IS NOT NULL AND next_due_at <= $1 \
             ORDER BY next_due_at LIMIT $2",
        )
        .bind(now_ms)
        .bind(limit)
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter().map(|r| Ok(r.try_get("ticket_id")?)).collect()
    }

    /// The intervals the ticket's clock stood still, in order.
    pub async fn sla_pauses(&mut self, ticket_id: i64) -> Result<Vec<Pause>> {
        let rows = sqlx::query(
            "SELECT started_at, ended_at FROM sla_pauses WHERE ticket_id = $1 ORDER BY started_at, id",
        )
        .bind(ticket_id)
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Pause {
                    start: time(r, "started_at")?,
                    end: opt_time(r, "ended_at")?,
                })
            })
            .collect()
    }

    /// Stops the ticket's clock from `now` (no-op when it is already stopped).
    pub async fn pause_sla(&mut self, ticket_id: i64, now_ms: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO sla_pauses (ticket_id, started_at) SELECT $1, $2 WHERE NOT EXISTS \
             (SELECT 1 FROM sla_pauses WHERE ticket_id = $1 AND ended_at IS NULL)",
        )
        .bind(ticket_id)
        .bind(now_ms)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// Restarts the ticket's clock at `now` (no-op when it runs).
    pub async fn resume_sla(&mut self, ticket_id: i64, now_ms: i64) -> Result<()> {
        sqlx::query(
            "UPDATE sla_pauses SET ended_at = $2 WHERE ticket_id = $1 AND ended_at IS NULL",
        )
        .bind(ticket_id)
        .bind(now_ms)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// The warnings recorded for a ticket.
    pub async fn sla_alerts(&mut self, ticket_id: i64) -> Result<Vec<AlertKey>> {
        let rows = sqlx::query(
            "SELECT goal, round, level FROM sla_alerts WHERE ticket_id = $1 ORDER BY id",
        )
        .bind(ticket_id)
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AlertKey {
                    goal: parse(r, "goal")?,
                    round: r.try_get("round")?,
                    level: parse(r, "level")?,
                })
            })
            .collect()
    }

    /// Records a warning. True when this call recorded it (and so must post it); false when it
    /// was recorded before, by this or another instance. `posted` says whether a message goes out
    /// (a due-soon overtaken by its breach is recorded without one).
    pub async fn record_sla_alert(
        &mut self,
        ticket_id: i64,
        key: AlertKey,
        due_at: DateTime<Utc>,
        posted: bool,
        now_ms: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO sla_alerts (ticket_id, goal, round, level, due_at, posted, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        )
        .bind(ticket_id)
        .bind(key.goal.as_str())
        .bind(key.round)
        .bind(key.level.as_str())
        .bind(due_at.timestamp_millis())
        .bind(i64::from(posted))
        .bind(now_ms)
        .execute(&mut *self.inner)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Claims one tick of a scheduled job. True for the one caller that gets to run it.
    pub async fn claim_scheduled_run(
        &mut self,
        job: &str,
        tick_ms: i64,
        now_ms: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO scheduled_runs (job, tick, ran_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(job)
        .bind(tick_ms)
        .bind(now_ms)
        .execute(&mut *self.inner)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn team_name(&mut self, team_id: i64) -> Result<Option<String>> {
        let row = sqlx::query("SELECT name FROM teams WHERE id = $1")
            .bind(team_id)
            .fetch_optional(&mut *self.inner)
            .await?;
        row.map(|r| Ok(r.try_get("name")?)).transpose()
    }

    pub async fn team_id_by_name(&mut self, name: &str) -> Result<Option<i64>> {
        let row = sqlx::query("SELECT id FROM teams WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *self.inner)
            .await?;
        row.map(|r| Ok(r.try_get("id")?)).transpose()
    }

    /// Creates a team (or returns the existing one's id).
    pub async fn ensure_team(&mut self, name: &str, now_ms: i64) -> Result<i64> {
        sqlx::query("INSERT INTO teams (name, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(name)
            .bind(now_ms)
            .execute(&mut *self.inner)
            .await?;
        let row = sqlx::query("SELECT id FROM teams WHERE name = $1")
            .bind(name)
            .fetch_one(&mut *self.inner)
            .await?;
        Ok(row.try_get("id")?)
    }

    /// Puts a ticket in a team (`None`: no team).
    pub async fn set_team(
        &mut self,
        ticket_id: i64,
        team_id: Option<i64>,
        now_ms: i64,
    ) -> Result<()> {
        sqlx::query("UPDATE tickets SET team_id = $2, updated_at = $3 WHERE id = $1")
            .bind(ticket_id)
            .bind(team_id)
            .bind(now_ms)
            .execute(&mut *self.inner)
            .await?;
        self.event(crate::EventKind::TicketUpdated, ticket_id, None, false);
        Ok(())
    }

    /// The figures of a summary over `[since, now]`; "due before next" counts goals due in
    /// `[now, next]`.
    pub async fn sla_summary(
        &mut self,
        scope: Scope,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
        next: DateTime<Utc>,
    ) -> Result<SummaryFacts> {
        let (team, unteamed, all) = scope_binds(scope);
        let in_scope = "(t.team_id = $1 OR ($2 = 1 AND t.team_id IS NULL) OR $3 = 1)";
        let (since, now, next) = (
            since.timestamp_millis(),
            now.timestamp_millis(),
            next.timestamp_millis(),
        );

        let rows = sqlx::query(&format!(
            "SELECT t.priority AS priority, COUNT(*) AS n FROM tickets t \
             WHERE t.status IN ('open', 'pending') AND {in_scope} GROUP BY t.priority"
        ))
        .bind(team)
        .bind(unteamed)
        .bind(all)
        .fetch_all(&mut *self.inner)
        .await?;
        let mut open_by_priority = rows
            .iter()
            .map(|r| Ok((parse::<Priority>(r, "priority")?, r.try_get::<i64, _>("n")?)))
            .collect::<Result<Vec<_>>>()?;
        open_by_priority.sort_by_key(|(p, _)| std::cmp::Reverse(*p));

        let breached = self
            .count(
                &format!(
                    "SELECT COUNT(DISTINCT a.ticket_id) AS n FROM sla_alerts a \
                     JOIN tickets t ON t.id = a.ticket_id WHERE a.level = 'breach' \
                     AND a.due_at > $4 AND a.due_at <= $5 AND {in_scope}"
                ),
                (team, unteamed, all),
                &[since, now],
            )
            .await?;
        let due_before_next = self
            .count(
                &format!(
                    "SELECT COUNT(*) AS n FROM ticket_sla s JOIN tickets t ON t.id = s.ticket_id \
                     WHERE t.status IN ('open', 'pending') AND {in_scope} AND ( \
                     (s.first_response_due >= $4 AND s.first_response_due <= $5) OR \
                     (s.next_response_due >= $4 AND s.next_response_due <= $5) OR \
                     (s.resolution_due >= $4 AND s.resolution_due <= $5))"
                ),
                (team, unteamed, all),
                &[now, next],
            )
            .await?;
        let closed = self
            .count(
                &format!(
                    "SELECT COUNT(*) AS n FROM tickets t WHERE t.status = 'closed' \
                     AND t.closed_at > $4 AND t.closed_at <= $5 AND {in_scope}"
                ),
                (team, unteamed, all),
                &[since, now],
            )
            .await?;
        let first_response = self
            .spans(
                &format!(
                    "SELECT t.first_agent_reply_at - t.created_at AS ms FROM tickets t \
                     WHERE t.first_agent_reply_at > $4 AND t.first_agent_reply_at <= $5 AND {in_scope}"
                ),
                (team, unteamed, all),
                since,
                now,
            )
            .await?;
        let resolution = self
            .spans(
                &format!(
                    "SELECT t.closed_at - t.created_at AS ms FROM tickets t WHERE t.status = 'closed' \
                     AND t.closed_at > $4 AND t.closed_at <= $5 AND {in_scope}"
                ),
                (team, unteamed, all),
                since,
                now,
            )
            .await?;
        let rows = sqlx::query(&format!(
            "SELECT t.number AS number, t.subject AS subject, c.display_name AS customer, \
             t.status AS status, t.priority AS priority, t.created_at AS created_at \
             FROM tickets t JOIN customers c ON c.id = t.customer_id \
             WHERE t.status IN ('open', 'pending') AND {in_scope} ORDER BY t.created_at, t.id LIMIT 5"
        ))
        .bind(team)
        .bind(unteamed)
        .bind(all)
        .fetch_all(&mut *self.inner)
        .await?;
        let oldest_open = rows
            .iter()
            .map(|r| {
                Ok(OpenTicket {
                    number: r.try_get("number")?,
                    subject: r.try_get("subject")?,
                    customer: r.try_get("customer")?,
                    status: parse(r, "status")?,
                    priority: parse(r, "priority")?,
                    created_at: time(r, "created_at")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(SummaryFacts {
            open_by_priority,
            breached,
            due_before_next,
            first_response,
            resolution,
            closed,
            oldest_open,
        })
    }

    async fn count(
        &mut self,
        sql: &str,
        scope: (Option<i64>, i64, i64),
        window: &[i64; 2],
    ) -> Result<i64> {
        let row = sqlx::query(sql)
            .bind(scope.0)
            .bind(scope.1)
            .bind(scope.2)
            .bind(window[0])
            .bind(window[1])
            .fetch_one(&mut *self.inner)
            .await?;
        Ok(row.try_get("n")?)
    }

    async fn spans(
        &mut self,
        sql: &str,
        scope: (Option<i64>, i64, i64),
        since: i64,
        now: i64,
    ) -> Result<Vec<Duration>> {
        let rows = sqlx::query(sql)
            .bind(scope.0)
            .bind(scope.1)
            .bind(scope.2)
            .bind(since)
            .bind(now)
            .fetch_all(&mut *self.inner)
            .await?;
        rows.iter()
            .map(|r| Ok(Duration::milliseconds(r.try_get::<i64, _>("ms")?)))
            .collect()
    }

    /// The ticket's staff threads, per platform, for references in warnings.
    pub async fn threads_of(&mut self, ticket_id: i64) -> Result<Vec<(Platform, String)>> {
        let rows = sqlx::query(
            "SELECT platform, thread_ref FROM staff_threads WHERE ticket_id = $1 ORDER BY platform",
        )
        .bind(ticket_id)
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter()
            .map(|r| Ok((parse(r, "platform")?, r.try_get("thread_ref")?)))
            .collect()
    }

    /// The agent's user id on `platform`, if they have a linked identity there: who a warning
    /// on that platform mentions.
    pub async fn agent_user_on(
        &mut self,
        agent_id: i64,
        platform: Platform,
    ) -> Result<Option<String>> {
        let row = sqlx::query(
            "SELECT external_id FROM agent_identities WHERE agent_id = $1 AND platform = $2 \
             ORDER BY external_id LIMIT 1",
        )
        .bind(agent_id)
        .bind(platform.as_str())
        .fetch_optional(&mut *self.inner)
        .await?;
        Ok(row.map(|r| r.try_get("external_id")).transpose()?)
    }
}
