//! Staff posts written in a thread before the store knew it: a platform creates a topic the
//! moment it answers, and an agent may write there before the link to its ticket commits. Such
//! a post is kept (never dropped) and ingested as soon as the link is there.

use std::time::Duration;

use relaydesk_storage::{HeldPost, Platform, Tx};
use tracing::Instrument;

use super::{Hub, HubError, Ingested, StaffInput, StaffMessage, StaffOutcome};

/// How long a post waits for its thread to become a ticket's. A ticket's thread is linked
/// within moments of its creation; a thread unknown after this is not a ticket's.
pub const HOLD_FOR: Duration = Duration::from_secs(10 * 60);

/// Held posts handled in one go.
const BATCH: i64 = 100;

impl Hub {
    /// Keeps a post from a thread the store does not know, if it is a reply or a note with a
    /// platform id; commands are answered at once as outside a ticket thread.
    pub(super) async fn hold(
        &self,
        mut tx: Tx,
        message: &StaffMessage,
        input: &StaffInput,
        now: i64,
    ) -> Result<Ingested, HubError> {
        let (StaffInput::Reply(_) | StaffInput::Note(_), Some(external_id)) =
            (input, message.external_message_id.as_deref())
        else {
            return Ok(Ingested::Staff(StaffOutcome::NotATicketThread));
        };
        let payload = serde_json::to_string(message)?;
        tx.hold_staff_post(
            message.platform,
            &message.thread_ref,
            external_id,
            &payload,
            now,
        )
        .await?;
        tx.commit().await?;
        tracing::debug!(
            platform = %message.platform,
            thread = %message.thread_ref,
            "post held until its thread is linked"
        );
        Ok(Ingested::Staff(StaffOutcome::Held))
    }

    /// Ingests the held posts whose thread is linked by now, and lets go of those that waited
    /// longer than [`HOLD_FOR`] (their thread is no ticket's, as before a post was held).
    /// Returns how many were ingested.
    pub async fn release_held(&self, platform: Platform) -> Result<usize, HubError> {
        let now = self.clock.now_ms();
        let mut tx = self.store.begin().await?;
        let ready = tx.held_posts_ready(platform, BATCH).await?;
        let hold_ms = i64::try_from(HOLD_FOR.as_millis()).unwrap_or(i64::MAX);
        let expired = tx
            .held_posts_expired(platform, now.saturating_sub(hold_ms), BATCH)
            .await?;
        for post in &expired {
            tx.release_held_post(post.id).await?;
            tracing::info!(%platform, thread = %post.thread_ref, "a post in a thread that is no ticket's was not relayed");
        }
        tx.commit().await?;
        let mut ingested = 0;
        for post in ready {
            ingested += usize::from(self.ingest_held(post).await?);
        }
        Ok(ingested)
    }

    /// Ingests the posts held for `thread_ref`, oldest first, before a newer post of that
    /// thread is ingested: the thread's posts keep the order they were written in.
    pub(super) async fn release_thread(
        &self,
        platform: Platform,
        thread_ref: &str,
    ) -> Result<(), HubError> {
        let mut tx = self.store.begin().await?;
        let held = tx.held_posts_of_thread(platform, thread_ref).await?;
        tx.rollback().await?;
        for post in held {
            self.ingest_held(post).await?;
        }
        Ok(())
    }

    /// Ingests one held post (once, whoever else tries). Returns whether it was ingested
    /// here; a post that is refused for good, or cannot be read, is let go.
    async fn ingest_held(&self, post: HeldPost) -> Result<bool, HubError> {
        let message: StaffMessage = match serde_json::from_str(&post.payload) {
            Ok(message) => message,
            Err(e) => {
                tracing::error!(id = post.id, error = %e, "a held post cannot be read; dropped");
                self.let_go(post.id).await?;
                return Ok(false);
            }
        };
        let span =
            super::ingest::inbound_span(message.platform, message.external_message_id.as_deref());
        let ingested = Box::pin(self.ingest_staff(message, Some(post.id)))
            .instrument(span.clone())
            .await;
        if let Ok(ingested) = &ingested {
            span.in_scope(|| super::ingest::log_ingested(ingested));
        }
        match ingested {
            Ok(Ingested::Duplicate) => Ok(false),
            Ok(_) => Ok(true),
            Err(e @ (HubError::Storage(_) | HubError::Encode(_))) => Err(e),
            Err(e) => {
                // The post itself is refused (too large, …): nothing to keep it for.
                tracing::warn!(id = post.id, error = %e, "a held post was refused");
                self.let_go(post.id).await?;
                Ok(false)
            }
        }
    }

    async fn let_go(&self, id: i64) -> Result<(), HubError> {
        let mut tx = self.store.begin().await?;
        tx.release_held_post(id).await?;
        tx.commit().await?;
        Ok(())
    }
}
