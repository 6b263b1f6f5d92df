//! Connecting the DynamoDB tests to DynamoDB Local (`DYNAMODB_ENDPOINT`, set by
//! `.ci/dynamodb-local.sh run`).

use mpp_aws::dynamo::{dynamo_client, CallCounter, DynamoStore, TableNames};
use std::hash::{BuildHasher, Hasher};

/// The variable `.ci/dynamodb-local.sh run` sets.
pub const ENDPOINT_VAR: &str = "DYNAMODB_ENDPOINT";

/// The DynamoDB Local endpoint; `None` (the test passes vacuously, saying why) when it is not
/// there outside CI. In CI (`CI` set) a missing endpoint fails the test.
pub fn endpoint() -> Option<String> {
    if let Ok(endpoint) = std::env::var(ENDPOINT_VAR) {
        return Some(endpoint);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "{ENDPOINT_VAR} is not set: in CI the DynamoDB tests must run under \
             `bash .ci/dynamodb-local.sh run cargo test ...`"
        );
    }
    eprintln!(
        "skipped: {ENDPOINT_VAR} is not set (run under `bash .ci/dynamodb-local.sh run ...`)"
    );
    None
}

/// A store on DynamoDB Local with fresh tables under a random prefix, and the counter of its
/// requests (zero after the table set-up).
pub async fn store() -> Option<(DynamoStore, CallCounter)> {
    Some(store_at(&endpoint()?).await)
}

/// A store reached at `url` (DynamoDB Local, or a proxy in front of it), fresh tables.
pub async fn store_at(url: &str) -> (DynamoStore, CallCounter) {
    let calls = CallCounter::new();
    let client = calls.attach(&dynamo_client(Some(url)).await);
    let store = DynamoStore::new(client, TableNames::with_prefix(&random_prefix()));
    if let Err(e) = store.create_tables().await {
        panic!("creating the tables on {url}: {e}");
    }
    calls.reset();
    (store, calls)
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
