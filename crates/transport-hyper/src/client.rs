//! The async client: one method per operation, a generic `execute`, and the refund pager as a
//! stream. Every decision comes from [`wxpay_protocol::client::Exchange`]; this file only
//! sleeps, sends and reads the clocks.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::Stream;
use rustls::pki_types::CertificateDer;
use tracing::Instrument;
use wxpay_protocol::client::{ClientConfig, ClientCore, Entropy, Exchange, Step, random_nonce};
use wxpay_protocol::cloudpay::{self, Refund, RefundQueryRequest};
use wxpay_protocol::{Error, NonceStr, Operation, PagingError, RefundPager, v3};

use crate::hyper_transport::{BuildError, HyperTransport, TransportSettings};
use crate::transport::AsyncTransport;

/// The system's CSPRNG, for nonces and jitter.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemEntropy;

impl Entropy for SystemEntropy {
    fn next_u64(&mut self) -> u64 {
        use aws_lc_rs::rand::SecureRandom;
        let mut bytes = [0u8; 8];
        // The system RNG does not fail on supported platforms; if it ever did, a fixed value
        // only weakens jitter, and nonces stay unique per request through the timestamp.
        let _ = aws_lc_rs::rand::SystemRandom::new().fill(&mut bytes);
        u64::from_le_bytes(bytes)
    }
}

/// Unix seconds from the system clock.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Builds a [`Client`].
#[derive(Debug, Clone, Default)]
pub struct ClientBuilder {
    config: ClientConfig,
    settings: TransportSettings,
}

impl ClientBuilder {
    /// What the client is configured with: base URLs, credentials, keys, retry, rate limits
    /// and the `User-Agent` ([`ClientConfig`], shared with the other transport).
    pub fn config(mut self, config: ClientConfig) -> Self {
        self.config = config;
        self
    }

    /// The TCP connect timeout (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.settings.connect_timeout = timeout;
        self
    }

    /// The time for one attempt, from sending to the last byte of the answer (default 30 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.settings.request_timeout = timeout;
        self
    }

    /// Trusts `root` besides the WebPKI roots (the sandbox's CA, a corporate proxy's).
    pub fn add_root_certificate(mut self, root: CertificateDer<'static>) -> Self {
        self.settings.extra_roots.push(root);
        self
    }

    /// Trusts only the added roots.
    pub fn without_webpki_roots(mut self) -> Self {
        self.settings.webpki_roots = false;
        self
    }

    /// Idle connections per host kept for reuse (default 32; 0 disables reuse).
    pub fn pool_max_idle_per_host(mut self, max: usize) -> Self {
        self.settings.pool_max_idle_per_host = max;
        self
    }

    /// A client on the default hyper transport.
    pub fn build(self) -> Result<Client, BuildError> {
        let transport = HyperTransport::new(&self.settings)?;
        Ok(self.build_with_transport(transport))
    }

    /// A client on another transport (a closure will do).
    pub fn build_with_transport<T: AsyncTransport>(self, transport: T) -> Client<T> {
        Client { inner: Arc::new(Inner { core: ClientCore::new(self.config), transport }) }
    }
}

#[derive(Debug)]
struct Inner<T> {
    core: ClientCore,
    transport: T,
}

/// An async WeChat Pay client. Cheap to clone; clones share connections, keys, certificate
/// state and rate limits.
#[derive(Debug)]
pub struct Client<T = HyperTransport> {
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

impl<T: AsyncTransport> Client<T> {
    /// A fresh `nonce_str` for a CloudPay request (32 characters from the system CSPRNG).
    pub fn nonce(&self) -> NonceStr {
        random_nonce(&mut SystemEntropy)
    }

    /// The shared client state (keys held, configuration).
    pub fn core(&self) -> &ClientCore {
        &self.inner.core
    }

