//! The store conformance suite on DynamoDB Local behind a fault-injecting proxy
//! (`fault_proxy`): transaction conflicts, throttling, unprocessed batch keys and lost answers
//! on a fixed schedule. The answers must be exactly those of the memory store all the same: the
//! retries are bounded, idempotent (one `ClientRequestToken` per call) and diagnosed from the
//! stored state. Run with
//! `bash .ci/dynamodb-local.sh run cargo test --offline -p mpp-e2e --test store_dynamodb_faults`.

use fault_proxy::Schedule;
use mpp_aws::dynamo::{dynamo_client, DynamoStore, SEND_ATTEMPTS_MAX};
use mpp_core::payments::{
    CommitOutcome, MethodGuard, PayStore, PaymentReader, PutOutcome, WalletReader,
};
use mpp_core::result_code::ResultCode;
use mpp_core::store::{AdminStore, StoreError};
use mpp_e2e::conformance::{account, failed_record, hash, intent, t0, token, won};
use std::sync::atomic::Ordering;
use std::sync::Arc;

#[allow(dead_code)] // this file uses only part of the helpers
mod dynamodb_local;
mod fault_proxy;

async fn store() -> Option<Arc<DynamoStore>> {
    let upstream = dynamodb_local::endpoint()?;
    let proxy = fault_proxy::start(&upstream, fault_proxy::Schedule::EveryKindOnce).await;
    Some(Arc::new(dynamodb_local::store_at(&proxy.url).await.0))
}

mpp_e2e::conformance_tests!(store);

/// The schedule really injects every kind of fault, and the store still answers right.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_fault_is_injected_and_survived() {
    let Some(upstream) = dynamodb_local::endpoint() else {
        return;
    };
    let proxy = fault_proxy::start(&upstream, fault_proxy::Schedule::EveryKindOnce).await;
    let (store, calls) = dynamodb_local::store_at(&proxy.url).await;
    let store = Arc::new(store);
    mpp_e2e::conformance::refunds_partial_several_and_refused(store.clone()).await;
    mpp_e2e::conformance::cancel_of_a_success_reverses_balance_allowance_and_ledger(store).await;
    let i = &proxy.injected;
    let (conflicts, throttles, lost, unprocessed) = (
        i.conflicts.load(Ordering::Relaxed),
        i.throttles.load(Ordering::Relaxed),
        i.lost_answers.load(Ordering::Relaxed),
        i.unprocessed.load(Ordering::Relaxed),
    );
    println!("injected: {conflicts} conflicts, {throttles} throttles, {lost} lost answers, {unprocessed} unprocessed batches; requests {:?}", calls.snapshot());
    assert!(conflicts > 0 && throttles > 0 && lost > 0 && unprocessed > 0);
}

/// Writes whose every answer is lost end in `OutcomeUnknown` after the bounded retries; they may
/// well have happened, and repeating them is safe. Reads end `Unavailable`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_answers_past_the_bound_are_outcome_unknown_and_safe_to_repeat() {
    let Some(upstream) = dynamodb_local::endpoint() else {
        return;
    };
    let (direct, _) = dynamodb_local::store_at(&upstream).await;
    direct
        .create_account(
            &account("c-lost", &[(mpp_e2e::conformance::krw(), 1_000)]),
            t0(),
        )
        .await
        .unwrap();
    direct
        .put_token(&token("tok-lost", "c-lost"))
        .await
        .unwrap();
    let proxy = fault_proxy::start(&upstream, Schedule::LoseEveryAnswer).await;
    let lossy = DynamoStore::new(
        dynamo_client(Some(&proxy.url)).await,
        direct.tables().clone(),
    );

    let record = failed_record("lost-1", ResultCode::UserBalanceNotEnough, t0());
    let Err(StoreError::OutcomeUnknown(cause)) = lossy.record_payment(&record).await else {
        panic!("a write whose answers were all lost is OutcomeUnknown");
    };
    // The SDK's error is kept as the source, not flattened into the message.
    assert!(
        std::error::Error::source(&cause).is_some(),
        "{}",
        cause.chain()
    );
    assert!(
        cause.chain().contains("InternalServerError"),
        "{}",
        cause.chain()
    );
    let pay = intent(
        "lost-2",
        "c-lost",
        won(100),
        MethodGuard::Token(hash("tok-lost")),
        t0(),
    );
    assert!(matches!(
        lossy.commit_payment(&pay).await,
        Err(StoreError::OutcomeUnknown(_))
    ));
    assert!(matches!(
        lossy.payment("lost-1").await,
        Err(StoreError::Unavailable(_))
    ));
    assert_eq!(
        proxy.injected.lost_answers.load(Ordering::Relaxed),
        3 * u64::from(SEND_ATTEMPTS_MAX),
        "each call tried exactly SEND_ATTEMPTS_MAX times"
    );

    // Both writes did happen; repeating them is safe and debits once.
    assert_eq!(
        direct.payment("lost-1").await.unwrap(),
        Some(record.clone())
    );
    assert_eq!(
        direct.record_payment(&record).await.unwrap(),
        PutOutcome::Exists(record)
    );
    assert_eq!(
        direct.commit_payment(&pay).await.unwrap(),
        CommitOutcome::Exists(pay.payment.clone())
    );
    let balance = direct
        .account(&pay.customer_id)
        .await
        .unwrap()
        .unwrap()
        .balances;
    assert_eq!(
        balance.get(&mpp_e2e::conformance::krw()).map(|v| v.get()),
        Some(900)
    );
}

/// Throttling that outlasts the bounded retries is `Throttled`, for reads and writes alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_past_the_bound_is_throttled() {
    let Some(upstream) = dynamodb_local::endpoint() else {
        return;
    };
    let (direct, _) = dynamodb_local::store_at(&upstream).await;
    let proxy = fault_proxy::start(&upstream, Schedule::ThrottleEverything).await;
    let throttled = DynamoStore::new(
        dynamo_client(Some(&proxy.url)).await,
        direct.tables().clone(),
    );
    let a = account("c-throttled", &[(mpp_e2e::conformance::krw(), 1_000)]);
    assert!(matches!(
        throttled.account(&a.customer_id).await,
        Err(StoreError::Throttled)
    ));
    assert!(matches!(
        throttled.create_account(&a, t0()).await,
        Err(StoreError::Throttled)
    ));
    let record = failed_record("thr-1", ResultCode::UserBalanceNotEnough, t0());
    assert!(matches!(
        throttled.record_payment(&record).await,
        Err(StoreError::Throttled)
    ));
    assert_eq!(
        direct.payment("thr-1").await.unwrap(),
        None,
        "a throttled write never happened"
    );
}
