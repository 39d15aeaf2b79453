//! Paging through the refunds of an order, as pure logic (docs/protocol.md §1.3, §8.5).
//!
//! WeChat Pay answers at most [`PAGE_SIZE`] refunds per query and, when an `offset` is sent,
//! the order's `total_refund_count`. [`RefundPager`] says which offset to ask for next, takes
//! each answer, and stops with a [`PagingError`] on any answer that would make it loop or lose
//! refunds. It does no I/O; the transports drive it.
//!
//! The server's `total_refund_count` is not trusted without bound: an order has at most
//! [`MAX_REFUNDS`] refunds (WeChat Pay documents 50), so a total above the pager's maximum, or a
//! page of more than [`PAGE_SIZE`] refunds, stops it with an error. Every page either ends the
//! walk or moves the offset forward by at least one refund, so a pager asks at most
//! `max_refunds + 1` times whatever the server answers.

use std::collections::HashSet;

use crate::cloudpay::{Refund, RefundDetails, RefundQueryRequest, RefundQueryResponse};
use crate::validate::{NonceStr, Offset};

/// The most refunds one answer carries (docs/protocol.md §8.5).
pub const PAGE_SIZE: u32 = 10;

/// The most refunds one order can have: "The number of partial refunds for each payment order
/// cannot exceed 50 times" (WeChat Pay, Submit Refund API,
/// <https://pay.weixin.qq.com/wiki/doc/api_external/en/apis/chapter3_3_3.shtml>). The default
/// bound of [`RefundPager`] (see [`RefundPager::with_max_refunds`]) and of the refund query
/// parser's `refund_count`.
pub const MAX_REFUNDS: u32 = 50;

/// An answer that cannot be the next page of the same order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PagingError {
    /// Every refund is already in; nothing more can be taken.
    #[error("all refunds are already in")]
    AlreadyComplete,
    /// The answer counts refunds but lists none, so they cannot be collected.
    #[error("the answer counts {refund_count} refunds but does not list them")]
    DetailsNotReturned {
        /// The count of the answer.
        refund_count: u32,
    },
    /// A full page came without `total_refund_count`, so the end cannot be known.
    #[error("a full page of {refund_count} refunds came without total_refund_count")]
    MissingTotal {
        /// The count of the page.
        refund_count: u32,
    },
    /// `total_refund_count` changed between pages.
    #[error("total_refund_count changed from {before} to {now} while paging")]
    TotalChanged {
        /// The first total seen.
        before: u32,
        /// The total of this answer.
        now: u32,
    },
    /// A page with no refunds before the total was reached: asking again would loop.
    #[error("an empty page at offset {offset} of {total}")]
    EmptyPage {
        /// The offset asked for.
        offset: u32,
        /// The total.
        total: u32,
    },
    /// More refunds than the total leaves room for.
    #[error("the page at offset {offset} has {refund_count} refunds but the total is {total}")]
    PastTotal {
        /// The offset asked for.
        offset: u32,
        /// The count of the page.
        refund_count: u32,
        /// The total.
        total: u32,
    },
    /// The order claims more refunds than an order can have (or than the pager was told to take).
    #[error("total_refund_count {total} is more than the {max} refunds an order can have")]
    TooManyRefunds {
        /// The total the answer claims (or the refunds received so far).
        total: u32,
        /// The pager's maximum ([`MAX_REFUNDS`] unless set otherwise).
        max: u32,
    },
    /// A page lists more refunds than a page can hold.
    #[error("a page lists {refund_count} refunds, more than the {PAGE_SIZE} of a page")]
    PageTooLong {
        /// The count of the page.
        refund_count: u32,
    },
    /// A page is of another payment than the pages before it.
    #[error("a page is of transaction {now}, the pages before of {before}")]
    OrderChanged {
        /// The first page's `transaction_id`.
        before: String,
        /// This page's.
        now: String,
    },
    /// A refund arrived twice.
    #[error("refund {refund_id} arrived twice")]
    Duplicate {
        /// The repeated refund id.
        refund_id: String,
    },
}

/// Walks the pages of a refund query.
///
/// ```
/// use wxpay_protocol::{cloudpay::RefundQueryRequest, NonceStr, RefundLookup, RefundPager, SubMchId, TransactionId};
/// let request = RefundQueryRequest::new(
///     SubMchId::new("1900000109")?,
///     RefundLookup::TransactionId(TransactionId::new("4200000000000000000000000001")?),
/// ).with_nonce(NonceStr::new("N0")?);
/// let mut pager = RefundPager::new(request);
/// let first = pager.next_request(NonceStr::new("N1")?).unwrap();
/// assert_eq!(first.get_offset().map(|o| o.get()), Some(0));
/// // ... send `first`, parse the answer, then `pager.push(answer)?` and ask again until
/// // `next_request` returns `None`.
/// # Ok::<(), wxpay_protocol::ValidationError>(())
/// ```
#[derive(Debug, Clone)]
pub struct RefundPager {
    request: RefundQueryRequest,
    offset: u32,
    total: Option<u32>,
    seen: HashSet<String>,
    done: bool,
    max_refunds: u32,
    transaction_id: Option<String>,
}

impl RefundPager {
    /// Pages through the refunds `request` names, from its offset (or 0) on.
    pub fn new(request: RefundQueryRequest) -> Self {
        let offset = request.get_offset().map_or(0, Offset::get);
        Self {
            request,
            offset,
            total: None,
            seen: HashSet::new(),
            done: false,
            max_refunds: MAX_REFUNDS,
            transaction_id: None,
        }
    }

