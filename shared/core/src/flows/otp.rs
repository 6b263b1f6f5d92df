//! sendOTP and verifyOTP: a merchant's risk challenge on an auto-debit user
//! (`account-binding.md` §7).
//!
//! sendOTP: the token must be valid (as in pay: unknown, revoked or without `AGREEMENT_PAY` →
//! `INVALID_TOKEN`, expired → `EXPIRED_ACCESS_TOKEN`); the account must exist, be usable and
//! have an address for the channel; then the OTP is stored (hashed) and counted against the
//! token's day in one write, and only then handed to the delivery port. Stored first: a message
//! whose OTP could not be stored would carry a code that never verifies.
//!
//! verifyOTP: the token must be valid; then the stored OTP is decided on
//! (`store::otp::decide_verify`) and the decision written in one conditional write.
//!
//! Codes (`docs/decisions.md`, "OTP"): over the daily cap and a locked OTP `RISK_REJECT`; a wrong
//! code `USER_PAYMENT_VERIFICATION_FAILED`; an expired OTP `EXPIRED_CODE`; a used one or an
//! unknown (or another token's) `verifyRequestId` `INVALID_CODE`.

use super::{new_id, result, text};
use crate::clock::Clock;
use crate::deadline::Deadline;
use crate::ids::Secret;
use crate::messaging::{Message, MessageSender, SendError};
use crate::result_code::ResultCode;
use crate::store::otp::{
    IssueOutcome, OtpAttempt, OtpCode, OtpRecord, SendOtpStore, VerifyOtpStore, VerifyOutcome,
    OTP_LIFETIME_SECS,
};
use crate::store::rules::check_method;
use crate::store::{AccessToken, AccountStatus, MethodFound, StoreError};
use crate::wire::{
    SendOtpRequest, SendOtpResponse, VerifyOtpRequest, VerifyOtpResponse, VerifyType,
};
use std::sync::Arc;
use std::time::Duration;

/// The most the hand-off to SNS or SES may take inside sendOTP's 8 s: one SDK call (its own
/// attempt timeout is shorter, see `mpp_aws::messaging`), leaving the store's writes and the
/// signing reserve their time. Past it the answer is U (the message may have gone out).
pub const DELIVERY_BUDGET: Duration = Duration::from_secs(4);

/// The name the messages give the wallet.
pub const WALLET_NAME: &str = "MPP wallet";

/// What sendOTP needs.
#[derive(Clone)]
pub struct SendOtpDeps {
    /// Token and account reads; the OTP write.
    pub store: Arc<dyn SendOtpStore>,
    /// SMS and e-mail.
    pub sender: Arc<dyn MessageSender>,
    /// Now.
    pub clock: Arc<dyn Clock>,
}

/// What verifyOTP needs.
#[derive(Clone)]
pub struct VerifyOtpDeps {
    /// The token and OTP read; the OTP's conditional write.
    pub store: Arc<dyn VerifyOtpStore>,
    /// Now.
    pub clock: Arc<dyn Clock>,
}

/// Why sendOTP could not answer with a business result.
#[derive(Debug, thiserror::Error)]
pub enum OtpError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The delivery service did not say whether the message went out: U.
    #[error("otp delivery: {0}")]
    Delivery(#[source] SendError),
}

fn send_answer(code: ResultCode) -> SendOtpResponse {
    SendOtpResponse {
        result: result(code),
        verify_request_id: None,
    }
}

/// The message holding the code.
pub fn otp_message(channel: VerifyType, to: &str, code: &OtpCode) -> Message {
    let minutes = OTP_LIFETIME_SECS / 60;
    let text = format!(
        "{WALLET_NAME}: your verification code is {}. It expires in {minutes} minutes. \
         Never share it; we will never ask for it.",
        code.expose()
    );
    Message {
        channel,
        to: to.to_string(),
        subject: match channel {
            VerifyType::Mobile => None,
            VerifyType::Email => Some(format!("{WALLET_NAME} verification code")),
        },
        text,
    }
}

/// The token check pay makes, as a code.
fn token_code(
    token: Option<AccessToken>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<AccessToken, ResultCode> {
    match check_method(&MethodFound::Token(token.clone()), now) {
        Ok(_) => token.ok_or(ResultCode::InvalidToken),
        Err(decline) => Err(decline.code()),
    }
}

/// Answers a sendOTP.
pub async fn send_otp(
    deps: &SendOtpDeps,
    req: &SendOtpRequest,
) -> Result<SendOtpResponse, OtpError> {
    let now = deps.clock.now();
    let hash = Secret::new(req.access_token.0.as_str()).hash();
    let token = match token_code(deps.store.otp_token(&hash).await?, now) {
        Ok(t) => t,
        Err(code) => return Ok(send_answer(code)),
    };
    let Some(recipient) = deps.store.recipient(&token.customer_id).await? else {
        return Ok(send_answer(ResultCode::UserNotExist));
    };
    match recipient.status {
        AccountStatus::Normal => {}
        AccountStatus::Frozen | AccountStatus::Closed => {
            return Ok(send_answer(ResultCode::UserStatusAbnormal))
        }
    }
    let channel = req.channel();
    let Some(to) = recipient.contacts.address(channel) else {
        tracing::warn!(channel = channel.as_str(), "no address for the channel");
        return Ok(send_answer(ResultCode::ProcessFail));
    };
    let code = OtpCode::generate()?;
    let otp = OtpRecord::new(new_id(now), &token, channel, &code, now)?;
    match deps.store.issue_otp(&otp).await? {
        IssueOutcome::Issued => {}
        IssueOutcome::DailyCapReached => return Ok(send_answer(ResultCode::RiskReject)),
    }
    let message = otp_message(channel, to, &code);
    let sent = Deadline::attempt_budget(DELIVERY_BUDGET);
    let delivered = match tokio::time::timeout(sent, deps.sender.send(&message)).await {
        Ok(r) => r,
        Err(_) => Err(SendError::Unknown(
            "no answer from the delivery service in time".into(),
        )),
    };
    match delivered {
        Ok(()) => {}
        Err(SendError::Rejected(cause)) => {
            tracing::warn!(channel = channel.as_str(), error = %crate::edge::scrub(&cause.to_string()), "otp message refused");
            return Ok(send_answer(ResultCode::ProcessFail));
        }
        Err(e @ SendError::Unknown(_)) => return Err(OtpError::Delivery(e)),
    }
    tracing::info!(
        channel = channel.as_str(),
        verify_request_id = otp.verify_request_id.as_str(),
        "otp sent"
    );
    Ok(SendOtpResponse {
        result: result(ResultCode::Success),
        verify_request_id: text(&otp.verify_request_id),
    })
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
