//! `CancelStore`: one `GetItem` of the payment, [`decide_cancel`] on it (window included), then
//! the decided transition as one conditional write guarded on the state it was decided on.
//!
//! Calls: a succeeded payment 2 (`GetItem`, `TransactWriteItems`); a failed one 2 (`GetItem`,
//! conditional `UpdateItem`); an unknown id 2 (`GetItem`, conditional `PutItem` of the closed
//! placeholder); a closed, cancelled or out-of-window one 1 (`GetItem`). A refused condition
//! returns the item as it is now (`ALL_OLD`) and the cancel is decided again on it without
//! another read; a lost race reads again; at most [`TXN_ATTEMPTS_MAX`] attempts in all.
//!
//! The reversal gives the debit day's allowance back when that day's counters are still on the
//! account item (the memory store's rule: the account's usage is the debit day's). The account is
//! not read for that: the transaction guesses "still there" when the debit was today (the usual
//! case: cancels come within minutes) and "gone" otherwise, and conditions the account update on
//! the guess. A wrong guess (a cancel after midnight UTC+8 of a payment with no later payment of
//! that currency, or one whose counters a later payment removed the same day, which cannot
//! happen) comes back with the account item, and the transaction runs once more with the
//! counters as they are: 3 calls in that rare case.

use super::call::{build_err, ALL_OLD};
use super::call::{
    call_nonce, request_token, send_tracked, unexpected, Effect, Reasons, TxOutcome,
};
use super::item;
use super::{DynamoStore, TXN_ATTEMPTS_MAX};
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use mpp_core::clock::business_day;
use mpp_core::payments::{decide_cancel, CancelDecision, CancelIntent, Reversal};
use mpp_core::payments::{CancelOutcome, CancelStore, PaymentRecord, PaymentState};
use mpp_core::store::StoreError;
use std::collections::HashMap;

/// What one attempt found or did.
enum Step {
    /// The answer.
    Done(CancelOutcome),
    /// The payment changed under us; here it is now (`None`: still absent).
    Changed(Option<PaymentRecord>),
    /// The guess about the debit day's counters was wrong: the payment is as decided, the
    /// counters are (`true`) or are not (`false`) on the account. Run the transaction again.
    Counters(PaymentRecord, bool),
    /// Lost a race on another item: read everything again.
    Again,
}

impl DynamoStore {
    /// FAILED → CLOSED, if it is still failed.
    async fn close_failed(
        &self,
        closed: PaymentRecord,
        now: DateTime<Utc>,
    ) -> Result<Step, StoreError> {
        let req = self
            .client
            .update_item()
            .table_name(&self.tables.payments)
            .set_key(Some(item::key(
                item::PAYMENT_REQUEST_ID,
                &closed.payment_request_id,
            )))
            .update_expression("SET #state = :closed, #closedAt = :now")
            .condition_expression("#state = :failed")
            .expression_attribute_names("#state", item::STATE)
            .expression_attribute_names("#closedAt", item::CLOSED_AT)
            .expression_attribute_values(":closed", item::s(PaymentState::Closed.as_str()))
            .expression_attribute_values(":failed", item::s(PaymentState::Failed.as_str()))
            .expression_attribute_values(":now", item::s(item::time_text(now)))
            .return_values_on_condition_check_failure(ALL_OLD);
        let sent = send_tracked(Effect::Write, "UpdateItem", || req.clone().send()).await?;
        match sent.result {
            Ok(_) => Ok(Step::Done(CancelOutcome::Closed(closed))),
            Err(UpdateItemError::ConditionalCheckFailedException(e)) => {
                let now_stored = e.item.as_ref().map(item::payment_from).transpose()?;
                // Our own update, whose answer was lost on an earlier attempt of this call.
                if sent.after_lost_answer && now_stored.as_ref() == Some(&closed) {
                    return Ok(Step::Done(CancelOutcome::Closed(closed)));
                }
                Ok(Step::Changed(now_stored))
            }
            Err(e) => Err(unexpected("UpdateItem", e)),
        }
    }

