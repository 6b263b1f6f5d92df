//! consultUnbinding (MPP → Alipay+, `POST /aps/api/v1/authorizations/consultUnbinding`,
//! `account-binding.md` §6) and the wallet's unbinding it serves.
//!
//! Unbinding from the wallet (`account-binding.md` §1 step 7, §6): the MPP's own app backend
//! lists a customer's bindings and asks to undo one. The flow asks Alipay+ `consultUnbinding`
//! with the binding's live access token (re-derived from the server-held key and the record's
//! generation, `crate::token_mac`) and then:
//!
//! - `allowUnbinding` `"true"`: revokes the binding with cancelToken's transition, and writes
//!   authNotify `TOKEN_CANCELED` into the outbox in the same write ([`decide_unbind`]);
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

use super::auth_notify::auth_notification;
use super::cancel_token::{decide_cancel_token, CancelTokenOutcome};
use super::{
    auth_id_of_page, Authorization, AuthorizationNotifyType, AuthorizationState, Decision,
    CUSTOMER_BINDINGS_MAX,
};
use crate::clock::{wire_time, Clock};
use crate::edge::{scrub, Invocation};
use crate::ids::{CustomerId, Secret};
use crate::internal::{internal_within, refuse_transport, InternalAnswer};
use crate::result_code::{ResultCode, ResultStatus};
use crate::store::memory::MemoryStore;
use crate::store::StoreError;
use crate::token_mac::{derive_token, TokenMac, ACCESS_LABEL};
use crate::wire::{parse_request, to_body, ParamIllegal, ResultObject, Text, Validate};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

// ---- wire ---------------------------------------------------------------------------------------

/// Where Alipay+ serves it (its own side, under the authorization paths of §1).
pub const CONSULT_UNBINDING_PATH: &str = "/aps/api/v1/authorizations/consultUnbinding";

/// What the MPP asks: may this binding be undone from the wallet?
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsultUnbindingRequest {
    /// The client that asked for the binding (prepare's `authClientId`).
    pub auth_client_id: Text<64>,
    /// prepare's `referenceMerchantId`. §6 lists it without saying optional; prepare made it
    /// optional, so a binding prepared without one is asked about without one (we cannot make
    /// one up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_merchant_id: Option<Text<32>>,
    /// The binding's live access token.
    pub access_token: Text<128>,
}

impl fmt::Debug for ConsultUnbindingRequest {
    /// The token never prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsultUnbindingRequest")
            .field("auth_client_id", &self.auth_client_id)
            .field("reference_merchant_id", &self.reference_merchant_id)
            .finish_non_exhaustive()
    }
}

impl Validate for ConsultUnbindingRequest {
    fn validate(&self) -> Result<(), ParamIllegal> {
        Ok(())
    }
}

/// Alipay+'s answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsultUnbindingResponse {
    /// The outcome of the consultation itself.
    pub result: ResultObject,
    /// `"true"` or `"false"` (a JSON string, as every value); with S.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_unbinding: Option<Text<8>>,
}

impl ConsultUnbindingResponse {
    /// `allowUnbinding` read: `Some(true)` / `Some(false)`; `None` when absent or anything else
    /// (never taken as a yes: a binding is only revoked on an explicit `"true"`).
    pub fn allowed(&self) -> Option<bool> {
        match self.allow_unbinding.as_ref().map(|t| t.as_str()) {
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(_) | None => None,
        }
    }
}

impl Validate for ConsultUnbindingResponse {
    fn validate(&self) -> Result<(), ParamIllegal> {
        Ok(())
    }
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
            Some(id) if auth_id_of_page(id.as_str().to_string()).is_none() => Err(
                ParamIllegal::new("authId", "is 32 lower-case hex characters"),
            ),
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

// ---- edge ---------------------------------------------------------------------------------------

// consultUnbinding received (the local hub plays Alipay+): no payment to name.
crate::edge::unkeyed_and_answered! {
    ConsultUnbindingRequest => ConsultUnbindingResponse,
}

// ---- port and decision --------------------------------------------------------------------------

/// The wallet's unbinding (consult-unbinding, `mpp bindings`): a customer's bindings, and the
/// wallet-side revocation with its TOKEN_CANCELED in the same write.
#[async_trait]
pub trait UnbindingStore: Send + Sync {
    /// The customer's BOUND bindings, through the account's list (DynamoDB: the `customer#<id>`
    /// item's `authIds`, kept by every transition that binds or cancels; no scan, no index), at
    /// most [`CUSTOMER_BINDINGS_MAX`], oldest first.
    async fn customer_bindings(
        &self,
        customer_id: &CustomerId,
    ) -> Result<Vec<Authorization>, StoreError>;
    /// [`decide_unbind`] on the binding `auth_id` and the account's count.
    async fn unbind(&self, intent: &UnbindIntent) -> Result<UnbindOutcome, StoreError>;
}

/// Why Alipay+ gave no "true" or "false": refused (F), or no trustworthy answer (timeouts, U, a
/// bad signature or body, an `allowUnbinding` that is neither) within the retry budget.
pub type ConsultError = crate::outbound::Unanswered;

/// The port where Alipay+ sits: consultUnbinding, signed and verified.
#[async_trait]
pub trait UnbindingConsultant: Send + Sync {
    /// Whether the merchant allows unbinding this binding from the wallet.
    async fn consult(&self, req: &ConsultUnbindingRequest) -> Result<bool, ConsultError>;
}

/// A wallet-side unbinding to decide (consultUnbinding answered `allowUnbinding` "true").
#[derive(Clone, PartialEq, Eq)]
pub struct UnbindIntent {
    /// The binding.
    pub auth_id: String,
    /// The customer asking: must be the binding's.
    pub customer_id: CustomerId,
    /// The live access token as derived for consultUnbinding: it must still be the live one (a
    /// refresh in between moves the binding on), and TOKEN_CANCELED carries it.
    pub access_token: Secret,
    /// When.
    pub now: DateTime<Utc>,
}

impl fmt::Debug for UnbindIntent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnbindIntent")
            .field("auth_id", &self.auth_id)
            .finish_non_exhaustive()
    }
}

