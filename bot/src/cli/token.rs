//! `relaydesk token create|list|revoke`: REST API bearer tokens. A token acts as an agent;
//! only a hash of it is stored, so it is printed once, when created.

use std::fmt::Write as _;

use clap::Subcommand;
use relaydesk_storage::{Clock, Store};
use relaydesk_web::tokens;

pub use relaydesk_web::tokens::TokenError;

#[derive(Debug, Clone, Subcommand)]
pub enum TokenCommand {
    /// Create a token acting as an agent, and print it (once: only its hash is kept).
    Create {
        /// A unique name for the token (e.g. the integration using it).
        name: String,
        /// The agent the token acts as: its permissions are the agent's.
        #[arg(long, value_name = "AGENT_NAME")]
        agent: String,
    },
    /// List tokens: name, agent, created, last used, revoked.
    List,
    /// Revoke a token: requests with it are refused from now on.
    Revoke {
        /// The token's name.
        name: String,
    },
}

/// What a token command prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Printed {
    /// For standard output: the new token alone (so `TOKEN=$(relaydesk token create …)` works),
    /// or the listing.
    pub out: String,
    /// For standard error: advice for the person at the terminal.
    pub note: Option<String>,
}

/// Runs a token command; returns what to print.
pub async fn run(
    store: &Store,
    clock: &dyn Clock,
    command: TokenCommand,
) -> Result<Printed, TokenError> {
    Ok(match command {
        TokenCommand::Create { name, agent } => {
            let made = tokens::create(store, clock, &name, &agent).await?;
            Printed {
                note: Some(format!(
                    "API token `{}` acts as agent `{}` ({}). Keep it secret: it is shown \
                     only this once. Send it as `Authorization: Bearer <token>`.",
                    made.name, made.agent, made.role
                )),
                out: made.token,
            }
        }
        TokenCommand::List => {
            let all = tokens::list(store).await?;
            if all.is_empty() {
                Printed {
                    out: String::new(),
                    note: Some(
                        "no API tokens; create one with `relaydesk token create NAME --agent AGENT_NAME`"
                            .to_string(),
                    ),
                }
            } else {
                let mut out = format!(
                    "{:<24} {:<20} {:<17} {:<17} {}",
                    "NAME", "AGENT", "CREATED", "LAST USED", "REVOKED"
                );
                let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
                    t.map_or("-".to_string(), |t| t.format("%Y-%m-%d %H:%M").to_string())
                };
                for token in all {
                    let _ = write!(
                        out,
                        "\n{:<24} {:<20} {:<17} {:<17} {}",
                        token.name,
                        token.agent,
                        when(Some(token.created_at)),
                        when(token.last_used_at),
                        when(token.revoked_at)
                    );
                }
                Printed { out, note: None }
            }
        }
        TokenCommand::Revoke { name } => {
            tokens::revoke(store, clock, &name).await?;
            Printed {
                out: String::new(),
                note: Some(format!("API token `{}` revoked", name.trim())),
            }
        }
    })
}
