//! `/api/v1/tickets/{n}/reply`, `/notes` and `/commands`: each builds a [`Command`] from the
//! request and hands it to the desk, which checks permissions and runs it as the chat would.
//!
//! The command body's OpenAPI schema is generated from the command catalogue, so the document
//! lists exactly the commands the chat menus list.

use std::borrow::Cow;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use relaydesk_desk::{catalogue, ArgKind, Command, CATALOGUE};
use serde::Deserialize;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

use super::auth::ApiAgent;
use super::body::ApiJson;
use super::error::{ApiError, ErrorBody};
use super::tickets::{required, ticket_number};
use super::views::CommandResult;
use crate::{AppState, DeskError};

/// Text for a reply or a note.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TextBody {
    /// Plain text.
    #[schema(example = "Thanks, we are on it.")]
    pub text: String,
}

/// A command: either chat grammar, `{"command": "/assign anna"}`, or typed,
/// `{"name": "assign", "agent": "anna"}`. See [`CommandBody::schema`].
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct CommandBody(serde_json::Map<String, serde_json::Value>);

impl ToSchema for CommandBody {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("CommandBody")
    }
}

impl PartialSchema for CommandBody {
    fn schema() -> RefOr<Schema> {
        let grammar = ObjectBuilder::new()
            .title(Some("Chat grammar"))
            .property(
                "command",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some(
                        "The same text as in a ticket thread, e.g. `/close solved`",
                    ))
                    .examples([serde_json::json!("/assign anna")]),
            )
            .required("command");
        let mut typed = ObjectBuilder::new().title(Some("Typed")).property(
            "name",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some("The command"))
                .enum_values(Some(CATALOGUE.iter().map(|spec| spec.name))),
        );
        let mut seen = Vec::new();
        for arg in CATALOGUE.iter().filter_map(|spec| spec.arg.as_ref()) {
            if seen.contains(&arg.name) {
                continue;
            }
            seen.push(arg.name);
            let users: Vec<String> = CATALOGUE
                .iter()
                .filter(|spec| spec.arg.is_some_and(|a| a.name == arg.name))
                .map(|spec| format!("/{}", spec.name))
                .collect();
            let mut property = ObjectBuilder::new()
                .schema_type(match arg.kind {
                    ArgKind::Ticket | ArgKind::Message => Type::Integer,
                    _ => Type::String,
                })
                .description(Some(format!("For {}", users.join(", "))));
            if !arg.choices().is_empty() {
                property = property.enum_values(Some(arg.choices().iter().copied()));
            }
            typed = typed.property(arg.name, property);
        }
        let typed = typed.required("name");
        OneOfBuilder::new()
            .description(Some(
                "A command as chat text, or by name with its argument as a field.",
            ))
            .item(grammar)
            .item(typed)
            .into()
    }
}

impl CommandBody {
    /// The command this body asks for; errors name the field at fault.
    fn command(&self) -> Result<Command, ApiError> {
        let fields = &self.0;
        if let Some(text) = fields.get("command") {
            if fields.len() > 1 {
                return Err(ApiError::invalid(
                    "command",
                    "send either `command` (chat text) or `name` with its argument, not both",
                ));
            }
            let text = text.as_str().unwrap_or_default().trim();
            required("command", text, usize::MAX)?;
            if !text.starts_with('/') {
                return Err(ApiError::invalid(
                    "command",
                    "a command starts with `/`, e.g. /close solved",
                ));
            }
            return Command::parse_text(text).map_err(|e| on_field(e, "command"));
        }
        let spec = fields
            .get("name")
            .and_then(|n| n.as_str())
            .and_then(catalogue::find);
        let argument = spec.and_then(|spec| spec.arg.map(|a| a.name));
        // The field at fault: an unexpected one, else the argument, else the name.
        let stray = fields
            .keys()
            .find(|k| k.as_str() != "name" && Some(k.as_str()) != argument);
        let field = match (spec, stray) {
            (None, _) => "name",
            (Some(_), Some(stray)) => stray.as_str(),
            (Some(_), None) => argument.unwrap_or("name"),
        };
        Command::from_fields(fields).map_err(|e| on_field(e, field))
    }
}

