//! Response verification and the key set (docs/protocol.md §2.2, §2.3).
//!
//! message = `TIMESTAMP\nNONCE\nBODY\n` over the raw body bytes, from `Wechatpay-Timestamp`,
//! `Wechatpay-Nonce`, `Wechatpay-Signature` and `Wechatpay-Serial`. A 2xx answer without a valid
//! signature is forged and refused; error answers may be unsigned; `WECHATPAY/SIGNTEST/`
//! signatures are probes that must fail.

use crate::header;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

#[cfg(feature = "aws-lc-rs")]
use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, SubjectPublicKeyInfoDer};

use super::crypto::SignatureVerifier;
use super::error::{KeyError, VerificationError};

/// The largest accepted distance between a signed timestamp and now, in seconds.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// The prefix of WeChat Pay's deliberate bad-signature probes.
pub const SIGN_TEST_PREFIX: &str = "WECHATPAY/SIGNTEST/";

/// The only `Wechatpay-Signature-Type` this SDK verifies.
pub const SIGNATURE_TYPE: &str = "WECHATPAY2-SHA256-RSA2048";

/// Checks a signature for a key id: the seam where an embedder plugs in its own key store.
pub trait Verifier: fmt::Debug + Send + Sync {
    /// `Ok` when `signature` is a valid RSASSA-PKCS1-v1_5 SHA-256 signature of `message` by the
    /// key `serial` names.
    fn verify(&self, serial: &str, message: &[u8], signature: &[u8]) -> Result<(), VerificationError>;

    /// When the key `serial` names stops being valid (Unix seconds), if known: an answer signed
    /// with an expired platform certificate is refused.
    fn not_after(&self, serial: &str) -> Option<i64> {
        let _ = serial;
        None
    }
}

/// A WeChat Pay public key id: `PUB_KEY_ID_` followed by digits and letters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PublicKeyId(String);

impl PublicKeyId {
    /// The prefix every id has.
    pub const PREFIX: &'static str = "PUB_KEY_ID_";

    /// Validates an id.
    pub fn new(value: impl Into<String>) -> Result<Self, KeyError> {
        let value = value.into();
        let ok = value.len() <= 64
            && value
                .strip_prefix(Self::PREFIX)
                .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
        if !ok {
            return Err(KeyError::InvalidId {
                field: "public_key_id",
                reason: "must be PUB_KEY_ID_ followed by letters, digits or _ (at most 64 bytes)",
            });
        }
        Ok(Self(value))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Which kind of key a serial names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyKind {
    /// A WeChat Pay public key (`PUB_KEY_ID_...`).
    PublicKey,
    /// A WeChat Pay platform certificate (hex serial).
    PlatformCertificate,
    /// A merchant's API key (for servers such as the sandbox verifying requests).
    Merchant,
}

/// A public key with the serial it is known by.
///
/// It keeps the DER it was loaded from. With the `aws-lc-rs` feature the key is also parsed once
/// when loaded (a key aws-lc-rs refuses is a [`KeyError`] then); without it nothing is parsed
/// here but the PEM and the certificate, and the [`SignatureVerifier`] reads the DER when it
/// verifies.
#[derive(Clone)]
pub struct VerifyingKey {
    serial: String,
    kind: KeyKind,
    der: Arc<[u8]>,
    #[cfg(feature = "aws-lc-rs")]
    key: Arc<ParsedPublicKey>,
    not_after: Option<i64>,
}

impl VerifyingKey {
    /// A WeChat Pay public key from its SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
    pub fn from_public_key_pem(id: PublicKeyId, pem: &str) -> Result<Self, KeyError> {
        let spki =
            SubjectPublicKeyInfoDer::from_pem_slice(pem.as_bytes()).map_err(|e| KeyError::pem("PUBLIC KEY", &e))?;
        Self::from_der(id.0, KeyKind::PublicKey, spki.as_ref())
    }

    /// An RSA public key from its SPKI PEM, known by `serial` (a merchant's key, say, which a
    /// server such as the sandbox verifies requests with).
    pub fn from_spki_pem(serial: impl Into<String>, kind: KeyKind, pem: &str) -> Result<Self, KeyError> {
        let spki =
            SubjectPublicKeyInfoDer::from_pem_slice(pem.as_bytes()).map_err(|e| KeyError::pem("PUBLIC KEY", &e))?;
        Self::from_der(serial, kind, spki.as_ref())
    }

    /// The same key as another kind (a merchant's API certificate read with
    /// [`from_certificate_pem`](Self::from_certificate_pem), say).
    pub fn with_kind(mut self, kind: KeyKind) -> Self {
        self.kind = kind;
        self
    }

    /// A platform certificate from its PEM; the serial is read from the certificate.
    pub fn from_certificate_pem(pem: &str) -> Result<Self, KeyError> {
        let der = CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|e| KeyError::pem("CERTIFICATE", &e))?;
        Self::from_certificate_der(&der)
    }

    /// A platform certificate from its DER.
    pub fn from_certificate_der(der: &CertificateDer<'_>) -> Result<Self, KeyError> {
        let cert = webpki::EndEntityCert::try_from(der).map_err(KeyError::Certificate)?;
        let serial = serial_hex(cert.serial());
        Self::from_der(serial, KeyKind::PlatformCertificate, cert.subject_public_key_info().as_ref())
    }

    /// A key from a DER RSA public key (`SubjectPublicKeyInfo` or PKCS#1 `RSAPublicKey`).
    pub fn from_der(serial: impl Into<String>, kind: KeyKind, der: &[u8]) -> Result<Self, KeyError> {
        #[cfg(feature = "aws-lc-rs")]
        let key = Arc::new(
            ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der)
                .map_err(|e| KeyError::Rejected { reason: e.description_() })?,
        );
        Ok(Self {
            serial: serial.into(),
            kind,
            der: der.into(),
            #[cfg(feature = "aws-lc-rs")]
            key,
            not_after: None,
        })
    }

