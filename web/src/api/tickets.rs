//! `/api/v1/tickets`: list and search, read one with its messages, send a customer message,
//! reply, note, and run any chat command.

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use axum::Json;
use relaydesk_storage::{
    Cursor, Platform, Priority, SlaFilter, StatusFilter, TicketFilter, TicketSort, Tx, MAX_PAGE,
};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::auth::ApiAgent;
use super::body::ApiJson;
use super::error::{ApiError, ErrorBody};
use super::views::{CreatedMessage, CsatView, MessageView, TicketDetail, TicketList};
use crate::AppState;
use crate::CustomerInput;

/// Rows per page when `limit` is not given.
const DEFAULT_PAGE: i64 = 50;
const MAX_SUBJECT: usize = 200;
const MAX_ID: usize = 200;

/// Filters, order and page of a ticket list. Every filter narrows the list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// A queue view, as `/queue` shows it: `unassigned`, `mine`, `team` (the token agent's
    /// first team), `breaching` or `all` — open and pending tickets. Other filters narrow it.
    pub view: Option<String>,
    /// `active` (open or pending), `open`, `pending`, `closed` or `merged`.
    pub status: Option<String>,
    /// `true`: only tickets nobody is assigned to.
    #[param(value_type = Option<bool>)]
    pub unassigned: Option<String>,
    /// `me`, an agent id or an agent name.
    pub assignee: Option<String>,
    /// A team id or name.
    pub team: Option<String>,
    /// Where the customer wrote from: `telegram`, `discord`, `web` or `api`.
    pub origin: Option<String>,
    /// `low`, `normal`, `high` or `urgent`.
    pub priority: Option<String>,
    pub tag: Option<String>,
    /// Words that must all appear in the subject, a message, or the customer's name or
    /// email; `#1042` also finds ticket 1042.
    pub q: Option<String>,
    /// `due_soon` (an SLA warning has passed) or `breached` (an SLA goal is overdue).
    pub sla: Option<String>,
    /// `activity` (default: most recent first), `priority` (urgent first) or `due`
    /// (earliest SLA due time first).
    pub sort: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Tickets per page, 1 to 500 (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500)]
    pub limit: Option<String>,
}

/// Reads the query string; a malformed one is a validation error.
pub(super) fn params(uri: &Uri) -> Result<ListParams, ApiError> {
    axum::extract::Query::<ListParams>::try_from_uri(uri)
        .map(|q| q.0)
        .map_err(|e| ApiError::invalid("query", e.body_text()))
}

fn bad<T: std::str::FromStr>(
    field: &'static str,
    value: &Option<String>,
    hint: &str,
) -> Result<Option<T>, ApiError> {
    match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| ApiError::invalid(field, format!("`{v}` is not {hint}"))),
    }
}

/// The store filter, sort, cursor and limit a query asks for.
pub(super) async fn list_request(
    tx: &mut Tx,
    who: &ApiAgent,
    p: &ListParams,
    now_ms: i64,
) -> Result<(TicketFilter, TicketSort, Option<Cursor>, i64), ApiError> {
    let mut filter = TicketFilter {
        status: bad::<StatusFilter>(
            "status",
            &p.status,
            "a status (active, open, pending, closed, merged)",
        )?,
        origin: bad::<Platform>(
            "origin",
            &p.origin,
            "a platform (telegram, discord, web, api)",
        )?,
        priority: bad::<Priority>(
            "priority",
            &p.priority,
            "a priority (low, normal, high, urgent)",
        )?,
        tag: p.tag.clone().filter(|t| !t.trim().is_empty()),
        query: match p.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            Some(q) => match relaydesk_storage::search_problem(q) {
                Some(problem) => return Err(ApiError::invalid("q", problem)),
                None => Some(q.to_string()),
            },
            None => None,
        },
        ..TicketFilter::default()
    };
    if let Some(view) = p.view.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        let team = tx.agent_team_ids(who.agent.id).await?.first().copied();
        let preset = TicketFilter::view(view, who.agent.id, team, now_ms).ok_or_else(|| {
            ApiError::invalid(
                "view",
                format!("`{view}` is not a view (unassigned, mine, team, breaching, all)"),
            )
        })?;
        filter = TicketFilter {
            status: filter.status.or(preset.status),
            unassigned: preset.unassigned,
            assignee_id: preset.assignee_id,
            team_id: preset.team_id,
            sla: preset.sla,
            ..filter
        };
    }
    if let Some(flag) = bad::<bool>("unassigned", &p.unassigned, "true or false")? {
        filter.unassigned = flag;
    }
    if let Some(who_name) = p
        .assignee
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        let id = if who_name.eq_ignore_ascii_case("me") {
            who.agent.id
        } else if let Ok(id) = who_name.parse::<i64>() {
            id
        } else {
            tx.agent_by_name(who_name)
                .await?
                .ok_or_else(|| ApiError::invalid("assignee", format!("no agent `{who_name}`")))?
                .id
        };
        filter.assignee_id = Some(id);
    }
    if let Some(team) = p.team.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        let id = match team.parse::<i64>() {
            Ok(id) => id,
            Err(_) => tx
                .team_id_by_name(team)
                .await?
                .ok_or_else(|| ApiError::invalid("team", format!("no team `{team}`")))?,
        };
        filter.team_id = Some(id);
    }
    filter.sla = match p.sla.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => filter.sla,
        Some("due_soon") => Some(SlaFilter::DueSoon { now_ms }),
        Some("breached") => Some(SlaFilter::Breached { now_ms }),
        Some(other) => {
            return Err(ApiError::invalid(
                "sla",
                format!("`{other}` is not due_soon or breached"),
            ))
        }
    };
    let sort = bad::<TicketSort>("sort", &p.sort, "a sort order (activity, priority, due)")?
        .unwrap_or_default();
    let cursor = match p.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(text) => Some(Cursor::decode(text, sort)?),
        None => None,
    };
    let limit = bad::<i64>("limit", &p.limit, "a number")?.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("limit must be between 1 and {MAX_PAGE}"),
        ));
    }
    Ok((filter, sort, cursor, limit))
}

