//! Unbinding from the wallet (`account-binding.md` §1 step 7, §6): the MPP's own app backend
//! lists a customer's bindings and asks to undo one. The flow asks Alipay+ `consultUnbinding`
//! with the binding's live access token (re-derived from the server-held key and the record's
//! generation, `crate::token_mac`) and then:
//!
//! - `allowUnbinding` `"true"`: revokes the binding with cancelToken's transition, and writes
//!   authNotify `TOKEN_CANCELED` into the outbox in the same write (`store::bindings::decide_unbind`);
//!   answers S;
//! - `"false"`: changes nothing; answers F `UNBINDING_NOT_ALLOWED` (the user unbinds at the
//!   merchant) with `allowUnbinding` `"false"`;
//! - an F from Alipay+: changes nothing, passes the code on;
//! - no usable answer (lost, U, unsigned, a value other than `"true"`/`"false"`): changes
//!   nothing, answers U `UNKNOWN_EXCEPTION`. Never revoke on doubt.
//!
//! Served on the internal (IAM-authorised) route of the `consult-unbinding` function and by
//! `mpp serve` on loopback; the body is `{"customerId": ..., "authId": ...}`, and without
//! `authId` the answer lists the customer's live bindings (`bindings`) and asks nothing.

use super::codes::{internal_within, refuse_transport, CodesAnswer};
use crate::clock::{wire_time, Clock};
use crate::edge::{scrub, Invocation};
use crate::ids::{CustomerId, Secret};
use crate::result_code::{ResultCode, ResultStatus};
use crate::store::bindings::{Authorization, UnbindIntent, UnbindOutcome, UnbindingStore};
use crate::store::StoreError;
use crate::token_mac::{derive_token, TokenMac, ACCESS_LABEL};
use crate::wire::{
    parse_request, to_body, ConsultUnbindingRequest, ParamIllegal, ResultObject, Text, Validate,
};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Why Alipay+ gave no "true" or "false": refused (F), or no trustworthy answer (timeouts, U, a
/// bad signature or body, an `allowUnbinding` that is neither) within the retry budget.
pub type ConsultError = crate::outbound::Unanswered;

/// The port where Alipay+ sits: consultUnbinding, signed and verified.
#[async_trait]
pub trait UnbindingConsultant: Send + Sync {
    /// Whether the merchant allows unbinding this binding from the wallet.
    async fn consult(&self, req: &ConsultUnbindingRequest) -> Result<bool, ConsultError>;
}

/// What the flow needs (the consult-unbinding function's permissions: the bindings table,
/// `kms:GenerateMac` on the token key, Alipay+).
#[derive(Clone)]
pub struct UnbindingDeps {
    /// A customer's bindings; the revocation.
    pub store: Arc<dyn UnbindingStore>,
    /// Alipay+.
    pub consultant: Arc<dyn UnbindingConsultant>,
    /// The server-held token key.
    pub mac: Arc<dyn TokenMac>,
    /// Now.
    pub clock: Arc<dyn Clock>,
}

/// The app backend's request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WalletUnbindingRequest {
    /// The wallet user.
    pub customer_id: Text<64>,
    /// The binding to undo; absent: list the customer's bindings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_id: Option<Text<64>>,
}

impl Validate for WalletUnbindingRequest {
    fn validate(&self) -> Result<(), ParamIllegal> {
        match &self.auth_id {
            Some(id)
                if crate::store::bindings::auth_id_of_page(id.as_str().to_string()).is_none() =>
            {
                Err(ParamIllegal::new(
                    "authId",
                    "is 32 lower-case hex characters",
                ))
            }
            Some(_) | None => Ok(()),
        }
    }
}

/// One live binding, as the app shows it (no token, no hash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BindingSummary {
    /// The binding's id (what an unbinding names).
    pub auth_id: String,
    /// prepare's `authClientId`.
    pub auth_client_id: String,
    /// prepare's `authClientName`.
    pub auth_client_name: String,
    /// prepare's `authClientDisplayName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_client_display_name: Option<String>,
    /// prepare's `referenceMerchantId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_merchant_id: Option<String>,
    /// The granted scopes.
    pub scopes: Vec<String>,
    /// When it was bound (the code exchanged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bound_at: Option<String>,
}

