//! Ticket lists as the console and the REST API show them: filters, free-text search, sort
//! orders and keyset pagination with an opaque cursor; and the people and teams around a ticket.
//!
//! One query shape serves every list: a page's tickets are picked first, filtered in SQL with
//! only the tables the filter and the order need, ordered by a key that is unique per row (the
//! ticket id breaks ties) and continued after the last row of the previous page; only those
//! rows are then joined with their customer, assignee, team and SLA due and warning times.
//! Pages stay stable while tickets are added; a ticket whose sort key changes between two
//! pages may move. Counts of closed and merged tickets come from kept counts
//! (`ticket_status_counts`), not from the rows.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::people::{agent, AGENT_COLUMNS};
use super::{opt_time, parse, time, Tx};
use crate::{Agent, Backend, Customer, Platform, Priority, Result, StorageError, TicketStatus};

/// Which statuses a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusFilter {
    /// Open or pending.
    Active,
    Only(TicketStatus),
}

impl FromStr for StatusFilter {
    type Err = StorageError;

    /// `active`, `open`, `pending`, `closed` or `merged`.
    fn from_str(s: &str) -> Result<Self> {
        if s.trim().eq_ignore_ascii_case("active") {
            return Ok(StatusFilter::Active);
        }
        s.parse().map(StatusFilter::Only)
    }
}

/// Where a ticket's SLA clocks stand at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaFilter {
    /// A goal's warning time has passed but none of its due times.
    DueSoon { now_ms: i64 },
    /// A goal's due time has passed.
    Breached { now_ms: i64 },
}

/// What a ticket list shows. Every field narrows it; the default shows every ticket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketFilter {
    pub status: Option<StatusFilter>,
    /// Only tickets nobody is assigned to.
    pub unassigned: bool,
    pub assignee_id: Option<i64>,
    pub team_id: Option<i64>,
    pub origin: Option<Platform>,
    pub priority: Option<Priority>,
    /// A tag, compared without regard to case or a leading `#`.
    pub tag: Option<String>,
    pub customer_id: Option<i64>,
    /// Words that must all appear (case-insensitively) in the ticket's subject, its messages,
    /// or its customer's name or email; a word like `1042` or `#1042` also matches that
    /// ticket number.
    pub query: Option<String>,
    pub sla: Option<SlaFilter>,
}

impl TicketFilter {
    /// The open tickets of a queue view (`/queue`, `GET /api/v1/tickets?view=`):
    /// `unassigned`, `mine` (`agent_id`'s), `team` (`team_id`'s), `breaching` (an SLA goal
    /// overdue at `now_ms`) or `all`. `None` for an unknown view.
    pub fn view(view: &str, agent_id: i64, team_id: Option<i64>, now_ms: i64) -> Option<Self> {
        let mut filter = TicketFilter {
            status: Some(StatusFilter::Active),
            ..TicketFilter::default()
        };
        match view {
            "unassigned" => filter.unassigned = true,
            "mine" => filter.assignee_id = Some(agent_id),
            // An agent in no team sees no team tickets, not every ticket.
            "team" => filter.team_id = Some(team_id.unwrap_or(-1)),
            "breaching" => filter.sla = Some(SlaFilter::Breached { now_ms }),
            "all" => {}
            _ => return None,
        }
        Some(filter)
    }
}

/// The order of a ticket list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TicketSort {
    /// Most recently changed first.
    #[default]
    Activity,
    /// Urgent first, then by activity.
    Priority,
    /// Earliest SLA due time first; tickets without one last.
    Due,
}

impl TicketSort {
    pub const ALL: &'static [TicketSort] =
        &[TicketSort::Activity, TicketSort::Priority, TicketSort::Due];

    pub fn as_str(self) -> &'static str {
        match self {
            TicketSort::Activity => "activity",
            TicketSort::Priority => "priority",
            TicketSort::Due => "due",
        }
    }
}

impl fmt::Display for TicketSort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TicketSort {
    type Err = StorageError;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "activity" => Ok(TicketSort::Activity),
            "priority" => Ok(TicketSort::Priority),
            "due" => Ok(TicketSort::Due),
            other => Err(StorageError::Corrupt(format!(
                "`{other}` is not a ticket sort order (activity, priority, due)"
            ))),
        }
    }
}

