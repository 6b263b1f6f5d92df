//! sendOTP and verifyOTP through the hub: the acquirer (for a merchant that challenges a user)
//! sends them signed to the hub, which forwards them to the MPP that issued the access token
//! (the route of the token's longest matching prefix, else the first route) with its own
//! `acquirerId` and `pspId`, signed as Alipay+, and relays the MPP's answer. No answer from the
//! MPP is U `UNKNOWN_EXCEPTION`, as for pay.

use super::HubState;
use crate::gateway::{decode, Reply};
use mpp_core::operations::{Operation, SEND_OTP, VERIFY_OTP};
use mpp_core::otp::{SendOtpRequest, SendOtpResponse, VerifyOtpRequest, VerifyOtpResponse};
use mpp_core::result_code::ResultCode;
use mpp_core::wire::{to_body, ResultObject, Text, Validate};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Sends `body` (the acquirer's request with the hub's ids) to the token's MPP (the first MPP
/// when no prefix matches, as for `""`); the MPP's verified answer, or `None` when there was no
/// usable one. Also the binding operations' forwarding (`bindings`).
pub(super) async fn forward<Req, Resp>(
    hub: &HubState,
    op: &Operation,
    token: &str,
    req: &Req,
) -> Option<Resp>
where
    Req: Serialize,
    Resp: DeserializeOwned + Validate,
{
    let client = hub
        .route_for(token)
        .map(|(_, c)| c)
        .or_else(|| hub.mpp.first().map(|(_, c)| c))?;
    let reply: Reply<Resp> = match client.call(&op.path(), &to_body(req)).await {
        Ok(a) => decode(a),
        Err(e) => Reply::NoAnswer(e.to_string()),
    };
    match reply {
        Reply::Answer(a) => Some(a),
        Reply::NoAnswer(why) => {
            tracing::warn!(flow = "hub", operation = op.name, reason = %why, "MPP gave no answer");
            None
        }
    }
}

/// The hub's `acquirerId` and `pspId` (as it sends them in pay).
pub(super) fn ids(hub: &HubState) -> Option<(Text<64>, Text<64>)> {
    Some((
        Text::new(hub.config.acquirer_id.as_str()).ok()?,
        Text::new(hub.config.psp_id.as_str()).ok()?,
    ))
}

/// The acquirer's sendOTP, forwarded.
pub(super) async fn send_otp(hub: &HubState, mut req: SendOtpRequest) -> SendOtpResponse {
    let answer = match ids(hub) {
        Some((acquirer_id, psp_id)) => {
            req.acquirer_id = acquirer_id;
            req.psp_id = psp_id;
            forward(hub, &SEND_OTP, req.access_token.0.as_str(), &req).await
        }
        None => None,
    };
    answer.unwrap_or_else(|| SendOtpResponse {
        result: ResultObject::from(ResultCode::UnknownException),
        verify_request_id: None,
    })
}

/// The acquirer's verifyOTP, forwarded.
pub(super) async fn verify_otp(hub: &HubState, mut req: VerifyOtpRequest) -> VerifyOtpResponse {
    let answer = match ids(hub) {
        Some((acquirer_id, psp_id)) => {
            req.acquirer_id = acquirer_id;
            req.psp_id = psp_id;
            forward(hub, &VERIFY_OTP, req.access_token.0.as_str(), &req).await
        }
        None => None,
    };
    answer.unwrap_or_else(|| VerifyOtpResponse {
        result: ResultObject::from(ResultCode::UnknownException),
    })
}
