//! verifyOTP (Alipay+ → MPP): does the code the user typed match the OTP sendOTP sent?
//!
//! The token must be valid (as for sendOTP); then the stored OTP is decided on
//! ([`decide_verify`]) and the decision written in one conditional write.
//!
//! Codes (`docs/decisions.md`, "OTP"): a locked OTP `RISK_REJECT`; a wrong code
//! `USER_PAYMENT_VERIFICATION_FAILED`; an expired OTP `EXPIRED_CODE`; a used one or an unknown
//! (or another token's) `verifyRequestId` `INVALID_CODE`.

use super::{token_code, OtpRecord, OtpState, TokenText, OTP_TRIES_MAX};
use crate::clock::Clock;
use crate::edge::{Answered, Keyed};
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

/// A one-time password as typed by the user: its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OtpText(pub Text<16>);

impl fmt::Debug for OtpText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OtpText(<redacted>)")
    }
}

/// verifyOTP: does `otpCode` match the OTP sent under `verifyRequestId` for this token?
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyOtpRequest {
    /// The ACQP's id.
    pub acquirer_id: Text<64>,
    /// Our id at Alipay+.
    pub psp_id: Text<64>,
    /// The access token the OTP was sent for.
    pub access_token: TokenText,
    /// What sendOTP answered.
    pub verify_request_id: Text<64>,
    /// What the user typed.
    pub otp_code: OtpText,
}

impl Validate for VerifyOtpRequest {
    fn validate(&self) -> Result<(), ParamIllegal> {
        Ok(())
    }
}

/// verifyOTP's answer: `result` only; S means it matched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyOtpResponse {
    /// The outcome.
    pub result: ResultObject,
}

impl Validate for VerifyOtpResponse {
    fn validate(&self) -> Result<(), ParamIllegal> {
        Ok(())
    }
}

// ---- edge ---------------------------------------------------------------------------------------

/// verifyOTP names no payment: its log lines carry an empty `payment_request_id` (the flow logs
/// its `verify_request_id`).
impl Keyed for VerifyOtpRequest {
    fn payment_request_id(&self) -> &str {
        ""
    }
}

impl Answered for VerifyOtpResponse {
    fn code(&self) -> ResultCode {
        self.result.code().unwrap_or(ResultCode::UnknownException)
    }
}

// ---- port and decision --------------------------------------------------------------------------

/// A verifyOTP to apply.
#[derive(Clone)]
pub struct OtpAttempt {
    /// The OTP named.
    pub verify_request_id: String,
    /// The token of the request (by hash).
    pub token_hash: SecretHash,
    /// What the user typed.
    pub code: Secret,
    /// When.
    pub now: DateTime<Utc>,
}

impl fmt::Debug for OtpAttempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtpAttempt")
            .field("verify_request_id", &self.verify_request_id)
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

/// What a verifyOTP found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerifyOutcome {
    /// It matched; the OTP is used up.
    Verified,
    /// Wrong code; `tries_left` more wrong codes are taken (0: the OTP is locked now).
    Wrong {
        /// Wrong codes still taken.
        tries_left: u32,
    },
    /// Locked by earlier wrong codes.
    Locked,
    /// Past its lifetime.
    Expired,
    /// Verified before.
    Used,
    /// No OTP with this id for this token (none at all, or another token's).
    Unknown,
}

/// What to write for an attempt, decided on the stored OTP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VerifyDecision {
    /// Nothing to write: answer this.
    Answer(VerifyOutcome),
    /// PENDING with `failed_tries` as read → VERIFIED.
    MarkVerified(OtpRecord),
    /// PENDING with `failed_tries` as read → one more wrong try (LOCKED at the last).
    CountWrong(OtpRecord, u32),
}

/// The decision on an attempt against the stored OTP (`None`: none stored under the id).
/// Order: unknown or another token's → used → locked → expired → match → wrong.
pub fn decide_verify(attempt: &OtpAttempt, current: Option<&OtpRecord>) -> VerifyDecision {
    let Some(otp) = current else {
        return VerifyDecision::Answer(VerifyOutcome::Unknown);
    };
    if otp.token_hash != attempt.token_hash {
        return VerifyDecision::Answer(VerifyOutcome::Unknown);
    }
    match otp.state {
        OtpState::Verified => return VerifyDecision::Answer(VerifyOutcome::Used),
        OtpState::Locked => return VerifyDecision::Answer(VerifyOutcome::Locked),
        OtpState::Pending => {}
    }
    if attempt.now >= otp.expires_at {
        return VerifyDecision::Answer(VerifyOutcome::Expired);
    }
    let mut after = otp.clone();
    if otp.matches(attempt.code.expose()) {
        after.state = OtpState::Verified;
        return VerifyDecision::MarkVerified(after);
    }
    after.failed_tries = otp.failed_tries.saturating_add(1);
    let tries_left = OTP_TRIES_MAX.saturating_sub(after.failed_tries);
    if tries_left == 0 {
        after.state = OtpState::Locked;
    }
    VerifyDecision::CountWrong(after, tries_left)
}

