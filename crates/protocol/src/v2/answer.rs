//! v2 answers: read the `<xml>`, check its `sign`, then hand the fields to the CloudPay readers
//! in their JSON form (docs/protocol.md §5: the CloudPay functions are these APIs; the readers take
//! digit strings for numbers and the indexed refund keys, which is what the XML carries).

use super::sign::{self, ApiV2Key, SIGN, SignType};
use super::xml::Fields;
use crate::error::{Error, MalformedKind, MalformedResponse, UnverifiedResponse};
use crate::security::VerificationError;

/// Checks a v2 answer and rewrites it as the CloudPay JSON answer the [`cloudpay`] parsers
/// read, with the same status and headers.
///
/// A `return_code` of `SUCCESS` must carry a `sign` that verifies with `key` and `sign_type`
/// (the request's algorithm); every field takes part, unknown ones included. A `FAIL` answer
/// carries no `sign` (WeChat Pay does not sign them) and becomes an API error when parsed; if it
/// has one, it must verify too. A non-2xx answer is passed on as it is (the CloudPay reader
/// reports the gateway's status).
///
/// ```
/// # #[cfg(feature = "aws-lc-rs")]
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use wxpay_protocol::v2::{sign, to_cloudpay, ApiV2Key, Fields, SignType};
/// let key = ApiV2Key::new(b"192006250b4c09247ec02edce69f6a2d")?;
/// let mut fields = Fields::new();
/// fields.insert("return_code", "SUCCESS");
/// fields.insert("refund_count", "1");
/// let signature = sign(&fields, SignType::HmacSha256, &key);
/// fields.insert("sign", signature);
/// let answer = http::Response::new(fields.to_xml().into_bytes());
/// let json: serde_json::Value = serde_json::from_slice(to_cloudpay(&answer, &key, SignType::HmacSha256)?.body())?;
/// assert_eq!(json["refund_count"], "1");
///
/// let unsigned = http::Response::new(b"<xml><return_code>SUCCESS</return_code></xml>".to_vec());
/// assert!(to_cloudpay(&unsigned, &key, SignType::HmacSha256).is_err());
/// # Ok(())
/// # }
/// # #[cfg(not(feature = "aws-lc-rs"))]
/// # fn main() {}
/// ```
///
/// [`cloudpay`]: crate::cloudpay
pub fn to_cloudpay(
    response: &http::Response<Vec<u8>>,
    key: &ApiV2Key,
    sign_type: SignType,
) -> Result<http::Response<Vec<u8>>, Error> {
    convert(response, Some((key, sign_type)))
}

/// Reading v2 answers without their signature: for offline inspection only.
pub mod danger {
    /// [`to_cloudpay`](super::to_cloudpay) without checking `sign`: what `wxpay ... --decode`
    /// does when no API v2 key is given, and says so. Never let the result decide anything
    /// about money.
    pub fn to_cloudpay_unverified(response: &http::Response<Vec<u8>>) -> Result<http::Response<Vec<u8>>, crate::Error> {
        super::convert(response, None)
    }
}

fn convert(
    response: &http::Response<Vec<u8>>,
    verify_with: Option<(&ApiV2Key, SignType)>,
) -> Result<http::Response<Vec<u8>>, Error> {
    let (status, body) = (response.status(), response.body().as_slice());
    if !status.is_success() {
        return Ok(response.clone());
    }
    crate::json::check_len(status, body)?;
    let fields = Fields::from_xml(body).map_err(|e| {
        Error::Malformed(MalformedResponse::new(MalformedKind::NotXml(e.clone()), status, body).with_source(e))
    })?;
    if let Some((key, sign_type)) = verify_with {
        let succeeded = fields.get("return_code") == Some("SUCCESS");
        let refuse = |cause| Error::Verification(Box::new(UnverifiedResponse::new(cause, response)));
        match fields.get(SIGN) {
            None if succeeded => return Err(refuse(VerificationError::MissingSign)),
            None => {}
            Some(_) if !sign::verify(&fields, sign_type, key) => return Err(refuse(VerificationError::BadSign)),
            Some(_) => {}
        }
    }
    let json = serde_json::Value::Object(fields.to_json()).to_string().into_bytes();
    let mut converted = http::Response::new(json);
    *converted.status_mut() = status;
    *converted.headers_mut() = response.headers().clone();
    Ok(converted)
}

/// Puts the answer's own bytes (the XML) back into a malformed-answer error raised while
/// reading its JSON form, so that the log shows what was received.
pub(crate) fn with_raw_body(error: Error, raw: &[u8]) -> Error {
    match error {
        Error::Malformed(m) => Error::Malformed(m.with_body(raw)),
        other => other,
    }
}
