//! A payment as the state it is in, each state holding exactly what that state has.
//!
//! The stores keep one record shape ([`PaymentRecord`]: the fields only some states have are
//! optional, because a DynamoDB item and the memory map hold any of them). [`PaymentRecord::status`]
//! decodes a record once into a [`Status`]; the rules that depend on the state (cancel and refund
//! in [`super::transitions`], the inquiry answer) decide on the `Status`, so "succeeded without a
//! debit" is checked in this one place, and a corrupt record is a `StoreError::Corrupt` (an
//! answer of U), never a success answered with fields missing.
//!
//! ```text
//! (pay) ──► Succeeded(Debit) ──cancel──► Cancelled { Debit, at }
//!   │              └──refund (Debit.refunded grows, never above Debit.debit)
//!   └─────► Failed { code }   ──cancel──► Closed { at }
//! (cancel of an unknown id) ─────────────► Closed { at }
//! ```

use super::{CustomerId, PaymentRecord, PaymentState, StoreError};
use crate::money::{MinorUnit, Money};
use crate::result_code::{ResultCode, ResultStatus};
use chrono::{DateTime, Utc};

/// What a payment that debited the wallet holds, whatever happened to it since.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Debit {
    /// Our payment id.
    pub payment_id: String,
    /// The payer.
    pub customer: CustomerId,
    /// What the wallet was debited.
    pub debit: Money,
    /// When it succeeded, as answered (`paymentTime`, RFC 3339 in UTC+8).
    pub payment_time: String,
    /// Refunded so far (in the debit's currency).
    pub refunded: MinorUnit,
}

/// The state of a payment with what that state has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// The wallet was debited.
    Succeeded(Debit),
    /// Declined: nothing was taken; `code` says why (never `SUCCESS`).
    Failed {
        /// The decline's result code.
        code: ResultCode,
    },
    /// Closed without money moving (a failed payment cancelled, or an id cancelled before any
    /// pay).
    Closed {
        /// When it was closed (records written before `closedAt` was kept have none).
        at: Option<DateTime<Utc>>,
    },
    /// Succeeded, then cancelled: the debit (less refunds) went back.
    Cancelled {
        /// What had been debited.
        debit: Debit,
        /// When it was cancelled.
        at: Option<DateTime<Utc>>,
    },
}

impl Status {
    /// The `paymentResult` inquiryPayment answers for it (and notifyPayment agrees with).
    pub fn payment_result(&self) -> ResultCode {
        match self {
            Status::Succeeded(_) => ResultCode::Success,
            Status::Failed { code } => *code,
            Status::Closed { .. } | Status::Cancelled { .. } => ResultCode::OrderIsClosed,
        }
    }

    /// Succeeded or failed: a cancel still changes it (within the window).
    pub fn is_open(&self) -> bool {
        match self {
            Status::Succeeded(_) | Status::Failed { .. } => true,
            Status::Closed { .. } | Status::Cancelled { .. } => false,
        }
    }
}

