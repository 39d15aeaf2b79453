//! The HTTPS listener's certificate: a CA and a server certificate for `localhost`,
//! `127.0.0.1` and `::1`. They are generated at start, or read back from a key directory
//! (`key_dir.rs`) so that clients trust the same CA across restarts. The CA's private key is
//! never kept: only the server certificate and its key are needed to serve.

use std::fmt;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::error::SandboxError;

/// The TLS identity of the HTTPS listener.
pub(crate) struct TlsIdentity {
    /// The CA certificate, PEM: what clients add to their roots.
    pub(crate) ca_pem: String,
    /// The server certificate, PEM.
    pub(crate) cert_pem: String,
    /// The server certificate's private key, PKCS#8 PEM.
    pub(crate) key_pem: String,
    pub(crate) config: Arc<ServerConfig>,
}

impl fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsIdentity").finish_non_exhaustive()
    }
}

impl TlsIdentity {
    /// A CA and a server certificate for the loopback names, with rcgen's default validity
    /// (1975 to 4096).
    pub(crate) fn generate() -> Result<Self, SandboxError> {
        let ca_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(SandboxError::Generate)?;
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(SandboxError::Generate)?;
        ca_params.distinguished_name.push(rcgen::DnType::CommonName, "wxpay-sandbox test CA (test only)");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
        ca_params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).map_err(SandboxError::Generate)?;

        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(SandboxError::Generate)?;
        let mut params =
            rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()])
                .map_err(SandboxError::Generate)?;
        params.distinguished_name.push(rcgen::DnType::CommonName, "wxpay-sandbox");
        let cert = params.signed_by(&key, &ca).map_err(SandboxError::Generate)?;

        let chain = vec![CertificateDer::from(cert.der().to_vec())];
        let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let config = server_config(chain, private).map_err(SandboxError::Tls)?;
        Ok(Self { ca_pem: ca.pem(), cert_pem: cert.pem(), key_pem: key.serialize_pem(), config })
    }
}

/// The listener's configuration: HTTP/1.1 over TLS with one certificate. Fails when the key
/// does not match the certificate.
pub(crate) fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, rustls::Error> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The provider is passed explicitly: if a user's graph enables both rustls providers, the
/// implicit builder panics (docs/design.md §5).
pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}
