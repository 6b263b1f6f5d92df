//! The KMS signers: `kms` (the private key never leaves KMS; one `Sign` call per message) and
//! `kms-envelope` (the private key stored encrypted under a KMS key, decrypted once per cold
//! start, then signed locally). The trade-off between them is in `docs/signing.md`.

use aws_config::timeout::TimeoutConfig;
use aws_config::BehaviorVersion;
#[cfg(feature = "local-dev")]
use aws_credential_types::Credentials;
use aws_sdk_kms::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{MessageType, SigningAlgorithmSpec};
use aws_sdk_kms::Client;
use mpp_core::signature::{
    load_private_key, load_private_key_der, KeyError, LocalSigner, Signer, SignerError,
};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// The largest message KMS `Sign` takes as `RAW`; longer content is hashed here and sent as
/// `DIGEST`.
pub const KMS_RAW_MESSAGE_BYTES_MAX: usize = 4096;

/// The encryption context every signing-key envelope is bound to: a ciphertext made for anything
/// else does not decrypt as a signing key, and IAM can require it
/// (`kms:EncryptionContext:purpose`).
pub const ENVELOPE_CONTEXT: (&str, &str) = ("purpose", "mpp-alipayplus-signing-key");

/// The region used with an endpoint override (moto ignores it; the SDK needs one).
#[cfg(feature = "local-dev")]
const LOCAL_REGION: &str = "us-east-1";

/// One attempt at a KMS call: KMS answers in milliseconds, so a slow attempt is better retried.
const KMS_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);

/// All attempts of one KMS call (the SDK's standard retry makes up to 3): well inside the 5 to
/// 8 s Alipay+ waits for an answer.
pub const KMS_OPERATION_TIMEOUT: Duration = Duration::from_secs(5);

/// A KMS client, with an endpoint override for a KMS-compatible server on loopback (moto): in
/// development builds (feature `local-dev`) then region `us-east-1` and dummy static
/// credentials. Otherwise the standard AWS configuration chain (Lambda's role). Functions that also use DynamoDB should build one `SdkConfig` and
/// `Client::new(&config)` from it instead.
pub async fn kms_client(endpoint: Option<&str>) -> Client {
    let timeouts = TimeoutConfig::builder()
        .operation_attempt_timeout(KMS_ATTEMPT_TIMEOUT)
        .operation_timeout(KMS_OPERATION_TIMEOUT)
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(timeouts);
    if let Some(url) = endpoint {
        loader = loader.endpoint_url(url);
        // Fixed dummy credentials for moto: development builds only (feature `local-dev`).
        #[cfg(feature = "local-dev")]
        {
            loader = loader
                .region(aws_config::Region::new(LOCAL_REGION))
                .credentials_provider(Credentials::from_keys("testing", "testing", None));
        }
    }
    Client::new(&loader.load().await)
}

/// A KMS client from an AWS configuration shared with other clients (one `SdkConfig` per cold
/// start), with the per-attempt and per-operation timeouts of [`kms_client`]: the SDK's defaults
/// set no operation timeout, and a KMS that stops answering must not hold an answer past its
/// deadline (the edge cuts signing off there too).
pub fn kms_client_from(sdk: &aws_config::SdkConfig) -> Client {
    let timeouts = TimeoutConfig::builder()
        .operation_attempt_timeout(KMS_ATTEMPT_TIMEOUT)
        .operation_timeout(KMS_OPERATION_TIMEOUT)
        .build();
    let conf = aws_sdk_kms::config::Builder::from(sdk)
        .timeout_config(timeouts)
        .build();
    Client::from_conf(conf)
}

/// How [`KmsSigner`] sends the content to KMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KmsSignMode {
    /// `RAW` up to [`KMS_RAW_MESSAGE_BYTES_MAX`] bytes, `DIGEST` above (production).
    Auto,
    /// Always `RAW`: KMS hashes. Content over 4,096 bytes is refused before any call.
    Raw,
    /// Always `DIGEST`: SHA-256 here, KMS skips its hashing step.
    Digest,
}

/// The `kms` signer: AWS KMS `Sign` with an RSA_2048 `SIGN_VERIFY` key and
/// `RSASSA_PKCS1_V1_5_SHA_256`. The private key never leaves KMS; every signature is one KMS
/// request, counted against the account's shared RSA cryptographic-operations quota.
#[derive(Clone)]
pub struct KmsSigner {
    /// The KMS client.
    pub client: Client,
    /// Key id, ARN or alias (`alias/...`) of the asymmetric signing key.
    pub key_id: String,
    /// The `keyVersion` our partner knows this key's public half by.
    pub key_version: u32,
    /// `RAW` or `DIGEST`; [`KmsSignMode::Auto`] in production.
    pub mode: KmsSignMode,
}

