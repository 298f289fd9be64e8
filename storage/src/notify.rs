//! Instances sharing one PostgreSQL database tell each other about new outbox rows with
//! `LISTEN`/`NOTIFY`: a transaction that queued rows notifies on commit (see [`crate::Tx`]),
//! and every instance's listener wakes its own workers for that platform.

use sqlx::postgres::PgListener;

use crate::{Platform, Result};

/// The channel the notifications travel on; the payload is the platform name.
pub(crate) const OUTBOX_CHANNEL: &str = "relaydesk_outbox";

/// Hears outbox notifications from every instance.
pub struct OutboxListener {
    inner: PgListener,
}

impl std::fmt::Debug for OutboxListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxListener").finish_non_exhaustive()
    }
}

impl OutboxListener {
    pub(crate) async fn connect(url: &str) -> Result<Self> {
        let mut inner = PgListener::connect(url).await?;
        inner.listen(OUTBOX_CHANNEL).await?;
        Ok(Self { inner })
    }

    /// Waits for the next notification and returns the platform that has new rows. Reconnects
    /// by itself after a lost connection (notifications sent meanwhile are missed; workers also
    /// poll, so rows are still delivered).
    pub async fn recv(&mut self) -> Result<Option<Platform>> {
        let notification = self.inner.recv().await?;
        Ok(notification.payload().parse().ok())
    }
}
