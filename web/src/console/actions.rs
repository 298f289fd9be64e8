//! Ticket actions posted from the console, turned into the chat command grammar and run by the
//! desk as the signed-in agent, so permissions and effects are the same as in chat.

use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::session::{csrf_refused, Session};
use super::ticket;
use crate::desk::DeskError;
use crate::{AppState, WebError};

#[derive(Debug, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    text: String,
}

/// Why a form cannot become a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadAction(pub String);

/// The chat-grammar input for a console action: `reply` and `note` carry text; the others are
/// the chat commands of the same name with `text` as their argument.
pub fn command_text(action: &str, text: &str) -> Result<String, BadAction> {
    let text = text.trim();
    let one_line = text.lines().next().unwrap_or_default().trim();
    let needs = |what: &str| -> Result<&str, BadAction> {
        if one_line.is_empty() {
            Err(BadAction(format!("Give {what}.")))
        } else {
            Ok(one_line)
        }
    };
    Ok(match action {
        "reply" if text.is_empty() => return Err(BadAction("Write a reply first.".into())),
        // A reply starting with a slash is still a reply, not a command.
        "reply" if text.starts_with('/') => format!("/reply {text}"),
        "reply" => text.to_string(),
        "note" if text.is_empty() => return Err(BadAction("Write a note first.".into())),
        "note" => format!("/note {text}"),
        "assign" => format!("/assign {}", needs("an agent name")?),
        "unassign" => "/unassign".into(),
        "claim" => "/claim".into(),
        "close" if one_line.is_empty() => "/close".into(),
        "close" => format!("/close {one_line}"),
        "reopen" => "/reopen".into(),
        "merge" => format!(
            "/merge {}",
            needs("the number of the ticket to merge into")?.trim_start_matches('#')
        ),
        "priority" => format!("/priority {}", needs("a priority")?),
        "tag" => format!("/tag {}", needs("a tag")?),
        "untag" => format!("/untag {}", needs("a tag")?),
        other => return Err(BadAction(format!("There is no action `{other}`."))),
    })
}

/// Runs one action and goes back to the ticket; a refusal shows the ticket page with the
/// reason.
pub async fn run(
    State(state): State<AppState>,
    session: Session,
    Path(number): Path<i64>,
    Form(input): Form<ActionForm>,
) -> Result<Response, WebError> {
    if !session.csrf_ok(&input.csrf) {
        return Ok(csrf_refused());
    }
    let command = match command_text(&input.action, &input.text) {
        Ok(command) => command,
        Err(BadAction(problem)) => {
            return ticket::page_with_problem(
                &state,
                &session,
                number,
                StatusCode::UNPROCESSABLE_ENTITY,
                &problem,
            )
            .await
        }
    };
    match state
        .desk
        .agent_command(session.agent.id, number, &command)
        .await
    {
        Ok(outcome) => Ok(
            Redirect::to(&format!("/console/tickets/{}", outcome.ticket_number)).into_response(),
        ),
        Err(error) => {
            let (status, problem) = match &error {
                DeskError::Forbidden(m) => (StatusCode::FORBIDDEN, m.clone()),
                DeskError::NotFound(m) => (StatusCode::NOT_FOUND, m.clone()),
                DeskError::Invalid(m) => (StatusCode::UNPROCESSABLE_ENTITY, m.clone()),
                DeskError::Conflict(m) => (StatusCode::CONFLICT, m.clone()),
                DeskError::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, error.to_string()),
                DeskError::Internal(_) => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong; it has been logged. Try again.".to_string(),
                ),
            };
            ticket::page_with_problem(&state, &session, number, status, &problem).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_become_chat_commands() {
        assert_eq!(command_text("reply", " hello ").as_deref(), Ok("hello"));
        assert_eq!(
            command_text("reply", "/etc/hosts is wrong").as_deref(),
            Ok("/reply /etc/hosts is wrong")
        );
        assert_eq!(
            command_text("note", "just us").as_deref(),
            Ok("/note just us")
        );
        assert_eq!(
            command_text("assign", "anna").as_deref(),
            Ok("/assign anna")
        );
        assert_eq!(command_text("claim", "").as_deref(), Ok("/claim"));
        assert_eq!(command_text("close", "").as_deref(), Ok("/close"));
        assert_eq!(
            command_text("close", "done\nmore").as_deref(),
            Ok("/close done")
        );
        assert_eq!(command_text("merge", "#12").as_deref(), Ok("/merge 12"));
        assert_eq!(
            command_text("priority", "high").as_deref(),
            Ok("/priority high")
        );
        assert_eq!(
            command_text("tag", "billing").as_deref(),
            Ok("/tag billing")
        );
        assert_eq!(
            command_text("untag", "billing").as_deref(),
            Ok("/untag billing")
        );
        assert!(command_text("reply", "  ").is_err());
        assert!(command_text("assign", "").is_err());
        assert!(command_text("explode", "x").is_err());
    }
}