impl BindingSummary {
    fn of(a: &Authorization) -> BindingSummary {
        BindingSummary {
            auth_id: a.auth_id.clone(),
            auth_client_id: a.client.auth_client_id.clone(),
            auth_client_name: a.client.auth_client_name.clone(),
            auth_client_display_name: a.client.auth_client_display_name.clone(),
            reference_merchant_id: a.client.reference_merchant_id.clone(),
            scopes: a.client.scopes.clone(),
            bound_at: a.decided_at.map(wire_time),
        }
    }
}

/// The answer to the app backend.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WalletUnbindingResponse {
    /// S: listed, or revoked (now or before); F: not allowed, no such binding, Alipay+'s F;
    /// U: nothing changed, ask again.
    pub result: ResultObject,
    /// The listing: the customer's live bindings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bindings: Option<Vec<BindingSummary>>,
    /// Alipay+'s `allowUnbinding`, when it answered one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_unbinding: Option<String>,
}

impl Validate for WalletUnbindingResponse {
    fn validate(&self) -> Result<(), ParamIllegal> {
        Ok(())
    }
}

fn reply(code: ResultCode, message: Option<String>) -> WalletUnbindingResponse {
    let mut result = ResultObject::from(code);
    if let Some(m) = message {
        result.result_message = Some(m.chars().take(256).collect());
    }
    WalletUnbindingResponse {
        result,
        bindings: None,
        allow_unbinding: None,
    }
}

