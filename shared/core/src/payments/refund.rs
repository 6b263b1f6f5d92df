//! refund (Alipay+ → MPP, `alipayplus-apis.md` §11): give back part or all of a succeeded,
//! uncancelled payment, once per `refundRequestId`, never more in total than was paid.
//!
//! The wallet is credited `refundFromAmount` (the MPP-side currency, which must be the currency
//! the payment debited). Codes (decisions in `docs/decisions.md`): unknown payment →
//! `ORDER_NOT_EXIST`; a `paymentId` that is not that payment's → `PARAM_ILLEGAL`; a failed,
//! closed or cancelled payment → `ORDER_STATUS_INVALID`; the sum would exceed the payment →
//! `REFUND_AMOUNT_EXCEED`; a repeat with other key parameters → `REPEAT_REQ_INCONSISTENT`.

use super::{
    apply_credit, check_pair_mentions, check_promo_currency, check_quote, quote,
    PaymentPromoDetail, PaymentRecord, Quote, Status, SurchargeInfo, PROMO_DETAILS_MAX,
};
use crate::clock::{wire_time, Clock};
use crate::edge::{Answered, EdgeError, Keyed};
use crate::flows::{new_id, result, text, timestamp};
use crate::ids::CustomerId;
use crate::money::{MinorUnit, Money};
use crate::result_code::ResultCode;
use crate::store::memory::MemoryStore;
use crate::store::{EntryKind, LedgerEntry, StoreError};
use crate::wire::{
    fingerprint, opt_bounded_vec, Amount, ParamIllegal, ResultObject, Text, Timestamp, Validate,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

// ---- wire ---------------------------------------------------------------------------------------

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

// ---- edge ---------------------------------------------------------------------------------------

impl Keyed for RefundRequest {
    fn payment_request_id(&self) -> &str {
        self.payment_request_id.as_str()
    }
}

impl Answered for RefundResponse {
    fn code(&self) -> ResultCode {
        self.result.code().unwrap_or(ResultCode::UnknownException)
    }
}

impl From<RefundError> for EdgeError {
    fn from(e: RefundError) -> EdgeError {
        match e {
            RefundError::Param(p) => EdgeError::Param(p),
            RefundError::Store(s) => EdgeError::Store(s),
        }
    }
}

// ---- port and decision --------------------------------------------------------------------------

/// A refund to apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundIntent {
    /// Idempotency key.
    pub refund_request_id: String,
    /// SHA-256 of the refund's key parameters.
    pub fingerprint: String,
    /// The original payment.
    pub payment_request_id: String,
    /// Amount credited to the wallet, in the payment's debit currency.
    pub amount: Money,
    /// Our refund id.
    pub refund_id: String,
    /// When.
    pub now: DateTime<Utc>,
    /// The `paymentId` the request named, if any: it must be the payment's.
    pub payment_id: Option<String>,
}

/// A stored refund.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundRecord {
    /// Idempotency key.
    pub refund_request_id: String,
    /// Key-parameter fingerprint.
    pub fingerprint: String,
    /// The original payment.
    pub payment_request_id: String,
    /// Credited amount.
    pub amount: Money,
    /// Our refund id.
    pub refund_id: String,
    /// When it was applied, RFC 3339 in UTC+8.
    pub refund_time: String,
}

/// Outcome of a refund.
// One outcome per store call, moved straight into the answer: boxing the record buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefundOutcome {
    /// Credited.
    Refunded(RefundRecord),
    /// This `refundRequestId` was applied before; here is what was stored.
    Exists(RefundRecord),
    /// Refused; nothing written.
    Refused(RefundRefusal),
}

/// Why a refund was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefundRefusal {
    /// No such payment.
    PaymentNotFound,
    /// The payment did not succeed, or was cancelled.
    NotRefundable,
    /// The sum of refunds would exceed what was paid.
    ExceedsPayment,
    /// The refund currency is not the payment's.
    CurrencyMismatch,
    /// The request's `paymentId` is not the payment's.
    PaymentIdMismatch,
}

/// What the refund function writes.
#[async_trait]
pub trait RefundStore: Send + Sync {
    /// Applies a refund once per `refundRequestId`, never above what was paid.
    async fn refund(&self, intent: &RefundIntent) -> Result<RefundOutcome, StoreError>;
}

