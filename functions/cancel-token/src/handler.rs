//! The cancelToken Lambda function: the merchant unbinds; the access token and its refresh token
//! stop working.
//!
//! HTTP in, domain call, HTTP out.

use lambda_http::{Body, Request, Response};
use mpp_core::bindings::{cancel_token, CancelTokenDeps, CancelTokenRequest};
use mpp_core::edge::Edge;
use std::convert::Infallible;

/// The Alipay+ operation name, from the operation table (`mpp_core::operations`).
pub const OPERATION: &str = mpp_core::operations::CANCEL_TOKEN.name;

/// Built once per cold start.
#[derive(Clone)]
pub struct Deps {
    /// Signature checks and response signing.
    pub edge: Edge,
    /// The revocation and the clock.
    pub cancel_token: CancelTokenDeps,
}

impl Deps {
    /// This function's dependencies, from what every function is built from.
    pub fn from_wiring(w: &mpp_core::wiring::Wiring) -> Deps {
        Deps {
            edge: w.edge.clone(),
            cancel_token: CancelTokenDeps {
                store: w.ports.bindings.cancel_token.clone(),
                clock: w.clock.clone(),
            },
        }
    }
}

/// Handles one `POST /aps/api/v1/authorizations/cancelToken`. Never fails: every outcome is a signed envelope.
pub async fn handle(deps: &Deps, request: Request) -> Result<Response<Body>, Infallible> {
    mpp_aws::lambda::answer(
        &deps.edge,
        OPERATION,
        &request,
        |req: CancelTokenRequest| async move { Ok(cancel_token(&deps.cancel_token, &req).await?) },
    )
    .await
}
