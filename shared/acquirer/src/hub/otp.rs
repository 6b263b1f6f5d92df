//! sendOTP and verifyOTP through the hub: the acquirer (for a merchant that challenges a user)
//! sends them signed to the hub, which forwards them to the MPP that issued the access token
//! (the route of the token's longest matching prefix, else the first route) with its own
//! `acquirerId` and `pspId`, signed as Alipay+, and relays the MPP's answer. No answer from the
//! MPP is U `UNKNOWN_EXCEPTION`, as for pay.

use super::HubState;
use crate::gateway::{decode, Reply};
use mpp_client::SignedClient;
use mpp_core::operations::{SEND_OTP, VERIFY_OTP};
use mpp_core::result_code::ResultCode;
use mpp_core::wire::{
    to_body, ResultObject, SendOtpRequest, SendOtpResponse, Text, VerifyOtpRequest,
    VerifyOtpResponse,
};

fn mpp_for<'h>(hub: &'h HubState, token: &str) -> Option<&'h SignedClient> {
    hub.route_for(token)
        .map(|(_, c)| c)
        .or_else(|| hub.mpp.first().map(|(_, c)| c))
}

fn ids(hub: &HubState) -> Option<(Text<64>, Text<64>)> {
    Some((
        Text::new(hub.config.acquirer_id.as_str()).ok()?,
        Text::new(hub.config.psp_id.as_str()).ok()?,
    ))
}

/// The acquirer's sendOTP, forwarded.
pub(super) async fn send_otp(hub: &HubState, mut req: SendOtpRequest) -> SendOtpResponse {
    let failed = |code: ResultCode| SendOtpResponse {
        result: ResultObject::from(code),
        verify_request_id: None,
    };
    let (Some(client), Some((acquirer_id, psp_id))) =
        (mpp_for(hub, req.access_token.0.as_str()), ids(hub))
    else {
        return failed(ResultCode::UnknownException);
    };
    req.acquirer_id = acquirer_id;
    req.psp_id = psp_id;
    let reply: Reply<SendOtpResponse> = match client.call(&SEND_OTP.path(), &to_body(&req)).await {
        Ok(a) => decode(a),
        Err(e) => Reply::NoAnswer(e.to_string()),
    };
    match reply {
        Reply::Answer(a) => a,
        Reply::NoAnswer(why) => {
            tracing::warn!(flow = "hub", reason = %why, "MPP gave no answer to sendOTP");
            failed(ResultCode::UnknownException)
        }
    }
}

/// The acquirer's verifyOTP, forwarded.
pub(super) async fn verify_otp(hub: &HubState, mut req: VerifyOtpRequest) -> VerifyOtpResponse {
    let failed = |code: ResultCode| VerifyOtpResponse {
        result: ResultObject::from(code),
    };
    let (Some(client), Some((acquirer_id, psp_id))) =
        (mpp_for(hub, req.access_token.0.as_str()), ids(hub))
    else {
        return failed(ResultCode::UnknownException);
    };
    req.acquirer_id = acquirer_id;
    req.psp_id = psp_id;
    let reply: Reply<VerifyOtpResponse> =
        match client.call(&VERIFY_OTP.path(), &to_body(&req)).await {
            Ok(a) => decode(a),
            Err(e) => Reply::NoAnswer(e.to_string()),
        };
    match reply {
        Reply::Answer(a) => a,
        Reply::NoAnswer(why) => {
            tracing::warn!(flow = "hub", reason = %why, "MPP gave no answer to verifyOTP");
            failed(ResultCode::UnknownException)
        }
    }
}
