//! CloudPay: the WeChat Pay v2 API carried as JSON over WeChat's private link
//! (docs/protocol.md §1).
//!
//! Requests are `POST {base}/_/pay/{name}` with a snake_case JSON body and no signature.
//! Answers come in several shapes and all of them are accepted: wrapped in
//! `{"errcode","errmsg","respdata"}` or bare; snake_case or camelCase keys; numbers as JSON
//! numbers or digit strings; refund lists as indexed keys or parallel arrays. [`ReplyShape`]
//! names those shapes, and every answer type can be written in each of them (which the sandbox
//! and the property tests use).

mod encode;
mod fields;
mod finish;
mod refund_query;
mod request;
mod return_query;
mod status;

pub use encode::{KeyCase, ListStyle, NumberStyle, ReplyShape};
pub use finish::{FinishRequest, FinishResponse, Receiver, ReceiverType};
pub use refund_query::{
    CouponRefund, CouponType, Refund, RefundAccount, RefundChannel, RefundDetails, RefundQueryRequest,
    RefundQueryResponse, RefundStatus,
};
pub use return_query::{ReturnAccountType, ReturnFailReason, ReturnQueryRequest, ReturnQueryResponse, ReturnResult};
pub use status::Failure;

use crate::endpoint::BaseUrl;
use crate::error::ValidationError;
use crate::operation::{Access, Api, FailureFields, Method, Operation, OperationSpec, RateLimit};

/// The three CloudPay operations, for code that handles them by kind (the sandbox, encoders).
/// Everything they declare comes from their [`OperationSpec`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloudPayOp {
    /// Profit-sharing return query (docs/protocol.md §8.1).
    ReturnQuery,
    /// Profit-sharing finish (docs/protocol.md §8.3).
    Finish,
    /// Refund query (docs/protocol.md §8.5).
    RefundQuery,
}

/// The specs of the CloudPay operations ([`crate::operations`] lists every operation).
pub const OPERATIONS: &[&OperationSpec] = &[&ReturnQueryRequest::SPEC, &FinishRequest::SPEC, &RefundQueryRequest::SPEC];

impl CloudPayOp {
    /// Every CloudPay operation.
    pub const ALL: [CloudPayOp; 3] = [CloudPayOp::ReturnQuery, CloudPayOp::Finish, CloudPayOp::RefundQuery];

    /// The operation's description.
    pub fn spec(self) -> &'static OperationSpec {
        match self {
            CloudPayOp::ReturnQuery => &ReturnQueryRequest::SPEC,
            CloudPayOp::Finish => &FinishRequest::SPEC,
            CloudPayOp::RefundQuery => &RefundQueryRequest::SPEC,
        }
    }

    /// The path name under `/_/pay/` (docs/protocol.md §1.1), which is also the operation's name.
    pub fn path_name(self) -> &'static str {
        self.spec().name
    }

    /// The request path, `/_/pay/{name}`.
    pub fn path(self) -> &'static str {
        self.spec().path
    }

    /// The operation whose path is `path`, if any.
    pub fn from_path(path: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.path() == path)
    }

    /// The operation named `name` ([`OperationSpec::name`]), if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.path_name() == name)
    }

    /// The cloud SDK's method name (`cloud.cloudPay.<name>`), as in its `errMsg`.
    pub fn sdk_name(self) -> &'static str {
        match self {
            CloudPayOp::ReturnQuery => "profitSharingReturnQuery",
            CloudPayOp::Finish => "profitSharingFinish",
            CloudPayOp::RefundQuery => "queryRefund",
        }
    }
}

/// `POST /_/pay/{name}` (docs/protocol.md §1.1): the spec of a CloudPay operation.
const fn spec(
    name: &'static str,
    path: &'static str,
    rate_limit: Option<RateLimit>,
    access: Access,
    failure: FailureFields,
) -> OperationSpec {
    OperationSpec::new(name, Api::CloudPay, Method::Post, path, rate_limit, access, failure)
}

/// The nonce a request is built with: a CloudPay body always carries one (at most 32 characters); the
/// client fills it in ([`Operation::fill_nonce`]), a caller building by hand gives it.
fn require_nonce(nonce: Option<&crate::NonceStr>) -> Result<(), ValidationError> {
    match nonce {
        Some(_) => Ok(()),
        None => Err(ValidationError::new(crate::NonceStr::FIELD, crate::Rule::Missing)),
    }
}

/// Builds `POST {base}{path}` with a JSON body.
fn build_post(
    base: &BaseUrl,
    spec: &OperationSpec,
    body: &serde_json::Map<String, serde_json::Value>,
) -> Result<http::Request<Vec<u8>>, ValidationError> {
    let uri = base.join(spec.path)?;
    let body = serde_json::Value::Object(body.clone()).to_string().into_bytes();
    let mut request = http::Request::new(body);
    *request.method_mut() = spec.method.as_http();
    *request.uri_mut() = uri;
    request.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    Ok(request)
}

/// Parses a finish answer; the same as [`FinishResponse::parse`].
pub fn parse_finish<B: AsRef<[u8]>>(response: &http::Response<B>) -> Result<FinishResponse, crate::Error> {
    FinishResponse::parse(response)
}

/// Parses a return query answer; the same as [`ReturnQueryResponse::parse`].
pub fn parse_return_query<B: AsRef<[u8]>>(response: &http::Response<B>) -> Result<ReturnQueryResponse, crate::Error> {
    ReturnQueryResponse::parse(response)
}

/// Parses a refund query answer; the same as [`RefundQueryResponse::parse`].
pub fn parse_refund_query<B: AsRef<[u8]>>(response: &http::Response<B>) -> Result<RefundQueryResponse, crate::Error> {
    RefundQueryResponse::parse(response)
}
