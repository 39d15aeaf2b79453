//! The sandbox's data: answers written from the seeds' examples (`fixtures/default.json`), read
//! with wxpay-protocol's own parsers, so the data is what the documents show rather than what
//! our types would generate.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;
use wxpay_protocol::cloudpay::{self, RefundDetails};

use crate::error::SandboxError;
use crate::routes;

/// The fixture file shipped with the sandbox.
const DEFAULT: &str = include_str!("../fixtures/default.json");

#[derive(Debug, Deserialize)]
struct File {
    #[serde(default)]
    cloudpay_return_orders: Vec<Entry>,
    #[serde(default)]
    cloudpay_finish: Vec<FinishEntry>,
    #[serde(default)]
    cloudpay_refunds: Vec<Entry>,
    /// The answers of the API v3 queries, by operation name (`ecommerce/profitsharing/orders`).
    #[serde(default)]
    v3: BTreeMap<String, Vec<Entry>>,
    /// The earlier spelling of `v3."ecommerce/profitsharing/returnorders"`.
    #[serde(default)]
    v3_return_orders: Vec<Entry>,
    /// The earlier spelling of `v3."ecommerce/profitsharing/orders"`.
    #[serde(default)]
    v3_orders: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    #[serde(default)]
    processing_queries: u32,
    answer: Value,
}

#[derive(Debug, Deserialize)]
struct FinishEntry {
    #[serde(default)]
    not_ready_attempts: u32,
    answer: Value,
}

/// An answer that reads `PROCESSING` for its first `processing_queries` queries.
#[derive(Debug, Clone)]
pub(crate) struct Settling<T> {
    pub(crate) answer: T,
    pub(crate) processing_queries: u32,
}

/// A payment that can be finished, with the answer a finish gets.
#[derive(Debug, Clone)]
pub(crate) struct Finishable {
    pub(crate) answer: cloudpay::FinishResponse,
    pub(crate) not_ready_attempts: u32,
}

/// The sandbox's data set.
#[derive(Debug, Clone)]
pub struct Fixtures {
    pub(crate) return_orders: Vec<Settling<cloudpay::ReturnQueryResponse>>,
    pub(crate) finishes: Vec<Finishable>,
    pub(crate) refunds: Vec<cloudpay::RefundQueryResponse>,
    /// The answers of each API v3 query, by operation name, checked against the operation's
    /// answer type when read ([`routes::Route::fixture`]).
    pub(crate) v3: BTreeMap<&'static str, Vec<Settling<Value>>>,
}

fn parse<T>(
    list: &'static str,
    index: usize,
    answer: &Value,
    parser: fn(&http::Response<Vec<u8>>) -> Result<T, wxpay_protocol::Error>,
) -> Result<T, SandboxError> {
    parser(&http::Response::new(answer.to_string().into_bytes())).map_err(|e| SandboxError::Fixture {
        list,
        index,
        reason: e.to_string(),
    })
}

/// Reads a list of answers that may start `PROCESSING`.
fn settling<T>(
    list: &'static str,
    entries: &[Entry],
    parser: fn(&http::Response<Vec<u8>>) -> Result<T, wxpay_protocol::Error>,
) -> Result<Vec<Settling<T>>, SandboxError> {
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            Ok(Settling { answer: parse(list, i, &e.answer, parser)?, processing_queries: e.processing_queries })
        })
        .collect()
}

impl Fixtures {
    /// The shipped data: the five seeds' examples and an order with 36 refunds.
    pub fn shipped() -> Result<Self, SandboxError> {
        Self::from_json(DEFAULT.as_bytes())
    }

    /// Reads a fixture file.
    pub fn from_file(path: &Path) -> Result<Self, SandboxError> {
        let bytes = std::fs::read(path).map_err(|e| SandboxError::Read(path.to_owned(), e))?;
        Self::from_json(&bytes)
    }

    /// Reads fixtures from JSON of the shipped file's form.
    pub fn from_json(json: &[u8]) -> Result<Self, SandboxError> {
        let file: File = serde_json::from_slice(json).map_err(SandboxError::FixtureFile)?;
        let refunds = file
            .cloudpay_refunds
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let answer = parse("cloudpay_refunds", i, &e.answer, cloudpay::RefundQueryResponse::parse)?;
                match answer.refunds {
                    RefundDetails::Listed(_) => Ok(answer),
                    _ => Err(SandboxError::Fixture {
                        list: "cloudpay_refunds",
                        index: i,
                        reason: "the refunds must be listed".into(),
                    }),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            return_orders: settling(
                "cloudpay_return_orders",
                &file.cloudpay_return_orders,
                cloudpay::ReturnQueryResponse::parse,
            )?,
            finishes: file
                .cloudpay_finish
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    Ok(Finishable {
                        answer: parse("cloudpay_finish", i, &e.answer, cloudpay::FinishResponse::parse)?,
                        not_ready_attempts: e.not_ready_attempts,
                    })
                })
                .collect::<Result<Vec<_>, SandboxError>>()?,
            refunds,
            v3: v3_lists(file.v3, [("v3_orders", file.v3_orders), ("v3_return_orders", file.v3_return_orders)])?,
        })
    }
}

