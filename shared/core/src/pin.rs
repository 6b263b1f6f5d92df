//! The wallet PIN: stored only as an Argon2id hash (a PHC string with its own random salt),
//! checked in constant time by the `argon2` crate. Never logged, never in a URL.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Shortest PIN.
pub const PIN_DIGITS_MIN: usize = 4;
/// Longest PIN.
pub const PIN_DIGITS_MAX: usize = 12;

/// Argon2id, 19 MiB, 2 passes, 1 lane: OWASP's first recommended setting (about 20–40 ms of one
/// core optimised; small enough for a 256 MB Lambda).
fn argon2() -> Result<Argon2<'static>, PinError> {
    let params = Params::new(19 * 1024, 2, 1, None).map_err(|e| PinError::Hash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// A PIN that cannot be hashed or checked.
#[derive(Debug, thiserror::Error)]
pub enum PinError {
    /// Not 4 to 12 digits.
    #[error("a PIN is {PIN_DIGITS_MIN} to {PIN_DIGITS_MAX} digits")]
    Shape,
    /// The hasher failed (bad parameters or random source).
    #[error("PIN hashing failed: {0}")]
    Hash(String),
}

/// Whether `pin` has the shape of a PIN.
pub fn pin_shape_ok(pin: &str) -> bool {
    (PIN_DIGITS_MIN..=PIN_DIGITS_MAX).contains(&pin.len())
        && pin.bytes().all(|b| b.is_ascii_digit())
}

/// The Argon2id PHC string of `pin`, with a fresh 128-bit salt.
pub fn hash_pin(pin: &str) -> Result<String, PinError> {
    if !pin_shape_ok(pin) {
        return Err(PinError::Shape);
    }
    let salt_bytes =
        crate::bindings::random_bytes::<16>().map_err(|e| PinError::Hash(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| PinError::Hash(e.to_string()))?;
    argon2()?
        .hash_password(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PinError::Hash(e.to_string()))
}

/// Whether `pin` matches the stored hash (a malformed hash never matches).
pub fn verify_pin(stored: &str, pin: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    match argon2() {
        Ok(a) => a.verify_password(pin.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_hash_is_argon2id_salted_and_verifies_only_its_pin() {
        let a = hash_pin("123456").unwrap();
        let b = hash_pin("123456").unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "salted");
        assert!(!a.contains("123456"));
        assert!(verify_pin(&a, "123456"));
        assert!(!verify_pin(&a, "123457"));
        assert!(!verify_pin("garbage", "123456"));
        assert!(matches!(hash_pin("12a4"), Err(PinError::Shape)));
        assert!(matches!(hash_pin("123"), Err(PinError::Shape)));
    }
}
