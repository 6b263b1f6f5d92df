//! The account-binding conformance suite on DynamoDB Local: each test on its own tables. Run
//! with `bash .ci/dynamodb-local.sh run cargo test --offline -p mpp-e2e --test bindings_dynamodb`.

use mpp_core::store::Ports;
use std::sync::Arc;

mod dynamodb_local;

async fn ports() -> Option<Ports> {
    let (store, _calls) = dynamodb_local::store().await?;
    Some(Ports::of(Arc::new(store)))
}

mpp_e2e::binding_tests!(ports);
