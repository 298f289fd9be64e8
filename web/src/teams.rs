//! Teams as the CLI (`relaydesk team …`) and the REST API manage them: the one place their
//! rules live. Teams declared in `relaydesk.toml` (`[[teams]]`) are written again, members and
//! all, each time Relaydesk starts; these change the store in between and manage the others.

use relaydesk_storage::{Clock, StorageError, Store, Team, Tx};

/// The longest team name.
pub const MAX_NAME_CHARS: usize = 50;

#[derive(Debug, thiserror::Error)]
pub enum TeamError {
    #[error("a team name needs 1 to {MAX_NAME_CHARS} visible characters")]
    BadName,
    #[error("there is no team `{0}`; `relaydesk team list` shows them")]
    UnknownTeam(String),
    #[error("no agent named `{0}`")]
    UnknownAgent(String),
    #[error("{agent} is not in team {team}")]
    NotAMember { agent: String, team: String },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// A team and its members' names.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct TeamView {
    #[schema(example = "billing")]
    pub name: String,
    pub members: Vec<String>,
}

/// A checked team name: trimmed, 1–50 characters, no control characters.
pub fn name(raw: &str) -> Result<String, TeamError> {
    let name = raw.trim();
    let count = name.chars().count();
    if count == 0 || count > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(TeamError::BadName);
    }
    Ok(name.to_string())
}

async fn find(tx: &mut Tx, name: &str) -> Result<Team, TeamError> {
    tx.teams()
        .await?
        .into_iter()
        .find(|t| t.name.eq_ignore_ascii_case(name.trim()))
        .ok_or_else(|| TeamError::UnknownTeam(name.trim().to_string()))
}

async fn view(tx: &mut Tx, team: Team) -> Result<TeamView, TeamError> {
    let members = tx.team_member_names(team.id).await?;
    Ok(TeamView {
        name: team.name,
        members,
    })
}

/// Every team with its members, by name.
pub async fn list(store: &Store) -> Result<Vec<TeamView>, TeamError> {
    let mut tx = store.begin().await?;
    let mut out = Vec::new();
    for team in tx.teams().await? {
        out.push(view(&mut tx, team).await?);
    }
    tx.rollback().await?;
    Ok(out)
}

/// Adds a team (nothing changes when it exists); returns it and whether it is new.
pub async fn add(
    store: &Store,
    clock: &dyn Clock,
    raw: &str,
) -> Result<(TeamView, bool), TeamError> {
    let name = name(raw)?;
    let mut tx = store.begin().await?;
    // Names are one team whatever their case.
    if let Ok(team) = find(&mut tx, &name).await {
        let team = view(&mut tx, team).await?;
        tx.rollback().await?;
        return Ok((team, false));
    }
    let id = tx.ensure_team(&name, clock.now_ms()).await?;
    let team = tx
        .teams()
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or_else(|| TeamError::UnknownTeam(name.clone()))?;
    let team = view(&mut tx, team).await?;
    tx.commit().await?;
    Ok((team, true))
}

/// Removes a team; its tickets keep no team. Returns how many tickets it had.
pub async fn remove(store: &Store, clock: &dyn Clock, name: &str) -> Result<u64, TeamError> {
    let mut tx = store.begin().await?;
    let team = find(&mut tx, name).await?;
    let moved = tx.delete_team(team.id, clock.now_ms()).await?;
    tx.commit().await?;
    Ok(moved)
}

/// Makes the agent a member of the team.
pub async fn add_member(store: &Store, team: &str, agent: &str) -> Result<TeamView, TeamError> {
    let mut tx = store.begin().await?;
    let team = find(&mut tx, team).await?;
    let member = tx
        .agent_by_name(agent.trim())
        .await?
        .ok_or_else(|| TeamError::UnknownAgent(agent.trim().to_string()))?;
    tx.add_agent_to_team(member.id, team.id).await?;
    let team = view(&mut tx, team).await?;
    tx.commit().await?;
    Ok(team)
}

/// Takes the agent out of the team.
pub async fn remove_member(store: &Store, team: &str, agent: &str) -> Result<TeamView, TeamError> {
    let mut tx = store.begin().await?;
    let team = find(&mut tx, team).await?;
    let member = tx
        .agent_by_name(agent.trim())
        .await?
        .ok_or_else(|| TeamError::UnknownAgent(agent.trim().to_string()))?;
    if !tx.remove_agent_from_team(member.id, team.id).await? {
        return Err(TeamError::NotAMember {
            agent: member.name,
            team: team.name,
        });
    }
    let team = view(&mut tx, team).await?;
    tx.commit().await?;
    Ok(team)
}
