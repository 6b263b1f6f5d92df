//! The cancel Lambda function: Alipay+ closes a payment (cancelPayment), whatever its state;
//! money taken goes back in one transaction.
//!
//! HTTP in, domain call, HTTP out.

use lambda_http::{Body, Request, Response};
use mpp_core::edge::Edge;
use mpp_core::payments::CancelPaymentRequest;
use mpp_core::payments::{cancel, CancelDeps};
use std::convert::Infallible;

/// The Alipay+ operation name, from the operation table (`mpp_core::operations`): the route,
/// the `flow` log field and the metric dimension; the crate, binary and SAM resource are the
/// table's `function` (checked by `tests/tests/infra.rs`).
pub const OPERATION: &str = mpp_core::operations::CANCEL_PAYMENT.name;

/// Built once per cold start.
#[derive(Clone)]
pub struct Deps {
    /// Signature checks and response signing.
    pub edge: Edge,
    /// The cancel transaction, a payment read, the clock and the window.
    pub cancel: CancelDeps,
}

impl Deps {
    /// This function's dependencies, from what every function is built from (the one place:
    /// the Lambda cold start, `mpp serve` and the tests all call this).
    pub fn from_wiring(w: &mpp_core::wiring::Wiring) -> Deps {
        Deps {
            edge: w.edge.clone(),
            cancel: CancelDeps {
                store: w.ports.payments.cancel_payment.clone(),
                clock: w.clock.clone(),
                cutoff: w.cancel_cutoff,
            },
        }
    }
}
/// Handles one `POST /aps/api/v1/payments/cancelPayment`. Never fails: every outcome is a signed envelope.
pub async fn handle(deps: &Deps, request: Request) -> Result<Response<Body>, Infallible> {
    mpp_aws::lambda::answer(
        &deps.edge,
        OPERATION,
        &request,
        |req: CancelPaymentRequest| async move { Ok(cancel(&deps.cancel, &req).await?) },
    )
    .await
}
