//! The token key in KMS (`mpp_core::token_mac`): an `HMAC_256` / `GENERATE_VERIFY_MAC` key that
//! never leaves KMS; one `GenerateMac` (`HMAC_SHA_256`) per MAC. Only the functions that make or
//! name a binding's token hold `kms:GenerateMac` on it (apply-token, consult-unbinding, and
//! auth-notify, which rebuilds TOKEN_CREATED / TOKEN_CANCELED bodies at send time).

use aws_sdk_kms::error::DisplayErrorContext;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::MacAlgorithmSpec;
use aws_sdk_kms::Client;
use mpp_core::cause::Cause;
use mpp_core::token_mac::{TokenMac, TokenMacError, MAC_BYTES};

/// `GenerateMac` under one KMS HMAC key. The client carries the KMS timeouts of
/// `kms::kms_client` (2 s an attempt, 5 s in all: inside the 5 to 8 s Alipay+ waits).
#[derive(Clone)]
pub struct KmsTokenMac {
    /// The KMS client.
    pub client: Client,
    /// Key id, ARN or alias of the HMAC key.
    pub key_id: String,
}

impl std::fmt::Debug for KmsTokenMac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KmsTokenMac")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl KmsTokenMac {
    /// `GenerateMac` under `key_id`.
    pub fn new(client: Client, key_id: impl Into<String>) -> KmsTokenMac {
        KmsTokenMac {
            client,
            key_id: key_id.into(),
        }
    }
}

#[async_trait::async_trait]
impl TokenMac for KmsTokenMac {
    async fn mac(&self, message: &[u8]) -> Result<[u8; MAC_BYTES], TokenMacError> {
        let out = self
            .client
            .generate_mac()
            .key_id(&self.key_id)
            .mac_algorithm(MacAlgorithmSpec::HmacSha256)
            .message(Blob::new(message))
            .send()
            .await
            .map_err(|e| {
                TokenMacError::Unavailable(Cause::new(format!(
                    "KMS GenerateMac: {}",
                    DisplayErrorContext(&e)
                )))
            })?;
        let mac = out.mac.map(Blob::into_inner).unwrap_or_default();
        <[u8; MAC_BYTES]>::try_from(mac.as_slice()).map_err(|_| {
            TokenMacError::Unavailable(Cause::new(format!(
                "KMS GenerateMac answered {} bytes, not {MAC_BYTES}",
                mac.len()
            )))
        })
    }
}
