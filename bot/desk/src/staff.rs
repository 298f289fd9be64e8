//! What an agent's message in a ticket thread means: a reply, a note or a command.

use serde::{Deserialize, Serialize};

use crate::{Command, DeskError};

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

/// An agent's message in a ticket thread, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffInput {
    /// Goes to the customer.
    Reply(String),
    /// Stays internal.
    Note(String),
    Command(Command),
}

impl StaffInput {
    /// The command this input runs: replies and notes are `/reply` and `/note`.
    pub fn into_command(self) -> Command {
        match self {
            StaffInput::Reply(text) => Command::Reply(text),
            StaffInput::Note(text) => Command::Note(text),
            StaffInput::Command(command) => command,
        }
    }
}

/// Reads an agent's message in a ticket thread.
pub fn parse_staff_text(text: &str, mode: RelayMode) -> Result<StaffInput, DeskError> {
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
}
