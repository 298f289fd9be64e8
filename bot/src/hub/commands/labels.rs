//! `/priority`, `/tag`, `/untag`.

use relaydesk_storage::Priority;

use super::{CommandReply, Run};
use crate::hub::HubError;

pub(super) async fn priority(
    run: &mut Run<'_>,
    priority: Priority,
) -> Result<CommandReply, HubError> {
    run.tx
        .set_priority(run.ticket.id, priority, run.now)
        .await?;
    Ok(run.announce(format!(
        "#{} priority set to {priority} by {}.",
        run.number(),
        run.agent.name
    )))
}

pub(super) async fn tag(run: &mut Run<'_>, tag: &str) -> Result<CommandReply, HubError> {
    let n = run.number();
    if !run.tx.add_tag(run.ticket.id, tag).await? {
        return Ok(run.reply(format!("#{n} already has tag {tag}.")));
    }
    let text = format!("#{n} tagged {tag}.");
    run.tell_other_threads(&text);
    Ok(run.reply(text))
}

pub(super) async fn untag(run: &mut Run<'_>, tag: &str) -> Result<CommandReply, HubError> {
    let n = run.number();
    if !run.tx.remove_tag(run.ticket.id, tag).await? {
        return Ok(run.reply(format!("#{n} has no tag {tag}.")));
    }
    let text = format!("#{n} untagged {tag}.");
    run.tell_other_threads(&text);
    Ok(run.reply(text))
}
