//! The per-day clearing query (reconciliation): one `Query` page of a day index, in id order.
//! Both indexes are sparse global secondary indexes keyed by `clearingDay` (the UTC+8 day of a
//! succeeded payment's `paymentTime`, of a refund's `refundTime`; a cancel removes it), with the
//! table's own key as range key, so a page resumes exactly after the last id it returned and
//! the stream comes sorted for the merge. Index reads are eventually consistent: a cycle is
//! reconciled hours after it closed (the file comes at 08:00 UTC+8 the next day).

use super::call::{send, unexpected, Effect};
use super::item::{self, Item};
use super::DynamoStore;
use async_trait::async_trait;
use mpp_core::reconcile::ledger::{
    payment_transaction, refund_transaction, ClearingLedger, ClearingPage, CLEARING_PAGE_MAX,
};
use mpp_core::reconcile::{ClearingDay, TransactionType};
use mpp_core::store::StoreError;
use std::collections::HashMap;

#[async_trait]
impl ClearingLedger for DynamoStore {
    async fn clearing_page(
        &self,
        day: ClearingDay,
        kind: TransactionType,
        after: Option<&str>,
        limit: usize,
    ) -> Result<ClearingPage, StoreError> {
        let (table, index, id_attr) = match kind {
            TransactionType::Payment => (
                &self.tables.payments,
                item::PAYMENTS_DAY_INDEX,
                item::PAYMENT_REQUEST_ID,
            ),
            TransactionType::Refund => (
                &self.tables.refunds,
                item::REFUNDS_DAY_INDEX,
                item::REFUND_REQUEST_ID,
            ),
        };
        // Capped by CLEARING_PAGE_MAX (500): the conversion cannot fail.
        let limit = i32::try_from(limit.clamp(1, CLEARING_PAGE_MAX)).unwrap_or(1);
        let start: Option<Item> = after.map(|id| {
            HashMap::from([
                (item::CLEARING_DAY.to_string(), item::s(day.compact())),
                (id_attr.to_string(), item::s(id)),
            ])
        });
        let req = self
            .client
            .query()
            .table_name(table)
            .index_name(index)
            .key_condition_expression("#d = :d")
            .expression_attribute_names("#d", item::CLEARING_DAY)
            .expression_attribute_values(":d", item::s(day.compact()))
            .scan_index_forward(true)
            .set_exclusive_start_key(start)
            .limit(limit);
        let page = match send(Effect::Read, "Query", || req.clone().send()).await? {
            Ok(page) => page,
            Err(e) => return Err(unexpected("Query", e)),
        };
        let mut items = Vec::new();
        for raw in page.items.unwrap_or_default() {
            match kind {
                TransactionType::Payment => {
                    let p = item::payment_from(&raw)?;
                    // The index holds SUCCEEDED payments only; a half-replicated cancel may
                    // still show here for a moment: the record itself decides.
                    if let Some(t) = payment_transaction(&p) {
                        items.push(t);
                    }
                }
                TransactionType::Refund => {
                    items.push(refund_transaction(&item::refund_from(&raw)?))
                }
            }
        }
        let resume_after = page
            .last_evaluated_key
            .and_then(|k| k.get(id_attr).and_then(|v| v.as_s().ok()).cloned());
        Ok(ClearingPage {
            items,
            resume_after,
        })
    }
}