/// A refund to apply: what one transaction writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundApply {
    /// The refund record to put (on the condition that none exists).
    pub record: RefundRecord,
    /// The wallet credited.
    pub customer: CustomerId,
    /// The write is guarded on `state = SUCCEEDED AND refunded <= threshold` (`debit - amount`),
    /// so the refunds never sum above the debit, whatever raced in between.
    pub threshold: MinorUnit,
    /// The payment's `refunded` after this refund, as decided on the payment read.
    pub refunded_after: MinorUnit,
    /// The payment after this refund ([`PaymentRecord::refund_paid`]): what a store that holds
    /// the record itself (the memory store, under its lock) writes back.
    pub payment_after: PaymentRecord,
    /// The REFUND ledger entry.
    pub entry: LedgerEntry,
}

/// What a refund does, decided on what was read.
// One decision per store call, consumed at once: boxing the records buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefundDecision {
    /// Nothing to write: the answer.
    Answer(RefundOutcome),
    /// Write it.
    Apply(RefundApply),
}

/// Decides a refund on the refund already stored under its id (if any) and the payment as read.
///
/// Preconditions, in order: the payment exists (`PaymentNotFound`); the request's `paymentId`,
/// when sent, is that payment's (`PaymentIdMismatch`); a refund with this id is the same answer
/// again (`Exists`); the payment is SUCCEEDED (`NotRefundable`); the currency is the debit's
/// (`CurrencyMismatch`); the refunds stay within the debit (`ExceedsPayment`).
pub fn decide_refund(
    intent: &RefundIntent,
    stored: Option<RefundRecord>,
    payment: Option<PaymentRecord>,
) -> RefundDecision {
    let refused = |r| RefundDecision::Answer(RefundOutcome::Refused(r));
    let Some(payment) = payment else {
        return refused(RefundRefusal::PaymentNotFound);
    };
    if let Some(pid) = &intent.payment_id {
        if payment.paid().map(|p| p.payment_id.as_str()) != Some(pid.as_str()) {
            return refused(RefundRefusal::PaymentIdMismatch);
        }
    }
    if let Some(stored) = stored {
        return RefundDecision::Answer(RefundOutcome::Exists(stored));
    }
    let (customer, debit, refunded) = match &payment.status {
        Status::Succeeded { order, paid } => (paid.customer.clone(), order.debit, paid.refunded),
        Status::Failed { .. } | Status::Closed { .. } | Status::Cancelled { .. } => {
            return refused(RefundRefusal::NotRefundable);
        }
    };
    if debit.currency != intent.amount.currency {
        return refused(RefundRefusal::CurrencyMismatch);
    }
    // The payment may take this refund while `refunded <= debit - amount`.
    let Some(threshold) = debit.value.checked_sub(intent.amount.value) else {
        return refused(RefundRefusal::ExceedsPayment);
    };
    if refunded > threshold {
        return refused(RefundRefusal::ExceedsPayment);
    }
    let Some(refunded_after) = refunded.checked_add(intent.amount.value) else {
        return refused(RefundRefusal::ExceedsPayment);
    };
    let Ok(payment_after) = payment.refund_paid(refunded_after) else {
        // Unreachable: SUCCEEDED and within the debit, checked above.
        return refused(RefundRefusal::ExceedsPayment);
    };
    let record = RefundRecord {
        refund_request_id: intent.refund_request_id.clone(),
        fingerprint: intent.fingerprint.clone(),
        payment_request_id: intent.payment_request_id.clone(),
        amount: intent.amount,
        refund_id: intent.refund_id.clone(),
        refund_time: wire_time(intent.now),
    };
    let entry = LedgerEntry {
        customer_id: customer.clone(),
        entry_id: format!("{}#REFUND", intent.refund_request_id),
        kind: EntryKind::Refund,
        money: intent.amount,
        payment_request_id: Some(intent.payment_request_id.clone()),
        order_lifecycle_id: None,
        at: intent.now,
    };
    RefundDecision::Apply(RefundApply {
        record,
        customer,
        threshold,
        refunded_after,
        payment_after,
        entry,
    })
}

