//! Client-side rate limits per operation (docs/protocol.md §7): each call reserves the next free
//! slot of its budget, so concurrent callers are spaced `1/qps` apart and the documented limits are
//! never exceeded. A budget is counted per what the operation's spec says: the merchant (one
//! budget for the operation), or the receiving sub-merchant the request names (one budget each).

use std::collections::HashMap;
use std::time::Duration;

use crate::operation::{OperationSpec, RateLimit, RateScope};

/// How many budgets are remembered before the ones already free again are forgotten (a batch
/// over many sub-merchants must not grow the map without bound).
const PRUNE_ABOVE: usize = 4096;

/// Slots per operation name ([`OperationSpec::name`]) and, for limits counted per
/// sub-merchant, per sub-merchant. Times are monotonic readings: durations since an origin the
/// driver chose.
#[derive(Debug, Clone, Default)]
pub struct RateLimiter {
    limits: HashMap<String, RateLimit>,
    next_free: HashMap<(String, String), Duration>,
}

impl RateLimiter {
    /// The documented limits of every operation's spec (docs/protocol.md §7): 30 QPS per merchant
    /// for the CloudPay return query, 60 per receiving sub-merchant for finish, 1000 per
    /// merchant for the certificate download; none where the documents state none.
    ///
    /// ```
    /// use wxpay_protocol::client::RateLimiter;
    /// let limiter = RateLimiter::documented();
    /// assert_eq!(limiter.limit("profitsharingreturnquery").map(|l| l.qps), Some(30));
    /// assert_eq!(limiter.limit("profitsharingfinish").map(|l| l.qps), Some(60));
    /// assert_eq!(limiter.limit("queryrefund"), None);
    /// ```
    pub fn documented() -> Self {
        let mut limiter = Self::default();
        for spec in crate::operations() {
            if let Some(limit) = spec.rate_limit {
                limiter.limits.insert(spec.name.to_owned(), limit);
            }
        }
        limiter
    }

    /// No limits.
    pub fn off() -> Self {
        Self::default()
    }

    /// Limits `operation` to `qps` calls per second, counted per what its spec says (per
    /// merchant for an operation this crate does not know); 0 removes the limit.
    pub fn set(&mut self, operation: &str, qps: u32) {
        if qps == 0 {
            self.limits.remove(operation);
            return;
        }
        let per = crate::operation_named(operation).map_or(RateScope::Merchant, OperationSpec::rate_scope);
        self.limits.insert(operation.to_owned(), RateLimit { qps, per });
    }

    /// The limit of `operation`, if any.
    pub fn limit(&self, operation: &str) -> Option<RateLimit> {
        self.limits.get(operation).copied()
    }

    /// Reserves a slot for a call of `spec` naming `sub_merchant` at or after `now`, and says
    /// how long to wait for it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use wxpay_protocol::client::RateLimiter;
    /// use wxpay_protocol::{cloudpay, Operation};
    /// let finish = &cloudpay::FinishRequest::SPEC; // 60 QPS per receiving sub-merchant
    /// let mut limiter = RateLimiter::documented();
    /// let now = Duration::from_secs(100);
    /// assert_eq!(limiter.reserve(finish, Some("1900000109"), now), Duration::ZERO);
    /// assert_eq!(limiter.reserve(finish, Some("1900000109"), now), Duration::from_secs(1) / 60);
    /// assert_eq!(limiter.reserve(finish, Some("1900000110"), now), Duration::ZERO); // another budget
    /// ```
    pub fn reserve(&mut self, spec: &OperationSpec, sub_merchant: Option<&str>, now: Duration) -> Duration {
        let Some(limit) = self.limits.get(spec.name) else { return Duration::ZERO };
        let interval = Duration::from_secs(1) / limit.qps;
        let subject = spec.rate_subject(sub_merchant);
        if self.next_free.len() >= PRUNE_ABOVE {
            self.next_free.retain(|_, next| *next > now);
        }
        let key = (spec.name.to_owned(), subject.to_owned());
        let slot = match self.next_free.get(&key) {
            Some(&next) if next > now => next,
            _ => now,
        };
        self.next_free.insert(key, slot + interval);
        slot - now
    }
}
