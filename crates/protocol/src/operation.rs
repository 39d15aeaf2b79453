//! What an operation is: the [`Operation`] trait every request type implements, and the
//! [`OperationSpec`] each one declares once (docs/design.md §2: "each operation describes itself
//! once"). Transports, the sandbox's routing and the CLI read the spec instead of restating it.

use crate::endpoint::BaseUrl;
use crate::error::{Error, ValidationError};
use crate::security::{VerificationError, Verified, Verifier};

/// Which wire an operation uses (docs/protocol.md §1 and §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Api {
    /// JSON over WeChat's private link (the Cloud Hosting sidecar); unsigned.
    CloudPay,
    /// API v3 over HTTPS; signed requests, signed answers.
    V3,
    /// WeChat Pay's v2 API (docs/protocol.md §5): XML bodies signed with the API v2 key, signed
    /// answers, and a TLS client certificate under `/secapi/`.
    V2,
}

/// The HTTP method of an operation (the two WeChat Pay uses here; a plain enum so that specs are
/// constants).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
}

impl Method {
    /// As an [`http::Method`].
    pub fn as_http(self) -> http::Method {
        match self {
            Method::Get => http::Method::GET,
            Method::Post => http::Method::POST,
        }
    }
}

impl PartialEq<http::Method> for Method {
    fn eq(&self, other: &http::Method) -> bool {
        self.as_http() == other
    }
}

/// Whether an operation changes state on WeChat Pay's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Access {
    /// A query: sending it again changes nothing.
    Read,
    /// A write that WeChat Pay treats as the same request when it is resent with the same
    /// merchant number (finish: "同一分账单号多次请求等同一次", docs/protocol.md §8.3). A write whose answer
    /// was lost has an unknown outcome: query, or resend it unchanged (docs/protocol.md §4).
    IdempotentWrite,
}

/// What a documented rate limit is counted per (docs/protocol.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RateScope {
    /// The calling merchant: every call of the operation counts against one budget.
    Merchant,
    /// The receiving sub-merchant named in the request (`sub_mch_id` / `sub_mchid`).
    SubMerchant,
}

/// A documented rate limit (docs/protocol.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateLimit {
    /// Calls per second.
    pub qps: u32,
    /// What the calls are counted per.
    pub per: RateScope,
}

/// Where an operation's answers report failure (docs/protocol.md §1.2, §2.4, §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailureFields {
    /// CloudPay return query (docs/protocol.md §8.1): `return_code = FAIL` with `error_code` /
    /// `error_msg`, and no `result_code`.
    ErrorCode,
    /// CloudPay finish and refund query (docs/protocol.md §8.3, §8.5): `return_code = FAIL` with
    /// `return_msg` when the request could not be read; otherwise `result_code = FAIL` with
    /// `err_code` / `err_code_des`.
    ResultCode,
    /// API v3: a non-2xx status with `{"code","message","detail"?}` and a `Request-ID` header.
    V3ErrorBody,
}

/// The one description of an operation.
///
/// ```
/// use wxpay_protocol::{cloudpay, Access, Operation, RateScope};
/// let finish = &cloudpay::FinishRequest::SPEC;
/// assert_eq!(finish.name, "profitsharingfinish");
/// assert_eq!(finish.path, "/_/pay/profitsharingfinish");
/// assert_eq!(finish.access, Access::IdempotentWrite);
/// let limit = finish.rate_limit.unwrap();
/// assert_eq!((limit.qps, limit.per), (60, RateScope::SubMerchant));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct OperationSpec {
    /// A stable name for logs, metrics, rate limits and fault injection: the CloudPay path
    /// name, or the v3 path without `/v3/`.
    pub name: &'static str,
    /// The wire.
    pub api: Api,
    /// The HTTP method.
    pub method: Method,
    /// The request path under the base URL.
    pub path: &'static str,
    /// The documented rate limit, if the documents state one (docs/protocol.md §7).
    pub rate_limit: Option<RateLimit>,
    /// A read, or an idempotent write.
    pub access: Access,
    /// Where failures are reported.
    pub failure: FailureFields,
}

