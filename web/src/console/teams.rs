//! The teams page: every agent sees the teams and their members; admins add and remove teams
//! and members here (the rules are [`crate::teams`], shared with the CLI and the API).

use std::collections::HashMap;

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use relaydesk_storage::Role;

use super::layout;
use super::session::{csrf_refused, Session};
use crate::teams::{self, TeamError};
use crate::{AppState, WebError};

/// GET /console/teams
pub async fn show(State(state): State<AppState>, session: Session) -> Result<Response, WebError> {
    render(&state, &session, StatusCode::OK, None).await
}

async fn render(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    problem: Option<&str>,
) -> Result<Response, WebError> {
    let all = match teams::list(&state.store).await {
        Ok(all) => all,
        Err(TeamError::Storage(e)) => return Err(e.into()),
        Err(_) => Vec::new(),
    };
    let admin = session.agent.role == Role::Admin;
    let body = html! {
        h1 { "Teams" }
        @if let Some(problem) = problem {
            p.flash.error role="alert" { (problem) }
        }
        p.count {
            "Routing rules send tickets to teams; a team that assigns by itself hands them to its "
            "members. Teams declared in relaydesk.toml are written again when Relaydesk starts."
        }
        @if all.is_empty() {
            p { "No teams yet." }
        }
        table.teams {
            thead { tr { th { "Team" } th { "Members" } @if admin { th { "Change" } } } }
            tbody {
                @for team in &all {
                    tr data-team=(team.name) {
                        td { (team.name) }
                        td {
                            @if team.members.is_empty() { "no members" }
                            @for (i, member) in team.members.iter().enumerate() {
                                @if i > 0 { ", " }
                                (member)
                                @if admin {
                                    form.inline method="post" action="/console/teams" {
                                        input type="hidden" name="csrf" value=(session.csrf);
                                        input type="hidden" name="action" value="remove-member";
                                        input type="hidden" name="team" value=(team.name);
                                        input type="hidden" name="agent" value=(member);
                                        button type="submit" aria-label=(format!("Take {member} out of {}", team.name)) { "×" }
                                    }
                                }
                            }
                        }
                        @if admin {
                            td {
                                form.inline method="post" action="/console/teams" {
                                    input type="hidden" name="csrf" value=(session.csrf);
                                    input type="hidden" name="action" value="add-member";
                                    input type="hidden" name="team" value=(team.name);
                                    label { "Agent " input type="text" name="agent" required maxlength="80"; }
                                    button type="submit" { "Add member" }
                                }
                                form.inline method="post" action="/console/teams" {
                                    input type="hidden" name="csrf" value=(session.csrf);
                                    input type="hidden" name="action" value="remove";
                                    input type="hidden" name="team" value=(team.name);
                                    button type="submit" { "Remove team" }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if admin {
            section.panel {
                h2 { "Add a team" }
                form method="post" action="/console/teams" data-action="add" {
                    input type="hidden" name="csrf" value=(session.csrf);
                    input type="hidden" name="action" value="add";
                    label { "Name " input type="text" name="team" required maxlength=(teams::MAX_NAME_CHARS) placeholder="billing"; }
                    button type="submit" { "Add" }
                }
            }
        }
    };
    let page = layout::page("Teams", &session.agent, &session.csrf, body);
    Ok((status, page).into_response())
}

/// POST /console/teams: `action` = `add` or `remove` (team), `add-member` or `remove-member`
/// (team, agent). Admins only.
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
        return render(
            &state,
            &session,
            StatusCode::FORBIDDEN,
            Some("Only admins change teams."),
        )
        .await;
    }
    let clock = state.clock.as_ref();
    let done = match field("action") {
        "add" => teams::add(&state.store, clock, field("team"))
            .await
            .map(drop),
        "remove" => teams::remove(&state.store, clock, field("team"))
            .await
            .map(drop),
        "add-member" => teams::add_member(&state.store, field("team"), field("agent"))
            .await
            .map(drop),
        "remove-member" => teams::remove_member(&state.store, field("team"), field("agent"))
            .await
            .map(drop),
        _ => {
            return render(
                &state,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("There is no such action."),
            )
            .await
        }
    };
    match done {
        Ok(()) => Ok(Redirect::to("/console/teams").into_response()),
        Err(TeamError::Storage(e)) => Err(e.into()),
        Err(e) => {
            let problem = e.to_string();
            render(
                &state,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&problem),
            )
            .await
        }
    }
}
