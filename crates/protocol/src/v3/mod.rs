//! WeChat Pay API v3: the two e-commerce profit-sharing queries (docs/protocol.md §2).
//!
//! Requests are `GET` with every parameter percent-encoded in the query string
//! (docs/protocol.md §2.5; the return query's document says "path" and "JSON body", and is
//! wrong: its request example is right, §8.2). The built request is unsigned;
//! `request.uri().path_and_query()` is exactly the `PATH_AND_QUERY` that must be signed, because
//! it is exactly what is sent.

mod order_query;
mod return_query;

pub use order_query::{
    CloseReason, OrderQueryRequest, OrderQueryResponse, OrderReceiver, OrderStatus, ReceiverFailReason, ReceiverResult,
};
pub use return_query::{ReturnFailReason, ReturnQueryRequest, ReturnQueryResponse, ReturnResult};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};

use crate::endpoint::BaseUrl;
use crate::error::{ApiError, ApiErrorOrigin, Error, MalformedKind, MalformedResponse, Rule, ValidationError};
use crate::operation::{Access, Api, FailureFields, Method, Operation, OperationSpec};

/// The specs of the v3 operations ([`crate::operations`] lists every operation).
pub const OPERATIONS: &[&OperationSpec] = &[&OrderQueryRequest::SPEC, &ReturnQueryRequest::SPEC];

/// `GET {path}`, a read reporting failures in the v3 error body (docs/protocol.md §2.4). Neither
/// query states a QPS limit (docs/protocol.md §8.2, §8.4), so none is set by default
/// (docs/protocol.md §7).
pub(crate) const fn spec(name: &'static str, path: &'static str) -> OperationSpec {
    OperationSpec::new(name, Api::V3, Method::Get, path, None, Access::Read, FailureFields::V3ErrorBody)
}

/// Characters left as they are in a query value: RFC 3986 unreserved. Everything else,
/// including `|`, `*` and `@` from merchant numbers, is percent-encoded.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Percent-encodes one query value.
pub fn encode_query_value(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, QUERY_VALUE).to_string()
}

/// `path?k1=v1&k2=v2` with the values percent-encoded, in the given order.
pub(crate) fn path_and_query(path: &str, params: &[(&str, &str)]) -> String {
    let mut out = String::from(path);
    for (i, (key, value)) in params.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(key);
        out.push('=');
        out.push_str(&encode_query_value(value));
    }
    out
}

/// Builds `GET {base}{path_and_query}` with `Accept: application/json`.
pub(crate) fn build_get(base: &BaseUrl, path_and_query: &str) -> Result<http::Request<Vec<u8>>, ValidationError> {
    let mut request = http::Request::new(Vec::new());
    *request.uri_mut() = base.join(path_and_query)?;
    request.headers_mut().insert(http::header::ACCEPT, http::HeaderValue::from_static("application/json"));
    Ok(request)
}

/// The parameters of a query string, percent-decoded, for servers reading v3 requests.
#[derive(Debug)]
pub(crate) struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    /// Splits `a=1&b=2`, decoding names and values. A value that is not UTF-8 once decoded, or a
    /// parameter given twice, is an error naming it.
    pub(crate) fn parse(query: &str) -> Result<Self, ValidationError> {
        let mut params: Vec<(String, String)> = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = percent_encoding::percent_decode_str(name).decode_utf8_lossy().into_owned();
            let value = percent_encoding::percent_decode_str(value)
                .decode_utf8()
                .map_err(|_| ValidationError::new("query", Rule::WrongType { expected: "percent-encoded UTF-8" }))?;
            if params.iter().any(|(n, _)| *n == name) {
                let field = KNOWN_PARAMS.iter().find(|k| **k == name).copied().unwrap_or("query");
                return Err(ValidationError::new(field, Rule::Repeated));
            }
            params.push((name, value.into_owned()));
        }
        Ok(Self(params))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// An optional parameter validated by `parse`, errors reported under `field`.
    pub(crate) fn opt<T>(
        &self,
        field: &'static str,
        parse: impl FnOnce(String) -> Result<T, ValidationError>,
    ) -> Result<Option<T>, ValidationError> {
        self.get(field).map(|v| parse(v.to_owned()).map_err(|e| e.in_field(field))).transpose()
    }

    /// A required parameter validated by `parse`, errors reported under `field`.
    pub(crate) fn required<T>(
        &self,
        field: &'static str,
        parse: impl FnOnce(String) -> Result<T, ValidationError>,
    ) -> Result<T, ValidationError> {
        self.opt(field, parse)?.ok_or_else(|| ValidationError::new(field, Rule::Missing))
    }
}

