//! A new ticket meets the routing rules: its team, priority and tags, and, when its team
//! assigns by itself, its assignee. All in the transaction that opens it.

use relaydesk_desk::routing::{self, Candidate, NewTicketFacts};
use relaydesk_storage::{Ticket, Tx};

use super::effects::Effects;
use super::{Delivery, Hub, HubError};

impl Hub {
    /// Routes a ticket that has just opened; returns what was decided, for its staff threads.
    pub(super) async fn route_new_ticket(
        &self,
        tx: &mut Tx,
        ticket: &Ticket,
        facts: NewTicketFacts<'_>,
        now: i64,
    ) -> Result<Option<String>, HubError> {
        let plan = &self.config.routing;
        if !plan.is_active() {
            return Ok(None);
        }
        let matched = routing::route(&plan.rules, &facts);
        let (team_name, why) = match matched {
            Some((i, rule)) => (rule.team.as_str(), format!("routing rule {}", i + 1)),
            None => match plan.default_team.as_deref() {
                Some(team) => (team, "the default route".to_string()),
                None => return Ok(None),
            },
        };
        let Some(team) = plan.teams.get(team_name) else {
            return Ok(None);
        };
        tx.set_team(ticket.id, Some(team.id), now).await?;
        let mut said = vec![format!("#{} → team {} ({why})", ticket.number, team.name)];
        if let Some((_, rule)) = matched {
            if let Some(priority) = rule.priority {
                tx.set_priority(ticket.id, priority, now).await?;
                said.push(format!("priority {priority}"));
            }
            for tag in &rule.tags {
                tx.add_tag(ticket.id, tag).await?;
            }
            if !rule.tags.is_empty() {
                said.push(format!("tags {}", rule.tags.join(", ")));
            }
        }
        tx.audit(Some(ticket.id), "routing", "route", &said.join("; "), now)
            .await?;
        if ticket
            .assignee_id
            .is_some_and(|agent| team.members.contains(&agent))
        {
            // Rerouted to the team its assignee is in: they keep it.
            return Ok(Some(said.join(" · ")));
        }
        let loads = tx.member_loads(&team.members).await?;
        let candidates: Vec<Candidate> = loads
            .iter()
            .map(|l| Candidate {
                agent_id: l.agent_id,
                available: l.on_duty,
                open_tickets: l.open_tickets,
            })
            .collect();
        let last = tx.team_last_assigned(team.id).await?;
        if let Some(agent_id) = routing::pick(team.assignment, &candidates, last, team.max_open) {
            tx.set_assignee(ticket.id, Some(agent_id), now).await?;
            tx.set_team_last_assigned(team.id, agent_id).await?;
            let agent = tx.agent(agent_id).await?;
            tx.audit(
                Some(ticket.id),
                "routing",
                "assign",
                &format!("{} ({:?})", agent.name, team.assignment),
                now,
            )
            .await?;
            said.push(format!("assigned to {}", agent.name));
        }
        Ok(Some(said.join(" · ")))
    }

    /// Tells the ticket's staff threads how it was routed.
    pub(super) fn announce_route(&self, ticket_id: i64, notice: String, effects: &mut Effects) {
        for &platform in &self.config.staff_platforms {
            effects.staff(
                ticket_id,
                platform,
                Delivery::StaffNotice {
                    text: notice.clone(),
                },
            );
        }
    }
}