    /// The same key, known to expire at `not_after` (Unix seconds).
    pub fn expiring_at(mut self, not_after: i64) -> Self {
        self.not_after = Some(not_after);
        self
    }

    /// The serial (or public key id) this key is known by.
    pub fn serial(&self) -> &str {
        &self.serial
    }

    /// The kind of key.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// When the key expires, if known (Unix seconds).
    pub fn not_after(&self) -> Option<i64> {
        self.not_after
    }

    /// The DER the key was loaded from (a `SubjectPublicKeyInfo`, or what
    /// [`from_der`](Self::from_der) was given): what a [`SignatureVerifier`] verifies with.
    pub fn public_key_der(&self) -> &[u8] {
        &self.der
    }

    /// Checks `signature` over `message` with aws-lc-rs (feature `aws-lc-rs`).
    #[cfg(feature = "aws-lc-rs")]
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), VerificationError> {
        self.key.verify_sig(message, signature).map_err(|_| VerificationError::BadSignature(self.serial.clone()))
    }

    /// Checks `signature` over `message` with `verifier` (docs/design.md §2: the embedder's
    /// crypto).
    pub fn verify_with(
        &self,
        verifier: &(impl SignatureVerifier + ?Sized),
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), VerificationError> {
        if verifier.verify_signature(&self.der, message, signature) {
            Ok(())
        } else {
            Err(VerificationError::BadSignature(self.serial.clone()))
        }
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("serial", &self.serial)
            .field("kind", &self.kind)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

/// A certificate serial (DER INTEGER content) as upper-case hex without leading zero bytes, the
/// way WeChat Pay writes `serial_no`.
pub(crate) fn serial_hex(der_integer: &[u8]) -> String {
    let start = der_integer.iter().position(|&b| b != 0).unwrap_or(der_integer.len().saturating_sub(1));
    der_integer[start..].iter().map(|b| format!("{b:02X}")).collect()
}

/// Public keys and platform certificates by serial: both kinds coexist during migration.
///
/// Serials are compared case-insensitively (hex serials may be written in either case). The
/// set verifies with aws-lc-rs (feature `aws-lc-rs`) or with the [`SignatureVerifier`] given to
/// [`with_signature_verifier`](Self::with_signature_verifier); without either, every signature
/// fails with [`VerificationError::NoSignatureVerifier`].
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: BTreeMap<String, VerifyingKey>,
    signature_verifier: Option<Arc<dyn SignatureVerifier>>,
}