/// The v3 answers by operation, each checked against its operation's answer type. `legacy`
/// holds the lists of the earlier form, named by the list.
fn v3_lists(
    by_name: BTreeMap<String, Vec<Entry>>,
    legacy: [(&'static str, Vec<Entry>); 2],
) -> Result<BTreeMap<&'static str, Vec<Settling<Value>>>, SandboxError> {
    const LEGACY_NAMES: [(&str, &str); 2] =
        [("v3_orders", "ecommerce/profitsharing/orders"), ("v3_return_orders", "ecommerce/profitsharing/returnorders")];
    let legacy = legacy.into_iter().map(|(list, entries)| {
        let name = LEGACY_NAMES.iter().find(|(l, _)| *l == list).map_or(list, |(_, name)| name);
        (Some(list), name.to_owned(), entries)
    });
    let mut out: BTreeMap<&'static str, Vec<Settling<Value>>> = BTreeMap::new();
    for (list, name, entries) in legacy.chain(by_name.into_iter().map(|(name, entries)| (None, name, entries))) {
        if entries.is_empty() {
            continue;
        }
        let Some((route, check)) = routes::route_named(&name).and_then(|r| r.fixture.map(|check| (r, check))) else {
            return Err(SandboxError::Fixture {
                list: list.unwrap_or("v3"),
                index: 0,
                reason: format!("`{name}` is not an API v3 query the sandbox serves"),
            });
        };
        let list = list.unwrap_or(route.spec.name);
        for (index, e) in entries.into_iter().enumerate() {
            check(&e.answer).map_err(|reason| SandboxError::Fixture { list, index, reason })?;
            out.entry(route.spec.name)
                .or_default()
                .push(Settling { answer: e.answer, processing_queries: e.processing_queries });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_fixtures_read_with_the_protocol_parsers() {
        let f = Fixtures::shipped().unwrap();
        assert_eq!(f.return_orders[0].answer.return_amount.get(), 888);
        assert_eq!(f.finishes[0].answer.order_id, "3008450740201411110007820472");
        assert_eq!(f.refunds.iter().map(|r| r.listed_refunds().len()).collect::<Vec<_>>(), [1, 36]);
        assert_eq!(f.v3["ecommerce/profitsharing/returnorders"][0].answer["out_return_no"], "R20190516001");
        let order = &f.v3["ecommerce/profitsharing/orders"][0].answer;
        let order: wxpay_protocol::v3::OrderQueryResponse = serde_json::from_value(order.clone()).unwrap();
        let receivers = order.receivers.as_ref().unwrap();
        assert_eq!(receivers.len(), 1);
        // Fields the documents added later, and made-up ones no type knows, are served as read.
        assert_eq!(receivers[0].detail_id.as_deref(), Some("3601111111111111111111"));
        assert_eq!(receivers[0].extra.keys().collect::<Vec<_>>(), ["x_future_field"]);
        assert_eq!(order.extra.keys().collect::<Vec<_>>(), ["x_future_field"]);
    }

    #[test]
    fn an_unparsable_answer_is_named() {
        let err = Fixtures::from_json(br#"{"v3_orders":[{"answer":{"sub_mchid":"1"}}]}"#).unwrap_err();
        assert!(matches!(err, SandboxError::Fixture { list: "v3_orders", index: 0, .. }), "{err}");
        let err = Fixtures::from_json(br#"{"v3":{"ecommerce/profitsharing/orders":[{"answer":{}}]}}"#).unwrap_err();
        assert!(matches!(err, SandboxError::Fixture { list: "ecommerce/profitsharing/orders", index: 0, .. }), "{err}");
        let err = Fixtures::from_json(br#"{"v3":{"no/such/query":[{"answer":{}}]}}"#).unwrap_err();
        assert!(format!("{err:?}").contains("`no/such/query` is not an API v3 query"), "{err:?}");
    }
}
