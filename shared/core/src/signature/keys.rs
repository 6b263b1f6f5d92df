//! RSA keys in the forms partners hand out: Alipay+ public keys as Base64 DER (X.509
//! SubjectPublicKeyInfo) without armour, private keys as PKCS#1 or PKCS#8 PEM.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};

/// Smallest modulus we load or generate, in bits (Alipay+ keys are 2048-bit).
pub const KEY_BITS_MIN: usize = 2048;

/// Largest modulus we generate, in bits (the `rsa` crate verifies up to 4096).
const KEY_BITS_MAX: usize = 4096;

/// Longest key text we read: a 4096-bit PKCS#1 private key PEM is about 3.3 KB.
const KEY_TEXT_BYTES_MAX: usize = 16 * 1024;

/// Why a key did not load, encode or generate. Never carries key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Empty, too long, or neither PEM nor Base64.
    #[error("the key text is not PEM or Base64: {0}")]
    NotPemOrBase64(&'static str),
    /// A PEM block of a kind we do not load (e.g. `ENCRYPTED PRIVATE KEY`, `CERTIFICATE`).
    #[error("PEM label {0:?} is not a supported key type")]
    UnsupportedPem(String),
    /// The bytes are not a valid RSA key of the expected kind.
    #[error("not a valid RSA {kind}: {detail}")]
    Invalid {
        /// `public key` or `private key`.
        kind: &'static str,
        /// The parser's reason (never key bytes).
        detail: String,
    },
    /// The modulus is shorter than [`KEY_BITS_MIN`] (or, for generation, longer than 4096).
    #[error("RSA key of {bits} bits is outside the accepted {KEY_BITS_MIN}..=4096 bits")]
    Size {
        /// The key's (or requested) modulus length.
        bits: usize,
    },
    /// Key generation failed.
    #[error("generating the key failed: {0}")]
    Generate(String),
}

/// Loads an RSA public key: PEM SPKI (`PUBLIC KEY`), PEM PKCS#1 (`RSA PUBLIC KEY`), or bare Base64
/// DER SPKI as Alipay+ hands it out (whitespace and line breaks inside are ignored; bare Base64
/// PKCS#1 DER is accepted too).
pub fn load_public_key(text: &str) -> Result<RsaPublicKey, KeyError> {
    let key = match pem_block(text)? {
        Some(("PUBLIC KEY", pem)) => RsaPublicKey::from_public_key_pem(pem).map_err(invalid_pub)?,
        Some(("RSA PUBLIC KEY", pem)) => RsaPublicKey::from_pkcs1_pem(pem).map_err(invalid_pub)?,
        Some((label, _)) => return Err(unsupported(label)),
        None => {
            let der = bare_base64(text)?;
            match RsaPublicKey::from_public_key_der(&der) {
                Ok(key) => key,
                Err(spki_err) => {
                    RsaPublicKey::from_pkcs1_der(&der).map_err(|_| invalid_pub(spki_err))?
                }
            }
        }
    };
    check_size(key.size() * 8)?;
    Ok(key)
}

/// Loads an RSA private key: PKCS#1 PEM (`RSA PRIVATE KEY`), PKCS#8 PEM (`PRIVATE KEY`), or bare
/// Base64 DER (PKCS#8, else PKCS#1). Encrypted PEM is refused.
pub fn load_private_key(text: &str) -> Result<RsaPrivateKey, KeyError> {
    let key = match pem_block(text)? {
        Some(("PRIVATE KEY", pem)) => RsaPrivateKey::from_pkcs8_pem(pem).map_err(invalid_priv)?,
        Some(("RSA PRIVATE KEY", pem)) => {
            RsaPrivateKey::from_pkcs1_pem(pem).map_err(invalid_priv)?
        }
        Some((label, _)) => return Err(unsupported(label)),
        None => {
            let der = zeroize::Zeroizing::new(bare_base64(text)?);
            return load_private_key_der(&der);
        }
    };
    checked_private(key)
}

/// Loads an RSA private key from DER bytes (PKCS#8, else PKCS#1), or from PEM text given as
/// bytes: what a KMS-decrypted envelope holds.
pub fn load_private_key_der(bytes: &[u8]) -> Result<RsaPrivateKey, KeyError> {
    if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| KeyError::NotPemOrBase64("PEM text that is not UTF-8"))?;
        return load_private_key(text);
    }
    let key = match RsaPrivateKey::from_pkcs8_der(bytes) {
        Ok(key) => key,
        Err(pkcs8_err) => {
            RsaPrivateKey::from_pkcs1_der(bytes).map_err(|_| invalid_priv(pkcs8_err))?
        }
    };
    checked_private(key)
}

