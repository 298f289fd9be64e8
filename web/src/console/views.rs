//! Ticket lists: the views with their counts, sort orders, filters and search.

use std::collections::BTreeSet;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use relaydesk_storage::{
    Cursor, Platform, Priority, SlaFilter, StatusFilter, TicketFilter, TicketRow, TicketSort,
    TicketStatus, Tx,
};
use serde::Deserialize;

use super::layout::{self, moment};
use super::marks;
use super::session::Session;
use crate::{AppState, WebError};

const PAGE_SIZE: i64 = 50;

/// The console's ticket views.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Unassigned,
    Mine,
    Teams,
    Open,
    Due,
    Closed,
    /// Every ticket in any status (where search lands).
    All,
}

impl View {
    pub const ALL: [View; 7] = [
        View::Unassigned,
        View::Mine,
        View::Teams,
        View::Open,
        View::Due,
        View::Closed,
        View::All,
    ];

    pub fn key(self) -> &'static str {
        match self {
            View::Unassigned => "unassigned",
            View::Mine => "mine",
            View::Teams => "teams",
            View::Open => "open",
            View::Due => "due",
            View::Closed => "closed",
            View::All => "all",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            View::Unassigned => "Unassigned",
            View::Mine => "Assigned to me",
            View::Teams => "My teams' open",
            View::Open => "All open",
            View::Due => "Due soon / breached",
            View::Closed => "Closed",
            View::All => "All tickets",
        }
    }

    fn parse(text: &str) -> Option<View> {
        View::ALL.into_iter().find(|v| v.key() == text)
    }

    /// The filters whose union is this view (several when SQL cannot say it in one).
    fn filters(self, agent_id: i64, team_ids: &[i64], now_ms: i64) -> Vec<TicketFilter> {
        let active = TicketFilter {
            status: Some(StatusFilter::Active),
            ..TicketFilter::default()
        };
        match self {
            View::Unassigned => vec![TicketFilter {
                unassigned: true,
                ..active
            }],
            View::Mine => vec![TicketFilter {
                assignee_id: Some(agent_id),
                ..active
            }],
            View::Teams => team_ids
                .iter()
                .map(|team| TicketFilter {
                    team_id: Some(*team),
                    ..active.clone()
                })
                .collect(),
            View::Open => vec![active],
            View::Due => vec![
                TicketFilter {
                    sla: Some(SlaFilter::Breached { now_ms }),
                    ..active.clone()
                },
                TicketFilter {
                    sla: Some(SlaFilter::DueSoon { now_ms }),
                    ..active
                },
            ],
            View::Closed => vec![TicketFilter {
                status: Some(StatusFilter::Only(TicketStatus::Closed)),
                ..TicketFilter::default()
            }],
            View::All => vec![TicketFilter::default()],
        }
    }
}

/// The list's query string. Empty values mean "any".
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    view: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    tag: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    cursor: String,
}

/// What the agent chose beyond the view.
#[derive(Debug, Default)]
struct Narrowing {
    origin: Option<Platform>,
    priority: Option<Priority>,
    tag: Option<String>,
    assignee_id: Option<i64>,
    query: Option<String>,
}

fn some(text: &str) -> Option<&str> {
    let text = text.trim();
    (!text.is_empty()).then_some(text)
}

impl ListQuery {
    fn narrowing(&self) -> Result<Narrowing, String> {
        Ok(Narrowing {
            origin: some(&self.channel)
                .map(|c| c.parse().map_err(|_| format!("Unknown channel `{c}`.")))
                .transpose()?,
            priority: some(&self.priority)
                .map(|p| p.parse().map_err(|_| format!("Unknown priority `{p}`.")))
                .transpose()?,
            tag: some(&self.tag).map(str::to_string),
            assignee_id: some(&self.assignee)
                .map(|a| a.parse().map_err(|_| format!("Unknown assignee `{a}`.")))
                .transpose()?,
            query: match some(&self.q) {
                Some(q) => match relaydesk_storage::search_problem(q) {
                    Some(problem) => return Err(format!("{}.", layout::capitalised(&problem))),
                    None => Some(q.to_string()),
                },
                None => None,
            },
        })
    }

    /// This query's string with one parameter replaced (for links between views and pages).
    fn with(&self, key: &str, value: &str) -> String {
        let pairs = [
            ("view", self.view.as_str()),
            ("sort", self.sort.as_str()),
            ("channel", self.channel.as_str()),
            ("priority", self.priority.as_str()),
            ("tag", self.tag.as_str()),
            ("assignee", self.assignee.as_str()),
            ("q", self.q.as_str()),
        ];
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            let v = if k == key { value } else { v };
            if !v.is_empty() {
                out.append_pair(k, v);
            }
        }
        if key == "cursor" {
            out.append_pair("cursor", value);
        }
        format!("/console/tickets?{}", out.finish())
    }
}

