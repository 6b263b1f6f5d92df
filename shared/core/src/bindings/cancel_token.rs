//! cancelToken (Alipay+ → MPP, `account-binding.md` §4): the merchant unbinds. Validate → one
//! store call (the record the access token names read, [`decide_cancel_token`], one conditional
//! write) → S, or `INVALID_TOKEN`.

use super::{
    next, refusal_code, write, Authorization, AuthorizationState, CounterChange, Decision,
    TokenRefusal,
};
use crate::clock::Clock;
use crate::flows::result;
use crate::ids::{Secret, SecretHash};
use crate::result_code::ResultCode;
use crate::store::memory::MemoryStore;
use crate::store::{AccessToken, StoreError};
use crate::wire::{ParamIllegal, ResultObject, Text, Validate};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

// ---- wire ---------------------------------------------------------------------------------------

/// cancelToken: the merchant unbinds.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelTokenRequest {
    /// Our id at Alipay+.
    pub psp_id: Text<64>,
    /// The ACQP (accepted when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquirer_id: Option<Text<64>>,
    /// The token to revoke: the idempotency key.
    pub access_token: Text<128>,
    /// Passed through (not interpreted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass_through_info: Option<Text<20000>>,
}

impl fmt::Debug for CancelTokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelTokenRequest").finish_non_exhaustive()
    }
}

impl Validate for CancelTokenRequest {
    fn validate(&self) -> Result<(), ParamIllegal> {
        Ok(())
    }
}

/// cancelToken's answer: `result` only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelTokenResponse {
    /// The outcome.
    pub result: ResultObject,
}

impl Validate for CancelTokenResponse {
    fn validate(&self) -> Result<(), ParamIllegal> {
        Ok(())
    }
}

// ---- edge ---------------------------------------------------------------------------------------

// No payment to name (the log field stays empty; tokens never go on a span).
crate::edge::unkeyed_and_answered! {
    CancelTokenRequest => CancelTokenResponse,
}

// ---- port and decision --------------------------------------------------------------------------

/// The cancelToken function's store.
#[async_trait]
pub trait CancelTokenStore: Send + Sync {
    /// [`decide_cancel_token`] on the authorization the token names; a token no binding issued
    /// is revoked by its item ([`decide_revoke_plain`]).
    async fn cancel_token(
        &self,
        token: &Secret,
        now: DateTime<Utc>,
    ) -> Result<CancelTokenOutcome, StoreError>;
}

/// What `cancelToken` answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CancelTokenOutcome {
    /// Revoked now, or before by this same token: S.
    Cancelled,
    /// Refused; nothing written.
    Refused(TokenRefusal),
}

/// Decides a cancelToken on the authorization the access token names and the account's count of
/// bound merchants.
///
/// The token must be the binding's live access token (BOUND: revoke it, CANCELLED: the same S
/// again); anything else (unknown, rotated away, another binding's) is `InvalidToken`.
pub fn decide_cancel_token(
    token: &SecretHash,
    current: Option<Authorization>,
    bound: u32,
    now: DateTime<Utc>,
) -> Decision<CancelTokenOutcome> {
    let refuse = Decision::Answer(CancelTokenOutcome::Refused(TokenRefusal::InvalidToken));
    let Some(b) = current else {
        return refuse;
    };
    let Some(pair) = b.tokens.clone() else {
        return refuse;
    };
    if &pair.access_hash != token {
        return refuse;
    }
    match b.state {
        AuthorizationState::Cancelled => Decision::Answer(CancelTokenOutcome::Cancelled),
        AuthorizationState::Bound => {
            let mut n = next(&b);
            n.state = AuthorizationState::Cancelled;
            n.decided_at = Some(now);
            let counter = n.customer_id.clone().map(|customer_id| CounterChange {
                customer_id,
                expect: bound,
                up: false,
                auth_id: b.auth_id.clone(),
            });
            let mut w = write(n, &b);
            w.revoke_token = Some(pair.access_hash);
            w.counter = counter;
            Decision::Write(Box::new(w), CancelTokenOutcome::Cancelled)
        }
        AuthorizationState::Pending
        | AuthorizationState::Approved
        | AuthorizationState::Declined => refuse,
    }
}

/// Decides a cancelToken of a token no binding issued (a seeded one): revoke the item if it
/// exists and is live; the same answer again if revoked; `InvalidToken` if unknown.
pub fn decide_revoke_plain(found: Option<&AccessToken>) -> Result<bool, TokenRefusal> {
    match found {
        Some(t) => Ok(!t.revoked),
        None => Err(TokenRefusal::InvalidToken),
    }
}

// ---- flow ---------------------------------------------------------------------------------------

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

// ---- memory store -------------------------------------------------------------------------------

#[async_trait]
impl CancelTokenStore for MemoryStore {
    async fn cancel_token(
        &self,
        token: &Secret,
        now: DateTime<Utc>,
    ) -> Result<CancelTokenOutcome, StoreError> {
        let mut s = self.lock();
        let hash: SecretHash = token.hash();
        let Some(current) = s.named(token) else {
            // Not a binding's token: a seeded one is revoked by its item.
            return Ok(match decide_revoke_plain(s.tokens.get(&hash)) {
                Ok(live) => {
                    if live {
                        if let Some(t) = s.tokens.get_mut(&hash) {
                            t.revoked = true;
                        }
                    }
                    CancelTokenOutcome::Cancelled
                }
                Err(r) => CancelTokenOutcome::Refused(r),
            });
        };
        let bound = current
            .customer_id
            .as_ref()
            .map(|c| s.bound_count(c))
            .unwrap_or(0);
        s.settle(decide_cancel_token(&hash, Some(current), bound, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::tests::round_trip;
    use crate::wire::parse_request;

    #[test]
    fn the_request_round_trips() {
        round_trip::<CancelTokenRequest>(
            r#"{"pspId":"1","accessToken":"a","passThroughInfo":"x"}"#,
        );
    }

    #[test]
    fn the_token_does_not_print() {
        let c: CancelTokenRequest =
            parse_request(br#"{"pspId":"1","accessToken":"SECRET-TOKEN"}"#).unwrap();
        assert!(!format!("{c:?}").contains("SECRET-TOKEN"));
    }
}
