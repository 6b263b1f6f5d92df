//! notifyPayment and authNotify (MPP → Alipay+): tell Alipay+ every final result and every
//! binding event, signed, retried on a bounded schedule, never lost, never sent again after an S.
//! The delivery ([`attempt`]: the delivery state, the transport, the retry queue, the dead
//! letters) is one piece for both; a [`NotifyJob`] names its [`Notification`]. What is notified
//! and where its state lives differ: payments in `crate::payments::notify_payment`, authNotify in
//! `crate::bindings::auth_notify`.
//!
//! notifyPayment's own part (which payments are notified, the body) is in
//! `crate::payments::notify_payment`; this module is the delivery both notifications share.

use crate::bindings::{AuthNotification, NotifyBody, TokenBody};
use crate::clock::Clock;
use crate::store::{DeliveryStore, StoreError};
use crate::token_mac::TokenMac;
use async_trait::async_trait;
use chrono::Duration;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Delays before each retry, modelled on Alipay+'s own schedule towards partners
/// (alipayplus-apis.md §8): 8 retries after the first attempt, about 12 minutes in all. authNotify
/// uses the same schedule (its retry policy is not published: `account-binding.md` §5).
pub const RETRY_DELAYS_SECS: [u32; 8] = [4, 4, 30, 60, 60, 60, 300, 300];

/// First attempt plus every retry.
pub const ATTEMPTS_MAX: u32 = RETRY_DELAYS_SECS.len() as u32 + 1;

/// The client timeout for one attempt (alipayplus-apis.md §1).
pub const ATTEMPT_TIMEOUT_SECS: u64 = 5;

/// The longest error text kept on the payment.
const ERROR_CHARS_MAX: usize = 200;

/// Which MPP → Alipay+ notification a job is: the delivery below is the same for both, only
/// the body's source and where the delivery state is kept differ.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Notification {
    /// notifyPayment (the default: jobs queued before authNotify existed carry no `operation`).
    #[default]
    #[serde(rename = "notifyPayment")]
    NotifyPayment,
    /// authNotify (`account-binding.md` §5), from the bindings outbox (`bindings::auth_notify`).
    #[serde(rename = "authNotify")]
    AuthNotify,
}

impl Notification {
    /// The Alipay+ operation name: the `flow` log field.
    pub fn name(self) -> &'static str {
        match self {
            Notification::NotifyPayment => crate::operations::NOTIFY_PAYMENT.name,
            Notification::AuthNotify => crate::operations::AUTH_NOTIFY.name,
        }
    }
}

/// One notification to deliver: where, its body (identical on every attempt), and which attempt
/// comes next. This is what the retry queue and the dead-letter queue carry — never a token: an
/// authNotify token body travels as its [`TokenBody`] and is rebuilt at each attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotifyJob {
    /// notifyPayment or authNotify.
    #[serde(default)]
    pub operation: Notification,
    /// What the delivery state is kept under: the payment's `paymentRequestId`, or the authNotify
    /// id (`authId.TYPE.version`). (Jobs queued before authNotify existed name it
    /// `paymentRequestId`.)
    #[serde(alias = "paymentRequestId")]
    pub key: String,
    /// Where to POST (`paymentNotifyUrl`, or the configured Alipay+ endpoint).
    pub url: String,
    /// The body, byte for byte (notifyPayment, authNotify's `AUTHCODE_CREATED`, and authNotify
    /// jobs queued before token bodies were derived); absent when `tokenBody` is there, so a
    /// reader that does not know `tokenBody` refuses the job rather than send an empty body.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub body: String,
    /// authNotify `TOKEN_CREATED` / `TOKEN_CANCELED`: what rebuilds the body at send time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_body: Option<TokenBody>,
    /// The attempt this job is (1 = first).
    pub attempt: u32,
}

impl NotifyJob {
    /// The bytes this attempt sends: `body`, or the token body rebuilt with the token key.
    pub async fn render(&self, mac: &dyn TokenMac) -> Result<String, crate::bindings::BodyError> {
        match &self.token_body {
            None => Ok(self.body.clone()),
            Some(t) => t.render(mac).await,
        }
    }
}