/// Where the next page of a list starts. Made by [`Tx::list_tickets`]; clients hand the
/// string back unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    sort: TicketSort,
    /// Priority rank (priority sort) or due time (due sort); unused by activity.
    key: i64,
    updated_at: i64,
    id: i64,
}

/// A cursor string that was not made for this list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the cursor is not valid for this list")]
pub struct BadCursor;

impl Cursor {
    /// Reads a cursor made for a list in `sort` order.
    pub fn decode(text: &str, sort: TicketSort) -> std::result::Result<Cursor, BadCursor> {
        let bytes = unhex(text).ok_or(BadCursor)?;
        let plain = String::from_utf8(bytes).map_err(|_| BadCursor)?;
        let mut parts = plain.split('.');
        let (Some(tag), Some(key), Some(updated_at), Some(id), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(BadCursor);
        };
        if tag != sort.as_str() {
            return Err(BadCursor);
        }
        let number = |s: &str| s.parse::<i64>().map_err(|_| BadCursor);
        Ok(Cursor {
            sort,
            key: number(key)?,
            updated_at: number(updated_at)?,
            id: number(id)?,
        })
    }

    pub fn encode(&self) -> String {
        let plain = format!(
            "{}.{}.{}.{}",
            self.sort.as_str(),
            self.key,
            self.updated_at,
            self.id
        );
        plain.bytes().map(|b| format!("{b:02x}")).collect()
    }

    fn after(sort: TicketSort, row: &TicketRow) -> Cursor {
        let key = match sort {
            TicketSort::Activity => 0,
            TicketSort::Priority => priority_rank(row.priority),
            TicketSort::Due => row.next_due_at.map_or(NO_DUE, |t| t.timestamp_millis()),
        };
        Cursor {
            sort,
            key,
            updated_at: row.updated_at.timestamp_millis(),
            id: row.id,
        }
    }
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    if !text.len().is_multiple_of(2) || text.len() > 256 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// One line of a ticket list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TicketRow {
    pub id: i64,
    pub number: i64,
    pub subject: String,
    pub status: TicketStatus,
    pub priority: Priority,
    pub origin: Platform,
    pub customer_id: i64,
    pub customer_name: String,
    pub customer_email: Option<String>,
    pub assignee_id: Option<i64>,
    pub assignee_name: Option<String>,
    pub team_id: Option<i64>,
    pub team_name: Option<String>,
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
    /// Last activity: the last time anything changed on the ticket.
    pub updated_at: DateTime<Utc>,
    /// When the customer last wrote (what makes a ticket unread for an agent).
    pub last_customer_message_at: Option<DateTime<Utc>>,
    /// The earliest due time of the SLA goals whose clocks run.
    pub next_due_at: Option<DateTime<Utc>>,
    /// The earliest warning time ("due soon") of those goals.
    pub next_warn_at: Option<DateTime<Utc>>,
}

/// A page of a ticket list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TicketPage {
    pub tickets: Vec<TicketRow>,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// One chat identity of a customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerIdentity {
    pub platform: Platform,
    pub external_id: String,
    pub display_name: String,
    pub language: Option<String>,
}

/// A customer with every identity they wrote from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerProfile {
    pub customer: Customer,
    pub identities: Vec<CustomerIdentity>,
}

/// A team, for pickers and filters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Team {
    pub id: i64,
    pub name: String,
}

/// Due key of tickets without an SLA due time: after every real one.
const NO_DUE: i64 = i64::MAX;

fn priority_rank(priority: Priority) -> i64 {
    match priority {
        Priority::Low => 0,
        Priority::Normal => 1,
        Priority::High => 2,
        Priority::Urgent => 3,
    }
}

/// The smaller of two nullable expressions, ignoring NULL (portable `LEAST`).
fn least(a: &str, b: &str) -> String {
    format!("(CASE WHEN {a} IS NULL THEN {b} WHEN {b} IS NULL OR {a} <= {b} THEN {a} ELSE {b} END)")
}

/// A value bound to a `$n` placeholder.
enum Param {
    Int(i64),
    Text(String),
}

/// Collects placeholders and their values while a statement is put together.
#[derive(Default)]
struct Params(Vec<Param>);

impl Params {
    fn int(&mut self, v: i64) -> String {
        self.0.push(Param::Int(v));
        format!("${}", self.0.len())
    }

    fn text(&mut self, v: impl Into<String>) -> String {
        self.0.push(Param::Text(v.into()));
        format!("${}", self.0.len())
    }

