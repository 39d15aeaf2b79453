//! Rate budgets shared by many processes (docs/protocol.md §7): WeChat Pay counts a merchant's
//! calls on its side, for all of the merchant's processes together, so a budget kept per process is
//! exceeded as soon as two run. A [`SharedBudget`] is where the driver obtains a slot instead of
//! the in-process [`RateLimiter`](super::RateLimiter): the core says what it needs ([`Permit`]:
//! the operation, what its limit is counted per, the limit) and when; the backend (Redis, in
//! `wxpay-ratelimit-redis`) decides how long to wait. The core does no I/O: the step
//! [`Step::Reserve`](super::Step::Reserve) hands the backend to the driver.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// One slot of a rate budget: a call of `operation`, counted against `subject` within the
/// budget of `merchant`, under a limit of `qps` calls per second.
///
/// ```
/// use wxpay_protocol::client::Permit;
/// let permit = Permit::new("profitsharingfinish", "1900000109", 60).merchant("1900007291");
/// assert_eq!(permit.key(), "1900007291:profitsharingfinish:1900000109");
/// assert_eq!(permit.interval().as_micros(), 16_666);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Permit {
    /// The operation ([`OperationSpec::name`](crate::OperationSpec::name)).
    pub operation: &'static str,
    /// What the limit is counted per: `""` for the merchant, else the sub-merchant
    /// ([`OperationSpec::rate_subject`](crate::OperationSpec::rate_subject)).
    pub subject: String,
    /// The merchant whose budget it is, when the client knows it (the v3 credentials' `mchid`);
    /// a CloudPay client behind the Cloud Hosting sidecar does not.
    pub merchant: Option<String>,
    /// The limit, in calls per second (more than 0).
    pub qps: u32,
}

impl Permit {
    /// A permit for a call of `operation` counted against `subject` under `qps` (at least 1).
    pub fn new(operation: &'static str, subject: impl Into<String>, qps: u32) -> Self {
        Self { operation, subject: subject.into(), merchant: None, qps: qps.max(1) }
    }

    /// The merchant whose budget it is.
    pub fn merchant(mut self, merchant: impl Into<String>) -> Self {
        self.merchant = Some(merchant.into());
        self
    }

    /// The time between two slots: one second divided by the limit.
    pub fn interval(&self) -> Duration {
        Duration::from_secs(1) / self.qps.max(1)
    }

    /// A name for the budget, the same in every process: `merchant:operation:subject` (`-` for
    /// an unknown merchant).
    pub fn key(&self) -> String {
        format!("{}:{}:{}", self.merchant.as_deref().unwrap_or("-"), self.operation, self.subject)
    }
}

/// Why a shared budget gave no slot.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BudgetError {
    /// The backend could not be reached for longer than it is configured to wait; nothing was
    /// sent, so the budget was not exceeded.
    #[error("the shared rate budget was unreachable for {waited:?}; nothing was sent")]
    Unavailable {
        /// How long the backend was tried.
        waited: Duration,
        /// The last failure.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The backend answered with something it should not have.
    #[error("the shared rate budget answered unexpectedly")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The future of a reservation.
pub type Reservation<'a> = Pin<Box<dyn Future<Output = Result<Duration, BudgetError>> + Send + 'a>>;

/// A rate budget shared by processes: reserves the next free slot of a [`Permit`]'s budget and
/// says how long to wait for it (zero: now). It keeps the budget when its store cannot be
/// reached: it waits and tries again, and only gives up with [`BudgetError::Unavailable`].
///
/// A blocking client polls each future once: give it a backend whose futures complete at once
/// (a blocking connection); an async client takes either.
pub trait SharedBudget: fmt::Debug + Send + Sync {
    /// Reserves the next slot of `permit`'s budget.
    fn reserve<'a>(&'a self, permit: &'a Permit) -> Reservation<'a>;
}
