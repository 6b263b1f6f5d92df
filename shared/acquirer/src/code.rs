//! Step 1 of the seed page: is the scanned value an Alipay+ payment code, and may it go to
//! Alipay+?
//!
//! Alipay+ payment codes are 16 to 24 digits starting with 25, 26, 27, 28, 29 or 30; scanners
//! must also accept codes up to 32 digits, reserved for expansion (`alipayplus-apis.md` §12).
//! Anything else is refused with the reason, before an order exists.

use std::fmt;

/// Shortest Alipay+ payment code.
pub const CODE_DIGITS_MIN: usize = 16;
/// Longest payment code issued today.
pub const CODE_DIGITS_ISSUED_MAX: usize = 24;
/// Longest code a scanner must accept ("support the length of 32 digits for further use").
pub const CODE_DIGITS_MAX: usize = 32;
/// The two-digit prefixes of Alipay+ payment codes.
pub const CODE_PREFIXES: [&str; 6] = ["25", "26", "27", "28", "29", "30"];

/// A scanned value that passed Step 1. `Debug` and `Display` never show the digits: a payment
/// code is a bearer credential until it is used or expires.
#[derive(Clone, PartialEq, Eq)]
pub struct PaymentCode {
    digits: String,
    reach: CodeReach,
}

/// Whether a code has a length Alipay+ issues today or one reserved for expansion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeReach {
    /// 16 to 24 digits: issued today.
    Issued,
    /// 25 to 32 digits: accepted for future expansion; routed like any other.
    Expansion,
}

/// Why a scanned value is not an Alipay+ payment code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// Nothing was scanned.
    #[error("the scanned value is empty")]
    Empty,
    /// A character other than an ASCII digit, at this 0-based position.
    #[error("an Alipay+ payment code is digits only; character {position} is not a digit")]
    NotDigits {
        /// Where the first offending character is.
        position: usize,
    },
    /// Fewer than 16 digits.
    #[error("{len} digits is too short: Alipay+ payment codes have 16 to 32 digits")]
    TooShort {
        /// How many digits there were.
        len: usize,
    },
    /// More than 32 digits.
    #[error("{len} digits is too long: Alipay+ payment codes have 16 to 32 digits")]
    TooLong {
        /// How many digits there were.
        len: usize,
    },
    /// Digits of a valid length that do not start 25 to 30: not an Alipay+ code (another
    /// scheme's code, which this acquirer does not route).
    #[error("codes starting {prefix} are not Alipay+ payment codes (they start 25 to 30)")]
    NotAlipayPlus {
        /// The first two digits.
        prefix: String,
    },
}

impl PaymentCode {
    /// The digits, for the wire only (`paymentMethod.paymentMethodId`).
    pub fn expose(&self) -> &str {
        &self.digits
    }

    /// How many digits.
    pub fn len(&self) -> usize {
        self.digits.len()
    }

    /// Never true: a payment code has at least 16 digits.
    pub fn is_empty(&self) -> bool {
        self.digits.is_empty()
    }

    /// Issued length or expansion length.
    pub fn reach(&self) -> CodeReach {
        self.reach
    }

    /// The two-digit prefix (not secret: it names the code family, as routing does).
    pub fn prefix(&self) -> &str {
        self.digits.get(..2).unwrap_or("")
    }
}

impl fmt::Debug for PaymentCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PaymentCode({}…, {} digits)", self.prefix(), self.len())
    }
}

impl fmt::Display for PaymentCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}… ({} digits)", self.prefix(), self.len())
    }
}

/// Step 1: accepts 16 to 32 ASCII digits starting 25 to 30, refuses anything else with the
/// first reason that applies (empty, not digits, length, prefix).
pub fn identify(scanned: &str) -> Result<PaymentCode, CodeError> {
    if scanned.is_empty() {
        return Err(CodeError::Empty);
    }
    if let Some(position) = scanned.chars().position(|c| !c.is_ascii_digit()) {
        return Err(CodeError::NotDigits { position });
    }
    let len = scanned.len();
    if len < CODE_DIGITS_MIN {
        return Err(CodeError::TooShort { len });
    }
    if len > CODE_DIGITS_MAX {
        return Err(CodeError::TooLong { len });
    }
    let prefix = scanned.get(..2).unwrap_or("");
    if !CODE_PREFIXES.contains(&prefix) {
        return Err(CodeError::NotAlipayPlus {
            prefix: prefix.to_string(),
        });
    }
    let reach = if len <= CODE_DIGITS_ISSUED_MAX {
        CodeReach::Issued
    } else {
        CodeReach::Expansion
    };
    Ok(PaymentCode {
        digits: scanned.to_string(),
        reach,
    })
}
