//! Confirmation codes: how a code is drawn ([`new_code`]) and stored, how long it works, and how
//! often it may be tried or sent again.
//!
//! Each URL of a channel receives its own code and the channel is confirmed by all of them (in
//! any order): a code that reached one's own inbox cannot enrol somebody else's webhook listed
//! beside it.

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

/// How a channel's codes are stored: one HMAC under Herald's key over all of them (sorted, so
/// the order they are entered in does not matter), bound to the integration.
pub(super) fn code_hash(keys: &SecretKey, id: Uuid, codes: &[String]) -> String {
    let mut sorted: Vec<&str> = codes.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    encode_hex(&keys.sign("integration-confirmation", format!("{id}:{}", sorted.join(":")).as_bytes()))
}

/// The `expected` 6-digit codes in what a person typed: digits, with any spaces, dashes,
/// commas or line breaks between them. `None` unless there are exactly `expected` codes.
pub(super) fn typed_codes(input: &str, expected: usize) -> Option<Vec<String>> {
    let digits: String =
        input.chars().filter(|c| !(c.is_whitespace() || matches!(c, '-' | ',' | ';' | '.'))).collect();
    if expected == 0 || digits.len() != 6 * expected || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(digits.as_bytes().chunks(6).map(|c| String::from_utf8_lossy(c).into_owned()).collect())
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
        let one = vec![code.clone()];
        assert_eq!(code_hash(&keys, a, &one), code_hash(&keys, a, &one));
        assert_ne!(code_hash(&keys, a, &one), code_hash(&keys, b, &one));
        assert!(!code_hash(&keys, a, &one).contains(&code));
    }

    #[test]
    fn every_code_counts_in_any_order() {
        let keys = SecretKey::generate();
        let id = Uuid::new_v4();
        let codes = vec!["111111".to_owned(), "222222".to_owned()];
        let swapped = vec!["222222".to_owned(), "111111".to_owned()];
        assert_eq!(code_hash(&keys, id, &codes), code_hash(&keys, id, &swapped));
        assert_ne!(code_hash(&keys, id, &codes), code_hash(&keys, id, &codes[..1]));
        assert_eq!(typed_codes("222 222, 111-111", 2), Some(swapped));
        assert_eq!(typed_codes("111111", 2), None, "one code is not enough for two URLs");
        assert_eq!(typed_codes("111111 222222", 1), None);
        assert_eq!(typed_codes("12345a", 1), None);
        assert_eq!(typed_codes(" 123 456 ", 1), Some(vec!["123456".to_owned()]));
    }
}
