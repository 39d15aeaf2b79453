//! The sandbox's data: answers written from the seeds' examples (`fixtures/default.json`), read
//! with wxpay-protocol's own parsers, so the data is what the documents show rather than what
//! our types would generate.

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;
use wxpay_protocol::cloudpay::{self, RefundDetails};
use wxpay_protocol::v3;

use crate::error::SandboxError;

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
    #[serde(default)]
    v3_return_orders: Vec<Entry>,
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
    pub(crate) v3_returns: Vec<Settling<v3::ReturnQueryResponse>>,
    pub(crate) v3_orders: Vec<Settling<v3::OrderQueryResponse>>,
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
            v3_returns: settling("v3_return_orders", &file.v3_return_orders, v3::ReturnQueryResponse::parse)?,
            v3_orders: settling("v3_orders", &file.v3_orders, v3::OrderQueryResponse::parse)?,
        })
    }
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
        assert_eq!(f.v3_returns[0].answer.out_return_no, "R20190516001");
        let order = &f.v3_orders[0].answer;
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
    }
}
