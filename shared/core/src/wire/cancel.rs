//! cancelPayment (Alipay+ → MPP): `alipayplus-apis.md` §10.

use super::result::ResultObject;
use super::scalar::Text;
use super::{ParamIllegal, Validate};
use serde::{Deserialize, Serialize};

/// Cancels a payment, whatever its status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelPaymentRequest {
    /// The ACQP's id (optional: not every sender includes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquirer_id: Option<Text<64>>,
    /// Our id at Alipay+.
    pub psp_id: Text<64>,
    /// The payment to cancel: the idempotency key.
    pub payment_request_id: Text<64>,
}

impl Validate for CancelPaymentRequest {
    fn validate(&self) -> Result<(), ParamIllegal> {
        Ok(())
    }
}

/// `result` only: S means cancelled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelPaymentResponse {
    /// The outcome.
    pub result: ResultObject,
}

impl Validate for CancelPaymentResponse {
    fn validate(&self) -> Result<(), ParamIllegal> {
        Ok(())
    }
}