/// Why one attempt did not count as delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// No answer (refused, reset, timed out); the client's error is the source.
    #[error("no answer: {0}")]
    Transport(#[source] crate::cause::Cause),
    /// An answer whose signature did not verify: it may not be Alipay+'s.
    #[error("answer signature invalid: {0}")]
    BadSignature(String),
    /// A verified answer that is not `S`.
    #[error("answered {status} {code}")]
    NotAcknowledged {
        /// `F` or `U` (or whatever came).
        status: String,
        /// The code.
        code: String,
    },
    /// An answer that is not an Alipay+ envelope.
    #[error("answered HTTP {0} without an Alipay+ result")]
    NotAnEnvelope(u16),
    /// The body could not be built (the token key did not answer): nothing was sent; retried
    /// on the same schedule as a receiver that did not answer.
    #[error("not sent: {0}")]
    Body(#[source] crate::cause::Cause),
    /// The destination is not on the allow-list (`crate::outbound`): nothing was sent, and
    /// retrying cannot help until an operator changes the list.
    #[error("not sent: {0}")]
    Refused(#[from] crate::outbound::Refused),
}

/// Sends one signed notifyPayment and judges the signed answer (mpp-client implements it).
#[async_trait]
pub trait NotifyTransport: Send + Sync {
    /// `Ok` only for a verified answer with `resultStatus` S.
    async fn send(&self, url: &str, body: &[u8]) -> Result<(), DeliveryError>;
}

/// Where retries wait (SQS with DelaySeconds in AWS, a timer in `mpp serve`).
#[async_trait]
pub trait RetryQueue: Send + Sync {
    /// Hands `job` back after `delay_secs`.
    async fn schedule(&self, job: &NotifyJob, delay_secs: u32) -> Result<(), QueueError>;
}

/// Where notifications go after the last attempt, for an operator to replay.
#[async_trait]
pub trait DeadLetters: Send + Sync {
    /// Keeps `job` for an operator.
    async fn put(&self, job: &NotifyJob) -> Result<(), QueueError>;
}

/// A queue refused or did not answer; the caller reports the record as failed so the event
/// source delivers it again (nothing is lost).
#[derive(Debug, thiserror::Error)]
#[error("queue: {0}")]
pub struct QueueError(#[source] pub crate::cause::Cause);

/// What the notify function needs.
#[derive(Clone)]
pub struct NotifyDeps {
    /// Sends and verifies.
    pub transport: Arc<dyn NotifyTransport>,
    /// Delays retries.
    pub retries: Arc<dyn RetryQueue>,
    /// Keeps what could not be delivered.
    pub dead_letters: Arc<dyn DeadLetters>,
    /// Delivery bookkeeping on the payment.
    pub deliveries: Arc<dyn DeliveryStore>,
    /// Now.
    pub clock: Arc<dyn Clock>,
    /// Where notifications go when the payment has no `paymentNotifyUrl`.
    pub default_url: String,
    /// The token key authNotify's token bodies are rebuilt with (KMS `GenerateMac` in AWS;
    /// `UnconfiguredTokenMac` for notifyPayment, which never needs it).
    pub token_mac: Arc<dyn TokenMac>,
}

/// Why a job could not be handled; the event source retries it.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// Delivery state could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The retry or dead-letter queue failed.
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// What became of one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    /// Alipay+ acknowledged it.
    Delivered,
    /// Already acknowledged earlier: nothing sent.
    AlreadyDelivered,
    /// Failed; retry `attempt + 1` scheduled after `delay_secs`.
    Retrying {
        /// The delay.
        delay_secs: u32,
    },
    /// Failed for the last time; in the dead-letter queue.
    DeadLettered,
    /// Not sent: the destination is not allowed (`crate::outbound`). In the dead-letter queue.
    Refused,
}

/// The first job of an authNotify the outbox received, to `url` (Alipay+'s authNotify endpoint).
/// The job carries what the outbox item holds: an exact body, or a token body's [`TokenBody`].
pub fn auth_notify_job(notification: &AuthNotification, url: &str) -> NotifyJob {
    let (body, token_body) = match &notification.body {
        NotifyBody::Exact(body) => (body.clone(), None),
        NotifyBody::Derived(t) => (String::new(), Some(t.clone())),
    };
    NotifyJob {
        operation: Notification::AuthNotify,
        key: notification.notification_id.clone(),
        url: url.to_string(),
        body,
        token_body,
        attempt: 1,
    }
}

/// Makes one attempt of `job` and arranges what comes next. The same for every notification:
/// the delivery state is read first (never sent again after an S), the body is sent as queued
/// (or rebuilt from its [`TokenBody`]: the same bytes), and a failure — including a token key
/// that did not answer while rebuilding it — is retried on [`RETRY_DELAYS_SECS`] up to [`ATTEMPTS_MAX`], then dead-lettered.
pub async fn attempt(deps: &NotifyDeps, job: &NotifyJob) -> Result<JobOutcome, NotifyError> {
    let id = job.key.as_str();
    // Every line names what it is about: `payment_request_id` (notifyPayment) or
    // `notification_id` (authNotify); the other is left out.
    let (pid, nid) = match job.operation {
        Notification::NotifyPayment => (Some(id), None),
        Notification::AuthNotify => (None, Some(id)),
    };
    let flow = job.operation.name();
    if deps.deliveries.delivery(id).await?.delivered_at.is_some() {
        return Ok(JobOutcome::AlreadyDelivered);
    }
    let sent = match job.render(deps.token_mac.as_ref()).await {
        Ok(body) => deps.transport.send(&job.url, body.as_bytes()).await,
        Err(e) => Err(DeliveryError::Body(crate::cause::Cause::with_source(
            "building the authNotify body",
            e,
        ))),
    };
    let now = deps.clock.now();
    match sent {
        Ok(()) => {
            deps.deliveries
                .record_attempt(id, job.attempt, None, now)
                .await?;
            tracing::info!(
                flow,
                payment_request_id = pid,
                notification_id = nid,
                attempt = job.attempt,
                "delivered"
            );
            Ok(JobOutcome::Delivered)
        }
        Err(DeliveryError::Refused(refused)) => {
            // Never sent, and no retry can change that: kept for an operator (who fixes the
            // allow-list or the payment's URL and replays it), recorded on the payment, and
            // logged at error level for the `NotifyRefused` metric and its alarm.
            let error: String = DeliveryError::Refused(refused.clone())
                .to_string()
                .chars()
                .take(ERROR_CHARS_MAX)
                .collect();
            dead_letter(deps, job, &error, now).await?;
            tracing::error!(flow, payment_request_id = pid, notification_id = nid, attempt = job.attempt, error = %refused, "destination refused");
            Ok(JobOutcome::Refused)
        }
        Err(e) => {
            let error: String = crate::cause::chain(&e)
                .chars()
                .take(ERROR_CHARS_MAX)
                .collect();
            tracing::warn!(flow, payment_request_id = pid, notification_id = nid, attempt = job.attempt, error = %error, "not delivered");
            let next = usize::try_from(job.attempt)
                .ok()
                .and_then(|a| a.checked_sub(1))
                .and_then(|i| RETRY_DELAYS_SECS.get(i).copied());
            match next {
                Some(delay_secs) => {
                    let retry = NotifyJob {
                        attempt: job.attempt + 1,
                        ..job.clone()
                    };
                    deps.retries.schedule(&retry, delay_secs).await?;
                    deps.deliveries
                        .record_attempt(id, job.attempt, Some(&error), now)
                        .await?;
                    Ok(JobOutcome::Retrying { delay_secs })
                }
                None => {
                    dead_letter(deps, job, &error, now).await?;
                    tracing::error!(
                        flow,
                        payment_request_id = pid,
                        notification_id = nid,
                        attempts = job.attempt,
                        "dead-lettered"
                    );
                    Ok(JobOutcome::DeadLettered)
                }
            }
        }
    }
}

/// Hands `job` to the dead-letter queue and records its last attempt and the hand-over on the
/// payment (the queue first: a failure after it leaves the job kept and the record redelivered).
async fn dead_letter(
    deps: &NotifyDeps,
    job: &NotifyJob,
    error: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), NotifyError> {
    let id = job.key.as_str();
    deps.dead_letters.put(job).await?;
    deps.deliveries
        .record_attempt(id, job.attempt, Some(error), now)
        .await?;
    deps.deliveries.record_dead_letter(id, now).await?;
    Ok(())
}

/// Keeps a delay readable in logs and docs.
pub fn total_schedule() -> Duration {
    Duration::seconds(RETRY_DELAYS_SECS.iter().map(|&s| i64::from(s)).sum())
}
