//! The one command language. Chat text (`/close done`), Discord slash commands, the REST API
//! and the console all end up as a [`Command`].

use relaydesk_storage::Priority;
use serde::{Deserialize, Serialize};

use super::HubError;

/// Whether plain agent text in a ticket thread goes to the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RelayMode {
    /// Any message in the thread is relayed; `//text` and `/note` stay internal.
    #[default]
    Implicit,
    /// Only `/reply text` is relayed; everything else is an internal note.
    Explicit,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", content = "argument", rename_all = "lowercase")]
pub enum Command {
    /// Assign to an agent, named by agent name or chat handle (`@anna` or `anna`).
    Assign(String),
    Unassign,
    Claim,
    Close(Option<String>),
    Reopen,
    /// Merge this ticket into ticket number n.
    Merge(i64),
    Priority(Priority),
    Tag(String),
    Untag(String),
    Note(String),
    Reply(String),
    Status,
    /// Every SLA goal's state.
    Sla,
}

impl Command {
    /// Commands only admins may run. Merging cannot be undone.
    pub fn requires_admin(&self) -> bool {
        matches!(self, Command::Merge(_))
    }

    pub fn name(&self) -> &'static str {
        match self {
            Command::Assign(_) => "assign",
            Command::Unassign => "unassign",
            Command::Claim => "claim",
            Command::Close(_) => "close",
            Command::Reopen => "reopen",
            Command::Merge(_) => "merge",
            Command::Priority(_) => "priority",
            Command::Tag(_) => "tag",
            Command::Untag(_) => "untag",
            Command::Note(_) => "note",
            Command::Reply(_) => "reply",
            Command::Status => "status",
            Command::Sla => "sla",
        }
    }

    /// Parses `name` and its argument text (what follows the command word).
    pub fn parse(name: &str, args: &str) -> Result<Command, HubError> {
        let args = args.trim();
        let rest = || (!args.is_empty()).then(|| args.to_string());
        let need = |what: &str| -> Result<String, HubError> {
            rest().ok_or_else(|| HubError::Invalid(format!("/{name} needs {what}")))
        };
        let name = name.to_ascii_lowercase();
        Ok(match name.as_str() {
            "assign" => Command::Assign(
                need("an agent, e.g. /assign @anna")?
                    .trim_start_matches('@')
                    .to_string(),
            ),
            "unassign" => Command::Unassign,
            "claim" => Command::Claim,
            "close" => Command::Close(rest()),
            "reopen" => Command::Reopen,
            "merge" => {
                let target = need("a ticket number, e.g. /merge #1042")?;
                let number = target.trim_start_matches('#').parse::<i64>().map_err(|_| {
                    HubError::Invalid(format!("`{target}` is not a ticket number, e.g. #1042"))
                })?;
                Command::Merge(number)
            }
            "priority" => {
                let level = need("one of low, normal, high, urgent")?;
                Command::Priority(level.parse().map_err(|_| {
                    HubError::Invalid(format!(
                        "`{level}` is not a priority: use low, normal, high or urgent"
                    ))
                })?)
            }
            "tag" => Command::Tag(tag_name(&need("a tag")?)?),
            "untag" => Command::Untag(tag_name(&need("a tag")?)?),
            "note" => Command::Note(need("text")?),
            "reply" => Command::Reply(need("text")?),
            "status" | "ticket-info" | "info" => Command::Status,
            "sla" => Command::Sla,
            other => return Err(HubError::Invalid(format!("unknown command /{other}"))),
        })
    }

    /// Parses chat text that starts with `/`: `/close@relaydesk_bot all done` → `Close("all done")`.
    pub fn parse_text(text: &str) -> Result<Command, HubError> {
        let body = text.trim_start().strip_prefix('/').unwrap_or(text);
        let (word, args) = body.split_once(char::is_whitespace).unwrap_or((body, ""));
        let name = word.split('@').next().unwrap_or(word);
        Command::parse(name, args)
    }
}

