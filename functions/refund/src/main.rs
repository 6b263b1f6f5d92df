//! Cold start: configuration, one AWS configuration for the DynamoDB and KMS clients, the
//! handler's dependencies; then the Lambda runtime loop.

use lambda_http::{run, service_fn, Error};
use mpp_aws::config::Runtime;
use mpp_core::flows::refund::RefundDeps;
use refund::handler::{handle, Deps};
use std::time::Instant;

#[tokio::main]
async fn main() -> Result<(), Error> {
    mpp_aws::lambda::init_tracing();
    let started = Instant::now();
    let rt = Runtime::from_env().await?;
    let deps = Deps {
        edge: rt.edge.clone(),
        refund: RefundDeps {
            store: rt.store.clone(),
            payments: rt.store.clone(),
            clock: rt.clock.clone(),
        },
    };
    tracing::info!(
        flow = refund::handler::OPERATION,
        init_ms = started.elapsed().as_millis() as u64,
        "ready"
    );
    run(service_fn(|request| handle(&deps, request))).await
}
