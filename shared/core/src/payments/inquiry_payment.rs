//! inquiryPayment (Alipay+ → MPP, `alipayplus-apis.md` §7): what became of a payment. Read-only.
//!
//! `result` says whether the inquiry worked; `paymentResult` says what became of the payment.
//! Our store has no undecided state (a payment is written once, final: see `docs/store.md`), so
//! `paymentResult` is never U here: an id we never stored is `ORDER_NOT_EXIST`, and Alipay+ either
//! re-sends the pay (which then decides) or cancels it.

use super::{PaymentRecord, Status};
use crate::edge::{Answered, Keyed};
use crate::flows::{result, text, timestamp};
use crate::result_code::ResultCode;
use crate::store::memory::MemoryStore;
use crate::store::StoreError;
use crate::wire::{Amount, ParamIllegal, ResultObject, Text, Timestamp, Validate};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

// ---- wire ---------------------------------------------------------------------------------------

/// Asks for a payment's outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InquiryPaymentRequest {
    /// The ACQP's id (optional: not every sender includes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquirer_id: Option<Text<64>>,
    /// Our id at Alipay+.
    pub psp_id: Text<64>,
    /// The payment asked about.
    pub payment_request_id: Text<64>,
}

impl Validate for InquiryPaymentRequest {
    fn validate(&self) -> Result<(), ParamIllegal> {
        Ok(())
    }
}

/// `result` says whether the inquiry worked; `paymentResult` is the payment's outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InquiryPaymentResponse {
    /// Did the inquiry itself work.
    pub result: ResultObject,
    /// The payment's outcome (S, F or U).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_result: Option<ResultObject>,
    /// The payment asked about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_request_id: Option<Text<64>>,
    /// Our payment id (on success).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<Text<64>>,
    /// When the payment became final.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_time: Option<Timestamp>,
    /// The amount paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_amount: Option<Amount>,
    /// The amount settled, in our currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pay_to_amount: Option<Amount>,
    /// The user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<Text<64>>,
    /// The pay request's `orderLifecycleId`, when it had one: links a supplemental payment to
    /// its original. Not in the published response (§7); an addition partners ignore as an
    /// unknown field (`docs/wire.md`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_lifecycle_id: Option<Text<64>>,
}

impl Validate for InquiryPaymentResponse {
    /// A successful inquiry carries `paymentResult`.
    fn validate(&self) -> Result<(), ParamIllegal> {
        if self.result.is_success() && self.payment_result.is_none() {
            return Err(ParamIllegal::new(
                "paymentResult",
                "is required when result.resultStatus is \"S\"",
            ));
        }
        Ok(())
    }
}

// ---- edge ---------------------------------------------------------------------------------------

impl Keyed for InquiryPaymentRequest {
    fn payment_request_id(&self) -> &str {
        self.payment_request_id.as_str()
    }
}

impl Answered for InquiryPaymentResponse {
    fn code(&self) -> ResultCode {
        self.result.code().unwrap_or(ResultCode::UnknownException)
    }
}

// ---- port and decision --------------------------------------------------------------------------

/// Reads of payments (inquiryPayment; read-only IAM).
#[async_trait]
pub trait PaymentReader: Send + Sync {
    /// The payment with this id.
    async fn payment(&self, payment_request_id: &str) -> Result<Option<PaymentRecord>, StoreError>;
}

// ---- flow ---------------------------------------------------------------------------------------

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

// ---- memory store -------------------------------------------------------------------------------

#[async_trait]
impl PaymentReader for MemoryStore {
    async fn payment(&self, payment_request_id: &str) -> Result<Option<PaymentRecord>, StoreError> {
        Ok(self.lock().payments.get(payment_request_id).cloned())
    }
}
