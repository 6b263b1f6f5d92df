//! A payment as the state it is in, each state holding exactly what that state has.
//!
//! [`PaymentRecord`] keeps what every payment has (its `paymentRequestId` and when it was
//! written) and its [`Status`]; each status holds exactly what that state has, so "succeeded
//! without a debit" cannot be built. The stores keep the typed record (the memory store as is;
//! DynamoDB as one item whose flat shape is [`PaymentRow`]). [`PaymentRecord::from_row`] is the
//! one place where a stored shape that no state can have becomes a `StoreError::Corrupt` (an
//! answer of U, never a success answered with fields missing); after it no code checks again.
//!
//! The transitions are the named functions below ([`PaymentRecord::close_declined`],
//! [`PaymentRecord::cancel_paid`], [`PaymentRecord::refund_paid`]) plus the two ways pay writes a
//! payment ([`PaymentRecord::succeeded`], [`PaymentRecord::failed`]) and the placeholder a cancel
//! of an unknown id leaves ([`PaymentRecord::unseen_closed`]). The cancel and refund decisions
//! (preconditions, window, money) are in the
//! operations that make them ([`super::decide_cancel`], [`super::decide_refund`]); both stores
//! run them.
//!
//! ```text
//! (pay) ──► Succeeded { order, paid } ──cancel──► Cancelled { order, paid, at }
//!   │              └──refund (paid.refunded grows, never above order.debit)
//!   └─────► Failed { order, declined } ──cancel──► Closed { from: Declined { order, declined }, at }
//! (cancel of an unknown id) ───────────────────► Closed { from: Unseen, at }
//! ```
//!
//! Stored as (`state`, `resultCode`): Succeeded = (SUCCEEDED, SUCCESS); Failed = (FAILED, the
//! decline's F code); Closed from a decline = (CLOSED, that decline's code); Closed unseen =
//! (CLOSED, ORDER_IS_CLOSED); Cancelled = (CANCELLED, SUCCESS) — the item format of every
//! earlier version, unchanged.

use super::PaymentState;
use crate::clock::{business_day, wire_time};
use crate::ids::CustomerId;
use crate::money::{MinorUnit, Money};
use crate::result_code::{ResultCode, ResultStatus};
use crate::store::StoreError;
use chrono::{DateTime, SubsecRound, Utc};

/// A payment, keyed by `paymentRequestId`; kept forever (idempotency has no time limit).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentRecord {
    /// Alipay+'s id: the idempotency key.
    pub payment_request_id: String,
    /// When the record was written.
    pub created_at: DateTime<Utc>,
    /// Where it is, with what that state has.
    pub status: Status,
}

/// What pay was asked: every payment pay wrote has it (only a cancel's placeholder has none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    /// SHA-256 of the key parameters.
    pub fingerprint: String,
    /// `paymentAmount` as requested.
    pub payment_amount: Money,
    /// `payToAmount` as requested.
    pub pay_to_amount: Money,
    /// What the wallet was (or would have been) debited: `payToAmount`, or the surcharge amount.
    pub debit: Money,
    /// `paymentExpiryTime` (or the 1-minute default).
    pub expires_at: DateTime<Utc>,
    /// Where notifyPayment goes (`paymentNotifyUrl`, when sent).
    pub notify_url: Option<String>,
    /// `orderLifecycleId` as sent: ties supplemental payments to the original.
    pub order_lifecycle_id: Option<String>,
    /// A supplemental payment: the `paymentRequestId` of the earlier succeeded payment of the
    /// same customer and lifecycle it was accepted against.
    pub supplemental_of: Option<String>,
}

/// What a payment that debited the wallet holds, whatever happened to it since.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paid {
    /// Our payment id.
    pub payment_id: String,
    /// The payer.
    pub customer: CustomerId,
    /// When it succeeded (`paymentTime`; whole seconds, as answered).
    pub at: DateTime<Utc>,
    /// Refunded so far (in the debit's currency, never above it).
    pub refunded: MinorUnit,
}

impl Paid {
    /// `paymentTime` as answered and stored: RFC 3339 in UTC+8, whole seconds. Formatted here
    /// only, so the answer, the notification, the item and the clearing day agree byte for byte.
    pub fn payment_time(&self) -> String {
        wire_time(self.at)
    }
}

