//! `/split N`: message N of this ticket and the customer's later messages become a new ticket
//! of the same customer, with its own threads; `/split` alone lists the customer's messages
//! with their numbers.

use relaydesk_storage::{AuthorKind, Message};

use super::{CommandReply, Run};
use crate::hub::{Delivery, HubError};

/// Messages `/split` alone lists (the latest ones).
const LISTED: usize = 15;
/// Characters of each listed message.
const EXCERPT: usize = 60;

fn from_customer(message: &Message) -> bool {
    message.author_kind == AuthorKind::Customer && !message.internal
}

pub(super) async fn split(run: &mut Run<'_>, from: Option<i64>) -> Result<CommandReply, HubError> {
    let n = run.number();
    let messages = run.tx.messages(run.ticket.id).await?;
    let Some(from) = from else {
        return Ok(run.reply(list(n, &messages)));
    };
    run.ensure_active()?;
    let index = usize::try_from(from - 1).unwrap_or(usize::MAX);
    let Some(first) = messages.get(index) else {
        return Err(HubError::not_found(format!(
            "#{n} has no message {from} (it has {}); /split alone lists them.",
            messages.len()
        )));
    };
    if !from_customer(first) {
        return Err(HubError::invalid(format!(
            "Message {from} of #{n} is not the customer's: split at a message the customer wrote (/split lists them)."
        )));
    }
    if !messages[..index].iter().any(from_customer) {
        return Err(HubError::invalid(format!(
            "Message {from} is the customer's first in #{n}: nothing of theirs would stay. Split at a later one."
        )));
    }
    let moved: Vec<(usize, &Message)> = messages
        .iter()
        .enumerate()
        .skip(index)
        .filter(|(_, m)| from_customer(m))
        .collect();
    let ids: Vec<i64> = moved.iter().map(|(_, m)| m.id).collect();
    let numbers: Vec<String> = moved.iter().map(|(i, _)| (i + 1).to_string()).collect();
    let subject = crate::hub::ingest::subject_from(&first.body, &first.attachments);
    let source = run.ticket.clone();
    let split = run
        .tx
        .split_ticket(&source, &ids, &subject, run.now)
        .await?;
    let agent = run.agent.name.clone();
    let detail = format!("messages {} → #{}", numbers.join(", "), split.number);
    let actor = format!("agent:{}", run.agent.id);
    run.tx
        .audit(Some(source.id), &actor, "split", &detail, run.now)
        .await?;
    run.tx
        .audit(
            Some(split.id),
            &actor,
            "split",
            &format!("split from #{n}: {}", numbers.join(", ")),
            run.now,
        )
        .await?;
    for &platform in &run.hub.config.staff_platforms {
        run.effects.staff(split.id, platform, Delivery::OpenThread);
        run.effects.staff(
            split.id,
            platform,
            Delivery::StaffNotice {
                text: format!("Split from #{n} by {agent}."),
            },
        );
        for id in &ids {
            run.effects.staff(
                split.id,
                platform,
                Delivery::StaffMessage { message_id: *id },
            );
        }
    }
    run.hub
        .refresh_sla(run.tx, split.id, run.now, run.effects)
        .await?;
    run.hub
        .refresh_sla(run.tx, source.id, run.now, run.effects)
        .await?;
    let word = if ids.len() == 1 {
        "message"
    } else {
        "messages"
    };
    Ok(run.announce(format!(
        "#{n}: {word} {} split off into #{} by {agent}.",
        numbers.join(", "),
        split.number
    )))
}

/// `Messages of #1042 from the customer (/split N moves N and their later ones):` and one
/// line per message, the latest [`LISTED`].
fn list(n: i64, messages: &[Message]) -> String {
    let theirs: Vec<(usize, &Message)> = messages
        .iter()
        .enumerate()
        .filter(|(_, m)| from_customer(m))
        .collect();
    if theirs.is_empty() {
        return format!("#{n} has no messages from the customer.");
    }
    let mut text = format!(
        "Messages of #{n} from the customer (/split N moves N and their later ones to a new ticket):"
    );
    for (i, message) in theirs.iter().skip(theirs.len().saturating_sub(LISTED)) {
        let line = message.body.lines().next().unwrap_or("");
        text.push_str(&format!(
            "\n{} · {}",
            i + 1,
            crate::hub::text::truncate_chars(line, EXCERPT)
        ));
    }
    text
}
