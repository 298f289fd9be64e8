use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use relaydesk_storage::{OutboxItem, Platform, StorageError};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::coalesce::{self, Joinable};
use super::resolve::{resolve, Prefetched, Resolved, Unresolvable};
use super::RetryPolicy;
use crate::group_commit::{Group, GroupCommit};
use crate::hub::{Deliver, Delivered, Delivery, DeliveryError, Hub, Outbound};

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("outbox storage: {0}")]
    Storage(#[from] StorageError),
    #[error("could not encode an outbox payload: {0}")]
    Encode(#[from] serde_json::Error),
    /// The group that was recording these outcomes stopped before it answered; the rows are
    /// tried again after their lease.
    #[error("recording stopped before its outcome was known")]
    Interrupted,
}

/// Tuning of one worker.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Sends under way at once (each from a different lane).
    pub batch: i64,
    /// How long a lease lasts; it is renewed while its send is under way, so a worker that
    /// dies mid-send frees its rows after this.
    pub lease: Duration,
    /// How often to look for due rows when nothing woke the worker.
    pub poll: Duration,
    /// How often to look for staff posts held until their thread is linked.
    pub held_sweep: Duration,
    pub retry: RetryPolicy,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            batch: 64,
            lease: Duration::from_secs(30),
            poll: Duration::from_secs(1),
            held_sweep: Duration::from_secs(15),
            retry: RetryPolicy::default(),
        }
    }
}

/// What a row's last error says while it waits for a send slot.
const WAITING_FOR_SLOT: &str = "waiting for a send slot";

/// Longest wait for a send slot taken in place; a row whose slot is further off goes back to
/// the outbox until then (its lane waits, other lanes go on).
const PAUSE_IN_PLACE: Duration = Duration::from_secs(1);

/// Sends under way. Each task sends and then records its outcome itself, at once: an outcome
/// that waited for the worker loop (busy leasing the next rows) could be lost to a kill after
/// the platform accepted the post, and the post sent a second time after the lease.
type InFlight = JoinSet<Result<(), OutboxError>>;

/// Most finished sends whose outcomes are recorded in one transaction.
const MOST_RECORDED_TOGETHER: usize = 256;

/// An outcome committed this long after its send finished is logged: a crash in that window
/// sends the row again, and so long a wait means the database is busy.
const SLOW_RECORDING: Duration = Duration::from_millis(500);

/// Outcomes of finished sends waiting to be recorded together (see [`crate::group_commit`]).
type Recorder = GroupCommit<Vec<Finished>, Result<(), OutboxError>>;

/// Delivers one platform's outbox rows through its adapter.
#[derive(Clone)]
pub struct OutboxWorker {
    hub: Hub,
    adapter: Arc<dyn Deliver>,
    owner: Arc<str>,
    options: WorkerOptions,
    recorder: Arc<Recorder>,
}

impl std::fmt::Debug for OutboxWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxWorker")
            .field("platform", &self.adapter.platform())
            .field("owner", &self.owner)
            .finish()
    }
}

/// A leased row, read and ready: either to be sent (with the rows of its lane that go out in
/// the same post, if any), or already settled without a send.
enum Prepared {
    /// Rows going out as one post, the post, and the ticket number (for logs).
    Send(Vec<(OutboxItem, Delivery)>, Outbound, Option<i64>),
    Settle(OutboxItem, Option<Delivery>, Outcome),
}

/// Rows found behind a lane's head that may join its post, not yet leased.
struct Followers {
    /// Index of the head in the prepared list.
    head: usize,
    /// The head's row id.
    head_id: i64,
    rows: JoinedRows,
}

/// Rows joined to a lane's head, each with its text.
type JoinedRows = Vec<(OutboxItem, Delivery, String)>;

/// A row whose outcome is known and waits to be recorded.
type Finished = (OutboxItem, Option<Delivery>, Outcome);

