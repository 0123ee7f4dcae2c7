//! Sealing: an integration's text config encrypted at rest ([`seal`], [`open`]), the decrypted
//! and redacted entries read from a stored row, and the row's Apprise config key.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use herald_workflows::apprise::{ConfigKey, TaggedUrl};
use uuid::Uuid;

use super::config::{Entry, parse_config_text};
use super::redact::redact;
use crate::db::models::Integration;
use crate::secrets::SecretKey;

/// Format version of [`seal`]ed configs (first byte).
const SEALED_V1: u8 = 1;
const NONCE_LEN: usize = 24;

fn cipher(keys: &SecretKey) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(&keys.derive("integrations").into())
}

fn associated_data(id: Uuid) -> Vec<u8> {
    let mut aad = b"herald-integration-config:".to_vec();
    aad.extend_from_slice(id.as_bytes());
    aad
}

/// Encrypts the config `text` of integration `id`: version byte, random 24-byte nonce, then the
/// ciphertext with its tag. The id is bound as associated data, so a ciphertext copied to
/// another row does not open there.
pub fn seal(keys: &SecretKey, id: Uuid, text: &str) -> anyhow::Result<Vec<u8>> {
    use rand::RngCore;
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let sealed = cipher(keys)
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: text.as_bytes(), aad: &associated_data(id) })
        .map_err(|_| anyhow::anyhow!("cannot encrypt an integration config"))?;
    let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
    out.push(SEALED_V1);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Decrypts what [`seal`] made for integration `id`. Fails on another row's ciphertext, a
/// changed secret key, or damage.
pub fn open(keys: &SecretKey, id: Uuid, sealed: &[u8]) -> anyhow::Result<String> {
    let (Some(&SEALED_V1), Some(nonce), Some(body)) =
        (sealed.first(), sealed.get(1..1 + NONCE_LEN), sealed.get(1 + NONCE_LEN..))
    else {
        anyhow::bail!("integration {id}: the stored config is not in a known format");
    };
    let plain = cipher(keys)
        .decrypt(XNonce::from_slice(nonce), Payload { msg: body, aad: &associated_data(id) })
        .map_err(|_| {
            anyhow::anyhow!(
                "integration {id}: the stored config does not decrypt (was HERALD_SECRET_KEY changed?)"
            )
        })?;
    String::from_utf8(plain).map_err(|_| anyhow::anyhow!("integration {id}: the stored config is not text"))
}

/// The decrypted entries of `integration`.
pub fn entries_of(keys: &SecretKey, integration: &Integration) -> anyhow::Result<Vec<Entry>> {
    Ok(parse_config_text(&open(keys, integration.id, &integration.config_ciphertext)?))
}

/// The decrypted URLs of `integration` with their tags, to send them stateless when the Apprise
/// API is locked.
pub fn tagged_urls(keys: &SecretKey, integration: &Integration) -> anyhow::Result<Vec<TaggedUrl>> {
    Ok(entries_of(keys, integration)?.into_iter().map(|e| TaggedUrl { url: e.url, tags: e.tags }).collect())
}

/// The URLs of `integration`, redacted, with their tags, for pages and the API.
pub fn redacted_entries(keys: &SecretKey, integration: &Integration) -> Vec<(String, Vec<String>)> {
    if integration.is_email() {
        // The operator's mail URL is not the user's business: only the address it sends to.
        let address = super::email::address_of(keys, integration).unwrap_or_default();
        return vec![(format!("mailto:{address}"), Vec::new())];
    }
    match entries_of(keys, integration) {
        Ok(entries) => entries.into_iter().map(|e| (redact(&e.url), e.tags)).collect(),
        Err(e) => {
            tracing::error!(error = %e, "cannot read an integration's config");
            Vec::new()
        }
    }
}

/// How a sealed config key starts in the database; a key without it is a plain one stored
/// before keys were sealed (sealed on the next start: [`crate::integrations::seal_stored_keys`]).
pub(crate) const SEALED_KEY_PREFIX: &str = "s1.";

fn key_associated_data(id: Uuid) -> Vec<u8> {
    let mut aad = b"herald-integration-key:".to_vec();
    aad.extend_from_slice(id.as_bytes());
    aad
}