/// List and search tickets.
#[utoipa::path(
    get,
    path = "/api/v1/tickets",
    tag = "tickets",
    params(ListParams),
    responses(
        (status = 200, description = "A page of tickets", body = TicketList),
        (status = 401, description = "Missing, unknown or revoked token", body = ErrorBody),
        (status = 422, description = "A filter is invalid (`field` names it)", body = ErrorBody),
        (status = 429, description = "Rate limited: see Retry-After", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    who: ApiAgent,
    uri: Uri,
) -> Result<Json<TicketList>, ApiError> {
    let p = params(&uri)?;
    let now_ms = state.clock.now().timestamp_millis();
    let mut tx = state.store.begin().await?;
    let (filter, sort, cursor, limit) = list_request(&mut tx, &who, &p, now_ms).await?;
    let page = tx
        .list_tickets(&filter, sort, cursor.as_ref(), limit)
        .await?;
    tx.rollback().await?;
    Ok(Json(page.into()))
}

/// Read one ticket with its customer and every message.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/{number}",
    tag = "tickets",
    params(("number" = i64, Path, description = "Ticket number")),
    responses(
        (status = 200, description = "The ticket", body = TicketDetail),
        (status = 401, description = "Missing, unknown or revoked token", body = ErrorBody),
        (status = 404, description = "No such ticket", body = ErrorBody),
        (status = 429, description = "Rate limited: see Retry-After", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    _who: ApiAgent,
    Path(number): Path<String>,
) -> Result<Json<TicketDetail>, ApiError> {
    let number = ticket_number(&number)?;
    let mut tx = state.store.begin().await?;
    let Some(row) = tx.ticket_row(number).await? else {
        return Err(no_ticket(number));
    };
    let ticket = tx.ticket(row.id).await?;
    let merged_into = match ticket.merged_into {
        Some(id) => Some(tx.ticket(id).await?.number),
        None => None,
    };
    let split_from = match ticket.split_from {
        Some(id) => Some(tx.ticket(id).await?.number),
        None => None,
    };
    let split_off = tx.split_off(ticket.id).await?;
    let profile = tx
        .customer_profile(ticket.customer_id)
        .await?
        .ok_or_else(|| ApiError::not_found("the ticket's customer is gone"))?;
    let messages = tx.messages(ticket.id).await?;
    let deliveries = tx.reply_deliveries(ticket.id).await?;
    let csat = tx.ticket_csat(ticket.id).await?;
    tx.rollback().await?;
    Ok(Json(TicketDetail {
        ticket: row.into(),
        close_reason: ticket.close_reason,
        merged_into,
        split_from,
        split_off,
        customer_profile: profile.into(),
        messages: messages
            .into_iter()
            .map(|m| MessageView::with_delivery(m, &deliveries))
            .collect(),
        csat: csat.as_ref().and_then(CsatView::of),
    }))
}

pub(super) fn ticket_number(raw: &str) -> Result<i64, ApiError> {
    raw.trim_start_matches('#')
        .parse()
        .map_err(|_| ApiError::invalid("number", format!("`{raw}` is not a ticket number")))
}

fn no_ticket(number: i64) -> ApiError {
    ApiError::not_found(format!("there is no ticket #{number}"))
}

/// A message from a customer of an integration.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCustomerMessage {
    pub customer: NewCustomer,
    /// The integration's conversation id: messages of one conversation share a ticket while it
    /// is open or pending. Defaults to the customer id.
    pub conversation: Option<String>,
    /// The ticket's subject when this message opens one (defaults to the text's beginning).
    pub subject: Option<String>,
    /// The message, plain text.
    pub text: String,
    /// The integration's id of this message: sending it again stores nothing new and answers
    /// with the same ticket (200, `duplicate: true`).
    pub external_id: Option<String>,
}

/// Who wrote, as the integration knows them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCustomer {
    /// The integration's id of the customer.
    #[schema(example = "user-17")]
    pub id: String,
    #[schema(example = "Anna Smith")]
    pub name: String,
    pub email: Option<String>,
    /// A language tag such as `en` or `de`.
    pub language: Option<String>,
}

