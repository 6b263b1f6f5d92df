//! The applyToken Lambda function: Alipay+ exchanges an authCode for an access and a refresh
//! token, or rotates a pair.
//!
//! HTTP in, domain call, HTTP out.

use lambda_http::{Body, Request, Response};
use mpp_core::bindings::{apply_token, ApplyTokenRequest, TokenDeps};
use mpp_core::edge::Edge;
use std::convert::Infallible;

/// The Alipay+ operation name, from the operation table (`mpp_core::operations`).
pub const OPERATION: &str = mpp_core::operations::APPLY_TOKEN.name;

/// Built once per cold start.
#[derive(Clone)]
pub struct Deps {
    /// Signature checks and response signing.
    pub edge: Edge,
    /// The exchange and rotation, the clock, the cap of bindings.
    pub tokens: TokenDeps,
}

impl Deps {
    /// This function's dependencies, from what every function is built from.
    pub fn from_wiring(w: &mpp_core::wiring::Wiring) -> Deps {
        Deps {
            edge: w.edge.clone(),
            tokens: TokenDeps {
                store: w.ports.bindings.tokens.clone(),
                clock: w.clock.clone(),
                settings: w.bindings.clone(),
                mac: w.token_mac.clone(),
            },
        }
    }
}

/// Handles one `POST /aps/api/v1/authorizations/applyToken`. Never fails: every outcome is a signed envelope.
pub async fn handle(deps: &Deps, request: Request) -> Result<Response<Body>, Infallible> {
    mpp_aws::lambda::answer(
        &deps.edge,
        OPERATION,
        &request,
        |req: ApplyTokenRequest| async move { Ok(apply_token(&deps.tokens, &req).await?) },
    )
    .await
}
