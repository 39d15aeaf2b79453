//! Errors WeChat Pay (or the gateway in front of it) answers with.

use std::fmt;

use http::StatusCode;

use crate::wire_enum::wire_enum;

wire_enum! {
    /// An error code from WeChat Pay: the CloudPay codes of docs/protocol.md §8.1, §8.3 and §8.5
    /// and the v3 codes of docs/protocol.md §8.2 and §8.4. Codes this version does not know are
    /// kept.
    pub enum ErrorCode {
        /// `SYSTEMERROR` (CloudPay): system timeout; retry with the same parameters.
        SystemError = "SYSTEMERROR",
        /// `SYSTEM_ERROR` (v3, HTTP 500): retry with the same parameters.
        SystemErrorV3 = "SYSTEM_ERROR",
        /// `PARAM_ERROR`: a parameter is wrong (also an `offset` past the total,
        /// docs/protocol.md §8.5).
        ParamError = "PARAM_ERROR",
        /// `INVALID_REQUEST`: the request is not valid (unknown APPID or MCHID, amount limits).
        InvalidRequest = "INVALID_REQUEST",
        /// `FREQUENCY_LIMITED` (v3: HTTP 429): too many requests; retry the same order later.
        FrequencyLimited = "FREQUENCY_LIMITED",
        /// `ORDERNOTEXIST`: the profit-sharing return order does not exist (docs/protocol.md §8.1).
        OrderNotExist = "ORDERNOTEXIST",
        /// `INVALID_TRANSACTIONID`: no such payment, or it failed.
        InvalidTransactionId = "INVALID_TRANSACTIONID",
        /// `ORDER_NOT_READY`: the order is still processing; retry later (docs/protocol.md §8.3).
        OrderNotReady = "ORDER_NOT_READY",
        /// `OPENID_MISMATCH`: the openid does not belong to the appid.
        OpenidMismatch = "OPENID_MISMATCH",
        /// `NOT_SHARE_ORDER`: the payment was not made for profit sharing.
        NotShareOrder = "NOT_SHARE_ORDER",
        /// `AMOUNT_OVERDUE`: nothing is left to share (docs/protocol.md §8.3).
        AmountOverdue = "AMOUNT_OVERDUE",
        /// `REFUNDNOTEXIST`: no such refund (docs/protocol.md §8.5).
        RefundNotExist = "REFUNDNOTEXIST",
        /// `APPID_NOT_EXIST`.
        AppidNotExist = "APPID_NOT_EXIST",
        /// `MCHID_NOT_EXIST`.
        MchidNotExist = "MCHID_NOT_EXIST",
        /// `REQUIRE_POST_METHOD`.
        RequirePostMethod = "REQUIRE_POST_METHOD",
        /// `SIGNERROR` (CloudPay/v2 signature).
        SignError = "SIGNERROR",
        /// `XML_FORMAT_ERROR`.
        XmlFormatError = "XML_FORMAT_ERROR",
        /// `NO_AUTH` (v3, HTTP 403): profit sharing is not enabled.
        NoAuth = "NO_AUTH",
        /// `RESOURCE_NOT_EXISTS` (v3, HTTP 404): no such record.
        ResourceNotExists = "RESOURCE_NOT_EXISTS",
        /// `SIGN_ERROR` (v3, HTTP 401): the request signature did not verify.
        SignErrorV3 = "SIGN_ERROR",
    }
}

impl ErrorCode {
    /// The HTTP status API v3 answers this code with (docs/protocol.md §2.4, which lists
    /// them): 400 for parameter and request errors, 401 `SIGN_ERROR`, 403 `NO_AUTH`, 404
    /// `RESOURCE_NOT_EXISTS`, 429 `FREQUENCY_LIMITED`, 500 `SYSTEM_ERROR`; `None` for a code
    /// that is not a v3 code.
    ///
    /// ```
    /// use wxpay_protocol::ErrorCode;
    /// assert_eq!(ErrorCode::FrequencyLimited.v3_status().map(|s| s.as_u16()), Some(429));
    /// assert_eq!(ErrorCode::SystemError.v3_status(), None); // CloudPay's spelling
    /// ```
    pub fn v3_status(&self) -> Option<http::StatusCode> {
        use http::StatusCode as S;
        Some(match self {
            ErrorCode::ParamError | ErrorCode::InvalidRequest => S::BAD_REQUEST,
            ErrorCode::SignErrorV3 => S::UNAUTHORIZED,
            ErrorCode::NoAuth => S::FORBIDDEN,
            ErrorCode::ResourceNotExists => S::NOT_FOUND,
            ErrorCode::FrequencyLimited => S::TOO_MANY_REQUESTS,
            ErrorCode::SystemErrorV3 => S::INTERNAL_SERVER_ERROR,
            ErrorCode::SystemError
            | ErrorCode::OrderNotExist
            | ErrorCode::InvalidTransactionId
            | ErrorCode::OrderNotReady
            | ErrorCode::OpenidMismatch
            | ErrorCode::NotShareOrder
            | ErrorCode::AmountOverdue
            | ErrorCode::RefundNotExist
            | ErrorCode::AppidNotExist
            | ErrorCode::MchidNotExist
            | ErrorCode::RequirePostMethod
            | ErrorCode::SignError
            | ErrorCode::XmlFormatError
            | ErrorCode::Unknown(_) => return None,
        })
    }

