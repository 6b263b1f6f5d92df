//! A store wrapper that injects failures — throttling, errors, timeouts — before a write, and
//! *after* a write commits (the answer is lost, the write stands), from a seeded generator so
//! every run can be reproduced.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test-only crate

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mpp_core::ids::CustomerId;
use mpp_core::money::{Currency, Money};
use mpp_core::payments::CancelIntent;
use mpp_core::payments::*;
use mpp_core::store::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// How often each kind of fault strikes, out of 1000 calls.
#[derive(Clone, Copy, Debug)]
pub struct FaultRates {
    /// Throttled before anything happened.
    pub throttle_per_mille: u32,
    /// Unavailable (timeout, connection refused) before anything happened.
    pub error_per_mille: u32,
    /// The write committed, then the answer was lost (`OutcomeUnknown`).
    pub lost_answer_per_mille: u32,
}

/// What was injected, for the report.
#[derive(Debug, Default)]
pub struct FaultCounts {
    /// Faults before a call took effect.
    pub before: AtomicU64,
    /// Faults after a write took effect.
    pub after: AtomicU64,
    /// Calls passed through.
    pub calls: AtomicU64,
}

/// The payment area's ports of `inner`, with faults (what `reliability_random` drives; the OTP
/// and binding areas meet faults through the DynamoDB fault proxy instead).
pub struct Faulty<S> {
    inner: Arc<S>,
    rates: FaultRates,
    rng: Mutex<StdRng>,
    /// What was injected.
    pub counts: FaultCounts,
}

enum Roll {
    Pass,
    Before(StoreError),
    After,
}

impl<S> Faulty<S> {
    /// Wraps `inner`; `seed` makes the faults reproducible.
    pub fn new(inner: Arc<S>, rates: FaultRates, seed: u64) -> Faulty<S> {
        Faulty {
            inner,
            rates,
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
            counts: FaultCounts::default(),
        }
    }

    fn roll(&self, write: bool) -> Roll {
        self.counts.calls.fetch_add(1, Ordering::Relaxed);
        let r = self.rng.lock().unwrap().gen_range(0..1000u32);
        let FaultRates {
            throttle_per_mille: t,
            error_per_mille: e,
            lost_answer_per_mille: l,
        } = self.rates;
        let roll = if r < t {
            Roll::Before(StoreError::Throttled)
        } else if r < t + e {
            Roll::Before(StoreError::Unavailable(
                "injected: connection timed out".into(),
            ))
        } else if write && r < t + e + l {
            Roll::After
        } else {
            Roll::Pass
        };
        match roll {
            Roll::Before(_) => self.counts.before.fetch_add(1, Ordering::Relaxed),
            Roll::After => self.counts.after.fetch_add(1, Ordering::Relaxed),
            Roll::Pass => 0,
        };
        roll
    }

    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: std::future::Future<Output = Result<T, StoreError>>,
    {
        match self.roll(false) {
            Roll::Before(e) => Err(e),
            Roll::Pass | Roll::After => f.await,
        }
    }

    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: std::future::Future<Output = Result<T, StoreError>>,
    {
        match self.roll(true) {
            Roll::Before(e) => Err(e),
            Roll::Pass => f.await,
            Roll::After => {
                f.await?;
                Err(StoreError::OutcomeUnknown(
                    "injected: answer lost after the write".into(),
                ))
            }
        }
    }
}

#[async_trait]
impl<S: WalletReader + 'static> WalletReader for Faulty<S> {
    async fn find_method(&self, method: &MethodRef) -> Result<MethodFound, StoreError> {
        self.read(self.inner.find_method(method)).await
    }
    async fn account(&self, customer_id: &CustomerId) -> Result<Option<Account>, StoreError> {
        self.read(self.inner.account(customer_id)).await
    }
}

#[async_trait]
impl<S: PaymentReader + 'static> PaymentReader for Faulty<S> {
    async fn payment(&self, id: &str) -> Result<Option<PaymentRecord>, StoreError> {
        self.read(self.inner.payment(id)).await
    }
}

#[async_trait]
impl<S: PayStore + 'static> PayStore for Faulty<S> {
    async fn load_for_pay(&self, id: &str, method: &MethodRef) -> Result<PayContext, StoreError> {
        self.read(self.inner.load_for_pay(id, method)).await
    }
    async fn commit_payment(&self, intent: &DebitIntent) -> Result<CommitOutcome, StoreError> {
        self.write(self.inner.commit_payment(intent)).await
    }
    async fn record_payment(&self, record: &PaymentRecord) -> Result<PutOutcome, StoreError> {
        self.write(self.inner.record_payment(record)).await
    }
    async fn lifecycle_payments(&self, id: &str) -> Result<Vec<PaymentRecord>, StoreError> {
        self.read(self.inner.lifecycle_payments(id)).await
    }
}

#[async_trait]
impl<S: CancelStore + 'static> CancelStore for Faulty<S> {
    async fn cancel(&self, intent: &CancelIntent) -> Result<CancelOutcome, StoreError> {
        self.write(self.inner.cancel(intent)).await
    }
}

#[async_trait]
impl<S: RefundStore + 'static> RefundStore for Faulty<S> {
    async fn refund(&self, intent: &RefundIntent) -> Result<RefundOutcome, StoreError> {
        self.write(self.inner.refund(intent)).await
    }
}

/// Admin calls are the test's own bookkeeping: never faulted.
#[async_trait]
impl<S: AdminStore + 'static> AdminStore for Faulty<S> {
    async fn create_account(
        &self,
        account: &Account,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.inner.create_account(account, now).await
    }
    async fn credit(
        &self,
        customer_id: &CustomerId,
        money: Money,
        entry_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.inner.credit(customer_id, money, entry_id, now).await
    }
    async fn update_account_settings(
        &self,
        c: &CustomerId,
        s: AccountStatus,
        k: KycStatus,
        l: &BTreeMap<Currency, Limits>,
    ) -> Result<(), StoreError> {
        self.inner.update_account_settings(c, s, k, l).await
    }
    async fn put_token(&self, token: &AccessToken) -> Result<(), StoreError> {
        self.inner.put_token(token).await
    }
    async fn put_payment_code(&self, code: &PaymentCode) -> Result<(), StoreError> {
        self.inner.put_payment_code(code).await
    }
    async fn put_contacts(
        &self,
        customer_id: &CustomerId,
        contacts: &mpp_core::otp::Contacts,
    ) -> Result<(), StoreError> {
        self.inner.put_contacts(customer_id, contacts).await
    }
    async fn ledger(&self, customer_id: &CustomerId) -> Result<Vec<LedgerEntry>, StoreError> {
        self.inner.ledger(customer_id).await
    }
    async fn payments(&self) -> Result<Vec<PaymentRecord>, StoreError> {
        self.inner.payments().await
    }
    async fn account_ids(&self) -> Result<Vec<CustomerId>, StoreError> {
        self.inner.account_ids().await
    }
}

#[async_trait]
impl<S: DeliveryStore + 'static> DeliveryStore for Faulty<S> {
    async fn delivery(&self, id: &str) -> Result<Delivery, StoreError> {
        self.read(self.inner.delivery(id)).await
    }
    async fn record_attempt(
        &self,
        id: &str,
        attempt: u32,
        error: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write(self.inner.record_attempt(id, attempt, error, at))
            .await
    }
    async fn record_dead_letter(&self, id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.write(self.inner.record_dead_letter(id, at)).await
    }
}
