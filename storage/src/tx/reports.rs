//! Reports: figures per period and per agent, team, channel or priority, computed in SQL on
//! both backends. Periods are given as half-open `[start, end)` intervals in milliseconds (the
//! caller cuts them in the team's time zone); each query joins the tickets against them, so no
//! ticket is loaded into memory. Percentiles are nearest-rank (`ceil(p·n)`-th value), from
//! window functions both SQLite and PostgreSQL have.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use sqlx::Row;

use super::Tx;
use crate::Result;

/// What a report's rows are split by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportGroup {
    /// One row per period.
    All,
    /// The ticket's assignee (now).
    Agent,
    Team,
    /// Where the customer wrote from.
    Channel,
    Priority,
}

impl ReportGroup {
    pub const NAMES: [&'static str; 5] = ["all", "agent", "team", "channel", "priority"];

    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "all" | "" => Some(Self::All),
            "agent" => Some(Self::Agent),
            "team" => Some(Self::Team),
            "channel" => Some(Self::Channel),
            "priority" => Some(Self::Priority),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Agent => "agent",
            Self::Team => "team",
            Self::Channel => "channel",
            Self::Priority => "priority",
        }
    }

    /// The group's name for ticket `t` (and the joins it needs).
    fn key(self) -> (&'static str, &'static str) {
        match self {
            Self::All => ("'all'", ""),
            Self::Agent => (
                "COALESCE(ga.name, '(unassigned)')",
                " LEFT JOIN agents ga ON ga.id = t.assignee_id",
            ),
            Self::Team => (
                "COALESCE(gt.name, '(no team)')",
                " LEFT JOIN teams gt ON gt.id = t.team_id",
            ),
            Self::Channel => ("t.origin", ""),
            Self::Priority => ("t.priority", ""),
        }
    }
}

/// A period: `[start_ms, end_ms)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start_ms: i64,
    pub end_ms: i64,
}

/// A duration's spread: how many, the median and the 90th percentile (nearest rank).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Spread {
    pub count: i64,
    pub median_ms: Option<i64>,
    pub p90_ms: Option<i64>,
}

/// Every figure of one period and group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    /// Tickets opened in the period.
    pub opened: i64,
    /// Tickets closed in the period (and still closed).
    pub closed: i64,
    /// Reopens (by the customer writing again or `/reopen`) in the period.
    pub reopened: i64,
    /// Opening to first agent reply, of the first replies in the period.
    pub first_response: Spread,
    /// Opening to close, of the tickets closed in the period.
    pub resolution: Spread,
    /// `first_response` in the business hours of each ticket's SLA policy (tickets under one).
    pub first_response_business: Spread,
    /// `resolution` in the business hours of each ticket's SLA policy (tickets under one).
    pub resolution_business: Spread,
    /// First replies in the period to tickets under an SLA policy whose first-response goal was
    /// not breached.
    pub first_response_met: i64,
    /// First-response goals breached in the period.
    pub first_response_missed: i64,
    pub next_response_missed: i64,
    /// Tickets under an SLA policy closed in the period without a resolution breach.
    pub resolution_met: i64,
    pub resolution_missed: i64,
    /// Satisfaction surveys sent in the period, how many were answered and the ratings' sum.
    pub csat_sent: i64,
    pub csat_answered: i64,
    pub csat_sum: i64,
    /// Tickets the customer marked solved by an FAQ answer in the period.
    pub self_served: i64,
    /// Tickets open at the period's end.
    pub backlog: i64,
    /// Tickets that ended (closed, whether still closed or not, or merged) in the period: what
    /// the backlog is counted from.
    pub ended: i64,
}

impl Figures {
    /// The average rating (1–5), when some survey was answered.
    pub fn csat_average(&self) -> Option<f64> {
        (self.csat_answered > 0).then(|| self.csat_sum as f64 / self.csat_answered as f64)
    }

