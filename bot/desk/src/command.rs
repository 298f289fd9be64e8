//! [`Command`]: a staff command, typed. Built once at each edge, from chat text
//! ([`Command::parse_text`]), from typed fields ([`Command::from_fields`], Discord options,
//! console forms), always through [`Command::build`], so every edge checks arguments alike.

use relaydesk_storage::Priority;

use crate::catalogue::{self, ArgKind, ArgSpec, CommandSpec};
use crate::DeskError;

/// A staff command. Each variant has a [`CommandSpec`] in the catalogue under [`Command::name`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Assign to an agent, named by agent name or chat handle (`anna`; a leading `@` is dropped).
    Assign(String),
    Unassign,
    Claim,
    Close(Option<String>),
    Reopen,
    /// Merge this ticket into ticket number n.
    Merge(i64),
    /// Move the ticket to the team of this name.
    Team(String),
    /// Apply the routing rules again, as if the ticket had just opened.
    Reroute,
    /// Move message n (its number in the ticket) and the customer's later messages into a new
    /// ticket; without n, list the customer's messages with their numbers.
    Split(Option<i64>),
    Priority(Priority),
    Tag(String),
    Untag(String),
    Note(String),
    Reply(String),
    /// Send the canned reply of this name as a reply; without one, list the names.
    Canned(Option<String>),
    Status,
    /// Every SLA goal's state.
    Sla,
    /// The command list.
    Help,
    /// Up to 15 open tickets of one view (`unassigned` when none is given).
    Queue(Option<String>),
    /// The agent is away: auto-assignment skips them.
    Away,
    /// The agent is back on duty.
    Back,
}

/// An argument as an edge received it, before it is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Integer(i64),
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::Assign(_) => "assign",
            Command::Unassign => "unassign",
            Command::Claim => "claim",
            Command::Close(_) => "close",
            Command::Reopen => "reopen",
            Command::Merge(_) => "merge",
            Command::Split(_) => "split",
            Command::Team(_) => "team",
            Command::Reroute => "reroute",
            Command::Priority(_) => "priority",
            Command::Tag(_) => "tag",
            Command::Untag(_) => "untag",
            Command::Note(_) => "note",
            Command::Reply(_) => "reply",
            Command::Canned(_) => "canned",
            Command::Status => "status",
            Command::Sla => "sla",
            Command::Help => "help",
            Command::Queue(_) => "queue",
            Command::Away => "away",
            Command::Back => "back",
        }
    }

    /// Its declaration in the catalogue.
    pub fn spec(&self) -> &'static CommandSpec {
        catalogue::find(self.name()).unwrap_or(&catalogue::CATALOGUE[0])
    }

    /// The command `name` (or an alias) with its argument, checked against the catalogue.
    pub fn build(name: &str, value: Option<Value>) -> Result<Command, DeskError> {
        let spec = catalogue::find(name)
            .ok_or_else(|| DeskError::Invalid(format!("unknown command /{name}; see /help")))?;
        let value = value.filter(|v| !matches!(v, Value::Text(t) if t.trim().is_empty()));
        let arg = match (&spec.arg, value) {
            (None, _) => None,
            (Some(arg), None) if arg.required => {
                return Err(DeskError::Invalid(format!(
                    "/{} needs {}: {}",
                    spec.name,
                    arg.name,
                    spec.usage()
                )))
            }
            (Some(_), None) => None,
            (Some(arg), Some(value)) => Some(checked(spec, arg, value)?),
        };
        Ok(match (spec.name, arg) {
            ("assign", Some(Checked::Text(agent))) => Command::Assign(agent),
            ("unassign", _) => Command::Unassign,
            ("claim", _) => Command::Claim,
            ("close", reason) => Command::Close(reason.map(Checked::into_text)),
            ("reopen", _) => Command::Reopen,
            ("merge", Some(Checked::Ticket(n))) => Command::Merge(n),
            ("split", Some(Checked::Message(n))) => Command::Split(Some(n)),
            ("split", None) => Command::Split(None),
            ("team", Some(Checked::Text(team))) => Command::Team(team),
            ("reroute", _) => Command::Reroute,
            ("priority", Some(Checked::Priority(p))) => Command::Priority(p),
            ("tag", Some(Checked::Text(tag))) => Command::Tag(tag),
            ("untag", Some(Checked::Text(tag))) => Command::Untag(tag),
            ("note", Some(Checked::Text(text))) => Command::Note(text),
            ("reply", Some(Checked::Text(text))) => Command::Reply(text),
            ("canned", name) => Command::Canned(name.map(Checked::into_text)),
            ("status", _) => Command::Status,
            ("sla", _) => Command::Sla,
            ("help", _) => Command::Help,
            ("queue", view) => Command::Queue(view.map(Checked::into_text)),
            ("away", _) => Command::Away,
            ("back", _) => Command::Back,
            (other, _) => {
                return Err(DeskError::Internal(format!(
                    "/{other} is in the catalogue but cannot be built"
                )))
            }
        })
    }

    /// Chat text that starts with `/`: `/close@relaydesk_bot all done` → `Close("all done")`.
    /// The argument is everything after the command word.
    pub fn parse_text(text: &str) -> Result<Command, DeskError> {
        let body = text.trim_start();
        let body = body.strip_prefix('/').unwrap_or(body);
        let (word, rest) = body.split_once(char::is_whitespace).unwrap_or((body, ""));
        let name = word.split('@').next().unwrap_or(word);
        let rest = rest.trim();
        Command::build(
            name,
            (!rest.is_empty()).then(|| Value::Text(rest.to_string())),
        )
    }

    /// Typed fields, as the REST API takes them: `{"name": "assign", "agent": "anna"}`. Any
    /// field other than `name` and the command's argument is refused.
    pub fn from_fields(
        fields: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Command, DeskError> {
        let name = match fields.get("name") {
            Some(serde_json::Value::String(name)) => name.as_str(),
            _ => {
                return Err(DeskError::Invalid(
                    "`name` must be a command name, e.g. \"close\"".into(),
                ))
            }
        };
        let spec = catalogue::find(name)
            .ok_or_else(|| DeskError::Invalid(format!("unknown command `{name}`")))?;
        let arg_name = spec.arg.as_ref().map(|a| a.name);
        if let Some(extra) = fields
            .keys()
            .find(|k| k.as_str() != "name" && Some(k.as_str()) != arg_name)
        {
            return Err(DeskError::Invalid(match arg_name {
                Some(arg) => format!("/{} takes `{arg}`, not `{extra}`", spec.name),
                None => format!("/{} takes no `{extra}`", spec.name),
            }));
        }
        let value = match arg_name.and_then(|a| fields.get(a)) {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => Some(Value::Text(s.clone())),
            Some(serde_json::Value::Number(n)) => match n.as_i64() {
                Some(n) => Some(Value::Integer(n)),
                None => return Err(DeskError::Invalid(format!("`{n}` is not a whole number"))),
            },
            Some(other) => {
                return Err(DeskError::Invalid(format!(
                    "`{}` must be a string or a number, not {other}",
                    arg_name.unwrap_or_default()
                )))
            }
        };
        Command::build(spec.name, value)
    }
}

