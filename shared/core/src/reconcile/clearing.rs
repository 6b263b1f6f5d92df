//! The clearing file (`transactionItems_…csv`): its name, its column mapping and its reader and
//! writer. Alipay+ does not publish the columns of the transaction detail report; it hands the
//! exact header to each participant. This module is the one place that maps header names to
//! fields ([`SUMMARY_COLUMNS`], [`DETAIL_COLUMNS`]): a real file's header is matched here by
//! adding its names as aliases, nothing else changes. Layout and decisions: `docs/reconcile.md`.
//!
//! The file: UTF-8 CSV; a summary section (a header line naming `totalCount`, then one line of
//! values), then the detail section (a header line naming `transactionType`, then one line per
//! transaction). Blank lines and lines starting with `#` are ignored. Amounts are integers in
//! minor units of their currency, as every amount `value` on the Alipay+ wire; never decimals.

use super::{ClearingDay, Transaction, TransactionType};
use crate::money::{Currency, MinorUnit, Money};
use std::io::{BufRead, Read, Write};

/// Longest line accepted (bytes): a detail row is a few hundred bytes; a longer one is refused
/// rather than read without bound.
pub const LINE_BYTES_MAX: usize = 16 * 1024;

/// Header lines read while looking for the summary and detail headers: a file whose first 64
/// non-blank lines hold neither is not a clearing file.
pub const HEADER_LINES_MAX: usize = 64;

/// The summary fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SummaryField {
    /// The settlement currency of the file (also in its name).
    SettlementCurrency,
    /// The clearing cycle (UTC+8 day).
    ClearingDate,
    /// Number of detail rows.
    TotalCount,
    /// Payments minus refunds, settlement currency, minor units (may be negative).
    NetAmount,
}

/// The detail fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DetailField {
    /// `PAYMENT` or `REFUND`.
    TransactionType,
    /// Alipay+'s payment id.
    PaymentRequestId,
    /// Our payment id.
    PaymentId,
    /// Alipay+'s refund id.
    RefundRequestId,
    /// Our refund id.
    RefundId,
    /// When it completed.
    TransactionTime,
    /// Amount in the transaction currency, minor units.
    TransactionAmount,
    /// The transaction currency.
    TransactionCurrency,
    /// Amount in the settlement currency, minor units.
    SettlementAmount,
    /// The settlement currency.
    SettlementCurrency,
}

/// Summary header names, the first of each the name we write, the others accepted aliases.
pub const SUMMARY_COLUMNS: &[(SummaryField, &[&str])] = &[
    (SummaryField::SettlementCurrency, &["settlementCurrency"]),
    (
        SummaryField::ClearingDate,
        &["clearingDate", "transactionDate"],
    ),
    (SummaryField::TotalCount, &["totalCount"]),
    (
        SummaryField::NetAmount,
        &["netAmount", "totalAmount", "netSettlementAmount"],
    ),
];

/// Detail header names, the first of each the name we write, the others accepted aliases.
/// Columns not listed (fees: `interchangeFee`, `serviceFee`, …) are read past: fees are
/// reconciled against the fee report, not here.
pub const DETAIL_COLUMNS: &[(DetailField, &[&str])] = &[
    (DetailField::TransactionType, &["transactionType"]),
    (DetailField::PaymentRequestId, &["paymentRequestId"]),
    (DetailField::PaymentId, &["paymentId"]),
    (DetailField::RefundRequestId, &["refundRequestId"]),
    (DetailField::RefundId, &["refundId"]),
    (DetailField::TransactionTime, &["transactionTime"]),
    (DetailField::TransactionAmount, &["transactionAmount"]),
    (DetailField::TransactionCurrency, &["transactionCurrency"]),
    (DetailField::SettlementAmount, &["settlementAmount"]),
    (DetailField::SettlementCurrency, &["settlementCurrency"]),
];

/// Why a clearing file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ClearingError {
    /// Reading or writing failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// A line breaks the format; `line` counts from 1.
    #[error("line {line}: {what}")]
    Format {
        /// Where.
        line: u64,
        /// What is wrong (no amounts or ids beyond the offending field's name).
        what: String,
    },
    /// The file name is not `transactionItems_<participantId>_<currency>_<batch>_<agreement>_<seq>.csv`.
    #[error("not a clearing file name: {0}")]
    Name(String),
}

