//! `relaydesk canned add|list|remove`: the saved answers agents send with `/canned NAME`.

use std::fmt::Write as _;

use clap::Subcommand;
use relaydesk_desk::{canned, DeskError};
use relaydesk_storage::{Clock, StorageError, Store};

#[derive(Debug, Clone, Subcommand)]
pub enum CannedCommand {
    /// Add a canned reply, or replace its text in that language.
    Add {
        /// What agents type after `/canned`: one word (letters, digits, - or _).
        name: String,
        /// The text. May use {customer.name}, {customer.first_name}, {ticket.number},
        /// {agent.name} and {team.name}.
        #[arg(long)]
        text: String,
        /// The customer language this text is for (de, fi, …); without it, the text for every
        /// language that has none of its own.
        #[arg(long = "lang", value_name = "LANGUAGE")]
        language: Option<String>,
    },
    /// List canned replies: name, language, text.
    List,
    /// Remove a canned reply (every language, or only `--lang`).
    Remove {
        name: String,
        #[arg(long = "lang", value_name = "LANGUAGE")]
        language: Option<String>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum CannedCliError {
    #[error("{0}")]
    Invalid(String),
    #[error("there is no canned reply `{0}`; `relaydesk canned list` shows them")]
    NotFound(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<DeskError> for CannedCliError {
    fn from(e: DeskError) -> Self {
        CannedCliError::Invalid(e.chat_text())
    }
}

/// Runs a canned-reply command; returns what to print.
pub async fn run(
    store: &Store,
    clock: &dyn Clock,
    command: CannedCommand,
) -> Result<String, CannedCliError> {
    let mut tx = store.begin().await?;
    let out = match command {
        CannedCommand::Add {
            name,
            text,
            language,
        } => {
            let name = canned::name(&name)?;
            let text = canned::text(&text)?;
            let language = language.as_deref().map(canned::language).transpose()?;
            let new = tx
                .put_canned_reply(&name, language.as_deref(), &text, clock.now_ms())
                .await?;
            let mut out = format!(
                "canned reply `{name}` ({}) {}",
                language.as_deref().unwrap_or("every language"),
                if new { "added" } else { "replaced" }
            );
            let unknown = canned::unknown_variables(&text);
            if !unknown.is_empty() {
                let _ = write!(
                    out,
                    "\nwarning: {} is not a variable and will be sent as typed; variables are {}",
                    unknown
                        .iter()
                        .map(|k| format!("{{{k}}}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    canned::VARIABLES
                        .iter()
                        .map(|k| format!("{{{k}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            out
        }
        CannedCommand::List => {
            let replies = tx.canned_replies().await?;
            if replies.is_empty() {
                "no canned replies; add one with `relaydesk canned add NAME --text \"…\"`".into()
            } else {
                let mut out = format!("{:<24} {:<8} {}", "NAME", "LANG", "TEXT");
                for reply in replies {
                    let first_line = reply.text.lines().next().unwrap_or_default();
                    let mut shown: String = first_line.chars().take(60).collect();
                    if shown.len() < reply.text.len() {
                        shown.push('…');
                    }
                    let _ = write!(
                        out,
                        "\n{:<24} {:<8} {}",
                        reply.name,
                        reply.language.as_deref().unwrap_or("*"),
                        shown
                    );
                }
                out
            }
        }
        CannedCommand::Remove { name, language } => {
            let name = canned::name(&name)?;
            let language = language.as_deref().map(canned::language).transpose()?;
            let removed = tx.remove_canned_reply(&name, language.as_deref()).await?;
            if removed == 0 {
                return Err(CannedCliError::NotFound(match language {
                    Some(language) => format!("{name}` in `{language}"),
                    None => name,
                }));
            }
            format!("canned reply `{name}` removed ({removed} text(s))")
        }
    };
    tx.commit().await?;
    Ok(out)
}