/// An argument that passed its kind's check.
enum Checked {
    Text(String),
    Ticket(i64),
    Message(i64),
    Priority(Priority),
}

impl Checked {
    fn into_text(self) -> String {
        match self {
            Checked::Text(text) => text,
            Checked::Ticket(n) | Checked::Message(n) => n.to_string(),
            Checked::Priority(p) => p.to_string(),
        }
    }
}

fn checked(spec: &CommandSpec, arg: &ArgSpec, value: Value) -> Result<Checked, DeskError> {
    let text = match value {
        Value::Text(text) => text.trim().to_string(),
        Value::Integer(n) if arg.kind == ArgKind::Ticket => return ticket(n),
        Value::Integer(n) if arg.kind == ArgKind::Message => return message(n),
        Value::Integer(n) => n.to_string(),
    };
    match arg.kind {
        ArgKind::Text => Ok(Checked::Text(text)),
        ArgKind::Agent => {
            let name = text.trim_start_matches('@').trim();
            if name.is_empty() {
                return Err(DeskError::Invalid(format!("/{} needs an agent", spec.name)));
            }
            Ok(Checked::Text(name.to_string()))
        }
        ArgKind::Ticket => {
            let n = text.trim_start_matches('#').parse::<i64>().map_err(|_| {
                DeskError::Invalid(format!("`{text}` is not a ticket number, e.g. #1042"))
            })?;
            ticket(n)
        }
        ArgKind::Message => {
            let n = text.trim_start_matches('#').parse::<i64>().map_err(|_| {
                DeskError::Invalid(format!(
                    "`{text}` is not a message number: /split alone lists them"
                ))
            })?;
            message(n)
        }
        ArgKind::Priority => text.parse().map(Checked::Priority).map_err(|_| {
            DeskError::Invalid(format!(
                "`{text}` is not a priority: use low, normal, high or urgent"
            ))
        }),
        ArgKind::Tag => {
            let tag = text.trim_start_matches('#').to_lowercase();
            if tag.is_empty() || tag.chars().count() > 50 || tag.chars().any(char::is_whitespace) {
                return Err(DeskError::Invalid(format!(
                    "`{text}` is not a tag: one word, up to 50 characters"
                )));
            }
            Ok(Checked::Text(tag))
        }
        ArgKind::Canned => crate::canned::name(&text).map(Checked::Text),
        ArgKind::QueueView => {
            let view = text.to_ascii_lowercase();
            if arg.choices().contains(&view.as_str()) {
                Ok(Checked::Text(view))
            } else {
                Err(DeskError::Invalid(format!(
                    "`{text}` is not a view: use {}",
                    arg.choices().join(", ")
                )))
            }
        }
    }
}

