//! Platform certificates: `GET /v3/certificates`, whose entries are AES-256-GCM encrypted under
//! the APIv3 key (docs/protocol.md §2.3).
//!
//! The download is a v3 operation like the others. Its answer is signed by one of the
//! certificates it carries, so it is verified with the certificates it decrypts (the
//! AES-GCM tag under the APIv3 key already authenticates them).
//!
//! AES-256-GCM is the [`Aead`] the [`Apiv3Key`] was made with: aws-lc-rs with
//! [`Apiv3Key::new`] (feature `aws-lc-rs`), or the embedder's with [`Apiv3Key::with_aead`].

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::crypto::{Aead, NONCE_LEN, TAG_LEN};
use super::error::{CertificateError, KeyError};
use super::verify::{Verified, VerifyingKey};
use crate::endpoint::BaseUrl;
use crate::error::{Error, ValidationError};
use crate::operation::{Access, Api, FailureFields, Method, Operation, OperationSpec, RateLimit, RateScope};
use crate::timestamp::Timestamp;

/// The APIv3 key: 32 bytes set in the merchant platform, and the AES-256-GCM ([`Aead`]) it is
/// used with. `Debug` never shows it, and its memory is wiped on drop.
#[derive(Clone)]
pub struct Apiv3Key {
    key: Zeroizing<[u8; 32]>,
    aead: Arc<dyn Aead>,
}

impl Apiv3Key {
    /// A key from its 32 bytes (the 32 characters of the merchant platform's setting), used with
    /// aws-lc-rs's AES-256-GCM (feature `aws-lc-rs`). Leading and trailing ASCII whitespace, as
    /// a key file's final newline, is not part of the key.
    #[cfg(feature = "aws-lc-rs")]
    pub fn new(key: &[u8]) -> Result<Self, KeyError> {
        Self::with_aead(key, super::crypto::AwsLcAead)
    }

    /// A key from its 32 bytes, as [`new`](Self::new) reads them, used with `aead`: how an
    /// embedder without the `aws-lc-rs` feature supplies AES-256-GCM (docs/design.md §2).
    pub fn with_aead(key: &[u8], aead: impl Aead + 'static) -> Result<Self, KeyError> {
        let key = key.trim_ascii();
        let bytes: [u8; 32] = key
            .try_into()
            .map_err(|_| KeyError::InvalidId { field: "apiv3_key", reason: "must be exactly 32 bytes" })?;
        Ok(Self { key: Zeroizing::new(bytes), aead: Arc::new(aead) })
    }
}

impl fmt::Debug for Apiv3Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Apiv3Key([redacted])")
    }
}

/// Decrypts an `AEAD_AES_256_GCM` field with the key's [`Aead`]: `ciphertext` is base64 of the
/// encrypted bytes followed by the 16-byte tag; `nonce` is 12 bytes; `associated_data` is the AAD.
pub fn decrypt_aes_256_gcm(
    key: &Apiv3Key,
    nonce: &[u8],
    associated_data: &[u8],
    ciphertext_base64: &str,
) -> Result<Vec<u8>, CertificateError> {
    let nonce: &[u8; NONCE_LEN] = nonce.try_into().map_err(|_| CertificateError::NonceLength(nonce.len()))?;
    let data = BASE64.decode(ciphertext_base64).map_err(|_| CertificateError::Base64("ciphertext"))?;
    if data.len() < TAG_LEN {
        return Err(CertificateError::Decrypt);
    }
    key.aead.decrypt_aes_256_gcm(&key.key, nonce, associated_data, &data)
}

/// Encrypts with `AEAD_AES_256_GCM` (the server side of [`decrypt_aes_256_gcm`]): returns
/// base64(ciphertext + tag). `nonce` must be 12 bytes from the caller's CSPRNG, never reused
/// with the same key.
pub fn encrypt_aes_256_gcm(
    key: &Apiv3Key,
    nonce: &[u8],
    associated_data: &[u8],
    plaintext: &[u8],
) -> Result<String, CertificateError> {
    let nonce: &[u8; NONCE_LEN] = nonce.try_into().map_err(|_| CertificateError::NonceLength(nonce.len()))?;
    Ok(BASE64.encode(key.aead.encrypt_aes_256_gcm(&key.key, nonce, associated_data, plaintext)?))
}

/// `GET /v3/certificates`: the platform certificates, encrypted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CertificatesRequest;

impl Operation for CertificatesRequest {
    type Output = CertificatesResponse;
    type Answer<'a> = Verified<'a>;
    /// 1000 requests/s per merchant (docs/protocol.md §7).
    const SPEC: OperationSpec = OperationSpec::new(
        "certificates",
        Api::V3,
        Method::Get,
        "/v3/certificates",
        Some(RateLimit { qps: 1000, per: RateScope::Merchant }),
        Access::Read,
        FailureFields::V3ErrorBody,
    );

    fn build(&self, base: &BaseUrl) -> Result<http::Request<Vec<u8>>, ValidationError> {
        crate::v3::build_get(base, Self::SPEC.path)
    }

