//! Our side of the reconciliation: the ledger of one clearing cycle, read through a small port
//! (a paginated per-day query, the only read the reconcile function's IAM role allows) and
//! streamed in merge-key order by [`LedgerCursor`].

use super::{ClearingDay, Transaction, TransactionType};
use crate::payments::{PaymentRecord, RefundRecord, Status};
use crate::store::StoreError;
use async_trait::async_trait;
use std::collections::VecDeque;

/// Most transactions one page holds. A DynamoDB `Query` page stops at 1 MB anyway; 500 items of
/// well under 1 KB each stay under it, and the cursor holds at most two pages.
pub const CLEARING_PAGE_MAX: usize = 500;

/// Pages the cursor reads per transaction type before giving up: 100,000 pages of
/// [`CLEARING_PAGE_MAX`] are 50 million transactions a day, far past any wallet's day; a store
/// that keeps answering "more" past it is a bug, not a busy day.
pub const CLEARING_PAGES_MAX: u32 = 100_000;

/// One page of a cycle's transactions of one type, in id order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClearingPage {
    /// The transactions, ids ascending.
    pub items: Vec<Transaction>,
    /// Where the next page starts (after this id); `None` when the query is done.
    pub resume_after: Option<String>,
}

/// The per-day query on the store: succeeded payments (by `paymentRequestId`) or refunds (by
/// `refundRequestId`) whose completion time falls in the cycle. A cancelled payment is not in
/// its day any more.
#[async_trait]
pub trait ClearingLedger: Send + Sync {
    /// At most `limit` (capped at [`CLEARING_PAGE_MAX`]) transactions of `kind` on `day` with an
    /// id greater than `after`, in id order.
    async fn clearing_page(
        &self,
        day: ClearingDay,
        kind: TransactionType,
        after: Option<&str>,
        limit: usize,
    ) -> Result<ClearingPage, StoreError>;
}

/// A payment as a clearing transaction, if it is one (succeeded, with its amounts and time).
pub fn payment_transaction(p: &PaymentRecord) -> Option<Transaction> {
    let Status::Succeeded { order, paid } = &p.status else {
        return None;
    };
    Some(Transaction {
        transaction_type: TransactionType::Payment,
        payment_request_id: p.payment_request_id.clone(),
        payment_id: Some(paid.payment_id.clone()),
        refund_request_id: None,
        refund_id: None,
        transaction_time: Some(paid.payment_time()),
        transaction_amount: Some(order.payment_amount),
        settlement_amount: order.pay_to_amount,
    })
}

/// The cycle a payment clears in (succeeded payments only).
pub fn payment_day(p: &PaymentRecord) -> Option<ClearingDay> {
    match &p.status {
        Status::Succeeded { paid, .. } => ClearingDay::of_wire_time(&paid.payment_time()),
        Status::Failed { .. } | Status::Closed { .. } | Status::Cancelled { .. } => None,
    }
}

/// A refund as a clearing transaction.
pub fn refund_transaction(r: &RefundRecord) -> Transaction {
    Transaction {
        transaction_type: TransactionType::Refund,
        payment_request_id: r.payment_request_id.clone(),
        payment_id: None,
        refund_request_id: Some(r.refund_request_id.clone()),
        refund_id: Some(r.refund_id.clone()),
        transaction_time: Some(r.refund_time.clone()),
        transaction_amount: None,
        settlement_amount: r.amount,
    }
}

/// The cycle a refund clears in.
pub fn refund_day(r: &RefundRecord) -> Option<ClearingDay> {
    ClearingDay::of_wire_time(&r.refund_time)
}

/// Where the stream of one ledger comes from: the store's pages, or (benchmarks, tests) any
/// sorted sequence.
#[async_trait]
pub trait LedgerSource: Send {
    /// The next transaction in merge-key order.
    async fn next_transaction(&mut self) -> Result<Option<Transaction>, StoreError>;
}

/// A sorted iterator as a source.
pub struct IterSource<I>(pub I);

#[async_trait]
impl<I> LedgerSource for IterSource<I>
where
    I: Iterator<Item = Transaction> + Send,
{
    async fn next_transaction(&mut self) -> Result<Option<Transaction>, StoreError> {
        Ok(self.0.next())
    }
}

struct KindStream {
    kind: TransactionType,
    buf: VecDeque<Transaction>,
    resume_after: Option<String>,
    done: bool,
    pages: u32,
}

/// A cycle's ledger in merge-key order: the payments and refunds queries, one page of each in
/// memory, merged by id.
pub struct LedgerCursor<'a> {
    ledger: &'a dyn ClearingLedger,
    day: ClearingDay,
    page: usize,
    streams: [KindStream; 2],
}

impl<'a> LedgerCursor<'a> {
    /// A cursor over `day` reading pages of `page` transactions.
    pub fn new(ledger: &'a dyn ClearingLedger, day: ClearingDay, page: usize) -> LedgerCursor<'a> {
        let stream = |kind| KindStream {
            kind,
            buf: VecDeque::new(),
            resume_after: None,
            done: false,
            pages: 0,
        };
        LedgerCursor {
            ledger,
            day,
            page: page.clamp(1, CLEARING_PAGE_MAX),
            streams: [
                stream(TransactionType::Payment),
                stream(TransactionType::Refund),
            ],
        }
    }

    async fn fill(&mut self, i: usize) -> Result<(), StoreError> {
        let (ledger, day, page) = (self.ledger, self.day, self.page);
        let s = &mut self.streams[i];
        // A page may come back empty with a resume point (a filtered page): keep reading, within
        // the page bound.
        while s.buf.is_empty() && !s.done {
            if s.pages == CLEARING_PAGES_MAX {
                return Err(StoreError::Unavailable(
                    format!("clearing query past {CLEARING_PAGES_MAX} pages").into(),
                ));
            }
            s.pages += 1;
            let got = ledger
                .clearing_page(day, s.kind, s.resume_after.as_deref(), page)
                .await?;
            if let (Some(prev), Some(first)) = (s.resume_after.as_deref(), got.items.first()) {
                if first.id() <= prev {
                    return Err(StoreError::Corrupt(
                        "clearing page not after its resume point".into(),
                    ));
                }
            }
            s.done = got.resume_after.is_none();
            s.resume_after = got.resume_after;
            s.buf.extend(got.items);
        }
        Ok(())
    }
}

#[async_trait]
impl LedgerSource for LedgerCursor<'_> {
    async fn next_transaction(&mut self) -> Result<Option<Transaction>, StoreError> {
        self.fill(0).await?;
        self.fill(1).await?;
        let [payments, refunds] = &mut self.streams;
        let take_payment = match (payments.buf.front(), refunds.buf.front()) {
            (None, None) => return Ok(None),
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(p), Some(r)) => p.key_cmp(r).is_le(),
        };
        Ok(if take_payment {
            payments.buf.pop_front()
        } else {
            refunds.buf.pop_front()
        })
    }
}
