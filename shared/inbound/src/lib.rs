//! Every function that answers Alipay+ (or the user's browser, for the authorization page), built
//! from one [`Wiring`] and routed by operation name: what `mpp serve` and the test harness run.
//!
//! A Lambda function builds only its own `Deps` (its `main.rs`); a process that runs them all
//! builds them here, once, so the list of functions and their wiring is written in one place. A
//! new Alipay+-facing operation adds its field and its arm below (docs/architecture.md,
//! checklist); `tests/tests/serve_e2e.rs` calls every inbound route of the operation table
//! through `mpp serve`, so a missing arm fails there.

use lambda_http::{Body, Request, Response};
use mpp_core::messaging::Outbox;
use mpp_core::operations;
use mpp_core::wiring::Wiring;
use std::sync::Arc;

/// The dependencies of every inbound function.
#[derive(Clone)]
pub struct Inbound {
    /// pay.
    pub pay: pay::Deps,
    /// Payment evaluation.
    pub evaluation: evaluation::Deps,
    /// inquiryPayment.
    pub inquiry: inquiry_payment::Deps,
    /// cancelPayment.
    pub cancel: cancel_payment::Deps,
    /// refund.
    pub refund: refund::Deps,
    /// sendOTP, delivering through the outbox.
    pub send_otp: send_otp::Deps,
    /// verifyOTP.
    pub verify_otp: verify_otp::Deps,
    /// sendOTP's local delivery: what was sent, for `GET /dev/outbox` and the tests.
    pub outbox: Arc<Outbox>,
    /// prepare.
    pub prepare: prepare::Deps,
    /// applyToken.
    pub apply_token: apply_token::Deps,
    /// cancelToken.
    pub cancel_token: cancel_token::Deps,
    /// The wallet's authorization page.
    pub authorization_page: authorization_page::Deps,
}

impl Inbound {
    /// Every inbound function's dependencies from `wiring`; one-time passwords go to `outbox`
    /// (SNS/SES only in Lambda).
    pub fn from_wiring(wiring: &Wiring, outbox: Arc<Outbox>) -> Inbound {
        Inbound {
            send_otp: send_otp::Deps::from_wiring(wiring, outbox.clone()),
            verify_otp: verify_otp::Deps::from_wiring(wiring),
            outbox,
            pay: pay::Deps::from_wiring(wiring),
            evaluation: evaluation::Deps::from_wiring(wiring),
            inquiry: inquiry_payment::Deps::from_wiring(wiring),
            cancel: cancel_payment::Deps::from_wiring(wiring),
            refund: refund::Deps::from_wiring(wiring),
            prepare: prepare::Deps::from_wiring(wiring),
            apply_token: apply_token::Deps::from_wiring(wiring),
            cancel_token: cancel_token::Deps::from_wiring(wiring),
            authorization_page: authorization_page::Deps::from_wiring(wiring),
        }
    }

    /// Runs the function of operation `name` (a name of the operation table) on `request`;
    /// `Err(request)` gives the request back when no inbound function here has that name.
    pub async fn handle(&self, name: &str, request: Request) -> Result<Response<Body>, Request> {
        let response = match name {
            n if n == operations::PAY.name => pay::handle(&self.pay, request).await,
            n if n == operations::EVALUATION.name => {
                evaluation::handle(&self.evaluation, request).await
            }
            n if n == operations::INQUIRY_PAYMENT.name => {
                inquiry_payment::handle(&self.inquiry, request).await
            }
            n if n == operations::CANCEL_PAYMENT.name => {
                cancel_payment::handle(&self.cancel, request).await
            }
            n if n == operations::REFUND.name => refund::handle(&self.refund, request).await,
            n if n == operations::SEND_OTP.name => send_otp::handle(&self.send_otp, request).await,
            n if n == operations::VERIFY_OTP.name => {
                verify_otp::handle(&self.verify_otp, request).await
            }
            n if n == operations::PREPARE.name => prepare::handle(&self.prepare, request).await,
            n if n == operations::APPLY_TOKEN.name => {
                apply_token::handle(&self.apply_token, request).await
            }
            n if n == operations::CANCEL_TOKEN.name => {
                cancel_token::handle(&self.cancel_token, request).await
            }
            n if n == operations::AUTHORIZATION_PAGE.name => {
                authorization_page::handle(&self.authorization_page, request).await
            }
            _ => return Err(request),
        };
        // Every handler answers every request (an error is a signed envelope or a page).
        Ok(match response {
            Ok(r) => r,
            Err(never) => match never {},
        })
    }
}
