use std::time::Duration;

use rand::Rng;

/// When to try a failed send again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub base: Duration,
    pub max_delay: Duration,
    /// After this many attempts a temporary failure becomes final. Rate limiting never does.
    pub max_attempts: i64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(1),
            max_delay: Duration::from_secs(600),
            max_attempts: 12,
        }
    }
}

impl RetryPolicy {
    /// Exponential backoff with jitter: after attempt `n` wait a random time between half and
    /// all of `base * 2^(n-1)`, capped at `max_delay`.
    pub fn delay(&self, attempts: i64, rng: &mut impl Rng) -> Duration {
        let exponent = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        let full = self
            .base
            .saturating_mul(2u32.saturating_pow(exponent))
            .min(self.max_delay);
        let ms = u64::try_from(full.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rng.random_range(ms / 2..=ms.max(1)))
    }

    /// What the platform asked for, never less than a short pause.
    pub fn retry_after(&self, asked: Duration) -> Duration {
        asked.max(Duration::from_millis(50))
    }

    pub fn gives_up_after(&self, attempts: i64) -> bool {
        attempts >= self.max_attempts
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn delays_grow_exponentially_within_jitter_and_cap() {
        let policy = RetryPolicy::default();
        let mut rng = StdRng::seed_from_u64(7);
        for attempts in 1..=20 {
            let full = Duration::from_secs(1u64 << (attempts - 1).min(20)).min(policy.max_delay);
            for _ in 0..50 {
                let d = policy.delay(attempts, &mut rng);
                assert!(
                    d <= full && d >= full / 2,
                    "attempt {attempts}: {d:?} vs {full:?}"
                );
            }
        }
    }

    #[test]
    fn jitter_spreads_retries() {
        let policy = RetryPolicy::default();
        let mut rng = StdRng::seed_from_u64(1);
        let delays: std::collections::HashSet<_> =
            (0..20).map(|_| policy.delay(5, &mut rng)).collect();
        assert!(delays.len() > 10);
    }

    #[test]
    fn retry_after_is_honoured_and_attempts_are_bounded() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.retry_after(Duration::from_secs(3)),
            Duration::from_secs(3)
        );
        assert_eq!(
            policy.retry_after(Duration::ZERO),
            Duration::from_millis(50)
        );
        assert!(!policy.gives_up_after(11));
        assert!(policy.gives_up_after(12));
    }
}
