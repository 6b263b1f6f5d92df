//! cancelPayment (Alipay+ → MPP, `alipayplus-apis.md` §10): close a payment whatever its state,
//! giving back what was taken.
//!
//! - Succeeded → the debit, the day's usage and the ledger entry are reversed in one transaction.
//! - Failed → closed; nothing moved.
//! - Never seen → a closed record is left, so a pay arriving later with that `paymentRequestId`
//!   answers `ORDER_IS_CLOSED` and takes nothing (the pay's write is conditional on no record).
//! - Already cancelled or closed → the same answer again (S).
//!
//! The window: until `cutoff` (default 00:30 UTC+8) of the day after the payment. Later, a cancel
//! of a payment that moved or declined money is `CANCEL_WINDOW_EXCEED` and refund is the way.

use super::{reverse_debit, Paid, PaymentRecord, Status};
use crate::clock::{business_tz, Clock};
use crate::edge::{Answered, Keyed};
use crate::flows::result;
use crate::ids::CustomerId;
use crate::money::{MinorUnit, Money};
use crate::result_code::ResultCode;
use crate::store::memory::MemoryStore;
use crate::store::{EntryKind, LedgerEntry, StoreError};
use crate::wire::{ParamIllegal, ResultObject, Text, Validate};
use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

// ---- wire ---------------------------------------------------------------------------------------

/// Cancels a payment, whatever its status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelPaymentRequest {
    /// The ACQP's id (optional: not every sender includes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquirer_id: Option<Text<64>>,
    /// Our id at Alipay+.
    pub psp_id: Text<64>,
    /// The payment to cancel: the idempotency key.
    pub payment_request_id: Text<64>,
}

impl Validate for CancelPaymentRequest {
    fn validate(&self) -> Result<(), ParamIllegal> {
        Ok(())
    }
}

/// `result` only: S means cancelled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelPaymentResponse {
    /// The outcome.
    pub result: ResultObject,
}

impl Validate for CancelPaymentResponse {
    fn validate(&self) -> Result<(), ParamIllegal> {
        Ok(())
    }
}

// ---- edge ---------------------------------------------------------------------------------------

impl Keyed for CancelPaymentRequest {
    fn payment_request_id(&self) -> &str {
        self.payment_request_id.as_str()
    }
}

impl Answered for CancelPaymentResponse {
    fn code(&self) -> ResultCode {
        self.result.code().unwrap_or(ResultCode::UnknownException)
    }
}

// ---- port and decision --------------------------------------------------------------------------

/// Outcome of cancelPayment.
// One outcome per store call, moved straight into the answer: boxing the record buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CancelOutcome {
    /// The payment had succeeded; debit, day usage and ledger were reversed.
    Reversed(PaymentRecord),
    /// Closed with no money moving (was failed, or unknown: a closed record now stands).
    Closed(PaymentRecord),
    /// Already cancelled or closed before: the same answer again.
    AlreadyClosed(PaymentRecord),
    /// Still open (succeeded or failed) but past the cancel window: nothing written; refund is
    /// the way.
    WindowExceeded(PaymentRecord),
}

/// What the cancel function writes.
#[async_trait]
pub trait CancelStore: Send + Sync {
    /// Cancels as [`decide_cancel`] decides on the payment read: reverses a success
    /// in one transaction, closes a failed payment, leaves a closed record for an id never seen
    /// ([`PaymentRecord::unseen_closed`]), and answers without writing when already closed or past the
    /// intent's window.
    async fn cancel(&self, intent: &CancelIntent) -> Result<CancelOutcome, StoreError>;

    /// [`CancelStore::cancel`] without a window (operators, the conformance suite).
    async fn cancel_payment(
        &self,
        payment_request_id: &str,
        now: DateTime<Utc>,
    ) -> Result<CancelOutcome, StoreError> {
        self.cancel(&CancelIntent {
            payment_request_id: payment_request_id.to_string(),
            now,
            cutoff: None,
        })
        .await
    }
}

/// The last instant a payment made at `at` may be cancelled: `cutoff` after the next midnight in
/// UTC+8.
pub fn cancel_deadline(at: DateTime<Utc>, cutoff: Duration) -> DateTime<Utc> {
    let local = at.with_timezone(&business_tz());
    let next_midnight = (local.date_naive() + Duration::days(1)).and_time(NaiveTime::MIN);
    let next_midnight = next_midnight
        .and_local_timezone(business_tz())
        .single()
        .map(|t| t.with_timezone(&Utc));
    next_midnight.unwrap_or(at) + cutoff
}

