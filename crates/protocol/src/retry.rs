//! Whether a failed request may be sent again (docs/protocol.md §4).
//!
//! This is a pure decision: the transports only sleep and resend. A resend is always the
//! *identical* request: the same merchant numbers (`out_order_no`, `out_return_no`, ...), because
//! the documents warn that changing them while a result is unknown risks money
//! (docs/protocol.md §4).

use crate::error::{ApiErrorOrigin, Error, TransportErrorKind};

/// What a caller may do after an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RetryClass {
    /// The identical request may be sent again after a backoff.
    Retryable,
    /// Sending the same request again cannot succeed; the error is final.
    Final,
}

/// The gateway's "system busy, try again" code (WeChat open API `errcode` -1).
const GATEWAY_BUSY: i64 = -1;

impl Error {
    /// Classifies the error for retrying.
    ///
    /// Retryable: `SYSTEMERROR`, `SYSTEM_ERROR`, any 5xx, `FREQUENCY_LIMITED`, 429,
    /// `ORDER_NOT_READY`, the gateway's busy code -1, and transport failures other than TLS
    /// (all five operations are idempotent when resent unchanged: four are queries, and
    /// a repeated finish with the same `out_order_no` counts once: docs/protocol.md §8.3).
    /// Everything else is final.
    ///
    /// ```
    /// use wxpay_protocol::{cloudpay, Error, RetryClass};
    /// let body = br#"{"return_code":"SUCCESS","result_code":"FAIL","err_code":"SYSTEMERROR","err_code_des":"timeout"}"#;
    /// let err = cloudpay::parse_finish(&http::Response::new(body.to_vec())).unwrap_err();
    /// assert_eq!(err.retry_class(), RetryClass::Retryable);
    /// ```
    pub fn retry_class(&self) -> RetryClass {
        let retryable = match self {
            // A bad signature is refused, not retried: resending cannot make a forgery genuine.
            Error::InvalidRequest(_) | Error::Malformed(_) | Error::Signing(_) | Error::Verification(_) => false,
            // The backend was already retried for as long as it is configured to be.
            Error::RateBudget(_) => false,
            Error::Transport(e) => e.kind() != TransportErrorKind::Tls,
            Error::Api(e) => {
                e.code().is_some_and(|c| c.is_retryable())
                    || e.status().is_server_error()
                    || e.status() == http::StatusCode::TOO_MANY_REQUESTS
                    || (e.origin() == ApiErrorOrigin::Gateway && e.gateway_code() == Some(GATEWAY_BUSY))
            }
        };
        if retryable { RetryClass::Retryable } else { RetryClass::Final }
    }

    /// Whether the identical request may be sent again after a backoff.
    pub fn is_retryable(&self) -> bool {
        self.retry_class() == RetryClass::Retryable
    }

    /// Whether the error was a timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Transport(e) if e.kind() == TransportErrorKind::Timeout)
    }

    /// Whether a write (profit-sharing finish) may have taken effect although no answer says so:
    /// report it as "outcome unknown", never as failed, and query or resend it unchanged.
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, Error::Transport(e) if e.is_write() && e.kind().may_have_been_sent())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ApiError, ErrorCode, TransportError};
    use http::StatusCode;

    fn api(origin: ApiErrorOrigin, status: u16, code: Option<&str>) -> Error {
        let mut e = ApiError::new(origin, StatusCode::from_u16(status).unwrap());
        e.code = code.map(ErrorCode::from);
        Error::Api(Box::new(e))
    }

    #[test]
    fn documented_codes_and_statuses() {
        use ApiErrorOrigin::*;
        assert!(api(CloudPayResult, 200, Some("SYSTEMERROR")).is_retryable());
        assert!(api(CloudPayResult, 200, Some("ORDER_NOT_READY")).is_retryable());
        assert!(api(CloudPayReturn, 200, Some("FREQUENCY_LIMITED")).is_retryable());
        assert!(api(V3, 500, Some("SYSTEM_ERROR")).is_retryable());
        assert!(api(V3, 503, None).is_retryable());
        assert!(api(V3, 429, Some("SOMETHING_NEW")).is_retryable());
        for final_code in ["PARAM_ERROR", "AMOUNT_OVERDUE", "ORDERNOTEXIST", "REFUNDNOTEXIST", "NO_AUTH"] {
            assert!(!api(CloudPayResult, 200, Some(final_code)).is_retryable(), "{final_code}");
        }
        assert!(!api(V3, 404, Some("RESOURCE_NOT_EXISTS")).is_retryable());
        assert!(!api(V3, 401, Some("SIGN_ERROR")).is_retryable());
    }

    #[test]
    fn gateway_busy_is_retryable_other_gateway_codes_are_not() {
        let mut busy = ApiError::new(ApiErrorOrigin::Gateway, StatusCode::OK);
        busy.gateway_code = Some(-1);
        assert!(Error::Api(Box::new(busy.clone())).is_retryable());
        busy.gateway_code = Some(-501001);
        assert!(!Error::Api(Box::new(busy)).is_retryable());
    }

    #[test]
    fn transport_kinds() {
        let io = || std::io::Error::other("x");
        let t = |k| Error::from(TransportError::new(k, io()));
        assert!(t(TransportErrorKind::Connect).is_retryable());
        assert!(t(TransportErrorKind::Timeout).is_retryable());
        assert!(!t(TransportErrorKind::Tls).is_retryable());
        assert!(!t(TransportErrorKind::Timeout).outcome_unknown(), "reads have no outcome");
        let write = |k| Error::from(TransportError::new(k, io()).on_write(true));
        assert!(write(TransportErrorKind::Timeout).outcome_unknown());
        assert!(write(TransportErrorKind::Io).outcome_unknown());
        assert!(!write(TransportErrorKind::Connect).outcome_unknown(), "nothing was sent");
    }
}
