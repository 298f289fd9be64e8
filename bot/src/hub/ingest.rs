//! `Hub::ingest`: one platform message in, one transaction, outbox rows queued.

use relaydesk_desk::{DeskError, Scope};
use relaydesk_storage::{
    AuthorKind, NewMessage, NewTicket, Platform, Priority, Ticket, TicketStatus, Tx,
};
use tracing::Instrument;

use super::commands::{Actor, ApplyContext, TicketRef};
use super::effects::Effects;
use super::{
    parse_staff_text, Command, CustomerMessage, Delivery, Hub, HubError, Inbound, Ingested,
    StaffInput, StaffMessage, StaffOutcome,
};
use crate::texts;

/// Longest subject taken from a first message.
const SUBJECT_CHARS: usize = 80;

impl Hub {
    /// Stores one inbound message and queues what it causes, atomically. Returns once committed:
    /// only then may the adapter acknowledge the message to its platform.
    ///
    /// Runs in an `inbound` span naming the platform, the platform's message id and, once
    /// known, the ticket number, so every log line about the message can be found.
    pub async fn ingest(&self, inbound: Inbound) -> Result<Ingested, HubError> {
        let (platform, external_id) = match &inbound {
            Inbound::Customer(m) => (m.platform, m.external_message_id.as_deref()),
            Inbound::Staff(m) => (m.platform, m.external_message_id.as_deref()),
        };
        let span = inbound_span(platform, external_id);
        async move {
            let ingested = match inbound {
                Inbound::Customer(message) => self.ingest_customer_queued(message).await,
                Inbound::Staff(message) => self.ingest_staff(message, None).await,
            }?;
            if let Ingested::Customer { ticket_number, .. } = &ingested {
                tracing::Span::current().record("ticket", ticket_number);
            }
            log_ingested(&ingested);
            let from = match &ingested {
                Ingested::Customer { .. } => "customer",
                Ingested::Staff(_) => "staff",
                Ingested::Duplicate => "duplicate",
            };
            metrics::counter!(
                "relaydesk_messages_ingested_total",
                "platform" => platform.as_str(),
                "from" => from
            )
            .increment(1);
            Ok(ingested)
        }
        .instrument(span)
        .await
    }

    pub(super) fn check_size(&self, text: &str) -> Result<(), HubError> {
        let limit = self.config.max_message_bytes;
        if text.len() > limit {
            return Err(HubError::Refused(DeskError::TooLarge {
                size: text.len(),
                limit,
            }));
        }
        Ok(())
    }

    pub(super) async fn ingest_customer(
        &self,
        mut message: CustomerMessage,
    ) -> Result<Ingested, HubError> {
        self.check_size(&message.text)?;
        message.customer.display_name = shown_name(&message.customer.display_name);
        let now = self.clock.now_ms();
        let mut tx = self.store.begin().await?;
        // A platform message seen before is caught when its row is inserted (below); the
        // transaction is then rolled back, undoing anything this run opened.
        let customer = tx
            .customer_for_identity(
                message.platform,
                &message.customer.external_id,
                &message.customer.display_name,
                message.customer.language.as_deref(),
                now,
            )
            .await?;
        let mut effects = Effects::default();
        let (ticket, new_ticket, reopened) = self
            .ticket_for(&mut tx, &message, customer.id, now, &mut effects)
            .await?;
        tracing::Span::current().record("ticket", ticket.number);
        let stored = tx
            .append_message(
                &NewMessage {
                    ticket_id: ticket.id,
                    author_kind: AuthorKind::Customer,
                    customer_id: Some(customer.id),
                    agent_id: None,
                    author_name: &message.customer.display_name,
                    body: &message.text,
                    attachments: &message.attachments,
                    internal: false,
                    platform: message.platform,
                    external_id: message.external_message_id.as_deref(),
                },
                now,
            )
            .await?;
        let Some(stored) = stored else {
            // Stored before (or by a concurrent ingest of the same platform message): undo what
            // this run opened, now rather than when the pool gets the connection back.
            tx.rollback().await?;
            return Ok(Ingested::Duplicate);
        };
        tx.note_customer_message(ticket.id, now).await?;
        effects.touch(ticket.id);
        let mut routed = None;
        if new_ticket {
            for &platform in &self.config.staff_platforms {
                effects.staff(ticket.id, platform, Delivery::OpenThread);
            }
            let facts = relaydesk_desk::routing::NewTicketFacts {
                text: &message.text,
                channel: message.platform,
                language: customer.language.as_deref(),
            };
            routed = self.route_new_ticket(&mut tx, &ticket, facts, now).await?;
            let offered = self
                .offer_faq(
                    &mut tx,
                    &ticket,
                    &customer,
                    &message.text,
                    now,
                    &mut effects,
                )
                .await?;
            if !offered && self.can_reach_customer(ticket.origin) {
                let text = texts::ticket_opened(customer.language.as_deref(), ticket.number);
                effects.customer(ticket.id, ticket.origin, Delivery::CustomerNotice { text });
            }
        }
        for &platform in &self.config.staff_platforms {
            effects.staff(
                ticket.id,
                platform,
                Delivery::StaffMessage {
                    message_id: stored.id,
                },
            );
        }
        if let Some(routed) = routed {
            self.announce_route(ticket.id, routed, &mut effects);
        }
        self.tell_if_closed(&mut tx, ticket.id, &customer, now, &mut effects)
            .await?;
        if reopened {
            self.reassign_if_away(
                &mut tx,
                ticket.id,
                "the ticket reopened while its assignee is away",
                now,
                &mut effects,
            )
            .await?;
        }
        self.refresh_sla(&mut tx, ticket.id, now, &mut effects)
            .await?;
        self.commit(tx, &effects, now).await?;
        Ok(Ingested::Customer {
            ticket_id: ticket.id,
            ticket_number: ticket.number,
            message_id: stored.id,
            new_ticket,
            reopened,
        })
    }

