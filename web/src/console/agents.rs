//! The Agents page (admins only): every agent with their role and state; create one (with a
//! one-time password they must change at their first sign-in), make admin or agent, disable
//! or enable, reset a password, lift a sign-in lock. The rules are in [`crate::accounts`].

use std::collections::HashMap;

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use relaydesk_storage::Role;

use super::layout;
use super::session::{csrf_refused, Session};
use crate::accounts::{self, AccountError};
use crate::{AppState, WebError};

/// What the page says above the table after an action.
enum Outcome {
    Done(String),
    /// A one-time password to hand over, shown this once.
    Password {
        agent: String,
        password: String,
    },
    Problem(String),
}

/// GET /console/agents
pub async fn show(State(state): State<AppState>, session: Session) -> Result<Response, WebError> {
    render(&state, &session, StatusCode::OK, None).await
}

fn refused(session: &Session) -> Option<Response> {
    layout::admins_only(session, "Agents", "Only admins manage agents.")
}

async fn render(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    outcome: Option<Outcome>,
) -> Result<Response, WebError> {
    if let Some(refused) = refused(session) {
        return Ok(refused);
    }
    let mut tx = state.store.begin().await?;
    let agents = tx.agents().await?;
    tx.rollback().await?;
    let csrf = &session.csrf;
    let action = |name: &str, action: &str, label: &str| -> Markup {
        html! {
            form method="post" action="/console/agents" data-action=(action) {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="action" value=(action);
                input type="hidden" name="name" value=(name);
                button type="submit" { (label) }
            }
        }
    };
    let body = html! {
        h1 { "Agents" }
        @match &outcome {
            Some(Outcome::Done(text)) => p.flash.done role="status" { (text) },
            Some(Outcome::Password { agent, password }) => div.flash.done role="status" {
                p { "One-time password for " strong { (agent) } ": " code #one-time-password { (password) } }
                p { "It is shown only now. Hand it over; they choose their own password when they first sign in." }
            },
            Some(Outcome::Problem(text)) => p.flash.error role="alert" { (text) },
            None => {},
        }
        section.panel {
            h2 { "New agent" }
            form.filters method="post" action="/console/agents" data-action="create" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="action" value="create";
                label { "Name" input type="text" name="name" required autocomplete="off"; }
                label { "Email" input type="email" name="email" required autocomplete="off"; }
                label { "Role"
                    select name="role" {
                        option value="agent" { "agent" }
                        option value="admin" { "admin" }
                    }
                }
                button type="submit" { "Create with a one-time password" }
            }
        }
        div.scroll tabindex="0" role="region" aria-label="Agents" {
            table.canned {
                thead { tr {
                    th { "Name" } th { "Email" } th { "Role" } th { "State" } th { "Actions" }
                } }
                tbody {
                    @for agent in &agents {
                        tr data-agent=(agent.name) {
                            td { (agent.name) }
                            td { (agent.email.as_deref().unwrap_or("—")) }
                            td { (agent.role) }
                            td {
                                @if agent.disabled { "disabled" }
                                @else if agent.on_duty { "on duty" }
                                @else { "away" }
                            }
                            td.actions {
                                @if agent.id != session.agent.id {
                                    @if agent.role == Role::Admin {
                                        (action(&agent.name, "make-agent", "Make agent"))
                                    } @else {
                                        (action(&agent.name, "make-admin", "Make admin"))
                                    }
                                    @if agent.disabled {
                                        (action(&agent.name, "enable", "Enable"))
                                    } @else {
                                        (action(&agent.name, "disable", "Disable"))
                                    }
                                }
                                (action(&agent.name, "reset-password", "Reset password"))
                                (action(&agent.name, "unlock", "Unlock sign-in"))
                            }
                        }
                    }
                }
            }
        }
    };
    let page = layout::page("Agents", &session.agent, &session.csrf, body);
    Ok((status, page).into_response())
}

/// POST /console/agents: one action on one agent (`action`, `name`), or `create`.
pub async fn change(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    if !session.csrf_ok(field("csrf")) {
        return Ok(csrf_refused());
    }
    if let Some(refused) = refused(&session) {
        return Ok(refused);
    }
    let name = field("name").trim();
    let myself = name.eq_ignore_ascii_case(&session.agent.name);
    let store = &state.store;
    let result = match field("action") {
        "create" => {
            let role = if field("role") == "admin" {
                Role::Admin
            } else {
                Role::Agent
            };
            accounts::add(
                store,
                state.clock.as_ref(),
                name,
                field("email"),
                role,
                None,
            )
            .await
            .map(|added| Outcome::Password {
                agent: added.agent.name,
                password: added.generated_password.unwrap_or_default(),
            })
        }
        "make-admin" | "make-agent" | "disable" if myself => Ok(Outcome::Problem(
            "You cannot change your own role or disable yourself; ask another admin.".into(),
        )),
        "make-admin" => accounts::set_role(store, name, Role::Admin)
            .await
            .map(|a| Outcome::Done(format!("{} is an admin now.", a.name))),
        "make-agent" => accounts::set_role(store, name, Role::Agent)
            .await
            .map(|a| Outcome::Done(format!("{} is a plain agent now.", a.name))),
        "disable" => accounts::set_disabled(store, name, true)
            .await
            .map(|a| Outcome::Done(format!("{} is disabled and signed out.", a.name))),
        "enable" => accounts::set_disabled(store, name, false)
            .await
            .map(|a| Outcome::Done(format!("{} can sign in again.", a.name))),
        "reset-password" => accounts::reset_password(store, name)
            .await
            .map(|(a, password)| Outcome::Password {
                agent: a.name,
                password,
            }),
        "unlock" => accounts::unlock(store, name)
            .await
            .map(|a| Outcome::Done(format!("{} may sign in again now.", a.name))),
        other => Ok(Outcome::Problem(format!("Unknown action `{other}`."))),
    };
    match result {
        Ok(outcome @ Outcome::Problem(_)) => {
            render(
                &state,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(outcome),
            )
            .await
        }
        Ok(outcome) => {
            tracing::info!(admin = %session.agent.name, action = field("action"), agent = name, "agent account changed");
            // A disabled agent or a reset password ends sessions: their live streams stop.
            state.sessions_ended.notify_waiters();
            render(&state, &session, StatusCode::OK, Some(outcome)).await
        }
        Err(AccountError::Storage(e)) => Err(e.into()),
        Err(e) => {
            let status = match e {
                AccountError::UnknownAgent(_) => StatusCode::NOT_FOUND,
                AccountError::Duplicate { .. } => StatusCode::CONFLICT,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            render(
                &state,
                &session,
                status,
                Some(Outcome::Problem(e.to_string())),
            )
            .await
        }
    }
}
