//! Event in (a stream batch or an SQS batch), notifications out, failed items reported.

use lambda_runtime::LambdaEvent;
use mpp_aws::metrics::{
    Metric, NOTIFY_DEAD_LETTERED, NOTIFY_DELIVERED, NOTIFY_FAILED_ATTEMPTS, NOTIFY_REFUSED,
};
use mpp_core::deadline::Deadline;
use mpp_core::flows::notify::{
    attempt, job_for, JobOutcome, NotifyDeps, NotifyJob, ATTEMPT_TIMEOUT_SECS,
};
use serde_json::{json, Value};
use std::convert::Infallible;
use std::time::Duration;
use tracing::Instrument;

/// Left for one more job before the invocation's deadline: its one HTTP attempt
/// ([`ATTEMPT_TIMEOUT_SECS`]) plus the queue and delivery writes after it. A record reached with
/// less is reported failed untouched, and its event source delivers it again.
const JOB_TIME_MIN: Duration = Duration::from_secs(ATTEMPT_TIMEOUT_SECS + 1);

/// The Alipay+ operation: the same name across crate, binary, SAM resource and log field.
pub const OPERATION: &str = "notifyPayment";

/// Built once per cold start.
#[derive(Clone)]
pub struct Deps {
    /// Transport, queues, delivery state, clock, default URL.
    pub notify: NotifyDeps,
}

/// Handles one batch. Returns `{"batchItemFailures": [...]}`: stream records by sequence
/// number, SQS messages by message id. A record that can never be processed (not a payment
/// image, not a job) is logged and dropped rather than retried forever.
pub async fn handle(deps: &Deps, event: LambdaEvent<Value>) -> Result<Value, Infallible> {
    let invocation = mpp_aws::lambda::invocation_of(OPERATION, &event.context);
    let span = tracing::info_span!(
        "notify",
        flow = OPERATION,
        request_id = invocation.request_id.as_deref(),
        trace_id = invocation.trace_id.as_deref(),
    );
    // The batch runs under the function's own deadline (every HTTP attempt and store call in it
    // reads it); it is not cut off, so every record is either handled or reported failed.
    let deadline = match event.context.deadline {
        0 => None,
        _ => Some(mpp_aws::lambda::remaining_deadline(&event.context)),
    };
    let work = batch(deps, event.payload, deadline).instrument(span);
    match deadline {
        Some(d) => d.scope(work).await,
        None => work.await,
    }
}

async fn batch(
    deps: &Deps,
    payload: Value,
    deadline: Option<Deadline>,
) -> Result<Value, Infallible> {
    let records = payload
        .get("Records")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut failures = Vec::new();
    for record in &records {
        if deadline.is_some_and(|d| d.remaining() < JOB_TIME_MIN) {
            let id = record_id(record);
            tracing::warn!(flow = OPERATION, item = %id, "no time left in this invocation: redelivered");
            failures.push(json!({ "itemIdentifier": id }));
            continue;
        }
        let source = record
            .get("eventSource")
            .and_then(Value::as_str)
            .unwrap_or("");
        let outcome = match source {
            "aws:dynamodb" => stream_record(deps, record).await,
            "aws:sqs" => sqs_message(deps, record).await,
            other => {
                tracing::error!(
                    flow = OPERATION,
                    source = other,
                    "unknown event source: dropped"
                );
                Ok(())
            }
        };
        if let Err(id) = outcome {
            failures.push(json!({ "itemIdentifier": id }));
        }
    }
    Ok(json!({ "batchItemFailures": failures }))
}

/// A stream record: only INSERTs of final payments are notified (see `flows::notify`).
async fn stream_record(deps: &Deps, record: &Value) -> Result<(), String> {
    let sequence = record["dynamodb"]["SequenceNumber"]
        .as_str()
        .unwrap_or("")
        .to_string();
    if record.get("eventName").and_then(Value::as_str) != Some("INSERT") {
        return Ok(());
    }
    let payment = match mpp_aws::dynamo::payment_from_image(&record["dynamodb"]["NewImage"]) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(flow = OPERATION, error = %e, sequence = %sequence, "stream image unreadable: dropped");
            return Ok(());
        }
    };
    let Some(job) = job_for(&payment, &deps.notify.default_url) else {
        return Ok(());
    };
    run(deps, &job).await.map_err(|()| sequence)
}

/// An SQS message carrying a retry job.
async fn sqs_message(deps: &Deps, record: &Value) -> Result<(), String> {
    let id = record
        .get("messageId")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let job: NotifyJob = match record
        .get("body")
        .and_then(Value::as_str)
        .map(serde_json::from_str)
    {
        Some(Ok(job)) => job,
        _ => {
            tracing::error!(flow = OPERATION, message_id = %id, "retry message is not a notify job: dropped");
            return Ok(());
        }
    };
    run(deps, &job).await.map_err(|()| id)
}

/// The id a batch failure names: the stream record's sequence number or the SQS message id.
fn record_id(record: &Value) -> String {
    record["dynamodb"]["SequenceNumber"]
        .as_str()
        .or_else(|| record["messageId"].as_str())
        .unwrap_or("")
        .to_string()
}

/// The metrics of one outcome.
fn outcome_metrics(outcome: &JobOutcome) -> &'static [Metric] {
    match outcome {
        JobOutcome::Delivered => &[NOTIFY_DELIVERED],
        JobOutcome::AlreadyDelivered => &[],
        JobOutcome::Retrying { .. } => &[NOTIFY_FAILED_ATTEMPTS],
        JobOutcome::DeadLettered => &[NOTIFY_FAILED_ATTEMPTS, NOTIFY_DEAD_LETTERED],
        JobOutcome::Refused => &[NOTIFY_REFUSED],
    }
}

async fn run(deps: &Deps, job: &NotifyJob) -> Result<(), ()> {
    match attempt(&deps.notify, job).await {
        Ok(outcome) => {
            for metric in outcome_metrics(&outcome) {
                mpp_aws::metrics::emit(&[(*metric, 1.0)], &[("flow", OPERATION)]);
            }
            tracing::info!(flow = OPERATION, payment_request_id = %job.payment_request_id, attempt = job.attempt, outcome = ?outcome, "handled");
            Ok(())
        }
        Err(e) => {
            tracing::error!(flow = OPERATION, payment_request_id = %job.payment_request_id, error = %e, "will be redelivered");
            Err(())
        }
    }
}