/// The Apprise config key of integration `id` as the database stores it: encrypted like the
/// config (whoever reads the database cannot use the key against the Apprise API).
pub fn seal_config_key(keys: &SecretKey, id: Uuid, key: &str) -> anyhow::Result<String> {
    use base64::Engine;
    use rand::RngCore;
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let sealed = cipher(keys)
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: key.as_bytes(), aad: &key_associated_data(id) })
        .map_err(|_| anyhow::anyhow!("cannot encrypt a config key"))?;
    let mut raw = nonce.to_vec();
    raw.extend_from_slice(&sealed);
    Ok(format!("{SEALED_KEY_PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)))
}

/// The Apprise config key of integration `id` from what the database stores.
pub fn open_config_key(keys: &SecretKey, id: Uuid, stored: &str) -> anyhow::Result<ConfigKey> {
    use base64::Engine;
    let plain = match stored.strip_prefix(SEALED_KEY_PREFIX) {
        None => stored.to_owned(),
        Some(encoded) => {
            let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(encoded)
                .map_err(|_| anyhow::anyhow!("integration {id}: the stored config key is damaged"))?;
            let (Some(nonce), Some(body)) = (raw.get(..NONCE_LEN), raw.get(NONCE_LEN..)) else {
                anyhow::bail!("integration {id}: the stored config key is damaged");
            };
            let bytes = cipher(keys)
                .decrypt(XNonce::from_slice(nonce), Payload { msg: body, aad: &key_associated_data(id) })
                .map_err(|_| {
                    anyhow::anyhow!(
                        "integration {id}: the stored config key does not decrypt (was HERALD_SECRET_KEY changed?)"
                    )
                })?;
            String::from_utf8(bytes)
                .map_err(|_| anyhow::anyhow!("integration {id}: the config key is not text"))?
        }
    };
    ConfigKey::parse(&plain)
        .map_err(|_| anyhow::anyhow!("integration {id}: the stored config key is not valid"))
}

pub(super) fn config_key(keys: &SecretKey, integration: &Integration) -> anyhow::Result<ConfigKey> {
    open_config_key(keys, integration.id, &integration.config_key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_config_keys_open_only_for_their_row_and_key() {
        let keys = SecretKey::generate();
        let id = Uuid::new_v4();
        let key = crate::secrets::random_token();
        let stored = seal_config_key(&keys, id, &key).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(stored.starts_with(SEALED_KEY_PREFIX) && !stored.contains(&key));
        assert!((22..=128).contains(&stored.len()), "fits the column: {}", stored.len());
        let opened = open_config_key(&keys, id, &stored).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(opened.as_str(), key);
        assert!(open_config_key(&keys, Uuid::new_v4(), &stored).is_err(), "another row's id");
        assert!(open_config_key(&SecretKey::generate(), id, &stored).is_err(), "another key");
        let legacy = open_config_key(&keys, id, &key).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(legacy.as_str(), key, "a key stored before sealing still works");
    }

    #[test]
    fn sealed_configs_open_only_for_their_row_and_key() {
        let keys = SecretKey::generate();
        let id = Uuid::new_v4();
        let sealed = seal(&keys, id, "email=mailtos://u:pw@example.org").unwrap_or_else(|e| panic!("{e:?}"));
        assert!(!String::from_utf8_lossy(&sealed).contains("mailtos"));
        assert_eq!(
            open(&keys, id, &sealed).unwrap_or_else(|e| panic!("{e:?}")),
            "email=mailtos://u:pw@example.org"
        );
        assert!(open(&keys, Uuid::new_v4(), &sealed).is_err(), "another row's id");
        assert!(open(&SecretKey::generate(), id, &sealed).is_err(), "another key");
        let mut damaged = sealed.clone();
        let last = damaged.len() - 1;
        damaged[last] ^= 1;
        assert!(open(&keys, id, &damaged).is_err());
        assert!(open(&keys, id, &[]).is_err());
        assert_ne!(
            seal(&keys, id, "x").unwrap_or_else(|e| panic!("{e:?}")),
            seal(&keys, id, "x").unwrap_or_else(|e| panic!("{e:?}")),
            "random nonces"
        );
    }
}
