//! notifyPayment (MPP → Alipay+): `alipayplus-apis.md` §8.

use super::result::ResultObject;
use super::scalar::{Amount, Text, Timestamp};
use super::{ParamIllegal, Validate};
use crate::result_code::ResultStatus;
use serde::{Deserialize, Serialize};

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
