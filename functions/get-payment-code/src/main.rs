//! Cold start: configuration, the signer (one AWS configuration for KMS), the signed client
//! towards Alipay+; then the Lambda runtime loop.

use get_payment_code::{handle, Deps, OPERATION};
use mpp_client::codes::{AlipayCodeIssuer, ATTEMPT_TIMEOUT};
use mpp_core::codes::CodesDeps;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    mpp_aws::lambda::try_run_function(
        OPERATION,
        // Each attempt waits ATTEMPT_TIMEOUT; the retry schedule (mpp_client::codes::RETRIES)
        // fits the function's 8 s timeout.
        |rt| {
            Ok(Deps {
                codes: CodesDeps {
                    issuer: Arc::new(AlipayCodeIssuer {
                        client: rt.alipay_client(ATTEMPT_TIMEOUT)?,
                    }),
                },
            })
        },
        |deps, request| async move { handle(&deps, request).await },
    )
    .await
}
