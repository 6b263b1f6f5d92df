//! The quote arithmetic: is `payToAmount` what `paymentAmount × quotePrice` gives?
//!
//! Amounts are integers in minor units; the quote is a price between major units. For a pair
//! `BASE/QUOTE` with price p, an amount in BASE converts as
//! `to_minor = from_minor × p × 10^(d_to − d_from)`; when the pair is written the other way
//! round (the spec says "sometimes the sequence is reversed") the amount divides by p. The exact
//! result is a rational; Alipay+ rounds it to the target currency's minor unit, and we do not know
//! which rounding mode, so any value within one minor unit of the exact result is accepted.
//! Anything further off is `PARAM_ILLEGAL` naming the amount (decision in `docs/decisions.md`).

use crate::money::{Currency, MinorUnit};
use crate::wire::{Amount, Quote};

/// Whether `to` is `from` converted by `quote` (within one minor unit). `None` when the quote's
/// pair does not join the two currencies.
pub fn converts(from: &Amount, to: &Amount, quote: &Quote) -> Option<bool> {
    let (base, quoted) = (
        quote.quote_currency_pair.base(),
        quote.quote_currency_pair.quote(),
    );
    let forward = if base == from.currency && quoted == to.currency {
        true
    } else if base == to.currency && quoted == from.currency {
        false
    } else {
        return None;
    };
    let mantissa = quote.quote_price.mantissa();
    let scale = quote.quote_price.scale();
    Some(within_one_minor(
        from.value,
        from.currency,
        to.value,
        to.currency,
        mantissa,
        scale,
        forward,
    ))
}

/// Compares `to × denominator` with `from × numerator` exactly, in u128 with a big-number
/// fallback avoided by bounding: amounts are u64, prices have at most 32 characters.
fn within_one_minor(
    from: MinorUnit,
    from_cur: Currency,
    to: MinorUnit,
    to_cur: Currency,
    mantissa: u128,
    scale: u32,
    forward: bool,
) -> bool {
    // exact = from × rate × 10^(d_to − d_from), rate = mantissa / 10^scale (or its inverse).
    let d_from = from_cur.minor_digits();
    let d_to = to_cur.minor_digits();
    // Write exact = num / den with num, den as (value, power-of-ten) pairs kept in u128 ranges
    // by working in a wide decimal: use checked maths and refuse (false) on overflow, which only
    // absurd inputs reach.
    let (mut num, mut den): (u128, u128) = if forward {
        (
            u128::from(from.get()).saturating_mul(mantissa),
            10u128.saturating_pow(scale),
        )
    } else {
        if mantissa == 0 {
            return false;
        }
        (
            u128::from(from.get()).saturating_mul(10u128.saturating_pow(scale)),
            mantissa,
        )
    };
    if d_to >= d_from {
        num = num.saturating_mul(10u128.saturating_pow(d_to - d_from));
    } else {
        den = den.saturating_mul(10u128.saturating_pow(d_from - d_to));
    }
    if num == u128::MAX || den == u128::MAX || den == 0 {
        return false;
    }
    // |to − num/den| ≤ 1  ⇔  |to·den − num| ≤ den
    let Some(lhs) = u128::from(to.get()).checked_mul(den) else {
        return false;
    };
    lhs.abs_diff(num) <= den
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn c(code: &str) -> Currency {
        Currency::from_code(code).unwrap()
    }

    #[test]
    fn jpy_to_krw_at_ten() {
        // The spec sample: 100 JPY at JPY/KRW 10.0000 is 1000 KRW.
        assert!(within_one_minor(
            MinorUnit(100),
            c("JPY"),
            MinorUnit(1000),
            c("KRW"),
            100_000,
            4,
            true
        ));
        assert!(within_one_minor(
            MinorUnit(100),
            c("JPY"),
            MinorUnit(1001),
            c("KRW"),
            100_000,
            4,
            true
        ));
        assert!(!within_one_minor(
            MinorUnit(100),
            c("JPY"),
            MinorUnit(1002),
            c("KRW"),
            100_000,
            4,
            true
        ));
    }

    #[test]
    fn minor_digits_and_reversed_pairs() {
        // 1.00 USD (100 minor) at USD/KRW 1350.5 is 1350.5 KRW: 1350 or 1351 accepted.
        assert!(within_one_minor(
            MinorUnit(100),
            c("USD"),
            MinorUnit(1350),
            c("KRW"),
            13_505,
            1,
            true
        ));
        assert!(within_one_minor(
            MinorUnit(100),
            c("USD"),
            MinorUnit(1351),
            c("KRW"),
            13_505,
            1,
            true
        ));
        assert!(!within_one_minor(
            MinorUnit(100),
            c("USD"),
            MinorUnit(135_050),
            c("KRW"),
            13_505,
            1,
            true
        ));
        // 1350 KRW with the pair written USD/KRW the other way: 1350 / 1350 = 1.00 USD = 100.
        assert!(within_one_minor(
            MinorUnit(1350),
            c("KRW"),
            MinorUnit(100),
            c("USD"),
            1350,
            0,
            false
        ));
        assert!(!within_one_minor(
            MinorUnit(1350),
            c("KRW"),
            MinorUnit(102),
            c("USD"),
            1350,
            0,
            false
        ));
    }
}
