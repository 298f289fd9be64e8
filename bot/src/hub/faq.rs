//! FAQ answers: a new ticket whose first message matches an entry gets the answer at once,
//! with "That solved it" / "I still need help". Its staff sends are held meanwhile: solved,
//! the ticket closes as self-served and no agent is disturbed; help (or silence for
//! `faq.wait_seconds`), it reaches the team as usual.

use relaydesk_desk::faq;
use relaydesk_storage::{Customer, Platform, Ticket, TicketStatus, Tx};

use super::csat::pressed_by_customer;
use super::effects::Effects;
use super::{Delivery, Hub, HubError};
use crate::texts;

/// The platforms whose customers get FAQ answers with buttons.
const FAQ_PLATFORMS: [Platform; 3] = [Platform::Telegram, Platform::Discord, Platform::Web];

/// A press on an FAQ answer's button, as the platform reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaqPress {
    pub platform: Platform,
    /// Who pressed: their id on `platform`.
    pub user: String,
    pub ticket_id: i64,
    /// "That solved it" (or "I still need help").
    pub solved: bool,
    pub language: Option<String>,
}

impl FaqPress {
    /// What a button carries: `faq:<ticket id>:solved` or `faq:<ticket id>:help`.
    pub fn button_data(ticket_id: i64, solved: bool) -> String {
        format!("faq:{ticket_id}:{}", if solved { "solved" } else { "help" })
    }

    /// The ticket and the choice a button's data names, if it is an FAQ button.
    pub fn parse_button(data: &str) -> Option<(i64, bool)> {
        let (ticket, choice) = data.strip_prefix("faq:")?.split_once(':')?;
        let solved = match choice {
            "solved" => true,
            "help" => false,
            _ => return None,
        };
        Some((ticket.parse().ok()?, solved))
    }
}

/// Why a ticket closed when its FAQ answer solved it.
pub const SELF_SERVED: &str = "self-served";

impl Hub {
    /// For a new ticket: offers the FAQ answer its first message asks about, if any, and holds
    /// the ticket's staff sends. Returns whether one was offered.
    pub(super) async fn offer_faq(
        &self,
        tx: &mut Tx,
        ticket: &Ticket,
        customer: &Customer,
        text: &str,
        now: i64,
        effects: &mut Effects,
    ) -> Result<bool, HubError> {
        if !FAQ_PLATFORMS.contains(&ticket.origin) || !self.can_reach_customer(ticket.origin) {
            return Ok(false);
        }
        let entries = tx.faq_entries().await?;
        let language = customer.language.as_deref();
        let Some(entry) = faq::best_match(text, &entries, language) else {
            return Ok(false);
        };
        tx.offer_faq(ticket.id, &entry.name, now).await?;
        let wait = i64::try_from(self.config.faq_wait.as_millis()).unwrap_or(i64::MAX / 2);
        effects.hold_staff(ticket.id, now.saturating_add(wait));
        effects.customer(
            ticket.id,
            ticket.origin,
            Delivery::CustomerFaq {
                text: texts::faq_offer(language, &entry.question, &entry.answer),
                solved_label: texts::faq_solved_button(language),
                help_label: texts::faq_help_button(language),
            },
        );
        tracing::info!(ticket = ticket.number, faq = %entry.name, "FAQ answer offered");
        Ok(true)
    }

    /// Stores a press on an FAQ answer; returns what to answer the presser. Only the ticket's
    /// customer can answer, once.
    pub async fn faq_reply(&self, press: &FaqPress) -> Result<String, HubError> {
        let now = self.clock.now_ms();
        let mut tx = self.store.begin().await?;
        let settled = texts::faq_settled(press.language.as_deref());
        let Some(offer) = tx.faq_offer(press.ticket_id).await? else {
            return Ok(settled);
        };
        let ticket = tx.ticket(offer.ticket_id).await?;
        if !pressed_by_customer(&mut tx, press.platform, &press.user, &ticket).await? {
            return Ok(texts::faq_not_yours(press.language.as_deref()));
        }
        let customer = tx.customer(ticket.customer_id).await?;
        let language = customer.language.as_deref().or(press.language.as_deref());
        let outcome = if press.solved { "solved" } else { "escalated" };
        if !tx.settle_faq_offer(ticket.id, outcome, now).await? {
            return Ok(texts::faq_settled(language));
        }
        let mut effects = Effects::default();
        effects.touch(ticket.id);
        tx.audit(
            Some(ticket.id),
            &format!("customer:{}", customer.id),
            "faq",
            &format!("{outcome}: {}", offer.faq_name),
            now,
        )
        .await?;
        let answer = if press.solved && ticket.status.is_active() {
            tx.set_status(ticket.id, TicketStatus::Closed, Some(SELF_SERVED), now)
                .await?;
            for &platform in &self.config.staff_platforms {
                let lane = Delivery::staff_lane(ticket.id, platform);
                tx.drop_lane(&lane, now).await?;
                // Already brought to the team (the wait was over): tell them, close the thread.
                if tx.thread_of(ticket.id, platform).await?.is_some() {
                    effects.staff(
                        ticket.id,
                        platform,
                        Delivery::StaffNotice {
                            text: format!(
                                "#{} closed: the customer says the FAQ answer “{}” solved it.",
                                ticket.number, offer.faq_name
                            ),
                        },
                    );
                    effects.staff(ticket.id, platform, Delivery::SyncThread);
                }
            }
            texts::faq_solved(language, ticket.number)
        } else {
            for &platform in &self.config.staff_platforms {
                tx.release_lane(&Delivery::staff_lane(ticket.id, platform), now)
                    .await?;
            }
            let text = texts::ticket_opened(language, ticket.number);
            effects.customer(
                ticket.id,
                ticket.origin,
                Delivery::CustomerNotice { text: text.clone() },
            );
            text
        };
        self.refresh_sla(&mut tx, ticket.id, now, &mut effects)
            .await?;
        self.commit(tx, &effects, now).await?;
        tracing::info!(ticket = ticket.number, outcome, "FAQ answer settled");
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn button_data_round_trips() {
        assert_eq!(
            FaqPress::parse_button(&FaqPress::button_data(7, true)),
            Some((7, true))
        );
        assert_eq!(
            FaqPress::parse_button(&FaqPress::button_data(7, false)),
            Some((7, false))
        );
        assert_eq!(FaqPress::parse_button("faq:7:maybe"), None);
        assert_eq!(FaqPress::parse_button("csat:7:1"), None);
    }
}
