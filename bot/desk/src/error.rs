//! [`DeskError`]: why a request to the desk was refused or failed, the one error every edge
//! shows. The web maps it to HTTP statuses once; the chat adapters post [`DeskError::chat_text`].

/// Why the desk refused or failed. The text of all but `Internal` is meant for the person who
/// asked: short, no internals.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeskError {
    /// The actor may not do this (e.g. `/merge` by a non-admin). HTTP 403.
    #[error("{0}")]
    Forbidden(String),
    /// No such ticket, agent or customer. HTTP 404.
    #[error("{0}")]
    NotFound(String),
    /// The input makes no sense (unknown command, missing or bad argument). HTTP 422.
    #[error("{0}")]
    Invalid(String),
    /// The ticket's state does not allow it (closing a closed ticket, replying to a merged
    /// one). HTTP 409.
    #[error("{0}")]
    Conflict(String),
    /// HTTP 413.
    #[error("message too large: {size} bytes, the limit is {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    /// Something broke inside; logged where it happened, never shown in detail. HTTP 500.
    #[error("internal error: {0}")]
    Internal(String),
}

impl DeskError {
    /// What a chat adapter answers: the reason, or a vague apology for internal failures.
    pub fn chat_text(&self) -> String {
        match self {
            DeskError::Internal(_) => "Something went wrong on our side; please try again.".into(),
            other => other.to_string(),
        }
    }
}