    /// Stops at `max` refunds instead of [`MAX_REFUNDS`]: a total above it, or more refunds
    /// than it, is [`PagingError::TooManyRefunds`]. For the day WeChat Pay allows more refunds
    /// per order than it documents now.
    ///
    /// ```
    /// # use wxpay_protocol::{cloudpay::RefundQueryRequest, RefundLookup, RefundPager, SubMchId, TransactionId};
    /// # let request = RefundQueryRequest::new(SubMchId::new("1900000109")?,
    /// #     RefundLookup::TransactionId(TransactionId::new("4200000000000000000000000001")?));
    /// let pager = RefundPager::new(request).with_max_refunds(100);
    /// assert_eq!(pager.max_refunds(), 100);
    /// # Ok::<(), wxpay_protocol::ValidationError>(())
    /// ```
    pub fn with_max_refunds(mut self, max: u32) -> Self {
        self.max_refunds = max;
        self
    }

    /// The most refunds this pager takes.
    pub fn max_refunds(&self) -> u32 {
        self.max_refunds
    }

    /// The offset to ask for next, or `None` when every refund is in.
    pub fn next_offset(&self) -> Option<Offset> {
        (!self.done).then_some(Offset::new(self.offset))
    }

    /// The next request, with a fresh `nonce`, or `None` when every refund is in. An
    /// order-level lookup always carries an offset, so that the answer carries the total.
    pub fn next_request(&self, nonce: NonceStr) -> Option<RefundQueryRequest> {
        let offset = self.next_offset()?;
        let request = self.request.clone().with_nonce(nonce);
        Some(if self.request.lookup().is_order_level() { request.offset(offset) } else { request })
    }

    /// Whether every refund is in.
    pub fn is_complete(&self) -> bool {
        self.done
    }

    /// The total the server reported, once known.
    pub fn total(&self) -> Option<u32> {
        self.total
    }

    /// The number of refunds taken so far.
    pub fn received(&self) -> usize {
        self.seen.len()
    }

    /// Takes the answer to the last [`next_request`](Self::next_request) and returns its
    /// refunds. After an error the pager is finished: it never asks again.
    pub fn push(&mut self, page: RefundQueryResponse) -> Result<Vec<Refund>, PagingError> {
        let result = self.take(page);
        if result.is_err() {
            self.done = true;
        }
        result
    }

    fn take(&mut self, page: RefundQueryResponse) -> Result<Vec<Refund>, PagingError> {
        if self.done {
            return Err(PagingError::AlreadyComplete);
        }
        let refunds = match page.refunds {
            RefundDetails::Listed(refunds) => refunds,
            RefundDetails::NotReturned => {
                return Err(PagingError::DetailsNotReturned { refund_count: page.refund_count });
            }
        };
        // The parser guarantees refunds.len() == refund_count; the count is at most u32::MAX.
        let count = u32::try_from(refunds.len()).unwrap_or(u32::MAX);
        let received = u32::try_from(self.seen.len()).unwrap_or(u32::MAX).saturating_add(count);
        if received > self.max_refunds {
            return Err(PagingError::TooManyRefunds { total: received, max: self.max_refunds });
        }
        match &self.transaction_id {
            Some(before) if *before != page.transaction_id => {
                return Err(PagingError::OrderChanged { before: before.clone(), now: page.transaction_id });
            }
            _ => self.transaction_id = Some(page.transaction_id.clone()),
        }
        // Checked before anything is taken: a page that fails leaves the count as it was.
        let mut ids = HashSet::new();
        for refund in &refunds {
            if self.seen.contains(&refund.refund_id) || !ids.insert(refund.refund_id.as_str()) {
                return Err(PagingError::Duplicate { refund_id: refund.refund_id.clone() });
            }
        }
        if !self.request.lookup().is_order_level() {
            // A refund id names one refund: one answer is all there is.
            self.done = true;
            return Ok(self.taken(refunds));
        }
        if count > PAGE_SIZE {
            return Err(PagingError::PageTooLong { refund_count: count });
        }
        let Some(total) = page.total_refund_count else {
            if count >= PAGE_SIZE {
                return Err(PagingError::MissingTotal { refund_count: count });
            }
            // A short page without a total is the last one.
            self.done = true;
            return Ok(self.taken(refunds));
        };
        match self.total {
            Some(before) if before != total => return Err(PagingError::TotalChanged { before, now: total }),
            _ => self.total = Some(total),
        }
        if total > self.max_refunds {
            return Err(PagingError::TooManyRefunds { total, max: self.max_refunds });
        }
        let end = u64::from(self.offset) + u64::from(count);
        if end > u64::from(total) {
            return Err(PagingError::PastTotal { offset: self.offset, refund_count: count, total });
        }
        if count == 0 && self.offset < total {
            return Err(PagingError::EmptyPage { offset: self.offset, total });
        }
        // end <= total <= u32::MAX, and the offset strictly grows until it reaches the total.
        self.offset = u32::try_from(end).unwrap_or(total);
        if self.offset >= total {
            self.done = true;
        }
        Ok(self.taken(refunds))
    }

    /// Records the refunds of an accepted page as seen.
    fn taken(&mut self, refunds: Vec<Refund>) -> Vec<Refund> {
        self.seen.extend(refunds.iter().map(|r| r.refund_id.clone()));
        refunds
    }
}
