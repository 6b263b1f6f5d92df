//! notifyPayment (MPP → Alipay+): `alipayplus-apis.md` §8. The wire types, which payments are
//! notified and with what body; the delivery itself (signing, retries, the dead letters, the
//! delivery state) is `crate::flows::notify`, shared with authNotify.
//!
//! Driven by the payments table's change feed (the DynamoDB Stream in AWS, the memory store's
//! feed in `mpp serve`): a payment *created* in a final state — succeeded, or declined — is
//! notified; later changes (a cancel, a refund, delivery bookkeeping) are not, because Alipay+
//! learns of those from its own calls and "the notification already sent stays as sent".
//! A closed record a cancel left for an id we never paid carries no amounts and is not notified.
//!
//! There is no undecided state to sweep: a payment is written once, in its final state, in one
//! transaction (see `docs/store.md`); a write whose outcome was unknown either committed (and is
//! notified from the feed) or did not (no record, nothing to notify, and Alipay+ re-sends or
//! cancels).

use super::{payment_result, PaymentRecord, Status};
use crate::edge::Answered;
use crate::flows::notify::{Notification, NotifyJob};
use crate::flows::{result, text, timestamp};
use crate::result_code::{ResultCode, ResultStatus};
use crate::wire::{to_body, Amount, ParamIllegal, ResultObject, Text, Timestamp, Validate};
use serde::{Deserialize, Serialize};

// ---- wire ---------------------------------------------------------------------------------------

/// The final outcome of a payment, sent by the MPP.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotifyPaymentRequest {
    /// The outcome: S or F, never U.
    pub payment_result: ResultObject,
    /// The payment: the idempotency key.
    pub payment_request_id: Text<64>,
    /// Our payment id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<Text<64>>,
    /// When the payment became final.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_time: Option<Timestamp>,
    /// The amount asked for.
    pub payment_amount: Amount,
    /// The amount settled, in our currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pay_to_amount: Option<Amount>,
    /// The user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<Text<64>>,
}

impl Validate for NotifyPaymentRequest {
    /// A notification carries a final result.
    fn validate(&self) -> Result<(), ParamIllegal> {
        if self.payment_result.result_status == ResultStatus::U {
            return Err(ParamIllegal::new(
                "paymentResult.resultStatus",
                "must be \"S\" or \"F\": a notification carries a final result",
            ));
        }
        Ok(())
    }
}

/// Alipay+'s answer: anything but S means send again later.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotifyPaymentResponse {
    /// The outcome.
    pub result: ResultObject,
}

impl Validate for NotifyPaymentResponse {
    fn validate(&self) -> Result<(), ParamIllegal> {
        Ok(())
    }
}

// ---- edge ---------------------------------------------------------------------------------------

/// notifyPayment's answer (a forwarder reads whether it was acknowledged).
impl Answered for NotifyPaymentResponse {
    fn code(&self) -> ResultCode {
        self.result.code().unwrap_or(ResultCode::UnknownException)
    }
}

// ---- port and decision --------------------------------------------------------------------------

// None of its own: the delivery state is `crate::store::DeliveryStore` (kept on the payment;
// its memory adapter is in `store/memory.rs`), the transport and queues are
// `crate::flows::notify`'s, all shared with authNotify's delivery.

// ---- flow ---------------------------------------------------------------------------------------

/// The notifyPayment body for a payment created in a final state, or `None` when there is
/// nothing to notify (see the module comment).
pub fn notification_for(record: &PaymentRecord) -> Option<NotifyPaymentRequest> {
    // A cancel's placeholder was never paid: nothing to notify.
    let order = record.order()?;
    let code = payment_result(record);
    // paymentResult is S or F, never U: stored payments are final.
    match code.status() {
        ResultStatus::S | ResultStatus::F => {}
        ResultStatus::U => return None,
    }
    let paid = match &record.status {
        Status::Succeeded { paid, .. } => Some(paid),
        Status::Failed { .. } | Status::Closed { .. } | Status::Cancelled { .. } => None,
    };
    Some(NotifyPaymentRequest {
        payment_result: result(code),
        payment_request_id: Text::new(record.payment_request_id.as_str()).ok()?,
        payment_id: paid.and_then(|p| text(&p.payment_id)),
        payment_time: paid.and_then(|p| timestamp(&p.payment_time())),
        payment_amount: Amount::from_money(order.payment_amount),
        pay_to_amount: Some(Amount::from_money(order.pay_to_amount)),
        customer_id: paid.and_then(|p| text(p.customer.as_str())),
    })
}

/// The first job for a payment that appeared on the feed, or `None` if it needs no notification.
pub fn job_for(record: &PaymentRecord, default_url: &str) -> Option<NotifyJob> {
    let body = notification_for(record)?;
    Some(NotifyJob {
        operation: Notification::NotifyPayment,
        key: record.payment_request_id.clone(),
        url: record
            .order()
            .and_then(|o| o.notify_url.clone())
            .unwrap_or_else(|| default_url.to_string()),
        body: String::from_utf8(to_body(&body)).ok()?,
        token_body: None,
        attempt: 1,
    })
}
