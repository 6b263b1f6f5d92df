//! One landed clearing file, from its object key to its report beside it: what the reconcile
//! function does for each S3 event record, kept here so it is tested without AWS. The file is
//! fetched to a local file and the report written to one (bounded memory for any size), then
//! uploaded next to the file as `<name>.report.jsonl`.

use super::clearing::{ClearingError, ClearingFileName};
use super::engine::Tally;
use super::ledger::ClearingLedger;
use super::run::{run, RunError, RunInput};
use super::ClearingDay;
use async_trait::async_trait;
use std::io::{BufReader, BufWriter};
use std::path::Path;

/// The suffix of a report: `transactionItems_….csv.report.jsonl`. Not a `.csv`, so the report
/// landing next to the file does not trigger another run.
pub const REPORT_SUFFIX: &str = ".report.jsonl";

/// Where the landed files are (an S3 bucket): download and upload through local files.
#[async_trait]
pub trait ClearingFiles: Send + Sync {
    /// Fetches object `key` into the local file `dest`.
    async fn download(&self, key: &str, dest: &Path) -> Result<(), FilesError>;
    /// Stores the local file `src` as object `key`.
    async fn upload(&self, key: &str, src: &Path) -> Result<(), FilesError>;
}

/// A failure of the file store.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    /// No such object.
    #[error("no object {0}")]
    NotFound(String),
    /// The store failed or is unreachable (a retry may help).
    #[error("file store unavailable: {0}")]
    Unavailable(#[source] crate::cause::Cause),
}

/// What became of one object.
#[derive(Debug)]
pub enum ObjectOutcome {
    /// Not a clearing file (a report, a summary or fee report): left alone.
    Skipped,
    /// Reconciled; the report is at `report_key`.
    Reconciled {
        /// The tally (boxed: the outcome travels by value, the tally is a few hundred bytes).
        tally: Box<Tally>,
        /// Where the report went.
        report_key: String,
    },
}

