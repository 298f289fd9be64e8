//! The ticket page: the whole conversation in order (internal notes marked), the customer
//! panel, SLA state, and forms for every action.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use maud::{html, Markup};
use relaydesk_desk::canned;
use relaydesk_storage::sla::{Due, Goal, TicketSla};
use relaydesk_storage::{
    Agent, AuthorKind, CannedReply, CustomerProfile, Message, ReplyDelivery, Ticket, TicketRow,
    TicketStatus,
};

use relaydesk_desk::catalogue::{ArgKind, ArgSpec, CommandSpec, CATALOGUE};
use relaydesk_desk::Language;

use super::layout::{self, when};
use super::session::Session;
use crate::transcript::{Audience, Format, Transcript};
use crate::{AppState, WebError};

/// Everything the ticket page shows, read in one transaction.
pub struct TicketView {
    pub ticket: Ticket,
    pub messages: Vec<Message>,
    /// How each reply's send to the customer stands.
    pub deliveries: Vec<ReplyDelivery>,
    pub tags: Vec<String>,
    pub assignee: Option<Agent>,
    pub team: Option<String>,
    pub customer: Option<CustomerProfile>,
    pub other_tickets: Vec<TicketRow>,
    pub sla: Option<TicketSla>,
    pub agents: Vec<Agent>,
    /// The canned replies' names, for the reply box's picker.
    pub canned: Vec<String>,
    /// The customer's satisfaction rating (1–5), once given.
    pub csat: Option<u8>,
    /// The customer's comment on their rating.
    pub csat_comment: Option<String>,
    /// The number of the ticket this one was merged into.
    pub merged_into: Option<i64>,
    /// The number of the ticket this one was split off, and of those split off this one.
    pub split_from: Option<i64>,
    pub split_off: Vec<i64>,
}

pub async fn load(state: &AppState, number: i64) -> Result<Option<TicketView>, WebError> {
    let mut tx = state.store.begin().await?;
    let Some(ticket) = tx.ticket_by_number(number).await? else {
        return Ok(None);
    };
    let messages = tx.messages(ticket.id).await?;
    let deliveries = tx.reply_deliveries(ticket.id).await?;
    let tags = tx.tags(ticket.id).await?;
    let assignee = match ticket.assignee_id {
        Some(id) => Some(tx.agent(id).await?),
        None => None,
    };
    let team = match ticket.team_id {
        Some(id) => tx.team_name(id).await?,
        None => None,
    };
    let customer = tx.customer_profile(ticket.customer_id).await?;
    let other_tickets = tx
        .customer_tickets(ticket.customer_id)
        .await?
        .into_iter()
        .filter(|t| t.id != ticket.id)
        .collect();
    let sla = tx.ticket_sla(ticket.id).await?;
    let agents = tx.agents().await?;
    let canned = tx.canned_reply_names().await?;
    let survey = tx.ticket_csat(ticket.id).await?;
    let csat = survey.as_ref().and_then(|s| s.rating);
    let csat_comment = survey.and_then(|s| s.comment);
    let merged_into = match ticket.merged_into {
        Some(id) => Some(tx.ticket(id).await?.number),
        None => None,
    };
    let split_from = match ticket.split_from {
        Some(id) => Some(tx.ticket(id).await?.number),
        None => None,
    };
    let split_off = tx.split_off(ticket.id).await?;
    tx.commit().await?;
    Ok(Some(TicketView {
        ticket,
        messages,
        deliveries,
        tags,
        assignee,
        team,
        customer,
        other_tickets,
        sla,
        agents,
        canned,
        csat,
        csat_comment,
        merged_into,
        split_from,
        split_off,
    }))
}

/// `format` and `notes` of a transcript download.
#[derive(Debug, serde::Deserialize)]
pub struct TranscriptQuery {
    format: Option<String>,
    notes: Option<bool>,
}

