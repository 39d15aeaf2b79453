//! Errors of the security layer. None of them carries key material (docs/design.md §3: secrets
//! never appear in `Debug`, logs or errors).

/// A key or certificate could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The PEM text holds no section of the expected kind, or is not PEM. Only a fixed reason
    /// is kept: the PEM reader's own error can quote the text it choked on, which may be a key.
    #[error("no usable {expected} in the PEM text: {reason}")]
    Pem {
        /// What was looked for ("PRIVATE KEY", "PUBLIC KEY", "CERTIFICATE").
        expected: &'static str,
        /// Why, in fixed words.
        reason: &'static str,
    },
    /// The key is not an RSA key aws-lc-rs accepts for RSASSA-PKCS1-v1_5 SHA-256 (2048 to 8192
    /// bits).
    #[error("not a usable RSA key: {reason}")]
    Rejected {
        /// aws-lc-rs's reason, a fixed description that holds no key material.
        reason: &'static str,
    },
    /// The certificate could not be parsed.
    #[error("not a usable X.509 certificate")]
    Certificate(#[source] webpki::Error),
    /// A key id or serial is not valid.
    #[error("invalid `{field}`: {reason}")]
    InvalidId {
        /// Which id.
        field: &'static str,
        /// Why.
        reason: &'static str,
    },
}

impl KeyError {
    /// A PEM reading failure, reduced to a reason that quotes nothing of the input.
    pub(crate) fn pem(expected: &'static str, error: &rustls_pki_types::pem::Error) -> Self {
        use rustls_pki_types::pem::Error as E;
        let reason = match error {
            E::MissingSectionEnd { .. } => "a section has no END line",
            E::IllegalSectionStart { .. } => "a BEGIN line is malformed",
            E::Base64Decode(_) => "the section is not valid base64",
            E::Io(_) => "the PEM text could not be read",
            E::NoItemsFound => "no section of this kind",
            E::SectionTooLarge => "a section is too large",
            _ => "the PEM text is malformed",
        };
        KeyError::Pem { expected, reason }
    }
}

/// A request could not be signed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SigningError {
    /// The signer failed (an HSM or KMS error, or aws-lc-rs refusing).
    #[error("the signer failed")]
    Signer(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
    /// The request has no path (it was not built by an [`Operation`](crate::Operation)).
    #[error("the request has no path to sign")]
    NoPath,
    /// A header value would not be valid HTTP.
    #[error("the {0} header value is not valid HTTP")]
    InvalidHeader(&'static str),
    /// A v3 call without merchant credentials.
    #[error("API v3 calls need merchant credentials (mchid, certificate serial, private key)")]
    MissingCredentials,
    /// A call to a `/secapi/` endpoint without a TLS client certificate configured.
    #[error("{0} needs the merchant API certificate as a TLS client certificate (ClientConfig::client_identity)")]
    MissingClientCertificate(&'static str),
    /// An [`Exchange`](crate::client::Exchange) was polled while it awaited an answer.
    #[error("the exchange was driven out of order (a transport bug)")]
    OutOfOrder,
}

/// Why an answer's (or a request's) signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerificationError {
    /// A signature header is missing from an answer that must be signed.
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    /// A header is present but not readable (not ASCII, or not the expected form).
    #[error("header {0} is malformed")]
    MalformedHeader(&'static str),
    /// `Wechatpay-Signature-Type` names an algorithm we do not verify.
    #[error("unsupported signature type {0:?}")]
    UnsupportedSignatureType(String),
    /// The timestamp is more than [`MAX_CLOCK_SKEW_SECS`](super::MAX_CLOCK_SKEW_SECS) in the past.
    #[error("timestamp {timestamp} is {age} s old (limit {limit} s)")]
    Stale {
        /// The signed timestamp.
        timestamp: i64,
        /// How old it is.
        age: i64,
        /// The limit.
        limit: i64,
    },
    /// The timestamp is more than the limit in the future.
    #[error("timestamp {timestamp} is {ahead} s in the future (limit {limit} s)")]
    Future {
        /// The signed timestamp.
        timestamp: i64,
        /// How far ahead.
        ahead: i64,
        /// The limit.
        limit: i64,
    },
    /// The signature is not valid base64.
    #[error("the signature is not valid base64")]
    MalformedBase64,
    /// A `WECHATPAY/SIGNTEST/` probe: WeChat Pay checks that clients refuse it.
    #[error("signature test probe (WECHATPAY/SIGNTEST/) refused")]
    SignTestProbe,
    /// No key for this serial.
    #[error("no key for serial {0}")]
    UnknownSerial(String),
    /// No key is held to verify answers with (in certificate mode, the download failed and
    /// may not be retried yet).
    #[error("no key to verify answers with: the platform certificate download failed")]
    NoKeys,
    /// The key of the serial (a platform certificate) has expired.
    #[error("the key {serial} expired at {not_after}")]
    ExpiredKey {
        /// The serial.
        serial: String,
        /// When it expired (Unix seconds).
        not_after: i64,
    },
    /// The signature does not verify with the key of its serial.
    #[error("bad signature for serial {0}")]
    BadSignature(String),
    /// The `Authorization` header does not have the documented form.
    #[error("malformed Authorization: {0}")]
    MalformedAuthorization(&'static str),
    /// The `Authorization` header names another merchant.
    #[error("Authorization is for mchid {0}")]
    WrongMchid(String),
    /// A v2 answer reporting success has no `sign` (docs/protocol.md §5: only FAIL answers are
    /// unsigned).
    #[error("the v2 answer has no sign")]
    MissingSign,
    /// A v2 answer's `sign` does not match its fields under the API v2 key and the request's
    /// algorithm.
    #[error("the v2 answer's sign does not match its fields under the API v2 key")]
    BadSign,
    /// A [`KeySet`](super::KeySet) has no crypto to check signatures with: built without the
    /// `aws-lc-rs` feature, it needs [`KeySet::with_signature_verifier`](super::KeySet::with_signature_verifier).
    #[error("no signature verifier: without the aws-lc-rs feature, give the key set one")]
    NoSignatureVerifier,
}

/// The platform certificate download could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateError {
    /// `encrypt_certificate.algorithm` is not `AEAD_AES_256_GCM`.
    #[error("unsupported algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// A base64 field is not valid base64.
    #[error("{0} is not valid base64")]
    Base64(&'static str),
    /// The nonce is not 12 bytes.
    #[error("the nonce must be 12 bytes, got {0}")]
    NonceLength(usize),
    /// AES-256-GCM refused the ciphertext: a wrong APIv3 key, or tampering.
    #[error("decryption failed: wrong APIv3 key or tampered ciphertext")]
    Decrypt,
    /// The decrypted certificate could not be read.
    #[error("the decrypted certificate is unusable")]
    Certificate(#[source] KeyError),
    /// The certificate's serial differs from the entry's `serial_no`.
    #[error("serial_no {listed} does not match the certificate's serial {actual}")]
    SerialMismatch {
        /// The entry's `serial_no`.
        listed: String,
        /// The certificate's serial.
        actual: String,
    },
    /// A validity time is not RFC 3339.
    #[error("{0} is not an RFC 3339 time")]
    Time(&'static str),
}