fn narrow(filter: &TicketFilter, n: &Narrowing) -> TicketFilter {
    TicketFilter {
        origin: n.origin.or(filter.origin),
        priority: n.priority.or(filter.priority),
        tag: n.tag.clone().or_else(|| filter.tag.clone()),
        assignee_id: n.assignee_id.or(filter.assignee_id),
        query: n.query.clone().or_else(|| filter.query.clone()),
        ..filter.clone()
    }
}

/// The agent's teams.
async fn team_ids(tx: &mut Tx, agent_id: i64) -> Result<Vec<i64>, WebError> {
    Ok(tx.agent_team_ids(agent_id).await?)
}

/// Rows of several lists as one list in `sort` order.
fn union_sorted(lists: Vec<Vec<TicketRow>>, sort: TicketSort) -> Vec<TicketRow> {
    let mut seen = BTreeSet::new();
    let mut rows: Vec<TicketRow> = lists
        .into_iter()
        .flatten()
        .filter(|r| seen.insert(r.id))
        .collect();
    rows.sort_by(|a, b| {
        let activity = b.updated_at.cmp(&a.updated_at).then(b.id.cmp(&a.id));
        match sort {
            TicketSort::Activity => activity,
            TicketSort::Priority => b.priority.cmp(&a.priority).then(activity),
            TicketSort::Due => match (a.next_due_at, b.next_due_at) {
                (Some(x), Some(y)) => x.cmp(&y).then(activity),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => activity,
            },
        }
    });
    rows.truncate(PAGE_SIZE as usize);
    rows
}

/// GET /console/tickets
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<ListQuery>,
) -> Result<Response, WebError> {
    let view = match some(&query.view) {
        None => View::Unassigned,
        Some(text) => match View::parse(text) {
            Some(view) => view,
            None => return Ok(bad_request(&session, &format!("Unknown view `{text}`."))),
        },
    };
    let sort = match some(&query.sort) {
        None => TicketSort::Activity,
        Some(text) => match text.parse() {
            Ok(sort) => sort,
            Err(_) => {
                return Ok(bad_request(
                    &session,
                    &format!("Unknown sort order `{text}`."),
                ))
            }
        },
    };
    let narrowing = match query.narrowing() {
        Ok(n) => n,
        Err(problem) => return Ok(bad_request(&session, &problem)),
    };
    let cursor = match some(&query.cursor) {
        None => None,
        Some(text) => match Cursor::decode(text, sort) {
            Ok(cursor) => Some(cursor),
            Err(e) => return Ok(bad_request(&session, &e.to_string())),
        },
    };
    let now_ms = state.clock.now_ms();
    let me = session.agent.id;
    let mut tx = state.store.begin().await?;
    let teams = team_ids(&mut tx, me).await?;
    let mut counts = Vec::new();
    for v in View::ALL {
        let mut total = 0;
        for filter in v.filters(me, &teams, now_ms) {
            total += tx.count_tickets_by(&filter).await?;
        }
        counts.push((v, total));
    }
    let filters: Vec<TicketFilter> = view
        .filters(me, &teams, now_ms)
        .iter()
        .map(|f| narrow(f, &narrowing))
        .collect();
    let (rows, next) = match filters.as_slice() {
        [one] => {
            let page = tx
                .list_tickets(one, sort, cursor.as_ref(), PAGE_SIZE)
                .await?;
            (page.tickets, page.next_cursor)
        }
        several => {
            let mut lists = Vec::new();
            for filter in several {
                lists.push(
                    tx.list_tickets(filter, sort, None, PAGE_SIZE)
                        .await?
                        .tickets,
                );
            }
            (union_sorted(lists, sort), None)
        }
    };
    let agents = tx.agents().await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let marks = tx.read_marks(me, &ids).await?;
    tx.commit().await?;
    let unread: Vec<bool> = rows
        .iter()
        .map(|r| {
            r.last_customer_message_at.is_some_and(|at| {
                marks
                    .get(&r.id)
                    .is_none_or(|seen| *seen < at.timestamp_millis())
            })
        })
        .collect();
    let unread_count = unread.iter().filter(|u| **u).count();
    let title = if unread_count > 0 {
        format!("({unread_count}) {}", view.title())
    } else {
        view.title().to_string()
    };

    let body = html! {
        div.layout {
            nav.views aria-label="Views" data-live="views" {
                @for (v, count) in &counts {
                    a href=(query.with("view", v.key())) class=[(*v == view).then_some("current")] data-view=(v.key()) {
                        span { (v.title()) }
                        span.count { (count) }
                    }
                }
            }
            section.main {
                h1 { (view.title()) }
                form.filters method="get" action="/console/tickets" {
                    input type="hidden" name="view" value=(view.key());
                    label { "Search" input type="search" name="q" value=(query.q); }
                    label { "Channel"
                        select name="channel" {
                            option value="" { "any" }
                            @for p in Platform::ALL {
                                option value=(p) selected[narrowing.origin == Some(*p)] { (p) }
                            }
                        }
                    }
                    label { "Priority"
                        select name="priority" {
                            option value="" { "any" }
                            @for p in Priority::ALL {
                                option value=(p) selected[narrowing.priority == Some(*p)] { (p) }
                            }
                        }
                    }
                    label { "Tag" input type="text" name="tag" value=(query.tag); }
                    label { "Assignee"
                        select name="assignee" {
                            option value="" { "any" }
                            @for a in &agents {
                                option value=(a.id) selected[narrowing.assignee_id == Some(a.id)] { (a.name) }
                            }
                        }
                    }
                    label { "Sort"
                        select name="sort" {
                            @for s in TicketSort::ALL {
                                option value=(s) selected[*s == sort] { (sort_title(*s)) }
                            }
                        }
                    }
                    button type="submit" { "Apply" }
                }
                form #bulk.filters.bulk method="post" action="/console/tickets/bulk" {
                    input type="hidden" name="csrf" value=(session.csrf);
                    input type="hidden" name="back" value=(query.with("view", view.key()));
                    label { "With the ticked tickets"
                        select name="action" {
                            @for action in super::actions::BULK {
                                option value=(action) { (action) }
                            }
                        }
                    }
                    label { "Value (agent, tag, priority or team)" input type="text" name="value"; }
                    button type="submit" { "Apply to ticked" }
                }
                div.list data-live="list" {
                    (table(&rows, &unread, now_ms))
                    @if let Some(next) = next {
                        p { a href=(query.with("cursor", &next)) rel="next" { "Next page" } }
                    }
                }
            }
        }
    };
    Ok(layout::live_page(
        &title,
        &session.agent,
        &session.csrf,
        Some("/console/events"),
        body,
    )
    .into_response())
}

