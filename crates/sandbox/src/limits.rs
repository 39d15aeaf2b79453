//! The QPS limits, per operation and what each is counted per (the operation's spec,
//! docs/protocol.md §7): a token bucket of `n` tokens refilled at `n` per second, so any client
//! that stays under `n` per second is never refused.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::time::Instant;
use wxpay_protocol::OperationSpec;

/// The documented limits of every operation the protocol describes.
pub(crate) fn documented() -> HashMap<String, u32> {
    wxpay_protocol::operations()
        .filter_map(|spec| spec.rate_limit.map(|limit| (spec.name.to_owned(), limit.qps)))
        .collect()
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Token buckets by (operation, what it is counted per).
#[derive(Debug, Default)]
pub(crate) struct Limits {
    qps: HashMap<String, u32>,
    buckets: Mutex<HashMap<(String, String), Bucket>>,
    /// Requests of a limited operation let through.
    admitted: AtomicU64,
    /// Requests refused with FREQUENCY_LIMITED.
    refused: AtomicU64,
}

impl Limits {
    pub(crate) fn new(qps: HashMap<String, u32>) -> Self {
        Self { qps, buckets: Mutex::default(), admitted: AtomicU64::new(0), refused: AtomicU64::new(0) }
    }

    /// Takes a token for a request of `spec` naming `sub_merchant`; `false` means
    /// FREQUENCY_LIMITED. The sandbox serves one merchant, so a limit counted per merchant has
    /// one bucket.
    pub(crate) fn admit(&self, spec: &OperationSpec, sub_merchant: Option<&str>) -> bool {
        let Some(&qps) = self.qps.get(spec.name) else { return true };
        let admitted = qps > 0 && self.take(spec, sub_merchant, qps);
        let counter = if admitted { &self.admitted } else { &self.refused };
        counter.fetch_add(1, Ordering::Relaxed);
        admitted
    }

    /// (Requests of limited operations let through, requests refused) so far.
    pub(crate) fn counts(&self) -> (u64, u64) {
        (self.admitted.load(Ordering::Relaxed), self.refused.load(Ordering::Relaxed))
    }

    /// Takes a token from the bucket of `spec` and `sub_merchant`.
    fn take(&self, spec: &OperationSpec, sub_merchant: Option<&str>, qps: u32) -> bool {
        let subject = spec.rate_subject(sub_merchant);
        let rate = f64::from(qps);
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let bucket =
            buckets.entry((spec.name.to_owned(), subject.to_owned())).or_insert(Bucket { tokens: rate, last: now });
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
    use wxpay_protocol::{Operation, cloudpay};

    #[tokio::test(start_paused = true)]
    async fn n_per_second_per_what_the_spec_counts() {
        let finish = &cloudpay::FinishRequest::SPEC; // per receiving sub-merchant
        let returns = &cloudpay::ReturnQueryRequest::SPEC; // per merchant
        let limits = Limits::new(HashMap::from([(finish.name.to_owned(), 3), (returns.name.to_owned(), 2)]));
        assert!((0..3).all(|_| limits.admit(finish, Some("A"))));
        assert!(!limits.admit(finish, Some("A")));
        assert!(limits.admit(finish, Some("B")), "another sub-merchant has its own bucket");
        assert!(limits.admit(returns, Some("A")) && limits.admit(returns, Some("B")));
        assert!(!limits.admit(returns, Some("C")), "one bucket for the merchant");
        let refunds = &cloudpay::RefundQueryRequest::SPEC;
        assert!((0..100).all(|_| limits.admit(refunds, Some("A"))), "operations without a limit are not limited");
        tokio::time::advance(Duration::from_millis(334)).await;
        assert!(limits.admit(finish, Some("A")));
        assert!(!limits.admit(finish, Some("A")));
    }
}
