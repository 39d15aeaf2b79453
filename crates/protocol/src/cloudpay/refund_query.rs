//! CloudPay refund query, 查询退款 (docs/protocol.md §8.5), with its indexed or array refund lists.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Map, Value};

use super::CloudPayOp;
use super::encode::{Encoder, ListStyle, ReplyShape};
use super::fields::{Fields, TimeParser, Unread};
use super::request::RequestBody;
use super::status;
use crate::amount::Fen;
use crate::endpoint::BaseUrl;
use crate::error::{Error, MalformedKind, ValidationError};
use crate::extra::Extra;
use crate::lookup::RefundLookup;
use crate::operation::{Access, FailureFields, Operation, OperationSpec};
use crate::timestamp::Timestamp;
use crate::validate::{NonceStr, Offset, OutRefundNo, OutTradeNo, RefundId, SubMchId, TransactionId};
use crate::wire_enum::wire_enum;

/// Asks for the refunds of a payment, or for one refund (docs/protocol.md §8.5).
///
/// An order with more than 10 refunds answers 10 at a time: set [`offset`](Self::offset), or
/// let [`RefundPager`](crate::RefundPager) walk the pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundQueryRequest {
    sub_mch_id: SubMchId,
    nonce_str: Option<NonceStr>,
    lookup: RefundLookup,
    offset: Option<Offset>,
}

impl RefundQueryRequest {
    /// A query for the refunds `lookup` names. The client fills in a fresh `nonce_str` unless
    /// one is given ([`with_nonce`](Self::with_nonce)).
    pub fn new(sub_mch_id: SubMchId, lookup: RefundLookup) -> Self {
        Self { sub_mch_id, nonce_str: None, lookup, offset: None }
    }

    /// Asks for the refunds from `offset` on (10 at most per answer).
    pub fn offset(mut self, offset: Offset) -> Self {
        self.offset = Some(offset);
        self
    }

    /// Sends `nonce_str` (at most 32 characters) instead of a fresh one from the client: for
    /// reproducible requests (a dry run, a test; each page of a paged query gets its own). A client fills one in when none is given
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

    /// Which refunds are asked for.
    pub fn lookup(&self) -> &RefundLookup {
        &self.lookup
    }

    /// The offset sent, if any.
    pub fn get_offset(&self) -> Option<Offset> {
        self.offset
    }

    /// Reads a request body as a server does: every id given is validated, then the documented
    /// priority picks the one that counts (docs/protocol.md §8.5).
    pub fn from_body(body: &[u8]) -> Result<Self, ValidationError> {
        let b = RequestBody::parse(body)?;
        let sub_mch_id = b.parse_field(SubMchId::FIELD, SubMchId::new)?;
        let nonce_str = b.parse_field(NonceStr::FIELD, NonceStr::new)?;
        let lookup = RefundLookup::by_priority(
            b.parse_opt(RefundId::FIELD, RefundId::new)?,
            b.parse_opt(OutRefundNo::FIELD, OutRefundNo::new)?,
            b.parse_opt(TransactionId::FIELD, TransactionId::new)?,
            b.parse_opt(OutTradeNo::FIELD, OutTradeNo::new)?,
        )?;
        let request = Self::new(sub_mch_id, lookup).with_nonce(nonce_str);
        Ok(match b.offset()? {
            Some(offset) => request.offset(offset),
            None => request,
        })
    }

    /// The JSON body, in the documented field names; only the winning id of the lookup.
    pub fn body(&self) -> Map<String, Value> {
        let mut body = Map::new();
        body.insert("sub_mch_id".into(), self.sub_mch_id.as_str().into());
        if let Some(nonce) = &self.nonce_str {
            body.insert("nonce_str".into(), nonce.as_str().into());
        }
        body.insert(self.lookup.field().into(), self.lookup.value().into());
        if let Some(offset) = self.offset {
            body.insert("offset".into(), offset.get().into());
        }
        body
    }
}

impl Operation for RefundQueryRequest {
    type Output = RefundQueryResponse;
    type Answer<'a> = &'a http::Response<Vec<u8>>;
    const SPEC: OperationSpec = super::spec(
        "queryrefund",
        "/_/pay/queryrefund",
        // No limit is documented (docs/protocol.md §8.5, §7).
        None,
        Access::Read,
        FailureFields::ResultCode,
    );

    fn build(&self, base: &BaseUrl) -> Result<http::Request<Vec<u8>>, ValidationError> {
        super::require_nonce(self.nonce_str.as_ref())?;
        super::build_post(base, &Self::SPEC, &self.body())
    }

    fn fill_nonce(&mut self, fresh: impl FnOnce() -> NonceStr) {
        self.nonce_str.get_or_insert_with(fresh);
    }

