//! The store conformance suite on DynamoDB Local behind a fault-injecting proxy
//! (`fault_proxy`): transaction conflicts, throttling, unprocessed batch keys and lost answers
//! on a fixed schedule. The answers must be exactly those of the memory store all the same: the
//! retries are bounded, idempotent (one `ClientRequestToken` per call) and diagnosed from the
//! stored state. Run with
//! `bash .ci/dynamodb-local.sh run cargo test --offline -p mpp-e2e --test store_dynamodb_faults`.

use mpp_aws::dynamo::DynamoStore;
use std::sync::atomic::Ordering;
use std::sync::Arc;

#[allow(dead_code)] // this file uses only part of the helpers
mod dynamodb_local;
mod fault_proxy;

async fn store() -> Option<Arc<DynamoStore>> {
    let upstream = dynamodb_local::endpoint()?;
    let proxy = fault_proxy::start(&upstream).await;
    Some(Arc::new(dynamodb_local::store_at(&proxy.url).await.0))
}

mpp_e2e::conformance_tests!(store);

/// The schedule really injects every kind of fault, and the store still answers right.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_fault_is_injected_and_survived() {
    let Some(upstream) = dynamodb_local::endpoint() else { return };
    let proxy = fault_proxy::start(&upstream).await;
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