/// A cancelPayment to decide.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CancelIntent {
    /// The payment to cancel.
    pub payment_request_id: String,
    /// When.
    pub now: DateTime<Utc>,
    /// Time after the payment's next midnight (UTC+8) until which it may be cancelled; `None`:
    /// no window (operators and the store conformance suite).
    pub cutoff: Option<Duration>,
}

/// A succeeded payment's reversal: what one transaction writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reversal {
    /// The payment as it was decided on (the write is guarded on its `refunded`).
    pub before: PaymentRecord,
    /// `refunded` of the payment decided on: the write's guard.
    pub refunded_before: MinorUnit,
    /// The payment after: CANCELLED, `closed_at` now.
    pub cancelled: PaymentRecord,
    /// The wallet that gets the money back.
    pub customer: CustomerId,
    /// What goes back: the debit less what was refunded already.
    pub back: Money,
    /// The business day of the debit: its allowance goes back if the wallet still counts it.
    pub debit_day: u32,
    /// The REVERSAL ledger entry (none when everything was refunded already).
    pub entry: Option<LedgerEntry>,
}

/// What a cancel does, decided on the payment as read.
// One decision per store call, consumed at once: boxing the records buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CancelDecision {
    /// Nothing to write: the answer.
    Answer(CancelOutcome),
    /// Write the closed placeholder, on the condition that no record exists.
    CloseUnknown(PaymentRecord),
    /// FAILED → CLOSED, on the condition that it is still FAILED.
    CloseFailed(PaymentRecord),
    /// SUCCEEDED → CANCELLED with the money back, on the condition that it is still SUCCEEDED
    /// with the same `refunded`.
    Reverse(Reversal),
}

/// Decides a cancel on `current` (the payment as read; `None`: no record).
///
/// Preconditions, in order: an unknown id is closed; a closed or cancelled payment answers the
/// same again; an open one (SUCCEEDED, FAILED) past the window is `WindowExceeded`; a failed one
/// is closed; a succeeded one is reversed.
pub fn decide_cancel(intent: &CancelIntent, current: Option<PaymentRecord>) -> CancelDecision {
    let now = intent.now;
    let Some(payment) = current else {
        return CancelDecision::CloseUnknown(PaymentRecord::unseen_closed(
            &intent.payment_request_id,
            now,
        ));
    };
    if !payment.status.is_open() {
        return CancelDecision::Answer(CancelOutcome::AlreadyClosed(payment));
    }
    if let Some(cutoff) = intent.cutoff {
        if now > cancel_deadline(payment.created_at, cutoff) {
            return CancelDecision::Answer(CancelOutcome::WindowExceeded(payment));
        }
    }
    let (customer, debit, refunded) = match &payment.status {
        Status::Closed { .. } | Status::Cancelled { .. } => {
            return CancelDecision::Answer(CancelOutcome::AlreadyClosed(payment))
        }
        Status::Failed { .. } => {
            return match payment.close_declined(now) {
                Ok(closed) => CancelDecision::CloseFailed(closed),
                // Unreachable (matched FAILED above); answered as it stands.
                Err(p) => CancelDecision::Answer(CancelOutcome::AlreadyClosed(p)),
            };
        }
        Status::Succeeded {
            order,
            paid: Paid {
                customer, refunded, ..
            },
        } => (customer.clone(), order.debit, *refunded),
    };
    let back = Money {
        currency: debit.currency,
        value: debit.value.checked_sub(refunded).unwrap_or_default(),
    };
    let id = payment.payment_request_id.clone();
    let entry = (back.value > MinorUnit::ZERO).then(|| LedgerEntry {
        customer_id: customer.clone(),
        entry_id: format!("{id}#REVERSAL"),
        kind: EntryKind::Reversal,
        money: back,
        payment_request_id: Some(id.clone()),
        order_lifecycle_id: None,
        at: now,
    });
    let debit_day = payment.business_day();
    match payment.clone().cancel_paid(now) {
        Ok(cancelled) => CancelDecision::Reverse(Reversal {
            debit_day,
            before: payment,
            refunded_before: refunded,
            cancelled,
            customer,
            back,
            entry,
        }),
        // Unreachable (matched SUCCEEDED above); answered as it stands.
        Err(p) => CancelDecision::Answer(CancelOutcome::AlreadyClosed(p)),
    }
}

// ---- flow ---------------------------------------------------------------------------------------

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

// ---- memory store -------------------------------------------------------------------------------

