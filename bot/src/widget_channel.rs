//! The web chat widget as a channel: customers write from it (through the web server's
//! websocket, not through [`Channel::run`]), and it has no staff side.
//!
//! Replies need no sending: they are in the store, and each visitor's socket reads them from
//! there. What this side does on delivery is store surveys and FAQ answers as prompts the
//! socket shows with buttons, and mail the transcript once the conversation's ticket is
//! closed (the close notice is the last row of the ticket's customer lane).

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use relaydesk_storage::{Platform, PromptKind, TicketStatus};
use relaydesk_web::email::{send_transcript, Transcript};
use relaydesk_web::EmailConfig;
use tokio_util::sync::CancellationToken;

use crate::channel::{Channel, ChannelError};
use crate::hub::{Deliver, Delivered, DeliveryError, Hub, Outbound};

/// The widget channel, always on.
#[derive(Debug)]
pub struct WidgetChannel {
    deliverer: Arc<WidgetDeliverer>,
}

impl WidgetChannel {
    pub fn new(email: EmailConfig) -> Self {
        Self {
            deliverer: Arc::new(WidgetDeliverer {
                email,
                hub: OnceLock::new(),
            }),
        }
    }
}

#[async_trait]
impl Channel for WidgetChannel {
    fn platform(&self) -> Platform {
        Platform::Web
    }

    fn has_staff_side(&self) -> bool {
        false
    }

    fn has_customer_side(&self) -> bool {
        true
    }

    fn deliverer(&self) -> Arc<dyn Deliver> {
        self.deliverer.clone()
    }

    async fn run(
        self: Arc<Self>,
        hub: Hub,
        shutdown: CancellationToken,
    ) -> Result<(), ChannelError> {
        let _ = self.deliverer.hub.set(hub);
        shutdown.cancelled().await;
        Ok(())
    }
}

/// Stores a prompt the visitor's socket shows.
async fn show(
    hub: &Hub,
    conversation: &str,
    kind: PromptKind,
    subject_id: i64,
    body: &str,
    labels: &[String],
) -> Result<Delivered, DeliveryError> {
    hub.show_widget_prompt(conversation, kind, subject_id, body, labels)
        .await
        .map_err(|e| DeliveryError::Transient(e.to_string()))?;
    Ok(Delivered::with_ref(format!(
        "{}:{subject_id}",
        kind.as_str()
    )))
}

#[derive(Debug)]
struct WidgetDeliverer {
    email: EmailConfig,
    /// Set when the channel starts; deliveries before that are retried.
    hub: OnceLock<Hub>,
}

#[async_trait]
impl Deliver for WidgetDeliverer {
    fn platform(&self) -> Platform {
        Platform::Web
    }

    async fn deliver(&self, outbound: &Outbound) -> Result<Delivered, DeliveryError> {
        let hub = self
            .hub
            .get()
            .ok_or_else(|| DeliveryError::Transient("the widget channel is starting".into()))?;
        let conversation = match outbound {
            Outbound::CustomerPost { conversation, .. } => conversation,
            Outbound::CustomerSurvey {
                conversation,
                survey_id,
                question,
            } => {
                return show(
                    hub,
                    conversation,
                    PromptKind::Survey,
                    *survey_id,
                    question,
                    &[],
                )
                .await;
            }
            Outbound::CustomerFaq {
                conversation,
                ticket_id,
                text,
                solved_label,
                help_label,
            } => {
                let labels = [solved_label.clone(), help_label.clone()];
                return show(
                    hub,
                    conversation,
                    PromptKind::Faq,
                    *ticket_id,
                    text,
                    &labels,
                )
                .await;
            }
            _ => {
                return Err(DeliveryError::Permanent(
                    "the web widget has no staff side".to_string(),
                ))
            }
        };
        let latest = async {
            let mut tx = hub.store().begin().await?;
            let ticket = tx.latest_ticket(Platform::Web, conversation).await?;
            tx.rollback().await?;
            Ok::<_, relaydesk_storage::StorageError>(ticket)
        }
        .await
        .map_err(|e| DeliveryError::Transient(e.to_string()))?;
        let Some(ticket) = latest.filter(|t| t.status == TicketStatus::Closed) else {
            return Ok(Delivered::default());
        };
        match send_transcript(hub.store(), hub.clock().as_ref(), &self.email, ticket.id).await {
            Ok(Transcript::Sent { .. }) => {
                Ok(Delivered::with_ref(format!("transcript:{}", ticket.number)))
            }
            Ok(_) => Ok(Delivered::default()),
            Err(e) if e.is_temporary() => Err(DeliveryError::Transient(e.to_string())),
            Err(e) => {
                tracing::warn!(error = %e, ticket = ticket.number, "no transcript mailed");
                Ok(Delivered::default())
            }
        }
    }
}
