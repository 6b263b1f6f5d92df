//! RSA keys in the forms partners hand out: Alipay+ public keys as Base64 DER (X.509
//! SubjectPublicKeyInfo) without armour, private keys as PKCS#1 or PKCS#8 PEM.
//!
//! The key types wrap `aws-lc-rs` (AWS-LC: constant-time, assembly-optimised RSA). A public key
//! is parsed once, when it is loaded, for RSA256 verification; a private key is an AWS-LC key
//! pair, whose memory AWS-LC wipes when it is freed.

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use std::sync::Arc;
use zeroize::Zeroizing;

/// Smallest modulus we load or generate, in bits (Alipay+ keys are 2048-bit).
pub const KEY_BITS_MIN: usize = 2048;

/// Largest modulus we load or generate, in bits: Alipay+ keys are 2048-bit, and a `Signature`
/// header holds at most a 4096-bit signature (`docs/signing.md`, input limits).
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
    /// The modulus is outside [`KEY_BITS_MIN`]..=4096 bits (for generation: not 2048, 3072 or
    /// 4096).
    #[error("RSA key of {bits} bits is outside the accepted {KEY_BITS_MIN}..=4096 bits")]
    Size {
        /// The key's (or requested) modulus length.
        bits: usize,
    },
    /// Key generation failed.
    #[error("generating the key failed: {0}")]
    Generate(String),
}

/// An RSA public key (2048 to 4096 bits), parsed once for RSA256 verification.
///
/// Cloning is cheap (the parsed key is shared). Two keys are equal when their
/// SubjectPublicKeyInfo DER is.
#[derive(Clone)]
pub struct RsaPublicKey {
    parsed: Arc<ParsedPublicKey>,
    spki_der: Arc<[u8]>,
    bits: usize,
}

impl RsaPublicKey {
    /// Parses DER: SubjectPublicKeyInfo (X.509) or PKCS#1 `RSAPublicKey`.
    fn from_der(der: &[u8]) -> Result<RsaPublicKey, KeyError> {
        let key = aws_lc_rs::rsa::PublicKey::from_der(der).map_err(invalid_pub)?;
        RsaPublicKey::from_aws_lc(&key)
    }

    fn from_aws_lc(key: &aws_lc_rs::rsa::PublicKey) -> Result<RsaPublicKey, KeyError> {
        let spki = key.as_der().map_err(invalid_pub)?;
        let bits = spki_to_pkcs1(spki.as_ref())
            .as_deref()
            .and_then(pkcs1_public_modulus_bits)
            .ok_or_else(|| invalid_pub("no RSA modulus in the encoded key"))?;
        check_size(bits)?;
        let parsed = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, spki.as_ref())
            .map_err(invalid_pub)?;
        Ok(RsaPublicKey {
            parsed: Arc::new(parsed),
            spki_der: Arc::from(spki.as_ref()),
            bits,
        })
    }

    /// The modulus length in bits (a multiple of 8: the modulus's byte length × 8).
    pub fn bits(&self) -> usize {
        self.bits
    }

    /// The key as DER SubjectPublicKeyInfo (what [`public_key_base64_der`] encodes).
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// The key as DER PKCS#1 `RSAPublicKey` (what `RSA PUBLIC KEY` PEM holds).
    pub fn pkcs1_der(&self) -> Vec<u8> {
        spki_to_pkcs1(&self.spki_der).unwrap_or_default()
    }

    /// Whether `signature` is RSA PKCS#1 v1.5 over `digest` (SHA-256: RSA256).
    pub(crate) fn verify_digest(
        &self,
        digest: &aws_lc_rs::digest::Digest,
        signature: &[u8],
    ) -> bool {
        self.parsed.verify_digest_sig(digest, signature).is_ok()
    }
}

impl PartialEq for RsaPublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.spki_der == other.spki_der
    }
}

impl Eq for RsaPublicKey {}

impl std::fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RsaPublicKey")
            .field("bits", &self.bits)
            .field("spki_base64", &STANDARD.encode(&self.spki_der))
            .finish()
    }
}

impl From<&RsaPrivateKey> for RsaPublicKey {
    fn from(key: &RsaPrivateKey) -> RsaPublicKey {
        key.public.clone()
    }
}

