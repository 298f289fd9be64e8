//! A new ticket meets the routing rules: its team, priority and tags, and, when its team
//! assigns by itself, its assignee. All in the transaction that opens it. Also where tickets
//! are assigned again: when their assignee goes away, or a ticket reopens while they are.

use relaydesk_desk::routing::{self, Candidate, NewTicketFacts};
use relaydesk_storage::{Agent, Ticket, Tx};

use super::effects::Effects;
use super::{Delivery, Hub, HubError};
use crate::routing::TeamPlan;

/// What routing decided for a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Routed {
    /// `#1042 → team billing (routing rule 1) · priority high · assigned to anna`.
    pub text: String,
    /// Who was given the ticket, if anyone: (agent id, name).
    pub assignee: Option<(i64, String)>,
}

/// The words before an assignee's name in the lines that tell them.
const ASSIGNED_TO: &str = "assigned to ";

impl Hub {
    /// Routes a ticket that has just opened (or, for `/reroute`, again); returns what was
    /// decided, for its staff threads.
    pub(super) async fn route_new_ticket(
        &self,
        tx: &mut Tx,
        ticket: &Ticket,
        facts: NewTicketFacts<'_>,
        now: i64,
    ) -> Result<Option<Routed>, HubError> {
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
            return Ok(Some(Routed {
                text: said.join(" · "),
                assignee: None,
            }));
        }
        let assignee = self.assign_in_team(tx, ticket.id, team, None, now).await?;
        if let Some((_, name)) = &assignee {
            said.push(format!("{ASSIGNED_TO}{name}"));
        }
        Ok(Some(Routed {
            text: said.join(" · "),
            assignee,
        }))
    }

    /// Gives the ticket to a member of `team` by its assignment (on duty, under the limit, not
    /// `except`); returns who, or `None` when the team assigns by hand or nobody can take it.
    async fn assign_in_team(
        &self,
        tx: &mut Tx,
        ticket_id: i64,
        team: &TeamPlan,
        except: Option<i64>,
        now: i64,
    ) -> Result<Option<(i64, String)>, HubError> {
        let loads = tx.member_loads(&team.members).await?;
        let candidates: Vec<Candidate> = loads
            .iter()
            .map(|l| Candidate {
                agent_id: l.agent_id,
                available: l.on_duty && except != Some(l.agent_id),
                open_tickets: l.open_tickets,
            })
            .collect();
        let last = tx.team_last_assigned(team.id).await?;
        let Some(agent_id) = routing::pick(team.assignment, &candidates, last, team.max_open)
        else {
            return Ok(None);
        };
        tx.set_assignee(ticket_id, Some(agent_id), now).await?;
        tx.set_team_last_assigned(team.id, agent_id).await?;
        let agent = tx.agent(agent_id).await?;
        tx.audit(
            Some(ticket_id),
            "routing",
            "assign",
            &format!("{} ({:?})", agent.name, team.assignment),
            now,
        )
        .await?;
        Ok(Some((agent.id, agent.name)))
    }

    /// Tells the ticket's staff threads how it was routed, notifying whoever got it.
    pub(super) fn announce_route(&self, ticket_id: i64, routed: Routed, effects: &mut Effects) {
        self.tell_assigned(ticket_id, routed.text, routed.assignee, effects);
    }

    /// A line in each of the ticket's staff threads; with an assignee, it mentions them.
    fn tell_assigned(
        &self,
        ticket_id: i64,
        text: String,
        assignee: Option<(i64, String)>,
        effects: &mut Effects,
    ) {
        for &platform in &self.config.staff_platforms {
            let delivery = match &assignee {
                Some((agent_id, name)) => Delivery::StaffMention {
                    text: text.clone(),
                    agent_id: *agent_id,
                    name: name.clone(),
                    marker: ASSIGNED_TO.to_string(),
                },
                None => Delivery::StaffNotice { text: text.clone() },
            };
            effects.staff(ticket_id, platform, delivery);
        }
    }

    /// The team plan of a team id, when its team is configured.
    pub(super) fn team_plan(&self, team_id: i64) -> Option<&TeamPlan> {
        self.config
            .routing
            .teams
            .values()
            .find(|team| team.id == team_id)
    }

    /// When the ticket's assignee is away and its team assigns by itself (and reassigns when
    /// someone is away), gives it to another member and says so in its threads. Returns
    /// whether it did.
    pub(super) async fn reassign_if_away(
        &self,
        tx: &mut Tx,
        ticket_id: i64,
        why: &str,
        now: i64,
        effects: &mut Effects,
    ) -> Result<bool, HubError> {
        if !self
            .config
            .routing
            .teams
            .values()
            .any(|team| team.reassign_when_away)
        {
            return Ok(false);
        }
        let ticket = tx.ticket(ticket_id).await?;
        let (Some(assignee), Some(team_id)) = (ticket.assignee_id, ticket.team_id) else {
            return Ok(false);
        };
        let Some(team) = self.team_plan(team_id).filter(|t| t.reassign_when_away) else {
            return Ok(false);
        };
        let away = tx
            .member_loads(&[assignee])
            .await?
            .first()
            .is_none_or(|load| !load.on_duty);
        if !away {
            return Ok(false);
        }
        let Some((agent_id, name)) = self.assign_in_team(tx, ticket.id, team, None, now).await?
        else {
            return Ok(false);
        };
        let text = format!("#{} {ASSIGNED_TO}{name}: {why}.", ticket.number);
        effects.touch(ticket.id);
        self.tell_assigned(ticket.id, text, Some((agent_id, name)), effects);
        Ok(true)
    }

    /// After `agent` said `/away`: their open tickets of teams that reassign go to other
    /// members. Returns how many did.
    pub(super) async fn reassign_away_agent(
        &self,
        tx: &mut Tx,
        agent: &Agent,
        now: i64,
        effects: &mut Effects,
    ) -> Result<usize, HubError> {
        let mut moved = 0;
        let why = format!("{} is away", agent.name);
        for team in self.config.routing.teams.values() {
            if !team.reassign_when_away || !team.members.contains(&agent.id) {
                continue;
            }
            for ticket_id in tx.open_tickets_of(agent.id, team.id).await? {
                if self
                    .reassign_if_away(tx, ticket_id, &why, now, effects)
                    .await?
                {
                    moved += 1;
                }
            }
        }
        Ok(moved)
    }

    /// After a breach of one of the ticket's goals: its team's `on_breach`, once per ticket
    /// (raise the priority, give it to another member, tell the named agents in its threads).
    /// Queues what it posts into `tx`; returns the platforms that got work.
    pub async fn escalate(
        &self,
        tx: &mut Tx,
        ticket_id: i64,
        now: i64,
    ) -> Result<std::collections::BTreeSet<relaydesk_storage::Platform>, HubError> {
        let mut effects = Effects::default();
        let ticket = tx.ticket(ticket_id).await?;
        let Some(team) = ticket.team_id.and_then(|id| self.team_plan(id)) else {
            return Ok(effects.platforms());
        };
        let Some(rule) = team.on_breach.clone() else {
            return Ok(effects.platforms());
        };
        if !ticket.status.is_active() || tx.audited(ticket.id, "escalate").await? {
            return Ok(effects.platforms());
        }
        let mut done = Vec::new();
        if let Some(priority) = rule.priority.filter(|p| *p != ticket.priority) {
            tx.set_priority(ticket.id, priority, now).await?;
            done.push(format!("priority {priority}"));
        }
        if rule.reassign {
            if let Some((agent_id, name)) = self
                .assign_in_team(tx, ticket.id, team, ticket.assignee_id, now)
                .await?
            {
                done.push(format!("{ASSIGNED_TO}{name}"));
                let text = format!(
                    "#{} {ASSIGNED_TO}{name} after an SLA breach.",
                    ticket.number
                );
                self.tell_assigned(ticket.id, text, Some((agent_id, name)), &mut effects);
            }
        }
        let summary = if done.is_empty() {
            format!("#{} breached its SLA", ticket.number)
        } else {
            format!("#{} breached its SLA: {}", ticket.number, done.join(", "))
        };
        for (agent_id, name) in &rule.notify {
            let text = format!("⚠️ {summary}. {name}, please take a look.");
            for &platform in &self.config.staff_platforms {
                effects.staff(
                    ticket.id,
                    platform,
                    Delivery::StaffMention {
                        text: text.clone(),
                        agent_id: *agent_id,
                        name: name.clone(),
                        marker: ". ".to_string(),
                    },
                );
            }
        }
        tx.audit(Some(ticket.id), "sla", "escalate", &summary, now)
            .await?;
        effects.touch(ticket.id);
        self.refresh_sla(tx, ticket.id, now, &mut effects).await?;
        effects.flush(tx, now).await?;
        Ok(effects.platforms())
    }
}
