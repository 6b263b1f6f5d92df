//! The consultUnbinding Lambda function: the MPP's own app backend lists a customer's bindings
//! and undoes one from inside the wallet (`account-binding.md` §6). The function asks Alipay+
//! consultUnbinding, signed with the MPP's key, with the binding's live token (derived with
//! `kms:GenerateMac` on the token key); when allowed it revokes the binding and writes authNotify
//! TOKEN_CANCELED in the same transaction (`mpp_core::flows::unbinding`). Served on the internal
//! API (IAM-authorised), never on the routes Alipay+ calls.
//!
//! HTTP in, domain call, HTTP out.

use lambda_http::{Body, Request, Response};
use mpp_core::flows::unbinding::{serve_internal_within, UnbindingDeps};
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
    let content_type = request
        .headers()
        .get(lambda_http::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let invocation = mpp_aws::lambda::invocation(OPERATION, &request);
    let answer = serve_internal_within(
        &deps.unbinding,
        OPERATION,
        &invocation,
        request.method().as_str(),
        content_type,
        mpp_aws::lambda::body_bytes(request.body()),
    )
    .await;
    mpp_aws::lambda::record_answer(OPERATION, answer.code, started.elapsed());
    let text = String::from_utf8_lossy(&answer.body).into_owned();
    let mut response = Response::new(Body::Text(text));
    *response.status_mut() = lambda_http::http::StatusCode::from_u16(answer.status)
        .unwrap_or(lambda_http::http::StatusCode::OK);
    response.headers_mut().insert(
        lambda_http::http::header::CONTENT_TYPE,
        lambda_http::http::HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    Ok(response)
}
