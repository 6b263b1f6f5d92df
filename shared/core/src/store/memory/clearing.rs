//! The per-day clearing query on the in-memory store: the same answer as the DynamoDB day
//! index (succeeded payments by `paymentRequestId`, refunds by `refundRequestId`, in id order,
//! paged), by a filtered pass under the lock. O(n) per page: the memory store is for
//! development and tests, the index is for days of millions.

use super::MemoryStore;
use crate::reconcile::ledger::{
    payment_day, payment_transaction, refund_day, refund_transaction, ClearingLedger, ClearingPage,
    CLEARING_PAGE_MAX,
};
use crate::reconcile::{ClearingDay, Transaction, TransactionType};
use crate::store::StoreError;
use async_trait::async_trait;

#[async_trait]
impl ClearingLedger for MemoryStore {
    async fn clearing_page(
        &self,
        day: ClearingDay,
        kind: TransactionType,
        after: Option<&str>,
        limit: usize,
    ) -> Result<ClearingPage, StoreError> {
        let limit = limit.clamp(1, CLEARING_PAGE_MAX);
        let state = self.lock();
        let after_ok = |id: &str| after.is_none_or(|a| id > a);
        let mut items: Vec<Transaction> = match kind {
            TransactionType::Payment => state
                .payments
                .values()
                .filter(|p| payment_day(p) == Some(day) && after_ok(&p.payment_request_id))
                .filter_map(payment_transaction)
                .collect(),
            TransactionType::Refund => state
                .refunds
                .values()
                .filter(|r| refund_day(r) == Some(day) && after_ok(&r.refund_request_id))
                .map(refund_transaction)
                .collect(),
        };
        items.sort_by(Transaction::key_cmp);
        let more = items.len() > limit;
        items.truncate(limit);
        let resume_after = more
            .then(|| items.last().map(|t| t.id().to_string()))
            .flatten();
        Ok(ClearingPage {
            items,
            resume_after,
        })
    }
}