/// A declined pay: nothing was taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Declined {
    /// Why: an F code, never `SUCCESS` (nor a U code: a stored payment is final).
    pub code: ResultCode,
    /// The payer, when pay got that far.
    pub customer: Option<CustomerId>,
}

/// What a closed payment was before.
// A decline carries its order; boxing it for the placeholder's sake buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClosedFrom {
    /// A declined payment, cancelled.
    Declined {
        /// What pay was asked.
        order: Order,
        /// The decline.
        declined: Declined,
    },
    /// A cancel of an id pay never saw: a pay arriving later answers `ORDER_IS_CLOSED`.
    Unseen,
}

/// The state of a payment with what that state has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// The wallet was debited.
    Succeeded {
        /// What pay was asked.
        order: Order,
        /// The debit.
        paid: Paid,
    },
    /// Declined: nothing was taken.
    Failed {
        /// What pay was asked.
        order: Order,
        /// Why.
        declined: Declined,
    },
    /// Closed without money moving.
    Closed {
        /// What it was.
        from: ClosedFrom,
        /// When it was closed (records written before `closedAt` was kept have none).
        at: Option<DateTime<Utc>>,
    },
    /// Succeeded, then cancelled: the debit (less refunds) went back.
    Cancelled {
        /// What pay was asked.
        order: Order,
        /// What had been debited.
        paid: Paid,
        /// When it was cancelled (records written before `closedAt` was kept have none).
        at: Option<DateTime<Utc>>,
    },
}

impl Status {
    /// The `paymentResult` inquiryPayment answers for it (and notifyPayment agrees with).
    pub fn payment_result(&self) -> ResultCode {
        match self {
            Status::Succeeded { .. } => ResultCode::Success,
            Status::Failed { declined, .. } => declined.code,
            Status::Closed { .. } | Status::Cancelled { .. } => ResultCode::OrderIsClosed,
        }
    }

    /// Succeeded or failed: a cancel still changes it (within the window).
    pub fn is_open(&self) -> bool {
        match self {
            Status::Succeeded { .. } | Status::Failed { .. } => true,
            Status::Closed { .. } | Status::Cancelled { .. } => false,
        }
    }

    /// The stored `state`.
    pub fn state(&self) -> PaymentState {
        match self {
            Status::Succeeded { .. } => PaymentState::Succeeded,
            Status::Failed { .. } => PaymentState::Failed,
            Status::Closed { .. } => PaymentState::Closed,
            Status::Cancelled { .. } => PaymentState::Cancelled,
        }
    }

    /// The stored `resultCode`: what pay answered (`SUCCESS` or the decline's code), or
    /// `ORDER_IS_CLOSED` for a cancel's placeholder.
    pub fn result_code(&self) -> ResultCode {
        match self {
            Status::Succeeded { .. } | Status::Cancelled { .. } => ResultCode::Success,
            Status::Failed { declined, .. }
            | Status::Closed {
                from: ClosedFrom::Declined { declined, .. },
                ..
            } => declined.code,
            Status::Closed {
                from: ClosedFrom::Unseen,
                ..
            } => ResultCode::OrderIsClosed,
        }
    }
}

impl PaymentRecord {
    /// Pay's success: the wallet was debited `order.debit` at `at` (kept to whole seconds, as
    /// `paymentTime` is answered and stored).
    pub fn succeeded(
        payment_request_id: &str,
        created_at: DateTime<Utc>,
        order: Order,
        payment_id: String,
        customer: CustomerId,
        at: DateTime<Utc>,
    ) -> PaymentRecord {
        PaymentRecord {
            payment_request_id: payment_request_id.to_string(),
            created_at,
            status: Status::Succeeded {
                order,
                paid: Paid {
                    payment_id,
                    customer,
                    at: at.trunc_subsecs(0),
                    refunded: MinorUnit::ZERO,
                },
            },
        }
    }

    /// Pay's decline with `code` (an F code).
    pub fn failed(
        payment_request_id: &str,
        created_at: DateTime<Utc>,
        order: Order,
        code: ResultCode,
        customer: Option<CustomerId>,
    ) -> PaymentRecord {
        PaymentRecord {
            payment_request_id: payment_request_id.to_string(),
            created_at,
            status: Status::Failed {
                order,
                declined: Declined { code, customer },
            },
        }
    }

