//! Cold start: configuration, the store, the token key and the signer (one AWS configuration),
//! the signed client towards Alipay+; then the Lambda runtime loop.

use consult_unbinding::{handle, Deps, OPERATION};
use mpp_aws::config::{required_var, Runtime};
use mpp_client::consult_unbinding::{AlipayUnbindingConsultant, ATTEMPT_TIMEOUT};
use mpp_client::SignedClient;
use mpp_core::flows::unbinding::UnbindingDeps;
use mpp_core::outbound::Destinations;
use std::sync::Arc;
use std::time::Instant;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    mpp_aws::lambda::init_tracing();
    let started = Instant::now();
    let rt = Runtime::from_env().await?;
    // Alipay+'s answers are verified with its newest key; each attempt waits ATTEMPT_TIMEOUT
    // (the retry budget, mpp_client::consult_unbinding::DEADLINE, fits the 8 s timeout).
    let alipay_key = rt.config.verifier.keys.values().next_back().cloned();
    let api_url = required_var("ALIPAY_API_URL")?;
    // The one outbound check (mpp_core::outbound): https to Alipay+'s domain and the configured
    // API host only.
    let destinations = Destinations::alipay_default(Some(&api_url));
    let client = SignedClient::new(
        api_url,
        rt.config.client_id.clone(),
        rt.edge.signer.clone(),
        alipay_key,
        ATTEMPT_TIMEOUT,
    )?
    .with_destinations(destinations);
    let wiring = rt.wiring();
    let deps = Arc::new(Deps {
        unbinding: UnbindingDeps {
            store: wiring.ports.unbinding.clone(),
            consultant: Arc::new(AlipayUnbindingConsultant { client }),
            mac: wiring.token_mac.clone(),
            clock: wiring.clock.clone(),
        },
    });
    mpp_aws::lambda::ready(OPERATION, started.elapsed());
    lambda_http::run(lambda_http::service_fn(|request| {
        let deps = deps.clone();
        async move { handle(&deps, request).await }
    }))
    .await
}
