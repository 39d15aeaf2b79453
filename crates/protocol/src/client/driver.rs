//! The one driving loop: [`Driver`] runs an [`Exchange`] over an [`Io`], and walks the pages
//! of a refund query with [`RefundPager`]. Both transports (async and blocking) and any
//! embedder's own stack use this loop; they only supply [`Io`]: send, sleep, and read clocks.
//!
//! Nothing here names a runtime or requires `Send`: an [`Io`] on a single-threaded executor, a
//! browser's `fetch`, or a blocking socket whose futures are ready at once all work.
//!
//! ```
//! use std::future::{Future, Ready, ready};
//! use std::time::Duration;
//! use wxpay_protocol::client::{ClientConfig, Driver, Io, RateLimiter};
//! use wxpay_protocol::{cloudpay, NonceStr, RefundId, RefundLookup, SubMchId, TransportError};
//!
//! /// A canned server and a fake clock: what a test, or an embedder's own stack, supplies.
//! struct Canned;
//! impl Io for Canned {
//!     fn send(&self, _: http::Request<Vec<u8>>) -> impl Future<Output = Result<http::Response<Vec<u8>>, TransportError>> {
//!         let body = br#"{"return_code":"SUCCESS","result_code":"FAIL","err_code":"REFUNDNOTEXIST","err_code_des":"none"}"#;
//!         ready(Ok(http::Response::new(body.to_vec())))
//!     }
//!     fn sleep(&self, _: Duration) -> impl Future<Output = ()> { ready(()) }
//!     fn monotonic(&self) -> Duration { Duration::ZERO }
//!     fn unix_now(&self) -> i64 { 1_700_000_000 }
//!     fn random_u64(&self) -> u64 { 4 }
//! }
//!
//! let driver = Driver::new(ClientConfig::new().rate_limits(RateLimiter::off()), Canned);
//! let query = cloudpay::RefundQueryRequest::new(
//!     SubMchId::new("1900000109")?,
//!     RefundLookup::RefundId(RefundId::new("50000000382019052709732678859")?),
//! ).with_nonce(NonceStr::new("N1")?);
//! // Any executor will do; this Io is ready at once, so one poll finishes the call.
//! let result = wxpay_protocol::client::now_or_never(driver.execute(query)).unwrap();
//! let err = result.unwrap_err();
//! assert_eq!(err.as_api().unwrap().code().unwrap().as_str(), "REFUNDNOTEXIST");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use super::config::{ClientConfig, ClientCore};
use super::entropy::random_nonce;
use super::exchange::{Exchange, Step};
use crate::cloudpay::{Refund, RefundQueryRequest, RefundQueryResponse};
use crate::error::{Error, TransportError};
use crate::operation::Operation;
use crate::paginate::{PagingError, RefundPager};

/// What a driver needs from the outside world: sending, sleeping, clocks and randomness. The
/// futures need not be `Send`.
pub trait Io {
    /// Sends `request` and reads the whole answer.
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> impl Future<Output = Result<http::Response<Vec<u8>>, TransportError>>;

    /// Waits `duration`.
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()>;

    /// A monotonic reading: the time since an origin that stays the same for the life of the
    /// client (rate limits and retry deadlines are measured with it).
    fn monotonic(&self) -> Duration;

    /// The wall clock, in Unix seconds (signing timestamps and answer freshness).
    fn unix_now(&self) -> i64;

    /// A value from a CSPRNG (request nonces; retry jitter).
    fn random_u64(&self) -> u64;
}

/// A client over any [`Io`]: the shared state (keys, certificate refresh, rate limits) and the
/// I/O. Cheap to clone when `I` is; clones share the state.
#[derive(Debug)]
pub struct Driver<I> {
    core: Arc<ClientCore>,
    io: I,
}

impl<I: Clone> Clone for Driver<I> {
    fn clone(&self) -> Self {
        Self { core: self.core.clone(), io: self.io.clone() }
    }
}

impl<I: Io> Driver<I> {
    /// A client configured with `config`, doing its I/O with `io`.
    pub fn new(config: ClientConfig, io: I) -> Self {
        Self { core: Arc::new(ClientCore::new(config)), io }
    }

    /// The shared client state (keys held, configuration).
    pub fn core(&self) -> &ClientCore {
        &self.core
    }

    /// The I/O.
    pub fn io(&self) -> &I {
        &self.io
    }

    /// A fresh `nonce_str` (32 characters from the I/O's CSPRNG).
    pub fn nonce(&self) -> crate::NonceStr {
        random_nonce(&mut || self.io.random_u64())
    }

