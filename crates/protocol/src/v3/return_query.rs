//! API v3 e-commerce profit-sharing return query, 查询分账回退结果 (docs/protocol.md §8.2).

use serde::{Deserialize, Serialize};

use crate::amount::Fen;
use crate::endpoint::BaseUrl;
use crate::error::{Error, ValidationError};
use crate::extra::Extra;
use crate::lookup::OrderRef;
use crate::operation::{Operation, OperationSpec};
use crate::security::Verified;
use crate::timestamp::{self, Timestamp};
use crate::validate::{OrderId, OutOrderNo, OutReturnNo, SubMchId};
use crate::wire_enum::wire_enum;

/// `GET /v3/ecommerce/profitsharing/returnorders`: the result of a profit-sharing return.
///
/// ```
/// use wxpay_protocol::{v3, BaseUrl, Operation, OrderRef, OutOrderNo, OutReturnNo, SubMchId};
/// let request = v3::ReturnQueryRequest::new(
///     SubMchId::new("1900000109")?,
///     OrderRef::OutOrderNo(OutOrderNo::new("P20150806125346")?),
///     OutReturnNo::new("R20190516001")?,
/// );
/// let built = request.build(&BaseUrl::v3_default())?;
/// assert_eq!(
///     built.uri().path_and_query().unwrap().as_str(),
///     "/v3/ecommerce/profitsharing/returnorders?sub_mchid=1900000109&out_order_no=P20150806125346&out_return_no=R20190516001"
/// );
/// # Ok::<(), wxpay_protocol::ValidationError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnQueryRequest {
    sub_mchid: SubMchId,
    order: OrderRef,
    out_return_no: OutReturnNo,
}

impl ReturnQueryRequest {
    /// A query for the return `out_return_no` of `order`, paid out by `sub_mchid`.
    pub fn new(sub_mchid: SubMchId, order: OrderRef, out_return_no: OutReturnNo) -> Self {
        Self { sub_mchid, order, out_return_no }
    }

    /// The second-level merchant.
    pub fn sub_mchid(&self) -> &SubMchId {
        &self.sub_mchid
    }

    /// The profit-sharing order.
    pub fn order(&self) -> &OrderRef {
        &self.order
    }

    /// The merchant's return number.
    pub fn out_return_no(&self) -> &OutReturnNo {
        &self.out_return_no
    }

    /// Reads the query string of a request as a server does (errors name the v3 fields).
    pub fn from_query(query: &str) -> Result<Self, ValidationError> {
        let q = super::QueryParams::parse(query)?;
        let sub_mchid = q.required("sub_mchid", SubMchId::new)?;
        let order =
            OrderRef::exactly_one(q.opt(OrderId::FIELD, OrderId::new)?, q.opt(OutOrderNo::FIELD, OutOrderNo::new)?)?;
        Ok(Self::new(sub_mchid, order, q.required(OutReturnNo::FIELD, OutReturnNo::new)?))
    }

    /// The path and percent-encoded query, exactly as sent and signed.
    pub fn path_and_query(&self) -> String {
        super::path_and_query(
            Self::SPEC.path,
            &[
                ("sub_mchid", self.sub_mchid.as_str()),
                (self.order.field(), self.order.value()),
                ("out_return_no", self.out_return_no.as_str()),
            ],
        )
    }
}

impl Operation for ReturnQueryRequest {
    type Output = ReturnQueryResponse;
    type Answer<'a> = Verified<'a>;
    const SPEC: OperationSpec =
        super::spec("ecommerce/profitsharing/returnorders", "/v3/ecommerce/profitsharing/returnorders");

    fn build(&self, base: &BaseUrl) -> Result<http::Request<Vec<u8>>, ValidationError> {
        super::build_get(base, &self.path_and_query())
    }

    fn parse(&self, answer: Verified<'_>) -> Result<ReturnQueryResponse, Error> {
        ReturnQueryResponse::parse(&answer)
    }

    fn sub_merchant(&self) -> Option<&str> {
        Some(self.sub_mchid.as_str())
    }
}

wire_enum! {
    /// The state of a return (docs/protocol.md §8.2 `result`; v3 says `FAIL` where CloudPay says
    /// `FAILED`).
    pub enum ReturnResult {
        /// `PROCESSING`: query again later; never change `out_return_no`.
        Processing = "PROCESSING",
        /// `SUCCESS`.
        Success = "SUCCESS",
        /// `FAIL`.
        Fail = "FAIL",
    }
}

wire_enum! {
    /// Why a return failed (docs/protocol.md §8.2 `fail_reason`).
    pub enum ReturnFailReason {
        /// `ACCOUNT_ABNORMAL`.
        AccountAbnormal = "ACCOUNT_ABNORMAL",
        /// `TIME_OUT_CLOSED`.
        TimeOutClosed = "TIME_OUT_CLOSED",
    }
}

/// The result of a profit-sharing return (docs/protocol.md §8.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ReturnQueryResponse {
    /// The second-level merchant the return is paid back to.
    pub sub_mchid: String,
    /// WeChat's profit-sharing order number.
    pub order_id: String,
    /// The merchant's profit-sharing order number.
    pub out_order_no: String,
    /// The merchant's return number.
    pub out_return_no: String,
    /// The merchant that returns the amount.
    pub return_mchid: String,
    /// WeChat's return number.
    pub return_no: String,
    /// The amount returned.
    pub amount: Fen,
    /// The state of the return.
    pub result: ReturnResult,
    /// Why it failed. The seed's example shows one next to `SUCCESS`: an artefact, kept as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_reason: Option<ReturnFailReason>,
    /// When it finished; absent while processing.
    #[serde(default, with = "timestamp::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub finish_time: Option<Timestamp>,
    /// Fields of the answer no type knows, keyed as sent (see [`Extra`]); written back next to
    /// the known ones, so serializing the answer gives the answer.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ReturnQueryResponse {
    /// Parses a verified answer: a 2xx body into the answer, anything else into an API error.
    pub fn parse<B: AsRef<[u8]>>(answer: &Verified<'_, B>) -> Result<Self, Error> {
        super::parse_json(answer.response())
    }
}