fn on_field(error: DeskError, field: &str) -> ApiError {
    match error {
        DeskError::Invalid(message) => ApiError::invalid(field, message),
        other => other.into(),
    }
}

async fn run(
    state: &AppState,
    who: &ApiAgent,
    number: i64,
    command: Command,
) -> Result<CommandResult, ApiError> {
    let outcome = state.desk.execute(who.agent.id, number, command).await?;
    Ok(CommandResult {
        ticket_number: outcome.ticket_number,
        text: outcome.text,
        message_id: outcome.message_id,
    })
}

/// Reply to the customer, on the channel they wrote from.
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{number}/reply",
    tag = "tickets",
    params(("number" = i64, Path, description = "Ticket number")),
    request_body = TextBody,
    responses(
        (status = 201, description = "Stored and queued for delivery", body = CommandResult),
        (status = 401, description = "Missing, unknown or revoked token", body = ErrorBody),
        (status = 404, description = "No such ticket", body = ErrorBody),
        (status = 409, description = "The ticket is closed or merged", body = ErrorBody),
        (status = 413, description = "Too large", body = ErrorBody),
        (status = 422, description = "`text` is empty", body = ErrorBody),
        (status = 429, description = "Rate limited: see Retry-After", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn reply(
    State(state): State<AppState>,
    who: ApiAgent,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<TextBody>,
) -> Result<(StatusCode, Json<CommandResult>), ApiError> {
    let number = ticket_number(&number)?;
    required("text", &body.text, usize::MAX)?;
    let result = run(&state, &who, number, Command::Reply(body.text)).await?;
    Ok((StatusCode::CREATED, Json(result)))
}

/// Add an internal note (never sent to the customer).
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{number}/notes",
    tag = "tickets",
    params(("number" = i64, Path, description = "Ticket number")),
    request_body = TextBody,
    responses(
        (status = 201, description = "Stored", body = CommandResult),
        (status = 401, description = "Missing, unknown or revoked token", body = ErrorBody),
        (status = 404, description = "No such ticket", body = ErrorBody),
        (status = 413, description = "Too large", body = ErrorBody),
        (status = 422, description = "`text` is empty", body = ErrorBody),
        (status = 429, description = "Rate limited: see Retry-After", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn note(
    State(state): State<AppState>,
    who: ApiAgent,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<TextBody>,
) -> Result<(StatusCode, Json<CommandResult>), ApiError> {
    let number = ticket_number(&number)?;
    required("text", &body.text, usize::MAX)?;
    let result = run(&state, &who, number, Command::Note(body.text)).await?;
    Ok((StatusCode::CREATED, Json(result)))
}

/// Run a command on a ticket, with the token's agent's permissions: as chat text
/// (`{"command": "/assign anna"}`) or typed (`{"name": "assign", "agent": "anna"}`).
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{number}/commands",
    tag = "tickets",
    params(("number" = i64, Path, description = "Ticket number")),
    request_body = CommandBody,
    responses(
        (status = 200, description = "Done; `text` says what happened", body = CommandResult),
        (status = 401, description = "Missing, unknown or revoked token", body = ErrorBody),
        (status = 403, description = "The token's agent may not run this command", body = ErrorBody),
        (status = 404, description = "No such ticket or agent", body = ErrorBody),
        (status = 409, description = "The ticket's state does not allow it (e.g. closing a closed ticket)", body = ErrorBody),
        (status = 422, description = "Unknown command or bad argument", body = ErrorBody),
        (status = 429, description = "Rate limited: see Retry-After", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn command(
    State(state): State<AppState>,
    who: ApiAgent,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<CommandBody>,
) -> Result<Json<CommandResult>, ApiError> {
    let number = ticket_number(&number)?;
    let command = body.command()?;
    Ok(Json(run(&state, &who, number, command).await?))
}
