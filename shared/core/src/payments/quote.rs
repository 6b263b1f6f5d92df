//! The quote arithmetic: is `payToAmount` what `paymentAmount × quotePrice` gives?
//!
//! Amounts are integers in minor units; the quote is a price between major units. For a pair
//! `BASE/QUOTE` with price p, an amount in BASE converts as
//! `to_minor = from_minor × p × 10^(d_to − d_from)`; when the pair is written the other way
//! round (the spec says "sometimes the sequence is reversed") the amount divides by p. The exact
//! result is a rational; Alipay+ rounds it to the target currency's minor unit, and we do not know
//! which rounding mode, so any value within one minor unit of the exact result is accepted.
//! Anything further off is `PARAM_ILLEGAL` naming the amount (decision in `docs/decisions.md`).

use super::Quote;
use crate::money::{Currency, MinorUnit};
use crate::wire::Amount;

/// The price of one unit of the base currency as an exact fraction `num / den`:
/// `quotePrice / quoteUnit` (`quoteUnit` absent means 1). `quotePrice` "1000" with `quoteUnit`
/// "100" on `JPY/KRW` prices 100 JPY at 1 000 KRW, i.e. 10 KRW per JPY. `None` for a unit that
/// is not a positive decimal (the wire validation refuses those first) or absurd magnitudes.
pub fn unit_price(quote: &Quote) -> Option<(u128, u128)> {
    let (unit_mantissa, unit_scale) = match &quote.quote_unit {
        None => (1, 0),
        Some(u) => {
            let d = crate::wire::Decimal::parse(u.as_str()).ok()?;
            (d.mantissa(), d.scale())
        }
    };
    if unit_mantissa == 0 {
        return None;
    }
    // price / unit = (pm / 10^ps) / (um / 10^us) = (pm × 10^us) / (um × 10^ps)
    let num = quote
        .quote_price
        .mantissa()
        .checked_mul(10u128.checked_pow(unit_scale)?)?;
    let den = unit_mantissa.checked_mul(10u128.checked_pow(quote.quote_price.scale())?)?;
    Some((num, den))
}

/// Whether `to` is `from` converted by `quote` (within one minor unit). `None` when the quote's
/// pair does not join the two currencies. The base currency is `baseCurrency` when given (the
/// wire rules make it the pair's first), else the pair's first currency; `quoteUnit` units of it
/// cost `quotePrice` (module [`unit_price`]).
pub fn converts(from: &Amount, to: &Amount, quote: &Quote) -> Option<bool> {
    let base = quote
        .base_currency
        .map(|c| c.currency())
        .unwrap_or_else(|| quote.quote_currency_pair.base());
    let quoted = quote.quote_currency_pair.quote();
    let forward = if base == from.currency && quoted == to.currency {
        true
    } else if base == to.currency && quoted == from.currency {
        false
    } else {
        return None;
    };
    let Some((num, den)) = unit_price(quote) else {
        return Some(false);
    };
    // Forward: to = from × num/den; reversed: to = from × den/num.
    let rate = if forward { (num, den) } else { (den, num) };
    Some(within_one_minor(
        from.value,
        from.currency,
        to.value,
        to.currency,
        rate,
    ))
}

