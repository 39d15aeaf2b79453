//! The client's logic, without I/O: what a transport does for every call, as pure decisions
//! and one state machine, [`Exchange`], that the async and the blocking transports both drive.
//! Neither transport re-implements a rule: they sleep when told, send what they are given and
//! report what came back (docs/design.md §2: one pure core, thin drivers).
//!
//! What the machine decides: the client-side rate limit ([`RateLimiter`]), signing v3 requests
//! with a fresh nonce and timestamp, downloading and refreshing platform certificates
//! (including one rate-limited refresh on an unknown serial), verifying and parsing answers,
//! and retrying retryable failures with exponential backoff and jitter ([`RetryPolicy`]),
//! always resending the same operation (the same merchant numbers).
//!
//! [`Driver`] runs that machine over any [`Io`] (send, sleep, clocks): the one driving loop,
//! which the transports and embedders use. Driving [`Exchange`] by hand looks like this:
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use wxpay_protocol::client::{ClientConfig, ClientCore, Exchange, Step};
//! use wxpay_protocol::{cloudpay, NonceStr, RefundId, RefundLookup, SubMchId};
//!
//! let core = Arc::new(ClientCore::new(ClientConfig::new()));
//! let query = cloudpay::RefundQueryRequest::new(
//!     SubMchId::new("1900000109")?,
//!     RefundLookup::RefundId(RefundId::new("50000000382019052709732678859")?),
//! ).with_nonce(NonceStr::new("N1")?);
//! let mut exchange = Exchange::new(core, query);
//! let mut entropy = || 4u64; // a transport passes a CSPRNG
//! let (now, unix) = (Duration::from_secs(5), 1_700_000_000);
//! let Step::Send(request) = exchange.poll(now, unix, &mut entropy) else { unreachable!() };
//! assert_eq!(request.uri().path(), "/_/pay/queryrefund");
//! // ... the transport sends `request`; here the server is busy:
//! let busy = br#"{"return_code":"SUCCESS","result_code":"FAIL","err_code":"SYSTEMERROR","err_code_des":"busy"}"#;
//! exchange.on_response(http::Response::new(busy.to_vec()), unix);
//! let Step::Sleep(backoff) = exchange.poll(now, unix, &mut entropy) else { unreachable!() };
//! assert!(backoff > Duration::ZERO && backoff <= Duration::from_millis(100));
//! let Step::Send(again) = exchange.poll(now + backoff, unix, &mut entropy) else { unreachable!() };
//! assert_eq!(again.body(), request.body(), "the identical request is sent again");
//! # Ok::<(), wxpay_protocol::ValidationError>(())
//! ```

mod backoff;
mod budget;
mod config;
mod driver;
mod entropy;
mod exchange;
mod limiter;

pub use backoff::RetryPolicy;
pub use budget::{BudgetError, Permit, Reservation, SharedBudget};
pub use config::{ClientConfig, ClientCore, KeyMode};
pub use driver::{Driver, Io, RefundPages, RefundQuery, RefundsError, now_or_never};
pub use entropy::{Entropy, random_alphanumeric, random_nonce};
pub use exchange::{Exchange, Step};
pub use limiter::RateLimiter;
