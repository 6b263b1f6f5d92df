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
use mpp_core::clock::business_tz;
use mpp_core::store::{
    EntryKind, LedgerEntry, PaymentRecord, PaymentState, RefundIntent, RefundOutcome, RefundRecord,
    RefundRefusal, RefundStore, StoreError,
};

/// `refundTime` as the memory store writes it: RFC 3339 in UTC+8, whole seconds.
fn refund_time(at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&business_tz())
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// What the read found, judged as the memory store judges it.
enum Judged {
    /// The answer without writing.
    Answer(RefundOutcome),
    /// Write it: the payment allows it.
    Apply {
        payment: PaymentRecord,
        threshold: u64,
    },
}

fn judge(intent: &RefundIntent, payment: Option<PaymentRecord>) -> Result<Judged, StoreError> {
    let refused = |r| Ok(Judged::Answer(RefundOutcome::Refused(r)));
    let Some(payment) = payment else {
        return refused(RefundRefusal::PaymentNotFound);
    };
    if payment.state != PaymentState::Succeeded {
        return refused(RefundRefusal::NotRefundable);
    }
    let (Some(_), Some(debit)) = (&payment.customer_id, payment.debit) else {
        return Err(StoreError::Corrupt(format!(
            "succeeded payment without debit: {}",
            payment.payment_request_id
        )));
    };
    if debit.currency != intent.amount.currency {
        return refused(RefundRefusal::CurrencyMismatch);
    }
    // The payment may take this refund while `refunded <= debit - amount`.
    let Some(threshold) = debit.value.get().checked_sub(intent.amount.value.get()) else {
        return refused(RefundRefusal::ExceedsPayment);
    };
    if payment.refunded.get() > threshold {
        return refused(RefundRefusal::ExceedsPayment);
    }
    Ok(Judged::Apply { payment, threshold })
}

impl DynamoStore {
    fn refund_items(
        &self,
        intent: &RefundIntent,
        record: &RefundRecord,
        payment: &PaymentRecord,
        threshold: u64,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let Some(customer) = payment.customer_id.clone() else {
            return Err(StoreError::Corrupt(format!(
                "payment without customer: {}",
                payment.payment_request_id
            )));
        };
        let put_refund = Put::builder()
            .table_name(&self.tables.refunds)
            .set_item(Some(item::refund_item(record)))
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
            .expression_attribute_values(":threshold", item::n(threshold))
            .expression_attribute_values(":amount", item::n(intent.amount.value.get()))
            .return_values_on_condition_check_failure(ALL_OLD)
            .build()
            .map_err(build_err)?;
        let account_update = credit_update(&self.tables.accounts, &customer, intent.amount)?;
        let entry = LedgerEntry {
            customer_id: customer,
            entry_id: format!("{}#REFUND", intent.refund_request_id),
            kind: EntryKind::Refund,
            money: intent.amount,
            payment_request_id: Some(intent.payment_request_id.clone()),
            order_lifecycle_id: None,
            at: intent.now,
        };
        Ok(vec![
            TransactWriteItem::builder().put(put_refund).build(),
            TransactWriteItem::builder().update(payment_update).build(),
            TransactWriteItem::builder().update(account_update).build(),
            TransactWriteItem::builder()
                .put(self.ledger_put(&entry)?)
                .build(),
        ])
    }
}

#[async_trait]
impl RefundStore for DynamoStore {
    async fn refund(&self, intent: &RefundIntent) -> Result<RefundOutcome, StoreError> {
        let record = RefundRecord {
            refund_request_id: intent.refund_request_id.clone(),
            fingerprint: intent.fingerprint.clone(),
            payment_request_id: intent.payment_request_id.clone(),
            amount: intent.amount,
            refund_id: intent.refund_id.clone(),
            refund_time: refund_time(intent.now),
        };
        let nonce = call_nonce();
        // `Some(payment)` when a cancelled transaction told us the payment as it is now.
        let mut known: Option<Option<PaymentRecord>> = None;
        for attempt in 0..TXN_ATTEMPTS_MAX {
            if attempt > 0 {
                super::call::pause(attempt).await;
            }
            let payment = match known.take() {
                Some(p) => p,
                None => {
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
                    if let Some(existing) = got.first().and_then(Option::as_ref) {
                        return Ok(RefundOutcome::Exists(item::refund_from(existing)?));
                    }
                    got.get(1)
                        .and_then(Option::as_ref)
                        .map(item::payment_from)
                        .transpose()?
                }
            };
            let (payment, threshold) = match judge(intent, payment)? {
                Judged::Answer(outcome) => return Ok(outcome),
                Judged::Apply { payment, threshold } => (payment, threshold),
            };
            let items = self.refund_items(intent, &record, &payment, threshold)?;
            // One token per call and threshold: a later attempt may carry another threshold.
            let token = request_token(&["refund", &nonce, &threshold.to_string()]);
            let reasons = match self.transact(items, &token).await? {
                TxOutcome::Done => return Ok(RefundOutcome::Refunded(record)),
                TxOutcome::Cancelled(reasons) => reasons,
            };
            let reasons = Reasons(&reasons);
            if let Some(old) = reasons.failed(0) {
                if let Some(existing) = old {
                    return Ok(RefundOutcome::Exists(item::refund_from(existing)?));
                }
            } else if let Some(old) = reasons.failed(1) {
                // The payment moved on (cancelled, or refunded meanwhile): judge it as it is.
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
