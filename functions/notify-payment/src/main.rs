//! Cold start: configuration, one AWS configuration for the DynamoDB, KMS and SQS clients, the
//! signed HTTP client; then the Lambda runtime loop.

use lambda_runtime::{run, service_fn, Error};
use mpp_aws::config::{NotifySettings, Runtime};
use mpp_aws::sqs::{SqsDeadLetters, SqsRetryQueue};
use mpp_client::SignedClient;
use mpp_core::flows::notify::{NotifyDeps, ATTEMPT_TIMEOUT_SECS};
use notify_payment::handler::{handle, Deps, OPERATION};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() -> Result<(), Error> {
    mpp_aws::lambda::init_tracing();
    let started = Instant::now();
    let rt = Runtime::from_env().await?;
    let settings = NotifySettings::from_env()?;
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
    )?
    .with_destinations(settings.destinations.clone());
    let deps = Deps {
        notify: NotifyDeps {
            transport: Arc::new(transport),
            retries: Arc::new(SqsRetryQueue {
                client: sqs.clone(),
                url: settings.retry_queue_url,
            }),
            dead_letters: Arc::new(SqsDeadLetters {
                client: sqs,
                url: settings.dead_letter_queue_url,
            }),
            deliveries: rt.store.clone(),
            clock: rt.clock.clone(),
            default_url: settings.default_url,
        },
    };
    mpp_aws::lambda::ready(OPERATION, started.elapsed());
    run(service_fn(|event| handle(&deps, event))).await
}
