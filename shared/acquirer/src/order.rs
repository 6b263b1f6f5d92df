//! The acquirer's order and its state machine.
//!
//! ```text
//! Created --Sent--> Pending --Succeed--> Succeeded
//!                   Pending --Fail-----> Failed
//!                   Pending --StartCancel--> Cancelling --Cancelled--> Cancelled
//! ```
//!
//! Each change is a named [`Transition`] with the states it may start from; the store applies it
//! as one conditional write ([`apply`] is the rule, shared by every store). Pay answers, inquiry
//! answers and notifications all arrive as transitions, so whichever brings the final result
//! first decides and a later, different result is a recorded conflict, never an overwrite. An
//! order that expired unresolved is failed only once its cancel succeeded (`Cancelled`); until
//! then it is `Cancelling`.

use chrono::{DateTime, Utc};
use mpp_core::money::Money;
use mpp_core::result_code::ResultStatus;
use std::fmt;

/// Where an order stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrderState {
    /// Recorded; pay not sent yet.
    Created,
    /// Pay sent; the outcome is not known yet.
    Pending,
    /// Alipay+ said S: the merchant may hand over the goods.
    Succeeded,
    /// Alipay+ said F (the code says why): nothing was taken.
    Failed,
    /// The order expired unresolved; the cancel is under way.
    Cancelling,
    /// The cancel succeeded: the order is closed and the user keeps (or got back) the money.
    Cancelled,
}

impl OrderState {
    /// Whether nothing will change the order any more.
    pub fn is_final(self) -> bool {
        match self {
            OrderState::Succeeded | OrderState::Failed | OrderState::Cancelled => true,
            OrderState::Created | OrderState::Pending | OrderState::Cancelling => false,
        }
    }

    /// The name used in logs and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderState::Created => "CREATED",
            OrderState::Pending => "PENDING",
            OrderState::Succeeded => "SUCCEEDED",
            OrderState::Failed => "FAILED",
            OrderState::Cancelling => "CANCELLING",
            OrderState::Cancelled => "CANCELLED",
        }
    }
}

impl fmt::Display for OrderState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What brought an order's final result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// The pay answer.
    Pay,
    /// An inquiryPayment answer.
    Inquiry,
    /// A notifyPayment from Alipay+.
    Notify,
    /// Our own cancelPayment.
    Cancel,
}

/// What a success carries back to the merchant.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Success {
    /// Alipay+'s payment id.
    pub payment_id: Option<String>,
    /// When the payment became final.
    pub payment_time: Option<String>,
    /// The MPP's user id (kept for the merchant's receipt, masked in logs).
    pub customer_id: Option<String>,
}

/// A named state change with its precondition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transition {
    /// The first pay is about to leave: `Created → Pending`.
    Sent,
    /// A final S: `Pending → Succeeded`.
    Succeed {
        /// What came with it.
        success: Success,
        /// Who said so.
        source: Source,
    },
    /// A final F: `Pending → Failed`.
    Fail {
        /// The result code.
        code: String,
        /// Who said so.
        source: Source,
    },
    /// Expired unresolved (or out of inquiries): `Pending → Cancelling`.
    StartCancel,
    /// The cancel succeeded: `Cancelling → Cancelled`.
    Cancelled,
}

impl Transition {
    /// The states this transition may start from.
    pub fn allowed_from(&self) -> &'static [OrderState] {
        match self {
            Transition::Sent => &[OrderState::Created],
            Transition::Succeed { .. } | Transition::Fail { .. } | Transition::StartCancel => {
                &[OrderState::Pending]
            }
            Transition::Cancelled => &[OrderState::Cancelling],
        }
    }

    /// The state it leads to.
    pub fn target(&self) -> OrderState {
        match self {
            Transition::Sent => OrderState::Pending,
            Transition::Succeed { .. } => OrderState::Succeeded,
            Transition::Fail { .. } => OrderState::Failed,
            Transition::StartCancel => OrderState::Cancelling,
            Transition::Cancelled => OrderState::Cancelled,
        }
    }

    /// The name for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Transition::Sent => "sent",
            Transition::Succeed { .. } => "succeed",
            Transition::Fail { .. } => "fail",
            Transition::StartCancel => "start_cancel",
            Transition::Cancelled => "cancelled",
        }
    }
}

/// A transition whose precondition did not hold: the order is already elsewhere.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{transition} is not allowed from {from}")]
pub struct Refused {
    /// The transition.
    pub transition: &'static str,
    /// The state the order was in.
    pub from: OrderState,
}

/// A notifyPayment as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotifyReceipt {
    /// S or F.
    pub status: ResultStatus,
    /// The code.
    pub code: String,
    /// Alipay+'s payment id.
    pub payment_id: Option<String>,
    /// When it arrived.
    pub at: DateTime<Utc>,
}

/// Bookkeeping that does not change the state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Note {
    /// One more pay sent.
    PayAttempt,
    /// One more inquiry sent.
    Inquiry,
    /// One more cancel sent.
    CancelAttempt,
    /// The cancel was answered F: retrying cannot help; an operator must look.
    CancelRefused {
        /// The code.
        code: String,
    },
    /// A notification arrived.
    Notified(NotifyReceipt),
    /// Two sources disagreed about the final result.
    Conflict(String),
    /// What an inquiry said when a conflict was checked.
    Reconciled(String),
}

