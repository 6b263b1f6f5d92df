//! consultUnbinding (MPP → Alipay+, `POST /aps/api/v1/authorizations/consultUnbinding`):
//! `account-binding.md` §6. When the user unbinds inside the wallet, the MPP first asks whether
//! the merchant allows it.

use super::result::ResultObject;
use super::scalar::Text;
use super::{ParamIllegal, Validate};
use serde::{Deserialize, Serialize};
use std::fmt;

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
