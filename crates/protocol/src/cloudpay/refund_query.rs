//! CloudPay refund query, 查询退款 (seeds/004), with its indexed or array refund lists.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{Map, Value};

use super::CloudPayOp;
use super::encode::{Encoder, ListStyle, ReplyShape};
use super::fields::{Fields, TimeParser, Unread};
use super::request::RequestBody;
use super::status;
use crate::amount::Fen;
use crate::endpoint::{Api, BaseUrl, Operation};
use crate::error::{Error, MalformedKind, ValidationError};
use crate::extra::Extra;
use crate::lookup::RefundLookup;
use crate::timestamp::Timestamp;
use crate::validate::{NonceStr, Offset, OutRefundNo, OutTradeNo, RefundId, SubMchId, TransactionId};
use crate::wire_enum::wire_enum;

/// Asks for the refunds of a payment, or for one refund (seeds/004).
///
/// An order with more than 10 refunds answers 10 at a time: set [`offset`](Self::offset), or
/// let [`RefundPager`](crate::RefundPager) walk the pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundQueryRequest {
    sub_mch_id: SubMchId,
    nonce_str: NonceStr,
    lookup: RefundLookup,
    offset: Option<Offset>,
}

impl RefundQueryRequest {
    /// A query for the refunds `lookup` names.
    pub fn new(sub_mch_id: SubMchId, nonce_str: NonceStr, lookup: RefundLookup) -> Self {
        Self { sub_mch_id, nonce_str, lookup, offset: None }
    }

    /// Asks for the refunds from `offset` on (10 at most per answer).
    pub fn offset(mut self, offset: Offset) -> Self {
        self.offset = Some(offset);
        self
    }

    /// The same query with another nonce (each page of a paged query gets its own).
    pub fn with_nonce(mut self, nonce_str: NonceStr) -> Self {
        self.nonce_str = nonce_str;
        self
    }

    /// The sub-merchant.
    pub fn sub_mch_id(&self) -> &SubMchId {
        &self.sub_mch_id
    }

    /// The nonce sent.
    pub fn nonce_str(&self) -> &NonceStr {
        &self.nonce_str
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
    /// priority picks the one that counts (seeds/004).
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
        let request = Self::new(sub_mch_id, nonce_str, lookup);
        Ok(match b.offset()? {
            Some(offset) => request.offset(offset),
            None => request,
        })
    }

    /// The JSON body, in the documented field names; only the winning id of the lookup.
    pub fn body(&self) -> Map<String, Value> {
        let mut body = Map::new();
        body.insert("sub_mch_id".into(), self.sub_mch_id.as_str().into());
        body.insert("nonce_str".into(), self.nonce_str.as_str().into());
        body.insert(self.lookup.field().into(), self.lookup.value().into());
        if let Some(offset) = self.offset {
            body.insert("offset".into(), offset.get().into());
        }
        body
    }
}

impl Operation for RefundQueryRequest {
    type Output = RefundQueryResponse;
    const NAME: &'static str = "queryrefund";
    const API: Api = Api::CloudPay;
    const IS_WRITE: bool = false;

    fn build(&self, base: &BaseUrl) -> Result<http::Request<Vec<u8>>, ValidationError> {
        super::build_post(base, CloudPayOp::RefundQuery, &self.body())
    }

    fn parse<B: AsRef<[u8]>>(&self, response: &http::Response<B>) -> Result<RefundQueryResponse, Error> {
        RefundQueryResponse::parse(response)
    }
}

wire_enum! {
    /// Where a refund goes (seeds/004 `refund_channel_$n`).
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
    /// The state of a refund (seeds/004 `refund_status_$n`).
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
    /// Which funds paid a refund (seeds/004 `refund_account_$n`).
    pub enum RefundAccount {
        /// `REFUND_SOURCE_RECHARGE_FUNDS`: available balance.
        RechargeFunds = "REFUND_SOURCE_RECHARGE_FUNDS",
        /// `REFUND_SOURCE_UNSETTLED_FUNDS`: unsettled funds.
        UnsettledFunds = "REFUND_SOURCE_UNSETTLED_FUNDS",
    }
}

wire_enum! {
    /// The type of a refunded coupon (seeds/004 `coupon_type_$n_$m`).
    pub enum CouponType {
        /// `CASH`: a recharged coupon.
        Cash = "CASH",
        /// `NO_CASH`: a coupon without recharge.
        NoCash = "NO_CASH",
    }
}

/// One coupon of a refund (`$m` in seeds/004).
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

/// One refund (`$n` in seeds/004).
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

/// The refunds of an answer: listed, or counted but not returned (DESIGN.md 4.1).
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

