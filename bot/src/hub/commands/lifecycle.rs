//! `/close` and `/reopen`.

use relaydesk_storage::TicketStatus;

use super::{CommandReply, Run};
use crate::hub::{Delivery, HubError};
use crate::texts;

pub(super) async fn close(
    run: &mut Run<'_>,
    reason: Option<String>,
) -> Result<CommandReply, HubError> {
    run.ensure_active()?;
    let ticket = run.ticket.clone();
    run.tx
        .set_status(ticket.id, TicketStatus::Closed, reason.as_deref(), run.now)
        .await?;
    if run.hub.can_reach_customer(ticket.origin) {
        let customer = run.tx.customer(ticket.customer_id).await?;
        let language = customer.language.as_deref();
        let text = texts::ticket_closed(language, ticket.number);
        run.effects
            .customer(ticket.id, ticket.origin, Delivery::CustomerNotice { text });
        run.hub
            .queue_survey(run.tx, &ticket, language, run.now, run.effects)
            .await?;
    }
    for (platform, channel) in &run.hub.config.transcript_channels {
        run.effects.channel(
            ticket.id,
            *platform,
            channel,
            Delivery::TranscriptFile {
                channel: channel.clone(),
            },
        );
    }
    let why = reason.map(|r| format!(": {r}")).unwrap_or_default();
    Ok(run.announce(format!(
        "#{} closed by {}{why}.",
        ticket.number, run.agent.name
    )))
}

pub(super) async fn reopen(run: &mut Run<'_>) -> Result<CommandReply, HubError> {
    let n = run.number();
    if run.ticket.status != TicketStatus::Closed {
        return Err(HubError::conflict(format!(
            "#{n} is {}, not closed.",
            run.ticket.status
        )));
    }
    run.tx
        .set_status(run.ticket.id, TicketStatus::Open, None, run.now)
        .await?;
    run.hub
        .reassign_if_away(
            run.tx,
            run.ticket.id,
            "the ticket reopened while its assignee is away",
            run.now,
            run.effects,
        )
        .await?;
    Ok(run.announce(format!("#{n} reopened by {}.", run.agent.name)))
}
