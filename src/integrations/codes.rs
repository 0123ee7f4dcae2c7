//! Confirmation codes: how a code is drawn ([`new_code`]) and stored, how long it works, and how
//! often it may be tried or sent again.

use uuid::Uuid;

use crate::secrets::{SecretKey, encode_hex};

/// How long a confirmation code works.
pub const CODE_MINUTES: i64 = 30;
/// Wrong codes allowed before a new one must be sent.
pub const MAX_CODE_ATTEMPTS: i64 = 5;
/// A new code is sent at most this often (it goes to someone's phone or inbox).
pub const RESEND_SECONDS: i64 = 30;

/// A fresh 6-digit code, uniformly drawn.
pub fn new_code() -> String {
    use rand::Rng;
    format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000u32))
}

/// How a code is stored: an HMAC under Herald's key, bound to the integration.
pub(super) fn code_hash(keys: &SecretKey, id: Uuid, code: &str) -> String {
    encode_hex(&keys.sign("integration-confirmation", format!("{id}:{code}").as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_hashed_per_integration() {
        let keys = SecretKey::generate();
        let code = new_code();
        assert!(code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()));
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        assert_eq!(code_hash(&keys, a, &code), code_hash(&keys, a, &code));
        assert_ne!(code_hash(&keys, a, &code), code_hash(&keys, b, &code));
        assert!(!code_hash(&keys, a, &code).contains(&code));
    }
}
