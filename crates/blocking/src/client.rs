//! The blocking client: the same surface as the async one, driving the same
//! [`Exchange`]; this file only sleeps, sends and reads the clocks.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wxpay_protocol::client::{ClientConfig, ClientCore, Entropy, Exchange, Step, random_nonce};
use wxpay_protocol::cloudpay::{self, Refund, RefundQueryRequest};
use wxpay_protocol::security::SigningError;
use wxpay_protocol::{Error, NonceStr, Operation, PagingError, RefundPager, v3};

use crate::transport::{Settings, Transport, UreqTransport};

/// The system's CSPRNG, for nonces and jitter.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemEntropy;

impl Entropy for SystemEntropy {
    fn next_u64(&mut self) -> u64 {
        use aws_lc_rs::rand::SecureRandom;
        let mut bytes = [0u8; 8];
        // The system RNG does not fail on supported platforms; a fixed value would only weaken
        // jitter, and nonces stay unique per request through the timestamp.
        let _ = aws_lc_rs::rand::SystemRandom::new().fill(&mut bytes);
        u64::from_le_bytes(bytes)
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Builds a [`Client`].
#[derive(Debug, Clone, Default)]
pub struct ClientBuilder {
    config: ClientConfig,
    settings: Settings,
}

impl ClientBuilder {
    /// What the client is configured with: base URLs, credentials, keys, retry, rate limits
    /// and the `User-Agent` ([`ClientConfig`], shared with the other transport).
    pub fn config(mut self, config: ClientConfig) -> Self {
        self.config = config;
        self
    }

    /// The connect timeout (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.settings.connect_timeout = timeout;
        self
    }

    /// The time for one attempt (default 30 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.settings.request_timeout = timeout;
        self
    }

    /// Trusts the DER certificate `root`. With any root added, only the added roots are
    /// trusted (ureq takes either the WebPKI roots or a list).
    pub fn add_root_certificate(mut self, der: Vec<u8>) -> Self {
        self.settings.roots.push(der);
        self
    }

    /// Idle connections kept per host (default 32).
    pub fn max_idle_per_host(mut self, max: usize) -> Self {
        self.settings.max_idle_per_host = max;
        self
    }

    /// A client on the ureq transport.
    pub fn build(self) -> Client {
        let transport = UreqTransport::new(&self.settings);
        self.build_with_transport(transport)
    }

    /// A client on another transport (a closure will do).
    pub fn build_with_transport<T: Transport>(self, transport: T) -> Client<T> {
        Client { inner: Arc::new(Inner { core: ClientCore::new(self.config), transport }) }
    }
}

#[derive(Debug)]
struct Inner<T> {
    core: ClientCore,
    transport: T,
}

/// A blocking WeChat Pay client; clones share connections, keys and rate limits.
#[derive(Debug)]
pub struct Client<T = UreqTransport> {
    inner: Arc<Inner<T>>,
}

impl<T> Clone for Client<T> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone() }
    }
}

impl Client {
    /// A builder with WeChat Pay's defaults.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }
}

impl<T: Transport> Client<T> {
    /// A fresh `nonce_str` for a CloudPay request.
    pub fn nonce(&self) -> NonceStr {
        random_nonce(&mut SystemEntropy)
    }

    /// The shared client state.
    pub fn core(&self) -> &ClientCore {
        &self.inner.core
    }

    /// Runs any operation: rate limit, sign, send, verify, parse, retry.
    pub fn execute<O: Operation>(&self, operation: O) -> Result<O::Output, Error> {
        let span = tracing::info_span!(
            "wxpay",
            operation = O::NAME,
            attempt = tracing::field::Empty,
            request_id = tracing::field::Empty
        );
        let _entered = span.enter();
        let mut exchange = Exchange::new(&self.inner.core, operation);
        let mut entropy = SystemEntropy;
        loop {
            match exchange.poll(Instant::now(), unix_now(), &mut entropy) {
                Step::Sleep(delay) => std::thread::sleep(delay),
                Step::Send(request) => {
                    span.record("attempt", exchange.attempts());
                    match self.inner.transport.send(request) {
                        Ok(response) => exchange.on_response(response, unix_now()),
                        Err(error) => {
                            tracing::debug!(error = %error, "no answer");
                            exchange.on_transport_error(error, unix_now());
                        }
                    }
                    if let Some(id) = exchange.request_id() {
                        span.record("request_id", id);
                    }
                }
                Step::Done(result) => return result,
                _ => return Err(SigningError::OutOfOrder.into()),
            }
        }
    }

    /// CloudPay profit-sharing return query (seeds/000).
    pub fn return_query(&self, request: cloudpay::ReturnQueryRequest) -> Result<cloudpay::ReturnQueryResponse, Error> {
        self.execute(request)
    }

    /// CloudPay profit-sharing finish (seeds/002); a timeout ends as `outcome_unknown`.
    pub fn finish(&self, request: cloudpay::FinishRequest) -> Result<cloudpay::FinishResponse, Error> {
        self.execute(request)
    }

    /// CloudPay refund query (seeds/004), one page.
    pub fn refund_query(&self, request: RefundQueryRequest) -> Result<cloudpay::RefundQueryResponse, Error> {
        self.execute(request)
    }

    /// API v3 e-commerce profit-sharing order query (seeds/003).
    pub fn ecommerce_order_query(&self, request: v3::OrderQueryRequest) -> Result<v3::OrderQueryResponse, Error> {
        self.execute(request)
    }

    /// API v3 e-commerce profit-sharing return query (seeds/001).
    pub fn ecommerce_return_query(&self, request: v3::ReturnQueryRequest) -> Result<v3::ReturnQueryResponse, Error> {
        self.execute(request)
    }

    /// Every refund `request` names, page by page, as an iterator that ends after the last
    /// refund or with one error.
    pub fn refunds(&self, request: RefundQueryRequest) -> Refunds<'_, T> {
        Refunds { client: self, pager: RefundPager::new(request), page: Vec::new().into_iter(), failed: false }
    }
}

/// The refunds of an order, fetched page by page.
#[derive(Debug)]
pub struct Refunds<'c, T> {
    client: &'c Client<T>,
    pager: RefundPager,
    page: std::vec::IntoIter<Refund>,
    failed: bool,
}

/// Why a refund iteration ended early.
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

impl<T: Transport> Iterator for Refunds<'_, T> {
    type Item = Result<Refund, RefundsError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(refund) = self.page.next() {
                return Some(Ok(refund));
            }
            if self.failed {
                return None;
            }
            let request = self.pager.next_request(self.client.nonce())?;
            let outcome = self
                .client
                .execute(request)
                .map_err(RefundsError::Call)
                .and_then(|answer| self.pager.push(answer).map_err(RefundsError::Paging));
            match outcome {
                Ok(refunds) => self.page = refunds.into_iter(),
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
        }
    }
}
