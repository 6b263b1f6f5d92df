//! The clearing-day query's conformance scenarios (reconciliation, issue 21): the same
//! scenarios on every adapter of `ClearingLedger` — the memory store
//! (`tests/clearing_memory.rs`) and the DynamoDB day indexes on DynamoDB Local
//! (`tests/clearing_dynamodb.rs`). Kept beside `conformance.rs`, with its fixtures, so a store
//! that implements the payment ports but not this one still runs that suite.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test-only crate

use crate::conformance::{
    account, failed_record, hash, intent, krw, next_day, refund_intent, t0, token, won, Store,
};
use chrono::Duration;
use mpp_core::payments::{CommitOutcome, MethodGuard, RefundOutcome};
use mpp_core::reconcile::ledger::{ClearingLedger, LedgerCursor, LedgerSource};
use mpp_core::reconcile::{ClearingDay, Transaction, TransactionType};
use mpp_core::result_code::ResultCode;
use std::sync::Arc;

/// A store with the day query.
pub trait ClearingStore: Store + ClearingLedger {}
impl<T> ClearingStore for T where T: Store + ClearingLedger {}

/// Expands to one `#[tokio::test]` per scenario, like `conformance_tests!`.
#[macro_export]
macro_rules! clearing_conformance_tests {
    ($make:path) => {
        $crate::clearing_conformance_tests!(@each $make;
            the_day_holds_successes_and_refunds_not_declines_or_cancels,
            pages_resume_after_their_last_id_and_the_cursor_merges_in_key_order,
        );
    };
    (@each $make:path; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(store) = $make().await {
                    $crate::clearing_conformance::$name(store).await;
                }
            }
        )*
    };
}

fn day0() -> ClearingDay {
    ClearingDay::of(t0())
}

async fn pay<S: ClearingStore>(s: &S, id: &str, amount: u64, at: chrono::DateTime<chrono::Utc>) {
    let guard = MethodGuard::Token(hash("tok-clr"));
    let out = s
        .commit_payment(&intent(id, "c-clr", won(amount), guard, at))
        .await
        .unwrap();
    assert!(matches!(out, CommitOutcome::Committed), "{id}: {out:?}");
}

async fn setup<S: ClearingStore>(s: &S) {
    s.create_account(&account("c-clr", &[(krw(), 1_000_000)]), t0())
        .await
        .unwrap();
    s.put_token(&token("tok-clr", "c-clr")).await.unwrap();
}

async fn whole_day<S: ClearingStore>(s: &S, day: ClearingDay) -> Vec<Transaction> {
    let mut cursor = LedgerCursor::new(s, day, 2);
    let mut out = Vec::new();
    while let Some(t) = cursor.next_transaction().await.unwrap() {
        out.push(t);
    }
    out
}

fn ids(ts: &[Transaction]) -> Vec<(String, TransactionType)> {
    ts.iter()
        .map(|t| (t.id().to_string(), t.transaction_type))
        .collect()
}

/// A day holds its succeeded payments (by `paymentTime` in UTC+8) and its refunds (by
/// `refundTime`); not declines, not closed placeholders, not a payment cancelled since, not the
/// next day's; the refund of a payment of another day is in the refund's day.
pub async fn the_day_holds_successes_and_refunds_not_declines_or_cancels<S: ClearingStore>(
    s: Arc<S>,
) {
    setup(&*s).await;
    pay(&*s, "clr-a", 1_000, t0()).await;
    pay(&*s, "clr-b", 2_000, t0() + Duration::hours(1)).await;
    pay(&*s, "clr-c", 3_000, t0()).await;
    // The last second of the day, and the first of the next (midnight UTC+8).
    pay(&*s, "clr-d", 4_000, next_day() - Duration::seconds(1)).await;
    pay(&*s, "clr-e", 5_000, next_day()).await;
    s.record_payment(&failed_record(
        "clr-f",
        ResultCode::UserBalanceNotEnough,
        t0(),
    ))
    .await
    .unwrap();
    s.cancel_payment("clr-c", t0()).await.unwrap();
    s.cancel_payment("clr-g", t0()).await.unwrap();
    let refunded = s
        .refund(&refund_intent("clr-r1", "clr-a", won(300), t0()))
        .await
        .unwrap();
    assert!(matches!(refunded, RefundOutcome::Refunded(_)));
    let refunded = s
        .refund(&refund_intent("clr-r2", "clr-b", won(200), next_day()))
        .await
        .unwrap();
    assert!(matches!(refunded, RefundOutcome::Refunded(_)));

    let day = whole_day(&*s, day0()).await;
    assert_eq!(
        ids(&day),
        [
            ("clr-a".to_string(), TransactionType::Payment),
            ("clr-b".to_string(), TransactionType::Payment),
            ("clr-d".to_string(), TransactionType::Payment),
            ("clr-r1".to_string(), TransactionType::Refund),
        ]
    );
    let a = &day[0];
    assert_eq!(a.payment_id.as_deref(), Some("pay-clr-a"));
    assert_eq!(a.settlement_amount, won(1_000));
    assert_eq!(a.transaction_amount, Some(won(1_000)));
    let r1 = &day[3];
    assert_eq!(r1.payment_request_id, "clr-a");
    assert_eq!(r1.refund_id.as_deref(), Some("refund-clr-r1"));
    assert_eq!(r1.settlement_amount, won(300));
    let next = whole_day(&*s, ClearingDay::of(next_day())).await;
    assert_eq!(
        ids(&next),
        [
            ("clr-e".to_string(), TransactionType::Payment),
            ("clr-r2".to_string(), TransactionType::Refund),
        ]
    );
    let before = ClearingDay::of(t0() - Duration::days(1));
    assert!(whole_day(&*s, before).await.is_empty(), "an empty day");
}

/// Pages hold at most the limit, in id order, and resume after their last id; the cursor
/// merges payments and refunds by (id, type), a payment before a refund of the same id.
pub async fn pages_resume_after_their_last_id_and_the_cursor_merges_in_key_order<
    S: ClearingStore,
>(
    s: Arc<S>,
) {
    setup(&*s).await;
    for i in [5, 1, 7, 3, 2, 6, 4] {
        pay(&*s, &format!("pg-{i}"), 100 + i, t0()).await;
    }
    // A refund whose id is also a payment's id (two Alipay+ id spaces), and one between.
    for (rid, of) in [("pg-3", "pg-1"), ("pg-35", "pg-2")] {
        let r = s
            .refund(&refund_intent(rid, of, won(10), t0()))
            .await
            .unwrap();
        assert!(matches!(r, RefundOutcome::Refunded(_)));
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..10 {
        let page = s
            .clearing_page(day0(), TransactionType::Payment, after.as_deref(), 3)
            .await
            .unwrap();
        assert!(page.items.len() <= 3);
        seen.extend(page.items.iter().map(|t| t.id().to_string()));
        match page.resume_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let want: Vec<String> = (1..=7).map(|i| format!("pg-{i}")).collect();
    assert_eq!(seen, want);

    let day = whole_day(&*s, day0()).await;
    let mut sorted = day.clone();
    sorted.sort_by(Transaction::key_cmp);
    assert_eq!(day, sorted, "the cursor streams in merge-key order");
    assert_eq!(day.len(), 9);
    let three: Vec<TransactionType> = day
        .iter()
        .filter(|t| t.id() == "pg-3")
        .map(|t| t.transaction_type)
        .collect();
    assert_eq!(three, [TransactionType::Payment, TransactionType::Refund]);
    let net: i128 = day.iter().map(Transaction::signed_settlement).sum();
    assert_eq!(net, (101..=107).sum::<i128>() - 20);
}
