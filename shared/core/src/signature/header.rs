//! The `Signature` header: `algorithm=RSA256,keyVersion=1,signature=<URL-encoded Base64>`.

use super::error::SignatureError;
use super::ALGORITHM_RSA256;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use percent_encoding::{percent_decode_str, utf8_percent_encode, NON_ALPHANUMERIC};

/// Longest `Signature` header value we read. A 4096-bit signature is 512 bytes, 684 in Base64,
/// about 700 URL-encoded; anything much longer is not a signature header.
pub const SIGNATURE_HEADER_BYTES_MAX: usize = 2048;

/// Longest raw signature we accept after decoding (a 4096-bit RSA signature).
const SIGNATURE_BYTES_MAX: usize = 512;

/// Longest algorithm name kept for an error message.
const ALGORITHM_CHARS_MAX: usize = 32;

/// A parsed `Signature` header.
#[derive(Clone, PartialEq, Eq)]
pub struct SignatureHeader {
    /// The `algorithm` value as sent (only `RSA256` verifies).
    pub algorithm: String,
    /// The `keyVersion`, if the header has one (absent means the latest key).
    pub key_version: Option<u32>,
    /// The raw signature bytes (URL-decoded, then Base64-decoded).
    pub signature: Vec<u8>,
}

impl std::fmt::Debug for SignatureHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignatureHeader")
            .field("algorithm", &self.algorithm)
            .field("key_version", &self.key_version)
            .field("signature_bytes", &self.signature.len())
            .finish()
    }
}

/// Parses a `Signature` header value.
///
/// Accepts the SDKs' form without spaces and the documentation's form with spaces after the
/// commas; parameter names match in any case; unknown parameters are ignored; a parameter given
/// twice, a missing `algorithm` or `signature`, a `keyVersion` that is not a number, or a
/// signature that is not Base64 (after URL-decoding) is malformed. The signature is
/// percent-decoded only: a literal `+` stays a Base64 `+` (a sender that forgot to URL-encode
/// still verifies).
pub fn parse_signature_header(value: &str) -> Result<SignatureHeader, SignatureError> {
    if value.len() > SIGNATURE_HEADER_BYTES_MAX {
        return Err(malformed("longer than the limit"));
    }
    let mut algorithm: Option<&str> = None;
    let mut key_version: Option<&str> = None;
    let mut signature: Option<&str> = None;
    for item in value.split(',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let (name, val) = item
            .split_once('=')
            .ok_or_else(|| malformed("a parameter has no '='"))?;
        let slot = match name.trim() {
            n if n.eq_ignore_ascii_case("algorithm") => &mut algorithm,
            n if n.eq_ignore_ascii_case("keyVersion") => &mut key_version,
            n if n.eq_ignore_ascii_case("signature") => &mut signature,
            // Unknown parameters are ignored: a future parameter must not break verification.
            _ => continue,
        };
        if slot.replace(val.trim()).is_some() {
            return Err(malformed("a parameter appears twice"));
        }
    }
    let algorithm = algorithm.ok_or_else(|| malformed("no algorithm"))?;
    let key_version = match key_version {
        None => None,
        Some(v) => Some(
            v.parse::<u32>()
                .map_err(|_| malformed("keyVersion is not a number"))?,
        ),
    };
    let signature = decode_signature(signature.ok_or_else(|| malformed("no signature"))?)?;
    Ok(SignatureHeader {
        algorithm: algorithm.chars().take(ALGORITHM_CHARS_MAX).collect(),
        key_version,
        signature,
    })
}

fn decode_signature(encoded: &str) -> Result<Vec<u8>, SignatureError> {
    let b64: Vec<u8> = percent_decode_str(encoded).collect();
    let raw = STANDARD
        .decode(&b64)
        .map_err(|_| malformed("signature is not Base64"))?;
    if raw.is_empty() {
        return Err(malformed("empty signature"));
    }
    if raw.len() > SIGNATURE_BYTES_MAX {
        return Err(malformed("signature longer than a 4096-bit key's"));
    }
    Ok(raw)
}

fn malformed(reason: &'static str) -> SignatureError {
    SignatureError::MalformedHeader {
        header: super::header_names::SIGNATURE,
        reason,
    }
}

/// URL-encoded standard Base64 (`+`→`%2B`, `/`→`%2F`, `=`→`%3D`), as the header carries it.
pub fn encode_signature(raw: &[u8]) -> String {
    let b64 = STANDARD.encode(raw);
    // Standard Base64 has only alphanumerics and `+ / =`: exactly the three that get encoded.
    utf8_percent_encode(&b64, NON_ALPHANUMERIC).to_string()
}

/// The `Signature` header value we send: `algorithm=RSA256,keyVersion=N,signature=...`.
pub fn signature_header_value(key_version: u32, raw: &[u8]) -> String {
    format!(
        "algorithm={ALGORITHM_RSA256},keyVersion={key_version},signature={}",
        encode_signature(raw)
    )
}
