//! The hub as Alipay+'s clearing: it remembers every transaction it saw succeed (the MPP's S to
//! a pay, a refund), forgets a payment the MPP cancelled, and writes the clearing file of a
//! UTC+8 day (`transactionItems_…csv`, `user-presented-mpp.md` §3) into its clearing directory
//! at the cycle's end and on `POST /hub/clearing?day=YYYY-MM-DD`, in the layout and under the
//! name Alipay+ uses (`clearing/<participantId>/<date>/transactionItems_<participantId>_
//! <settlementCurrency>_<clearingBatchId>_<participantAgreementId>_<seq>.csv`), so
//! `mpp reconcile` can run against it on one machine.
//!
//! It also takes the acquirer's refund (`POST {prefix}/refund`, the acquirer naming its own
//! `paymentRequestId`) and sends the MPP its refund with the payment's Alipay+ id and
//! `refundFromAmount` converted at the hub's rate.

use super::quote::convert;
use super::{HubState, PAYMENTS_MAX};
use crate::gateway::Reply;
use chrono::{DateTime, Utc};
use mpp_core::clock::business_day;
use mpp_core::edge::Keyed;
use mpp_core::payments::{RefundRequest, RefundResponse};
use mpp_core::reconcile::clearing::{summarise, ClearingFileName, ClearingWriter};
use mpp_core::reconcile::{ClearingDay, Transaction, TransactionType};
use mpp_core::result_code::{ResultCode, ResultStatus};
use mpp_core::wire::{to_body, Amount, ParamIllegal, ResultObject, Text, Validate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// The admin path: `POST /hub/clearing?day=YYYY-MM-DD` writes that day's file now.
pub const CLEARING_PATH: &str = "/hub/clearing";

/// The refund route under the Alipay+ prefix (the MPP's route, from the operation table).
pub const REFUND_PATH: &str = mpp_core::operations::REFUND.route;

/// What the hub cleared, keyed as the reconciliation merges (`(id, type)`), so a day's file
/// comes out sorted. At most [`PAYMENTS_MAX`] payments and as many refunds.
#[derive(Default)]
pub(crate) struct ClearingBook {
    entries: BTreeMap<(String, TransactionType), Transaction>,
}

impl ClearingBook {
    fn put(&mut self, t: Transaction) -> bool {
        if self.entries.len() >= 2 * PAYMENTS_MAX {
            return false;
        }
        self.entries
            .insert((t.id().to_string(), t.transaction_type), t);
        true
    }

    /// The day's transactions in settlement currency `currency`, in key order.
    fn day(&self, day: ClearingDay, currency: mpp_core::money::Currency) -> Vec<Transaction> {
        self.entries
            .values()
            .filter(|t| t.settlement_amount.currency == currency)
            .filter(|t| {
                t.transaction_time
                    .as_deref()
                    .and_then(ClearingDay::of_wire_time)
                    == Some(day)
            })
            .cloned()
            .collect()
    }
}

/// Records the MPP's S to a pay.
pub(super) fn record_payment(
    hub: &HubState,
    mpp_payment_request_id: &str,
    payment_id: Option<&str>,
    payment_time: Option<&str>,
    payment_amount: Amount,
    pay_to_amount: Amount,
) {
    let t = Transaction {
        transaction_type: TransactionType::Payment,
        payment_request_id: mpp_payment_request_id.to_string(),
        payment_id: payment_id.map(str::to_string),
        refund_request_id: None,
        refund_id: None,
        // The MPP's paymentTime; a success without one is cleared at the moment it was seen.
        transaction_time: Some(
            payment_time
                .map(str::to_string)
                .unwrap_or_else(|| mpp_core::clock::wire_time(Utc::now())),
        ),
        transaction_amount: Some(payment_amount.money()),
        settlement_amount: pay_to_amount.money(),
    };
    if !hub.clearing().put(t) {
        tracing::warn!(flow = "hub", "clearing book full: payment not cleared");
    }
}

/// Forgets a payment the MPP cancelled: a cancelled payment is not settled.
pub(super) fn record_cancel(hub: &HubState, mpp_payment_request_id: &str) {
    hub.clearing()
        .entries
        .remove(&(mpp_payment_request_id.to_string(), TransactionType::Payment));
}

/// refund from the ACQP to Alipay+ (the hub): names the ACQP's payment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AcqRefundRequest {
    /// The ACQP's payment id.
    pub payment_request_id: Text<64>,
    /// The refund's idempotency key (passed to the MPP as its `refundRequestId`).
    pub refund_request_id: Text<64>,
    /// The refund in the payment's currency.
    pub refund_amount: Amount,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_reason: Option<Text<256>>,
}

