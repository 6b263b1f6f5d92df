//! Daily reconciliation against Alipay+'s clearing files (`user-presented-mpp.md` §3).
//!
//! Alipay+ publishes, per clearing cycle (a UTC+8 day) and settlement currency, the successful
//! payments and refunds it will settle (`transactionItems_…csv`). This module is the one engine
//! the `mpp reconcile` command and the reconcile Lambda share:
//! - [`clearing`]: the file: its name, its column mapping (kept in one place), reader and writer;
//! - [`sort`]: the file's rows in key order in bounded memory (sorted runs, then a k-way merge);
//! - [`ledger`]: our side: the [`ledger::ClearingLedger`] port (a paginated per-day query on the
//!   stores) and a cursor that streams it in key order;
//! - [`engine`]: the sorted merge of the two streams, which reports every discrepancy as it
//!   meets it and keeps only counters (bounded memory, integer minor units);
//! - [`report`]: the machine-readable report (JSON lines) and the human summary.
//!
//! The format and the decisions behind it are in `docs/reconcile.md`.

pub mod clearing;
pub mod engine;
pub mod ledger;
pub mod object;
pub mod report;
pub mod run;
pub mod sort;

use crate::clock::business_day;
use crate::money::Money;
use chrono::{DateTime, NaiveDate, Utc};
use std::cmp::Ordering;
use std::fmt;

/// What a clearing row (or a ledger entry) records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TransactionType {
    /// A successful payment: the MPP owes Alipay+ its settlement amount.
    Payment,
    /// A successful refund: the settlement amount comes back to the MPP.
    Refund,
}

impl TransactionType {
    /// The file's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TransactionType::Payment => "PAYMENT",
            TransactionType::Refund => "REFUND",
        }
    }

    /// Parses the file's spelling.
    pub fn parse(s: &str) -> Option<TransactionType> {
        match s {
            "PAYMENT" => Some(TransactionType::Payment),
            "REFUND" => Some(TransactionType::Refund),
            _ => None,
        }
    }

    /// The sign of its settlement amount in the cycle's net: payments +1, refunds −1.
    pub fn sign(self) -> i128 {
        match self {
            TransactionType::Payment => 1,
            TransactionType::Refund => -1,
        }
    }
}

/// One successful transaction of a clearing cycle, as Alipay+'s file or our ledger has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transaction {
    /// Payment or refund.
    pub transaction_type: TransactionType,
    /// Alipay+'s id of the payment (of the refunded payment, for a refund).
    pub payment_request_id: String,
    /// Our id of the payment.
    pub payment_id: Option<String>,
    /// Alipay+'s id of the refund (refunds only): the key of a refund.
    pub refund_request_id: Option<String>,
    /// Our id of the refund.
    pub refund_id: Option<String>,
    /// When it completed (`paymentTime`, `refundTime`), as written.
    pub transaction_time: Option<String>,
    /// The amount in the transaction's currency (`paymentAmount`); our ledger does not keep it
    /// for refunds (only what moved in our currency), so it is compared only when both sides
    /// have it.
    pub transaction_amount: Option<Money>,
    /// What is settled, in the settlement currency: `payToAmount` of a payment,
    /// `refundFromAmount` of a refund.
    pub settlement_amount: Money,
}

impl Transaction {
    /// The id the transaction is known by: `refundRequestId` for a refund, `paymentRequestId`
    /// for a payment (a refund without its id keys on the empty string and so never matches).
    pub fn id(&self) -> &str {
        match self.transaction_type {
            TransactionType::Payment => &self.payment_request_id,
            TransactionType::Refund => self.refund_request_id.as_deref().unwrap_or(""),
        }
    }

    /// The merge key: the id, then the type (a payment and a refund may share an id, as the two
    /// are different Alipay+ id spaces).
    pub fn key(&self) -> (&str, TransactionType) {
        (self.id(), self.transaction_type)
    }

    /// Compares merge keys.
    pub fn key_cmp(&self, other: &Transaction) -> Ordering {
        self.key().cmp(&other.key())
    }

    /// The settlement amount signed for the net: payments add, refunds subtract.
    pub fn signed_settlement(&self) -> i128 {
        self.transaction_type.sign() * i128::from(self.settlement_amount.value.get())
    }
}

/// A clearing cycle: one UTC+8 day, 00:00 to 23:59:59 (`YYYYMMDD` as a number, the same key as
/// the daily limits, `clock::business_day`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClearingDay(u32);

impl ClearingDay {
    /// The cycle an instant falls in.
    pub fn of(at: DateTime<Utc>) -> ClearingDay {
        ClearingDay(business_day(at))
    }

    /// The cycle of a stored wire time (`paymentTime`, `refundTime`: RFC 3339 with offset).
    pub fn of_wire_time(text: &str) -> Option<ClearingDay> {
        DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| ClearingDay::of(t.with_timezone(&Utc)))
    }

    /// Parses `YYYY-MM-DD` or `YYYYMMDD` (a real calendar day).
    pub fn parse(text: &str) -> Option<ClearingDay> {
        let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .or_else(|_| NaiveDate::parse_from_str(text, "%Y%m%d"))
            .ok()?;
        Some(ClearingDay::from_date(date))
    }

    fn from_date(date: NaiveDate) -> ClearingDay {
        use chrono::Datelike;
        ClearingDay((date.year() as u32) * 10_000 + date.month() * 100 + date.day())
    }

    /// The calendar date.
    pub fn date(self) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt((self.0 / 10_000) as i32, (self.0 / 100) % 100, self.0 % 100)
    }

    /// The day before (a file made on day D by default clears D − 1: reports come at 08:00
    /// UTC+8 the next day).
    pub fn previous(self) -> Option<ClearingDay> {
        self.date()?.pred_opt().map(ClearingDay::from_date)
    }

    /// `YYYYMMDD`, the stored partition key.
    pub fn compact(self) -> String {
        format!("{:08}", self.0)
    }

    /// `YYYYMMDD` as a number.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for ClearingDay {
    /// `YYYY-MM-DD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.0 / 10_000,
            (self.0 / 100) % 100,
            self.0 % 100
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cycle_of_a_wire_time_is_its_utc_plus_8_day() {
        let d = ClearingDay::of_wire_time("2026-11-21T23:59:59+08:00").unwrap();
        assert_eq!(d.compact(), "20261121");
        let d = ClearingDay::of_wire_time("2026-11-21T16:00:00Z").unwrap();
        assert_eq!(d.to_string(), "2026-11-22");
        assert_eq!(ClearingDay::parse("2026-11-22"), Some(d));
        assert_eq!(ClearingDay::parse("20261122"), Some(d));
        assert_eq!(ClearingDay::parse("2026-02-30"), None);
        assert_eq!(
            ClearingDay::parse("20260301")
                .unwrap()
                .previous()
                .unwrap()
                .to_string(),
            "2026-02-28"
        );
    }
}
