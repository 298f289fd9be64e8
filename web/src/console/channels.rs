//! The Channels page (admins only): whether each channel reaches its platform (and why not),
//! what waits in the outbox per platform and how old the oldest send is, and the sends given
//! up, each with a button that queues it again.

use std::collections::HashMap;

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use relaydesk_desk::ChannelState;
use relaydesk_storage::Role;

use super::layout;
use super::session::{csrf_refused, Session};
use crate::{AppState, WebError};

/// Failed sends the page lists.
const SHOWN: i64 = 50;

/// GET /console/channels
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
        layout::admins_only(session, "Channels", "Only admins see the channels' state.")
    {
        return Ok(refused);
    }
    let now_ms = state.clock.now_ms();
    let mut tx = state.store.begin().await?;
    let gauges = tx.gauges().await?;
    let failed = tx.failed_outbox(SHOWN).await?;
    tx.rollback().await?;
    let channels = state.channels.snapshot();
    let body = html! {
        h1 { "Channels" }
        @if let Some(problem) = problem {
            p.flash.error role="alert" { (problem) }
        }
        section.panel {
            h2 { "Connections" }
            @if channels.is_empty() {
                p { "No chat or mail channel is configured: the widget, the console and the API work on their own." }
            } @else {
                table.canned {
                    thead { tr { th { "Channel" } th { "State" } } }
                    tbody {
                        @for (name, channel) in &channels {
                            tr data-channel=(name) {
                                td { (name) }
                                td {
                                    @match channel {
                                        ChannelState::Connecting => span.badge.due-soon { "connecting" },
                                        ChannelState::Connected => span.badge { "connected" },
                                        ChannelState::NotConnected { reason } => {
                                            span.badge.breached { "not connected" } " " (reason)
                                        },
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section.panel {
            h2 { "Waiting to be sent" }
            @if gauges.outbox.is_empty() {
                p { "Nothing is waiting." }
            } @else {
                table.canned {
                    thead { tr { th { "Platform" } th { "Sends waiting" } th { "Oldest waits for" } } }
                    tbody {
                        @for backlog in &gauges.outbox {
                            tr data-platform=(backlog.platform) {
                                td { (backlog.platform) }
                                td { (backlog.pending) }
                                td {
                                    @if let Some(oldest) = backlog.oldest_ms {
                                        (waited(now_ms.saturating_sub(oldest)))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section.panel {
            h2 { "Given up" }
            p.count { "Sends that failed for good (the latest " (SHOWN) "), also listed by " code { "relaydesk outbox failed" } "." }
            @if failed.is_empty() {
                p { "None." }
            } @else {
                div.scroll tabindex="0" role="region" aria-label="Sends given up" {
                    table.canned {
                        thead { tr { th { "Send" } th { "Platform" } th { "Ticket" } th { "Attempts" } th { "Why" } th {} } }
                        tbody {
                            @for row in &failed {
                                tr data-outbox=(row.id) {
                                    td { (row.id) }
                                    td { (row.platform) }
                                    td { (row.ticket_id.map(|t| t.to_string()).unwrap_or_default()) }
                                    td { (row.attempts) }
                                    td.text { (row.last_error.as_deref().unwrap_or("")) }
                                    td {
                                        form method="post" action="/console/channels" {
                                            input type="hidden" name="csrf" value=(session.csrf);
                                            input type="hidden" name="id" value=(row.id);
                                            button type="submit" aria-label={ "Send " (row.id) " again" } { "Send again" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    let page = layout::page("Channels", &session.agent, &session.csrf, body);
    Ok((status, page).into_response())
}

/// "3 min", "2 h", "5 d".
fn waited(ms: i64) -> String {
    let seconds = ms / 1000;
    match seconds {
        s if s < 120 => format!("{s} s"),
        s if s < 2 * 3600 => format!("{} min", s / 60),
        s if s < 2 * 86_400 => format!("{} h", s / 3600),
        s => format!("{} d", s / 86_400),
    }
}

/// POST /console/channels: queue failed send `id` again. Admins only.
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
        return render(
            &state,
            &session,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("That is not a send."),
        )
        .await;
    };
    let mut tx = state.store.begin().await?;
    let queued = tx.retry_failed(id, state.clock.now_ms()).await?;
    tx.commit().await?;
    if !queued {
        return render(
            &state,
            &session,
            StatusCode::CONFLICT,
            Some("That send is not failed (any more): nothing to send again."),
        )
        .await;
    }
    tracing::info!(admin = %session.agent.name, id, "a failed send was queued again");
    Ok(Redirect::to("/console/channels").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_read_in_the_unit_that_fits() {
        assert_eq!(waited(5_000), "5 s");
        assert_eq!(waited(600_000), "10 min");
        assert_eq!(waited(3 * 3_600_000), "3 h");
        assert_eq!(waited(3 * 86_400_000), "3 d");
    }
}