    /// Whether the documents say to resend the same request after a while (docs/protocol.md §4):
    /// `SYSTEMERROR`, `SYSTEM_ERROR`, `FREQUENCY_LIMITED` and `ORDER_NOT_READY`.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ErrorCode::SystemError | ErrorCode::SystemErrorV3 | ErrorCode::FrequencyLimited | ErrorCode::OrderNotReady
        )
    }
}

/// Where in an answer the error was reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ApiErrorOrigin {
    /// The Cloud Hosting gateway or the cloud SDK (`errcode` / numeric `errCode` non-zero): the
    /// request may not have reached WeChat Pay (docs/protocol.md §1.2).
    Gateway,
    /// CloudPay `return_code` = `FAIL`.
    CloudPayReturn,
    /// CloudPay `result_code` = `FAIL`.
    CloudPayResult,
    /// An API v3 error body (`{"code","message","detail"}`) with a non-2xx status.
    V3,
}

impl fmt::Display for ApiErrorOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ApiErrorOrigin::Gateway => "gateway",
            ApiErrorOrigin::CloudPayReturn => "CloudPay return_code FAIL",
            ApiErrorOrigin::CloudPayResult => "CloudPay result_code FAIL",
            ApiErrorOrigin::V3 => "API v3",
        })
    }
}

/// An error answer: where it came from, its HTTP status, code, message and `Request-ID`.
///
/// ```
/// use wxpay_protocol::{ApiError, ErrorCode, Error};
/// let body = br#"{"code":"FREQUENCY_LIMITED","message":"slow down"}"#;
/// let response = http::Response::builder()
///     .status(429)
///     .header("Request-ID", "08F0A1B2")
///     .body(body.to_vec())?;
/// let err = wxpay_protocol::v3::parse_error(&response);
/// let api = err.as_api().unwrap();
/// assert_eq!(api.code(), Some(&ErrorCode::FrequencyLimited));
/// assert_eq!(api.request_id(), Some("08F0A1B2"));
/// assert!(err.is_retryable());
/// # Ok::<(), http::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct ApiError {
    pub(crate) origin: ApiErrorOrigin,
    pub(crate) status: StatusCode,
    pub(crate) code: Option<ErrorCode>,
    pub(crate) gateway_code: Option<i64>,
    pub(crate) message: Option<String>,
    pub(crate) detail: Option<serde_json::Value>,
    pub(crate) request_id: Option<String>,
}

impl ApiError {
    pub(crate) fn new(origin: ApiErrorOrigin, status: StatusCode) -> Self {
        Self { origin, status, code: None, gateway_code: None, message: None, detail: None, request_id: None }
    }

    /// Where the error was reported.
    pub fn origin(&self) -> ApiErrorOrigin {
        self.origin
    }

    /// The HTTP status of the answer (200 for CloudPay business errors).
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The WeChat Pay error code, when the answer carried one.
    pub fn code(&self) -> Option<&ErrorCode> {
        self.code.as_ref()
    }

    /// The numeric code of a gateway error (`errcode` / `errCode`).
    pub fn gateway_code(&self) -> Option<i64> {
        self.gateway_code
    }

    /// The message (`message`, `err_code_des`, `error_msg`, `return_msg` or `errmsg`).
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// The v3 `detail` object, when present (it is optional and partial).
    pub fn detail(&self) -> Option<&serde_json::Value> {
        self.detail.as_ref()
    }

    /// The `Request-ID` response header, which WeChat Pay support asks for.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} error", self.origin)?;
        if let Some(code) = &self.code {
            write!(f, " {code}")?;
        }
        if let Some(code) = self.gateway_code {
            write!(f, " {code}")?;
        }
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        write!(f, " (HTTP {}", self.status.as_u16())?;
        if let Some(id) = &self.request_id {
            write!(f, ", Request-ID {id}")?;
        }
        f.write_str(")")
    }
}
