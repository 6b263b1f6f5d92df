//! The signed client of the functions that ask Alipay+ and wait for the answer
//! (get-payment-code, consult-unbinding): read from the environment once per cold start.

use crate::config::{required_var, Runtime};

impl Runtime {
    /// The signed client of a function that asks Alipay+ and waits for the answer
    /// (getPaymentCode, consultUnbinding): based at `ALIPAY_API_URL`, signing with our key,
    /// verifying with Alipay+'s newest one, each attempt waiting `attempt_timeout` (the caller's
    /// retry schedule, `mpp_client::ask::Retries`, fits its function's timeout). The one outbound
    /// check (`mpp_core::outbound`): https to Alipay+'s domain and the configured API host only.
    pub fn alipay_client(
        &self,
        attempt_timeout: std::time::Duration,
    ) -> Result<mpp_client::SignedClient, lambda_http::Error> {
        let alipay_key = self.config.verifier.keys.values().next_back().cloned();
        let api_url = required_var("ALIPAY_API_URL")?;
        let destinations = mpp_core::outbound::Destinations::alipay_default(Some(&api_url));
        Ok(mpp_client::SignedClient::new(
            api_url,
            self.config.client_id.clone(),
            self.edge.signer.clone(),
            alipay_key,
            attempt_timeout,
        )?
        .with_destinations(destinations))
    }
}
