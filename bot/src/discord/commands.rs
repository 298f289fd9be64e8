//! Slash commands: what is registered in the guild, and an invocation read as a hub
//! [`Command`].

use serenity::all::{
    CommandData, CommandOptionType, CreateCommand, CreateCommandOption, ResolvedOption,
    ResolvedValue,
};

use crate::hub::{Command, HubError};

fn text_option(name: &str, description: &str, required: bool) -> CreateCommandOption {
    CreateCommandOption::new(CommandOptionType::String, name, description).required(required)
}

/// The guild commands registered at start; `/ticket` only when there is a support channel
/// to open customer threads in.
pub fn definitions(with_ticket: bool) -> Vec<CreateCommand> {
    let simple = |name: &str, description: &str| CreateCommand::new(name).description(description);
    let mut commands = vec![
        simple("assign", "Assign this ticket to an agent").add_option(
            CreateCommandOption::new(CommandOptionType::User, "user", "The agent").required(true),
        ),
        simple("claim", "Assign this ticket to yourself"),
        simple("unassign", "Remove the ticket's assignee"),
        simple("close", "Close this ticket (the customer is told)").add_option(text_option(
            "reason",
            "Why it is closed",
            false,
        )),
        simple("reopen", "Reopen this closed ticket"),
        simple("merge", "Merge this ticket into another (admins)").add_option(
            CreateCommandOption::new(CommandOptionType::Integer, "ticket", "Ticket number")
                .required(true),
        ),
        simple("priority", "Set the ticket's priority").add_option(
            text_option("level", "low, normal, high or urgent", true)
                .add_string_choice("low", "low")
                .add_string_choice("normal", "normal")
                .add_string_choice("high", "high")
                .add_string_choice("urgent", "urgent"),
        ),
        simple("tag", "Add or remove a tag")
            .add_option(
                CreateCommandOption::new(CommandOptionType::SubCommand, "add", "Add a tag")
                    .add_sub_option(text_option("name", "The tag", true)),
            )
            .add_option(
                CreateCommandOption::new(CommandOptionType::SubCommand, "remove", "Remove a tag")
                    .add_sub_option(text_option("name", "The tag", true)),
            ),
        simple(
            "note",
            "Write an internal note (the customer does not see it)",
        )
        .add_option(text_option("text", "The note", true)),
        simple("reply", "Send a reply to the customer").add_option(text_option(
            "text",
            "The reply",
            true,
        )),
        simple("ticket-info", "Show this ticket's status"),
    ];
    if with_ticket {
        commands.push(
            simple("ticket", "Open a support ticket").add_option(text_option(
                "subject",
                "What do you need help with?",
                true,
            )),
        );
    }
    commands
}

/// The subject given to `/ticket`.
pub fn ticket_subject(data: &CommandData) -> Option<String> {
    let options = data.options();
    string(&options, "subject")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn string<'a>(options: &'a [ResolvedOption<'a>], name: &str) -> Option<&'a str> {
    options
        .iter()
        .find(|o| o.name == name)
        .and_then(|o| match o.value {
            ResolvedValue::String(s) => Some(s),
            _ => None,
        })
}

/// Reads a slash command invocation.
pub fn command_of(data: &CommandData) -> Result<Command, HubError> {
    let options = data.options();
    let name = data.name.as_str();
    match name {
        "assign" => {
            let user = options.iter().find_map(|o| match o.value {
                ResolvedValue::User(user, _) if o.name == "user" => Some(user),
                _ => None,
            });
            match user {
                Some(user) => Ok(Command::Assign(user.display_name().to_string())),
                None => Err(HubError::Invalid("/assign needs a user".into())),
            }
        }
        "close" => Ok(Command::Close(
            string(&options, "reason")
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_string),
        )),
        "merge" => options
            .iter()
            .find_map(|o| match o.value {
                ResolvedValue::Integer(n) if o.name == "ticket" => Some(Command::Merge(n)),
                _ => None,
            })
            .ok_or_else(|| HubError::Invalid("/merge needs a ticket number".into())),
        "priority" => Command::parse("priority", string(&options, "level").unwrap_or("")),
        "note" | "reply" => Command::parse(name, string(&options, "text").unwrap_or("")),
        "tag" => {
            let (sub, args) = options
                .iter()
                .find_map(|o| match &o.value {
                    ResolvedValue::SubCommand(args) => Some((o.name, args.as_slice())),
                    _ => None,
                })
                .ok_or_else(|| HubError::Invalid("/tag needs add or remove".into()))?;
            let tag = string(args, "name").unwrap_or("");
            match sub {
                "add" => Command::parse("tag", tag),
                "remove" => Command::parse("untag", tag),
                other => Err(HubError::Invalid(format!("unknown /tag {other}"))),
            }
        }
        "ticket-info" => Ok(Command::Status),
        other => Command::parse(other, ""),
    }
}

/// What the thread shows for a successful command: notes and replies typed as slash commands
/// are shown as written, since the hub does not copy them back into this thread.
pub fn shown(command: &Command, agent: &str) -> Option<String> {
    match command {
        Command::Note(text) => Some(format!("🔒 {agent} (internal note):\n{text}")),
        Command::Reply(text) => Some(format!("💬 {agent} → customer:\n{text}")),
        _ => None,
    }
}
