//! The payment transitions after pay, decided once for every store.
//!
//! Each transition is a named pure function over what the store read: it checks the transition's
//! preconditions and returns either the answer (nothing to write) or exactly what to write. The
//! in-memory store applies a decision under its lock; the DynamoDB store turns it into one
//! conditional write (or transaction) guarded on the state it was decided on, and when that
//! condition is refused it decides again on the item the refusal returned. One definition of the
//! money rules, so the two stores cannot disagree.
//!
//! ```text
//! Succeeded --reverse--> Cancelled          (cancelPayment within the window: the debit goes back)
//! Failed    --close----> Closed(Declined)   (cancelPayment within the window: nothing moved)
//! (none)    --close----> Closed(Unseen)     (cancelPayment of an unknown id: a placeholder)
//! Succeeded --refund---> Succeeded          (refunded += amount, never above the debit)
//! ```
//!
//! The decisions take the typed [`PaymentRecord`] (its [`Status`] holds what each state has), so
//! none of them can meet a corrupt record: that was refused when the store decoded it.

use super::payment::{Paid, Status};
use super::{
    CancelOutcome, CustomerId, EntryKind, LedgerEntry, PaymentRecord, RefundIntent, RefundOutcome,
    RefundRecord, RefundRefusal,
};
use crate::clock::{business_tz, wire_time};
use crate::money::{MinorUnit, Money};
use chrono::{DateTime, Duration, NaiveTime, Utc};

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

/// A refund to apply: what one transaction writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundApply {
    /// The refund record to put (on the condition that none exists).
    pub record: RefundRecord,
    /// The wallet credited.
    pub customer: CustomerId,
    /// The write is guarded on `state = SUCCEEDED AND refunded <= threshold` (`debit - amount`),
    /// so the refunds never sum above the debit, whatever raced in between.
    pub threshold: MinorUnit,
    /// The payment's `refunded` after this refund, as decided on the payment read.
    pub refunded_after: MinorUnit,
    /// The payment after this refund ([`PaymentRecord::refund_paid`]): what a store that holds
    /// the record itself (the memory store, under its lock) writes back.
    pub payment_after: PaymentRecord,
    /// The REFUND ledger entry.
    pub entry: LedgerEntry,
}

/// What a refund does, decided on what was read.
// One decision per store call, consumed at once: boxing the records buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefundDecision {
    /// Nothing to write: the answer.
    Answer(RefundOutcome),
    /// Write it.
    Apply(RefundApply),
}

