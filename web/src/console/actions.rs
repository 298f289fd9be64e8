//! Ticket actions posted from the console: the form names a catalogue command (`action`) and
//! carries its argument under the argument's name; it becomes a [`Command`] here and runs
//! through the desk as the signed-in agent, so permissions and effects are the chat's.

use std::collections::HashMap;

use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use relaydesk_desk::{catalogue, Command, Value};

use super::session::{csrf_refused, Session};
use super::ticket;
use crate::{desk_status, AppState, DeskError, WebError};

/// The command a console form asks for.
pub fn command_of(form: &HashMap<String, String>) -> Result<Command, DeskError> {
    let action = form.get("action").map(String::as_str).unwrap_or_default();
    let spec = catalogue::find(action)
        .ok_or_else(|| DeskError::Invalid(format!("There is no action `{action}`.")))?;
    let value = spec
        .arg
        .and_then(|arg| form.get(arg.name))
        .map(|text| Value::Text(text.clone()));
    Command::build(spec.name, value)
}

/// Runs one action and goes back to the ticket; a refusal shows the ticket page with the
/// reason.
pub async fn run(
    State(state): State<AppState>,
    session: Session,
    Path(number): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let csrf = form.get("csrf").map(String::as_str).unwrap_or_default();
    if !session.csrf_ok(csrf) {
        return Ok(csrf_refused());
    }
    let result = match command_of(&form) {
        Ok(command) => state.desk.execute(session.agent.id, number, command).await,
        Err(refused) => Err(refused),
    };
    match result {
        Ok(outcome) => Ok(
            Redirect::to(&format!("/console/tickets/{}", outcome.ticket_number)).into_response(),
        ),
        Err(error) => {
            let problem = match &error {
                DeskError::Internal(_) => {
                    "Something went wrong; it has been logged. Try again.".to_string()
                }
                other => other.to_string(),
            };
            ticket::page_with_problem(&state, &session, number, desk_status(&error), &problem).await
        }
    }
}

#[cfg(test)]
mod tests {
    use relaydesk_storage::Priority;

    use super::*;

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn forms_become_commands_by_their_argument_names() {
        let command = |pairs: &[(&str, &str)]| command_of(&form(pairs));
        assert_eq!(
            command(&[("action", "reply"), ("text", " /etc/hosts is wrong ")]),
            Ok(Command::Reply("/etc/hosts is wrong".into()))
        );
        assert_eq!(
            command(&[("action", "assign"), ("agent", "anna")]),
            Ok(Command::Assign("anna".into()))
        );
        assert_eq!(
            command(&[("action", "close"), ("reason", "")]),
            Ok(Command::Close(None))
        );
        assert_eq!(
            command(&[("action", "merge"), ("ticket", "#12")]),
            Ok(Command::Merge(12))
        );
        assert_eq!(
            command(&[("action", "priority"), ("priority", "high")]),
            Ok(Command::Priority(Priority::High))
        );
        assert!(command(&[("action", "reply"), ("text", "  ")]).is_err());
        assert!(command(&[("action", "assign")]).is_err());
        assert!(command(&[("action", "explode")]).is_err());
    }
}
