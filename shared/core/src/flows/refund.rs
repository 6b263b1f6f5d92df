//! refund: give back part or all of a succeeded, uncancelled payment, once per
//! `refundRequestId`, never more in total than was paid.
//!
//! The wallet is credited `refundFromAmount` (the MPP-side currency, which must be the currency
//! the payment debited). Codes (decisions in `docs/decisions.md`): unknown payment →
//! `ORDER_NOT_EXIST`; a `paymentId` that is not that payment's → `PARAM_ILLEGAL`; a failed,
//! closed or cancelled payment → `ORDER_STATUS_INVALID`; the sum would exceed the payment →
//! `REFUND_AMOUNT_EXCEED`; a repeat with other key parameters → `REPEAT_REQ_INCONSISTENT`.

use super::{new_id, quote, result, text, timestamp};
use crate::clock::Clock;
use crate::result_code::ResultCode;
use crate::store::{
    RefundIntent, RefundOutcome, RefundRecord, RefundRefusal, RefundStore, StoreError,
};
use crate::wire::{ParamIllegal, RefundRequest, RefundResponse};
use std::sync::Arc;

/// What refund needs.
#[derive(Clone)]
pub struct RefundDeps {
    /// The refund: one read, then one transaction decided on it (`paymentId` check included).
    pub store: Arc<dyn RefundStore>,
    /// Now.
    pub clock: Arc<dyn Clock>,
}

/// Why refund could not answer with a business result.
#[derive(Debug, thiserror::Error)]
pub enum RefundError {
    /// The request contradicts the payment.
    #[error(transparent)]
    Param(#[from] ParamIllegal),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn only(code: ResultCode) -> RefundResponse {
    RefundResponse {
        result: result(code),
        refund_id: None,
        refund_time: None,
    }
}

fn done(record: &RefundRecord) -> RefundResponse {
    RefundResponse {
        result: result(ResultCode::Success),
        refund_id: text(&record.refund_id),
        refund_time: timestamp(&record.refund_time),
    }
}

/// `refundFromAmount` must be `refundAmount` converted by `refundQuote` (same rule and tolerance
/// as pay's quote check), or equal to it when there is no quote.
pub fn check_amounts(req: &RefundRequest) -> Result<(), ParamIllegal> {
    match &req.refund_quote {
        Some(q) => match quote::converts(&req.refund_amount, &req.refund_from_amount, q) {
            Some(true) => Ok(()),
            Some(false) => Err(ParamIllegal::new(
                "refundFromAmount.value",
                "must equal refundAmount × refundQuote.quotePrice rounded to the currency's minor unit",
            )),
            None => Err(ParamIllegal::new("refundQuote.quoteCurrencyPair", "must pair refundAmount's and refundFromAmount's currencies")),
        },
        None if req.refund_amount == req.refund_from_amount => Ok(()),
        None => Err(ParamIllegal::new("refundFromAmount", "must equal refundAmount when no refundQuote is given")),
    }
}

/// Answers a refund.
pub async fn refund(deps: &RefundDeps, req: &RefundRequest) -> Result<RefundResponse, RefundError> {
    check_amounts(req)?;
    let now = deps.clock.now();
    let intent = RefundIntent {
        refund_request_id: req.refund_request_id.as_str().to_string(),
        fingerprint: req.key_fingerprint(),
        payment_request_id: req.payment_request_id.as_str().to_string(),
        amount: req.refund_from_amount.money(),
        refund_id: new_id(now),
        now,
        payment_id: req.payment_id.as_ref().map(|p| p.as_str().to_string()),
    };
    Ok(match deps.store.refund(&intent).await? {
        RefundOutcome::Refunded(r) => done(&r),
        RefundOutcome::Exists(r) if r.fingerprint == intent.fingerprint => done(&r),
        RefundOutcome::Exists(_) => only(ResultCode::RepeatReqInconsistent),
        RefundOutcome::Refused(RefundRefusal::PaymentNotFound) => only(ResultCode::OrderNotExist),
        RefundOutcome::Refused(RefundRefusal::NotRefundable) => {
            only(ResultCode::OrderStatusInvalid)
        }
        RefundOutcome::Refused(RefundRefusal::ExceedsPayment) => {
            only(ResultCode::RefundAmountExceed)
        }
        RefundOutcome::Refused(RefundRefusal::PaymentIdMismatch) => {
            return Err(
                ParamIllegal::new("paymentId", "is not the paymentId of paymentRequestId").into(),
            )
        }
        RefundOutcome::Refused(RefundRefusal::CurrencyMismatch) => {
            return Err(ParamIllegal::new(
                "refundFromAmount.currency",
                "must be the currency the payment debited",
            )
            .into())
        }
    })
}
