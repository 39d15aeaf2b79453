//! How retries are spaced and bounded (docs/protocol.md §4): exponential backoff with jitter, a cap
//! on attempts and on total time.

use std::time::Duration;

/// Bounds and spacing of retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1: never retry).
    pub max_attempts: u32,
    /// The backoff before the first retry, before jitter.
    pub initial_backoff: Duration,
    /// The largest backoff.
    pub max_backoff: Duration,
    /// No retry starts later than this after the call began.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    /// 4 attempts, 100 ms doubling to at most 2 s, within 10 s.
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            max_elapsed: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// The default policy.
    pub fn new() -> Self {
        Self::default()
    }

    /// Never retry.
    pub fn never() -> Self {
        Self { max_attempts: 1, ..Self::default() }
    }

    /// Sets the number of attempts (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the first backoff and the cap.
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// Sets the time budget.
    pub fn max_elapsed(mut self, budget: Duration) -> Self {
        self.max_elapsed = budget;
        self
    }

    /// The wait before retry number `retry` (1 for the first retry): half of
    /// `min(max_backoff, initial_backoff * 2^(retry-1))` plus a random share of the other half
    /// ("equal jitter"), so that clients that failed together do not retry together.
    ///
    /// ```
    /// use std::time::Duration;
    /// use wxpay_protocol::client::RetryPolicy;
    /// let p = RetryPolicy::new();
    /// let d = p.delay(3, 12345);
    /// assert!(d >= Duration::from_millis(200) && d <= Duration::from_millis(400));
    /// ```
    pub fn delay(&self, retry: u32, random: u64) -> Duration {
        let exponent = retry.saturating_sub(1).min(31);
        let base = self.initial_backoff.saturating_mul(1u32 << exponent).min(self.max_backoff);
        let half = base / 2;
        let half_nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        let jitter = if half_nanos == 0 { 0 } else { random % (half_nanos + 1) };
        half + Duration::from_nanos(jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap_with_bounded_jitter() {
        let p = RetryPolicy::new();
        for (retry, lo, hi) in [(1, 50, 100), (2, 100, 200), (5, 800, 1600), (6, 1000, 2000), (40, 1000, 2000)] {
            for random in [0, 1, u64::MAX / 3, u64::MAX] {
                let d = p.delay(retry, random).as_millis();
                assert!((lo..=hi).contains(&d), "retry {retry}: {d} ms");
            }
        }
        assert_eq!(RetryPolicy::never().max_attempts, 1);
        assert_eq!(RetryPolicy::new().max_attempts(0).max_attempts, 1);
    }
}