    /// Parses the answer; an answer to a request with an offset lists at most
    /// [`PAGE_SIZE`](crate::PAGE_SIZE) refunds.
    fn parse(&self, response: &http::Response<Vec<u8>>) -> Result<RefundQueryResponse, Error> {
        let max = if self.offset.is_some() { crate::PAGE_SIZE } else { crate::MAX_REFUNDS };
        RefundQueryResponse::parse_at_most(response, max)
    }

    fn sub_merchant(&self) -> Option<&str> {
        Some(self.sub_mch_id.as_str())
    }
}

wire_enum! {
    /// Where a refund goes (docs/protocol.md §8.5 `refund_channel_$n`).
    pub enum RefundChannel {
        /// `ORIGINAL`: back the way it was paid.
        Original = "ORIGINAL",
        /// `BALANCE`: to the balance.
        Balance = "BALANCE",
        /// `OTHER_BALANCE`: the original account failed; to another balance account.
        OtherBalance = "OTHER_BALANCE",
        /// `OTHER_BANKCARD`: the original card failed; to another card.
        OtherBankcard = "OTHER_BANKCARD",
    }
}

wire_enum! {
    /// The state of a refund (docs/protocol.md §8.5 `refund_status_$n`).
    pub enum RefundStatus {
        /// `SUCCESS`.
        Success = "SUCCESS",
        /// `REFUNDCLOSE`: closed.
        RefundClose = "REFUNDCLOSE",
        /// `PROCESSING`.
        Processing = "PROCESSING",
        /// `CHANGE`: the card was cancelled or frozen; handle it in the merchant platform.
        Change = "CHANGE",
    }
}

wire_enum! {
    /// Which funds paid a refund (docs/protocol.md §8.5 `refund_account_$n`).
    pub enum RefundAccount {
        /// `REFUND_SOURCE_RECHARGE_FUNDS`: available balance.
        RechargeFunds = "REFUND_SOURCE_RECHARGE_FUNDS",
        /// `REFUND_SOURCE_UNSETTLED_FUNDS`: unsettled funds.
        UnsettledFunds = "REFUND_SOURCE_UNSETTLED_FUNDS",
    }
}

wire_enum! {
    /// The type of a refunded coupon (docs/protocol.md §8.5 `coupon_type_$n_$m`).
    pub enum CouponType {
        /// `CASH`: a recharged coupon.
        Cash = "CASH",
        /// `NO_CASH`: a coupon without recharge.
        NoCash = "NO_CASH",
    }
}

/// One coupon of a refund (`$m` in docs/protocol.md §8.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CouponRefund {
    /// The coupon's type.
    pub coupon_type: Option<CouponType>,
    /// The coupon id.
    pub coupon_refund_id: String,
    /// The amount refunded on this coupon.
    pub coupon_refund_fee: Fen,
    /// Fields of this coupon no type knows (`name_$n_$m`, `name_array[$n][$m]`), keyed by
    /// `name` as sent (see [`Extra`]).
    #[serde(skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

/// One refund (`$n` in docs/protocol.md §8.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Refund {
    /// The merchant's refund number.
    pub out_refund_no: String,
    /// WeChat's refund number.
    pub refund_id: String,
    /// Where the refund goes.
    pub refund_channel: Option<RefundChannel>,
    /// The amount asked for.
    pub refund_fee: Fen,
    /// The amount less non-recharged coupons.
    pub settlement_refund_fee: Option<Fen>,
    /// The amount refunded on coupons.
    pub coupon_refund_fee: Option<Fen>,
    /// The number of coupons refunded.
    pub coupon_refund_count: Option<u32>,
    /// The coupons, when listed.
    pub coupons: Vec<CouponRefund>,
    /// The state of the refund.
    pub refund_status: RefundStatus,
    /// Which funds paid it.
    pub refund_account: Option<RefundAccount>,
    /// Where it was credited (the API's own spelling, `refund_recv_accout`).
    pub refund_recv_accout: Option<String>,
    /// When it succeeded (`yyyy-MM-dd HH:mm:ss`, China time).
    pub refund_success_time: Option<Timestamp>,
    /// Fields of this refund no type knows (`name_$n`, `name_list[$n]`), keyed by `name` as
    /// sent (see [`Extra`]).
    #[serde(skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

/// The refunds of an answer: listed, or counted but not returned (docs/protocol.md §1.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "refunds", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RefundDetails {
    /// The refunds of this page, `refund_count` of them (none when the count is 0).
    Listed(Vec<Refund>),
    /// `refund_count` is above 0 but the answer lists no refund: details were not returned.
    /// This is not "no refunds".
    NotReturned,
}

