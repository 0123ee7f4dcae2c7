//! Argon2id password hashes, computed off the async threads.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::sync::LazyLock;

use crate::domain::Password;

/// Hashes a new password (argon2id, default parameters, random salt).
pub async fn hash(password: &Password) -> anyhow::Result<String> {
    let plain = password.expose().to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        Argon2::default()
            .hash_password(plain.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
    })
    .await?
}

/// A hash of nothing anybody knows, verified against when the account does not exist so that
/// an unknown email takes as long as a wrong password.
static DUMMY_HASH: LazyLock<Option<String>> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(crate::secrets::random_token().as_bytes(), &salt)
        .ok()
        .map(|h| h.to_string())
});

/// Whether `candidate` matches `stored`; `None` (no account, or no password set) takes the same
/// time and fails.
pub async fn verify(stored: Option<String>, candidate: &str) -> bool {
    let candidate = candidate.to_owned();
    tokio::task::spawn_blocking(move || {
        let (hash, real) = match stored {
            Some(h) => (h, true),
            None => (DUMMY_HASH.clone().unwrap_or_default(), false),
        };
        let Ok(parsed) = PasswordHash::new(&hash) else { return false };
        let ok = Argon2::default().verify_password(candidate.as_bytes(), &parsed).is_ok();
        ok && real
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_differ() {
        let pw = Password::parse("correct horse battery").unwrap_or_else(|e| panic!("{e}"));
        let a = hash(&pw).await.unwrap_or_else(|e| panic!("{e}"));
        let b = hash(&pw).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b, "salted");
        assert!(verify(Some(a.clone()), "correct horse battery").await);
        assert!(!verify(Some(a), "wrong horse battery").await);
        assert!(!verify(None, "anything at all").await);
    }
}
