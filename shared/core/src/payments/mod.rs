//! The payments area: pay (with evaluation), inquiryPayment, cancelPayment, refund and
//! notifyPayment, organised by operation. Each operation's module holds everything core knows of
//! it — wire types, edge glue, port, decision, flow and the memory store's adapter — in that
//! order ([`pay`] is a directory: its request is the largest message; [`inquiry_payment`],
//! [`cancel_payment`], [`refund`], [`notify_payment`]). This module holds what several of them
//! share: the payment record and its typed states ([`record`]), the money rules pay, cancel and
//! refund apply ([`rules`]), the quote arithmetic pay and refund check ([`quote`]), how a payer is
//! named and found ([`MethodRef`], [`MethodFound`], [`MethodGuard`]), and the area's ports
//! ([`PaymentPorts`]). Every public item of an operation is re-exported here, so importers write
//! `mpp_core::payments::X`.
//!
//! The transitions after pay are named pure functions in the operation that makes them
//! ([`decide_cancel`], [`decide_refund`]), over what the store read: each checks its
//! preconditions and returns either the answer (nothing to write) or exactly what to write. The
//! in-memory store applies a decision under its lock; the DynamoDB store turns it into one
//! conditional write (or transaction) guarded on the state it was decided on, and when that
//! condition is refused it decides again on the item the refusal returned. One definition of the
//! money rules, so the two stores cannot disagree. The state diagram, with the table design, is in
//! `docs/store.md`:
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

pub mod cancel_payment;
pub mod inquiry_payment;
pub mod notify_payment;
pub mod pay;
pub mod quote;
pub mod record;
pub mod refund;
pub mod rules;

pub use cancel_payment::*;
pub use inquiry_payment::*;
pub use notify_payment::*;
pub use pay::*;
// `record::Order` (the stored order) stays under its module: `Order` here is pay's wire order.
pub use record::{ClosedFrom, Declined, Paid, PaymentRecord, PaymentRow, Status};
pub use refund::*;
pub use rules::*;

use crate::ids::{CustomerId, SecretHash};
use crate::store::{AccessToken, PaymentCode};

/// How the pay request names the payer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MethodRef {
    /// Auto debit: the access token in `paymentMethodId`.
    AccessToken(SecretHash),
    /// User-presented mode: the payment code in `paymentMethodId`.
    PaymentCode(SecretHash),
    /// `paymentMethod.customerId`: an NFC tap, a code Alipay+ issued and decoded
    /// (`PaymentCode`), a supplemental payment or a transit debt recovery.
    Customer(CustomerId),
}

/// What the store found for a `MethodRef`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MethodFound {
    /// The token item, if any.
    Token(Option<AccessToken>),
    /// The code item, if any.
    Code(Option<PaymentCode>),
    /// The customer id needs no lookup.
    Customer(CustomerId),
}

/// The guard the pay transaction re-checks atomically with the debit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MethodGuard {
    /// Token must exist, be unrevoked, hold `AGREEMENT_PAY`, and be unexpired at `now`.
    Token(SecretHash),
    /// Code must exist, be unused and unexpired at `now`; the payment marks it used.
    Code(SecretHash),
    /// An NFC tap: the account must allow NFC payments.
    Nfc,
    /// A `customerId` payer that is not a tap (a code Alipay+ issued and decoded, a supplemental
    /// payment, a transit debt recovery): the account in good standing, nothing more.
    Customer,
}

/// Where a payment is in its life. Each move is one conditional write on the prior state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PaymentState {
    /// The wallet was debited.
    Succeeded,
    /// Declined; nothing was taken. `result_code` says why.
    Failed,
    /// Closed without money moving: cancelled before or instead of the pay, or a failed payment
    /// cancelled (a pay past its expiry is recorded FAILED with `ORDER_IS_CLOSED`).
    Closed,
    /// Succeeded, then cancelled: the debit was reversed.
    Cancelled,
}

impl PaymentState {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentState::Succeeded => "SUCCEEDED",
            PaymentState::Failed => "FAILED",
            PaymentState::Closed => "CLOSED",
            PaymentState::Cancelled => "CANCELLED",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<PaymentState> {
        match s {
            "SUCCEEDED" => Some(PaymentState::Succeeded),
            "FAILED" => Some(PaymentState::Failed),
            "CLOSED" => Some(PaymentState::Closed),
            "CANCELLED" => Some(PaymentState::Cancelled),
            _ => None,
        }
    }
}

/// The payments area's ports of one store: what `mpp serve` and the tests hand each payment
/// function (a Lambda function takes only the port it needs; its IAM role allows no more). A new
/// payment port is a field here, its bound in [`PaymentStores`] and a line in
/// [`PaymentPorts::of`].
#[derive(Clone)]
pub struct PaymentPorts {
    /// pay's writes.
    pub pay: std::sync::Arc<dyn PayStore>,
    /// Reads of tokens, codes and accounts (evaluation, and pay's evaluation requests).
    pub wallet: std::sync::Arc<dyn WalletReader>,
    /// inquiryPayment's reads of payments.
    pub inquiry_payment: std::sync::Arc<dyn PaymentReader>,
    /// cancelPayment's writes.
    pub cancel_payment: std::sync::Arc<dyn CancelStore>,
    /// refund's writes.
    pub refund: std::sync::Arc<dyn RefundStore>,
}

/// A store that serves every port of the payments area.
pub trait PaymentStores:
    PayStore + WalletReader + PaymentReader + CancelStore + RefundStore + 'static
{
}

impl<T> PaymentStores for T where
    T: PayStore + WalletReader + PaymentReader + CancelStore + RefundStore + 'static
{
}

impl PaymentPorts {
    /// Every payment port of `store`.
    pub fn of<T: PaymentStores>(store: std::sync::Arc<T>) -> PaymentPorts {
        PaymentPorts {
            pay: store.clone(),
            wallet: store.clone(),
            inquiry_payment: store.clone(),
            cancel_payment: store.clone(),
            refund: store,
        }
    }
}

/// Payments in each state, for the operations' tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::record::tests::{krw, t0};
    use super::record::Order;
    use super::PaymentRecord;
    use crate::ids::CustomerId;
    use crate::money::MinorUnit;
    use crate::result_code::ResultCode;
    use chrono::Duration;

    pub(crate) fn order(debit: u64) -> Order {
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

    pub(crate) fn paid(id: &str, debit: u64, refunded: u64) -> PaymentRecord {
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

    pub(crate) fn failed(id: &str) -> PaymentRecord {
        PaymentRecord::failed(
            id,
            t0(),
            order(1_000),
            ResultCode::UserBalanceNotEnough,
            None,
        )
    }

    #[test]
    pub(crate) fn the_named_transitions_refuse_a_state_they_do_not_start_from() {
        let p = paid("p1", 1_000, 0);
        assert_eq!(p.clone().close_declined(t0()), Err(p.clone()));
        assert_eq!(failed("p1").cancel_paid(t0()), Err(failed("p1")));
        assert_eq!(failed("p1").refund_paid(MinorUnit(1)), Err(failed("p1")));
        // Never above the debit.
        assert_eq!(p.clone().refund_paid(MinorUnit(1_001)), Err(p.clone()));
        let cancelled = p.clone().cancel_paid(t0()).unwrap();
        assert_eq!(cancelled.clone().cancel_paid(t0()), Err(cancelled));
    }
}
