//! `/claim`, `/assign`, `/unassign`, `/team`, `/reroute`.

use relaydesk_desk::routing::NewTicketFacts;
use relaydesk_storage::AuthorKind;

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

pub(super) async fn reroute(run: &mut Run<'_>) -> Result<CommandReply, HubError> {
    run.ensure_active()?;
    if !run.hub.config.routing.is_active() {
        return Err(HubError::invalid(
            "No routing rules are set up ([[routing]] or [routing_default]).",
        ));
    }
    let first = run
        .tx
        .messages(run.ticket.id)
        .await?
        .into_iter()
        .find(|m| m.author_kind == AuthorKind::Customer);
    let customer = run.tx.customer(run.ticket.customer_id).await?;
    let text = first.map(|m| m.body).unwrap_or_default();
    let facts = NewTicketFacts {
        text: &text,
        channel: run.ticket.origin,
        language: customer.language.as_deref(),
    };
    let ticket = run.ticket.clone();
    let routed = run
        .hub
        .route_new_ticket(run.tx, &ticket, facts, run.now)
        .await?;
    let n = run.number();
    Ok(match routed {
        Some(routed) => run.announce(format!("{} (rerouted by {})", routed.text, run.agent.name)),
        None => run.reply(format!(
            "#{n}: no routing rule matches and there is no default."
        )),
    })
}
