//! prepare (Alipay+ → MPP, `account-binding.md` §2): Alipay+ asks for the authorization page of
//! a merchant's binding request. Validate → one store call (the idempotency key's authorization
//! read, [`decide_prepare`], one conditional write) → `authUrl`. Lengths the page does not
//! publish are the file's "take" values.

use super::{is_web_url, Authorization, BindingSettings, BindingWrite, Client, Decision};
use crate::clock::Clock;
use crate::flows::{result, text};
use crate::ids::Secret;
use crate::result_code::ResultCode;
use crate::store::memory::MemoryStore;
use crate::store::StoreError;
use crate::wire::{ParamIllegal, ResultObject, Text, Validate};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

// ---- wire ---------------------------------------------------------------------------------------

/// Most entries of `scopes` (not published; take 10).
pub const SCOPES_MAX: usize = 10;

/// prepare: Alipay+ asks for our authorization page for a merchant's binding request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrepareRequest {
    /// Our id at Alipay+.
    pub psp_id: Text<64>,
    /// The ACQP (required by the page; accepted when absent, as for cancelPayment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquirer_id: Option<Text<64>>,
    /// The client asking (normally the merchant).
    pub auth_client_id: Text<64>,
    /// Its registered legal name.
    pub auth_client_name: Text<256>,
    /// Its trade name (the page title) when it differs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_client_display_name: Option<Text<64>>,
    /// Its logo (shown only when it is an http(s) URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_client_logo: Option<Text<2048>>,
    /// Merchant id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_merchant_id: Option<Text<32>>,
    /// The merchant's agreement id: with `authClientId`, the idempotency key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_agreement_id: Option<Text<64>>,
    /// Where the user goes back (an http(s) URL).
    pub auth_redirect_url: Text<2048>,
    /// What the client asks for, e.g. `AGREEMENT_PAY` (an open set).
    pub scopes: Vec<Text<64>>,
    /// Echoed back with the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_state: Option<Text<256>>,
}

impl Validate for PrepareRequest {
    fn validate(&self) -> Result<(), ParamIllegal> {
        if !is_web_url(self.auth_redirect_url.as_str()) {
            return Err(ParamIllegal::new(
                "authRedirectUrl",
                "must be an absolute http or https URL without credentials",
            ));
        }
        if self.scopes.is_empty() || self.scopes.len() > SCOPES_MAX {
            return Err(ParamIllegal::new(
                "scopes",
                format!("must hold 1 to {SCOPES_MAX} scopes"),
            ));
        }
        Ok(())
    }
}

/// prepare's answer: our authorization page for the request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrepareResponse {
    /// The outcome.
    pub result: ResultObject,
    /// The authorization page (S only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_url: Option<Text<2048>>,
}

impl Validate for PrepareResponse {
    fn validate(&self) -> Result<(), ParamIllegal> {
        Ok(())
    }
}

// ---- edge ---------------------------------------------------------------------------------------

// No payment to name (the log field stays empty; codes and tokens never go on a span).
crate::edge::unkeyed_and_answered! {
    PrepareRequest => PrepareResponse,
}

// ---- port and decision --------------------------------------------------------------------------

/// The prepare function's store: read the key's authorization, write a new one (one
/// conditional transaction: the authorization and its idempotency key, both new).
#[async_trait]
pub trait PrepareStore: Send + Sync {
    /// Stores `new` as [`decide_prepare`] decides on what its idempotency key names.
    async fn prepare(&self, new: &Authorization) -> Result<PrepareOutcome, StoreError>;
}

/// What a `prepare` found or did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrepareOutcome {
    /// A new pending authorization (this one).
    Created(Authorization),
    /// The same request again: the authorization it created.
    Repeated(Authorization),
    /// The same `authClientId` + `referenceAgreementId` with other key fields.
    Inconsistent,
}

/// The idempotency key of a `prepare` (`None`: no `referenceAgreementId`, so every prepare is a
/// new authorization): SHA-256 of `authClientId` and `referenceAgreementId`.
pub fn prepare_key(client: &Client) -> Option<String> {
    let agreement = client.reference_agreement_id.as_deref()?;
    Some(
        Secret::new(format!("{}\u{0}{agreement}", client.auth_client_id))
            .hash()
            .0,
    )
}

