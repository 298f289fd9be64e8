//! `/status`, `/sla`, `/help`: they show something and change nothing.

use relaydesk_desk::{catalogue, Language};

use super::{CommandReply, Run};
use crate::hub::HubError;

pub(super) async fn status(run: &mut Run<'_>) -> Result<CommandReply, HubError> {
    let ticket = &run.ticket;
    let assignee = match ticket.assignee_id {
        Some(id) => run.tx.agent(id).await?.name,
        None => "unassigned".to_string(),
    };
    let tags = run.tx.tags(ticket.id).await?;
    let tags = if tags.is_empty() {
        "none".to_string()
    } else {
        tags.join(", ")
    };
    Ok(run.reply(format!(
        "#{} · {} · priority {} · {assignee} · tags: {tags} · from {}",
        ticket.number, ticket.status, ticket.priority, ticket.origin
    )))
}

pub(super) async fn sla(run: &mut Run<'_>) -> Result<CommandReply, HubError> {
    let text = run.hub.sla_text(run.tx, &run.ticket, run.now).await?;
    Ok(run.reply(text))
}

pub(super) fn help(language: Language) -> CommandReply {
    CommandReply {
        ticket_number: None,
        text: catalogue::help_text(language),
        stored_message: None,
    }
}
