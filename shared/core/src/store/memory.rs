//! The in-memory store: the local default and the fast test double. It is the reference for the
//! port's semantics: every operation takes one lock, so each is atomic exactly as the DynamoDB
//! transaction is, and the same conformance suite runs against both.

use super::rules::{
    apply_credit, apply_debit, check_account, check_method, check_original, reverse_debit,
};
use super::transitions::{
    decide_cancel, decide_refund, CancelDecision, CancelIntent, RefundDecision,
};
use super::*;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// The per-day clearing query (reconciliation).
mod clearing;

/// The store's state. `pub(crate)` (with the fields and [`MemoryStore::lock`] the areas use):
/// each operation of an area organised by operation (`crate::otp`, `crate::bindings`) applies
/// its decision under the one lock in its own module.
#[derive(Default)]
pub(crate) struct State {
    pub(crate) accounts: HashMap<CustomerId, Account>,
    pub(crate) tokens: HashMap<SecretHash, AccessToken>,
    codes: HashMap<SecretHash, PaymentCode>,
    payments: HashMap<String, PaymentRecord>,
    refunds: HashMap<String, RefundRecord>,
    ledger: HashMap<CustomerId, Vec<LedgerEntry>>,
    deliveries: HashMap<String, Delivery>,
    /// sendOTP's one-time passwords, by `verifyRequestId`.
    pub(crate) otps: HashMap<String, crate::otp::OtpRecord>,
    /// OTPs sent per token and business day.
    pub(crate) otp_days: HashMap<(SecretHash, u32), u32>,
    /// Phone and e-mail per account.
    pub(crate) contacts: HashMap<CustomerId, crate::otp::Contacts>,
    /// Account binding (issue 17): authorizations by `authId`, `prepare` keys, wallet logins.
    pub(crate) bindings: crate::bindings::BindingState,
    feed: Option<tokio::sync::mpsc::UnboundedSender<PaymentRecord>>,
}

impl State {
    fn find(&self, method: &MethodRef) -> MethodFound {
        match method {
            MethodRef::AccessToken(h) => MethodFound::Token(self.tokens.get(h).cloned()),
            MethodRef::PaymentCode(h) => MethodFound::Code(self.codes.get(h).cloned()),
            MethodRef::Customer(c) => MethodFound::Customer(c.clone()),
        }
    }

    /// Stores a new payment and tells the change feed, as a DynamoDB Stream INSERT would.
    fn insert_payment(&mut self, record: PaymentRecord) {
        self.payments
            .insert(record.payment_request_id.clone(), record.clone());
        if let Some(feed) = &self.feed {
            // A closed receiver means nobody listens any more: nothing to tell.
            let _ = feed.send(record);
        }
    }

    fn append(&mut self, entry: LedgerEntry) {
        let entries = self.ledger.entry(entry.customer_id.clone()).or_default();
        if !entries.iter().any(|e| e.entry_id == entry.entry_id) {
            entries.push(entry);
        }
    }
}

/// A store held in process memory.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// The change feed: every payment the store creates, in commit order — the in-memory
    /// counterpart of the payments table's DynamoDB Stream (INSERT events), which `mpp serve`
    /// feeds to the same notify code the Lambda runs. One subscriber; a later call replaces it.
    /// Unbounded: it holds at most one record per payment not yet taken by the subscriber.
    pub fn subscribe(&self) -> tokio::sync::mpsc::UnboundedReceiver<PaymentRecord> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        self.lock().feed = Some(tx);
        rx
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock would leave a half-applied operation; every operation
        // below mutates only after all its checks pass, so the state is still consistent.
        match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }
}

#[async_trait]
impl WalletReader for MemoryStore {
    async fn find_method(&self, method: &MethodRef) -> Result<MethodFound, StoreError> {
        Ok(self.lock().find(method))
    }

    async fn account(&self, customer_id: &CustomerId) -> Result<Option<Account>, StoreError> {
        Ok(self.lock().accounts.get(customer_id).cloned())
    }
}

#[async_trait]
impl PaymentReader for MemoryStore {
    async fn payment(&self, payment_request_id: &str) -> Result<Option<PaymentRecord>, StoreError> {
        Ok(self.lock().payments.get(payment_request_id).cloned())
    }
}

#[async_trait]
impl PayStore for MemoryStore {
    async fn load_for_pay(
        &self,
        payment_request_id: &str,
        method: &MethodRef,
    ) -> Result<PayContext, StoreError> {
        let s = self.lock();
        Ok(PayContext {
            existing: s.payments.get(payment_request_id).cloned(),
            method: s.find(method),
        })
    }

