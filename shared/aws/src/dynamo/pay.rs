//! `PayStore`: the read before a payment, the one transaction that makes it, and the record of
//! a declined one.

use super::call::{build_err, ALL_OLD};
use super::call::{
    call_token, send, send_tracked, unexpected, Effect, Reasons, TxOutcome, VALIDATION_ERROR,
};
use super::item::{self, Item};
use super::{DynamoStore, TXN_ATTEMPTS_MAX};
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{ConditionCheck, Put, TransactWriteItem, Update};
use mpp_core::payments::{check_account, check_method, check_original};
use mpp_core::payments::{
    CommitOutcome, DebitIntent, Decline, MethodFound, MethodGuard, MethodRef, PayContext, PayStore,
    PaymentRecord, PaymentState, PutOutcome, LIFECYCLE_PAYMENTS_MAX,
};
use mpp_core::store::{LedgerEntry, StoreError, SCOPE_AGREEMENT_PAY};
use std::collections::HashMap;

/// How many business days before today the pay update clears of leftover allowance counters
/// (`rem_CUR_DAY`/`cnt_CUR_DAY`): two weeks, 28 attribute names in the expression. A currency
/// unused for longer keeps one stale pair per such gap (a few dozen bytes; readers only look at
/// the newest day), until a payment within two weeks of it clears it.
pub const USAGE_LOOKBACK_DAYS: u32 = 14;

/// Positions of the items in the pay transaction.
struct Slots {
    payment: usize,
    account: usize,
    method: Option<usize>,
    original: Option<usize>,
    ledger: usize,
}

/// What a cancelled pay transaction means.
enum Verdict {
    /// The answer.
    Answer(Box<CommitOutcome>),
    /// A race (or throttling): run the transaction again.
    Retry { throttled: bool },
}

fn names(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect()
}