    /// Answered surveys per sent one (0–1).
    pub fn csat_response_rate(&self) -> Option<f64> {
        (self.csat_sent > 0).then(|| self.csat_answered as f64 / self.csat_sent as f64)
    }

    /// Met goals per decided goal (0–1), first response and resolution together.
    pub fn sla_hit_rate(&self) -> Option<f64> {
        let met = self.first_response_met + self.resolution_met;
        let decided = met + self.first_response_missed + self.resolution_missed;
        (decided > 0).then(|| met as f64 / decided as f64)
    }
}

/// One row of a report.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRow {
    /// Index into the periods asked for.
    pub period: usize,
    /// The group's name (`all` when not split).
    pub group: String,
    pub figures: Figures,
}

/// The `WITH` clause naming the periods `b(idx, s, e)`.
fn periods_cte(periods: &[Period]) -> String {
    let mut sql = String::from("WITH b (idx, s, e) AS (VALUES ");
    for (i, p) in periods.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        let _ = write!(
            sql,
            "(CAST({i} AS BIGINT), CAST({} AS BIGINT), CAST({} AS BIGINT))",
            p.start_ms, p.end_ms
        );
    }
    sql.push(')');
    sql
}

type Cells = BTreeMap<(usize, String), Figures>;
/// Where a counted figure goes.
type SetCount = fn(&mut Figures, i64);
/// Where a duration's spread goes.
type SetSpread = fn(&mut Figures, Spread);

