//! Satisfaction surveys: queued when a ticket closes, answered by a button press on the
//! customer's channel. Only the ticket's customer can rate, only its latest survey counts,
//! and a press that changes nothing tells no one.

use relaydesk_storage::{NewPrompt, Platform, PromptKind};

use super::effects::Effects;
use super::{Delivery, Hub, HubError};
use crate::texts;

/// The platforms whose customers get a survey with buttons (or, by mail, links; in the
/// widget, stars).
const SURVEY_PLATFORMS: [Platform; 4] = [
    Platform::Telegram,
    Platform::Discord,
    Platform::Email,
    Platform::Web,
];

/// The longest comment kept; longer ones are cut.
pub const MAX_COMMENT_CHARS: usize = 1000;

/// What a survey press came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rated {
    /// What to answer the presser.
    pub text: String,
    /// The rating is stored (or was already): a comment may follow.
    pub counted: bool,
    /// The customer's language, as far as known.
    pub language: Option<String>,
}

/// Words a customer added to their rating.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsatComment {
    pub platform: Platform,
    /// Who wrote: their id on `platform`.
    pub user: String,
    pub survey_id: i64,
    pub text: String,
    pub language: Option<String>,
}

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

/// What a comment form carries: `csat-comment:<survey id>`.
pub fn comment_form_id(survey_id: i64) -> String {
    format!("csat-comment:{survey_id}")
}

/// The survey a comment form's id names.
pub fn parse_comment_form(id: &str) -> Option<i64> {
    id.strip_prefix("csat-comment:")?.parse().ok()
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
        Ok(self.rate_press(press).await?.text)
    }

    /// [`Hub::rate`], also saying whether the rating counts (so the channel may ask for a
    /// comment) and in which language the customer is answered.
    pub async fn rate_press(&self, press: &Rating) -> Result<Rated, HubError> {
        let now = self.clock.now_ms();
        let mut tx = self.store.begin().await?;
        let refused = |text: String| Rated {
            text,
            counted: false,
            language: press.language.clone(),
        };
        let stale = texts::csat_stale(press.language.as_deref());
        let Some(survey) = tx.csat_survey(press.survey_id).await? else {
            return Ok(refused(stale));
        };
        let ticket = tx.ticket(survey.ticket_id).await?;
        if !pressed_by_customer(&mut tx, press.platform, &press.user, &ticket).await? {
            return Ok(refused(texts::csat_not_yours(press.language.as_deref())));
        }
        let customer = tx.customer(ticket.customer_id).await?;
        let language = customer.language.as_deref().or(press.language.as_deref());
        let latest = tx.latest_csat_survey(ticket.id).await?.map(|s| s.id);
        if latest != Some(survey.id) {
            return Ok(refused(texts::csat_stale(language)));
        }
        let counted = |text: String| Rated {
            text,
            counted: true,
            language: language.map(str::to_string),
        };
        let thanks = texts::csat_thanks(language, press.rating);
        if survey.rating == Some(press.rating) {
            return Ok(counted(thanks));
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
        // Telegram has no forms: the first rating is followed by a message to reply to.
        if press.platform == Platform::Telegram && survey.rating.is_none() {
            effects.customer(
                ticket.id,
                Platform::Telegram,
                Delivery::CustomerCommentAsk {
                    survey_id: survey.id,
                    text: texts::csat_comment_reply(language),
                },
            );
        }
        self.commit(tx, &effects, now).await?;
        tracing::info!(
            ticket = ticket.number,
            rating = press.rating,
            "survey answered"
        );
        Ok(counted(thanks))
    }
}