/// The answer to a refund query (docs/protocol.md §8.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RefundQueryResponse {
    /// The service provider's app id.
    pub appid: Option<String>,
    /// The service provider's merchant id.
    pub mch_id: Option<String>,
    /// The mini program's app id.
    pub sub_appid: Option<String>,
    /// The sub-merchant.
    pub sub_mch_id: Option<String>,
    /// WeChat's random string.
    pub nonce_str: Option<String>,
    /// WeChat's v2 signature (not checked: CloudPay's link is private).
    pub sign: Option<String>,
    /// The payment.
    pub transaction_id: String,
    /// The merchant's order number.
    pub out_trade_no: Option<String>,
    /// The order's total.
    pub total_fee: Fen,
    /// The order's total less coupons without recharge.
    pub settlement_total_fee: Option<Fen>,
    /// ISO 4217 currency (CNY when absent).
    pub fee_type: Option<String>,
    /// The amount paid in cash.
    pub cash_fee: Fen,
    /// How many refunds this answer carries.
    pub refund_count: u32,
    /// How many refunds the order has in all (returned when an `offset` was sent).
    pub total_refund_count: Option<u32>,
    /// The refunds.
    pub refunds: RefundDetails,
    /// Fields of the answer no type knows, keyed as sent (see [`Extra`]). Per-refund and
    /// per-coupon fields go to their refund or coupon; what cannot be placed there (an index no
    /// listed refund has, a list whose length is not `refund_count`) stays here as sent.
    #[serde(skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

/// Reads per-refund (and per-coupon) values in either list style.
#[derive(Debug, Clone, Copy)]
enum Lists {
    /// `field_$n`, `field_$n_$m`.
    Indexed,
    /// `field_list[$n]`, `field_array[$n][$m]`.
    Arrays,
}

impl Lists {
    fn get<'v>(self, f: &'v Fields<'_>, field: &str, n: usize) -> (String, Option<&'v Value>) {
        match self {
            Lists::Indexed => {
                let key = format!("{field}_{n}");
                let value = f.get(&key);
                (key, value)
            }
            Lists::Arrays => {
                let key = format!("{field}_list");
                let value = f.get(&key).and_then(|v| v.as_array()).and_then(|a| a.get(n));
                (format!("{key}[{n}]"), value)
            }
        }
    }

    fn get2<'v>(self, f: &'v Fields<'_>, field: &str, n: usize, m: usize) -> (String, Option<&'v Value>) {
        match self {
            Lists::Indexed => {
                let key = format!("{field}_{n}_{m}");
                let value = f.get(&key);
                (key, value)
            }
            Lists::Arrays => {
                let key = format!("{field}_array");
                let value = f
                    .get(&key)
                    .and_then(|v| v.as_array())
                    .and_then(|a| a.get(n))
                    .and_then(|v| v.as_array())
                    .and_then(|a| a.get(m));
                (format!("{key}[{n}][{m}]"), value)
            }
        }
    }
}

/// The per-refund fields that arrive as parallel lists in the array style.
const LIST_FIELDS: &[&str] = &[
    "out_refund_no",
    "refund_id",
    "refund_channel",
    "refund_fee",
    "settlement_refund_fee",
    "coupon_refund_fee",
    "coupon_refund_count",
    "refund_status",
    "refund_account",
    "refund_recv_accout",
    "refund_success_time",
];

/// The per-coupon fields that arrive as arrays of arrays in the array style.
const COUPON_FIELDS: &[&str] = &["coupon_type", "coupon_refund_id", "coupon_refund_fee"];

impl RefundQueryResponse {
    /// Parses an answer of any documented shape.
    ///
    /// An answer must account for every refund and coupon it names: a `refund_count` above
    /// [`MAX_REFUNDS`](crate::MAX_REFUNDS), a list whose length is not `refund_count`, a
    /// documented per-refund or per-coupon field (`refund_id_$n`, `coupon_refund_id_$n_$m`, ...)
    /// of a refund or coupon the answer does not list (past its count or past a gap), a coupon
    /// list that is not a list per refund, or refunds given both as lists and as indexed fields,
    /// is malformed, never a smaller answer.
    pub fn parse<B: AsRef<[u8]>>(response: &http::Response<B>) -> Result<Self, Error> {
        Self::parse_at_most(response, crate::MAX_REFUNDS)
    }