impl DynamoStore {
    fn commit_items(
        &self,
        intent: &DebitIntent,
    ) -> Result<(Vec<TransactWriteItem>, Slots), StoreError> {
        let id = &intent.payment.payment_request_id;
        let customer = intent.customer_id.as_str();
        let now = item::s(item::time_text(intent.now));
        let mut items = Vec::with_capacity(4);

        let put_payment = Put::builder()
            .table_name(&self.tables.payments)
            .set_item(Some(item::payment_item(&intent.payment)))
            .condition_expression("attribute_not_exists(#id)")
            .set_expression_attribute_names(Some(names(&[("#id", item::PAYMENT_REQUEST_ID)])))
            .return_values_on_condition_check_failure(ALL_OLD)
            .build()
            .map_err(build_err)?;
        items.push(TransactWriteItem::builder().put(put_payment).build());

        items.push(
            TransactWriteItem::builder()
                .update(self.debit_update(intent)?)
                .build(),
        );

        let method = match &intent.guard {
            MethodGuard::Token(h) => {
                let check = ConditionCheck::builder()
                    .table_name(&self.tables.access_tokens)
                    .set_key(Some(item::key(item::TOKEN_HASH, h.as_str())))
                    .condition_expression(
                        "attribute_exists(#th) AND #rev = :false AND contains(#scopes, :scope) \
                         AND #exp > :now AND #cid = :cust",
                    )
                    .set_expression_attribute_names(Some(names(&[
                        ("#th", item::TOKEN_HASH),
                        ("#rev", item::REVOKED),
                        ("#scopes", item::SCOPES),
                        ("#exp", item::EXPIRES_AT),
                        ("#cid", item::CUSTOMER_ID),
                    ])))
                    .set_expression_attribute_values(Some(HashMap::from([
                        (":false".to_string(), item::b(false)),
                        (":scope".to_string(), item::s(SCOPE_AGREEMENT_PAY)),
                        (":now".to_string(), now.clone()),
                        (":cust".to_string(), item::s(customer)),
                    ])))
                    .return_values_on_condition_check_failure(ALL_OLD)
                    .build()
                    .map_err(build_err)?;
                items.push(TransactWriteItem::builder().condition_check(check).build());
                Some(items.len() - 1)
            }
            MethodGuard::Code(h) => {
                let update = Update::builder()
                    .table_name(&self.tables.payment_codes)
                    .set_key(Some(item::key(item::CODE_HASH, h.as_str())))
                    .update_expression("SET #used = :pid")
                    .condition_expression(
                        "attribute_exists(#ch) AND attribute_not_exists(#used) AND #exp > :now \
                         AND #cid = :cust",
                    )
                    .set_expression_attribute_names(Some(names(&[
                        ("#ch", item::CODE_HASH),
                        ("#used", item::USED_BY),
                        ("#exp", item::EXPIRES_AT),
                        ("#cid", item::CUSTOMER_ID),
                    ])))
                    .set_expression_attribute_values(Some(HashMap::from([
                        (":pid".to_string(), item::s(id)),
                        (":now".to_string(), now.clone()),
                        (":cust".to_string(), item::s(customer)),
                    ])))
                    .return_values_on_condition_check_failure(ALL_OLD)
                    .build()
                    .map_err(build_err)?;
                items.push(TransactWriteItem::builder().update(update).build());
                Some(items.len() - 1)
            }
            MethodGuard::Nfc | MethodGuard::Customer => None,
        };

        // A supplemental payment: its original must still be a succeeded payment of this
        // customer when the debit commits (it could be cancelled meanwhile).
        let original = match &intent.original {
            Some(original) => {
                let check = ConditionCheck::builder()
                    .table_name(&self.tables.payments)
                    .set_key(Some(item::key(item::PAYMENT_REQUEST_ID, original)))
                    .condition_expression("#st = :succeeded AND #cid = :cust")
                    .set_expression_attribute_names(Some(names(&[
                        ("#st", item::STATE),
                        ("#cid", item::CUSTOMER_ID),
                    ])))
                    .set_expression_attribute_values(Some(HashMap::from([
                        (
                            ":succeeded".to_string(),
                            item::s(PaymentState::Succeeded.as_str()),
                        ),
                        (":cust".to_string(), item::s(customer)),
                    ])))
                    .return_values_on_condition_check_failure(ALL_OLD)
                    .build()
                    .map_err(build_err)?;
                items.push(TransactWriteItem::builder().condition_check(check).build());
                Some(items.len() - 1)
            }
            None => None,
        };

        let entry = intent.ledger_entry();
        items.push(
            TransactWriteItem::builder()
                .put(self.ledger_put(&entry)?)
                .build(),
        );
        let slots = Slots {
            payment: 0,
            account: 1,
            method,
            original,
            ledger: items.len() - 1,
        };
        Ok((items, slots))
    }