impl Tx {
    /// The figures of every period, split by `group`. Rows come in period order, then by group
    /// name; a group with nothing in a period has no row for it.
    pub async fn report(
        &mut self,
        periods: &[Period],
        group: ReportGroup,
    ) -> Result<Vec<ReportRow>> {
        if periods.is_empty() {
            return Ok(Vec::new());
        }
        let cte = periods_cte(periods);
        let (key, join) = group.key();
        let mut cells = Cells::new();

        let in_period = |column: &str| format!("t.{column} >= b.s AND t.{column} < b.e");
        let counts: [(&str, String, SetCount); 4] = [
            (
                "opened",
                format!("FROM b JOIN tickets t ON {}{join}", in_period("created_at")),
                |f, n| f.opened = n,
            ),
            (
                "closed",
                format!(
                    "FROM b JOIN tickets t ON {} AND t.status = 'closed'{join}",
                    in_period("closed_at")
                ),
                |f, n| f.closed = n,
            ),
            (
                "reopened",
                format!(
                    "FROM b JOIN audit_log l ON l.action = 'reopen' AND l.created_at >= b.s AND l.created_at < b.e \
                     JOIN tickets t ON t.id = l.ticket_id{join}"
                ),
                |f, n| f.reopened = n,
            ),
            (
                "ended",
                format!("FROM b JOIN tickets t ON {}{join}", in_period("closed_at")),
                |f, n| f.ended = n,
            ),
        ];
        for (_, from, set) in &counts {
            let sql = format!(
                "{cte} SELECT b.idx AS idx, {key} AS g, COUNT(*) AS n {from} GROUP BY 1, 2"
            );
            self.count_cells(&sql, &mut cells, *set).await?;
        }
        self.backlog(periods, group, &mut cells).await?;

        let spreads: [(String, SetSpread); 4] = [
            (
                format!(
                    "SELECT b.idx AS idx, {key} AS g, t.first_agent_reply_at - t.created_at AS ms \
                     FROM b JOIN tickets t ON {}{join}",
                    in_period("first_agent_reply_at")
                ),
                |f, s| f.first_response = s,
            ),
            (
                format!(
                    "SELECT b.idx AS idx, {key} AS g, t.closed_at - t.created_at AS ms \
                     FROM b JOIN tickets t ON {} AND t.status = 'closed'{join}",
                    in_period("closed_at")
                ),
                |f, s| f.resolution = s,
            ),
            (
                format!(
                    "SELECT b.idx AS idx, {key} AS g, s.first_response_business_ms AS ms \
                     FROM b JOIN tickets t ON {} JOIN ticket_sla s ON s.ticket_id = t.id \
                     AND s.first_response_business_ms IS NOT NULL{join}",
                    in_period("first_agent_reply_at")
                ),
                |f, s| f.first_response_business = s,
            ),
            (
                format!(
                    "SELECT b.idx AS idx, {key} AS g, s.resolution_business_ms AS ms \
                     FROM b JOIN tickets t ON {} AND t.status = 'closed' JOIN ticket_sla s \
                     ON s.ticket_id = t.id AND s.resolution_business_ms IS NOT NULL{join}",
                    in_period("closed_at")
                ),
                |f, s| f.resolution_business = s,
            ),
        ];
        for (values, set) in &spreads {
            let sql = format!(
                "{cte}, v AS ({values}), \
                 r AS (SELECT idx, g, ms, ROW_NUMBER() OVER (PARTITION BY idx, g ORDER BY ms) AS rn, \
                       COUNT(*) OVER (PARTITION BY idx, g) AS n FROM v) \
                 SELECT idx, g, MAX(n) AS n, \
                 MAX(CASE WHEN rn = (n + 1) / 2 THEN ms END) AS median, \
                 MAX(CASE WHEN rn = (9 * n + 9) / 10 THEN ms END) AS p90 \
                 FROM r GROUP BY idx, g"
            );
            for row in sqlx::query(&sql).fetch_all(&mut *self.inner).await? {
                let spread = Spread {
                    count: row.try_get("n")?,
                    median_ms: row.try_get("median")?,
                    p90_ms: row.try_get("p90")?,
                };
                set(cell(&mut cells, &row)?, spread);
            }
        }

        let breach = |goal: &str| {
            format!(
                "NOT EXISTS (SELECT 1 FROM sla_alerts a WHERE a.ticket_id = t.id \
                 AND a.goal = '{goal}' AND a.level = 'breach')"
            )
        };
        let sla: [(String, SetCount); 5] = [
            (
                format!(
                    "FROM b JOIN tickets t ON {} JOIN ticket_sla s ON s.ticket_id = t.id \
                     AND s.policy IS NOT NULL AND {}{join}",
                    in_period("first_agent_reply_at"),
                    breach("first_response")
                ),
                |f, n| f.first_response_met = n,
            ),
            (
                format!(
                    "FROM b JOIN tickets t ON {} AND t.status = 'closed' JOIN ticket_sla s \
                     ON s.ticket_id = t.id AND s.policy IS NOT NULL AND {}{join}",
                    in_period("closed_at"),
                    breach("resolution")
                ),
                |f, n| f.resolution_met = n,
            ),
            (missed("first_response", join), |f, n| {
                f.first_response_missed = n
            }),
            (missed("next_response", join), |f, n| {
                f.next_response_missed = n
            }),
            (missed("resolution", join), |f, n| f.resolution_missed = n),
        ];
        for (from, set) in &sla {
            let sql = format!(
                "{cte} SELECT b.idx AS idx, {key} AS g, COUNT(*) AS n {from} GROUP BY 1, 2"
            );
            self.count_cells(&sql, &mut cells, *set).await?;
        }

        let sql = format!(
            "{cte} SELECT b.idx AS idx, {key} AS g, COUNT(*) AS n, COUNT(c.rating) AS answered, \
             CAST(COALESCE(SUM(c.rating), 0) AS BIGINT) AS total \
             FROM b JOIN csat_surveys c ON c.created_at >= b.s AND c.created_at < b.e \
             JOIN tickets t ON t.id = c.ticket_id{join} GROUP BY 1, 2"
        );
        for row in sqlx::query(&sql).fetch_all(&mut *self.inner).await? {
            let sent: i64 = row.try_get("n")?;
            let answered: i64 = row.try_get("answered")?;
            let total: i64 = row.try_get("total")?;
            let figures = cell(&mut cells, &row)?;
            figures.csat_sent = sent;
            figures.csat_answered = answered;
            figures.csat_sum = total;
        }

        let sql = format!(
            "{cte} SELECT b.idx AS idx, {key} AS g, COUNT(*) AS n FROM b JOIN faq_offers o \
             ON o.outcome = 'solved' AND o.answered_at >= b.s AND o.answered_at < b.e \
             JOIN tickets t ON t.id = o.ticket_id{join} GROUP BY 1, 2"
        );
        self.count_cells(&sql, &mut cells, |f, n| f.self_served = n)
            .await?;

        Ok(cells
            .into_iter()
            .map(|((period, group), figures)| ReportRow {
                period,
                group,
                figures,
            })
            .collect())
    }

