//! Reading answer bodies as JSON with the bounds and the strictness a hostile server calls for
//! (issue 11): a body longer than [`MAX_ANSWER_BYTES`] is refused before it is parsed, and an
//! object that gives one key twice with different values is refused rather than read as its
//! last value (`{"return_code":"FAIL","return_code":"SUCCESS"}` is not a success).
//!
//! serde_json keeps the last of duplicated keys in a [`Value`]; the derived v3 types refuse a
//! duplicated known field but would let a flattened [`Extra`](crate::Extra) keep the last one.
//! Both wires therefore read their bodies through [`parse`] first.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::error::{Error, MalformedKind, MalformedResponse};

/// The longest answer body the parsers read, in bytes: 256 KiB.
///
/// The largest documented answer is far smaller: a refund query lists at most 50 refunds
/// ([`MAX_REFUNDS`](crate::MAX_REFUNDS)), a few hundred bytes each with their coupons, and a v3
/// order query lists its receivers (tens of kilobytes at most). A longer body is refused as
/// malformed before anything is parsed, so that the memory one answer costs is bounded by this
/// constant and not by what the server sends (docs/errors.md states the measured bound).
pub const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// Refuses a body longer than [`MAX_ANSWER_BYTES`] (keeping only that many of its bytes in the
/// error).
pub(crate) fn check_len(status: http::StatusCode, body: &[u8]) -> Result<(), Error> {
    if body.len() <= MAX_ANSWER_BYTES {
        return Ok(());
    }
    let kind = MalformedKind::TooLarge { len: body.len(), limit: MAX_ANSWER_BYTES };
    Err(Error::Malformed(MalformedResponse::new(kind, status, &body[..MAX_ANSWER_BYTES])))
}

/// Reads an answer body: [`check_len`], then [`parse`], with its errors as malformed answers
/// (a duplicated key is [`MalformedKind::ConflictingField`]).
pub(crate) fn read(status: http::StatusCode, body: &[u8]) -> Result<Value, Error> {
    check_len(status, body)?;
    parse(body).map_err(|e| {
        let malformed = match e {
            StrictError::Syntax(e) => MalformedResponse::new(MalformedKind::NotJson, status, body).with_source(e),
            StrictError::Duplicate(key) => MalformedResponse::new(MalformedKind::ConflictingField(key), status, body),
        };
        Error::Malformed(malformed)
    })
}

/// Why a body could not be read as strict JSON.
#[derive(Debug)]
pub(crate) enum StrictError {
    /// Not JSON (serde_json's error).
    Syntax(serde_json::Error),
    /// The object key given twice with different values.
    Duplicate(String),
}

/// Parses `bytes` as JSON, refusing an object that repeats a key with a different value. A key
/// repeated with the same value is one field (the same answer either way).
pub(crate) fn parse(bytes: &[u8]) -> Result<Value, StrictError> {
    let duplicate = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let result = StrictSeed { duplicate: &duplicate }.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    match (result, duplicate.into_inner()) {
        (_, Some(key)) => Err(StrictError::Duplicate(key)),
        (Ok(value), None) => Ok(value),
        (Err(e), None) => Err(StrictError::Syntax(e)),
    }
}

/// Builds a [`Value`], recording the first duplicated key in `duplicate`.
#[derive(Clone, Copy)]
struct StrictSeed<'r> {
    duplicate: &'r RefCell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for StrictSeed<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        // Not `with_capacity(size_hint)`: the hint would come from the input.
        let mut out = Vec::new();
        while let Some(value) = seq.next_element_seed(self)? {
            out.push(value);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            let value = access.next_value_seed(self)?;
            match map.get(&key) {
                Some(first) if *first != value => {
                    *self.duplicate.borrow_mut() = Some(key);
                    return Err(de::Error::custom("a key is given twice with different values"));
                }
                Some(_) => {}
                None => {
                    map.insert(key, value);
                }
            }
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_with_different_values_are_refused_at_any_depth() {
        for (body, key) in [
            (r#"{"return_code":"FAIL","return_code":"SUCCESS"}"#, "return_code"),
            (r#"{"a":[{"b":1,"b":2}]}"#, "b"),
            (r#"{"receiver":{"amount":1,"amount":100}}"#, "amount"),
        ] {
            match parse(body.as_bytes()) {
                Err(StrictError::Duplicate(found)) => assert_eq!(found, key, "{body}"),
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    #[test]
    fn same_values_and_plain_json_read_as_serde_json_does() {
        for body in [r#"{"a":1,"a":1}"#, r#"{"a":[1,-2,3.5,"x",null,true,{"b":{}}]}"#, "[]", "\"s\"", "0"] {
            let strict = parse(body.as_bytes()).unwrap();
            assert_eq!(strict, serde_json::from_str::<Value>(body).unwrap(), "{body}");
        }
        assert!(matches!(parse(b"{\"a\":1} x"), Err(StrictError::Syntax(_))));
        assert!(matches!(parse(b"{\"a\":"), Err(StrictError::Syntax(_))));
    }
}
