//! The OTP area: risk challenges on an auto-debit user (sendOTP, verifyOTP;
//! `account-binding.md` §7), organised by operation. Each operation's module holds everything of
//! it: wire types, edge glue, port, decision, flow and the memory store's adapter
//! ([`send_otp`](mod@send_otp), [`verify_otp`](mod@verify_otp)); this module holds what both
//! share: the stored OTP and its states, the code and its hash, contacts, the access-token check,
//! and the area's ports ([`OtpPorts`]).
//!
//! The numbers, their reasons and the codes answered are in `docs/decisions.md` ("OTP"):
//! [`OTP_DIGITS`] digits, valid [`OTP_LIFETIME_SECS`] seconds, [`OTP_TRIES_MAX`] wrong tries,
//! [`OTP_DAILY_MAX`] OTPs per access token per business day (UTC+8). The code itself is never
//! stored: only `SHA-256(salt, verifyRequestId, code)` with a random per-OTP salt, compared in
//! constant time.

pub mod send_otp;
pub mod verify_otp;

pub use send_otp::*;
pub use verify_otp::*;

use crate::clock::business_day;
use crate::ids::{CustomerId, Secret, SecretHash};
use crate::payments::{check_method, MethodFound};
use crate::result_code::ResultCode;
use crate::store::{AccessToken, StoreError};
use crate::wire::Text;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
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

/// The token check pay makes, as a code: both operations name the user by access token (unknown,
/// revoked or without `AGREEMENT_PAY` → `INVALID_TOKEN`, expired → `EXPIRED_ACCESS_TOKEN`).
fn token_code(
    token: Option<AccessToken>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<AccessToken, ResultCode> {
    match check_method(&MethodFound::Token(token.clone()), now) {
        Ok(_) => token.ok_or(ResultCode::InvalidToken),
        Err(decline) => Err(decline.code()),
    }
}

/// Digits of a one-time password (the common SMS-OTP length; 10^6 codes against
/// [`OTP_TRIES_MAX`] guesses).
pub const OTP_DIGITS: usize = 6;
/// How long an OTP may be verified: 5 minutes (time to read an SMS or e-mail and type it).
pub const OTP_LIFETIME_SECS: i64 = 300;
/// Wrong codes an OTP takes; the next verify of it is refused even with the right code.
/// 5 guesses of 10^6 codes: a 1 in 200 000 chance for an attacker.
pub const OTP_TRIES_MAX: u32 = 5;
/// OTPs one access token may be sent per business day (UTC+8). Alipay+ asks for at least 3; 10
/// leaves room for re-sends and bounds what one token can cost us in SMS.
pub const OTP_DAILY_MAX: u32 = 10;
/// Bytes of the per-OTP salt.
pub const OTP_SALT_BYTES: usize = 16;
/// Draws of a 32-bit random number before a uniform code is found (each draw is rejected with
/// probability 2.3e-4, so a ninth draw is never needed in practice).
const OTP_DRAWS_MAX: u32 = 8;
/// The largest multiple of 10^6 not above 2^32: draws at or above it are rejected so every code
/// is equally likely.
const OTP_UNIFORM_BOUND: u32 = 4_294_000_000;

/// A fresh one-time password (kept only until it is hashed and sent).
pub struct OtpCode(Secret);

impl OtpCode {
    /// A uniform [`OTP_DIGITS`]-digit code from the system's CSPRNG.
    pub fn generate() -> Result<OtpCode, StoreError> {
        for _ in 0..OTP_DRAWS_MAX {
            let mut b = [0u8; 4];
            aws_lc_rs::rand::fill(&mut b)
                .map_err(|_| StoreError::Unavailable("system random source failed".into()))?;
            let n = u32::from_be_bytes(b);
            if n < OTP_UNIFORM_BOUND {
                return Ok(OtpCode(Secret::new(format!("{:06}", n % 1_000_000))));
            }
        }
        Err(StoreError::Unavailable(
            "system random source gave no uniform code".into(),
        ))
    }

    /// The code: only for hashing and the message to the user.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl fmt::Debug for OtpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OtpCode(<redacted>)")
    }
}

/// A random salt, hex.
pub fn new_salt() -> Result<String, StoreError> {
    let mut b = [0u8; OTP_SALT_BYTES];
    aws_lc_rs::rand::fill(&mut b)
        .map_err(|_| StoreError::Unavailable("system random source failed".into()))?;
    Ok(hex::encode(b))
}

