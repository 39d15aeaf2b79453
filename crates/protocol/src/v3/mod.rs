//! WeChat Pay API v3: the two e-commerce profit-sharing queries (DESIGN.md 4.2).
//!
//! Requests are `GET` with every parameter percent-encoded in the query string (seeds/001's
//! table says "path" and seeds/003's header says "JSON"; both are wrong, the request examples
//! are right). The built request is unsigned; `request.uri().path_and_query()` is exactly the
//! `PATH_AND_QUERY` that must be signed, because it is exactly what is sent.

mod order_query;
mod return_query;

pub use order_query::{
    CloseReason, OrderQueryRequest, OrderQueryResponse, OrderReceiver, OrderStatus, ReceiverFailReason, ReceiverResult,
};
pub use return_query::{ReturnFailReason, ReturnQueryRequest, ReturnQueryResponse, ReturnResult};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};

use crate::endpoint::BaseUrl;
use crate::error::{ApiError, ApiErrorOrigin, Error, MalformedKind, MalformedResponse, ValidationError};

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

/// The `Request-ID` header of an answer.
pub fn request_id<B>(response: &http::Response<B>) -> Option<String> {
    response.headers().get("Request-ID").and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// Reads a non-2xx answer into an [`ApiError`]: the status, the `Request-ID`, and the body's
/// `code`, `message` and optional `detail`. A body that is not the documented JSON still gives
/// an API error with the status (a proxy's 502 page, say), so that retry decisions see it.
pub fn parse_error<B: AsRef<[u8]>>(response: &http::Response<B>) -> Error {
    let mut e = ApiError::new(ApiErrorOrigin::V3, response.status());
    e.request_id = request_id(response);
    if let Ok(serde_json::Value::Object(body)) = serde_json::from_slice(response.body().as_ref()) {
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
    serde_json::from_slice(body).map_err(|e| {
        let kind = match e.classify() {
            serde_json::error::Category::Data => {
                MalformedKind::InvalidField { field: data_error_field(&e), expected: "the documented type" }
            }
            _ => MalformedKind::NotJson,
        };
        Error::Malformed(MalformedResponse::new(kind, status, body).with_source(e))
    })
}

/// serde_json names the missing field in its message (`missing field `x``); keep just the name.
fn data_error_field(e: &serde_json::Error) -> String {
    let text = e.to_string();
    text.split('`').nth(1).unwrap_or("").to_owned()
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
