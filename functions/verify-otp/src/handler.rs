//! The verify-otp Lambda function: Alipay+ verifyOTP. Does the code the user typed match the
//! one-time password sendOTP sent? One read, one conditional write.
//!
//! HTTP in, domain call, HTTP out.

use lambda_http::{Body, Request, Response};
use mpp_core::edge::Edge;
use mpp_core::otp::VerifyOtpRequest;
use mpp_core::otp::{verify_otp, VerifyOtpDeps};
use std::convert::Infallible;

/// The Alipay+ operation name, from the operation table (`mpp_core::operations`): the route,
/// the `flow` log field and the metric dimension.
pub const OPERATION: &str = mpp_core::operations::VERIFY_OTP.name;

/// Built once per cold start.
#[derive(Clone)]
pub struct Deps {
    /// Signature checks and response signing.
    pub edge: Edge,
    /// The token and OTP read, the OTP's conditional write, the clock.
    pub verify: VerifyOtpDeps,
}

impl Deps {
    /// This function's dependencies, from what every function is built from.
    pub fn from_wiring(w: &mpp_core::wiring::Wiring) -> Deps {
        Deps {
            edge: w.edge.clone(),
            verify: VerifyOtpDeps {
                store: w.ports.otp.verify_otp.clone(),
                clock: w.clock.clone(),
            },
        }
    }
}

/// Handles one `POST /aps/api/v1/users/verifyOTP`. Never fails: every outcome is a signed envelope.
pub async fn handle(deps: &Deps, request: Request) -> Result<Response<Body>, Infallible> {
    mpp_aws::lambda::answer(
        &deps.edge,
        OPERATION,
        &request,
        |req: VerifyOtpRequest| async move { Ok(verify_otp(&deps.verify, &req).await?) },
    )
    .await
}
