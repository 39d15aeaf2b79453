//! API v3 error answers: the first byte picks a non-2xx status (and, with its high bit, whether a
//! `Request-ID` header is sent), the rest is the body. `v3::parse_error` must keep the status,
//! the request id, the body's `code` and `message`, and classify retries as docs/protocol.md §4
//! says: 429 and 5xx always retryable, other statuses only for a retryable code.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use wxpay_protocol::{ApiErrorOrigin, ErrorCode, RetryClass, v3};
use wxpay_protocol_fuzz::{check_parse_error, response};

/// The statuses the first byte chooses from.
const STATUSES: [u16; 7] = [400, 401, 403, 404, 429, 500, 502];

/// The `Request-ID` sent when the first byte's high bit is set.
const REQUEST_ID: &str = "08F0A1B2C3D4E5F6-1234567890";

fuzz_target!(|data: &[u8]| {
    let Some((&first, body)) = data.split_first() else { return };
    let status = STATUSES[usize::from(first & 0x7f) % STATUSES.len()];
    let mut answer = response(status, body);
    let with_id = first & 0x80 != 0;
    if with_id {
        answer.headers_mut().insert("Request-ID", http::HeaderValue::from_static(REQUEST_ID));
    }

    let err = v3::parse_error(&answer);
    let api = err.as_api().expect("parse_error always gives an API error");
    assert_eq!(api.origin(), ApiErrorOrigin::V3);
    assert_eq!(api.status().as_u16(), status);
    assert_eq!(api.request_id(), with_id.then_some(REQUEST_ID));

    // What the body says is kept as sent.
    // An ambiguous body (a key twice with different values) or one past the size limit says
    // nothing: the status decides.
    let readable = body.len() <= wxpay_protocol::MAX_ANSWER_BYTES && !wxpay_protocol_fuzz::has_conflicting_keys(body);
    let parsed = serde_json::from_slice::<Value>(body).ok().filter(|_| readable);
    if let Some(Value::Object(object)) = parsed {
        let code = object.get("code").and_then(Value::as_str);
        assert_eq!(api.code().map(ErrorCode::as_str), code, "code not kept");
        let message = object.get("message").and_then(Value::as_str);
        assert_eq!(api.message(), message, "message not kept");
    } else {
        assert_eq!(api.code(), None, "a code from a body that is not a JSON object");
    }

    let retryable = err.retry_class() == RetryClass::Retryable;
    if status == 429 || status >= 500 {
        assert!(retryable, "HTTP {status} must be retryable: {api:?}");
    } else {
        let code_retryable = api.code().is_some_and(ErrorCode::is_retryable);
        assert_eq!(retryable, code_retryable, "HTTP {status}: retry class must follow the code: {api:?}");
    }
    check_parse_error(&err, status, body);
});