    fn bind<'q>(
        self,
        mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        for p in self.0 {
            query = match p {
                Param::Int(v) => query.bind(v),
                Param::Text(v) => query.bind(v),
            };
        }
        query
    }
}

/// `%word%` for `LIKE … ESCAPE '\'`, with the word's own wildcards taken literally.
fn like_pattern(word: &str) -> String {
    let mut out = String::with_capacity(word.len() + 2);
    out.push('%');
    for c in word.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// A ticket's priority as a number, most urgent highest (over `t`, the tickets).
const PRIORITY_RANK: &str =
    "CASE t.priority WHEN 'urgent' THEN 3 WHEN 'high' THEN 2 WHEN 'normal' THEN 1 ELSE 0 END";

/// The earliest due time of the running SLA goals (over `s`, the ticket's SLA row).
fn next_due() -> String {
    least(
        &least("s.first_response_due", "s.next_response_due"),
        "s.resolution_due",
    )
}

/// The earliest warning time of the running SLA goals (over `s`).
fn next_warn() -> String {
    least(
        &least("s.first_response_warn", "s.next_response_warn"),
        "s.resolution_warn",
    )
}

/// The due sort key: the next due time, tickets without one last.
fn due_key() -> String {
    format!("COALESCE({}, {NO_DUE})", next_due())
}

/// What a filter asks of the rows, as `WHERE` conditions over `t` (tickets), `c` (their
/// customers) and `s` (their SLA rows), with the joins those need.
struct Conditions {
    wheres: Vec<String>,
    customers: bool,
    sla: bool,
}

impl Conditions {
    fn of(filter: &TicketFilter, p: &mut Params) -> Conditions {
        let mut wheres: Vec<String> = Vec::new();
        match filter.status {
            Some(StatusFilter::Active) => wheres.push("t.status IN ('open', 'pending')".into()),
            Some(StatusFilter::Only(status)) => {
                wheres.push(format!("t.status = {}", p.text(status.as_str())))
            }
            None => {}
        }
        if filter.unassigned {
            wheres.push("t.assignee_id IS NULL".into());
        }
        if let Some(id) = filter.assignee_id {
            wheres.push(format!("t.assignee_id = {}", p.int(id)));
        }
        if let Some(id) = filter.team_id {
            wheres.push(format!("t.team_id = {}", p.int(id)));
        }
        if let Some(origin) = filter.origin {
            wheres.push(format!("t.origin = {}", p.text(origin.as_str())));
        }
        if let Some(priority) = filter.priority {
            wheres.push(format!("t.priority = {}", p.text(priority.as_str())));
        }
        if let Some(id) = filter.customer_id {
            wheres.push(format!("t.customer_id = {}", p.int(id)));
        }
        if let Some(tag) = &filter.tag {
            let tag = tag.trim().trim_start_matches('#').to_lowercase();
            wheres.push(format!(
                "EXISTS (SELECT 1 FROM ticket_tags g WHERE g.ticket_id = t.id AND LOWER(g.tag) = {})",
                p.text(tag)
            ));
        }
        if let Some(query) = &filter.query {
            // The edges refuse longer searches (`search_problem`); this only keeps a caller that
            // did not check from building a statement the database cannot parse.
            for word in query.split_whitespace().take(MAX_SEARCH_WORDS) {
                let like = p.text(like_pattern(word));
                let matches =
                    |column: &str| format!("LOWER({column}) LIKE LOWER({like}) ESCAPE '\\'");
                let mut any = vec![
                    matches("t.subject"),
                    matches("c.display_name"),
                    matches("c.email"),
                    format!(
                        "EXISTS (SELECT 1 FROM messages m WHERE m.ticket_id = t.id AND {})",
                        matches("m.body")
                    ),
                    format!(
                        "EXISTS (SELECT 1 FROM customer_identities ci WHERE ci.customer_id = t.customer_id AND {})",
                        matches("ci.display_name")
                    ),
                ];
                if let Ok(number) = word.trim_start_matches('#').parse::<i64>() {
                    any.push(format!("t.number = {}", p.int(number)));
                }
                wheres.push(format!("({})", any.join(" OR ")));
            }
        }
        if let Some(sla) = filter.sla {
            let goals = [
                ("s.first_response_warn", "s.first_response_due"),
                ("s.next_response_warn", "s.next_response_due"),
                ("s.resolution_warn", "s.resolution_due"),
            ];
            let (SlaFilter::DueSoon { now_ms } | SlaFilter::Breached { now_ms }) = sla;
            let now = p.int(now_ms);
            let breached = goals
                .iter()
                .map(|(_, due)| format!("{due} <= {now}"))
                .collect::<Vec<_>>()
                .join(" OR ");
            match sla {
                SlaFilter::Breached { .. } => wheres.push(format!("({breached})")),
                SlaFilter::DueSoon { .. } => {
                    let soon = goals
                        .iter()
                        .map(|(warn, due)| format!("({warn} <= {now} AND {due} > {now})"))
                        .collect::<Vec<_>>()
                        .join(" OR ");
                    wheres.push(format!(
                        "({soon}) AND NOT ({})",
                        goals
                            .iter()
                            .map(|(_, due)| format!("COALESCE({due} <= {now}, FALSE)"))
                            .collect::<Vec<_>>()
                            .join(" OR ")
                    ));
                }
            }
        }
        Conditions {
            wheres,
            customers: filter.query.is_some(),
            sla: filter.sla.is_some(),
        }
    }

    /// `FROM tickets t` with the joins the conditions (and `sla` besides) need, and `WHERE`.
    fn source(&self, sla: bool) -> String {
        let mut sql = String::from("FROM tickets t");
        if self.customers {
            sql.push_str(" JOIN customers c ON c.id = t.customer_id");
        }
        if self.sla || sla {
            sql.push_str(" LEFT JOIN ticket_sla s ON s.ticket_id = t.id");
        }
        if !self.wheres.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&self.wheres.join(" AND "));
        }
        sql
    }
}

