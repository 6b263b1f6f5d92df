//! Account binding, Alipay+'s side: prepare, applyToken, cancelToken (`account-binding.md`
//! §2–4). Each is validate → one store call (one read, a decision of `store::bindings`, one
//! conditional write) → the answer.

use super::{result, text};
use crate::clock::{wire_time, Clock};
use crate::ids::Secret;
use crate::operations::AUTHORIZATION_PAGE;
use crate::result_code::ResultCode;
use crate::store::bindings::{
    prepare_key, Authorization, CancelTokenOutcome, CancelTokenStore, Client, PrepareOutcome,
    PrepareStore, TokenIntent, TokenOutcome, TokenRefusal, TokenStore,
    BINDINGS_PER_ACCOUNT_DEFAULT,
};
use crate::store::StoreError;
use crate::token_mac::TokenMac;
use crate::wire::{
    ApplyTokenRequest, ApplyTokenResponse, CancelTokenRequest, CancelTokenResponse, GrantType,
    PrepareRequest, PrepareResponse, Timestamp,
};
use std::sync::Arc;

/// Account-binding settings (environment `AUTH_PAGE_BASE_URL`, `BINDINGS_PER_ACCOUNT_MAX`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BindingSettings {
    /// The public base URL the authorization page is reached at (`https://wallet.example.com`,
    /// or an execute-api stage URL); `authUrl` is this, the page's path and `?authId=`.
    pub page_base_url: String,
    /// Most merchants one account may be bound to at once; one more is refused.
    pub bindings_per_account_max: u32,
    /// Push every new authCode to Alipay+ with authNotify `AUTHCODE_CREATED` (as well as the
    /// redirect). Off by default: the spec makes it optional ("the MPP may also push").
    pub push_auth_code: bool,
}

impl Default for BindingSettings {
    fn default() -> BindingSettings {
        BindingSettings {
            page_base_url: "http://127.0.0.1:8080".into(),
            bindings_per_account_max: BINDINGS_PER_ACCOUNT_DEFAULT,
            push_auth_code: false,
        }
    }
}

impl BindingSettings {
    /// The authorization page of `auth_id`.
    pub fn auth_url(&self, auth_id: &str) -> String {
        format!(
            "{}{}?authId={auth_id}",
            self.page_base_url.trim_end_matches('/'),
            AUTHORIZATION_PAGE.path()
        )
    }
}

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

/// What applyToken and cancelToken need.
#[derive(Clone)]
pub struct TokenDeps {
    /// The token exchange and rotation.
    pub store: Arc<dyn TokenStore>,
    /// Now.
    pub clock: Arc<dyn Clock>,
    /// The cap of bindings per account.
    pub settings: BindingSettings,
    /// The server-held key the pairs are derived under (`crate::token_mac`).
    pub mac: Arc<dyn TokenMac>,
}

/// The code of a refusal (decided in `docs/decisions.md`, "Account binding").
pub fn refusal_code(r: TokenRefusal) -> ResultCode {
    match r {
        TokenRefusal::InvalidCode => ResultCode::InvalidCode,
        TokenRefusal::ExpiredCode => ResultCode::ExpiredCode,
        TokenRefusal::InvalidRefreshToken => ResultCode::InvalidRefreshToken,
        TokenRefusal::ExpiredRefreshToken => ResultCode::ExpiredRefreshToken,
        TokenRefusal::OtherClient => ResultCode::AccessDenied,
        TokenRefusal::TooManyBindings => ResultCode::ProcessFail,
        TokenRefusal::InvalidToken => ResultCode::InvalidToken,
    }
}

fn refused(code: ResultCode) -> ApplyTokenResponse {
    ApplyTokenResponse {
        result: result(code),
        access_token: None,
        access_token_expiry_time: None,
        refresh_token: None,
        refresh_token_expiry_time: None,
        customer_id: None,
        user_login_id: None,
    }
}

/// Answers an applyToken.
pub async fn apply_token(
    deps: &TokenDeps,
    req: &ApplyTokenRequest,
) -> Result<ApplyTokenResponse, StoreError> {
    let presented = match req.grant_type {
        GrantType::AuthorizationCode => req.auth_code.as_ref(),
        GrantType::RefreshToken => req.refresh_token.as_ref(),
    };
    // `validate` made sure the grant's field is there.
    let Some(presented) = presented else {
        return Ok(refused(ResultCode::ParamIllegal));
    };
    let intent = TokenIntent {
        presented: Secret::new(presented.as_str()),
        auth_client_id: req.auth_client_id.as_ref().map(|t| t.as_str().to_string()),
        now: deps.clock.now(),
        bindings_max: deps.settings.bindings_per_account_max,
    };
    let outcome = match req.grant_type {
        GrantType::AuthorizationCode => {
            deps.store.exchange_code(&intent, deps.mac.as_ref()).await?
        }
        GrantType::RefreshToken => deps.store.refresh_token(&intent, deps.mac.as_ref()).await?,
    };
    let t = match outcome {
        TokenOutcome::Issued(t) => t,
        TokenOutcome::Refused(r) => return Ok(refused(refusal_code(r))),
    };
    let time = |at| Timestamp::parse(&wire_time(at)).ok();
    Ok(ApplyTokenResponse {
        result: result(ResultCode::Success),
        access_token: text(t.access_token.expose()),
        access_token_expiry_time: time(t.access_expires_at),
        refresh_token: text(t.refresh_token.expose()),
        refresh_token_expiry_time: time(t.refresh_expires_at),
        customer_id: text(t.customer_id.as_str()),
        user_login_id: None,
    })
}

/// What cancelToken needs.
#[derive(Clone)]
pub struct CancelTokenDeps {
    /// The revocation.
    pub store: Arc<dyn CancelTokenStore>,
    /// Now.
    pub clock: Arc<dyn Clock>,
}

/// Answers a cancelToken: S when the token is revoked (now or before), F `INVALID_TOKEN` for a
/// token we never issued or one a refresh replaced.
pub async fn cancel_token(
    deps: &CancelTokenDeps,
    req: &CancelTokenRequest,
) -> Result<CancelTokenResponse, StoreError> {
    let token = Secret::new(req.access_token.as_str());
    let code = match deps.store.cancel_token(&token, deps.clock.now()).await? {
        CancelTokenOutcome::Cancelled => ResultCode::Success,
        CancelTokenOutcome::Refused(r) => refusal_code(r),
    };
    Ok(CancelTokenResponse {
        result: result(code),
    })
}