pub(super) fn required(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.trim().is_empty() {
        return Err(ApiError::invalid(
            field,
            format!("{field} must not be empty"),
        ));
    }
    if value.chars().count() > max {
        return Err(ApiError::invalid(
            field,
            format!("{field} is longer than {max} characters"),
        ));
    }
    Ok(())
}

/// Send a customer's message: opens a ticket, or adds to the conversation's open one.
#[utoipa::path(
    post,
    path = "/api/v1/tickets",
    tag = "tickets",
    request_body = NewCustomerMessage,
    responses(
        (status = 201, description = "A new ticket was opened", body = CreatedMessage),
        (status = 200, description = "Added to the conversation's open ticket, or a duplicate `external_id`", body = CreatedMessage),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 401, description = "Missing, unknown or revoked token", body = ErrorBody),
        (status = 409, description = "`external_id` was used before for a different message", body = ErrorBody),
        (status = 413, description = "The body or message is too large", body = ErrorBody),
        (status = 422, description = "A field is invalid (`field` names it)", body = ErrorBody),
        (status = 429, description = "Rate limited: see Retry-After", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    _who: ApiAgent,
    ApiJson(body): ApiJson<NewCustomerMessage>,
) -> Result<impl IntoResponse, ApiError> {
    required("customer.id", &body.customer.id, MAX_ID)?;
    required("customer.name", &body.customer.name, MAX_ID)?;
    required("text", &body.text, usize::MAX)?;
    if let Some(subject) = &body.subject {
        required("subject", subject, MAX_SUBJECT)?;
    }
    if let Some(conversation) = &body.conversation {
        required("conversation", conversation, MAX_ID)?;
    }
    if let Some(id) = &body.external_id {
        required("external_id", id, MAX_ID)?;
    }
    let email = body
        .customer
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty());
    if let Some(email) = email {
        let valid = email.len() <= 254
            && email
                .split_once('@')
                .is_some_and(|(user, host)| !user.is_empty() && host.contains('.'));
        if !valid {
            return Err(ApiError::invalid(
                "customer.email",
                format!("`{email}` is not an email address"),
            ));
        }
    }
    let accepted = state
        .desk
        .customer_message(CustomerInput {
            platform: Platform::Api,
            external_message_id: body.external_id.clone(),
            customer_external_id: body.customer.id.clone(),
            display_name: body.customer.name.trim().to_string(),
            language: body.customer.language.clone(),
            conversation: body
                .conversation
                .clone()
                .unwrap_or_else(|| body.customer.id.clone()),
            subject: body.subject.clone(),
            text: body.text.clone(),
            attachments: Vec::new(),
        })
        .await?;
    let mut tx = state.store.begin().await?;
    if accepted.duplicate {
        let earlier = tx.message(accepted.message_id).await?;
        if earlier.body != body.text {
            return Err(ApiError::conflict(format!(
                "external_id `{}` was already used for a different message",
                body.external_id.as_deref().unwrap_or_default()
            )));
        }
    }
    let ticket = tx.ticket(accepted.ticket_id).await?;
    // The integration holds an operator's token: the address it gives is vouched for.
    if let Some(email) = email {
        tx.set_customer_email(ticket.customer_id, Some(email), true)
            .await?;
    }
    let row = tx
        .ticket_row(accepted.ticket_number)
        .await?
        .ok_or_else(|| no_ticket(accepted.ticket_number))?;
    tx.commit().await?;
    let status = if accepted.new_ticket && !accepted.duplicate {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(CreatedMessage {
            ticket: row.into(),
            message_id: accepted.message_id,
            new_ticket: accepted.new_ticket,
            duplicate: accepted.duplicate,
        }),
    ))
}
