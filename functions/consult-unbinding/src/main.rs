//! Cold start: configuration, the store, the token key and the signer (one AWS configuration),
//! the signed client towards Alipay+; then the Lambda runtime loop.

use consult_unbinding::{handle, Deps, OPERATION};
use mpp_client::consult_unbinding::{AlipayUnbindingConsultant, ATTEMPT_TIMEOUT};
use mpp_core::bindings::UnbindingDeps;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    mpp_aws::lambda::try_run_function(
        OPERATION,
        // Each attempt waits ATTEMPT_TIMEOUT; the retry schedule
        // (mpp_client::consult_unbinding::RETRIES) fits the function's 8 s timeout.
        |rt| {
            let wiring = rt.wiring();
            Ok(Deps {
                unbinding: UnbindingDeps {
                    store: wiring.ports.bindings.unbinding.clone(),
                    consultant: Arc::new(AlipayUnbindingConsultant {
                        client: rt.alipay_client(ATTEMPT_TIMEOUT)?,
                    }),
                    mac: wiring.token_mac.clone(),
                    clock: wiring.clock.clone(),
                },
            })
        },
        |deps, request| async move { handle(&deps, request).await },
    )
    .await
}