/// The answer to a refund query (seeds/004).
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
    pub fn parse<B: AsRef<[u8]>>(response: &http::Response<B>) -> Result<Self, Error> {
        let f = Fields::open(response)?;
        status::check(&f, CloudPayOp::RefundQuery)?;
        let refund_count = f.u32("refund_count")?;
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
    // Empty lists while refund_count > 0 mean "details not returned" (DESIGN.md 4.1).
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
    Ok(RefundDetails::Listed(refunds))
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

/// Places the fields no reader took (DESIGN.md 4.1's two list styles, seeds/004's `$n` and
/// `$m`): `name_$n` and `name_list[$n]` go to refund `$n`, `name_$n_$m` and
/// `name_array[$n][$m]` to coupon `$m` of refund `$n`, keyed by `name` as sent. The rest is the
/// answer's own `extra`, as sent: keys of the gateway wrapper, indexes no listed refund or
/// coupon has, lists whose shape does not match the refunds, documented per-refund fields
/// beyond `refund_count`, and anything that would overwrite a field already placed.
fn place_extra(f: &Fields<'_>, details: &mut RefundDetails) -> Extra {
    let mut answer = Extra::new();
    let refunds: &mut [Refund] = match details {
        RefundDetails::Listed(refunds) => refunds,
        RefundDetails::NotReturned => &mut [],
    };
    for field in f.unread() {
        if field.wrapper || !place_field(field, refunds) {
            answer.insert(field.key, field.value.clone());
        }
    }
    answer
}

/// Places one field on a refund or coupon; `false` if it belongs to none.
fn place_field(field: Unread<'_>, refunds: &mut [Refund]) -> bool {
    if refunds.is_empty() {
        return false;
    }
    if let Some((snake, name)) = strip_list_word(field.snake, field.key, "list") {
        // A name ending in an index would read back as a coupon's (`name_$n_$m`).
        let indexed = pop_index(snake, name).is_some();
        return !LIST_FIELDS.contains(&snake) && !indexed && place_list(name, field.value, refunds);
    }
    if let Some((snake, name)) = strip_list_word(field.snake, field.key, "array") {
        return !COUPON_FIELDS.contains(&snake) && place_arrays(name, field.value, refunds);
    }
    if field.value.is_null() {
        return false;
    }
    let Some((snake, name, last)) = pop_index(field.snake, field.key) else { return false };
    // `name_$n_$m`: a coupon of a listed refund, or none.
    if let Some((coupon_snake, coupon_name, n)) = pop_index(snake, name) {
        return match refunds.get_mut(n).and_then(|r| r.coupons.get_mut(last)) {
            Some(coupon) if !COUPON_FIELDS.contains(&coupon_snake) && !coupon.extra.contains_key(coupon_name) => {
                coupon.extra.insert(coupon_name, field.value.clone());
                true
            }
            _ => false,
        };
    }
    // `name_$n`: a refund.
    if LIST_FIELDS.contains(&snake) {
        return false;
    }
    match refunds.get_mut(last) {
        Some(refund) if !refund.extra.contains_key(name) => {
            refund.extra.insert(name, field.value.clone());
            true
        }
        _ => false,
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
    (!snake.is_empty() && !name.is_empty()).then_some((snake, name))
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
    (digits == key_digits && !snake.is_empty() && !name.is_empty()).then_some((snake, name, index))
}

/// `name_list`: one value per refund (`null` where a refund has none).
fn place_list(name: &str, value: &Value, refunds: &mut [Refund]) -> bool {
    let Value::Array(values) = value else { return false };
    let fits = values.len() == refunds.len()
        && values.iter().any(|v| !v.is_null())
        && refunds.iter().zip(values).all(|(r, v)| v.is_null() || !r.extra.contains_key(name));
    if fits {
        for (refund, value) in refunds.iter_mut().zip(values).filter(|(_, v)| !v.is_null()) {
            refund.extra.insert(name, value.clone());
        }
    }
    fits
}

/// `name_array`: per refund, one value per coupon (`null` where a coupon has none).
fn place_arrays(name: &str, value: &Value, refunds: &mut [Refund]) -> bool {
    let Value::Array(per_refund) = value else { return false };
    let fits = per_refund.len() == refunds.len()
        && refunds.iter().zip(per_refund).all(|(r, v)| {
            v.as_array().is_some_and(|values| {
                values.len() == r.coupons.len()
                    && r.coupons.iter().zip(values).all(|(c, v)| v.is_null() || !c.extra.contains_key(name))
            })
        })
        && per_refund.iter().filter_map(Value::as_array).flatten().any(|v| !v.is_null());
    if fits {
        for (refund, values) in refunds.iter_mut().zip(per_refund.iter().filter_map(Value::as_array)) {
            for (coupon, value) in refund.coupons.iter_mut().zip(values).filter(|(_, v)| !v.is_null()) {
                coupon.extra.insert(name, value.clone());
            }
        }
    }
    fits
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
