//! The clearing-day query's conformance scenarios on DynamoDB Local, through the day indexes
//! (`clearingDay-paymentRequestId`, `clearingDay-refundRequestId`). Run with
//! `bash .ci/dynamodb-local.sh run cargo test --offline -p mpp-e2e --test clearing_dynamodb`.

use mpp_aws::dynamo::DynamoStore;
use std::sync::Arc;

mod dynamodb_local;

async fn store() -> Option<Arc<DynamoStore>> {
    dynamodb_local::store()
        .await
        .map(|(store, _calls)| Arc::new(store))
}

mpp_e2e::clearing_conformance_tests!(store);
