//! CloudPay profit-sharing finish, 完结分账 (docs/protocol.md §8.3): unfreezes what is left of an order
//! for the sub-merchant. The one write of the five operations.

use serde::Serialize;
use serde_json::{Map, Value};

use super::CloudPayOp;
use super::encode::{Encoder, ReplyShape};
use super::fields::Fields;
use super::request::RequestBody;
use super::status;
use crate::amount::Fen;
use crate::endpoint::BaseUrl;
use crate::error::{Error, MalformedKind, ValidationError};
use crate::extra::Extra;
use crate::number::u64_from_value;
use crate::operation::{Access, FailureFields, Operation, OperationSpec, RateLimit, RateScope};
use crate::validate::{Description, NonceStr, OutOrderNo, SubMchId, TransactionId};

pub use crate::common::ReceiverType;

/// Finishes profit sharing for a payment (docs/protocol.md §8.3). 60 QPS per receiving merchant.
///
/// Resending with the same `out_order_no` counts once ("同一分账单号多次请求等同一次"); a new
/// `out_order_no` for an order already finished answers `AMOUNT_OVERDUE`. After a timeout, resend
/// or query with the *same* number: a new one risks money.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinishRequest {
    sub_mch_id: SubMchId,
    nonce_str: Option<NonceStr>,
    transaction_id: TransactionId,
    out_order_no: OutOrderNo,
    description: Description,
}

impl FinishRequest {
    /// A finish of payment `transaction_id` under the merchant's number `out_order_no`. The
    /// client fills in a fresh `nonce_str` unless one is given ([`with_nonce`](Self::with_nonce)).
    pub fn new(
        sub_mch_id: SubMchId,
        transaction_id: TransactionId,
        out_order_no: OutOrderNo,
        description: Description,
    ) -> Self {
        Self { sub_mch_id, nonce_str: None, transaction_id, out_order_no, description }
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

    /// The payment.
    pub fn transaction_id(&self) -> &TransactionId {
        &self.transaction_id
    }

    /// The merchant's profit-sharing order number for this finish.
    pub fn out_order_no(&self) -> &OutOrderNo {
        &self.out_order_no
    }

    /// Why profit sharing is finished.
    pub fn description(&self) -> &Description {
        &self.description
    }

    /// Reads a request body as a server does: every field validated as a client builds it.
    pub fn from_body(body: &[u8]) -> Result<Self, ValidationError> {
        let b = RequestBody::parse(body)?;
        let sub_mch_id = b.parse_field(SubMchId::FIELD, SubMchId::new)?;
        let nonce_str = b.parse_field(NonceStr::FIELD, NonceStr::new)?;
        Ok(Self::new(
            sub_mch_id,
            b.parse_field(TransactionId::FIELD, TransactionId::new)?,
            b.parse_field(OutOrderNo::FIELD, OutOrderNo::new)?,
            b.parse_field(Description::FIELD, Description::new)?,
        )
        .with_nonce(nonce_str))
    }

    /// The JSON body, in the documented field names.
    pub fn body(&self) -> Map<String, Value> {
        let mut body = Map::new();
        body.insert("sub_mch_id".into(), self.sub_mch_id.as_str().into());
        if let Some(nonce) = &self.nonce_str {
            body.insert("nonce_str".into(), nonce.as_str().into());
        }
        body.insert("transaction_id".into(), self.transaction_id.as_str().into());
        body.insert("out_order_no".into(), self.out_order_no.as_str().into());
        body.insert("description".into(), self.description.as_str().into());
        body
    }
}

impl Operation for FinishRequest {
    type Output = FinishResponse;
    type Answer<'a> = &'a http::Response<Vec<u8>>;
    const SPEC: OperationSpec = super::spec(
        "profitsharingfinish",
        "/_/pay/profitsharingfinish",
        // 60 QPS per receiving merchant (docs/protocol.md §8.3, §7).
        Some(RateLimit { qps: 60, per: RateScope::SubMerchant }),
        Access::IdempotentWrite,
        FailureFields::ResultCode,
    );

    fn build(&self, base: &BaseUrl) -> Result<http::Request<Vec<u8>>, ValidationError> {
        super::require_nonce(self.nonce_str.as_ref())?;
        super::build_post(base, &Self::SPEC, &self.body())
    }

    fn fill_nonce(&mut self, fresh: impl FnOnce() -> NonceStr) {
        self.nonce_str.get_or_insert_with(fresh);
    }

    fn parse(&self, response: &http::Response<Vec<u8>>) -> Result<FinishResponse, Error> {
        FinishResponse::parse(response)
    }

