//! `/claim`, `/assign`, `/unassign`.

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