impl std::fmt::Debug for KmsSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KmsSigner")
            .field("key_id", &self.key_id)
            .field("key_version", &self.key_version)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl KmsSigner {
    /// A signer in [`KmsSignMode::Auto`].
    pub fn new(client: Client, key_id: impl Into<String>, key_version: u32) -> KmsSigner {
        KmsSigner {
            client,
            key_id: key_id.into(),
            key_version,
            mode: KmsSignMode::Auto,
        }
    }

    /// The same signer with another mode (tests force each path).
    pub fn with_mode(mut self, mode: KmsSignMode) -> KmsSigner {
        self.mode = mode;
        self
    }

    /// What is sent for `content`: the bytes and their message type.
    fn message(&self, content: &[u8]) -> Result<(Vec<u8>, MessageType), SignerError> {
        let raw = match self.mode {
            KmsSignMode::Auto => content.len() <= KMS_RAW_MESSAGE_BYTES_MAX,
            KmsSignMode::Raw => {
                if content.len() > KMS_RAW_MESSAGE_BYTES_MAX {
                    return Err(SignerError::Rejected {
                        reason: "content longer than KMS's 4096-byte RAW message limit",
                        source: None,
                    });
                }
                true
            }
            KmsSignMode::Digest => false,
        };
        Ok(if raw {
            (content.to_vec(), MessageType::Raw)
        } else {
            (Sha256::digest(content).to_vec(), MessageType::Digest)
        })
    }
}

#[async_trait::async_trait]
impl Signer for KmsSigner {
    fn key_version(&self) -> u32 {
        self.key_version
    }

    async fn sign(&self, content: &[u8]) -> Result<Vec<u8>, SignerError> {
        let (message, message_type) = self.message(content)?;
        let out = self
            .client
            .sign()
            .key_id(&self.key_id)
            .message(Blob::new(message))
            .message_type(message_type)
            .signing_algorithm(SigningAlgorithmSpec::RsassaPkcs1V15Sha256)
            .send()
            .await
            .map_err(|e| classify("Sign", e))?;
        match out.signature {
            Some(sig) if !sig.as_ref().is_empty() => Ok(sig.into_inner()),
            Some(_) | None => Err(SignerError::Unavailable(
                "KMS Sign answered without a signature".into(),
            )),
        }
    }
}

/// Why an envelope could not be made or opened.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    /// The KMS call failed (the source says whether a retry can help).
    #[error("KMS {op} of the signing-key envelope failed")]
    Kms {
        /// `Encrypt` or `Decrypt`.
        op: &'static str,
        /// The classified failure.
        #[source]
        source: SignerError,
    },
    /// The (decrypted) private key does not load.
    #[error("the signing-key envelope does not hold a usable private key")]
    Key(#[source] KeyError),
}

impl EnvelopeError {
    /// Whether trying again (e.g. the next cold start) can succeed.
    pub fn retry_can_help(&self) -> bool {
        match self {
            EnvelopeError::Kms { source, .. } => source.retry_can_help(),
            EnvelopeError::Key(_) => false,
        }
    }
}

/// The `kms-envelope` signer: the private key lives encrypted (KMS `Encrypt` under a symmetric
/// key, [`ENVELOPE_CONTEXT`] bound) and is decrypted once per cold start; every signature after
/// that is local, with no KMS call and no KMS quota.
#[derive(Debug, Clone, Copy)]
pub struct KmsEnvelopeSigner;

impl KmsEnvelopeSigner {
    /// Decrypts the envelope with KMS `Decrypt` and returns the in-memory signer. The plaintext is
    /// a PKCS#8 DER private key (what [`encrypt_private_key`] stores) or a PEM one; its buffer is
    /// zeroed once the key is parsed.
    pub async fn load(
        client: &Client,
        ciphertext: &[u8],
        key_version: u32,
    ) -> Result<LocalSigner, EnvelopeError> {
        let (context_key, context_value) = ENVELOPE_CONTEXT;
        let out = client
            .decrypt()
            .ciphertext_blob(Blob::new(ciphertext))
            .encryption_context(context_key, context_value)
            .send()
            .await
            .map_err(|e| EnvelopeError::Kms {
                op: "Decrypt",
                source: classify("Decrypt", e),
            })?;
        let plaintext = zeroize::Zeroizing::new(out.plaintext.map(Blob::into_inner).ok_or(
            EnvelopeError::Kms {
                op: "Decrypt",
                source: SignerError::Unavailable("KMS Decrypt answered without plaintext".into()),
            },
        )?);
        let key = load_private_key_der(&plaintext).map_err(EnvelopeError::Key)?;
        Ok(LocalSigner::new(key, key_version))
    }
}

/// Makes a signing-key envelope: parses `pem` (PKCS#1 or PKCS#8 PEM, or Base64 DER), re-encodes
/// it as PKCS#8 DER and encrypts that with KMS `Encrypt` under `kms_key_id` (a symmetric key)
/// and [`ENVELOPE_CONTEXT`]. Store the returned ciphertext (Base64) in the function's
/// configuration; the plaintext never touches disk here.
pub async fn encrypt_private_key(
    client: &Client,
    kms_key_id: &str,
    pem: &str,
) -> Result<Vec<u8>, EnvelopeError> {
    let key = load_private_key(pem).map_err(EnvelopeError::Key)?;
    let der = key.to_pkcs8_der().map_err(EnvelopeError::Key)?;
    let (context_key, context_value) = ENVELOPE_CONTEXT;
    let out = client
        .encrypt()
        .key_id(kms_key_id)
        .plaintext(Blob::new(der.as_slice()))
        .encryption_context(context_key, context_value)
        .send()
        .await
        .map_err(|e| EnvelopeError::Kms {
            op: "Encrypt",
            source: classify("Encrypt", e),
        })?;
    out.ciphertext_blob
        .map(Blob::into_inner)
        .ok_or(EnvelopeError::Kms {
            op: "Encrypt",
            source: SignerError::Unavailable("KMS Encrypt answered without a ciphertext".into()),
        })
}