fn unknown(why: &str, e: &(dyn std::error::Error + 'static)) -> WalletUnbindingResponse {
    tracing::warn!(error = %crate::cause::chain(e), "{why}");
    reply(
        ResultCode::UnknownException,
        Some(format!("{why}: nothing changed; ask again")),
    )
}

/// Lists (without `authId`) or consults and unbinds (with it).
pub async fn wallet_unbinding(
    deps: &UnbindingDeps,
    req: &WalletUnbindingRequest,
) -> WalletUnbindingResponse {
    let customer = CustomerId::new(req.customer_id.as_str());
    let bindings = match deps.store.customer_bindings(&customer).await {
        Ok(b) => b,
        Err(e) => return unknown("the bindings could not be read", &e),
    };
    let Some(auth_id) = req.auth_id.as_ref().map(|t| t.as_str()) else {
        let mut r = reply(ResultCode::Success, None);
        r.bindings = Some(bindings.iter().map(BindingSummary::of).collect());
        return r;
    };
    let Some(binding) = bindings.iter().find(|b| b.auth_id == auth_id) else {
        // Not live: revoked before (a re-sent unbinding after a lost answer gets S again) or
        // never this customer's. The decision tells which, without a token.
        return match unbind(deps, auth_id, &customer, Secret::new("")).await {
            Ok(UnbindOutcome::AlreadyCancelled) => reply(ResultCode::Success, None),
            Ok(UnbindOutcome::NotFound | UnbindOutcome::Moved | UnbindOutcome::Revoked) => {
                reply(ResultCode::BindingNotExist, None)
            }
            Err(e) => unknown("the binding could not be read", &e),
        };
    };
    let token = match derive_token(
        deps.mac.as_ref(),
        &binding.auth_id,
        binding.token_generation,
        ACCESS_LABEL,
    )
    .await
    {
        Ok(t) => t,
        Err(e) => return unknown("the token key did not answer", &e),
    };
    let Some(consult) = consult_request(binding, &token) else {
        return reply(
            ResultCode::UnknownException,
            Some("the binding's fields do not fit consultUnbinding".into()),
        );
    };
    let allowed = deps.consultant.consult(&consult).await;
    tracing::info!(
        auth_id = %binding.auth_id,
        allowed = ?allowed.as_ref().ok(),
        "consultUnbinding answered"
    );
    match allowed {
        Ok(true) => {
            let mut r = match unbind(deps, auth_id, &customer, token).await {
                Ok(UnbindOutcome::Revoked | UnbindOutcome::AlreadyCancelled) => {
                    reply(ResultCode::Success, None)
                }
                Ok(UnbindOutcome::NotFound) => reply(ResultCode::BindingNotExist, None),
                Ok(UnbindOutcome::Moved) => reply(
                    ResultCode::UnknownException,
                    Some("the binding was refreshed meanwhile: nothing changed; ask again".into()),
                ),
                Err(e) => return unknown("the revocation's outcome is unknown", &e),
            };
            r.allow_unbinding = Some("true".into());
            r
        }
        Ok(false) => {
            let mut r = reply(ResultCode::UnbindingNotAllowed, None);
            r.allow_unbinding = Some("false".into());
            r
        }
        Err(ConsultError::Refused { code, message }) => WalletUnbindingResponse {
            result: ResultObject {
                result_code: code,
                result_status: ResultStatus::F,
                result_message: Some(message.chars().take(256).collect()),
            },
            bindings: None,
            allow_unbinding: None,
        },
        Err(ConsultError::Unknown(why)) => {
            tracing::warn!(reason = %scrub(&why), "consultUnbinding gave no answer");
            reply(
                ResultCode::UnknownException,
                Some("Alipay+ gave no answer: nothing changed; ask again".into()),
            )
        }
    }
}

async fn unbind(
    deps: &UnbindingDeps,
    auth_id: &str,
    customer: &CustomerId,
    token: Secret,
) -> Result<UnbindOutcome, StoreError> {
    deps.store
        .unbind(&UnbindIntent {
            auth_id: auth_id.to_string(),
            customer_id: customer.clone(),
            access_token: token,
            now: deps.clock.now(),
        })
        .await
}

/// The consultUnbinding request for `binding` with its live `token`.
pub fn consult_request(binding: &Authorization, token: &Secret) -> Option<ConsultUnbindingRequest> {
    Some(ConsultUnbindingRequest {
        auth_client_id: Text::new(binding.client.auth_client_id.as_str()).ok()?,
        reference_merchant_id: binding
            .client
            .reference_merchant_id
            .as_deref()
            .map(Text::new)
            .transpose()
            .ok()?,
        access_token: Text::new(token.expose()).ok()?,
    })
}

fn answer(code: ResultCode, response: &WalletUnbindingResponse) -> CodesAnswer {
    CodesAnswer {
        status: code.http_status(),
        body: to_body(response),
        code,
    }
}

/// Serves one call: `POST` with a JSON body only, then [`wallet_unbinding`].
pub async fn serve_internal(
    deps: &UnbindingDeps,
    method: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> CodesAnswer {
    if let Some(code) = refuse_transport(method, content_type) {
        return answer(code, &reply(code, None));
    }
    let req = match parse_request::<WalletUnbindingRequest>(body) {
        Ok(r) => r,
        Err(p) => {
            let code = ResultCode::ParamIllegal;
            let message = format!("{} `{}`: {}", code.message(), p.field, scrub(&p.rule));
            return answer(code, &reply(code, Some(message)));
        }
    };
    let response = wallet_unbinding(deps, &req).await;
    let code = response
        .result
        .code()
        .unwrap_or(ResultCode::UnknownException);
    answer(code, &response)
}

/// [`serve_internal`] for one invocation: its ids on every log line, and the answer out by its
/// deadline (U `UNKNOWN_EXCEPTION` past it: a revocation then may or may not have been written;
/// asking again meets it and answers S).
pub async fn serve_internal_within(
    deps: &UnbindingDeps,
    operation: &'static str,
    invocation: &Invocation,
    method: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> CodesAnswer {
    internal_within(
        operation,
        invocation,
        serve_internal(deps, method, content_type, body),
        || {
            let code = ResultCode::UnknownException;
            answer(code, &reply(code, None))
        },
    )
    .await
}
