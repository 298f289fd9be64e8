//! `/note` and `/reply` (and plain agent text, which is one of them by the relay mode).

use relaydesk_storage::{AuthorKind, NewMessage, Platform};

use super::{CommandReply, Run};
use crate::hub::{Delivery, HubError};

pub(super) async fn note(run: &mut Run<'_>, text: &str) -> Result<CommandReply, HubError> {
    let id = store(run, text, true).await?;
    copy_to_other_threads(run, id);
    Ok(CommandReply {
        stored_message: Some((id, true)),
        ..run.reply("Note saved.".into())
    })
}

pub(super) async fn reply(run: &mut Run<'_>, text: &str) -> Result<CommandReply, HubError> {
    if !run.ticket.status.is_active() {
        return Err(HubError::conflict(format!(
            "#{} is {}: nothing was sent. Use /reopen first.",
            run.ticket.number, run.ticket.status
        )));
    }
    let id = store(run, text, false).await?;
    run.tx.note_agent_reply(run.ticket.id, run.now).await?;
    let ticket = &run.ticket;
    if run.hub.can_reach_customer(ticket.origin) {
        run.effects.customer(
            ticket.id,
            ticket.origin,
            Delivery::CustomerMessage { message_id: id },
        );
    }
    copy_to_other_threads(run, id);
    Ok(CommandReply {
        stored_message: Some((id, false)),
        ..run.reply("Reply queued.".into())
    })
}

async fn store(run: &mut Run<'_>, text: &str, internal: bool) -> Result<i64, HubError> {
    let stored = run
        .tx
        .append_message(
            &NewMessage {
                ticket_id: run.ticket.id,
                author_kind: AuthorKind::Agent,
                customer_id: None,
                agent_id: Some(run.agent.id),
                author_name: &run.agent.name,
                body: text,
                attachments: run.context.attachments,
                internal,
                platform: run.context.platform.unwrap_or(Platform::Console),
                external_id: run.context.external_message_id,
            },
            run.now,
        )
        .await?
        .ok_or_else(|| HubError::invalid("This message was already stored."))?;
    Ok(stored.id)
}

/// The ticket's other staff threads get a copy of the message.
fn copy_to_other_threads(run: &mut Run<'_>, message_id: i64) {
    for &platform in &run.hub.config.staff_platforms {
        if Some(platform) != run.context.platform {
            run.effects.staff(
                run.ticket.id,
                platform,
                Delivery::StaffMessage { message_id },
            );
        }
    }
}
