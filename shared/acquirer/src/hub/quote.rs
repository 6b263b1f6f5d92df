//! The hub's foreign exchange: the acquirer charges in its currency (`paymentAmount`), the MPP
//! settles in its own (`payToAmount`), converted with a configured rate that travels as
//! `paymentQuote`. Integer arithmetic in minor units, rounded half up; the MPP accepts anything
//! within one minor unit of the exact value (`mpp_core::payments::quote`).

use mpp_core::money::{Currency, MinorUnit};
use mpp_core::payments::Quote;
use mpp_core::wire::{Amount, CurrencyCode, CurrencyPair, Decimal, Text};
use std::str::FromStr;

/// One configured rate: 1 unit of the pair's base currency is `price` units of its quote
/// currency (`JPY/KRW=10`: 1 JPY = 10 KRW).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rate {
    /// `BASE/QUOTE`.
    pub pair: CurrencyPair,
    /// The price.
    pub price: Decimal,
}

/// A rate spec that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("quote `{spec}`: {reason} (form: BASE/QUOTE=PRICE, e.g. JPY/KRW=10 or USD/KRW=1350.5)")]
pub struct RateParseError {
    /// The spec.
    pub spec: String,
    /// What is wrong.
    pub reason: String,
}

impl FromStr for Rate {
    type Err = RateParseError;

    fn from_str(spec: &str) -> Result<Rate, RateParseError> {
        let err = |reason: String| RateParseError {
            spec: spec.to_string(),
            reason,
        };
        let (pair, price) = spec
            .trim()
            .split_once('=')
            .ok_or_else(|| err("no `=`".into()))?;
        let pair = CurrencyPair::parse(pair).map_err(err)?;
        let price = Decimal::parse(price).map_err(err)?;
        if price.mantissa() == 0 {
            return Err(err("the price must be above zero".into()));
        }
        Ok(Rate { pair, price })
    }
}

/// Why an amount cannot be converted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    /// No configured rate joins the two currencies.
    #[error("no rate between {from} and {to}")]
    NoRate {
        /// The acquirer's currency.
        from: Currency,
        /// The MPP's currency.
        to: Currency,
    },
    /// The converted amount rounds to zero or does not fit in 64 bits.
    #[error("{0} does not convert to a payable amount")]
    OutOfRange(String),
}

fn pow10(exp: u32) -> Option<u128> {
    10u128.checked_pow(exp)
}

/// `num / den` rounded half up.
fn div_round(num: u128, den: u128) -> Option<u128> {
    if den == 0 {
        return None;
    }
    num.checked_add(den / 2).map(|n| n / den)
}

/// Converts `amount` into `to`. Same currency: `Ok(None)` (no quote needed). Otherwise the
/// converted amount and the `paymentQuote` that explains it.
pub fn convert(
    amount: Amount,
    to: Currency,
    rates: &[Rate],
) -> Result<Option<(Amount, Quote)>, ConvertError> {
    let from = amount.currency;
    if from == to {
        return Ok(None);
    }
    let (rate, forward) = rates
        .iter()
        .find_map(|r| {
            if r.pair.base() == from && r.pair.quote() == to {
                Some((r, true))
            } else if r.pair.base() == to && r.pair.quote() == from {
                Some((r, false))
            } else {
                None
            }
        })
        .ok_or(ConvertError::NoRate { from, to })?;
    let out_of_range = || ConvertError::OutOfRange(amount.money().to_string());
    let m = rate.price.mantissa();
    let s = pow10(rate.price.scale()).ok_or_else(out_of_range)?;
    let d_from = pow10(from.minor_digits()).ok_or_else(out_of_range)?;
    let d_to = pow10(to.minor_digits()).ok_or_else(out_of_range)?;
    let v = u128::from(amount.value.get());
    // forward: to = v × m/s × d_to/d_from; reverse: to = v × s/m × d_to/d_from.
    let (num, den) = if forward {
        (
            v.checked_mul(m).and_then(|x| x.checked_mul(d_to)),
            s.checked_mul(d_from),
        )
    } else {
        (
            v.checked_mul(s).and_then(|x| x.checked_mul(d_to)),
            m.checked_mul(d_from),
        )
    };
    let converted = match (num, den) {
        (Some(n), Some(d)) => div_round(n, d),
        (None, _) | (_, None) => None,
    }
    .and_then(|x| u64::try_from(x).ok())
    .filter(|x| *x > 0)
    .ok_or_else(out_of_range)?;
    let quote = Quote {
        quote_id: Text::new(format!("HUB-{}-{}", rate.pair.base(), rate.pair.quote()))
            .map_err(|_| out_of_range())?,
        quote_currency_pair: rate.pair,
        quote_price: rate.price.clone(),
        quote_start_time: None,
        quote_expiry_time: None,
        base_currency: Some(CurrencyCode::new(rate.pair.base())),
        quote_unit: None,
    };
    Ok(Some((
        Amount {
            currency: to,
            value: MinorUnit(converted),
        },
        quote,
    )))
}
