//! Herald's secret key: from `HERALD_SECRET_KEY`, or a key file created (mode 0600) in the data
//! folder on first start. Every other key (CSRF, flash cookies, encryption) is derived from it
//! with HMAC-SHA-256 and a purpose label, so one secret can be rotated in one place.

use std::path::Path;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::{ConfigError, io_reason};

/// A fresh random token (256 bits, URL-safe), for cookies, mailed links and API tokens.
pub fn random_token() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// How a token is stored: SHA-256, hex. The token itself is never stored.
pub fn hash_token(token: &str) -> String {
    use sha2::Digest;
    encode_hex(&Sha256::digest(token.as_bytes()))
}

const KEY_FILE: &str = "secret.key";
const SETTING: &str = "HERALD_SECRET_KEY";

/// 32 secret bytes. `Debug` never shows them.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

impl SecretKey {
    /// Parses 64 hex characters (`openssl rand -hex 32`).
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let raw = raw.trim();
        let bytes = decode_hex(raw).ok_or_else(|| {
            ConfigError::new(
                SETTING,
                "must be 64 hexadecimal characters; generate one with `openssl rand -hex 32`",
            )
        })?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| {
            ConfigError::new(
                SETTING,
                "must be 64 hexadecimal characters; generate one with `openssl rand -hex 32`",
            )
        })?;
        Ok(Self(key))
    }

    /// The key from `explicit`, or else from the key file in `data_dir`, created if missing.
    pub fn load(explicit: Option<&str>, data_dir: &Path) -> Result<Self, ConfigError> {
        if let Some(raw) = explicit.filter(|s| !s.trim().is_empty()) {
            return Self::parse(raw);
        }
        let path = data_dir.join(KEY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&text).map_err(|_| {
                ConfigError::new(
                    SETTING,
                    format!("the key file {} is damaged; restore it from a backup", path.display()),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::generate();
                write_private(&path, &encode_hex(&key.0)).map_err(|e| {
                    ConfigError::new(
                        SETTING,
                        format!("cannot create the key file {}: {}", path.display(), io_reason(&e)),
                    )
                })?;
                tracing::info!(path = %path.display(), "created a new secret key file; back it up with the data folder");
                Ok(key)
            }
            Err(e) => Err(ConfigError::new(
                SETTING,
                format!("cannot read the key file {}: {}", path.display(), io_reason(&e)),
            )),
        }
    }

    /// A fresh random key.
    pub fn generate() -> Self {
        use rand::RngCore;
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        Self(key)
    }

    /// A 32-byte key for one purpose (e.g. `"csrf"`), derived from this one.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        self.mac(purpose.as_bytes(), b"herald-key-derivation")
    }

    /// HMAC-SHA-256 of `message` under the key derived for `purpose`.
    pub fn sign(&self, purpose: &str, message: &[u8]) -> [u8; 32] {
        let sub = self.derive(purpose);
        mac_with(&sub, message)
    }

    fn mac(&self, message: &[u8], context: &[u8]) -> [u8; 32] {
        let mut m = message.to_vec();
        m.extend_from_slice(context);
        mac_with(&self.0, &m)
    }
}

fn mac_with(key: &[u8], message: &[u8]) -> [u8; 32] {
    // ok: HMAC accepts keys of any length, so new_from_slice cannot fail here.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// Constant-time comparison of two byte strings.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = opts.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

/// Lower-case hex.
pub fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hex_and_rejects_the_rest() {
        assert!(SecretKey::parse(&"ab".repeat(32)).is_ok());
        assert!(SecretKey::parse("short").is_err());
        assert!(SecretKey::parse(&"zz".repeat(32)).is_err());
        assert_eq!(format!("{:?}", SecretKey::parse(&"ab".repeat(32)).ok()), "Some(SecretKey(***))");
    }

    #[test]
    fn key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let a = SecretKey::load(None, dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let b = SecretKey::load(None, dir.path()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a.derive("x"), b.derive("x"));
        assert_ne!(a.derive("x"), a.derive("y"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE)).map(|m| m.permissions().mode() & 0o777);
            assert_eq!(mode.ok(), Some(0o600));
        }
    }
}
