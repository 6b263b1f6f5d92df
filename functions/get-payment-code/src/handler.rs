//! The getPaymentCode Lambda function: the MPP's own app backend asks for payment codes its app
//! shows (user-presented mode, `user-presented-mpp.md` §2); the function asks Alipay+, signed
//! with the MPP's key, verifies the signed answer and hands the codes back. It is served on the
//! internal API (IAM-authorised), never on the route Alipay+ calls, and reads no table.
//!
//! HTTP in, domain call, HTTP out.

use lambda_http::{Body, Request, Response};
use mpp_core::flows::codes::{serve_internal_within, CodesDeps};
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
    let content_type = request
        .headers()
        .get(http_content_type())
        .and_then(|v| v.to_str().ok());
    let invocation = mpp_aws::lambda::invocation(OPERATION, &request);
    let answer = serve_internal_within(
        &deps.codes,
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
        http_content_type(),
        lambda_http::http::HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    Ok(response)
}

fn http_content_type() -> lambda_http::http::header::HeaderName {
    lambda_http::http::header::CONTENT_TYPE
}
