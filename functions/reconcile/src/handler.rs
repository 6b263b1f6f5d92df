//! The reconcile Lambda function: Alipay+ delivers its clearing files by SFTP; they land in the
//! clearing bucket (AWS Transfer Family, `docs/reconcile.md`), and each `transactionItems_…csv`
//! object starts this function. It reconciles the file against the ledger's day index
//! (`mpp_core::reconcile`), writes the report next to the file and emits the discrepancy count
//! as a metric, which an alarm watches.
//!
//! SQS batch in (each message an S3 event: a clearing file landed in the bucket), one
//! reconciliation per clearing file, the report beside it, a metric per file, failed messages
//! reported for redelivery.
//!
//! Why a queue between the bucket and the function: a redelivery bound (the queue's
//! `maxReceiveCount`) and a dead-letter queue with an alarm, instead of S3's fire-and-forget
//! asynchronous invocation; and the function's role names the bucket without the template
//! looping bucket → function → role → bucket.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_runtime::LambdaEvent;
use mpp_aws::metrics::{emit, RECONCILE_DISCREPANCIES, RECONCILE_FAILED};
use mpp_core::reconcile::ledger::ClearingLedger;
use mpp_core::reconcile::object::{reconcile_object, ClearingFiles, ObjectOutcome};
use mpp_core::reconcile::report::human_summary;
use serde::Deserialize;
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;

/// The operation name, from the operation table (`mpp_core::operations`): the `flow` log field
/// and the metric dimension; the crate, binary and SAM resource are the table's `function`.
pub const OPERATION: &str = mpp_core::operations::RECONCILE.name;

/// Objects one message may name: S3 sends one record per object; more is a malformed message,
/// whose first ones are still handled.
pub const RECORDS_MAX: usize = 16;

/// Built once per cold start.
pub struct Deps {
    /// The day query (Query on the two day indexes, nothing else).
    pub ledger: Arc<dyn ClearingLedger>,
    /// The clearing bucket.
    pub files: Arc<dyn ClearingFiles>,
    /// Where files and reports are kept while working (Lambda's /tmp).
    pub tmp: PathBuf,
}

/// The part of an S3 event notification this function reads: each record's object key. Read
/// leniently (everything else ignored), so no field S3 adds or omits can make a landed file
/// unreadable here.
#[derive(Debug, Deserialize)]
pub struct Landed {
    /// The records (absent in S3's `s3:TestEvent`).
    #[serde(rename = "Records")]
    pub records: Option<Vec<LandedRecord>>,
}

/// One record of an S3 event.
#[derive(Debug, Deserialize)]
pub struct LandedRecord {
    /// The S3 part.
    pub s3: LandedS3,
}

/// `s3` of a record.
#[derive(Debug, Deserialize)]
pub struct LandedS3 {
    /// The object.
    pub object: LandedObject,
}

/// `s3.object` of a record.
#[derive(Debug, Deserialize)]
pub struct LandedObject {
    /// The key, URL-encoded.
    pub key: String,
}

/// The object key as S3 events carry it: URL-encoded, `+` for a space.
pub fn object_key(encoded: &str) -> String {
    let spaced = encoded.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// What one message came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Handled {
    /// Done (reconciled, skipped, or failed for good: reported by metric and log).
    Done,
    /// Try again later (the store or the ledger failed): the message is reported failed.
    Retry,
}

/// Handles one message body (an S3 event, or S3's test event).
pub async fn handle_body(deps: &Deps, body: &str) -> Handled {
    let records = match serde_json::from_str::<Landed>(body) {
        Ok(Landed { records: Some(r) }) => r,
        Ok(Landed { records: None }) => {
            // S3's s3:TestEvent (sent when the notification is configured): nothing to do.
            tracing::info!(
                flow = OPERATION,
                "message without records (S3 test event): done"
            );
            return Handled::Done;
        }
        Err(e) => {
            // Records without an object key, or not JSON: no file can be named, a retry cannot
            // help; counted, so the failure alarm fires.
            emit(&[(RECONCILE_FAILED, 1.0)], &[("flow", OPERATION)]);
            tracing::error!(flow = OPERATION, error = %e, "message is not an S3 event");
            return Handled::Done;
        }
    };
    if records.len() > RECORDS_MAX {
        emit(&[(RECONCILE_FAILED, 1.0)], &[("flow", OPERATION)]);
        tracing::error!(
            flow = OPERATION,
            records = records.len(),
            "more records than RECORDS_MAX: the rest not handled"
        );
    }
    let mut handled = Handled::Done;
    for record in records.iter().take(RECORDS_MAX) {
        let key = object_key(&record.s3.object.key);
        match reconcile_object(deps.files.as_ref(), deps.ledger.as_ref(), &key, &deps.tmp).await {
            Ok(ObjectOutcome::Skipped) => {
                tracing::info!(flow = OPERATION, key = %key, "not a clearing file: skipped");
            }
            Ok(ObjectOutcome::Reconciled { tally, report_key }) => {
                let found = tally.discrepancies();
                // A count, not money: EMF values are numbers.
                emit(
                    &[(RECONCILE_DISCREPANCIES, found as f64)],
                    &[("flow", OPERATION)],
                );
                tracing::info!(
                    flow = OPERATION,
                    key = %key,
                    report = %report_key,
                    clearing_date = %tally.day,
                    currency = tally.currency.code(),
                    balanced = tally.balanced(),
                    discrepancies = found,
                    summary = %human_summary(&tally),
                    "reconciled"
                );
            }
            Err(e) => {
                emit(&[(RECONCILE_FAILED, 1.0)], &[("flow", OPERATION)]);
                tracing::error!(flow = OPERATION, key = %key, error = %e, retryable = e.retryable(), "not reconciled");
                if e.retryable() {
                    handled = Handled::Retry;
                }
            }
        }
    }
    handled
}

/// Handles one SQS batch: every message, failures reported per message.
pub async fn handle(
    deps: &Deps,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, Infallible> {
    let mut response = SqsBatchResponse::default();
    for message in event.payload.records {
        let body = message.body.as_deref().unwrap_or("");
        if handle_body(deps, body).await == Handled::Retry {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = message.message_id.clone().unwrap_or_default();
            response.batch_item_failures.push(failure);
        }
    }
    Ok(response)
}