/// Most notifications kept per order (Alipay+ re-sends at most 9 times: §8's schedule).
pub const NOTIFICATIONS_KEPT_MAX: usize = 16;
/// Most conflict and reconciliation lines kept per order.
pub const REMARKS_KEPT_MAX: usize = 16;

/// One merchant order.
#[derive(Clone, PartialEq, Eq)]
pub struct Order {
    /// Our `paymentRequestId`: the idempotency key towards Alipay+.
    pub payment_request_id: String,
    /// The merchant's order id.
    pub reference_order_id: String,
    /// What the merchant charges.
    pub amount: Money,
    /// The pay request exactly as first sent; every re-send is these bytes. It holds the
    /// payment code, so `Debug` leaves it out.
    pub request_body: Vec<u8>,
    /// When the order was placed.
    pub placed_at: DateTime<Utc>,
    /// The final expiry (the seed page's table), whole seconds.
    pub expires_at: DateTime<Utc>,
    /// Where it stands.
    pub state: OrderState,
    /// The final result code (`SUCCESS`, the failure's code, `ORDER_IS_CLOSED` after a cancel).
    pub result_code: Option<String>,
    /// What brought the final result.
    pub resolved_by: Option<Source>,
    /// The success details.
    pub success: Option<Success>,
    /// Pays sent (the first and every re-send).
    pub pay_attempts: u32,
    /// Inquiries sent.
    pub inquiries: u32,
    /// Cancels sent.
    pub cancel_attempts: u32,
    /// The code of a cancel answered F.
    pub cancel_refused: Option<String>,
    /// Notifications received.
    pub notifications: Vec<NotifyReceipt>,
    /// Disagreements between sources, and what inquiry said about them.
    pub remarks: Vec<String>,
}

impl fmt::Debug for Order {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Order")
            .field("payment_request_id", &self.payment_request_id)
            .field("reference_order_id", &self.reference_order_id)
            .field("amount", &self.amount)
            .field(
                "request_body",
                &format_args!("<{} bytes>", self.request_body.len()),
            )
            .field("placed_at", &self.placed_at)
            .field("expires_at", &self.expires_at)
            .field("state", &self.state)
            .field("result_code", &self.result_code)
            .field("resolved_by", &self.resolved_by)
            .field("pay_attempts", &self.pay_attempts)
            .field("inquiries", &self.inquiries)
            .field("cancel_attempts", &self.cancel_attempts)
            .field("cancel_refused", &self.cancel_refused)
            .field("notifications", &self.notifications)
            .field("remarks", &self.remarks)
            .finish()
    }
}

impl Order {
    /// A new order in `Created`.
    pub fn new(
        payment_request_id: String,
        reference_order_id: String,
        amount: Money,
        request_body: Vec<u8>,
        placed_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Order {
        Order {
            payment_request_id,
            reference_order_id,
            amount,
            request_body,
            placed_at,
            expires_at,
            state: OrderState::Created,
            result_code: None,
            resolved_by: None,
            success: None,
            pay_attempts: 0,
            inquiries: 0,
            cancel_attempts: 0,
            cancel_refused: None,
            notifications: Vec::new(),
            remarks: Vec::new(),
        }
    }
}

/// The result code a cancelled order reports (what inquiry answers after a cancel, §10).
pub const CANCELLED_CODE: &str = "ORDER_IS_CLOSED";

/// Applies `t` if the order's state allows it. The one rule every store applies.
pub fn apply(order: &mut Order, t: &Transition) -> Result<(), Refused> {
    if !t.allowed_from().contains(&order.state) {
        return Err(Refused {
            transition: t.name(),
            from: order.state,
        });
    }
    order.state = t.target();
    match t {
        Transition::Sent | Transition::StartCancel => {}
        Transition::Succeed { success, source } => {
            order.result_code = Some("SUCCESS".to_string());
            order.success = Some(success.clone());
            order.resolved_by = Some(*source);
        }
        Transition::Fail { code, source } => {
            order.result_code = Some(code.clone());
            order.resolved_by = Some(*source);
        }
        Transition::Cancelled => {
            order.result_code = Some(CANCELLED_CODE.to_string());
            order.resolved_by = Some(Source::Cancel);
        }
    }
    Ok(())
}

/// Applies a bookkeeping note. Lists stay within their bounds: past the bound, new entries are
/// dropped (the log has every one).
pub fn note(order: &mut Order, n: &Note) {
    match n {
        Note::PayAttempt => order.pay_attempts = order.pay_attempts.saturating_add(1),
        Note::Inquiry => order.inquiries = order.inquiries.saturating_add(1),
        Note::CancelAttempt => order.cancel_attempts = order.cancel_attempts.saturating_add(1),
        Note::CancelRefused { code } => order.cancel_refused = Some(code.clone()),
        Note::Notified(r) => {
            if order.notifications.len() < NOTIFICATIONS_KEPT_MAX {
                order.notifications.push(r.clone());
            }
        }
        Note::Conflict(text) => push_remark(order, format!("conflict: {text}")),
        Note::Reconciled(text) => push_remark(order, format!("inquiry: {text}")),
    }
}

fn push_remark(order: &mut Order, text: String) {
    if order.remarks.len() < REMARKS_KEPT_MAX {
        order.remarks.push(text);
    }
}
