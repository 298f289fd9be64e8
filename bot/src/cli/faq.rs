//! `relaydesk faq add|list|remove`: answers offered to new tickets whose first message has
//! an entry's keywords.

use std::fmt::Write as _;

use clap::Subcommand;
use relaydesk_desk::{canned, faq, DeskError};
use relaydesk_storage::{Clock, FaqEntry, StorageError, Store};

#[derive(Debug, Clone, Subcommand)]
pub enum FaqCommand {
    /// Add an FAQ entry, or replace its text in that language.
    Add {
        /// A name for it: one word (letters, digits, - or _).
        name: String,
        /// The question it answers, as the customer is shown it.
        #[arg(long)]
        question: String,
        /// Comma-separated words or phrases; a first message with any of them matches.
        #[arg(long)]
        keywords: String,
        /// The answer.
        #[arg(long)]
        answer: String,
        /// The customer language this text is for; without it, every language without its own.
        #[arg(long = "lang", value_name = "LANGUAGE")]
        language: Option<String>,
    },
    /// List FAQ entries: name, language, keywords, question.
    List,
    /// Remove an FAQ entry (every language, or only `--lang`).
    Remove {
        name: String,
        #[arg(long = "lang", value_name = "LANGUAGE")]
        language: Option<String>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum FaqCliError {
    #[error("{0}")]
    Invalid(String),
    #[error("there is no FAQ entry `{0}`; `relaydesk faq list` shows them")]
    NotFound(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<DeskError> for FaqCliError {
    fn from(e: DeskError) -> Self {
        FaqCliError::Invalid(e.chat_text())
    }
}

/// Runs an FAQ command; returns what to print.
pub async fn run(
    store: &Store,
    clock: &dyn Clock,
    command: FaqCommand,
) -> Result<String, FaqCliError> {
    let mut tx = store.begin().await?;
    let out = match command {
        FaqCommand::Add {
            name,
            question,
            keywords,
            answer,
            language,
        } => {
            let entry = FaqEntry {
                name: canned::name(&name)?,
                language: language.as_deref().map(canned::language).transpose()?,
                keywords: faq::keywords(&keywords)?,
                question: faq::text("question", &question)?,
                answer: faq::text("answer", &answer)?,
                updated_at: clock.now(),
            };
            let new = tx.put_faq_entry(&entry, clock.now_ms()).await?;
            format!(
                "FAQ entry `{}` ({}) {}",
                entry.name,
                entry.language.as_deref().unwrap_or("every language"),
                if new { "added" } else { "replaced" }
            )
        }
        FaqCommand::List => {
            let entries = tx.faq_entries().await?;
            if entries.is_empty() {
                "no FAQ entries; add one with `relaydesk faq add NAME --question … --keywords … --answer …`".into()
            } else {
                let mut out = format!(
                    "{:<24} {:<6} {:<40} {}",
                    "NAME", "LANG", "KEYWORDS", "QUESTION"
                );
                for entry in entries {
                    let _ = write!(
                        out,
                        "\n{:<24} {:<6} {:<40} {}",
                        entry.name,
                        entry.language.as_deref().unwrap_or("*"),
                        entry.keywords.join(", "),
                        entry.question
                    );
                }
                out
            }
        }
        FaqCommand::Remove { name, language } => {
            let name = canned::name(&name)?;
            let language = language.as_deref().map(canned::language).transpose()?;
            let removed = tx.remove_faq_entry(&name, language.as_deref()).await?;
            if removed == 0 {
                return Err(FaqCliError::NotFound(name));
            }
            format!("FAQ entry `{name}` removed ({removed} text(s))")
        }
    };
    tx.commit().await?;
    Ok(out)
}
