use relaydesk_storage::StorageError;
use thiserror::Error;

/// Why the hub refused or failed a request. The `Display` text of the first four is meant for
/// the person who asked (short, no internals).
#[derive(Debug, Error)]
pub enum HubError {
    /// The actor may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The request does not make sense (bad arguments, wrong ticket state).
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("message too large: {size} bytes, the limit is {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    #[error("could not encode an outbox payload: {0}")]
    Encode(#[from] serde_json::Error),
}

impl HubError {
    /// Text to show to the user who caused it; internal failures stay vague.
    pub fn user_message(&self) -> String {
        match self {
            HubError::Storage(_) | HubError::Encode(_) => {
                "Something went wrong on our side; please try again.".to_string()
            }
            other => other.to_string(),
        }
    }
}
