//! sendOTP and verifyOTP (Alipay+ → MPP): `account-binding.md` §7, risk control for auto debit.
//!
//! The page gives the fields and their lengths; `otpCode`'s length is not published (we take
//! 1–16 characters: our codes are 6 digits, and a longer or non-digit code is answered as a
//! wrong code rather than refused as malformed, see `docs/decisions.md`).

use super::result::ResultObject;
use super::scalar::Text;
use super::{ParamIllegal, Validate};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Where the one-time password goes: `MOBILE` (the default) or `EMAIL`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum VerifyType {
    /// An SMS to the account's phone number.
    #[default]
    Mobile,
    /// An e-mail to the account's address.
    Email,
}

impl VerifyType {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyType::Mobile => "MOBILE",
            VerifyType::Email => "EMAIL",
        }
    }

    /// Parses the wire (and stored) spelling.
    pub fn parse(s: &str) -> Option<VerifyType> {
        match s {
            "MOBILE" => Some(VerifyType::Mobile),
            "EMAIL" => Some(VerifyType::Email),
            _ => None,
        }
    }
}

/// An access token on the wire: its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TokenText(pub Text<128>);

impl fmt::Debug for TokenText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenText(<redacted>)")
    }
}

/// A one-time password as typed by the user: its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OtpText(pub Text<16>);

impl fmt::Debug for OtpText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OtpText(<redacted>)")
    }
}

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