    fn sub_merchant(&self) -> Option<&str> {
        Some(self.sub_mch_id.as_str())
    }
}

/// The receiver of a finish (docs/protocol.md §8.3 `receiver`: a JSON object inside a string).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Receiver {
    /// The receiver's type.
    #[serde(rename = "type")]
    pub receiver_type: ReceiverType,
    /// The receiver's account (merchant id or openid).
    pub account: String,
    /// The amount, when given.
    pub amount: Option<Fen>,
    /// The description, when given.
    pub description: Option<String>,
    /// Keys of the `receiver` object this type does not know, as sent (see [`Extra`]).
    #[serde(skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

/// A finish request accepted (docs/protocol.md §8.3); its outcome is read with the profit-sharing
/// query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FinishResponse {
    /// The service provider's merchant id.
    pub mch_id: Option<String>,
    /// The sub-merchant.
    pub sub_mch_id: Option<String>,
    /// The app id.
    pub appid: Option<String>,
    /// The sub-merchant's app id.
    pub sub_appid: Option<String>,
    /// Who received the unfrozen amount.
    pub receiver: Option<Receiver>,
    /// WeChat's random string.
    pub nonce_str: Option<String>,
    /// WeChat's v2 signature (not checked: CloudPay's link is private).
    pub sign: Option<String>,
    /// The payment.
    pub transaction_id: String,
    /// The merchant's profit-sharing order number.
    pub out_order_no: String,
    /// WeChat's profit-sharing order number.
    pub order_id: String,
    /// Fields of the answer this type does not know, keyed as sent (see [`Extra`]).
    #[serde(skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

impl FinishResponse {
    /// Parses an answer of any documented shape.
    pub fn parse<B: AsRef<[u8]>>(response: &http::Response<B>) -> Result<Self, Error> {
        let f = Fields::open(response)?;
        status::check(&f, CloudPayOp::Finish)?;
        let receiver = match f.opt_object("receiver")? {
            None => None,
            Some(object) => Some(parse_receiver(&f, &object)?),
        };
        Ok(Self {
            mch_id: f.opt_str("mch_id")?,
            sub_mch_id: f.opt_str("sub_mch_id")?,
            appid: f.opt_str("appid")?,
            sub_appid: f.opt_str("sub_appid")?,
            receiver,
            nonce_str: f.opt_str("nonce_str")?,
            sign: f.opt_str("sign")?,
            transaction_id: f.str("transaction_id")?,
            out_order_no: f.str("out_order_no")?,
            order_id: f.str("order_id")?,
            // Last: every other field has been read by now.
            extra: f.extra(),
        })
    }

    /// Writes this answer in `shape`.
    pub fn encode(&self, shape: ReplyShape) -> Vec<u8> {
        let mut e = Encoder::new(shape);
        status::encode_success(&mut e, CloudPayOp::Finish);
        e.opt_str("mch_id", self.mch_id.as_deref());
        e.opt_str("sub_mch_id", self.sub_mch_id.as_deref());
        e.opt_str("appid", self.appid.as_deref());
        e.opt_str("sub_appid", self.sub_appid.as_deref());
        if let Some(r) = &self.receiver {
            let mut object = Map::new();
            object.insert("type".into(), r.receiver_type.as_str().into());
            object.insert("account".into(), r.account.as_str().into());
            if let Some(amount) = r.amount {
                object.insert("amount".into(), amount.get().into());
            }
            if let Some(d) = &r.description {
                object.insert("description".into(), d.as_str().into());
            }
            for (key, value) in r.extra.iter() {
                object.entry(key).or_insert_with(|| value.clone());
            }
            e.str("receiver", &Value::Object(object).to_string());
        }
        e.opt_str("nonce_str", self.nonce_str.as_deref());
        e.opt_str("sign", self.sign.as_deref());
        e.str("transaction_id", &self.transaction_id);
        e.str("out_order_no", &self.out_order_no);
        e.str("order_id", &self.order_id);
        e.extra(&self.extra);
        e.finish(CloudPayOp::Finish)
    }
}

fn parse_receiver(f: &Fields<'_>, object: &Map<String, Value>) -> Result<Receiver, Error> {
    let invalid = |field: &str, expected| {
        f.malformed(MalformedKind::InvalidField { field: format!("receiver.{field}"), expected })
    };
    let string = |field: &str| -> Result<Option<String>, Error> {
        match object.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) if n.is_u64() => Ok(Some(n.to_string())),
            Some(_) => Err(invalid(field, "a string")),
        }
    };
    let receiver_type =
        string("type")?.ok_or_else(|| f.malformed(MalformedKind::MissingField("receiver.type".into())))?;
    let account =
        string("account")?.ok_or_else(|| f.malformed(MalformedKind::MissingField("receiver.account".into())))?;
    let amount = match object.get("amount") {
        None | Some(Value::Null) => None,
        Some(v) => Some(Fen::new(u64_from_value(v).ok_or_else(|| invalid("amount", "a non-negative integer"))?)),
    };
    let description = string("description")?;
    let extra = object
        .iter()
        .filter(|(key, _)| !RECEIVER_FIELDS.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    Ok(Receiver { receiver_type: ReceiverType::from(receiver_type), account, amount, description, extra })
}

/// The keys of the `receiver` object that [`Receiver`] reads (docs/protocol.md §8.3, §6).
const RECEIVER_FIELDS: &[&str] = &["type", "account", "amount", "description"];
