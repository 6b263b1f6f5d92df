//! cancelPayment: close a payment whatever its state, giving back what was taken.
//!
//! - Succeeded → the debit, the day's usage and the ledger entry are reversed in one transaction.
//! - Failed → closed; nothing moved.
//! - Never seen → a closed record is left, so a pay arriving later with that `paymentRequestId`
//!   answers `ORDER_IS_CLOSED` and takes nothing (the pay's write is conditional on no record).
//! - Already cancelled or closed → the same answer again (S).
//!
//! The window: until `cutoff` (default 00:30 UTC+8) of the day after the payment. Later, a cancel
//! of a payment that moved or declined money is `CANCEL_WINDOW_EXCEED` and refund is the way.

use super::result;
use crate::clock::Clock;
use crate::result_code::ResultCode;
use crate::store::transitions::CancelIntent;
use crate::store::{CancelOutcome, CancelStore, StoreError};
use crate::wire::{CancelPaymentRequest, CancelPaymentResponse};
use chrono::Duration;
use std::sync::Arc;

pub use crate::store::transitions::cancel_deadline;

/// The published cancel window ends 00:30 UTC+8 of the day after the payment.
pub const DEFAULT_CANCEL_CUTOFF: Duration = Duration::minutes(30);

/// What cancel needs.
#[derive(Clone)]
pub struct CancelDeps {
    /// The cancel: one read, then one conditional write decided on it (window included).
    pub store: Arc<dyn CancelStore>,
    /// Now.
    pub clock: Arc<dyn Clock>,
    /// Time after the next midnight (UTC+8) until which a payment may be cancelled.
    pub cutoff: Duration,
}

/// Answers a cancel.
pub async fn cancel(
    deps: &CancelDeps,
    req: &CancelPaymentRequest,
) -> Result<CancelPaymentResponse, StoreError> {
    let now = deps.clock.now();
    let id = req.payment_request_id.as_str();
    let intent = CancelIntent {
        payment_request_id: id.to_string(),
        now,
        cutoff: Some(deps.cutoff),
    };
    let code = match deps.store.cancel(&intent).await? {
        CancelOutcome::Reversed(_) | CancelOutcome::Closed(_) | CancelOutcome::AlreadyClosed(_) => {
            ResultCode::Success
        }
        CancelOutcome::WindowExceeded(_) => ResultCode::CancelWindowExceed,
    };
    Ok(CancelPaymentResponse {
        result: result(code),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn the_window_ends_half_past_midnight_utc_plus_8_the_next_day() {
        // 2026-11-21 23:59 UTC+8 = 15:59 UTC → deadline 2026-11-22 00:30 UTC+8 = 16:30 UTC.
        let at = Utc.with_ymd_and_hms(2026, 11, 21, 15, 59, 0).unwrap();
        assert_eq!(
            cancel_deadline(at, DEFAULT_CANCEL_CUTOFF),
            Utc.with_ymd_and_hms(2026, 11, 21, 16, 30, 0).unwrap()
        );
        // 2026-11-22 00:10 UTC+8 → deadline 2026-11-23 00:30 UTC+8.
        let at = Utc.with_ymd_and_hms(2026, 11, 21, 16, 10, 0).unwrap();
        assert_eq!(
            cancel_deadline(at, DEFAULT_CANCEL_CUTOFF),
            Utc.with_ymd_and_hms(2026, 11, 22, 16, 30, 0).unwrap()
        );
    }
}