/// An RSA private key (2048 to 4096 bits) in AWS-LC memory, with its public half.
///
/// Cloning shares the one key (no copy of the secret). `Debug` shows only the public half.
#[derive(Clone)]
pub struct RsaPrivateKey {
    pair: Arc<KeyPair>,
    public: RsaPublicKey,
}

impl RsaPrivateKey {
    fn from_pair(pair: KeyPair) -> Result<RsaPrivateKey, KeyError> {
        let public = RsaPublicKey::from_aws_lc(pair.public_key())?;
        Ok(RsaPrivateKey {
            pair: Arc::new(pair),
            public,
        })
    }

    /// The public half.
    pub fn to_public_key(&self) -> RsaPublicKey {
        self.public.clone()
    }

    /// The modulus length in bits.
    pub fn bits(&self) -> usize {
        self.public.bits
    }

    /// The key as PKCS#8 DER, in a buffer wiped when dropped (what a KMS envelope holds).
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let der: Pkcs8V1Der<'static> = self.pair.as_der().map_err(invalid_priv)?;
        Ok(Zeroizing::new(der.as_ref().to_vec()))
    }

    /// The key as PKCS#1 `RSAPrivateKey` DER (what `RSA PRIVATE KEY` PEM holds), wiped when
    /// dropped.
    pub fn to_pkcs1_der(&self) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let pkcs8 = self.to_pkcs8_der()?;
        pkcs8_to_pkcs1(&pkcs8)
            .map(|inner| Zeroizing::new(inner.to_vec()))
            .ok_or_else(|| invalid_priv("PKCS#8 without an RSAPrivateKey"))
    }

    /// The AWS-LC key pair, for signing.
    pub(crate) fn pair(&self) -> &KeyPair {
        &self.pair
    }
}

impl PartialEq for RsaPrivateKey {
    /// Equal when the PKCS#8 encodings are (compares secrets: for tests and checks, not hot
    /// paths).
    fn eq(&self, other: &Self) -> bool {
        match (self.to_pkcs8_der(), other.to_pkcs8_der()) {
            (Ok(a), Ok(b)) => aws_lc_rs::constant_time::verify_slices_are_equal(&a, &b).is_ok(),
            _ => false,
        }
    }
}

impl std::fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RsaPrivateKey")
            .field("bits", &self.public.bits)
            .finish_non_exhaustive()
    }
}

/// Loads an RSA public key: PEM SPKI (`PUBLIC KEY`), PEM PKCS#1 (`RSA PUBLIC KEY`), or bare Base64
/// DER SPKI as Alipay+ hands it out (whitespace and line breaks inside are ignored; bare Base64
/// PKCS#1 DER is accepted too).
pub fn load_public_key(text: &str) -> Result<RsaPublicKey, KeyError> {
    let der = match pem_block(text)? {
        Some(block @ ("PUBLIC KEY" | "RSA PUBLIC KEY", _)) => pem_der(block, "public key")?,
        Some((label, _)) => return Err(unsupported(label)),
        None => bare_base64(text)?,
    };
    RsaPublicKey::from_der(&der)
}

/// Loads an RSA private key: PKCS#1 PEM (`RSA PRIVATE KEY`), PKCS#8 PEM (`PRIVATE KEY`), or bare
/// Base64 DER (PKCS#8, else PKCS#1). Encrypted PEM is refused.
pub fn load_private_key(text: &str) -> Result<RsaPrivateKey, KeyError> {
    match pem_block(text)? {
        Some(block @ ("PRIVATE KEY", _)) => {
            let der = Zeroizing::new(pem_der(block, "private key")?);
            private_from_der(&der, DerForm::Pkcs8)
        }
        Some(block @ ("RSA PRIVATE KEY", _)) => {
            let der = Zeroizing::new(pem_der(block, "private key")?);
            private_from_der(&der, DerForm::Pkcs1)
        }
        Some((label, _)) => Err(unsupported(label)),
        None => {
            let der = Zeroizing::new(bare_base64(text)?);
            load_private_key_der(&der)
        }
    }
}

