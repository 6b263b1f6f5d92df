//! The prepare Lambda function: Alipay+ asks for our authorization page for a merchant binding
//! request.
//!
//! HTTP in, domain call, HTTP out.

use lambda_http::{Body, Request, Response};
use mpp_core::bindings::{prepare, PrepareDeps, PrepareRequest};
use mpp_core::edge::Edge;
use std::convert::Infallible;

/// The Alipay+ operation name, from the operation table (`mpp_core::operations`).
pub const OPERATION: &str = mpp_core::operations::PREPARE.name;

/// Built once per cold start.
#[derive(Clone)]
pub struct Deps {
    /// Signature checks and response signing.
    pub edge: Edge,
    /// The authorizations, the clock, where the page is.
    pub prepare: PrepareDeps,
}

impl Deps {
    /// This function's dependencies, from what every function is built from.
    pub fn from_wiring(w: &mpp_core::wiring::Wiring) -> Deps {
        Deps {
            edge: w.edge.clone(),
            prepare: PrepareDeps {
                store: w.ports.bindings.prepare.clone(),
                clock: w.clock.clone(),
                settings: w.bindings.clone(),
            },
        }
    }
}

/// Handles one `POST /aps/api/v1/authorizations/prepare`. Never fails: every outcome is a signed envelope.
pub async fn handle(deps: &Deps, request: Request) -> Result<Response<Body>, Infallible> {
    mpp_aws::lambda::answer(
        &deps.edge,
        OPERATION,
        &request,
        |req: PrepareRequest| async move { Ok(prepare(&deps.prepare, &req).await?) },
    )
    .await
}