    /// The account update of a payment: every rule of `check_account` as a condition, the
    /// balance and today's allowance counted down, older days' counters removed.
    fn debit_update(&self, intent: &DebitIntent) -> Result<Update, StoreError> {
        let currency = intent.debit.currency;
        let day = intent.day();
        let rem = item::rem_attr(currency, day);
        let cnt = item::cnt_attr(currency, day);
        let mut attr_names = names(&[
            ("#id", item::CUSTOMER_ID),
            ("#st", item::STATUS),
            ("#kyc", item::KYC),
            ("#bal", item::BALANCES),
            ("#lim", item::LIMITS),
            ("#cur", currency.code()),
            ("#single", item::SINGLE),
            ("#damt", item::DAILY_AMOUNT),
            ("#dcnt", item::DAILY_COUNT),
            ("#rem", &rem),
            ("#cnt", &cnt),
        ]);
        let mut values = HashMap::from([
            (":a".to_string(), item::n(intent.debit.value.get())),
            (":one".to_string(), item::n(1)),
            (":normal".to_string(), item::s("NORMAL")),
            (":passed".to_string(), item::s("PASSED")),
        ]);
        let mut condition =
            "attribute_exists(#id) AND #st = :normal AND #kyc = :passed".to_string();
        if matches!(intent.guard, MethodGuard::Nfc) {
            condition.push_str(" AND #nfc = :true");
            attr_names.insert("#nfc".to_string(), item::NFC_ENABLED.to_string());
            values.insert(":true".to_string(), item::b(true));
        }
        // `#bal.#cur >= :a` is false when the currency is not held; a held currency always has
        // a limits entry (see `item::LIMITS`), so the `if_not_exists` fallbacks always resolve.
        condition.push_str(
            " AND #bal.#cur >= :a AND #lim.#cur.#single >= :a \
             AND ((attribute_not_exists(#rem) AND #lim.#cur.#damt >= :a) OR #rem >= :a) \
             AND ((attribute_not_exists(#cnt) AND #lim.#cur.#dcnt >= :one) OR #cnt >= :one)",
        );
        let mut update = "SET #bal.#cur = #bal.#cur - :a, \
                          #rem = if_not_exists(#rem, #lim.#cur.#damt) - :a, \
                          #cnt = if_not_exists(#cnt, #lim.#cur.#dcnt) - :one"
            .to_string();
        let mut old = Vec::new();
        for (i, d) in item::days_before(day, USAGE_LOOKBACK_DAYS)
            .into_iter()
            .enumerate()
        {
            attr_names.insert(format!("#or{i}"), item::rem_attr(currency, d));
            attr_names.insert(format!("#oc{i}"), item::cnt_attr(currency, d));
            old.push(format!("#or{i}, #oc{i}"));
        }
        if !old.is_empty() {
            update.push_str(" REMOVE ");
            update.push_str(&old.join(", "));
        }
        Update::builder()
            .table_name(&self.tables.accounts)
            .set_key(Some(item::key(
                item::CUSTOMER_ID,
                intent.customer_id.as_str(),
            )))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_names(Some(attr_names))
            .set_expression_attribute_values(Some(values))
            .return_values_on_condition_check_failure(ALL_OLD)
            .build()
            .map_err(build_err)
    }

    /// A ledger entry put only if the entry id is new.
    pub(crate) fn ledger_put(&self, entry: &LedgerEntry) -> Result<Put, StoreError> {
        Put::builder()
            .table_name(&self.tables.ledger)
            .set_item(Some(item::ledger_item(entry)))
            .condition_expression("attribute_not_exists(#eid)")
            .set_expression_attribute_names(Some(names(&[("#eid", item::ENTRY_ID)])))
            .return_values_on_condition_check_failure(ALL_OLD)
            .build()
            .map_err(build_err)
    }

