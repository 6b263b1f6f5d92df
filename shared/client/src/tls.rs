//! The one TLS stack for outbound HTTP: rustls on AWS-LC (`aws-lc-rs`, the provider the AWS SDK's
//! HTTPS client uses) with the system's root certificates (the SDK's trust store too). Every
//! `reqwest::Client` in the workspace is built here, so no second TLS library or crypto provider
//! is linked, and none is picked by accident: reqwest without a provider feature would otherwise
//! look for a process-wide default and panic without one.

use crate::CallError;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The client configuration, built once per process: loading the system's roots reads and
/// parses the certificate bundle (milliseconds), which a cold start should pay once.
fn tls_config() -> Result<rustls::ClientConfig, CallError> {
    static CONFIG: OnceLock<Result<rustls::ClientConfig, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
            let mut roots = rustls::RootCertStore::empty();
            // Unreadable certificates are skipped (as the SDK's client does); with no roots at
            // all, plain-HTTP calls (loopback) still work and HTTPS calls fail with a TLS error.
            let native = rustls_native_certs::load_native_certs();
            let (_added, _ignored) = roots.add_parsable_certificates(native.certs);
            rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map(|b| b.with_root_certificates(roots).with_no_client_auth())
                .map_err(|e| format!("TLS configuration: {e}"))
        })
        .clone()
        .map_err(CallError::Transport)
}

/// A `reqwest` builder on the workspace's TLS stack; add timeouts and build.
pub fn http_client_builder() -> Result<reqwest::ClientBuilder, CallError> {
    Ok(reqwest::Client::builder().use_preconfigured_tls(tls_config()?))
}

/// A `reqwest` client on the workspace's TLS stack with `timeout` per request.
pub fn http_client(timeout: Duration) -> Result<reqwest::Client, CallError> {
    http_client_builder()?
        .timeout(timeout)
        .build()
        .map_err(|e| CallError::Transport(e.to_string()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    #[test]
    fn a_client_builds_on_aws_lc_without_a_process_default_provider() {
        assert!(rustls::crypto::CryptoProvider::get_default().is_none());
        super::http_client(std::time::Duration::from_secs(1)).unwrap();
        // Built twice from the one configuration, and still no global provider installed.
        super::http_client(std::time::Duration::from_secs(1)).unwrap();
        assert!(rustls::crypto::CryptoProvider::get_default().is_none());
    }
}