fn sort_title(sort: TicketSort) -> &'static str {
    match sort {
        TicketSort::Activity => "Last activity",
        TicketSort::Priority => "Priority",
        TicketSort::Due => "Due time",
    }
}

fn table(rows: &[TicketRow], unread: &[bool], now_ms: i64) -> Markup {
    html! {
        @if rows.is_empty() {
            p.empty { "No tickets here." }
        } @else {
            table.tickets {
                thead { tr {
                    th { span.visually-hidden { "Select" } } th { "#" } th { "Subject" } th { "Customer" } th { "Channel" }
                    th { "Priority" } th { "Assignee" } th { "Tags" } th { "Last activity" } th { "SLA" }
                } }
                tbody {
                    @for (row, unread) in rows.iter().zip(unread.iter().chain(std::iter::repeat(&false))) {
                        tr data-ticket=(row.number) class=[unread.then_some("unread")] {
                            td { input type="checkbox" name="ticket" value=(row.number) form="bulk" aria-label={ "Select #" (row.number) }; }
                            td {
                                @if *unread { span.dot role="img" title="New from the customer" aria-label="unread" {} }
                                a href={ "/console/tickets/" (row.number) } { "#" (row.number) }
                            }
                            td {
                                a href={ "/console/tickets/" (row.number) } { (row.subject) }
                                @if row.status != TicketStatus::Open { " " span.chip.status { (row.status) } }
                                @if let Some(team) = &row.team_name { " " span.chip.team title="Team" { (team) } }
                            }
                            td { span.who-cell { (marks::avatar(row.customer_id, &row.customer_name)) (row.customer_name) } }
                            td { (marks::channel(row.origin)) }
                            td { span class={ "chip priority-" (row.priority) } { (row.priority) } }
                            td { (row.assignee_name.as_deref().unwrap_or("—")) }
                            td { (row.tags.join(", ")) }
                            td { (moment(row.updated_at)) }
                            td {
                                @if row.status.is_active() {
                                    (marks::sla(row.next_due_at, row.next_warn_at, now_ms))
                                } @else { "—" }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn bad_request(session: &Session, problem: &str) -> Response {
    let body = html! {
        p.flash.error role="alert" { (problem) }
        p { a href="/console/tickets" { "Back to the tickets" } }
    };
    (
        StatusCode::BAD_REQUEST,
        layout::page("Bad request", &session.agent, &session.csrf, body),
    )
        .into_response()
}
