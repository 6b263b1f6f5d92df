//! Cold start: configuration, one AWS configuration for the DynamoDB, KMS and SQS clients, the
//! signed HTTP client; then the Lambda runtime loop.

use lambda_runtime::{run, service_fn, Error};
use mpp_aws::config::{ConfigError, Runtime};
use mpp_aws::sqs::{SqsDeadLetters, SqsRetryQueue};
use mpp_client::SignedClient;
use mpp_core::flows::notify::{NotifyDeps, ATTEMPT_TIMEOUT_SECS};
use notify::handler::{handle, Deps, OPERATION};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn var(name: &'static str) -> Result<String, ConfigError> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or(ConfigError::Missing(name))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    mpp_aws::lambda::init_tracing();
    let started = Instant::now();
    let rt = Runtime::from_env().await?;
    let sqs = aws_sdk_sqs::Client::new(
        &aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await,
    );
    // Alipay+'s answers are verified with its newest key.
    let alipay_key = rt.config.verifier.keys.values().next_back().cloned();
    let transport = SignedClient::new(
        "",
        rt.config.client_id.clone(),
        rt.edge.signer.clone(),
        alipay_key,
        Duration::from_secs(ATTEMPT_TIMEOUT_SECS),
    )?;
    let deps = Deps {
        notify: NotifyDeps {
            transport: Arc::new(transport),
            retries: Arc::new(SqsRetryQueue {
                client: sqs.clone(),
                url: var("NOTIFY_RETRY_QUEUE_URL")?,
            }),
            dead_letters: Arc::new(SqsDeadLetters {
                client: sqs,
                url: var("NOTIFY_DEAD_LETTER_QUEUE_URL")?,
            }),
            deliveries: rt.store.clone(),
            clock: rt.clock.clone(),
            default_url: var("ALIPAY_NOTIFY_URL")?,
        },
    };
    tracing::info!(
        flow = OPERATION,
        init_ms = started.elapsed().as_millis() as u64,
        "ready"
    );
    run(service_fn(|event| handle(&deps, event))).await
}
