//! Why a signature was refused, and the Alipay+ code each reason answers.

use crate::result_code::ResultCode;

/// Why verification refused a message. Messages name headers and reasons only: never key
/// material, never the body, and header values only shortened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// A required header (`Client-Id`, `Request-Time`/`Response-Time`, `Signature`) is absent.
    #[error("the {0} header is missing")]
    MissingHeader(&'static str),
    /// A required header is present more than once: which one was signed is ambiguous.
    #[error("the {0} header is present more than once")]
    DuplicateHeader(&'static str),
    /// A header cannot be read: not visible ASCII, not the `Signature` syntax, not a time.
    #[error("the {header} header is malformed: {reason}")]
    MalformedHeader {
        /// Which header.
        header: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The `algorithm` is not `RSA256` (shortened to 32 characters).
    #[error("signature algorithm {0:?} is not supported (only RSA256)")]
    UnsupportedAlgorithm(String),
    /// The `Client-Id` is not in the accepted list (shortened to 64 characters).
    #[error("client id {0:?} is not accepted")]
    UnknownClient(String),
    /// No key is configured for the `keyVersion` in the header.
    #[error("no public key for keyVersion {0}")]
    UnknownKeyVersion(u32),
    /// No key is configured at all (a configuration error; nothing can verify).
    #[error("no public key is configured")]
    NoKeys,
    /// The time header is further from now than the skew window allows (a stale or replayed
    /// message, or a badly wrong clock on one side).
    #[error("the {header} is {offset_secs} s from now, outside the ±{max_skew_secs} s window")]
    OutsideTimeWindow {
        /// Which time header.
        header: &'static str,
        /// Signed time minus now, in seconds (negative: in the past).
        offset_secs: i64,
        /// The window's half-width, in seconds.
        max_skew_secs: i64,
    },
    /// The signature does not verify against the key for its version.
    #[error("the signature does not verify")]
    BadSignature,
}

impl SignatureError {
    /// The Alipay+ result code this refusal answers. See `docs/signing.md` for the choices.
    pub fn result_code(&self) -> ResultCode {
        match self {
            SignatureError::MissingHeader(header)
            | SignatureError::DuplicateHeader(header)
            | SignatureError::MalformedHeader { header, .. } => {
                // Without a readable Client-Id there is no client to check: same as unknown.
                if *header == super::header_names::CLIENT_ID {
                    ResultCode::InvalidClient
                } else {
                    ResultCode::InvalidSignature
                }
            }
            SignatureError::UnsupportedAlgorithm(_)
            | SignatureError::OutsideTimeWindow { .. }
            | SignatureError::BadSignature => ResultCode::InvalidSignature,
            SignatureError::UnknownClient(_) => ResultCode::InvalidClient,
            SignatureError::UnknownKeyVersion(_) | SignatureError::NoKeys => {
                ResultCode::KeyNotFound
            }
        }
    }
}