/// `SHA-256(salt, verifyRequestId, code)`, each part length-prefixed, hex.
pub fn hash_otp(salt: &str, verify_request_id: &str, code: &str) -> String {
    let mut h = Sha256::new();
    for part in [salt, verify_request_id, code] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Where an OTP is in its life. Each move is one conditional write on the prior state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OtpState {
    /// Sent; may be verified.
    Pending,
    /// Matched once; never again.
    Verified,
    /// [`OTP_TRIES_MAX`] wrong codes: refused from now on.
    Locked,
}

impl OtpState {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            OtpState::Pending => "PENDING",
            OtpState::Verified => "VERIFIED",
            OtpState::Locked => "LOCKED",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<OtpState> {
        match s {
            "PENDING" => Some(OtpState::Pending),
            "VERIFIED" => Some(OtpState::Verified),
            "LOCKED" => Some(OtpState::Locked),
            _ => None,
        }
    }
}

/// A stored OTP, keyed by `verifyRequestId`.
#[derive(Clone, PartialEq, Eq)]
pub struct OtpRecord {
    /// Our id of it, answered by sendOTP.
    pub verify_request_id: String,
    /// The access token it was sent for (by hash): verifyOTP must name the same token.
    pub token_hash: SecretHash,
    /// Whose.
    pub customer_id: CustomerId,
    /// SMS or e-mail.
    pub channel: VerifyType,
    /// The per-OTP salt (hex).
    pub salt: String,
    /// [`hash_otp`] of the code.
    pub code_hash: String,
    /// When it was sent.
    pub created_at: DateTime<Utc>,
    /// Not verifiable from this instant on.
    pub expires_at: DateTime<Utc>,
    /// Wrong codes so far.
    pub failed_tries: u32,
    /// Where it is.
    pub state: OtpState,
}

impl fmt::Debug for OtpRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtpRecord")
            .field("verify_request_id", &self.verify_request_id)
            .field("customer_id", &self.customer_id)
            .field("channel", &self.channel)
            .field("expires_at", &self.expires_at)
            .field("failed_tries", &self.failed_tries)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl OtpRecord {
    /// A new pending OTP for `token`, its code hashed with a fresh salt.
    pub fn new(
        verify_request_id: String,
        token: &AccessToken,
        channel: VerifyType,
        code: &OtpCode,
        now: DateTime<Utc>,
    ) -> Result<OtpRecord, StoreError> {
        let salt = new_salt()?;
        Ok(OtpRecord {
            code_hash: hash_otp(&salt, &verify_request_id, code.expose()),
            salt,
            verify_request_id,
            token_hash: token.token_hash.clone(),
            customer_id: token.customer_id.clone(),
            channel,
            created_at: now,
            expires_at: now + chrono::Duration::seconds(OTP_LIFETIME_SECS),
            failed_tries: 0,
            state: OtpState::Pending,
        })
    }

    /// The business day (UTC+8) it counts against.
    pub fn day(&self) -> u32 {
        business_day(self.created_at)
    }

    /// Does `code` match? Hashes it the same way and compares in constant time.
    pub fn matches(&self, code: &str) -> bool {
        let typed = hash_otp(&self.salt, &self.verify_request_id, code);
        aws_lc_rs::constant_time::verify_slices_are_equal(
            typed.as_bytes(),
            self.code_hash.as_bytes(),
        )
        .is_ok()
    }
}

/// The user's contact points (seed fields `accounts[].phone`, `accounts[].email`).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Contacts {
    /// E.164 phone number, `+` and 8–15 digits.
    pub phone: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
}

impl fmt::Debug for Contacts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Contacts")
            .field("phone", &self.phone.as_deref().map(mask_address))
            .field("email", &self.email.as_deref().map(mask_address))
            .finish()
    }
}

impl Contacts {
    /// The address for a channel.
    pub fn address(&self, channel: VerifyType) -> Option<&str> {
        match channel {
            VerifyType::Mobile => self.phone.as_deref(),
            VerifyType::Email => self.email.as_deref(),
        }
    }
}

/// A log-safe form of a phone number or e-mail address: the last 2 characters only.
pub fn mask_address(a: &str) -> String {
    let tail: String = a
        .chars()
        .rev()
        .take(2)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("…{tail}")
}

/// Checks a phone number: E.164, `+` then 8 to 15 digits.
pub fn check_phone(v: &str) -> Result<(), String> {
    let digits = v.strip_prefix('+').unwrap_or("");
    if (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err("must be an E.164 number: + then 8 to 15 digits".into())
    }
}

/// Checks an e-mail address: one `@` with text on both sides, a dot in the domain, at most 254
/// characters, no spaces or control characters.
pub fn check_email(v: &str) -> Result<(), String> {
    let ok = v.chars().count() <= 254
        && !v.chars().any(|c| c.is_whitespace() || c.is_control())
        && match v.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            }
            None => false,
        };
    if ok {
        Ok(())
    } else {
        Err("must be an e-mail address (local@domain.tld, at most 254 characters)".into())
    }
}

