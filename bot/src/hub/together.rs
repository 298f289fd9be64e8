//! Customer messages that arrive while others are being stored are stored together: one
//! transaction and a fixed number of statements for all of them (group commit, set-wise).
//!
//! The queueing is [`crate::group_commit`]: under no load a message is stored alone, as soon
//! as it comes; under load groups grow with the load. Only messages to a conversation with an
//! active ticket take this path; a first message (a ticket to open, a closed one to reopen, a
//! merged one to follow) and a message without its platform's id are ingested on their own.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use relaydesk_storage::{AuthorKind, Backend, Customer, NewMessage, Platform, Ticket};

use super::effects::Effects;
use super::{CustomerMessage, Delivery, Hub, HubError, Ingested};
use crate::group_commit::{Group, GroupCommit};

/// Most messages stored in one transaction; a longer queue is stored in several.
const MOST_TOGETHER: usize = 512;

/// How many queues share the conversations on PostgreSQL, each storing one group at a time.
const POSTGRES_QUEUES: usize = 4;

/// Messages waiting to be stored, and the turns to store them.
type Queue = GroupCommit<CustomerMessage, Result<Ingested, HubError>>;

/// The queues customer messages wait in. Each conversation has one: its messages are stored
/// one group at a time, and groups written side by side (PostgreSQL) hold disjoint
/// conversations, so they never lock the same tickets and never wait on each other. (With one
/// queue and several turns they did, whenever two groups held messages to one ticket.) SQLite
/// has one writer and one queue.
#[derive(Debug)]
pub(super) struct IngestQueue {
    queues: Vec<Queue>,
}

impl IngestQueue {
    pub(super) fn for_backend(backend: Backend) -> Self {
        let count = match backend {
            Backend::Sqlite => 1,
            Backend::Postgres => POSTGRES_QUEUES,
        };
        Self {
            queues: (0..count)
                .map(|_| Queue::with_turns(1, MOST_TOGETHER))
                .collect(),
        }
    }

    /// The queue of a platform's conversation.
    fn of(&self, platform: Platform, conversation: &str) -> &Queue {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (platform.as_str(), conversation).hash(&mut hasher);
        let count = u64::try_from(self.queues.len()).unwrap_or(1).max(1);
        let index = usize::try_from(hasher.finish() % count).unwrap_or(0);
        &self.queues[index]
    }
}

impl Hub {
    /// Stores a customer message with whatever else is waiting, or alone. Answers as
    /// [`Hub::ingest`] does, once the message's transaction committed.
    pub(super) async fn ingest_customer_queued(
        &self,
        message: CustomerMessage,
    ) -> Result<Ingested, HubError> {
        if message.external_message_id.is_none() {
            // Without the platform's id a retried group could store it twice.
            return self.ingest_customer(message).await;
        }
        self.check_size(&message.text)?;
        let queue = self.queue.of(message.platform, &message.conversation);
        queue
            .submit(message, |group| {
                let hub = self.clone();
                async move { hub.store_group(group).await }
            })
            .await
            .unwrap_or(Err(HubError::Interrupted))
    }

    /// Stores a group and answers each caller. A group that fails as a whole (a lost
    /// connection, a deadlock) is stored again one message at a time, so each caller gets its
    /// own answer.
    async fn store_group(&self, group: Group<CustomerMessage, Result<Ingested, HubError>>) {
        let (messages, answers): (Vec<_>, Vec<_>) = group.into_iter().unzip();
        let started = std::time::Instant::now();
        let stored = self.store_together(&messages).await;
        tracing::debug!(
            count = messages.len(),
            elapsed_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            "customer messages stored together"
        );
        let outcomes = match stored {
            Ok(outcomes) => outcomes,
            Err(error) => {
                tracing::warn!(%error, count = messages.len(), "storing messages together failed; storing them one by one");
                vec![None; messages.len()]
            }
        };
        for ((message, answer), outcome) in messages.into_iter().zip(answers).zip(outcomes) {
            let result = match outcome {
                Some(ingested) => Ok(ingested),
                None => self.ingest_customer(message).await,
            };
            // The caller may have stopped waiting; the message is stored regardless.
            let _ = answer.send(result);
        }
    }

