//! Strict scalar types: every one is a JSON string on the wire, checked when it is read and
//! written back exactly as it was received.

use crate::money::{Currency, MinorUnit, Money};
use chrono::{DateTime, FixedOffset, Utc};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Reads a JSON string and hands it to `check`; anything but a string is an error whose message
/// says what was expected (`expecting`).
fn deserialize_checked<'de, D, T, F>(d: D, expecting: &'static str, check: F) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    F: FnOnce(&str) -> Result<T, String>,
{
    struct StrVisitor<F> {
        expecting: &'static str,
        check: F,
    }
    impl<T, F: FnOnce(&str) -> Result<T, String>> Visitor<'_> for StrVisitor<F> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.expecting)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            (self.check)(v).map_err(E::custom)
        }
    }
    d.deserialize_str(StrVisitor { expecting, check })
}

// ---------------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------------

/// A non-empty string of at most `MAX` characters (Unicode scalar values, not bytes).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Text<const MAX: usize>(String);

impl<const MAX: usize> Text<MAX> {
    /// Checks the rule: not empty, at most `MAX` characters.
    pub fn new(s: impl Into<String>) -> Result<Self, String> {
        let s = s.into();
        if s.is_empty() {
            return Err("must not be empty (leave an optional field out or send null)".into());
        }
        let chars = s.chars().count();
        if chars > MAX {
            return Err(format!("must be at most {MAX} characters (got {chars})"));
        }
        Ok(Text(s))
    }

    /// A value the code itself spells (a listed enum spelling), known to fit the rule.
    pub(super) fn new_unchecked(s: &str) -> Self {
        debug_assert!(!s.is_empty() && s.chars().count() <= MAX);
        Text(s.to_string())
    }

    /// The string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The owned string.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl<const MAX: usize> fmt::Display for Text<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<const MAX: usize> fmt::Debug for Text<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl<const MAX: usize> Serialize for Text<MAX> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de, const MAX: usize> Deserialize<'de> for Text<MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<const M: usize>;
        impl<const M: usize> Visitor<'_> for V<M> {
            type Value = Text<M>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a JSON string of 1 to {M} characters")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<M>, E> {
                Text::new(v).map_err(E::custom)
            }
        }
        d.deserialize_str(V::<MAX>)
    }
}

// ---------------------------------------------------------------------------------------------
// Flag
// ---------------------------------------------------------------------------------------------

/// A boolean written as the string `"true"` or `"false"`, nothing else.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Flag(bool);

impl Flag {
    /// Wraps a bool.
    pub fn new(b: bool) -> Flag {
        Flag(b)
    }

    /// The bool.
    pub fn get(self) -> bool {
        self.0
    }
}

/// An optional flag read with the spec's default: absent (or null) means `false`.
pub fn is_true(f: Option<Flag>) -> bool {
    f.is_some_and(Flag::get)
}

