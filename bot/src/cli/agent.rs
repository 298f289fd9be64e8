//! `relaydesk agent add`, `list`, `role`, `disable`, `enable`, `reset-password`, `unlock`,
//! `join` and `link`: console accounts, their role and state, and the chat identities that
//! belong to the same person.

use relaydesk_storage::{Agent, Clock, Platform, Role, StorageError, Store};
use relaydesk_web::accounts::{self, AccountError};
use relaydesk_web::secrets::SecretError;

/// Why an agent command failed, in words for the person at the terminal.
#[derive(Debug, thiserror::Error)]
pub enum AgentCliError {
    #[error("an agent named `{name}` or with email `{email}` already exists")]
    Duplicate { name: String, email: String },
    #[error("no agent named `{0}`")]
    UnknownAgent(String),
    #[error("`{0}` does not look like an email address")]
    BadEmail(String),
    #[error("the agent name must not be empty")]
    EmptyName,
    #[error("the team name must not be empty")]
    EmptyTeam,
    #[error("{platform} id `{id}` is not a number")]
    BadPlatformId { platform: Platform, id: String },
    #[error(transparent)]
    Password(#[from] SecretError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

pub use relaydesk_web::accounts::AddedAgent;

impl From<AccountError> for AgentCliError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Duplicate { name, email } => AgentCliError::Duplicate { name, email },
            AccountError::UnknownAgent(name) => AgentCliError::UnknownAgent(name),
            AccountError::BadEmail(email) => AgentCliError::BadEmail(email),
            AccountError::EmptyName => AgentCliError::EmptyName,
            AccountError::Password(e) => AgentCliError::Password(e),
            AccountError::Storage(e) => AgentCliError::Storage(e),
        }
    }
}

/// Creates an agent who can sign in to the console with `email` and `password` (a one-time
/// password is generated when `password` is `None`).
pub async fn add(
    store: &Store,
    clock: &dyn Clock,
    name: &str,
    email: &str,
    admin: bool,
    password: Option<&str>,
) -> Result<AddedAgent, AgentCliError> {
    let role = if admin { Role::Admin } else { Role::Agent };
    Ok(accounts::add(store, clock, name, email, role, password).await?)
}

/// Makes the agent named `name` a member of team `team` (created if new): the team's tickets
/// show in the agent's "My teams' open" console view.
pub async fn join_team(
    store: &Store,
    clock: &dyn Clock,
    name: &str,
    team: &str,
) -> Result<Agent, AgentCliError> {
    let team = team.trim();
    if team.is_empty() {
        return Err(AgentCliError::EmptyTeam);
    }
    let mut tx = store.begin().await?;
    let agent = exact_agent(&mut tx, name).await?;
    let team_id = tx.ensure_team(team, clock.now_ms()).await?;
    tx.add_agent_to_team(agent.id, team_id).await?;
    tx.commit().await?;
    Ok(agent)
}

/// Ties a Telegram or Discord user id to the agent named `name`, so work done there counts for
/// the same person as work done in the console.
pub async fn link(
    store: &Store,
    name: &str,
    platform: Platform,
    external_id: &str,
) -> Result<Agent, AgentCliError> {
    let external_id = external_id.trim();
    if external_id.is_empty() || !external_id.chars().all(|c| c.is_ascii_digit()) {
        return Err(AgentCliError::BadPlatformId {
            platform,
            id: external_id.to_string(),
        });
    }
    let mut tx = store.begin().await?;
    let agent = exact_agent(&mut tx, name).await?;
    tx.link_agent_identity(agent.id, platform, external_id, &agent.name)
        .await?;
    tx.commit().await?;
    Ok(agent)
}

/// Makes the agent named `name` an admin or a plain agent: the only way a stored role
/// changes (chat platforms can raise it for one message, never store it).
pub async fn set_role(store: &Store, name: &str, role: Role) -> Result<Agent, AgentCliError> {
    Ok(accounts::set_role(store, name, role).await?)
}

/// Every agent, one line each: name, email, role, and what is special about them.
pub async fn list(store: &Store) -> Result<String, AgentCliError> {
    let mut tx = store.begin().await?;
    let agents = tx.agents().await?;
    tx.rollback().await?;
    if agents.is_empty() {
        return Ok("no agents yet: relaydesk agent add NAME --email EMAIL".to_string());
    }
    let lines: Vec<String> = agents
        .iter()
        .map(|a| {
            let mut state = Vec::new();
            if a.disabled {
                state.push("disabled");
            }
            if a.must_change_password {
                state.push("must change password");
            }
            if !a.on_duty {
                state.push("away");
            }
            format!(
                "{}\t{}\t{}\t{}",
                a.name,
                a.email.as_deref().unwrap_or("-"),
                a.role,
                if state.is_empty() {
                    "active".to_string()
                } else {
                    state.join(", ")
                }
            )
        })
        .collect();
    Ok(lines.join("\n"))
}

/// Disables (`true`) or enables the agent named `name`. A disabled agent is signed out of the
/// console and cannot sign in, use their API tokens or run commands from chat.
pub async fn set_disabled(
    store: &Store,
    name: &str,
    disabled: bool,
) -> Result<Agent, AgentCliError> {
    Ok(accounts::set_disabled(store, name, disabled).await?)
}

/// Gives the agent named `name` a new one-time password (returned), to be changed at their
/// next sign-in; ends their console sessions.
pub async fn reset_password(store: &Store, name: &str) -> Result<(Agent, String), AgentCliError> {
    Ok(accounts::reset_password(store, name).await?)
}