    /// [`parse`](Self::parse), with `refund_count` at most `max`.
    fn parse_at_most<B: AsRef<[u8]>>(response: &http::Response<B>, max: u32) -> Result<Self, Error> {
        let f = Fields::open(response)?;
        status::check(&f, CloudPayOp::RefundQuery)?;
        let refund_count = f.u32("refund_count")?;
        if refund_count > max {
            let what = format!("refund_count {refund_count} is more than the {max} refunds one answer can list");
            return Err(f.malformed(MalformedKind::Inconsistent(what)));
        }
        let refunds = parse_refunds(&f, refund_count)?;
        let mut answer = Self {
            appid: f.opt_str("appid")?,
            mch_id: f.opt_str("mch_id")?,
            sub_appid: f.opt_str("sub_appid")?,
            sub_mch_id: f.opt_str("sub_mch_id")?,
            nonce_str: f.opt_str("nonce_str")?,
            sign: f.opt_str("sign")?,
            transaction_id: f.str("transaction_id")?,
            out_trade_no: f.opt_str("out_trade_no")?,
            total_fee: f.fen("total_fee")?,
            settlement_total_fee: f.opt_fen("settlement_total_fee")?,
            fee_type: f.opt_str("fee_type")?,
            cash_fee: f.fen("cash_fee")?,
            refund_count,
            total_refund_count: f.opt_u32("total_refund_count")?,
            refunds,
            extra: Extra::new(),
        };
        // Every documented field has been read by now: one left is a refund or coupon the
        // answer names but does not list.
        if let Some(key) = unaccounted(&f) {
            let what = format!("`{key}` names a refund or coupon the answer does not list");
            return Err(f.malformed(MalformedKind::Inconsistent(what)));
        }
        // Last: every other field has been read by now.
        answer.extra = place_extra(&f, &mut answer.refunds);
        Ok(answer)
    }

    /// The listed refunds (empty when details were not returned).
    pub fn listed_refunds(&self) -> &[Refund] {
        match &self.refunds {
            RefundDetails::Listed(refunds) => refunds,
            RefundDetails::NotReturned => &[],
        }
    }

    /// Writes this answer in `shape`.
    pub fn encode(&self, shape: ReplyShape) -> Vec<u8> {
        let mut e = Encoder::new(shape);
        status::encode_success(&mut e, CloudPayOp::RefundQuery);
        e.opt_str("appid", self.appid.as_deref());
        e.opt_str("mch_id", self.mch_id.as_deref());
        e.opt_str("sub_appid", self.sub_appid.as_deref());
        e.opt_str("sub_mch_id", self.sub_mch_id.as_deref());
        e.opt_str("nonce_str", self.nonce_str.as_deref());
        e.opt_str("sign", self.sign.as_deref());
        e.str("transaction_id", &self.transaction_id);
        e.opt_str("out_trade_no", self.out_trade_no.as_deref());
        e.num("total_fee", self.total_fee.get());
        e.opt_num("settlement_total_fee", self.settlement_total_fee.map(Fen::get));
        e.opt_str("fee_type", self.fee_type.as_deref());
        e.num("cash_fee", self.cash_fee.get());
        e.num("refund_count", u64::from(self.refund_count));
        e.opt_num("total_refund_count", self.total_refund_count.map(u64::from));
        if let RefundDetails::Listed(refunds) = &self.refunds {
            encode_refunds(&mut e, refunds);
        }
        e.extra(&self.extra);
        e.finish(CloudPayOp::RefundQuery)
    }
}

/// The documented list keys of the array style: `field_list` per refund, `field_array` per
/// coupon.
fn column_keys() -> impl Iterator<Item = String> {
    let lists = LIST_FIELDS.iter().map(|field| format!("{field}_list"));
    lists.chain(COUPON_FIELDS.iter().map(|field| format!("{field}_array")))
}

fn parse_refunds(f: &Fields<'_>, refund_count: u32) -> Result<RefundDetails, Error> {
    // A documented list that is present but empty carries nothing (it is how "details not
    // returned" arrives): it is read, not an extra field.
    for key in column_keys() {
        if matches!(f.peek(&key), Some(Value::Array(a)) if a.is_empty()) {
            f.mark_read(&key);
        }
    }
    // Empty lists while refund_count > 0 mean "details not returned" (docs/protocol.md §1.2).
    let lists = if f.has_list("refund_id_list") || f.has_list("out_refund_no_list") {
        Lists::Arrays
    } else if f.has("refund_id_0") || f.has("out_refund_no_0") {
        Lists::Indexed
    } else if refund_count == 0 {
        return Ok(RefundDetails::Listed(Vec::new()));
    } else {
        return Ok(RefundDetails::NotReturned);
    };
    let inconsistent = |what: String| f.malformed(MalformedKind::Inconsistent(what));
    let count = refund_count as usize;
    match lists {
        Lists::Arrays => {
            for key in column_keys() {
                if let Some(list) = f.opt_array(&key)?
                    && list.len() != count
                {
                    let len = list.len();
                    return Err(inconsistent(format!("`{key}` has {len} entries but refund_count is {count}")));
                }
            }
            // A coupon field is a list per refund (`[[...], [...]]`): a flat list cannot say
            // whose coupons it holds.
            for field in COUPON_FIELDS {
                let key = format!("{field}_array");
                if let Some(list) = f.opt_array(&key)?
                    && list.iter().any(|per_refund| !matches!(per_refund, Value::Array(_) | Value::Null))
                {
                    return Err(f.invalid(&key, "a list of coupon lists, one per refund"));
                }
            }
        }
        Lists::Indexed => {
            if f.has(&format!("refund_id_{count}")) || f.has(&format!("out_refund_no_{count}")) {
                return Err(inconsistent(format!("more refunds are listed than refund_count ({count})")));
            }
        }
    }
    // Not `with_capacity(count)`: the count comes from the network; the loop ends at the first
    // missing refund, so its length is bounded by what the body holds.
    let mut refunds = Vec::new();
    for n in 0..count {
        refunds.push(parse_refund(f, lists, n)?);
    }
    // Both styles in one answer (no documented shape does this) leave the other style's
    // documented keys unread: `unaccounted` refuses the answer.
    Ok(RefundDetails::Listed(refunds))
}