    /// The closed record a cancel leaves at `at` for an id never seen.
    pub fn unseen_closed(payment_request_id: &str, at: DateTime<Utc>) -> PaymentRecord {
        PaymentRecord {
            payment_request_id: payment_request_id.to_string(),
            created_at: at,
            status: Status::Closed {
                from: ClosedFrom::Unseen,
                at: Some(at),
            },
        }
    }

    /// FAILED → CLOSED at `at`. Precondition: it is FAILED (otherwise it comes back unchanged
    /// as the error).
    // The error hands the record back unchanged: as large as the success, so boxing it buys
    // nothing.
    #[allow(clippy::result_large_err)]
    pub fn close_declined(self, at: DateTime<Utc>) -> Result<PaymentRecord, PaymentRecord> {
        match self.status {
            Status::Failed { order, declined } => Ok(PaymentRecord {
                status: Status::Closed {
                    from: ClosedFrom::Declined { order, declined },
                    at: Some(at),
                },
                ..self
            }),
            status => Err(PaymentRecord { status, ..self }),
        }
    }

    /// SUCCEEDED → CANCELLED at `at` (the money going back is the caller's write). Precondition:
    /// it is SUCCEEDED (otherwise it comes back unchanged as the error).
    // The error hands the record back unchanged: as large as the success, so boxing it buys
    // nothing.
    #[allow(clippy::result_large_err)]
    pub fn cancel_paid(self, at: DateTime<Utc>) -> Result<PaymentRecord, PaymentRecord> {
        match self.status {
            Status::Succeeded { order, paid } => Ok(PaymentRecord {
                status: Status::Cancelled {
                    order,
                    paid,
                    at: Some(at),
                },
                ..self
            }),
            status => Err(PaymentRecord { status, ..self }),
        }
    }

    /// SUCCEEDED → SUCCEEDED with `refunded` now `refunded_after`. Precondition: it is
    /// SUCCEEDED and `refunded_after` is within the debit (otherwise it comes back unchanged as
    /// the error); the amount was decided by [`super::decide_refund`].
    // The error hands the record back unchanged: as large as the success, so boxing it buys
    // nothing.
    #[allow(clippy::result_large_err)]
    pub fn refund_paid(
        mut self,
        refunded_after: MinorUnit,
    ) -> Result<PaymentRecord, PaymentRecord> {
        match &mut self.status {
            Status::Succeeded { order, paid } if refunded_after <= order.debit.value => {
                paid.refunded = refunded_after;
                Ok(self)
            }
            _ => Err(self),
        }
    }

    /// The stored `state`.
    pub fn state(&self) -> PaymentState {
        self.status.state()
    }

    /// The stored `resultCode` (see [`Status::result_code`]).
    pub fn result_code(&self) -> ResultCode {
        self.status.result_code()
    }

    /// What pay was asked, unless this is a cancel's placeholder.
    pub fn order(&self) -> Option<&Order> {
        match &self.status {
            Status::Succeeded { order, .. }
            | Status::Failed { order, .. }
            | Status::Cancelled { order, .. }
            | Status::Closed {
                from: ClosedFrom::Declined { order, .. },
                ..
            } => Some(order),
            Status::Closed {
                from: ClosedFrom::Unseen,
                ..
            } => None,
        }
    }

    /// The debit, if the wallet was debited (succeeded or cancelled since).
    pub fn paid(&self) -> Option<&Paid> {
        match &self.status {
            Status::Succeeded { paid, .. } | Status::Cancelled { paid, .. } => Some(paid),
            Status::Failed { .. } | Status::Closed { .. } => None,
        }
    }

    /// The key parameters' fingerprint (`None`: a cancel's placeholder).
    pub fn fingerprint(&self) -> Option<&str> {
        self.order().map(|o| o.fingerprint.as_str())
    }

    /// `orderLifecycleId`, if sent.
    pub fn order_lifecycle_id(&self) -> Option<&str> {
        self.order().and_then(|o| o.order_lifecycle_id.as_deref())
    }

