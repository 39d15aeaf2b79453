//! The blocking client: the protocol's [`Driver`] over an `Io` whose futures are ready at
//! once (the transport blocks, sleeping blocks), so every call completes in one poll and no
//! async runtime is involved.

use std::future::{Future, ready};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::CertificateDer;

use wxpay_protocol::client::{ClientConfig, ClientCore, Driver, RefundPages, RefundQuery, RefundsError, now_or_never};
use wxpay_protocol::cloudpay::{Refund, RefundQueryRequest};
use wxpay_protocol::security::SigningError;
use wxpay_protocol::{Error, NonceStr, Operation, TransportError};
use wxpay_system::{Channel, SystemIo};

use crate::transport::{BuildError, Settings, Transport, UreqTransport};

/// How the blocking client sends and waits: a blocking transport and `std::thread::sleep`. Its
/// futures are ready when they are made.
#[derive(Debug)]
pub(crate) struct BlockingChannel<T> {
    transport: T,
}

impl<T: Transport> Channel for BlockingChannel<T> {
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> impl Future<Output = Result<http::Response<Vec<u8>>, TransportError>> {
        ready(self.transport.send(request))
    }

    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> {
        std::thread::sleep(duration);
        ready(())
    }
}

/// The I/O of the blocking client.
type BlockingIo<T> = SystemIo<BlockingChannel<T>>;

/// Runs a future of the blocking driver, whose every await is ready at once.
fn block<T>(future: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
    // `None` would mean an await that was not ready: impossible with `BlockingIo`, reported as
    // a driver bug rather than a hang.
    now_or_never(future).unwrap_or_else(|| Err(SigningError::OutOfOrder.into()))
}

/// Builds a [`Client`]. The same methods, types and defaults as the async client's builder
/// (`wxpay_transport_hyper::ClientBuilder`): connect timeout 5 s, request timeout 30 s, 32 idle
/// connections per host, the WebPKI roots, and the TLS client certificate taken from the
/// [`ClientConfig`] (none by default).
#[derive(Debug, Clone, Default)]
pub struct ClientBuilder {
    config: ClientConfig,
    settings: Settings,
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

    /// Trusts `root` (the sandbox's CA, a corporate proxy's). Unlike the async client, with any
    /// root added only the added roots are trusted: ureq takes either the WebPKI roots or a list.
    pub fn add_root_certificate(mut self, root: CertificateDer<'static>) -> Self {
        self.settings.roots.push(root);
        self
    }

    /// Trusts only the added roots (which is already the case once one is added).
    pub fn without_webpki_roots(mut self) -> Self {
        self.settings.webpki_roots = false;
        self
    }

    /// Idle connections per host kept for reuse (default 32; 0 disables reuse).
    pub fn pool_max_idle_per_host(mut self, max: usize) -> Self {
        self.settings.max_idle_per_host = max;
        self
    }

    /// A client on the default ureq transport; a root that is not a usable certificate is refused.
    ///
    /// When the configuration holds a TLS client certificate
    /// ([`ClientConfig::client_identity`]: the merchant API certificate the v2 calls under
    /// `/secapi/` need, docs/protocol.md §5), every connection offers it: TLS client authentication is
    /// requested by the server, so one TLS configuration serves all connections and a server
    /// that does not ask (the v3 API, CloudPay) never sees it. A key that rustls cannot use is
    /// [`BuildError::ClientIdentity`]; a key that is not the certificate's is
    /// [`BuildError::ClientKeyMismatch`]. Both are found here, not on the first call.
    pub fn build(self) -> Result<Client, BuildError> {
        let transport = UreqTransport::new(&self.settings, self.config.tls_client_identity())?;
        Ok(self.build_with_transport(transport))
    }

    /// A client on another transport (a closure will do).
    pub fn build_with_transport<T: Transport>(self, transport: T) -> Client<T> {
        Client { driver: Arc::new(Driver::new(self.config, SystemIo(BlockingChannel { transport }))) }
    }
}

/// A blocking WeChat Pay client; clones share connections, keys and rate limits. Every call runs
/// the protocol's [`Driver`], the same as the async client's.
#[derive(Debug)]
pub struct Client<T = UreqTransport> {
    driver: Arc<Driver<BlockingIo<T>>>,
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
    pub fn from_env() -> Result<Client, BuildError> {
        Self::builder().settings(&wxpay_settings::Settings::from_env()?)?.build()
    }

    /// A client configured from the TOML file at `path`, under the `WXPAY_*` variables
    /// ([`wxpay_settings::Settings::from_file`]); relative paths in it are relative to it.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Client, BuildError> {
        Self::builder().settings(&wxpay_settings::Settings::from_file(path)?)?.build()
    }
}

impl<T: Transport> Client<T> {
    /// A fresh `nonce_str` for a CloudPay request.
    pub fn nonce(&self) -> NonceStr {
        self.driver.nonce()
    }

    /// The shared client state.
    pub fn core(&self) -> &ClientCore {
        self.driver.core()
    }

    /// Runs any operation: rate limit, sign, send, verify, parse, retry (what each does is in
    /// the operation's [`OperationSpec`](wxpay_protocol::OperationSpec)). A CloudPay finish
    /// whose answer is lost ends as [`Error::outcome_unknown`].
    pub fn execute<O: Operation>(&self, operation: O) -> Result<O::Output, Error> {
        block(self.driver.execute(operation))
    }

    /// Every refund `request` names, page by page, as an iterator that ends after the last
    /// refund or with one error.
    /// `query` is a CloudPay [`RefundQueryRequest`] or one on the v2 wire
    /// ([`v2::Call`](wxpay_protocol::v2::Call)).
    pub fn refunds<Q: RefundQuery>(&self, query: Q) -> Refunds<'_, T, Q> {
        Refunds { pages: self.driver.refund_pages(query), page: Vec::new().into_iter() }
    }
}

/// The refunds of an order, fetched page by page.
#[derive(Debug)]
pub struct Refunds<'c, T, Q = RefundQueryRequest> {
    pages: RefundPages<'c, BlockingIo<T>, Q>,
    page: std::vec::IntoIter<Refund>,
}

impl<T: Transport, Q: RefundQuery> Iterator for Refunds<'_, T, Q> {
    type Item = Result<Refund, RefundsError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(refund) = self.page.next() {
                return Some(Ok(refund));
            }
            let page = match now_or_never(self.pages.next_page()) {
                Some(page) => page?,
                None => Some(Err(RefundsError::Call(SigningError::OutOfOrder.into())))?,
            };
            match page {
                Ok(refunds) => self.page = refunds.into_iter(),
                Err(e) => return Some(Err(e)),
            }
        }
    }
}