impl OperationSpec {
    /// A spec; every field is required so that nothing is inherited from another operation.
    pub const fn new(
        name: &'static str,
        api: Api,
        method: Method,
        path: &'static str,
        rate_limit: Option<RateLimit>,
        access: Access,
        failure: FailureFields,
    ) -> Self {
        Self { name, api, method, path, rate_limit, access, failure }
    }

    /// What a limit on this operation is counted per: as documented, or per merchant (how
    /// WeChat Pay counts limits it does not document per sub-merchant, docs/protocol.md §7) for a
    /// limit configured where none is documented.
    pub fn rate_scope(&self) -> RateScope {
        self.rate_limit.map_or(RateScope::Merchant, |limit| limit.per)
    }

    /// The budget a call naming `sub_merchant` counts against, within the operation's: `""`
    /// for a limit counted per merchant (one budget per client's merchant), the sub-merchant
    /// for one counted per sub-merchant.
    ///
    /// ```
    /// use wxpay_protocol::{cloudpay, Operation};
    /// assert_eq!(cloudpay::FinishRequest::SPEC.rate_subject(Some("1900000109")), "1900000109");
    /// assert_eq!(cloudpay::ReturnQueryRequest::SPEC.rate_subject(Some("1900000109")), "");
    /// ```
    pub fn rate_subject<'a>(&self, sub_merchant: Option<&'a str>) -> &'a str {
        match self.rate_scope() {
            RateScope::Merchant => "",
            RateScope::SubMerchant => sub_merchant.unwrap_or(""),
        }
    }

    /// Whether calls need the merchant API certificate as a TLS client certificate: the v2
    /// endpoints under `/secapi/` (docs/protocol.md §5, 双向证书).
    ///
    /// ```
    /// use wxpay_protocol::{cloudpay, v2::V2Operation};
    /// assert!(<cloudpay::FinishRequest as V2Operation>::V2_SPEC.needs_client_certificate());
    /// assert!(!<cloudpay::RefundQueryRequest as V2Operation>::V2_SPEC.needs_client_certificate());
    /// ```
    pub fn needs_client_certificate(&self) -> bool {
        matches!(self.api, Api::V2) && self.path.starts_with("/secapi/")
    }

    /// Whether the operation changes state on the server.
    pub fn is_write(&self) -> bool {
        match self.access {
            Access::Read => false,
            Access::IdempotentWrite => true,
        }
    }
}

/// Every operation of this crate, for routers and tables (the sandbox routes by it, the rate
/// limiter takes its documented limits from it).
///
/// ```
/// let names: Vec<_> = wxpay_protocol::operations().map(|spec| spec.name).collect();
/// assert!(names.contains(&"queryrefund"));
/// assert!(names.contains(&"ecommerce/profitsharing/orders"));
/// assert!(names.contains(&"certificates"));
/// ```
pub fn operations() -> impl Iterator<Item = &'static OperationSpec> {
    crate::cloudpay::OPERATIONS
        .iter()
        .chain(crate::v3::OPERATIONS)
        .chain(crate::v2::OPERATIONS)
        .copied()
        .chain(std::iter::once(&<crate::security::CertificatesRequest as Operation>::SPEC))
}

/// The operation whose method and path these are.
pub fn operation_at(method: &http::Method, path: &str) -> Option<&'static OperationSpec> {
    operations().find(|spec| spec.path == path && spec.method == *method)
}

/// The operation named `name` ([`OperationSpec::name`]).
pub fn operation_named(name: &str) -> Option<&'static OperationSpec> {
    operations().find(|spec| spec.name == name)
}

mod sealed {
    pub trait Sealed {}
}

