//! The signer port and its in-process adapter.

use super::content::content_to_sign;
use super::header::signature_header_value;
use super::header_names;
use super::keys::{load_private_key, KeyError, RsaPrivateKey};
use aws_lc_rs::signature::RSA_PKCS1_SHA256;

/// The `Content-Type` of every Alipay+ message.
pub const CONTENT_TYPE_JSON: &str = "application/json; charset=UTF-8";

/// The boxed cause of a signing failure.
type Cause = Box<dyn std::error::Error + Send + Sync>;

/// Why signing failed, and whether trying again can help.
#[derive(Debug, thiserror::Error)]
pub enum SignerError {
    /// The signing service is throttling us (e.g. the KMS request quota): a retry after a
    /// back-off can help.
    #[error("the signing service is throttling requests; a retry after a back-off can help")]
    Throttled(#[source] Cause),
    /// The signing service could not be reached or failed internally: a retry can help.
    #[error("the signing service is unavailable; a retry can help")]
    Unavailable(#[source] Cause),
    /// The key cannot be used (disabled, deleted, wrong usage, access denied): a retry cannot
    /// help until an operator acts.
    #[error("the signing key cannot be used; a retry cannot help until the key is fixed")]
    KeyUnusable(#[source] Cause),
    /// The request itself is wrong (e.g. a message too long for the chosen mode) or the
    /// signature could not be computed: a retry cannot help.
    #[error("signing failed: {reason}; a retry cannot help")]
    Rejected {
        /// What was wrong.
        reason: &'static str,
        /// The underlying error, if any.
        #[source]
        source: Option<Cause>,
    },
}

impl SignerError {
    /// Whether sending the same signing request again can succeed.
    pub fn retry_can_help(&self) -> bool {
        match self {
            SignerError::Throttled(_) | SignerError::Unavailable(_) => true,
            SignerError::KeyUnusable(_) | SignerError::Rejected { .. } => false,
        }
    }
}

/// Signs message content with RSA PKCS#1 v1.5 SHA-256 (Alipay+ `RSA256`).
#[async_trait::async_trait]
pub trait Signer: Send + Sync {
    /// The `keyVersion` our partner knows this key by.
    fn key_version(&self) -> u32;

    /// The raw signature of `content` (as built by [`content_to_sign`]).
    async fn sign(&self, content: &[u8]) -> Result<Vec<u8>, SignerError>;
}

/// A private key held in process memory: from a PEM file (development, tests) or decrypted once
/// from a KMS envelope.
///
/// Signs with AWS-LC (`aws-lc-rs`): a constant-time private-key operation with RSA blinding,
/// about 0.25 ms of CPU for a 2048-bit key. PKCS#1 v1.5 is deterministic, so the bytes are the
/// same as any other correct implementation's (`tests/signature_vectors.rs`).
pub struct LocalSigner {
    key: RsaPrivateKey,
    key_version: u32,
}

impl std::fmt::Debug for LocalSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalSigner")
            .field("key_version", &self.key_version)
            .finish_non_exhaustive()
    }
}

impl LocalSigner {
    /// Wraps a private key known to our partner as `key_version`.
    pub fn new(key: RsaPrivateKey, key_version: u32) -> LocalSigner {
        LocalSigner { key, key_version }
    }

    /// Loads a PKCS#1 or PKCS#8 PEM (or bare Base64 DER) private key.
    pub fn from_pem(text: &str, key_version: u32) -> Result<LocalSigner, KeyError> {
        Ok(LocalSigner::new(load_private_key(text)?, key_version))
    }

    /// Signs now, on this thread (about a quarter of a millisecond for a 2048-bit key; see
    /// `docs/signing.md`). [`Signer::sign`] calls this.
    pub fn sign_sync(&self, content: &[u8]) -> Result<Vec<u8>, SignerError> {
        let pair = self.key.pair();
        let mut signature = vec![0; pair.public_modulus_len()];
        // AWS-LC ignores the RNG argument (it blinds with its own); PKCS#1 v1.5 needs none.
        pair.sign(
            &RSA_PKCS1_SHA256,
            &aws_lc_rs::rand::SystemRandom::new(),
            content,
            &mut signature,
        )
        .map_err(|e| SignerError::Rejected {
            reason: "the RSA private-key operation failed",
            source: Some(Box::new(e)),
        })?;
        Ok(signature)
    }
}

#[async_trait::async_trait]
impl Signer for LocalSigner {
    fn key_version(&self) -> u32 {
        self.key_version
    }

    async fn sign(&self, content: &[u8]) -> Result<Vec<u8>, SignerError> {
        // About a quarter of a millisecond of CPU: cheaper than a hop to the blocking pool.
        self.sign_sync(content)
    }
}

/// Signs a message and returns the headers to send with it: `Client-Id`, the time header
/// (`Response-Time` for our responses, `Request-Time` for our requests), `Signature` and
/// `Content-Type`.
///
/// `method` and `path_and_query` are the request's (also when signing a response), `time` and
/// `body` are exactly what goes on the wire.
pub async fn sign_headers(
    signer: &dyn Signer,
    client_id: &str,
    method: &str,
    path_and_query: &str,
    time_header_name: &str,
    time: &str,
    body: &[u8],
) -> Result<Vec<(String, String)>, SignerError> {
    let content = content_to_sign(method, path_and_query, client_id, time, body);
    let raw = signer.sign(&content).await?;
    Ok(vec![
        (header_names::CLIENT_ID.to_string(), client_id.to_string()),
        (time_header_name.to_string(), time.to_string()),
        (
            header_names::SIGNATURE.to_string(),
            signature_header_value(signer.key_version(), &raw),
        ),
        (
            header_names::CONTENT_TYPE.to_string(),
            CONTENT_TYPE_JSON.to_string(),
        ),
    ])
}