// ---- flow ---------------------------------------------------------------------------------------

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
fn check_amounts(req: &RefundRequest) -> Result<(), ParamIllegal> {
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

// ---- memory store -------------------------------------------------------------------------------

#[async_trait]
impl RefundStore for MemoryStore {
    async fn refund(&self, intent: &RefundIntent) -> Result<RefundOutcome, StoreError> {
        let mut s = self.lock();
        let stored = s.refunds.get(&intent.refund_request_id).cloned();
        let payment = s.payments.get(&intent.payment_request_id).cloned();
        let apply = match decide_refund(intent, stored, payment) {
            RefundDecision::Answer(outcome) => return Ok(outcome),
            RefundDecision::Apply(apply) => apply,
        };
        let Some(account) = s.accounts.get_mut(&apply.customer) else {
            return Err(StoreError::Corrupt(format!(
                "payment of a missing account: {}",
                intent.payment_request_id
            )));
        };
        apply_credit(account, intent.amount);
        s.payments
            .insert(intent.payment_request_id.clone(), apply.payment_after);
        s.refunds
            .insert(intent.refund_request_id.clone(), apply.record.clone());
        s.append(apply.entry);
        Ok(RefundOutcome::Refunded(apply.record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use crate::payments::fixtures::paid;
    use crate::payments::record::tests::{krw, t0};

    fn refund(amount: Money, payment_id: Option<&str>) -> RefundIntent {
        RefundIntent {
            refund_request_id: "r1".to_string(),
            fingerprint: "rfp".to_string(),
            payment_request_id: "p1".to_string(),
            amount,
            refund_id: "rid".to_string(),
            now: t0(),
            payment_id: payment_id.map(str::to_string),
        }
    }

    #[test]
    fn refund_preconditions_in_their_order() {
        let refused = |d: RefundDecision| match d {
            RefundDecision::Answer(RefundOutcome::Refused(r)) => Some(r),
            _ => None,
        };
        let stored = RefundRecord {
            refund_request_id: "r1".to_string(),
            fingerprint: "other".to_string(),
            payment_request_id: "p1".to_string(),
            amount: krw(5),
            refund_id: "rid0".to_string(),
            refund_time: wire_time(t0()),
        };
        // Unknown payment first, then a paymentId that is not the payment's, then a repeat.
        assert_eq!(
            refused(decide_refund(
                &refund(krw(1), Some("x")),
                Some(stored.clone()),
                None
            )),
            Some(RefundRefusal::PaymentNotFound)
        );
        assert_eq!(
            refused(decide_refund(
                &refund(krw(1), Some("x")),
                Some(stored.clone()),
                Some(paid("p1", 1_000, 0))
            )),
            Some(RefundRefusal::PaymentIdMismatch)
        );
        assert!(matches!(
            decide_refund(&refund(krw(1), Some("pid-p1")), Some(stored.clone()), Some(paid("p1", 1_000, 0))),
            RefundDecision::Answer(RefundOutcome::Exists(r)) if r == stored
        ));
        let closed = paid("p1", 1_000, 0).cancel_paid(t0()).unwrap();
        assert_eq!(
            refused(decide_refund(&refund(krw(1), None), None, Some(closed))),
            Some(RefundRefusal::NotRefundable)
        );
        let usd = Money {
            currency: Currency::from_code("USD").unwrap(),
            value: MinorUnit(1),
        };
        assert_eq!(
            refused(decide_refund(
                &refund(usd, None),
                None,
                Some(paid("p1", 1_000, 0))
            )),
            Some(RefundRefusal::CurrencyMismatch)
        );
        assert_eq!(
            refused(decide_refund(
                &refund(krw(701), None),
                None,
                Some(paid("p1", 1_000, 300))
            )),
            Some(RefundRefusal::ExceedsPayment)
        );
        assert_eq!(
            refused(decide_refund(
                &refund(krw(1_001), None),
                None,
                Some(paid("p1", 1_000, 0))
            )),
            Some(RefundRefusal::ExceedsPayment)
        );
    }

    #[test]
    fn a_refund_within_the_debit_is_applied_on_a_threshold() {
        let decided = decide_refund(&refund(krw(700), None), None, Some(paid("p1", 1_000, 300)));
        let RefundDecision::Apply(a) = decided else {
            panic!("{decided:?}")
        };
        assert_eq!(a.threshold, MinorUnit(300));
        assert_eq!(a.refunded_after, MinorUnit(1_000));
        assert_eq!(a.payment_after, paid("p1", 1_000, 1_000));
        assert_eq!(a.record.refund_time, "2026-11-21T11:00:00+08:00");
        assert_eq!(a.entry.entry_id, "r1#REFUND");
        assert_eq!(a.customer, CustomerId::new("c1"));
    }
}
