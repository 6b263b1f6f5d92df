//! applyToken (Alipay+ → MPP, `account-binding.md` §3): an authCode exchanged for a token pair,
//! or a refresh token rotated. Validate → one store call (the record the code or token names
//! read, its pairs derived under the server-held key, [`decide_exchange`] or [`decide_refresh`],
//! one conditional write) → the pair, or the refusal's code ([`refusal_code`]).

use super::auth_notify::auth_notification;
use super::{
    derive_needed, derived_of, next, pair_again, pair_for, token_item, write, Authorization,
    AuthorizationNotifyType, AuthorizationState, BindingSettings, CounterChange, Decision,
    IssuedTokens, REPEAT_WINDOW,
};
use crate::clock::{wire_time, Clock};
use crate::flows::{result, text};
use crate::ids::Secret;
use crate::result_code::ResultCode;
use crate::store::memory::MemoryStore;
use crate::store::StoreError;
use crate::token_mac::{DerivedPair, TokenMac};
use crate::wire::{ParamIllegal, ResultObject, Text, Timestamp, Validate};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

// ---- wire ---------------------------------------------------------------------------------------

/// `grantType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GrantType {
    /// Exchange an authCode.
    AuthorizationCode,
    /// Rotate a token pair.
    RefreshToken,
}

/// applyToken: a code exchanged for tokens, or a refresh.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplyTokenRequest {
    /// Our id at Alipay+.
    pub psp_id: Text<64>,
    /// The ACQP (accepted when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquirer_id: Option<Text<64>>,
    /// Which grant.
    pub grant_type: GrantType,
    /// The code (`AUTHORIZATION_CODE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_code: Option<Text<128>>,
    /// The refresh token (`REFRESH_TOKEN`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Text<128>>,
    /// Some editions send it: it must then be the binding's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_client_id: Option<Text<64>>,
}

impl fmt::Debug for ApplyTokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApplyTokenRequest")
            .field("grant_type", &self.grant_type)
            .finish_non_exhaustive()
    }
}

impl Validate for ApplyTokenRequest {
    fn validate(&self) -> Result<(), ParamIllegal> {
        match self.grant_type {
            GrantType::AuthorizationCode if self.auth_code.is_none() => Err(ParamIllegal::new(
                "authCode",
                "is required when grantType is AUTHORIZATION_CODE",
            )),
            GrantType::RefreshToken if self.refresh_token.is_none() => Err(ParamIllegal::new(
                "refreshToken",
                "is required when grantType is REFRESH_TOKEN",
            )),
            GrantType::AuthorizationCode | GrantType::RefreshToken => Ok(()),
        }
    }
}

/// applyToken's answer.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplyTokenResponse {
    /// The outcome.
    pub result: ResultObject,
    /// The access token (S only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<Text<128>>,
    /// Its expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_expiry_time: Option<Timestamp>,
    /// The refresh token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Text<128>>,
    /// Its expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_expiry_time: Option<Timestamp>,
    /// The wallet user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<Text<64>>,
    /// The user's login id, masked (optional; we do not send it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_login_id: Option<Text<64>>,
}

impl fmt::Debug for ApplyTokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApplyTokenResponse")
            .field("result", &self.result)
            .finish_non_exhaustive()
    }
}

impl Validate for ApplyTokenResponse {
    fn validate(&self) -> Result<(), ParamIllegal> {
        Ok(())
    }
}

// ---- edge ---------------------------------------------------------------------------------------

// No payment to name (the log field stays empty; codes and tokens never go on a span).
crate::edge::unkeyed_and_answered! {
    ApplyTokenRequest => ApplyTokenResponse,
}

// ---- port and decision --------------------------------------------------------------------------

/// The applyToken function's store.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// `AUTHORIZATION_CODE`: [`decide_exchange`] on the authorization the code names, with the
    /// pairs derived under `mac` ([`derive_needed`]) after each read.
    async fn exchange_code(
        &self,
        intent: &TokenIntent,
        mac: &dyn TokenMac,
    ) -> Result<TokenOutcome, StoreError>;
    /// `REFRESH_TOKEN`: [`decide_refresh`] on the authorization the token names, likewise.
    async fn refresh_token(
        &self,
        intent: &TokenIntent,
        mac: &dyn TokenMac,
    ) -> Result<TokenOutcome, StoreError>;
}

/// Why `applyToken` or `cancelToken` refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenRefusal {
    /// Unknown, wrong, declined or already used (past the repeat window) code: `INVALID_CODE`.
    InvalidCode,
    /// A code past its validity: `EXPIRED_CODE`.
    ExpiredCode,
    /// Unknown, rotated (past the repeat window) or cancelled refresh token:
    /// `INVALID_REFRESH_TOKEN`.
    InvalidRefreshToken,
    /// A refresh token past its expiry: `EXPIRED_REFRESH_TOKEN`.
    ExpiredRefreshToken,
    /// The request's `authClientId` is not the binding's: `ACCESS_DENIED`.
    OtherClient,
    /// The account holds the most bindings allowed: `PROCESS_FAIL`.
    TooManyBindings,
    /// An access token we do not know (cancelToken): `INVALID_TOKEN`.
    InvalidToken,
}

