//! Interactions: slash commands, the ticket card's buttons, the support panel's button and
//! form. Answers from the hub go back as interaction responses (refusals only to the asker).

use serenity::all::{
    ChannelId, CommandInteraction, ComponentInteraction, CreateAllowedMentions,
    CreateAutocompleteResponse, CreateInteractionResponse, CreateInteractionResponseMessage,
    Interaction, ModalInteraction, User,
};

use super::events::Worker;
use super::inbound::person;
use super::{card, commands, panel, MESSAGE_LIMIT};
use crate::hub::text::truncate_chars;
use crate::hub::{
    parse_comment_form, Actor, Command, CommandReply, CsatComment, CustomerMessage, FaqPress,
    HubError, Inbound, PlatformUser, Rating, TicketRef,
};
use crate::texts;
use relaydesk_storage::Platform;

impl Worker {
    /// Opens a ticket from the guild (panel form or `/ticket`): a private thread in the
    /// support channel for the customer, and the ticket with its first message. Returns what
    /// to tell the customer.
    pub(super) async fn open_guild_ticket(
        &self,
        customer: &User,
        locale: &str,
        subject: &str,
        text: &str,
        key: String,
    ) -> Result<String, String> {
        let Some(support) = self.settings.support_channel else {
            return Err("Send me a direct message to open a ticket.".into());
        };
        let thread = panel::customer_thread(&self.http, support, customer)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "could not open a customer thread");
                "Sorry, the ticket could not be opened; please try again.".to_string()
            })?;
        let message = CustomerMessage {
            platform: Platform::Discord,
            external_message_id: Some(key),
            // Discord tells the user's language only in interactions: it is kept with their
            // identity and used for their DMs too.
            customer: PlatformUser {
                language: Some(locale.to_string()),
                ..person(customer)
            },
            conversation: thread.to_string(),
            subject: Some(subject.to_string()),
            text: text.to_string(),
            attachments: Vec::new(),
        };
        match self.ingest(Inbound::Customer(message)).await {
            Ok(_) => Ok(format!("Your ticket is open: <#{thread}>")),
            Err(e) => Err(e.user_message()),
        }
    }

    pub(super) async fn interaction(&self, interaction: Interaction) {
        match interaction {
            Interaction::Command(command) => self.slash_command(&command).await,
            Interaction::Component(component) => self.button(&component).await,
            Interaction::Modal(modal) => self.form(&modal).await,
            Interaction::Autocomplete(typing) => self.autocomplete(&typing).await,
            _ => {}
        }
    }

    pub(super) async fn run_command(
        &self,
        actor: &Actor,
        channel: ChannelId,
        command: Command,
    ) -> Result<CommandReply, HubError> {
        let ticket = TicketRef::Thread {
            platform: Platform::Discord,
            thread_ref: channel.to_string(),
        };
        self.hub.execute(actor, &ticket, command).await
    }

    pub(super) async fn form(&self, interaction: &ModalInteraction) {
        if let Some(survey_id) = parse_comment_form(&interaction.data.custom_id) {
            return self.comment(interaction, survey_id).await;
        }
        if interaction.data.custom_id != panel::OPEN_FORM {
            return;
        }
        let (subject, description) = panel::form_values(&interaction.data);
        let text = if description.trim().is_empty() {
            subject.clone()
        } else {
            description
        };
        let answer_text = match self
            .open_guild_ticket(
                &interaction.user,
                &interaction.locale,
                &subject,
                &text,
                interaction.id.to_string(),
            )
            .await
        {
            Ok(text) | Err(text) => text,
        };
        if let Err(e) = interaction
            .create_response(&self.http, answer(&answer_text, true))
            .await
        {
            tracing::warn!(error = %e, "could not answer a ticket form");
        }
    }

    /// A survey's comment form, submitted. Left empty, it only closes.
    async fn comment(&self, interaction: &ModalInteraction, survey_id: i64) {
        let text = card::comment_value(&interaction.data);
        let response = if text.trim().is_empty() {
            CreateInteractionResponse::Acknowledge
        } else {
            let comment = CsatComment {
                platform: Platform::Discord,
                user: interaction.user.id.to_string(),
                survey_id,
                text,
                language: Some(interaction.locale.clone()),
            };
            let said = self
                .hub
                .csat_comment(&comment)
                .await
                .unwrap_or_else(|e| e.user_message());
            answer(&said, true)
        };
        if let Err(e) = interaction.create_response(&self.http, response).await {
            tracing::warn!(error = %e, "could not answer a survey comment");
        }
    }

    pub(super) async fn slash_command(&self, interaction: &CommandInteraction) {
        if interaction.data.name == commands::TICKET {
            let text = match commands::ticket_subject(&interaction.data) {
                Some(subject) => match self
                    .open_guild_ticket(
                        &interaction.user,
                        &interaction.locale,
                        &subject,
                        &subject,
                        interaction.id.to_string(),
                    )
                    .await
                {
                    Ok(text) | Err(text) => text,
                },
                None => "/ticket needs a subject".to_string(),
            };
            if let Err(e) = interaction
                .create_response(&self.http, answer(&text, true))
                .await
            {
                tracing::warn!(error = %e, "could not answer /ticket");
            }
            return;
        }
        let roles = interaction
            .member
            .as_ref()
            .map(|m| m.roles.clone())
            .unwrap_or_default();
        let actor = self.roles(&roles, &interaction.user);
        let (text, ephemeral) = match commands::command_of(&interaction.data) {
            Ok(command) => {
                let shown = commands::shown(&command, interaction.user.display_name());
                match self
                    .run_command(&actor, interaction.channel_id, command)
                    .await
                {
                    Ok(reply) => (shown.unwrap_or(reply.text), false),
                    Err(e) => (e.user_message(), true),
                }
            }
            Err(e) => (e.chat_text(), true),
        };
        let response = answer(&text, ephemeral);
        if let Err(e) = interaction.create_response(&self.http, response).await {
            tracing::warn!(error = %e, "could not answer a slash command");
        }
    }

    /// Suggestions while a staff member types a canned reply's name (`/canned`); nothing for
    /// anyone else.
    pub(super) async fn autocomplete(&self, interaction: &CommandInteraction) {
        let Some(focused) = interaction.data.autocomplete() else {
            return;
        };
        let roles = interaction
            .member
            .as_ref()
            .map(|m| m.roles.clone())
            .unwrap_or_default();
        let names = match self.roles(&roles, &interaction.user) {
            Actor::Staff { .. } if focused.name == commands::CANNED_OPTION => {
                match self.hub.canned_names(focused.value).await {
                    Ok(names) => names,
                    Err(e) => {
                        tracing::warn!(error = %e, "could not read canned reply names");
                        Vec::new()
                    }
                }
            }
            _ => Vec::new(),
        };
        let mut choices = CreateAutocompleteResponse::new();
        for name in names.into_iter().take(commands::MAX_CHOICES) {
            choices = choices.add_string_choice(name.clone(), name);
        }
        if let Err(e) = interaction
            .create_response(&self.http, CreateInteractionResponse::Autocomplete(choices))
            .await
        {
            tracing::warn!(error = %e, "could not answer an autocomplete");
        }
    }

    pub(super) async fn button(&self, interaction: &ComponentInteraction) {
        // A customer's press on an FAQ answer or a survey: answered only to them.
        let id = interaction.data.custom_id.as_str();
        let user = interaction.user.id.to_string();
        let language = Some(interaction.locale.clone());
        let pressed = if let Some((ticket_id, solved)) = FaqPress::parse_button(id) {
            let press = FaqPress {
                platform: Platform::Discord,
                user,
                ticket_id,
                solved,
                language,
            };
            Some(self.hub.faq_reply(&press).await)
        } else if let Some((survey_id, rating)) = Rating::parse_button(id) {
            let press = Rating {
                platform: Platform::Discord,
                user,
                survey_id,
                rating,
                language,
            };
            match self.hub.rate_press(&press).await {
                // Counted: thanks, with a form for an optional comment.
                Ok(rated) if rated.counted => {
                    let form = CreateInteractionResponse::Modal(card::comment_form(
                        survey_id,
                        &rated.text,
                        &texts::csat_comment_ask(rated.language.as_deref()),
                    ));
                    if let Err(e) = interaction.create_response(&self.http, form).await {
                        tracing::warn!(error = %e, "could not answer a survey press");
                    }
                    return;
                }
                other => Some(other.map(|rated| rated.text)),
            }
        } else {
            None
        };
        if let Some(result) = pressed {
            let text = result.unwrap_or_else(|e| e.user_message());
            if let Err(e) = interaction
                .create_response(&self.http, answer(&text, true))
                .await
            {
                tracing::warn!(error = %e, "could not answer a button press");
            }
            return;
        }
        if interaction.data.custom_id == panel::OPEN_BUTTON {
            let form = CreateInteractionResponse::Modal(panel::form());
            if let Err(e) = interaction.create_response(&self.http, form).await {
                tracing::warn!(error = %e, "could not show the ticket form");
            }
            return;
        }
        let command = match interaction.data.custom_id.as_str() {
            card::CLAIM_BUTTON => Command::Claim,
            card::CLOSE_BUTTON => Command::Close(None),
            _ => return,
        };
        let roles = interaction
            .member
            .as_ref()
            .map(|m| m.roles.clone())
            .unwrap_or_default();
        let actor = self.roles(&roles, &interaction.user);
        let (text, ephemeral) = match self
            .run_command(&actor, interaction.channel_id, command)
            .await
        {
            Ok(reply) => (reply.text, false),
            Err(e) => (e.user_message(), true),
        };
        if let Err(e) = interaction
            .create_response(&self.http, answer(&text, ephemeral))
            .await
        {
            tracing::warn!(error = %e, "could not answer a button");
        }
    }
}

fn answer(text: &str, ephemeral: bool) -> CreateInteractionResponse {
    CreateInteractionResponse::Message(
        CreateInteractionResponseMessage::new()
            .content(truncate_chars(text, MESSAGE_LIMIT))
            .ephemeral(ephemeral)
            .allowed_mentions(CreateAllowedMentions::new()),
    )
}