fn format_err(line: u64, what: impl Into<String>) -> ClearingError {
    ClearingError::Format {
        line,
        what: what.into(),
    }
}

/// What a clearing file's name says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClearingFileName {
    /// The participant (our id at Alipay+).
    pub participant_id: String,
    /// The settlement currency.
    pub settlement_currency: Currency,
    /// The clearing batch.
    pub clearing_batch_id: String,
    /// The participant agreement.
    pub participant_agreement_id: String,
    /// 0–999 when a cycle has several files.
    pub seq: u16,
}

impl ClearingFileName {
    /// Parses a name (a path's last segment is taken).
    pub fn parse(path: &str) -> Result<ClearingFileName, ClearingError> {
        let name = path.rsplit('/').next().unwrap_or(path);
        let bad = || ClearingError::Name(name.to_string());
        let stem = name
            .strip_prefix("transactionItems_")
            .and_then(|s| s.strip_suffix(".csv"))
            .ok_or_else(bad)?;
        let parts: Vec<&str> = stem.split('_').collect();
        let [participant, currency, batch, agreement, seq] = parts.as_slice() else {
            return Err(bad());
        };
        let seq_ok = seq.len() == 3 && seq.bytes().all(|b| b.is_ascii_digit());
        if participant.is_empty() || batch.is_empty() || agreement.is_empty() || !seq_ok {
            return Err(bad());
        }
        Ok(ClearingFileName {
            participant_id: participant.to_string(),
            settlement_currency: Currency::from_code(currency).ok_or_else(bad)?,
            clearing_batch_id: batch.to_string(),
            participant_agreement_id: agreement.to_string(),
            seq: seq.parse().map_err(|_| bad())?,
        })
    }

    /// `transactionItems_<participantId>_<settlementCurrency>_<clearingBatchId>_<participantAgreementId>_<seq>.csv`.
    pub fn file_name(&self) -> String {
        format!(
            "transactionItems_{}_{}_{}_{}_{:03}.csv",
            self.participant_id,
            self.settlement_currency,
            self.clearing_batch_id,
            self.participant_agreement_id,
            self.seq
        )
    }

    /// The SFTP path below the settlements root: `clearing/<participantId>/<date>/<name>`, where
    /// `<date>` (`YYYYMMDD`) is the day the file was made.
    pub fn relative_path(&self, made_on: ClearingDay) -> String {
        format!(
            "clearing/{}/{}/{}",
            self.participant_id,
            made_on.compact(),
            self.file_name()
        )
    }
}

/// The summary section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClearingSummary {
    /// The settlement currency, when the summary names it.
    pub settlement_currency: Option<Currency>,
    /// The cycle, when the summary names it.
    pub clearing_day: Option<ClearingDay>,
    /// Declared number of detail rows.
    pub total_count: u64,
    /// Declared payments minus refunds in minor units of the settlement currency.
    pub net_amount: i128,
}

/// Splits one CSV line (RFC 4180 quoting within the line; a quoted line break is refused).
pub fn split_line(line: &str, line_no: u64) -> Result<Vec<String>, ClearingError> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (false, '"') if at_start => {
                quoted = true;
                at_start = false;
            }
            (true, '"') => {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                }
            }
            (false, ',') => {
                fields.push(std::mem::take(&mut field));
                at_start = true;
            }
            (_, c) => {
                field.push(c);
                at_start = false;
            }
        }
    }
    if quoted {
        return Err(format_err(line_no, "unterminated quoted field"));
    }
    fields.push(field);
    Ok(fields)
}