    async fn commit_payment(&self, intent: &DebitIntent) -> Result<CommitOutcome, StoreError> {
        let mut s = self.lock();
        let id = &intent.payment.payment_request_id;
        if let Some(existing) = s.payments.get(id) {
            return Ok(CommitOutcome::Exists(existing.clone()));
        }
        // Re-check the method inside the atomic step, as the DynamoDB ConditionCheck does.
        let found = match &intent.guard {
            MethodGuard::Token(h) => Some(MethodFound::Token(s.tokens.get(h).cloned())),
            MethodGuard::Code(h) => Some(MethodFound::Code(s.codes.get(h).cloned())),
            MethodGuard::Nfc | MethodGuard::Customer => None,
        };
        if let Some(found) = found {
            match check_method(&found, intent.now) {
                Ok(owner) if owner == intent.customer_id => {}
                // Someone else's token or code is as good as none.
                Ok(_) if matches!(found, MethodFound::Code(_)) => {
                    return Ok(CommitOutcome::Declined(Decline::CodeInvalid))
                }
                Ok(_) => return Ok(CommitOutcome::Declined(Decline::TokenInvalid)),
                Err(d) => return Ok(CommitOutcome::Declined(d)),
            }
        }
        if let Some(original) = &intent.original {
            // The supplemental link, re-checked atomically with the debit (a ConditionCheck on
            // the original in DynamoDB).
            if let Err(d) = check_original(s.payments.get(original), &intent.customer_id) {
                return Ok(CommitOutcome::Declined(d));
            }
        }
        let day = intent.day();
        if let Err(d) = check_account(
            s.accounts.get(&intent.customer_id),
            &intent.guard,
            intent.debit,
            day,
        ) {
            return Ok(CommitOutcome::Declined(d));
        }
        // All checks hold: apply everything.
        if let Some(a) = s.accounts.get_mut(&intent.customer_id) {
            apply_debit(a, intent.debit, day);
        }
        if let MethodGuard::Code(h) = &intent.guard {
            if let Some(c) = s.codes.get_mut(h) {
                c.used_by = Some(id.clone());
            }
        }
        s.insert_payment(intent.payment.clone());
        s.append(LedgerEntry {
            customer_id: intent.customer_id.clone(),
            entry_id: intent.entry_id(),
            kind: EntryKind::Debit,
            money: intent.debit,
            payment_request_id: Some(id.clone()),
            order_lifecycle_id: intent.payment.order_lifecycle_id().map(str::to_string),
            at: intent.now,
        });
        Ok(CommitOutcome::Committed)
    }

    async fn record_payment(&self, record: &PaymentRecord) -> Result<PutOutcome, StoreError> {
        let mut s = self.lock();
        if let Some(existing) = s.payments.get(&record.payment_request_id) {
            return Ok(PutOutcome::Exists(existing.clone()));
        }
        s.insert_payment(record.clone());
        Ok(PutOutcome::Stored)
    }

    async fn lifecycle_payments(
        &self,
        order_lifecycle_id: &str,
    ) -> Result<Vec<PaymentRecord>, StoreError> {
        let s = self.lock();
        let mut found: Vec<PaymentRecord> = s
            .payments
            .values()
            .filter(|p| p.order_lifecycle_id() == Some(order_lifecycle_id))
            .cloned()
            .collect();
        // The earliest first, and no more than one page, as the DynamoDB query reads.
        found.sort_by_key(|p| p.created_at);
        found.truncate(LIFECYCLE_PAYMENTS_MAX);
        Ok(found)
    }
}

#[async_trait]
impl CancelStore for MemoryStore {
    async fn cancel(&self, intent: &CancelIntent) -> Result<CancelOutcome, StoreError> {
        let mut s = self.lock();
        let current = s.payments.get(&intent.payment_request_id).cloned();
        match decide_cancel(intent, current) {
            CancelDecision::Answer(outcome) => Ok(outcome),
            CancelDecision::CloseUnknown(closed) => {
                s.insert_payment(closed.clone());
                Ok(CancelOutcome::Closed(closed))
            }
            CancelDecision::CloseFailed(closed) => {
                s.payments
                    .insert(closed.payment_request_id.clone(), closed.clone());
                Ok(CancelOutcome::Closed(closed))
            }
            CancelDecision::Reverse(r) => {
                let Some(a) = s.accounts.get_mut(&r.customer) else {
                    return Err(StoreError::Corrupt(format!(
                        "payment of a missing account: {}",
                        intent.payment_request_id
                    )));
                };
                reverse_debit(a, r.back, r.debit_day);
                s.payments
                    .insert(r.cancelled.payment_request_id.clone(), r.cancelled.clone());
                if let Some(entry) = r.entry {
                    s.append(entry);
                }
                Ok(CancelOutcome::Reversed(r.cancelled))
            }
        }
    }
}

