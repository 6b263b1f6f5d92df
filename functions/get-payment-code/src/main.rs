//! Cold start: configuration, the signer (one AWS configuration for KMS), the signed client
//! towards Alipay+; then the Lambda runtime loop.

use get_payment_code::{handle, Deps, OPERATION};
use mpp_aws::config::{required_var, Runtime};
use mpp_client::codes::{AlipayCodeIssuer, ATTEMPT_TIMEOUT};
use mpp_client::SignedClient;
use mpp_core::flows::codes::CodesDeps;
use mpp_core::outbound::Destinations;
use std::sync::Arc;
use std::time::Instant;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    mpp_aws::lambda::init_tracing();
    let started = Instant::now();
    let rt = Runtime::from_env().await?;
    // Alipay+'s answers are verified with its newest key; each attempt waits ATTEMPT_TIMEOUT
    // (the retry budget, mpp_client::codes::DEADLINE, fits the function's 8 s timeout).
    let alipay_key = rt.config.verifier.keys.values().next_back().cloned();
    let api_url = required_var("ALIPAY_API_URL")?;
    // The one outbound check (mpp_core::outbound): https to Alipay+'s domain and the configured
    // API host only, as notify's default.
    let destinations = Destinations::alipay_default(Some(&api_url));
    let client = SignedClient::new(
        api_url,
        rt.config.client_id.clone(),
        rt.edge.signer.clone(),
        alipay_key,
        ATTEMPT_TIMEOUT,
    )?
    .with_destinations(destinations);
    let deps = Arc::new(Deps {
        codes: CodesDeps {
            issuer: Arc::new(AlipayCodeIssuer { client }),
        },
    });
    mpp_aws::lambda::ready(OPERATION, started.elapsed());
    lambda_http::run(lambda_http::service_fn(|request| {
        let deps = deps.clone();
        async move { handle(&deps, request).await }
    }))
    .await
}