impl KeySet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The same set, checking signatures with `verifier` instead of aws-lc-rs: how an embedder
    /// without the `aws-lc-rs` feature supplies RSA verification (docs/design.md §2). It stays with
    /// the set's clones, the keys a certificate download adds included.
    pub fn with_signature_verifier(mut self, verifier: impl SignatureVerifier + 'static) -> Self {
        self.signature_verifier = Some(Arc::new(verifier));
        self
    }

    fn normalise(serial: &str) -> String {
        serial.to_ascii_uppercase()
    }

    /// Adds a key, returning the one it replaces.
    pub fn insert(&mut self, key: VerifyingKey) -> Option<VerifyingKey> {
        self.keys.insert(Self::normalise(&key.serial), key)
    }

    /// The key for `serial`.
    pub fn get(&self, serial: &str) -> Option<&VerifyingKey> {
        self.keys.get(&Self::normalise(serial))
    }

    /// Whether a key for `serial` is known.
    pub fn contains(&self, serial: &str) -> bool {
        self.get(serial).is_some()
    }

    /// Removes the key for `serial`.
    pub fn remove(&mut self, serial: &str) -> Option<VerifyingKey> {
        self.keys.remove(&Self::normalise(serial))
    }

    /// Every key.
    pub fn iter(&self) -> impl Iterator<Item = &VerifyingKey> {
        self.keys.values()
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The serial to send as `Wechatpay-Serial`: the public key if there is one (the mode WeChat
    /// Pay moves merchants to), else the platform certificate that expires last.
    pub fn preferred_serial(&self) -> Option<&str> {
        let public = self.keys.values().find(|k| k.kind == KeyKind::PublicKey);
        let cert = || {
            self.keys
                .values()
                .filter(|k| k.kind == KeyKind::PlatformCertificate)
                .max_by_key(|k| k.not_after.unwrap_or(i64::MIN))
        };
        public.or_else(cert).map(VerifyingKey::serial)
    }
}

impl Verifier for KeySet {
    fn verify(&self, serial: &str, message: &[u8], signature: &[u8]) -> Result<(), VerificationError> {
        let key = self.get(serial).ok_or_else(|| VerificationError::UnknownSerial(serial.to_owned()))?;
        match &self.signature_verifier {
            Some(verifier) => key.verify_with(verifier, message, signature),
            #[cfg(feature = "aws-lc-rs")]
            None => key.verify(message, signature),
            #[cfg(not(feature = "aws-lc-rs"))]
            None => Err(VerificationError::NoSignatureVerifier),
        }
    }

    fn not_after(&self, serial: &str) -> Option<i64> {
        self.get(serial)?.not_after()
    }
}

/// The message an answer's signature covers.
///
/// ```
/// use wxpay_protocol::security::response_message;
/// assert_eq!(response_message("1722850421", "d824f2e0", b"{}"), b"1722850421\nd824f2e0\n{}\n".to_vec());
/// ```
pub fn response_message(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(timestamp.len() + nonce.len() + body.len() + 3);
    for part in [timestamp.as_bytes(), nonce.as_bytes(), body] {
        m.extend_from_slice(part);
        m.push(b'\n');
    }
    m
}

/// The headers that sign an answer, as WeChat Pay (and the sandbox) send them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResponseSignature {
    /// `Wechatpay-Timestamp`.
    pub timestamp: String,
    /// `Wechatpay-Nonce`.
    pub nonce: String,
    /// `Wechatpay-Signature` (base64).
    pub signature: String,
    /// `Wechatpay-Serial`.
    pub serial: String,
}