#[async_trait]
impl CancelStore for MemoryStore {
    async fn cancel(&self, intent: &CancelIntent) -> Result<CancelOutcome, StoreError> {
        let mut s = self.lock();
        let current = s.payments.get(&intent.payment_request_id).cloned();
        match decide_cancel(intent, current) {
            CancelDecision::Answer(outcome) => Ok(outcome),
            CancelDecision::CloseUnknown(closed) => {
                s.insert_payment(closed.clone());
                Ok(CancelOutcome::Closed(closed))
            }
            CancelDecision::CloseFailed(closed) => {
                s.payments
                    .insert(closed.payment_request_id.clone(), closed.clone());
                Ok(CancelOutcome::Closed(closed))
            }
            CancelDecision::Reverse(r) => {
                let Some(a) = s.accounts.get_mut(&r.customer) else {
                    return Err(StoreError::Corrupt(format!(
                        "payment of a missing account: {}",
                        intent.payment_request_id
                    )));
                };
                reverse_debit(a, r.back, r.debit_day);
                s.payments
                    .insert(r.cancelled.payment_request_id.clone(), r.cancelled.clone());
                if let Some(entry) = r.entry {
                    s.append(entry);
                }
                Ok(CancelOutcome::Reversed(r.cancelled))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payments::fixtures::{failed, paid};
    use crate::payments::record::tests::{krw, t0};
    use crate::payments::PaymentState;
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

    // ---- the decision ---------------------------------------------------------------------------

    fn cancel_at(id: &str, now: DateTime<Utc>, cutoff: Option<Duration>) -> CancelIntent {
        CancelIntent {
            payment_request_id: id.to_string(),
            now,
            cutoff,
        }
    }

    #[test]
    fn a_succeeded_payment_is_reversed_less_what_was_refunded() {
        let later = t0() + Duration::minutes(5);
        let decided = decide_cancel(&cancel_at("p1", later, None), Some(paid("p1", 1_000, 300)));
        let CancelDecision::Reverse(r) = decided else {
            panic!("{decided:?}")
        };
        assert_eq!(r.back, krw(700));
        assert_eq!(r.cancelled.state(), PaymentState::Cancelled);
        assert_eq!(r.cancelled.closed_at(), Some(later));
        assert_eq!(r.refunded_before, MinorUnit(300));
        assert_eq!(r.debit_day, 20261121);
        assert_eq!(r.entry.map(|e| e.entry_id), Some("p1#REVERSAL".to_string()));
        // Everything refunded already: nothing to give back, no entry.
        let decided = decide_cancel(
            &cancel_at("p1", later, None),
            Some(paid("p1", 1_000, 1_000)),
        );
        let CancelDecision::Reverse(r) = decided else {
            panic!("{decided:?}")
        };
        assert_eq!((r.back, r.entry), (krw(0), None));
    }

    #[test]
    fn the_window_applies_to_open_payments_only() {
        let cutoff = Some(Duration::minutes(30));
        let late = cancel_deadline(t0(), Duration::minutes(30)) + Duration::seconds(1);
        let on_time = cancel_deadline(t0(), Duration::minutes(30));
        assert!(matches!(
            decide_cancel(&cancel_at("p1", late, cutoff), Some(paid("p1", 1_000, 0))),
            CancelDecision::Answer(CancelOutcome::WindowExceeded(_))
        ));
        assert!(matches!(
            decide_cancel(
                &cancel_at("p1", on_time, cutoff),
                Some(paid("p1", 1_000, 0))
            ),
            CancelDecision::Reverse(_)
        ));
        assert!(matches!(
            decide_cancel(&cancel_at("p1", late, cutoff), Some(failed("p1"))),
            CancelDecision::Answer(CancelOutcome::WindowExceeded(_))
        ));
        assert!(matches!(
            decide_cancel(&cancel_at("p1", on_time, cutoff), Some(failed("p1"))),
            CancelDecision::CloseFailed(p) if p.state() == PaymentState::Closed
                && p.result_code() == ResultCode::UserBalanceNotEnough
                && p.closed_at() == Some(on_time)
        ));
        let cancelled = paid("p1", 1_000, 0).cancel_paid(t0()).unwrap();
        assert!(matches!(
            decide_cancel(&cancel_at("p1", late, cutoff), Some(cancelled)),
            CancelDecision::Answer(CancelOutcome::AlreadyClosed(_))
        ));
        assert!(matches!(
            decide_cancel(&cancel_at("p9", late, cutoff), None),
            CancelDecision::CloseUnknown(p) if p.payment_request_id == "p9"
                && p.state() == PaymentState::Closed && p.closed_at() == Some(late)
                && p.result_code() == ResultCode::OrderIsClosed
        ));
    }
}