impl Validate for AcqRefundRequest {
    fn validate(&self) -> Result<(), ParamIllegal> {
        Ok(())
    }
}

impl Keyed for AcqRefundRequest {
    fn payment_request_id(&self) -> &str {
        self.payment_request_id.as_str()
    }
}

fn refund_answer(code: ResultCode) -> RefundResponse {
    RefundResponse {
        result: ResultObject::from(code),
        refund_id: None,
        refund_time: None,
    }
}

/// The acquirer's refund: the MPP's refund for the payment, recorded for clearing on S.
pub(super) async fn refund(hub: &HubState, req: AcqRefundRequest) -> RefundResponse {
    let acq_id = req.payment_request_id.as_str();
    let Some(p) = hub.records().by_acq.get(acq_id).cloned() else {
        return refund_answer(ResultCode::OrderNotExist);
    };
    if req.refund_amount.currency != p.payment_amount.currency {
        return refund_answer(ResultCode::CurrencyNotSupport);
    }
    let Some(client) = hub.client(&p.route_prefix) else {
        return refund_answer(ResultCode::UnknownException);
    };
    let (refund_from_amount, refund_quote) = match convert(
        req.refund_amount,
        hub.config.mpp_currency,
        &hub.config.rates,
    ) {
        Ok(Some((amount, quote))) => (amount, Some(quote)),
        Ok(None) => (req.refund_amount, None),
        Err(_) => return refund_answer(ResultCode::ParamIllegal),
    };
    let Ok((acquirer_id, psp_id, mpp_id)) = super::flows::mpp_ids(hub, &p) else {
        return refund_answer(ResultCode::UnknownException);
    };
    let mpp_req = RefundRequest {
        acquirer_id: Some(acquirer_id),
        psp_id,
        payment_request_id: mpp_id,
        payment_id: None,
        refund_request_id: req.refund_request_id.clone(),
        refund_amount: req.refund_amount,
        refund_from_amount,
        refund_quote,
        refund_promo_info: None,
        surcharge_info: None,
        refund_reason: req.refund_reason.clone(),
    };
    let reply: Reply<RefundResponse> =
        super::flows::relay(hub, client, REFUND_PATH, &to_body(&mpp_req)).await;
    match reply {
        Reply::Answer(a) => {
            if a.result.result_status == ResultStatus::S {
                let t = Transaction {
                    transaction_type: TransactionType::Refund,
                    payment_request_id: p.mpp_payment_request_id.clone(),
                    payment_id: None,
                    refund_request_id: Some(req.refund_request_id.as_str().to_string()),
                    refund_id: a.refund_id.as_ref().map(|r| r.as_str().to_string()),
                    transaction_time: Some(
                        a.refund_time
                            .as_ref()
                            .map(|t| t.as_str().to_string())
                            .unwrap_or_else(|| mpp_core::clock::wire_time(Utc::now())),
                    ),
                    transaction_amount: Some(req.refund_amount.money()),
                    settlement_amount: refund_from_amount.money(),
                };
                if !hub.clearing().put(t) {
                    tracing::warn!(flow = "hub", "clearing book full: refund not cleared");
                }
            }
            a
        }
        Reply::NoAnswer(why) => {
            tracing::warn!(flow = "hub", payment_request_id = %acq_id, reason = %why, "MPP gave no answer to refund");
            refund_answer(ResultCode::UnknownException)
        }
    }
}

