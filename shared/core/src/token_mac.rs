//! The server-held key account-binding tokens are derived from (`docs/decisions.md`, "authNotify
//! (issue 18)", the decision for consultUnbinding).
//!
//! A binding's access and refresh tokens are `authId ‖ base64url(HMAC(K, authId ‖ 0 ‖
//! generation ‖ 0 ‖ label))`: `generation` is the binding's token generation (0 on the code
//! exchange, + 1 per refresh) and `label` is `access` or `refresh`. K never leaves its holder:
//! in AWS a KMS HMAC key (`HMAC_256`, `GenerateMac`, `mpp_aws::kms_mac`), locally a key file
//! ([`LocalTokenMac`]). So the store keeps only hashes, a re-sent applyToken gets the same pair
//! (same generation), and whoever holds `kms:GenerateMac` on K (apply-token, the wallet's
//! unbinding function, auth-notify) can name a binding's live token without the table holding it.
//!
//! The port is one call, sized to that one permission.

use crate::cause::Cause;
use crate::ids::Secret;
use async_trait::async_trait;
use base64::Engine as _;
use std::fmt;

/// Bytes of a MAC (HMAC-SHA256 / KMS `HMAC_256`).
pub const MAC_BYTES: usize = 32;
/// The least key a [`LocalTokenMac`] accepts: as long as the MAC (RFC 2104's recommendation).
pub const LOCAL_KEY_BYTES_MIN: usize = 32;

/// The label of the access token in the derivation.
pub const ACCESS_LABEL: &str = "access";
/// The label of the refresh token in the derivation.
pub const REFRESH_LABEL: &str = "refresh";

/// Why a MAC could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TokenMacError {
    /// No key is configured for this function (`TOKEN_MAC_KEY_ID` / `--token-mac-key-file`).
    #[error("no token key is configured")]
    NotConfigured,
    /// The key's holder (KMS) did not answer or refused.
    #[error("token key unavailable: {0}")]
    Unavailable(#[source] Cause),
}

/// HMAC under the server-held token key.
#[async_trait]
pub trait TokenMac: Send + Sync {
    /// `HMAC-SHA256(K, message)`.
    async fn mac(&self, message: &[u8]) -> Result<[u8; MAC_BYTES], TokenMacError>;
}

/// The key in this process (development, tests, `mpp serve`): HMAC-SHA256 with AWS-LC.
pub struct LocalTokenMac {
    key: aws_lc_rs::hmac::Key,
}

impl LocalTokenMac {
    /// A MAC under `key` (at least [`LOCAL_KEY_BYTES_MIN`] bytes).
    pub fn new(key: &[u8]) -> Result<LocalTokenMac, String> {
        if key.len() < LOCAL_KEY_BYTES_MIN {
            return Err(format!(
                "a token key has at least {LOCAL_KEY_BYTES_MIN} bytes, this one {}",
                key.len()
            ));
        }
        Ok(LocalTokenMac {
            key: aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key),
        })
    }

    /// A MAC under a key written as hex (a key file's content, surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> Result<LocalTokenMac, String> {
        let key = hex::decode(text.trim()).map_err(|_| "the token key is not hex".to_string())?;
        LocalTokenMac::new(&key)
    }
}

impl fmt::Debug for LocalTokenMac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LocalTokenMac(<key>)")
    }
}

#[async_trait]
impl TokenMac for LocalTokenMac {
    async fn mac(&self, message: &[u8]) -> Result<[u8; MAC_BYTES], TokenMacError> {
        let tag = aws_lc_rs::hmac::sign(&self.key, message);
        let mut out = [0u8; MAC_BYTES];
        out.copy_from_slice(tag.as_ref());
        Ok(out)
    }
}

/// The MAC of a function that was given no key: every call fails (`NotConfigured`), so a
/// function that needs a token answers "unknown" instead of a token nobody can re-derive.
#[derive(Debug, Default)]
pub struct UnconfiguredTokenMac;

