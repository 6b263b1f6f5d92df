//! Identifiers and secrets that must never reach a log in full.

use sha2::{Digest, Sha256};
use std::fmt;

/// The MPP's id of a wallet user. `Debug` and `Display` show only the last four characters, so
/// a customer id in a log line or an error is never complete; `as_str` gives the whole value for
/// the wire and the store.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CustomerId(String);

impl CustomerId {
    /// Wraps a customer id.
    pub fn new(id: impl Into<String>) -> CustomerId {
        CustomerId(id.into())
    }

    /// The whole id, for the wire and the store only.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A log-safe form: `…0001`.
    pub fn masked(&self) -> String {
        let tail: String = self
            .0
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("…{tail}")
    }
}

impl fmt::Debug for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CustomerId({})", self.masked())
    }
}

impl fmt::Display for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// A secret string (access token, payment code): compared and hashed, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    /// The secret itself; call only to hash it or to put it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The SHA-256 of the secret, which is all the store ever keeps.
    pub fn hash(&self) -> SecretHash {
        SecretHash(hex::encode(Sha256::digest(self.0.as_bytes())))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Lower-case hex SHA-256 of a secret: the store key for tokens and payment codes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SecretHash(pub String);

impl SecretHash {
    /// The hex string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_ids_and_secrets_never_print_in_full() {
        let c = CustomerId::new("2160000000000001");
        assert_eq!(format!("{c}"), "…0001");
        assert!(!format!("{c:?}").contains("216000000000"));
        let s = Secret::new("2810000000000000000000000000JWDQ");
        assert!(!format!("{s:?}").contains("JWDQ"));
        assert_eq!(s.hash().as_str().len(), 64);
        assert_eq!(
            s.hash(),
            Secret::new("2810000000000000000000000000JWDQ").hash()
        );
    }
}