    /// The ticket a customer message belongs to: the conversation's active ticket; a recently
    /// closed one, reopened; the ticket a merged one went into; or a new one.
    async fn ticket_for(
        &self,
        tx: &mut Tx,
        message: &CustomerMessage,
        customer_id: i64,
        now: i64,
        effects: &mut Effects,
    ) -> Result<(Ticket, bool, bool), HubError> {
        if let Some(active) = tx
            .active_ticket(message.platform, &message.conversation)
            .await?
        {
            return Ok((active, false, false));
        }
        let latest = tx
            .latest_ticket(message.platform, &message.conversation)
            .await?;
        let mut previous = None;
        if let Some(latest) = latest {
            match latest.status {
                TicketStatus::Closed => {
                    let window_ms =
                        i64::try_from(self.config.reopen_window.as_millis()).unwrap_or(i64::MAX);
                    let closed_at = latest.closed_at.map_or(i64::MIN, |t| t.timestamp_millis());
                    if now.saturating_sub(closed_at) < window_ms {
                        tx.set_status(latest.id, TicketStatus::Open, None, now)
                            .await?;
                        tx.audit(
                            Some(latest.id),
                            "customer",
                            "reopen",
                            "customer wrote again",
                            now,
                        )
                        .await?;
                        for &platform in &self.config.staff_platforms {
                            effects.staff(latest.id, platform, Delivery::SyncThread);
                            effects.staff(
                                latest.id,
                                platform,
                                Delivery::StaffNotice {
                                    text: "Reopened: the customer wrote again.".to_string(),
                                },
                            );
                        }
                        let reopened = tx.ticket(latest.id).await?;
                        return Ok((reopened, false, true));
                    }
                    previous = Some(latest.id);
                }
                TicketStatus::Merged => {
                    if let Some(target) = self.follow_merges(tx, &latest).await? {
                        return Ok((target, false, false));
                    }
                    previous = Some(latest.id);
                }
                TicketStatus::Open | TicketStatus::Pending => return Ok((latest, false, false)),
            }
        }
        let subject = subject_of(message);
        let new = NewTicket {
            subject: &subject,
            customer_id,
            origin: message.platform,
            conversation: &message.conversation,
            priority: Priority::Normal,
            team_id: None,
            previous_ticket_id: previous,
        };
        if let Some(opened) = tx.open_ticket(&new, now).await? {
            tx.audit(Some(opened.id), "customer", "open", &opened.subject, now)
                .await?;
            return Ok((opened, true, false));
        }
        // A concurrent first message opened it a moment ago.
        let active = tx
            .active_ticket(message.platform, &message.conversation)
            .await?
            .ok_or_else(|| {
                HubError::not_found("the conversation's ticket vanished; please retry")
            })?;
        Ok((active, false, false))
    }

    /// Where a merged ticket ended up, if that ticket is still active.
    async fn follow_merges(
        &self,
        tx: &mut Tx,
        merged: &Ticket,
    ) -> Result<Option<Ticket>, HubError> {
        let mut current = merged.clone();
        for _ in 0..16 {
            let Some(next) = current.merged_into else {
                break;
            };
            current = tx.ticket(next).await?;
            if current.status.is_active() {
                return Ok(Some(current));
            }
        }
        Ok(None)
    }

    pub(super) fn can_reach_customer(&self, platform: Platform) -> bool {
        self.config.customer_platforms.contains(&platform)
    }

