//! inquiryPayment: what became of a payment. Read-only.
//!
//! `result` says whether the inquiry worked; `paymentResult` says what became of the payment.
//! Our store has no undecided state (a payment is written once, final: see `docs/store.md`), so
//! `paymentResult` is never U here: an id we never stored is `ORDER_NOT_EXIST`, and Alipay+ either
//! re-sends the pay (which then decides) or cancels it.

use super::{result, text, timestamp};
use crate::result_code::ResultCode;
use crate::store::payment::Status;
use crate::store::{PaymentReader, PaymentRecord, StoreError};
use crate::wire::{Amount, InquiryPaymentRequest, InquiryPaymentResponse};
use std::sync::Arc;

/// What inquiry needs: read access to payments.
#[derive(Clone)]
pub struct InquiryDeps {
    /// Payment reads.
    pub payments: Arc<dyn PaymentReader>,
}

/// The inquiry answer for a stored payment (also what notify must agree with). A stored shape
/// no state can have never gets here: it was `StoreError::Corrupt` when read
/// (`PaymentRecord::from_row`), answered U.
pub fn payment_result(record: &PaymentRecord) -> ResultCode {
    record.status.payment_result()
}

fn empty(code: ResultCode) -> InquiryPaymentResponse {
    InquiryPaymentResponse {
        result: result(code),
        payment_result: None,
        payment_request_id: None,
        payment_id: None,
        payment_time: None,
        payment_amount: None,
        pay_to_amount: None,
        customer_id: None,
        order_lifecycle_id: None,
    }
}

/// Answers an inquiry.
pub async fn inquire(
    deps: &InquiryDeps,
    req: &InquiryPaymentRequest,
) -> Result<InquiryPaymentResponse, StoreError> {
    let Some(record) = deps
        .payments
        .payment(req.payment_request_id.as_str())
        .await?
    else {
        return Ok(empty(ResultCode::OrderNotExist));
    };
    let mut resp = empty(ResultCode::Success);
    resp.payment_result = Some(result(record.status.payment_result()));
    resp.payment_request_id = text(&record.payment_request_id);
    resp.order_lifecycle_id = record.order_lifecycle_id().and_then(text);
    if let Status::Succeeded { order, paid } = &record.status {
        resp.payment_id = text(&paid.payment_id);
        resp.payment_time = timestamp(&paid.payment_time());
        resp.payment_amount = Some(Amount::from_money(order.payment_amount));
        resp.pay_to_amount = Some(Amount::from_money(order.pay_to_amount));
        resp.customer_id = text(paid.customer.as_str());
    }
    Ok(resp)
}
