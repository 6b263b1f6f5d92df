//! Cold start: configuration and the AWS clients once (one AWS configuration for DynamoDB and
//! KMS), the handler's dependencies, then the Lambda runtime loop.

use inquiry_payment::{handle, Deps, OPERATION};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    mpp_aws::lambda::run_function(
        OPERATION,
        |rt| Deps::from_wiring(&rt.wiring()),
        |deps, request| async move { handle(&deps, request).await },
    )
    .await
}
