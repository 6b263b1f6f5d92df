//! getPaymentCode (MPP → Alipay+, `POST /aps/api/v1/codes/getPaymentCode`,
//! `user-presented-mpp.md` §2): the MPP asks Alipay+ for payment codes its app shows. Alipay+
//! decodes such a code back to `customerId` when an acquirer pays with it, and calls the MPP's
//! pay with the `PaymentCode` scenario.

use super::result::ResultObject;
use super::scalar::{opt_bounded_vec, Natural, Region, Text, Timestamp};
use super::{ParamIllegal, Validate};
use crate::ids::CustomerId;
use crate::payments::Env;
use crate::result_code::ResultStatus;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The path Alipay+ serves getPaymentCode on.
pub const GET_PAYMENT_CODE_PATH: &str = "/aps/api/v1/codes/getPaymentCode";

/// Fewest codes one call asks for (`codeQuantity` "1", the default).
pub const CODE_QUANTITY_MIN: u64 = 1;
/// Most codes one call asks for (`codeQuantity` "10"): codes live one minute, so an app fetches
/// a few at a time.
pub const CODE_QUANTITY_MAX: u64 = 10;
/// Longest payment code (Alipay+ codes have 16 to 32 digits).
pub const PAYMENT_CODE_MAX_CHARS: usize = 32;

/// The request. `Debug` masks `customerId`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetPaymentCodeRequest {
    /// The MPP's user the codes are for.
    pub customer_id: Text<64>,
    /// ISO 3166 alpha-2; required when the region is `CN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    /// `"1"` to `"10"`; absent means 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_quantity: Option<Natural>,
    /// The user's device (at least `deviceTokenId`; the rest is not published).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Env>,
}

impl GetPaymentCodeRequest {
    /// How many codes are asked for (absent: 1).
    pub fn quantity(&self) -> u64 {
        self.code_quantity
            .map(Natural::get)
            .unwrap_or(CODE_QUANTITY_MIN)
    }
}

impl fmt::Debug for GetPaymentCodeRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GetPaymentCodeRequest")
            .field(
                "customer_id",
                &CustomerId::new(self.customer_id.as_str()).masked(),
            )
            .field("region", &self.region)
            .field("code_quantity", &self.code_quantity)
            .field("env", &self.env)
            .finish()
    }
}

impl Validate for GetPaymentCodeRequest {
    fn validate(&self) -> Result<(), ParamIllegal> {
        let q = self.quantity();
        if !(CODE_QUANTITY_MIN..=CODE_QUANTITY_MAX).contains(&q) {
            return Err(ParamIllegal::new(
                "codeQuantity",
                format!("must be {CODE_QUANTITY_MIN} to {CODE_QUANTITY_MAX} (got {q})"),
            ));
        }
        Ok(())
    }
}

/// One code and its validity. `Debug` hides the code: it is a bearer credential until used or
/// expired.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentCodeInfo {
    /// The digits the app shows (as a QR code or barcode).
    pub payment_code: Text<PAYMENT_CODE_MAX_CHARS>,
    /// Valid from.
    pub code_validity_start_time: Timestamp,
    /// Valid until (one minute after the start).
    pub code_expiry_time: Timestamp,
}

impl fmt::Debug for PaymentCodeInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PaymentCodeInfo")
            .field("payment_code", &"<redacted>")
            .field("code_validity_start_time", &self.code_validity_start_time)
            .field("code_expiry_time", &self.code_expiry_time)
            .finish()
    }
}

/// The answer: `result`, and on S the codes (field names as Ant's demo wallet uses them; not
/// published in the readable docs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetPaymentCodeResponse {
    /// The outcome.
    pub result: ResultObject,
    /// The codes (on success), at most [`CODE_QUANTITY_MAX`].
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_bounded_vec::<_, _, 10>"
    )]
    pub payment_code_info_list: Option<Vec<PaymentCodeInfo>>,
}

impl Validate for GetPaymentCodeResponse {
    /// A success carries at least one code, each expiring after it starts.
    fn validate(&self) -> Result<(), ParamIllegal> {
        if self.result.result_status != ResultStatus::S {
            return Ok(());
        }
        let codes = self.payment_code_info_list.as_deref().unwrap_or_default();
        if codes.is_empty() {
            return Err(ParamIllegal::new(
                "paymentCodeInfoList",
                "must hold at least one code when result.resultStatus is \"S\"",
            ));
        }
        for (i, c) in codes.iter().enumerate() {
            if c.code_expiry_time.at() <= c.code_validity_start_time.at() {
                return Err(ParamIllegal::new(
                    format!("paymentCodeInfoList[{i}].codeExpiryTime"),
                    "must be after codeValidityStartTime",
                ));
            }
        }
        Ok(())
    }
}
