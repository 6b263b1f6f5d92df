//! The authNotify Lambda function (MPP → Alipay+, `account-binding.md` §5): every notification a
//! binding transition wrote to the outbox (`notify#` items of the bindings table) is delivered
//! from the table's DynamoDB Stream (first attempts) and the SQS retry queue (later attempts) by
//! the same machinery as notifyPayment (`mpp_aws::notify_lambda`, `mpp_core::flows::notify`).
//!
//! Event in (a bindings-stream batch or an SQS batch), authNotify out, failed items reported:
//! the shared notify machinery (`mpp_aws::notify_lambda`) with authNotify's first job.

use aws_lambda_events::event::dynamodb;
use aws_lambda_events::event::sqs::SqsBatchResponse;
use lambda_runtime::LambdaEvent;
use mpp_core::flows::notify::{auth_notify_job, NotifyDeps, NotifyJob};
use std::convert::Infallible;

pub use mpp_aws::notify_lambda::NotifyEvent;

/// The Alipay+ operation name, from the operation table (`mpp_core::operations`): the `flow`
/// log field and the metric dimension; the crate, binary and SAM resource are the table's
/// `function` (checked by `tests/tests/infra.rs`).
pub const OPERATION: &str = mpp_core::operations::AUTH_NOTIFY.name;

/// Built once per cold start.
#[derive(Clone)]
pub struct Deps {
    /// Transport, queues, the outbox's delivery state, clock, Alipay+'s authNotify URL.
    pub notify: NotifyDeps,
}

/// Handles one batch (see `mpp_aws::notify_lambda::handle`).
pub async fn handle(
    deps: &Deps,
    event: LambdaEvent<NotifyEvent>,
) -> Result<SqsBatchResponse, Infallible> {
    mpp_aws::notify_lambda::handle(OPERATION, &deps.notify, &first_job, event).await
}

/// A bindings-table INSERT: an outbox item is a notification to send (its exact body, or what
/// rebuilds a token body at send time, as the transition wrote it); any other binding item is not ours (the event filter keeps them out in
/// AWS); an outbox item that does not read is logged and dropped.
fn first_job(record: &dynamodb::EventRecord, deps: &NotifyDeps) -> Option<NotifyJob> {
    let sequence = record.change.sequence_number.clone().unwrap_or_default();
    match mpp_aws::dynamo::auth_notification_from_item(record.change.new_image.clone()) {
        Ok(Some(n)) => Some(auth_notify_job(&n, &deps.default_url)),
        Ok(None) => None,
        Err(e) => {
            tracing::error!(flow = OPERATION, error = %e, sequence = %sequence, "outbox item unreadable: dropped");
            None
        }
    }
}
