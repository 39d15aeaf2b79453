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
//!
//! ```
//! use wxpay_protocol::{cloudpay, BaseUrl, NonceStr, Operation, SubMchId, TransactionId, OutOrderNo, Description};
//!
//! let finish = cloudpay::FinishRequest::new(
//!     SubMchId::new("1900000109")?,
//!     NonceStr::new("5K8264ILTKCH16CQ2502SI8ZNMTM67VS")?,
//!     TransactionId::new("4208450740201411110007820472")?,
//!     OutOrderNo::new("P20150806125346")?,
//!     Description::new("分账已完成")?,
//! );
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

#![forbid(unsafe_code)]

mod amount;
mod api_error;
pub mod client;
pub mod cloudpay;
mod common;
mod endpoint;
mod error;
mod extra;
mod lookup;
mod number;
mod paginate;
mod retry;
pub mod security;
mod timestamp;
pub mod v3;
mod validate;
mod wire_enum;

pub use amount::Fen;
pub use common::ReceiverType;
pub use endpoint::{Api, BaseUrl, Operation};
pub use error::{
    ApiError, ApiErrorOrigin, Error, ErrorCode, MalformedKind, MalformedResponse, Rule, TransportError,
    TransportErrorKind, UnverifiedResponse, ValidationError,
};
pub use extra::Extra;
pub use lookup::{OrderRef, RefundLookup};
pub use paginate::{PAGE_SIZE, PagingError, RefundPager};
pub use retry::RetryClass;
pub use timestamp::{CHINA, InvalidTimestamp, TimeFormat, Timestamp};
pub use validate::{
    Description, NonceStr, Offset, OrderId, OutOrderNo, OutRefundNo, OutReturnNo, OutTradeNo, RefundId, SubMchId,
    TransactionId,
};
pub use wire_enum::UnknownValue;

/// The guide pages' examples compile and run as doctests.
#[cfg(doctest)]
mod guide {
    #[doc = include_str!("../../../docs/guide/cloudpay-return-query.md")]
    struct CloudPayReturnQuery;
    #[doc = include_str!("../../../docs/guide/cloudpay-finish.md")]
    struct CloudPayFinish;
    #[doc = include_str!("../../../docs/guide/cloudpay-refund-query.md")]
    struct CloudPayRefundQuery;
    #[doc = include_str!("../../../docs/guide/v3-order-query.md")]
    struct V3OrderQuery;
    #[doc = include_str!("../../../docs/guide/v3-return-query.md")]
    struct V3ReturnQuery;
}

/// The crate's version, for `User-Agent` strings.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
