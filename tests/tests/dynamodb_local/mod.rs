//! Connecting the DynamoDB tests to DynamoDB Local (`DYNAMODB_ENDPOINT`, set by
//! `.ci/dynamodb-local.sh run`).

use mpp_aws::dynamo::{dynamo_client, CallCounter, DynamoStore, TableNames};
use std::hash::{BuildHasher, Hasher};

/// The variable `.ci/dynamodb-local.sh run` sets.
pub const ENDPOINT_VAR: &str = "DYNAMODB_ENDPOINT";

/// A store on fresh tables with a random prefix, and the counter of its requests; `None` (the
/// test passes vacuously, saying why) when DynamoDB Local is not there outside CI. In CI (`CI`
/// set) a missing endpoint fails the test.
pub async fn store() -> Option<(DynamoStore, CallCounter)> {
    let Ok(endpoint) = std::env::var(ENDPOINT_VAR) else {
        if std::env::var_os("CI").is_some() {
            panic!(
                "{ENDPOINT_VAR} is not set: in CI the DynamoDB tests must run under \
                 `bash .ci/dynamodb-local.sh run cargo test ...`"
            );
        }
        eprintln!(
            "skipped: {ENDPOINT_VAR} is not set (run under `bash .ci/dynamodb-local.sh run ...`)"
        );
        return None;
    };
    let calls = CallCounter::new();
    let client = calls.attach(&dynamo_client(Some(&endpoint)).await);
    let store = DynamoStore::new(client, TableNames::with_prefix(&random_prefix()));
    store.create_tables().await.unwrap();
    calls.reset();
    Some((store, calls))
}

fn random_prefix() -> String {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    format!("t{:016x}", h.finish())
}
