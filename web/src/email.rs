//! Outgoing mail: the transcript of a closed widget conversation, over SMTP (`[email]`).

use lettre::message::{header::ContentType, Mailbox};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use relaydesk_storage::{Clock, Store, TicketStatus};

use crate::transcript::{Audience, Transcript as Conversation};

use crate::config::EmailConfig;

#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    #[error("email configuration: {0}")]
    Config(String),
    #[error("the mail could not be sent: {0}")]
    Send(String),
    #[error(transparent)]
    Storage(#[from] relaydesk_storage::StorageError),
}

impl EmailError {
    /// Whether trying again later may work (the SMTP server was unreachable or busy).
    pub fn is_temporary(&self) -> bool {
        matches!(self, EmailError::Send(_) | EmailError::Storage(_))
    }
}

/// What became of a transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transcript {
    Sent {
        to: String,
    },
    /// Sent before for this close.
    AlreadySent,
    /// No SMTP server or sender configured.
    MailOff,
    /// The customer left no address, or none the site vouched for.
    NoAddress,
    /// The ticket is not closed (any more).
    NotClosed,
}

/// Mails the transcript of a closed ticket to its customer, once per close.
pub async fn send_transcript(
    store: &Store,
    clock: &dyn Clock,
    config: &EmailConfig,
    ticket_id: i64,
) -> Result<Transcript, EmailError> {
    let (Some(url), Some(from)) = (config.smtp_url.as_deref(), config.from.as_deref()) else {
        return Ok(Transcript::MailOff);
    };
    let from: Mailbox = from
        .parse()
        .map_err(|e| EmailError::Config(format!("email.from: {e}")))?;
    let mut tx = store.begin().await?;
    let ticket = tx.ticket(ticket_id).await?;
    let Some(closed_at) = ticket
        .closed_at
        .filter(|_| ticket.status == TicketStatus::Closed)
    else {
        tx.rollback().await?;
        return Ok(Transcript::NotClosed);
    };
    let customer = tx.customer(ticket.customer_id).await?;
    // Only an address the site signed (or an integration gave) gets the conversation: a typed
    // one could be anyone's.
    let Some(address) = tx.verified_customer_email(ticket.customer_id).await? else {
        tx.rollback().await?;
        return Ok(Transcript::NoAddress);
    };
    let to: Mailbox = match address.parse() {
        Ok(to) => to,
        Err(e) => {
            tracing::warn!(error = %e, ticket = ticket.number, "a customer's email address is not usable");
            tx.rollback().await?;
            return Ok(Transcript::NoAddress);
        }
    };
    let closed_ms = closed_at.timestamp_millis();
    if !tx
        .claim_transcript(ticket.id, closed_ms, &address, clock.now_ms())
        .await?
    {
        tx.rollback().await?;
        return Ok(Transcript::AlreadySent);
    }
    let messages = tx.messages(ticket.id).await?;
    tx.commit().await?;

    let number = ticket.number;
    let conversation = Conversation {
        ticket,
        customer_name: customer.display_name.clone(),
        messages,
    }
    .text(Audience::Customer);
    let mut body = format!(
        "Hello {},\n\nhere is the conversation of your ticket #{number}.\n\n{conversation}",
        customer.display_name
    );
    body.push_str("The ticket is closed. Write to us again whenever you need anything.\n");

    let sent = async {
        let mail = Message::builder()
            .from(from)
            .to(to)
            .subject(format!("Your conversation with us (ticket #{})", number))
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| EmailError::Config(format!("cannot build the mail: {e}")))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| EmailError::Config(format!("email.smtp_url: {e}")))?
            .build();
        transport
            .send(mail)
            .await
            .map_err(|e| EmailError::Send(e.to_string()))?;
        Ok::<_, EmailError>(())
    }
    .await;
    if let Err(e) = sent {
        // Give the claim back so a later attempt sends it.
        let mut tx = store.begin().await?;
        tx.release_transcript(ticket_id, closed_ms).await?;
        tx.commit().await?;
        return Err(e);
    }
    tracing::info!(ticket = number, "transcript mailed");
    Ok(Transcript::Sent { to: address })
}
