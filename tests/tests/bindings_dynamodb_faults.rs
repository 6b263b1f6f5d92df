//! The account-binding conformance suite on DynamoDB Local behind the fault-injecting proxy
//! (`fault_proxy`, the schedule `store_dynamodb_faults` uses): transaction conflicts, throttling
//! and lost answers. Every scenario must still give the memory store's answers: a retried write
//! that meets its own earlier write is recognised (the PIN counter counts a wrong PIN once), and
//! a transaction retried after a lost answer is applied once (one `ClientRequestToken`). Run with
//! `bash .ci/dynamodb-local.sh run cargo test --offline -p mpp-e2e --test bindings_dynamodb_faults`.

use mpp_core::store::Ports;
use std::sync::Arc;

#[allow(dead_code)] // this file uses only part of the helpers
mod dynamodb_local;
#[allow(dead_code)] // this file uses only part of the proxy
mod fault_proxy;

async fn ports() -> Option<Ports> {
    let upstream = dynamodb_local::endpoint()?;
    let proxy = fault_proxy::start(&upstream, fault_proxy::Schedule::EveryKindOnce).await;
    Some(Ports::of(Arc::new(
        dynamodb_local::store_at(&proxy.url).await.0,
    )))
}

mpp_e2e::binding_tests!(ports);