/// Compares `to × den` with `from × num × 10^(d_to − d_from)` exactly in u128; an overflow
/// (only absurd inputs reach it) counts as a mismatch.
fn within_one_minor(
    from: MinorUnit,
    from_cur: Currency,
    to: MinorUnit,
    to_cur: Currency,
    (rate_num, rate_den): (u128, u128),
) -> bool {
    let d_from = from_cur.minor_digits();
    let d_to = to_cur.minor_digits();
    let exact = || -> Option<bool> {
        let mut num = u128::from(from.get()).checked_mul(rate_num)?;
        let mut den = rate_den;
        if d_to >= d_from {
            num = num.checked_mul(10u128.checked_pow(d_to - d_from)?)?;
        } else {
            den = den.checked_mul(10u128.checked_pow(d_from - d_to)?)?;
        }
        if den == 0 {
            return Some(false);
        }
        // |to − num/den| ≤ 1  ⇔  |to·den − num| ≤ den
        let lhs = u128::from(to.get()).checked_mul(den)?;
        Some(lhs.abs_diff(num) <= den)
    };
    exact().unwrap_or(false)
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
            (100_000, 10u128.pow(4))
        ));
        assert!(within_one_minor(
            MinorUnit(100),
            c("JPY"),
            MinorUnit(1001),
            c("KRW"),
            (100_000, 10u128.pow(4))
        ));
        assert!(!within_one_minor(
            MinorUnit(100),
            c("JPY"),
            MinorUnit(1002),
            c("KRW"),
            (100_000, 10u128.pow(4))
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
            (13_505, 10u128.pow(1))
        ));
        assert!(within_one_minor(
            MinorUnit(100),
            c("USD"),
            MinorUnit(1351),
            c("KRW"),
            (13_505, 10u128.pow(1))
        ));
        assert!(!within_one_minor(
            MinorUnit(100),
            c("USD"),
            MinorUnit(135_050),
            c("KRW"),
            (13_505, 10u128.pow(1))
        ));
        // 1350 KRW with the pair written USD/KRW the other way: 1350 / 1350 = 1.00 USD = 100.
        assert!(within_one_minor(
            MinorUnit(1350),
            c("KRW"),
            MinorUnit(100),
            c("USD"),
            (10u128.pow(0), 1350)
        ));
        assert!(!within_one_minor(
            MinorUnit(1350),
            c("KRW"),
            MinorUnit(102),
            c("USD"),
            (10u128.pow(0), 1350)
        ));
    }

    fn quote(pair: &str, price: &str, unit: Option<&str>, base: Option<&str>) -> Quote {
        let mut v =
            serde_json::json!({"quoteId": "1", "quoteCurrencyPair": pair, "quotePrice": price});
        if let Some(u) = unit {
            v["quoteUnit"] = u.into();
        }
        if let Some(b) = base {
            v["baseCurrency"] = b.into();
        }
        serde_json::from_value(v).unwrap()
    }

    fn amount(value: u64, cur: &str) -> Amount {
        Amount::from_money(crate::money::Money {
            currency: c(cur),
            value: MinorUnit(value),
        })
    }

    #[test]
    fn quote_unit_prices_that_many_base_units() {
        // quotePrice 1000 for quoteUnit 100 on JPY/KRW: 100 JPY = 1000 KRW.
        let q = quote("JPY/KRW", "1000", Some("100"), Some("JPY"));
        assert_eq!(
            converts(&amount(100, "JPY"), &amount(1000, "KRW"), &q),
            Some(true)
        );
        assert_eq!(
            converts(&amount(100, "JPY"), &amount(1001, "KRW"), &q),
            Some(true)
        );
        // Read as 1 JPY = 1000 KRW it would be 100 000 KRW: refused now.
        assert_eq!(
            converts(&amount(100, "JPY"), &amount(100_000, "KRW"), &q),
            Some(false)
        );
        // The other way round: 1000 KRW is 100 JPY.
        assert_eq!(
            converts(&amount(1000, "KRW"), &amount(100, "JPY"), &q),
            Some(true)
        );
        assert_eq!(
            converts(&amount(1000, "KRW"), &amount(102, "JPY"), &q),
            Some(false)
        );
        // Without the unit the same price means 1 JPY = 1000 KRW.
        let q1 = quote("JPY/KRW", "1000", None, None);
        assert_eq!(
            converts(&amount(100, "JPY"), &amount(100_000, "KRW"), &q1),
            Some(true)
        );
        assert_eq!(
            converts(&amount(100, "JPY"), &amount(1000, "KRW"), &q1),
            Some(false)
        );
    }

    #[test]
    fn quote_unit_with_minor_digits_and_fractions() {
        // 100 USD = 135 050 KRW (quoteUnit 100): 1.00 USD (100 minor) = 1350.5 KRW.
        let q = quote("USD/KRW", "135050", Some("100"), Some("USD"));
        assert_eq!(
            converts(&amount(100, "USD"), &amount(1350, "KRW"), &q),
            Some(true)
        );
        assert_eq!(
            converts(&amount(100, "USD"), &amount(1352, "KRW"), &q),
            Some(false)
        );
        // A fractional unit: 0.5 USD costs 675.25 KRW.
        let q = quote("USD/KRW", "675.25", Some("0.5"), None);
        assert_eq!(
            converts(&amount(100, "USD"), &amount(1350, "KRW"), &q),
            Some(true)
        );
        // A zero or non-numeric unit prices nothing.
        assert_eq!(
            converts(
                &amount(100, "USD"),
                &amount(1350, "KRW"),
                &quote("USD/KRW", "1350", Some("0"), None)
            ),
            Some(false)
        );
        assert_eq!(
            converts(
                &amount(100, "USD"),
                &amount(1350, "KRW"),
                &quote("USD/KRW", "1350", Some("one"), None)
            ),
            Some(false)
        );
    }
}