/// A documented per-refund or per-coupon key that no reader took (`field_$n`, `field_$n_$m`,
/// `field_list`, `field_array`) with a value: its refund or coupon is not among those listed
/// (past `refund_count`, past a gap, of a refund that does not exist, or given in the other list
/// style), so the answer cannot be accounted for in full. Such keys that carry nothing (`null`,
/// `""`, `[]`) are read here: they are no refund and no extra field.
fn unaccounted(f: &Fields<'_>) -> Option<String> {
    let documented = |snake: &str| {
        let Some((base, _, _)) = pop_index(snake, snake) else {
            return column_keys().any(|key| key == snake);
        };
        match pop_index(base, base) {
            Some((field, _, _)) if COUPON_FIELDS.contains(&field) => true,
            _ => LIST_FIELDS.contains(&base),
        }
    };
    let mut empty = Vec::new();
    let mut found = None;
    for field in f.unread() {
        if !documented(field.snake) {
            continue;
        }
        match field.value {
            Value::Null => empty.push(field.snake.to_owned()),
            Value::String(s) if s.is_empty() => empty.push(field.snake.to_owned()),
            Value::Array(a) if a.is_empty() => empty.push(field.snake.to_owned()),
            _ => {
                found = Some(field.key.to_owned());
                break;
            }
        }
    }
    empty.iter().for_each(|snake| f.mark_read(snake));
    found
}

fn parse_refund(f: &Fields<'_>, lists: Lists, n: usize) -> Result<Refund, Error> {
    let string = |field: &str| -> Result<Option<String>, Error> {
        let (name, value) = lists.get(f, field, n);
        f.conv_str(&name, value)
    };
    let required_string = |field: &str| -> Result<String, Error> {
        let (name, value) = lists.get(f, field, n);
        let v = f.conv_str(&name, value)?;
        f.require(&name, v)
    };
    let number = |field: &str| -> Result<Option<u64>, Error> {
        let (name, value) = lists.get(f, field, n);
        f.conv_u64(&name, value)
    };
    let refund_fee = {
        let (name, value) = lists.get(f, "refund_fee", n);
        let v = f.conv_u64(&name, value)?;
        Fen::new(f.require(&name, v)?)
    };
    let coupon_refund_count = {
        let (name, value) = lists.get(f, "coupon_refund_count", n);
        f.conv_u32(&name, value)?
    };
    let refund_success_time = {
        let (name, value) = lists.get(f, "refund_success_time", n);
        let parse: TimeParser = Timestamp::parse_spaced_china;
        f.conv_time(&name, value, parse, "a yyyy-MM-dd HH:mm:ss time")?
    };
    let mut coupons = Vec::new();
    for m in 0.. {
        let (id_name, id) = lists.get2(f, "coupon_refund_id", n, m);
        let Some(coupon_refund_id) = f.conv_str(&id_name, id)? else { break };
        let (fee_name, fee) = lists.get2(f, "coupon_refund_fee", n, m);
        let fee = f.conv_u64(&fee_name, fee)?;
        let (type_name, coupon_type) = lists.get2(f, "coupon_type", n, m);
        coupons.push(CouponRefund {
            coupon_type: f.conv_str(&type_name, coupon_type)?.map(CouponType::from),
            coupon_refund_id,
            coupon_refund_fee: Fen::new(f.require(&fee_name, fee)?),
            extra: Extra::new(),
        });
    }
    if let Lists::Arrays = lists {
        // Every coupon list of this refund is as long as its coupons: a coupon after a gap
        // (`[null, "c1"]`) or a list longer than the ids would be lost.
        for field in COUPON_FIELDS {
            let key = format!("{field}_array");
            let per_refund = f.peek(&key).and_then(Value::as_array).and_then(|a| a.get(n));
            let len = per_refund.and_then(Value::as_array).map_or(0, Vec::len);
            if len > coupons.len() {
                let what = format!("`{key}[{n}]` has {len} entries but refund {n} has {} coupons", coupons.len());
                return Err(f.malformed(MalformedKind::Inconsistent(what)));
            }
        }
    }
    if let Some(expected) = coupon_refund_count
        && !coupons.is_empty()
        && coupons.len() != expected as usize
    {
        let len = coupons.len();
        let what = format!("refund {n} lists {len} coupons but coupon_refund_count is {expected}");
        return Err(f.malformed(MalformedKind::Inconsistent(what)));
    }
    Ok(Refund {
        out_refund_no: required_string("out_refund_no")?,
        refund_id: required_string("refund_id")?,
        refund_channel: string("refund_channel")?.map(RefundChannel::from),
        refund_fee,
        settlement_refund_fee: number("settlement_refund_fee")?.map(Fen::new),
        coupon_refund_fee: number("coupon_refund_fee")?.map(Fen::new),
        coupon_refund_count,
        coupons,
        refund_status: RefundStatus::from(required_string("refund_status")?),
        refund_account: string("refund_account")?.map(RefundAccount::from),
        refund_recv_accout: string("refund_recv_accout")?,
        refund_success_time,
        extra: Extra::new(),
    })
}