    /// The payer, once known.
    pub fn customer(&self) -> Option<&CustomerId> {
        match &self.status {
            Status::Succeeded { paid, .. } | Status::Cancelled { paid, .. } => Some(&paid.customer),
            Status::Failed { declined, .. }
            | Status::Closed {
                from: ClosedFrom::Declined { declined, .. },
                ..
            } => declined.customer.as_ref(),
            Status::Closed {
                from: ClosedFrom::Unseen,
                ..
            } => None,
        }
    }

    /// A succeeded payment of `customer` (the rule for the original of a supplemental one).
    pub fn is_paid_by(&self, customer: &CustomerId) -> bool {
        matches!(&self.status, Status::Succeeded { paid, .. } if &paid.customer == customer)
    }

    /// Refunded so far (zero unless it was debited).
    pub fn refunded(&self) -> MinorUnit {
        self.paid().map_or(MinorUnit::ZERO, |p| p.refunded)
    }

    /// When it was closed or cancelled.
    pub fn closed_at(&self) -> Option<DateTime<Utc>> {
        match &self.status {
            Status::Closed { at, .. } | Status::Cancelled { at, .. } => *at,
            Status::Succeeded { .. } | Status::Failed { .. } => None,
        }
    }

    /// The business day of the debit (for reversing the day's usage).
    pub fn business_day(&self) -> u32 {
        business_day(self.created_at)
    }
}

/// A payment in its stored shape: one flat row of optional fields, as a DynamoDB item holds it
/// (attribute for attribute; see `docs/store.md`). Only the DynamoDB adapter's item encoding
/// uses it; everything else works on [`PaymentRecord`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentRow {
    /// `paymentRequestId`.
    pub payment_request_id: String,
    /// `fingerprint`.
    pub fingerprint: Option<String>,
    /// `state`.
    pub state: PaymentState,
    /// `resultCode`.
    pub result_code: ResultCode,
    /// `paymentId`.
    pub payment_id: Option<String>,
    /// `customerId`.
    pub customer_id: Option<CustomerId>,
    /// `paymentAmount`.
    pub payment_amount: Option<Money>,
    /// `payToAmount`.
    pub pay_to_amount: Option<Money>,
    /// `debit`.
    pub debit: Option<Money>,
    /// `paymentTime`, RFC 3339 in UTC+8 as answered.
    pub payment_time: Option<String>,
    /// `createdAt`.
    pub created_at: DateTime<Utc>,
    /// `expiresAt`.
    pub expires_at: Option<DateTime<Utc>>,
    /// `notifyUrl`.
    pub notify_url: Option<String>,
    /// `refunded` (always written; zero unless debited).
    pub refunded: MinorUnit,
    /// `closedAt`.
    pub closed_at: Option<DateTime<Utc>>,
    /// `orderLifecycleId`.
    pub order_lifecycle_id: Option<String>,
    /// `supplementalOf`.
    pub supplemental_of: Option<String>,
}

impl PaymentRecord {
    /// The record in its stored shape (the inverse of [`PaymentRecord::from_row`]).
    pub fn to_row(&self) -> PaymentRow {
        let order = self.order();
        let paid = self.paid();
        PaymentRow {
            payment_request_id: self.payment_request_id.clone(),
            fingerprint: order.map(|o| o.fingerprint.clone()),
            state: self.state(),
            result_code: self.result_code(),
            payment_id: paid.map(|p| p.payment_id.clone()),
            customer_id: self.customer().cloned(),
            payment_amount: order.map(|o| o.payment_amount),
            pay_to_amount: order.map(|o| o.pay_to_amount),
            debit: order.map(|o| o.debit),
            payment_time: paid.map(Paid::payment_time),
            created_at: self.created_at,
            expires_at: order.map(|o| o.expires_at),
            notify_url: order.and_then(|o| o.notify_url.clone()),
            refunded: self.refunded(),
            closed_at: self.closed_at(),
            order_lifecycle_id: order.and_then(|o| o.order_lifecycle_id.clone()),
            supplemental_of: order.and_then(|o| o.supplemental_of.clone()),
        }
    }

