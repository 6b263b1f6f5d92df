//! One reconciliation from a clearing file to a report: what `mpp reconcile` and the reconcile
//! function both call. Reads the summary, settles the cycle and currency, sorts the rows in
//! bounded memory, merges them with the ledger's day and writes the JSON-lines report.

use super::clearing::{ClearingError, ClearingFileName, ClearingReader};
use super::engine::{reconcile, ReconcileError, Tally};
use super::ledger::{ClearingLedger, LedgerCursor, CLEARING_PAGE_MAX};
use super::report::{write_discrepancy, write_summary};
use super::sort::{sort_rows, SortError, SORT_RUN_ROWS};
use super::ClearingDay;
use crate::money::Currency;
use std::io::{BufRead, Write};
use std::path::Path;

/// Why a file could not be reconciled (discrepancies are not errors: they are in the tally).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The file is unreadable or malformed.
    #[error(transparent)]
    File(#[from] ClearingError),
    /// Sorting its rows failed.
    #[error(transparent)]
    Sort(#[from] SortError),
    /// The merge stopped (ledger unavailable, report not writable).
    #[error(transparent)]
    Reconcile(#[from] ReconcileError),
    /// Neither the file's name nor its summary names the settlement currency.
    #[error("the settlement currency is neither in the file name nor in its summary")]
    NoCurrency,
    /// The name and the summary name different currencies.
    #[error("the file name says {name}, its summary says {summary}")]
    CurrencyDisagrees {
        /// From the name.
        name: Currency,
        /// From the summary.
        summary: Currency,
    },
    /// No clearing day: not given, not in the summary.
    #[error("no clearing day: the summary has no clearingDate and none was given")]
    NoDay,
}

/// What the caller knows besides the file's bytes.
pub struct RunInput<'a> {
    /// The file's name or path (its last segment is parsed when it is a clearing file name).
    pub name: &'a str,
    /// The cycle, when the caller knows it better than the summary (a `--day` flag, the day
    /// before the SFTP path's date).
    pub day: Option<ClearingDay>,
    /// Where the sorter may put its runs.
    pub tmp: &'a Path,
}

/// Reconciles `input` against `ledger`, writing the JSON-lines report to `out`.
pub async fn run<R>(
    input: R,
    how: RunInput<'_>,
    ledger: &dyn ClearingLedger,
    out: &mut (dyn Write + Send),
) -> Result<Tally, RunError>
where
    R: BufRead + Send,
{
    let reader = ClearingReader::open(input)?;
    let summary = reader.summary().clone();
    let from_name = ClearingFileName::parse(how.name)
        .ok()
        .map(|n| n.settlement_currency);
    let currency = match (from_name, summary.settlement_currency) {
        (Some(name), Some(summary)) if name != summary => {
            return Err(RunError::CurrencyDisagrees { name, summary })
        }
        (Some(c), _) | (None, Some(c)) => c,
        (None, None) => return Err(RunError::NoCurrency),
    };
    let day = how.day.or(summary.clearing_day).ok_or(RunError::NoDay)?;
    let rows = sort_rows(reader, how.tmp, SORT_RUN_ROWS)?;
    let cursor = LedgerCursor::new(ledger, day, CLEARING_PAGE_MAX);
    let mut sink = |d: &super::engine::Discrepancy| write_discrepancy(&mut *out, d);
    let tally = reconcile(day, currency, summary, rows, cursor, &mut sink).await?;
    write_summary(out, &tally).map_err(|e| RunError::Reconcile(ReconcileError::Sink(e)))?;
    out.flush()
        .map_err(|e| RunError::Reconcile(ReconcileError::Sink(e)))?;
    Ok(tally)
}
