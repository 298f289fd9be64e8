//! `/claim`, `/assign`, `/unassign`, `/team`.

use super::{CommandReply, Run};
use crate::hub::HubError;

pub(super) async fn claim(run: &mut Run<'_>) -> Result<CommandReply, HubError> {
    run.ensure_active()?;
    let n = run.number();
    if run.ticket.assignee_id == Some(run.agent.id) {
        return Ok(run.reply(format!("#{n} is already yours.")));
    }
    run.tx
        .set_assignee(run.ticket.id, Some(run.agent.id), run.now)
        .await?;
    Ok(run.announce(format!("#{n} claimed by {}.", run.agent.name)))
}

pub(super) async fn assign(run: &mut Run<'_>, name: &str) -> Result<CommandReply, HubError> {
    run.ensure_active()?;
    let assignee = run
        .tx
        .agent_by_name(name)
        .await?
        .ok_or_else(|| HubError::not_found(format!("There is no agent called {name}.")))?;
    run.tx
        .set_assignee(run.ticket.id, Some(assignee.id), run.now)
        .await?;
    Ok(run.announce(format!(
        "#{} assigned to {} by {}.",
        run.number(),
        assignee.name,
        run.agent.name
    )))
}

pub(super) async fn unassign(run: &mut Run<'_>) -> Result<CommandReply, HubError> {
    let n = run.number();
    if run.ticket.assignee_id.is_none() {
        return Ok(run.reply(format!("#{n} is not assigned.")));
    }
    run.tx.set_assignee(run.ticket.id, None, run.now).await?;
    Ok(run.announce(format!("#{n} unassigned by {}.", run.agent.name)))
}

pub(super) async fn team(run: &mut Run<'_>, name: &str) -> Result<CommandReply, HubError> {
    run.ensure_active()?;
    let n = run.number();
    let teams = run.tx.teams().await?;
    let Some(team) = teams
        .iter()
        .find(|t| t.name.eq_ignore_ascii_case(name.trim()))
    else {
        let known: Vec<&str> = teams.iter().map(|t| t.name.as_str()).collect();
        return Err(HubError::not_found(if known.is_empty() {
            format!("There is no team called {name}: no teams are set up ([[teams]]).")
        } else {
            format!(
                "There is no team called {name}. Teams: {}.",
                known.join(", ")
            )
        }));
    };
    if run.ticket.team_id == Some(team.id) {
        return Ok(run.reply(format!("#{n} is already with team {}.", team.name)));
    }
    run.tx
        .set_team(run.ticket.id, Some(team.id), run.now)
        .await?;
    Ok(run.announce(format!(
        "#{n} moved to team {} by {}.",
        team.name, run.agent.name
    )))
}
