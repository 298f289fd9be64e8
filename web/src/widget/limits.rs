//! Per-session and per-IP rate limits of the widget (token buckets, refilled per minute).

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::WebConfig;

pub(crate) struct Limits {
    session: DefaultKeyedRateLimiter<String>,
    ip: DefaultKeyedRateLimiter<IpAddr>,
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
}

impl Limits {
    pub(crate) fn new(config: &WebConfig) -> Self {
        Self {
            session: RateLimiter::keyed(per_minute(config.session_messages_per_minute)),
            ip: RateLimiter::keyed(per_minute(config.ip_requests_per_minute)),
        }
    }

    /// Takes one request of `ip`'s budget; false when it is spent.
    pub(crate) fn ip(&self, ip: IpAddr) -> bool {
        let allowed = self.ip.check_key(&ip).is_ok();
        if self.ip.len() > 100_000 {
            self.ip.retain_recent();
        }
        allowed
    }

    /// Takes one message of a session's budget (and of its IP's); false when either is spent.
    pub(crate) fn message(&self, conversation: &str, ip: IpAddr) -> bool {
        let allowed = self.session.check_key(&conversation.to_string()).is_ok() && self.ip(ip);
        if self.session.len() > 100_000 {
            self.session.retain_recent();
        }
        allowed
    }
}