/// Places the fields no reader took (the two list styles of docs/protocol.md §1.2, with the
/// `$n` and `$m` of §8.5) and returns the answer's own `extra`.
///
/// `name_$n` and `name_list[$n]` go to refund `$n`, `name_$n_$m` and `name_array[$n][$m]` to
/// coupon `$m` of refund `$n`, keyed by `name` as sent. The keys of one `name` are placed
/// together or not at all, so that every reply shape writes them back to the same place:
/// a `name` is placed when it comes either as one list that fits the refunds (or coupons),
/// with a value somewhere, or as indexed keys of one spelling, one per refund (coupon), none
/// `null`. The answer keeps, as sent, what is not placed, and keys whose index no listed refund
/// or coupon has.
fn place_extra(f: &Fields<'_>, details: &mut RefundDetails) -> Extra {
    let mut answer = Extra::new();
    let refunds: &mut [Refund] = match details {
        RefundDetails::Listed(refunds) => refunds,
        RefundDetails::NotReturned => &mut [],
    };
    let mut groups: BTreeMap<(Level, &str), Vec<Candidate<'_>>> = BTreeMap::new();
    for field in f.unread() {
        match classify(field, refunds) {
            Some((level, base, candidate)) => groups.entry((level, base)).or_default().push(candidate),
            None => {
                answer.insert(field.key, field.value.clone());
            }
        }
    }
    for ((level, _), group) in groups {
        if !place_group(level, &group, refunds) {
            for candidate in group {
                answer.insert(candidate.field.key, candidate.field.value.clone());
            }
        }
    }
    answer
}

/// Whether a field belongs to refunds or to coupons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Refund,
    Coupon,
}

/// Where a field would go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// `name_$n`.
    Refund(usize),
    /// `name_list`.
    RefundList,
    /// `name_$n_$m`.
    Coupon(usize, usize),
    /// `name_array`.
    CouponArray,
}

/// A field that names a refund or coupon level: its `name` as sent and its slot.
#[derive(Debug, Clone, Copy)]
struct Candidate<'f> {
    field: Unread<'f>,
    name: &'f str,
    slot: Slot,
}

/// The level, the snake_case `name` and the slot of a field, or `None` if it is the answer's:
/// there are no refunds, it does not look like a list or an index, its `name` is a documented
/// field of that level (beyond the listed refunds), or its index is one no refund or coupon has.
fn classify<'f>(field: Unread<'f>, refunds: &[Refund]) -> Option<(Level, &'f str, Candidate<'f>)> {
    if refunds.is_empty() {
        return None;
    }
    let candidate = |name, slot| Candidate { field, name, slot };
    if let Some((base, name)) = strip_list_word(field.snake, field.key, "list") {
        // A name ending in an index would read back as a coupon's (`name_$n_$m`).
        let indexed = pop_index(base, name).is_some();
        return (!LIST_FIELDS.contains(&base) && !indexed)
            .then(|| (Level::Refund, base, candidate(name, Slot::RefundList)));
    }
    if let Some((base, name)) = strip_list_word(field.snake, field.key, "array") {
        return (!COUPON_FIELDS.contains(&base)).then(|| (Level::Coupon, base, candidate(name, Slot::CouponArray)));
    }
    let (base, name, last) = pop_index(field.snake, field.key)?;
    if let Some((base, name, n)) = pop_index(base, name) {
        let exists = refunds.get(n).is_some_and(|r| last < r.coupons.len());
        return (exists && !COUPON_FIELDS.contains(&base))
            .then(|| (Level::Coupon, base, candidate(name, Slot::Coupon(n, last))));
    }
    (last < refunds.len() && !LIST_FIELDS.contains(&base))
        .then(|| (Level::Refund, base, candidate(name, Slot::Refund(last))))
}

