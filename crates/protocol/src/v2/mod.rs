//! WeChat Pay's v2 API (docs/protocol.md §5): the three CloudPay operations called directly, for
//! merchants outside WeChat Cloud Hosting. The same request and answer types as [`cloudpay`]
//! travel as `<xml>` documents signed with the API v2 key (MD5 or HMAC-SHA256), and the finish,
//! under `/secapi/`, needs the merchant API certificate as a TLS client certificate
//! ([`ClientConfig::client_identity`](crate::client::ClientConfig::client_identity)).
//!
//! A [`Merchant`] (`mch_id`, `appid`, the [`ApiV2Key`]) turns a CloudPay request into a
//! [`Call`], an [`Operation`](crate::Operation) whose answer is believed only after its `sign` checks out.
//!
//! ```
//! # #[cfg(feature = "aws-lc-rs")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use wxpay_protocol::v2::{ApiV2Key, AppId, Merchant};
//! use wxpay_protocol::{cloudpay, BaseUrl, NonceStr, Operation, OrderRef, OutOrderNo, OutReturnNo, SubMchId};
//! use wxpay_protocol::security::Mchid;
//!
//! let merchant = Merchant::new(Mchid::new("1900000100")?, AppId::new("wx8888888888888888")?,
//!                              ApiV2Key::new(b"192006250b4c09247ec02edce69f6a2d")?);
//! let query = cloudpay::ReturnQueryRequest::new(
//!     SubMchId::new("1900000109")?,
//!     OrderRef::OutOrderNo(OutOrderNo::new("P20150806125346")?),
//!     OutReturnNo::new("R20190516")?,
//! ).with_nonce(NonceStr::new("5K8264ILTKCH16CQ2502SI8ZNMTM67VS")?);
//! let call = merchant.call(query);
//! let request = call.build(&BaseUrl::v2_default())?;
//! assert_eq!(request.uri(), "https://api.mch.weixin.qq.com/pay/profitsharingreturnquery");
//! let body = std::str::from_utf8(request.body())?;
//! assert!(body.starts_with("<xml><appid><![CDATA[wx8888888888888888]]></appid>"));
//! assert!(body.contains("<sign_type><![CDATA[HMAC-SHA256]]></sign_type>"));
//!
//! // An answer whose `sign` does not check out is refused before it is read.
//! let forged = http::Response::new(b"<xml><return_code>SUCCESS</return_code><sign>00</sign></xml>".to_vec());
//! assert!(matches!(call.parse(&forged), Err(wxpay_protocol::Error::Verification(_))));
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "aws-lc-rs"))]
//! # fn main() {}
//! ```
//!
//! [`cloudpay`]: crate::cloudpay

mod answer;
mod call;
mod server;
mod sign;
mod xml;

pub use crate::validate::{AppId, SubAppId};
pub use answer::{danger, to_cloudpay};
pub use call::{Call, Merchant, V2Operation};
pub use server::{ReceivedRequest, RequestError, encode_answer, read_request};
pub use sign::{ApiV2Key, HmacSha256, SIGN, SIGN_TYPE, SignType, sign, string_to_sign, verify};
pub use xml::{Fields, MAX_FIELDS, XmlError, is_field_name};

use crate::operation::{Access, Api, FailureFields, Method, OperationSpec, RateLimit, RateScope};

/// The specs of the v2 operations ([`crate::operations`] lists every operation).
pub const OPERATIONS: &[&OperationSpec] = &[&RETURN_QUERY, &FINISH, &REFUND_QUERY];

/// `POST /pay/profitsharingreturnquery`: no client certificate; HMAC-SHA256 only; 30 QPS per
/// calling merchant (docs/protocol.md §5 and §7).
pub(crate) const RETURN_QUERY: OperationSpec = OperationSpec::new(
    "pay/profitsharingreturnquery",
    Api::V2,
    Method::Post,
    "/pay/profitsharingreturnquery",
    Some(RateLimit { qps: 30, per: RateScope::Merchant }),
    Access::Read,
    FailureFields::ErrorCode,
);

/// `POST /secapi/pay/profitsharingfinish`: the merchant API certificate as TLS client
/// certificate; HMAC-SHA256 only; 60 QPS per receiving merchant (docs/protocol.md §5 and §7).
pub(crate) const FINISH: OperationSpec = OperationSpec::new(
    "secapi/pay/profitsharingfinish",
    Api::V2,
    Method::Post,
    "/secapi/pay/profitsharingfinish",
    Some(RateLimit { qps: 60, per: RateScope::SubMerchant }),
    Access::IdempotentWrite,
    FailureFields::ResultCode,
);

/// `POST /pay/refundquery`: no certificate; MD5 (the v2 default) or HMAC-SHA256; no documented
/// limit (docs/protocol.md §5 and §7).
pub(crate) const REFUND_QUERY: OperationSpec = OperationSpec::new(
    "pay/refundquery",
    Api::V2,
    Method::Post,
    "/pay/refundquery",
    None,
    Access::Read,
    FailureFields::ResultCode,
);

/// Only the profit-sharing operations restrict the algorithm (docs/protocol.md §5).
const HMAC_ONLY: &[SignType] = &[SignType::HmacSha256];
const MD5_OR_HMAC: &[SignType] = &[SignType::Md5, SignType::HmacSha256];
