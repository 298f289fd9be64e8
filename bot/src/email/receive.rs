//! A received mail into the desk: which conversation it continues, its files kept, the
//! customer's message ingested; automatic mail and bounces set apart.

use relaydesk_storage::{Platform, WidgetFile};

use super::parse::{parse, Automatic, InboundMail};
use super::thread::{normalise_address, ticket_number_in, MailThread};
use super::{EmailError, EmailSettings};
use crate::hub::{CustomerMessage, Hub, Inbound, Ingested, PlatformUser};

/// What became of one received mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// Stored as a customer message of ticket `number`.
    Stored { number: i64, new_ticket: bool },
    /// This mail was stored before.
    Duplicate,
    /// A bounce of mail of ours: those deliveries are marked failed.
    Bounce { deliveries: usize },
    /// Not a customer's mail (automatic, our own, no sender): kept out of the desk.
    Ignored(String),
}

/// Takes in one raw mail. `cut_from`: the mail's whole size when `raw` is only its start (a
/// mailbox's mail over the size limit), said in the thread.
pub async fn receive(
    hub: &Hub,
    settings: &EmailSettings,
    raw: &[u8],
    cut_from: Option<usize>,
) -> Result<Received, EmailError> {
    let mail = parse(raw, settings.limits(hub.config().max_message_bytes));
    let Some((address, name)) = mail.from.clone() else {
        tracing::info!(message_id = %mail.message_id, "a mail without a sender address was ignored");
        return Ok(Received::Ignored("the mail names no sender".into()));
    };
    let address = normalise_address(&address);
    match &mail.automatic {
        Some(Automatic::Bounce { ours, reason }) => {
            let deliveries = bounce(hub, ours, reason).await?;
            tracing::info!(deliveries, %reason, "a bounce was received");
            return Ok(Received::Bounce { deliveries });
        }
        Some(Automatic::AutoReply(why)) => {
            tracing::info!(%why, "an automatic mail was ignored");
            return Ok(Received::Ignored(format!("automatic mail ({why})")));
        }
        None => {}
    }
    if address == settings.address {
        return Ok(Received::Ignored("mail from our own address".into()));
    }
    let thread = thread_of(hub, &mail, &address).await?;
    let conversation = thread.to_string();

    let mut attachments = Vec::new();
    let mut files = Vec::new();
    for file in &mail.files {
        files.push(WidgetFile {
            key: new_key(),
            conversation: conversation.clone(),
            file_name: file.name.clone(),
            mime_type: file.mime_type.to_string(),
            data: file.data.clone(),
        });
    }
    // The whole mail stays at hand when the thread shows only part of it.
    if (mail.trimmed || !mail.dropped.is_empty()) && raw.len() <= settings.max_original_bytes {
        files.push(WidgetFile {
            key: new_key(),
            conversation: conversation.clone(),
            file_name: "original-mail.eml".into(),
            mime_type: "message/rfc822".into(),
            data: raw.to_vec(),
        });
    }
    if !files.is_empty() {
        let now = hub.clock().now_ms();
        let mut tx = hub.store().begin().await?;
        for file in &files {
            tx.put_widget_file(file, now, true).await?;
            attachments.push(relaydesk_web::file_attachment(
                file,
                settings.public_url.as_deref(),
            ));
        }
        tx.commit().await?;
    }

    let text = message_text(
        &mail,
        raw.len() > settings.max_original_bytes,
        cut_from.map(|whole| (raw.len(), whole)),
    );
    let message = CustomerMessage {
        platform: Platform::Email,
        external_message_id: Some(mail.message_id.clone()),
        customer: PlatformUser {
            external_id: address.clone(),
            display_name: name.unwrap_or_else(|| address.clone()),
            language: None,
        },
        conversation,
        subject: (!mail.subject.trim().is_empty()).then(|| mail.subject.trim().to_string()),
        text,
        attachments,
    };
    match hub.ingest(Inbound::Customer(message)).await? {
        Ingested::Duplicate => Ok(Received::Duplicate),
        Ingested::Customer {
            ticket_number,
            new_ticket,
            ..
        } => Ok(Received::Stored {
            number: ticket_number,
            new_ticket,
        }),
        Ingested::Staff(_) => Ok(Received::Ignored("not a customer's mail".into())),
    }
}

/// The conversation a mail continues: one whose thread it answers (by our ids or the
/// customer's earlier mail), else the ticket its subject names if that ticket is this
/// sender's, else a new thread.
async fn thread_of(hub: &Hub, mail: &InboundMail, address: &str) -> Result<MailThread, EmailError> {
    let mut tx = hub.store().begin().await?;
    for candidate in MailThread::candidates(address, mail.answers.iter().map(String::as_str)) {
        if tx
            .latest_ticket(Platform::Email, &candidate.to_string())
            .await?
            .is_some()
        {
            tx.rollback().await?;
            return Ok(candidate);
        }
    }
    if let Some(number) = ticket_number_in(&mail.subject) {
        if let Some(ticket) = tx.ticket_by_number(number).await? {
            let own = (ticket.origin == Platform::Email)
                .then(|| MailThread::parse(&ticket.conversation))
                .flatten()
                .filter(|thread| thread.address == address);
            if let Some(thread) = own {
                tx.rollback().await?;
                return Ok(thread);
            }
        }
    }
    tx.rollback().await?;
    Ok(MailThread::started_by(address, &mail.message_id))
}

/// The thread post of a mail: its new text, then what was not kept.
fn message_text(
    mail: &InboundMail,
    original_too_large: bool,
    cut: Option<(usize, usize)>,
) -> String {
    let mut text = mail.text.trim().to_string();
    if text.is_empty() && mail.files.is_empty() {
        text = "(an empty mail)".to_string();
    }
    let mut notes = mail.dropped.clone();
    if original_too_large {
        notes.push("the original mail (too large to keep whole)".into());
    }
    if let Some((kept, whole)) = cut {
        notes.push(format!(
            "everything after its first {} KB (the mail has {} KB, more than the limit)",
            kept / 1024,
            whole / 1024
        ));
    }
    if !notes.is_empty() {
        text.push_str("\n\n⚠️ Not kept from this mail: ");
        text.push_str(&notes.join("; "));
        text.push('.');
    }
    text
}

/// Marks the deliveries a bounce returns as failed, telling the team.
async fn bounce(hub: &Hub, ours: &[String], reason: &str) -> Result<usize, EmailError> {
    let now = hub.clock().now_ms();
    let mut tx = hub.store().begin().await?;
    let mut marked = 0;
    let mut woken = Vec::new();
    for id in ours {
        let Some((row, ticket_id)) = tx.bounce_delivery(Platform::Email, id, reason, now).await?
        else {
            continue;
        };
        marked += 1;
        tracing::warn!(row, %id, %reason, "a mail to a customer bounced");
        for &staff in &hub.config().staff_platforms {
            let notice = crate::hub::Delivery::StaffNotice {
                text: format!("⚠️ A mail to the customer bounced: {reason}"),
            };
            if let Some(ticket) = ticket_id {
                tx.enqueue(
                    Some(ticket),
                    &crate::hub::Delivery::staff_lane(ticket, staff),
                    staff,
                    &serde_json::to_string(&notice)?,
                    now,
                )
                .await?;
                woken.push(staff);
            }
        }
        if let Some(ticket) = ticket_id {
            tx.announce_changes([ticket]);
        }
    }
    tx.commit().await?;
    hub.wakers().wake(woken);
    Ok(marked)
}

fn new_key() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}