/// Why an object could not be reconciled.
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    /// The file store failed (retry).
    #[error(transparent)]
    Files(#[from] FilesError),
    /// The file is malformed or the ledger failed.
    #[error(transparent)]
    Run(#[from] RunError),
    /// Local temporary files.
    #[error("temporary file: {0}")]
    Temp(#[from] std::io::Error),
}

impl ObjectError {
    /// True when trying again later may succeed (store or ledger unavailable), false when the
    /// file itself is wrong (a retry would fail the same way: alarm instead).
    pub fn retryable(&self) -> bool {
        match self {
            ObjectError::Files(FilesError::NotFound(_)) => false,
            ObjectError::Files(FilesError::Unavailable(_)) | ObjectError::Temp(_) => true,
            ObjectError::Run(RunError::Reconcile(super::engine::ReconcileError::Ledger(_))) => true,
            ObjectError::Run(_) => false,
        }
    }
}

/// The cycle of a landed file when its summary names none: the day before the `<date>` segment
/// of its path (`…/clearing/<participantId>/<date>/transactionItems_….csv`; clearing reports
/// come at 08:00 UTC+8 the day after the cycle).
pub fn day_from_key(key: &str) -> Option<ClearingDay> {
    let mut segments = key.rsplit('/');
    segments.next()?;
    let date = segments.next()?;
    if date.len() != 8 {
        return None;
    }
    ClearingDay::parse(date)?.previous()
}

/// Reconciles the object `key` against `ledger`, uploads the report beside it.
pub async fn reconcile_object(
    files: &dyn ClearingFiles,
    ledger: &dyn ClearingLedger,
    key: &str,
    tmp: &Path,
) -> Result<ObjectOutcome, ObjectError> {
    if ClearingFileName::parse(key).is_err() {
        return Ok(ObjectOutcome::Skipped);
    }
    let work = tempfile_dir(tmp)?;
    let local = work.path.join("clearing.csv");
    files.download(key, &local).await?;
    let report_path = work.path.join("report.jsonl");
    let tally = {
        let input = BufReader::new(std::fs::File::open(&local)?);
        let mut out = BufWriter::new(std::fs::File::create(&report_path)?);
        // The summary's clearingDate first; the path's date only when the summary has none.
        let how = RunInput {
            name: key,
            day: None,
            tmp: &work.path,
        };
        match run(input, how, ledger, &mut out).await {
            Err(RunError::NoDay) => {
                let day = day_from_key(key).ok_or(RunError::NoDay)?;
                let input = BufReader::new(std::fs::File::open(&local)?);
                let mut out = BufWriter::new(std::fs::File::create(&report_path)?);
                let how = RunInput {
                    name: key,
                    day: Some(day),
                    tmp: &work.path,
                };
                run(input, how, ledger, &mut out).await?
            }
            other => other?,
        }
    };
    let report_key = format!("{key}{REPORT_SUFFIX}");
    files.upload(&report_key, &report_path).await?;
    Ok(ObjectOutcome::Reconciled {
        tally: Box::new(tally),
        report_key,
    })
}

/// A private working directory under `tmp`, removed when dropped (Lambda's /tmp outlives one
/// invocation).
struct WorkDir {
    path: std::path::PathBuf,
}

fn tempfile_dir(tmp: &Path) -> std::io::Result<WorkDir> {
    let path = tmp.join(format!("reconcile-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&path)?;
    Ok(WorkDir { path })
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        // Best effort: a leftover directory in /tmp is harmless and small.
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Keeps the error type honest about where a malformed file came from.
impl From<ClearingError> for ObjectError {
    fn from(e: ClearingError) -> ObjectError {
        ObjectError::Run(RunError::File(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::ledger::ClearingPage;
    use crate::reconcile::TransactionType;
    use crate::store::StoreError;
    use std::sync::Mutex;

    struct Dir {
        root: std::path::PathBuf,
        uploads: Mutex<Vec<String>>,
    }

    #[async_trait]
    impl ClearingFiles for Dir {
        async fn download(&self, key: &str, dest: &Path) -> Result<(), FilesError> {
            std::fs::copy(self.root.join(key), dest)
                .map(|_| ())
                .map_err(|_| FilesError::NotFound(key.to_string()))
        }
        async fn upload(&self, key: &str, src: &Path) -> Result<(), FilesError> {
            std::fs::copy(src, self.root.join(key))
                .map_err(|e| FilesError::Unavailable(e.to_string().into()))?;
            self.uploads.lock().unwrap().push(key.to_string());
            Ok(())
        }
    }

    struct Empty;

    #[async_trait]
    impl ClearingLedger for Empty {
        async fn clearing_page(
            &self,
            _day: ClearingDay,
            _kind: TransactionType,
            _after: Option<&str>,
            _limit: usize,
        ) -> Result<ClearingPage, StoreError> {
            Ok(ClearingPage::default())
        }
    }

    #[tokio::test]
    async fn a_landed_file_gets_its_report_beside_it_and_reports_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let key = "clearing/1022/20261122/transactionItems_1022_KRW_B1_A1_000.csv";
        let path = dir.path().join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        // No clearingDate: the cycle is the day before the path's date.
        std::fs::write(
            &path,
            "settlementCurrency,totalCount,netAmount\nKRW,1,500\n\
             transactionType,paymentRequestId,settlementAmount,settlementCurrency\n\
             PAYMENT,p1,500,KRW\n",
        )
        .unwrap();
        let files = Dir {
            root: dir.path().to_path_buf(),
            uploads: Mutex::new(Vec::new()),
        };
        let out = reconcile_object(&files, &Empty, key, dir.path())
            .await
            .unwrap();
        let ObjectOutcome::Reconciled { tally, report_key } = out else {
            panic!("not reconciled")
        };
        assert_eq!(tally.day.to_string(), "2026-11-21");
        assert_eq!(
            tally.count(crate::reconcile::engine::DiscrepancyKind::OnlyInFile),
            1
        );
        assert_eq!(report_key, format!("{key}{REPORT_SUFFIX}"));
        let report = std::fs::read_to_string(dir.path().join(&report_key)).unwrap();
        assert!(report.contains("\"ONLY_IN_FILE\""), "{report}");
        assert!(matches!(
            reconcile_object(&files, &Empty, &report_key, dir.path())
                .await
                .unwrap(),
            ObjectOutcome::Skipped
        ));
        let missing = reconcile_object(
            &files,
            &Empty,
            "clearing/1/20261122/transactionItems_1_KRW_B_A_001.csv",
            dir.path(),
        )
        .await
        .unwrap_err();
        assert!(!missing.retryable());
        assert_eq!(
            day_from_key("a/20260301/x.csv").unwrap().to_string(),
            "2026-02-28"
        );
        assert!(day_from_key("x.csv").is_none());
    }
}
