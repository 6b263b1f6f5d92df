//! The consultUnbinding Lambda function: the MPP's own app backend lists a customer's bindings
//! and undoes one from inside the wallet (`account-binding.md` §6). The function asks Alipay+
//! consultUnbinding, signed with the MPP's key, with the binding's live token (derived with
//! `kms:GenerateMac` on the token key); when allowed it revokes the binding and writes authNotify
//! TOKEN_CANCELED in the same transaction (`mpp_core::bindings::consult_unbinding`). Served on the internal
//! API (IAM-authorised), never on the routes Alipay+ calls.
//!
//! HTTP in, domain call, HTTP out.

use lambda_http::{Body, Request, Response};
use mpp_core::bindings::{serve_internal_within, UnbindingDeps};
use std::convert::Infallible;
use std::time::Instant;

/// The operation name, from the operation table (`mpp_core::operations`): the route, the `flow`
/// log field and the metric dimension; the crate, binary and SAM resource are the table's
/// `function` (checked by `tests/tests/infra.rs`).
pub const OPERATION: &str = mpp_core::operations::CONSULT_UNBINDING.name;

/// The route on the internal (IAM-authorised) API the app backend calls.
pub const INTERNAL_ROUTE: &str = mpp_core::operations::CONSULT_UNBINDING.route;

/// Built once per cold start.
#[derive(Clone)]
pub struct Deps {
    /// The bindings, the token key, Alipay+.
    pub unbinding: UnbindingDeps,
}

/// Handles one `POST /bindings/consultUnbinding` from the app backend. Never fails: every
/// outcome is a JSON envelope (unsigned: the caller is authenticated by IAM).
pub async fn handle(deps: &Deps, request: Request) -> Result<Response<Body>, Infallible> {
    let started = Instant::now();
    let r = mpp_aws::lambda::internal_request(OPERATION, &request);
    let answer = serve_internal_within(
        &deps.unbinding,
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
