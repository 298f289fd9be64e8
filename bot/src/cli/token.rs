//! `relaydesk token create|list|revoke`: REST API bearer tokens. A token acts as an agent;
//! only a hash of it is stored, so it is printed once, when created.

use std::fmt::Write as _;

use clap::Subcommand;
use relaydesk_storage::{Clock, StorageError, Store};
use relaydesk_web::secrets::{new_token, token_hash};

/// What every API token starts with, so a leaked one is easy to recognise.
pub const TOKEN_PREFIX: &str = "rdk_";

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

/// Why a token command failed, in words for the person at the terminal.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(
        "there is no agent named `{0}`; agents are created when they first write in a staff \
         thread, or with `relaydesk agent add`"
    )]
    NoSuchAgent(String),
    #[error("a token named `{0}` already exists; pick another name or revoke it first")]
    NameTaken(String),
    #[error("there is no live token named `{0}`")]
    NoSuchToken(String),
    #[error("a token needs a name")]
    EmptyName,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Runs a token command; returns what to print.
pub async fn run(
    store: &Store,
    clock: &dyn Clock,
    command: TokenCommand,
) -> Result<String, TokenError> {
    let now_ms = clock.now().timestamp_millis();
    let mut tx = store.begin().await?;
    let out = match command {
        TokenCommand::Create { name, agent } => {
            let name = name.trim().to_string();
            if name.is_empty() {
                return Err(TokenError::EmptyName);
            }
            let Some(owner) = tx.agent_by_name(agent.trim()).await? else {
                return Err(TokenError::NoSuchAgent(agent));
            };
            let token = new_token(TOKEN_PREFIX);
            match tx
                .create_api_token(&name, &token_hash(&token), owner.id, now_ms)
                .await
            {
                Ok(_) => {}
                Err(StorageError::Conflict(_)) => return Err(TokenError::NameTaken(name)),
                Err(e) => return Err(e.into()),
            }
            format!(
                "{token}\n\nAPI token `{name}` acts as agent `{}` ({}). Keep it secret: it is \
                 shown only this once. Use it as `Authorization: Bearer <token>`.",
                owner.name, owner.role
            )
        }
        TokenCommand::List => {
            let tokens = tx.api_tokens().await?;
            if tokens.is_empty() {
                "no API tokens; create one with `relaydesk token create NAME --agent AGENT_NAME`"
                    .to_string()
            } else {
                let mut out = format!(
                    "{:<24} {:<20} {:<17} {:<17} {}",
                    "NAME", "AGENT", "CREATED", "LAST USED", "REVOKED"
                );
                for token in tokens {
                    let agent = tx.agent(token.agent_id).await?.name;
                    let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
                        t.map_or("-".to_string(), |t| t.format("%Y-%m-%d %H:%M").to_string())
                    };
                    let _ = write!(
                        out,
                        "\n{:<24} {:<20} {:<17} {:<17} {}",
                        token.name,
                        agent,
                        when(Some(token.created_at)),
                        when(token.last_used_at),
                        when(token.revoked_at)
                    );
                }
                out
            }
        }
        TokenCommand::Revoke { name } => {
            if !tx.revoke_api_token(name.trim(), now_ms).await? {
                return Err(TokenError::NoSuchToken(name));
            }
            format!("API token `{name}` revoked")
        }
    };
    tx.commit().await?;
    Ok(out)
}