    /// Runs any operation: rate limit, sign, send, verify, parse, retry.
    pub async fn execute<O: Operation>(&self, operation: O) -> Result<O::Output, Error> {
        let span = tracing::info_span!(
            "wxpay",
            operation = O::NAME,
            attempt = tracing::field::Empty,
            request_id = tracing::field::Empty
        );
        let run = async {
            let mut exchange = Exchange::new(&self.inner.core, operation);
            let mut entropy = SystemEntropy;
            loop {
                match exchange.poll(Instant::now(), unix_now(), &mut entropy) {
                    Step::Sleep(delay) => tokio::time::sleep(delay).await,
                    Step::Send(request) => {
                        let span = tracing::Span::current();
                        span.record("attempt", exchange.attempts());
                        let path = request.uri().path().to_owned();
                        match self.inner.transport.send(request).await {
                            Ok(response) => {
                                tracing::debug!(path, status = response.status().as_u16(), "answer");
                                exchange.on_response(response, unix_now());
                            }
                            Err(error) => {
                                tracing::debug!(path, error = %error, "no answer");
                                exchange.on_transport_error(error, unix_now());
                            }
                        }
                        if let Some(id) = exchange.request_id() {
                            span.record("request_id", id);
                        }
                    }
                    Step::Done(result) => {
                        if let Err(e) = &result {
                            tracing::info!(error = %e, attempts = exchange.attempts(), "call failed");
                        }
                        return result;
                    }
                    _ => return Err(wxpay_protocol::security::SigningError::OutOfOrder.into()),
                }
            }
        };
        run.instrument(span).await
    }

    /// CloudPay profit-sharing return query (seeds/000).
    pub async fn return_query(
        &self,
        request: cloudpay::ReturnQueryRequest,
    ) -> Result<cloudpay::ReturnQueryResponse, Error> {
        self.execute(request).await
    }

    /// CloudPay profit-sharing finish (seeds/002). A timeout ends as
    /// [`Error::outcome_unknown`]: query or resend with the same `out_order_no`.
    pub async fn finish(&self, request: cloudpay::FinishRequest) -> Result<cloudpay::FinishResponse, Error> {
        self.execute(request).await
    }

    /// CloudPay refund query (seeds/004), one page.
    pub async fn refund_query(&self, request: RefundQueryRequest) -> Result<cloudpay::RefundQueryResponse, Error> {
        self.execute(request).await
    }

    /// API v3 e-commerce profit-sharing order query (seeds/003).
    pub async fn ecommerce_order_query(&self, request: v3::OrderQueryRequest) -> Result<v3::OrderQueryResponse, Error> {
        self.execute(request).await
    }

    /// API v3 e-commerce profit-sharing return query (seeds/001).
    pub async fn ecommerce_return_query(
        &self,
        request: v3::ReturnQueryRequest,
    ) -> Result<v3::ReturnQueryResponse, Error> {
        self.execute(request).await
    }

    /// Every refund `request` names, page by page ([`RefundPager`]), as a stream. It ends after
    /// the last refund, or with one error (an API error, or a [`PagingError`] when the pages
    /// contradict each other).
    pub fn refunds(&self, request: RefundQueryRequest) -> impl Stream<Item = Result<Refund, RefundStreamError>> + '_ {
        let pager = RefundPager::new(request);
        futures_util::stream::unfold(Some((pager, Vec::<Refund>::new().into_iter())), move |state| async move {
            let (mut pager, mut page) = state?;
            loop {
                if let Some(refund) = page.next() {
                    return Some((Ok(refund), Some((pager, page))));
                }
                let request = pager.next_request(self.nonce())?;
                let answer = match self.execute(request).await {
                    Ok(answer) => answer,
                    Err(e) => return Some((Err(RefundStreamError::Call(e)), None)),
                };
                match pager.push(answer) {
                    Ok(refunds) => page = refunds.into_iter(),
                    Err(e) => return Some((Err(RefundStreamError::Paging(e)), None)),
                }
            }
        })
    }
}

/// Why a refund stream ended early.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RefundStreamError {
    /// A page could not be fetched.
    #[error("a refund page could not be fetched")]
    Call(#[source] Error),
    /// The pages contradict each other.
    #[error("the refund pages are inconsistent")]
    Paging(#[source] PagingError),
}
