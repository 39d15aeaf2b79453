//! Success and failure of a CloudPay answer: decided by `return_code`, then `result_code` where
//! the operation has one, never by the gateway's `errcode` (docs/protocol.md §1.2).

use super::CloudPayOp;
use super::encode::Encoder;
use super::fields::Fields;
use crate::error::{ApiError, ApiErrorOrigin, Error, ErrorCode, MalformedKind};
use crate::operation::FailureFields;

/// A CloudPay failure answer, as the sandbox builds one.
///
/// The fields that carry it differ by operation (docs/protocol.md §1.2): the return query puts
/// `error_code` / `error_msg` next to `return_code = FAIL`; finish and refund query put
/// `err_code` / `err_code_des` next to `result_code = FAIL`, or only `return_msg` next to
/// `return_code = FAIL` when the request itself could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    code: Option<ErrorCode>,
    message: Option<String>,
}

impl Failure {
    /// A business failure with an error code.
    pub fn with_code(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code: Some(code), message: Some(message.into()) }
    }

    /// A communication failure (`return_code = FAIL`) with only a message.
    pub fn without_code(message: impl Into<String>) -> Self {
        Self { code: None, message: Some(message.into()) }
    }

    /// The error code.
    pub fn code(&self) -> Option<&ErrorCode> {
        self.code.as_ref()
    }

    /// The message.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// Writes the failure answer of `op` in `shape`.
    pub fn encode(&self, op: CloudPayOp, shape: super::ReplyShape) -> Vec<u8> {
        let mut enc = Encoder::new(shape);
        let code = self.code.as_ref().map(ErrorCode::as_str);
        let message = self.message.as_deref();
        match (op.spec().failure, code) {
            (FailureFields::ErrorCode, _) => {
                enc.str("return_code", "FAIL");
                enc.opt_str("error_code", code);
                enc.opt_str("error_msg", message);
            }
            (FailureFields::ResultCode, Some(code)) => {
                enc.str("return_code", "SUCCESS");
                enc.str("return_msg", "OK");
                enc.str("result_code", "FAIL");
                enc.str("err_code", code);
                enc.opt_str("err_code_des", message);
            }
            // A v3 error body is not a CloudPay answer; `ResultCode` without a code is a
            // communication failure.
            (FailureFields::ResultCode | FailureFields::V3ErrorBody, None) | (FailureFields::V3ErrorBody, Some(_)) => {
                enc.str("return_code", "FAIL");
                enc.opt_str("return_msg", message);
            }
        }
        enc.finish(op)
    }
}

fn api_error(
    fields: &Fields<'_>,
    origin: ApiErrorOrigin,
    code_keys: &[&str],
    message_keys: &[&str],
) -> Result<Error, Error> {
    let mut e = ApiError::new(origin, fields.status());
    for key in code_keys {
        if let Some(code) = fields.opt_str(key)? {
            e.code = Some(ErrorCode::from(code));
            break;
        }
    }
    for key in message_keys {
        if let Some(message) = fields.opt_str(key)? {
            e.message = Some(message);
            break;
        }
    }
    Ok(Error::Api(Box::new(e)))
}

/// Checks `return_code` and `result_code`; `Ok` means the business fields can be read. The
/// status and failure fields count as read either way: they are never extra fields.
pub(crate) fn check(fields: &Fields<'_>, op: CloudPayOp) -> Result<(), Error> {
    let failure = op.spec().failure;
    fields.mark_status_read();
    match fields.str("return_code")?.as_str() {
        "SUCCESS" => {}
        "FAIL" => {
            return Err(match failure {
                FailureFields::ErrorCode => api_error(
                    fields,
                    ApiErrorOrigin::CloudPayReturn,
                    &["error_code", "err_code"],
                    &["error_msg", "return_msg"],
                )?,
                FailureFields::ResultCode | FailureFields::V3ErrorBody => api_error(
                    fields,
                    ApiErrorOrigin::CloudPayReturn,
                    &["err_code", "error_code"],
                    &["return_msg", "err_code_des"],
                )?,
            });
        }
        _ => {
            return Err(fields
                .malformed(MalformedKind::InvalidField { field: "return_code".into(), expected: "SUCCESS or FAIL" }));
        }
    }
    // The return query has no `result_code` (docs/protocol.md §8.1); the others must carry it.
    let result = match failure {
        FailureFields::ErrorCode => fields.opt_str("result_code")?,
        FailureFields::ResultCode | FailureFields::V3ErrorBody => Some(fields.str("result_code")?),
    };
    match result.as_deref() {
        None | Some("SUCCESS") => Ok(()),
        Some("FAIL") => Err(api_error(
            fields,
            ApiErrorOrigin::CloudPayResult,
            &["err_code", "error_code"],
            &["err_code_des", "error_msg", "return_msg"],
        )?),
        Some(_) => {
            Err(fields
                .malformed(MalformedKind::InvalidField { field: "result_code".into(), expected: "SUCCESS or FAIL" }))
        }
    }
}

/// The `return_code` (and `result_code`) of a successful answer.
pub(crate) fn encode_success(enc: &mut Encoder, op: CloudPayOp) {
    enc.str("return_code", "SUCCESS");
    match op.spec().failure {
        FailureFields::ErrorCode => {}
        FailureFields::ResultCode | FailureFields::V3ErrorBody => {
            enc.str("return_msg", "OK");
            enc.str("result_code", "SUCCESS");
        }
    }
}
