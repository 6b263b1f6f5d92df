//! The DynamoDB call budget per store operation, counted by the SDK interceptor
//! (`CallCounter`) on DynamoDB Local: a new payment in at most two requests (one read, one
//! transaction), a repeat in one. Every other operation's count is pinned too, as documented in
//! `docs/store.md`. Run with
//! `bash .ci/dynamodb-local.sh run cargo test --offline -p mpp-e2e --test store_calls -- --nocapture`.

use mpp_aws::dynamo::CallCounter;
use mpp_core::ids::CustomerId;
use mpp_core::money::MinorUnit;
use mpp_core::payments::{
    CancelOutcome, CancelStore, CommitOutcome, Decline, MethodGuard, MethodRef, PayStore,
    PaymentReader, PutOutcome, RefundOutcome, RefundStore, WalletReader,
};
use mpp_core::result_code::ResultCode;
use mpp_core::store::AdminStore;
use mpp_e2e::conformance::{
    account, code, failed_record, hash, intent, limits, refund_intent, t0, token, won,
};
use std::collections::BTreeMap;

mod dynamodb_local;

/// Runs `op`, returns its result and the requests it made by operation name.
macro_rules! counted {
    ($calls:expr, $label:expr, $op:expr) => {{
        $calls.reset();
        let out = $op.await;
        let made = $calls.snapshot();
        println!("{:<44} {:>2} {:?}", $label, $calls.total(), made);
        (out, made)
    }};
}

