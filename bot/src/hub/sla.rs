//! The hub's side of the SLA engine: keep a ticket's due times current in the transaction that
//! changed it, and answer `/sla`.

use relaydesk_storage::clock::from_ms;
use relaydesk_storage::{Ticket, Tx};

use super::effects::Effects;
use super::{Delivery, Hub, HubError};
use crate::sla::{card_due, evaluate_ticket, goal_lines, refresh};

impl Hub {
    /// Recomputes the ticket's SLA row (a no-op without SLA policies). When the due time its
    /// ticket cards show moves, the cards are redrawn (unless a delivery of this operation
    /// draws them anyway).
    pub(super) async fn refresh_sla(
        &self,
        tx: &mut Tx,
        ticket_id: i64,
        now: i64,
        effects: &mut Effects,
    ) -> Result<(), HubError> {
        if self.config.sla.policies.is_empty() {
            return Ok(());
        }
        let before = tx.ticket_sla(ticket_id).await?.and_then(|s| card_due(&s));
        refresh(tx, &self.config.sla, ticket_id, from_ms(now)).await?;
        let after = tx.ticket_sla(ticket_id).await?.and_then(|s| card_due(&s));
        if before != after {
            for &platform in &self.config.staff_platforms {
                let drawn = effects.has_staff(ticket_id, platform, |d| {
                    matches!(
                        d,
                        Delivery::OpenThread | Delivery::SyncThread | Delivery::RefreshCard
                    )
                });
                if !drawn {
                    effects.staff(ticket_id, platform, Delivery::RefreshCard);
                }
            }
        }
        Ok(())
    }

    /// Same, for the ticket a command answered about.
    pub(super) async fn refresh_sla_number(
        &self,
        tx: &mut Tx,
        ticket_number: i64,
        now: i64,
        effects: &mut Effects,
    ) -> Result<(), HubError> {
        if self.config.sla.policies.is_empty() {
            return Ok(());
        }
        if let Some(ticket) = tx.ticket_by_number(ticket_number).await? {
            self.refresh_sla(tx, ticket.id, now, effects).await?;
        }
        Ok(())
    }

    /// `/sla`: every goal's state, times in the team's zone.
    pub(super) async fn sla_text(
        &self,
        tx: &mut Tx,
        ticket: &Ticket,
        now: i64,
    ) -> Result<String, HubError> {
        let rules = &self.config.sla;
        let now = from_ms(now);
        let evaluation = evaluate_ticket(tx, rules, ticket, now).await?;
        let Some(policy) = &evaluation.policy else {
            return Ok(format!("#{}: no SLA policy applies.", ticket.number));
        };
        let zone = rules
            .team_for(evaluation.team.as_deref())
            .map_or(chrono_tz::Tz::UTC, |t| t.zone);
        let mut text = format!("#{} SLA ({policy}):", ticket.number);
        for line in goal_lines(&evaluation.goals, now, zone) {
            text.push('\n');
            text.push_str(&line);
        }
        Ok(text)
    }
}