impl PaymentRecord {
    /// The record as its state: the one place that checks a state has what it must.
    pub fn status(&self) -> Result<Status, StoreError> {
        let corrupt = |what: &str| {
            StoreError::Corrupt(format!(
                "{} payment {} without {what}",
                self.state.as_str(),
                self.payment_request_id
            ))
        };
        let debit = || -> Result<Debit, StoreError> {
            Ok(Debit {
                payment_id: self
                    .payment_id
                    .clone()
                    .ok_or_else(|| corrupt("paymentId"))?,
                customer: self
                    .customer_id
                    .clone()
                    .ok_or_else(|| corrupt("customer"))?,
                debit: self.debit.ok_or_else(|| corrupt("debit"))?,
                payment_time: self
                    .payment_time
                    .clone()
                    .ok_or_else(|| corrupt("paymentTime"))?,
                refunded: self.refunded,
            })
        };
        Ok(match self.state {
            PaymentState::Succeeded => Status::Succeeded(debit()?),
            PaymentState::Failed => match self.result_code.status() {
                ResultStatus::F => Status::Failed {
                    code: self.result_code,
                },
                ResultStatus::S | ResultStatus::U => {
                    return Err(corrupt("a decline code (it holds a non-F code)"))
                }
            },
            PaymentState::Closed => Status::Closed { at: self.closed_at },
            PaymentState::Cancelled => Status::Cancelled {
                debit: debit()?,
                at: self.closed_at,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use chrono::TimeZone;

    fn succeeded() -> PaymentRecord {
        let krw = Money {
            currency: Currency::from_code("KRW").unwrap(),
            value: MinorUnit(1_000),
        };
        let at = Utc.with_ymd_and_hms(2026, 11, 21, 3, 0, 0).unwrap();
        PaymentRecord {
            payment_request_id: "p1".to_string(),
            fingerprint: Some("fp".to_string()),
            state: PaymentState::Succeeded,
            result_code: ResultCode::Success,
            payment_id: Some("pid-1".to_string()),
            customer_id: Some(CustomerId::new("c1")),
            payment_amount: Some(krw),
            pay_to_amount: Some(krw),
            debit: Some(krw),
            payment_time: Some(crate::clock::wire_time(at)),
            created_at: at,
            expires_at: None,
            notify_url: None,
            refunded: MinorUnit(200),
            closed_at: None,
            order_lifecycle_id: None,
            supplemental_of: None,
        }
    }

    #[test]
    fn each_state_decodes_to_what_it_holds() {
        let r = succeeded();
        let Ok(Status::Succeeded(d)) = r.status() else {
            panic!("{:?}", r.status())
        };
        assert_eq!(
            (d.payment_id.as_str(), d.customer.as_str()),
            ("pid-1", "c1")
        );
        assert_eq!(
            (d.debit.value, d.refunded),
            (MinorUnit(1_000), MinorUnit(200))
        );
        assert_eq!(r.status().unwrap().payment_result(), ResultCode::Success);

        let mut cancelled = r.clone();
        cancelled.state = PaymentState::Cancelled;
        assert!(matches!(cancelled.status(), Ok(Status::Cancelled { .. })));
        assert_eq!(
            cancelled.status().unwrap().payment_result(),
            ResultCode::OrderIsClosed
        );
        assert!(!cancelled.status().unwrap().is_open());

        let mut failed = r.clone();
        failed.state = PaymentState::Failed;
        failed.result_code = ResultCode::UserBalanceNotEnough;
        assert_eq!(
            failed.status().unwrap(),
            Status::Failed {
                code: ResultCode::UserBalanceNotEnough
            }
        );
        assert!(failed.status().unwrap().is_open());

        let mut closed = r;
        closed.state = PaymentState::Closed;
        assert_eq!(closed.status().unwrap(), Status::Closed { at: None });
    }

    #[test]
    fn a_state_without_what_it_must_hold_is_corrupt() {
        for strip in [
            |r: &mut PaymentRecord| r.payment_id = None,
            |r: &mut PaymentRecord| r.customer_id = None,
            |r: &mut PaymentRecord| r.debit = None,
            |r: &mut PaymentRecord| r.payment_time = None,
        ] {
            for state in [PaymentState::Succeeded, PaymentState::Cancelled] {
                let mut r = succeeded();
                r.state = state;
                strip(&mut r);
                assert!(
                    matches!(r.status(), Err(StoreError::Corrupt(_))),
                    "{state:?}: {r:?}"
                );
            }
        }
        // A failed payment answers its decline code: one holding SUCCESS (or a U code) would be
        // answered as paid, so it is corrupt.
        for code in [ResultCode::Success, ResultCode::UnknownException] {
            let mut r = succeeded();
            r.state = PaymentState::Failed;
            r.result_code = code;
            assert!(
                matches!(r.status(), Err(StoreError::Corrupt(_))),
                "{code:?}"
            );
        }
    }
}