    fn parse(&self, answer: Verified<'_>) -> Result<CertificatesResponse, Error> {
        crate::v3::parse_json(answer.response())
    }
}

impl CertificatesResponse {
    /// Reads a download before its signature can be checked: the certificate that signed it may
    /// be one it carries, so it is decrypted first and verified after (the client then checks
    /// the signature with [`verify_response`](super::verify_response) before adding any key).
    pub(crate) fn parse_before_verification(response: &http::Response<Vec<u8>>) -> Result<Self, Error> {
        crate::v3::parse_json(response)
    }
}

/// The answer of `GET /v3/certificates`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CertificatesResponse {
    /// One entry per certificate.
    pub data: Vec<EncryptedCertificate>,
}

/// One encrypted platform certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EncryptedCertificate {
    /// The certificate's serial.
    pub serial_no: String,
    /// Valid from (RFC 3339).
    pub effective_time: String,
    /// Valid until (RFC 3339).
    pub expire_time: String,
    /// The encrypted certificate.
    pub encrypt_certificate: EncryptedData,
}

/// An `AEAD_AES_256_GCM` encrypted field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EncryptedData {
    /// `AEAD_AES_256_GCM`.
    pub algorithm: String,
    /// 12 characters.
    pub nonce: String,
    /// The AAD (`certificate` for platform certificates).
    #[serde(default)]
    pub associated_data: String,
    /// base64(ciphertext + tag).
    pub ciphertext: String,
}

/// A decrypted platform certificate: serial, validity and key.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PlatformCertificate {
    /// The serial (upper-case hex).
    pub serial: String,
    /// Valid from.
    pub effective_time: Timestamp,
    /// Valid until.
    pub expire_time: Timestamp,
    /// The certificate, PEM.
    pub pem: String,
    /// Its public key, keyed by the serial, expiring at `expire_time`.
    pub key: VerifyingKey,
}

impl EncryptedCertificate {
    /// Decrypts the certificate with the APIv3 key and reads its serial and key. The serial in
    /// the certificate must match `serial_no`.
    pub fn decrypt(&self, key: &Apiv3Key) -> Result<PlatformCertificate, CertificateError> {
        let enc = &self.encrypt_certificate;
        if enc.algorithm != "AEAD_AES_256_GCM" {
            return Err(CertificateError::UnsupportedAlgorithm(enc.algorithm.clone()));
        }
        let effective_time =
            Timestamp::parse_rfc3339(&self.effective_time).map_err(|_| CertificateError::Time("effective_time"))?;
        let expire_time =
            Timestamp::parse_rfc3339(&self.expire_time).map_err(|_| CertificateError::Time("expire_time"))?;
        let plain = decrypt_aes_256_gcm(key, enc.nonce.as_bytes(), enc.associated_data.as_bytes(), &enc.ciphertext)?;
        let der = CertificateDer::from_pem_slice(&plain)
            .map_err(|e| CertificateError::Certificate(KeyError::pem("CERTIFICATE", &e)))?;
        let verifying = VerifyingKey::from_certificate_der(&der).map_err(CertificateError::Certificate)?;
        if !verifying.serial().eq_ignore_ascii_case(&self.serial_no) {
            return Err(CertificateError::SerialMismatch {
                listed: self.serial_no.clone(),
                actual: verifying.serial().to_owned(),
            });
        }
        Ok(PlatformCertificate {
            serial: verifying.serial().to_owned(),
            key: verifying.expiring_at(expire_time.unix_timestamp()),
            effective_time,
            expire_time,
            pem: String::from_utf8_lossy(&plain).into_owned(),
        })
    }
}

impl EncryptedCertificate {
    /// Encrypts a certificate PEM for the download answer (the server side of
    /// [`EncryptedCertificate::decrypt`]); `nonce` is 12 characters from the caller's CSPRNG.
    pub fn encrypt(
        certificate_pem: &str,
        serial_no: &str,
        effective_time: &str,
        expire_time: &str,
        key: &Apiv3Key,
        nonce: &str,
    ) -> Result<Self, CertificateError> {
        const AAD: &str = "certificate";
        let ciphertext = encrypt_aes_256_gcm(key, nonce.as_bytes(), AAD.as_bytes(), certificate_pem.as_bytes())?;
        Ok(Self {
            serial_no: serial_no.to_owned(),
            effective_time: effective_time.to_owned(),
            expire_time: expire_time.to_owned(),
            encrypt_certificate: EncryptedData {
                algorithm: "AEAD_AES_256_GCM".to_owned(),
                nonce: nonce.to_owned(),
                associated_data: AAD.to_owned(),
                ciphertext,
            },
        })
    }
}

impl CertificatesResponse {
    /// An answer listing `data`.
    pub fn new(data: Vec<EncryptedCertificate>) -> Self {
        Self { data }
    }

    /// Decrypts every certificate.
    pub fn decrypt(&self, key: &Apiv3Key) -> Result<Vec<PlatformCertificate>, CertificateError> {
        self.data.iter().map(|c| c.decrypt(key)).collect()
    }
}
