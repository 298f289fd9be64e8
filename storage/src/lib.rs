//! The shared ticket store of Relaydesk.
//!
//! [`Store`] opens SQLite (the embedded default) or PostgreSQL from a URL, runs the matching
//! migrations and hands out transactions ([`Tx`]). Everything that must happen atomically —
//! dedupe, find-or-open a ticket, append a message, enqueue outbox rows — is done through one
//! [`Tx`]. The domain types in [`model`] know nothing about SQL or about any chat platform.

pub mod clock;
mod error;
mod events;
mod feed;
pub mod model;
mod notify;
pub mod sla;
mod store;
mod tx;

pub use clock::{Clock, FakeClock, SystemClock};
pub use error::StorageError;
pub use events::Subscription;
pub use feed::{ChangeFeed, TicketWatch};
pub use model::*;
pub use notify::{ChangeListener, Heard, ANNOUNCER_NAME};
pub use store::{redact as redact_url, Backend, ServeLock, Store, StoreOptions};
pub use tx::{active_tickets_sql, known_customers_sql, search_problem, ACTIVITY_STEP_MS};
pub use tx::{
    BackfillCursor, BadCursor, Cursor, CustomerIdentity, CustomerProfile, SlaFilter, StatusFilter,
    Team, TicketFilter, TicketPage, TicketRow, TicketSort, Tx, MAX_PAGE, MAX_SEARCH_CHARS,
    MAX_SEARCH_WORDS,
};
pub use tx::{
    Backlog, DeliveryContext, Figures, Gauges, HeldPost, MemberLoad, Pace, Period, ReportGroup,
    ReportRow, Spread, WebhookOutcome, WidgetFile, UNATTACHED_FILE_MS,
};
pub use tx::{KnownIdentity, NewOutboxRow, NewPrompt, PromptKind, WidgetPrompt};

/// Result type of every storage operation.
pub type Result<T, E = StorageError> = std::result::Result<T, E>;