/// `SELECT` of a list's columns for the tickets `t` (the outer part of every list query).
fn columns() -> String {
    format!(
        "SELECT t.id, t.number, t.subject, t.status, t.priority, t.origin, t.customer_id, \
         t.assignee_id, t.team_id, t.created_at, t.updated_at, t.last_customer_message_at, \
         c.display_name AS customer_name, c.email AS customer_email, \
         a.name AS assignee_name, tm.name AS team_name, {} AS next_due_at, {} AS next_warn_at \
         FROM tickets t JOIN customers c ON c.id = t.customer_id \
         LEFT JOIN agents a ON a.id = t.assignee_id \
         LEFT JOIN teams tm ON tm.id = t.team_id \
         LEFT JOIN ticket_sla s ON s.ticket_id = t.id",
        next_due(),
        next_warn()
    )
}

/// `ORDER BY` of a sort (over `t` and `s`).
fn order_by(sort: TicketSort) -> String {
    match sort {
        TicketSort::Activity => "t.updated_at DESC, t.id DESC".into(),
        TicketSort::Priority => format!("{PRIORITY_RANK} DESC, t.updated_at DESC, t.id DESC"),
        TicketSort::Due => format!("{} ASC, t.id ASC", due_key()),
    }
}

/// The condition "comes after `c`" in its sort order (over `t` and `s`).
fn after(c: &Cursor, p: &mut Params) -> String {
    match c.sort {
        TicketSort::Activity => {
            let (u, id) = (p.int(c.updated_at), p.int(c.id));
            format!("(t.updated_at < {u} OR (t.updated_at = {u} AND t.id < {id}))")
        }
        TicketSort::Priority => {
            let (k, u, id) = (p.int(c.key), p.int(c.updated_at), p.int(c.id));
            format!(
                "({PRIORITY_RANK} < {k} OR ({PRIORITY_RANK} = {k} AND \
                 (t.updated_at < {u} OR (t.updated_at = {u} AND t.id < {id}))))"
            )
        }
        TicketSort::Due => {
            let (k, id) = (p.int(c.key), p.int(c.id));
            let due = due_key();
            format!("({due} > {k} OR ({due} = {k} AND t.id > {id}))")
        }
    }
}

/// One page of a list: the ids are chosen first with only the tables the filter and the order
/// need (so the database can walk an index in list order and stop after `limit`), then only
/// those rows are joined with their customer, assignee, team and SLA row.
fn page_query(
    filter: &TicketFilter,
    sort: TicketSort,
    cursor: Option<&Cursor>,
    limit: i64,
    p: &mut Params,
) -> String {
    let mut conditions = Conditions::of(filter, p);
    if let Some(c) = cursor {
        conditions.wheres.push(after(c, p));
    }
    let order = order_by(sort);
    let keys = format!(
        "SELECT t.id {} ORDER BY {order} LIMIT {}",
        conditions.source(sort == TicketSort::Due),
        p.int(limit)
    );
    format!("{} WHERE t.id IN ({keys}) ORDER BY {order}", columns())
}

