//! The store conformance suite on DynamoDB Local: each test on its own six tables (a random
//! prefix), so the tests run in parallel. Run with
//! `bash .ci/dynamodb-local.sh run cargo test --offline -p mpp-e2e --test store_dynamodb`.

use mpp_aws::dynamo::DynamoStore;
use std::sync::Arc;

mod dynamodb_local;

async fn store() -> Option<Arc<DynamoStore>> {
    dynamodb_local::store()
        .await
        .map(|(store, _calls)| Arc::new(store))
}

mpp_e2e::conformance_tests!(store);
