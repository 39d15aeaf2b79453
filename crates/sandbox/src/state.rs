//! What the sandbox remembers between requests: how often each order was queried (orders move
//! from `PROCESSING` to their final state), which payments were finished under which
//! `out_order_no`, and the refunds to page through.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::Value;
use wxpay_protocol::cloudpay::{self, RefundDetails};
use wxpay_protocol::{ErrorCode, OrderRef, PAGE_SIZE, RefundLookup};

use crate::fixtures::{Finishable, Fixtures, Settling};

/// When an order that starts `PROCESSING` reaches its final state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Settle {
    /// After each fixture's own `processing_queries`.
    PerFixture,
    /// After this many queries that answered `PROCESSING`, for every order.
    AfterQueries(u32),
    /// This many seconds after the first query, for every order that has `processing_queries`.
    AfterSeconds(i64),
}

/// A CloudPay failure or a v3 error: the code and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) code: ErrorCode,
    pub(crate) message: String,
}

impl Refusal {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
}

#[derive(Debug)]
struct Tracked<T> {
    fixture: Settling<T>,
    queries: u32,
    first_query: Option<i64>,
    /// Whether an answer has shown the record settled (its notifications were sent then).
    settled_seen: bool,
}

impl<T: Clone> Tracked<T> {
    fn new(fixture: Settling<T>) -> Self {
        Self { fixture, queries: 0, first_query: None, settled_seen: false }
    }

    /// Counts a query at `now` and says whether the order still reads `PROCESSING`.
    fn query(&mut self, settle: Settle, now: i64) -> bool {
        let first = *self.first_query.get_or_insert(now);
        let processing = match settle {
            Settle::PerFixture => self.queries < self.fixture.processing_queries,
            Settle::AfterQueries(n) => self.fixture.processing_queries > 0 && self.queries < n,
            Settle::AfterSeconds(s) => self.fixture.processing_queries > 0 && now < first.saturating_add(s),
        };
        self.queries = self.queries.saturating_add(1);
        processing
    }
}

#[derive(Debug)]
struct FinishState {
    fixture: Finishable,
    attempts: u32,
    finished_with: Option<String>,
}

#[derive(Debug)]
struct Inner {
    return_orders: Vec<Tracked<cloudpay::ReturnQueryResponse>>,
    finishes: Vec<FinishState>,
    refunds: Vec<cloudpay::RefundQueryResponse>,
    v3: BTreeMap<&'static str, Vec<Tracked<Value>>>,
}

impl Inner {
    fn new(f: &Fixtures) -> Self {
        Self {
            return_orders: f.return_orders.iter().cloned().map(Tracked::new).collect(),
            finishes: f
                .finishes
                .iter()
                .cloned()
                .map(|fixture| FinishState { fixture, attempts: 0, finished_with: None })
                .collect(),
            refunds: f.refunds.clone(),
            v3: f.v3.iter().map(|(name, list)| (*name, list.iter().cloned().map(Tracked::new).collect())).collect(),
        }
    }
}

/// The sandbox's state, behind one lock (the sandbox serves tests, not production load).
#[derive(Debug)]
pub(crate) struct State {
    fixtures: Fixtures,
    settle: Settle,
    inner: Mutex<Inner>,
}

fn same(answer: Option<&str>, asked: &str) -> bool {
    answer.is_none_or(|a| a == asked)
}

fn order_matches(order: &OrderRef, order_id: &str, out_order_no: &str) -> bool {
    match order {
        OrderRef::OrderId(id) => id.as_str() == order_id,
        OrderRef::OutOrderNo(no) => no.as_str() == out_order_no,
    }
}

