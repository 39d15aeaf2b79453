//! Shared checks for the `wxpay-protocol` fuzz targets in `fuzz_targets/`.
//!
//! Every target feeds arbitrary bytes to one parser and asserts the invariants that must hold
//! whatever the input: parsing never panics; a value that parses writes back out (in every
//! CloudPay reply shape, or as JSON for API v3) and parses again to the same value; an error
//! keeps the status and raw body and is classified for retries the way docs/protocol.md §4 says.

use std::fmt::Debug;

use wxpay_protocol::cloudpay::ReplyShape;
use wxpay_protocol::security::{Verified, danger};
use wxpay_protocol::{ApiErrorOrigin, Error, ErrorCode, RetryClass};

/// A parser of an HTTP answer, as the protocol crate exposes them for CloudPay.
pub type Parser<T> = fn(&http::Response<Vec<u8>>) -> Result<T, Error>;

/// A parser of an API v3 answer, which takes it verified (the targets read it unchecked, through
/// `security::danger::inspect_unverified`).
pub type V3Parser<T> = for<'a, 'b> fn(&'a Verified<'b, Vec<u8>>) -> Result<T, Error>;

/// `serde_json::to_vec` at a concrete type.
pub type ToJson<T> = fn(&T) -> serde_json::Result<Vec<u8>>;

/// An answer with `status` around (a copy of) `body`.
pub fn response(status: u16, body: &[u8]) -> http::Response<Vec<u8>> {
    let mut response = http::Response::new(body.to_vec());
    *response.status_mut() = http::StatusCode::from_u16(status).expect("a valid status code");
    response
}

/// The body as text, for assertion messages.
fn text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

/// Whether docs/protocol.md §4 (and `Error::retry_class`'s documentation) says an API error may be
/// retried: SYSTEMERROR / SYSTEM_ERROR / FREQUENCY_LIMITED / ORDER_NOT_READY, any 5xx, 429, or the
/// gateway's busy code -1.
pub fn documented_retryable(api: &wxpay_protocol::ApiError) -> bool {
    let code = api.code().is_some_and(|c| {
        matches!(
            c,
            ErrorCode::SystemError | ErrorCode::SystemErrorV3 | ErrorCode::FrequencyLimited | ErrorCode::OrderNotReady
        )
    });
    code || api.status().is_server_error()
        || api.status() == http::StatusCode::TOO_MANY_REQUESTS
        || (api.origin() == ApiErrorOrigin::Gateway && api.gateway_code() == Some(-1))
}

/// Invariants of an error returned by a parser for an answer with `status` and `body`.
pub fn check_parse_error(err: &Error, status: u16, body: &[u8]) {
    // Display and the predicates must not panic on anything.
    let _ = err.to_string();
    let _ = err.is_timeout();
    assert!(!err.outcome_unknown(), "a parsed answer cannot leave an outcome unknown: {err:?}");
    let class = err.retry_class();
    assert_eq!(class == RetryClass::Retryable, err.is_retryable());
    match err {
        Error::Malformed(m) => {
            // ... up to the size limit: a longer body is kept to its first MAX_ANSWER_BYTES.
            let kept = &body[..body.len().min(wxpay_protocol::MAX_ANSWER_BYTES)];
            assert_eq!(m.body(), kept, "a malformed answer must keep the raw body");
            if body.len() > wxpay_protocol::MAX_ANSWER_BYTES {
                assert!(matches!(m.kind(), wxpay_protocol::MalformedKind::TooLarge { .. }), "{err:?}");
            }
            assert_eq!(m.status().as_u16(), status);
            assert_eq!(class, RetryClass::Final, "a malformed answer is final: {err:?}");
        }
        Error::Api(api) => {
            assert_eq!(api.status().as_u16(), status, "an API error must keep the HTTP status");
            assert_eq!(
                class == RetryClass::Retryable,
                documented_retryable(api),
                "retry class {class:?} contradicts docs/protocol.md §4 for {api:?}"
            );
        }
        other => panic!("a parser returned a request-side error: {other:?}"),
    }
}

