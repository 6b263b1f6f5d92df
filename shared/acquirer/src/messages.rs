//! The acquirer-side messages `mpp_core::wire` does not have, and the wrapper that lets the
//! shared edge serve the ones it does.
//!
//! Between the ACQP and Alipay+, inquiryPayment and cancelPayment name the payment by the ACQP's
//! `paymentRequestId` (Alipay+'s `paymentId` may be added); the MPP-side types also require a
//! `pspId`, which the ACQP does not know before a success. The answers are the MPP-side shapes
//! (`InquiryPaymentResponse`, `CancelPaymentResponse`).

use mpp_core::codes::{GetPaymentCodeRequest, GetPaymentCodeResponse};
use mpp_core::edge::{Answered, Keyed};
use mpp_core::payments::{NotifyPaymentRequest, NotifyPaymentResponse};
use mpp_core::result_code::ResultCode;
use mpp_core::wire::acquirer::{AcqPayRequest, AcqPayResponse};
use mpp_core::wire::{ParamIllegal, Text, Validate};
use serde::{Deserialize, Serialize};

/// inquiryPayment from the ACQP to Alipay+.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AcqInquiryRequest {
    /// The ACQP's payment id.
    pub payment_request_id: Text<64>,
    /// Alipay+'s payment id, when a pay answer gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<Text<64>>,
}

impl Validate for AcqInquiryRequest {
    fn validate(&self) -> Result<(), ParamIllegal> {
        Ok(())
    }
}

impl Keyed for AcqInquiryRequest {
    fn payment_request_id(&self) -> &str {
        self.payment_request_id.as_str()
    }
}

/// cancelPayment from the ACQP to Alipay+.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AcqCancelRequest {
    /// The ACQP's payment id.
    pub payment_request_id: Text<64>,
    /// Alipay+'s payment id, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<Text<64>>,
}

impl Validate for AcqCancelRequest {
    fn validate(&self) -> Result<(), ParamIllegal> {
        Ok(())
    }
}

impl Keyed for AcqCancelRequest {
    fn payment_request_id(&self) -> &str {
        self.payment_request_id.as_str()
    }
}

/// A shared wire type, served through `mpp_core::edge` from this crate: serialized exactly as
/// the inner value (`#[serde(transparent)]`); it only adds [`Keyed`] / [`Answered`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Wire<T>(pub T);

impl<T: Validate> Validate for Wire<T> {
    fn validate(&self) -> Result<(), ParamIllegal> {
        self.0.validate()
    }
}

impl Keyed for Wire<AcqPayRequest> {
    fn payment_request_id(&self) -> &str {
        self.0.payment_request_id.as_str()
    }
}

impl Keyed for Wire<NotifyPaymentRequest> {
    fn payment_request_id(&self) -> &str {
        self.0.payment_request_id.as_str()
    }
}

/// getPaymentCode names no payment: its log lines carry an empty `payment_request_id`.
impl Keyed for Wire<GetPaymentCodeRequest> {
    fn payment_request_id(&self) -> &str {
        ""
    }
}

impl Answered for Wire<GetPaymentCodeResponse> {
    fn code(&self) -> ResultCode {
        self.0.result.code().unwrap_or(ResultCode::UnknownException)
    }
}

impl Answered for Wire<AcqPayResponse> {
    fn code(&self) -> ResultCode {
        self.0.result.code().unwrap_or(ResultCode::UnknownException)
    }
}

impl Answered for Wire<NotifyPaymentResponse> {
    fn code(&self) -> ResultCode {
        self.0.result.code().unwrap_or(ResultCode::UnknownException)
    }
}