/// Places the fields of one `name` on their refunds or coupons, all of them or none.
fn place_group(level: Level, group: &[Candidate<'_>], refunds: &mut [Refund]) -> bool {
    let Some(first) = group.first() else { return true };
    let name = first.name;
    if group.iter().any(|c| c.name != name) {
        return false;
    }
    // Where each value goes: (refund, coupon) with the value; `null`s of a list are gaps.
    let mut places: Vec<(usize, Option<usize>, &Value)> = Vec::new();
    match group {
        [Candidate { field, slot: Slot::RefundList, .. }] => {
            let Value::Array(values) = field.value else { return false };
            if values.len() != refunds.len() {
                return false;
            }
            places.extend(values.iter().enumerate().filter(|(_, v)| !v.is_null()).map(|(n, v)| (n, None, v)));
        }
        [Candidate { field, slot: Slot::CouponArray, .. }] => {
            let Value::Array(per_refund) = field.value else { return false };
            if per_refund.len() != refunds.len() {
                return false;
            }
            for (n, (refund, values)) in refunds.iter().zip(per_refund).enumerate() {
                match values {
                    Value::Array(values) if values.len() == refund.coupons.len() => places
                        .extend(values.iter().enumerate().filter(|(_, v)| !v.is_null()).map(|(m, v)| (n, Some(m), v))),
                    _ => return false,
                }
            }
        }
        _ => {
            for c in group {
                let place = match (level, c.slot) {
                    (Level::Refund, Slot::Refund(n)) => (n, None),
                    (Level::Coupon, Slot::Coupon(n, m)) => (n, Some(m)),
                    // A list beside indexed keys of the same name.
                    _ => return false,
                };
                if c.field.value.is_null() || places.iter().any(|(n, m, _)| (*n, *m) == place) {
                    return false;
                }
                places.push((place.0, place.1, c.field.value));
            }
        }
    }
    let free = places.iter().all(|&(n, m, _)| extra_at(refunds, n, m).is_some_and(|e| !e.contains_key(name)));
    if places.is_empty() || !free {
        return false;
    }
    for (n, m, value) in places {
        if let Some(extra) = extra_at(refunds, n, m) {
            extra.insert(name, value.clone());
        }
    }
    true
}

/// The `extra` of refund `n`, or of its coupon `m`.
fn extra_at(refunds: &mut [Refund], n: usize, m: Option<usize>) -> Option<&mut Extra> {
    let refund = refunds.get_mut(n)?;
    match m {
        None => Some(&mut refund.extra),
        Some(m) => refund.coupons.get_mut(m).map(|c| &mut c.extra),
    }
}

/// `name_list` / `nameList` (with `word` = `list`): the snake_case and as-sent spellings of
/// `name`, when both are non-empty.
fn strip_list_word<'k>(snake: &'k str, key: &'k str, word: &str) -> Option<(&'k str, &'k str)> {
    let snake = snake.strip_suffix(word)?.strip_suffix('_')?;
    let at = key.len().checked_sub(word.len())?;
    if !key.get(at..)?.eq_ignore_ascii_case(word) {
        return None;
    }
    let name = key.get(..at)?;
    let name = name.strip_suffix('_').unwrap_or(name);
    // A name ending in `_` (`x__list`) would be written back as `x_List` and read as `x`.
    (!snake.is_empty() && !name.is_empty() && !name.ends_with('_') && !snake.ends_with('_')).then_some((snake, name))
}

/// `name_12` (or `name12` as sent): the snake_case and as-sent spellings of `name`, and 12.
fn pop_index<'k>(snake: &'k str, key: &'k str) -> Option<(&'k str, &'k str, usize)> {
    fn split(s: &str) -> Option<(&str, &str)> {
        let head = s.trim_end_matches(|c: char| c.is_ascii_digit());
        let digits = s.get(head.len()..)?;
        (!digits.is_empty()).then(|| (head.strip_suffix('_').unwrap_or(head), digits))
    }
    let (snake, digits) = split(snake)?;
    let (name, key_digits) = split(key)?;
    let index = digits.parse().ok()?;
    // A name ending in `_` (`x__0`) would not be told from `x` once written in another shape.
    let plain = !snake.is_empty() && !name.is_empty() && !snake.ends_with('_') && !name.ends_with('_');
    (digits == key_digits && plain).then_some((snake, name, index))
}

