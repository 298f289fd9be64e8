//! `/merge`: this ticket's conversation moves into another of the same customer; admins only
//! (see the catalogue). Tickets of different customers are never merged: one customer's
//! messages would show in the other's conversation and replies would reach only one of them.

use super::{CommandReply, Run};
use crate::hub::{Delivery, HubError};

pub(super) async fn merge(run: &mut Run<'_>, target_number: i64) -> Result<CommandReply, HubError> {
    let n = run.number();
    let target = run
        .tx
        .ticket_by_number(target_number)
        .await?
        .ok_or_else(|| HubError::not_found(format!("There is no ticket #{target_number}.")))?;
    if target.id == run.ticket.id {
        return Err(HubError::invalid("A ticket cannot be merged into itself."));
    }
    for t in [&run.ticket, &target] {
        if !t.status.is_active() {
            return Err(HubError::conflict(format!(
                "Cannot merge: #{} is {}.",
                t.number, t.status
            )));
        }
    }
    if target.customer_id != run.ticket.customer_id {
        return Err(HubError::conflict(format!(
            "Cannot merge: #{n} and #{target_number} are different customers' conversations. \
             Only one customer's tickets can be merged."
        )));
    }
    let moved = run
        .tx
        .merge_tickets(run.ticket.id, target.id, run.now)
        .await?;
    let text = format!(
        "#{n} merged into #{target_number} by {} ({moved} messages moved).",
        run.agent.name
    );
    for &platform in &run.hub.config.staff_platforms {
        run.effects.staff(
            target.id,
            platform,
            Delivery::StaffNotice {
                text: format!("#{n} was merged into this ticket by {}.", run.agent.name),
            },
        );
    }
    Ok(run.announce(text))
}
