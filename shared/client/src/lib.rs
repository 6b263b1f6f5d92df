//! # mpp-client
//!
//! Calls an Alipay+ API the way a partner does: signs the body with `Client-Id`, `Request-Time`
//! and an RSA256 `Signature`, sends it, and verifies the signature of the answer. `mpp call`,
//! the notify function (MPP → Alipay+), the acquirer client and the end-to-end tests all use it,
//! so there is one implementation of the outbound half of the protocol.
//!
//! It never imports the AWS SDK or `lambda_http`.

pub mod ask;
pub mod codes;
pub mod consult_unbinding;

use chrono::Utc;
use mpp_core::cause::Cause;
use mpp_core::deadline::Deadline;
use mpp_core::flows::notify::{DeliveryError, NotifyTransport};
use mpp_core::flows::wire_time;
use mpp_core::outbound::{Destinations, Refused};
use mpp_core::signature::{sign_headers, verify_response, SignatureError, Signer, SignerError};
use std::sync::Arc;
use std::time::Duration;

mod tls;
pub use tls::{http_client, http_client_builder};

/// Alipay+ waits 8 s for pay; our default client timeout matches the longest published wait.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(8);

/// A signed answer.
#[derive(Debug, Clone)]
pub struct SignedResponse {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: http::HeaderMap,
    /// Body bytes as received.
    pub body: Vec<u8>,
    /// Whether the answer's signature verified against the peer's key (`Ok`), or why not.
    pub signature: Result<(), SignatureError>,
}

