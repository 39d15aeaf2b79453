//! The documented QPS limits, per operation and sub-merchant: a token bucket of `n` tokens
//! refilled at `n` per second, so any client that stays under `n` per second is never refused.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::time::Instant;

/// The documented defaults: 30 QPS for the CloudPay return query (seeds/000), 60 for finish
/// (seeds/002, per receiving merchant; the sandbox counts per sub-merchant).
pub(crate) const DOCUMENTED: &[(&str, u32)] = &[("profitsharingreturnquery", 30), ("profitsharingfinish", 60)];

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Token buckets by (operation, sub-merchant).
#[derive(Debug, Default)]
pub(crate) struct Limits {
    qps: HashMap<String, u32>,
    buckets: Mutex<HashMap<(String, String), Bucket>>,
}

impl Limits {
    pub(crate) fn new(qps: HashMap<String, u32>) -> Self {
        Self { qps, buckets: Mutex::default() }
    }

    /// Takes a token for `operation` and `sub_merchant`; `false` means FREQUENCY_LIMITED.
    pub(crate) fn admit(&self, operation: &str, sub_merchant: &str) -> bool {
        let Some(&qps) = self.qps.get(operation) else { return true };
        if qps == 0 {
            return false;
        }
        let rate = f64::from(qps);
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let bucket = buckets
            .entry((operation.to_owned(), sub_merchant.to_owned()))
            .or_insert(Bucket { tokens: rate, last: now });
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(rate);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn n_per_second_per_sub_merchant() {
        let limits = Limits::new(HashMap::from([("op".to_owned(), 3)]));
        assert!((0..3).all(|_| limits.admit("op", "A")));
        assert!(!limits.admit("op", "A"));
        assert!(limits.admit("op", "B"), "another sub-merchant has its own bucket");
        assert!(limits.admit("other", "A"), "operations without a limit are not limited");
        tokio::time::advance(Duration::from_millis(334)).await;
        assert!(limits.admit("op", "A"));
        assert!(!limits.admit("op", "A"));
    }
}
