//! notifyPayment from `mpp serve`: the memory store's change feed drives the same core code the
//! notify Lambda runs (`mpp_core::flows::notify`), with a timer as the retry queue and a JSON
//! Lines file as the dead-letter queue.

use mpp_client::SignedClient;
use mpp_core::cause::Cause;
use mpp_core::flows::notify::{
    attempt, job_for, DeadLetters, NotifyDeps, NotifyJob, QueueError, RetryQueue,
    ATTEMPT_TIMEOUT_SECS,
};
use mpp_core::store::PaymentRecord;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

/// Retries: a timer per job, then back into the worker's queue.
struct TimerQueue(UnboundedSender<NotifyJob>);

#[async_trait::async_trait]
impl RetryQueue for TimerQueue {
    async fn schedule(&self, job: &NotifyJob, delay_secs: u32) -> Result<(), QueueError> {
        let (tx, job) = (self.0.clone(), job.clone());
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(u64::from(delay_secs))).await;
            // The worker is gone only when the server is shutting down.
            let _ = tx.send(job);
        });
        Ok(())
    }
}

/// Dead letters: one JSON line per job in the state directory, for an operator to replay.
struct FileDeadLetters(PathBuf);

#[async_trait::async_trait]
impl DeadLetters for FileDeadLetters {
    async fn put(&self, job: &NotifyJob) -> Result<(), QueueError> {
        use std::io::Write as _;
        let line = serde_json::to_string(job)
            .map_err(|e| QueueError(Cause::with_source("serialising the job", e)))?;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.0)
            .map_err(|e| QueueError(Cause::with_source(self.0.display().to_string(), e)))?;
        writeln!(f, "{line}")
            .map_err(|e| QueueError(Cause::with_source("writing a dead letter", e)))
    }
}

/// What the worker needs besides the feed.
pub struct NotifierConfig {
    /// Our signer and client id, and Alipay+'s key for its answers.
    pub client: SignedClient,
    /// Delivery bookkeeping.
    pub deliveries: Arc<dyn mpp_core::store::DeliveryStore>,
    /// Now.
    pub clock: Arc<dyn mpp_core::clock::Clock>,
    /// Where payments without `paymentNotifyUrl` are notified (None: not notified).
    pub default_url: Option<String>,
    /// The dead-letter file.
    pub dead_letter_file: PathBuf,
}

/// Runs until the feed closes: first attempts for new payments, retries when their timers fire.
pub async fn run(config: NotifierConfig, mut feed: UnboundedReceiver<PaymentRecord>) {
    let (retry_tx, mut retry_rx) = unbounded_channel();
    let deps = Arc::new(NotifyDeps {
        transport: Arc::new(config.client),
        retries: Arc::new(TimerQueue(retry_tx)),
        dead_letters: Arc::new(FileDeadLetters(config.dead_letter_file)),
        deliveries: config.deliveries,
        clock: config.clock,
        default_url: config.default_url.clone().unwrap_or_default(),
    });
    loop {
        let job = tokio::select! {
            record = feed.recv() => match record {
                Some(record) => {
                    if record.notify_url.is_none() && config.default_url.is_none() {
                        continue;
                    }
                    match job_for(&record, &deps.default_url) {
                        Some(job) => job,
                        None => continue,
                    }
                }
                None => return,
            },
            Some(job) = retry_rx.recv() => job,
        };
        let deps = deps.clone();
        // Each attempt runs on its own so a slow receiver (5 s timeout) holds up no other.
        tokio::spawn(async move {
            if let Err(e) = attempt(&deps, &job).await {
                tracing::error!(flow = "notifyPayment", payment_request_id = %job.payment_request_id, error = %e, "notify job failed");
            }
        });
    }
}

/// The client timeout of one attempt.
pub fn attempt_timeout() -> Duration {
    Duration::from_secs(ATTEMPT_TIMEOUT_SECS)
}

/// How often `mpp serve` on DynamoDB Local reads the payments stream.
const STREAM_POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Follows the payments table's stream on DynamoDB Local and turns every INSERT into the same
/// feed the memory store gives: new payments, decoded exactly as the notify Lambda decodes them.
pub async fn follow_local_stream(
    endpoint: &str,
    table: &str,
) -> Result<UnboundedReceiver<PaymentRecord>, String> {
    use mpp_aws::dynamo::local_stream::{LocalStream, StartAt};
    let mut stream = LocalStream::open(endpoint, table, StartAt::Latest)
        .await
        .map_err(|e| e.to_string())?;
    let (tx, rx) = unbounded_channel();
    tokio::spawn(async move {
        loop {
            match stream.poll().await {
                Ok(records) => {
                    for record in records {
                        if record["eventName"].as_str() != Some("INSERT") {
                            continue;
                        }
                        match mpp_aws::dynamo::payment_from_image(&record["dynamodb"]["NewImage"]) {
                            Ok(payment) => {
                                if tx.send(payment).is_err() {
                                    return; // the notifier stopped: shutting down
                                }
                            }
                            Err(e) => tracing::error!(error = %e, "stream image unreadable"),
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "reading the payments stream failed; retrying")
                }
            }
            tokio::time::sleep(STREAM_POLL_INTERVAL).await;
        }
    });
    Ok(rx)
}