/// What happened to one row, decided before the outcome is written.
#[derive(Clone)]
enum Outcome {
    Delivered(Delivered),
    /// Try again after the wait; the bool says whether this attempt counts toward giving up
    /// (a platform's rate limit does not).
    Retry(Duration, String, bool),
    Failed(String),
}

impl OutboxWorker {
    pub fn new(hub: Hub, adapter: Arc<dyn Deliver>, options: WorkerOptions) -> Self {
        let owner = format!("{}-{}", adapter.platform(), uuid::Uuid::new_v4());
        let recorder = Arc::new(GroupCommit::for_backend(
            hub.store().backend(),
            MOST_RECORDED_TOGETHER,
        ));
        Self {
            hub,
            adapter,
            owner: owner.into(),
            options,
            recorder,
        }
    }

    /// Delivers until `shutdown` is cancelled. Sends run concurrently, each lane's head on its
    /// own: a send waiting on a slow platform never holds back another lane, and a finished
    /// send is recorded (and its lane's next row started) at once. Storage errors are logged
    /// and retried.
    pub async fn run(self, shutdown: CancellationToken) {
        let platform = self.adapter.platform();
        let wake = self.hub.wakers().for_platform(platform);
        let capacity = usize::try_from(self.options.batch.max(1)).unwrap_or(64);
        let mut in_flight = InFlight::new();
        let mut next_sweep = Instant::now();
        tracing::info!(%platform, "outbox worker started");
        loop {
            log_failures(platform, finished_now(&mut in_flight));
            if Instant::now() >= next_sweep {
                self.sweep_held().await;
                next_sweep = Instant::now() + self.options.held_sweep;
            }
            let room = capacity.saturating_sub(in_flight.len());
            let started = if room == 0 {
                0
            } else {
                match self.start_due(&mut in_flight, room).await {
                    Ok(n) => n,
                    Err(e) => {
                        tracing::error!(%platform, error = %e, "outbox pass failed; retrying");
                        0
                    }
                }
            };
            if started > 0 && started == room {
                // More may be due: look again once a place is free.
                if let Some(joined) = in_flight.join_next().await {
                    log_failures(platform, vec![collect(joined)]);
                    log_failures(platform, finished_now(&mut in_flight));
                }
                continue;
            }
            let pause = if started > 0 {
                Duration::ZERO
            } else {
                self.until_next_due().await.min(self.options.poll)
            };
            tokio::select! {
                _ = shutdown.cancelled() => break,
                Some(joined) = in_flight.join_next(), if !in_flight.is_empty() => {
                    log_failures(platform, vec![collect(joined)]);
                    log_failures(platform, finished_now(&mut in_flight));
                }
                _ = wake.notified() => {}
                _ = tokio::time::sleep(pause) => {}
            }
        }
        // Sends under way get a moment to finish and be recorded; the rest keep their lease
        // and are tried again after it (by this process's successor or another instance).
        let grace = async {
            while let Some(joined) = in_flight.join_next().await {
                log_failures(platform, vec![collect(joined)]);
            }
        };
        if tokio::time::timeout(Duration::from_secs(5), grace)
            .await
            .is_err()
        {
            in_flight.abort_all();
        }
        tracing::info!(%platform, "outbox worker stopped");
    }

    /// Ingests staff posts whose thread got linked (and lets go of stale ones).
    async fn sweep_held(&self) {
        if let Err(e) = self.hub.release_held(self.adapter.platform()).await {
            tracing::warn!(platform = %self.adapter.platform(), error = %e, "held staff posts not released yet");
        }
    }

    async fn until_next_due(&self) -> Duration {
        let due = async {
            let mut tx = self.hub.store().begin().await?;
            tx.next_due(self.adapter.platform()).await
        };
        match due.await {
            Ok(Some(at)) => {
                let wait = at.saturating_sub(self.hub.clock().now_ms()).max(0);
                Duration::from_millis(u64::try_from(wait).unwrap_or(0))
            }
            Ok(None) | Err(_) => self.options.poll,
        }
    }

