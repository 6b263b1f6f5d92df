//! Money: an integer count of a currency's minor units, never a float.

use std::fmt;
use std::str::FromStr;

/// A non-negative amount in the currency's smallest unit (cents, won, yen).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct MinorUnit(pub u64);

impl MinorUnit {
    /// Zero minor units.
    pub const ZERO: MinorUnit = MinorUnit(0);

    /// The raw count of minor units.
    pub fn get(self) -> u64 {
        self.0
    }

    /// `self + other`, or `None` on overflow.
    pub fn checked_add(self, other: MinorUnit) -> Option<MinorUnit> {
        self.0.checked_add(other.0).map(MinorUnit)
    }

    /// `self - other`, or `None` if it would go below zero.
    pub fn checked_sub(self, other: MinorUnit) -> Option<MinorUnit> {
        self.0.checked_sub(other.0).map(MinorUnit)
    }
}

impl fmt::Display for MinorUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Why a wire amount string is not a natural number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// The string is empty.
    #[error("must not be empty")]
    Empty,
    /// Something other than ASCII digits (a sign, a dot, a space...).
    #[error("must contain digits only (no sign, no decimals)")]
    NotDigits,
    /// A leading zero (`"0100"`), or zero itself.
    #[error("must be a natural number from 1 without leading zeros")]
    NotNatural,
    /// More than fits in 64 bits.
    #[error("must not exceed {}", u64::MAX)]
    TooLarge,
}

impl MinorUnit {
    /// Parses an Alipay+ amount value: a natural number (`"1"` upward) written with digits only,
    /// no sign, no decimals, no leading zeros, at most `u64::MAX`.
    pub fn parse_natural(s: &str) -> Result<MinorUnit, AmountError> {
        if s.is_empty() {
            return Err(AmountError::Empty);
        }
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AmountError::NotDigits);
        }
        if s.starts_with('0') {
            return Err(AmountError::NotNatural);
        }
        u64::from_str(s)
            .map(MinorUnit)
            .map_err(|_| AmountError::TooLarge)
    }
}

/// An ISO 4217 alphabetic currency code from the real table, which also knows its minor units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    /// Looks a code up in the ISO 4217 table (exact, upper-case, three letters).
    pub fn from_code(code: &str) -> Option<Currency> {
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return None;
        }
        iso_currency::Currency::from_code(code).map(Currency)
    }

    /// The three-letter code, e.g. `"KRW"`.
    pub fn code(self) -> &'static str {
        self.0.code()
    }

    /// Number of digits after the decimal point (KRW and JPY 0, USD 2, KWD 3). Currencies the
    /// table lists without minor units (gold, SDR, ...) count as 0.
    pub fn minor_digits(self) -> u32 {
        self.0.exponent().map(u32::from).unwrap_or(0)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An amount with its currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Money {
    /// The currency.
    pub currency: Currency,
    /// The amount in that currency's minor units.
    pub value: MinorUnit,
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.value, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_numbers_parse_and_everything_else_is_refused() {
        assert_eq!(MinorUnit::parse_natural("1"), Ok(MinorUnit(1)));
        assert_eq!(
            MinorUnit::parse_natural("18446744073709551615"),
            Ok(MinorUnit(u64::MAX))
        );
        assert_eq!(MinorUnit::parse_natural(""), Err(AmountError::Empty));
        assert_eq!(MinorUnit::parse_natural("0"), Err(AmountError::NotNatural));
        assert_eq!(
            MinorUnit::parse_natural("0100"),
            Err(AmountError::NotNatural)
        );
        assert_eq!(MinorUnit::parse_natural("-1"), Err(AmountError::NotDigits));
        assert_eq!(MinorUnit::parse_natural("+1"), Err(AmountError::NotDigits));
        assert_eq!(MinorUnit::parse_natural("1.0"), Err(AmountError::NotDigits));
        assert_eq!(MinorUnit::parse_natural(" 1"), Err(AmountError::NotDigits));
        assert_eq!(MinorUnit::parse_natural("١"), Err(AmountError::NotDigits));
        assert_eq!(
            MinorUnit::parse_natural("18446744073709551616"),
            Err(AmountError::TooLarge)
        );
    }

    #[test]
    fn currencies_come_from_the_iso_table_with_minor_units() {
        let krw = Currency::from_code("KRW").unwrap();
        assert_eq!(krw.code(), "KRW");
        assert_eq!(krw.minor_digits(), 0);
        assert_eq!(Currency::from_code("USD").unwrap().minor_digits(), 2);
        assert_eq!(Currency::from_code("KWD").unwrap().minor_digits(), 3);
        assert_eq!(Currency::from_code("JPY").unwrap().minor_digits(), 0);
        assert!(Currency::from_code("usd").is_none());
        assert!(Currency::from_code("XYZ").is_none());
        assert!(Currency::from_code("US").is_none());
    }
}