    /// The stored row as its state: the one place that checks a state has what it must (and
    /// nothing another state has). A row no state can have is `StoreError::Corrupt`.
    pub fn from_row(row: PaymentRow) -> Result<PaymentRecord, StoreError> {
        let id = row.payment_request_id.clone();
        let state = row.state;
        let corrupt =
            |what: &str| StoreError::Corrupt(format!("{} payment {id} {what}", state.as_str()));
        let order = |row: &PaymentRow| -> Result<Order, StoreError> {
            let need = |what: &str| corrupt(&format!("without {what}"));
            Ok(Order {
                fingerprint: row.fingerprint.clone().ok_or_else(|| need("fingerprint"))?,
                payment_amount: row.payment_amount.ok_or_else(|| need("paymentAmount"))?,
                pay_to_amount: row.pay_to_amount.ok_or_else(|| need("payToAmount"))?,
                debit: row.debit.ok_or_else(|| need("debit"))?,
                expires_at: row.expires_at.ok_or_else(|| need("expiresAt"))?,
                notify_url: row.notify_url.clone(),
                order_lifecycle_id: row.order_lifecycle_id.clone(),
                supplemental_of: row.supplemental_of.clone(),
            })
        };
        let paid = |row: &PaymentRow, order: &Order| -> Result<Paid, StoreError> {
            let need = |what: &str| corrupt(&format!("without {what}"));
            if row.result_code != ResultCode::Success {
                return Err(corrupt("holding a code other than SUCCESS"));
            }
            let text = row
                .payment_time
                .as_deref()
                .ok_or_else(|| need("paymentTime"))?;
            let at = DateTime::parse_from_rfc3339(text)
                .map_err(|_| corrupt("with a paymentTime that is no RFC 3339 time"))?
                .with_timezone(&Utc);
            if row.refunded > order.debit.value {
                return Err(corrupt("refunded above its debit"));
            }
            Ok(Paid {
                payment_id: row.payment_id.clone().ok_or_else(|| need("paymentId"))?,
                customer: row.customer_id.clone().ok_or_else(|| need("customer"))?,
                at,
                refunded: row.refunded,
            })
        };
        // A decline: an F code, no debit's fields.
        let declined = |row: &PaymentRow| -> Result<Declined, StoreError> {
            match row.result_code.status() {
                ResultStatus::F => {}
                ResultStatus::S | ResultStatus::U => {
                    return Err(corrupt("without a decline code (it holds a non-F code)"))
                }
            }
            if row.payment_id.is_some() || row.payment_time.is_some() {
                return Err(corrupt("declined, with a paymentId or paymentTime"));
            }
            if row.refunded != MinorUnit::ZERO {
                return Err(corrupt("declined, with refunds"));
            }
            Ok(Declined {
                code: row.result_code,
                customer: row.customer_id.clone(),
            })
        };
        let open = |row: &PaymentRow| match row.closed_at {
            Some(_) => Err(corrupt("open, with a closedAt")),
            None => Ok(()),
        };
        let status = match state {
            PaymentState::Succeeded => {
                open(&row)?;
                let order = order(&row)?;
                let paid = paid(&row, &order)?;
                Status::Succeeded { order, paid }
            }
            PaymentState::Cancelled => {
                let order = order(&row)?;
                let paid = paid(&row, &order)?;
                Status::Cancelled {
                    order,
                    paid,
                    at: row.closed_at,
                }
            }
            PaymentState::Failed => {
                open(&row)?;
                Status::Failed {
                    order: order(&row)?,
                    declined: declined(&row)?,
                }
            }
            PaymentState::Closed if row.fingerprint.is_some() => Status::Closed {
                from: ClosedFrom::Declined {
                    order: order(&row)?,
                    declined: declined(&row)?,
                },
                at: row.closed_at,
            },
            PaymentState::Closed => {
                let unseen = PaymentRecord::unseen_closed(&row.payment_request_id, row.created_at);
                let expected = PaymentRow {
                    closed_at: row.closed_at,
                    ..unseen.to_row()
                };
                if row != expected {
                    return Err(corrupt("closed before any pay, holding a pay's fields"));
                }
                Status::Closed {
                    from: ClosedFrom::Unseen,
                    at: row.closed_at,
                }
            }
        };
        Ok(PaymentRecord {
            payment_request_id: row.payment_request_id,
            created_at: row.created_at,
            status,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests;
