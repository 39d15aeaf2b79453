//! The HTTPS listener's certificate: a throw-away CA and a server certificate for `localhost`,
//! `127.0.0.1` and `::1`, generated at start. Clients trust the CA's PEM, which the sandbox
//! writes where asked.

use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::error::SandboxError;

/// The generated TLS identity.
#[derive(Debug)]
pub(crate) struct TlsIdentity {
    /// The CA certificate, PEM: what clients add to their roots.
    pub(crate) ca_pem: String,
    pub(crate) config: Arc<ServerConfig>,
}

impl TlsIdentity {
    /// A CA and a server certificate for the loopback names, with rcgen's default validity
    /// (1975 to 4096): both are made afresh at every start.
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
        // The provider is passed explicitly: if a user's graph enables both rustls providers,
        // the implicit builder panics (DESIGN.md 7).
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(SandboxError::Tls)?
            .with_no_client_auth()
            .with_single_cert(chain, private)
            .map_err(SandboxError::Tls)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self { ca_pem: ca.pem(), config: Arc::new(config) })
    }
}
