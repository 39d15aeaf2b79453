//! The one-of-two and one-of-four order references, as enums so that an invalid choice cannot
//! be expressed (docs/design.md §2).

use crate::error::{Rule, ValidationError};
use crate::validate::{OrderId, OutOrderNo, OutRefundNo, OutTradeNo, RefundId, TransactionId};

/// Which profit-sharing order: WeChat's `order_id` or the merchant's `out_order_no`, exactly one
/// (docs/protocol.md §8.1 and §8.2: "二选一").
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OrderRef {
    /// WeChat's profit-sharing order number.
    OrderId(OrderId),
    /// The merchant's profit-sharing order number.
    OutOrderNo(OutOrderNo),
}

impl OrderRef {
    const FIELDS: &'static [&'static str] = &["order_id", "out_order_no"];

    /// Takes the two optional fields as a caller has them and insists on exactly one.
    ///
    /// ```
    /// use wxpay_protocol::{OrderRef, OutOrderNo, Rule};
    /// let r = OrderRef::exactly_one(None, Some(OutOrderNo::new("P1")?))?;
    /// assert_eq!(r.field(), "out_order_no");
    /// assert_eq!(OrderRef::exactly_one(None, None).unwrap_err().rule(), &Rule::NoneOf(&["order_id", "out_order_no"]));
    /// # Ok::<(), wxpay_protocol::ValidationError>(())
    /// ```
    pub fn exactly_one(order_id: Option<OrderId>, out_order_no: Option<OutOrderNo>) -> Result<Self, ValidationError> {
        match (order_id, out_order_no) {
            (Some(id), None) => Ok(OrderRef::OrderId(id)),
            (None, Some(no)) => Ok(OrderRef::OutOrderNo(no)),
            (None, None) => Err(ValidationError::new("order_id|out_order_no", Rule::NoneOf(Self::FIELDS))),
            (Some(_), Some(_)) => Err(ValidationError::new("order_id|out_order_no", Rule::MoreThanOneOf(Self::FIELDS))),
        }
    }

    /// The API field this reference is sent as.
    pub fn field(&self) -> &'static str {
        match self {
            OrderRef::OrderId(_) => OrderId::FIELD,
            OrderRef::OutOrderNo(_) => OutOrderNo::FIELD,
        }
    }

    /// The value sent.
    pub fn value(&self) -> &str {
        match self {
            OrderRef::OrderId(v) => v.as_str(),
            OrderRef::OutOrderNo(v) => v.as_str(),
        }
    }
}

/// Which refunds a refund query asks for (docs/protocol.md §8.5: one of four).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RefundLookup {
    /// One refund, by WeChat's refund number.
    RefundId(RefundId),
    /// One refund, by the merchant's refund number.
    OutRefundNo(OutRefundNo),
    /// Every refund of a payment, by WeChat's order number (paged past 10).
    TransactionId(TransactionId),
    /// Every refund of a payment, by the merchant's order number (paged past 10).
    OutTradeNo(OutTradeNo),
}

impl RefundLookup {
    const FIELDS: &'static [&'static str] = &["refund_id", "out_refund_no", "transaction_id", "out_trade_no"];

    /// Takes any non-empty subset of the four ids and keeps the one WeChat Pay would use:
    /// `refund_id` > `out_refund_no` > `transaction_id` > `out_trade_no` (docs/protocol.md §8.5).
    /// The request then carries only that id, so what was asked is what is answered.
    ///
    /// ```
    /// use wxpay_protocol::{OutTradeNo, RefundLookup, TransactionId};
    /// let lookup = RefundLookup::by_priority(
    ///     None,
    ///     None,
    ///     Some(TransactionId::new("1217752501201407033233368018")?),
    ///     Some(OutTradeNo::new("1217752501201407033233368018")?),
    /// )?;
    /// assert_eq!(lookup.field(), "transaction_id");
    /// # Ok::<(), wxpay_protocol::ValidationError>(())
    /// ```
    pub fn by_priority(
        refund_id: Option<RefundId>,
        out_refund_no: Option<OutRefundNo>,
        transaction_id: Option<TransactionId>,
        out_trade_no: Option<OutTradeNo>,
    ) -> Result<Self, ValidationError> {
        refund_id
            .map(RefundLookup::RefundId)
            .or(out_refund_no.map(RefundLookup::OutRefundNo))
            .or(transaction_id.map(RefundLookup::TransactionId))
            .or(out_trade_no.map(RefundLookup::OutTradeNo))
            .ok_or_else(|| {
                ValidationError::new("refund_id|out_refund_no|transaction_id|out_trade_no", Rule::NoneOf(Self::FIELDS))
            })
    }

    /// The API field this lookup is sent as.
    pub fn field(&self) -> &'static str {
        match self {
            RefundLookup::RefundId(_) => RefundId::FIELD,
            RefundLookup::OutRefundNo(_) => OutRefundNo::FIELD,
            RefundLookup::TransactionId(_) => TransactionId::FIELD,
            RefundLookup::OutTradeNo(_) => OutTradeNo::FIELD,
        }
    }

    /// The value sent.
    pub fn value(&self) -> &str {
        match self {
            RefundLookup::RefundId(v) => v.as_str(),
            RefundLookup::OutRefundNo(v) => v.as_str(),
            RefundLookup::TransactionId(v) => v.as_str(),
            RefundLookup::OutTradeNo(v) => v.as_str(),
        }
    }

    /// Whether the lookup names a whole payment (whose refunds may need paging) rather than one
    /// refund.
    pub fn is_order_level(&self) -> bool {
        matches!(self, RefundLookup::TransactionId(_) | RefundLookup::OutTradeNo(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_order() {
        let rid = || Some(RefundId::new("5001").unwrap());
        let orn = || Some(OutRefundNo::new("R1").unwrap());
        let tid = || Some(TransactionId::new("4200").unwrap());
        let otn = || Some(OutTradeNo::new("T1").unwrap());
        assert_eq!(RefundLookup::by_priority(rid(), orn(), tid(), otn()).unwrap().field(), "refund_id");
        assert_eq!(RefundLookup::by_priority(None, orn(), tid(), otn()).unwrap().field(), "out_refund_no");
        assert_eq!(RefundLookup::by_priority(None, None, tid(), otn()).unwrap().field(), "transaction_id");
        assert_eq!(RefundLookup::by_priority(None, None, None, otn()).unwrap().field(), "out_trade_no");
        let err = RefundLookup::by_priority(None, None, None, None).unwrap_err();
        assert!(matches!(err.rule(), Rule::NoneOf(f) if f.len() == 4));
    }

    #[test]
    fn order_ref_both_is_an_error() {
        let err =
            OrderRef::exactly_one(Some(OrderId::new("1").unwrap()), Some(OutOrderNo::new("P").unwrap())).unwrap_err();
        assert!(matches!(err.rule(), Rule::MoreThanOneOf(_)));
        assert!(err.to_string().contains("order_id, out_order_no"));
    }
}
