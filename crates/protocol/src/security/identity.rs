//! The merchant API certificate as a TLS client certificate (docs/protocol.md §5: the v2 endpoints
//! under `/secapi/` need it, 双向证书). The core only holds it; the transports present it.

use std::fmt;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::error::KeyError;

/// A certificate chain and its private key, read from PEM (`apiclient_cert.pem` and
/// `apiclient_key.pem`). `Debug` shows neither the key nor the certificates.
///
/// ```
/// # let (cert_pem, key_pem) = {
/// #     let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
/// #     let cert = rcgen::CertificateParams::new(vec!["merchant".into()]).unwrap().self_signed(&key).unwrap();
/// #     (cert.pem(), key.serialize_pem())
/// # };
/// use wxpay_protocol::security::ClientIdentity;
/// let identity = ClientIdentity::from_pem(cert_pem.as_bytes(), key_pem.as_bytes())?;
/// assert_eq!(identity.certificate_chain().len(), 1);
/// assert_eq!(format!("{identity:?}"), "ClientIdentity { certificates: 1, private_key: \"[redacted]\" }");
/// assert!(ClientIdentity::from_pem(key_pem.as_bytes(), cert_pem.as_bytes()).is_err());
/// # Ok::<(), wxpay_protocol::security::KeyError>(())
/// ```
pub struct ClientIdentity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl ClientIdentity {
    /// Reads the certificates of `cert_pem` (leaf first) and the private key of `key_pem`
    /// (PKCS#8, PKCS#1 or SEC1). Errors quote nothing of either text.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Self, KeyError> {
        let chain = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| KeyError::pem("CERTIFICATE", &e))?;
        if chain.is_empty() {
            return Err(KeyError::Pem { expected: "CERTIFICATE", reason: "no section of this kind" });
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| KeyError::pem("PRIVATE KEY", &e))?;
        Ok(Self { chain, key })
    }

    /// The certificates, leaf first.
    pub fn certificate_chain(&self) -> &[CertificateDer<'static>] {
        &self.chain
    }

    /// A copy of the private key, for a TLS library.
    pub fn private_key(&self) -> PrivateKeyDer<'static> {
        self.key.clone_key()
    }
}

impl Clone for ClientIdentity {
    fn clone(&self) -> Self {
        Self { chain: self.chain.clone(), key: self.key.clone_key() }
    }
}

impl fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("certificates", &self.chain.len())
            .field("private_key", &"[redacted]")
            .finish()
    }
}
