//! `paymentExpiryTime` and the final expiry of an order (the seed page's table).
//!
//! | paymentExpiryTime | Alipay+ expiration | final expiration |
//! | --- | --- | --- |
//! | absent, or 1 min after the order | 1 min after the order | 1 min after the order |
//! | more than 1 min after the order | 1 min after the order | 1 min after the order |
//! | less than 1 min after the order | 1 min after the order | `paymentExpiryTime` |
//!
//! Wire datetimes carry whole seconds, so the instant that goes on the wire is truncated to the
//! second and that truncated instant is the deadline both sides work to.

use chrono::{DateTime, Duration, DurationRound, Utc};

/// Alipay+'s own order life in user-presented mode: one minute from the order.
pub const ALIPAY_ORDER_LIFE: Duration = Duration::minutes(1);

/// Why a requested expiry cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExpiryError {
    /// The requested instant is not after the order: the order would be closed before it is
    /// sent.
    #[error("paymentExpiryTime {requested} is not after the order time {placed}")]
    NotAfterOrder {
        /// What was asked for.
        requested: DateTime<Utc>,
        /// When the order was placed.
        placed: DateTime<Utc>,
    },
}

/// The final expiry per the table: the earlier of `requested` and `placed + life`, where `life`
/// is Alipay+'s order life ([`ALIPAY_ORDER_LIFE`] in production; tests shorten it).
pub fn final_expiry(
    placed: DateTime<Utc>,
    requested: Option<DateTime<Utc>>,
    life: Duration,
) -> Result<DateTime<Utc>, ExpiryError> {
    let alipay = placed + life;
    match requested {
        None => Ok(alipay),
        Some(r) if r <= placed => Err(ExpiryError::NotAfterOrder {
            requested: r,
            placed,
        }),
        Some(r) if r >= alipay => Ok(alipay),
        Some(r) => Ok(r),
    }
}

/// An instant truncated to the whole second, as a wire datetime can carry it. Never later than
/// `at`, so a deadline derived from it is never later than the one asked for.
pub fn to_wire_second(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(Duration::seconds(1)).unwrap_or(at)
}
