//! SQS for notifyPayment: the retry queue (each retry a message with `DelaySeconds` from the
//! schedule) and the dead-letter queue an operator replays from.

use aws_sdk_sqs::Client;
use mpp_core::cause::Cause;
use mpp_core::flows::notify::{DeadLetters, NotifyJob, QueueError, RetryQueue};

/// SQS refuses delays above 15 minutes; the schedule's longest is 5.
const SQS_DELAY_SECS_MAX: u32 = 900;

fn body(job: &NotifyJob) -> Result<String, QueueError> {
    serde_json::to_string(job).map_err(|e| QueueError(Cause::with_source("serialising the job", e)))
}

/// Retries as delayed SQS messages; the notify function consumes the queue.
#[derive(Clone, Debug)]
pub struct SqsRetryQueue {
    /// The client.
    pub client: Client,
    /// The queue URL.
    pub url: String,
}

#[async_trait::async_trait]
impl RetryQueue for SqsRetryQueue {
    async fn schedule(&self, job: &NotifyJob, delay_secs: u32) -> Result<(), QueueError> {
        let delay = i32::try_from(delay_secs.min(SQS_DELAY_SECS_MAX)).unwrap_or(0);
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body(job)?)
            .delay_seconds(delay)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| QueueError(Cause::with_source("SendMessage to the retry queue", e)))
    }
}

/// The dead-letter queue: jobs that failed every attempt, kept for replay
/// (`aws sqs receive-message` and re-send to the retry queue with `attempt` reset).
#[derive(Clone, Debug)]
pub struct SqsDeadLetters {
    /// The client.
    pub client: Client,
    /// The queue URL.
    pub url: String,
}

#[async_trait::async_trait]
impl DeadLetters for SqsDeadLetters {
    async fn put(&self, job: &NotifyJob) -> Result<(), QueueError> {
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body(job)?)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                QueueError(Cause::with_source(
                    "SendMessage to the dead-letter queue",
                    e,
                ))
            })
    }
}
