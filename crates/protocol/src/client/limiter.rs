//! Client-side rate limits per operation (DESIGN.md 4.4): each call reserves the next free slot
//! of its operation, so concurrent callers are spaced `1/qps` apart and the documented limits
//! (30 QPS for the return queries, 60 for finish) are never exceeded.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::Operation;
use crate::cloudpay::CloudPayOp;
use crate::v3;

/// Slots per operation name ([`Operation::NAME`]).
#[derive(Debug, Clone, Default)]
pub struct RateLimiter {
    qps: HashMap<String, u32>,
    next_free: HashMap<String, Instant>,
}

impl RateLimiter {
    /// The documented limits: 30 QPS for both return queries (seeds/000; the v3 twin, seeds/001,
    /// states none, so the CloudPay figure is assumed), 60 QPS for finish (seeds/002).
    pub fn documented() -> Self {
        let mut limiter = Self::default();
        limiter.set(CloudPayOp::ReturnQuery.path_name(), 30);
        limiter.set(v3::ReturnQueryRequest::NAME, 30);
        limiter.set(CloudPayOp::Finish.path_name(), 60);
        limiter
    }

    /// No limits.
    pub fn off() -> Self {
        Self::default()
    }

    /// Limits `operation` to `qps` calls per second (0 removes the limit).
    pub fn set(&mut self, operation: &str, qps: u32) {
        if qps == 0 {
            self.qps.remove(operation);
        } else {
            self.qps.insert(operation.to_owned(), qps);
        }
    }

    /// The limit of `operation`, if any.
    pub fn limit(&self, operation: &str) -> Option<u32> {
        self.qps.get(operation).copied()
    }

    /// Reserves a slot for `operation` at or after `now` and says how long to wait for it.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use wxpay_protocol::client::RateLimiter;
    /// let mut limiter = RateLimiter::off();
    /// limiter.set("op", 100);
    /// let now = Instant::now();
    /// assert_eq!(limiter.reserve("op", now), Duration::ZERO);
    /// assert_eq!(limiter.reserve("op", now), Duration::from_millis(10));
    /// assert_eq!(limiter.reserve("op", now), Duration::from_millis(20));
    /// assert_eq!(limiter.reserve("other", now), Duration::ZERO);
    /// ```
    pub fn reserve(&mut self, operation: &str, now: Instant) -> Duration {
        let Some(&qps) = self.qps.get(operation) else { return Duration::ZERO };
        let interval = Duration::from_secs(1) / qps;
        let slot = match self.next_free.get(operation) {
            Some(&next) if next > now => next,
            _ => now,
        };
        self.next_free.insert(operation.to_owned(), slot + interval);
        slot - now
    }
}
