//! Cold start: configuration and the AWS clients once (one AWS configuration for DynamoDB and
//! KMS), the handler's dependencies, then the Lambda runtime loop.

use cancel::handler::{handle, Deps, OPERATION};
use mpp_core::flows::cancel::CancelDeps;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    mpp_aws::lambda::run_function(
        OPERATION,
        |rt| Deps {
            edge: rt.edge.clone(),
            cancel: CancelDeps {
                store: rt.store.clone(),
                clock: rt.clock.clone(),
                cutoff: rt.config.cancel_cutoff,
            },
        },
        |deps, request| async move { handle(&deps, request).await },
    )
    .await
}
