//! The server's side of the v2 wire, for the sandbox and for tests: reading a signed request
//! into the same validated request types a client builds, and writing a signed answer.

use serde_json::Value;

use super::call::V2Operation;
use super::sign::{self, ApiV2Key, SIGN, SIGN_TYPE, SignType};
use super::xml::{Fields, XmlError};
use crate::error::{Rule, ValidationError};
use crate::validate::{AppId, SubAppId};

/// Why a v2 request was not accepted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The body is not a flat `<xml>` document.
    #[error("the body is not a v2 XML document")]
    Xml(#[source] XmlError),
    /// `sign_type` names no algorithm.
    #[error("unknown sign_type")]
    UnknownSignType,
    /// `sign_type` names an algorithm the endpoint does not accept.
    #[error("sign_type {0} is not accepted by this endpoint")]
    SignTypeNotAllowed(SignType),
    /// No `sign`.
    #[error("the request has no sign")]
    MissingSign,
    /// `sign` does not verify with the API v2 key.
    #[error("the request's sign does not verify")]
    BadSign,
    /// A field breaks a documented rule.
    #[error("invalid request")]
    Invalid(#[source] ValidationError),
}

/// A verified v2 request.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReceivedRequest<R> {
    /// The request, as its CloudPay type.
    pub request: R,
    /// `mch_id`.
    pub mch_id: String,
    /// `appid`.
    pub appid: AppId,
    /// `sub_appid`, when sent.
    pub sub_appid: Option<SubAppId>,
    /// The algorithm it was signed with (MD5 when `sign_type` is absent, the v2 default).
    pub sign_type: SignType,
}

/// Reads and verifies a request to `R`'s v2 endpoint, as WeChat Pay does: the document, the
/// algorithm the endpoint accepts, the signature under `key`, then every field.
pub fn read_request<R: V2Operation>(body: &[u8], key: &ApiV2Key) -> Result<ReceivedRequest<R>, RequestError> {
    let mut fields = Fields::from_xml(body).map_err(RequestError::Xml)?;
    let sign_type = match fields.get(SIGN_TYPE) {
        None | Some("") => SignType::Md5,
        Some(name) => SignType::parse(name).ok_or(RequestError::UnknownSignType)?,
    };
    if !R::SIGN_TYPES.contains(&sign_type) {
        return Err(RequestError::SignTypeNotAllowed(sign_type));
    }
    if fields.get(SIGN).is_none() {
        return Err(RequestError::MissingSign);
    }
    if !sign::verify(&fields, sign_type, key) {
        return Err(RequestError::BadSign);
    }
    let invalid = RequestError::Invalid;
    let mch_id = fields.remove("mch_id").ok_or_else(|| invalid(ValidationError::new("mch_id", Rule::Missing)))?;
    let appid = AppId::new(fields.remove(AppId::FIELD).unwrap_or_default()).map_err(invalid)?;
    let sub_appid = fields.remove(SubAppId::FIELD).filter(|s| !s.is_empty()).map(SubAppId::new).transpose();
    let sub_appid = sub_appid.map_err(invalid)?;
    for scaffolding in [SIGN, SIGN_TYPE] {
        fields.remove(scaffolding);
    }
    let json = Value::Object(fields.to_json()).to_string();
    let request = R::from_v2_fields(json.as_bytes()).map_err(invalid)?;
    Ok(ReceivedRequest { request, mch_id, appid, sub_appid, sign_type })
}

/// Writes an answer of the v2 wire from the CloudPay JSON answer the [`cloudpay`] encoders
/// write (a flat object: any shape without `respdata`, snake_case, indexed lists), with the
/// fields of `add` (`mch_id`, `appid`, `nonce_str`, ...) beside it. A `SUCCESS` answer is
/// signed with `sign_type` under `key`; a `FAIL` one is not (as WeChat Pay does). Integers are
/// written as digits, strings as they are, `null` is left out, and any nested value as its
/// JSON text. `None` when `cloudpay_json` is not a JSON object.
///
/// [`cloudpay`]: crate::cloudpay
pub fn encode_answer(
    cloudpay_json: &[u8],
    add: &[(&str, &str)],
    key: &ApiV2Key,
    sign_type: SignType,
) -> Option<Vec<u8>> {
    let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(cloudpay_json) else { return None };
    let mut fields = Fields::new();
    for (name, value) in object {
        let text = match value {
            Value::Null => continue,
            Value::String(s) => s,
            other => other.to_string(),
        };
        fields.insert(name, text);
    }
    for (name, value) in add {
        fields.insert(*name, *value);
    }
    if fields.get("return_code") == Some("SUCCESS") {
        let signature = sign::sign(&fields, sign_type, key);
        fields.insert(SIGN, signature);
    }
    Some(fields.to_xml().into_bytes())
}
