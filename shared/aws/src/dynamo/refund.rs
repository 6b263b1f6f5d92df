//! `RefundStore`: one consistent `BatchGetItem` (the refund, the payment), then one
//! `TransactWriteItems` (put the refund, raise the payment's refunded sum within what was paid,
//! credit the wallet, append the REFUND entry): 2 calls; a repeat 1. A lost race runs again from
//! the read, at most [`TXN_ATTEMPTS_MAX`] times.

use super::call::{build_err, credit_update, ALL_OLD};
use super::call::{call_nonce, request_token, Reasons, TxOutcome};
use super::item;
use super::{DynamoStore, TXN_ATTEMPTS_MAX};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use mpp_core::payments::{decide_refund, RefundApply, RefundDecision};
use mpp_core::payments::{
    PaymentRecord, PaymentState, RefundIntent, RefundOutcome, RefundRecord, RefundStore,
};
use mpp_core::store::StoreError;

impl DynamoStore {
    /// The decided refund as one transaction: put the refund, raise the payment's refunded sum
    /// on the decision's threshold, credit the wallet, append the REFUND entry.
    fn refund_items(
        &self,
        intent: &RefundIntent,
        apply: &RefundApply,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let put_refund = Put::builder()
            .table_name(&self.tables.refunds)
            .set_item(Some(item::refund_item(&apply.record)))
            .condition_expression("attribute_not_exists(#id)")
            .expression_attribute_names("#id", item::REFUND_REQUEST_ID)
            .return_values_on_condition_check_failure(ALL_OLD)
            .build()
            .map_err(build_err)?;
        let payment_update = Update::builder()
            .table_name(&self.tables.payments)
            .set_key(Some(item::key(
                item::PAYMENT_REQUEST_ID,
                &intent.payment_request_id,
            )))
            .update_expression("SET #refunded = #refunded + :amount")
            .condition_expression("#state = :succeeded AND #refunded <= :threshold")
            .expression_attribute_names("#state", item::STATE)
            .expression_attribute_names("#refunded", item::REFUNDED)
            .expression_attribute_values(":succeeded", item::s(PaymentState::Succeeded.as_str()))
            .expression_attribute_values(":threshold", item::n(apply.threshold.get()))
            .expression_attribute_values(":amount", item::n(intent.amount.value.get()))
            .return_values_on_condition_check_failure(ALL_OLD)
            .build()
            .map_err(build_err)?;
        let account_update = credit_update(&self.tables.accounts, &apply.customer, intent.amount)?;
        Ok(vec![
            TransactWriteItem::builder().put(put_refund).build(),
            TransactWriteItem::builder().update(payment_update).build(),
            TransactWriteItem::builder().update(account_update).build(),
            TransactWriteItem::builder()
                .put(self.ledger_put(&apply.entry)?)
                .build(),
        ])
    }

    /// One consistent read of the refund and the payment.
    async fn refund_and_payment(
        &self,
        intent: &RefundIntent,
    ) -> Result<(Option<RefundRecord>, Option<PaymentRecord>), StoreError> {
        let got = self
            .batch_get(&[
                (
                    &self.tables.refunds,
                    item::key(item::REFUND_REQUEST_ID, &intent.refund_request_id),
                ),
                (
                    &self.tables.payments,
                    item::key(item::PAYMENT_REQUEST_ID, &intent.payment_request_id),
                ),
            ])
            .await?;
        let stored = got
            .first()
            .and_then(Option::as_ref)
            .map(item::refund_from)
            .transpose()?;
        let payment = got
            .get(1)
            .and_then(Option::as_ref)
            .map(item::payment_from)
            .transpose()?;
        Ok((stored, payment))
    }
}

#[async_trait]
impl RefundStore for DynamoStore {
    async fn refund(&self, intent: &RefundIntent) -> Result<RefundOutcome, StoreError> {
        let nonce = call_nonce();
        // What a cancelled transaction told us: the refund absent, the payment as it is now.
        let mut known: Option<Option<PaymentRecord>> = None;
        for attempt in 0..TXN_ATTEMPTS_MAX {
            if attempt > 0 {
                super::call::pause(attempt).await;
            }
            let (stored, payment) = match known.take() {
                Some(p) => (None, p),
                None => self.refund_and_payment(intent).await?,
            };
            let apply = match decide_refund(intent, stored, payment) {
                RefundDecision::Answer(outcome) => return Ok(outcome),
                RefundDecision::Apply(apply) => apply,
            };
            let items = self.refund_items(intent, &apply)?;
            // One token per call and threshold: a later attempt may carry another threshold.
            let token = request_token(&["refund", &nonce, &apply.threshold.to_string()]);
            let reasons = match self.transact(items, &token).await? {
                TxOutcome::Done => return Ok(RefundOutcome::Refunded(apply.record)),
                TxOutcome::Cancelled(reasons) => reasons,
            };
            let reasons = Reasons(&reasons);
            if let Some(old) = reasons.failed(0) {
                if let Some(existing) = old {
                    return Ok(RefundOutcome::Exists(item::refund_from(existing)?));
                }
            } else if let Some(old) = reasons.failed(1) {
                // The payment moved on (cancelled, or refunded meanwhile): decide on it as it is.
                known = Some(old.map(item::payment_from).transpose()?);
            } else if reasons.failed(2).is_some() {
                return Err(StoreError::Corrupt(format!(
                    "payment of a missing account: {}",
                    intent.payment_request_id
                )));
            } else if reasons.failed(3).is_some() {
                return Err(StoreError::Corrupt(format!(
                    "ledger entry {}#REFUND exists without its refund",
                    intent.refund_request_id
                )));
            }
        }
        Err(StoreError::Contention(TXN_ATTEMPTS_MAX))
    }
}