fn ops(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| ((*k).to_string(), *v)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_keeps_its_call_budget() {
    let Some((s, calls)) = dynamodb_local::store().await else {
        return;
    };
    let calls: CallCounter = calls;
    let mut a = account("c-calls", &[(mpp_e2e::conformance::krw(), 100_000)]);
    a.limits
        .insert(mpp_e2e::conformance::krw(), limits(50_000, 80_000, 10));
    a.nfc_enabled = true;
    let (r, made) = counted!(calls, "create_account", s.create_account(&a, t0()));
    r.unwrap();
    assert_eq!(made, ops(&[("TransactWriteItems", 1)]));
    let (r, made) = counted!(
        calls,
        "put_token",
        s.put_token(&token("tok-calls", "c-calls"))
    );
    r.unwrap();
    assert_eq!(made, ops(&[("PutItem", 1)]));
    s.put_payment_code(&code("code-calls", "c-calls"))
        .await
        .unwrap();

    // A new payment by token: one BatchGetItem, one TransactWriteItems.
    let method = MethodRef::AccessToken(hash("tok-calls"));
    let pay = intent(
        "p-calls",
        "c-calls",
        won(1_000),
        MethodGuard::Token(hash("tok-calls")),
        t0(),
    );
    calls.reset();
    let ctx = s.load_for_pay("p-calls", &method).await.unwrap();
    assert!(ctx.existing.is_none());
    assert_eq!(
        s.commit_payment(&pay).await.unwrap(),
        CommitOutcome::Committed
    );
    println!(
        "{:<44} {:>2} {:?}",
        "new payment (token): load + commit",
        calls.total(),
        calls.snapshot()
    );
    assert!(calls.total() <= 2);
    assert_eq!(
        calls.snapshot(),
        ops(&[("BatchGetItem", 1), ("TransactWriteItems", 1)])
    );

    // Its repeat: the one read finds it.
    let (ctx, made) = counted!(
        calls,
        "repeat: load_for_pay",
        s.load_for_pay("p-calls", &method)
    );
    assert!(ctx.unwrap().existing.is_some());
    assert!(made.values().sum::<u64>() <= 1);
    assert_eq!(made, ops(&[("BatchGetItem", 1)]));

    // By payment code, and by customer id (NFC): still two.
    calls.reset();
    s.load_for_pay("p-code", &MethodRef::PaymentCode(hash("code-calls")))
        .await
        .unwrap();
    let by_code = intent(
        "p-code",
        "c-calls",
        won(10),
        MethodGuard::Code(hash("code-calls")),
        t0(),
    );
    assert_eq!(
        s.commit_payment(&by_code).await.unwrap(),
        CommitOutcome::Committed
    );
    println!(
        "{:<44} {:>2} {:?}",
        "new payment (code): load + commit",
        calls.total(),
        calls.snapshot()
    );
    assert_eq!(
        calls.snapshot(),
        ops(&[("BatchGetItem", 1), ("TransactWriteItems", 1)])
    );
    calls.reset();
    s.load_for_pay("p-nfc", &MethodRef::Customer(CustomerId::new("c-calls")))
        .await
        .unwrap();
    let by_nfc = intent("p-nfc", "c-calls", won(10), MethodGuard::Nfc, t0());
    assert_eq!(
        s.commit_payment(&by_nfc).await.unwrap(),
        CommitOutcome::Committed
    );
    println!(
        "{:<44} {:>2} {:?}",
        "new payment (NFC): load + commit",
        calls.total(),
        calls.snapshot()
    );
    assert_eq!(
        calls.snapshot(),
        ops(&[("GetItem", 1), ("TransactWriteItems", 1)])
    );

    // A declined commit is diagnosed from the cancellation reasons alone: no extra read.
    let too_much = intent(
        "p-big",
        "c-calls",
        won(60_000),
        MethodGuard::Token(hash("tok-calls")),
        t0(),
    );
    let (r, made) = counted!(
        calls,
        "declined commit (single limit)",
        s.commit_payment(&too_much)
    );
    assert_eq!(r.unwrap(), CommitOutcome::Declined(Decline::SingleLimit));
    assert_eq!(made, ops(&[("TransactWriteItems", 1)]));
    let declined = failed_record("p-big", ResultCode::PaymentAmountExceedLimit, t0());
    let (r, made) = counted!(calls, "record_payment", s.record_payment(&declined));
    assert_eq!(r.unwrap(), PutOutcome::Stored);
    assert_eq!(made, ops(&[("PutItem", 1)]));
    let (r, made) = counted!(
        calls,
        "record_payment (exists)",
        s.record_payment(&declined)
    );
    assert!(matches!(r.unwrap(), PutOutcome::Exists(_)));
    assert_eq!(made, ops(&[("PutItem", 1)]));
    let (r, made) = counted!(calls, "commit of an existing id", s.commit_payment(&pay));
    assert!(matches!(r.unwrap(), CommitOutcome::Exists(_)));
    assert_eq!(made, ops(&[("TransactWriteItems", 1)]));

    // Refunds: one read, one transaction; a repeat one read.
    let refund = refund_intent("r-calls", "p-calls", won(100), t0());
    let (r, made) = counted!(calls, "refund", s.refund(&refund));
    assert!(matches!(r.unwrap(), RefundOutcome::Refunded(_)));
    assert_eq!(made, ops(&[("BatchGetItem", 1), ("TransactWriteItems", 1)]));
    let (r, made) = counted!(calls, "refund (repeat)", s.refund(&refund));
    assert!(matches!(r.unwrap(), RefundOutcome::Exists(_)));
    assert_eq!(made, ops(&[("BatchGetItem", 1)]));

    // Cancels by prior state.
    let now = t0();
    let (r, made) = counted!(
        calls,
        "cancel (succeeded)",
        s.cancel_payment("p-calls", now)
    );
    assert!(matches!(r.unwrap(), CancelOutcome::Reversed(_)));
    assert_eq!(made, ops(&[("GetItem", 1), ("TransactWriteItems", 1)]));
    let (r, made) = counted!(
        calls,
        "cancel (already cancelled)",
        s.cancel_payment("p-calls", now)
    );
    assert!(matches!(r.unwrap(), CancelOutcome::AlreadyClosed(_)));
    assert_eq!(made, ops(&[("GetItem", 1)]));
    let (r, made) = counted!(calls, "cancel (failed)", s.cancel_payment("p-big", now));
    assert!(matches!(r.unwrap(), CancelOutcome::Closed(_)));
    assert_eq!(made, ops(&[("GetItem", 1), ("UpdateItem", 1)]));
    let (r, made) = counted!(
        calls,
        "cancel (unknown id)",
        s.cancel_payment("p-none", now)
    );
    assert!(matches!(r.unwrap(), CancelOutcome::Closed(_)));
    assert_eq!(made, ops(&[("GetItem", 1), ("PutItem", 1)]));

    // Cancelled after midnight UTC+8 with the debit day's counters still standing (no payment
    // since): the transaction guessed "gone" (the debit was not today), is refused with the
    // account item, and runs once more giving the day's allowance back: 3 calls, the rare case.
    let late = intent(
        "p-late",
        "c-calls",
        won(10),
        MethodGuard::Token(hash("tok-calls")),
        t0(),
    );
    assert_eq!(
        s.commit_payment(&late).await.unwrap(),
        CommitOutcome::Committed
    );
    let before = s.account(&CustomerId::new("c-calls")).await.unwrap();
    let after_midnight = mpp_e2e::conformance::next_day() + chrono::Duration::minutes(10);
    let (r, made) = counted!(
        calls,
        "cancel (after midnight, counters standing)",
        s.cancel_payment("p-late", after_midnight)
    );
    assert!(matches!(r.unwrap(), CancelOutcome::Reversed(_)));
    assert_eq!(made, ops(&[("GetItem", 1), ("TransactWriteItems", 2)]));
    let krw = mpp_e2e::conformance::krw();
    let day = mpp_e2e::conformance::DAY0;
    let allowance =
        |a: &Option<mpp_core::store::Account>| a.as_ref().map(|a| a.allowance(krw, day));
    let after = s.account(&CustomerId::new("c-calls")).await.unwrap();
    assert_eq!(
        allowance(&after),
        allowance(&before).map(|(amount, count)| (
            amount.checked_add(mpp_core::money::MinorUnit(10)).unwrap(),
            count + 1
        ))
    );

    // Reads and admin.
    let (r, made) = counted!(calls, "payment (inquiry)", s.payment("p-calls"));
    assert!(r.unwrap().is_some());
    assert_eq!(made, ops(&[("GetItem", 1)]));
    let (r, made) = counted!(calls, "account", s.account(&CustomerId::new("c-calls")));
    assert!(r.unwrap().is_some());
    assert_eq!(made, ops(&[("GetItem", 1)]));
    let (r, made) = counted!(calls, "find_method", s.find_method(&method));
    r.unwrap();
    assert_eq!(made, ops(&[("GetItem", 1)]));
    let topup = won(5);
    let (r, made) = counted!(
        calls,
        "credit",
        s.credit(&CustomerId::new("c-calls"), topup, "TOPUP#1", t0())
    );
    r.unwrap();
    assert_eq!(made, ops(&[("TransactWriteItems", 1)]));
    let (r, made) = counted!(
        calls,
        "update_account_settings",
        s.update_account_settings(&CustomerId::new("c-calls"), a.status, a.kyc, &a.limits)
    );
    r.unwrap();
    assert_eq!(made, ops(&[("GetItem", 1), ("UpdateItem", 1)]));
    let (r, made) = counted!(calls, "ledger", s.ledger(&CustomerId::new("c-calls")));
    assert!(!r.unwrap().is_empty());
    assert_eq!(made, ops(&[("Query", 1)]));
    let (r, made) = counted!(calls, "payments", s.payments());
    assert!(!r.unwrap().is_empty());
    assert_eq!(made, ops(&[("Scan", 1)]));
    let (r, made) = counted!(calls, "account_ids", s.account_ids());
    assert_eq!(r.unwrap().len(), 1);
    assert_eq!(made, ops(&[("Scan", 1)]));
    assert_eq!(
        s.account(&CustomerId::new("c-calls"))
            .await
            .unwrap()
            .unwrap()
            .balances
            .values()
            .next(),
        Some(&MinorUnit(100_000 - 1_000 - 10 - 10 + 100 + 900 + 5))
    );
}

/// What the concurrency scenarios cost: printed for the record, bounded by the retry limits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_payments_stay_within_the_retry_bounds() {
    let Some((s, calls)) = dynamodb_local::store().await else {
        return;
    };
    let s = std::sync::Arc::new(s);
    let started = std::time::Instant::now();
    mpp_e2e::conformance::concurrent_payments_never_overdraw(s.clone()).await;
    let made = calls.snapshot();
    println!(
        "200 concurrent payments on one wallet: {made:?} in {:?}",
        started.elapsed()
    );
    let transactions = made.get("TransactWriteItems").copied().unwrap_or(0);
    let bound = mpp_e2e::conformance::CONCURRENT_PAYMENTS as u64
        * u64::from(mpp_aws::dynamo::TXN_ATTEMPTS_MAX)
        * u64::from(mpp_aws::dynamo::SEND_ATTEMPTS_MAX);
    assert!(transactions >= mpp_e2e::conformance::CONCURRENT_PAYMENTS as u64);
    assert!(transactions <= bound);
}
