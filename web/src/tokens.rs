//! REST API bearer tokens as the CLI (`relaydesk token …`) and the console's tokens page manage
//! them: the one place their rules live. A token acts as an agent; only a hash of it is stored,
//! so it is shown once, when created.

use chrono::{DateTime, Utc};
use relaydesk_storage::{Clock, StorageError, Store};

use crate::secrets::{new_token, token_hash};

/// What every API token starts with, so a leaked one is easy to recognise.
pub const TOKEN_PREFIX: &str = "rdk_";
/// The longest token name.
pub const MAX_NAME_CHARS: usize = 64;

/// Why a token could not be made or revoked, in words for the person asking.
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
    #[error("a token needs a name of 1 to {MAX_NAME_CHARS} visible characters")]
    BadName,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// A token as lists show it (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenView {
    pub name: String,
    /// The name of the agent it acts as.
    pub agent: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A token just made: the secret (shown this once) and who it acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    pub token: String,
    pub name: String,
    pub agent: String,
    pub role: relaydesk_storage::Role,
}

/// A checked token name: trimmed, 1–64 characters, no control characters.
pub fn name(raw: &str) -> Result<String, TokenError> {
    let name = raw.trim();
    let count = name.chars().count();
    if count == 0 || count > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(TokenError::BadName);
    }
    Ok(name.to_string())
}

/// Every token, oldest first, revoked ones too.
pub async fn list(store: &Store) -> Result<Vec<TokenView>, TokenError> {
    let mut tx = store.begin().await?;
    let agents = tx.agents().await?;
    let tokens = tx.api_tokens().await?;
    tx.rollback().await?;
    Ok(tokens
        .into_iter()
        .map(|t| TokenView {
            agent: agents
                .iter()
                .find(|a| a.id == t.agent_id)
                .map_or_else(|| format!("agent {}", t.agent_id), |a| a.name.clone()),
            name: t.name,
            created_at: t.created_at,
            last_used_at: t.last_used_at,
            revoked_at: t.revoked_at,
        })
        .collect())
}

/// Makes a token named `raw_name` acting as the agent named `agent`.
pub async fn create(
    store: &Store,
    clock: &dyn Clock,
    raw_name: &str,
    agent: &str,
) -> Result<NewToken, TokenError> {
    let name = name(raw_name)?;
    let mut tx = store.begin().await?;
    let Some(owner) = tx.agent_by_name(agent.trim()).await? else {
        return Err(TokenError::NoSuchAgent(agent.trim().to_string()));
    };
    let token = new_token(TOKEN_PREFIX);
    match tx
        .create_api_token(&name, &token_hash(&token), owner.id, clock.now_ms())
        .await
    {
        Ok(_) => {}
        Err(StorageError::Conflict(_)) => return Err(TokenError::NameTaken(name)),
        Err(e) => return Err(e.into()),
    }
    tx.commit().await?;
    Ok(NewToken {
        token,
        name,
        agent: owner.name,
        role: owner.role,
    })
}

/// Revokes the live token named `raw_name`: requests with it are refused from now on.
pub async fn revoke(store: &Store, clock: &dyn Clock, raw_name: &str) -> Result<(), TokenError> {
    let name = raw_name.trim();
    let mut tx = store.begin().await?;
    if !tx.revoke_api_token(name, clock.now_ms()).await? {
        return Err(TokenError::NoSuchToken(name.to_string()));
    }
    tx.commit().await?;
    Ok(())
}
