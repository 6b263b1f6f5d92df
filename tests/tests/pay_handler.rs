//! The pay and evaluation handlers, driven with signed API Gateway events, on the memory store.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test file

use mpp_core::payments::Policy;
use mpp_core::store::memory::MemoryStore;
use mpp_core::store::Ports;
use mpp_e2e::harness::Mpp;
use mpp_e2e::pay_scenarios::Factory;
use std::sync::Arc;

fn memory() -> Factory {
    Arc::new(|policy: Policy| {
        Box::pin(async move { Mpp::on(Ports::of(Arc::new(MemoryStore::new())), policy).await })
    })
}

mpp_e2e::pay_scenario_tests!(memory());
mpp_e2e::after_pay_scenario_tests!(memory());
