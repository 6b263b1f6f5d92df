//! Every bound of the pay → (inquiry | re-send) → cancel logic, named, with why.
//!
//! The defaults follow the seed page and `alipayplus-apis.md` §12: inquire 10 to 20 times within
//! 60 s, about every 3 s and growing; re-send pay with the same `paymentRequestId` on a U other
//! than `PAYMENT_IN_PROCESS` or no answer; at expiry cancel, and retry the cancel until it
//! succeeds. Tests shorten every duration through [`RetryPolicy`]; nothing here reads the clock.

use chrono::Duration as ChronoDuration;
use std::time::Duration;

/// How a gap grows from one attempt to the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Growth {
    /// Each gap is the previous plus this (linear: the inquiry schedule).
    Add(Duration),
    /// Each gap is twice the previous (exponential: re-sends and cancels).
    Double,
}

/// A growing gap: `first`, growing by `growth`, never above `max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The gap before the first retry.
    pub first: Duration,
    /// How it grows.
    pub growth: Growth,
    /// The cap.
    pub max: Duration,
}

/// Doubling past this many steps changes nothing for any cap we use (2^20 × 1 ms > 17 min).
const DOUBLINGS_MAX: u32 = 20;

impl Backoff {
    /// The gap before retry `n` (0-based).
    pub fn gap(&self, n: u32) -> Duration {
        let grown = match self.growth {
            Growth::Add(step) => self.first.saturating_add(step.saturating_mul(n)),
            Growth::Double => self
                .first
                .saturating_mul(2u32.saturating_pow(n.min(DOUBLINGS_MAX))),
        };
        grown.min(self.max)
    }

    /// The offsets (from the first attempt) of attempts 2, 3, ... that start before `window`
    /// ends, at most `count_max` of them: the schedule as a table, for docs and tests.
    pub fn offsets_within(&self, window: Duration, count_max: u32) -> Vec<Duration> {
        let mut at = Duration::ZERO;
        let mut out = Vec::new();
        for n in 0..count_max {
            at = at.saturating_add(self.gap(n));
            if at >= window {
                break;
            }
            out.push(at);
        }
        out
    }
}

/// Alipay+'s order life: one minute (the expiry table's cap).
pub const ORDER_LIFE: ChronoDuration = crate::expiry::ALIPAY_ORDER_LIFE;

/// First pay plus re-sends. Why 4: a re-send is a full pay at the MPP (signature, checks, a
/// conditional write); after three lost answers in a row the pay path is the likely fault, and
/// inquiry, a read-only API with a shorter wait (5 s against 8 s), is the better probe. An
/// inquiry answering `ORDER_NOT_EXIST` (the pay never arrived) spends from the same budget.
pub const PAY_ATTEMPTS_MAX: u32 = 4;

/// Gaps between pay re-sends: 1 s, 2 s, 4 s. Short, because the merchant's customer is waiting
/// at the till, and doubling, because a lost answer often means an overloaded peer.
pub const RESEND: Backoff = Backoff {
    first: Duration::from_secs(1),
    growth: Growth::Double,
    max: Duration::from_secs(4),
};

/// At most 20 inquiries per order: the seed page's upper bound ("10 to 20 times within 60 s").
pub const INQUIRIES_MAX: u32 = 20;

/// Gaps between inquiries: 2 s, 2.5 s, 3 s, ... up to 6 s. Twelve inquiries fit in 60 s
/// (offsets 2, 4.5, 7.5, 11, 15, 19.5, 24.5, 30, 36, 42, 48, 54 s), inside the seed page's
/// "10 to 20 times within 60 seconds", "about every 3 s, growing".
pub const INQUIRY: Backoff = Backoff {
    first: Duration::from_secs(2),
    growth: Growth::Add(Duration::from_millis(500)),
    max: Duration::from_secs(6),
};

/// Cancel attempts before the order is left in `Cancelling` for an operator. Why 10: with
/// [`CANCEL`] they span about 2.5 minutes, long enough to ride out a restart of the peer; the
/// ACQP's cancel window runs to 00:15 UTC+8 of the next day, so a sweeper (or a person) can go
/// on from there without the merchant's terminal waiting.
pub const CANCEL_ATTEMPTS_MAX: u32 = 10;

/// Gaps between cancel attempts: 1, 2, 4, 8, 16, then 30 s.
pub const CANCEL: Backoff = Backoff {
    first: Duration::from_secs(1),
    growth: Growth::Double,
    max: Duration::from_secs(30),
};

/// How often one wait may be interrupted by news about *other* orders before it stops
/// listening and just sleeps out the rest: bounds the loop when many notifications arrive.
pub const WAKE_CHECKS_MAX: u32 = 64;

/// The bounds one order is driven with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Alipay+'s order life (the expiry table's one minute).
    pub order_life: ChronoDuration,
    /// First pay plus re-sends.
    pub pay_attempts_max: u32,
    /// Gaps between re-sends.
    pub resend: Backoff,
    /// Most inquiries per order.
    pub inquiries_max: u32,
    /// Gaps between inquiries.
    pub inquiry: Backoff,
    /// Most cancel attempts.
    pub cancel_attempts_max: u32,
    /// Gaps between cancel attempts.
    pub cancel: Backoff,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            order_life: ORDER_LIFE,
            pay_attempts_max: PAY_ATTEMPTS_MAX,
            resend: RESEND,
            inquiries_max: INQUIRIES_MAX,
            inquiry: INQUIRY,
            cancel_attempts_max: CANCEL_ATTEMPTS_MAX,
            cancel: CANCEL,
        }
    }
}

impl RetryPolicy {
    /// The same schedule with every duration divided by `factor` (at least 1): the shape the
    /// tests on loopback run with, e.g. `scaled_down(20)` for a 3-second order life.
    pub fn scaled_down(self, factor: u32) -> RetryPolicy {
        let f = factor.max(1);
        let scale = |b: Backoff| Backoff {
            first: b.first / f,
            growth: match b.growth {
                Growth::Add(step) => Growth::Add(step / f),
                Growth::Double => Growth::Double,
            },
            max: b.max / f,
        };
        RetryPolicy {
            order_life: self.order_life / i32::try_from(f).unwrap_or(i32::MAX),
            resend: scale(self.resend),
            inquiry: scale(self.inquiry),
            cancel: scale(self.cancel),
            ..self
        }
    }
}