/// GET /console/tickets/{number}/transcript?format=html|txt&notes=true
pub async fn transcript(
    State(state): State<AppState>,
    session: Session,
    Path(number): Path<i64>,
    axum::extract::Query(query): axum::extract::Query<TranscriptQuery>,
) -> Result<Response, WebError> {
    let Some(format) = Format::parse(query.format.as_deref()) else {
        return Ok((StatusCode::BAD_REQUEST, "format is html or txt").into_response());
    };
    let audience = if query.notes.unwrap_or(false) {
        Audience::Staff
    } else {
        Audience::Customer
    };
    match Transcript::load(&state.store, number).await? {
        Some(transcript) => Ok(crate::api::transcript_file(&transcript, format, audience)),
        None => Ok(not_found(&session, number)),
    }
}

/// GET /console/tickets/{number}
pub async fn show(
    State(state): State<AppState>,
    session: Session,
    Path(number): Path<i64>,
) -> Result<Response, WebError> {
    render(&state, &session, number, StatusCode::OK, None).await
}

/// The ticket page with a problem shown above it (a refused action).
pub async fn page_with_problem(
    state: &AppState,
    session: &Session,
    number: i64,
    status: StatusCode,
    problem: &str,
) -> Result<Response, WebError> {
    render(state, session, number, status, Some(problem)).await
}

async fn render(
    state: &AppState,
    session: &Session,
    number: i64,
    status: StatusCode,
    problem: Option<&str>,
) -> Result<Response, WebError> {
    let Some(view) = load(state, number).await? else {
        return Ok(not_found(session, number));
    };
    let now = state.clock.now();
    let canned = {
        let mut tx = state.store.begin().await?;
        tx.mark_read(session.agent.id, view.ticket.id, now.timestamp_millis())
            .await?;
        let all = tx.canned_replies().await?;
        tx.commit().await?;
        canned_texts(&all, &view, &session.agent.name)
    };
    let title = format!("#{} {}", view.ticket.number, view.ticket.subject);
    let body = html! {
        @if let Some(problem) = problem {
            p.flash.error role="alert" { (problem) }
        }
        h1 { "#" (view.ticket.number) " " (view.ticket.subject) }
        p {
            span.badge.status { (view.ticket.status) } " "
            span.badge { (view.ticket.priority) } " "
            "from " (view.ticket.origin) " · opened " (layout::moment(view.ticket.created_at))
            @if let Some(into) = view.merged_into {
                " · merged into " a href={ "/console/tickets/" (into) } { "#" (into) }
            }
            @if let Some(from) = view.split_from {
                " · split from " a href={ "/console/tickets/" (from) } { "#" (from) }
            }
            @for (i, off) in view.split_off.iter().enumerate() {
                @if i == 0 { " · split off: " } @else { ", " }
                a href={ "/console/tickets/" (off) } { "#" (off) }
            }
        }
        div.ticket {
            div {
                div #conversation.conversation aria-live="polite"
                    data-events={ "/console/tickets/" (view.ticket.number) "/events" }
                    data-fragment={ "/console/tickets/" (view.ticket.number) "/conversation" } {
                    (conversation(&view.messages, &view.deliveries))
                }
                (actions(&view, &canned, &session.csrf))
            }
            aside {
                (details(&view, &session.csrf))
                (sla_panel(view.sla.as_ref(), now))
                (customer_panel(&view))
            }
        }
        script src=(layout::LIVE_SCRIPT_PATH) defer {}
    };
    Ok((
        status,
        layout::page(&title, &session.agent, &session.csrf, body),
    )
        .into_response())
}

fn not_found(session: &Session, number: i64) -> Response {
    let body = html! {
        h1 { "No ticket #" (number) }
        p { a href="/console/tickets" { "Back to the tickets" } }
    };
    (
        StatusCode::NOT_FOUND,
        layout::page("Not found", &session.agent, &session.csrf, body),
    )
        .into_response()
}

/// GET /console/tickets/{number}/conversation: the conversation alone, for live updates.
pub async fn conversation_fragment(
    State(state): State<AppState>,
    session: Session,
    Path(number): Path<i64>,
) -> Result<Response, WebError> {
    let mut tx = state.store.begin().await?;
    let Some(ticket) = tx.ticket_by_number(number).await? else {
        drop(tx);
        return Ok(not_found(&session, number));
    };
    let messages = tx.messages(ticket.id).await?;
    let deliveries = tx.reply_deliveries(ticket.id).await?;
    tx.commit().await?;
    Ok(conversation(&messages, &deliveries).into_response())
}