/// Loads an RSA private key from DER bytes (PKCS#8, else PKCS#1), or from PEM text given as
/// bytes: what a KMS-decrypted envelope holds.
pub fn load_private_key_der(bytes: &[u8]) -> Result<RsaPrivateKey, KeyError> {
    if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| KeyError::NotPemOrBase64("PEM text that is not UTF-8"))?;
        return load_private_key(text);
    }
    private_from_der(bytes, DerForm::Pkcs8).or_else(|pkcs8_err| match pkcs8_err {
        // A PKCS#8 key of the wrong size is PKCS#8: say so rather than "not PKCS#1".
        KeyError::Size { .. } => Err(pkcs8_err),
        _ => private_from_der(bytes, DerForm::Pkcs1).map_err(|pkcs1_err| match pkcs1_err {
            KeyError::Size { .. } => pkcs1_err,
            _ => pkcs8_err,
        }),
    })
}

/// The public key as Base64 DER SPKI without armour: the form Alipay+ exchanges.
pub fn public_key_base64_der(key: &RsaPublicKey) -> String {
    STANDARD.encode(key.spki_der())
}

/// The public key as SPKI PEM (`-----BEGIN PUBLIC KEY-----`, LF line endings).
pub fn public_key_pem(key: &RsaPublicKey) -> String {
    pem_encode("PUBLIC KEY", key.spki_der())
}

/// The private key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`, LF line endings). The caller
/// owns the secret from here: write it to a file with tight permissions or to KMS, never a log.
///
/// Encoding a key AWS-LC holds cannot fail in practice; should it, the result is empty (which no
/// loader accepts) and the cause is logged.
pub fn private_key_pem(key: &RsaPrivateKey) -> String {
    match key.to_pkcs8_der() {
        Ok(der) => pem_encode("PRIVATE KEY", &der),
        Err(e) => {
            tracing::error!(what = "private key PEM", error = %e, "key encoding failed");
            String::new()
        }
    }
}

/// Generates an RSA key pair of 2048, 3072 or 4096 bits (e = 65537) from AWS-LC's RNG.
pub fn generate_key_pair(bits: usize) -> Result<RsaPrivateKey, KeyError> {
    let size = match bits {
        2048 => KeySize::Rsa2048,
        3072 => KeySize::Rsa3072,
        4096 => KeySize::Rsa4096,
        _ => return Err(KeyError::Size { bits }),
    };
    let pair = KeyPair::generate(size).map_err(|e| KeyError::Generate(e.to_string()))?;
    RsaPrivateKey::from_pair(pair)
}

#[derive(Clone, Copy)]
enum DerForm {
    Pkcs8,
    Pkcs1,
}

fn private_from_der(der: &[u8], form: DerForm) -> Result<RsaPrivateKey, KeyError> {
    let parsed = match form {
        DerForm::Pkcs8 => KeyPair::from_pkcs8(der),
        DerForm::Pkcs1 => KeyPair::from_der(der),
    };
    match parsed {
        Ok(pair) => RsaPrivateKey::from_pair(pair),
        Err(e) => {
            // AWS-LC refuses keys outside 2048..=8192 bits without saying the size; read it
            // from the DER so the error names it, as it does for public keys.
            let inner = match form {
                DerForm::Pkcs8 => pkcs8_to_pkcs1(der),
                DerForm::Pkcs1 => Some(der),
            };
            match inner.and_then(pkcs1_private_modulus_bits) {
                Some(bits) if !(KEY_BITS_MIN..=KEY_BITS_MAX).contains(&bits) => {
                    Err(KeyError::Size { bits })
                }
                _ => Err(invalid_priv(e)),
            }
        }
    }
    .and_then(|key| {
        check_size(key.bits())?;
        Ok(key)
    })
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

/// The DER inside one PEM block: the Base64 lines between `-----BEGIN <label>-----` and the
/// matching `-----END <label>-----` (CRLF or LF). Encapsulated headers (`Proc-Type:
/// 4,ENCRYPTED`: an encrypted legacy PEM) are refused.
fn pem_der((label, pem): (&str, &str), kind: &'static str) -> Result<Vec<u8>, KeyError> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let body = pem
        .strip_prefix(begin.as_str())
        .ok_or(KeyError::NotPemOrBase64("PEM header is not closed"))?;
    let body = body
        .split_once(end.as_str())
        .map(|(inside, _)| inside)
        .ok_or(KeyError::NotPemOrBase64(
            "PEM block has no matching END line",
        ))?;
    if body.contains(':') {
        return Err(KeyError::Invalid {
            kind,
            detail: "encrypted or annotated PEM is not supported".to_owned(),
        });
    }
    let compact: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| KeyError::NotPemOrBase64("the PEM body is not valid Base64"))
}