    /// One transaction for every message of `messages` whose conversation has an active
    /// ticket. The answer lines up with `messages`: `None` for a message left to be ingested
    /// on its own (its conversation has no active ticket).
    async fn store_together(
        &self,
        messages: &[CustomerMessage],
    ) -> Result<Vec<Option<Ingested>>, HubError> {
        let now = self.clock.now_ms();
        let names: Vec<String> = messages
            .iter()
            .map(|m| super::ingest::shown_name(&m.customer.display_name))
            .collect();
        let mut tx = self.store.begin().await?;
        let mut tickets: HashMap<Platform, HashMap<String, Ticket>> = HashMap::new();
        let mut customers: HashMap<Platform, HashMap<String, Customer>> = HashMap::new();
        for (platform, indices) in group_by_platform(messages) {
            let conversations: BTreeSet<&str> = indices
                .iter()
                .map(|&i| messages[i].conversation.as_str())
                .collect();
            let conversations: Vec<&str> = conversations.into_iter().collect();
            let active: HashMap<String, Ticket> = tx
                .active_tickets(platform, &conversations)
                .await?
                .into_iter()
                .map(|t| (t.conversation.clone(), t))
                .collect();
            // Only messages to an active ticket are stored here.
            let indices: Vec<usize> = indices
                .into_iter()
                .filter(|&i| active.contains_key(&messages[i].conversation))
                .collect();
            tickets.insert(platform, active);
            let identities: BTreeSet<&str> = indices
                .iter()
                .map(|&i| messages[i].customer.external_id.as_str())
                .collect();
            let identities: Vec<&str> = identities.into_iter().collect();
            let known = tx.known_customers(platform, &identities).await?;
            let found = customers.entry(platform).or_default();
            for i in indices {
                let m = &messages[i];
                let id = m.customer.external_id.as_str();
                if found.contains_key(id) {
                    continue;
                }
                let language = m.customer.language.as_deref();
                let customer = match known.get(id) {
                    Some(known) if known.is_current(&names[i], language) => known.customer.clone(),
                    // New to the store, or its name or language changed: the one-by-one rule.
                    _ => {
                        tx.customer_for_identity(platform, id, &names[i], language, now)
                            .await?
                    }
                };
                found.insert(id.to_string(), customer);
            }
        }
        let mut together = Vec::new();
        let mut rows = Vec::new();
        for (i, m) in messages.iter().enumerate() {
            let ticket = tickets
                .get(&m.platform)
                .and_then(|t| t.get(&m.conversation));
            let customer = customers
                .get(&m.platform)
                .and_then(|c| c.get(&m.customer.external_id));
            let (Some(ticket), Some(customer)) = (ticket, customer) else {
                continue;
            };
            together.push((i, ticket, customer));
            rows.push(NewMessage {
                ticket_id: ticket.id,
                author_kind: AuthorKind::Customer,
                customer_id: Some(customer.id),
                agent_id: None,
                author_name: &names[i],
                body: &m.text,
                attachments: &m.attachments,
                internal: false,
                platform: m.platform,
                external_id: m.external_message_id.as_deref(),
            });
        }
        let mut outcomes: Vec<Option<Ingested>> = vec![None; messages.len()];
        if rows.is_empty() {
            tx.rollback().await?;
            return Ok(outcomes);
        }
        let stored = tx.append_messages(&rows, now).await?;
        let mut effects = Effects::default();
        // Each ticket that got a message, with the customer of its last one.
        let mut written: BTreeMap<i64, &Customer> = BTreeMap::new();
        for (&(i, ticket, customer), id) in together.iter().zip(&stored) {
            let Some(message_id) = *id else {
                outcomes[i] = Some(Ingested::Duplicate);
                continue;
            };
            written.insert(ticket.id, customer);
            effects.touch(ticket.id);
            for &platform in &self.config.staff_platforms {
                effects.staff(ticket.id, platform, Delivery::StaffMessage { message_id });
            }
            outcomes[i] = Some(Ingested::Customer {
                ticket_id: ticket.id,
                ticket_number: ticket.number,
                message_id,
                new_ticket: false,
                reopened: false,
            });
        }
        let ticket_ids: Vec<i64> = written.keys().copied().collect();
        tx.note_customer_messages(&ticket_ids, now).await?;
        for (&ticket_id, customer) in &written {
            self.tell_if_closed(&mut tx, ticket_id, customer, now, &mut effects)
                .await?;
            self.refresh_sla(&mut tx, ticket_id, now, &mut effects)
                .await?;
        }
        self.commit(tx, &effects, now).await?;
        Ok(outcomes)
    }
}

/// The positions of `messages`, by platform.
fn group_by_platform(messages: &[CustomerMessage]) -> BTreeMap<Platform, Vec<usize>> {
    let mut by_platform: BTreeMap<Platform, Vec<usize>> = BTreeMap::new();
    for (i, m) in messages.iter().enumerate() {
        by_platform.entry(m.platform).or_default().push(i);
    }
    by_platform
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        (0..200).map(|n| format!("chat-{n}")).collect()
    }

    /// A conversation's messages always wait in the same queue, so no two groups stored side
    /// by side hold messages of one conversation (and so lock one ticket).
    #[test]
    fn a_conversation_always_waits_in_the_same_queue() {
        let queues = IngestQueue::for_backend(Backend::Postgres);
        for name in names() {
            let first: *const Queue = queues.of(Platform::Telegram, &name);
            let again: *const Queue = queues.of(Platform::Telegram, &name);
            assert!(std::ptr::eq(first, again), "{name} moved queue");
        }
    }

    /// PostgreSQL: conversations are spread over every queue; SQLite: one queue for all.
    #[test]
    fn conversations_are_spread_over_the_queues() {
        let queues = IngestQueue::for_backend(Backend::Postgres);
        let used: BTreeSet<usize> = names()
            .iter()
            .map(|name| {
                let queue: *const Queue = queues.of(Platform::Web, name);
                queues
                    .queues
                    .iter()
                    .position(|q| std::ptr::eq(q, queue))
                    .expect("one of its queues")
            })
            .collect();
        assert_eq!(used.len(), POSTGRES_QUEUES);
        let single = IngestQueue::for_backend(Backend::Sqlite);
        assert_eq!(single.queues.len(), 1);
    }
}
