//! The acquirer's port to Alipay+: pay, inquiryPayment, cancelPayment. The adapter signs every
//! request and trusts only answers whose signature verifies and whose body parses; anything
//! else is "no answer", which the seed page handles exactly like silence.

use crate::messages::{AcqCancelRequest, AcqInquiryRequest};
use async_trait::async_trait;
use mpp_client::{SignedClient, SignedResponse};
use mpp_core::operations;
use mpp_core::payments::{CancelPaymentResponse, InquiryPaymentResponse};
use mpp_core::signature::Signer;
use mpp_core::wire::acquirer::AcqPayResponse;
use mpp_core::wire::{parse_request, to_body, Validate};
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Duration;

/// The API paths under the Alipay+ prefix, from the operation table.
pub const PAY_PATH: &str = operations::PAY.route;
/// inquiryPayment.
pub const INQUIRY_PATH: &str = operations::INQUIRY_PAYMENT.route;
/// cancelPayment.
pub const CANCEL_PATH: &str = operations::CANCEL_PAYMENT.route;
/// notifyPayment.
pub const NOTIFY_PATH: &str = operations::NOTIFY_PAYMENT.route;
/// Where Alipay+ serves its APIs.
pub const DEFAULT_PATH_PREFIX: &str = operations::PATH_PREFIX;

/// What one call brought back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply<T> {
    /// A signed, verified, well-formed answer.
    Answer(T),
    /// Nothing usable: no answer, a timeout, an unverifiable signature or an unreadable body.
    NoAnswer(String),
}

/// Calls Alipay+.
#[async_trait]
pub trait Gateway: Send + Sync {
    /// Sends the pay body exactly as given (a re-send is the same bytes).
    async fn pay(&self, body: &[u8]) -> Reply<AcqPayResponse>;
    /// Asks what became of a payment.
    async fn inquire(&self, req: &AcqInquiryRequest) -> Reply<InquiryPaymentResponse>;
    /// Closes a payment.
    async fn cancel(&self, req: &AcqCancelRequest) -> Reply<CancelPaymentResponse>;
}

/// Why the gateway could not be built.
#[derive(Debug, thiserror::Error)]
#[error("building the Alipay+ client: {0}")]
pub struct GatewayError(#[from] mpp_client::CallError);

/// The real gateway: signed HTTP to Alipay+ (or `mpp hub`).
#[derive(Clone)]
pub struct HttpGateway {
    client: SignedClient,
    prefix: String,
}

impl HttpGateway {
    /// A gateway to `base_url` + `path_prefix`, signing as `client_id`, verifying answers with
    /// Alipay+'s key, giving up on one call after `timeout`.
    pub fn new(
        base_url: &str,
        path_prefix: &str,
        client_id: &str,
        signer: Arc<dyn Signer>,
        alipay_key: mpp_core::signature::RsaPublicKey,
        timeout: Duration,
    ) -> Result<HttpGateway, GatewayError> {
        let client = SignedClient::new(base_url, client_id, signer, Some(alipay_key), timeout)?;
        Ok(HttpGateway {
            client,
            prefix: path_prefix.trim_end_matches('/').to_string(),
        })
    }

    async fn call<T: DeserializeOwned + Validate>(&self, route: &str, body: &[u8]) -> Reply<T> {
        let path = format!("{}{}", self.prefix, route);
        match self.client.call(&path, body).await {
            Ok(answer) => decode(answer),
            Err(e) => Reply::NoAnswer(e.to_string()),
        }
    }
}

/// Judges a signed answer: verified and well-formed, or "no answer" with the reason.
pub fn decode<T: DeserializeOwned + Validate>(answer: SignedResponse) -> Reply<T> {
    if let Err(e) = answer.signature {
        return Reply::NoAnswer(format!("HTTP {} answer not trusted: {e}", answer.status));
    }
    match parse_request::<T>(&answer.body) {
        Ok(v) => Reply::Answer(v),
        Err(e) => Reply::NoAnswer(format!("HTTP {} answer unreadable: {e}", answer.status)),
    }
}

#[async_trait]
impl Gateway for HttpGateway {
    async fn pay(&self, body: &[u8]) -> Reply<AcqPayResponse> {
        self.call(PAY_PATH, body).await
    }

    async fn inquire(&self, req: &AcqInquiryRequest) -> Reply<InquiryPaymentResponse> {
        self.call(INQUIRY_PATH, &to_body(req)).await
    }

    async fn cancel(&self, req: &AcqCancelRequest) -> Reply<CancelPaymentResponse> {
        self.call(CANCEL_PATH, &to_body(req)).await
    }
}
