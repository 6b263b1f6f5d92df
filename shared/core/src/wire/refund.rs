//! refund (Alipay+ → MPP): `alipayplus-apis.md` §11.

use super::pay::{PaymentPromoDetail, Quote, SurchargeInfo, PROMO_DETAILS_MAX};
use super::result::ResultObject;
use super::scalar::{opt_bounded_vec, Amount, Text, Timestamp};
use super::{
    check_pair_mentions, check_promo_currency, check_quote, fingerprint, ParamIllegal, Validate,
};
use serde::{Deserialize, Serialize};

/// Refunds all or part of a payment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundRequest {
    /// The ACQP's id (optional: not every sender includes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquirer_id: Option<Text<64>>,
    /// Our id at Alipay+.
    pub psp_id: Text<64>,
    /// The original payment.
    pub payment_request_id: Text<64>,
    /// Our id of the original payment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<Text<64>>,
    /// The refund's idempotency key.
    pub refund_request_id: Text<64>,
    /// The refund in the payment's currency.
    pub refund_amount: Amount,
    /// The refund in our currency.
    pub refund_from_amount: Amount,
    /// Rate between the two currencies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_quote: Option<Quote>,
    /// Promotions given back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_promo_info: Option<RefundPromoInfo>,
    /// Surcharge refunded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surcharge_info: Option<SurchargeInfo>,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_reason: Option<Text<256>>,
}

/// Promotions of a refund: the shape of `paymentPromoInfo` (not published; see `docs/wire.md`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundPromoInfo {
    /// Up to [`PROMO_DETAILS_MAX`] promotions; savings in refundFromAmount's currency.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_bounded_vec::<_, _, PROMO_DETAILS_MAX>"
    )]
    pub refund_promo_details: Option<Vec<PaymentPromoDetail>>,
}

/// The key parameters of a refund, in a fixed order, for the idempotency fingerprint.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RefundKey<'a> {
    refund_amount: &'a Amount,
    refund_from_amount: &'a Amount,
    refund_promo_info: Option<&'a RefundPromoInfo>,
    surcharge_info: Option<&'a SurchargeInfo>,
}

impl RefundRequest {
    /// Lower-hex SHA-256 over refundAmount, refundFromAmount, refundPromoInfo, surchargeInfo.
    pub fn key_fingerprint(&self) -> String {
        fingerprint(&RefundKey {
            refund_amount: &self.refund_amount,
            refund_from_amount: &self.refund_from_amount,
            refund_promo_info: self.refund_promo_info.as_ref(),
            surcharge_info: self.surcharge_info.as_ref(),
        })
    }
}

impl Validate for RefundRequest {
    fn validate(&self) -> Result<(), ParamIllegal> {
        let refund = self.refund_amount.currency;
        let from = self.refund_from_amount.currency;
        match &self.refund_quote {
            None if refund != from => {
                return Err(ParamIllegal::new(
                    "refundQuote",
                    "is required when refundFromAmount.currency differs from \
                     refundAmount.currency",
                ));
            }
            None => {}
            Some(q) => {
                check_pair_mentions(
                    q.quote_currency_pair,
                    refund,
                    from,
                    "refundQuote.quoteCurrencyPair",
                    "refundAmount and refundFromAmount currencies",
                )?;
                check_quote(q, "refundQuote")?;
            }
        }
        if let Some(s) = &self.surcharge_info {
            s.validate_against(refund, "surchargeInfo")?;
        }
        if let Some(p) = &self.refund_promo_info {
            check_promo_currency(
                p.refund_promo_details.as_deref(),
                from,
                "refundPromoInfo.refundPromoDetails",
                "refundFromAmount.currency",
            )?;
        }
        Ok(())
    }
}

/// Our answer to refund.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundResponse {
    /// The outcome.
    pub result: ResultObject,
    /// Our refund id (on success).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_id: Option<Text<64>>,
    /// When the refund was made (on success).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_time: Option<Timestamp>,
}

impl Validate for RefundResponse {
    fn validate(&self) -> Result<(), ParamIllegal> {
        Ok(())
    }
}