    /// SUCCEEDED → CANCELLED: payment, balance back, the debit day's allowance back if
    /// `restore`, and the REVERSAL entry, in one transaction.
    async fn reverse(
        &self,
        r: Reversal,
        restore: bool,
        now: DateTime<Utc>,
        nonce: &str,
    ) -> Result<Step, StoreError> {
        let id = r.before.payment_request_id.clone();
        let mut items = Vec::with_capacity(3);
        let payment_update = Update::builder()
            .table_name(&self.tables.payments)
            .set_key(Some(item::key(item::PAYMENT_REQUEST_ID, &id)))
            // Out of its clearing day's index: a cancelled payment is not settled.
            .update_expression("SET #state = :cancelled, #closedAt = :now REMOVE #clearingDay")
            .condition_expression("#state = :succeeded AND #refunded = :refunded")
            .expression_attribute_names("#state", item::STATE)
            .expression_attribute_names("#clearingDay", item::CLEARING_DAY)
            .expression_attribute_names("#closedAt", item::CLOSED_AT)
            .expression_attribute_names("#refunded", item::REFUNDED)
            .expression_attribute_values(":cancelled", item::s(PaymentState::Cancelled.as_str()))
            .expression_attribute_values(":succeeded", item::s(PaymentState::Succeeded.as_str()))
            .expression_attribute_values(":refunded", item::n(r.refunded_before.get()))
            .expression_attribute_values(":now", item::s(item::time_text(now)))
            .return_values_on_condition_check_failure(ALL_OLD)
            .build()
            .map_err(build_err)?;
        items.push(TransactWriteItem::builder().update(payment_update).build());

        let names = HashMap::from([
            ("#id".to_string(), item::CUSTOMER_ID.to_string()),
            ("#bal".to_string(), item::BALANCES.to_string()),
            ("#cur".to_string(), r.back.currency.code().to_string()),
            (
                "#rem".to_string(),
                item::rem_attr(r.back.currency, r.debit_day),
            ),
            (
                "#cnt".to_string(),
                item::cnt_attr(r.back.currency, r.debit_day),
            ),
        ]);
        let mut values = HashMap::from([
            (":back".to_string(), item::n(r.back.value.get())),
            (":zero".to_string(), item::n(0)),
        ]);
        let mut update = "SET #bal.#cur = if_not_exists(#bal.#cur, :zero) + :back".to_string();
        let condition = if restore {
            values.insert(":one".to_string(), item::n(1));
            update.push_str(", #rem = #rem + :back, #cnt = #cnt + :one");
            "attribute_exists(#id) AND attribute_exists(#rem) AND attribute_exists(#cnt)"
        } else {
            "attribute_exists(#id) AND (attribute_not_exists(#rem) OR attribute_not_exists(#cnt))"
        };
        let account_update = Update::builder()
            .table_name(&self.tables.accounts)
            .set_key(Some(item::key(item::CUSTOMER_ID, r.customer.as_str())))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .return_values_on_condition_check_failure(ALL_OLD)
            .build()
            .map_err(build_err)?;
        items.push(TransactWriteItem::builder().update(account_update).build());

        let entry_id = format!("{id}#REVERSAL");
        if let Some(entry) = &r.entry {
            items.push(
                TransactWriteItem::builder()
                    .put(self.ledger_put(entry)?)
                    .build(),
            );
        }

        // One token per call and reversal: a later attempt may reverse another amount.
        let token = request_token(&[
            "cancel",
            nonce,
            &r.refunded_before.to_string(),
            if restore { "restore" } else { "keep" },
        ]);
        match self.transact(items, &token).await? {
            TxOutcome::Done => Ok(Step::Done(CancelOutcome::Reversed(r.cancelled))),
            TxOutcome::Cancelled(reasons) => {
                let reasons = Reasons(&reasons);
                if let Some(old) = reasons.failed(0) {
                    return Ok(Step::Changed(old.map(item::payment_from).transpose()?));
                }
                match reasons.failed(1) {
                    Some(None) => {
                        return Err(StoreError::Corrupt(format!(
                            "payment of a missing account: {id}"
                        )))
                    }
                    Some(Some(account)) => {
                        let rem = item::rem_attr(r.back.currency, r.debit_day);
                        let cnt = item::cnt_attr(r.back.currency, r.debit_day);
                        let there = account.contains_key(&rem) && account.contains_key(&cnt);
                        if there != restore {
                            return Ok(Step::Counters(r.before, there));
                        }
                    }
                    None => {}
                }
                if reasons.failed(2).is_some() {
                    return Err(StoreError::Corrupt(format!(
                        "ledger entry {entry_id} exists before its cancel"
                    )));
                }
                Ok(Step::Again)
            }
        }
    }

    /// Writes what [`decide_cancel`] decided on `current`.
    async fn apply_cancel(
        &self,
        intent: &CancelIntent,
        current: Option<PaymentRecord>,
        restore: Option<bool>,
        nonce: &str,
    ) -> Result<Step, StoreError> {
        match decide_cancel(intent, current) {
            CancelDecision::Answer(outcome) => Ok(Step::Done(outcome)),
            CancelDecision::CloseUnknown(closed) => match self.put_new_payment(&closed).await? {
                None => Ok(Step::Done(CancelOutcome::Closed(closed))),
                Some(other) => Ok(Step::Changed(Some(other))),
            },
            CancelDecision::CloseFailed(closed) => self.close_failed(closed, intent.now).await,
            CancelDecision::Reverse(r) => {
                // Without word from the account: its counters stand if the debit was today.
                let restore = restore.unwrap_or(r.debit_day == business_day(intent.now));
                self.reverse(r, restore, intent.now, nonce).await
            }
        }
    }
}

#[async_trait]
impl CancelStore for DynamoStore {
    async fn cancel(&self, intent: &CancelIntent) -> Result<CancelOutcome, StoreError> {
        let nonce = call_nonce();
        let mut known: Option<Option<PaymentRecord>> = None;
        let mut restore: Option<bool> = None;
        let mut pause = false;
        for attempt in 0..TXN_ATTEMPTS_MAX {
            if attempt > 0 && pause {
                super::call::pause(attempt).await;
            }
            let current = match known.take() {
                Some(p) => p,
                None => self.get_payment(&intent.payment_request_id).await?,
            };
            match self.apply_cancel(intent, current, restore, &nonce).await? {
                Step::Done(outcome) => return Ok(outcome),
                Step::Changed(p) => {
                    known = Some(p);
                    restore = None;
                    pause = true;
                }
                Step::Counters(p, there) => {
                    // Not a race: the account told us what it holds; no pause needed.
                    known = Some(Some(p));
                    restore = Some(there);
                    pause = false;
                }
                Step::Again => {
                    restore = None;
                    pause = true;
                }
            }
        }
        Err(StoreError::Contention(TXN_ATTEMPTS_MAX))
    }
}