/// Every message in order; notes are marked and never reach the customer. Replies show how
/// their send to the customer stands.
pub fn conversation(messages: &[Message], deliveries: &[ReplyDelivery]) -> Markup {
    html! {
        @if messages.is_empty() {
            p { "No messages yet." }
        }
        @for (i, message) in messages.iter().enumerate() {
            @let kind = match (message.internal, message.author_kind) {
                (true, _) => "message note",
                (false, AuthorKind::Agent) => "message from-agent",
                (false, AuthorKind::Customer) => "message from-customer",
                (false, AuthorKind::System) => "message from-system",
            };
            article class=(kind) data-message-id=(message.id) data-number=(i + 1) {
                div.meta {
                    span.number title="The message's number, for /split" { (i + 1) } " · "
                    @if message.internal { strong { "Internal note" } " · " }
                    (message.author_name) " · " (message.platform) " · " (layout::moment(message.created_at))
                }
                div.body { (message.body) }
                @if let Some(delivery) = deliveries.iter().find(|d| d.message_id == message.id) {
                    @let (state, why) = delivery.state();
                    div class={ "delivery delivery-" (state) } data-delivery=(state) {
                        "Delivery: " (state)
                        @if let Some(why) = why { " — " (why) }
                    }
                }
                @if !message.attachments.is_empty() {
                    ul.attachments {
                        @for a in &message.attachments {
                            @let name = a.file_name.as_deref().unwrap_or("unnamed");
                            li {
                                @match super::marks::attachment_link(a) {
                                    Some(link) if link.image => a href=(link.href) target="_blank" rel="noopener noreferrer" {
                                        img.inline-image src=(link.href) alt=(name) loading="lazy";
                                    },
                                    Some(link) => a href=(link.href) target="_blank" rel="noopener noreferrer" { (a.kind) ": " (name) },
                                    None => { (a.kind) ": " (name) },
                                }
                                @if let Some(size) = a.size { " (" (size) " bytes)" }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn action_form(number: i64, csrf: &str, action: &str, fields: Markup, label: &str) -> Markup {
    // The buttons the keyboard presses (`a`, `c`) have ids.
    let id = match action {
        "close" => Some("close-ticket"),
        "claim" => Some("assign-me"),
        _ => None,
    };
    html! {
        form method="post" action={ "/console/tickets/" (number) "/actions" } data-action=(action) {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="action" value=(action);
            (fields)
            button type="submit" id=[id] { (label) }
        }
    }
}

/// Each canned reply's text for this ticket's customer (their language, their name filled
/// in), for the reply box's picker.
fn canned_texts(all: &[CannedReply], view: &TicketView, agent: &str) -> Vec<(String, String)> {
    let customer = view.customer.as_ref().map(|c| &c.customer);
    let name = customer.map_or("", |c| c.display_name.as_str());
    let language = customer.and_then(|c| c.language.as_deref());
    let variables = canned::Variables::new(name, view.ticket.number, agent, view.team.as_deref());
    let mut names: Vec<&str> = all.iter().map(|c| c.name.as_str()).collect();
    names.dedup();
    names
        .into_iter()
        .filter_map(|n| {
            let variants: Vec<CannedReply> = all.iter().filter(|c| c.name == n).cloned().collect();
            let chosen = canned::pick(&variants, language)?;
            Some((n.to_string(), canned::fill(&chosen.text, &variables).text))
        })
        .collect()
}

/// Whether the page offers `spec` for this ticket. Commands that only show something are
/// already on the page; `/untag` sits beside each tag.
pub fn offered(spec: &CommandSpec, ticket: &Ticket, messages: &[Message]) -> bool {
    match spec.name {
        _ if spec.shows_only => false,
        // About the agent, not the ticket (`/away`, `/back`).
        _ if spec.scope == relaydesk_desk::Scope::Staff => false,
        "untag" => false,
        "unassign" => ticket.assignee_id.is_some(),
        "close" | "merge" => ticket.status.is_active(),
        "reopen" => ticket.status == TicketStatus::Closed,
        "canned" => ticket.status.is_active(),
        "split" => ticket.status.is_active() && split_points(messages).next().is_some(),
        _ => true,
    }
}

/// Where `/split` can cut: every message of the customer but their first, with its number.
fn split_points(messages: &[Message]) -> impl Iterator<Item = (usize, &Message)> {
    messages
        .iter()
        .enumerate()
        .filter(|(_, m)| m.author_kind == AuthorKind::Customer && !m.internal)
        .skip(1)
        .map(|(i, m)| (i + 1, m))
}

/// The first line of a message, at most 60 characters.
fn excerpt(body: &str) -> String {
    let line = body.lines().next().unwrap_or("");
    match line.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_string(),
    }
}

/// The input for a command's argument, named after it. A text box is `#<command>-text` (the
/// keyboard's `r` and `n` find the reply and note boxes so).
fn field(command: &str, arg: &ArgSpec, view: &TicketView) -> Markup {
    let label = arg.help.get(Language::En);
    let text_id = format!("{command}-text");
    let draft = format!("{}:{command}", view.ticket.number);
    html! {
        @match arg.kind {
            ArgKind::Agent => select name=(arg.name) aria-label=(label) {
                @for agent in &view.agents {
                    option value=(agent.name) selected[view.ticket.assignee_id == Some(agent.id)] { (agent.name) }
                }
            },
            ArgKind::QueueView => select name=(arg.name) aria-label=(label) {
                @for v in arg.choices() {
                    option value=(v) { (v) }
                }
            },
            ArgKind::Priority => select name=(arg.name) aria-label=(label) {
                @for p in arg.choices() {
                    option value=(p) selected[*p == view.ticket.priority.as_str()] { (p) }
                }
            },
            ArgKind::Ticket => input type="number" name=(arg.name) aria-label=(label) placeholder="ticket number" min="1";,
            ArgKind::Message => select name=(arg.name) aria-label=(label) required {
                @for (number, message) in split_points(&view.messages) {
                    option value=(number) { (number) " · " (excerpt(&message.body)) }
                }
            },
            ArgKind::Tag => input type="text" name=(arg.name) aria-label=(label) placeholder=(arg.name);,
            ArgKind::Canned => select name=(arg.name) aria-label=(label) required {
                @for name in &view.canned {
                    option value=(name) { (name) }
                }
            },
            ArgKind::Text if arg.required => textarea id=(text_id) name=(arg.name) aria-label=(label) data-draft=(draft) required {},
            ArgKind::Text => input type="text" name=(arg.name) aria-label=(label) placeholder={ (arg.name) " (optional)" };,
        }
    }
}

/// A form for every catalogue command the ticket offers: the ones that write to the
/// conversation first, under their own heading, then the rest.
fn actions(view: &TicketView, canned: &[(String, String)], csrf: &str) -> Markup {
    let n = view.ticket.number;
    let offered: Vec<&CommandSpec> = CATALOGUE
        .iter()
        .filter(|spec| offered(spec, &view.ticket, &view.messages))
        .filter(|spec| spec.name != "canned" || !view.canned.is_empty())
        .collect();
    let writes = |spec: &&&CommandSpec| {
        spec.arg
            .is_some_and(|a| (a.kind == ArgKind::Text && a.required) || a.kind == ArgKind::Canned)
    };
    html! {
        section.panel.actions {
            @for spec in offered.iter().filter(writes) {
                h2 { (spec.help.get(Language::En)) }
                @if spec.name == "reply" && !canned.is_empty() {
                    label.insert {
                        "Insert a canned reply "
                        select data-insert="#reply-text" {
                            option value="" { "—" }
                            @for (name, text) in canned {
                                option value=(text) { (name) }
                            }
                        }
                    }
                }
                (action_form(n, csrf, spec.name, field_of(spec, view), &layout::capitalised(spec.name)))
            }
            h2 { "Ticket" }
            @for spec in offered.iter().filter(|s| !writes(s)) {
                (action_form(n, csrf, spec.name, field_of(spec, view), &layout::capitalised(spec.name)))
            }
        }
    }
}

fn field_of(spec: &CommandSpec, view: &TicketView) -> Markup {
    match &spec.arg {
        Some(arg) => field(spec.name, arg, view),
        None => html! {},
    }
}

fn details(view: &TicketView, csrf: &str) -> Markup {
    let n = view.ticket.number;
    html! {
        section.panel {
            h2 { "Details" }
            dl {
                dt { "Assignee" } dd { (view.assignee.as_ref().map_or("nobody", |a| a.name.as_str())) }
                dt { "Team" } dd { (view.team.as_deref().unwrap_or("none")) }
                dt { "Last activity" } dd { (when(view.ticket.updated_at)) }
                dt { "Transcript" }
                dd.transcript {
                    a href={ "/console/tickets/" (n) "/transcript?format=html" } download { "HTML" } " · "
                    a href={ "/console/tickets/" (n) "/transcript?format=txt" } download { "text" } " · "
                    a href={ "/console/tickets/" (n) "/transcript?format=html&notes=true" } download { "with internal notes" }
                }
                dt { "Satisfaction" }
                dd.csat {
                    @match view.csat {
                        Some(rating) => { (rating) "/5 " span aria-hidden="true" { (stars(rating)) } },
                        None => "not rated",
                    }
                    @if let Some(comment) = &view.csat_comment {
                        blockquote.csat-comment { (comment) }
                    }
                }
                @if let Some(reason) = &view.ticket.close_reason {
                    dt { "Close reason" } dd { (reason) }
                }
                dt { "Tags" }
                dd {
                    @if view.tags.is_empty() { "none" }
                    @for tag in &view.tags {
                        span.badge.tag { (tag) }
                        (action_form(n, csrf, "untag", html! {
                            input type="hidden" name="tag" value=(tag);
                        }, "Remove"))
                    }
                }
            }
        }
    }
}

/// ★★★★☆ for 4.
fn stars(rating: u8) -> String {
    (1..=5)
        .map(|r| if r <= rating { '★' } else { '☆' })
        .collect()
}

fn goal_label(goal: Goal) -> &'static str {
    match goal {
        Goal::FirstResponse => "First response",
        Goal::NextResponse => "Next response",
        Goal::Resolution => "Resolution",
    }
}

/// How a goal stands at `now`: `(css class, words)`.
pub fn due_state(due: Due, now: DateTime<Utc>) -> Option<(&'static str, String)> {
    let due_at = due.due_at?;
    Some(if due_at <= now {
        ("breached", format!("breached, was due {}", when(due_at)))
    } else if due.warn_at.is_some_and(|w| w <= now) {
        ("due-soon", format!("due soon, {}", when(due_at)))
    } else {
        ("on-time", format!("due {}", when(due_at)))
    })
}

fn sla_panel(sla: Option<&TicketSla>, now: DateTime<Utc>) -> Markup {
    html! {
        section.panel.sla {
            h2 { "Service level" }
            @match sla {
                None => p { "No service-level goal applies." },
                Some(sla) => {
                    @if let Some(policy) = &sla.policy { p { "Policy: " (policy) } }
                    ul {
                        @for goal in Goal::ALL {
                            @if let Some((class, words)) = due_state(sla.due(goal), now) {
                                li { (goal_label(goal)) ": " span class={ "badge " (class) } { (words) } }
                            }
                        }
                    }
                    @if let Some(since) = sla.waiting_since {
                        p { "Customer waiting since " (when(since)) }
                    }
                }
            }
        }
    }
}

fn customer_panel(view: &TicketView) -> Markup {
    html! {
        section.panel.customer {
            h2 { "Customer" }
            @if let Some(profile) = &view.customer {
                p.who-cell { (super::marks::avatar(profile.customer.id, &profile.customer.display_name)) strong { (profile.customer.display_name) } }
                @if let Some(email) = &profile.customer.email { p { (email) } }
                @if let Some(language) = &profile.customer.language { p { "Language: " (language) } }
                h3 { "Identities" }
                ul {
                    @for identity in &profile.identities {
                        li { (super::marks::channel(identity.platform)) " " (identity.display_name) " (" (identity.external_id) ")" }
                    }
                }
            }
            h3 { "Other tickets" }
            @if view.other_tickets.is_empty() { p { "None." } }
            ul {
                @for other in &view.other_tickets {
                    li {
                        a href={ "/console/tickets/" (other.number) } { "#" (other.number) " " (other.subject) }
                        " · " (other.status)
                    }
                }
            }
        }
    }
}
