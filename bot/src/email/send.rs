//! Replies to email customers: a mail in the customer's thread, over SMTP.

use async_trait::async_trait;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use relaydesk_storage::{AuthorKind, Platform};

use super::thread::{reply_subject, MailThread};
use super::EmailSettings;
use crate::hub::{Deliver, Delivered, DeliveryError, Hub, Outbound};

/// Earlier mails named in `References` (the first and the latest ones).
const MAX_REFERENCES: usize = 10;

#[derive(Debug)]
pub struct EmailDeliverer {
    pub(super) settings: std::sync::Arc<EmailSettings>,
    pub(super) transport: AsyncSmtpTransport<Tokio1Executor>,
    /// Set when the channel starts; deliveries before that are retried.
    pub(super) hub: std::sync::OnceLock<Hub>,
}

/// What a mail to the customer says, and where it goes.
struct Reply<'a> {
    conversation: &'a str,
    text: String,
    /// The agent who wrote it, shown in the sender's name.
    author: Option<&'a str>,
    /// RFC 3834 `Auto-Submitted` for what the desk sends by itself.
    automatic: Option<&'static str>,
}

/// `Auto-Submitted` (RFC 3834): tells the customer's mail system not to auto-reply.
#[derive(Debug, Clone)]
struct AutoSubmitted(String);

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.trim().to_string()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

#[async_trait]
impl Deliver for EmailDeliverer {
    fn platform(&self) -> Platform {
        Platform::Email
    }

    async fn deliver(&self, outbound: &Outbound) -> Result<Delivered, DeliveryError> {
        self.deliver_keyed("0", outbound).await
    }

    async fn deliver_keyed(
        &self,
        key: &str,
        outbound: &Outbound,
    ) -> Result<Delivered, DeliveryError> {
        let reply = match outbound {
            Outbound::CustomerPost {
                conversation,
                text,
                attachments,
                author,
            } => {
                let mut text = text.clone();
                for file in attachments {
                    let name = file.file_name.as_deref().unwrap_or("file");
                    match &file.url {
                        Some(url) => text.push_str(&format!("\n📎 {name}: {url}")),
                        None => text.push_str(&format!("\n📎 {name}")),
                    }
                }
                Reply {
                    conversation,
                    text,
                    author: author.as_deref(),
                    automatic: author.is_none().then_some("auto-replied"),
                }
            }
            Outbound::CustomerSurvey {
                conversation,
                question,
                survey_id,
            } => {
                let hub = self.hub.get().ok_or_else(|| {
                    DeliveryError::Transient("the email channel is starting".into())
                })?;
                let text = super::csat::survey_text(
                    hub,
                    self.settings.public_url.as_deref(),
                    *survey_id,
                    question,
                )
                .await
                .map_err(|e| DeliveryError::Transient(e.to_string()))?;
                Reply {
                    conversation,
                    text,
                    author: None,
                    automatic: Some("auto-generated"),
                }
            }
            Outbound::CustomerFaq {
                conversation, text, ..
            } => Reply {
                conversation,
                text: text.clone(),
                author: None,
                automatic: Some("auto-replied"),
            },
            _ => {
                return Err(DeliveryError::Permanent(
                    "email has no staff side".to_string(),
                ))
            }
        };
        self.send(key, reply).await
    }
}

impl EmailDeliverer {
    async fn send(&self, key: &str, reply: Reply<'_>) -> Result<Delivered, DeliveryError> {
        let thread = MailThread::parse(reply.conversation).ok_or_else(|| {
            DeliveryError::Permanent(format!("not an email conversation: {}", reply.conversation))
        })?;
        let hub = self
            .hub
            .get()
            .ok_or_else(|| DeliveryError::Transient("the email channel is starting".into()))?;
        let (subject, earlier) = thread_facts(hub, reply.conversation)
            .await
            .map_err(|e| DeliveryError::Transient(e.to_string()))?;
        let to: Mailbox = thread.address.parse().map_err(|e| {
            DeliveryError::Permanent(format!("the customer's address is not usable: {e}"))
        })?;
        let message_id = thread.message_id(key, &self.settings.domain);
        let from = match reply.author {
            Some(author) => {
                let desk = self.settings.from.name.as_deref().unwrap_or("Support");
                let name: String = format!("{author} from {desk}")
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(120)
                    .collect();
                Mailbox::new(Some(name), self.settings.from.email.clone())
            }
            None => self.settings.from.clone(),
        };
        let mut builder = lettre::Message::builder()
            .from(from)
            .to(to)
            .subject(subject)
            .message_id(Some(message_id.clone()));
        if let Some(value) = reply.automatic {
            builder = builder.header(AutoSubmitted(value.to_string()));
        }
        if let Some(last) = earlier.last() {
            builder = builder.in_reply_to(last.clone());
            builder = builder.references(references(&earlier));
        }
        let html = maud::html! {
            div style="font-family: sans-serif; white-space: pre-wrap" { (reply.text) }
        }
        .into_string();
        let mail = builder
            .multipart(MultiPart::alternative_plain_html(reply.text.clone(), html))
            .map_err(|e| DeliveryError::Permanent(format!("the mail could not be built: {e}")))?;
        match self.transport.send(mail).await {
            Ok(_) => Ok(Delivered::with_ref(message_id)),
            Err(e) if e.is_permanent() => Err(DeliveryError::Permanent(e.to_string())),
            Err(e) => Err(DeliveryError::Transient(e.to_string())),
        }
    }
}

/// The subject a reply in this conversation carries, and the Message-IDs of the customer's
/// mails in it, oldest first.
async fn thread_facts(
    hub: &Hub,
    conversation: &str,
) -> Result<(String, Vec<String>), relaydesk_storage::StorageError> {
    let mut tx = hub.store().begin().await?;
    let Some(ticket) = tx.latest_ticket(Platform::Email, conversation).await? else {
        tx.rollback().await?;
        return Ok(("Your request".to_string(), Vec::new()));
    };
    let messages = tx.messages(ticket.id).await?;
    tx.rollback().await?;
    let earlier = messages
        .into_iter()
        .filter(|m| m.author_kind == AuthorKind::Customer && m.platform == Platform::Email)
        .filter_map(|m| m.external_id)
        .collect();
    Ok((reply_subject(&ticket.subject, ticket.number), earlier))
}

/// `References`: the thread's first mail and the latest ones, at most [`MAX_REFERENCES`].
fn references(earlier: &[String]) -> String {
    if earlier.len() <= MAX_REFERENCES {
        return earlier.join(" ");
    }
    let mut ids = vec![earlier[0].clone()];
    ids.extend(
        earlier[earlier.len() - (MAX_REFERENCES - 1)..]
            .iter()
            .cloned(),
    );
    ids.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_keep_the_first_and_the_latest() {
        let ids: Vec<String> = (0..15).map(|i| format!("<{i}@x>")).collect();
        let refs = references(&ids);
        assert!(refs.starts_with("<0@x> <6@x>"), "{refs}");
        assert!(refs.ends_with("<14@x>"));
        assert_eq!(refs.split(' ').count(), MAX_REFERENCES);
        assert_eq!(references(&ids[..2]), "<0@x> <1@x>");
    }
}
