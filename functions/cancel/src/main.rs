//! Cold start: configuration, one AWS configuration for the DynamoDB and KMS clients, the
//! handler's dependencies; then the Lambda runtime loop.

use cancel::handler::{handle, Deps};
use lambda_http::{run, service_fn, Error};
use mpp_aws::config::Runtime;
use mpp_core::flows::cancel::CancelDeps;
use std::time::Instant;

#[tokio::main]
async fn main() -> Result<(), Error> {
    mpp_aws::lambda::init_tracing();
    let started = Instant::now();
    let rt = Runtime::from_env().await?;
    let deps = Deps {
        edge: rt.edge.clone(),
        cancel: CancelDeps {
            store: rt.store.clone(),
            payments: rt.store.clone(),
            clock: rt.clock.clone(),
            cutoff: rt.config.cancel_cutoff,
        },
    };
    tracing::info!(
        flow = cancel::handler::OPERATION,
        init_ms = started.elapsed().as_millis() as u64,
        "ready"
    );
    run(service_fn(|request| handle(&deps, request))).await
}
