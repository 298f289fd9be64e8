//! Whether each channel is connected to its platform, as the channels report it: shown by
//! `/readyz` so an operator sees which one is down and why.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;

/// One channel's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ChannelState {
    /// Started, not yet through to its platform.
    Connecting,
    Connected,
    /// Not connected, and why (retried meanwhile where that can help).
    NotConnected {
        reason: String,
    },
}

/// Every channel's state, shared by the channels (which set theirs) and the web server.
#[derive(Debug, Clone, Default)]
pub struct ChannelHealth {
    states: Arc<Mutex<BTreeMap<String, ChannelState>>>,
}

impl ChannelHealth {
    pub fn set(&self, channel: &str, state: ChannelState) {
        let mut states = self.states.lock().unwrap_or_else(PoisonError::into_inner);
        if states.get(channel) != Some(&state) {
            match &state {
                ChannelState::NotConnected { reason } => {
                    tracing::warn!(channel, %reason, "channel not connected")
                }
                ChannelState::Connected => tracing::info!(channel, "channel connected"),
                ChannelState::Connecting => {}
            }
        }
        states.insert(channel.to_string(), state);
    }

    /// Every channel and its state, by name.
    pub fn snapshot(&self) -> BTreeMap<String, ChannelState> {
        self.states
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The channels that are not connected.
    pub fn down(&self) -> Vec<String> {
        self.snapshot()
            .into_iter()
            .filter(|(_, s)| matches!(s, ChannelState::NotConnected { .. }))
            .map(|(name, _)| name)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_kept_per_channel_and_the_down_ones_named() {
        let health = ChannelHealth::default();
        health.set("telegram", ChannelState::Connecting);
        health.set("discord", ChannelState::Connected);
        assert!(health.down().is_empty());
        health.set(
            "telegram",
            ChannelState::NotConnected {
                reason: "token refused".into(),
            },
        );
        assert_eq!(health.down(), vec!["telegram"]);
        let json = serde_json::to_value(health.snapshot()).expect("json");
        assert_eq!(json["telegram"]["state"], "not_connected");
        assert_eq!(json["telegram"]["reason"], "token refused");
        assert_eq!(json["discord"]["state"], "connected");
    }
}