impl Serialize for Flag {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if self.0 { "true" } else { "false" })
    }
}

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_checked(d, "the JSON string \"true\" or \"false\"", |s| match s {
            "true" => Ok(Flag(true)),
            "false" => Ok(Flag(false)),
            _ => Err("must be the string \"true\" or \"false\"".to_string()),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Amount
// ---------------------------------------------------------------------------------------------

/// `{"currency": ISO 4217 code, "value": natural number of minor units}`, both strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Amount {
    /// The ISO 4217 currency.
    #[serde(with = "currency_str")]
    pub currency: Currency,
    /// The value in the currency's minor units, at least 1.
    #[serde(with = "natural_str")]
    pub value: MinorUnit,
}

impl Amount {
    /// As domain money.
    pub fn money(&self) -> Money {
        Money {
            currency: self.currency,
            value: self.value,
        }
    }

    /// From domain money.
    pub fn from_money(m: Money) -> Amount {
        Amount {
            currency: m.currency,
            value: m.value,
        }
    }
}

fn parse_currency(s: &str) -> Result<Currency, String> {
    Currency::from_code(s)
        .ok_or_else(|| format!("`{s}` is not an upper-case ISO 4217 alphabetic currency code"))
}

mod currency_str {
    use super::*;

    pub fn serialize<S: Serializer>(c: &Currency, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(c.code())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Currency, D::Error> {
        deserialize_checked(
            d,
            "a JSON string holding an ISO 4217 currency code",
            parse_currency,
        )
    }
}

mod natural_str {
    use super::*;

    pub fn serialize<S: Serializer>(v: &MinorUnit, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.get().to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<MinorUnit, D::Error> {
        deserialize_checked(d, "a JSON string holding a natural number", |s| {
            MinorUnit::parse_natural(s).map_err(|e| e.to_string())
        })
    }
}

/// A count written as a string: a natural number (`"1"` upward) that fits in 64 bits
/// (`goodsQuantity`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Natural(#[serde(with = "natural_str")] MinorUnit);

impl Natural {
    /// A natural number (`None` for 0, which the wire rule refuses).
    pub fn new(n: u64) -> Option<Natural> {
        (n > 0).then_some(Natural(MinorUnit(n)))
    }

    /// The number.
    pub fn get(self) -> u64 {
        self.0.get()
    }
}

// ---------------------------------------------------------------------------------------------
// Timestamp
// ---------------------------------------------------------------------------------------------

/// The longest datetime string we accept (RFC 3339 with nanoseconds is 35 characters).
const TIMESTAMP_MAX_CHARS: usize = 64;

/// An ISO 8601 (RFC 3339 profile) date and time **with** an offset, e.g.
/// `"2019-11-27T12:01:01+08:00"`; the string received is kept for an exact round trip.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Timestamp {
    raw: String,
    at: DateTime<FixedOffset>,
}

impl Timestamp {
    /// Parses and checks a datetime string.
    pub fn parse(s: &str) -> Result<Timestamp, String> {
        if s.chars().count() > TIMESTAMP_MAX_CHARS {
            return Err(format!("must be at most {TIMESTAMP_MAX_CHARS} characters"));
        }
        DateTime::parse_from_rfc3339(s)
            .map(|at| Timestamp {
                raw: s.to_string(),
                at,
            })
            .map_err(|_| {
                "must be an ISO 8601 date and time with an offset, e.g. \
                 \"2019-11-27T12:01:01+08:00\""
                    .to_string()
            })
    }

    /// The string as received.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The instant with its original offset.
    pub fn at(&self) -> DateTime<FixedOffset> {
        self.at
    }

    /// The instant in UTC.
    pub fn utc(&self) -> DateTime<Utc> {
        self.at.with_timezone(&Utc)
    }

    /// Formats an instant the way the spec's samples do: seconds and a `+hh:mm` offset.
    pub fn from_datetime(at: DateTime<FixedOffset>) -> Timestamp {
        Timestamp {
            raw: at.format("%Y-%m-%dT%H:%M:%S%:z").to_string(),
            at,
        }
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({})", self.raw)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.raw)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_checked(
            d,
            "a JSON string holding an ISO 8601 datetime with offset",
            Timestamp::parse,
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Region
// ---------------------------------------------------------------------------------------------

/// An ISO 3166-1 alpha-2 country/region code from the real table (`"JP"`), upper case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Region(isocountry::CountryCode);

impl Region {
    /// Looks a code up.
    pub fn parse(s: &str) -> Result<Region, String> {
        if s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase()) {
            if let Ok(c) = isocountry::CountryCode::for_alpha2(s) {
                return Ok(Region(c));
            }
        }
        Err(format!(
            "`{s}` is not an upper-case ISO 3166-1 alpha-2 region code"
        ))
    }

    /// The two-letter code.
    pub fn as_str(&self) -> &'static str {
        self.0.alpha2()
    }
}

impl Serialize for Region {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Region {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_checked(
            d,
            "a JSON string holding an ISO 3166 alpha-2 code",
            Region::parse,
        )
    }
}

// ---------------------------------------------------------------------------------------------
// CurrencyCode
// ---------------------------------------------------------------------------------------------

/// A bare ISO 4217 code as a string field (`baseCurrency`, `settlementCurrency`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CurrencyCode(#[serde(with = "currency_str")] Currency);

impl CurrencyCode {
    /// Wraps a currency.
    pub fn new(c: Currency) -> CurrencyCode {
        CurrencyCode(c)
    }

    /// The currency.
    pub fn currency(self) -> Currency {
        self.0
    }
}

// ---------------------------------------------------------------------------------------------
// Decimal
// ---------------------------------------------------------------------------------------------

/// Most characters a `quotePrice` may have.
pub const DECIMAL_MAX_CHARS: usize = 32;
/// Most digits after the point (the spec: "a decimal accuracy of 15 places").
pub const DECIMAL_MAX_SCALE: u32 = 15;

/// A non-negative decimal string (`quotePrice`): digits, optionally `.` and 1 to 15 digits, at
/// most 32 characters, no sign, no exponent, no leading zero in the integer part (`"0.5"` is fine,
/// `"00.5"` is not). The raw string is kept; the value is `mantissa / 10^scale`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Decimal {
    raw: String,
    mantissa: u128,
    scale: u32,
}

impl Decimal {
    /// Parses and checks a decimal string.
    pub fn parse(s: &str) -> Result<Decimal, String> {
        const RULE: &str = "must be a non-negative decimal: digits with an optional fraction of \
                            1 to 15 digits, no sign or exponent, at most 32 characters";
        if s.is_empty() || s.len() > DECIMAL_MAX_CHARS {
            return Err(RULE.into());
        }
        let (int, frac) = match s.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (s, None),
        };
        let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        if !digits(int) || (int.len() > 1 && int.starts_with('0')) {
            return Err(RULE.into());
        }
        let frac = frac.unwrap_or("");
        if (!frac.is_empty() && !digits(frac)) || s.ends_with('.') {
            return Err(RULE.into());
        }
        let scale = u32::try_from(frac.len()).map_err(|_| RULE.to_string())?;
        if scale > DECIMAL_MAX_SCALE {
            return Err(RULE.into());
        }
        // At most 31 digits: always fits in u128 (39 digits).
        let mut mantissa: u128 = 0;
        for b in int.bytes().chain(frac.bytes()) {
            mantissa = mantissa
                .checked_mul(10)
                .and_then(|m| m.checked_add(u128::from(b - b'0')))
                .ok_or_else(|| RULE.to_string())?;
        }
        Ok(Decimal {
            raw: s.to_string(),
            mantissa,
            scale,
        })
    }

    /// The string as received.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// All digits as one integer.
    pub fn mantissa(&self) -> u128 {
        self.mantissa
    }

    /// Digits after the point.
    pub fn scale(&self) -> u32 {
        self.scale
    }
}

