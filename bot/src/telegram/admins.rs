//! Who administers the staff supergroup: they are Relaydesk admins. Asked from Telegram
//! (`getChatAdministrators`) and kept for a short while.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use relaydesk_storage::Role;
use teloxide::requests::{Request, Requester};
use teloxide::types::ChatId;
use teloxide::Bot;
use tokio::sync::Mutex;

/// How long a list of administrators is trusted.
const FRESH_FOR: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub struct Admins {
    chat: ChatId,
    cached: Mutex<Option<(Instant, HashSet<u64>)>>,
}

impl Admins {
    pub fn new(staff_chat_id: i64) -> Self {
        Self {
            chat: ChatId(staff_chat_id),
            cached: Mutex::new(None),
        }
    }

    /// `Admin` for administrators of the staff chat, `Agent` for everyone else posting there.
    /// When Telegram cannot be asked, the last known list is used, else `Agent` (never more
    /// rights than known).
    pub async fn role(&self, bot: &Bot, user_id: u64) -> Role {
        let mut cached = self.cached.lock().await;
        let stale = cached
            .as_ref()
            .is_none_or(|(at, _)| at.elapsed() > FRESH_FOR);
        if stale {
            match bot.get_chat_administrators(self.chat).send().await {
                Ok(members) => {
                    let ids = members.iter().map(|m| m.user.id.0).collect();
                    *cached = Some((Instant::now(), ids));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not read the staff chat's administrators")
                }
            }
        }
        match cached.as_ref() {
            Some((_, ids)) if ids.contains(&user_id) => Role::Admin,
            _ => Role::Agent,
        }
    }
}
