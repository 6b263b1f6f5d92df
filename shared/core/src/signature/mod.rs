//! Alipay+ message signatures (`alipayplus-apis.md` §2–3): RSA256, that is RSA PKCS#1 v1.5 with
//! SHA-256, over `<METHOD> <path>\n<Client-Id>.<time>.<body bytes>`.
//!
//! The pure parts live here: the content to sign ([`content_to_sign`]), the `Signature` header
//! ([`parse_signature_header`], [`signature_header_value`]), key loading in the forms partners
//! hand out ([`load_public_key`], [`load_private_key`]), verification of requests and responses
//! ([`verify_request`], [`verify_response`], [`verify_with_time_header`]) and the [`Signer`] port
//! with its in-process adapter [`LocalSigner`]. The KMS signers live in `mpp-aws`.
//!
//! Decisions (the why is in `docs/signing.md`):
//! - a missing or malformed `Signature`, `Request-Time` or `Response-Time` header, an algorithm
//!   other than `RSA256`, a time outside the skew window and a signature that does not verify all
//!   answer `INVALID_SIGNATURE`; a missing or unknown `Client-Id` answers `INVALID_CLIENT`; an
//!   unknown `keyVersion` (or no key at all) answers `KEY_NOT_FOUND`;
//! - the skew window defaults to [`DEFAULT_MAX_SKEW`] (5 minutes) either side of now;
//! - the content is built from the header bytes exactly as received, never re-formatted.

mod content;
mod error;
mod header;
mod keys;
mod sign;
mod verify;

#[cfg(test)]
mod tests;

pub use content::content_to_sign;
pub use error::SignatureError;
pub use header::{
    encode_signature, parse_signature_header, signature_header_value, SignatureHeader,
    SIGNATURE_HEADER_BYTES_MAX,
};
pub use keys::{
    generate_key_pair, load_private_key, load_private_key_der, load_public_key, private_key_pem,
    public_key_base64_der, public_key_pem, KeyError, RsaPrivateKey, RsaPublicKey, KEY_BITS_MIN,
};
pub use sign::{sign_headers, LocalSigner, Signer, SignerError, CONTENT_TYPE_JSON};
pub use verify::{
    parse_wire_time, verify_request, verify_response, verify_with_time_header, KeySet, Verified,
    VerifierConfig, VerifyPolicy, DEFAULT_MAX_SKEW,
};

/// The only algorithm name Alipay+ defines: RSA PKCS#1 v1.5 with SHA-256.
pub const ALGORITHM_RSA256: &str = "RSA256";

/// Header names, as we write them (lookups are case-insensitive).
pub mod header_names {
    /// The caller's (request) or answerer's (response) client id.
    pub const CLIENT_ID: &str = "Client-Id";
    /// The time a request was signed.
    pub const REQUEST_TIME: &str = "Request-Time";
    /// The time a response was signed.
    pub const RESPONSE_TIME: &str = "Response-Time";
    /// `algorithm=RSA256,keyVersion=N,signature=...`.
    pub const SIGNATURE: &str = "Signature";
    /// `application/json; charset=UTF-8`.
    pub const CONTENT_TYPE: &str = "Content-Type";
}
