//! Writing CloudPay answers in each documented shape (docs/protocol.md §1.2). The sandbox answers
//! with these, and the property tests check that every shape parses back to the same value.

use serde_json::{Map, Value};

use super::CloudPayOp;
use crate::extra::Extra;

/// The case of the keys of a CloudPay answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum KeyCase {
    /// `return_code`, `refund_id_0`: the documents and the HTTP sidecar.
    #[default]
    Snake,
    /// `returnCode`, `refundId_0`: what wx-server-sdk hands to cloud functions, including its
    /// merged `errCode: 0` and `errMsg: "cloudPay.<api>:ok"`, which shadow a business
    /// `err_code` (docs/protocol.md §1.2).
    Camel,
}

/// How refund query lists are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ListStyle {
    /// `refund_id_0`, `coupon_refund_id_0_1`: the v2 API's `$n` / `$n_$m` keys
    /// (docs/protocol.md §8.5).
    #[default]
    Indexed,
    /// Parallel arrays: `refund_id_list`, ... per refund, and `coupon_refund_id_array`, ... as
    /// one array of coupons per refund.
    Arrays,
}

/// How integers are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum NumberStyle {
    /// JSON numbers.
    #[default]
    Numbers,
    /// Strings of digits, as the XML underneath has them.
    Strings,
}

/// One of the shapes a CloudPay answer arrives in.
///
/// ```
/// use wxpay_protocol::cloudpay::{KeyCase, ReplyShape};
/// let shape = ReplyShape::new().wrapped(true).key_case(KeyCase::Camel);
/// assert_eq!(ReplyShape::all().count(), 16);
/// assert!(ReplyShape::all().any(|s| s == shape));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct ReplyShape {
    /// Wrapped in `{"errcode":0,"errmsg":"ok","respdata":{...}}`.
    pub wrapped: bool,
    /// snake_case or camelCase keys.
    pub keys: KeyCase,
    /// Indexed keys or parallel arrays for lists.
    pub lists: ListStyle,
    /// Integers as numbers or digit strings.
    pub numbers: NumberStyle,
}

impl ReplyShape {
    /// The documented shape: bare, snake_case, indexed, numbers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets whether the answer is wrapped in `respdata`.
    pub fn wrapped(mut self, wrapped: bool) -> Self {
        self.wrapped = wrapped;
        self
    }

    /// Sets the key case.
    pub fn key_case(mut self, keys: KeyCase) -> Self {
        self.keys = keys;
        self
    }

    /// Sets the list style.
    pub fn list_style(mut self, lists: ListStyle) -> Self {
        self.lists = lists;
        self
    }

    /// Sets the number style.
    pub fn number_style(mut self, numbers: NumberStyle) -> Self {
        self.numbers = numbers;
        self
    }

    /// Every combination.
    pub fn all() -> impl Iterator<Item = ReplyShape> {
        [false, true].into_iter().flat_map(|wrapped| {
            [KeyCase::Snake, KeyCase::Camel].into_iter().flat_map(move |keys| {
                [ListStyle::Indexed, ListStyle::Arrays].into_iter().flat_map(move |lists| {
                    [NumberStyle::Numbers, NumberStyle::Strings].into_iter().map(move |numbers| ReplyShape {
                        wrapped,
                        keys,
                        lists,
                        numbers,
                    })
                })
            })
        })
    }
}

/// Converts a snake_case key to camelCase, keeping `_` before indexes: `coupon_refund_id_0_1`
/// becomes `couponRefundId_0_1`.
pub(crate) fn camel_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for (i, part) in key.split('_').enumerate() {
        if i == 0 {
            out.push_str(part);
        } else if part.bytes().all(|b| b.is_ascii_digit()) {
            out.push('_');
            out.push_str(part);
        } else {
            let mut chars = part.chars();
            if let Some(first) = chars.next() {
                out.push(first.to_ascii_uppercase());
                out.push_str(chars.as_str());
            }
        }
    }
    out
}