/// The public key as Base64 DER SPKI without armour: the form Alipay+ exchanges.
///
/// Encoding an RSA public key cannot fail in practice; should the encoder ever refuse, the
/// result is empty (which no loader accepts) and the cause is logged.
pub fn public_key_base64_der(key: &RsaPublicKey) -> String {
    match key.to_public_key_der() {
        Ok(der) => STANDARD.encode(der.as_bytes()),
        Err(e) => encode_failed("public key DER", &e),
    }
}

/// The public key as SPKI PEM (`-----BEGIN PUBLIC KEY-----`, LF line endings); empty on the
/// (impossible in practice) encoder failure, as [`public_key_base64_der`].
pub fn public_key_pem(key: &RsaPublicKey) -> String {
    match key.to_public_key_pem(LineEnding::LF) {
        Ok(pem) => pem,
        Err(e) => encode_failed("public key PEM", &e),
    }
}

/// The private key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`, LF line endings). The caller
/// owns the secret from here: write it to a file with tight permissions or to KMS, never a log.
///
/// Only multi-prime keys fail to encode, and this module neither loads nor generates them; on
/// that failure the result is empty and the cause is logged.
pub fn private_key_pem(key: &RsaPrivateKey) -> String {
    match key.to_pkcs8_pem(LineEnding::LF) {
        Ok(pem) => pem.as_str().to_owned(),
        Err(e) => encode_failed("private key PEM", &e),
    }
}

fn encode_failed(what: &'static str, e: &dyn std::fmt::Display) -> String {
    tracing::error!(what, error = %e, "key encoding failed");
    String::new()
}

/// Generates an RSA key pair of `bits` bits (2048 to 4096), e = 65537, from the OS RNG.
pub fn generate_key_pair(bits: usize) -> Result<RsaPrivateKey, KeyError> {
    check_size(bits)?;
    if bits > KEY_BITS_MAX {
        return Err(KeyError::Size { bits });
    }
    RsaPrivateKey::new(&mut rand::rngs::OsRng, bits).map_err(|e| KeyError::Generate(e.to_string()))
}

/// Finds the one PEM block in `text`: `Some((label, pem_text))`, or `None` if there is no armour.
/// Text before `-----BEGIN` (e.g. OpenSSL's "Bag Attributes") is skipped.
fn pem_block(text: &str) -> Result<Option<(&str, &str)>, KeyError> {
    if text.len() > KEY_TEXT_BYTES_MAX {
        return Err(KeyError::NotPemOrBase64("longer than any RSA key"));
    }
    let Some(start) = text.find("-----BEGIN ") else {
        return Ok(None);
    };
    let pem = text[start..].trim_end();
    let after = &pem["-----BEGIN ".len()..];
    let label = after
        .find("-----")
        .map(|end| &after[..end])
        .ok_or(KeyError::NotPemOrBase64("PEM header is not closed"))?;
    Ok(Some((label, pem)))
}

fn bare_base64(text: &str) -> Result<Vec<u8>, KeyError> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.is_empty() {
        return Err(KeyError::NotPemOrBase64("empty"));
    }
    STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| KeyError::NotPemOrBase64("not PEM and not valid Base64"))
}

fn checked_private(key: RsaPrivateKey) -> Result<RsaPrivateKey, KeyError> {
    key.validate().map_err(invalid_priv)?;
    check_size(key.size() * 8)?;
    Ok(key)
}

fn check_size(bits: usize) -> Result<(), KeyError> {
    if bits < KEY_BITS_MIN {
        return Err(KeyError::Size { bits });
    }
    Ok(())
}

fn unsupported(label: &str) -> KeyError {
    KeyError::UnsupportedPem(label.chars().take(40).collect())
}

fn invalid_pub(e: impl std::fmt::Display) -> KeyError {
    KeyError::Invalid {
        kind: "public key",
        detail: e.to_string(),
    }
}

fn invalid_priv(e: impl std::fmt::Display) -> KeyError {
    KeyError::Invalid {
        kind: "private key",
        detail: e.to_string(),
    }
}
