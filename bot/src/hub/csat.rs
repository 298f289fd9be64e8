//! Satisfaction surveys: queued when a ticket closes, answered by a button press on the
//! customer's channel. Only the ticket's customer can rate, only its latest survey counts,
//! and a press that changes nothing tells no one.

use relaydesk_storage::Platform;

use super::effects::Effects;
use super::{Delivery, Hub, HubError};
use crate::texts;

/// The platforms whose customers get a survey with buttons (or, by mail, links).
const SURVEY_PLATFORMS: [Platform; 3] = [Platform::Telegram, Platform::Discord, Platform::Email];

/// A press on a survey button, as the platform reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rating {
    pub platform: Platform,
    /// Who pressed: their id on `platform`.
    pub user: String,
    pub survey_id: i64,
    pub rating: u8,
    /// The presser's language as the platform reports it, for the answer.
    pub language: Option<String>,
}

impl Rating {
    /// What a survey button carries: `csat:<survey id>:<rating>` (fits Telegram's 64-byte
    /// callback data and Discord's custom ids).
    pub fn button_data(survey_id: i64, rating: u8) -> String {
        format!("csat:{survey_id}:{rating}")
    }

    /// The survey and rating a button's data names, if it is a survey button.
    pub fn parse_button(data: &str) -> Option<(i64, u8)> {
        let mut parts = data.strip_prefix("csat:")?.split(':');
        let survey = parts.next()?.parse().ok()?;
        let rating = parts.next()?.parse().ok()?;
        (parts.next().is_none() && (1..=5).contains(&rating)).then_some((survey, rating))
    }
}

/// Whether a button press on `platform` by `user` comes from `ticket`'s customer; a press by
/// anyone else is logged and refused by the caller.
pub(super) async fn pressed_by_customer(
    tx: &mut relaydesk_storage::Tx,
    platform: Platform,
    user: &str,
    ticket: &relaydesk_storage::Ticket,
) -> Result<bool, HubError> {
    let presser = tx.customer_id_for_identity(platform, user).await?;
    if presser == Some(ticket.customer_id) {
        return Ok(true);
    }
    tracing::warn!(
        ticket = ticket.number,
        %platform,
        user,
        "a button press by someone other than the ticket's customer was refused"
    );
    Ok(false)
}

/// The five ratings, in the order buttons show them.
pub const RATINGS: [u8; 5] = [1, 2, 3, 4, 5];

impl Hub {
    /// After a close: queues the survey for the ticket's customer when surveys are on and
    /// their channel has buttons.
    pub(super) async fn queue_survey(
        &self,
        tx: &mut relaydesk_storage::Tx,
        ticket: &relaydesk_storage::Ticket,
        language: Option<&str>,
        now: i64,
        effects: &mut Effects,
    ) -> Result<(), HubError> {
        let Some(delay) = self.config.csat_delay else {
            return Ok(());
        };
        if !SURVEY_PLATFORMS.contains(&ticket.origin) || !self.can_reach_customer(ticket.origin) {
            return Ok(());
        }
        let survey_id = tx.create_csat_survey(ticket.id, now).await?;
        let delay_ms = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2);
        effects.customer_later(
            ticket.id,
            ticket.origin,
            Delivery::CustomerSurvey {
                survey_id,
                question: texts::csat_question(language, ticket.number),
            },
            now.saturating_add(delay_ms),
        );
        Ok(())
    }

    /// Stores a survey press; returns what to answer the presser. Refusals (someone else's
    /// survey, an old one) change nothing and are answered politely.
    pub async fn rate(&self, press: &Rating) -> Result<String, HubError> {
        let now = self.clock.now_ms();
        let mut tx = self.store.begin().await?;
        let stale = texts::csat_stale(press.language.as_deref());
        let Some(survey) = tx.csat_survey(press.survey_id).await? else {
            return Ok(stale);
        };
        let ticket = tx.ticket(survey.ticket_id).await?;
        if !pressed_by_customer(&mut tx, press.platform, &press.user, &ticket).await? {
            return Ok(texts::csat_not_yours(press.language.as_deref()));
        }
        let customer = tx.customer(ticket.customer_id).await?;
        let language = customer.language.as_deref().or(press.language.as_deref());
        let latest = tx.latest_csat_survey(ticket.id).await?.map(|s| s.id);
        if latest != Some(survey.id) {
            return Ok(texts::csat_stale(language));
        }
        let thanks = texts::csat_thanks(language, press.rating);
        if survey.rating == Some(press.rating) {
            return Ok(thanks);
        }
        tx.rate_csat_survey(survey.id, press.rating, now).await?;
        tx.audit(
            Some(ticket.id),
            &format!("customer:{}", customer.id),
            "csat",
            &format!("rating {}", press.rating),
            now,
        )
        .await?;
        let stars: String = RATINGS
            .iter()
            .map(|r| if *r <= press.rating { '★' } else { '☆' })
            .collect();
        let verb = if survey.rating.is_some() {
            "changed their rating of"
        } else {
            "rated"
        };
        let notice = format!(
            "{stars} {} {verb} #{}: {}/5",
            customer.display_name, ticket.number, press.rating
        );
        let mut effects = Effects::default();
        effects.touch(ticket.id);
        for &platform in &self.config.staff_platforms {
            effects.staff(
                ticket.id,
                platform,
                Delivery::StaffNotice {
                    text: notice.clone(),
                },
            );
        }
        self.commit(tx, &effects, now).await?;
        tracing::info!(
            ticket = ticket.number,
            rating = press.rating,
            "survey answered"
        );
        Ok(thanks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn button_data_round_trips_and_rejects_anything_else() {
        assert_eq!(
            Rating::parse_button(&Rating::button_data(42, 5)),
            Some((42, 5))
        );
        assert_eq!(Rating::parse_button("csat:42:0"), None);
        assert_eq!(Rating::parse_button("csat:42:6"), None);
        assert_eq!(Rating::parse_button("csat:42:3:1"), None);
        assert_eq!(Rating::parse_button("csat:x:3"), None);
        assert_eq!(Rating::parse_button("relaydesk:claim"), None);
        assert!(Rating::button_data(i64::MAX, 5).len() <= 64);
    }
}
