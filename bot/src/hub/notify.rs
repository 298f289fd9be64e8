use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use relaydesk_storage::Platform;
use tokio::sync::Notify;

/// One wake-up signal per platform, so a commit that queued Telegram sends wakes the Telegram
/// worker only. A wake-up sent while nobody waits is kept until the next wait.
#[derive(Debug, Clone, Default)]
pub struct Wakers {
    inner: Arc<Mutex<HashMap<Platform, Arc<Notify>>>>,
}

impl Wakers {
    pub fn for_platform(&self, platform: Platform) -> Arc<Notify> {
        let mut map = match self.inner.lock() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.entry(platform).or_default().clone()
    }

    pub fn wake(&self, platforms: impl IntoIterator<Item = Platform>) {
        for platform in platforms {
            self.for_platform(platform).notify_one();
        }
    }
}
