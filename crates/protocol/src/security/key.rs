//! The merchant's private key and the [`Signer`] trait. The key, [`RsaPrivateKey`], is the
//! aws-lc-rs default (feature `aws-lc-rs`); the trait is always there (docs/design.md §2).

use std::fmt;

#[cfg(feature = "aws-lc-rs")]
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
#[cfg(feature = "aws-lc-rs")]
use rustls_pki_types::PrivatePkcs8KeyDer;
#[cfg(feature = "aws-lc-rs")]
use rustls_pki_types::pem::PemObject;

#[cfg(feature = "aws-lc-rs")]
use super::error::KeyError;
use super::error::SigningError;

/// Signs a message with RSASSA-PKCS1-v1_5 and SHA-256 (docs/protocol.md §2.1).
///
/// The default is [`RsaPrivateKey`] (feature `aws-lc-rs`); implement it to sign in an HSM or a
/// KMS, or, without the feature, with the embedder's own RSA.
///
/// ```
/// use wxpay_protocol::security::{Signer, SigningError};
///
/// #[derive(Debug)]
/// struct Kms; // a client of a key-management service
///
/// impl Signer for Kms {
///     fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SigningError> {
///         // ... ask the KMS for an RSASSA-PKCS1-v1_5 SHA-256 signature of `message`
///         # let _ = message;
///         Err(SigningError::Signer("KMS unreachable".into()))
///     }
/// }
/// ```
pub trait Signer: fmt::Debug + Send + Sync {
    /// The raw signature bytes of `message`.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SigningError>;
}

/// An RSA private key (the merchant's API key, `apiclient_key.pem`), signing with aws-lc-rs
/// (feature `aws-lc-rs`). `Debug` never shows it.
#[cfg(feature = "aws-lc-rs")]
pub struct RsaPrivateKey {
    key: RsaKeyPair,
}

#[cfg(feature = "aws-lc-rs")]
impl RsaPrivateKey {
    /// Loads a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), as WeChat Pay issues it.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, KeyError> {
        let der = PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes()).map_err(|e| KeyError::pem("PRIVATE KEY", &e))?;
        Self::from_pkcs8_der(der.secret_pkcs8_der())
    }

    /// Loads a PKCS#8 DER key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let key = RsaKeyPair::from_pkcs8(der).map_err(|e| KeyError::Rejected { reason: e.description_() })?;
        Ok(Self { key })
    }

    /// The public half, as a DER `SubjectPublicKeyInfo`-compatible RSA public key.
    pub fn public_key_der(&self) -> Vec<u8> {
        use aws_lc_rs::signature::KeyPair;
        self.key.public_key().as_ref().to_vec()
    }

    /// The public half as a PEM `SubjectPublicKeyInfo` (`-----BEGIN PUBLIC KEY-----`), the form
    /// WeChat Pay publishes its public keys in.
    pub fn public_key_pem(&self) -> Result<String, KeyError> {
        use aws_lc_rs::encoding::AsDer;
        use aws_lc_rs::signature::KeyPair;
        use base64::Engine as _;
        let der = self
            .key
            .public_key()
            .as_der()
            .map_err(|_| KeyError::Rejected { reason: "cannot encode the public key" })?;
        let b64 = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
        let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
        for line in b64.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).unwrap_or_default());
            pem.push('\n');
        }
        pem.push_str("-----END PUBLIC KEY-----\n");
        Ok(pem)
    }

    /// The modulus length in bytes (256 for RSA-2048).
    pub fn signature_len(&self) -> usize {
        self.key.public_modulus_len()
    }
}

#[cfg(feature = "aws-lc-rs")]
impl fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RsaPrivateKey({} bits, [redacted])", self.key.public_modulus_len() * 8)
    }
}

#[cfg(feature = "aws-lc-rs")]
impl Signer for RsaPrivateKey {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SigningError> {
        let mut signature = vec![0; self.key.public_modulus_len()];
        // aws-lc-rs ignores the random source for RSA signing (PKCS#1 v1.5 is deterministic), so
        // no randomness enters the protocol layer: the same inputs give the same signature.
        let rng = aws_lc_rs::rand::SystemRandom::new();
        self.key
            .sign(&RSA_PKCS1_SHA256, &rng, message, &mut signature)
            .map_err(|e| SigningError::Signer(Box::new(e)))?;
        Ok(signature)
    }
}

impl<S: Signer + ?Sized> Signer for std::sync::Arc<S> {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SigningError> {
        (**self).sign(message)
    }
}

impl<S: Signer + ?Sized> Signer for Box<S> {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SigningError> {
        (**self).sign(message)
    }
}