/// Decides a `prepare` on the authorization its idempotency key already names, if any.
pub fn decide_prepare(
    new: &Authorization,
    existing: Option<Authorization>,
) -> Decision<PrepareOutcome> {
    match existing {
        Some(old) if old.fingerprint == new.fingerprint => {
            Decision::Answer(PrepareOutcome::Repeated(old))
        }
        Some(_) => Decision::Answer(PrepareOutcome::Inconsistent),
        None => Decision::Write(
            Box::new(BindingWrite {
                binding: new.clone(),
                expect_version: None,
                put_token: None,
                revoke_token: None,
                counter: None,
                notify: None,
            }),
            PrepareOutcome::Created(new.clone()),
        ),
    }
}

// ---- flow ---------------------------------------------------------------------------------------

/// What prepare needs.
#[derive(Clone)]
pub struct PrepareDeps {
    /// The authorizations.
    pub store: Arc<dyn PrepareStore>,
    /// Now.
    pub clock: Arc<dyn Clock>,
    /// Where the page is.
    pub settings: BindingSettings,
}

fn client_of(req: &PrepareRequest) -> Client {
    Client {
        auth_client_id: req.auth_client_id.as_str().to_string(),
        auth_client_name: req.auth_client_name.as_str().to_string(),
        auth_client_display_name: req
            .auth_client_display_name
            .as_ref()
            .map(|t| t.as_str().to_string()),
        auth_client_logo: req
            .auth_client_logo
            .as_ref()
            .map(|t| t.as_str().to_string()),
        reference_merchant_id: req
            .reference_merchant_id
            .as_ref()
            .map(|t| t.as_str().to_string()),
        reference_agreement_id: req
            .reference_agreement_id
            .as_ref()
            .map(|t| t.as_str().to_string()),
        auth_redirect_url: req.auth_redirect_url.as_str().to_string(),
        scopes: req.scopes.iter().map(|s| s.as_str().to_string()).collect(),
        auth_state: req.auth_state.as_ref().map(|t| t.as_str().to_string()),
    }
}

/// The key fields of §2 a repeat must carry unchanged: `authClientName`,
/// `referenceMerchantId`, `authRedirectUrl`, `scopes`.
fn prepare_fingerprint(c: &Client) -> String {
    let key = serde_json::json!([
        c.auth_client_name,
        c.reference_merchant_id,
        c.auth_redirect_url,
        c.scopes,
    ]);
    Secret::new(key.to_string()).hash().0
}

/// Answers a prepare: a new pending authorization (or the one this key made before) and its page.
pub async fn prepare(
    deps: &PrepareDeps,
    req: &PrepareRequest,
) -> Result<PrepareResponse, StoreError> {
    let now = deps.clock.now();
    let client = client_of(req);
    debug_assert!(prepare_key(&client).is_some() == client.reference_agreement_id.is_some());
    let fingerprint = prepare_fingerprint(&client);
    let new = Authorization::pending(client, fingerprint, now)?;
    let auth = match deps.store.prepare(&new).await? {
        PrepareOutcome::Created(a) | PrepareOutcome::Repeated(a) => a,
        PrepareOutcome::Inconsistent => {
            return Ok(PrepareResponse {
                result: result(ResultCode::RepeatReqInconsistent),
                auth_url: None,
            })
        }
    };
    let Some(auth_url) = text(&deps.settings.auth_url(&auth.auth_id)) else {
        return Err(StoreError::Corrupt(
            "the authUrl is longer than 2048 characters".into(),
        ));
    };
    Ok(PrepareResponse {
        result: result(ResultCode::Success),
        auth_url: Some(auth_url),
    })
}

// ---- memory store -------------------------------------------------------------------------------

#[async_trait]
impl PrepareStore for MemoryStore {
    async fn prepare(&self, new: &Authorization) -> Result<PrepareOutcome, StoreError> {
        let mut s = self.lock();
        let key = prepare_key(&new.client);
        let existing = key
            .as_ref()
            .and_then(|k| s.bindings.prepare_keys.get(k))
            .and_then(|id| s.bindings.authorizations.get(id))
            .cloned();
        match decide_prepare(new, existing) {
            Decision::Answer(a) => Ok(a),
            Decision::Write(w, a) => {
                s.apply(&w)?;
                if let Some(k) = key {
                    s.bindings.prepare_keys.insert(k, new.auth_id.clone());
                }
                Ok(a)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::tests::round_trip;

    #[test]
    fn the_example_and_answers_round_trip() {
        round_trip::<PrepareRequest>(include_str!("../../../../examples/prepare.json"));
        round_trip::<PrepareResponse>(
            r#"{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"},"authUrl":"https://wallet.example/wallet/authorizationPage?authId=0123456789abcdef0123456789abcdef"}"#,
        );
    }
}