impl SignedResponse {
    /// The body as JSON, if it is.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// Why a call produced no answer.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// Signing our request failed.
    #[error("signing the request: {0}")]
    Sign(#[from] SignerError),
    /// No answer: connection refused, timed out, reset. The outcome is unknown to the caller,
    /// who re-sends the same request.
    #[error("no answer: {0}")]
    Transport(String),
    /// The destination is not on the client's allow-list: nothing was sent.
    #[error("destination refused: {0}")]
    Refused(#[from] Refused),
}

impl CallError {
    /// Whether the request may have reached the peer (a timeout does; a refused connection
    /// does not). Either way the same request may be re-sent.
    pub fn is_timeout(&self) -> bool {
        matches!(self, CallError::Transport(t) if t.contains("timed out"))
    }
}

/// A client for one peer: our signer and client id, the peer's base URL and public key.
#[derive(Clone)]
pub struct SignedClient {
    http: reqwest::Client,
    /// Base URL, e.g. `http://127.0.0.1:8080`.
    pub base_url: String,
    /// Our `Client-Id`.
    pub client_id: String,
    signer: Arc<dyn Signer>,
    peer_key: Option<mpp_core::signature::RsaPublicKey>,
    timeout: Duration,
    destinations: Destinations,
}

impl SignedClient {
    /// A client with `timeout` per call. `peer_key` verifies the answers (None: not checked,
    /// reported as `SignatureError` on each answer). It may call any `http`/`https` URL until
    /// [`SignedClient::with_destinations`] narrows that.
    pub fn new(
        base_url: impl Into<String>,
        client_id: impl Into<String>,
        signer: Arc<dyn Signer>,
        peer_key: Option<mpp_core::signature::RsaPublicKey>,
        timeout: Duration,
    ) -> Result<SignedClient, CallError> {
        let http = http_client(timeout)?;
        Ok(SignedClient {
            http,
            base_url: base_url.into().trim_end_matches('/').to_string(),
            client_id: client_id.into(),
            signer,
            peer_key,
            timeout,
            destinations: Destinations::any(),
        })
    }

    /// The same client, allowed to call only `destinations` (checked before every call, with
    /// `mpp_core::outbound::Destinations::check`; a refused URL is never contacted). Every client
    /// a Lambda function builds must use this with the configured list
    /// (`mpp_aws::notify_settings::NotifySettings::destinations`); only commands whose user names
    /// the URL (`mpp call`, the hub, the acquirer) keep the default.
    pub fn with_destinations(mut self, destinations: Destinations) -> SignedClient {
        self.destinations = destinations;
        self
    }

    /// Signs `body` for `path` under the base URL and POSTs it; verifies the answer's signature.
    /// The signed path is the whole path of the URL called: a base URL with a path (an API
    /// Gateway stage, `https://…/live`) is part of what Alipay+ signs and the MPP sees.
    pub async fn call(&self, path: &str, body: &[u8]) -> Result<SignedResponse, CallError> {
        self.call_url(&format!("{}{}", self.base_url, path), body)
            .await
    }

    /// Signs `body` for the path of the absolute `url` and POSTs it there (notifyPayment goes to
    /// the pay request's `paymentNotifyUrl`, not to our base URL).
    pub async fn call_url(&self, url: &str, body: &[u8]) -> Result<SignedResponse, CallError> {
        self.destinations.check(url)?;
        let parsed =
            reqwest::Url::parse(url).map_err(|e| CallError::Transport(format!("bad URL: {e}")))?;
        let path = match parsed.query() {
            Some(q) => format!("{}?{q}", parsed.path()),
            None => parsed.path().to_string(),
        };
        let time = wire_time(Utc::now());
        let headers = sign_headers(
            self.signer.as_ref(),
            &self.client_id,
            "POST",
            &path,
            "Request-Time",
            &time,
            body,
        )
        .await?;
        self.send_to(parsed.as_str(), &path, body, headers).await
    }

    /// POSTs `body` with exactly these headers (tests use it to send tampered requests).
    pub async fn send(
        &self,
        path: &str,
        body: &[u8],
        headers: Vec<(String, String)>,
    ) -> Result<SignedResponse, CallError> {
        self.send_to(&format!("{}{}", self.base_url, path), path, body, headers)
            .await
    }

    async fn send_to(
        &self,
        url: &str,
        path: &str,
        body: &[u8],
        headers: Vec<(String, String)>,
    ) -> Result<SignedResponse, CallError> {
        self.destinations.check(url)?;
        // One attempt, bounded by the client's timeout and by the operation's deadline when a
        // caller runs under one (the notify function's invocation).
        let mut req = self
            .http
            .post(url)
            .timeout(Deadline::attempt_budget(self.timeout))
            .body(body.to_vec());
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| CallError::Transport(describe(&e)))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp
            .bytes()
            .await
            .map_err(|e| CallError::Transport(describe(&e)))?
            .to_vec();
        let signature = match &self.peer_key {
            Some(key) => verify_response(key, "POST", path, &headers, &body),
            None => Err(SignatureError::NoKeys),
        };
        Ok(SignedResponse {
            status,
            headers,
            body,
            signature,
        })
    }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        format!("timed out: {e}")
    } else {
        e.to_string()
    }
}

/// notifyPayment delivery: Alipay+ (or the acquirer's hub) must answer with a verified S.
#[async_trait::async_trait]
impl NotifyTransport for SignedClient {
    async fn send(&self, url: &str, body: &[u8]) -> Result<(), DeliveryError> {
        let answer = self.call_url(url, body).await.map_err(|e| match e {
            CallError::Refused(r) => DeliveryError::Refused(r),
            CallError::Sign(_) | CallError::Transport(_) => {
                DeliveryError::Transport(Cause::with_source("notifyPayment", e))
            }
        })?;
        if let Err(e) = &answer.signature {
            return Err(DeliveryError::BadSignature(e.to_string()));
        }
        let json = answer
            .json()
            .ok_or(DeliveryError::NotAnEnvelope(answer.status))?;
        let result = &json["result"];
        match (
            result["resultStatus"].as_str(),
            result["resultCode"].as_str(),
        ) {
            (Some("S"), Some(_)) => Ok(()),
            (Some(status), Some(code)) => Err(DeliveryError::NotAcknowledged {
                status: status.into(),
                code: code.into(),
            }),
            _ => Err(DeliveryError::NotAnEnvelope(answer.status)),
        }
    }
}