/// Collects an answer's fields (snake_case) and writes them in a shape.
#[derive(Debug)]
pub(crate) struct Encoder {
    shape: ReplyShape,
    entries: Vec<(String, Value)>,
    /// Extra fields: written with their keys as they are, in every key case.
    raw: Vec<(String, Value)>,
}

impl Encoder {
    pub(crate) fn new(shape: ReplyShape) -> Self {
        Self { shape, entries: Vec::new(), raw: Vec::new() }
    }

    /// A field whose key is written as it is in every key case: an extra field keeps the
    /// spelling it arrived in. A known field of the same key wins.
    pub(crate) fn raw(&mut self, key: impl Into<String>, value: Value) {
        self.raw.push((key.into(), value));
    }

    /// The extra fields of an answer, as they are.
    pub(crate) fn extra(&mut self, extra: &Extra) {
        for (key, value) in extra.iter() {
            self.raw(key, value.clone());
        }
    }

    /// What follows a field's name for its parallel list in this key case: `_list` or `List`.
    pub(crate) fn list_suffix(&self) -> &'static str {
        match self.shape.keys {
            KeyCase::Snake => "_list",
            KeyCase::Camel => "List",
        }
    }

    /// What follows a field's name for its per-coupon arrays in this key case: `_array` or
    /// `Array`.
    pub(crate) fn array_suffix(&self) -> &'static str {
        match self.shape.keys {
            KeyCase::Snake => "_array",
            KeyCase::Camel => "Array",
        }
    }

    pub(crate) fn shape(&self) -> ReplyShape {
        self.shape
    }

    pub(crate) fn value(&mut self, key: impl Into<String>, value: Value) {
        self.entries.push((key.into(), value));
    }

    pub(crate) fn str(&mut self, key: impl Into<String>, value: &str) {
        self.value(key, Value::String(value.to_owned()));
    }

    pub(crate) fn opt_str(&mut self, key: impl Into<String>, value: Option<&str>) {
        if let Some(value) = value {
            self.str(key, value);
        }
    }

    /// An integer in the shape's number style.
    pub(crate) fn number(&self, value: u64) -> Value {
        match self.shape.numbers {
            NumberStyle::Numbers => Value::from(value),
            NumberStyle::Strings => Value::String(value.to_string()),
        }
    }

    pub(crate) fn num(&mut self, key: impl Into<String>, value: u64) {
        let v = self.number(value);
        self.value(key, v);
    }

    pub(crate) fn opt_num(&mut self, key: impl Into<String>, value: Option<u64>) {
        if let Some(value) = value {
            self.num(key, value);
        }
    }

    /// The answer's bytes.
    pub(crate) fn finish(self, op: CloudPayOp) -> Vec<u8> {
        let mut object = Map::new();
        for (key, value) in self.entries {
            let key = match self.shape.keys {
                KeyCase::Snake => key,
                KeyCase::Camel => camel_case(&key),
            };
            object.insert(key, value);
        }
        for (key, value) in self.raw {
            object.entry(key).or_insert(value);
        }
        if self.shape.keys == KeyCase::Camel {
            object.insert("errCode".into(), Value::from(0));
            object.insert("errMsg".into(), Value::String(format!("cloudPay.{}:ok", op.sdk_name())));
        }
        let value = if self.shape.wrapped {
            let mut wrapper = Map::new();
            wrapper.insert("errcode".into(), Value::from(0));
            wrapper.insert("errmsg".into(), Value::String("ok".into()));
            wrapper.insert("respdata".into(), Value::Object(object));
            Value::Object(wrapper)
        } else {
            Value::Object(object)
        };
        value.to_string().into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::super::fields::snake_case;
    use super::*;

    #[test]
    fn camel_and_snake_are_inverse_on_api_keys() {
        for key in ["return_code", "coupon_refund_id_0_1", "refund_recv_accout_12", "out_refund_no_list", "sub_appid"] {
            assert_eq!(snake_case(&camel_case(key)), key);
        }
        assert_eq!(camel_case("coupon_refund_id_0_1"), "couponRefundId_0_1");
    }
}
