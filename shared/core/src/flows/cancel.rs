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
use crate::clock::{business_tz, Clock};
use crate::money::MinorUnit;
use crate::result_code::ResultCode;
use crate::store::{
    CancelOutcome, CancelStore, PaymentReader, PaymentRecord, PaymentState, StoreError,
};
use crate::wire::{CancelPaymentRequest, CancelPaymentResponse};
use chrono::{DateTime, Duration, NaiveTime, Utc};
use std::sync::Arc;

/// The published cancel window ends 00:30 UTC+8 of the day after the payment.
pub const DEFAULT_CANCEL_CUTOFF: Duration = Duration::minutes(30);

/// What cancel needs.
#[derive(Clone)]
pub struct CancelDeps {
    /// The cancel transaction.
    pub store: Arc<dyn CancelStore>,
    /// A read of the payment, to judge the window.
    pub payments: Arc<dyn PaymentReader>,
    /// Now.
    pub clock: Arc<dyn Clock>,
    /// Time after the next midnight (UTC+8) until which a payment may be cancelled.
    pub cutoff: Duration,
}

/// The last instant a payment made at `at` may be cancelled.
pub fn cancel_deadline(at: DateTime<Utc>, cutoff: Duration) -> DateTime<Utc> {
    let local = at.with_timezone(&business_tz());
    let next_midnight = (local.date_naive() + Duration::days(1)).and_time(NaiveTime::MIN);
    let next_midnight = next_midnight
        .and_local_timezone(business_tz())
        .single()
        .map(|t| t.with_timezone(&Utc));
    next_midnight.unwrap_or(at) + cutoff
}

fn placeholder(id: &str, now: DateTime<Utc>) -> PaymentRecord {
    PaymentRecord {
        payment_request_id: id.to_string(),
        fingerprint: None,
        state: PaymentState::Closed,
        result_code: ResultCode::OrderIsClosed,
        payment_id: None,
        customer_id: None,
        payment_amount: None,
        pay_to_amount: None,
        debit: None,
        payment_time: None,
        created_at: now,
        expires_at: None,
        notify_url: None,
        refunded: MinorUnit::ZERO,
        closed_at: Some(now),
        order_lifecycle_id: None,
        supplemental_of: None,
    }
}

/// Answers a cancel.
pub async fn cancel(
    deps: &CancelDeps,
    req: &CancelPaymentRequest,
) -> Result<CancelPaymentResponse, StoreError> {
    let now = deps.clock.now();
    let id = req.payment_request_id.as_str();
    if let Some(existing) = deps.payments.payment(id).await? {
        let open = matches!(
            existing.state,
            PaymentState::Succeeded | PaymentState::Failed
        );
        if open && now > cancel_deadline(existing.created_at, deps.cutoff) {
            return Ok(CancelPaymentResponse {
                result: result(ResultCode::CancelWindowExceed),
            });
        }
    }
    match deps
        .store
        .cancel_payment(id, &placeholder(id, now), now)
        .await?
    {
        CancelOutcome::Reversed(_) | CancelOutcome::Closed(_) | CancelOutcome::AlreadyClosed(_) => {
            Ok(CancelPaymentResponse {
                result: result(ResultCode::Success),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

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
