//! The in-memory store: the local default and the fast test double. It is the reference for the
//! port's semantics: every operation takes one lock, so each is atomic exactly as the DynamoDB
//! transaction is, and the same conformance suite runs against both.
//!
//! Each operation implements its own port on this store in its module (the payments area's in
//! `crate::payments`, the OTP area's in `crate::otp`): its decision applied under the one lock.
//! Here: the state, what stores a payment and its ledger entries, the operators' port
//! (`AdminStore`), notifyPayment's delivery state (`DeliveryStore`, the port both notifiers
//! share), account binding and the clearing query.

use super::*;
use crate::payments::{apply_credit, MethodFound, MethodRef, PaymentRecord, RefundRecord};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// The per-day clearing query (reconciliation).
mod clearing;

/// The store's state. `pub(crate)` (with the fields and [`MemoryStore::lock`] the areas use):
/// each operation of an area organised by operation (`crate::payments`, `crate::otp`,
/// `crate::bindings`) applies its decision under the one lock in its own module.
#[derive(Default)]
pub(crate) struct State {
    pub(crate) accounts: HashMap<CustomerId, Account>,
    pub(crate) tokens: HashMap<SecretHash, AccessToken>,
    pub(crate) codes: HashMap<SecretHash, PaymentCode>,
    pub(crate) payments: HashMap<String, PaymentRecord>,
    pub(crate) refunds: HashMap<String, RefundRecord>,
    pub(crate) ledger: HashMap<CustomerId, Vec<LedgerEntry>>,
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
    pub(crate) fn find(&self, method: &MethodRef) -> MethodFound {
        match method {
            MethodRef::AccessToken(h) => MethodFound::Token(self.tokens.get(h).cloned()),
            MethodRef::PaymentCode(h) => MethodFound::Code(self.codes.get(h).cloned()),
            MethodRef::Customer(c) => MethodFound::Customer(c.clone()),
        }
    }

    /// Stores a new payment and tells the change feed, as a DynamoDB Stream INSERT would.
    pub(crate) fn insert_payment(&mut self, record: PaymentRecord) {
        self.payments
            .insert(record.payment_request_id.clone(), record.clone());
        if let Some(feed) = &self.feed {
            // A closed receiver means nobody listens any more: nothing to tell.
            let _ = feed.send(record);
        }
    }

    pub(crate) fn append(&mut self, entry: LedgerEntry) {
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