/// Why a clearing file was not written.
#[derive(Debug, thiserror::Error)]
pub enum ClearingFileError {
    /// The hub has no clearing directory (`mpp hub --clearing-dir`).
    #[error("no clearing directory configured")]
    NoDirectory,
    /// Writing failed.
    #[error("{0}")]
    Write(String),
}

/// Writes the clearing file of `day` (made now) and returns its path.
pub(crate) fn write_day(hub: &HubState, day: ClearingDay) -> Result<PathBuf, ClearingFileError> {
    let dir = hub
        .config
        .clearing_dir
        .as_deref()
        .ok_or(ClearingFileError::NoDirectory)?;
    let currency = hub.config.mpp_currency;
    let rows = hub.clearing().day(day, currency);
    let made_on = ClearingDay::of(Utc::now());
    let name = ClearingFileName {
        participant_id: hub.config.psp_id.clone(),
        settlement_currency: currency,
        clearing_batch_id: format!("{}{}", day.compact(), "001"),
        participant_agreement_id: hub.config.participant_agreement_id.clone(),
        seq: 0,
    };
    let path = dir.join(name.relative_path(made_on));
    write_file(&path, &rows, currency, day)
        .map_err(|e| ClearingFileError::Write(format!("{}: {e}", path.display())))?;
    tracing::info!(flow = "hub", file = %path.display(), rows = rows.len(), "clearing file written");
    Ok(path)
}

fn write_file(
    path: &Path,
    rows: &[Transaction],
    currency: mpp_core::money::Currency,
    day: ClearingDay,
) -> Result<(), Box<dyn std::error::Error>> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    // Written aside and renamed, so a reader (or an SFTP poller) never sees half a file.
    let partial = path.with_extension("csv.part");
    let file = std::fs::File::create(&partial)?;
    let mut w = ClearingWriter::start(BufWriter::new(file), &summarise(currency, day, rows))?;
    for r in rows {
        w.row(r)?;
    }
    w.finish()?
        .into_inner()
        .map_err(|e| e.into_error())?
        .sync_all()?;
    std::fs::rename(&partial, path)?;
    Ok(())
}

/// Time until the next midnight UTC+8 after `now`, when a cycle ends.
pub(crate) fn until_cycle_end(now: DateTime<Utc>) -> (ClearingDay, std::time::Duration) {
    let today = business_day(now);
    let mut t = now;
    // The day turns within 24 h: step by the remaining seconds of the UTC+8 day.
    let secs_into_day =
        (now.timestamp() + i64::from(mpp_core::clock::BUSINESS_TZ_OFFSET_SECS)).rem_euclid(86_400);
    t += chrono::Duration::seconds(86_400 - secs_into_day);
    debug_assert!(business_day(t) != today);
    let wait = (t - now).to_std().unwrap_or_default();
    (ClearingDay::of(now), wait)
}

/// Writes each day's file when its cycle ends, for the hub's life (one iteration a day; stopped
/// with the hub).
pub(crate) async fn at_cycle_ends(hub: std::sync::Arc<HubState>) {
    loop {
        let (day, wait) = until_cycle_end(Utc::now());
        tokio::time::sleep(wait).await;
        if let Err(e) = write_day(&hub, day) {
            tracing::error!(flow = "hub", error = %e, "clearing file not written");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_cycle_ends_at_midnight_utc_plus_8() {
        let now = Utc.with_ymd_and_hms(2026, 11, 21, 15, 59, 0).unwrap();
        let (day, wait) = until_cycle_end(now);
        assert_eq!(day.to_string(), "2026-11-21");
        assert_eq!(wait.as_secs(), 60);
        let now = Utc.with_ymd_and_hms(2026, 11, 21, 16, 0, 0).unwrap();
        let (day, wait) = until_cycle_end(now);
        assert_eq!(day.to_string(), "2026-11-22");
        assert_eq!(wait.as_secs(), 86_400);
    }
}