/// What `applyToken` answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenOutcome {
    /// The pair (new, or the same again for a repeat).
    Issued(IssuedTokens),
    /// Refused; nothing written.
    Refused(TokenRefusal),
}

/// An `applyToken` to decide.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenIntent {
    /// The code (`AUTHORIZATION_CODE`) or the refresh token (`REFRESH_TOKEN`).
    pub presented: Secret,
    /// The request's `authClientId`, when sent: it must be the binding's.
    pub auth_client_id: Option<String>,
    /// When.
    pub now: DateTime<Utc>,
    /// Most bound merchants per account.
    pub bindings_max: u32,
}

fn other_client(b: &Authorization, intent: &TokenIntent) -> bool {
    intent
        .auth_client_id
        .as_deref()
        .is_some_and(|c| c != b.client.auth_client_id)
}

/// Decides a code exchange on the authorization the code names and the account's count of
/// bound merchants (`bound`).
///
/// Preconditions in order: the code is ours and its hash is the record's (`InvalidCode`); the
/// client matches; a BOUND record whose pair was issued for this code less than
/// [`REPEAT_WINDOW`] ago answers that pair again; otherwise only APPROVED exchanges
/// (`InvalidCode`), before the code's expiry (`ExpiredCode`), within the cap (`TooManyBindings`).
///
/// `derived`: the pairs [`derive_needed`] made for this record (generation 0).
pub fn decide_exchange(
    intent: &TokenIntent,
    current: Option<Authorization>,
    bound: u32,
    derived: &[DerivedPair],
) -> Decision<TokenOutcome> {
    let refuse = |r| Decision::Answer(TokenOutcome::Refused(r));
    let Some(b) = current else {
        return refuse(TokenRefusal::InvalidCode);
    };
    if b.code_hash.as_ref() != Some(&intent.presented.hash()) {
        return refuse(TokenRefusal::InvalidCode);
    }
    if other_client(&b, intent) {
        return refuse(TokenRefusal::OtherClient);
    }
    match b.state {
        AuthorizationState::Approved => {}
        AuthorizationState::Bound => {
            // A re-sent exchange (lost answer): the first pair again, while it is still the
            // code's pair and within the window.
            return match &b.tokens {
                Some(p) if p.issued_for.is_none() && intent.now <= p.issued_at + REPEAT_WINDOW => {
                    match pair_again(&b, derived_of(derived, b.token_generation), p) {
                        Some(t) => Decision::Answer(TokenOutcome::Issued(t)),
                        None => refuse(TokenRefusal::InvalidCode),
                    }
                }
                _ => refuse(TokenRefusal::InvalidCode),
            };
        }
        AuthorizationState::Pending
        | AuthorizationState::Declined
        | AuthorizationState::Cancelled => return refuse(TokenRefusal::InvalidCode),
    }
    if b.code_expires_at.is_none_or(|t| intent.now > t) {
        return refuse(TokenRefusal::ExpiredCode);
    }
    if bound >= intent.bindings_max {
        return refuse(TokenRefusal::TooManyBindings);
    }
    let Some((issued, pair)) =
        derived_of(derived, 0).and_then(|d| pair_for(&b, d, intent.now, None))
    else {
        return refuse(TokenRefusal::InvalidCode);
    };
    let mut n = next(&b);
    n.token_generation = 0;
    n.state = AuthorizationState::Bound;
    n.decided_at = Some(intent.now);
    n.tokens = Some(pair.clone());
    let put_token = token_item(&n, &pair);
    let counter = n.customer_id.clone().map(|customer_id| CounterChange {
        customer_id,
        expect: bound,
        up: true,
        auth_id: b.auth_id.clone(),
    });
    // TOKEN_CREATED: only here (a re-sent exchange answers without a write, so it is never owed
    // twice; a refresh is the merchant's own call). The outbox keeps no token: its hash and
    // generation, and the sender re-derives it (`bindings::auth_notify::TokenBody`).
    let notify = auth_notification(
        &n,
        AuthorizationNotifyType::TokenCreated,
        &issued.access_token,
        intent.now,
    );
    let mut w = write(n, &b);
    w.put_token = put_token;
    w.counter = counter;
    w.notify = notify;
    Decision::Write(Box::new(w), TokenOutcome::Issued(issued))
}

