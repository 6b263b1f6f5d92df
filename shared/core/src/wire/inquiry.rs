//! inquiryPayment (Alipay+ → MPP): `alipayplus-apis.md` §7.

use super::result::ResultObject;
use super::scalar::{Amount, Text, Timestamp};
use super::{ParamIllegal, Validate};
use serde::{Deserialize, Serialize};

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
