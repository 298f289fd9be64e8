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

/// Most tickets one bulk action takes (a list page shows 50).
const MAX_BULK: usize = 200;

/// The commands the ticket list's bulk form offers.
pub const BULK: [&str; 7] = [
    "claim", "assign", "close", "tag", "priority", "team", "unassign",
];

/// POST /console/tickets/bulk: one command (`action`, its argument as `value`) on every
/// ticket the list's boxes name (`ticket`, repeated), each as if run on its own; then a page
/// of what happened to each.
pub async fn bulk(
    State(state): State<AppState>,
    session: Session,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    if !session.csrf_ok(get("csrf")) {
        return Ok(csrf_refused());
    }
    let numbers: Vec<i64> = pairs
        .iter()
        .filter(|(k, _)| k == "ticket")
        .filter_map(|(_, v)| v.trim().parse().ok())
        .take(MAX_BULK)
        .collect();
    let back = match get("back") {
        b if b.starts_with("/console/tickets") => b.to_string(),
        _ => "/console/tickets".to_string(),
    };
    let action = get("action");
    let command = if BULK.contains(&action) {
        let mut form = HashMap::from([("action".to_string(), action.to_string())]);
        if let Some(arg) = catalogue::find(action).and_then(|spec| spec.arg) {
            form.insert(arg.name.to_string(), get("value").to_string());
        }
        command_of(&form)
    } else {
        Err(DeskError::Invalid(format!(
            "`{action}` is not an action for several tickets."
        )))
    };
    let mut lines = Vec::new();
    match command {
        Err(refused) => lines.push((None, false, refused.to_string())),
        Ok(_) if numbers.is_empty() => {
            lines.push((None, false, "Tick the tickets to act on first.".into()))
        }
        Ok(command) => {
            for number in numbers {
                let outcome = state
                    .desk
                    .execute(session.agent.id, number, command.clone())
                    .await;
                lines.push(match outcome {
                    Ok(_) => (Some(number), true, "done".to_string()),
                    Err(DeskError::Internal(_)) => (
                        Some(number),
                        false,
                        "something went wrong; it has been logged".to_string(),
                    ),
                    Err(e) => (Some(number), false, e.to_string()),
                });
            }
        }
    }
    let failed = lines.iter().filter(|(_, ok, _)| !ok).count();
    let body = maud::html! {
        h1 { "Several tickets: " (action) }
        p class={ "flash " (if failed == 0 { "done" } else { "error" }) } role="status" {
            (lines.len() - failed) " done, " (failed) " not done."
        }
        ul.bulk-outcome {
            @for (number, ok, text) in &lines {
                li data-ok=(ok) {
                    @if let Some(n) = number {
                        a href={ "/console/tickets/" (n) } { "#" (n) } ": "
                    }
                    (text)
                }
            }
        }
        p { a href=(back) { "Back to the list" } }
    };
    let status = if failed == 0 {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((
        status,
        super::layout::page("Several tickets", &session.agent, &session.csrf, body),
    )
        .into_response())
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
