//! The async client: one method per operation, a generic `execute`, and the refund pager as a
//! stream. Every decision comes from [`wxpay_protocol::client::Exchange`]; this file only
//! sleeps, sends and reads the clocks.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures_util::Stream;
use rustls::pki_types::CertificateDer;
use wxpay_protocol::client::{ClientConfig, ClientCore, Driver, RefundQuery, RefundsError};
use wxpay_protocol::cloudpay::Refund;
use wxpay_protocol::{Error, NonceStr, Operation, TransportError};
use wxpay_system::{Channel, SystemIo};

use crate::hyper_transport::{BuildError, HyperTransport, TransportSettings};
use crate::transport::AsyncTransport;

/// How the async client sends and waits: a transport, and tokio's timer.
#[derive(Debug)]
pub(crate) struct TokioChannel<T> {
    transport: T,
}

impl<T: AsyncTransport> Channel for TokioChannel<T> {
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> impl Future<Output = Result<http::Response<Vec<u8>>, TransportError>> {
        self.transport.send(request)
    }

    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> {
        tokio::time::sleep(duration)
    }
}

/// Builds a [`Client`]. The same methods, types and defaults as the blocking client's builder
/// (`wxpay_blocking::ClientBuilder`): connect timeout 5 s, request timeout 30 s, 32 idle
/// connections per host, the WebPKI roots, and the TLS client certificate taken from the
/// [`ClientConfig`] (none by default).
#[derive(Debug, Clone, Default)]
pub struct ClientBuilder {
    config: ClientConfig,
    settings: TransportSettings,
}

impl ClientBuilder {
    /// What the client is configured with: base URLs, credentials, keys, retry, rate limits,
    /// the `User-Agent` and the TLS client certificate ([`ClientConfig`], shared with the other
    /// transport). The certificate of [`ClientConfig::client_identity`] is presented to every
    /// server that asks for one ([`build`](Self::build)).
    pub fn config(mut self, config: ClientConfig) -> Self {
        self.config = config;
        self
    }

    /// Everything [`wxpay_settings::Settings`] holds: the [`ClientConfig`] it makes (base URLs,
    /// the v2 one included, credentials, keys, and the TLS client certificate of the v2
    /// `/secapi/` calls from `client_cert` and `client_key`), its extra CA roots and its
    /// timeouts. Key files are read here; an error names the setting, never a value. The v2
    /// calls' signer is [`Settings::v2_merchant`](wxpay_settings::Settings::v2_merchant).
    pub fn settings(mut self, settings: &wxpay_settings::Settings) -> Result<Self, BuildError> {
        self.config = settings.client_config()?;
        for root in settings.ca_roots()? {
            self = self.add_root_certificate(root);
        }
        if let Some(timeout) = settings.request_timeout {
            self = self.request_timeout(timeout);
        }
        if let Some(timeout) = settings.connect_timeout {
            self = self.connect_timeout(timeout);
        }
        Ok(self)
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

    /// A client on the default hyper transport; a root that is not a usable certificate is refused.
    ///
    /// When the configuration holds a TLS client certificate
    /// ([`ClientConfig::client_identity`]: the merchant API certificate the v2 calls under
    /// `/secapi/` need, docs/protocol.md §5), every connection offers it: TLS client authentication is
    /// requested by the server, so one TLS configuration serves all connections and a server
    /// that does not ask (the v3 API, CloudPay) never sees it. A key that rustls cannot use is
    /// [`BuildError::ClientIdentity`]; a key that is not the certificate's is
    /// [`BuildError::ClientKeyMismatch`].
    pub fn build(self) -> Result<Client, BuildError> {
        let transport = HyperTransport::new(&self.settings, self.config.tls_client_identity())?;
        Ok(self.build_with_transport(transport))
    }

    /// A client on another transport (a closure will do).
    pub fn build_with_transport<T: AsyncTransport>(self, transport: T) -> Client<T> {
        Client { driver: Arc::new(Driver::new(self.config, SystemIo(TokioChannel { transport }))) }
    }
}

/// An async WeChat Pay client. Cheap to clone; clones share connections, keys, certificate
/// state and rate limits. Every call runs the protocol's [`Driver`]; this client adds tokio's
/// timer and the system clock.
#[derive(Debug)]
pub struct Client<T = HyperTransport> {
    driver: Arc<Driver<SystemIo<TokioChannel<T>>>>,
}

impl<T> Clone for Client<T> {
    fn clone(&self) -> Self {
        Self { driver: self.driver.clone() }
    }
}

impl Client {
    /// A builder with WeChat Pay's defaults.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured the way the `wxpay` command is: the `WXPAY_*` variables over the
    /// TOML file `WXPAY_CONFIG` names ([`wxpay_settings::Settings::from_env`]).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let client = wxpay_transport_hyper::Client::from_env()?;
    /// # let _ = client; Ok(()) }
    /// ```
    pub fn from_env() -> Result<Client, BuildError> {
        Self::builder().settings(&wxpay_settings::Settings::from_env()?)?.build()
    }

    /// A client configured from the TOML file at `path`, under the `WXPAY_*` variables
    /// ([`wxpay_settings::Settings::from_file`]); relative paths in it are relative to it.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Client, BuildError> {
        Self::builder().settings(&wxpay_settings::Settings::from_file(path)?)?.build()
    }
}

impl<T: AsyncTransport> Client<T> {
    /// A fresh `nonce_str` for a CloudPay request (32 characters from the system CSPRNG).
    pub fn nonce(&self) -> NonceStr {
        self.driver.nonce()
    }

    /// The shared client state (keys held, configuration).
    pub fn core(&self) -> &ClientCore {
        self.driver.core()
    }

    /// Runs any operation: rate limit, sign, send, verify, parse, retry (what each does is in
    /// the operation's [`OperationSpec`](wxpay_protocol::OperationSpec)).
    ///
    /// A CloudPay finish whose answer is lost ends as [`Error::outcome_unknown`]: query or
    /// resend with the same `out_order_no`.
    pub async fn execute<O: Operation>(&self, operation: O) -> Result<O::Output, Error> {
        self.driver.execute(operation).await
    }

    /// Every refund `query` names, page by page ([`RefundPager`](wxpay_protocol::RefundPager)),
    /// as a stream: a CloudPay [`RefundQueryRequest`](wxpay_protocol::cloudpay::RefundQueryRequest), or one on the v2 wire
    /// ([`v2::Call`](wxpay_protocol::v2::Call)). It ends after the last refund, or with one
    /// error (an API error, or a [`PagingError`](wxpay_protocol::PagingError) when the pages
    /// contradict each other).
    pub fn refunds<'c, Q: RefundQuery + 'c>(
        &'c self,
        query: Q,
    ) -> impl Stream<Item = Result<Refund, RefundsError>> + 'c {
        let pages = self.driver.refund_pages(query);
        futures_util::stream::unfold((pages, Vec::new().into_iter()), |(mut pages, mut page)| async move {
            loop {
                if let Some(refund) = page.next() {
                    return Some((Ok(refund), (pages, page)));
                }
                match pages.next_page().await? {
                    Ok(refunds) => page = refunds.into_iter(),
                    Err(e) => return Some((Err(e), (pages, page))),
                }
            }
        })
    }
}

/// Why a refund stream ended early (the protocol's [`RefundsError`]).
pub type RefundStreamError = RefundsError;