/// The outcome a written decision answers.
pub fn written_outcome(decision: &VerifyDecision) -> VerifyOutcome {
    match decision {
        VerifyDecision::Answer(o) => *o,
        VerifyDecision::MarkVerified(_) => VerifyOutcome::Verified,
        VerifyDecision::CountWrong(_, tries_left) => VerifyOutcome::Wrong {
            tries_left: *tries_left,
        },
    }
}

/// What the verifyOTP function reads and writes: GetItem on tokens and the OTP table;
/// conditional UpdateItem on the OTP table.
#[async_trait]
pub trait VerifyOtpStore: Send + Sync {
    /// One read: the token and the OTP.
    async fn load_for_verify(
        &self,
        token_hash: &SecretHash,
        verify_request_id: &str,
    ) -> Result<(Option<AccessToken>, Option<OtpRecord>), StoreError>;
    /// Applies [`decide_verify`] on `current` (what the read found) as one conditional write
    /// guarded on the state and tries it was decided on; a lost race is decided again on the
    /// OTP as it is now.
    async fn verify_otp(
        &self,
        attempt: &OtpAttempt,
        current: Option<OtpRecord>,
    ) -> Result<VerifyOutcome, StoreError>;
}

// ---- flow ---------------------------------------------------------------------------------------

/// What verifyOTP needs.
#[derive(Clone)]
pub struct VerifyOtpDeps {
    /// The token and OTP read; the OTP's conditional write.
    pub store: Arc<dyn VerifyOtpStore>,
    /// Now.
    pub clock: Arc<dyn Clock>,
}

/// The code a verify outcome is answered with.
pub fn verify_code(outcome: VerifyOutcome) -> ResultCode {
    match outcome {
        VerifyOutcome::Verified => ResultCode::Success,
        VerifyOutcome::Wrong { .. } => ResultCode::UserPaymentVerificationFailed,
        VerifyOutcome::Locked => ResultCode::RiskReject,
        VerifyOutcome::Expired => ResultCode::ExpiredCode,
        VerifyOutcome::Used | VerifyOutcome::Unknown => ResultCode::InvalidCode,
    }
}

/// Answers a verifyOTP.
pub async fn verify_otp(
    deps: &VerifyOtpDeps,
    req: &VerifyOtpRequest,
) -> Result<VerifyOtpResponse, StoreError> {
    let now = deps.clock.now();
    let hash = Secret::new(req.access_token.0.as_str()).hash();
    let id = req.verify_request_id.as_str();
    let (token, otp) = deps.store.load_for_verify(&hash, id).await?;
    if let Err(code) = token_code(token, now) {
        return Ok(VerifyOtpResponse {
            result: result(code),
        });
    }
    let attempt = OtpAttempt {
        verify_request_id: id.to_string(),
        token_hash: hash,
        code: Secret::new(req.otp_code.0.as_str()),
        now,
    };
    let outcome = deps.store.verify_otp(&attempt, otp).await?;
    if let VerifyOutcome::Wrong { tries_left } = outcome {
        tracing::info!(tries_left, "otp did not match");
    }
    Ok(VerifyOtpResponse {
        result: result(verify_code(outcome)),
    })
}

// ---- memory store -------------------------------------------------------------------------------

// One lock per call, so the conditional write is atomic as the DynamoDB one is.
#[async_trait]
impl VerifyOtpStore for MemoryStore {
    async fn load_for_verify(
        &self,
        token_hash: &SecretHash,
        verify_request_id: &str,
    ) -> Result<(Option<AccessToken>, Option<OtpRecord>), StoreError> {
        let s = self.lock();
        Ok((
            s.tokens.get(token_hash).cloned(),
            s.otps.get(verify_request_id).cloned(),
        ))
    }

    async fn verify_otp(
        &self,
        attempt: &OtpAttempt,
        _current: Option<OtpRecord>,
    ) -> Result<VerifyOutcome, StoreError> {
        // Decided on the OTP as it is under the lock (what the caller read may be stale).
        let mut s = self.lock();
        let decision = decide_verify(attempt, s.otps.get(&attempt.verify_request_id));
        let outcome = written_outcome(&decision);
        match decision {
            VerifyDecision::Answer(_) => {}
            VerifyDecision::MarkVerified(after) | VerifyDecision::CountWrong(after, _) => {
                s.otps.insert(after.verify_request_id.clone(), after);
            }
        }
        Ok(outcome)
    }
}
