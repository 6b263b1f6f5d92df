//! Time as a port: the system clock in production, a settable clock in tests (the spec's samples
//! carry 2020 expiry times, so replaying them needs a clock from before then).

use chrono::{DateTime, Datelike, FixedOffset, Utc};
use std::sync::Mutex;

/// Alipay+ states business cut-offs in UTC+8; our business day runs midnight to midnight there.
pub const BUSINESS_TZ_OFFSET_SECS: i32 = 8 * 3600;

/// The business time zone, UTC+8.
pub fn business_tz() -> FixedOffset {
    // Checked at compile time: 8 hours is a valid offset.
    const TZ: FixedOffset = match FixedOffset::east_opt(BUSINESS_TZ_OFFSET_SECS) {
        Some(tz) => tz,
        None => panic!("UTC+8 is a valid offset"),
    };
    TZ
}

/// The business day (UTC+8) of an instant as `YYYYMMDD`, the key of daily limits.
pub fn business_day(at: DateTime<Utc>) -> u32 {
    let local = at.with_timezone(&business_tz());
    (local.year() as u32) * 10_000 + local.month() * 100 + local.day()
}

/// Where "now" comes from.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The machine's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that says what it is told; for tests and for replaying the spec's samples.
#[derive(Debug)]
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    /// A clock stopped at `at`.
    pub fn new(at: DateTime<Utc>) -> FixedClock {
        FixedClock(Mutex::new(at))
    }

    /// Moves the clock.
    pub fn set(&self, at: DateTime<Utc>) {
        if let Ok(mut t) = self.0.lock() {
            *t = at;
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: chrono::Duration) {
        if let Ok(mut t) = self.0.lock() {
            *t += by;
        }
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        match self.0.lock() {
            Ok(t) => *t,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }
}

/// An instant as the wire datetime we answer with and store for the answer (`paymentTime`,
/// `refundTime`): RFC 3339 in UTC+8, whole seconds. The one place this text is made.
pub fn wire_time(at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&business_tz())
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_business_day_turns_at_midnight_utc_plus_8() {
        let before = Utc.with_ymd_and_hms(2026, 11, 21, 15, 59, 59).unwrap();
        let after = Utc.with_ymd_and_hms(2026, 11, 21, 16, 0, 0).unwrap();
        assert_eq!(business_day(before), 20261121);
        assert_eq!(business_day(after), 20261122);
    }
}
