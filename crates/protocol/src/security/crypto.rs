//! The two crypto seams besides [`Signer`](super::Signer) and [`Verifier`](super::Verifier):
//! verification with one public key, and AES-256-GCM (docs/design.md §2: crypto sits behind small
//! traits with one default implementation on the crypto library rustls uses).
//!
//! With the `aws-lc-rs` feature (the default) both have aws-lc-rs defaults and nothing needs
//! supplying. Without it, a [`KeySet`](super::KeySet) verifies with the [`SignatureVerifier`]
//! given to [`KeySet::with_signature_verifier`](super::KeySet::with_signature_verifier), and an
//! [`Apiv3Key`](super::Apiv3Key) decrypts with the [`Aead`] given to
//! [`Apiv3Key::with_aead`](super::Apiv3Key::with_aead).

use std::fmt;
use std::sync::Arc;

use super::error::CertificateError;

/// The length of an AES-256-GCM nonce (docs/protocol.md §2.3: a 12-byte nonce).
pub(crate) const NONCE_LEN: usize = 12;

/// The length of an AES-256-GCM tag (docs/protocol.md §2.3: ciphertext = bytes + 16-byte tag).
pub(crate) const TAG_LEN: usize = 16;

/// Checks an RSASSA-PKCS1-v1_5 SHA-256 signature with one RSA public key (docs/protocol.md §2.2):
/// the crypto a [`KeySet`](super::KeySet) verifies with.
///
/// Give one to [`KeySet::with_signature_verifier`](super::KeySet::with_signature_verifier).
/// Without the `aws-lc-rs` feature a key set has no other way to check a signature; with it, the
/// one given replaces aws-lc-rs.
///
/// ```
/// use wxpay_protocol::security::SignatureVerifier;
///
/// #[derive(Debug)]
/// struct HostRsa; // RSA from the host: a JavaScript binding, another crypto library, ...
///
/// impl SignatureVerifier for HostRsa {
///     fn verify_signature(&self, public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
///         // ... ask the host whether `signature` is RSASSA-PKCS1-v1_5 SHA-256 of `message`
///         # let _ = (public_key, message, signature);
///         false
///     }
/// }
/// ```
pub trait SignatureVerifier: fmt::Debug + Send + Sync {
    /// Whether `signature` is a valid RSASSA-PKCS1-v1_5 SHA-256 signature of `message` by
    /// `public_key`.
    ///
    /// `public_key` is the DER the key was loaded from
    /// ([`VerifyingKey::public_key_der`](super::VerifyingKey::public_key_der)): a
    /// `SubjectPublicKeyInfo` for keys read from a PEM or a certificate, or what
    /// [`VerifyingKey::from_der`](super::VerifyingKey::from_der) was given (a
    /// `SubjectPublicKeyInfo` or a PKCS#1 `RSAPublicKey`). Any failure, a key it cannot read
    /// included, is `false`.
    fn verify_signature(&self, public_key: &[u8], message: &[u8], signature: &[u8]) -> bool;
}

impl<V: SignatureVerifier + ?Sized> SignatureVerifier for Arc<V> {
    fn verify_signature(&self, public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
        (**self).verify_signature(public_key, message, signature)
    }
}

impl<V: SignatureVerifier + ?Sized> SignatureVerifier for Box<V> {
    fn verify_signature(&self, public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
        (**self).verify_signature(public_key, message, signature)
    }
}

