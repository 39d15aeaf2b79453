//! The HTTPS listener's certificate: a CA and a server certificate for `localhost`,
//! `127.0.0.1` and `::1`. They are generated at start, or read back from a key directory
//! (`key_dir.rs`) so that clients trust the same CA across restarts. The CA's private key is
//! never kept: only the server certificate and its key are needed to serve.
//!
//! The listener asks every client for a certificate and lets those without one in
//! ([`with_client_auth`]): the v2 paths under `/secapi/` refuse a connection that presented
//! none (docs/protocol.md §5, `server.rs`), every other path ignores it.

use std::fmt;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;

use crate::error::SandboxError;

/// The TLS identity of the HTTPS listener.
pub(crate) struct TlsIdentity {
    /// The CA certificate, PEM: what clients add to their roots.
    pub(crate) ca_pem: String,
    /// The server certificate, PEM.
    pub(crate) cert_pem: String,
    /// The server certificate's private key, PKCS#8 PEM.
    pub(crate) key_pem: String,
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

        Ok(Self { ca_pem: ca.pem(), cert_pem: cert.pem(), key_pem: key.serialize_pem() })
    }
}

impl TlsIdentity {
    /// The listener's configuration with client authentication: a client certificate is asked
    /// for, verified against `client_roots` when one is presented (a certificate that does not
    /// chain to them fails the handshake), and optional.
    pub(crate) fn with_client_auth(
        &self,
        client_roots: Vec<CertificateDer<'static>>,
    ) -> Result<Arc<ServerConfig>, SandboxError> {
        let chain = CertificateDer::pem_slice_iter(self.cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| SandboxError::Config("the TLS certificate is not PEM"))?;
        let key = PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes())
            .map_err(|_| SandboxError::Config("the TLS private key is not PEM"))?;
        let mut roots = rustls::RootCertStore::empty();
        for root in client_roots {
            roots
                .add(root)
                .map_err(|_| SandboxError::Config("a client CA certificate is not usable as a trust anchor"))?;
        }
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
            .allow_unauthenticated()
            .build()
            .map_err(|_| SandboxError::Config("no usable client CA certificate"))?;
        server_config(chain, key, Some(verifier)).map_err(SandboxError::Tls)
    }
}

/// The listener's configuration: HTTP/1.1 over TLS with one certificate, asking for client
/// certificates when given a verifier. Fails when the key does not match the certificate.
pub(crate) fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    client_verifier: Option<Arc<dyn rustls::server::danger::ClientCertVerifier>>,
) -> Result<Arc<ServerConfig>, rustls::Error> {
    let builder = ServerConfig::builder_with_provider(provider()).with_safe_default_protocol_versions()?;
    let builder = match client_verifier {
        Some(verifier) => builder.with_client_cert_verifier(verifier),
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The provider is passed explicitly: if a user's graph enables both rustls providers, the
/// implicit builder panics (docs/design.md §5).
pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}
