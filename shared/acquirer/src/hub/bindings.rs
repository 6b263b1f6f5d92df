//! Account binding through the hub (issue 18): the merchant's prepare, applyToken and
//! cancelToken (through its acquirer, signed with the acquirer's key) are forwarded to the MPP
//! with the hub's own `acquirerId` and `pspId`, signed as Alipay+, and the MPP's answer relayed;
//! the MPP's authNotify is verified, kept (`GET /hub/authNotify` lists it) and acknowledged. No
//! answer from the MPP is U `UNKNOWN_EXCEPTION`, as for pay: the merchant re-sends the same
//! request (the MPP answers a re-sent applyToken with the same pair).
//!
//! Routing: cancelToken by the access token's longest matching prefix (else the first MPP);
//! prepare and applyToken (a merchant's first contact, a code or refresh token the MPP made) go
//! to the first MPP, the local network's wallet.

use super::faults::FaultKind;
use super::otp::{forward, ids};
use super::HubState;
use mpp_core::bindings::{
    ApplyTokenRequest, ApplyTokenResponse, AuthNotifyRequest, AuthNotifyResponse,
    CancelTokenRequest, CancelTokenResponse, ConsultUnbindingRequest, ConsultUnbindingResponse,
    PrepareRequest, PrepareResponse,
};
use mpp_core::ids::Secret;
use mpp_core::operations::{APPLY_TOKEN, CANCEL_TOKEN, PREPARE};
use mpp_core::result_code::ResultCode;
use mpp_core::wire::{ResultObject, Text};
use serde::Serialize;

/// The path the hub lists the authNotify it received at (JSON lines, oldest first).
pub const AUTH_NOTICES_PATH: &str = "/hub/authNotify";

/// The most authNotify the hub keeps (the oldest go first): a bound on its memory.
pub const AUTH_NOTICES_MAX: usize = 1_000;

/// One authNotify the MPP sent: what it was about (the token only as its hash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthNotice {
    /// `AUTHCODE_CREATED`, `TOKEN_CREATED` or `TOKEN_CANCELED`.
    pub authorization_notify_type: String,
    /// The merchant's client id.
    pub auth_client_id: String,
    /// The merchant's agreement id, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_agreement_id: Option<String>,
    /// The wallet user, if sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// SHA-256 (hex) of the access token, for the token types.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_hash: Option<String>,
}

fn unknown() -> ResultObject {
    ResultObject::from(ResultCode::UnknownException)
}

/// The merchant's prepare, forwarded.
pub(super) async fn prepare(hub: &HubState, mut req: PrepareRequest) -> PrepareResponse {
    let answer = match ids(hub) {
        Some((acquirer_id, psp_id)) => {
            req.acquirer_id = Some(acquirer_id);
            req.psp_id = psp_id;
            forward(hub, &PREPARE, "", &req).await
        }
        None => None,
    };
    answer.unwrap_or_else(|| PrepareResponse {
        result: unknown(),
        auth_url: None,
    })
}

/// The merchant's applyToken, forwarded.
pub(super) async fn apply_token(hub: &HubState, mut req: ApplyTokenRequest) -> ApplyTokenResponse {
    let answer = match ids(hub) {
        Some((acquirer_id, psp_id)) => {
            req.acquirer_id = Some(acquirer_id);
            req.psp_id = psp_id;
            forward(hub, &APPLY_TOKEN, "", &req).await
        }
        None => None,
    };
    answer.unwrap_or_else(|| ApplyTokenResponse {
        result: unknown(),
        access_token: None,
        access_token_expiry_time: None,
        refresh_token: None,
        refresh_token_expiry_time: None,
        customer_id: None,
        user_login_id: None,
    })
}

/// The merchant's cancelToken, forwarded to the token's MPP.
pub(super) async fn cancel_token(
    hub: &HubState,
    mut req: CancelTokenRequest,
) -> CancelTokenResponse {
    let answer = match ids(hub) {
        Some((acquirer_id, psp_id)) => {
            req.acquirer_id = Some(acquirer_id);
            req.psp_id = psp_id;
            let token = req.access_token.as_str().to_string();
            forward(hub, &CANCEL_TOKEN, &token, &req).await
        }
        None => None,
    };
    answer.unwrap_or_else(|| CancelTokenResponse { result: unknown() })
}

/// The MPP's authNotify: kept (bounded), acknowledged with the hub's ids.
pub(super) fn auth_notify(hub: &HubState, req: AuthNotifyRequest) -> AuthNotifyResponse {
    let notice = AuthNotice {
        authorization_notify_type: req.authorization_notify_type.as_str().to_string(),
        auth_client_id: req.auth_client_id.as_str().to_string(),
        reference_agreement_id: req.reference_agreement_id.map(|t| t.as_str().to_string()),
        customer_id: req.customer_id.map(|t| t.as_str().to_string()),
        access_token_hash: req.access_token.map(|t| Secret::new(t.as_str()).hash().0),
    };
    tracing::info!(flow = "hub", operation = "authNotify", notify_type = %notice.authorization_notify_type, "authNotify received");
    {
        let mut records = hub.records();
        if records.auth_notices.len() >= AUTH_NOTICES_MAX {
            records.auth_notices.remove(0);
        }
        records.auth_notices.push(notice);
    }
    let (acquirer_id, psp_id) = match ids(hub) {
        Some((a, p)) => (Some(a), Some(p)),
        None => (None, None),
    };
    AuthNotifyResponse {
        result: ResultObject::from(ResultCode::Success),
        acquirer_id,
        psp_id,
    }
}

/// The MPP's consultUnbinding (the user unbinds inside the wallet): Alipay+ asks the merchant;
/// the hub plays a merchant that allows it (`allowUnbinding` "true") unless the
/// `consultUnbinding=deny` fault is in force ("false"), or a `u:` fault answers U.
pub(super) fn consult_unbinding(
    _hub: &HubState,
    req: ConsultUnbindingRequest,
    fault: Option<FaultKind>,
) -> ConsultUnbindingResponse {
    let (result, allow) = match fault {
        Some(FaultKind::AnswerU(code)) => (ResultObject::from(code), None),
        Some(FaultKind::Deny) => (ResultObject::from(ResultCode::Success), Some("false")),
        Some(FaultKind::Drop | FaultKind::Delay(_) | FaultKind::Slow(_)) | None => {
            (ResultObject::from(ResultCode::Success), Some("true"))
        }
    };
    tracing::info!(flow = "hub", operation = "consultUnbinding", auth_client_id = %req.auth_client_id.as_str(), allow_unbinding = allow.unwrap_or("-"), "consultUnbinding answered");
    ConsultUnbindingResponse {
        result,
        allow_unbinding: allow.and_then(|a| Text::new(a).ok()),
    }
}

/// `GET /hub/authNotify`: the notices as JSON lines, oldest first.
pub(super) fn notices_lines(hub: &HubState) -> String {
    hub.records()
        .auth_notices
        .iter()
        .filter_map(|n| serde_json::to_string(n).ok())
        .map(|l| l + "\n")
        .collect()
}
