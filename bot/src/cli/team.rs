//! `relaydesk team list|add|remove|add-member|remove-member`: teams and their members (the
//! rules are `relaydesk_web::teams`, shared with the REST API). Teams declared in
//! `relaydesk.toml` are written again, members and all, when Relaydesk starts.

use std::fmt::Write as _;

use clap::Subcommand;
use relaydesk_storage::{Clock, Store};
use relaydesk_web::teams::{self, TeamError};

#[derive(Debug, Clone, Subcommand)]
pub enum TeamCommand {
    /// Every team and its members.
    List,
    /// Add a team.
    Add { name: String },
    /// Remove a team; its tickets keep no team.
    Remove { name: String },
    /// Make an agent a member of a team.
    AddMember { team: String, agent: String },
    /// Take an agent out of a team.
    RemoveMember { team: String, agent: String },
}

/// Runs a team command; returns what to print.
pub async fn run(
    store: &Store,
    clock: &dyn Clock,
    command: TeamCommand,
) -> Result<String, TeamError> {
    Ok(match command {
        TeamCommand::List => {
            let all = teams::list(store).await?;
            if all.is_empty() {
                return Ok("no teams".to_string());
            }
            let mut out = String::new();
            for team in all {
                let members = if team.members.is_empty() {
                    "no members".to_string()
                } else {
                    team.members.join(", ")
                };
                let _ = writeln!(out, "{}: {members}", team.name);
            }
            out.trim_end().to_string()
        }
        TeamCommand::Add { name } => {
            let (team, new) = teams::add(store, clock, &name).await?;
            if new {
                format!("team {} added", team.name)
            } else {
                format!("team {} exists already", team.name)
            }
        }
        TeamCommand::Remove { name } => {
            let moved = teams::remove(store, clock, &name).await?;
            format!(
                "team {} removed; {moved} of its tickets now have no team",
                name.trim()
            )
        }
        TeamCommand::AddMember { team, agent } => {
            let team = teams::add_member(store, &team, &agent).await?;
            format!("team {}: {}", team.name, team.members.join(", "))
        }
        TeamCommand::RemoveMember { team, agent } => {
            let team = teams::remove_member(store, &team, &agent).await?;
            let members = if team.members.is_empty() {
                "no members".to_string()
            } else {
                team.members.join(", ")
            };
            format!("team {}: {members}", team.name)
        }
    })
}
