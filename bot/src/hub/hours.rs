//! Business hours: a customer who writes while their ticket's team (or the desk) is closed is
//! told, once per ticket, when it opens again, in their language and on their own channel.

use chrono::{DateTime, Duration, Utc};
use relaydesk_storage::sla::{add_business_time, Calendar};
use relaydesk_storage::{Customer, NewPrompt, Platform, PromptKind, Tx};

use super::effects::Effects;
use super::{Delivery, Hub, HubError};
use crate::texts;

/// When the calendar next opens after `at`, as `2026-12-07 09:00 (Europe/Berlin)`.
fn next_opening(calendar: &Calendar, at: DateTime<Utc>) -> Option<String> {
    let second = Duration::seconds(1);
    let opens = add_business_time(calendar, at, second)? - second;
    Some(match calendar {
        Calendar::Always => opens.format("%Y-%m-%d %H:%M UTC").to_string(),
        Calendar::Business(hours) => {
            let zone = hours.zone();
            format!(
                "{} ({})",
                opens.with_timezone(&zone).format("%Y-%m-%d %H:%M"),
                zone.name()
            )
        }
    })
}

/// The audit action that marks a ticket as told.
const TOLD: &str = "out-of-hours";

impl Hub {
    /// Whether any business hours are configured at all (else nothing is looked up).
    fn has_hours(&self) -> bool {
        self.config.desk_hours.is_some()
            || self
                .config
                .routing
                .teams
                .values()
                .any(|team| team.hours.is_some())
    }

    /// After a customer message on `ticket_id`: outside its team's hours (or the desk's), the
    /// customer is told once per ticket when someone is back. The widget shows it as a
    /// notice; other channels get a message.
    pub(super) async fn tell_if_closed(
        &self,
        tx: &mut Tx,
        ticket_id: i64,
        customer: &Customer,
        now: i64,
        effects: &mut Effects,
    ) -> Result<(), HubError> {
        if !self.has_hours() {
            return Ok(());
        }
        let ticket = tx.ticket(ticket_id).await?;
        let team_hours = ticket
            .team_id
            .and_then(|id| self.team_plan(id))
            .and_then(|team| team.hours.clone());
        let Some(calendar) = team_hours.or_else(|| self.config.desk_hours.clone()) else {
            return Ok(());
        };
        let at = relaydesk_storage::clock::from_ms(now);
        if calendar.is_open_at(at) || tx.audited(ticket.id, TOLD).await? {
            return Ok(());
        }
        let Some(opens) = next_opening(&calendar, at) else {
            return Ok(());
        };
        let text = texts::out_of_hours(customer.language.as_deref(), &opens);
        tx.audit(Some(ticket.id), "desk", TOLD, &opens, now).await?;
        if ticket.origin == Platform::Web {
            // The widget reads it from the store, beside the conversation.
            tx.add_widget_prompt(
                &NewPrompt {
                    conversation: &ticket.conversation,
                    ticket_id: ticket.id,
                    kind: PromptKind::Notice,
                    subject_id: ticket.id,
                    body: &text,
                    labels: &[],
                },
                now,
            )
            .await?;
            effects.touch(ticket.id);
        } else if self.can_reach_customer(ticket.origin) {
            effects.customer(ticket.id, ticket.origin, Delivery::CustomerNotice { text });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use relaydesk_storage::sla::BusinessHours;

    use super::*;

    #[test]
    fn the_next_opening_is_given_in_the_calendars_zone() {
        let day = ["09:00-17:00".to_string()];
        let closed: Vec<String> = Vec::new();
        let week = [
            &day[..],
            &day[..],
            &day[..],
            &day[..],
            &day[..],
            &closed[..],
            &closed[..],
        ];
        let hours = BusinessHours::from_config("test", "Europe/Berlin", week, Vec::new())
            .expect("valid hours");
        let calendar = Calendar::Business(hours);
        // Friday 2026-12-04 18:00 in Berlin (17:00 UTC): closed until Monday 09:00.
        let friday_evening = Utc.with_ymd_and_hms(2026, 12, 4, 17, 0, 0).unwrap();
        assert!(!calendar.is_open_at(friday_evening));
        assert_eq!(
            next_opening(&calendar, friday_evening).as_deref(),
            Some("2026-12-07 09:00 (Europe/Berlin)")
        );
        let monday_ten = Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap();
        assert!(calendar.is_open_at(monday_ten));
    }
}
