//! The same pay, evaluation, inquiry, cancel and refund scenarios as `pay_handler.rs`, end to
//! end through the real handlers on DynamoDB Local, each scenario on its own fresh tables.
//! In CI DynamoDB Local is always there (its absence fails the run); elsewhere, without
//! `DYNAMODB_ENDPOINT`, the scenarios say so and run on the memory store instead.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test file

use mpp_aws::dynamo::{dynamo_client, DynamoStore, TableNames};
use mpp_core::flows::Policy;
use mpp_core::store::memory::MemoryStore;
use mpp_core::store::Ports;
use mpp_e2e::harness::Mpp;
use mpp_e2e::pay_scenarios::Factory;
use mpp_e2e::process::dynamodb_endpoint;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

static TABLE_SETS: AtomicU32 = AtomicU32::new(0);

fn factory() -> Factory {
    Arc::new(|policy: Policy| {
        Box::pin(async move {
            let Some(endpoint) = dynamodb_endpoint() else {
                return Mpp::on(Ports::of(Arc::new(MemoryStore::new())), policy).await;
            };
            let prefix = format!(
                "pay-{}-{}",
                std::process::id(),
                TABLE_SETS.fetch_add(1, Ordering::SeqCst)
            );
            let store = DynamoStore::new(
                dynamo_client(Some(&endpoint)).await,
                TableNames::with_prefix(&prefix),
            );
            store.create_tables().await.unwrap();
            Mpp::on(Ports::of(Arc::new(store)), policy).await
        })
    })
}

mpp_e2e::pay_scenario_tests!(factory());
mpp_e2e::after_pay_scenario_tests!(factory());