/// Lifts a sign-in lock (and forgets the failures counted so far) of the agent named `name`.
pub async fn unlock(store: &Store, name: &str) -> Result<Agent, AgentCliError> {
    Ok(accounts::unlock(store, name).await?)
}

async fn exact_agent(tx: &mut relaydesk_storage::Tx, name: &str) -> Result<Agent, AgentCliError> {
    Ok(accounts::exact_agent(tx, name).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use relaydesk_storage::{StoreOptions, SystemClock};

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("cli.db").display());
        let store = Store::open(&url, &StoreOptions::default())
            .await
            .expect("open store");
        (dir, store)
    }

    #[tokio::test]
    async fn add_creates_an_agent_who_can_sign_in() {
        let (_dir, store) = store().await;
        let clock = SystemClock;
        let added = add(&store, &clock, "anna", "anna@example.com", true, None)
            .await
            .expect("added");
        assert_eq!(added.agent.role, Role::Admin);
        let password = added.generated_password.expect("a generated password");
        let mut tx = store.begin().await.expect("tx");
        let creds = tx
            .agent_credentials("ANNA@example.com")
            .await
            .expect("query")
            .expect("found by email");
        let hash = creds.password_hash.expect("password set");
        assert!(relaydesk_web::secrets::verify_password(&hash, &password));
    }

    #[tokio::test]
    async fn set_role_promotes_and_demotes_by_exact_name() {
        let (_dir, store) = store().await;
        add(
            &store,
            &SystemClock,
            "cleo",
            "cleo@example.com",
            false,
            Some("long enough pw"),
        )
        .await
        .expect("added");
        let cleo = set_role(&store, "Cleo", Role::Admin)
            .await
            .expect("promoted");
        assert_eq!(cleo.role, Role::Admin);
        let cleo = set_role(&store, "cleo", Role::Agent)
            .await
            .expect("demoted");
        assert_eq!(cleo.role, Role::Agent);
        assert!(matches!(
            set_role(&store, "nobody", Role::Admin).await,
            Err(AgentCliError::UnknownAgent(_))
        ));
    }

    #[tokio::test]
    async fn add_takes_a_given_password_and_refuses_duplicates() {
        let (_dir, store) = store().await;
        let clock = SystemClock;
        let added = add(
            &store,
            &clock,
            "bob",
            "bob@example.com",
            false,
            Some("long enough pw"),
        )
        .await
        .expect("added");
        assert!(added.generated_password.is_none());
        assert_eq!(added.agent.role, Role::Agent);
        let same_name = add(&store, &clock, "Bob", "other@example.com", false, None).await;
        assert!(matches!(same_name, Err(AgentCliError::Duplicate { .. })));
        let same_email = add(&store, &clock, "robert", "BOB@example.com", false, None).await;
        assert!(matches!(same_email, Err(AgentCliError::Duplicate { .. })));
        let short = add(
            &store,
            &clock,
            "carl",
            "carl@example.com",
            false,
            Some("short"),
        )
        .await;
        assert!(matches!(
            short,
            Err(AgentCliError::Password(SecretError::TooShort))
        ));
        let bad = add(&store, &clock, "dora", "not-an-email", false, None).await;
        assert!(matches!(bad, Err(AgentCliError::BadEmail(_))));
    }

    #[tokio::test]
    async fn link_ties_chat_identities_to_the_agent() {
        let (_dir, store) = store().await;
        let clock = SystemClock;
        let added = add(&store, &clock, "anna", "anna@example.com", false, None)
            .await
            .expect("added");
        link(&store, "Anna", Platform::Telegram, "12345")
            .await
            .expect("linked telegram");
        link(&store, "anna", Platform::Discord, "998877")
            .await
            .expect("linked discord");
        let mut tx = store.begin().await.expect("tx");
        for (platform, id) in [(Platform::Telegram, "12345"), (Platform::Discord, "998877")] {
            let found = tx
                .agent_by_identity(platform, id)
                .await
                .expect("query")
                .expect("linked");
            assert_eq!(found.id, added.agent.id);
        }
        drop(tx);
        let unknown = link(&store, "nobody", Platform::Telegram, "1").await;
        assert!(matches!(unknown, Err(AgentCliError::UnknownAgent(_))));
        let bad = link(&store, "anna", Platform::Discord, "abc").await;
        assert!(matches!(bad, Err(AgentCliError::BadPlatformId { .. })));
    }

    #[tokio::test]
    async fn join_team_makes_an_agent_a_member_once() {
        let (_dir, store) = store().await;
        let clock = SystemClock;
        let added = add(&store, &clock, "anna", "anna@example.com", false, None)
            .await
            .expect("added");
        join_team(&store, &clock, "anna", "billing")
            .await
            .expect("joined");
        join_team(&store, &clock, "ANNA", "billing")
            .await
            .expect("joined again");
        join_team(&store, &clock, "anna", "vip")
            .await
            .expect("joined");
        let mut tx = store.begin().await.expect("tx");
        let teams = tx.agent_team_ids(added.agent.id).await.expect("teams");
        assert_eq!(teams.len(), 2);
        drop(tx);
        let unknown = join_team(&store, &clock, "nobody", "billing").await;
        assert!(matches!(unknown, Err(AgentCliError::UnknownAgent(_))));
        let empty = join_team(&store, &clock, "anna", " ").await;
        assert!(matches!(empty, Err(AgentCliError::EmptyTeam)));
    }
}
