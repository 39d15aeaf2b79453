//! CloudPay profit-sharing return query, 查询分账回退结果 (docs/protocol.md §8.1).

use serde::Serialize;
use serde_json::{Map, Value};

use super::CloudPayOp;
use super::encode::{Encoder, ReplyShape};
use super::fields::Fields;
use super::request::RequestBody;
use super::status;
use crate::amount::Fen;
use crate::endpoint::BaseUrl;
use crate::error::{Error, ValidationError};
use crate::extra::Extra;
use crate::lookup::OrderRef;
use crate::operation::{Access, FailureFields, Operation, OperationSpec, RateLimit, RateScope};
use crate::timestamp::Timestamp;
use crate::validate::{NonceStr, OrderId, OutOrderNo, OutReturnNo, SubMchId};
use crate::wire_enum::wire_enum;

/// Asks for the result of a profit-sharing return (docs/protocol.md §8.1). 30 QPS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnQueryRequest {
    sub_mch_id: SubMchId,
    nonce_str: Option<NonceStr>,
    order: OrderRef,
    out_return_no: OutReturnNo,
}

impl ReturnQueryRequest {
    /// A query for the return `out_return_no` of the profit-sharing order `order`. The client
    /// fills in a fresh `nonce_str` unless one is given ([`with_nonce`](Self::with_nonce)).
    pub fn new(sub_mch_id: SubMchId, order: OrderRef, out_return_no: OutReturnNo) -> Self {
        Self { sub_mch_id, nonce_str: None, order, out_return_no }
    }

    /// Sends `nonce_str` (at most 32 characters) instead of a fresh one from the client: for
    /// reproducible requests (a dry run, a test). A client fills one in when none is given
    /// (each call once; a retry resends it), and [`Operation::build`] without one is an error
    /// naming `nonce_str`.
    pub fn with_nonce(mut self, nonce_str: NonceStr) -> Self {
        self.nonce_str = Some(nonce_str);
        self
    }

    /// The sub-merchant.
    pub fn sub_mch_id(&self) -> &SubMchId {
        &self.sub_mch_id
    }

    /// The nonce to send: the one given, or the one the client filled in; `None` before that.
    pub fn nonce_str(&self) -> Option<&NonceStr> {
        self.nonce_str.as_ref()
    }

    /// The profit-sharing order.
    pub fn order(&self) -> &OrderRef {
        &self.order
    }

    /// The merchant's return number.
    pub fn out_return_no(&self) -> &OutReturnNo {
        &self.out_return_no
    }

    /// Reads a request body as a server does: every field validated as a client builds it.
    ///
    /// ```
    /// use wxpay_protocol::cloudpay::ReturnQueryRequest;
    /// let body = br#"{"sub_mch_id":"1900000109","nonce_str":"N1","out_order_no":"P1","out_return_no":"R1"}"#;
    /// assert_eq!(ReturnQueryRequest::from_body(body)?.order().field(), "out_order_no");
    /// let err = ReturnQueryRequest::from_body(br#"{"sub_mch_id":"1","nonce_str":"N","out_return_no":"R"}"#).unwrap_err();
    /// assert_eq!(err.field(), "order_id|out_order_no");
    /// # Ok::<(), wxpay_protocol::ValidationError>(())
    /// ```
    pub fn from_body(body: &[u8]) -> Result<Self, ValidationError> {
        let b = RequestBody::parse(body)?;
        let sub_mch_id = b.parse_field(SubMchId::FIELD, SubMchId::new)?;
        let nonce_str = b.parse_field(NonceStr::FIELD, NonceStr::new)?;
        let order = OrderRef::exactly_one(
            b.parse_opt(OrderId::FIELD, OrderId::new)?,
            b.parse_opt(OutOrderNo::FIELD, OutOrderNo::new)?,
        )?;
        let out_return_no = b.parse_field(OutReturnNo::FIELD, OutReturnNo::new)?;
        Ok(Self::new(sub_mch_id, order, out_return_no).with_nonce(nonce_str))
    }

    /// The JSON body, in the documented field names.
    pub fn body(&self) -> Map<String, Value> {
        let mut body = Map::new();
        body.insert("sub_mch_id".into(), self.sub_mch_id.as_str().into());
        if let Some(nonce) = &self.nonce_str {
            body.insert("nonce_str".into(), nonce.as_str().into());
        }
        body.insert(self.order.field().into(), self.order.value().into());
        body.insert("out_return_no".into(), self.out_return_no.as_str().into());
        body
    }
}

impl Operation for ReturnQueryRequest {
    type Output = ReturnQueryResponse;
    type Answer<'a> = &'a http::Response<Vec<u8>>;
    const SPEC: OperationSpec = super::spec(
        "profitsharingreturnquery",
        "/_/pay/profitsharingreturnquery",
        // 30 QPS per calling merchant (docs/protocol.md §8.1, §7).
        Some(RateLimit { qps: 30, per: RateScope::Merchant }),
        Access::Read,
        FailureFields::ErrorCode,
    );

    fn build(&self, base: &BaseUrl) -> Result<http::Request<Vec<u8>>, ValidationError> {
        super::require_nonce(self.nonce_str.as_ref())?;
        super::build_post(base, &Self::SPEC, &self.body())
    }

    fn fill_nonce(&mut self, fresh: impl FnOnce() -> NonceStr) {
        self.nonce_str.get_or_insert_with(fresh);
    }

