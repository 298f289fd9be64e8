use relaydesk_desk::DeskError;
use relaydesk_storage::StorageError;
use thiserror::Error;

/// Why the hub refused or failed a request: a refusal meant for the person who asked (the
/// edges show it as it is), or an internal failure (logged, retried, shown vaguely).
#[derive(Debug, Error)]
pub enum HubError {
    #[error(transparent)]
    Refused(#[from] DeskError),
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    #[error("could not encode an outbox payload: {0}")]
    Encode(#[from] serde_json::Error),
    /// The task storing a group of messages stopped before answering: nothing of the group
    /// is known to be stored, so the platform update is tried again.
    #[error("storing the message was interrupted")]
    Interrupted,
}

impl HubError {
    pub fn forbidden(message: impl Into<String>) -> Self {
        HubError::Refused(DeskError::Forbidden(message.into()))
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        HubError::Refused(DeskError::Invalid(message.into()))
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        HubError::Refused(DeskError::NotFound(message.into()))
    }

    /// The ticket's state does not allow it.
    pub fn conflict(message: impl Into<String>) -> Self {
        HubError::Refused(DeskError::Conflict(message.into()))
    }

    /// A failure inside, not the asker's fault: the platform update must be tried again.
    pub fn is_internal(&self) -> bool {
        !matches!(self, HubError::Refused(_))
    }

    /// Text to show to the user who caused it; internal failures stay vague.
    pub fn user_message(&self) -> String {
        match self {
            HubError::Refused(refused) => refused.chat_text(),
            _ => "Something went wrong on our side; please try again.".to_string(),
        }
    }
}

impl From<HubError> for DeskError {
    fn from(error: HubError) -> Self {
        match error {
            HubError::Refused(refused) => refused,
            internal => {
                tracing::error!(error = %internal, "a request failed in the hub");
                DeskError::Internal(internal.to_string())
            }
        }
    }
}
