//! Cold start: configuration, one AWS configuration for the DynamoDB, KMS and SQS clients, the
//! signed HTTP client (`mpp_aws::notify_lambda::deps`); then the Lambda runtime loop.

use lambda_runtime::{run, service_fn, Error};
use mpp_aws::config::{NotifySettings, Runtime};
use notify_payment::{handle, Deps, OPERATION};
use std::sync::Arc;
use std::time::Instant;

#[tokio::main]
async fn main() -> Result<(), Error> {
    mpp_aws::lambda::init_tracing();
    let started = Instant::now();
    let rt = Runtime::from_env().await?;
    let settings = NotifySettings::from_env()?;
    // notifyPayment's delivery state is kept on the payment.
    // notifyPayment bodies hold no token: no token key is used.
    let no_key = Arc::new(mpp_core::token_mac::UnconfiguredTokenMac);
    let notify = mpp_aws::notify_lambda::deps(&rt, settings, rt.store.clone(), no_key).await?;
    let deps = Deps { notify };
    mpp_aws::lambda::ready(OPERATION, started.elapsed());
    run(service_fn(|event| handle(&deps, event))).await
}
