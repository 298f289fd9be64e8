//! Email as a channel: mail to the support mailbox becomes tickets, agents' replies go out as
//! mail in the customer's thread.
//!
//! Mail comes in through `POST /api/v1/inbound/email` (a mail provider's inbound webhook, the
//! raw message as the body; see [`inbound`]) or from an IMAP mailbox ([`imap`]); it is parsed once ([`parse`]), its thread found
//! ([`thread`]) and ingested like any channel's message ([`receive`]). Replies leave through
//! the outbox ([`send`]) with threading headers, so the customer's answer finds its ticket.

mod csat;
pub mod imap;
mod inbound;
pub mod parse;
pub mod receive;
mod send;
pub mod thread;
mod trim;

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, Tokio1Executor};
use relaydesk_storage::Platform;
use relaydesk_web::EmailConfig;
use tokio_util::sync::CancellationToken;

use crate::channel::{Channel, ChannelError};
use crate::hub::{Deliver, Hub};
use parse::MailLimits;
use send::EmailDeliverer;

#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    #[error("email configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Storage(#[from] relaydesk_storage::StorageError),
    #[error(transparent)]
    Hub(#[from] crate::hub::HubError),
    #[error("could not encode an outbox payload: {0}")]
    Encode(#[from] serde_json::Error),
}

/// Shortest `inbound_secret` accepted.
const MIN_SECRET_CHARS: usize = 24;

/// What the channel needs of `[email]` and `[web]`, checked once.
#[derive(Debug, Clone)]
pub struct EmailSettings {
    pub from: Mailbox,
    /// Our own address, lowercased: mail from it is never a customer's.
    pub address: String,
    /// The domain of our Message-IDs (the sender address's).
    pub domain: String,
    pub inbound_secret: Option<String>,
    pub max_mail_bytes: usize,
    pub max_attachments: usize,
    pub max_attachment_bytes: usize,
    /// The whole mail is kept as a file (linked from the thread) up to this size.
    pub max_original_bytes: usize,
    pub public_url: Option<String>,
}

impl EmailSettings {
    /// The limits of one mail, with `max_message_bytes` the hub's limit of a message's text.
    pub fn limits(&self, max_message_bytes: usize) -> MailLimits {
        MailLimits {
            max_attachments: self.max_attachments,
            max_attachment_bytes: self.max_attachment_bytes,
            // Room for the note of what was dropped.
            max_text_bytes: max_message_bytes.saturating_sub(2048).max(1024),
        }
    }
}

/// The email channel: on when `[email] smtp_url` and `from` are both set.
#[derive(Debug)]
pub struct EmailChannel {
    settings: Arc<EmailSettings>,
    deliverer: Arc<EmailDeliverer>,
    mailbox: Option<imap::Mailbox>,
}

impl EmailChannel {
    /// `None` when mail is not configured. `max_attachment_bytes` and `public_url` come from
    /// `[web]`, shared with the widget's files.
    pub fn from_config(
        email: &EmailConfig,
        max_attachment_bytes: usize,
        public_url: Option<String>,
    ) -> Result<Option<Self>, EmailError> {
        let (Some(url), Some(from)) = (email.smtp_url.as_deref(), email.from.as_deref()) else {
            return Ok(None);
        };
        let from: Mailbox = from
            .parse()
            .map_err(|e| EmailError::Config(format!("email.from: {e}")))?;
        let address = from.email.to_string().to_lowercase();
        let domain = from.email.domain().to_string();
        if let Some(secret) = &email.inbound_secret {
            if secret.chars().count() < MIN_SECRET_CHARS
                || !secret
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(EmailError::Config(format!(
                    "email.inbound_secret: use at least {MIN_SECRET_CHARS} letters, digits, '-' or '_'"
                )));
            }
        }
        if email.max_mail_mb == 0 || email.max_mail_mb > 100 {
            return Err(EmailError::Config(
                "email.max_mail_mb: between 1 and 100".into(),
            ));
        }
        let mailbox = email
            .imap
            .as_ref()
            .map(|imap| {
                imap::Mailbox::from_url(
                    &imap.url,
                    imap.move_to.clone(),
                    std::time::Duration::from_secs(imap.poll_seconds.clamp(5, 29 * 60)),
                )
            })
            .transpose()
            .map_err(EmailError::Config)?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| EmailError::Config(format!("email.smtp_url: {e}")))?
            .build();
        let settings = Arc::new(EmailSettings {
            from,
            address,
            domain,
            inbound_secret: email.inbound_secret.clone(),
            max_mail_bytes: email.max_mail_mb * 1024 * 1024,
            max_attachments: email.max_attachments,
            max_attachment_bytes,
            max_original_bytes: 10 * 1024 * 1024,
            public_url,
        });
        Ok(Some(Self {
            deliverer: Arc::new(EmailDeliverer {
                settings: settings.clone(),
                transport,
                hub: OnceLock::new(),
            }),
            settings,
            mailbox,
        }))
    }
}

#[async_trait]
impl Channel for EmailChannel {
    fn platform(&self) -> Platform {
        Platform::Email
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

    fn routes(&self, hub: Hub) -> Option<axum::Router> {
        Some(inbound::routes(hub.clone(), self.settings.clone()).merge(csat::routes(hub)))
    }

    async fn run(
        self: Arc<Self>,
        hub: Hub,
        shutdown: CancellationToken,
    ) -> Result<(), ChannelError> {
        let _ = self.deliverer.hub.set(hub.clone());
        tracing::info!(address = %self.settings.address, "email channel ready");
        match self.mailbox.clone() {
            Some(mailbox) => imap::watch(hub, self.settings.clone(), mailbox, shutdown).await,
            None => {
                // Mail arrives by the inbound endpoint: nothing to connect to.
                hub.channel_health()
                    .set("email", relaydesk_desk::ChannelState::Connected);
                shutdown.cancelled().await
            }
        }
        Ok(())
    }
}
