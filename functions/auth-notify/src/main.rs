//! Cold start: configuration, one AWS configuration for the DynamoDB, KMS and SQS clients, the
//! signed HTTP client (`mpp_aws::notify_lambda::deps`); then the Lambda runtime loop. Its
//! `ALIPAY_NOTIFY_URL` is Alipay+'s authNotify endpoint, and its queues are authNotify's own
//! (the template sets them). The token key (`TOKEN_MAC_KEY_ID`, a `KmsTokenMac` built once here
//! by `Runtime::from_env`) rebuilds TOKEN_CREATED / TOKEN_CANCELED bodies at send time: the
//! outbox and the queues hold no token.

use auth_notify::{handle, Deps, OPERATION};
use lambda_runtime::{run, service_fn, Error};
use mpp_aws::config::{NotifySettings, Runtime};
use mpp_aws::dynamo::AuthNotifyDeliveries;
use std::sync::Arc;
use std::time::Instant;

#[tokio::main]
async fn main() -> Result<(), Error> {
    mpp_aws::lambda::init_tracing();
    let started = Instant::now();
    let rt = Runtime::from_env().await?;
    let settings = NotifySettings::from_env()?;
    // authNotify's delivery state is kept on its outbox item in the bindings table.
    let outbox = Arc::new(AuthNotifyDeliveries(rt.store.as_ref().clone()));
    let notify = mpp_aws::notify_lambda::deps(&rt, settings, outbox, rt.token_mac.clone()).await?;
    let deps = Deps { notify };
    mpp_aws::lambda::ready(OPERATION, started.elapsed());
    run(service_fn(|event| handle(&deps, event))).await
}
