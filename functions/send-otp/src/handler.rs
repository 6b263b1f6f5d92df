//! The send-otp Lambda function: Alipay+ sendOTP. A merchant challenges an auto-debit user; we
//! send a one-time password by SMS (SNS) or e-mail (SES) and answer its `verifyRequestId`.
//!
//! HTTP in, domain call, HTTP out.

use lambda_http::{Body, Request, Response};
use mpp_core::edge::Edge;
use mpp_core::messaging::MessageSender;
use mpp_core::otp::SendOtpRequest;
use mpp_core::otp::{send_otp, SendOtpDeps};
use std::convert::Infallible;
use std::sync::Arc;

/// The Alipay+ operation name, from the operation table (`mpp_core::operations`): the route,
/// the `flow` log field and the metric dimension.
pub const OPERATION: &str = mpp_core::operations::SEND_OTP.name;

/// Built once per cold start.
#[derive(Clone)]
pub struct Deps {
    /// Signature checks and response signing.
    pub edge: Edge,
    /// The token and account reads, the OTP write, the delivery port, the clock.
    pub send: SendOtpDeps,
}

impl Deps {
    /// This function's dependencies, from what every function is built from plus its delivery
    /// port (SNS/SES in Lambda, the outbox in `mpp serve` and the tests).
    pub fn from_wiring(w: &mpp_core::wiring::Wiring, sender: Arc<dyn MessageSender>) -> Deps {
        Deps {
            edge: w.edge.clone(),
            send: SendOtpDeps {
                store: w.ports.otp.send_otp.clone(),
                sender,
                clock: w.clock.clone(),
            },
        }
    }
}

/// Handles one `POST /aps/api/v1/users/sendOTP`. Never fails: every outcome is a signed envelope.
pub async fn handle(deps: &Deps, request: Request) -> Result<Response<Body>, Infallible> {
    mpp_aws::lambda::answer(
        &deps.edge,
        OPERATION,
        &request,
        |req: SendOtpRequest| async move { Ok(send_otp(&deps.send, &req).await?) },
    )
    .await
}