    /// `held`: the post was held until its thread was linked (see [`Hub::release_held`]); it
    /// is let go in the same transaction that ingests it.
    pub(super) async fn ingest_staff(
        &self,
        message: StaffMessage,
        held: Option<i64>,
    ) -> Result<Ingested, HubError> {
        self.check_size(&message.text)?;
        let input = parse_staff_text(&message.text, self.config.relay_mode)?;
        if let StaffInput::Command(command) = &input {
            if command.spec().scope == Scope::Staff {
                // Meant for anywhere (`/help`): no ticket, nothing stored.
                let actor = Actor::Staff {
                    platform: message.platform,
                    user: message.agent.clone(),
                    role: message.role,
                };
                let reply = self
                    .execute(&actor, &TicketRef::None, command.clone())
                    .await?;
                return Ok(Ingested::Staff(StaffOutcome::Command(reply)));
            }
        }
        let now = self.clock.now_ms();
        let mut tx = self.store.begin().await?;
        if let Some(id) = held {
            if !tx.release_held_post(id).await? {
                // Another instance ingested it a moment ago.
                return Ok(Ingested::Duplicate);
            }
        }
        if let Some(id) = &message.external_message_id {
            if tx
                .message_by_external(message.platform, id)
                .await?
                .is_some()
            {
                return Ok(Ingested::Duplicate);
            }
        }
        let Some(ticket_id) = tx
            .ticket_id_by_thread(message.platform, &message.thread_ref)
            .await?
        else {
            return self.hold(tx, &message, &input, now).await;
        };
        if held.is_none()
            && !tx
                .held_posts_of_thread(message.platform, &message.thread_ref)
                .await?
                .is_empty()
        {
            // Posts written in this thread before it was linked go first.
            tx.rollback().await?;
            self.release_thread(message.platform, &message.thread_ref)
                .await?;
            return Box::pin(self.ingest_staff(message, None)).await;
        }
        let actor = Actor::Staff {
            platform: message.platform,
            user: message.agent.clone(),
            role: message.role,
        };
        let command = match input {
            StaffInput::Reply(text) => Command::Reply(text),
            StaffInput::Note(text) => Command::Note(text),
            StaffInput::Command(command) => {
                // Commands are not stored as messages: remember the platform's id instead, so a
                // redelivered `/close` is not applied (and announced) twice.
                if let Some(id) = &message.external_message_id {
                    if !tx.remember_event(message.platform, id, now).await? {
                        return Ok(Ingested::Duplicate);
                    }
                }
                command
            }
        };
        // A canned reply's text is not what the agent typed: the thread is shown what went out.
        let shows_what_was_sent = matches!(command, Command::Canned(_));
        let context = ApplyContext {
            platform: Some(message.platform),
            external_message_id: message.external_message_id.as_deref(),
            attachments: &message.attachments,
        };
        let reply = self
            .apply_and_commit(
                tx,
                &actor,
                &TicketRef::Id(ticket_id),
                command,
                &context,
                now,
            )
            .await?;
        Ok(Ingested::Staff(
            match (reply.stored_message, reply.ticket_number) {
                _ if shows_what_was_sent => StaffOutcome::Command(reply),
                (Some((message_id, true)), Some(ticket_number)) => StaffOutcome::Noted {
                    ticket_number,
                    message_id,
                },
                (Some((message_id, false)), Some(ticket_number)) => StaffOutcome::Relayed {
                    ticket_number,
                    message_id,
                },
                _ => StaffOutcome::Command(reply),
            },
        ))
    }
}

/// The span every log line about one inbound message runs in; `ticket` is recorded once known.
pub(super) fn inbound_span(platform: Platform, external_id: Option<&str>) -> tracing::Span {
    tracing::info_span!(
        "inbound",
        %platform,
        external_id,
        ticket = tracing::field::Empty,
    )
}

/// One line per handled message, in its inbound span.
pub(super) fn log_ingested(ingested: &Ingested) {
    match ingested {
        Ingested::Customer {
            message_id,
            new_ticket,
            reopened,
            ..
        } => tracing::info!(message_id, new_ticket, reopened, "customer message stored"),
        Ingested::Staff(outcome) => tracing::info!(?outcome, "staff message handled"),
        Ingested::Duplicate => tracing::info!("seen before; nothing changed"),
    }
}

/// A customer's name as stored and shown: one line of visible text (it heads the customer's
/// posts and topic titles), "Customer" when nothing visible is left.
pub(super) fn shown_name(display_name: &str) -> String {
    match super::text::visible_line(display_name) {
        name if name.is_empty() => "Customer".to_string(),
        name => name,
    }
}

fn subject_of(message: &CustomerMessage) -> String {
    let source = message
        .subject
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or(&message.text);
    subject_from(source, &message.attachments)
}

/// A ticket's subject: the first non-empty line of `text`, shortened; the first attachment's
/// kind when there is no text.
pub(super) fn subject_from(text: &str, attachments: &[relaydesk_storage::Attachment]) -> String {
    let first_line = text
        .lines()
        .map(super::text::visible_line)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    if first_line.is_empty() {
        return match attachments.first() {
            Some(a) => format!("({})", a.kind),
            None => "(no text)".to_string(),
        };
    }
    super::text::truncate_chars(&first_line, SUBJECT_CHARS)
}