/// Parses `data` as a 200 CloudPay answer with `parse`; on success checks that the value
/// round-trips through every [`ReplyShape`] with `encode`, on failure checks the error.
///
/// The camelCase shapes are included: a success answer carries no business `err_code`, so the
/// `errCode: 0` / `errMsg` the cloud SDK merges in shadows nothing and must parse back too.
pub fn fuzz_cloudpay<T: PartialEq + Debug>(data: &[u8], encode: fn(&T, ReplyShape) -> Vec<u8>, parse: Parser<T>) {
    match parse(&response(200, data)) {
        Ok(value) => cloudpay_round_trip(&value, encode, parse),
        Err(err) => check_parse_error(&err, 200, data),
    }
}

/// Asserts that `value` written in each reply shape parses back to itself.
pub fn cloudpay_round_trip<T: PartialEq + Debug>(value: &T, encode: fn(&T, ReplyShape) -> Vec<u8>, parse: Parser<T>) {
    for shape in ReplyShape::all() {
        let bytes = encode(value, shape);
        match parse(&response(200, &bytes)) {
            Ok(back) => assert_eq!(&back, value, "{shape:?} changed the value\n  encoded: {}", text(&bytes)),
            Err(err) => panic!("{shape:?} does not parse back: {err}\n  value: {value:?}\n  encoded: {}", text(&bytes)),
        }
    }
}

/// Parses `data` as a 200 API v3 answer with `parse`; on success checks that the value,
/// serialised with `to_json` (`serde_json::to_vec` at the concrete type), parses back to itself;
/// on failure checks the error.
pub fn fuzz_v3<T: PartialEq + Debug>(data: &[u8], parse: V3Parser<T>, to_json: ToJson<T>) {
    match parse(&danger::inspect_unverified(&response(200, data))) {
        Ok(value) => {
            let bytes = to_json(&value).expect("a parsed answer serialises");
            match parse(&danger::inspect_unverified(&response(200, &bytes))) {
                Ok(back) => assert_eq!(back, value, "JSON round trip changed the value\n  json: {}", text(&bytes)),
                Err(err) => panic!("JSON does not parse back: {err}\n  value: {value:?}\n  json: {}", text(&bytes)),
            }
        }
        Err(err) => {
            assert!(matches!(err, Error::Malformed(_)), "a 2xx v3 answer fails only as malformed: {err:?}");
            check_parse_error(&err, 200, data);
        }
    }
}

/// Whether `bytes` is JSON with an object that gives a key twice with different values (the
/// core refuses such answers as ambiguous: issue 11). `false` for anything that is not JSON.
pub fn has_conflicting_keys(bytes: &[u8]) -> bool {
    use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
    use serde_json::{Map, Value};

    #[derive(Clone, Copy)]
    struct Seed<'a>(&'a std::cell::Cell<bool>);

    impl<'de> DeserializeSeed<'de> for Seed<'_> {
        type Value = Value;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for Seed<'_> {
        type Value = Value;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("JSON")
        }
        fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
            Ok(v.into())
        }
        fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
            Ok(v.into())
        }
        fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
            Ok(v.into())
        }
        fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
            Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
        }
        fn visit_str<E>(self, v: &str) -> Result<Value, E> {
            Ok(v.into())
        }
        fn visit_unit<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
            let mut out = Vec::new();
            while let Some(v) = seq.next_element_seed(self)? {
                out.push(v);
            }
            Ok(Value::Array(out))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
            let mut out = Map::new();
            while let Some(key) = map.next_key::<String>()? {
                let value = map.next_value_seed(self)?;
                if out.get(&key).is_some_and(|first| *first != value) {
                    self.0.set(true);
                }
                out.entry(key).or_insert(value);
            }
            Ok(Value::Object(out))
        }
    }

    let found = std::cell::Cell::new(false);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = Seed(&found).deserialize(&mut de).and_then(|_| de.end());
    parsed.is_ok() && found.get()
}
