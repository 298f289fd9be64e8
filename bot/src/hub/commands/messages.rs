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
    for (ticket_id, platform) in customer_conversations(run).await? {
        if run.hub.can_reach_customer(platform) {
            run.effects.customer(
                ticket_id,
                platform,
                Delivery::CustomerMessage { message_id: id },
            );
        }
    }
    copy_to_other_threads(run, id);
    Ok(CommandReply {
        stored_message: Some((id, false)),
        ..run.reply("Reply queued.".into())
    })
}

/// Where a reply reaches the customer: the ticket's own conversation, and the conversation of
/// each ticket merged into it (however deep) that is not the same chat, each on its own
/// channel. Each is named by the ticket it belongs to, whose conversation the outbox reads.
async fn customer_conversations(run: &mut Run<'_>) -> Result<Vec<(i64, Platform)>, HubError> {
    let mut seen = vec![(run.ticket.origin, run.ticket.conversation.clone())];
    let mut reach = vec![(run.ticket.id, run.ticket.origin)];
    // Only tickets that took merges are looked into: a plain reply costs no query here.
    let mut next: Vec<i64> = Vec::new();
    if run.ticket.merges > 0 {
        next.push(run.ticket.id);
    }
    while let Some(target) = next.pop() {
        for source in run.tx.tickets_merged_into(target).await? {
            if source.merges > 0 {
                next.push(source.id);
            }
            let chat = (source.origin, source.conversation.clone());
            if !seen.contains(&chat) {
                seen.push(chat);
                reach.push((source.id, source.origin));
            }
        }
    }
    Ok(reach)
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
