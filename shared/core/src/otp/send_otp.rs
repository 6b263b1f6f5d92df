//! sendOTP (Alipay+ → MPP): send a one-time password to the user an access token names.
//!
//! The token must be valid (as in pay: unknown, revoked or without `AGREEMENT_PAY` →
//! `INVALID_TOKEN`, expired → `EXPIRED_ACCESS_TOKEN`); the account must exist, be usable and
//! have an address for the channel; then the OTP is stored (hashed) and counted against the
//! token's day in one write, and only then handed to the delivery port. Stored first: a message
//! whose OTP could not be stored would carry a code that never verifies.
//!
//! Codes (`docs/decisions.md`, "OTP"): over the daily cap `RISK_REJECT`; no address for the
//! channel, or a message the delivery service refused, `PROCESS_FAIL`; no answer from it U.

use super::OTP_LIFETIME_SECS;
use super::{token_code, Contacts, OtpCode, OtpRecord, TokenText, VerifyType, OTP_DAILY_MAX};
use crate::clock::Clock;
use crate::deadline::Deadline;
use crate::edge::{Answered, EdgeError, Keyed};
use crate::flows::{new_id, result, text};
use crate::ids::{CustomerId, Secret, SecretHash};
use crate::messaging::{Message, MessageSender, SendError};
use crate::result_code::ResultCode;
use crate::store::memory::MemoryStore;
use crate::store::{AccessToken, AccountStatus, StoreError};
use crate::wire::{ParamIllegal, ResultObject, Text, Validate};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

// ---- wire ---------------------------------------------------------------------------------------

/// sendOTP: send a one-time password to the user the access token names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendOtpRequest {
    /// The ACQP's id.
    pub acquirer_id: Text<64>,
    /// Our id at Alipay+.
    pub psp_id: Text<64>,
    /// The access token of the binding: identifies the user.
    pub access_token: TokenText,
    /// `MOBILE` (the default when absent) or `EMAIL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_type: Option<VerifyType>,
}

impl SendOtpRequest {
    /// The channel asked for (`MOBILE` when absent).
    pub fn channel(&self) -> VerifyType {
        self.verify_type.unwrap_or_default()
    }
}

impl Validate for SendOtpRequest {
    fn validate(&self) -> Result<(), ParamIllegal> {
        Ok(())
    }
}

/// sendOTP's answer: `verifyRequestId` on S.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendOtpResponse {
    /// The outcome.
    pub result: ResultObject,
    /// Names this OTP in the verifyOTP that follows (≤ 64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_request_id: Option<Text<64>>,
}

impl Validate for SendOtpResponse {
    fn validate(&self) -> Result<(), ParamIllegal> {
        Ok(())
    }
}

// ---- edge ---------------------------------------------------------------------------------------

/// sendOTP names no payment: its log lines carry an empty `payment_request_id`.
impl Keyed for SendOtpRequest {
    fn payment_request_id(&self) -> &str {
        ""
    }
}

impl Answered for SendOtpResponse {
    fn code(&self) -> ResultCode {
        self.result.code().unwrap_or(ResultCode::UnknownException)
    }
}

impl From<OtpError> for EdgeError {
    fn from(e: OtpError) -> EdgeError {
        match e {
            OtpError::Store(s) => EdgeError::Store(s),
            OtpError::Delivery(d) => EdgeError::Delivery(d),
        }
    }
}

// ---- port and decision --------------------------------------------------------------------------

/// The account as sendOTP sees it: its status and where to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    /// Normal, frozen, closed.
    pub status: AccountStatus,
    /// Phone and e-mail.
    pub contacts: Contacts,
}

/// What storing a new OTP did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IssueOutcome {
    /// Stored and counted against the day.
    Issued,
    /// The token had its [`OTP_DAILY_MAX`] OTPs today: nothing written.
    DailyCapReached,
}

/// The decision on a day's count: `sent` OTPs so far today.
pub fn decide_issue(sent: u32) -> IssueOutcome {
    if sent >= OTP_DAILY_MAX {
        IssueOutcome::DailyCapReached
    } else {
        IssueOutcome::Issued
    }
}

/// What the sendOTP function reads and writes: GetItem on tokens and accounts; one
/// TransactWriteItems on the OTP table (the OTP and the day's count).
#[async_trait]
pub trait SendOtpStore: Send + Sync {
    /// The access token with this hash.
    async fn otp_token(&self, token_hash: &SecretHash) -> Result<Option<AccessToken>, StoreError>;
    /// The account's status and contacts.
    async fn recipient(&self, customer_id: &CustomerId) -> Result<Option<Recipient>, StoreError>;
    /// Stores `otp` and counts it against its token's day, in one atomic write, unless the
    /// token already had [`OTP_DAILY_MAX`] OTPs that day ([`decide_issue`]).
    async fn issue_otp(&self, otp: &OtpRecord) -> Result<IssueOutcome, StoreError>;
}

// ---- flow ---------------------------------------------------------------------------------------

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

// ---- memory store -------------------------------------------------------------------------------

// One lock per call, so the write is atomic as the DynamoDB transaction is.
#[async_trait]
impl SendOtpStore for MemoryStore {
    async fn otp_token(&self, token_hash: &SecretHash) -> Result<Option<AccessToken>, StoreError> {
        Ok(self.lock().tokens.get(token_hash).cloned())
    }

    async fn recipient(&self, customer_id: &CustomerId) -> Result<Option<Recipient>, StoreError> {
        let s = self.lock();
        Ok(s.accounts.get(customer_id).map(|a| Recipient {
            status: a.status,
            contacts: s.contacts.get(customer_id).cloned().unwrap_or_default(),
        }))
    }

    async fn issue_otp(&self, otp: &OtpRecord) -> Result<IssueOutcome, StoreError> {
        let mut s = self.lock();
        if s.otps.contains_key(&otp.verify_request_id) {
            return Err(StoreError::AlreadyExists(format!(
                "otp {}",
                otp.verify_request_id
            )));
        }
        let day = (otp.token_hash.clone(), otp.day());
        let sent = s.otp_days.get(&day).copied().unwrap_or(0);
        match decide_issue(sent) {
            IssueOutcome::DailyCapReached => Ok(IssueOutcome::DailyCapReached),
            IssueOutcome::Issued => {
                s.otp_days.insert(day, sent.saturating_add(1));
                s.otps.insert(otp.verify_request_id.clone(), otp.clone());
                Ok(IssueOutcome::Issued)
            }
        }
    }
}
