//! Staying inside Telegram's send limits before Telegram has to say 429: about 30 messages a
//! second overall, about 20 a minute into one group, and a pace for creating forum topics.
//! The limits are kept in the store ([`relaydesk_storage::Pace`]), so restarts and every
//! instance sharing the database respect them together.

use relaydesk_storage::Pace;

/// The limits to keep; 0 turns a limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pacing {
    /// Messages a second, all chats together.
    pub per_second: u32,
    /// Messages a minute into one group or supergroup.
    pub per_group_minute: u32,
    /// Forum topics created a minute in one group (each also counts as a group message).
    pub topics_per_minute: u32,
}

impl Default for Pacing {
    fn default() -> Self {
        Self {
            per_second: 30,
            per_group_minute: 20,
            topics_per_minute: 20,
        }
    }
}

/// Spacing between two sends for `count` sends per `period_ms`, rounded up; 0 when off.
fn gap(count: u32, period_ms: i64) -> i64 {
    if count == 0 {
        return 0;
    }
    let count = i64::from(count);
    (period_ms + count - 1) / count
}

impl Pacing {
    /// The paces of `cost` messages into `chat` (group chats have negative ids), creating a
    /// topic there when `topic` is set.
    pub fn paces(&self, chat: i64, cost: i64, topic: bool) -> Vec<Pace> {
        let mut paces = vec![Pace {
            key: "telegram:all".into(),
            gap_ms: gap(self.per_second, 1_000),
            cost,
        }];
        if chat < 0 {
            paces.push(Pace {
                key: format!("telegram:group:{chat}"),
                gap_ms: gap(self.per_group_minute, 60_000),
                cost,
            });
        }
        if topic {
            paces.push(Pace {
                key: format!("telegram:topics:{chat}"),
                gap_ms: gap(self.topics_per_minute, 60_000),
                cost: 1,
            });
        }
        paces.retain(|p| p.gap_ms > 0);
        paces
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_get_a_minute_pace_private_chats_only_the_overall_one() {
        let pacing = Pacing::default();
        let private = pacing.paces(42, 1, false);
        assert_eq!(private.len(), 1);
        assert_eq!(private[0].gap_ms, 34, "30 a second, rounded up");
        let group = pacing.paces(-100, 2, true);
        let keys: Vec<&str> = group.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "telegram:all",
                "telegram:group:-100",
                "telegram:topics:-100"
            ]
        );
        assert_eq!(group[1].gap_ms, 3_000, "20 a minute");
        assert_eq!(group[1].cost, 2);
        let off = Pacing {
            per_second: 0,
            per_group_minute: 0,
            topics_per_minute: 0,
        };
        assert!(off.paces(-100, 1, true).is_empty());
    }
}
