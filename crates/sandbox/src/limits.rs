//! The QPS limits, per operation and what each is counted per (the operation's spec, DESIGN.md
//! 4.7): a token bucket of `n` tokens refilled at `n` per second, so any client that stays under
//! `n` per second is never refused.

use std::collections::HashMap;
use std::sync::Mutex;

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
}

impl Limits {
    pub(crate) fn new(qps: HashMap<String, u32>) -> Self {
        Self { qps, buckets: Mutex::default() }
    }

    /// Takes a token for a request of `spec` naming `sub_merchant`; `false` means
    /// FREQUENCY_LIMITED. The sandbox serves one merchant, so a limit counted per merchant has
    /// one bucket.
    pub(crate) fn admit(&self, spec: &OperationSpec, sub_merchant: Option<&str>) -> bool {
        let Some(&qps) = self.qps.get(spec.name) else { return true };
        if qps == 0 {
            return false;
        }
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
