//! The getPaymentCode Lambda function: the MPP's own app backend asks for payment codes its app
//! shows (user-presented mode, `user-presented-mpp.md` §2); the function asks Alipay+, signed
//! with the MPP's key, verifies the signed answer and hands the codes back. It is served on the
//! internal API (IAM-authorised), never on the route Alipay+ calls, and reads no table.
//!
//! HTTP in, domain call, HTTP out.

use lambda_http::{Body, Request, Response};
use mpp_core::codes::{serve_internal_within, CodesDeps};
use std::convert::Infallible;
use std::time::Instant;

/// The Alipay+ operation name, from the operation table (`mpp_core::operations`): the route,
/// the `flow` log field and the metric dimension; the crate, binary and SAM resource are the
/// table's `function` (checked by `tests/tests/infra.rs`).
pub const OPERATION: &str = mpp_core::operations::GET_PAYMENT_CODE.name;

/// The route on the internal (IAM-authorised) API the app backend calls.
pub const INTERNAL_ROUTE: &str = mpp_core::operations::GET_PAYMENT_CODE.route;

/// Built once per cold start.
#[derive(Clone)]
pub struct Deps {
    /// Alipay+, through the signed client.
    pub codes: CodesDeps,
}

/// Handles one `POST /codes/getPaymentCode` from the app backend. Never fails: every outcome
/// is a JSON envelope (unsigned: the caller is authenticated by IAM, not by a signature).
pub async fn handle(deps: &Deps, request: Request) -> Result<Response<Body>, Infallible> {
    let started = Instant::now();
    let r = mpp_aws::lambda::internal_request(OPERATION, &request);
    let answer = serve_internal_within(
        &deps.codes,
        OPERATION,
        &r.invocation,
        r.method,
        r.content_type,
        r.body,
    )
    .await;
    Ok(mpp_aws::lambda::internal_response(
        OPERATION, answer, started,
    ))
}