    /// The backlog at each period's end: the tickets open at the first period's start (those
    /// still open now, and those closed since), plus the ones opened, minus the ones that ended
    /// (closed or merged) up to that end. Only index ranges are read: a ticket has a
    /// `closed_at` exactly when it is closed or merged, never before it was opened.
    async fn backlog(
        &mut self,
        periods: &[Period],
        group: ReportGroup,
        cells: &mut Cells,
    ) -> Result<()> {
        let (key, join) = group.key();
        let Some(first) = periods.first() else {
            return Ok(());
        };
        let start = first.start_ms;
        let mut open: BTreeMap<String, i64> = BTreeMap::new();
        for sql in [
            format!(
                "SELECT {key} AS g, COUNT(*) AS n FROM tickets t{join} \
                 WHERE t.status IN ('open', 'pending') AND t.created_at < {start} GROUP BY 1"
            ),
            format!(
                "SELECT {key} AS g, COUNT(*) AS n FROM tickets t{join} \
                 WHERE t.closed_at >= {start} AND t.created_at < {start} GROUP BY 1"
            ),
        ] {
            for row in sqlx::query(&sql).fetch_all(&mut *self.inner).await? {
                let n: i64 = row.try_get("n")?;
                *open.entry(row.try_get("g")?).or_default() += n;
            }
        }
        let groups: std::collections::BTreeSet<String> = open
            .keys()
            .cloned()
            .chain(cells.keys().map(|(_, g)| g.clone()))
            .collect();
        for g in groups {
            let mut backlog = open.get(&g).copied().unwrap_or(0);
            for period in 0..periods.len() {
                let key = (period, g.clone());
                let (opened, ended) = cells.get(&key).map_or((0, 0), |f| (f.opened, f.ended));
                backlog += opened - ended;
                if backlog != 0 {
                    cells.entry(key).or_default().backlog = backlog;
                }
            }
        }
        Ok(())
    }

    async fn count_cells(&mut self, sql: &str, cells: &mut Cells, set: SetCount) -> Result<()> {
        for row in sqlx::query(sql).fetch_all(&mut *self.inner).await? {
            let n: i64 = row.try_get("n")?;
            set(cell(cells, &row)?, n);
        }
        Ok(())
    }
}

/// Breaches of `goal` due in the period, one per ticket.
fn missed(goal: &str, join: &str) -> String {
    format!(
        "FROM b JOIN (SELECT DISTINCT ticket_id, due_at FROM sla_alerts WHERE goal = '{goal}' \
         AND level = 'breach') a ON a.due_at >= b.s AND a.due_at < b.e \
         JOIN tickets t ON t.id = a.ticket_id{join}"
    )
}

fn cell<'c>(cells: &'c mut Cells, row: &sqlx::any::AnyRow) -> Result<&'c mut Figures> {
    let idx: i64 = row.try_get("idx")?;
    let group: String = row.try_get("g")?;
    Ok(cells
        .entry((usize::try_from(idx).unwrap_or(0), group))
        .or_default())
}
