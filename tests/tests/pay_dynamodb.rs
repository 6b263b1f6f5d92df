//! The same pay, evaluation, inquiry, cancel and refund scenarios as `pay_handler.rs`, end to
//! end through the real handlers on DynamoDB Local, each scenario on its own fresh tables.
//! In CI DynamoDB Local is always there (its absence fails the run); elsewhere, without
//! `DYNAMODB_ENDPOINT`, the scenarios say so and run on the memory store instead.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test file

use mpp_e2e::pay_scenarios::{dynamodb_factory, Factory};

fn factory() -> Factory {
    dynamodb_factory("pay")
}

mpp_e2e::pay_scenario_tests!(factory());
mpp_e2e::after_pay_scenario_tests!(factory());