    /// Runs any operation: rate limit, sign (v3), send, verify (v3), parse, retry what is safe
    /// to retry, always resending the same request. Logged as a `wxpay` span with the
    /// operation, and when the call ends the attempts made and the last `Request-ID` (recorded
    /// once, so that a subscriber printing fields as they are recorded shows each once); each
    /// attempt is a `debug` event with its number, path, status and `Request-ID`.
    pub async fn execute<O: Operation>(&self, operation: O) -> Result<O::Output, Error> {
        let span = tracing::info_span!(
            "wxpay",
            operation = O::SPEC.name,
            attempts = tracing::field::Empty,
            request_id = tracing::field::Empty
        );
        let mut exchange = Exchange::new(self.core.clone(), operation);
        let mut entropy = || self.io.random_u64();
        loop {
            let step = span.in_scope(|| exchange.poll(self.io.monotonic(), self.io.unix_now(), &mut entropy));
            match step {
                Step::Sleep(delay) => self.io.sleep(delay).await,
                Step::Reserve { permit, budget } => {
                    let reserved = budget.reserve(&permit).await;
                    if let Err(e) = &reserved {
                        span.in_scope(|| tracing::warn!(budget = permit.key(), error = %e, "no rate-limit slot"));
                    }
                    exchange.on_reserved(reserved);
                }
                Step::Send(request) => {
                    // 0 for a certificate download before the call's first attempt.
                    let attempt = exchange.attempts();
                    let path = request.uri().path().to_owned();
                    let outcome = self.io.send(request).await;
                    span.in_scope(|| match outcome {
                        Ok(response) => {
                            let status = response.status().as_u16();
                            exchange.on_response(response, self.io.unix_now());
                            tracing::debug!(attempt, path, status, request_id = exchange.request_id(), "answer");
                        }
                        Err(error) => {
                            tracing::debug!(attempt, path, error = %error, "no answer");
                            exchange.on_transport_error(error, self.io.unix_now());
                        }
                    });
                }
                Step::Done(result) => {
                    span.record("attempts", exchange.attempts());
                    if let Some(id) = exchange.request_id() {
                        span.record("request_id", id);
                    }
                    if let Err(e) = &result {
                        span.in_scope(|| {
                            tracing::info!(
                                error = %e,
                                attempts = exchange.attempts(),
                                request_id = exchange.request_id(),
                                "call failed"
                            );
                        });
                    }
                    return result;
                }
            }
        }
    }

    /// The refunds `query` names, page by page ([`RefundPager`]): a CloudPay
    /// [`RefundQueryRequest`], or one on the v2 wire ([`v2::Call`](crate::v2::Call)), every page
    /// sent the same way. It stops at [`MAX_REFUNDS`](crate::MAX_REFUNDS) refunds;
    /// [`refund_pages_with`](Self::refund_pages_with) takes a pager with another bound.
    pub fn refund_pages<Q: RefundQuery>(&self, query: Q) -> RefundPages<'_, I, Q> {
        let pager = RefundPager::new(query.refund_request().clone());
        self.refund_pages_with(pager, query)
    }

    /// The refunds `pager` walks to, page by page (say a pager
    /// [`with_max_refunds`](RefundPager::with_max_refunds)), each page sent as `query` sends
    /// its request.
    pub fn refund_pages_with<Q: RefundQuery>(&self, pager: RefundPager, query: Q) -> RefundPages<'_, I, Q> {
        RefundPages { driver: self, pager, query, failed: false }
    }
}

/// Why a walk through refund pages ended early.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RefundsError {
    /// A page could not be fetched.
    #[error("a refund page could not be fetched")]
    Call(#[source] Error),
    /// The pages contradict each other.
    #[error("the refund pages are inconsistent")]
    Paging(#[source] PagingError),
}

/// A refund query on either wire that pages can be made of: the CloudPay request itself, or a
/// [`v2::Call`](crate::v2::Call) around it.
pub trait RefundQuery: Operation<Output = RefundQueryResponse> {
    /// The CloudPay request (the first page).
    fn refund_request(&self) -> &RefundQueryRequest;

    /// The same query for the page `request` asks for.
    fn for_page(&self, request: RefundQueryRequest) -> Self;
}

impl RefundQuery for RefundQueryRequest {
    fn refund_request(&self) -> &RefundQueryRequest {
        self
    }

    fn for_page(&self, request: RefundQueryRequest) -> Self {
        request
    }
}

impl RefundQuery for crate::v2::Call<RefundQueryRequest> {
    fn refund_request(&self) -> &RefundQueryRequest {
        self.request()
    }

    fn for_page(&self, request: RefundQueryRequest) -> Self {
        self.with_request(request)
    }
}

/// The pages of a refund query, fetched one at a time: the paging loop, written once.
#[derive(Debug)]
pub struct RefundPages<'d, I, Q = RefundQueryRequest> {
    driver: &'d Driver<I>,
    pager: RefundPager,
    query: Q,
    failed: bool,
}

impl<I: Io, Q: RefundQuery> RefundPages<'_, I, Q> {
    /// The refunds of the next page, `None` after the last page or after an error (which is
    /// returned once, and ends the walk).
    pub async fn next_page(&mut self) -> Option<Result<Vec<Refund>, RefundsError>> {
        if self.failed {
            return None;
        }
        let request = self.pager.next_request(self.driver.nonce())?;
        let outcome = match self.driver.execute(self.query.for_page(request)).await {
            Ok(answer) => self.pager.push(answer).map_err(RefundsError::Paging),
            Err(e) => Err(RefundsError::Call(e)),
        };
        self.failed = outcome.is_err();
        Some(outcome)
    }

    /// The pager's state (total reported, refunds received).
    pub fn pager(&self) -> &RefundPager {
        &self.pager
    }
}

/// Polls `future` once with a waker that does nothing: the result if it was ready. A driver
/// whose [`Io`] completes at once (a blocking transport) runs a whole call in one poll.
pub fn now_or_never<F: Future>(future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}
