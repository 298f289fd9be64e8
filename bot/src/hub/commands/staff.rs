//! Commands about the agent or the whole desk rather than one ticket: `/away`, `/back`,
//! `/queue`. They run anywhere staff write.

use relaydesk_storage::{Agent, Platform, TicketFilter, TicketSort, Tx};

use super::CommandReply;
use crate::hub::effects::Effects;
use crate::hub::{Hub, HubError};

/// The most tickets `/queue` lists.
pub const QUEUE_LENGTH: i64 = 15;

fn reply(text: String) -> CommandReply {
    CommandReply {
        ticket_number: None,
        text,
        stored_message: None,
    }
}

pub(super) async fn away(
    hub: &Hub,
    tx: &mut Tx,
    agent: &Agent,
    now: i64,
    effects: &mut Effects,
) -> Result<CommandReply, HubError> {
    tx.set_on_duty(agent.id, false).await?;
    let moved = hub.reassign_away_agent(tx, agent, now, effects).await?;
    let moved = match moved {
        0 => String::new(),
        1 => " 1 open ticket went to a teammate.".to_string(),
        n => format!(" {n} open tickets went to teammates."),
    };
    Ok(reply(format!(
        "{} is away: no tickets are assigned to you until /back.{moved}",
        agent.name
    )))
}

pub(super) async fn back(tx: &mut Tx, agent: &Agent) -> Result<CommandReply, HubError> {
    tx.set_on_duty(agent.id, true).await?;
    Ok(reply(format!(
        "Welcome back, {}: you get tickets again.",
        agent.name
    )))
}

/// How long ago, or how long until, in the largest unit that fits: `5m`, `3h`, `2d`.
fn span(ms: i64) -> String {
    let minutes = ms.abs() / 60_000;
    match minutes {
        m if m < 60 => format!("{m}m"),
        m if m < 48 * 60 => format!("{}h", m / 60),
        m => format!("{}d", m / (24 * 60)),
    }
}

pub(super) async fn queue(
    hub: &Hub,
    tx: &mut Tx,
    agent: &Agent,
    platform: Option<Platform>,
    view: Option<String>,
    now: i64,
) -> Result<CommandReply, HubError> {
    let view = view.unwrap_or_else(|| "unassigned".into());
    let team = tx.agent_team_ids(agent.id).await?.first().copied();
    if view == "team" && team.is_none() {
        return Ok(reply(format!("{} is in no team.", agent.name)));
    }
    let Some(filter) = TicketFilter::view(&view, agent.id, team, now) else {
        return Err(HubError::invalid(format!("`{view}` is not a view.")));
    };
    let page = tx
        .list_tickets(&filter, TicketSort::Priority, None, QUEUE_LENGTH)
        .await?;
    if page.tickets.is_empty() {
        return Ok(reply(format!("Queue {view}: no tickets.")));
    }
    let links = &hub.config.sla.thread_links;
    let mut text = format!("Queue {view} ({}):", page.tickets.len());
    for row in &page.tickets {
        let age = span(now - row.created_at.timestamp_millis());
        let sla = match row.next_due_at {
            Some(due) if due.timestamp_millis() >= now => {
                format!("SLA {} left", span(due.timestamp_millis() - now))
            }
            Some(due) => format!("SLA {} over", span(now - due.timestamp_millis())),
            None => "no SLA".to_string(),
        };
        let link = match platform {
            Some(platform) => tx
                .thread_of(row.id, platform)
                .await?
                .map(|thread| links.link(platform, &thread)),
            None => Some(format!("/console/tickets/{}", row.number)),
        };
        text.push_str(&format!(
            "\n#{} · {} · {age} · {sla} · {} · {}{}",
            row.number,
            row.priority,
            row.assignee_name.as_deref().unwrap_or("unassigned"),
            row.customer_name,
            link.map(|l| format!(" · {l}")).unwrap_or_default()
        ));
    }
    Ok(reply(text))
}