/// Writes one CSV field, quoted when it needs to be.
fn push_field(out: &mut String, field: &str) {
    if field.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

/// Reads lines with a bound on their length.
struct Lines<R> {
    inner: R,
    line_no: u64,
    buf: Vec<u8>,
}

impl<R: BufRead> Lines<R> {
    /// The next non-blank, non-comment line, or `None` at the end.
    fn next_line(&mut self) -> Result<Option<String>, ClearingError> {
        loop {
            self.buf.clear();
            let read = Read::by_ref(&mut self.inner)
                .take(LINE_BYTES_MAX as u64 + 1)
                .read_until(b'\n', &mut self.buf)?;
            if read == 0 {
                return Ok(None);
            }
            self.line_no += 1;
            if self.buf.len() > LINE_BYTES_MAX {
                return Err(format_err(self.line_no, "line too long"));
            }
            let text = std::str::from_utf8(&self.buf)
                .map_err(|_| format_err(self.line_no, "not UTF-8"))?;
            let text = text
                .trim_start_matches('\u{feff}')
                .trim_end_matches(['\n', '\r']);
            if text.trim().is_empty() || text.starts_with('#') {
                continue;
            }
            return Ok(Some(text.to_string()));
        }
    }
}

/// Where each known column sits in a header line.
fn positions<F: Copy + PartialEq>(
    header: &[String],
    columns: &[(F, &[&str])],
) -> Vec<(F, Option<usize>)> {
    columns
        .iter()
        .map(|(field, names)| {
            let at = header
                .iter()
                .position(|h| names.iter().any(|n| h.trim() == *n));
            (*field, at)
        })
        .collect()
}

fn position<F: PartialEq + Copy>(positions: &[(F, Option<usize>)], field: F) -> Option<usize> {
    positions
        .iter()
        .find(|(f, _)| *f == field)
        .and_then(|(_, p)| *p)
}

fn names_of<F: PartialEq>(columns: &[(F, &[&'static str])], field: F) -> &'static str {
    // Every field has at least one name in the tables above.
    columns
        .iter()
        .find(|(f, _)| *f == field)
        .and_then(|(_, n)| n.first().copied())
        .unwrap_or("?")
}

fn parse_count(text: &str, line: u64, what: &str) -> Result<u64, ClearingError> {
    text.trim()
        .parse::<u64>()
        .map_err(|_| format_err(line, format!("{what} is not a whole number")))
}

fn parse_signed(text: &str, line: u64, what: &str) -> Result<i128, ClearingError> {
    let t = text.trim();
    let digits = t.strip_prefix('-').unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 30 {
        return Err(format_err(
            line,
            format!("{what} is not an integer in minor units"),
        ));
    }
    t.parse::<i128>()
        .map_err(|_| format_err(line, format!("{what} is not an integer in minor units")))
}

fn parse_money(
    amount: &str,
    currency: &str,
    line: u64,
    what: &str,
) -> Result<Money, ClearingError> {
    let currency = Currency::from_code(currency.trim())
        .ok_or_else(|| format_err(line, format!("{what} currency is not an ISO 4217 code")))?;
    let t = amount.trim();
    // Zero is a valid amount in a file (a zero-amount refund line would still be a row).
    let value = if t == "0" {
        MinorUnit::ZERO
    } else {
        MinorUnit::parse_natural(t).map_err(|e| format_err(line, format!("{what} amount: {e}")))?
    };
    Ok(Money { currency, value })
}

/// Reads a clearing file: the summary first ([`ClearingReader::open`]), then the detail rows as
/// an iterator, one row in memory at a time.
pub struct ClearingReader<R> {
    lines: Lines<R>,
    detail: Vec<(DetailField, Option<usize>)>,
    summary: ClearingSummary,
}

impl<R: BufRead> ClearingReader<R> {
    /// Reads the summary section and the detail header.
    pub fn open(input: R) -> Result<ClearingReader<R>, ClearingError> {
        let mut lines = Lines {
            inner: input,
            line_no: 0,
            buf: Vec::new(),
        };
        let mut summary = None;
        for _ in 0..HEADER_LINES_MAX {
            let Some(line) = lines.next_line()? else {
                break;
            };
            let header = split_line(&line, lines.line_no)?;
            let s = positions(&header, SUMMARY_COLUMNS);
            if summary.is_none() && position(&s, SummaryField::TotalCount).is_some() {
                let values_line = lines
                    .next_line()?
                    .ok_or_else(|| format_err(lines.line_no, "summary header without values"))?;
                let values = split_line(&values_line, lines.line_no)?;
                summary = Some(read_summary(&s, &values, lines.line_no)?);
                continue;
            }
            let d = positions(&header, DETAIL_COLUMNS);
            if position(&d, DetailField::TransactionType).is_some() {
                let summary = summary
                    .ok_or_else(|| format_err(lines.line_no, "detail section before a summary"))?;
                for required in [
                    DetailField::PaymentRequestId,
                    DetailField::SettlementAmount,
                    DetailField::SettlementCurrency,
                ] {
                    if position(&d, required).is_none() {
                        return Err(format_err(
                            lines.line_no,
                            format!("no {} column", names_of(DETAIL_COLUMNS, required)),
                        ));
                    }
                }
                return Ok(ClearingReader {
                    lines,
                    detail: d,
                    summary,
                });
            }
            if summary.is_none() {
                return Err(format_err(lines.line_no, "no summary header (totalCount)"));
            }
        }
        match summary {
            // An empty cycle may end after its summary: no detail header at all.
            Some(summary) if summary.total_count == 0 => Ok(ClearingReader {
                lines,
                detail: Vec::new(),
                summary,
            }),
            _ => Err(format_err(
                lines.line_no,
                "no detail header (transactionType)",
            )),
        }
    }

    /// The summary section.
    pub fn summary(&self) -> &ClearingSummary {
        &self.summary
    }

    fn row(&self, fields: &[String]) -> Result<Transaction, ClearingError> {
        let line = self.lines.line_no;
        let get = |field: DetailField| -> Option<&str> {
            position(&self.detail, field)
                .and_then(|i| fields.get(i))
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
        };
        let need = |field: DetailField| {
            get(field).ok_or_else(|| {
                format_err(
                    line,
                    format!("{} is empty", names_of(DETAIL_COLUMNS, field)),
                )
            })
        };
        let kind = need(DetailField::TransactionType)?;
        let transaction_type = TransactionType::parse(kind)
            .ok_or_else(|| format_err(line, "transactionType is neither PAYMENT nor REFUND"))?;
        let settlement_amount = parse_money(
            need(DetailField::SettlementAmount)?,
            need(DetailField::SettlementCurrency)?,
            line,
            "settlement",
        )?;
        let transaction_amount = match (
            get(DetailField::TransactionAmount),
            get(DetailField::TransactionCurrency),
        ) {
            (Some(a), Some(c)) => Some(parse_money(a, c, line, "transaction")?),
            (None, None) => None,
            _ => {
                return Err(format_err(
                    line,
                    "transactionAmount and transactionCurrency come together",
                ))
            }
        };
        let refund_request_id = get(DetailField::RefundRequestId).map(str::to_string);
        if transaction_type == TransactionType::Refund && refund_request_id.is_none() {
            return Err(format_err(line, "a REFUND row needs refundRequestId"));
        }
        Ok(Transaction {
            transaction_type,
            payment_request_id: need(DetailField::PaymentRequestId)?.to_string(),
            payment_id: get(DetailField::PaymentId).map(str::to_string),
            refund_request_id,
            refund_id: get(DetailField::RefundId).map(str::to_string),
            transaction_time: get(DetailField::TransactionTime).map(str::to_string),
            transaction_amount,
            settlement_amount,
        })
    }
}

fn read_summary(
    positions: &[(SummaryField, Option<usize>)],
    values: &[String],
    line: u64,
) -> Result<ClearingSummary, ClearingError> {
    let get = |field: SummaryField| {
        position(positions, field)
            .and_then(|i| values.get(i))
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    };
    let settlement_currency = match get(SummaryField::SettlementCurrency) {
        Some(c) => Some(
            Currency::from_code(c)
                .ok_or_else(|| format_err(line, "settlementCurrency is not an ISO 4217 code"))?,
        ),
        None => None,
    };
    let clearing_day = match get(SummaryField::ClearingDate) {
        Some(d) => Some(
            ClearingDay::parse(d)
                .ok_or_else(|| format_err(line, "clearingDate is not YYYY-MM-DD"))?,
        ),
        None => None,
    };
    let total_count = parse_count(
        get(SummaryField::TotalCount).ok_or_else(|| format_err(line, "totalCount is empty"))?,
        line,
        "totalCount",
    )?;
    let net_amount = parse_signed(
        get(SummaryField::NetAmount).ok_or_else(|| format_err(line, "netAmount is empty"))?,
        line,
        "netAmount",
    )?;
    Ok(ClearingSummary {
        settlement_currency,
        clearing_day,
        total_count,
        net_amount,
    })
}

impl<R: BufRead> Iterator for ClearingReader<R> {
    type Item = Result<Transaction, ClearingError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.detail.is_empty() {
            return None;
        }
        let line = match self.lines.next_line() {
            Ok(Some(line)) => line,
            Ok(None) => return None,
            Err(e) => return Some(Err(e)),
        };
        Some(split_line(&line, self.lines.line_no).and_then(|fields| self.row(&fields)))
    }
}

/// Writes a clearing file in our column layout (the hub, the benchmark's generator and the
/// sorter's runs).
pub struct ClearingWriter<W: Write> {
    out: W,
    line: String,
}

impl<W: Write> ClearingWriter<W> {
    /// Writes the summary section and the detail header.
    pub fn start(
        mut out: W,
        summary: &ClearingSummary,
    ) -> Result<ClearingWriter<W>, ClearingError> {
        let mut line = String::new();
        let names: Vec<&str> = SUMMARY_COLUMNS.iter().map(|(_, n)| n[0]).collect();
        line.push_str(&names.join(","));
        line.push('\n');
        let values = SUMMARY_COLUMNS.iter().map(|(field, _)| match field {
            SummaryField::SettlementCurrency => summary
                .settlement_currency
                .map(|c| c.code().to_string())
                .unwrap_or_default(),
            SummaryField::ClearingDate => summary
                .clearing_day
                .map(|d| d.to_string())
                .unwrap_or_default(),
            SummaryField::TotalCount => summary.total_count.to_string(),
            SummaryField::NetAmount => summary.net_amount.to_string(),
        });
        line.push_str(&values.collect::<Vec<_>>().join(","));
        line.push('\n');
        let names: Vec<&str> = DETAIL_COLUMNS.iter().map(|(_, n)| n[0]).collect();
        line.push_str(&names.join(","));
        line.push('\n');
        out.write_all(line.as_bytes())?;
        Ok(ClearingWriter { out, line })
    }

    /// Writes one detail row.
    pub fn row(&mut self, t: &Transaction) -> Result<(), ClearingError> {
        self.line.clear();
        for (i, (field, _)) in DETAIL_COLUMNS.iter().enumerate() {
            if i > 0 {
                self.line.push(',');
            }
            let text: String = match field {
                DetailField::TransactionType => t.transaction_type.as_str().to_string(),
                DetailField::PaymentRequestId => t.payment_request_id.clone(),
                DetailField::PaymentId => t.payment_id.clone().unwrap_or_default(),
                DetailField::RefundRequestId => t.refund_request_id.clone().unwrap_or_default(),
                DetailField::RefundId => t.refund_id.clone().unwrap_or_default(),
                DetailField::TransactionTime => t.transaction_time.clone().unwrap_or_default(),
                DetailField::TransactionAmount => t
                    .transaction_amount
                    .map(|m| m.value.to_string())
                    .unwrap_or_default(),
                DetailField::TransactionCurrency => t
                    .transaction_amount
                    .map(|m| m.currency.code().to_string())
                    .unwrap_or_default(),
                DetailField::SettlementAmount => t.settlement_amount.value.to_string(),
                DetailField::SettlementCurrency => t.settlement_amount.currency.code().to_string(),
            };
            push_field(&mut self.line, &text);
        }
        self.line.push('\n');
        self.out.write_all(self.line.as_bytes())?;
        Ok(())
    }

    /// Flushes and hands the writer back.
    pub fn finish(mut self) -> Result<W, ClearingError> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// The summary of a set of transactions in one settlement currency.
pub fn summarise(currency: Currency, day: ClearingDay, rows: &[Transaction]) -> ClearingSummary {
    ClearingSummary {
        settlement_currency: Some(currency),
        clearing_day: Some(day),
        total_count: rows.len() as u64,
        net_amount: rows.iter().map(Transaction::signed_settlement).sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn krw(v: u64) -> Money {
        Money {
            currency: Currency::from_code("KRW").unwrap(),
            value: MinorUnit(v),
        }
    }

    fn rows() -> Vec<Transaction> {
        vec![
            Transaction {
                transaction_type: TransactionType::Payment,
                payment_request_id: "p,1".into(),
                payment_id: Some("id\"1".into()),
                refund_request_id: None,
                refund_id: None,
                transaction_time: Some("2026-11-21T10:00:00+08:00".into()),
                transaction_amount: Some(Money {
                    currency: Currency::from_code("JPY").unwrap(),
                    value: MinorUnit(100),
                }),
                settlement_amount: krw(1000),
            },
            Transaction {
                transaction_type: TransactionType::Refund,
                payment_request_id: "p,1".into(),
                payment_id: None,
                refund_request_id: Some("r1".into()),
                refund_id: Some("rid".into()),
                transaction_time: None,
                transaction_amount: None,
                settlement_amount: krw(400),
            },
        ]
    }

    #[test]
    fn a_written_file_reads_back_exactly() {
        let day = ClearingDay::parse("2026-11-21").unwrap();
        let cur = Currency::from_code("KRW").unwrap();
        let rows = rows();
        let summary = summarise(cur, day, &rows);
        assert_eq!(summary.net_amount, 600);
        let mut w = ClearingWriter::start(Vec::new(), &summary).unwrap();
        for r in &rows {
            w.row(r).unwrap();
        }
        let bytes = w.finish().unwrap();
        let reader = ClearingReader::open(bytes.as_slice()).unwrap();
        assert_eq!(reader.summary(), &summary);
        let back: Vec<Transaction> = reader.map(Result::unwrap).collect();
        assert_eq!(back, rows);
    }

    #[test]
    fn an_empty_cycle_is_a_file_with_zero_totals() {
        let text = "settlementCurrency,clearingDate,totalCount,netAmount\nKRW,2026-11-21,0,0\n";
        let mut reader = ClearingReader::open(text.as_bytes()).unwrap();
        assert_eq!(reader.summary().total_count, 0);
        assert!(reader.next().is_none());
    }

    #[test]
    fn aliases_reordered_columns_and_unknown_columns_are_read() {
        let text = "# made by Alipay+\n\
                    totalCount,totalAmount,settlementCurrency\n1,-50,USD\n\n\
                    serviceFee,settlementCurrency,settlementAmount,refundRequestId,paymentRequestId,transactionType\n\
                    3,USD,50,r9,p9,REFUND\n";
        let mut reader = ClearingReader::open(text.as_bytes()).unwrap();
        assert_eq!(reader.summary().net_amount, -50);
        let row = reader.next().unwrap().unwrap();
        assert_eq!(row.id(), "r9");
        assert_eq!(row.signed_settlement(), -50);
    }

    #[test]
    fn broken_rows_name_their_line_and_field() {
        let head = "totalCount,netAmount\n1,1\ntransactionType,paymentRequestId,settlementAmount,settlementCurrency\n";
        for (row, want) in [
            ("PAYMENT,p1,1.50,USD", "line 4: settlement amount"),
            ("PAYMENT,p1,-1,USD", "line 4: settlement amount"),
            ("PAYMENT,p1,1,usd", "line 4: settlement currency"),
            ("CHARGE,p1,1,USD", "line 4: transactionType"),
            ("REFUND,p1,1,USD", "line 4: a REFUND row"),
            ("PAYMENT,\"p1,1,USD", "line 4: unterminated"),
        ] {
            let text = format!("{head}{row}\n");
            let mut reader = ClearingReader::open(text.as_bytes()).unwrap();
            let err = reader.next().unwrap().unwrap_err().to_string();
            assert!(err.starts_with(want), "{row}: {err}");
        }
        assert!(ClearingReader::open("a,b\n1,2\n".as_bytes()).is_err());
        assert!(ClearingReader::open("totalCount,netAmount\n1,x\n".as_bytes()).is_err());
        assert!(ClearingReader::open("totalCount,netAmount\n2,0\n".as_bytes()).is_err());
    }

    #[test]
    fn the_name_is_parsed_and_made_back() {
        let n = ClearingFileName::parse(
            "/v1/settlements/clearing/1022/20261122/transactionItems_1022_KRW_20261121001_AGR1_000.csv",
        )
        .unwrap();
        assert_eq!(n.settlement_currency.code(), "KRW");
        assert_eq!(n.seq, 0);
        assert_eq!(
            n.file_name(),
            "transactionItems_1022_KRW_20261121001_AGR1_000.csv"
        );
        let made = ClearingDay::parse("20261122").unwrap();
        assert_eq!(
            n.relative_path(made),
            "clearing/1022/20261122/transactionItems_1022_KRW_20261121001_AGR1_000.csv"
        );
        for bad in [
            "transactionItems_1022_KRW_1_A_0.csv",
            "transactionItems_1022_ZZZ_1_A_000.csv",
            "settlement_1022_KRW_1_A_000.csv",
            "transactionItems_1022_KRW_1_000.csv",
        ] {
            assert!(ClearingFileName::parse(bad).is_err(), "{bad}");
        }
    }
}