impl State {
    pub(crate) fn new(fixtures: Fixtures, settle: Settle) -> Self {
        let inner = Mutex::new(Inner::new(&fixtures));
        Self { fixtures, settle, inner }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the data half-changed in a way that
        // matters for a test server; keep serving.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Forgets every query and finish.
    pub(crate) fn reset(&self) {
        *self.lock() = Inner::new(&self.fixtures);
    }

    /// CloudPay return query (docs/protocol.md §8.1): ORDERNOTEXIST for unknown returns.
    pub(crate) fn return_query(
        &self,
        r: &cloudpay::ReturnQueryRequest,
        now: i64,
    ) -> Result<cloudpay::ReturnQueryResponse, Refusal> {
        let mut inner = self.lock();
        let entry = inner
            .return_orders
            .iter_mut()
            .find(|t| {
                let a = &t.fixture.answer;
                same(a.sub_mch_id.as_deref(), r.sub_mch_id().as_str())
                    && order_matches(r.order(), &a.order_id, &a.out_order_no)
                    && a.out_return_no == r.out_return_no().as_str()
            })
            .ok_or_else(|| Refusal::new(ErrorCode::OrderNotExist, "回退单不存在"))?;
        let mut answer = entry.fixture.answer.clone();
        if entry.query(self.settle, now) {
            answer.result = cloudpay::ReturnResult::Processing;
            answer.fail_reason = None;
            answer.finish_time = None;
        }
        Ok(answer)
    }

    /// CloudPay finish (docs/protocol.md §8.3): idempotent on `out_order_no`, AMOUNT_OVERDUE under
    /// a new number once finished, ORDER_NOT_READY while the payment is still being shared.
    pub(crate) fn finish(&self, r: &cloudpay::FinishRequest) -> Result<cloudpay::FinishResponse, Refusal> {
        let mut inner = self.lock();
        let entry = inner
            .finishes
            .iter_mut()
            .find(|f| {
                let a = &f.fixture.answer;
                same(a.sub_mch_id.as_deref(), r.sub_mch_id().as_str())
                    && a.transaction_id == r.transaction_id().as_str()
            })
            .ok_or_else(|| Refusal::new(ErrorCode::InvalidTransactionId, "无效的微信支付订单号"))?;
        let asked = r.out_order_no().as_str();
        match &entry.finished_with {
            Some(done) if done == asked => {}
            Some(_) => return Err(Refusal::new(ErrorCode::AmountOverdue, "订单剩余可分账金额为零")),
            None if entry.attempts < entry.fixture.not_ready_attempts => {
                entry.attempts += 1;
                return Err(Refusal::new(ErrorCode::OrderNotReady, "订单处理中，暂时无法处理分账完结请求"));
            }
            None => entry.finished_with = Some(asked.to_owned()),
        }
        let mut answer = entry.fixture.answer.clone();
        answer.out_order_no = asked.to_owned();
        answer.sub_mch_id = Some(r.sub_mch_id().as_str().to_owned());
        Ok(answer)
    }

    /// CloudPay refund query (docs/protocol.md §8.5): one refund by refund id, or a page of an
    /// order's refunds; PARAM_ERROR for an offset past the total; REFUNDNOTEXIST for unknown ids.
    pub(crate) fn refund_query(
        &self,
        r: &cloudpay::RefundQueryRequest,
    ) -> Result<cloudpay::RefundQueryResponse, Refusal> {
        let inner = self.lock();
        let not_found = || Refusal::new(ErrorCode::RefundNotExist, "退款订单查询失败");
        let orders = inner.refunds.iter().filter(|o| same(o.sub_mch_id.as_deref(), r.sub_mch_id().as_str()));
        let single = |want: &dyn Fn(&cloudpay::Refund) -> bool| {
            orders.clone().find_map(|o| o.listed_refunds().iter().find(|f| want(f)).map(|f| (o, f.clone())))
        };
        let (order, page, total) = match r.lookup() {
            RefundLookup::RefundId(id) => {
                let (o, f) = single(&|f| f.refund_id == id.as_str()).ok_or_else(not_found)?;
                (o, vec![f], None)
            }
            RefundLookup::OutRefundNo(no) => {
                let (o, f) = single(&|f| f.out_refund_no == no.as_str()).ok_or_else(not_found)?;
                (o, vec![f], None)
            }
            lookup => {
                let o = orders
                    .clone()
                    .find(|o| match lookup {
                        RefundLookup::TransactionId(t) => o.transaction_id == t.as_str(),
                        RefundLookup::OutTradeNo(t) => o.out_trade_no.as_deref() == Some(t.as_str()),
                        _ => false,
                    })
                    .ok_or_else(not_found)?;
                let all = o.listed_refunds();
                let total = all.len();
                let offset = r.get_offset().map_or(0, |o| o.get() as usize);
                if r.get_offset().is_some() && offset >= total {
                    return Err(Refusal::new(ErrorCode::ParamError, "offset 超过 total_refund_count"));
                }
                let end = offset.saturating_add(PAGE_SIZE as usize).min(total);
                // total_refund_count comes with an offset, or when there is more than one page.
                let total = (r.get_offset().is_some() || total > PAGE_SIZE as usize).then_some(total);
                (o, all[offset..end].to_vec(), total)
            }
        };
        let mut answer = order.clone();
        answer.refund_count = u32::try_from(page.len()).unwrap_or(u32::MAX);
        answer.total_refund_count = total.map(|t| u32::try_from(t).unwrap_or(u32::MAX));
        answer.refunds = RefundDetails::Listed(page);
        Ok(answer)
    }

    /// The answer of the API v3 query `operation` whose fields equal the request's parameters
    /// (each query names its record by fields its answer echoes: docs/protocol.md §8.2, §8.4), and
    /// how it reads now; an unknown record is RESOURCE_NOT_EXISTS.
    pub(crate) fn v3_query(&self, operation: &str, params: &[(String, String)], now: i64) -> Result<V3Read, Refusal> {
        let mut inner = self.lock();
        let entry = inner
            .v3
            .get_mut(operation)
            .and_then(|list| {
                list.iter_mut().find(|t| params.iter().all(|(name, value)| field_is(&t.fixture.answer, name, value)))
            })
            .ok_or_else(not_found)?;
        let processing = entry.query(self.settle, now);
        let settled_now = !processing && !entry.settled_seen;
        entry.settled_seen |= !processing;
        Ok(V3Read { answer: entry.fixture.answer.clone(), processing, settled_now })
    }

    /// The settled answer of the first API v3 record of `operation` whose fields equal `fields`
    /// (for notifications on demand).
    pub(crate) fn v3_record(&self, operation: &str, fields: &[(String, String)]) -> Option<Value> {
        let inner = self.lock();
        inner
            .v3
            .get(operation)?
            .iter()
            .find(|t| fields.iter().all(|(n, v)| field_is(&t.fixture.answer, n, v)))
            .map(|t| t.fixture.answer.clone())
    }
}

/// How a v3 record reads at one query.
#[derive(Debug)]
pub(crate) struct V3Read {
    /// The record's settled answer.
    pub(crate) answer: Value,
    /// Whether it still reads `PROCESSING`.
    pub(crate) processing: bool,
    /// Whether this is the first answer that shows it settled.
    pub(crate) settled_now: bool,
}

/// Whether the answer's field `name`, if it has one, is `value` (ids may be written as
/// numbers). A parameter the answer has no field for does not name the record (the request was
/// validated by the operation's reader, which takes only the parameters it knows).
fn field_is(answer: &Value, name: &str, value: &str) -> bool {
    match answer.get(name) {
        None => true,
        Some(Value::String(s)) => s == value,
        Some(Value::Number(n)) => n.to_string() == value,
        Some(_) => false,
    }
}

/// The v3 answer for a record the sandbox does not hold.
fn not_found() -> Refusal {
    Refusal::new(ErrorCode::ResourceNotExists, "记录不存在")
}
