//! The notify functions' Lambda side, once for every MPP → Alipay+ notification (notifyPayment,
//! authNotify): a batch of DynamoDB Stream records (first attempts) or SQS messages (retries),
//! each handled by `mpp_core::flows::notify::attempt` under the invocation's deadline, with
//! partial batch failures reported so one bad record never blocks or re-sends the others. What
//! differs per function is only how a stream record becomes its first job ([`FirstJob`]).

use crate::metrics::{
    Metric, NOTIFY_DEAD_LETTERED, NOTIFY_DELIVERED, NOTIFY_FAILED_ATTEMPTS, NOTIFY_REFUSED,
};
use aws_lambda_events::event::dynamodb;
use aws_lambda_events::event::sqs::{self, BatchItemFailure, SqsBatchResponse};
use lambda_http::lambda_runtime::LambdaEvent;
use mpp_core::deadline::Deadline;
use mpp_core::flows::notify::{attempt, JobOutcome, NotifyDeps, NotifyJob, ATTEMPT_TIMEOUT_SECS};
use serde::Deserialize;
use std::convert::Infallible;
use std::time::Duration;
use tracing::Instrument;

/// The cold start of a notify function, once for both: the signed client (our key, Alipay+'s
/// newest key for its answers, the [`ATTEMPT_TIMEOUT_SECS`] timeout, the allow-list), the SQS
/// retry and dead-letter queues of `settings`, `deliveries` (the payments' or the outbox's
/// delivery state) and `token_mac` (auth-notify: the runtime's KMS token key, which rebuilds
/// token bodies at send time; notify-payment: `UnconfiguredTokenMac`, never called).
pub async fn deps(
    rt: &crate::config::Runtime,
    settings: crate::config::NotifySettings,
    deliveries: std::sync::Arc<dyn mpp_core::store::DeliveryStore>,
    token_mac: std::sync::Arc<dyn mpp_core::token_mac::TokenMac>,
) -> Result<NotifyDeps, mpp_client::CallError> {
    use std::sync::Arc;
    let sqs = aws_sdk_sqs::Client::new(
        &aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await,
    );
    // Alipay+'s answers are verified with its newest key.
    let alipay_key = rt.config.verifier.keys.values().next_back().cloned();
    let transport = mpp_client::SignedClient::new(
        "",
        rt.config.client_id.clone(),
        rt.edge.signer.clone(),
        alipay_key,
        Duration::from_secs(ATTEMPT_TIMEOUT_SECS),
    )?
    .with_destinations(settings.destinations.clone());
    Ok(NotifyDeps {
        transport: Arc::new(transport),
        retries: Arc::new(crate::sqs::SqsRetryQueue {
            client: sqs.clone(),
            url: settings.retry_queue_url,
        }),
        dead_letters: Arc::new(crate::sqs::SqsDeadLetters {
            client: sqs,
            url: settings.dead_letter_queue_url,
        }),
        deliveries,
        clock: rt.clock.clone(),
        default_url: settings.default_url,
        token_mac,
    })
}

/// Left for one more job before the invocation's deadline: rebuilding an authNotify token body
/// (one KMS `GenerateMac`, at most [`crate::kms::KMS_OPERATION_TIMEOUT`]), its one HTTP attempt
/// ([`ATTEMPT_TIMEOUT_SECS`]) plus the queue and delivery writes after it (1 s). A record reached
/// with less is reported failed untouched, and its event source delivers it again.
pub const JOB_TIME_MIN: Duration =
    Duration::from_secs(crate::kms::KMS_OPERATION_TIMEOUT.as_secs() + ATTEMPT_TIMEOUT_SECS + 1);

/// How a function turns one INSERT stream record into its first job: `None` when the record
/// needs no notification, or cannot be read (the function logs why; retrying cannot help).
pub type FirstJob = dyn Fn(&dynamodb::EventRecord, &NotifyDeps) -> Option<NotifyJob> + Send + Sync;

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
/// answers have this one shape). A record that can never be processed (not an item of ours, not
/// a job) is logged and dropped rather than retried forever. Only INSERTs are first attempts.
pub async fn handle(
    operation: &'static str,
    deps: &NotifyDeps,
    first_job: &FirstJob,
    event: LambdaEvent<NotifyEvent>,
) -> Result<SqsBatchResponse, Infallible> {
    let invocation = crate::lambda::invocation_of(operation, &event.context);
    let span = tracing::info_span!(
        "notify",
        flow = operation,
        request_id = invocation.request_id.as_deref(),
        trace_id = invocation.trace_id.as_deref(),
    );
    // The batch runs under the function's own deadline (every HTTP attempt and store call in it
    // reads it); it is not cut off, so every record is either handled or reported failed.
    let deadline = match event.context.deadline {
        0 => None,
        _ => Some(crate::lambda::remaining_deadline(&event.context)),
    };
    let work = batch(operation, deps, first_job, event.payload, deadline).instrument(span);
    match deadline {
        Some(d) => d.scope(work).await,
        None => work.await,
    }
}

async fn batch(
    operation: &'static str,
    deps: &NotifyDeps,
    first_job: &FirstJob,
    event: NotifyEvent,
    deadline: Option<Deadline>,
) -> Result<SqsBatchResponse, Infallible> {
    let mut response = SqsBatchResponse::default();
    for record in &event.records {
        let failed = if deadline.is_some_and(|d| d.remaining() < JOB_TIME_MIN) {
            tracing::warn!(flow = operation, item = %record.item_id(), "no time left in this invocation: redelivered");
            Err(record.item_id())
        } else {
            match record {
                Record::Stream(r) => stream_record(operation, deps, first_job, r).await,
                Record::Sqs(m) => sqs_message(operation, deps, m).await,
                Record::Unreadable { source, error } => {
                    tracing::error!(flow = operation, source = %source, error = %error, "unreadable record: dropped");
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

async fn stream_record(
    operation: &'static str,
    deps: &NotifyDeps,
    first_job: &FirstJob,
    record: &dynamodb::EventRecord,
) -> Result<(), String> {
    let sequence = record.change.sequence_number.clone().unwrap_or_default();
    if record.event_name != "INSERT" {
        return Ok(());
    }
    let Some(job) = first_job(record, deps) else {
        return Ok(());
    };
    run(operation, deps, &job).await.map_err(|()| sequence)
}

/// An SQS message carrying a retry job.
async fn sqs_message(
    operation: &'static str,
    deps: &NotifyDeps,
    message: &sqs::SqsMessage,
) -> Result<(), String> {
    let id = message.message_id.clone().unwrap_or_default();
    let job: NotifyJob = match message.body.as_deref().map(serde_json::from_str) {
        Some(Ok(job)) => job,
        _ => {
            tracing::error!(flow = operation, message_id = %id, "retry message is not a notify job: dropped");
            return Ok(());
        }
    };
    run(operation, deps, &job).await.map_err(|()| id)
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

async fn run(operation: &'static str, deps: &NotifyDeps, job: &NotifyJob) -> Result<(), ()> {
    match attempt(deps, job).await {
        Ok(outcome) => {
            for metric in outcome_metrics(&outcome) {
                crate::metrics::emit(&[(*metric, 1.0)], &[("flow", operation)]);
            }
            tracing::info!(flow = operation, key = %job.key, attempt = job.attempt, outcome = ?outcome, "handled");
            Ok(())
        }
        Err(e) => {
            tracing::error!(flow = operation, key = %job.key, error = %e, "will be redelivered");
            Err(())
        }
    }
}