#[async_trait]
impl TokenMac for UnconfiguredTokenMac {
    async fn mac(&self, _message: &[u8]) -> Result<[u8; MAC_BYTES], TokenMacError> {
        Err(TokenMacError::NotConfigured)
    }
}

/// The message a token is the MAC of: `authId ‖ 0 ‖ generation (8 bytes, big-endian) ‖ 0 ‖
/// label` (the zero bytes keep the parts apart; an `authId` is hex, so holds no zero byte).
pub fn token_message(auth_id: &str, generation: u64, label: &str) -> Vec<u8> {
    let mut m = Vec::with_capacity(auth_id.len() + 10 + label.len());
    m.extend_from_slice(auth_id.as_bytes());
    m.push(0);
    m.extend_from_slice(&generation.to_be_bytes());
    m.push(0);
    m.extend_from_slice(label.as_bytes());
    m
}

/// One token of a binding: `authId ‖ base64url(MAC)`.
pub async fn derive_token(
    mac: &dyn TokenMac,
    auth_id: &str,
    generation: u64,
    label: &str,
) -> Result<Secret, TokenMacError> {
    let tag = mac.mac(&token_message(auth_id, generation, label)).await?;
    let part = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag);
    Ok(Secret::new(format!("{auth_id}{part}")))
}

/// A binding's pair of one generation, derived (never stored).
#[derive(Clone, PartialEq, Eq)]
pub struct DerivedPair {
    /// The generation it belongs to.
    pub generation: u64,
    /// The access token.
    pub access: Secret,
    /// The refresh token.
    pub refresh: Secret,
}

impl fmt::Debug for DerivedPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DerivedPair")
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

/// The pair of `generation` of binding `auth_id`: two MACs.
pub async fn derive_pair(
    mac: &dyn TokenMac,
    auth_id: &str,
    generation: u64,
) -> Result<DerivedPair, TokenMacError> {
    Ok(DerivedPair {
        generation,
        access: derive_token(mac, auth_id, generation, ACCESS_LABEL).await?,
        refresh: derive_token(mac, auth_id, generation, REFRESH_LABEL).await?,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn a_pair_is_the_same_for_one_generation_and_new_for_the_next() {
        let mac = LocalTokenMac::new(&[7u8; 32]).unwrap();
        let id = "0123456789abcdef0123456789abcdef";
        let a = derive_pair(&mac, id, 0).await.unwrap();
        let b = derive_pair(&mac, id, 0).await.unwrap();
        let c = derive_pair(&mac, id, 1).await.unwrap();
        assert!(a == b);
        assert!(a.access != c.access && a.refresh != c.refresh && a.access != a.refresh);
        assert_eq!(crate::bindings::auth_id_of(a.access.expose()), Some(id));
        let other = LocalTokenMac::new(&[8u8; 32]).unwrap();
        assert!(derive_pair(&other, id, 0).await.unwrap().access != a.access);
        assert!(!format!("{a:?}").contains(a.access.expose()));
    }

    #[tokio::test]
    async fn known_answers_and_short_keys_refused() {
        // Computed independently (Python's hmac module).
        let mac = LocalTokenMac::new(&[0x0bu8; 32]).unwrap();
        assert_eq!(
            hex::encode(mac.mac(b"Hi There").await.unwrap()),
            "198a607eb44bfbc69903a0f1cf2bbdc5ba0aa3f3d9ae3c1c7a3b1696a0b68cf7"
        );
        let mac = LocalTokenMac::new(&[7u8; 32]).unwrap();
        let id = "0123456789abcdef0123456789abcdef";
        let access = derive_token(&mac, id, 0, ACCESS_LABEL).await.unwrap();
        assert_eq!(
            access.expose(),
            format!("{id}pgV23wKk2o1xgUSfmd9qa3o7y53xcdwtPvmE_g_oyPg")
        );
        assert!(LocalTokenMac::new(&[1u8; 16]).is_err());
        assert!(LocalTokenMac::from_hex("zz").is_err());
        assert!(UnconfiguredTokenMac.mac(b"x").await.is_err());
    }
}