impl fmt::Debug for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Decimal({})", self.raw)
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl Serialize for Decimal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.raw)
    }
}

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_checked(d, "a JSON string holding a decimal number", Decimal::parse)
    }
}

// ---------------------------------------------------------------------------------------------
// CurrencyPair
// ---------------------------------------------------------------------------------------------

/// `quoteCurrencyPair`: `"{base}/{quote}"`, both ISO 4217 codes (`"JPY/KRW"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CurrencyPair {
    base: Currency,
    quote: Currency,
}

impl CurrencyPair {
    /// Builds a pair.
    pub fn new(base: Currency, quote: Currency) -> CurrencyPair {
        CurrencyPair { base, quote }
    }

    /// Parses `"AAA/BBB"`.
    pub fn parse(s: &str) -> Result<CurrencyPair, String> {
        let rule = || format!("`{s}` is not a currency pair \"AAA/BBB\" of ISO 4217 codes");
        if s.len() > 8 {
            return Err(rule());
        }
        let (b, q) = s.split_once('/').ok_or_else(rule)?;
        match (Currency::from_code(b), Currency::from_code(q)) {
            (Some(base), Some(quote)) => Ok(CurrencyPair { base, quote }),
            _ => Err(rule()),
        }
    }

    /// The first (base) currency.
    pub fn base(self) -> Currency {
        self.base
    }

    /// The second (quote) currency.
    pub fn quote(self) -> Currency {
        self.quote
    }

    /// Whether `c` is one of the two currencies.
    pub fn mentions(self, c: Currency) -> bool {
        self.base == c || self.quote == c
    }
}

impl fmt::Display for CurrencyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.base, self.quote)
    }
}

impl Serialize for CurrencyPair {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for CurrencyPair {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_checked(
            d,
            "a JSON string holding a currency pair \"AAA/BBB\"",
            CurrencyPair::parse,
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Bounded arrays
// ---------------------------------------------------------------------------------------------

/// Reads an optional JSON array of at most `MAX` elements (`absent`/`null` → `None`).
pub(crate) fn opt_bounded_vec<'de, D, T, const MAX: usize>(d: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<BoundedVec<T, MAX>>::deserialize(d).map(|o| o.map(|b| b.0))
}

struct BoundedVec<T, const MAX: usize>(Vec<T>);

impl<'de, T: Deserialize<'de>, const MAX: usize> Deserialize<'de> for BoundedVec<T, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T, const M: usize>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>, const M: usize> Visitor<'de> for V<T, M> {
            type Value = BoundedVec<T, M>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a JSON array of at most {M} elements")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(M));
                while let Some(x) = seq.next_element()? {
                    if out.len() == M {
                        return Err(de::Error::custom(format!("must have at most {M} elements")));
                    }
                    out.push(x);
                }
                Ok(BoundedVec(out))
            }
        }
        d.deserialize_seq(V::<T, MAX>(std::marker::PhantomData))
    }
}