/// A KMS failure, readable: which call, which error code, the SDK's full explanation.
#[derive(Debug)]
struct KmsFailure {
    op: &'static str,
    code: Option<String>,
    detail: String,
}

impl std::fmt::Display for KmsFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "KMS {} failed ({}): {}",
            self.op,
            self.code.as_deref().unwrap_or("no error code"),
            self.detail
        )
    }
}

impl std::error::Error for KmsFailure {}

/// What a KMS failure means for a retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    Throttled,
    Transient,
    KeyUnusable,
    Never,
}

/// Classifies an SDK error by KMS error code (modelled or not: throttling and access denial are
/// not in the operation's error enum) and transport failure.
fn classify<E, R>(op: &'static str, err: SdkError<E, R>) -> SignerError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let (retry, code) = match &err {
        SdkError::ServiceError(service) => {
            let code = service.err().code().map(str::to_string);
            (retry_for_code(code.as_deref()), code)
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            (Retry::Transient, None)
        }
        SdkError::ConstructionFailure(_) => (Retry::Never, None),
        // `SdkError` is non-exhaustive: a future transport-level variant is most likely transient.
        _ => (Retry::Transient, None),
    };
    let cause: Box<dyn std::error::Error + Send + Sync> = Box::new(KmsFailure {
        op,
        code,
        detail: DisplayErrorContext(&err).to_string(),
    });
    match retry {
        Retry::Throttled => SignerError::Throttled(cause),
        Retry::Transient => SignerError::Unavailable(cause),
        Retry::KeyUnusable => SignerError::KeyUnusable(cause),
        Retry::Never => SignerError::Rejected {
            reason: "KMS refused the request",
            source: Some(cause),
        },
    }
}

fn retry_for_code(code: Option<&str>) -> Retry {
    match code {
        Some("ThrottlingException" | "RequestLimitExceeded" | "TooManyRequestsException") => {
            Retry::Throttled
        }
        Some(
            "KMSInternalException"
            | "DependencyTimeoutException"
            | "KeyUnavailableException"
            | "CustomKeyStoreInvalidStateException"
            | "ServiceUnavailable"
            | "InternalFailure"
            | "ExpiredTokenException",
        ) => Retry::Transient,
        Some(
            "NotFoundException"
            | "DisabledException"
            | "KMSInvalidStateException"
            | "InvalidKeyUsageException"
            | "AccessDeniedException"
            | "InvalidGrantTokenException"
            | "UnrecognizedClientException"
            | "IncorrectKeyException",
        ) => Retry::KeyUnusable,
        // ValidationException, InvalidCiphertextException, DryRunOperationException, unknown.
        Some(_) | None => Retry::Never,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_retry_advice() {
        assert_eq!(
            retry_for_code(Some("ThrottlingException")),
            Retry::Throttled
        );
        assert_eq!(
            retry_for_code(Some("KMSInternalException")),
            Retry::Transient
        );
        assert_eq!(
            retry_for_code(Some("DisabledException")),
            Retry::KeyUnusable
        );
        assert_eq!(
            retry_for_code(Some("AccessDeniedException")),
            Retry::KeyUnusable
        );
        assert_eq!(
            retry_for_code(Some("InvalidCiphertextException")),
            Retry::Never
        );
        assert_eq!(retry_for_code(None), Retry::Never);
    }

    #[tokio::test]
    async fn modes_choose_raw_or_digest_by_length() {
        // No call is made: the endpoint is never contacted.
        let client = kms_client(Some("http://127.0.0.1:9")).await;
        let small = vec![b'a'; KMS_RAW_MESSAGE_BYTES_MAX];
        let large = vec![b'a'; KMS_RAW_MESSAGE_BYTES_MAX + 1];
        let signer = KmsSigner::new(client, "alias/x", 1);
        let (m, t) = signer.message(&small).unwrap();
        assert_eq!((m.len(), t), (KMS_RAW_MESSAGE_BYTES_MAX, MessageType::Raw));
        let (m, t) = signer.message(&large).unwrap();
        assert_eq!(
            (m, t),
            (Sha256::digest(&large).to_vec(), MessageType::Digest)
        );
        let digest = signer.clone().with_mode(KmsSignMode::Digest);
        assert_eq!(digest.message(&small).unwrap().1, MessageType::Digest);
        let raw = signer.with_mode(KmsSignMode::Raw);
        assert_eq!(raw.message(&small).unwrap().1, MessageType::Raw);
        let e = raw.message(&large).unwrap_err();
        assert!(!e.retry_can_help(), "{e}");
    }
}
