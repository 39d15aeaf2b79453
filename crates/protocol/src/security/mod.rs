//! API v3 security (docs/protocol.md §2): request signing, response verification, the two key modes
//! (WeChat Pay public keys `PUB_KEY_ID_...` and platform certificates) and the platform
//! certificate download, all as pure functions over bytes, keys, a timestamp and a nonce.
//!
//! Crypto sits behind small traits with default implementations on aws-lc-rs, the crypto
//! library rustls uses, so one crypto stack is compiled and an embedder can plug in an HSM or
//! KMS signer (docs/design.md §2). The defaults come with the `aws-lc-rs` feature (on by default);
//! without it, the embedder supplies each one:
//!
//! | crypto | trait | supplied through | default (`aws-lc-rs` feature) |
//! |---|---|---|---|
//! | RSA signing of requests (and answers, server side) | [`Signer`] | [`MerchantCredentials::new`], [`sign_response`] | [`RsaPrivateKey`] |
//! | RSA verification with one public key | [`SignatureVerifier`] | [`KeySet::with_signature_verifier`] | aws-lc-rs, each key parsed once when loaded |
//! | AES-256-GCM of certificate downloads | [`Aead`] | [`Apiv3Key::with_aead`] | aws-lc-rs ([`Apiv3Key::new`]) |
//! | all of verification, keys included | [`Verifier`] | [`verify_response`], [`verify_request`], [`verify_and_parse`] | [`KeySet`] |
//!
//! Everything else here (messages, headers, key sets, PEM and certificate reading with
//! rustls-pki-types and rustls-webpki, the certificate download and its refresh policy) is the
//! same with and without the feature. Without it, a [`KeySet`] that was given no
//! [`SignatureVerifier`] refuses every signature ([`VerificationError::NoSignatureVerifier`]),
//! and [`Apiv3Key::new`] and [`RsaPrivateKey`] do not exist. The feature only adds items, so a
//! crate built against the traits keeps compiling when something else in the graph turns it on.
//!
//! ```
//! # #[cfg(feature = "aws-lc-rs")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use wxpay_protocol::security::{sign_request, MerchantCredentials, RsaPrivateKey, SigningParams};
//! use wxpay_protocol::{v3, BaseUrl, NonceStr, Operation, OutOrderNo, SubMchId, TransactionId};
//! # let pem = include_str!("../../tests/vectors/doc-request-signature/private_key.pem"); // WeChat Pay's published test key
//! let key = RsaPrivateKey::from_pkcs8_pem(pem)?;
//! let credentials = MerchantCredentials::new("1900007291", "408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB", key)?;
//!
//! let query = v3::OrderQueryRequest::new(
//!     SubMchId::new("1900000109")?,
//!     TransactionId::new("4208450740201411110007820472")?,
//!     OutOrderNo::new("P20150806125346")?,
//! );
//! let mut request = query.build(&BaseUrl::v3_default())?;
//! let nonce = NonceStr::new("593BEC0C930BF1AFEB40B4A08C8FB242")?;
//! let signed = sign_request(&request, &SigningParams::new(&credentials, 1554208460, &nonce))?;
//! signed.apply_to(&mut request);
//! let auth = request.headers()["authorization"].to_str().unwrap();
//! assert!(auth.starts_with("WECHATPAY2-SHA256-RSA2048 mchid=\"1900007291\",nonce_str=\"593BEC0C930BF1AFEB40B4A08C8FB242\",signature=\""));
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "aws-lc-rs"))]
//! # fn main() {}
//! ```

mod certificates;
mod credentials;
mod crypto;
mod error;
mod identity;
mod key;
mod refresh;
mod sign;
mod verify;

pub use certificates::{
    Apiv3Key, CertificatesRequest, CertificatesResponse, EncryptedCertificate, EncryptedData, PlatformCertificate,
    decrypt_aes_256_gcm, encrypt_aes_256_gcm,
};
pub use credentials::{Mchid, MerchantCredentials, MerchantSerial};
pub use crypto::{Aead, SignatureVerifier};
pub use error::{CertificateError, KeyError, SigningError, VerificationError};
pub use identity::ClientIdentity;
#[cfg(feature = "aws-lc-rs")]
pub use key::RsaPrivateKey;
pub use key::Signer;
pub use refresh::{RefreshDecision, RefreshPolicy, RefreshState};
pub use sign::{
    AUTH_SCHEME, AuthorizationHeader, SignedHeaders, SigningParams, default_user_agent, parse_authorization,
    request_message, sign_request, verify_request,
};
pub(crate) use verify::verify_signed;
pub use verify::{
    KeyKind, KeySet, MAX_CLOCK_SKEW_SECS, PublicKeyId, ResponseSignature, SIGN_TEST_PREFIX, SIGNATURE_TYPE,
    Verification, Verified, Verifier, VerifyingKey, response_message, sign_response, verify_response,
};

/// The one way to parse an API v3 answer without checking its signature, for offline
/// inspection of a captured answer when no key is at hand (the CLI's keyless `--decode`, which
/// says so). Named like rustls's `danger` APIs: nothing parsed this way is authenticated.
pub mod danger {
    use super::{Verification, Verified};

    /// Treats `response` as if verified, marking it [`Verification::Unchecked`].
    ///
    /// ```
    /// use wxpay_protocol::security::{danger, Verification};
    /// use wxpay_protocol::v3::ReturnQueryResponse;
    /// let captured = http::Response::new(br#"{"code":"RESOURCE_NOT_EXISTS","message":"no"}"#.to_vec());
    /// let answer = danger::inspect_unverified(&captured);
    /// assert_eq!(answer.verification(), &Verification::Unchecked);
    /// assert!(ReturnQueryResponse::parse(&answer).is_err()); // a 200 without the fields
    /// ```
    pub fn inspect_unverified<B>(response: &http::Response<B>) -> Verified<'_, B> {
        Verified::new(response, Verification::Unchecked)
    }
}

use crate::error::{Error, UnverifiedResponse};
use crate::operation::{Answer, Operation};

/// Admits an answer the way its operation's wire requires (v3: [`verify_response`]; CloudPay:
/// as it is), then parses it: what a driver does with every answer.
///
/// A 2xx v3 answer must verify; an unsigned error answer is parsed into its API error; anything
/// that fails verification is [`Error::Verification`], with the raw answer kept.
pub fn verify_and_parse<O: Operation>(
    operation: &O,
    response: &http::Response<Vec<u8>>,
    now: i64,
    verifier: &(impl Verifier + ?Sized),
) -> Result<O::Output, Error> {
    let answer = O::Answer::admit(response, now, verifier).map_err(|cause| UnverifiedResponse::new(cause, response))?;
    operation.parse(answer)
}