/// How a raw answer becomes one an operation may parse: as it is for CloudPay (WeChat's private
/// link vouches for it), through signature verification for API v3 ([`Verified`]). Sealed:
/// the two forms are this crate's.
pub trait Answer<'a>: sealed::Sealed + Sized {
    /// Admits `response`, checking what the wire requires; `now` is Unix seconds.
    fn admit(
        response: &'a http::Response<Vec<u8>>,
        now: i64,
        verifier: &(impl Verifier + ?Sized),
    ) -> Result<Self, VerificationError>;
}

impl sealed::Sealed for &http::Response<Vec<u8>> {}

impl<'a> Answer<'a> for &'a http::Response<Vec<u8>> {
    fn admit(
        response: &'a http::Response<Vec<u8>>,
        _now: i64,
        _verifier: &(impl Verifier + ?Sized),
    ) -> Result<Self, VerificationError> {
        Ok(response)
    }
}

impl sealed::Sealed for Verified<'_> {}

impl<'a> Answer<'a> for Verified<'a> {
    fn admit(
        response: &'a http::Response<Vec<u8>>,
        now: i64,
        verifier: &(impl Verifier + ?Sized),
    ) -> Result<Self, VerificationError> {
        crate::security::verify_response(response, now, verifier)
    }
}

/// One WeChat Pay operation: a validated request that builds into an HTTP request and parses
/// the answer, with no I/O.
///
/// ```
/// use wxpay_protocol::{cloudpay, BaseUrl, NonceStr, Operation, OrderRef, OutOrderNo, OutReturnNo, SubMchId};
/// let request = cloudpay::ReturnQueryRequest::new(
///     SubMchId::new("1900000109")?,
///     OrderRef::OutOrderNo(OutOrderNo::new("P20190806125346")?),
///     OutReturnNo::new("R20190806125346")?,
/// )
/// .with_nonce(NonceStr::new("5K8264ILTKCH16CQ2502SI8ZNMTM67VS")?); // a client fills one in
/// let http_request = request.build(&BaseUrl::cloudpay_default())?;
/// assert_eq!(http_request.uri(), "http://api.weixin.qq.com/_/pay/profitsharingreturnquery");
///
/// let body = br#"{"return_code":"FAIL","error_code":"ORDERNOTEXIST","error_msg":"no such order"}"#;
/// let err = request.parse(&http::Response::new(body.to_vec())).unwrap_err();
/// assert_eq!(err.as_api().unwrap().code().unwrap().as_str(), "ORDERNOTEXIST");
/// # Ok::<(), wxpay_protocol::Error>(())
/// ```
pub trait Operation {
    /// The typed answer.
    type Output;

    /// What [`parse`](Self::parse) takes: `&http::Response<Vec<u8>>` for CloudPay, a
    /// [`Verified`] answer for API v3, so an unverified v3 answer cannot become a typed result.
    type Answer<'a>: Answer<'a>;

    /// The operation's one description.
    const SPEC: OperationSpec;

    /// Builds the HTTP request under `base`. API v3 requests come out unsigned; the exact
    /// `PATH_AND_QUERY` that must be signed is `request.uri().path_and_query()`.
    fn build(&self, base: &BaseUrl) -> Result<http::Request<Vec<u8>>, ValidationError>;

    /// Parses an admitted answer into the typed result or a typed error.
    fn parse(&self, answer: Self::Answer<'_>) -> Result<Self::Output, Error>;

    /// The sub-merchant the request names, for limits counted per sub-merchant
    /// ([`RateScope::SubMerchant`]).
    fn sub_merchant(&self) -> Option<&str> {
        None
    }

    /// Sets the request's `nonce_str` from `fresh` if the caller gave none (every CloudPay body
    /// carries one). The client calls it once per call, before the first attempt, so that a
    /// retry resends the identical request. Nothing for operations without a nonce field (API
    /// v3 signs each attempt with a nonce of its own).
    fn fill_nonce(&mut self, fresh: impl FnOnce() -> crate::NonceStr) {
        let _ = fresh;
    }
}
