//! The canned replies page: every agent sees the saved answers they can send with
//! `/canned NAME` (or pick on a ticket page); admins add, replace and remove them here.

use std::collections::HashMap;

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use relaydesk_desk::canned;
use relaydesk_storage::Role;

use super::layout;
use super::session::{csrf_refused, Session};
use crate::{AppState, WebError};

/// GET /console/canned
pub async fn show(State(state): State<AppState>, session: Session) -> Result<Response, WebError> {
    render(&state, &session, StatusCode::OK, None).await
}

async fn render(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    problem: Option<&str>,
) -> Result<Response, WebError> {
    let mut tx = state.store.begin().await?;
    let replies = tx.canned_replies().await?;
    tx.commit().await?;
    let admin = session.agent.role == Role::Admin;
    let variables: Vec<String> = canned::VARIABLES
        .iter()
        .map(|v| format!("{{{v}}}"))
        .collect();
    let body = html! {
        h1 { "Canned replies" }
        @if let Some(problem) = problem {
            p.flash.error role="alert" { (problem) }
        }
        p.count {
            "Send one from a ticket's thread with /canned NAME, or pick it on the ticket page. "
            "The customer gets the text in their language when there is one. Variables: "
            (variables.join(", "))
        }
        @if replies.is_empty() {
            p { "No canned replies yet." }
        }
        table.canned {
            thead { tr { th { "Name" } th { "Language" } th { "Text" } @if admin { th {} } } }
            tbody {
                @for reply in &replies {
                    tr {
                        td { (reply.name) }
                        td { (reply.language.as_deref().unwrap_or("every language")) }
                        td.text { (reply.text) }
                        @if admin {
                            td {
                                form method="post" action="/console/canned" data-remove=(reply.name) {
                                    input type="hidden" name="csrf" value=(session.csrf);
                                    input type="hidden" name="action" value="remove";
                                    input type="hidden" name="name" value=(reply.name);
                                    input type="hidden" name="language" value=(reply.language.as_deref().unwrap_or(""));
                                    button type="submit" { "Remove" }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if admin {
            section.panel {
                h2 { "Add or replace" }
                form method="post" action="/console/canned" data-action="save" {
                    input type="hidden" name="csrf" value=(session.csrf);
                    input type="hidden" name="action" value="save";
                    label { "Name " input type="text" name="name" required maxlength=(canned::MAX_NAME_CHARS) placeholder="greeting"; }
                    label { "Language " input type="text" name="language" maxlength="12" placeholder="every language"; }
                    label { "Text " textarea name="text" required maxlength=(canned::MAX_TEXT_CHARS) {} }
                    button type="submit" { "Save" }
                }
            }
        }
    };
    let page = layout::page("Canned replies", &session.agent, &session.csrf, body);
    Ok((status, page).into_response())
}

/// POST /console/canned: `action` = `save` (name, language, text) or `remove` (name,
/// language). Admins only.
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
            Some("Only admins change canned replies."),
        )
        .await;
    }
    let checked = (|| {
        let name = canned::name(field("name"))?;
        let language = Some(field("language"))
            .filter(|l| !l.trim().is_empty())
            .map(canned::language)
            .transpose()?;
        let text = match field("action") {
            "save" => Some(canned::text(field("text"))?),
            "remove" => None,
            other => {
                return Err(relaydesk_desk::DeskError::Invalid(format!(
                    "There is no action `{other}`."
                )))
            }
        };
        Ok((name, language, text))
    })();
    let (name, language, text) = match checked {
        Ok(checked) => checked,
        Err(e) => {
            let problem = e.to_string();
            return render(
                &state,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&problem),
            )
            .await;
        }
    };
    let now_ms = state.clock.now().timestamp_millis();
    let mut tx = state.store.begin().await?;
    match text {
        Some(text) => {
            tx.put_canned_reply(&name, language.as_deref(), &text, now_ms)
                .await?;
        }
        // Each row of the page removes its own text; '' is the text for every language.
        None => {
            tx.remove_canned_reply(&name, Some(language.as_deref().unwrap_or("")))
                .await?;
        }
    }
    tx.commit().await?;
    Ok(Redirect::to("/console/canned").into_response())
}
