//! Fields of an answer that no response type knows: kept, never dropped (docs/design.md §2,
//! "response structs ... tolerate new fields").
//!
//! WeChat Pay adds response fields without notice (`detail_id` on v3 order-query receivers
//! arrived years after the order query's document was written, docs/protocol.md §8.4). Every
//! response type, and every receiver, refund and coupon inside one, carries an [`Extra`] with
//! the keys its parser did not read, spelled as they were sent (a camelCase key from
//! wx-server-sdk stays camelCase), so a caller can read a field before this crate learns it,
//! and `--json` prints it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The fields of an answer (or of one receiver, refund or coupon in it) that its type does not
/// know, keyed as sent.
///
/// On the serde-derived API v3 types it is `#[serde(flatten)]`ed: it reads every key the other
/// fields do not take and writes them back next to them, so serializing an answer gives the
/// answer. On the CloudPay types it serializes as an `extra` object (left out when empty), and
/// the `encode` functions write it back in every reply shape. Wire scaffolding is never extra:
/// the gateway wrapper's `errcode` / `errmsg` / `respdata`, the status fields (`return_code`,
/// `return_msg`, `result_code` and the failure fields `err_code`, `err_code_des`,
/// `error_code`, `error_msg`), and wx-server-sdk's numeric `errCode` with its `errMsg`
/// (docs/protocol.md §1.2).
///
/// ```
/// use wxpay_protocol::security::danger;
/// use wxpay_protocol::v3::OrderQueryResponse;
/// let body = br#"{"sub_mchid":"1900000109","transaction_id":"4208450740201411110007820472",
///     "out_order_no":"P20150806125346","order_id":"3008450740201411110007820472",
///     "status":"FINISHED","settle_mode":"T1"}"#;
/// // (a client verifies answers; this example reads one unchecked)
/// let response = http::Response::new(body.to_vec());
/// let answer = OrderQueryResponse::parse(&danger::inspect_unverified(&response))?;
/// assert_eq!(answer.extra.get("settle_mode").and_then(|v| v.as_str()), Some("T1"));
/// assert_eq!(answer.extra.keys().collect::<Vec<_>>(), ["settle_mode"]);
/// // Serializing gives the answer back, the unknown field included.
/// assert_eq!(serde_json::to_value(&answer).unwrap()["settle_mode"], "T1");
/// # Ok::<(), wxpay_protocol::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Extra(Map<String, Value>);

impl Extra {
    /// No fields.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The value of `key`, spelled as sent.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// The keys and values, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Adds a field, returning the value it replaces (for servers and tests that build answers).
    pub fn insert(&mut self, key: impl Into<String>, value: Value) -> Option<Value> {
        self.0.insert(key.into(), value)
    }

    /// Removes a field.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.0.remove(key)
    }

    /// The fields as a JSON map.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// The fields as a JSON map, by value.
    pub fn into_map(self) -> Map<String, Value> {
        self.0
    }
}

impl From<Map<String, Value>> for Extra {
    fn from(map: Map<String, Value>) -> Self {
        Self(map)
    }
}

impl From<Extra> for Map<String, Value> {
    fn from(extra: Extra) -> Self {
        extra.0
    }
}

impl FromIterator<(String, Value)> for Extra {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl<'a> IntoIterator for &'a Extra {
    type Item = (&'a String, &'a Value);
    type IntoIter = serde_json::map::Iter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl IntoIterator for Extra {
    type Item = (String, Value);
    type IntoIter = serde_json::map::IntoIter;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}
