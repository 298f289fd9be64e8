//! Slash commands: the catalogue registered as guild application commands (typed options,
//! choices for fixed values, descriptions in every language), and an invocation read straight
//! into a [`Command`].

use relaydesk_desk::catalogue::{ArgKind, ArgSpec, CATALOGUE};
use relaydesk_desk::{catalogue, Command, DeskError, Language, Value};
use serenity::all::{
    CommandData, CommandOptionType, CreateCommand, CreateCommandOption, ResolvedOption,
    ResolvedValue,
};

/// `/ticket`: how a guild member opens a ticket. Customers' entry point, not a staff command,
/// so it is not in the catalogue.
pub const TICKET: &str = "ticket";

/// Discord's locale for a language other than English (the default description).
fn locale(language: Language) -> Option<&'static str> {
    match language {
        Language::En => None,
        Language::De => Some("de"),
        Language::Fi => Some("fi"),
        Language::Sv => Some("sv-SE"),
        Language::Ru => Some("ru"),
    }
}

/// The option Discord completes from the canned replies' names.
pub const CANNED_OPTION: &str = "canned";
/// The most suggestions Discord shows for an autocomplete.
pub const MAX_CHOICES: usize = 25;

fn option(arg: &ArgSpec) -> CreateCommandOption {
    let kind = match arg.kind {
        ArgKind::Agent => CommandOptionType::User,
        ArgKind::Ticket | ArgKind::Message => CommandOptionType::Integer,
        ArgKind::Text | ArgKind::Priority | ArgKind::Tag | ArgKind::Canned | ArgKind::QueueView => {
            CommandOptionType::String
        }
    };
    let mut option = CreateCommandOption::new(kind, arg.name, arg.help.en).required(arg.required);
    for language in Language::ALL {
        if let Some(locale) = locale(language) {
            option = option.description_localized(locale, arg.help.get(language));
        }
    }
    for choice in arg.choices() {
        option = option.add_string_choice(*choice, *choice);
    }
    if matches!(arg.kind, ArgKind::Ticket | ArgKind::Message) {
        option = option.min_int_value(1);
    }
    if arg.kind == ArgKind::Canned {
        option = option.set_autocomplete(true);
    }
    option
}

/// The guild commands registered at start: every catalogue command, and `/ticket` when there
/// is a support channel to open customer threads in.
pub fn definitions(with_ticket: bool) -> Vec<CreateCommand> {
    let mut commands: Vec<CreateCommand> = CATALOGUE
        .iter()
        .map(|spec| {
            let mut command = CreateCommand::new(spec.name).description(spec.help.en);
            for language in Language::ALL {
                if let Some(locale) = locale(language) {
                    command = command.description_localized(locale, spec.help.get(language));
                }
            }
            match &spec.arg {
                Some(arg) => command.add_option(option(arg)),
                None => command,
            }
        })
        .collect();
    if with_ticket {
        commands.push(
            CreateCommand::new(TICKET)
                .description("Open a support ticket")
                .add_option(
                    CreateCommandOption::new(
                        CommandOptionType::String,
                        "subject",
                        "What do you need help with?",
                    )
                    .required(true),
                ),
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

/// Reads a slash command invocation: its typed options become the command's argument.
pub fn command_of(data: &CommandData) -> Result<Command, DeskError> {
    let spec = catalogue::find(&data.name)
        .ok_or_else(|| DeskError::Invalid(format!("unknown command /{}", data.name)))?;
    let options = data.options();
    let value = spec
        .arg
        .and_then(|arg| options.iter().find(|o| o.name == arg.name))
        .and_then(|o| match &o.value {
            ResolvedValue::String(s) => Some(Value::Text(s.to_string())),
            ResolvedValue::Integer(n) => Some(Value::Integer(*n)),
            ResolvedValue::User(user, _) => Some(Value::Text(user.display_name().to_string())),
            _ => None,
        });
    Command::build(spec.name, value)
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
