//! The header's availability toggle: `/away` and `/back` as in chat (away agents get no
//! tickets by auto-assignment; their open tickets of self-assigning teams go to teammates).

use std::collections::HashMap;

use axum::extract::{Form, State};
use axum::response::{IntoResponse, Redirect, Response};

use relaydesk_desk::Command;

use super::session::{csrf_refused, Session};
use crate::{desk_status, AppState, WebError};

/// POST /console/availability with `on_duty` = `true` or `false`.
pub async fn set(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    if !session.csrf_ok(field("csrf")) {
        return Ok(csrf_refused());
    }
    let command = if field("on_duty") == "true" {
        Command::Back
    } else {
        Command::Away
    };
    // A command about the agent, not a ticket: no ticket number is looked at.
    if let Err(e) = state.desk.execute(session.agent.id, 0, command).await {
        tracing::error!(error = %e, "the availability toggle failed");
        return Ok((
            desk_status(&e),
            "Your availability could not be changed; try again.",
        )
            .into_response());
    }
    Ok(Redirect::to("/console/tickets").into_response())
}
