//! The reconciliation report: JSON lines (one per discrepancy, then one `summary` line) for
//! machines, a few lines of text for people. Both the CLI and the reconcile function write it.

use super::engine::{CountAmount, Discrepancy, DiscrepancyKind, Tally};
use super::Transaction;
use serde::Serialize;
use std::io::Write;

/// A transaction as the report shows it (amounts as integers in minor units).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Side<'a> {
    transaction_type: &'static str,
    payment_request_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    payment_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refund_request_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refund_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transaction_time: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transaction_amount: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transaction_currency: Option<&'static str>,
    settlement_amount: u64,
    settlement_currency: &'static str,
}

impl<'a> Side<'a> {
    fn of(t: &'a Transaction) -> Side<'a> {
        Side {
            transaction_type: t.transaction_type.as_str(),
            payment_request_id: &t.payment_request_id,
            payment_id: t.payment_id.as_deref(),
            refund_request_id: t.refund_request_id.as_deref(),
            refund_id: t.refund_id.as_deref(),
            transaction_time: t.transaction_time.as_deref(),
            transaction_amount: t.transaction_amount.map(|m| m.value.get()),
            transaction_currency: t.transaction_amount.map(|m| m.currency.code()),
            settlement_amount: t.settlement_amount.value.get(),
            settlement_currency: t.settlement_amount.currency.code(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Line<'a> {
    discrepancy: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<Side<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ledger: Option<Side<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    declared: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    counted: Option<String>,
}

/// Writes one discrepancy as a JSON line.
pub fn write_discrepancy(out: &mut dyn Write, d: &Discrepancy) -> std::io::Result<()> {
    let line = Line {
        discrepancy: d.kind.as_str(),
        id: d.file.as_ref().or(d.ledger.as_ref()).map(Transaction::id),
        file: d.file.as_ref().map(Side::of),
        ledger: d.ledger.as_ref().map(Side::of),
        // Sums are i128: written as strings, as JSON numbers past 2^53 are not safe to read.
        declared: d.declared.map(|v| v.to_string()),
        counted: d.counted.map(|v| v.to_string()),
    };
    serde_json::to_writer(&mut *out, &line)?;
    out.write_all(b"\n")
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Totals {
    count: u64,
    amount: String,
}

impl From<CountAmount> for Totals {
    fn from(c: CountAmount) -> Totals {
        Totals {
            count: c.count,
            amount: c.amount.to_string(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SummaryLine {
    summary: SummaryBody,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SummaryBody {
    clearing_date: String,
    settlement_currency: &'static str,
    balanced: bool,
    declared: Totals,
    file: Totals,
    ledger: Totals,
    matched: Totals,
    other_currencies: u64,
    discrepancies: std::collections::BTreeMap<&'static str, u64>,
}

/// Writes the closing `summary` line.
pub fn write_summary(out: &mut dyn Write, t: &Tally) -> std::io::Result<()> {
    let line = SummaryLine {
        summary: SummaryBody {
            clearing_date: t.day.to_string(),
            settlement_currency: t.currency.code(),
            balanced: t.balanced(),
            declared: Totals {
                count: t.declared.total_count,
                amount: t.declared.net_amount.to_string(),
            },
            file: t.file.into(),
            ledger: t.ledger.into(),
            matched: t.matched.into(),
            other_currencies: t.other_currencies,
            discrepancies: DiscrepancyKind::ALL
                .iter()
                .map(|k| (k.as_str(), t.count(*k)))
                .collect(),
        },
    };
    serde_json::to_writer(&mut *out, &line)?;
    out.write_all(b"\n")
}

/// The terminal summary.
pub fn human_summary(t: &Tally) -> String {
    let mut s = format!(
        "clearing cycle {} {}: {}\n",
        t.day,
        t.currency,
        if t.balanced() {
            "BALANCED".to_string()
        } else {
            format!("{} DISCREPANCIES", t.discrepancies())
        }
    );
    let cur = t.currency.code();
    s.push_str(&format!(
        "  file:    {} rows, net {} {cur} (summary says {} rows, net {})\n",
        t.file.count, t.file.amount, t.declared.total_count, t.declared.net_amount
    ));
    s.push_str(&format!(
        "  ledger:  {} transactions, net {} {cur}\n",
        t.ledger.count, t.ledger.amount
    ));
    s.push_str(&format!(
        "  matched: {} transactions, net {} {cur}\n",
        t.matched.count, t.matched.amount
    ));
    for kind in DiscrepancyKind::ALL {
        let n = t.count(kind);
        if n > 0 {
            s.push_str(&format!("  {}: {n}\n", kind.as_str()));
        }
    }
    if t.other_currencies > 0 {
        s.push_str(&format!(
            "  ({} transactions of the day settle in other currencies: their own files)\n",
            t.other_currencies
        ));
    }
    s
}
