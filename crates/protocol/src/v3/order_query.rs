//! API v3 e-commerce profit-sharing order query, 查询分账结果 (docs/protocol.md §8.4).

use serde::{Deserialize, Serialize};

use crate::amount::Fen;
use crate::common::ReceiverType;
use crate::endpoint::BaseUrl;
use crate::error::{Error, ValidationError};
use crate::extra::Extra;
use crate::operation::{Operation, OperationSpec};
use crate::security::Verified;
use crate::timestamp::{self, Timestamp};
use crate::validate::{OutOrderNo, SubMchId, TransactionId};
use crate::wire_enum::wire_enum;

/// `GET /v3/ecommerce/profitsharing/orders`: the result of a profit-sharing order or of a
/// finish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderQueryRequest {
    sub_mchid: SubMchId,
    transaction_id: TransactionId,
    out_order_no: OutOrderNo,
}

impl OrderQueryRequest {
    /// A query for the profit-sharing order `out_order_no` of payment `transaction_id`.
    pub fn new(sub_mchid: SubMchId, transaction_id: TransactionId, out_order_no: OutOrderNo) -> Self {
        Self { sub_mchid, transaction_id, out_order_no }
    }

    /// The second-level merchant.
    pub fn sub_mchid(&self) -> &SubMchId {
        &self.sub_mchid
    }

    /// The payment.
    pub fn transaction_id(&self) -> &TransactionId {
        &self.transaction_id
    }

    /// The merchant's profit-sharing order number.
    pub fn out_order_no(&self) -> &OutOrderNo {
        &self.out_order_no
    }

    /// Reads the query string of a request as a server does (errors name the v3 fields).
    ///
    /// ```
    /// use wxpay_protocol::v3::OrderQueryRequest;
    /// let r = OrderQueryRequest::from_query("sub_mchid=1900000109&transaction_id=42&out_order_no=P%7C1")?;
    /// assert_eq!(r.out_order_no().as_str(), "P|1");
    /// assert_eq!(OrderQueryRequest::from_query("transaction_id=42&out_order_no=P").unwrap_err().field(), "sub_mchid");
    /// # Ok::<(), wxpay_protocol::ValidationError>(())
    /// ```
    pub fn from_query(query: &str) -> Result<Self, ValidationError> {
        let q = super::QueryParams::parse(query)?;
        Ok(Self::new(
            q.required("sub_mchid", SubMchId::new)?,
            q.required(TransactionId::FIELD, TransactionId::new)?,
            q.required(OutOrderNo::FIELD, OutOrderNo::new)?,
        ))
    }

    /// The path and percent-encoded query, exactly as sent and signed.
    pub fn path_and_query(&self) -> String {
        super::path_and_query(
            Self::SPEC.path,
            &[
                ("sub_mchid", self.sub_mchid.as_str()),
                ("transaction_id", self.transaction_id.as_str()),
                ("out_order_no", self.out_order_no.as_str()),
            ],
        )
    }
}

impl Operation for OrderQueryRequest {
    type Output = OrderQueryResponse;
    type Answer<'a> = Verified<'a>;
    const SPEC: OperationSpec = super::spec("ecommerce/profitsharing/orders", "/v3/ecommerce/profitsharing/orders");

    fn build(&self, base: &BaseUrl) -> Result<http::Request<Vec<u8>>, ValidationError> {
        super::build_get(base, &self.path_and_query())
    }

    fn parse(&self, answer: Verified<'_>) -> Result<OrderQueryResponse, Error> {
        OrderQueryResponse::parse(&answer)
    }

    fn sub_merchant(&self) -> Option<&str> {
        Some(self.sub_mchid.as_str())
    }
}

wire_enum! {
    /// The state of a profit-sharing order (docs/protocol.md §8.4 `status`, V1.5). `CLOSED`, which
    /// `close_reason` mentions, arrives as an unknown value.
    pub enum OrderStatus {
        /// `PROCESSING`.
        Processing = "PROCESSING",
        /// `FINISHED`.
        Finished = "FINISHED",
    }
}

wire_enum! {
    /// The result for one receiver (docs/protocol.md §8.4 `result`). `RETURNED`, which
    /// `fail_reason` mentions, arrives as an unknown value.
    pub enum ReceiverResult {
        /// `PENDING`: not yet shared.
        Pending = "PENDING",
        /// `SUCCESS` (the changelog's "SUCEESS" is a typo).
        Success = "SUCCESS",
        /// `CLOSED`: failed and closed.
        Closed = "CLOSED",
    }
}

