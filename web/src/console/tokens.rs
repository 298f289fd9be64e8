//! The API tokens page (admins only): every token with its agent and when it was last used; a
//! form that makes one (shown once, here, and never again) and a button that revokes one. The
//! rules are [`crate::tokens`], shared with `relaydesk token`.

use std::collections::HashMap;

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use relaydesk_storage::Role;

use super::layout::{self, moment};
use super::session::{csrf_refused, Session};
use crate::tokens::{self, NewToken, TokenError};
use crate::{AppState, WebError};

/// GET /console/tokens
pub async fn show(State(state): State<AppState>, session: Session) -> Result<Response, WebError> {
    render(&state, &session, StatusCode::OK, None, None).await
}

async fn render(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    problem: Option<&str>,
    made: Option<&NewToken>,
) -> Result<Response, WebError> {
    if let Some(refused) = layout::admins_only(
        session,
        "API tokens",
        "Only admins see and make API tokens.",
    ) {
        return Ok(refused);
    }
    let all = match tokens::list(&state.store).await {
        Ok(all) => all,
        Err(TokenError::Storage(e)) => return Err(e.into()),
        Err(_) => Vec::new(),
    };
    let mut tx = state.store.begin().await?;
    let agents = tx.agents().await?;
    tx.rollback().await?;
    let body = html! {
        h1 { "API tokens" }
        @if let Some(problem) = problem {
            p.flash.error role="alert" { (problem) }
        }
        @if let Some(made) = made {
            section.panel.new-token role="status" {
                h2 { "Token " (made.name) " made" }
                p { "It acts as " (made.agent) " (" (made.role) "). Copy it now: it is shown only this once." }
                label { "Token " input #new-token type="text" readonly value=(made.token) size="72"; }
                p { "Send it as " code { "Authorization: Bearer <token>" } "." }
            }
        }
        p.count {
            "A token lets a program use the REST API (/api/v1) as the agent it names, with that "
            "agent's permissions. Only a hash is kept; a lost token is revoked and made again."
        }
        @if all.is_empty() {
            p { "No API tokens yet." }
        } @else {
            table.tokens {
                thead { tr {
                    th { "Name" } th { "Acts as" } th { "Made" } th { "Last used" } th { "State" } th { span.visually-hidden { "Revoke" } }
                } }
                tbody {
                    @for t in &all {
                        tr data-token=(t.name) {
                            td.text { (t.name) }
                            td { (t.agent) }
                            td { (moment(t.created_at)) }
                            td { @if let Some(at) = t.last_used_at { (moment(at)) } @else { "never" } }
                            td {
                                @if let Some(at) = t.revoked_at { "revoked " (moment(at)) } @else { "live" }
                            }
                            td {
                                @if t.revoked_at.is_none() {
                                    form.inline method="post" action="/console/tokens" {
                                        input type="hidden" name="csrf" value=(session.csrf);
                                        input type="hidden" name="action" value="revoke";
                                        input type="hidden" name="name" value=(t.name);
                                        button type="submit" aria-label=(format!("Revoke {}", t.name)) { "Revoke" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section.panel {
            h2 { "Make a token" }
            form.row method="post" action="/console/tokens" data-action="create" {
                input type="hidden" name="csrf" value=(session.csrf);
                input type="hidden" name="action" value="create";
                label { "Name " input type="text" name="name" required maxlength=(tokens::MAX_NAME_CHARS) placeholder="crm-sync"; }
                label { "Acts as "
                    select name="agent" required {
                        @for a in agents.iter().filter(|a| !a.disabled) {
                            option value=(a.name) selected[a.id == session.agent.id] { (a.name) " (" (a.role) ")" }
                        }
                    }
                }
                button type="submit" { "Make token" }
            }
        }
    };
    let page = layout::page("API tokens", &session.agent, &session.csrf, body);
    Ok((status, page).into_response())
}

/// POST /console/tokens: `action` = `create` (name, agent) or `revoke` (name). Admins only.
pub async fn change(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    if !session.csrf_ok(field("csrf")) {
        return Ok(csrf_refused());
    }
    if session.agent.role != Role::Admin {
        return render(&state, &session, StatusCode::FORBIDDEN, None, None).await;
    }
    let clock = state.clock.as_ref();
    let done = match field("action") {
        "create" => tokens::create(&state.store, clock, field("name"), field("agent"))
            .await
            .map(Some),
        "revoke" => tokens::revoke(&state.store, clock, field("name"))
            .await
            .map(|()| None),
        _ => {
            let problem = "There is no such action.";
            return render(
                &state,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(problem),
                None,
            )
            .await;
        }
    };
    match done {
        // The new token is on this answer alone; a reload does not show it again.
        Ok(Some(made)) => render(&state, &session, StatusCode::OK, None, Some(&made)).await,
        Ok(None) => Ok(Redirect::to("/console/tokens").into_response()),
        Err(TokenError::Storage(e)) => Err(e.into()),
        Err(e) => {
            let problem = e.to_string();
            render(
                &state,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&problem),
                None,
            )
            .await
        }
    }
}
