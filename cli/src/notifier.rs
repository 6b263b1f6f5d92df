//! notifyPayment and authNotify from `mpp serve`: the memory store's change feeds (or DynamoDB
//! Local's streams) drive the same core code the notify Lambdas run (`mpp_core::flows::notify`),
//! with a timer as the retry queue and a JSON Lines file as the dead-letter queue.

use mpp_client::SignedClient;
use mpp_core::bindings::AuthNotification;
use mpp_core::cause::Cause;
use mpp_core::flows::notify::{
    attempt, auth_notify_job, DeadLetters, NotifyDeps, NotifyJob, QueueError, RetryQueue,
    ATTEMPT_TIMEOUT_SECS,
};
use mpp_core::payments::{job_for, PaymentRecord};
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
    /// Delivery bookkeeping (the payments' for notifyPayment, the outbox's for authNotify).
    pub deliveries: Arc<dyn mpp_core::store::DeliveryStore>,
    /// Now.
    pub clock: Arc<dyn mpp_core::clock::Clock>,
    /// The dead-letter file.
    pub dead_letter_file: PathBuf,
    /// The token key authNotify's token bodies are rebuilt with at send time.
    pub token_mac: Arc<dyn mpp_core::token_mac::TokenMac>,
}

/// Turns a change feed into jobs (`job` decides what needs a notification, and where to).
pub fn jobs<T: Send + 'static>(
    mut feed: UnboundedReceiver<T>,
    job: impl Fn(T) -> Option<NotifyJob> + Send + 'static,
) -> UnboundedReceiver<NotifyJob> {
    let (tx, rx) = unbounded_channel();
    tokio::spawn(async move {
        while let Some(item) = feed.recv().await {
            if let Some(j) = job(item) {
                if tx.send(j).is_err() {
                    return; // the worker stopped: shutting down
                }
            }
        }
    });
    rx
}

/// notifyPayment's jobs: a new final payment, to its `paymentNotifyUrl` or `default_url`
/// (neither: not notified).
pub fn payment_jobs(
    feed: UnboundedReceiver<PaymentRecord>,
    default_url: Option<String>,
) -> UnboundedReceiver<NotifyJob> {
    jobs(feed, move |record: PaymentRecord| {
        let notify_url = record.order().and_then(|o| o.notify_url.as_ref());
        if notify_url.is_none() && default_url.is_none() {
            return None;
        }
        job_for(&record, default_url.as_deref().unwrap_or_default())
    })
}

/// authNotify's jobs: every outbox item, to `url`.
pub fn auth_notify_jobs(
    feed: UnboundedReceiver<AuthNotification>,
    url: String,
) -> UnboundedReceiver<NotifyJob> {
    jobs(feed, move |n: AuthNotification| {
        Some(auth_notify_job(&n, &url))
    })
}

/// Runs until the feed closes: first attempts as jobs arrive, retries when their timers fire.
/// The same worker delivers notifyPayment and authNotify (one each in `mpp serve`).
pub async fn run(config: NotifierConfig, mut feed: UnboundedReceiver<NotifyJob>) {
    let (retry_tx, mut retry_rx) = unbounded_channel();
    let deps = Arc::new(NotifyDeps {
        transport: Arc::new(config.client),
        retries: Arc::new(TimerQueue(retry_tx)),
        dead_letters: Arc::new(FileDeadLetters(config.dead_letter_file)),
        deliveries: config.deliveries,
        clock: config.clock,
        default_url: String::new(),
        token_mac: config.token_mac,
    });
    loop {
        let job = tokio::select! {
            job = feed.recv() => match job {
                Some(job) => job,
                None => return,
            },
            Some(job) = retry_rx.recv() => job,
        };
        let deps = deps.clone();
        // Each attempt runs on its own so a slow receiver (5 s timeout) holds up no other.
        tokio::spawn(async move {
            if let Err(e) = attempt(&deps, &job).await {
                tracing::error!(flow = job.operation.name(), key = %job.key, error = %e, "notify job failed");
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

/// Follows a table's stream on DynamoDB Local and turns every INSERT that `decode` reads as a
/// `T` into the same feed the memory store gives, decoded exactly as the Lambda decodes it:
/// payments (`mpp_aws::dynamo::payment_from_image`) and authNotify outbox items
/// (`mpp_aws::dynamo::auth_notification_from_image`; other binding items are `None`).
pub async fn follow_local_stream<T: Send + 'static>(
    endpoint: &str,
    table: &str,
    decode: fn(&serde_json::Value) -> Result<Option<T>, mpp_core::store::StoreError>,
) -> Result<UnboundedReceiver<T>, String> {
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
                        match decode(&record["dynamodb"]["NewImage"]) {
                            Ok(Some(item)) => {
                                if tx.send(item).is_err() {
                                    return; // the notifier stopped: shutting down
                                }
                            }
                            Ok(None) => {}
                            Err(e) => tracing::error!(error = %e, "stream image unreadable"),
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "reading a table's stream failed; retrying")
                }
            }
            tokio::time::sleep(STREAM_POLL_INTERVAL).await;
        }
    });
    Ok(rx)
}

/// A payments-table image as a feed item (every payment INSERT is one).
pub fn payment_image(
    image: &serde_json::Value,
) -> Result<Option<PaymentRecord>, mpp_core::store::StoreError> {
    mpp_aws::dynamo::payment_from_image(image).map(Some)
}
