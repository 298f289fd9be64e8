//! Per-session and per-IP rate limits of the widget: messages (token buckets refilled per
//! minute) and uploaded bytes (refilled over an hour).

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::WebConfig;

pub(crate) struct Limits {
    session: DefaultKeyedRateLimiter<String>,
    ip: DefaultKeyedRateLimiter<IpAddr>,
    /// Upload budgets in KiB, refilled over an hour.
    session_kib: DefaultKeyedRateLimiter<String>,
    ip_kib: DefaultKeyedRateLimiter<IpAddr>,
}

/// `mb` MB an hour as a bucket of KiB that holds the whole hour's budget.
fn kib_per_hour(mb: u32) -> Quota {
    let kib = NonZeroU32::new(mb.saturating_mul(1024)).unwrap_or(NonZeroU32::MIN);
    let every = std::time::Duration::from_secs(3600) / kib.get();
    Quota::with_period(every.max(std::time::Duration::from_nanos(1)))
        .unwrap_or_else(|| Quota::per_second(kib))
        .allow_burst(kib)
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
}

impl Limits {
    pub(crate) fn new(config: &WebConfig) -> Self {
        Self {
            session: RateLimiter::keyed(per_minute(config.session_messages_per_minute)),
            ip: RateLimiter::keyed(per_minute(config.ip_requests_per_minute)),
            session_kib: RateLimiter::keyed(kib_per_hour(config.session_upload_mb_per_hour)),
            ip_kib: RateLimiter::keyed(kib_per_hour(config.ip_upload_mb_per_hour)),
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

    /// Takes `bytes` of the session's and the address's upload budgets; false when either
    /// has not that much left (nothing is taken then from the session's).
    pub(crate) fn upload(&self, conversation: &str, ip: IpAddr, bytes: usize) -> bool {
        let kib = u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX);
        let Some(kib) = NonZeroU32::new(kib) else {
            return true;
        };
        let session = matches!(
            self.session_kib.check_key_n(&conversation.to_string(), kib),
            Ok(Ok(()))
        );
        let allowed = session && matches!(self.ip_kib.check_key_n(&ip, kib), Ok(Ok(())));
        if self.session_kib.len() > 100_000 {
            self.session_kib.retain_recent();
        }
        if self.ip_kib.len() > 100_000 {
            self.ip_kib.retain_recent();
        }
        allowed
    }
}
