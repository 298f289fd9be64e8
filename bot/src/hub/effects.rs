//! The deliveries a hub operation causes, collected while it runs and written to the outbox in
//! the same transaction.

use std::collections::BTreeSet;

use relaydesk_storage::{NewOutboxRow, Platform, Tx};

use super::{Delivery, Hub, HubError};

#[derive(Debug, Default)]
pub(super) struct Effects {
    queued: Vec<(i64, String, Platform, Delivery)>,
    /// Held staff sends: the ticket whose staff lanes wait, and until when (an FAQ answer is
    /// waiting for the customer).
    hold: Option<(i64, i64)>,
    /// Sends that wait: (ticket, platform, what, not before, in ms since the epoch). Each goes
    /// in a lane of its own so that it holds nothing else up.
    later: Vec<(i64, Platform, Delivery, i64)>,
    /// Tickets this operation changed, announced on the hub's change feed after the commit.
    touched: BTreeSet<i64>,
}

impl Effects {
    /// Notes that `ticket_id` changed, whether or not anything is queued for it.
    pub fn touch(&mut self, ticket_id: i64) {
        self.touched.insert(ticket_id);
    }

    pub fn staff(&mut self, ticket_id: i64, platform: Platform, delivery: Delivery) {
        self.touched.insert(ticket_id);
        self.queued.push((
            ticket_id,
            Delivery::staff_lane(ticket_id, platform),
            platform,
            delivery,
        ));
    }

    pub fn customer(&mut self, ticket_id: i64, platform: Platform, delivery: Delivery) {
        self.touched.insert(ticket_id);
        self.queued.push((
            ticket_id,
            Delivery::customer_lane(ticket_id, platform),
            platform,
            delivery,
        ));
    }

    /// A post about the ticket in a channel that is not its thread (a log channel), in that
    /// channel's lane.
    pub fn channel(
        &mut self,
        ticket_id: i64,
        platform: Platform,
        channel: &str,
        delivery: Delivery,
    ) {
        self.touched.insert(ticket_id);
        self.queued.push((
            ticket_id,
            Delivery::channel_lane(platform, channel),
            platform,
            delivery,
        ));
    }

    /// Holds everything queued for `ticket_id`'s staff threads until `until_ms`.
    pub fn hold_staff(&mut self, ticket_id: i64, until_ms: i64) {
        self.hold = Some((ticket_id, until_ms));
    }

    /// A send to the customer that must wait until `not_before_ms` (the satisfaction survey).
    pub fn customer_later(
        &mut self,
        ticket_id: i64,
        platform: Platform,
        delivery: Delivery,
        not_before_ms: i64,
    ) {
        self.touched.insert(ticket_id);
        self.later
            .push((ticket_id, platform, delivery, not_before_ms));
    }

    /// Whether something queued for the ticket's staff thread on `platform` matches `what`.
    pub fn has_staff(
        &self,
        ticket_id: i64,
        platform: Platform,
        what: impl Fn(&Delivery) -> bool,
    ) -> bool {
        self.queued.iter().any(|(t, lane, _, d)| {
            *t == ticket_id && *lane == Delivery::staff_lane(ticket_id, platform) && what(d)
        })
    }

    /// Writes every queued delivery to the outbox, in the order queued, in one statement.
    pub async fn flush(&self, tx: &mut Tx, now_ms: i64) -> Result<(), HubError> {
        let mut payloads = Vec::with_capacity(self.queued.len() + self.later.len());
        for (_, _, _, delivery) in &self.queued {
            payloads.push(serde_json::to_string(delivery)?);
        }
        let later_lanes: Vec<String> = self
            .later
            .iter()
            .map(|(ticket_id, platform, _, _)| Delivery::later_lane(*ticket_id, *platform))
            .collect();
        for (_, _, delivery, _) in &self.later {
            payloads.push(serde_json::to_string(delivery)?);
        }
        let mut rows = Vec::with_capacity(payloads.len());
        for ((ticket_id, lane, platform, delivery), payload) in self.queued.iter().zip(&payloads) {
            let held = self.hold.filter(|(held, _)| {
                held == ticket_id && *lane == Delivery::staff_lane(*held, *platform)
            });
            rows.push(NewOutboxRow {
                ticket_id: Some(*ticket_id),
                lane,
                platform: *platform,
                payload,
                message_id: delivery.carried_message(),
                next_attempt_at: held.map(|(_, until)| until),
            });
        }
        let later_payloads = &payloads[self.queued.len()..];
        for (((ticket_id, platform, _, not_before), lane), payload) in
            self.later.iter().zip(&later_lanes).zip(later_payloads)
        {
            rows.push(NewOutboxRow {
                ticket_id: Some(*ticket_id),
                lane,
                platform: *platform,
                payload,
                message_id: None,
                next_attempt_at: Some(*not_before),
            });
        }
        tx.enqueue_many(&rows, now_ms).await?;
        Ok(())
    }

    /// The platforms whose workers have new work.
    pub fn platforms(&self) -> BTreeSet<Platform> {
        self.queued
            .iter()
            .map(|(_, _, p, _)| *p)
            .chain(self.later.iter().map(|(_, p, _, _)| *p))
            .collect()
    }
}

impl Hub {
    /// Writes the effects into the outbox, commits, wakes the workers that got work and
    /// announces the changed tickets.
    pub(super) async fn commit(
        &self,
        mut tx: Tx,
        effects: &Effects,
        now_ms: i64,
    ) -> Result<(), HubError> {
        effects.flush(&mut tx, now_ms).await?;
        tx.announce_changes(effects.touched.iter().copied());
        tx.commit().await?;
        self.wakers.wake(effects.platforms());
        self.feed.announce(effects.touched.iter().copied());
        Ok(())
    }
}
