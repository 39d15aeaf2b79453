//! When to download the platform certificates again: a pure policy that the transports drive
//! (docs/protocol.md §2.3: an unknown serial in certificate mode triggers one rate-limited refresh,
//! then fails).

/// The timings of certificate refreshes, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefreshPolicy {
    /// Refresh this long after the last successful download.
    pub interval: i64,
    /// Refresh when a known certificate expires within this long.
    pub before_expiry: i64,
    /// At most one refresh for unknown serials within this long.
    pub unknown_serial_gap: i64,
    /// Wait this long after a failed download before trying again.
    pub after_failure: i64,
}

impl Default for RefreshPolicy {
    /// 12 hours, 1 day, 60 seconds, 30 seconds.
    fn default() -> Self {
        Self { interval: 12 * 3600, before_expiry: 24 * 3600, unknown_serial_gap: 60, after_failure: 30 }
    }
}

impl RefreshPolicy {
    /// The default policy.
    pub fn new() -> Self {
        Self::default()
    }
}

/// What to do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefreshDecision {
    /// Download the certificates now.
    RefreshNow,
    /// Nothing to do; the keys are fresh.
    NotNeeded,
    /// Do not download before this time (Unix seconds); for an unknown serial, fail now.
    NotBefore(i64),
}

/// What the transport has seen of downloads so far. A failed download keeps the keys already
/// held, so the client stays usable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefreshState {
    last_success: Option<i64>,
    last_failure: Option<i64>,
    last_unknown_serial: Option<i64>,
    earliest_expiry: Option<i64>,
}

impl RefreshState {
    /// No download yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether to download before a call: on first use, on schedule, before an expiry, and not
    /// within `after_failure` of a failure.
    pub fn scheduled(&self, policy: &RefreshPolicy, now: i64) -> RefreshDecision {
        let due = match self.last_success {
            None => true,
            Some(ok) => {
                now >= ok.saturating_add(policy.interval)
                    || self.earliest_expiry.is_some_and(|exp| now >= exp.saturating_sub(policy.before_expiry))
            }
        };
        if !due {
            return RefreshDecision::NotNeeded;
        }
        match self.last_failure {
            Some(failed) if now < failed.saturating_add(policy.after_failure) => {
                RefreshDecision::NotBefore(failed.saturating_add(policy.after_failure))
            }
            _ => RefreshDecision::RefreshNow,
        }
    }

    /// An answer named a serial we do not hold: refresh once, unless a refresh for an unknown
    /// serial happened within `unknown_serial_gap` (then fail the answer now). Records the
    /// attempt when it says [`RefreshDecision::RefreshNow`].
    pub fn on_unknown_serial(&mut self, policy: &RefreshPolicy, now: i64) -> RefreshDecision {
        if let Some(last) = self.last_unknown_serial {
            let next = last.saturating_add(policy.unknown_serial_gap);
            if now < next {
                return RefreshDecision::NotBefore(next);
            }
        }
        self.last_unknown_serial = Some(now);
        RefreshDecision::RefreshNow
    }

    /// A download succeeded at `now`; `expiries` are the certificates' `expire_time`s.
    pub fn record_success(&mut self, now: i64, expiries: impl IntoIterator<Item = i64>) {
        self.last_success = Some(now);
        self.earliest_expiry = expiries.into_iter().min();
    }

    /// A download failed at `now`.
    pub fn record_failure(&mut self, now: i64) {
        self.last_failure = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_use_then_schedule_then_expiry() {
        let p = RefreshPolicy::default();
        let mut s = RefreshState::new();
        assert_eq!(s.scheduled(&p, 1000), RefreshDecision::RefreshNow);
        s.record_success(1000, [1000 + 10 * 24 * 3600]);
        assert_eq!(s.scheduled(&p, 1001), RefreshDecision::NotNeeded);
        assert_eq!(s.scheduled(&p, 1000 + 12 * 3600), RefreshDecision::RefreshNow);
        s.record_success(2000, [2000 + 3600]);
        assert_eq!(s.scheduled(&p, 2001), RefreshDecision::RefreshNow, "expires within a day");
    }

    #[test]
    fn failures_back_off_but_keep_keys() {
        let p = RefreshPolicy::default();
        let mut s = RefreshState::new();
        s.record_failure(100);
        assert_eq!(s.scheduled(&p, 110), RefreshDecision::NotBefore(130));
        assert_eq!(s.scheduled(&p, 130), RefreshDecision::RefreshNow);
        s.record_success(140, []);
        s.record_failure(140 + 12 * 3600);
        // Due again, but a failure just happened: wait, and keep using the keys of 140.
        assert_eq!(s.scheduled(&p, 141 + 12 * 3600), RefreshDecision::NotBefore(170 + 12 * 3600));
        assert_eq!(s.scheduled(&p, 170 + 12 * 3600), RefreshDecision::RefreshNow);
    }

    #[test]
    fn one_refresh_per_gap_for_unknown_serials() {
        let p = RefreshPolicy::default();
        let mut s = RefreshState::new();
        assert_eq!(s.on_unknown_serial(&p, 500), RefreshDecision::RefreshNow);
        assert_eq!(s.on_unknown_serial(&p, 530), RefreshDecision::NotBefore(560));
        assert_eq!(s.on_unknown_serial(&p, 560), RefreshDecision::RefreshNow);
    }
}
