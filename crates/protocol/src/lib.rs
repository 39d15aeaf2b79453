//! # wxpay-protocol
//!
//! The sans-IO core of the wxpay SDK for WeChat Pay's profit-sharing (分账) and refund queries:
//! typed, validated requests that build into `http::Request<Vec<u8>>`, and parsers that turn an
//! `http::Response` into a typed answer or a typed [`Error`]. No sockets, no clock, no
//! randomness: transports (or your own HTTP stack) send the bytes, and a fuzzer or a test can
//! call every function directly.
//!
//! | operation | request type | wire |
//! |---|---|---|
//! | profit-sharing return query | [`cloudpay::ReturnQueryRequest`] | CloudPay JSON |
//! | profit-sharing finish | [`cloudpay::FinishRequest`] | CloudPay JSON |
//! | refund query | [`cloudpay::RefundQueryRequest`] (+ [`RefundPager`]) | CloudPay JSON |
//! | e-commerce profit-sharing order query | [`v3::OrderQueryRequest`] | API v3 |
//! | e-commerce profit-sharing return query | [`v3::ReturnQueryRequest`] | API v3 |
//! | the three CloudPay operations, called directly | [`v2::Call`] around the same request types ([`v2::Merchant::call`]) | v2 XML, MD5 / HMAC-SHA256, mutual TLS on `/secapi/` |
//! | profit-sharing notifications (received) | [`notify::parse_notification`] | API v3 signature, AES-256-GCM |
//!
//! ```
//! use wxpay_protocol::{cloudpay, BaseUrl, NonceStr, Operation, SubMchId, TransactionId, OutOrderNo, Description};
//!
//! let finish = cloudpay::FinishRequest::new(
//!     SubMchId::new("1900000109")?,
//!     TransactionId::new("4208450740201411110007820472")?,
//!     OutOrderNo::new("P20150806125346")?,
//!     Description::new("分账已完成")?,
//! ).with_nonce(NonceStr::new("5K8264ILTKCH16CQ2502SI8ZNMTM67VS")?);
//! let request = finish.build(&BaseUrl::cloudpay_default())?;
//! assert_eq!(request.method(), "POST");
//!
//! // ... send it with any HTTP client, then:
//! let answer = http::Response::new(
//!     br#"{"return_code":"SUCCESS","result_code":"SUCCESS","transaction_id":"4208450740201411110007820472",
//!         "out_order_no":"P20150806125346","order_id":"3008450740201411110007820472",
//!         "receiver":"{\"type\":\"MERCHANT_ID\",\"account\":\"190001001\"}"}"#.to_vec(),
//! );
//! let done = finish.parse(&answer)?;
//! assert_eq!(done.order_id, "3008450740201411110007820472");
//! assert_eq!(done.receiver.unwrap().account, "190001001");
//! # Ok::<(), wxpay_protocol::Error>(())
//! ```
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `aws-lc-rs` | yes | the crypto on aws-lc-rs (docs/design.md §5): [`security::RsaPrivateKey`], verification by a [`security::KeySet`] on its own, [`security::Apiv3Key::new`], [`v2::ApiV2Key::new`] |
//!
//! ## Embedding without aws-lc-rs
//!
//! With `default-features = false` nothing of aws-lc-rs is compiled and the crate builds for
//! `wasm32-unknown-unknown` (docs/design.md §2). Building, signing, verifying and parsing stay the
//! same; the embedder supplies the crypto through the [`security`] traits:
//!
//! - signing: a [`security::Signer`], in [`security::MerchantCredentials::new`];
//! - verification: a [`security::SignatureVerifier`] (RSASSA-PKCS1-v1_5 SHA-256 with one DER
//!   public key), in [`security::KeySet::with_signature_verifier`]; or a whole
//!   [`security::Verifier`] of its own, passed where a `KeySet` would be;
//! - AES-256-GCM for the platform certificate download: a [`security::Aead`], in
//!   [`security::Apiv3Key::with_aead`];
//! - HMAC-SHA256 for the v2 wire: a [`v2::HmacSha256`], in [`v2::ApiV2Key::with_hmac`] (MD5,
//!   the v2 refund query's default, is pure Rust and always there).
//!
//! The [`client`] state machine takes `std::time::Instant`s from its driver, and `Instant::now`
//! traps on `wasm32-unknown-unknown` (it has no clock); a driver there calls the build, sign,
//! verify and parse functions directly, as below.
//!
//! ```
//! use wxpay_protocol::security::{sign_request, MerchantCredentials, Signer, SigningError, SigningParams};
//! use wxpay_protocol::{v3, BaseUrl, NonceStr, Operation, OutOrderNo, SubMchId, TransactionId};
//!
//! /// Signs with the host's RSA: a JavaScript binding, a KMS, another crypto library.
//! #[derive(Debug)]
//! struct HostSigner;
//!
//! impl Signer for HostSigner {
//!     fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SigningError> {
//!         host_rsa_pkcs1_sha256(message).map_err(|e| SigningError::Signer(e.into()))
//!     }
//! }
//! # fn host_rsa_pkcs1_sha256(_: &[u8]) -> Result<Vec<u8>, std::io::Error> { Ok(vec![0x5a; 256]) }
//!
//! let credentials = MerchantCredentials::new("1900007291", "408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB", HostSigner)?;
//! let query = v3::OrderQueryRequest::new(
//!     SubMchId::new("1900000109")?,
//!     TransactionId::new("4208450740201411110007820472")?,
//!     OutOrderNo::new("P20150806125346")?,
//! );
//! let mut request = query.build(&BaseUrl::v3_default())?;
//! // The timestamp and the nonce come from the host's clock and CSPRNG.
//! let nonce = NonceStr::new("593BEC0C930BF1AFEB40B4A08C8FB242")?;
//! sign_request(&request, &SigningParams::new(&credentials, 1554208460, &nonce))?.apply_to(&mut request);
//! assert!(request.headers()["authorization"].to_str()?.starts_with("WECHATPAY2-SHA256-RSA2048 mchid=\"1900007291\""));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
// The docs link the `aws-lc-rs` feature's items (RsaPrivateKey, Apiv3Key::new) by name; without
// the feature those links have no target, and the text around them says so.
#![cfg_attr(not(feature = "aws-lc-rs"), allow(rustdoc::broken_intra_doc_links))]