fn tag_name(raw: &str) -> Result<String, HubError> {
    let tag = raw.trim().trim_start_matches('#').to_lowercase();
    if tag.is_empty() || tag.len() > 50 || tag.chars().any(char::is_whitespace) {
        return Err(HubError::Invalid(format!(
            "`{raw}` is not a tag: one word, up to 50 characters"
        )));
    }
    Ok(tag)
}

/// What an agent's message in a ticket thread means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffInput {
    /// Goes to the customer.
    Reply(String),
    /// Stays internal.
    Note(String),
    Command(Command),
}

/// Reads an agent's message in a ticket thread.
pub fn parse_staff_text(text: &str, mode: RelayMode) -> Result<StaffInput, HubError> {
    let trimmed = text.trim_start();
    if let Some(note) = trimmed.strip_prefix("//") {
        return Ok(StaffInput::Note(note.trim_start().to_string()));
    }
    if trimmed.starts_with('/') {
        return Ok(match Command::parse_text(trimmed)? {
            Command::Reply(text) => StaffInput::Reply(text),
            Command::Note(text) => StaffInput::Note(text),
            other => StaffInput::Command(other),
        });
    }
    Ok(match mode {
        RelayMode::Implicit => StaffInput::Reply(text.to_string()),
        RelayMode::Explicit => StaffInput::Note(text.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_commands_parse_with_bot_suffix_and_arguments() {
        assert_eq!(
            Command::parse_text("/close@relaydesk_bot all done").unwrap(),
            Command::Close(Some("all done".into()))
        );
        assert_eq!(Command::parse_text("/close").unwrap(), Command::Close(None));
        assert_eq!(
            Command::parse_text("/assign @anna").unwrap(),
            Command::Assign("anna".into())
        );
        assert_eq!(
            Command::parse_text("/merge #1042").unwrap(),
            Command::Merge(1042)
        );
        assert_eq!(
            Command::parse_text("/priority URGENT").unwrap(),
            Command::Priority(Priority::Urgent)
        );
        assert_eq!(
            Command::parse_text("/tag Billing").unwrap(),
            Command::Tag("billing".into())
        );
        assert_eq!(Command::parse_text("/status").unwrap(), Command::Status);
    }

    #[test]
    fn bad_commands_say_why() {
        let err = Command::parse_text("/merge soon").unwrap_err().to_string();
        assert!(err.contains("not a ticket number"), "{err}");
        let err = Command::parse_text("/priority whenever")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a priority"), "{err}");
        assert!(Command::parse_text("/assign")
            .unwrap_err()
            .to_string()
            .contains("needs"));
        assert!(Command::parse_text("/tag two words").is_err());
        assert!(Command::parse_text("/frobnicate")
            .unwrap_err()
            .to_string()
            .contains("unknown command /frobnicate"));
    }

    #[test]
    fn staff_text_is_reply_note_or_command_by_mode() {
        use StaffInput::*;
        assert_eq!(
            parse_staff_text("hello", RelayMode::Implicit).unwrap(),
            Reply("hello".into())
        );
        assert_eq!(
            parse_staff_text("hello", RelayMode::Explicit).unwrap(),
            Note("hello".into())
        );
        assert_eq!(
            parse_staff_text("// internal", RelayMode::Implicit).unwrap(),
            Note("internal".into())
        );
        assert_eq!(
            parse_staff_text("/note x", RelayMode::Implicit).unwrap(),
            Note("x".into())
        );
        assert_eq!(
            parse_staff_text("/reply hi", RelayMode::Explicit).unwrap(),
            Reply("hi".into())
        );
        assert_eq!(
            parse_staff_text("/claim", RelayMode::Implicit).unwrap(),
            Command(super::Command::Claim)
        );
    }

    #[test]
    fn only_merge_needs_an_admin() {
        assert!(Command::Merge(1).requires_admin());
        assert!(!Command::Close(None).requires_admin());
        assert!(!Command::Assign("x".into()).requires_admin());
    }
}