fn message(n: i64) -> Result<Checked, DeskError> {
    if n > 0 {
        Ok(Checked::Message(n))
    } else {
        Err(DeskError::Invalid(format!(
            "`{n}` is not a message number: the first message is 1"
        )))
    }
}

fn ticket(n: i64) -> Result<Checked, DeskError> {
    if n > 0 {
        Ok(Checked::Ticket(n))
    } else {
        Err(DeskError::Invalid(format!(
            "`{n}` is not a ticket number, e.g. #1042"
        )))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::CATALOGUE;

    fn fields(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        value.as_object().cloned().unwrap_or_default()
    }

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
        assert_eq!(
            Command::parse_text("/ticket-info").unwrap(),
            Command::Status
        );
        assert_eq!(Command::parse_text("/HELP").unwrap(), Command::Help);
        assert_eq!(
            Command::parse_text("/canned Greeting").unwrap(),
            Command::Canned(Some("greeting".into()))
        );
        assert_eq!(
            Command::parse_text("/canned").unwrap(),
            Command::Canned(None)
        );
        assert_eq!(
            Command::parse_text("/note two\nlines").unwrap(),
            Command::Note("two\nlines".into())
        );
    }

    #[test]
    fn bad_commands_say_why() {
        let err = Command::parse_text("/merge soon").unwrap_err().to_string();
        assert!(err.contains("not a ticket number"), "{err}");
        let err = Command::parse_text("/priority whenever")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a priority"), "{err}");
        let err = Command::parse_text("/assign").unwrap_err().to_string();
        assert!(err.contains("needs agent: /assign <agent>"), "{err}");
        assert!(Command::parse_text("/tag two words").is_err());
        assert!(Command::parse_text("/canned two words").is_err());
        assert!(Command::parse_text("/merge #0").is_err());
        let err = Command::parse_text("/frobnicate").unwrap_err().to_string();
        assert!(err.contains("unknown command /frobnicate"), "{err}");
    }

    #[test]
    fn typed_fields_build_the_same_commands_as_chat_text() {
        assert_eq!(
            Command::from_fields(&fields(json!({"name": "assign", "agent": "@anna"}))).unwrap(),
            Command::parse_text("/assign anna").unwrap()
        );
        assert_eq!(
            Command::from_fields(&fields(json!({"name": "merge", "ticket": 12}))).unwrap(),
            Command::Merge(12)
        );
        assert_eq!(
            Command::from_fields(&fields(json!({"name": "merge", "ticket": "#12"}))).unwrap(),
            Command::Merge(12)
        );
        assert_eq!(
            Command::from_fields(&fields(json!({"name": "close"}))).unwrap(),
            Command::Close(None)
        );
        let err = Command::from_fields(&fields(json!({"name": "close", "agent": "x"})))
            .unwrap_err()
            .to_string();
        assert!(err.contains("takes `reason`, not `agent`"), "{err}");
        assert!(Command::from_fields(&fields(json!({"name": "merge", "ticket": [1]}))).is_err());
        assert!(Command::from_fields(&fields(json!({"agent": "x"}))).is_err());
    }

    #[test]
    fn split_takes_a_message_number_or_nothing() {
        assert_eq!(Command::parse_text("/split").unwrap(), Command::Split(None));
        assert_eq!(
            Command::parse_text("/split 3").unwrap(),
            Command::Split(Some(3))
        );
        assert_eq!(
            Command::parse_text("/split #3").unwrap(),
            Command::Split(Some(3))
        );
        let err = Command::parse_text("/split three").unwrap_err().to_string();
        assert!(err.contains("not a message number"), "{err}");
        assert!(Command::parse_text("/split 0").is_err());
        assert_eq!(
            Command::from_fields(&fields(json!({"name": "split", "message": 4}))).unwrap(),
            Command::Split(Some(4))
        );
        assert!(Command::from_fields(&fields(json!({"name": "split", "message": -1}))).is_err());
    }

    #[test]
    fn every_catalogue_entry_builds_and_names_itself() {
        for spec in CATALOGUE {
            let sample = spec.arg.as_ref().map(|arg| match arg.kind {
                ArgKind::Ticket | ArgKind::Message => Value::Integer(7),
                _ if !arg.choices().is_empty() => Value::Text(arg.choices()[0].into()),
                _ => Value::Text("word".into()),
            });
            let command = Command::build(spec.name, sample).unwrap();
            assert_eq!(command.name(), spec.name);
            assert_eq!(command.spec(), spec);
        }
    }
}