/// PEM with 64-character lines and LF endings, as OpenSSL writes it.
pub(crate) fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = Zeroizing::new(STANDARD.encode(der));
    let mut out = String::with_capacity(b64.len() + b64.len() / 64 + 2 * label.len() + 40);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    for line in b64.as_bytes().chunks(64) {
        // Base64 output is ASCII, so every chunk is UTF-8.
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
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

fn check_size(bits: usize) -> Result<(), KeyError> {
    if !(KEY_BITS_MIN..=KEY_BITS_MAX).contains(&bits) {
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

// ---- the few DER structures we look inside ----------------------------------------------------
//
// Only to name a refused key's size and to give the PKCS#1 forms; AWS-LC does the parsing that
// matters. Each reader is bounded by its input and returns `None` on anything unexpected.

/// One DER element: `(tag, contents, rest)`. Definite lengths up to 4 bytes only.
fn der_element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (bytes, rest) = rest.split_at(count);
        (
            bytes.iter().fold(0usize, |n, b| (n << 8) | usize::from(*b)),
            rest,
        )
    };
    if rest.len() < len {
        return None;
    }
    let (contents, rest) = rest.split_at(len);
    Some((tag, contents, rest))
}

const DER_INTEGER: u8 = 0x02;
const DER_BIT_STRING: u8 = 0x03;
const DER_OCTET_STRING: u8 = 0x04;
const DER_SEQUENCE: u8 = 0x30;

/// The contents of a SEQUENCE that is the whole input.
fn der_sequence(input: &[u8]) -> Option<&[u8]> {
    match der_element(input)? {
        (DER_SEQUENCE, contents, []) => Some(contents),
        _ => None,
    }
}

/// PKCS#8 `PrivateKeyInfo` → the `RSAPrivateKey` (PKCS#1) inside its `privateKey` OCTET STRING.
fn pkcs8_to_pkcs1(der: &[u8]) -> Option<&[u8]> {
    let inner = der_sequence(der)?;
    let (DER_INTEGER, _version, rest) = der_element(inner)? else {
        return None;
    };
    let (DER_SEQUENCE, _algorithm, rest) = der_element(rest)? else {
        return None;
    };
    match der_element(rest)? {
        (DER_OCTET_STRING, key, _) => Some(key),
        _ => None,
    }
}

/// SubjectPublicKeyInfo → the `RSAPublicKey` (PKCS#1) inside its BIT STRING.
fn spki_to_pkcs1(der: &[u8]) -> Option<Vec<u8>> {
    let inner = der_sequence(der)?;
    let (DER_SEQUENCE, _algorithm, rest) = der_element(inner)? else {
        return None;
    };
    match der_element(rest)? {
        (DER_BIT_STRING, [0, key @ ..], _) => Some(key.to_vec()),
        _ => None,
    }
}

/// The modulus length (bytes × 8, as [`RsaPublicKey::bits`]) of a PKCS#1 `RSAPrivateKey`.
fn pkcs1_private_modulus_bits(der: &[u8]) -> Option<usize> {
    let inner = der_sequence(der)?;
    let (DER_INTEGER, _version, rest) = der_element(inner)? else {
        return None;
    };
    modulus_bits(rest)
}

/// The modulus length of a PKCS#1 `RSAPublicKey`.
fn pkcs1_public_modulus_bits(der: &[u8]) -> Option<usize> {
    modulus_bits(der_sequence(der)?)
}

/// The byte length × 8 of the INTEGER at the start of `input`, without leading zero bytes.
fn modulus_bits(input: &[u8]) -> Option<usize> {
    let (DER_INTEGER, modulus, _) = der_element(input)? else {
        return None;
    };
    let significant = modulus.iter().skip_while(|b| **b == 0).count();
    Some(significant * 8)
}
