//! Reading a CloudPay answer of any documented shape into one normalised field map
//! (docs/protocol.md §1.2), remembering which fields were read so that the rest is kept as
//! [`Extra`](crate::Extra).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use http::StatusCode;
use serde_json::{Map, Value};

use crate::amount::Fen;
use crate::error::{ApiError, ApiErrorOrigin, Error, MalformedKind, MalformedResponse};
use crate::extra::Extra;
use crate::number::u64_from_value;
use crate::timestamp::Timestamp;

/// One of the [`Timestamp`] parsers.
pub(crate) type TimeParser = fn(&str) -> Result<Timestamp, crate::timestamp::InvalidTimestamp>;

/// The fields of an unwrapped CloudPay answer, keyed by their snake_case names.
///
/// Every key a reader asks for ([`get`](Self::get) and the typed readers built on it) is
/// recorded; [`unread`](Self::unread) gives the others, spelled as sent, for the answer's
/// `extra`. [`has`](Self::has) and [`has_list`](Self::has_list) only look.
#[derive(Debug)]
pub(crate) struct Fields<'a> {
    map: BTreeMap<String, Field>,
    read: RefCell<BTreeSet<String>>,
    status: StatusCode,
    body: &'a [u8],
}

/// One field: its key as sent (snake_case or camelCase) and its value.
#[derive(Debug)]
struct Field {
    key: String,
    value: Value,
}

/// A field no reader asked for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Unread<'f> {
    /// The snake_case name.
    pub(crate) snake: &'f str,
    /// The key as sent.
    pub(crate) key: &'f str,
    /// The value (possibly `null`).
    pub(crate) value: &'f Value,
}

/// Wire scaffolding, by snake_case name: never an extra field (docs/protocol.md §1.2).
///
/// The status and failure fields (docs/protocol.md §8.1, §8.3, §8.5): [`super::status`] reads them
/// when an answer fails; in a successful one they say nothing (the refund query's example,
/// docs/protocol.md §8.5, carries `err_code` next to `result_code = SUCCESS`). The gateway
/// wrapper's `errcode` / `errmsg` / `respdata` and wx-server-sdk's `errMsg`, should they appear
/// inside the answer as well: every reply shape writes its own.
const SCAFFOLDING: &[&str] = &[
    "return_code",
    "return_msg",
    "result_code",
    "err_code",
    "err_code_des",
    "error_code",
    "error_msg",
    "errcode",
    "errmsg",
    "respdata",
    "err_msg",
];

/// Converts a camelCase key to snake_case; snake_case keys come out unchanged.
/// An index glued to a name (`refundId0`) gets its underscore back (`refund_id_0`).
pub(crate) fn snake_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    let mut prev: Option<char> = None;
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            if prev.is_some_and(|p| p != '_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            if c.is_ascii_digit() && prev.is_some_and(|p| p.is_ascii_alphabetic()) {
                out.push('_');
            }
            out.push(c);
        }
        prev = Some(c);
    }
    out
}

fn gateway_error(status: StatusCode, code: Option<i64>, message: Option<&Value>) -> Error {
    let mut e = ApiError::new(ApiErrorOrigin::Gateway, status);
    e.gateway_code = code;
    e.message = message.and_then(Value::as_str).map(str::to_owned);
    Error::Api(Box::new(e))
}