#[async_trait]
impl RefundStore for MemoryStore {
    async fn refund(&self, intent: &RefundIntent) -> Result<RefundOutcome, StoreError> {
        let mut s = self.lock();
        let stored = s.refunds.get(&intent.refund_request_id).cloned();
        let payment = s.payments.get(&intent.payment_request_id).cloned();
        let apply = match decide_refund(intent, stored, payment) {
            RefundDecision::Answer(outcome) => return Ok(outcome),
            RefundDecision::Apply(apply) => apply,
        };
        let Some(account) = s.accounts.get_mut(&apply.customer) else {
            return Err(StoreError::Corrupt(format!(
                "payment of a missing account: {}",
                intent.payment_request_id
            )));
        };
        apply_credit(account, intent.amount);
        s.payments
            .insert(intent.payment_request_id.clone(), apply.payment_after);
        s.refunds
            .insert(intent.refund_request_id.clone(), apply.record.clone());
        s.append(apply.entry);
        Ok(RefundOutcome::Refunded(apply.record))
    }
}

#[async_trait]
impl AdminStore for MemoryStore {
    async fn create_account(
        &self,
        account: &Account,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        if s.accounts.contains_key(&account.customer_id) {
            return Err(StoreError::AlreadyExists(format!(
                "account {}",
                account.customer_id
            )));
        }
        s.accounts
            .insert(account.customer_id.clone(), account.clone());
        for entry in account.opening_entries(now) {
            s.append(entry);
        }
        Ok(())
    }

    async fn credit(
        &self,
        customer_id: &CustomerId,
        money: Money,
        entry_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        if s.ledger
            .get(customer_id)
            .is_some_and(|es| es.iter().any(|e| e.entry_id == entry_id))
        {
            return Ok(()); // the same top-up again: applied once
        }
        let Some(a) = s.accounts.get_mut(customer_id) else {
            return Err(StoreError::NotFound(format!("account {customer_id}")));
        };
        apply_credit(a, money);
        s.append(LedgerEntry {
            customer_id: customer_id.clone(),
            entry_id: entry_id.to_string(),
            kind: EntryKind::Credit,
            money,
            payment_request_id: None,
            order_lifecycle_id: None,
            at: now,
        });
        Ok(())
    }

    async fn update_account_settings(
        &self,
        customer_id: &CustomerId,
        status: AccountStatus,
        kyc: KycStatus,
        limits: &BTreeMap<Currency, Limits>,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        let Some(a) = s.accounts.get_mut(customer_id) else {
            return Err(StoreError::NotFound(format!("account {customer_id}")));
        };
        a.status = status;
        a.kyc = kyc;
        a.limits = limits.clone();
        Ok(())
    }

    async fn put_token(&self, token: &AccessToken) -> Result<(), StoreError> {
        self.lock()
            .tokens
            .insert(token.token_hash.clone(), token.clone());
        Ok(())
    }

    async fn put_payment_code(&self, code: &PaymentCode) -> Result<(), StoreError> {
        self.lock()
            .codes
            .insert(code.code_hash.clone(), code.clone());
        Ok(())
    }

    async fn put_contacts(
        &self,
        customer_id: &CustomerId,
        contacts: &crate::otp::Contacts,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        if !s.accounts.contains_key(customer_id) {
            return Err(StoreError::NotFound(format!("account {customer_id}")));
        }
        s.contacts.insert(customer_id.clone(), contacts.clone());
        Ok(())
    }

    async fn ledger(&self, customer_id: &CustomerId) -> Result<Vec<LedgerEntry>, StoreError> {
        Ok(self
            .lock()
            .ledger
            .get(customer_id)
            .cloned()
            .unwrap_or_default())
    }

    async fn payments(&self) -> Result<Vec<PaymentRecord>, StoreError> {
        Ok(self.lock().payments.values().cloned().collect())
    }

    async fn account_ids(&self) -> Result<Vec<CustomerId>, StoreError> {
        Ok(self.lock().accounts.keys().cloned().collect())
    }
}

#[async_trait]
impl DeliveryStore for MemoryStore {
    async fn delivery(&self, payment_request_id: &str) -> Result<Delivery, StoreError> {
        Ok(self
            .lock()
            .deliveries
            .get(payment_request_id)
            .cloned()
            .unwrap_or_default())
    }

    async fn record_attempt(
        &self,
        payment_request_id: &str,
        attempt: u32,
        error: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        if !s.payments.contains_key(payment_request_id) {
            return Err(StoreError::NotFound(format!(
                "payment {payment_request_id}"
            )));
        }
        let d = s
            .deliveries
            .entry(payment_request_id.to_string())
            .or_default();
        d.attempts = d.attempts.max(attempt);
        d.last_error = error.map(str::to_string);
        if error.is_none() {
            d.delivered_at = Some(at);
        }
        Ok(())
    }

    async fn record_dead_letter(
        &self,
        payment_request_id: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        if !s.payments.contains_key(payment_request_id) {
            return Err(StoreError::NotFound(format!(
                "payment {payment_request_id}"
            )));
        }
        s.deliveries
            .entry(payment_request_id.to_string())
            .or_default()
            .dead_lettered_at = Some(at);
        Ok(())
    }
}
