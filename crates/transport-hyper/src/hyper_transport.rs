//! The default transport: hyper 1 with the hyper-util pooled client and hyper-rustls, on the
//! aws-lc-rs provider shared with wxpay-protocol, presenting the merchant API certificate as a
//! TLS client certificate when the configuration holds one (docs/protocol.md §5).

use std::error::Error as StdError;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client as PooledClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use wxpay_protocol::security::ClientIdentity;
use wxpay_protocol::{TransportError, TransportErrorKind};

use crate::transport::AsyncTransport;

/// The largest answer read (WeChat Pay's answers here are a few kilobytes).
const MAX_ANSWER: usize = 4 * 1024 * 1024;

/// TLS and connection settings.
#[derive(Debug, Clone)]
pub(crate) struct TransportSettings {
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) extra_roots: Vec<CertificateDer<'static>>,
    pub(crate) webpki_roots: bool,
    pub(crate) pool_idle_timeout: Duration,
    pub(crate) pool_max_idle_per_host: usize,
}

impl Default for TransportSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            extra_roots: Vec::new(),
            webpki_roots: true,
            pool_idle_timeout: Duration::from_secs(90),
            pool_max_idle_per_host: 32,
        }
    }
}

/// A pooled HTTP/1.1 client over rustls.
#[derive(Clone)]
pub struct HyperTransport {
    client: PooledClient<HttpsConnector<HttpConnector>, Full<Bytes>>,
    request_timeout: Duration,
}

impl std::fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HyperTransport").field("request_timeout", &self.request_timeout).finish_non_exhaustive()
    }
}

/// Why the transport could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The TLS configuration was refused.
    #[error("invalid TLS configuration")]
    Tls(#[source] rustls::Error),
    /// An extra root certificate was refused.
    #[error("invalid root certificate")]
    Root(#[source] rustls::Error),
    /// No root certificate at all.
    #[error("no root certificates: enable the WebPKI roots or add one")]
    NoRoots,
    /// The TLS client certificate ([`ClientConfig::client_identity`]) was refused: its private
    /// key is not one rustls can sign with (RSA, ECDSA or EdDSA), or its certificate does not
    /// parse. The error never quotes the key.
    ///
    /// [`ClientConfig::client_identity`]: wxpay_protocol::client::ClientConfig::client_identity
    #[error("invalid TLS client certificate or private key")]
    ClientIdentity(#[source] rustls::Error),
    /// The TLS client certificate's private key is not the key of its certificate (the
    /// certificate file and the key file of two different API certificates, say).
    #[error("the TLS client private key does not match the client certificate")]
    ClientKeyMismatch,
    /// The settings could not be loaded (a file, a variable, a key).
    #[error("cannot load the client settings")]
    Settings(#[from] wxpay_settings::SettingsError),
}

impl HyperTransport {
    /// The transport for `settings`, presenting `identity` as the TLS client certificate to
    /// every server that asks for one. TLS client authentication is requested by the server
    /// (WeChat Pay asks under `/secapi/` only, docs/protocol.md §5), so one TLS configuration serves
    /// every connection: a server that does not ask never sees the certificate.
    pub(crate) fn new(settings: &TransportSettings, identity: Option<&ClientIdentity>) -> Result<Self, BuildError> {
        let mut roots = RootCertStore::empty();
        if settings.webpki_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        for root in &settings.extra_roots {
            roots.add(root.clone()).map_err(BuildError::Root)?;
        }
        if roots.is_empty() {
            return Err(BuildError::NoRoots);
        }
        // The provider is passed explicitly: if a user's graph enables both rustls providers,
        // the implicit builder panics (docs/design.md §5).
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(BuildError::Tls)?
            .with_root_certificates(roots);
        let tls = match identity {
            None => tls.with_no_client_auth(),
            Some(identity) => tls
                .with_client_auth_cert(identity.certificate_chain().to_vec(), identity.private_key())
                .map_err(identity_error)?,
        };
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(settings.connect_timeout));
        http.set_nodelay(true);
        // CloudPay's sidecar is plain HTTP by design; v3 base URLs are checked by the caller.
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = PooledClient::builder(TokioExecutor::new())
            .pool_idle_timeout(settings.pool_idle_timeout)
            .pool_max_idle_per_host(settings.pool_max_idle_per_host)
            .build(connector);
        Ok(Self { client, request_timeout: settings.request_timeout })
    }

    async fn exchange(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, TransportError> {
        let (parts, body) = request.into_parts();
        let request = http::Request::from_parts(parts, Full::new(Bytes::from(body)));
        let response = self.client.request(request).await.map_err(classify)?;
        let (parts, body) = response.into_parts();
        let body = Limited::new(body, MAX_ANSWER)
            .collect()
            .await
            .map_err(|e| TransportError::new(TransportErrorKind::Io, e))?
            .to_bytes();
        Ok(http::Response::from_parts(parts, body.to_vec()))
    }
}

impl AsyncTransport for HyperTransport {
    async fn send(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, TransportError> {
        match tokio::time::timeout(self.request_timeout, self.exchange(request)).await {
            Ok(result) => result,
            Err(elapsed) => Err(TransportError::new(TransportErrorKind::Timeout, elapsed)),
        }
    }
}

/// Why rustls refused a client certificate and key, as a [`BuildError`].
fn identity_error(e: rustls::Error) -> BuildError {
    match e {
        rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => BuildError::ClientKeyMismatch,
        other => BuildError::ClientIdentity(other),
    }
}

/// Maps a hyper-util error to the protocol's transport kinds: a refused TLS handshake is final,
/// a failed connect means nothing was sent, anything later may have reached the server.
fn classify(e: hyper_util::client::legacy::Error) -> TransportError {
    let kind = if is_tls(&e) {
        TransportErrorKind::Tls
    } else if e.is_connect() {
        TransportErrorKind::Connect
    } else {
        TransportErrorKind::Io
    };
    TransportError::new(kind, e)
}

/// Whether a rustls error is anywhere in the chain, including inside `io::Error`s (whose
/// `source()` skips the error they wrap).
fn is_tls(error: &(dyn StdError + 'static)) -> bool {
    error.is::<rustls::Error>()
        || error.downcast_ref::<std::io::Error>().and_then(std::io::Error::get_ref).is_some_and(|inner| is_tls(inner))
        || error.source().is_some_and(is_tls)
}