/// The per-refund values of one refund, as (field, value) in documentation order.
fn refund_values(e: &Encoder, r: &Refund) -> [(&'static str, Option<Value>); 11] {
    let s = |v: Option<&str>| v.map(|v| Value::String(v.to_owned()));
    [
        ("out_refund_no", s(Some(&r.out_refund_no))),
        ("refund_id", s(Some(&r.refund_id))),
        ("refund_channel", s(r.refund_channel.as_ref().map(|v| v.as_str()))),
        ("refund_fee", Some(e.number(r.refund_fee.get()))),
        ("settlement_refund_fee", r.settlement_refund_fee.map(|v| e.number(v.get()))),
        ("coupon_refund_fee", r.coupon_refund_fee.map(|v| e.number(v.get()))),
        ("coupon_refund_count", r.coupon_refund_count.map(|v| e.number(u64::from(v)))),
        ("refund_status", s(Some(r.refund_status.as_str()))),
        ("refund_account", s(r.refund_account.as_ref().map(|v| v.as_str()))),
        ("refund_recv_accout", s(r.refund_recv_accout.as_deref())),
        ("refund_success_time", s(r.refund_success_time.as_ref().map(Timestamp::original))),
    ]
}

fn coupon_values(e: &Encoder, c: &CouponRefund) -> [(&'static str, Option<Value>); 3] {
    [
        ("coupon_type", c.coupon_type.as_ref().map(|v| Value::String(v.as_str().to_owned()))),
        ("coupon_refund_id", Some(Value::String(c.coupon_refund_id.clone()))),
        ("coupon_refund_fee", Some(e.number(c.coupon_refund_fee.get()))),
    ]
}

fn encode_refunds(e: &mut Encoder, refunds: &[Refund]) {
    match e.shape().lists {
        ListStyle::Indexed => {
            for (n, r) in refunds.iter().enumerate() {
                for (field, value) in refund_values(e, r) {
                    if let Some(value) = value {
                        e.value(format!("{field}_{n}"), value);
                    }
                }
                for (key, value) in r.extra.iter() {
                    e.raw(format!("{key}_{n}"), value.clone());
                }
                for (m, c) in r.coupons.iter().enumerate() {
                    for (field, value) in coupon_values(e, c) {
                        if let Some(value) = value {
                            e.value(format!("{field}_{n}_{m}"), value);
                        }
                    }
                    for (key, value) in c.extra.iter() {
                        e.raw(format!("{key}_{n}_{m}"), value.clone());
                    }
                }
            }
        }
        ListStyle::Arrays => {
            // One list per field; a field no refund has is left out, a gap is `null`.
            let rows: Vec<_> = refunds.iter().map(|r| refund_values(e, r)).collect();
            for (i, field) in LIST_FIELDS.iter().enumerate() {
                let column: Vec<Value> = rows.iter().map(|row| row[i].1.clone().unwrap_or(Value::Null)).collect();
                if column.iter().any(|v| !v.is_null()) {
                    e.value(format!("{field}_list"), Value::Array(column));
                }
            }
            if refunds.iter().any(|r| !r.coupons.is_empty()) {
                for (i, field) in COUPON_FIELDS.iter().enumerate() {
                    let nested: Vec<Value> = refunds
                        .iter()
                        .map(|r| {
                            Value::Array(
                                r.coupons
                                    .iter()
                                    .map(|c| coupon_values(e, c)[i].1.clone().unwrap_or(Value::Null))
                                    .collect(),
                            )
                        })
                        .collect();
                    e.value(format!("{field}_array"), Value::Array(nested));
                }
            }
            // Extra fields the same way, their keys as sent.
            let suffix = e.list_suffix();
            let keys: BTreeSet<&str> = refunds.iter().flat_map(|r| r.extra.keys()).collect();
            for key in keys {
                let column = refunds.iter().map(|r| r.extra.get(key).cloned().unwrap_or(Value::Null)).collect();
                e.raw(format!("{key}{suffix}"), Value::Array(column));
            }
            let suffix = e.array_suffix();
            let keys: BTreeSet<&str> = refunds.iter().flat_map(|r| &r.coupons).flat_map(|c| c.extra.keys()).collect();
            for key in keys {
                let nested = refunds
                    .iter()
                    .map(|r| {
                        Value::Array(
                            r.coupons.iter().map(|c| c.extra.get(key).cloned().unwrap_or(Value::Null)).collect(),
                        )
                    })
                    .collect();
                e.raw(format!("{key}{suffix}"), Value::Array(nested));
            }
        }
    }
}