    /// One pass: leases due rows, delivers them (different lanes concurrently) and records
    /// every outcome before returning. Returns how many rows were handled. For tests and
    /// tools; [`OutboxWorker::run`] does not wait for a whole pass.
    pub async fn run_once(&self) -> Result<usize, OutboxError> {
        let capacity = usize::try_from(self.options.batch.max(1)).unwrap_or(64);
        let mut in_flight = InFlight::new();
        let count = self.start_due(&mut in_flight, capacity).await?;
        let mut first_error = None;
        while let Some(joined) = in_flight.join_next().await {
            if let Err(e) = collect(joined) {
                first_error.get_or_insert(e);
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(count),
        }
    }

    /// Leases up to `room` due rows, settles those that need no send, takes a send slot for
    /// each of the others (or gives it back to wait for one) and starts their sends in
    /// `in_flight`. Returns how many rows were leased.
    async fn start_due(&self, in_flight: &mut InFlight, room: usize) -> Result<usize, OutboxError> {
        let now = self.hub.clock().now_ms();
        let lease_ms = i64::try_from(self.options.lease.as_millis()).unwrap_or(30_000);
        let mut tx = self.hub.store().begin().await?;
        let items = tx
            .lease(
                self.adapter.platform(),
                &self.owner,
                now,
                lease_ms,
                i64::try_from(room).unwrap_or(64),
            )
            .await?;
        tx.commit().await?;
        let count = items.len();
        if count == 0 {
            return Ok(0);
        }
        let mut settled = Vec::new();
        let mut sends = Vec::new();
        for prepared in self.prepare(items).await? {
            match prepared {
                Prepared::Send(rows, outbound, number) => sends.push((rows, outbound, number)),
                Prepared::Settle(item, delivery, outcome) => {
                    settled.push((item, delivery, outcome))
                }
            }
        }
        for (rows, outbound, number) in sends {
            let worker = self.clone();
            let span = tracing::info_span!(
                "delivery",
                platform = %self.adapter.platform(),
                delivery = rows.first().map(|(item, _)| item.id),
                ticket = number,
            );
            in_flight.spawn(
                async move {
                    let done = worker.send(rows, outbound).await;
                    worker.record_queued(done).await
                }
                .instrument(span),
            );
        }
        if !settled.is_empty() {
            self.record_all(settled).await?;
        }
        Ok(count)
    }

    /// Takes a send slot of every pace `outbound` falls under (see
    /// [`crate::hub::Deliver::paces`]), waiting in place for a short while. `Err` with the wait
    /// when the slot is further off: the row is given back to wait for it in the outbox.
    /// Slots are measured in wall-clock time, whatever clock the hub keeps.
    async fn take_slot(&self, outbound: &Outbound) -> Result<(), Duration> {
        let paces = self.adapter.paces(outbound);
        if paces.is_empty() {
            return Ok(());
        }
        loop {
            let claimed = async {
                let mut tx = self.hub.store().begin().await?;
                let wait = tx
                    .claim_paces(&paces, chrono::Utc::now().timestamp_millis())
                    .await?;
                tx.commit().await?;
                Ok::<_, StorageError>(wait)
            };
            let wait = match claimed.await {
                Ok(None) => return Ok(()),
                Ok(Some(ms)) => Duration::from_millis(u64::try_from(ms).unwrap_or(0)),
                Err(e) => {
                    tracing::warn!(error = %e, "could not take a send slot");
                    return Err(PAUSE_IN_PLACE);
                }
            };
            if wait > PAUSE_IN_PLACE {
                return Err(wait);
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Reads what every leased row needs, in one read transaction.
    async fn prepare(&self, items: Vec<OutboxItem>) -> Result<Vec<Prepared>, OutboxError> {
        let mut prepared = Vec::with_capacity(items.len());
        if items.is_empty() {
            return Ok(prepared);
        }
        let mut tx = self.hub.store().begin().await?;
        let mut behind = Vec::new();
        let parsed: Vec<(OutboxItem, Result<Delivery, serde_json::Error>)> = items
            .into_iter()
            .map(|item| {
                let delivery = serde_json::from_str(&item.payload);
                (item, delivery)
            })
            .collect();
        let readable: Vec<(&OutboxItem, &Delivery)> = parsed
            .iter()
            .filter_map(|(item, delivery)| delivery.as_ref().ok().map(|d| (item, d)))
            .collect();
        let known = Prefetched::read(&mut tx, &readable).await?;
        for (item, delivery) in parsed {
            let delivery = match delivery {
                Ok(d) => d,
                Err(e) => {
                    let why = format!("unreadable payload: {e}");
                    prepared.push(Prepared::Settle(item, None, Outcome::Failed(why)));
                    continue;
                }
            };
            match resolve(&mut tx, &known, &item, &delivery).await {
                Ok(Resolved {
                    outbound,
                    ticket_number,
                }) => {
                    if let Some(rows) = self.followers(&mut tx, &item, &delivery).await? {
                        behind.push(Followers {
                            head: prepared.len(),
                            head_id: item.id,
                            rows,
                        });
                    }
                    prepared.push(Prepared::Send(
                        vec![(item, delivery)],
                        outbound,
                        ticket_number,
                    ));
                }
                Err(Unresolvable::Storage(e)) => return Err(e.into()),
                Err(Unresolvable::Permanent(why)) => {
                    prepared.push(Prepared::Settle(item, Some(delivery), Outcome::Failed(why)));
                }
                Err(Unresolvable::Moot(why)) => {
                    tracing::debug!(id = item.id, %why, "nothing to send");
                    let done = Outcome::Delivered(Delivered::default());
                    prepared.push(Prepared::Settle(item, Some(delivery), done));
                }
            }
        }
        tx.rollback().await?;
        if !behind.is_empty() {
            self.join_followers(&mut prepared, behind).await?;
        }
        Ok(prepared)
    }

    /// The rows waiting behind `head` in its staff lane whose customer texts may go out in
    /// the head's post (see [`Deliver::coalesce_limit`]), with their texts. `None` when there
    /// are none.
    ///
    /// After an attempt that may have posted (a timeout, a lost answer, a crash: the head's
    /// attempt counted), exactly the rows of that attempt are joined again, so the retry is
    /// the same post under the same key and a platform that deduplicates (Discord's nonce)
    /// does not post it twice. Only a first attempt, or one after a rate limit (nothing was
    /// posted; the joins were let go), joins whatever waits now.
    async fn followers(
        &self,
        tx: &mut relaydesk_storage::Tx,
        head: &OutboxItem,
        delivery: &Delivery,
    ) -> Result<Option<JoinedRows>, OutboxError> {
        let Some(limit) = self.adapter.coalesce_limit() else {
            return Ok(None);
        };
        let Some(ticket_id) = head.ticket_id else {
            return Ok(None);
        };
        if head.lane != Delivery::staff_lane(ticket_id, head.platform) {
            return Ok(None);
        }
        let Some(first) = coalesce::joinable(tx, delivery).await? else {
            return Ok(None);
        };
        let again = head.attempts > 1;
        let now = self.hub.clock().now_ms();
        let candidates = if again {
            tx.joined_rows(head.id).await?
        } else {
            tx.lane_followers(&head.lane, head.id, now, coalesce::MAX_FOLLOWERS)
                .await?
        };
        let mut rows = Vec::new();
        let mut texts: Vec<Option<Joinable>> = Vec::new();
        for item in candidates {
            let Ok(delivery) = serde_json::from_str::<Delivery>(&item.payload) else {
                break;
            };
            let Some(text) = coalesce::joinable(tx, &delivery).await? else {
                break;
            };
            texts.push(Some(text));
            rows.push((item, delivery));
        }
        let taken = if again {
            texts.len()
        } else {
            coalesce::plan(limit, &first, &texts)
        };
        if taken == 0 {
            return Ok(None);
        }
        Ok(Some(
            rows.into_iter()
                .zip(texts)
                .take(taken)
                .filter_map(|((item, delivery), text)| text.map(|t| (item, delivery, t.text)))
                .collect(),
        ))
    }

    /// Leases the rows found behind lane heads and joins their texts into the heads' posts.
    /// A row that cannot be leased (taken meanwhile) ends its lane's run.
    async fn join_followers(
        &self,
        prepared: &mut [Prepared],
        behind: Vec<Followers>,
    ) -> Result<(), OutboxError> {
        let now = self.hub.clock().now_ms();
        let lease_ms = i64::try_from(self.options.lease.as_millis()).unwrap_or(60_000);
        let mut tx = self.hub.store().begin().await?;
        let mut leased = Vec::with_capacity(behind.len());
        for followers in behind {
            let mut rows = Vec::new();
            for row in followers.rows {
                let id = row.0.id;
                if !tx
                    .lease_joined_row(id, followers.head_id, &self.owner, now, lease_ms)
                    .await?
                {
                    break;
                }
                rows.push(row);
            }
            leased.push((followers.head, rows));
        }
        tx.commit().await?;
        for (head, rows) in leased {
            let Some(Prepared::Send(batch, Outbound::ThreadPost { text, .. }, _)) =
                prepared.get_mut(head)
            else {
                continue;
            };
            if rows.is_empty() {
                continue;
            }
            let mut texts = vec![std::mem::take(text)];
            for (item, delivery, more) in rows {
                texts.push(more);
                batch.push((item, delivery));
            }
            *text = coalesce::join(texts.iter().map(String::as_str));
            tracing::debug!(
                lane = %batch[0].0.lane,
                rows = batch.len(),
                "customer texts joined into one post"
            );
        }
        Ok(())
    }

    /// Sends one resolved post (one row, or several joined); the outcome, the same for each
    /// row, is recorded by the caller.
    async fn send(&self, rows: Vec<(OutboxItem, Delivery)>, outbound: Outbound) -> Vec<Finished> {
        // The key names every row of the post (the head, and how many rows of its lane follow
        // it: always the next ones), so a platform that deduplicates by it never mistakes a
        // bigger retry of a joined post for the post already sent. Short: Discord's nonce
        // takes at most 25 characters.
        let key = match rows.first() {
            Some((head, _)) if rows.len() > 1 => format!("{}+{}", head.id, rows.len() - 1),
            Some((head, _)) => head.id.to_string(),
            None => return Vec::new(),
        };
        // Rate limits and retries are judged by the head row.
        let item = &rows[0].0;
        if let Err(wait) = self.take_slot(&outbound).await {
            // Back a little before the slot, to wait the rest in place and send right at it:
            // coming back late would leave the slot unused and the platform's rate short.
            let back = wait.saturating_sub(PAUSE_IN_PLACE / 2);
            let outcome = Outcome::Retry(back, WAITING_FOR_SLOT.into(), false);
            return rows
                .into_iter()
                .map(|(item, delivery)| (item, Some(delivery), outcome.clone()))
                .collect();
        }
        let ids: Vec<i64> = rows.iter().map(|(item, _)| item.id).collect();
        let sent = self.adapter.deliver_keyed(&key, &outbound);
        tokio::pin!(sent);
        let mut renew = tokio::time::interval(self.options.lease / 3);
        renew.tick().await;
        let result = loop {
            tokio::select! {
                result = &mut sent => break result,
                _ = renew.tick() => self.renew(&ids).await,
            }
        };
        let outcome = match result {
            Ok(delivered) => {
                tracing::info!(rows = ids.len(), "delivered");
                Outcome::Delivered(delivered)
            }
            Err(DeliveryError::RetryAfter(wait)) => Outcome::Retry(
                self.options.retry.retry_after(wait),
                "rate limited".into(),
                false,
            ),
            Err(DeliveryError::Transient(why))
                if !self.options.retry.gives_up_after(item.attempts) =>
            {
                Outcome::Retry(
                    self.options.retry.delay(item.attempts, &mut rand::rng()),
                    why,
                    true,
                )
            }
            Err(DeliveryError::Transient(why) | DeliveryError::Permanent(why)) => {
                Outcome::Failed(why)
            }
        };
        if let (Outcome::Failed(why), Outbound::CustomerPost { .. }) = (&outcome, &outbound) {
            tracing::warn!(ticket = item.ticket_id, error = %why, "could not deliver to the customer");
        }
        rows.into_iter()
            .map(|(item, delivery)| (item, Some(delivery), outcome.clone()))
            .collect()
    }

    /// Keeps the leases of rows whose send is still under way, so no other worker takes them
    /// and sends them a second time.
    async fn renew(&self, ids: &[i64]) {
        let until = self
            .hub
            .clock()
            .now_ms()
            .saturating_add(i64::try_from(self.options.lease.as_millis()).unwrap_or(30_000));
        let renewed = async {
            let mut tx = self.hub.store().begin().await?;
            let held = tx.renew_leases(ids, &self.owner, until).await?;
            tx.commit().await?;
            Ok::<_, StorageError>(held)
        };
        match renewed.await {
            Ok(held) if held < ids.len() as u64 => {
                tracing::warn!(
                    ?ids,
                    "lease lost while sending; another worker may have the row"
                )
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not renew a lease"),
        }
    }

    /// Records a send's finished rows together with those of the other sends that finish
    /// meanwhile; returns once they are committed.
    async fn record_queued(&self, finished: Vec<Finished>) -> Result<(), OutboxError> {
        let started = Instant::now();
        let rows = finished.len();
        let recorded = self
            .recorder
            .submit(finished, |group| {
                let worker = self.clone();
                async move { worker.record_group(group).await }
            })
            .await
            .unwrap_or(Err(OutboxError::Interrupted));
        let took = started.elapsed();
        if took > SLOW_RECORDING {
            // One line per send; the group's own slowness is a warning (`record_together`),
            // what is left is the wait for the group before.
            tracing::debug!(
                rows,
                took_ms = millis(took),
                "a send's outcome was recorded late (a crash meanwhile sends it again)"
            );
        }
        recorded
    }

    /// Records the rows of several sends in one transaction and answers each. If that fails,
    /// each send's rows are recorded on their own (and row by row if need be).
    async fn record_group(&self, group: Group<Vec<Finished>, Result<(), OutboxError>>) {
        if group.len() > 1 {
            let all: Vec<&Finished> = group.iter().flat_map(|(rows, _)| rows).collect();
            match self.record_together(&all).await {
                Ok(()) => {
                    for (_, answer) in group {
                        let _ = answer.send(Ok(()));
                    }
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, sends = group.len(), "recording several sends failed; recording each on its own");
                }
            }
        }
        for (rows, answer) in group {
            let _ = answer.send(self.record_all(rows).await);
        }
    }

    /// Records finished rows in one transaction. If that fails, each row is tried on its own,
    /// so one bad row cannot leave the others unrecorded (and sent again after their lease).
    async fn record_all(&self, finished: Vec<Finished>) -> Result<(), OutboxError> {
        let all: Vec<&Finished> = finished.iter().collect();
        match self.record_together(&all).await {
            Ok(()) => Ok(()),
            Err(e) if finished.len() > 1 => {
                tracing::warn!(error = %e, "recording a batch failed; recording row by row");
                let mut first_error = None;
                for done in finished {
                    if let Err(e) = self.record_together(&[&done]).await {
                        first_error.get_or_insert(e);
                    }
                }
                first_error.map_or(Ok(()), Err)
            }
            Err(e) => Err(e),
        }
    }

    /// Records finished rows in one transaction, then wakes what they queued.
    async fn record_together(&self, finished: &[&Finished]) -> Result<(), OutboxError> {
        let started = Instant::now();
        let mut tx = self.hub.store().begin().await?;
        let connected = started.elapsed();
        let sent: Vec<(i64, Option<&str>)> = finished
            .iter()
            .filter_map(|(item, _, outcome)| match outcome {
                Outcome::Delivered(delivered) => Some((item.id, delivered.external_ref.as_deref())),
                _ => None,
            })
            .collect();
        let now = self.hub.clock().now_ms();
        // Every confirmed send in one statement; what follows from each is written below.
        let marked = tx.mark_delivered_many(&sent, &self.owner, now).await?;
        let mut woken = Vec::new();
        let mut linked = false;
        let mut changed = Vec::new();
        for (item, delivery, outcome) in finished.iter().copied() {
            let recorded = self
                .record(&mut tx, item, delivery.as_ref(), outcome, &marked, now)
                .await?;
            woken.extend(recorded.woken);
            linked |= recorded.linked;
            changed.extend(recorded.changed);
        }
        tx.announce_changes(changed.iter().copied());
        let written = started.elapsed();
        tx.commit().await?;
        let committed = started.elapsed();
        count_outcomes(self.adapter.platform(), finished);
        self.hub.wakers().wake(woken);
        self.hub.feed().announce(changed);
        if linked {
            // Posts an agent wrote in a thread before it was linked go in now.
            self.sweep_held().await;
        }
        if started.elapsed() > SLOW_RECORDING {
            tracing::warn!(
                rows = finished.len(),
                connect_ms = millis(connected),
                write_ms = millis(written.saturating_sub(connected)),
                commit_ms = millis(committed.saturating_sub(written)),
                held_posts_ms = millis(started.elapsed().saturating_sub(committed)),
                "recording outcomes was slow"
            );
        }
        Ok(())
    }

    /// Writes one outcome, and what follows from it, into `tx`, at `now` (the time its
    /// confirmation was marked). A confirmed send is already marked: `marked` holds the rows
    /// whose lease still held.
    async fn record(
        &self,
        tx: &mut relaydesk_storage::Tx,
        item: &OutboxItem,
        delivery: Option<&Delivery>,
        outcome: &Outcome,
        marked: &HashSet<i64>,
        now: i64,
    ) -> Result<Recorded, OutboxError> {
        let mut linked = false;
        let platform = self.adapter.platform();
        let mut follow_ups: Vec<(String, Platform, Delivery)> = Vec::new();
        let ticket_id = item.ticket_id.unwrap_or_default();
        let owned = match outcome {
            Outcome::Delivered(delivered) => {
                let owned = marked.contains(&item.id);
                if owned {
                    let mut card_ref = delivered.card_ref.as_deref();
                    match (delivery, delivered.external_ref.as_deref()) {
                        (Some(Delivery::OpenThread), Some(thread)) => {
                            let live = tx.bind_thread(ticket_id, platform, thread, now).await?;
                            if live == thread {
                                linked = true;
                            } else {
                                // Opened twice (a lease lost mid-send): the ticket keeps its
                                // thread, the second one is closed with a pointer to it.
                                tracing::warn!(ticket = ticket_id, %thread, %live, "a second thread was opened; closing it");
                                card_ref = None;
                                follow_ups.push((
                                    Delivery::staff_lane(ticket_id, platform),
                                    platform,
                                    Delivery::RetireThread {
                                        thread: thread.to_string(),
                                    },
                                ));
                            }
                        }
                        (Some(Delivery::CustomerMessage { message_id }), _) => {
                            let message = tx.message(*message_id).await?;
                            let staff = self
                                .hub
                                .config()
                                .staff_platforms
                                .contains(&message.platform);
                            if staff && message.external_id.is_some() {
                                follow_ups.push((
                                    Delivery::marks_lane(ticket_id, message.platform),
                                    message.platform,
                                    Delivery::ConfirmDelivered {
                                        message_id: *message_id,
                                    },
                                ));
                            }
                        }
                        _ => {}
                    }
                    if let (Some(card), Some(ticket)) = (card_ref, item.ticket_id) {
                        tx.set_thread_card(ticket, platform, card, delivered.card_tail.as_deref())
                            .await?;
                    }
                }
                owned
            }
            Outcome::Retry(wait, why, counts) => {
                let at =
                    now.saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2));
                tracing::debug!(id = item.id, %platform, ?wait, error = %why, "delivery postponed");
                tx.reschedule(item.id, &self.owner, at, why, *counts)
                    .await?
            }
            Outcome::Failed(why) => {
                tracing::warn!(id = item.id, %platform, error = %why, "delivery failed for good");
                let owned = tx.mark_failed(item.id, &self.owner, why, now).await?;
                if owned
                    && matches!(
                        delivery,
                        Some(Delivery::CustomerMessage { .. } | Delivery::CustomerNotice { .. })
                    )
                {
                    for &staff in &self.hub.config().staff_platforms {
                        follow_ups.push((
                            Delivery::staff_lane(ticket_id, staff),
                            staff,
                            Delivery::StaffNotice {
                                text: format!(
                                    "⚠️ This could not be delivered to the customer: {why}"
                                ),
                            },
                        ));
                    }
                }
                owned
            }
        };
        if !owned {
            tracing::warn!(
                id = item.id,
                "lease lost before the outcome was recorded; another worker has the row"
            );
        }
        for (lane, target, follow_up) in &follow_ups {
            tx.enqueue(
                item.ticket_id,
                lane,
                *target,
                &serde_json::to_string(follow_up)?,
                now,
            )
            .await?;
        }
        let reply_settled = owned
            && matches!(delivery, Some(Delivery::CustomerMessage { .. }))
            && !matches!(outcome, Outcome::Retry(..));
        Ok(Recorded {
            woken: follow_ups.into_iter().map(|(_, p, _)| p).collect(),
            linked,
            changed: item.ticket_id.filter(|_| reply_settled),
        })
    }
}

/// Whole milliseconds, for logs.
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// What recording one outcome led to.
struct Recorded {
    /// Platforms that got new rows.
    woken: Vec<Platform>,
    /// A ticket was linked to its new thread.
    linked: bool,
    /// A ticket whose view changed: a reply to its customer was sent or failed for good
    /// (the console shows each reply's delivery state).
    changed: Option<i64>,
}

/// The result of a joined send task. A panicked task recorded nothing: its rows are tried
/// again after their lease.
fn collect(
    joined: Result<Result<(), OutboxError>, tokio::task::JoinError>,
) -> Result<(), OutboxError> {
    match joined {
        Ok(recorded) => recorded,
        Err(e) => {
            tracing::error!(error = %e, "delivery task panicked");
            Ok(())
        }
    }
}

/// The results of every send task that has finished by now.
fn finished_now(in_flight: &mut InFlight) -> Vec<Result<(), OutboxError>> {
    let mut done = Vec::new();
    while let Some(joined) = in_flight.try_join_next() {
        done.push(collect(joined));
    }
    done
}

/// Logs (does not return) failures to record outcomes: unrecorded rows are tried again after
/// their lease.
fn log_failures(platform: Platform, results: Vec<Result<(), OutboxError>>) {
    for e in results.into_iter().filter_map(Result::err) {
        tracing::error!(%platform, error = %e, "recording outcomes failed");
    }
}

/// Counts recorded outcomes: `relaydesk_deliveries_total{platform, outcome}` with outcome
/// `delivered`, `retry`, `rate_limited` (a retry the platform asked for) or `failed`.
fn count_outcomes(platform: Platform, finished: &[&Finished]) {
    for (_, _, outcome) in finished.iter().copied() {
        let outcome = match outcome {
            Outcome::Delivered(_) => "delivered",
            Outcome::Retry(_, _, true) => "retry",
            Outcome::Retry(_, _, false) => "rate_limited",
            Outcome::Failed(_) => "failed",
        };
        metrics::counter!(
            "relaydesk_deliveries_total",
            "platform" => platform.as_str(),
            "outcome" => outcome
        )
        .increment(1);
    }
}
