//! Agents' console accounts: created with a one-time password, given a role, disabled or
//! enabled, their password reset or their sign-in lock lifted. The one place these rules
//! live: the console's Agents page and `relaydesk agent …` both call them.

use relaydesk_storage::{Agent, Clock, Role, StorageError, Store, Tx};

use crate::secrets::{self, SecretError};

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("an agent named `{name}` or with email `{email}` already exists")]
    Duplicate { name: String, email: String },
    #[error("no agent named `{0}`")]
    UnknownAgent(String),
    #[error("`{0}` does not look like an email address")]
    BadEmail(String),
    #[error("the agent name must not be empty")]
    EmptyName,
    #[error(transparent)]
    Password(#[from] SecretError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// A newly added agent and the password to hand over (only when it was generated).
#[derive(Debug, Clone)]
pub struct AddedAgent {
    pub agent: Agent,
    pub generated_password: Option<String>,
}

/// Creates an agent who can sign in to the console with `email` and `password`. When
/// `password` is `None` a one-time password is generated (returned): the console asks for a
/// new one at the first sign-in.
pub async fn add(
    store: &Store,
    clock: &dyn Clock,
    name: &str,
    email: &str,
    role: Role,
    password: Option<&str>,
) -> Result<AddedAgent, AccountError> {
    let name = name.trim();
    let email = email.trim();
    if name.is_empty() {
        return Err(AccountError::EmptyName);
    }
    if !looks_like_email(email) {
        return Err(AccountError::BadEmail(email.to_string()));
    }
    let generated_password = match password {
        Some(_) => None,
        None => Some(secrets::one_time_password()),
    };
    let password = password
        .or(generated_password.as_deref())
        .unwrap_or_default();
    let hash = secrets::hash_password(password)?;
    let mut tx = store.begin().await?;
    if tx.agent_by_email(email).await?.is_some() || exact_agent(&mut tx, name).await.is_ok() {
        return Err(duplicate(name, email));
    }
    let agent = match tx
        .create_agent(name, Some(email), role, clock.now_ms())
        .await
    {
        Ok(agent) => agent,
        Err(StorageError::Conflict(_)) => return Err(duplicate(name, email)),
        Err(e) => return Err(e.into()),
    };
    tx.set_agent_password(agent.id, &hash, generated_password.is_some())
        .await?;
    tx.commit().await?;
    Ok(AddedAgent {
        agent,
        generated_password,
    })
}

fn duplicate(name: &str, email: &str) -> AccountError {
    AccountError::Duplicate {
        name: name.to_string(),
        email: email.to_string(),
    }
}

fn looks_like_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !email.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

/// Makes the agent named `name` an admin or a plain agent: the only way a stored role
/// changes (chat platforms can raise it for one message, never store it).
pub async fn set_role(store: &Store, name: &str, role: Role) -> Result<Agent, AccountError> {
    let mut tx = store.begin().await?;
    let agent = exact_agent(&mut tx, name).await?;
    tx.set_agent_role(agent.id, role).await?;
    let agent = tx.agent(agent.id).await?;
    tx.commit().await?;
    Ok(agent)
}

/// Disables (`true`) or enables the agent named `name`. A disabled agent is signed out of the
/// console and cannot sign in, use their API tokens or run commands from chat.
pub async fn set_disabled(
    store: &Store,
    name: &str,
    disabled: bool,
) -> Result<Agent, AccountError> {
    let mut tx = store.begin().await?;
    let agent = exact_agent(&mut tx, name).await?;
    tx.set_agent_disabled(agent.id, disabled).await?;
    let agent = tx.agent(agent.id).await?;
    tx.commit().await?;
    Ok(agent)
}

/// Gives the agent named `name` a new one-time password (returned), to be changed at their
/// next sign-in; ends their console sessions.
pub async fn reset_password(store: &Store, name: &str) -> Result<(Agent, String), AccountError> {
    let password = secrets::one_time_password();
    let hash = secrets::hash_password(&password)?;
    let mut tx = store.begin().await?;
    let agent = exact_agent(&mut tx, name).await?;
    tx.set_agent_password(agent.id, &hash, true).await?;
    tx.end_console_sessions(agent.id, None).await?;
    tx.commit().await?;
    Ok((agent, password))
}

/// Lifts a sign-in lock (and forgets the failures counted so far) of the agent named `name`.
pub async fn unlock(store: &Store, name: &str) -> Result<Agent, AccountError> {
    let mut tx = store.begin().await?;
    let agent = exact_agent(&mut tx, name).await?;
    if let Some(email) = &agent.email {
        tx.unlock_sign_in(email).await?;
    }
    tx.commit().await?;
    Ok(agent)
}

/// The agent whose own name is `name` (case-insensitively); chat handles do not count here.
pub async fn exact_agent(tx: &mut Tx, name: &str) -> Result<Agent, AccountError> {
    match tx.agent_by_name(name.trim()).await? {
        Some(agent) if agent.name.eq_ignore_ascii_case(name.trim()) => Ok(agent),
        _ => Err(AccountError::UnknownAgent(name.trim().to_string())),
    }
}
