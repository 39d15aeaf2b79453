//! The names of the headers WeChat Pay's API v3 reads and writes (docs/protocol.md §2), spelled as
//! the documents spell them (HTTP header names are case-insensitive; `http` stores them in
//! lower case).
//!
//! ```
//! let response = http::Response::builder().header("request-id", "08DE8AFB").body(()).unwrap();
//! assert_eq!(response.headers()[wxpay_protocol::header::REQUEST_ID], "08DE8AFB");
//! ```

/// The answer's timestamp, in Unix seconds.
pub const WECHATPAY_TIMESTAMP: &str = "Wechatpay-Timestamp";
/// The answer's nonce.
pub const WECHATPAY_NONCE: &str = "Wechatpay-Nonce";
/// The answer's signature (base64).
pub const WECHATPAY_SIGNATURE: &str = "Wechatpay-Signature";
/// On an answer, the key that signed it; on a request, the key the merchant verifies with.
pub const WECHATPAY_SERIAL: &str = "Wechatpay-Serial";
/// The signature algorithm of an answer ([`SIGNATURE_TYPE`](crate::security::SIGNATURE_TYPE)).
pub const WECHATPAY_SIGNATURE_TYPE: &str = "Wechatpay-Signature-Type";
/// WeChat Pay's id of the exchange, for support requests.
pub const REQUEST_ID: &str = "Request-ID";