    fn parse(&self, response: &http::Response<Vec<u8>>) -> Result<ReturnQueryResponse, Error> {
        ReturnQueryResponse::parse(response)
    }

    fn sub_merchant(&self) -> Option<&str> {
        Some(self.sub_mch_id.as_str())
    }
}

wire_enum! {
    /// The state of a profit-sharing return (docs/protocol.md §8.1 `result`).
    pub enum ReturnResult {
        /// `PROCESSING`: query again later with the same numbers; never change `out_return_no`.
        Processing = "PROCESSING",
        /// `SUCCESS`.
        Success = "SUCCESS",
        /// `FAILED` (a return still processing after 5 days fails).
        Failed = "FAILED",
    }
}

wire_enum! {
    /// Why a return failed (docs/protocol.md §8.1 `fail_reason`).
    pub enum ReturnFailReason {
        /// `ACCOUNT_ABNORMAL`: the receiver's account is abnormal.
        AccountAbnormal = "ACCOUNT_ABNORMAL",
        /// `TIME_OUT_CLOSED`: closed after timing out.
        TimeOutClosed = "TIME_OUT_CLOSED",
    }
}

wire_enum! {
    /// The type of the returning account (docs/protocol.md §8.1 `return_account_type`).
    pub enum ReturnAccountType {
        /// `MERCHANT_ID`: a merchant id.
        MerchantId = "MERCHANT_ID",
    }
}

/// The result of a profit-sharing return (docs/protocol.md §8.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ReturnQueryResponse {
    /// The service provider's merchant id.
    pub mch_id: Option<String>,
    /// The sub-merchant.
    pub sub_mch_id: Option<String>,
    /// The app id.
    pub appid: Option<String>,
    /// WeChat's random string.
    pub nonce_str: Option<String>,
    /// WeChat's v2 signature (not checked: CloudPay's link is private).
    pub sign: Option<String>,
    /// WeChat's profit-sharing order number.
    pub order_id: String,
    /// The merchant's profit-sharing order number.
    pub out_order_no: String,
    /// The merchant's return number.
    pub out_return_no: String,
    /// WeChat's return number.
    pub return_no: String,
    /// The type of the returning account.
    pub return_account_type: Option<ReturnAccountType>,
    /// The returning account.
    pub return_account: Option<String>,
    /// The amount returned.
    pub return_amount: Fen,
    /// The return's description.
    pub description: Option<String>,
    /// The state of the return.
    pub result: ReturnResult,
    /// Why it failed (only when `result` is `FAILED`).
    pub fail_reason: Option<ReturnFailReason>,
    /// When it finished (`yyyyMMddHHmmss`, China time); absent while processing.
    pub finish_time: Option<Timestamp>,
    /// Fields of the answer this type does not know, keyed as sent (see [`Extra`]).
    #[serde(skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

impl ReturnQueryResponse {
    /// Parses an answer of any documented shape.
    pub fn parse<B: AsRef<[u8]>>(response: &http::Response<B>) -> Result<Self, Error> {
        let f = Fields::open(response)?;
        status::check(&f, CloudPayOp::ReturnQuery)?;
        Ok(Self {
            mch_id: f.opt_str("mch_id")?,
            sub_mch_id: f.opt_str("sub_mch_id")?,
            appid: f.opt_str("appid")?,
            nonce_str: f.opt_str("nonce_str")?,
            sign: f.opt_str("sign")?,
            order_id: f.str("order_id")?,
            out_order_no: f.str("out_order_no")?,
            out_return_no: f.str("out_return_no")?,
            return_no: f.str("return_no")?,
            return_account_type: f.opt_enum("return_account_type")?,
            return_account: f.opt_str("return_account")?,
            return_amount: f.fen("return_amount")?,
            description: f.opt_str("description")?,
            result: f.enumeration("result")?,
            fail_reason: f.opt_enum("fail_reason")?,
            finish_time: f.opt_time("finish_time", Timestamp::parse_compact_china, "a yyyyMMddHHmmss time")?,
            // Last: every other field has been read by now.
            extra: f.extra(),
        })
    }

    /// Writes this answer in `shape`.
    pub fn encode(&self, shape: ReplyShape) -> Vec<u8> {
        let mut e = Encoder::new(shape);
        status::encode_success(&mut e, CloudPayOp::ReturnQuery);
        e.opt_str("mch_id", self.mch_id.as_deref());
        e.opt_str("sub_mch_id", self.sub_mch_id.as_deref());
        e.opt_str("appid", self.appid.as_deref());
        e.opt_str("nonce_str", self.nonce_str.as_deref());
        e.opt_str("sign", self.sign.as_deref());
        e.str("order_id", &self.order_id);
        e.str("out_order_no", &self.out_order_no);
        e.str("out_return_no", &self.out_return_no);
        e.str("return_no", &self.return_no);
        e.opt_str("return_account_type", self.return_account_type.as_ref().map(|v| v.as_str()));
        e.opt_str("return_account", self.return_account.as_deref());
        e.num("return_amount", self.return_amount.get());
        e.opt_str("description", self.description.as_deref());
        e.str("result", self.result.as_str());
        e.opt_str("fail_reason", self.fail_reason.as_ref().map(|v| v.as_str()));
        e.opt_str("finish_time", self.finish_time.as_ref().map(Timestamp::original));
        e.extra(&self.extra);
        e.finish(CloudPayOp::ReturnQuery)
    }
}