fn ticket_row(row: &AnyRow) -> Result<TicketRow> {
    Ok(TicketRow {
        id: row.try_get("id")?,
        number: row.try_get("number")?,
        subject: row.try_get("subject")?,
        status: parse(row, "status")?,
        priority: parse(row, "priority")?,
        origin: parse(row, "origin")?,
        customer_id: row.try_get("customer_id")?,
        customer_name: row.try_get("customer_name")?,
        customer_email: row.try_get("customer_email")?,
        assignee_id: row.try_get("assignee_id")?,
        assignee_name: row.try_get("assignee_name")?,
        team_id: row.try_get("team_id")?,
        team_name: row.try_get("team_name")?,
        tags: Vec::new(),
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
        last_customer_message_at: opt_time(row, "last_customer_message_at")?,
        next_due_at: opt_time(row, "next_due_at")?,
        next_warn_at: opt_time(row, "next_warn_at")?,
    })
}

/// Most rows one page may hold.
pub const MAX_PAGE: i64 = 500;

/// Most words a search may have; each is one more condition over every message.
pub const MAX_SEARCH_WORDS: usize = 10;
/// Longest search text, in characters.
pub const MAX_SEARCH_CHARS: usize = 200;

/// Why a search text is refused, for the edges to show (`None`: it may run).
pub fn search_problem(query: &str) -> Option<String> {
    if query.split_whitespace().count() > MAX_SEARCH_WORDS {
        return Some(format!(
            "a search may have at most {MAX_SEARCH_WORDS} words"
        ));
    }
    if query.chars().count() > MAX_SEARCH_CHARS {
        return Some(format!(
            "a search may be at most {MAX_SEARCH_CHARS} characters long"
        ));
    }
    None
}

impl Tx {
    /// One page of the tickets `filter` lets through, in `sort` order, starting after `cursor`
    /// (from an earlier page of the same list; see [`Cursor::decode`]). `limit` is capped at
    /// [`MAX_PAGE`].
    pub async fn list_tickets(
        &mut self,
        filter: &TicketFilter,
        sort: TicketSort,
        cursor: Option<&Cursor>,
        limit: i64,
    ) -> Result<TicketPage> {
        let limit = limit.clamp(1, MAX_PAGE);
        let mut tickets = self.select_rows(filter, sort, cursor, limit + 1).await?;
        let more = tickets.len() as i64 > limit;
        tickets.truncate(limit as usize);
        let next_cursor = match tickets.last() {
            Some(last) if more => Some(Cursor::after(sort, last).encode()),
            _ => None,
        };
        Ok(TicketPage {
            tickets,
            next_cursor,
        })
    }

    /// How many tickets `filter` lets through (the console's view counts). Closed and merged
    /// tickets, alone or with every other, are counted from `ticket_status_counts`, not row by
    /// row.
    pub async fn count_tickets_by(&mut self, filter: &TicketFilter) -> Result<i64> {
        let by_status_alone = *filter
            == TicketFilter {
                status: filter.status,
                ..TicketFilter::default()
            };
        if by_status_alone {
            match filter.status {
                Some(StatusFilter::Only(
                    status @ (TicketStatus::Closed | TicketStatus::Merged),
                )) => {
                    return self.kept_status_count(Some(status)).await;
                }
                None => {
                    let active = TicketFilter {
                        status: Some(StatusFilter::Active),
                        ..TicketFilter::default()
                    };
                    let active = Box::pin(self.count_tickets_by(&active)).await?;
                    return Ok(active + self.kept_status_count(None).await?);
                }
                _ => {}
            }
        }
        let mut p = Params::default();
        let sql = format!(
            "SELECT COUNT(*) AS n {}",
            Conditions::of(filter, &mut p).source(false)
        );
        let row = p
            .bind(sqlx::query(&sql))
            .fetch_one(&mut *self.inner)
            .await?;
        Ok(row.try_get("n")?)
    }

