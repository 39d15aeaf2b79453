//! Fault injection: the next N answers of an operation misbehave in a chosen way.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// How an answer misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Fault {
    /// HTTP 500 `SYSTEM_ERROR` (v3) or `SYSTEMERROR` (CloudPay); the request is not processed.
    ServerError,
    /// HTTP 429 `FREQUENCY_LIMITED` (v3) or `FREQUENCY_LIMITED` (CloudPay); not processed.
    TooManyRequests,
    /// The answer comes after `ms` milliseconds.
    Delay {
        /// The delay.
        ms: u64,
    },
    /// The connection is closed without an answer; the request is not processed.
    Drop,
    /// The request is processed, and the body is cut off after half of its announced length.
    Truncate,
    /// HTTP 200 with an HTML body (signed, for v3); not processed.
    NotJson,
    /// A v3 answer without the `Wechatpay-*` signature headers.
    MissingSignature,
    /// A v3 answer whose signature is over other bytes.
    WrongSignature,
    /// A v3 answer signed with a timestamp 10 minutes old.
    StaleTimestamp,
    /// A v3 answer whose `Wechatpay-Serial` names a key nobody has.
    UnknownSerial,
}

impl Fault {
    /// Whether the fault only makes sense for signed (v3) answers.
    pub fn is_signature_fault(self) -> bool {
        matches!(self, Fault::MissingSignature | Fault::WrongSignature | Fault::StaleTimestamp | Fault::UnknownSerial)
    }
}

/// Queued faults by operation name.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    queues: Mutex<HashMap<String, VecDeque<Fault>>>,
}

impl Faults {
    /// Queues `count` copies of `fault` for `operation`.
    pub(crate) fn inject(&self, operation: &str, fault: Fault, count: u32) {
        let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        let queue = queues.entry(operation.to_owned()).or_default();
        queue.extend(std::iter::repeat_n(fault, count as usize));
    }

    /// The next fault for `operation`, if any.
    pub(crate) fn take(&self, operation: &str) -> Option<Fault> {
        self.queues.lock().unwrap_or_else(|p| p.into_inner()).get_mut(operation)?.pop_front()
    }

    /// Forgets every queued fault.
    pub(crate) fn clear(&self) {
        self.queues.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}
