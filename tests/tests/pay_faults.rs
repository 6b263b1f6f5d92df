//! Store failures during pay: the answer is U (never a 5xx, never a lost write), nothing is
//! stored for a U, and the re-send Alipay+ makes is processed exactly once — including when
//! the failure came *after* the write committed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test file

use mpp_core::payments::{
    CommitOutcome, DebitIntent, MethodRef, PayContext, PayStore, PaymentRecord, PutOutcome,
};
use mpp_core::store::memory::MemoryStore;
use mpp_core::store::{Ports, StoreError};
use mpp_e2e::harness::*;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// What the wrapper does on the next `commit_payment` calls.
#[derive(Clone, Copy)]
enum Fault {
    /// Fails before writing.
    Throttle,
    /// Writes, then loses the answer.
    LoseAnswer,
}

struct Faulty {
    inner: Arc<MemoryStore>,
    fault: Fault,
    failures_left: AtomicU32,
}

#[async_trait::async_trait]
impl PayStore for Faulty {
    async fn load_for_pay(&self, id: &str, method: &MethodRef) -> Result<PayContext, StoreError> {
        self.inner.load_for_pay(id, method).await
    }

    async fn commit_payment(&self, intent: &DebitIntent) -> Result<CommitOutcome, StoreError> {
        if self
            .failures_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_err()
        {
            return self.inner.commit_payment(intent).await;
        }
        match self.fault {
            Fault::Throttle => Err(StoreError::Throttled),
            Fault::LoseAnswer => {
                self.inner.commit_payment(intent).await?;
                Err(StoreError::OutcomeUnknown(
                    "connection reset after the write".into(),
                ))
            }
        }
    }

    async fn record_payment(&self, record: &PaymentRecord) -> Result<PutOutcome, StoreError> {
        self.inner.record_payment(record).await
    }

    async fn lifecycle_payments(&self, id: &str) -> Result<Vec<PaymentRecord>, StoreError> {
        self.inner.lifecycle_payments(id).await
    }
}

async fn faulty(fault: Fault, failures: u32) -> Mpp {
    let store = Arc::new(MemoryStore::new());
    let mut m = Mpp::on(Ports::of(store.clone()), Default::default()).await;
    m.pay.pay.store = Arc::new(Faulty {
        inner: store,
        fault,
        failures_left: AtomicU32::new(failures),
    });
    m
}

#[tokio::test]
async fn throttling_answers_u_and_the_resend_pays_once() {
    let m = faulty(Fault::Throttle, 1).await;
    let a = m.pay(&auto_debit("FT-1")).await;
    assert_eq!(
        (a.status, a.status_letter(), a.code()),
        (200, "U", "REQUEST_TRAFFIC_EXCEED_LIMIT")
    );
    assert_eq!(
        m.inquire("FT-1").await.code(),
        "ORDER_NOT_EXIST",
        "a U is not stored"
    );
    assert_eq!(m.pay(&auto_debit("FT-1")).await.code(), "SUCCESS");
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 29_000);
    m.assert_ledger_balances().await;
}

#[tokio::test]
async fn an_answer_lost_after_the_write_is_found_by_the_resend() {
    let m = faulty(Fault::LoseAnswer, 1).await;
    let a = m.pay(&auto_debit("FT-2")).await;
    assert_eq!((a.status_letter(), a.code()), ("U", "UNKNOWN_EXCEPTION"));
    // The write did happen: inquiry and the re-send both see it, and nothing is debited twice.
    assert_eq!(
        m.inquire("FT-2").await.body["paymentResult"]["resultCode"],
        "SUCCESS"
    );
    let again = m.pay(&auto_debit("FT-2")).await;
    assert_eq!(again.code(), "SUCCESS");
    assert_eq!(m.balance(CUSTOMER, "KRW").await, 29_000);
    m.assert_ledger_balances().await;
}