    /// Closed or merged tickets (`None`: both), from the kept counts.
    async fn kept_status_count(&mut self, status: Option<TicketStatus>) -> Result<i64> {
        let sql = "SELECT CAST(COALESCE(SUM(delta), 0) AS BIGINT) AS n FROM ticket_status_counts";
        let row = match status {
            Some(status) => {
                sqlx::query(&format!("{sql} WHERE status = $1"))
                    .bind(status.as_str())
                    .fetch_one(&mut *self.inner)
                    .await?
            }
            None => sqlx::query(sql).fetch_one(&mut *self.inner).await?,
        };
        Ok(row.try_get("n")?)
    }

    /// Lets SQLite's query planner refresh its statistics where they are stale (`PRAGMA
    /// optimize`, each table's look bounded to a sample by `analysis_limit` so it holds the
    /// writer only briefly); PostgreSQL's autovacuum does this on its own.
    pub async fn refresh_planner_statistics(&mut self) -> Result<()> {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA analysis_limit = 400")
                .execute(&mut *self.inner)
                .await?;
            sqlx::query("PRAGMA optimize = 0x10002")
                .execute(&mut *self.inner)
                .await?;
        }
        Ok(())
    }

    /// Folds the rows of `ticket_status_counts` into one per status (housekeeping: the sums
    /// stay the same, reading them gets cheaper). Safe beside writers and other folds.
    pub async fn fold_ticket_counts(&mut self) -> Result<()> {
        let row = sqlx::query(
            "SELECT COALESCE(MAX(id), 0) AS last, COUNT(*) AS n FROM ticket_status_counts",
        )
        .fetch_one(&mut *self.inner)
        .await?;
        let (last, n): (i64, i64) = (row.try_get("last")?, row.try_get("n")?);
        // One row per status (closed, merged) at most: nothing to fold.
        if n <= 2 {
            return Ok(());
        }
        match self.backend {
            // One statement: it deletes exactly the rows it sums, whatever other transactions
            // add meanwhile.
            Backend::Postgres => {
                sqlx::query(
                    "WITH moved AS (DELETE FROM ticket_status_counts RETURNING status, delta) \
                     INSERT INTO ticket_status_counts (status, delta) \
                     SELECT status, SUM(delta) FROM moved GROUP BY status",
                )
                .execute(&mut *self.inner)
                .await?;
            }
            // One writer at a time: nothing changes between the statements.
            Backend::Sqlite => {
                sqlx::query(
                    "INSERT INTO ticket_status_counts (status, delta) \
                     SELECT status, SUM(delta) FROM ticket_status_counts WHERE id <= $1 GROUP BY status",
                )
                .bind(last)
                .execute(&mut *self.inner)
                .await?;
                sqlx::query("DELETE FROM ticket_status_counts WHERE id <= $1")
                    .bind(last)
                    .execute(&mut *self.inner)
                    .await?;
            }
        }
        Ok(())
    }

    /// Every ticket of a customer, most recently active first.
    pub async fn customer_tickets(&mut self, customer_id: i64) -> Result<Vec<TicketRow>> {
        let filter = TicketFilter {
            customer_id: Some(customer_id),
            ..TicketFilter::default()
        };
        self.select_rows(&filter, TicketSort::Activity, None, i64::MAX)
            .await
    }

    /// The list line of one ticket, by its number.
    pub async fn ticket_row(&mut self, number: i64) -> Result<Option<TicketRow>> {
        let sql = format!("{} WHERE t.number = $1", columns());
        let row = sqlx::query(&sql)
            .bind(number)
            .fetch_optional(&mut *self.inner)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let mut rows = vec![ticket_row(&row)?];
        self.fill_tags(&mut rows).await?;
        Ok(rows.pop())
    }

    async fn select_rows(
        &mut self,
        filter: &TicketFilter,
        sort: TicketSort,
        cursor: Option<&Cursor>,
        limit: i64,
    ) -> Result<Vec<TicketRow>> {
        let mut p = Params::default();
        let sql = page_query(filter, sort, cursor, limit, &mut p);
        let rows = p
            .bind(sqlx::query(&sql))
            .fetch_all(&mut *self.inner)
            .await?;
        let mut rows = rows.iter().map(ticket_row).collect::<Result<Vec<_>>>()?;
        self.fill_tags(&mut rows).await?;
        Ok(rows)
    }

    async fn fill_tags(&mut self, rows: &mut [TicketRow]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut p = Params::default();
        let ids: Vec<String> = rows.iter().map(|r| p.int(r.id)).collect();
        let sql = format!(
            "SELECT ticket_id, tag FROM ticket_tags WHERE ticket_id IN ({}) ORDER BY ticket_id, tag",
            ids.join(", ")
        );
        let tags = p
            .bind(sqlx::query(&sql))
            .fetch_all(&mut *self.inner)
            .await?;
        for tag in &tags {
            let ticket_id: i64 = tag.try_get("ticket_id")?;
            let name: String = tag.try_get("tag")?;
            if let Some(row) = rows.iter_mut().find(|r| r.id == ticket_id) {
                row.tags.push(name);
            }
        }
        Ok(())
    }

    /// A customer with their chat identities; `None` when there is no such customer.
    pub async fn customer_profile(&mut self, customer_id: i64) -> Result<Option<CustomerProfile>> {
        let customer = match self.customer(customer_id).await {
            Ok(c) => c,
            Err(StorageError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let rows = sqlx::query(
            "SELECT platform, external_id, display_name, language FROM customer_identities \
             WHERE customer_id = $1 ORDER BY platform, external_id",
        )
        .bind(customer_id)
        .fetch_all(&mut *self.inner)
        .await?;
        let identities = rows
            .iter()
            .map(|r| {
                Ok(CustomerIdentity {
                    platform: parse(r, "platform")?,
                    external_id: r.try_get("external_id")?,
                    display_name: r.try_get("display_name")?,
                    language: r.try_get("language")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(CustomerProfile {
            customer,
            identities,
        }))
    }

    /// Sets or clears a customer's email address.
    /// The customer's email address if it is vouched for (see [`Tx::set_customer_email`]).
    pub async fn verified_customer_email(&mut self, customer_id: i64) -> Result<Option<String>> {
        let row = sqlx::query(
            "SELECT email FROM customers WHERE id = $1 AND email_verified = 1 AND email IS NOT NULL",
        )
        .bind(customer_id)
        .fetch_optional(&mut *self.inner)
        .await?;
        Ok(row.map(|r| r.try_get("email")).transpose()?)
    }

    /// Sets the customer's email address; `verified` when something the operator trusts vouches
    /// for it (a signature of the site, an API token), not when a visitor typed it.
    pub async fn set_customer_email(
        &mut self,
        customer_id: i64,
        email: Option<&str>,
        verified: bool,
    ) -> Result<()> {
        let done =
            sqlx::query("UPDATE customers SET email = $2, email_verified = $3 WHERE id = $1")
                .bind(customer_id)
                .bind(email)
                .bind(i64::from(verified && email.is_some()))
                .execute(&mut *self.inner)
                .await?;
        if done.rows_affected() == 0 {
            return Err(StorageError::NotFound(format!("customer id {customer_id}")));
        }
        Ok(())
    }

    /// Every agent, by name.
    pub async fn agents(&mut self) -> Result<Vec<Agent>> {
        let sql = format!("SELECT {AGENT_COLUMNS} FROM agents a ORDER BY a.name, a.id");
        let rows = sqlx::query(&sql).fetch_all(&mut *self.inner).await?;
        rows.iter().map(agent).collect()
    }

    /// Every team, by name.
    pub async fn teams(&mut self) -> Result<Vec<Team>> {
        let rows = sqlx::query("SELECT id, name FROM teams ORDER BY name, id")
            .fetch_all(&mut *self.inner)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Team {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_belong_to_their_sort() {
        let c = Cursor {
            sort: TicketSort::Priority,
            key: 3,
            updated_at: 1_780_000_000_000,
            id: 42,
        };
        let text = c.encode();
        assert_eq!(Cursor::decode(&text, TicketSort::Priority), Ok(c));
        assert_eq!(Cursor::decode(&text, TicketSort::Due), Err(BadCursor));
        assert_eq!(Cursor::decode("zz", TicketSort::Priority), Err(BadCursor));
        assert_eq!(Cursor::decode("", TicketSort::Activity), Err(BadCursor));
    }

    #[test]
    fn search_words_match_their_wildcards_literally() {
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }

    #[test]
    fn status_filters_parse() {
        assert_eq!(
            "Active".parse::<StatusFilter>().unwrap(),
            StatusFilter::Active
        );
        assert_eq!(
            "closed".parse::<StatusFilter>().unwrap(),
            StatusFilter::Only(TicketStatus::Closed)
        );
        assert!("sleeping".parse::<StatusFilter>().is_err());
        assert_eq!("due".parse::<TicketSort>().unwrap(), TicketSort::Due);
    }
}
