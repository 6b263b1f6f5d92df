//! The notify Lambda function: notifyPayment (MPP → Alipay+) for every payment that reached a
//! final state. Two event sources feed it: the payments table's DynamoDB Stream (first
//! attempts) and the SQS retry queue (later attempts, delayed by the schedule). Both report
//! partial batch failures, so one bad record never blocks or re-sends the others.
//!
//! Event in (a stream batch or an SQS batch), notifications out, failed items reported: the
//! shared notify machinery (`mpp_aws::notify_lambda`) with notifyPayment's first job.

use aws_lambda_events::event::dynamodb;
use aws_lambda_events::event::sqs::SqsBatchResponse;
use lambda_runtime::LambdaEvent;
use mpp_core::flows::notify::{NotifyDeps, NotifyJob};
use mpp_core::payments::job_for;
use std::convert::Infallible;

pub use mpp_aws::notify_lambda::{NotifyEvent, Record, JOB_TIME_MIN};

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

/// Handles one batch (see `mpp_aws::notify_lambda::handle`).
pub async fn handle(
    deps: &Deps,
    event: LambdaEvent<NotifyEvent>,
) -> Result<SqsBatchResponse, Infallible> {
    mpp_aws::notify_lambda::handle(OPERATION, &deps.notify, &first_job, event).await
}

/// A payments-table INSERT: a payment created in a final state is notified (see
/// `flows::notify`); an image that does not read, or a corrupt record (a shape no payment state
/// has: `PaymentRecord::from_row`, the same decoding the store uses), is logged and dropped.
fn first_job(record: &dynamodb::EventRecord, deps: &NotifyDeps) -> Option<NotifyJob> {
    let sequence = record.change.sequence_number.clone().unwrap_or_default();
    let payment = match mpp_aws::dynamo::payment_from_item(record.change.new_image.clone()) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(flow = OPERATION, error = %e, sequence = %sequence, "stream image unreadable: dropped");
            return None;
        }
    };
    job_for(&payment, &deps.default_url)
}