wire_enum! {
    /// Why sharing to a receiver failed (docs/protocol.md §8.4 `fail_reason`).
    pub enum ReceiverFailReason {
        /// `ACCOUNT_ABNORMAL`.
        AccountAbnormal = "ACCOUNT_ABNORMAL",
        /// `NO_RELATION`: the profit-sharing relation was removed.
        NoRelation = "NO_RELATION",
        /// `RECEIVER_HIGH_RISK`.
        ReceiverHighRisk = "RECEIVER_HIGH_RISK",
    }
}

wire_enum! {
    /// Why an order was closed (docs/protocol.md §8.4 `close_reason`).
    pub enum CloseReason {
        /// `NO_AUTH`: the profit-sharing authorisation was withdrawn.
        NoAuth = "NO_AUTH",
    }
}

/// One receiver of a profit-sharing order (docs/protocol.md §8.4 `receivers[]`).
///
/// The fields are those of the 2020 document (V1.5, docs/protocol.md §8.4) and `detail_id`, which
/// the current documentation adds (see [`detail_id`](Self::detail_id)). Anything else WeChat Pay
/// sends is kept in [`extra`](Self::extra).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OrderReceiver {
    /// The receiving merchant (older answers; newer ones use `type` and `receiver_account`,
    /// and community SDKs that track the documentation mark `receiver_mchid` retired on
    /// 2025-09-29).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiver_mchid: Option<String>,
    /// The amount shared (an integer in fen; the seed's example value is a copy of an id).
    pub amount: Fen,
    /// Why it was shared.
    pub description: String,
    /// The result.
    pub result: ReceiverResult,
    /// When it finished; absent while pending.
    #[serde(default, with = "timestamp::rfc3339::option", skip_serializing_if = "Option::is_none")]
    pub finish_time: Option<Timestamp>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_reason: Option<ReceiverFailReason>,
    /// The receiver's type.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub receiver_type: Option<ReceiverType>,
    /// The receiver's account (merchant id or openid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiver_account: Option<String>,
    /// WeChat Pay's profit-sharing detail number (微信分账明细单号): the number of this one
    /// transfer to this receiver, "可与资金账单对账使用" (for reconciling with the fund bill).
    /// A string of 1 to 64 characters, e.g. `3601111111111111111111`.
    ///
    /// Not in the 2020 document (docs/protocol.md §8.4). Sources: WxJava's e-commerce
    /// `ProfitSharingResult.Receiver` (`detail_id`, `string[1,64]`, required when querying),
    /// SKIT.FlurlHttpClient.Wechat's e-commerce order-query model (added in 2025 "随官方更新"), and
    /// wechatpay-go's `profitsharing.OrderReceiverDetail.DetailId` for the sibling service-provider
    /// API `GET /v3/profitsharing/orders/{out_order_no}`, with the same wording. Optional here
    /// because answers written to the older document lack it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail_id: Option<String>,
    /// Fields of this receiver no type knows, keyed as sent (see [`Extra`]); written back next
    /// to the known ones.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The result of a profit-sharing order (docs/protocol.md §8.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OrderQueryResponse {
    /// The second-level merchant.
    pub sub_mchid: String,
    /// The payment.
    pub transaction_id: String,
    /// The merchant's profit-sharing order number.
    pub out_order_no: String,
    /// WeChat's profit-sharing order number.
    pub order_id: String,
    /// The state of the order.
    pub status: OrderStatus,
    /// The receivers; absent when the order is a finish.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receivers: Option<Vec<OrderReceiver>>,
    /// Why the order was closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_reason: Option<CloseReason>,
    /// The amount unfrozen by a finish.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_amount: Option<Fen>,
    /// The finish's description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_description: Option<String>,
    /// Fields of the answer no type knows, keyed as sent (see [`Extra`]); written back next to
    /// the known ones, so serializing the answer gives the answer.
    #[serde(flatten)]
    pub extra: Extra,
}

impl OrderQueryResponse {
    /// Parses a verified answer: a 2xx body into the answer, anything else into an API error.
    pub fn parse<B: AsRef<[u8]>>(answer: &Verified<'_, B>) -> Result<Self, Error> {
        super::parse_json(answer.response())
    }
}
