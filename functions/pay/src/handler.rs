//! The pay Lambda function: Alipay+ charges a wallet user (auto debit, user-presented mode, NFC,
//! supplemental payments); evaluation requests arriving on this route are evaluated by the same
//! core code the evaluation function runs. This file is the whole of it; `main.rs` only wires it.
//!
//! HTTP in, domain call, HTTP out.

use lambda_http::{Body, Request, Response};
use mpp_core::edge::Edge;
use mpp_core::payments::PayRequest;
use mpp_core::payments::{pay, PayDeps};
use std::convert::Infallible;

/// The Alipay+ operation name, from the operation table (`mpp_core::operations`): the route,
/// the `flow` log field and the metric dimension; the crate, binary and SAM resource are the
/// table's `function` (checked by `tests/tests/infra.rs`).
pub const OPERATION: &str = mpp_core::operations::PAY.name;

/// Built once per cold start.
#[derive(Clone)]
pub struct Deps {
    /// Signature checks and response signing.
    pub edge: Edge,
    /// The store, clock and policy pay needs.
    pub pay: PayDeps,
}

impl Deps {
    /// This function's dependencies, from what every function is built from (the one place:
    /// the Lambda cold start, `mpp serve` and the tests all call this).
    pub fn from_wiring(w: &mpp_core::wiring::Wiring) -> Deps {
        Deps {
            edge: w.edge.clone(),
            pay: PayDeps {
                store: w.ports.payments.pay.clone(),
                wallet: w.ports.payments.wallet.clone(),
                clock: w.clock.clone(),
                policy: w.policy.clone(),
            },
        }
    }
}
/// Handles one `POST /aps/api/v1/payments/pay`. Never fails: every outcome is a signed envelope.
pub async fn handle(deps: &Deps, request: Request) -> Result<Response<Body>, Infallible> {
    mpp_aws::lambda::answer(
        &deps.edge,
        OPERATION,
        &request,
        |req: PayRequest| async move { Ok(pay(&deps.pay, &req).await?.response) },
    )
    .await
}