/// Decides a refund on the refund already stored under its id (if any) and the payment as read.
///
/// Preconditions, in order: the payment exists (`PaymentNotFound`); the request's `paymentId`,
/// when sent, is that payment's (`PaymentIdMismatch`); a refund with this id is the same answer
/// again (`Exists`); the payment is SUCCEEDED (`NotRefundable`); the currency is the debit's
/// (`CurrencyMismatch`); the refunds stay within the debit (`ExceedsPayment`).
pub fn decide_refund(
    intent: &RefundIntent,
    stored: Option<RefundRecord>,
    payment: Option<PaymentRecord>,
) -> RefundDecision {
    let refused = |r| RefundDecision::Answer(RefundOutcome::Refused(r));
    let Some(payment) = payment else {
        return refused(RefundRefusal::PaymentNotFound);
    };
    if let Some(pid) = &intent.payment_id {
        if payment.paid().map(|p| p.payment_id.as_str()) != Some(pid.as_str()) {
            return refused(RefundRefusal::PaymentIdMismatch);
        }
    }
    if let Some(stored) = stored {
        return RefundDecision::Answer(RefundOutcome::Exists(stored));
    }
    let (customer, debit, refunded) = match &payment.status {
        Status::Succeeded { order, paid } => (paid.customer.clone(), order.debit, paid.refunded),
        Status::Failed { .. } | Status::Closed { .. } | Status::Cancelled { .. } => {
            return refused(RefundRefusal::NotRefundable);
        }
    };
    if debit.currency != intent.amount.currency {
        return refused(RefundRefusal::CurrencyMismatch);
    }
    // The payment may take this refund while `refunded <= debit - amount`.
    let Some(threshold) = debit.value.checked_sub(intent.amount.value) else {
        return refused(RefundRefusal::ExceedsPayment);
    };
    if refunded > threshold {
        return refused(RefundRefusal::ExceedsPayment);
    }
    let Some(refunded_after) = refunded.checked_add(intent.amount.value) else {
        return refused(RefundRefusal::ExceedsPayment);
    };
    let Ok(payment_after) = payment.refund_paid(refunded_after) else {
        // Unreachable: SUCCEEDED and within the debit, checked above.
        return refused(RefundRefusal::ExceedsPayment);
    };
    let record = RefundRecord {
        refund_request_id: intent.refund_request_id.clone(),
        fingerprint: intent.fingerprint.clone(),
        payment_request_id: intent.payment_request_id.clone(),
        amount: intent.amount,
        refund_id: intent.refund_id.clone(),
        refund_time: wire_time(intent.now),
    };
    let entry = LedgerEntry {
        customer_id: customer.clone(),
        entry_id: format!("{}#REFUND", intent.refund_request_id),
        kind: EntryKind::Refund,
        money: intent.amount,
        payment_request_id: Some(intent.payment_request_id.clone()),
        order_lifecycle_id: None,
        at: intent.now,
    };
    RefundDecision::Apply(RefundApply {
        record,
        customer,
        threshold,
        refunded_after,
        payment_after,
        entry,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use crate::result_code::ResultCode;
    use crate::store::payment::tests::{krw, t0};
    use crate::store::payment::Order;
    use crate::store::PaymentState;

    fn order(debit: u64) -> Order {
        Order {
            fingerprint: "fp".to_string(),
            payment_amount: krw(debit),
            pay_to_amount: krw(debit),
            debit: krw(debit),
            expires_at: t0() + Duration::minutes(1),
            notify_url: None,
            order_lifecycle_id: None,
            supplemental_of: None,
        }
    }

    fn paid(id: &str, debit: u64, refunded: u64) -> PaymentRecord {
        let p = PaymentRecord::succeeded(
            id,
            t0(),
            order(debit),
            format!("pid-{id}"),
            CustomerId::new("c1"),
            t0(),
        );
        p.refund_paid(MinorUnit(refunded)).unwrap()
    }

    fn failed(id: &str) -> PaymentRecord {
        PaymentRecord::failed(
            id,
            t0(),
            order(1_000),
            ResultCode::UserBalanceNotEnough,
            None,
        )
    }

    fn cancel_at(id: &str, now: DateTime<Utc>, cutoff: Option<Duration>) -> CancelIntent {
        CancelIntent {
            payment_request_id: id.to_string(),
            now,
            cutoff,
        }
    }

    fn refund(amount: Money, payment_id: Option<&str>) -> RefundIntent {
        RefundIntent {
            refund_request_id: "r1".to_string(),
            fingerprint: "rfp".to_string(),
            payment_request_id: "p1".to_string(),
            amount,
            refund_id: "rid".to_string(),
            now: t0(),
            payment_id: payment_id.map(str::to_string),
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

    #[test]
    fn the_named_transitions_refuse_a_state_they_do_not_start_from() {
        let p = paid("p1", 1_000, 0);
        assert_eq!(p.clone().close_declined(t0()), Err(p.clone()));
        assert_eq!(failed("p1").cancel_paid(t0()), Err(failed("p1")));
        assert_eq!(failed("p1").refund_paid(MinorUnit(1)), Err(failed("p1")));
        // Never above the debit.
        assert_eq!(p.clone().refund_paid(MinorUnit(1_001)), Err(p.clone()));
        let cancelled = p.clone().cancel_paid(t0()).unwrap();
        assert_eq!(cancelled.clone().cancel_paid(t0()), Err(cancelled));
    }

    #[test]
    fn refund_preconditions_in_their_order() {
        let refused = |d: RefundDecision| match d {
            RefundDecision::Answer(RefundOutcome::Refused(r)) => Some(r),
            _ => None,
        };
        let stored = RefundRecord {
            refund_request_id: "r1".to_string(),
            fingerprint: "other".to_string(),
            payment_request_id: "p1".to_string(),
            amount: krw(5),
            refund_id: "rid0".to_string(),
            refund_time: wire_time(t0()),
        };
        // Unknown payment first, then a paymentId that is not the payment's, then a repeat.
        assert_eq!(
            refused(decide_refund(
                &refund(krw(1), Some("x")),
                Some(stored.clone()),
                None
            )),
            Some(RefundRefusal::PaymentNotFound)
        );
        assert_eq!(
            refused(decide_refund(
                &refund(krw(1), Some("x")),
                Some(stored.clone()),
                Some(paid("p1", 1_000, 0))
            )),
            Some(RefundRefusal::PaymentIdMismatch)
        );
        assert!(matches!(
            decide_refund(&refund(krw(1), Some("pid-p1")), Some(stored.clone()), Some(paid("p1", 1_000, 0))),
            RefundDecision::Answer(RefundOutcome::Exists(r)) if r == stored
        ));
        let closed = paid("p1", 1_000, 0).cancel_paid(t0()).unwrap();
        assert_eq!(
            refused(decide_refund(&refund(krw(1), None), None, Some(closed))),
            Some(RefundRefusal::NotRefundable)
        );
        let usd = Money {
            currency: Currency::from_code("USD").unwrap(),
            value: MinorUnit(1),
        };
        assert_eq!(
            refused(decide_refund(
                &refund(usd, None),
                None,
                Some(paid("p1", 1_000, 0))
            )),
            Some(RefundRefusal::CurrencyMismatch)
        );
        assert_eq!(
            refused(decide_refund(
                &refund(krw(701), None),
                None,
                Some(paid("p1", 1_000, 300))
            )),
            Some(RefundRefusal::ExceedsPayment)
        );
        assert_eq!(
            refused(decide_refund(
                &refund(krw(1_001), None),
                None,
                Some(paid("p1", 1_000, 0))
            )),
            Some(RefundRefusal::ExceedsPayment)
        );
    }

    #[test]
    fn a_refund_within_the_debit_is_applied_on_a_threshold() {
        let decided = decide_refund(&refund(krw(700), None), None, Some(paid("p1", 1_000, 300)));
        let RefundDecision::Apply(a) = decided else {
            panic!("{decided:?}")
        };
        assert_eq!(a.threshold, MinorUnit(300));
        assert_eq!(a.refunded_after, MinorUnit(1_000));
        assert_eq!(a.payment_after, paid("p1", 1_000, 1_000));
        assert_eq!(a.record.refund_time, "2026-11-21T11:00:00+08:00");
        assert_eq!(a.entry.entry_id, "r1#REFUND");
        assert_eq!(a.customer, CustomerId::new("c1"));
    }
}