/// The parameters of a query string, percent-decoded, in order, for servers reading v3
/// requests (the sandbox matches them against its data). A value that is not UTF-8 once decoded,
/// or a parameter given twice, is an error naming it.
///
/// ```
/// let params = wxpay_protocol::v3::query_params("sub_mchid=1900000109&out_order_no=P%7C1")?;
/// assert_eq!(params[1], ("out_order_no".to_owned(), "P|1".to_owned()));
/// # Ok::<(), wxpay_protocol::ValidationError>(())
/// ```
pub fn query_params(query: &str) -> Result<Vec<(String, String)>, ValidationError> {
    QueryParams::parse(query).map(|q| q.0)
}

/// The parameter names of the v3 queries (for naming a repeated one).
const KNOWN_PARAMS: &[&str] = &["sub_mchid", "transaction_id", "out_order_no", "order_id", "out_return_no"];

/// A v3 error body, `{"code","message"}`, as WeChat Pay (and the sandbox) write it.
///
/// ```
/// assert_eq!(
///     wxpay_protocol::v3::error_body("PARAM_ERROR", "out_order_no is too long"),
///     br#"{"code":"PARAM_ERROR","message":"out_order_no is too long"}"#.to_vec(),
/// );
/// ```
pub fn error_body(code: &str, message: &str) -> Vec<u8> {
    let mut body = serde_json::Map::new();
    body.insert("code".into(), code.into());
    body.insert("message".into(), message.into());
    serde_json::Value::Object(body).to_string().into_bytes()
}

/// The `Request-ID` header of an answer.
pub fn request_id<B>(response: &http::Response<B>) -> Option<String> {
    response.headers().get(crate::header::REQUEST_ID).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// Reads a non-2xx answer into an [`ApiError`]: the status, the `Request-ID`, and the body's
/// `code`, `message` and optional `detail`. A body that is not the documented JSON still gives
/// an API error with the status (a proxy's 502 page, say), so that retry decisions see it.
pub fn parse_error<B: AsRef<[u8]>>(response: &http::Response<B>) -> Error {
    let mut e = ApiError::new(ApiErrorOrigin::V3, response.status());
    e.request_id = request_id(response);
    // A body past the limit, not JSON, or ambiguous gives no code: the status still decides.
    let body = response.body().as_ref();
    let parsed = crate::json::check_len(response.status(), body).ok().and_then(|()| crate::json::parse(body).ok());
    if let Some(serde_json::Value::Object(body)) = parsed {
        e.code = body.get("code").and_then(|v| v.as_str()).map(Into::into);
        e.message = body.get("message").and_then(|v| v.as_str()).map(str::to_owned);
        e.detail = body.get("detail").filter(|v| !v.is_null()).cloned();
    }
    Error::Api(Box::new(e))
}

/// Parses a (verified) answer: a 2xx body into `T`, anything else into an [`ApiError`].
pub(crate) fn parse_json<T: serde::de::DeserializeOwned, B: AsRef<[u8]>>(
    response: &http::Response<B>,
) -> Result<T, Error> {
    let status = response.status();
    if !status.is_success() {
        return Err(parse_error(response));
    }
    let body = response.body().as_ref();
    let value = crate::json::read(status, body)?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let field = data_error_field(e.path(), e.inner());
        let kind = match field {
            Field::Present(field) => MalformedKind::InvalidField { field, expected: "the documented type" },
            Field::Missing(field) => MalformedKind::MissingField(field),
        };
        Error::Malformed(MalformedResponse::new(kind, status, body).with_source(e.into_inner()))
    })
}

