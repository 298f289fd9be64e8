//! The FAQ page: every agent sees the answers new tickets are offered; admins add, replace
//! and remove them here.

use std::collections::HashMap;

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use relaydesk_desk::{canned, faq, DeskError};
use relaydesk_storage::{FaqEntry, Role};

use super::layout;
use super::session::{csrf_refused, Session};
use crate::{AppState, WebError};

/// GET /console/faq
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
    let entries = tx.faq_entries().await?;
    tx.commit().await?;
    let admin = session.agent.role == Role::Admin;
    let body = html! {
        h1 { "FAQ answers" }
        @if let Some(problem) = problem {
            p.flash.error role="alert" { (problem) }
        }
        p.count {
            "A new ticket whose first message has an entry's keywords (whole words) gets its answer at once, "
            "with “That solved it” and “I still need help”."
        }
        @if entries.is_empty() {
            p { "No FAQ entries yet." }
        }
        div.scroll tabindex="0" role="region" aria-label="FAQ entries" {
            table.canned {
                thead { tr { th { "Name" } th { "Language" } th { "Keywords" } th { "Question and answer" } @if admin { th {} } } }
                tbody {
                    @for entry in &entries {
                        tr {
                            td { (entry.name) }
                            td { (entry.language.as_deref().unwrap_or("every language")) }
                            td { (entry.keywords.join(", ")) }
                            td.text { strong { (entry.question) } "\n" (entry.answer) }
                            @if admin {
                                td {
                                    form method="post" action="/console/faq" data-remove=(entry.name) {
                                        input type="hidden" name="csrf" value=(session.csrf);
                                        input type="hidden" name="action" value="remove";
                                        input type="hidden" name="name" value=(entry.name);
                                        input type="hidden" name="language" value=(entry.language.as_deref().unwrap_or(""));
                                        button type="submit" { "Remove" }
                                    }
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
                form method="post" action="/console/faq" data-action="save" {
                    input type="hidden" name="csrf" value=(session.csrf);
                    input type="hidden" name="action" value="save";
                    label { "Name " input type="text" name="name" required maxlength=(canned::MAX_NAME_CHARS) placeholder="refund"; }
                    label { "Language " input type="text" name="language" maxlength="12" placeholder="every language"; }
                    label { "Keywords " input type="text" name="keywords" required placeholder="refund, money back"; }
                    label { "Question " input type="text" name="question" required maxlength=(faq::MAX_TEXT_CHARS); }
                    label { "Answer " textarea name="answer" required maxlength=(faq::MAX_TEXT_CHARS) {} }
                    button type="submit" { "Save" }
                }
            }
        }
    };
    let page = layout::page("FAQ answers", &session.agent, &session.csrf, body);
    Ok((status, page).into_response())
}

/// POST /console/faq: `action` = `save` or `remove`. Admins only.
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
        let problem = "Only admins change FAQ entries.";
        return render(&state, &session, StatusCode::FORBIDDEN, Some(problem)).await;
    }
    let now = state.clock.now();
    let checked = (|| {
        let name = canned::name(field("name"))?;
        let language = Some(field("language"))
            .filter(|l| !l.trim().is_empty())
            .map(canned::language)
            .transpose()?;
        let entry = match field("action") {
            "save" => Some(FaqEntry {
                name: name.clone(),
                language: language.clone(),
                keywords: faq::keywords(field("keywords"))?,
                question: faq::text("question", field("question"))?,
                answer: faq::text("answer", field("answer"))?,
                updated_at: now,
            }),
            "remove" => None,
            other => return Err(DeskError::Invalid(format!("There is no action `{other}`."))),
        };
        Ok((name, language, entry))
    })();
    let (name, language, entry) = match checked {
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
    let mut tx = state.store.begin().await?;
    match entry {
        Some(entry) => {
            tx.put_faq_entry(&entry, now.timestamp_millis()).await?;
        }
        None => {
            tx.remove_faq_entry(&name, Some(language.as_deref().unwrap_or("")))
                .await?;
        }
    }
    tx.commit().await?;
    Ok(Redirect::to("/console/faq").into_response())
}
