//! sendOTP and verifyOTP scenarios (`mpp_e2e::otp_scenarios`) through the real handlers, on the
//! memory store and on DynamoDB Local (each scenario on its own fresh tables). Without
//! `DYNAMODB_ENDPOINT` outside CI the DynamoDB module says so and runs on memory; in CI its
//! absence fails. Run the DynamoDB half with
//! `bash .ci/dynamodb-local.sh run cargo test -p mpp-e2e --test otp`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test file

#[allow(dead_code)] // this file uses only part of the helpers
mod dynamodb_local;
#[allow(dead_code)]
mod fault_proxy;

mod memory {
    use mpp_core::payments::Policy;
    use mpp_core::store::memory::MemoryStore;
    use mpp_core::store::Ports;
    use mpp_e2e::harness::Mpp;
    use mpp_e2e::pay_scenarios::Factory;
    use std::sync::Arc;

    fn factory() -> Factory {
        Arc::new(|policy: Policy| {
            Box::pin(async move { Mpp::on(Ports::of(Arc::new(MemoryStore::new())), policy).await })
        })
    }

    mpp_e2e::otp_scenario_tests!(factory());
}

mod dynamodb {
    use mpp_e2e::pay_scenarios::{dynamodb_factory, Factory};

    fn factory() -> Factory {
        dynamodb_factory("otp")
    }

    mpp_e2e::otp_scenario_tests!(factory());
}

/// The same scenarios on DynamoDB Local behind the fault-injecting proxy: every request meets
/// a transaction conflict, throttling, an unprocessed batch and a lost answer once. The answers
/// must not change: the OTP transaction is idempotent (one `ClientRequestToken` per call), a
/// verify whose answer was lost is recognised on `ALL_OLD` and counted once.
mod dynamodb_faults {
    use mpp_core::payments::Policy;
    use mpp_core::store::memory::MemoryStore;
    use mpp_core::store::Ports;
    use mpp_e2e::harness::Mpp;
    use mpp_e2e::pay_scenarios::Factory;
    use std::sync::Arc;

    use super::{dynamodb_local, fault_proxy};

    fn factory() -> Factory {
        Arc::new(|policy: Policy| {
            Box::pin(async move {
                let Some(upstream) = mpp_e2e::process::dynamodb_endpoint() else {
                    return Mpp::on(Ports::of(Arc::new(MemoryStore::new())), policy).await;
                };
                let proxy =
                    fault_proxy::start(&upstream, fault_proxy::Schedule::EveryKindOnce).await;
                let (store, _) = dynamodb_local::store_at(&proxy.url).await;
                Mpp::on(Ports::of(Arc::new(store)), policy).await
            })
        })
    }

    mpp_e2e::otp_scenario_tests!(factory());
}
