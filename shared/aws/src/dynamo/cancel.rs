//! `CancelStore`: each state's move is one conditional write guarded on the state read.
//!
//! Calls: an unknown id 2 (`GetItem`, conditional `PutItem` of the closed placeholder); a failed
//! payment 2 (`GetItem`, conditional `UpdateItem`); a closed or cancelled one 1 (`GetItem`); a
//! succeeded one 3 (`GetItem` payment, `GetItem` account, `TransactWriteItems`). A lost race
//! reads again, at most [`TXN_ATTEMPTS_MAX`] times.

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
use mpp_core::money::{MinorUnit, Money};
use mpp_core::store::{
    CancelOutcome, CancelStore, EntryKind, LedgerEntry, PaymentRecord, PaymentState, StoreError,
};
use std::collections::HashMap;

/// What one attempt found or did.
enum Step {
    /// The answer.
    Done(CancelOutcome),
    /// The payment changed under us; here it is now (`None`: still absent).
    Changed(Option<PaymentRecord>),
    /// Lost a race on another item: read everything again.
    Again,
}

impl DynamoStore {
    /// Closes a failed payment if it is still failed.
    async fn close_failed(
        &self,
        existing: PaymentRecord,
        now: DateTime<Utc>,
    ) -> Result<Step, StoreError> {
        let req = self
            .client
            .update_item()
            .table_name(&self.tables.payments)
            .set_key(Some(item::key(
                item::PAYMENT_REQUEST_ID,
                &existing.payment_request_id,
            )))
            .update_expression("SET #state = :closed, #closedAt = :now")
            .condition_expression("#state = :failed")
            .expression_attribute_names("#state", item::STATE)
            .expression_attribute_names("#closedAt", item::CLOSED_AT)
            .expression_attribute_values(":closed", item::s(PaymentState::Closed.as_str()))
            .expression_attribute_values(":failed", item::s(PaymentState::Failed.as_str()))
            .expression_attribute_values(":now", item::s(item::time_text(now)))
            .return_values_on_condition_check_failure(ALL_OLD);
        let mut closed = existing;
        closed.state = PaymentState::Closed;
        closed.closed_at = Some(now);
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

    /// Reverses a succeeded payment: payment to CANCELLED, balance back, the debit day's
    /// allowance back if its counters still stand, and the REVERSAL entry, in one transaction.
    async fn reverse(
        &self,
        existing: PaymentRecord,
        now: DateTime<Utc>,
        nonce: &str,
    ) -> Result<Step, StoreError> {
        let id = existing.payment_request_id.clone();
        let (Some(customer), Some(debit)) = (existing.customer_id.clone(), existing.debit) else {
            return Err(StoreError::Corrupt(format!(
                "succeeded payment without debit: {id}"
            )));
        };
        let back = Money {
            currency: debit.currency,
            value: debit
                .value
                .checked_sub(existing.refunded)
                .unwrap_or_default(),
        };
        let account_key = item::key(item::CUSTOMER_ID, customer.as_str());
        let Some(account) = self.get(&self.tables.accounts, account_key.clone()).await? else {
            return Err(StoreError::Corrupt(format!(
                "payment of a missing account: {id}"
            )));
        };
        // The memory store gives the allowance back when the account's counters are the debit
        // day's; here: when that day's counters are still on the item (a later day's payment
        // removes them).
        let day = existing.business_day();
        let rem = item::rem_attr(debit.currency, day);
        let cnt = item::cnt_attr(debit.currency, day);
        let restore = account.contains_key(&rem) && account.contains_key(&cnt);

        let mut items = Vec::with_capacity(3);
        let payment_update = Update::builder()
            .table_name(&self.tables.payments)
            .set_key(Some(item::key(item::PAYMENT_REQUEST_ID, &id)))
            .update_expression("SET #state = :cancelled, #closedAt = :now")
            .condition_expression("#state = :succeeded AND #refunded = :refunded")
            .expression_attribute_names("#state", item::STATE)
            .expression_attribute_names("#closedAt", item::CLOSED_AT)
            .expression_attribute_names("#refunded", item::REFUNDED)
            .expression_attribute_values(":cancelled", item::s(PaymentState::Cancelled.as_str()))
            .expression_attribute_values(":succeeded", item::s(PaymentState::Succeeded.as_str()))
            .expression_attribute_values(":refunded", item::n(existing.refunded.get()))
            .expression_attribute_values(":now", item::s(item::time_text(now)))
            .return_values_on_condition_check_failure(ALL_OLD)
            .build()
            .map_err(build_err)?;
        items.push(TransactWriteItem::builder().update(payment_update).build());

        let mut names = HashMap::from([
            ("#id".to_string(), item::CUSTOMER_ID.to_string()),
            ("#bal".to_string(), item::BALANCES.to_string()),
            ("#cur".to_string(), debit.currency.code().to_string()),
        ]);
        let mut values = HashMap::from([
            (":back".to_string(), item::n(back.value.get())),
            (":zero".to_string(), item::n(0)),
        ]);
        let mut condition = "attribute_exists(#id)".to_string();
        let mut update = "SET #bal.#cur = if_not_exists(#bal.#cur, :zero) + :back".to_string();
        if restore {
            names.insert("#rem".to_string(), rem);
            names.insert("#cnt".to_string(), cnt);
            values.insert(":one".to_string(), item::n(1));
            condition.push_str(" AND attribute_exists(#rem) AND attribute_exists(#cnt)");
            update.push_str(", #rem = #rem + :back, #cnt = #cnt + :one");
        }
        let account_update = Update::builder()
            .table_name(&self.tables.accounts)
            .set_key(Some(account_key))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .return_values_on_condition_check_failure(ALL_OLD)
            .build()
            .map_err(build_err)?;
        items.push(TransactWriteItem::builder().update(account_update).build());

        let entry_id = format!("{id}#REVERSAL");
        if back.value > MinorUnit::ZERO {
            let entry = LedgerEntry {
                customer_id: customer.clone(),
                entry_id: entry_id.clone(),
                kind: EntryKind::Reversal,
                money: back,
                payment_request_id: Some(id.clone()),
                order_lifecycle_id: None,
                at: now,
            };
            items.push(
                TransactWriteItem::builder()
                    .put(self.ledger_put(&entry)?)
                    .build(),
            );
        }

        // One token per call and reversal: a later attempt may reverse another amount.
        let token = request_token(&[
            "cancel",
            nonce,
            &existing.refunded.to_string(),
            if restore { "restore" } else { "keep" },
        ]);
        match self.transact(items, &token).await? {
            TxOutcome::Done => {
                let mut cancelled = existing;
                cancelled.state = PaymentState::Cancelled;
                cancelled.closed_at = Some(now);
                Ok(Step::Done(CancelOutcome::Reversed(cancelled)))
            }
            TxOutcome::Cancelled(reasons) => {
                let reasons = Reasons(&reasons);
                if let Some(old) = reasons.failed(0) {
                    return Ok(Step::Changed(old.map(item::payment_from).transpose()?));
                }
                if reasons.failed(1).is_some_and(|old| old.is_none()) {
                    return Err(StoreError::Corrupt(format!(
                        "payment of a missing account: {id}"
                    )));
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
}

#[async_trait]
impl CancelStore for DynamoStore {
    async fn cancel_payment(
        &self,
        payment_request_id: &str,
        placeholder: &PaymentRecord,
        now: DateTime<Utc>,
    ) -> Result<CancelOutcome, StoreError> {
        let nonce = call_nonce();
        let mut known: Option<Option<PaymentRecord>> = None;
        for attempt in 0..TXN_ATTEMPTS_MAX {
            if attempt > 0 {
                super::call::pause(attempt).await;
            }
            let current = match known.take() {
                Some(p) => p,
                None => self.get_payment(payment_request_id).await?,
            };
            let step = match current {
                None => {
                    let mut closed = placeholder.clone();
                    closed.payment_request_id = payment_request_id.to_string();
                    closed.state = PaymentState::Closed;
                    closed.closed_at = Some(now);
                    match self.put_new_payment(&closed).await? {
                        None => Step::Done(CancelOutcome::Closed(closed)),
                        Some(other) => Step::Changed(Some(other)),
                    }
                }
                Some(p) => match p.state {
                    PaymentState::Closed | PaymentState::Cancelled => {
                        Step::Done(CancelOutcome::AlreadyClosed(p))
                    }
                    PaymentState::Failed => self.close_failed(p, now).await?,
                    PaymentState::Succeeded => self.reverse(p, now, &nonce).await?,
                },
            };
            match step {
                Step::Done(outcome) => return Ok(outcome),
                Step::Changed(p) => known = Some(p),
                Step::Again => {}
            }
        }
        Err(StoreError::Contention(TXN_ATTEMPTS_MAX))
    }
}