impl ResponseSignature {
    /// The five headers, `Wechatpay-Signature-Type` included, in the order WeChat Pay sends them.
    pub fn headers(&self) -> [(&'static str, &str); 5] {
        [
            (header::WECHATPAY_NONCE, &self.nonce),
            (header::WECHATPAY_SIGNATURE, &self.signature),
            (header::WECHATPAY_TIMESTAMP, &self.timestamp),
            (header::WECHATPAY_SERIAL, &self.serial),
            (header::WECHATPAY_SIGNATURE_TYPE, SIGNATURE_TYPE),
        ]
    }
}

/// Signs an answer (the server side of [`verify_response`]): `timestamp` in Unix seconds, a
/// `nonce` from the caller's CSPRNG, the key `serial` names, and the raw body.
pub fn sign_response(
    body: &[u8],
    timestamp: i64,
    nonce: &str,
    serial: &str,
    signer: &(impl super::Signer + ?Sized),
) -> Result<ResponseSignature, super::SigningError> {
    let timestamp = timestamp.to_string();
    let signature = BASE64.encode(signer.sign(&response_message(&timestamp, nonce, body))?);
    Ok(ResponseSignature { timestamp, nonce: nonce.to_owned(), signature, serial: serial.to_owned() })
}

/// What verification established about an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verification {
    /// Signed by the key of `serial`.
    Signed {
        /// The `Wechatpay-Serial` that verified.
        serial: String,
    },
    /// An error answer without signature headers (which WeChat Pay may send): not authenticated,
    /// so it must only ever be reported as an error.
    UnsignedError,
    /// Not checked at all: made by [`danger::inspect_unverified`](super::danger::inspect_unverified)
    /// for offline inspection. Nothing in it is authenticated.
    Unchecked,
}

/// An API v3 answer whose signature was checked ([`verify_response`]): the only form the v3
/// parsers take, so an answer becomes a typed result only after verification
/// (docs/design.md §2: verified before typed). The one way around is named
/// [`danger::inspect_unverified`](super::danger::inspect_unverified).
///
/// An unverified answer does not parse:
///
/// ```compile_fail,E0308
/// use wxpay_protocol::v3::OrderQueryResponse;
/// let response = http::Response::new(br#"{"sub_mchid":"1900000109"}"#.to_vec());
/// let typed = OrderQueryResponse::parse(&response); // expected `&Verified<'_, _>`
/// ```
///
/// and a `Verified` cannot be made by hand:
///
/// ```compile_fail,E0451
/// use wxpay_protocol::security::{Verification, Verified};
/// let response = http::Response::new(Vec::new());
/// let forged = Verified { response: &response, verification: Verification::UnsignedError };
/// ```
#[derive(Debug)]
pub struct Verified<'a, B = Vec<u8>> {
    response: &'a http::Response<B>,
    verification: Verification,
}

impl<B> Clone for Verified<'_, B> {
    fn clone(&self) -> Self {
        Self { response: self.response, verification: self.verification.clone() }
    }
}

impl<'a, B> Verified<'a, B> {
    pub(crate) fn new(response: &'a http::Response<B>, verification: Verification) -> Self {
        Self { response, verification }
    }

    /// The answer.
    pub fn response(&self) -> &'a http::Response<B> {
        self.response
    }

    /// What was established about it.
    pub fn verification(&self) -> &Verification {
        &self.verification
    }
}

/// Checks a signed timestamp against `now` (both Unix seconds).
pub(crate) fn check_timestamp(timestamp: i64, now: i64) -> Result<(), VerificationError> {
    let limit = MAX_CLOCK_SKEW_SECS;
    let delta = now.saturating_sub(timestamp);
    if delta > limit {
        return Err(VerificationError::Stale { timestamp, age: delta, limit });
    }
    if delta < -limit {
        return Err(VerificationError::Future { timestamp, ahead: delta.saturating_neg(), limit });
    }
    Ok(())
}

const HEADERS: [&str; 4] =
    [header::WECHATPAY_TIMESTAMP, header::WECHATPAY_NONCE, header::WECHATPAY_SIGNATURE, header::WECHATPAY_SERIAL];

/// Verifies an answer (pure: `now` is Unix seconds from the caller's clock) and returns it as
/// [`Verified`], the form the v3 parsers take.
///
/// A 2xx answer must carry all four signature headers and a valid signature. A non-2xx answer
/// without any of them is [`Verification::UnsignedError`]; with them, it is verified like any
/// other. Signatures that start with `WECHATPAY/SIGNTEST/` fail.
pub fn verify_response<'a, B: AsRef<[u8]>>(
    response: &'a http::Response<B>,
    now: i64,
    verifier: &(impl Verifier + ?Sized),
) -> Result<Verified<'a, B>, VerificationError> {
    let headers = response.headers();
    if !response.status().is_success() && HEADERS.iter().all(|h| !headers.contains_key(*h)) {
        return Ok(Verified::new(response, Verification::UnsignedError));
    }
    let serial = verify_signed(headers, response.body().as_ref(), now, verifier)?;
    Ok(Verified::new(response, Verification::Signed { serial }))
}

