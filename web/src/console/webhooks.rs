//! The webhooks page (admins only): the latest deliveries to the configured endpoints, how
//! each went, and a button that queues a failed one again.

use std::collections::HashMap;

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use relaydesk_storage::{OutboxStatus, Role};

use super::layout;
use super::session::{csrf_refused, Session};
use crate::{AppState, WebError};

/// Deliveries the page lists.
const SHOWN: i64 = 100;

/// GET /console/webhooks
pub async fn show(State(state): State<AppState>, session: Session) -> Result<Response, WebError> {
    render(&state, &session, StatusCode::OK, None).await
}

async fn render(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    problem: Option<&str>,
) -> Result<Response, WebError> {
    if let Some(refused) =
        layout::admins_only(session, "Webhooks", "Only admins see webhook deliveries.")
    {
        return Ok(refused);
    }
    let mut tx = state.store.begin().await?;
    let deliveries = tx.recent_webhook_deliveries(None, SHOWN).await?;
    tx.rollback().await?;
    let body = html! {
        h1 { "Webhooks" }
        @if let Some(problem) = problem {
            p.flash.error role="alert" { (problem) }
        }
        p.count {
            "The latest " (SHOWN) " deliveries to the endpoints under [[webhooks]] in the configuration, newest first. "
            "A delivery is retried until its endpoint answers 2xx or its retry_for has passed."
        }
        @if deliveries.is_empty() {
            p { "No deliveries yet." }
        } @else {
            table.canned {
                thead { tr {
                    th { "When" } th { "Endpoint" } th { "Event" } th { "Ticket" } th { "Status" }
                    th { "Attempts" } th { "Last answer" } th {}
                } }
                tbody {
                    @for d in &deliveries {
                        tr data-delivery=(d.delivery) data-status=(d.status) {
                            td { time datetime=(d.created_at.to_rfc3339()) { (d.created_at.format("%Y-%m-%d %H:%M:%S UTC")) } }
                            td.text { (d.endpoint) }
                            td { (d.event) }
                            td {
                                @if let Some(number) = d.ticket_number {
                                    a href={ "/console/tickets/" (number) } { "#" (number) }
                                }
                            }
                            td { (d.status) }
                            td { (d.attempts) }
                            td.text {
                                @if let Some(code) = d.response_status { "HTTP " (code) " " }
                                (d.last_error.as_deref().unwrap_or(""))
                            }
                            td {
                                @if d.status == OutboxStatus::Failed {
                                    form method="post" action="/console/webhooks" {
                                        input type="hidden" name="csrf" value=(session.csrf);
                                        input type="hidden" name="id" value=(d.id);
                                        button type="submit" { "Retry" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    let page = layout::page("Webhooks", &session.agent, &session.csrf, body);
    Ok((status, page).into_response())
}

/// POST /console/webhooks: queue failed delivery `id` again. Admins only.
pub async fn retry(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    if !session.csrf_ok(field("csrf")) {
        return Ok(csrf_refused());
    }
    if session.agent.role != Role::Admin {
        return render(&state, &session, StatusCode::FORBIDDEN, None).await;
    }
    let Ok(id) = field("id").parse::<i64>() else {
        let problem = "That is not a delivery.";
        return render(
            &state,
            &session,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(problem),
        )
        .await;
    };
    let mut tx = state.store.begin().await?;
    let queued = tx
        .retry_webhook(id, chrono::Utc::now().timestamp_millis())
        .await?;
    tx.commit().await?;
    if !queued {
        let problem = "That delivery is not failed (any more): nothing to retry.";
        return render(&state, &session, StatusCode::CONFLICT, Some(problem)).await;
    }
    Ok(Redirect::to("/console/webhooks").into_response())
}
