//! The transport seam, and the default ureq transport.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use wxpay_protocol::{TransportError, TransportErrorKind};

/// Why the client could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// An extra root certificate was refused.
    #[error("invalid root certificate")]
    Root(#[source] rustls::Error),
    /// No root certificate at all.
    #[error("no root certificates: enable the WebPKI roots or add one")]
    NoRoots,
    /// The settings could not be loaded (a file, a variable, a key).
    #[error("cannot load the client settings")]
    Settings(#[from] wxpay_settings::SettingsError),
}

/// Sends requests, blocking. [`UreqTransport`] is the default; a closure
/// `Fn(http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, TransportError>` is one too.
///
/// ```
/// use wxpay_blocking::Client;
/// let canned = |_request: http::Request<Vec<u8>>| Ok(http::Response::new(b"{}".to_vec()));
/// let client = Client::builder().build_with_transport(canned);
/// # let _ = client;
/// ```
pub trait Transport {
    /// Sends `request` and reads the whole answer.
    fn send(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, TransportError>;
}

impl<F> Transport for F
where
    F: Fn(http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, TransportError>,
{
    fn send(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, TransportError> {
        self(request)
    }
}

/// The largest answer read.
const MAX_ANSWER: u64 = 4 * 1024 * 1024;

/// A pooled ureq agent over rustls.
#[derive(Debug, Clone)]
pub struct UreqTransport {
    agent: ureq::Agent,
}

/// Connection and TLS settings.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) roots: Vec<CertificateDer<'static>>,
    pub(crate) webpki_roots: bool,
    pub(crate) max_idle_per_host: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            roots: Vec::new(),
            webpki_roots: true,
            max_idle_per_host: 32,
        }
    }
}

impl UreqTransport {
    pub(crate) fn new(settings: &Settings) -> Result<Self, BuildError> {
        // Checked as the async client checks them: each must be a usable trust anchor.
        let mut check = rustls::RootCertStore::empty();
        for root in &settings.roots {
            check.add(root.clone()).map_err(BuildError::Root)?;
        }
        let roots = if !settings.roots.is_empty() {
            let certs: Vec<_> =
                settings.roots.iter().map(|der| ureq::tls::Certificate::from_der(der).to_owned()).collect();
            ureq::tls::RootCerts::new_with_certs(&certs)
        } else if settings.webpki_roots {
            ureq::tls::RootCerts::WebPki
        } else {
            return Err(BuildError::NoRoots);
        };
        // The provider is passed explicitly (docs/design.md §5): one crypto stack, and no panic
        // when a user's graph enables both rustls providers.
        let tls = ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::Rustls)
            .root_certs(roots)
            .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
            .build();
        let config = ureq::Agent::config_builder()
            .tls_config(tls)
            .http_status_as_error(false)
            .timeout_connect(Some(settings.connect_timeout))
            .timeout_global(Some(settings.request_timeout))
            .max_idle_connections_per_host(settings.max_idle_per_host)
            .user_agent(ureq::config::AutoHeaderValue::None)
            .build();
        Ok(Self { agent: ureq::Agent::new_with_config(config) })
    }
}

impl Transport for UreqTransport {
    fn send(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, TransportError> {
        let response = self.agent.run(request).map_err(classify)?;
        let (parts, mut body) = response.into_parts();
        let bytes = body.with_config().limit(MAX_ANSWER).read_to_vec().map_err(classify)?;
        Ok(http::Response::from_parts(parts, bytes))
    }
}

/// Maps ureq's errors to the protocol's transport kinds.
fn classify(e: ureq::Error) -> TransportError {
    use ureq::Error as E;
    use ureq::Timeout as T;
    let kind = match &e {
        E::Timeout(T::Resolve | T::Connect) | E::HostNotFound | E::ConnectionFailed => TransportErrorKind::Connect,
        E::Timeout(_) => TransportErrorKind::Timeout,
        E::Tls(_) | E::Rustls(_) | E::Pem(_) => TransportErrorKind::Tls,
        E::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => TransportErrorKind::Timeout,
        E::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => TransportErrorKind::Connect,
        E::Io(io) if io.get_ref().is_some_and(|inner| is_tls(inner)) => TransportErrorKind::Tls,
        _ => TransportErrorKind::Io,
    };
    TransportError::new(kind, e)
}

/// Whether a rustls error is anywhere in the chain, including inside `io::Error`s (whose
/// `source()` skips the error they wrap).
fn is_tls(error: &(dyn std::error::Error + 'static)) -> bool {
    error.is::<rustls::Error>()
        || error.downcast_ref::<std::io::Error>().and_then(std::io::Error::get_ref).is_some_and(|inner| is_tls(inner))
        || error.source().is_some_and(is_tls)
}
