//! Bot API failures → what the outbox should do about them.

use teloxide::{ApiError, RequestError};

use crate::hub::DeliveryError;

/// 429 → wait as asked; blocked, chat gone and other 4xx → give up; 5xx and network → retry.
pub fn delivery_error(error: RequestError) -> DeliveryError {
    match error {
        RequestError::RetryAfter(wait) => DeliveryError::RetryAfter(wait.duration()),
        RequestError::MigrateToChatId(id) => {
            DeliveryError::Permanent(format!("the chat moved to supergroup {id}"))
        }
        RequestError::Network(e) => DeliveryError::Transient(format!("network: {e}")),
        RequestError::Io(e) => DeliveryError::Transient(format!("I/O: {e}")),
        RequestError::InvalidJson { raw, .. } => DeliveryError::Transient(format!(
            "unreadable Bot API answer: {}",
            crate::hub::text::truncate_chars(&raw, 200)
        )),
        RequestError::Api(api) => api_error(api),
    }
}

fn api_error(api: ApiError) -> DeliveryError {
    match api {
        ApiError::Unknown(description) => {
            // Telegram's descriptions start with the HTTP reason of the error code.
            let permanent = ["Bad Request", "Forbidden", "Unauthorized", "Not Found"]
                .iter()
                .any(|p| description.starts_with(p));
            if permanent {
                DeliveryError::Permanent(description)
            } else {
                DeliveryError::Transient(description)
            }
        }
        ApiError::TerminatedByOtherGetUpdates => DeliveryError::Transient(api.to_string()),
        // Every other known error is a 400/403 (bot blocked, chat not found, …).
        known => DeliveryError::Permanent(known.to_string()),
    }
}

/// Whether a failure of `getUpdates`/`getMe` means the configuration is wrong (bad token).
pub fn is_fatal(error: &RequestError) -> bool {
    match error {
        RequestError::Api(ApiError::InvalidToken) => true,
        RequestError::Api(ApiError::Unknown(d)) => d.starts_with("Unauthorized"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use teloxide::types::Seconds;

    use super::*;

    #[test]
    fn rate_limits_blocks_and_server_errors_map() {
        assert_eq!(
            delivery_error(RequestError::RetryAfter(Seconds::from_seconds(3))),
            DeliveryError::RetryAfter(Duration::from_secs(3))
        );
        assert!(matches!(
            delivery_error(RequestError::Api(ApiError::BotBlocked)),
            DeliveryError::Permanent(_)
        ));
        assert!(matches!(
            delivery_error(RequestError::Api(ApiError::ChatNotFound)),
            DeliveryError::Permanent(_)
        ));
        assert!(matches!(
            delivery_error(RequestError::Api(ApiError::Unknown(
                "Bad Request: message text is empty".into()
            ))),
            DeliveryError::Permanent(_)
        ));
        assert!(matches!(
            delivery_error(RequestError::Api(ApiError::Unknown(
                "Internal Server Error".into()
            ))),
            DeliveryError::Transient(_)
        ));
    }
}
