//! The inquiry Lambda function: Alipay+ asks what became of a payment (inquiryPayment).
//! Read-only store access.
//!
//! HTTP in, domain call, HTTP out.

use lambda_http::{Body, Request, Response};
use mpp_core::edge::Edge;
use mpp_core::payments::InquiryPaymentRequest;
use mpp_core::payments::{inquire, InquiryDeps};
use std::convert::Infallible;

/// The Alipay+ operation name, from the operation table (`mpp_core::operations`): the route,
/// the `flow` log field and the metric dimension; the crate, binary and SAM resource are the
/// table's `function` (checked by `tests/tests/infra.rs`).
pub const OPERATION: &str = mpp_core::operations::INQUIRY_PAYMENT.name;

/// Built once per cold start.
#[derive(Clone)]
pub struct Deps {
    /// Signature checks and response signing.
    pub edge: Edge,
    /// Read-only payment access.
    pub inquiry: InquiryDeps,
}

impl Deps {
    /// This function's dependencies, from what every function is built from (the one place:
    /// the Lambda cold start, `mpp serve` and the tests all call this).
    pub fn from_wiring(w: &mpp_core::wiring::Wiring) -> Deps {
        Deps {
            edge: w.edge.clone(),
            inquiry: InquiryDeps {
                payments: w.ports.payments.inquiry_payment.clone(),
            },
        }
    }
}
/// Handles one `POST /aps/api/v1/payments/inquiryPayment`. Never fails: every outcome is a signed envelope.
pub async fn handle(deps: &Deps, request: Request) -> Result<Response<Body>, Infallible> {
    mpp_aws::lambda::answer(
        &deps.edge,
        OPERATION,
        &request,
        |req: InquiryPaymentRequest| async move { Ok(inquire(&deps.inquiry, &req).await?) },
    )
    .await
}