    /// Says what a cancelled pay transaction means, from its reasons and old items, in the order
    /// the memory store checks: the payment exists, the method, the account, then races.
    async fn diagnose_commit(
        &self,
        intent: &DebitIntent,
        slots: &Slots,
        reasons: &Reasons<'_>,
    ) -> Result<Verdict, StoreError> {
        if let Some(old) = reasons.failed(slots.payment) {
            let record = match old {
                Some(item) => Some(item::payment_from(item)?),
                // DynamoDB returns the old item; should it not, read it.
                None => self.get_payment(&intent.payment.payment_request_id).await?,
            };
            return Ok(match record {
                Some(r) => Verdict::Answer(Box::new(CommitOutcome::Exists(r))),
                None => Verdict::Retry { throttled: false },
            });
        }
        if let Some(old) = slots.method.and_then(|i| reasons.failed(i)) {
            let (found, other_owner) = match intent.guard {
                MethodGuard::Token(_) => (
                    MethodFound::Token(old.map(item::token_from).transpose()?),
                    Decline::TokenInvalid,
                ),
                MethodGuard::Code(_) => (
                    MethodFound::Code(old.map(item::code_from).transpose()?),
                    Decline::CodeInvalid,
                ),
                MethodGuard::Nfc | MethodGuard::Customer => (
                    MethodFound::Customer(intent.customer_id.clone()),
                    Decline::MethodUnavailable,
                ),
            };
            match check_method(&found, intent.now) {
                Err(d) => return Ok(Verdict::Answer(Box::new(CommitOutcome::Declined(d)))),
                Ok(owner) if owner != intent.customer_id => {
                    return Ok(Verdict::Answer(Box::new(CommitOutcome::Declined(
                        other_owner,
                    ))))
                }
                Ok(_) => {}
            }
        }
        if let Some(old) = slots.original.and_then(|i| reasons.failed(i)) {
            let original = old.map(item::payment_from).transpose()?;
            if let Err(d) = check_original(original.as_ref(), &intent.customer_id) {
                return Ok(Verdict::Answer(Box::new(CommitOutcome::Declined(d))));
            }
        }
        if let Some(old) = reasons.failed(slots.account) {
            if old.is_some_and(|i| item::account_lacks_limits(i, intent.debit.currency)) {
                return Err(StoreError::Corrupt(format!(
                    "account {} holds {} without a limits entry",
                    intent.customer_id, intent.debit.currency
                )));
            }
            let account = old.map(item::account_from).transpose()?;
            if let Err(d) =
                check_account(account.as_ref(), &intent.guard, intent.debit, intent.day())
            {
                return Ok(Verdict::Answer(Box::new(CommitOutcome::Declined(d))));
            }
        }
        if reasons.code(slots.account) == VALIDATION_ERROR {
            return Err(StoreError::Corrupt(format!(
                "account {}: the debit expression does not apply to the stored item",
                intent.customer_id
            )));
        }
        if reasons.failed(slots.ledger).is_some() {
            return Err(StoreError::Corrupt(format!(
                "ledger entry {} exists without its payment",
                intent.entry_id()
            )));
        }
        if reasons.conflict()
            || reasons.throttled()
            || reasons
                .0
                .iter()
                .any(|r| r.code == super::call::CONDITION_FAILED)
        {
            return Ok(Verdict::Retry {
                throttled: reasons.throttled(),
            });
        }
        Err(StoreError::Unavailable(
            format!("pay transaction cancelled: {}", reasons.summary()).into(),
        ))
    }
}

#[async_trait]
impl PayStore for DynamoStore {
    async fn load_for_pay(
        &self,
        payment_request_id: &str,
        method: &MethodRef,
    ) -> Result<PayContext, StoreError> {
        let payment_key = item::key(item::PAYMENT_REQUEST_ID, payment_request_id);
        let method_key = match method {
            MethodRef::AccessToken(h) => Some((
                &self.tables.access_tokens,
                item::key(item::TOKEN_HASH, h.as_str()),
            )),
            MethodRef::PaymentCode(h) => Some((
                &self.tables.payment_codes,
                item::key(item::CODE_HASH, h.as_str()),
            )),
            MethodRef::Customer(_) => None,
        };
        let (payment, method_item) = match method_key {
            Some((table, key)) => {
                let mut got = self
                    .batch_get(&[(&self.tables.payments, payment_key), (table, key)])
                    .await?
                    .into_iter();
                (got.next().flatten(), got.next().flatten())
            }
            None => (self.get(&self.tables.payments, payment_key).await?, None),
        };
        let existing = payment.as_ref().map(item::payment_from).transpose()?;
        let found = match method {
            MethodRef::AccessToken(_) => {
                MethodFound::Token(method_item.as_ref().map(item::token_from).transpose()?)
            }
            MethodRef::PaymentCode(_) => {
                MethodFound::Code(method_item.as_ref().map(item::code_from).transpose()?)
            }
            MethodRef::Customer(c) => MethodFound::Customer(c.clone()),
        };
        Ok(PayContext {
            existing,
            method: found,
        })
    }

