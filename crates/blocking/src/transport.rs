//! The transport seam, and the default ureq transport (presenting the merchant API certificate
//! as a TLS client certificate when the configuration holds one, docs/protocol.md §5).

use std::sync::Arc;
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use wxpay_protocol::security::ClientIdentity;
use wxpay_protocol::{TransportError, TransportErrorKind};
use zeroize::Zeroizing;

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
    /// The transport for `settings`, presenting `identity` as the TLS client certificate to
    /// every server that asks for one. TLS client authentication is requested by the server
    /// (WeChat Pay asks under `/secapi/` only, docs/protocol.md §5), so one TLS configuration serves
    /// every connection: a server that does not ask never sees the certificate.
    pub(crate) fn new(settings: &Settings, identity: Option<&ClientIdentity>) -> Result<Self, BuildError> {
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
        // The provider is passed explicitly (docs/design.md §5): one crypto stack, and no panic when a
        // user's graph enables both rustls providers.
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let client_cert = identity.map(|identity| client_cert(identity, &provider)).transpose()?;
        let tls = ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::Rustls)
            .root_certs(roots)
            .client_cert(client_cert)
            .unversioned_rustls_crypto_provider(provider)
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

/// `identity` as ureq's client certificate, checked first the way ureq will use it: ureq builds
/// its rustls configuration on the first connection and panics on a certificate and key that
/// rustls refuses, so the same chain and key go through rustls's
/// `with_client_auth_cert` with the same provider here, and a refusal is a [`BuildError`].
fn client_cert(identity: &ClientIdentity, provider: &Arc<CryptoProvider>) -> Result<ureq::tls::ClientCert, BuildError> {
    let key = identity.private_key();
    rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(BuildError::ClientIdentity)?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_client_auth_cert(identity.certificate_chain().to_vec(), key.clone_key())
        .map_err(|e| match e {
            rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => BuildError::ClientKeyMismatch,
            other => BuildError::ClientIdentity(other),
        })?;
    let key = ureq_private_key(&key)?;
    let chain: Vec<_> =
        identity.certificate_chain().iter().map(|der| ureq::tls::Certificate::from_der(der).to_owned()).collect();
    Ok(ureq::tls::ClientCert::new_with_certs(&chain, key))
}

/// `key` as ureq's private key. ureq makes one only from DER with a kind it does not export, or
/// from PEM: the DER is written as PEM under its kind's label, in buffers wiped when dropped.
fn ureq_private_key(key: &PrivateKeyDer<'_>) -> Result<ureq::tls::PrivateKey<'static>, BuildError> {
    use base64::Engine as _;
    let label = match key {
        PrivateKeyDer::Pkcs1(_) => "RSA PRIVATE KEY",
        PrivateKeyDer::Pkcs8(_) => "PRIVATE KEY",
        PrivateKeyDer::Sec1(_) => "EC PRIVATE KEY",
        _ => return Err(BuildError::ClientIdentity(rustls::Error::General("unsupported private key format".into()))),
    };
    let mut base64 = Zeroizing::new(String::with_capacity(key.secret_der().len().div_ceil(3) * 4));
    base64::engine::general_purpose::STANDARD.encode_string(key.secret_der(), &mut base64);
    let mut pem = Zeroizing::new(String::with_capacity(base64.len() + base64.len() / 64 + 2 * label.len() + 40));
    pem.push_str("-----BEGIN ");
    pem.push_str(label);
    pem.push_str("-----\n");
    for line in base64.as_bytes().chunks(64) {
        // Base64 is ASCII: every chunk is text.
        pem.push_str(std::str::from_utf8(line).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str("-----END ");
    pem.push_str(label);
    pem.push_str("-----\n");
    // The message of ureq's error names no key material, but it is not kept either.
    ureq::tls::PrivateKey::from_pem(pem.as_bytes())
        .map_err(|_| BuildError::ClientIdentity(rustls::Error::General("unreadable private key".into())))
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

#[cfg(test)]
mod tests {
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer};

    use super::ureq_private_key;

    #[test]
    fn every_key_kind_reaches_ureq_as_the_same_der_and_kind() {
        // Longer than one PEM line, and not a multiple of three bytes.
        let der: Vec<u8> = (0..=200u8).collect();
        let keys = [
            (PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(der.clone())), "Pkcs1"),
            (PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der.clone())), "Pkcs8"),
            (PrivateKeyDer::Sec1(PrivateSec1KeyDer::from(der.clone())), "Sec1"),
        ];
        for (key, kind) in keys {
            let converted = ureq_private_key(&key).unwrap();
            assert_eq!(converted.der(), der.as_slice());
            // ureq does not export its kind type; its `Debug` shows the kind and nothing else.
            assert_eq!(format!("{converted:?}"), format!("PrivateKey {{ kind: {kind} }}"));
        }
    }
}
