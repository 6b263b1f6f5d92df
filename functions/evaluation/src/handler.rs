//! The evaluation Lambda function: payment evaluation (`isAgreementPayment` and
//! `isPaymentEvaluation` both `"true"`) with read-only store access. A pay request that is not
//! an evaluation is refused here (`PARAM_ILLEGAL`): this function may not move money.
//!
//! HTTP in, domain call, HTTP out.

use lambda_http::{Body, Request, Response};
use mpp_core::edge::{Edge, EdgeError};
use mpp_core::payments::PayRequest;
use mpp_core::payments::{evaluate, EvaluationDeps};
use mpp_core::wire::ParamIllegal;
use std::convert::Infallible;

/// The Alipay+ operation name, from the operation table (`mpp_core::operations`): the route,
/// the `flow` log field and the metric dimension; the crate, binary and SAM resource are the
/// table's `function` (checked by `tests/tests/infra.rs`).
pub const OPERATION: &str = mpp_core::operations::EVALUATION.name;

/// Built once per cold start.
#[derive(Clone)]
pub struct Deps {
    /// Signature checks and response signing.
    pub edge: Edge,
    /// Read-only wallet access, clock and policy.
    pub evaluation: EvaluationDeps,
}

impl Deps {
    /// This function's dependencies, from what every function is built from (the one place:
    /// the Lambda cold start, `mpp serve` and the tests all call this).
    pub fn from_wiring(w: &mpp_core::wiring::Wiring) -> Deps {
        Deps {
            edge: w.edge.clone(),
            evaluation: EvaluationDeps {
                wallet: w.ports.payments.wallet.clone(),
                clock: w.clock.clone(),
                policy: w.policy.clone(),
            },
        }
    }
}
/// Handles one evaluation call. Never fails: every outcome is a signed envelope.
pub async fn handle(deps: &Deps, request: Request) -> Result<Response<Body>, Infallible> {
    mpp_aws::lambda::answer(
        &deps.edge,
        OPERATION,
        &request,
        |req: PayRequest| async move {
            if !req.is_evaluation() {
                return Err(EdgeError::Param(ParamIllegal::new(
                    "paymentFactor.isPaymentEvaluation",
                    "must be \"true\" with isAgreementPayment \"true\" on the evaluation route",
                )));
            }
            Ok(evaluate(&deps.evaluation, &req).await?.response)
        },
    )
    .await
}
