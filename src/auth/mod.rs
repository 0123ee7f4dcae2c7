//! Who is calling: passwords, random tokens, browser sessions and API tokens.

pub mod password;
pub mod session;
pub mod throttle;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// A fresh random token (256 bits, URL-safe), for cookies, mailed links and API tokens.
pub fn random_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// How a token is stored: SHA-256, hex. The token itself is never stored.
pub fn hash_token(token: &str) -> String {
    crate::secrets::encode_hex(&Sha256::digest(token.as_bytes()))
}