/// Decides a refresh on the authorization the refresh token names.
///
/// Preconditions in order: BOUND (`InvalidRefreshToken` otherwise); the client matches; the
/// token is the live refresh token (rotate: a new pair derived from it, the old access token
/// revoked), or the one the live pair was issued for less than [`REPEAT_WINDOW`] ago (the same
/// pair again); the live one past its expiry is `ExpiredRefreshToken`.
///
/// `derived`: the pairs [`derive_needed`] made for this record (its generation and the next).
pub fn decide_refresh(
    intent: &TokenIntent,
    current: Option<Authorization>,
    derived: &[DerivedPair],
) -> Decision<TokenOutcome> {
    let refuse = |r| Decision::Answer(TokenOutcome::Refused(r));
    let Some(b) = current else {
        return refuse(TokenRefusal::InvalidRefreshToken);
    };
    let (AuthorizationState::Bound, Some(pair)) = (b.state, b.tokens.clone()) else {
        return refuse(TokenRefusal::InvalidRefreshToken);
    };
    let presented = intent.presented.hash();
    if other_client(&b, intent)
        && (presented == pair.refresh_hash || pair.issued_for.as_ref() == Some(&presented))
    {
        return refuse(TokenRefusal::OtherClient);
    }
    if pair.issued_for.as_ref() == Some(&presented) {
        if intent.now <= pair.issued_at + REPEAT_WINDOW {
            if let Some(t) = pair_again(&b, derived_of(derived, b.token_generation), &pair) {
                return Decision::Answer(TokenOutcome::Issued(t));
            }
        }
        return refuse(TokenRefusal::InvalidRefreshToken);
    }
    if presented != pair.refresh_hash {
        return refuse(TokenRefusal::InvalidRefreshToken);
    }
    if intent.now > pair.refresh_expires_at {
        return refuse(TokenRefusal::ExpiredRefreshToken);
    }
    let generation = b.token_generation.saturating_add(1);
    let Some((issued, new_pair)) = derived_of(derived, generation)
        .and_then(|d| pair_for(&b, d, intent.now, Some(presented.clone())))
    else {
        return refuse(TokenRefusal::InvalidRefreshToken);
    };
    let mut n = next(&b);
    n.token_generation = generation;
    n.tokens = Some(new_pair.clone());
    let put_token = token_item(&n, &new_pair);
    let mut w = write(n, &b);
    w.put_token = put_token;
    w.revoke_token = Some(pair.access_hash);
    Decision::Write(Box::new(w), TokenOutcome::Issued(issued))
}

// ---- flow ---------------------------------------------------------------------------------------

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

// ---- memory store -------------------------------------------------------------------------------

/// How often a memory-store token decision reads again when the record moved while its pairs
/// were being derived (the lock is not held across the key's await). Two writers of one binding
/// at once are rare; the bound keeps a pathological race finite.
const DERIVE_ROUNDS_MAX: u32 = 8;

impl MemoryStore {
    /// Read → derive (lock released: the key may be remote) → read again and decide under the
    /// lock if the record is as it was, else again, at most [`DERIVE_ROUNDS_MAX`] times.
    async fn token_decision(
        &self,
        intent: &TokenIntent,
        mac: &dyn TokenMac,
        refresh: bool,
    ) -> Result<TokenOutcome, StoreError> {
        for _ in 0..DERIVE_ROUNDS_MAX {
            let read = self.lock().named(&intent.presented);
            let derived = derive_needed(mac, read.as_ref(), refresh).await?;
            let mut s = self.lock();
            let current = s.named(&intent.presented);
            if current.as_ref().map(|a| a.version) != read.as_ref().map(|a| a.version) {
                continue;
            }
            let decision = if refresh {
                decide_refresh(intent, current, &derived)
            } else {
                let bound = current
                    .as_ref()
                    .and_then(|a| a.customer_id.as_ref())
                    .map(|c| s.bound_count(c))
                    .unwrap_or(0);
                decide_exchange(intent, current, bound, &derived)
            };
            return s.settle(decision);
        }
        Err(StoreError::Contention(DERIVE_ROUNDS_MAX))
    }
}

#[async_trait]
impl TokenStore for MemoryStore {
    async fn exchange_code(
        &self,
        intent: &TokenIntent,
        mac: &dyn TokenMac,
    ) -> Result<TokenOutcome, StoreError> {
        self.token_decision(intent, mac, false).await
    }

    async fn refresh_token(
        &self,
        intent: &TokenIntent,
        mac: &dyn TokenMac,
    ) -> Result<TokenOutcome, StoreError> {
        self.token_decision(intent, mac, true).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::tests::round_trip;
    use crate::wire::parse_request;

    #[test]
    fn the_requests_and_answers_round_trip() {
        round_trip::<ApplyTokenRequest>(
            r#"{"pspId":"1","acquirerId":"2","grantType":"REFRESH_TOKEN","refreshToken":"r","authClientId":"c"}"#,
        );
        round_trip::<ApplyTokenResponse>(
            r#"{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"},"accessToken":"a","accessTokenExpiryTime":"2026-12-30T10:00:00+08:00","refreshToken":"r","refreshTokenExpiryTime":"2027-11-30T10:00:00+08:00","customerId":"2160000000000001"}"#,
        );
    }

    #[test]
    fn secrets_do_not_print() {
        let req: ApplyTokenRequest = parse_request(
            br#"{"pspId":"1","grantType":"AUTHORIZATION_CODE","authCode":"SECRET-CODE"}"#,
        )
        .unwrap();
        assert!(!format!("{req:?}").contains("SECRET-CODE"));
    }
}
