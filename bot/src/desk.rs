//! The hub as the web server's [`Desk`]: the widget, the console and the REST API change
//! tickets only through here.

use async_trait::async_trait;
use relaydesk_desk::{
    CommandOutcome, CustomerAccepted, CustomerAnswer, CustomerInput, Desk, DeskError,
};
use relaydesk_storage::TicketWatch;

use crate::hub::{
    Actor, Command, CsatComment, CustomerMessage, FaqPress, Hub, HubError, Inbound, Ingested,
    PlatformUser, Rating, TicketRef,
};

/// [`Desk`] over a [`Hub`].
#[derive(Debug, Clone)]
pub struct HubDesk {
    hub: Hub,
}

impl HubDesk {
    pub fn new(hub: Hub) -> Self {
        Self { hub }
    }
}

impl HubDesk {
    /// The ticket id, number and message id of a stored platform message.
    async fn stored_copy(
        &self,
        platform: relaydesk_storage::Platform,
        external_id: Option<&str>,
    ) -> Result<Option<(i64, i64, i64)>, HubError> {
        let Some(external_id) = external_id else {
            return Ok(None);
        };
        let mut tx = self.hub.store().begin().await?;
        let Some(message) = tx.message_by_external(platform, external_id).await? else {
            return Ok(None);
        };
        let ticket = tx.ticket(message.ticket_id).await?;
        tx.rollback().await?;
        Ok(Some((ticket.id, ticket.number, message.id)))
    }
}

#[async_trait]
impl Desk for HubDesk {
    async fn customer_message(&self, input: CustomerInput) -> Result<CustomerAccepted, DeskError> {
        let external_id = input.external_message_id.clone();
        let ingested = self
            .hub
            .ingest(Inbound::Customer(CustomerMessage {
                platform: input.platform,
                external_message_id: input.external_message_id,
                customer: PlatformUser {
                    external_id: input.customer_external_id,
                    display_name: input.display_name,
                    language: input.language,
                },
                conversation: input.conversation,
                subject: input.subject,
                text: input.text,
                attachments: input.attachments,
            }))
            .await?;
        match ingested {
            Ingested::Customer {
                ticket_id,
                ticket_number,
                message_id,
                new_ticket,
                ..
            } => Ok(CustomerAccepted {
                ticket_id,
                ticket_number,
                message_id,
                new_ticket,
                duplicate: false,
            }),
            Ingested::Duplicate => {
                // Tell the sender which ticket already holds it (merges move messages along).
                let found = self
                    .stored_copy(input.platform, external_id.as_deref())
                    .await?;
                let (ticket_id, ticket_number, message_id) = found.ok_or_else(|| {
                    DeskError::NotFound("the earlier copy of this message is gone".to_string())
                })?;
                Ok(CustomerAccepted {
                    ticket_id,
                    ticket_number,
                    message_id,
                    new_ticket: false,
                    duplicate: true,
                })
            }
            Ingested::Staff(_) => Err(DeskError::Internal(
                "a customer message was taken for a staff one".to_string(),
            )),
        }
    }

    async fn execute(
        &self,
        agent_id: i64,
        ticket_number: i64,
        command: Command,
    ) -> Result<CommandOutcome, DeskError> {
        let reply = self
            .hub
            .execute(
                &Actor::Agent(agent_id),
                &TicketRef::Number(ticket_number),
                command,
            )
            .await?;
        Ok(CommandOutcome {
            ticket_number: reply.ticket_number.unwrap_or(ticket_number),
            text: reply.text,
            message_id: reply.stored_message.map(|(id, _)| id),
        })
    }

    async fn customer_answer(
        &self,
        platform: relaydesk_storage::Platform,
        user: &str,
        language: Option<&str>,
        answer: CustomerAnswer,
    ) -> Result<String, DeskError> {
        let user = user.to_string();
        let language = language.map(str::to_string);
        let said = match answer {
            CustomerAnswer::Rating { survey_id, rating } => {
                self.hub
                    .rate(&Rating {
                        platform,
                        user,
                        survey_id,
                        rating,
                        language,
                    })
                    .await?
            }
            CustomerAnswer::Faq { ticket_id, solved } => {
                self.hub
                    .faq_reply(&FaqPress {
                        platform,
                        user,
                        ticket_id,
                        solved,
                        language,
                    })
                    .await?
            }
            CustomerAnswer::Comment { survey_id, text } => {
                self.hub
                    .csat_comment(&CsatComment {
                        platform,
                        user,
                        survey_id,
                        text,
                        language,
                    })
                    .await?
            }
        };
        Ok(said)
    }

    fn watch(&self) -> TicketWatch {
        self.hub.feed().watch()
    }
}
