//! Event in (a stream batch or an SQS batch), notifications out, failed items reported.

use lambda_runtime::LambdaEvent;
use mpp_core::flows::notify::{attempt, job_for, NotifyDeps, NotifyJob};
use serde_json::{json, Value};
use std::convert::Infallible;

/// The Alipay+ operation: the same name across crate, binary, SAM resource and log field.
pub const OPERATION: &str = mpp_core::operations::NOTIFY_PAYMENT.name;

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
    let records = event
        .payload
        .get("Records")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut failures = Vec::new();
    for record in &records {
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

async fn run(deps: &Deps, job: &NotifyJob) -> Result<(), ()> {
    match attempt(&deps.notify, job).await {
        Ok(outcome) => {
            tracing::info!(flow = OPERATION, payment_request_id = %job.payment_request_id, attempt = job.attempt, outcome = ?outcome, "handled");
            Ok(())
        }
        Err(e) => {
            tracing::error!(flow = OPERATION, payment_request_id = %job.payment_request_id, error = %e, "will be redelivered");
            Err(())
        }
    }
}