/// AES-256-GCM, the `AEAD_AES_256_GCM` that platform certificates (and notification resources)
/// are encrypted with under the APIv3 key (docs/protocol.md §2.3, §6): the crypto an
/// [`Apiv3Key`](super::Apiv3Key) decrypts with.
///
/// Give one to [`Apiv3Key::with_aead`](super::Apiv3Key::with_aead); with the `aws-lc-rs`
/// feature, [`Apiv3Key::new`](super::Apiv3Key::new) uses aws-lc-rs. The nonce has been checked
/// to be 12 bytes and the ciphertext to hold at least the tag before a method is called.
///
/// ```
/// use wxpay_protocol::security::{Aead, CertificateError};
///
/// #[derive(Debug)]
/// struct HostAesGcm; // AES-256-GCM from the host
///
/// impl Aead for HostAesGcm {
///     fn decrypt_aes_256_gcm(
///         &self,
///         key: &[u8; 32],
///         nonce: &[u8; 12],
///         aad: &[u8],
///         ciphertext_and_tag: &[u8],
///     ) -> Result<Vec<u8>, CertificateError> {
///         # let _ = (key, nonce, aad, ciphertext_and_tag);
///         Err(CertificateError::Decrypt) // ... or the plaintext the host returns
///     }
///
///     fn encrypt_aes_256_gcm(
///         &self,
///         key: &[u8; 32],
///         nonce: &[u8; 12],
///         aad: &[u8],
///         plaintext: &[u8],
///     ) -> Result<Vec<u8>, CertificateError> {
///         # let _ = (key, nonce, aad, plaintext);
///         Err(CertificateError::Decrypt)
///     }
/// }
/// ```
pub trait Aead: fmt::Debug + Send + Sync {
    /// Authenticates and decrypts `ciphertext_and_tag` (the encrypted bytes followed by the
    /// 16-byte tag) under `key`, `nonce` and the associated data `aad`. A wrong key, nonce or
    /// AAD, or any tampering, is [`CertificateError::Decrypt`].
    fn decrypt_aes_256_gcm(
        &self,
        key: &[u8; 32],
        nonce: &[u8; 12],
        aad: &[u8],
        ciphertext_and_tag: &[u8],
    ) -> Result<Vec<u8>, CertificateError>;

    /// Encrypts `plaintext` (the server side, as the sandbox's): the encrypted bytes followed by
    /// the 16-byte tag.
    fn encrypt_aes_256_gcm(
        &self,
        key: &[u8; 32],
        nonce: &[u8; 12],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CertificateError>;
}

impl<A: Aead + ?Sized> Aead for Arc<A> {
    fn decrypt_aes_256_gcm(
        &self,
        key: &[u8; 32],
        nonce: &[u8; 12],
        aad: &[u8],
        ciphertext_and_tag: &[u8],
    ) -> Result<Vec<u8>, CertificateError> {
        (**self).decrypt_aes_256_gcm(key, nonce, aad, ciphertext_and_tag)
    }

    fn encrypt_aes_256_gcm(
        &self,
        key: &[u8; 32],
        nonce: &[u8; 12],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CertificateError> {
        (**self).encrypt_aes_256_gcm(key, nonce, aad, plaintext)
    }
}

/// AES-256-GCM on aws-lc-rs: what [`Apiv3Key::new`](super::Apiv3Key::new) decrypts with.
#[cfg(feature = "aws-lc-rs")]
#[derive(Debug, Clone, Copy)]
pub(crate) struct AwsLcAead;

#[cfg(feature = "aws-lc-rs")]
impl Aead for AwsLcAead {
    fn decrypt_aes_256_gcm(
        &self,
        key: &[u8; 32],
        nonce: &[u8; 12],
        aad: &[u8],
        ciphertext_and_tag: &[u8],
    ) -> Result<Vec<u8>, CertificateError> {
        use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
        let key = UnboundKey::new(&AES_256_GCM, key).map_err(|_| CertificateError::Decrypt)?;
        let mut data = ciphertext_and_tag.to_vec();
        let len = LessSafeKey::new(key)
            .open_in_place(Nonce::assume_unique_for_key(*nonce), Aad::from(aad), &mut data)
            .map_err(|_| CertificateError::Decrypt)?
            .len();
        data.truncate(len);
        Ok(data)
    }

    fn encrypt_aes_256_gcm(
        &self,
        key: &[u8; 32],
        nonce: &[u8; 12],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CertificateError> {
        use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
        let key = UnboundKey::new(&AES_256_GCM, key).map_err(|_| CertificateError::Decrypt)?;
        let mut data = plaintext.to_vec();
        LessSafeKey::new(key)
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(*nonce), Aad::from(aad), &mut data)
            .map_err(|_| CertificateError::Decrypt)?;
        Ok(data)
    }
}
