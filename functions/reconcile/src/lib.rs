//! The reconcile Lambda function: Alipay+ delivers its clearing files by SFTP; they land in the
//! clearing bucket (AWS Transfer Family, `docs/reconcile.md`), and each `transactionItems_…csv`
//! object starts this function. It reconciles the file against the ledger's day index
//! (`mpp_core::reconcile`), writes the report next to the file and emits the discrepancy count
//! as a metric, which an alarm watches.

pub mod handler;