/// The one signature check of everything WeChat Pay signs, answers and notifications alike
/// (docs/protocol.md §2.2, §6): the four `Wechatpay-*` headers over the raw `body`, the signature
/// type, `WECHATPAY/SIGNTEST/` probes refused, the timestamp within [`MAX_CLOCK_SKEW_SECS`] of
/// `now`, the key's expiry, and the signature by the key `Wechatpay-Serial` names. Returns that
/// serial.
pub(crate) fn verify_signed(
    headers: &http::HeaderMap,
    body: &[u8],
    now: i64,
    verifier: &(impl Verifier + ?Sized),
) -> Result<String, VerificationError> {
    let get = |name: &'static str| -> Result<&str, VerificationError> {
        headers
            .get(name)
            .ok_or(VerificationError::MissingHeader(name))?
            .to_str()
            .map_err(|_| VerificationError::MalformedHeader(name))
    };
    let [timestamp, nonce, signature, serial] =
        [get(HEADERS[0])?, get(HEADERS[1])?, get(HEADERS[2])?, get(HEADERS[3])?];
    if let Some(kind) = headers.get(header::WECHATPAY_SIGNATURE_TYPE) {
        let kind = kind.to_str().map_err(|_| VerificationError::MalformedHeader(header::WECHATPAY_SIGNATURE_TYPE))?;
        if kind != SIGNATURE_TYPE {
            return Err(VerificationError::UnsupportedSignatureType(kind.to_owned()));
        }
    }
    if signature.starts_with(SIGN_TEST_PREFIX) {
        return Err(VerificationError::SignTestProbe);
    }
    if timestamp.is_empty() || timestamp.len() > 18 || !timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(VerificationError::MalformedHeader(header::WECHATPAY_TIMESTAMP));
    }
    let ts: i64 = timestamp.parse().map_err(|_| VerificationError::MalformedHeader(header::WECHATPAY_TIMESTAMP))?;
    check_timestamp(ts, now)?;
    if let Some(not_after) = verifier.not_after(serial)
        && now > not_after
    {
        return Err(VerificationError::ExpiredKey { serial: serial.to_owned(), not_after });
    }
    let signature = BASE64.decode(signature).map_err(|_| VerificationError::MalformedBase64)?;
    let message = response_message(timestamp, nonce, body);
    verifier.verify(serial, &message, &signature)?;
    Ok(serial.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_hex_strips_der_sign_byte() {
        assert_eq!(serial_hex(&[0x00, 0x9F, 0x01]), "9F01");
        assert_eq!(serial_hex(&[0x5D, 0xEA]), "5DEA");
        assert_eq!(serial_hex(&[0x00]), "00");
        assert_eq!(serial_hex(&[]), "");
    }

    #[test]
    fn timestamps_within_300_seconds() {
        assert!(check_timestamp(1000, 1300).is_ok());
        assert!(check_timestamp(1000, 700).is_ok());
        assert!(matches!(check_timestamp(1000, 1301), Err(VerificationError::Stale { age: 301, .. })));
        assert!(matches!(check_timestamp(1000, 699), Err(VerificationError::Future { ahead: 301, .. })));
        assert!(check_timestamp(i64::MIN, i64::MAX).is_err());
        assert!(check_timestamp(i64::MAX, i64::MIN).is_err());
    }

    #[test]
    fn public_key_ids() {
        assert!(PublicKeyId::new("PUB_KEY_ID_0000000000000024101100397200000006").is_ok());
        for bad in ["", "PUB_KEY_ID_", "KEY_ID_1", "PUB_KEY_ID_1 2", "pub_key_id_1"] {
            assert!(PublicKeyId::new(bad).is_err(), "{bad}");
        }
    }
}