impl Hub {
    /// Stores a comment on a rated survey; returns what to answer. Only the ticket's customer
    /// can comment, on its latest survey, after rating it; the staff threads get it as one
    /// quoted line.
    pub async fn csat_comment(&self, comment: &CsatComment) -> Result<String, HubError> {
        let now = self.clock.now_ms();
        let text: String = super::text::visible_line(comment.text.trim())
            .chars()
            .take(MAX_COMMENT_CHARS)
            .collect();
        if text.trim().is_empty() {
            return Err(HubError::invalid("A comment needs some text."));
        }
        let mut tx = self.store.begin().await?;
        let Some(survey) = tx.csat_survey(comment.survey_id).await? else {
            return Ok(texts::csat_stale(comment.language.as_deref()));
        };
        let ticket = tx.ticket(survey.ticket_id).await?;
        if !pressed_by_customer(&mut tx, comment.platform, &comment.user, &ticket).await? {
            return Ok(texts::csat_not_yours(comment.language.as_deref()));
        }
        let customer = tx.customer(ticket.customer_id).await?;
        let language = customer.language.as_deref().or(comment.language.as_deref());
        let latest = tx.latest_csat_survey(ticket.id).await?.map(|s| s.id);
        if latest != Some(survey.id) {
            return Ok(texts::csat_stale(language));
        }
        if survey.rating.is_none() {
            return Err(HubError::invalid(
                "Choose a rating first, then add a comment.",
            ));
        }
        tx.comment_csat_survey(survey.id, &text, now).await?;
        tx.audit(
            Some(ticket.id),
            &format!("customer:{}", customer.id),
            "csat-comment",
            &text,
            now,
        )
        .await?;
        let notice = format!(
            "💬 {} commented on their rating of #{}: “{text}”",
            customer.display_name, ticket.number
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
        tracing::info!(ticket = ticket.number, "survey comment stored");
        Ok(texts::csat_comment_thanks(language))
    }

    /// A customer's reply to one of our messages on `platform` (`prompt`: the platform's
    /// reference of the message replied to). When that message asked for a comment on a
    /// rating, the reply is stored as the comment and the customer is thanked on their chat;
    /// returns whether it was one (if not, the reply is an ordinary message).
    pub async fn comment_by_reply(
        &self,
        prompt: &str,
        reply: &super::CustomerMessage,
    ) -> Result<bool, HubError> {
        let mut tx = self.store.begin().await?;
        let payload = tx.delivered_payload(reply.platform, prompt).await?;
        let Some(Delivery::CustomerCommentAsk { survey_id, .. }) =
            payload.and_then(|p| serde_json::from_str::<Delivery>(&p).ok())
        else {
            tx.rollback().await?;
            return Ok(false);
        };
        let chat = match tx.csat_survey(survey_id).await? {
            Some(survey) => Some(tx.ticket(survey.ticket_id).await?.conversation),
            None => None,
        };
        tx.rollback().await?;
        let comment = CsatComment {
            platform: reply.platform,
            user: reply.customer.external_id.clone(),
            survey_id,
            text: reply.text.clone(),
            language: reply.customer.language.clone(),
        };
        let answer = match self.csat_comment(&comment).await {
            Ok(text) => text,
            Err(e) if e.is_internal() => return Err(e),
            Err(e) => e.user_message(),
        };
        if let Some(chat) = chat {
            self.post_to_channel(reply.platform, &chat, &answer).await?;
        }
        Ok(true)
    }

    /// Shows a survey or an FAQ answer in the widget conversation `conversation`: stored once
    /// as a prompt its socket reads (the outbox may deliver a row twice). `labels`: the FAQ
    /// answer's two buttons; a survey's comment box is labelled in the customer's language.
    pub async fn show_widget_prompt(
        &self,
        conversation: &str,
        kind: PromptKind,
        subject_id: i64,
        body: &str,
        labels: &[String],
    ) -> Result<(), HubError> {
        let now = self.clock.now_ms();
        let mut tx = self.store.begin().await?;
        let (ticket_id, labels) = match kind {
            PromptKind::Faq | PromptKind::Notice => (subject_id, labels.to_vec()),
            PromptKind::Survey => {
                let Some(survey) = tx.csat_survey(subject_id).await? else {
                    return Ok(());
                };
                let ticket = tx.ticket(survey.ticket_id).await?;
                let customer = tx.customer(ticket.customer_id).await?;
                let language = customer.language.as_deref();
                // After rating, the widget asks for a comment with these.
                let labels = vec![
                    texts::csat_comment_ask(language),
                    texts::csat_comment_send(language),
                ];
                (ticket.id, labels)
            }
        };
        let new = NewPrompt {
            conversation,
            ticket_id,
            kind,
            subject_id,
            body,
            labels: &labels,
        };
        let mut effects = Effects::default();
        if tx.add_widget_prompt(&new, now).await? {
            effects.touch(ticket_id);
        }
        self.commit(tx, &effects, now).await?;
        Ok(())
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