mod amount;
mod api_error;
pub mod client;
pub mod cloudpay;
mod common;
mod endpoint;
mod error;
mod extra;
pub mod header;
mod json;
mod lookup;
pub mod notify;
mod number;
mod operation;
mod paginate;
mod retry;
pub mod security;
mod timestamp;
pub mod v2;
pub mod v3;
mod validate;
mod wire_enum;

pub use amount::Fen;
pub use common::ReceiverType;
pub use endpoint::BaseUrl;
pub use error::{
    ApiError, ApiErrorOrigin, Error, ErrorCode, MalformedKind, MalformedResponse, Rule, TransportError,
    TransportErrorKind, UnverifiedResponse, ValidationError,
};
pub use extra::Extra;
pub use json::MAX_ANSWER_BYTES;
pub use lookup::{OrderRef, RefundLookup};
pub use operation::{
    Access, Answer, Api, FailureFields, Method, Operation, OperationSpec, RateLimit, RateScope, operation_at,
    operation_named, operations,
};
pub use paginate::{MAX_REFUNDS, PAGE_SIZE, PagingError, RefundPager};
pub use retry::RetryClass;
pub use timestamp::{CHINA, InvalidTimestamp, TimeFormat, Timestamp};
pub use validate::{
    Description, NonceStr, Offset, OrderId, OutOrderNo, OutRefundNo, OutReturnNo, OutTradeNo, RefundId, SubMchId,
    TransactionId,
};
pub use wire_enum::UnknownValue;

/// The guide pages' examples (`guide/*.md`, linked from `docs/guide/README.md`) compile and run as
/// doctests; they live in this package so that its tests pass from the packaged crate.
#[cfg(doctest)]
mod guide {
    #[doc = include_str!("../guide/cloudpay-return-query.md")]
    struct CloudPayReturnQuery;
    #[doc = include_str!("../guide/cloudpay-finish.md")]
    struct CloudPayFinish;
    #[doc = include_str!("../guide/cloudpay-refund-query.md")]
    struct CloudPayRefundQuery;
    #[doc = include_str!("../guide/v3-order-query.md")]
    struct V3OrderQuery;
    #[doc = include_str!("../guide/v3-return-query.md")]
    struct V3ReturnQuery;
    #[cfg(feature = "aws-lc-rs")]
    #[doc = include_str!("../guide/notifications.md")]
    struct Notifications;
    #[cfg(feature = "aws-lc-rs")]
    #[doc = include_str!("../guide/v2.md")]
    struct V2Wire;
}

/// The crate's version, for `User-Agent` strings.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