/// An integer status code that may arrive as a number or a string.
fn status_code(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl<'a> Fields<'a> {
    /// Unwraps and normalises an answer, or returns the gateway's error.
    pub(crate) fn open<B: AsRef<[u8]>>(response: &'a http::Response<B>) -> Result<Self, Error> {
        let status = response.status();
        let body = response.body().as_ref();
        let malformed = |kind| Error::Malformed(MalformedResponse::new(kind, status, body));

        crate::json::check_len(status, body)?;
        let parsed = crate::json::read(status, body);
        if !status.is_success() {
            // The sidecar answers non-2xx itself; the body, if any, is its `{errcode, errmsg}`.
            let obj = parsed.ok().and_then(|v| match v {
                Value::Object(o) => Some(o),
                _ => None,
            });
            let code = obj.as_ref().and_then(|o| o.get("errcode").or(o.get("errCode"))).and_then(status_code);
            let msg = obj.as_ref().and_then(|o| o.get("errmsg").or(o.get("errMsg")).cloned());
            return Err(gateway_error(status, code, msg.as_ref()));
        }
        let value = parsed?;
        let Value::Object(mut object) = value else {
            return Err(malformed(MalformedKind::NotAnObject));
        };
        // Keys of the wrapper other than errcode / errmsg / respdata are not scaffolding: they
        // join the answer's fields (where it has no such key), so that nothing is dropped and
        // every reply shape, wrapped or not, reads back the same.
        let mut outer = Map::new();

        // The open-API wrapper: `{"errcode":0,"errmsg":"ok","respdata":{...}}`. errcode 0 says
        // nothing about the business result; a non-zero one is the gateway's own error.
        if let Some(errcode) = object.get("errcode") {
            let code = status_code(errcode).ok_or_else(|| {
                malformed(MalformedKind::InvalidField { field: "errcode".into(), expected: "an integer" })
            })?;
            if code != 0 {
                return Err(gateway_error(status, Some(code), object.get("errmsg")));
            }
            let inner = match object.remove("respdata") {
                Some(Value::Object(inner)) => Some(inner),
                // Some gateways pass the business JSON through as a string.
                Some(Value::String(text)) => match crate::json::parse(text.as_bytes()) {
                    Ok(Value::Object(inner)) => Some(inner),
                    Err(crate::json::StrictError::Duplicate(key)) => {
                        return Err(malformed(MalformedKind::ConflictingField(format!("respdata.{key}"))));
                    }
                    _ => {
                        return Err(malformed(MalformedKind::InvalidField {
                            field: "respdata".into(),
                            expected: "a JSON object",
                        }));
                    }
                },
                Some(_) => {
                    return Err(malformed(MalformedKind::InvalidField {
                        field: "respdata".into(),
                        expected: "a JSON object",
                    }));
                }
                None => None,
            };
            object.remove("errcode");
            object.remove("errmsg");
            if let Some(inner) = inner {
                outer = std::mem::replace(&mut object, inner);
            }
        }

        // wx-server-sdk merges `errCode: 0` and `errMsg: "cloudPay.<api>:ok"` into camelCase
        // answers: a numeric errCode is the cloud SDK's status, a string one is the business
        // `err_code` (docs/protocol.md §1.2).
        if let Some(Value::Number(n)) = object.get("errCode") {
            let code = n.as_i64();
            if code != Some(0) {
                return Err(gateway_error(status, code, object.get("errMsg")));
            }
            object.remove("errCode");
            object.remove("errMsg");
        }

        let mut map: BTreeMap<String, Field> = BTreeMap::new();
        // The same field in both spellings, or in the wrapper and the answer: one field, kept as
        // first spelled, when the values agree; malformed when they do not.
        for (key, value) in object.into_iter().chain(outer) {
            let snake = snake_case(&key);
            match map.get(&snake) {
                Some(existing) if existing.value == value => {}
                Some(_) => return Err(malformed(MalformedKind::ConflictingField(snake))),
                None => {
                    map.insert(snake, Field { key, value });
                }
            }
        }
        Ok(Self { map, read: RefCell::new(BTreeSet::new()), status, body })
    }

    /// Records that `key` (snake_case) was read, so that it is not extra.
    pub(crate) fn mark_read(&self, key: &str) {
        if self.map.contains_key(key) {
            self.read.borrow_mut().insert(key.to_owned());
        }
    }

    /// Records the status fields and the rest of the wire scaffolding as read (see
    /// [`SCAFFOLDING`]).
    pub(crate) fn mark_status_read(&self) {
        for key in SCAFFOLDING {
            self.mark_read(key);
        }
    }

    /// The fields no reader asked for, in snake_case order.
    pub(crate) fn unread(&self) -> Vec<Unread<'_>> {
        let read = self.read.borrow();
        self.map
            .iter()
            .filter(|(snake, _)| !read.contains(snake.as_str()))
            .map(|(snake, f)| Unread { snake, key: &f.key, value: &f.value })
            .collect()
    }

    /// The fields no reader asked for, keyed as sent: the `extra` of an answer without lists.
    pub(crate) fn extra(&self) -> Extra {
        self.unread().into_iter().map(|u| (u.key.to_owned(), u.value.clone())).collect()
    }

    /// The HTTP status of the answer.
    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }

    /// Whether the field is present and not an empty array: an empty list carries no refund.
    /// Only looks: the field is not recorded as read.
    pub(crate) fn has_list(&self, key: &str) -> bool {
        self.peek(key).is_some_and(|v| !matches!(v, Value::Array(a) if a.is_empty()))
    }

    pub(crate) fn malformed(&self, kind: MalformedKind) -> Error {
        Error::Malformed(MalformedResponse::new(kind, self.status, self.body))
    }

    pub(crate) fn invalid(&self, field: &str, expected: &'static str) -> Error {
        self.malformed(MalformedKind::InvalidField { field: field.to_owned(), expected })
    }

    /// The raw value, recording the field as read; `null` counts as absent.
    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        self.mark_read(key);
        self.peek(key)
    }

    /// The raw value without recording it as read; `null` counts as absent.
    pub(crate) fn peek(&self, key: &str) -> Option<&Value> {
        self.map.get(key).map(|f| &f.value).filter(|v| !v.is_null())
    }

    /// Converts a string value. Numbers are taken as their decimal text (ids such as
    /// `sub_mch_id` may arrive unquoted from the XML bridge); an empty string counts as absent.
    pub(crate) fn conv_str(&self, name: &str, value: Option<&Value>) -> Result<Option<String>, Error> {
        match value.filter(|v| !v.is_null()) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) if n.is_u64() => Ok(Some(n.to_string())),
            Some(_) => Err(self.invalid(name, "a string")),
        }
    }

    /// Converts a non-negative integer from a number or a digit string; an empty string counts
    /// as absent.
    pub(crate) fn conv_u64(&self, name: &str, value: Option<&Value>) -> Result<Option<u64>, Error> {
        match value.filter(|v| !v.is_null()) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(v) => u64_from_value(v).map(Some).ok_or_else(|| self.invalid(name, "a non-negative integer")),
        }
    }

    /// Converts a count that must fit in `u32`.
    pub(crate) fn conv_u32(&self, name: &str, value: Option<&Value>) -> Result<Option<u32>, Error> {
        match self.conv_u64(name, value)? {
            None => Ok(None),
            Some(n) => u32::try_from(n).map(Some).map_err(|_| self.invalid(name, "a count below 2^32")),
        }
    }

    /// A required value: absent is a malformed answer naming the field.
    pub(crate) fn require<T>(&self, name: &str, value: Option<T>) -> Result<T, Error> {
        value.ok_or_else(|| self.malformed(MalformedKind::MissingField(name.to_owned())))
    }

    pub(crate) fn opt_str(&self, key: &str) -> Result<Option<String>, Error> {
        self.conv_str(key, self.get(key))
    }

    pub(crate) fn str(&self, key: &str) -> Result<String, Error> {
        let v = self.opt_str(key)?;
        self.require(key, v)
    }

    pub(crate) fn opt_u64(&self, key: &str) -> Result<Option<u64>, Error> {
        self.conv_u64(key, self.get(key))
    }

    pub(crate) fn u64(&self, key: &str) -> Result<u64, Error> {
        let v = self.opt_u64(key)?;
        self.require(key, v)
    }

    pub(crate) fn opt_u32(&self, key: &str) -> Result<Option<u32>, Error> {
        self.conv_u32(key, self.get(key))
    }

    pub(crate) fn u32(&self, key: &str) -> Result<u32, Error> {
        let v = self.opt_u32(key)?;
        self.require(key, v)
    }

    pub(crate) fn opt_fen(&self, key: &str) -> Result<Option<Fen>, Error> {
        Ok(self.opt_u64(key)?.map(Fen::new))
    }

    pub(crate) fn fen(&self, key: &str) -> Result<Fen, Error> {
        Ok(Fen::new(self.u64(key)?))
    }

    pub(crate) fn opt_enum<E: From<String>>(&self, key: &str) -> Result<Option<E>, Error> {
        Ok(self.opt_str(key)?.map(E::from))
    }

    pub(crate) fn enumeration<E: From<String>>(&self, key: &str) -> Result<E, Error> {
        Ok(E::from(self.str(key)?))
    }

    /// A time field parsed with `parse`; an empty string counts as absent.
    pub(crate) fn opt_time(
        &self,
        key: &str,
        parse: TimeParser,
        expected: &'static str,
    ) -> Result<Option<Timestamp>, Error> {
        self.conv_time(key, self.get(key), parse, expected)
    }

    /// Converts a time value parsed with `parse`; an empty string counts as absent.
    pub(crate) fn conv_time(
        &self,
        name: &str,
        value: Option<&Value>,
        parse: TimeParser,
        expected: &'static str,
    ) -> Result<Option<Timestamp>, Error> {
        match self.conv_str(name, value)? {
            None => Ok(None),
            Some(s) => parse(&s).map(Some).map_err(|_| self.invalid(name, expected)),
        }
    }

    /// An array field (parallel-array style); absent is `None`.
    pub(crate) fn opt_array(&self, key: &str) -> Result<Option<&Vec<Value>>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(_) => Err(self.invalid(key, "an array")),
        }
    }

    /// An object field, or a string holding a JSON object (the finish `receiver`,
    /// docs/protocol.md §8.3).
    pub(crate) fn opt_object(&self, key: &str) -> Result<Option<Map<String, Value>>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => match crate::json::parse(s.as_bytes()) {
                Ok(Value::Object(o)) => Ok(Some(o)),
                Err(crate::json::StrictError::Duplicate(inner)) => {
                    Err(self.malformed(MalformedKind::ConflictingField(format!("{key}.{inner}"))))
                }
                _ => Err(self.invalid(key, "a JSON object inside a string")),
            },
            Some(Value::Object(o)) => Ok(Some(o.clone())),
            Some(_) => Err(self.invalid(key, "a JSON object inside a string")),
        }
    }

    /// Whether the field is present (and not `null`). Only looks: the field is not recorded as
    /// read.
    pub(crate) fn has(&self, key: &str) -> bool {
        self.peek(key).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_to_snake() {
        for (camel, snake) in [
            ("returnCode", "return_code"),
            ("outRefundNoList", "out_refund_no_list"),
            ("refundRecvAccout_0", "refund_recv_accout_0"),
            ("couponRefundId_0_1", "coupon_refund_id_0_1"),
            ("refundId0", "refund_id_0"),
            ("refund_id_0", "refund_id_0"),
            ("sub_mch_id", "sub_mch_id"),
            ("subMchId", "sub_mch_id"),
        ] {
            assert_eq!(snake_case(camel), snake, "{camel}");
        }
    }
}
