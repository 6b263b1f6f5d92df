//! A clearing file's rows in merge-key order, in bounded memory. Alipay+ does not promise any
//! order, so the rows are cut into runs of at most [`SORT_RUN_ROWS`], each run sorted in memory
//! and (when there is more than one) written to a temporary file in the clearing layout, then
//! the runs are merged with a heap holding one row per run. Memory: one run while cutting, one
//! row per run while merging.

use super::clearing::{ClearingError, ClearingReader, ClearingSummary, ClearingWriter};
use super::Transaction;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::Path;

/// Rows sorted in memory at once (about 250 bytes each: ~25 MB).
pub const SORT_RUN_ROWS: usize = 100_000;

/// Runs at most (so at most this many open files while merging): 1,000 runs of
/// [`SORT_RUN_ROWS`] are 100 million rows, far past a day of a wallet's transactions.
pub const SORT_RUNS_MAX: usize = 1_000;

/// Why sorting stopped.
#[derive(Debug, thiserror::Error)]
pub enum SortError {
    /// The file (or a run) could not be read or written.
    #[error(transparent)]
    Clearing(#[from] ClearingError),
    /// More rows than [`SORT_RUNS_MAX`] runs hold.
    #[error("more than {} rows", SORT_RUNS_MAX * SORT_RUN_ROWS)]
    TooManyRows,
}

/// Rows in key order.
pub enum SortedRows {
    /// Everything fitted in one run.
    Memory(std::vec::IntoIter<Transaction>),
    /// Runs on disk, merged.
    Runs(RunMerge),
}

impl Iterator for SortedRows {
    type Item = Result<Transaction, ClearingError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            SortedRows::Memory(rows) => rows.next().map(Ok),
            SortedRows::Runs(merge) => merge.next(),
        }
    }
}

/// Sorts `rows` with runs under `tmp` (a directory that exists; the runs are deleted when the
/// result is dropped).
pub fn sort_rows<I>(rows: I, tmp: &Path, run_rows: usize) -> Result<SortedRows, SortError>
where
    I: Iterator<Item = Result<Transaction, ClearingError>>,
{
    let run_rows = run_rows.clamp(1, SORT_RUN_ROWS);
    let mut run: Vec<Transaction> = Vec::with_capacity(run_rows.min(1024));
    let mut runs: Vec<tempfile_path::RunFile> = Vec::new();
    for row in rows {
        run.push(row?);
        if run.len() == run_rows {
            if runs.len() == SORT_RUNS_MAX {
                return Err(SortError::TooManyRows);
            }
            runs.push(write_run(&mut run, tmp, runs.len())?);
        }
    }
    run.sort_by(Transaction::key_cmp);
    if runs.is_empty() {
        return Ok(SortedRows::Memory(run.into_iter()));
    }
    if !run.is_empty() {
        if runs.len() == SORT_RUNS_MAX {
            return Err(SortError::TooManyRows);
        }
        runs.push(write_run(&mut run, tmp, runs.len())?);
    }
    RunMerge::open(runs).map(SortedRows::Runs)
}

fn write_run(
    run: &mut Vec<Transaction>,
    tmp: &Path,
    index: usize,
) -> Result<tempfile_path::RunFile, ClearingError> {
    run.sort_by(Transaction::key_cmp);
    let path = tmp.join(format!("run-{}-{index:04}.csv", std::process::id()));
    let file = tempfile_path::RunFile::create(path)?;
    let summary = ClearingSummary {
        settlement_currency: None,
        clearing_day: None,
        total_count: run.len() as u64,
        net_amount: 0,
    };
    let mut w = ClearingWriter::start(BufWriter::new(File::create(&file.path)?), &summary)?;
    for row in run.drain(..) {
        w.row(&row)?;
    }
    w.finish()?;
    Ok(file)
}

/// Deletes a run when dropped.
mod tempfile_path {
    use std::path::PathBuf;

    /// A run file on disk.
    pub struct RunFile {
        pub path: PathBuf,
    }

    impl RunFile {
        pub fn create(path: PathBuf) -> std::io::Result<RunFile> {
            Ok(RunFile { path })
        }
    }

    impl Drop for RunFile {
        fn drop(&mut self) {
            // Best effort: a run left behind in a temporary directory is harmless.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// The heap's entry: a row and the run it came from, ordered by key then run (stable).
struct Head {
    row: Transaction,
    run: usize,
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}
impl Eq for Head {}
impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Head {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.row.key_cmp(&other.row).then(self.run.cmp(&other.run))
    }
}

/// The k-way merge of sorted runs.
pub struct RunMerge {
    readers: Vec<ClearingReader<BufReader<File>>>,
    heap: BinaryHeap<Reverse<Head>>,
    _files: Vec<tempfile_path::RunFile>,
}

impl RunMerge {
    fn open(files: Vec<tempfile_path::RunFile>) -> Result<RunMerge, SortError> {
        let mut readers = Vec::with_capacity(files.len());
        for f in &files {
            readers.push(ClearingReader::open(BufReader::new(
                File::open(&f.path).map_err(ClearingError::Io)?,
            ))?);
        }
        let mut heap = BinaryHeap::with_capacity(readers.len());
        for (run, reader) in readers.iter_mut().enumerate() {
            if let Some(row) = reader.next() {
                heap.push(Reverse(Head { row: row?, run }));
            }
        }
        Ok(RunMerge {
            readers,
            heap,
            _files: files,
        })
    }
}

impl Iterator for RunMerge {
    type Item = Result<Transaction, ClearingError>;

    fn next(&mut self) -> Option<Self::Item> {
        let Reverse(Head { row, run }) = self.heap.pop()?;
        match self.readers.get_mut(run).and_then(Iterator::next) {
            Some(Ok(next)) => self.heap.push(Reverse(Head { row: next, run })),
            Some(Err(e)) => return Some(Err(e)),
            None => {}
        }
        Some(Ok(row))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::{Currency, MinorUnit, Money};
    use crate::reconcile::TransactionType;

    fn row(id: u32) -> Transaction {
        Transaction {
            transaction_type: if id % 7 == 0 {
                TransactionType::Refund
            } else {
                TransactionType::Payment
            },
            payment_request_id: format!("p{id:06}"),
            payment_id: None,
            refund_request_id: (id % 7 == 0).then(|| format!("p{id:06}")),
            refund_id: None,
            transaction_time: None,
            transaction_amount: None,
            settlement_amount: Money {
                currency: Currency::from_code("KRW").unwrap(),
                value: MinorUnit(u64::from(id)),
            },
        }
    }

    #[test]
    fn runs_on_disk_merge_into_key_order() {
        let dir = tempfile::tempdir().unwrap();
        // 1000 rows in a scrambled order, runs of 64: 16 runs.
        let input: Vec<Transaction> = (0..1000u32).map(|i| row((i * 379) % 1000)).collect();
        let sorted: Vec<Transaction> = sort_rows(input.clone().into_iter().map(Ok), dir.path(), 64)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let mut want = input;
        want.sort_by(Transaction::key_cmp);
        assert_eq!(sorted, want);
        drop(sorted);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "runs deleted"
        );
    }

    #[test]
    fn a_small_file_sorts_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let sorted = sort_rows([row(3), row(1)].into_iter().map(Ok), dir.path(), 10).unwrap();
        assert!(matches!(sorted, SortedRows::Memory(_)));
        let ids: Vec<String> = sorted.map(|r| r.unwrap().payment_request_id).collect();
        assert_eq!(ids, ["p000001", "p000003"]);
    }
}
