//! Event in (a stream batch or an SQS batch), notifications out, failed items reported.

use aws_lambda_events::event::dynamodb;
use aws_lambda_events::event::sqs::{self, BatchItemFailure, SqsBatchResponse};
use lambda_runtime::LambdaEvent;
use mpp_aws::metrics::{
    Metric, NOTIFY_DEAD_LETTERED, NOTIFY_DELIVERED, NOTIFY_FAILED_ATTEMPTS, NOTIFY_REFUSED,
};
use mpp_core::deadline::Deadline;
use mpp_core::flows::notify::{
    attempt, job_for, JobOutcome, NotifyDeps, NotifyJob, ATTEMPT_TIMEOUT_SECS,
};
use serde::Deserialize;
use std::convert::Infallible;
use std::time::Duration;
use tracing::Instrument;

/// Left for one more job before the invocation's deadline: its one HTTP attempt
/// ([`ATTEMPT_TIMEOUT_SECS`]) plus the queue and delivery writes after it. A record reached with
/// less is reported failed untouched, and its event source delivers it again.
const JOB_TIME_MIN: Duration = Duration::from_secs(ATTEMPT_TIMEOUT_SECS + 1);

/// The Alipay+ operation name, from the operation table (`mpp_core::operations`): the route,
/// the `flow` log field and the metric dimension; the crate, binary and SAM resource are the
/// table's `function` (checked by `tests/tests/infra.rs`).
pub const OPERATION: &str = mpp_core::operations::NOTIFY_PAYMENT.name;

/// Built once per cold start.
#[derive(Clone)]
pub struct Deps {
    /// Transport, queues, delivery state, clock, default URL.
    pub notify: NotifyDeps,
}

/// One batch as Lambda delivers it: stream records or SQS messages (one event source per batch,
/// but the function serves both).
#[derive(Debug, Default, Deserialize)]
pub struct NotifyEvent {
    /// The records.
    #[serde(rename = "Records", default)]
    pub records: Vec<Record>,
}

/// One record, typed by its `eventSource`.
#[derive(Debug)]
pub enum Record {
    /// A payments-table stream record (first attempts).
    Stream(Box<dynamodb::EventRecord>),
    /// An SQS message carrying a retry job.
    Sqs(Box<sqs::SqsMessage>),
    /// A record that is neither, or does not read as its source's type: logged and dropped
    /// (retrying cannot make it readable).
    Unreadable {
        /// `eventSource`, if any.
        source: String,
        /// Why it does not read.
        error: String,
    },
}

impl<'de> Deserialize<'de> for Record {
    /// By `eventSource`; a record that does not read becomes [`Record::Unreadable`] rather than
    /// failing the whole batch (which Lambda would then deliver again and again).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Record, D::Error> {
        let raw = serde_json::Value::deserialize(d)?;
        let source = raw
            .get("eventSource")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
            .chars()
            .take(64)
            .collect::<String>();
        let unreadable = |e: serde_json::Error| Record::Unreadable {
            source: source.clone(),
            error: e.to_string(),
        };
        Ok(match source.as_str() {
            "aws:dynamodb" => serde_json::from_value(raw)
                .map(|r| Record::Stream(Box::new(r)))
                .unwrap_or_else(unreadable),
            "aws:sqs" => serde_json::from_value(raw)
                .map(|m| Record::Sqs(Box::new(m)))
                .unwrap_or_else(unreadable),
            _ => Record::Unreadable {
                source: source.clone(),
                error: "unknown event source".into(),
            },
        })
    }
}

impl Record {
    /// What a batch failure names: the stream record's sequence number or the SQS message id.
    fn item_id(&self) -> String {
        match self {
            Record::Stream(r) => r.change.sequence_number.clone().unwrap_or_default(),
            Record::Sqs(m) => m.message_id.clone().unwrap_or_default(),
            Record::Unreadable { .. } => String::new(),
        }
    }
}

/// Handles one batch and reports the records to deliver again (`batchItemFailures`: stream
/// records by sequence number, SQS messages by message id; the two sources' partial-failure
/// answers have this one shape). A record that can never be processed (not a payment image,
/// not a job) is logged and dropped rather than retried forever.
pub async fn handle(
    deps: &Deps,
    event: LambdaEvent<NotifyEvent>,
) -> Result<SqsBatchResponse, Infallible> {
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
    event: NotifyEvent,
    deadline: Option<Deadline>,
) -> Result<SqsBatchResponse, Infallible> {
    let mut response = SqsBatchResponse::default();
    for record in &event.records {
        let failed = if deadline.is_some_and(|d| d.remaining() < JOB_TIME_MIN) {
            tracing::warn!(flow = OPERATION, item = %record.item_id(), "no time left in this invocation: redelivered");
            Err(record.item_id())
        } else {
            match record {
                Record::Stream(r) => stream_record(deps, r).await,
                Record::Sqs(m) => sqs_message(deps, m).await,
                Record::Unreadable { source, error } => {
                    tracing::error!(flow = OPERATION, source = %source, error = %error, "unreadable record: dropped");
                    Ok(())
                }
            }
        };
        if let Err(id) = failed {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    Ok(response)
}

/// A stream record: only INSERTs of final payments are notified (see `flows::notify`).
async fn stream_record(deps: &Deps, record: &dynamodb::EventRecord) -> Result<(), String> {
    let sequence = record.change.sequence_number.clone().unwrap_or_default();
    if record.event_name != "INSERT" {
        return Ok(());
    }
    let payment = match mpp_aws::dynamo::payment_from_item(record.change.new_image.clone()) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(flow = OPERATION, error = %e, sequence = %sequence, "stream image unreadable: dropped");
            return Ok(());
        }
    };
    // As an unreadable image: a record whose state lacks what it must hold is not notified
    // with fields missing; the error names it (inquiryPayment answers it U).
    if let Err(e) = payment.status() {
        tracing::error!(flow = OPERATION, error = %e, sequence = %sequence, "payment record corrupt: not notified");
        return Ok(());
    }
    let Some(job) = job_for(&payment, &deps.notify.default_url) else {
        return Ok(());
    };
    run(deps, &job).await.map_err(|()| sequence)
}

/// An SQS message carrying a retry job.
async fn sqs_message(deps: &Deps, message: &sqs::SqsMessage) -> Result<(), String> {
    let id = message.message_id.clone().unwrap_or_default();
    let job: NotifyJob = match message.body.as_deref().map(serde_json::from_str) {
        Some(Ok(job)) => job,
        _ => {
            tracing::error!(flow = OPERATION, message_id = %id, "retry message is not a notify job: dropped");
            return Ok(());
        }
    };
    run(deps, &job).await.map_err(|()| id)
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