/// The field a deserialization error is about.
#[derive(Debug, PartialEq, Eq)]
enum Field {
    /// A field whose value is wrong, by its path (`return_no`, `receivers[0].amount`).
    Present(String),
    /// A required field that is absent, by its path.
    Missing(String),
}

/// Names the field of a deserialization error from the error's path (never from the value,
/// which serde quotes in its message: `invalid type: integer `7``). A missing field's error is
/// raised at the object that lacks it; serde's message then names the field, a name from the
/// type (`missing field `return_no``), which is appended to the path.
fn data_error_field(path: &serde_path_to_error::Path, error: &serde_json::Error) -> Field {
    use serde_path_to_error::Segment;
    let mut joined = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !joined.is_empty() {
                    joined.push('.');
                }
                joined.push_str(key);
            }
            Segment::Seq { index } => joined.push_str(&format!("[{index}]")),
            Segment::Unknown => joined.push('?'),
        }
    }
    let message = error.to_string();
    let missing = message.strip_prefix("missing field `").and_then(|rest| rest.split_once('`')).map(|(name, _)| name);
    match missing {
        Some(name) if joined.is_empty() => Field::Missing(name.to_owned()),
        Some(name) => Field::Missing(format!("{joined}.{name}")),
        None if joined.is_empty() => Field::Present("?".to_owned()),
        None => Field::Present(joined),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(
            path_and_query("/p", &[("a", "P1|2*3@4 5_6-7.8~9"), ("b", "分")]),
            "/p?a=P1%7C2%2A3%404%205_6-7.8~9&b=%E5%88%86"
        );
    }

    fn field_of(body: &str) -> MalformedKind {
        let response = http::Response::new(body.as_bytes().to_vec());
        match parse_json::<ReturnQueryResponse, _>(&response) {
            Err(Error::Malformed(m)) => m.kind().clone(),
            other => panic!("{body}: {other:?}"),
        }
    }

    #[test]
    fn errors_name_the_field_not_the_value() {
        let expected =
            |field: &str| MalformedKind::InvalidField { field: field.into(), expected: "the documented type" };
        let body = |field: &str, value: &str| {
            let mut object = serde_json::json!({"sub_mchid":"1900000109","order_id":"1","out_order_no":"P1",
                "out_return_no":"R1","return_mchid":"86693852","return_no":"9","amount":10,"result":"SUCCESS"});
            object[field] = serde_json::from_str(value).unwrap();
            object.to_string()
        };
        for value in ["7", "null", "{}", "[1]", "true", "-1.5"] {
            assert_eq!(field_of(&body("return_no", value)), expected("return_no"), "{value}");
        }
        for value in ["\"x\"", "null", "{\"a\":1}", "-1"] {
            assert_eq!(field_of(&body("amount", value)), expected("amount"), "{value}");
        }
        assert_eq!(field_of(r#"{"return_no":7,"return_no":8}"#), MalformedKind::ConflictingField("return_no".into()));
        assert!(matches!(field_of("{}"), MalformedKind::MissingField(f) if !f.is_empty()));
    }

    #[test]
    fn non_json_error_body_keeps_status() {
        let response = http::Response::builder().status(502).body(b"<html>bad gateway</html>".to_vec()).unwrap();
        let err = parse_error(&response);
        let api = err.as_api().unwrap();
        assert_eq!(api.status().as_u16(), 502);
        assert_eq!(api.code(), None);
        assert!(err.is_retryable());
    }
}