/// The OTP area's ports, one per function: what [`crate::store::Ports`] holds for the area. A
/// new OTP port is a field here, its bound in [`OtpStores`] and a line in [`OtpPorts::of`].
#[derive(Clone)]
pub struct OtpPorts {
    /// sendOTP's reads and OTP write.
    pub send_otp: std::sync::Arc<dyn SendOtpStore>,
    /// verifyOTP's read and OTP write.
    pub verify_otp: std::sync::Arc<dyn VerifyOtpStore>,
}

/// A store that serves every port of the OTP area.
pub trait OtpStores: SendOtpStore + VerifyOtpStore + 'static {}

impl<T> OtpStores for T where T: SendOtpStore + VerifyOtpStore + 'static {}

impl OtpPorts {
    /// Every OTP port of `store`.
    pub fn of<T: OtpStores>(store: std::sync::Arc<T>) -> OtpPorts {
        OtpPorts {
            send_otp: store.clone(),
            verify_otp: store,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn token() -> AccessToken {
        AccessToken {
            token_hash: Secret::new("tok").hash(),
            customer_id: CustomerId::new("2160000000000001"),
            scopes: vec!["AGREEMENT_PAY".into()],
            expires_at: Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap(),
            revoked: false,
        }
    }

    fn attempt(code: &str, now: DateTime<Utc>) -> OtpAttempt {
        OtpAttempt {
            verify_request_id: "v1".into(),
            token_hash: token().token_hash,
            code: Secret::new(code),
            now,
        }
    }

    #[test]
    fn codes_are_six_digits_and_differ() {
        let a = OtpCode::generate().unwrap();
        let b = OtpCode::generate().unwrap();
        assert_eq!(a.expose().len(), OTP_DIGITS);
        assert!(a.expose().bytes().all(|c| c.is_ascii_digit()));
        // Two equal draws in a row: 1 in 10^6; a third would be a broken generator.
        let c = OtpCode::generate().unwrap();
        assert!(a.expose() != b.expose() || b.expose() != c.expose());
        assert!(!format!("{a:?}").contains(a.expose()));
    }

    #[test]
    fn the_record_holds_a_salted_hash_never_the_code() {
        let now = Utc::now();
        let code = OtpCode::generate().unwrap();
        let r = OtpRecord::new("v1".into(), &token(), VerifyType::Mobile, &code, now).unwrap();
        assert!(!r.code_hash.contains(code.expose()));
        assert!(r.matches(code.expose()));
        assert!(!r.matches("not it"));
        let again = OtpRecord::new("v1".into(), &token(), VerifyType::Mobile, &code, now).unwrap();
        assert_ne!(r.code_hash, again.code_hash, "salted per OTP");
        assert!(!format!("{r:?}").contains(&r.code_hash));
    }

    #[test]
    fn decisions_in_order() {
        let now = Utc::now();
        let code = OtpCode::generate().unwrap();
        let r = OtpRecord::new("v1".into(), &token(), VerifyType::Email, &code, now).unwrap();
        assert_eq!(
            decide_verify(&attempt(code.expose(), now), None),
            VerifyDecision::Answer(VerifyOutcome::Unknown)
        );
        let mut other = attempt(code.expose(), now);
        other.token_hash = Secret::new("other").hash();
        assert_eq!(
            decide_verify(&other, Some(&r)),
            VerifyDecision::Answer(VerifyOutcome::Unknown)
        );
        assert!(matches!(
            decide_verify(&attempt(code.expose(), now), Some(&r)),
            VerifyDecision::MarkVerified(v) if v.state == OtpState::Verified
        ));
        let late = now + chrono::Duration::seconds(OTP_LIFETIME_SECS);
        assert_eq!(
            decide_verify(&attempt(code.expose(), late), Some(&r)),
            VerifyDecision::Answer(VerifyOutcome::Expired)
        );
        let mut tried = r.clone();
        tried.failed_tries = OTP_TRIES_MAX - 1;
        assert!(matches!(
            decide_verify(&attempt("000000x", now), Some(&tried)),
            VerifyDecision::CountWrong(v, 0) if v.state == OtpState::Locked
        ));
        let mut used = r.clone();
        used.state = OtpState::Verified;
        assert_eq!(
            decide_verify(&attempt(code.expose(), now), Some(&used)),
            VerifyDecision::Answer(VerifyOutcome::Used)
        );
        assert_eq!(decide_issue(OTP_DAILY_MAX - 1), IssueOutcome::Issued);
        assert_eq!(decide_issue(OTP_DAILY_MAX), IssueOutcome::DailyCapReached);
    }

    #[test]
    fn contact_rules() {
        assert!(check_phone("+821012345678").is_ok());
        assert!(check_phone("821012345678").is_err());
        assert!(check_phone("+82-10").is_err());
        assert!(check_email("kim@example.com").is_ok());
        assert!(check_email("kim@@example.com").is_err());
        assert!(check_email("kim example@x.com").is_err());
        assert_eq!(mask_address("+821012345678"), "…78");
    }
}
