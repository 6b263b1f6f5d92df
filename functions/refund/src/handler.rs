//! The refund Lambda function: Alipay+ gives back part or all of a succeeded payment, once per
//! `refundRequestId`.
//!
//! HTTP in, domain call, HTTP out.

use lambda_http::{Body, Request, Response};
use mpp_core::edge::Edge;
use mpp_core::payments::RefundRequest;
use mpp_core::payments::{refund, RefundDeps};
use std::convert::Infallible;

/// The Alipay+ operation name, from the operation table (`mpp_core::operations`): the route,
/// the `flow` log field and the metric dimension; the crate, binary and SAM resource are the
/// table's `function` (checked by `tests/tests/infra.rs`).
pub const OPERATION: &str = mpp_core::operations::REFUND.name;

/// Built once per cold start.
#[derive(Clone)]
pub struct Deps {
    /// Signature checks and response signing.
    pub edge: Edge,
    /// The refund transaction, a payment read and the clock.
    pub refund: RefundDeps,
}

impl Deps {
    /// This function's dependencies, from what every function is built from (the one place:
    /// the Lambda cold start, `mpp serve` and the tests all call this).
    pub fn from_wiring(w: &mpp_core::wiring::Wiring) -> Deps {
        Deps {
            edge: w.edge.clone(),
            refund: RefundDeps {
                store: w.ports.payments.refund.clone(),
                clock: w.clock.clone(),
            },
        }
    }
}
/// Handles one `POST /aps/api/v1/payments/refund`. Never fails: every outcome is a signed envelope.
pub async fn handle(deps: &Deps, request: Request) -> Result<Response<Body>, Infallible> {
    mpp_aws::lambda::answer(
        &deps.edge,
        OPERATION,
        &request,
        |req: RefundRequest| async move { Ok(refund(&deps.refund, &req).await?) },
    )
    .await
}
