//! authNotify (MPP → Alipay+, `POST /aps/api/v1/authorizations/authNotify`):
//! `account-binding.md` §5.

use super::result::ResultObject;
use super::scalar::Text;
use super::{ParamIllegal, Validate};
use serde::{Deserialize, Serialize};
use std::fmt;

/// `authorizationNotifyType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuthorizationNotifyType {
    /// The user approved on our page: `authCode` and `authState` are pushed.
    AuthcodeCreated,
    /// The code was exchanged: `accessToken` (and `customerId`) are pushed.
    TokenCreated,
    /// The binding was revoked from inside the wallet.
    TokenCanceled,
}

impl AuthorizationNotifyType {
    /// The wire spelling (also the notification id's middle part).
    pub fn as_str(self) -> &'static str {
        match self {
            AuthorizationNotifyType::AuthcodeCreated => "AUTHCODE_CREATED",
            AuthorizationNotifyType::TokenCreated => "TOKEN_CREATED",
            AuthorizationNotifyType::TokenCanceled => "TOKEN_CANCELED",
        }
    }
}

/// What the MPP tells Alipay+ about a binding.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthNotifyRequest {
    /// What happened.
    pub authorization_notify_type: AuthorizationNotifyType,
    /// The client that asked for the binding (prepare's `authClientId`).
    pub auth_client_id: Text<64>,
    /// prepare's `referenceMerchantId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_merchant_id: Option<Text<32>>,
    /// prepare's `referenceAgreementId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_agreement_id: Option<Text<64>>,
    /// `AUTHCODE_CREATED`: the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_code: Option<Text<128>>,
    /// `AUTHCODE_CREATED`: prepare's `authState`, echoed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_state: Option<Text<256>>,
    /// The token types: the access token concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<Text<128>>,
    /// The wallet user, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<Text<64>>,
    /// "In certain cases" (we do not send it: the login id is not the merchant's business).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_login_id: Option<Text<64>>,
}

impl fmt::Debug for AuthNotifyRequest {
    /// Codes and tokens never print.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthNotifyRequest")
            .field("authorization_notify_type", &self.authorization_notify_type)
            .field("auth_client_id", &self.auth_client_id)
            .finish_non_exhaustive()
    }
}

impl Validate for AuthNotifyRequest {
    /// The type's own fields are there: a code for `AUTHCODE_CREATED`, a token otherwise.
    fn validate(&self) -> Result<(), ParamIllegal> {
        match self.authorization_notify_type {
            AuthorizationNotifyType::AuthcodeCreated if self.auth_code.is_none() => Err(
                ParamIllegal::new("authCode", "is required with AUTHCODE_CREATED"),
            ),
            AuthorizationNotifyType::TokenCreated | AuthorizationNotifyType::TokenCanceled
                if self.access_token.is_none() =>
            {
                Err(ParamIllegal::new(
                    "accessToken",
                    "is required with TOKEN_CREATED and TOKEN_CANCELED",
                ))
            }
            AuthorizationNotifyType::AuthcodeCreated
            | AuthorizationNotifyType::TokenCreated
            | AuthorizationNotifyType::TokenCanceled => Ok(()),
        }
    }
}

/// Alipay+'s answer: anything but S means send again later.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthNotifyResponse {
    /// The outcome.
    pub result: ResultObject,
    /// The ACQP of the binding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquirer_id: Option<Text<64>>,
    /// Our id at Alipay+.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub psp_id: Option<Text<64>>,
}

impl Validate for AuthNotifyResponse {
    fn validate(&self) -> Result<(), ParamIllegal> {
        Ok(())
    }
}