    async fn commit_payment(&self, intent: &DebitIntent) -> Result<CommitOutcome, StoreError> {
        let (items, slots) = self.commit_items(intent)?;
        // One token for every attempt of this call: a retry after a lost answer is applied once.
        // Not derived from the intent: a later call with the same intent must meet the stored
        // payment through its condition (`Exists`), as in the memory store, rather than get
        // DynamoDB's replayed success for up to 10 minutes (even after a cancel).
        let token = call_token("commit");
        let mut throttled = false;
        for attempt in 0..TXN_ATTEMPTS_MAX {
            if attempt > 0 {
                super::call::pause(attempt).await;
            }
            match self.transact(items.clone(), &token).await? {
                TxOutcome::Done => return Ok(CommitOutcome::Committed),
                TxOutcome::Cancelled(reasons) => {
                    match self
                        .diagnose_commit(intent, &slots, &Reasons(&reasons))
                        .await?
                    {
                        Verdict::Answer(outcome) => return Ok(*outcome),
                        Verdict::Retry { throttled: t } => {
                            throttled = t;
                            tracing::debug!(
                                payment_request_id = %intent.payment.payment_request_id,
                                attempt,
                                reasons = %Reasons(&reasons).summary(),
                                "pay transaction retried"
                            );
                        }
                    }
                }
            }
        }
        Err(if throttled {
            StoreError::Throttled
        } else {
            StoreError::Contention(TXN_ATTEMPTS_MAX)
        })
    }

    async fn record_payment(&self, record: &PaymentRecord) -> Result<PutOutcome, StoreError> {
        match self.put_new_payment(record).await? {
            None => Ok(PutOutcome::Stored),
            Some(existing) => Ok(PutOutcome::Exists(existing)),
        }
    }

    /// One `Query` page of the sparse `orderLifecycleId` index, earliest first. A global
    /// secondary index is read eventually consistent (replication takes well under a second);
    /// a supplemental payment follows its original by minutes at least, and the transaction
    /// then re-checks the original on the table itself, strongly (`docs/store.md`).
    async fn lifecycle_payments(
        &self,
        order_lifecycle_id: &str,
    ) -> Result<Vec<PaymentRecord>, StoreError> {
        // The bound is a small constant; the conversion cannot fail.
        let limit = i32::try_from(LIFECYCLE_PAYMENTS_MAX).unwrap_or(i32::MAX);
        let req = self
            .client
            .query()
            .table_name(&self.tables.payments)
            .index_name(item::LIFECYCLE_INDEX)
            .key_condition_expression("#l = :l")
            .expression_attribute_names("#l", item::ORDER_LIFECYCLE_ID)
            .expression_attribute_values(":l", item::s(order_lifecycle_id))
            .scan_index_forward(true)
            .limit(limit);
        let page = match send(Effect::Read, "Query", || req.clone().send()).await? {
            Ok(page) => page,
            Err(e) => return Err(unexpected("Query", e)),
        };
        page.items
            .unwrap_or_default()
            .iter()
            .map(item::payment_from)
            .collect()
    }
}

impl DynamoStore {
    /// Puts a payment only if none has its id: `None` when stored, else the one standing.
    pub(crate) async fn put_new_payment(
        &self,
        record: &PaymentRecord,
    ) -> Result<Option<PaymentRecord>, StoreError> {
        if record.payment_request_id.is_empty() {
            return Err(StoreError::Unavailable(
                "a payment needs a paymentRequestId".into(),
            ));
        }
        let req = self
            .client
            .put_item()
            .table_name(&self.tables.payments)
            .set_item(Some(item::payment_item(record)))
            .condition_expression("attribute_not_exists(#id)")
            .expression_attribute_names("#id", item::PAYMENT_REQUEST_ID)
            .return_values_on_condition_check_failure(ALL_OLD);
        let sent = send_tracked(Effect::Write, "PutItem", || req.clone().send()).await?;
        match sent.result {
            Ok(_) => Ok(None),
            Err(PutItemError::ConditionalCheckFailedException(e)) => {
                let old: Option<Item> = e.item;
                let existing = match old {
                    Some(i) => Some(item::payment_from(&i)?),
                    None => self.get_payment(&record.payment_request_id).await?,
                };
                // Our own put, whose answer was lost on an earlier attempt of this call.
                if sent.after_lost_answer && existing.as_ref() == Some(record) {
                    return Ok(None);
                }
                existing.map(Some).ok_or_else(|| {
                    StoreError::Unavailable(
                        "payment vanished after a failed put".to_string().into(),
                    )
                })
            }
            Err(e) => Err(unexpected("PutItem", e)),
        }
    }
}
