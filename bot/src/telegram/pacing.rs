//! Staying inside Telegram's send limits before Telegram has to say 429: about 30 messages a
//! second overall and about 20 a minute into one group.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The limits to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pacing {
    /// Messages a second, all chats together.
    pub per_second: u32,
    /// Messages a minute into one group or supergroup.
    pub per_group_minute: u32,
}

impl Default for Pacing {
    fn default() -> Self {
        Self {
            per_second: 30,
            per_group_minute: 20,
        }
    }
}

const MINUTE: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
struct Sent {
    last: Option<Instant>,
    /// Send times into each group within the last minute, oldest first.
    groups: HashMap<i64, VecDeque<Instant>>,
}

#[derive(Debug)]
pub struct Pacer {
    gap: Duration,
    per_group: usize,
    sent: Mutex<Sent>,
}

impl Pacer {
    pub fn new(pacing: Pacing) -> Self {
        Self {
            gap: Duration::from_secs(1) / pacing.per_second.max(1),
            per_group: usize::try_from(pacing.per_group_minute.max(1)).unwrap_or(usize::MAX),
            sent: Mutex::new(Sent::default()),
        }
    }

    /// Takes a send slot for `chat` at `now`, or tells how long until there is one.
    /// Group chats have negative ids.
    pub fn claim_at(&self, chat: i64, now: Instant) -> Result<(), Duration> {
        let mut sent = match self.sent.lock() {
            Ok(sent) => sent,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(last) = sent.last {
            let free_at = last + self.gap;
            if free_at > now {
                return Err(free_at - now);
            }
        }
        if chat < 0 {
            let window = sent.groups.entry(chat).or_default();
            while window
                .front()
                .is_some_and(|t| now.duration_since(*t) >= MINUTE)
            {
                window.pop_front();
            }
            if window.len() >= self.per_group {
                let oldest = window.front().copied().unwrap_or(now);
                return Err((oldest + MINUTE).saturating_duration_since(now));
            }
            window.push_back(now);
        }
        sent.last = Some(now);
        Ok(())
    }

    pub fn claim(&self, chat: i64) -> Result<(), Duration> {
        self.claim_at(chat, Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_all_sends_and_caps_each_group_per_minute() {
        let pacer = Pacer::new(Pacing {
            per_second: 10,
            per_group_minute: 3,
        });
        let t0 = Instant::now();
        assert!(pacer.claim_at(1, t0).is_ok());
        // 100 ms between any two sends.
        assert_eq!(
            pacer.claim_at(2, t0 + Duration::from_millis(40)),
            Err(Duration::from_millis(60))
        );
        let mut t = t0;
        for _ in 0..3 {
            t += Duration::from_millis(100);
            assert!(pacer.claim_at(-5, t).is_ok());
        }
        t += Duration::from_millis(100);
        // The group had three in this minute: wait until the first of them is a minute old.
        let wait = pacer.claim_at(-5, t).expect_err("group is full");
        assert_eq!(wait, Duration::from_secs(60) - Duration::from_millis(300));
        // Other chats are not held up by it.
        assert!(pacer.claim_at(-6, t).is_ok());
        assert!(pacer.claim_at(7, t + Duration::from_millis(100)).is_ok());
        assert!(pacer
            .claim_at(-5, t0 + Duration::from_millis(100) + MINUTE)
            .is_ok());
    }
}