/// What a wallet-side unbinding came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UnbindOutcome {
    /// Revoked now: the access token is dead and TOKEN_CANCELED is in the outbox.
    Revoked,
    /// Revoked before (by the merchant's cancelToken or an earlier unbinding): nothing written.
    AlreadyCancelled,
    /// No binding of this customer by that id, or not bound (pending, declined).
    NotFound,
    /// The live pair is not the one consulted about (a refresh in between): nothing written;
    /// consult again.
    Moved,
}

/// Decides a wallet-side unbinding on the binding as read and the account's count: the same
/// transition as cancelToken (CANCELLED, the access token revoked, the count − 1, the binding off
/// the account's list) plus TOKEN_CANCELED in the outbox, in one write.
pub fn decide_unbind(
    intent: &UnbindIntent,
    current: Option<Authorization>,
    bound: u32,
) -> Decision<UnbindOutcome> {
    let Some(b) = current.filter(|b| b.customer_id.as_ref() == Some(&intent.customer_id)) else {
        return Decision::Answer(UnbindOutcome::NotFound);
    };
    match b.state {
        AuthorizationState::Cancelled => return Decision::Answer(UnbindOutcome::AlreadyCancelled),
        AuthorizationState::Bound => {}
        AuthorizationState::Pending
        | AuthorizationState::Approved
        | AuthorizationState::Declined => return Decision::Answer(UnbindOutcome::NotFound),
    }
    let token = intent.access_token.hash();
    match decide_cancel_token(&token, Some(b), bound, intent.now) {
        Decision::Write(mut w, CancelTokenOutcome::Cancelled) => {
            w.notify = auth_notification(
                &w.binding,
                AuthorizationNotifyType::TokenCanceled,
                &intent.access_token,
                intent.now,
            );
            Decision::Write(w, UnbindOutcome::Revoked)
        }
        Decision::Answer(CancelTokenOutcome::Cancelled) => {
            Decision::Answer(UnbindOutcome::AlreadyCancelled)
        }
        Decision::Answer(CancelTokenOutcome::Refused(_))
        | Decision::Write(_, CancelTokenOutcome::Refused(_)) => {
            Decision::Answer(UnbindOutcome::Moved)
        }
    }
}

// ---- flow ---------------------------------------------------------------------------------------

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

fn answer(code: ResultCode, response: &WalletUnbindingResponse) -> InternalAnswer {
    InternalAnswer {
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
) -> InternalAnswer {
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
) -> InternalAnswer {
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

// ---- memory store -------------------------------------------------------------------------------

#[async_trait]
impl UnbindingStore for MemoryStore {
    async fn customer_bindings(
        &self,
        customer_id: &CustomerId,
    ) -> Result<Vec<Authorization>, StoreError> {
        let s = self.lock();
        let mut found: Vec<Authorization> = s
            .bindings
            .authorizations
            .values()
            .filter(|a| {
                a.state == AuthorizationState::Bound && a.customer_id.as_ref() == Some(customer_id)
            })
            .cloned()
            .collect();
        found.sort_by(|a, b| (a.created_at, &a.auth_id).cmp(&(b.created_at, &b.auth_id)));
        found.truncate(CUSTOMER_BINDINGS_MAX);
        Ok(found)
    }

    async fn unbind(&self, intent: &UnbindIntent) -> Result<UnbindOutcome, StoreError> {
        let mut s = self.lock();
        let current = s.bindings.authorizations.get(&intent.auth_id).cloned();
        let bound = current
            .as_ref()
            .and_then(|a| a.customer_id.as_ref())
            .map(|c| s.bound_count(c))
            .unwrap_or(0);
        s.settle(decide_unbind(intent, current, bound))
    }
}
