//! Integrations: a user's notification channels, each one Apprise config stored in the Apprise
//! API under a random key. The rules shared by pages, the API and the operator commands.
//!
//! - **Secrets.** An integration's Apprise URLs carry passwords and tokens. Herald keeps the text
//!   config only encrypted ([`seal`]: XChaCha20-Poly1305 under a key derived from Herald's secret
//!   key, the integration id as associated data), shows only [`redact`]ed URLs and never logs
//!   them. The `config_key` is 256 random bits: anyone who knows it can send through the config.
//! - **Input.** A name and a list of URLs, each with tags ([`validate_entries`]); or one of the
//!   guided [`Service`] forms, which builds the URL from a few fields.
//! - **Confirmation.** A new or changed integration receives a 6-digit code through itself and
//!   becomes active only once its owner enters it, so nobody can make Herald message a channel
//!   that is not theirs. Codes are stored as an HMAC, expire and allow a few attempts.
//! - **Self-healing.** [`send_through`] re-pushes the stored config once when the Apprise API
//!   answers that the key is missing, and retries once; [`resync_all`] re-pushes every config.
//! - **Log-only mode.** Without an Apprise API, integrations can still be created; nothing is
//!   sent and confirmation codes are written to the log instead.
//!
//! Every lookup is scoped to the owner: another user's integration is [`ServiceError::NotFound`].

use std::collections::{BTreeSet, HashMap};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::{Duration, Utc};
use herald_workflows::apprise::{
    AppriseClient, AppriseError, BodyFormat, ConfigKey, Notice, NoticeType, Outcome, Removal,
};
use uuid::Uuid;

use crate::db::models::{Integration, User};
use crate::db::{Db, DbError};
use crate::domain::Name;
use crate::domain::{FieldErrors, ServiceError};
use crate::secrets::random_token;
use crate::secrets::{SecretKey, constant_time_eq, encode_hex};

/// At most this many URLs in one integration.
pub const MAX_URLS: usize = 20;
/// At most this many characters in one URL.
pub const MAX_URL_CHARS: usize = 2048;
/// At most this many tags on one URL.
pub const MAX_TAGS: usize = 10;
/// How long a confirmation code works.
pub const CODE_MINUTES: i64 = 30;
/// Wrong codes allowed before a new one must be sent.
pub const MAX_CODE_ATTEMPTS: i64 = 5;
/// A new code is sent at most this often (it goes to someone's phone or inbox).
pub const RESEND_SECONDS: i64 = 30;

/// Tags Apprise gives a meaning of its own; not usable as a channel's tag.
const RESERVED_TAGS: &[&str] = &["all", "always"];

// ---------------------------------------------------------------------------------------------
// Errors

/// Said to users who have not verified their address yet.
pub const VERIFY_FIRST: &str = "Verify your email address first: open the link we mailed you (or send it again \
     from your account page). Only verified accounts can add notification channels.";

/// Only verified users may add channels.
pub fn check_may_add(user: &User) -> Result<(), ServiceError> {
    if user.verified_at.is_some() { Ok(()) } else { Err(ServiceError::Forbidden(VERIFY_FIRST.into())) }
}

// ---------------------------------------------------------------------------------------------
// Tags and URLs

/// Checks one tag: lower-case letters, digits, `_` and `-`, 1–32 characters; `all` and
/// `always` are reserved. Upper-case input is lower-cased (Apprise ignores case anyway).
pub fn parse_tag(raw: &str) -> Result<String, String> {
    let tag = raw.trim().to_lowercase();
    if tag.is_empty() {
        return Err("Enter a tag, or remove the empty one.".into());
    }
    if tag.chars().count() > 32 {
        return Err(format!("The tag “{}…” is too long: use 32 characters at most.", short(&tag)));
    }
    if !tag.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-') {
        return Err(format!(
            "The tag “{}” can only use letters a–z, digits, “_” and “-” (like email or phone).",
            short(&tag)
        ));
    }
    if RESERVED_TAGS.contains(&tag.as_str()) {
        return Err(format!(
            "“{tag}” is reserved by Apprise (it means every URL); choose another tag, like email or phone."
        ));
    }
    Ok(tag)
}

/// Splits a typed list of tags (“email, phone urgent”) into its parts, unchecked.
pub fn split_tags(raw: &str) -> Vec<String> {
    raw.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// The first characters of `s`, for messages (never a whole secret).
fn short(s: &str) -> String {
    s.chars().take(32).collect()
}

/// Checks one Apprise URL: `service://…`, no spaces, at most [`MAX_URL_CHARS`]. Returns it
/// trimmed, with the scheme in lower case.
pub fn parse_url(raw: &str) -> Result<String, String> {
    let url = raw.trim();
    if url.is_empty() {
        return Err("Enter an Apprise URL, like ntfys://ntfy.sh/my-topic or mailtos://….".into());
    }
    if url.chars().count() > MAX_URL_CHARS {
        return Err(format!("This URL is too long: use {MAX_URL_CHARS} characters at most."));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("Remove the spaces and line breaks from this URL.".into());
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err("This is not an Apprise URL: it starts with the service, like ntfys://, tgram://, \
             discord:// or mailtos://."
            .into());
    };
    if scheme.len() < 2 || scheme.len() > 32 || !scheme.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(
            "This is not an Apprise URL: the service before “://” is made of letters and digits only, \
             like ntfys or mailtos."
                .into(),
        );
    }
    if rest.trim_matches('/').is_empty() {
        return Err(format!("Add the service's details after “{}://”.", scheme.to_lowercase()));
    }
    Ok(format!("{}://{rest}", scheme.to_lowercase()))
}

/// One URL of an integration with its tags (checked).
#[derive(Clone, PartialEq, Eq)]
pub struct Entry {
    /// The Apprise URL, with its secrets. Never log or render it.
    pub url: String,
    /// Lower-case tags, sorted, without duplicates.
    pub tags: Vec<String>,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry").field("url", &redact(&self.url)).field("tags", &self.tags).finish()
    }
}

/// One URL as submitted, with its tags, unchecked.
#[derive(Debug, Clone, Default)]
pub struct EntryInput {
    /// What was typed or pasted.
    pub url: String,
    /// The tags, one per item.
    pub tags: Vec<String>,
}

/// Checks every URL and tag; problems go to `errors` under `urls`, `urls[i].url` and
/// `urls[i].tags[j]`.
pub fn validate_entries(inputs: &[EntryInput], errors: &mut FieldErrors) -> Option<Vec<Entry>> {
    let before = errors.0.len();
    if inputs.is_empty() {
        errors.add("urls", "Add at least one Apprise URL.");
        return None;
    }
    if inputs.len() > MAX_URLS {
        errors.add(
            "urls",
            format!("Use {MAX_URLS} URLs at most in one channel; add another channel for more."),
        );
        return None;
    }
    let mut entries = Vec::with_capacity(inputs.len());
    let mut seen = BTreeSet::new();
    for (i, input) in inputs.iter().enumerate() {
        let n = i + 1;
        let url = match parse_url(&input.url) {
            Ok(url) => Some(url),
            Err(message) => {
                errors.add(&format!("urls[{i}].url"), format!("URL {n}: {message}"));
                None
            }
        };
        if input.tags.len() > MAX_TAGS {
            errors.add(&format!("urls[{i}].tags"), format!("URL {n}: use {MAX_TAGS} tags at most."));
        }
        let mut tags = BTreeSet::new();
        for (j, raw) in input.tags.iter().enumerate() {
            match parse_tag(raw) {
                Ok(tag) => {
                    tags.insert(tag);
                }
                Err(message) => errors.add(&format!("urls[{i}].tags[{j}]"), format!("URL {n}: {message}")),
            }
        }
        if let Some(url) = url {
            if !seen.insert(url.clone()) {
                errors.add(&format!("urls[{i}].url"), format!("URL {n} is the same as an earlier one."));
            }
            entries.push(Entry { url, tags: tags.into_iter().collect() });
        }
    }
    (errors.0.len() == before).then_some(entries)
}

/// The Apprise text config for `entries`: `tag1,tag2=url` lines, untagged URLs alone.
pub fn config_text(entries: &[Entry]) -> String {
    let mut out = String::new();
    for e in entries {
        if !e.tags.is_empty() {
            out.push_str(&e.tags.join(","));
            out.push('=');
        }
        out.push_str(&e.url);
        out.push('\n');
    }
    out
}

/// Reads back a text config written by [`config_text`].
pub fn parse_config_text(text: &str) -> Vec<Entry> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(';'))
        .map(|line| match line.split_once('=') {
            // Tags never contain ':', a URL always does before any '='.
            Some((tags, url)) if !tags.contains(':') => Entry {
                url: url.trim().to_owned(),
                tags: tags.split(',').map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect(),
            },
            _ => Entry { url: line.to_owned(), tags: Vec::new() },
        })
        .collect()
}

/// Every tag used by `entries`, sorted, once each.
pub fn all_tags(entries: &[Entry]) -> Vec<String> {
    entries.iter().flat_map(|e| e.tags.iter().cloned()).collect::<BTreeSet<_>>().into_iter().collect()
}

// ---------------------------------------------------------------------------------------------
// Redaction

/// Query parameters whose values are not secret and help recognise a URL.
const PLAIN_QUERY_KEYS: &[&str] =
    &["to", "cc", "bcc", "from", "name", "smtp", "mode", "format", "overflow", "priority", "lang"];

/// Schemes whose "host" part is a token, not a server name.
const TOKEN_HOST_SCHEMES: &[&str] = &["tgram", "discord", "slack", "pover", "pbul", "join", "ifttt"];

/// `url` with its secrets replaced by `****`: the scheme and a real server name stay; user
/// names, passwords, tokens, path segments and query values (but a few harmless ones such as
/// `to`) go. Works on any text, so a malformed URL never leaks either.
pub fn redact(url: &str) -> String {
    const MASK: &str = "****";
    let Some((scheme, rest)) = url.split_once("://") else { return MASK.to_owned() };
    let scheme = scheme.to_ascii_lowercase();
    if scheme.is_empty() || !scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c)) {
        return MASK.to_owned();
    }
    let (body, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let (authority, path) = match body.find('/') {
        Some(i) => (&body[..i], &body[i..]),
        None => (body, ""),
    };
    let (userinfo, host) = match authority.rfind('@') {
        Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
        None => (None, authority),
    };
    let mut out = format!("{scheme}://");
    if userinfo.is_some() {
        out.push_str(MASK);
        out.push('@');
    }
    if !host.is_empty() {
        out.push_str(if is_server_name(&scheme, host) { host } else { MASK });
    }
    for segment in path.split('/').skip(1) {
        out.push('/');
        if !segment.is_empty() {
            out.push_str(MASK);
        }
    }
    if let Some(query) = query {
        out.push('?');
        let pairs: Vec<String> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| match pair.split_once('=') {
                Some((k, v))
                    if PLAIN_QUERY_KEYS.contains(&k.to_ascii_lowercase().as_str()) && is_plain(v) =>
                {
                    format!("{k}={v}")
                }
                Some((k, _)) if is_plain(k) => format!("{k}={MASK}"),
                _ => MASK.to_owned(),
            })
            .collect();
        out.push_str(&pairs.join("&"));
    }
    out
}

/// Whether `host` (with an optional port) names a server rather than carrying a secret.
fn is_server_name(scheme: &str, host: &str) -> bool {
    if TOKEN_HOST_SCHEMES.contains(&scheme) {
        return false;
    }
    let (name, port) = match host.rsplit_once(':') {
        Some((n, _)) if !n.ends_with(']') && n.contains(':') => (host, None), // bare IPv6
        Some((n, p)) => (n, Some(p)),
        None => (host, None),
    };
    if port.is_some_and(|p| p.is_empty() || p.len() > 5 || !p.chars().all(|c| c.is_ascii_digit())) {
        return false;
    }
    let ipv6 = name.starts_with('[') && name.ends_with(']');
    ipv6 || name == "localhost"
        || (name.contains('.')
            && !name.starts_with('.')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'))
}

/// Plain words, addresses and numbers: safe to show as a query value.
fn is_plain(s: &str) -> bool {
    s.len() <= 100 && s.chars().all(|c| c.is_ascii_alphanumeric() || "@.-_%+".contains(c))
}

// ---------------------------------------------------------------------------------------------
// Encryption at rest

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

/// The URLs of `integration`, redacted, with their tags, for pages and the API.
pub fn redacted_entries(keys: &SecretKey, integration: &Integration) -> Vec<(String, Vec<String>)> {
    match entries_of(keys, integration) {
        Ok(entries) => entries.into_iter().map(|e| (redact(&e.url), e.tags)).collect(),
        Err(e) => {
            tracing::error!(error = %e, "cannot read an integration's config");
            Vec::new()
        }
    }
}

fn config_key(integration: &Integration) -> anyhow::Result<ConfigKey> {
    ConfigKey::parse(&integration.config_key)
        .map_err(|_| anyhow::anyhow!("integration {}: the stored config key is not valid", integration.id))
}

// ---------------------------------------------------------------------------------------------
// Confirmation codes

/// A fresh 6-digit code, uniformly drawn.
pub fn new_code() -> String {
    use rand::Rng;
    format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000u32))
}

/// How a code is stored: an HMAC under Herald's key, bound to the integration.
fn code_hash(keys: &SecretKey, id: Uuid, code: &str) -> String {
    encode_hex(&keys.sign("integration-confirmation", format!("{id}:{code}").as_bytes()))
}

// ---------------------------------------------------------------------------------------------
// Sending

/// The result of one send through an integration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The Apprise API's answer (after the retry, when there was one).
    pub outcome: Outcome,
    /// Whether the config had gone missing from the Apprise API and was pushed again.
    pub repushed: bool,
}

/// What happened to a message Herald meant to send through an integration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// No Apprise API is configured: nothing was sent (the message went to the log).
    LogOnly,
    /// It went to the Apprise API, with this result.
    Sent(Sent),
}

impl Delivery {
    /// Whether every target got it.
    pub fn delivered(&self) -> bool {
        matches!(self, Self::Sent(Sent { outcome: Outcome::Delivered, .. }))
    }

    /// Whether at least some target got it.
    pub fn reached_someone(&self) -> bool {
        matches!(self, Self::Sent(Sent { outcome: Outcome::Delivered | Outcome::Partial { .. }, .. }))
    }

    /// A short machine-readable word: `delivered`, `partial`, `key_missing`, `rejected`,
    /// `unavailable` or `log_only`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::LogOnly => "log_only",
            Self::Sent(s) => match s.outcome {
                Outcome::Delivered => "delivered",
                Outcome::Partial { .. } => "partial",
                Outcome::KeyMissing => "key_missing",
                Outcome::Rejected { .. } => "rejected",
                Outcome::Unavailable { .. } => "unavailable",
            },
        }
    }

    /// The Apprise API's answer in words, about `what` ("The test message", "The code").
    pub fn describe(&self, what: &str) -> String {
        let Self::Sent(sent) = self else {
            return format!(
                "{what} was not sent: Herald runs in log-only mode (no Apprise API is configured), \
                 so it was written to Herald's log instead."
            );
        };
        let healed = if sent.repushed {
            "The Apprise API had lost this channel's configuration; Herald stored it again and retried. "
        } else {
            ""
        };
        let result = match &sent.outcome {
            Outcome::Delivered => format!("{what} was delivered to every URL of this channel."),
            Outcome::Partial { reason } => {
                format!("{what} reached only some URLs of this channel: {}.", trim_reason(reason))
            }
            Outcome::KeyMissing => format!(
                "{what} was not sent: the Apprise API does not know this channel's configuration \
                 and storing it again did not help. Try again in a moment."
            ),
            Outcome::Rejected { reason } => {
                format!("{what} was not sent: the Apprise API rejected it ({}).", trim_reason(reason))
            }
            Outcome::Unavailable { reason } => {
                format!("{what} was not delivered: {}. Try again later.", trim_reason(reason))
            }
        };
        format!("{healed}{result}")
    }
}

fn trim_reason(reason: &str) -> String {
    let r: String = reason.trim().trim_end_matches('.').chars().take(300).collect();
    if r.is_empty() { "no reason given".into() } else { r }
}

/// Sends `notice` through `integration`; when the Apprise API has lost the config (it answers
/// that the key is missing), pushes the stored config again once and retries once.
pub async fn send_through(
    keys: &SecretKey,
    client: &AppriseClient,
    integration: &Integration,
    notice: &Notice<'_>,
) -> Sent {
    let key = match config_key(integration) {
        Ok(k) => k,
        Err(e) => {
            tracing::error!(error = %e, "cannot send through an integration");
            return Sent {
                outcome: Outcome::Rejected { reason: "the stored key is damaged".into() },
                repushed: false,
            };
        }
    };
    let (outcome, repushed) = client
        .notify_repushing(&key, notice, || async {
            open(keys, integration.id, &integration.config_ciphertext)
        })
        .await;
    Sent { outcome, repushed }
}

/// What `herald integrations resync` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResyncReport {
    /// Configs pushed to the Apprise API.
    pub pushed: usize,
    /// Configs that could not be pushed (see the log).
    pub failed: usize,
}

/// Pushes every integration's stored config to the Apprise API again (after it lost its
/// storage, or moved). Failures are logged and counted; the others still go.
pub async fn resync_all(db: &Db, keys: &SecretKey, client: &AppriseClient) -> anyhow::Result<ResyncReport> {
    let mut report = ResyncReport::default();
    for integration in db.all_integrations().await? {
        let pushed = async {
            let key = config_key(&integration)?;
            let text = open(keys, integration.id, &integration.config_ciphertext)?;
            client.add_config(&key, &text).await.map_err(anyhow::Error::from)
        }
        .await;
        match pushed {
            Ok(()) => report.pushed += 1,
            Err(e) => {
                tracing::warn!(integration_id = %integration.id, error = %e, "cannot push an integration's config");
                report.failed += 1;
            }
        }
    }
    tracing::info!(pushed = report.pushed, failed = report.failed, "integrations resynced");
    Ok(report)
}

// ---------------------------------------------------------------------------------------------
// Operations (pages and API)

/// What the integration operations need: the database, Herald's key and the Apprise API (none
/// in log-only mode).
#[derive(Clone, Copy)]
pub struct Channels<'a> {
    /// The database.
    pub db: &'a Db,
    /// Herald's secret key.
    pub keys: &'a SecretKey,
    /// The Apprise API; `None` in log-only mode.
    pub apprise: Option<&'a AppriseClient>,
}

/// What became of a change pushed to the Apprise API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    /// Stored there.
    Stored,
    /// Log-only mode: there is no Apprise API.
    LogOnly,
    /// Saved in Herald, but the Apprise API could not take it now (it is pushed again when
    /// needed). The reason, in words.
    Later(String),
}

/// The result of creating or changing an integration's URLs.
#[derive(Debug, Clone)]
pub struct Saved {
    /// The integration as stored.
    pub integration: Integration,
    /// Whether its config reached the Apprise API.
    pub pushed: Pushed,
    /// The confirmation code's delivery.
    pub code: Delivery,
}

impl Saved {
    /// A sentence for the user about the push and the code.
    pub fn describe(&self) -> String {
        let name = &self.integration.name;
        let push = match &self.pushed {
            Pushed::Later(reason) => format!(
                "The channel “{name}” is saved, but the Apprise API could not store it just now ({}). ",
                trim_reason(reason)
            ),
            _ => String::new(),
        };
        let code = match &self.code {
            Delivery::LogOnly => "Herald runs in log-only mode, so nothing is sent: the confirmation code \
                                  was written to Herald's log. Enter it to activate the channel."
                .to_owned(),
            d if d.reached_someone() => format!(
                "We sent a 6-digit code through “{name}”. Enter it below to activate the channel; it works \
                 for {CODE_MINUTES} minutes.{}",
                if d.delivered() { String::new() } else { format!(" {}", d.describe("The code")) }
            ),
            d => format!(
                "{} Use “Send a new code” once the channel works.",
                d.describe("The confirmation code")
            ),
        };
        format!("{push}{code}")
    }
}

impl Channels<'_> {
    /// One of `user`'s integrations; another user's is [`ServiceError::NotFound`].
    pub async fn get(&self, user: &User, id: Uuid) -> Result<Integration, ServiceError> {
        self.db.integration_of(user.id, id).await?.ok_or(ServiceError::NotFound)
    }

    /// Creates an integration for `user` from a name and URLs, pushes it and sends the code.
    pub async fn create(
        &self,
        user: &User,
        name: &str,
        inputs: &[EntryInput],
    ) -> Result<Saved, ServiceError> {
        check_may_add(user)?;
        let mut errors = FieldErrors::default();
        let name = errors.check("name", Name::parse(name));
        let entries = validate_entries(inputs, &mut errors);
        let (Some(name), Some(entries)) = (name, entries) else {
            return Err(ServiceError::Invalid(errors));
        };
        if self.db.integration_named(user.id, name.as_str()).await?.is_some() {
            return Err(ServiceError::field("name", name_taken(name.as_str())));
        }
        let id = Uuid::new_v4();
        let key = random_token();
        let text = config_text(&entries);
        let pushed = self.push(&key, &entries, None).await?;
        let sealed = seal(self.keys, id, &text)?;
        let integration = match self
            .db
            .insert_integration(id, user.id, name.as_str(), &key, &sealed, &all_tags(&entries))
            .await
        {
            Ok(i) => i,
            Err(DbError::Conflict(_)) => {
                self.forget_pushed(&key, &pushed).await;
                return Err(ServiceError::field("name", name_taken(name.as_str())));
            }
            Err(e) => {
                self.forget_pushed(&key, &pushed).await;
                return Err(e.into());
            }
        };
        tracing::info!(user_id = %user.id, integration_id = %id, urls = entries.len(), "integration created");
        let code = self.send_code(&integration).await?;
        Ok(Saved { integration, pushed, code })
    }

    /// Replaces the URLs of one of `user`'s integrations: pushes the new config, marks the
    /// integration unconfirmed and sends a new code through it.
    pub async fn replace_urls(
        &self,
        user: &User,
        id: Uuid,
        inputs: &[EntryInput],
    ) -> Result<Saved, ServiceError> {
        let current = self.get(user, id).await?;
        check_may_add(user)?;
        let mut errors = FieldErrors::default();
        let Some(entries) = validate_entries(inputs, &mut errors) else {
            return Err(ServiceError::Invalid(errors));
        };
        let text = config_text(&entries);
        let previous = open(self.keys, id, &current.config_ciphertext).ok();
        let pushed = self.push(&current.config_key, &entries, previous.as_deref()).await?;
        let sealed = seal(self.keys, id, &text)?;
        self.db.replace_integration_config(user.id, id, &sealed, &all_tags(&entries)).await?;
        tracing::info!(user_id = %user.id, integration_id = %id, urls = entries.len(), "integration URLs replaced");
        let integration = self.get(user, id).await?;
        let code = self.send_code(&integration).await?;
        Ok(Saved { integration, pushed, code })
    }

    /// Renames one of `user`'s integrations.
    pub async fn rename(&self, user: &User, id: Uuid, name: &str) -> Result<Integration, ServiceError> {
        let current = self.get(user, id).await?;
        let name = Name::parse(name).map_err(|m| ServiceError::field("name", m))?;
        if current.name == name.as_str() {
            return Ok(current);
        }
        match self.db.rename_integration(user.id, id, name.as_str()).await {
            Ok(()) => {}
            Err(DbError::Conflict(_)) => return Err(ServiceError::field("name", name_taken(name.as_str()))),
            Err(e) => return Err(e.into()),
        }
        tracing::info!(user_id = %user.id, integration_id = %id, "integration renamed");
        self.get(user, id).await
    }

    /// Turns one of `user`'s integrations on or off (off: it receives nothing).
    pub async fn set_enabled(
        &self,
        user: &User,
        id: Uuid,
        enabled: bool,
    ) -> Result<Integration, ServiceError> {
        self.get(user, id).await?;
        self.db.set_integration_enabled(user.id, id, enabled).await?;
        tracing::info!(user_id = %user.id, integration_id = %id, enabled, "integration switched");
        self.get(user, id).await
    }

    /// Deletes one of `user`'s integrations: first from the Apprise API, then (once it confirms,
    /// or the key was already gone) from Herald. When the Apprise API cannot be reached, nothing
    /// is deleted: [`ServiceError::Unavailable`].
    pub async fn delete(&self, user: &User, id: Uuid) -> Result<Integration, ServiceError> {
        let integration = self.get(user, id).await?;
        if let Some(client) = self.apprise {
            let key = config_key(&integration)?;
            match client.delete_config(&key).await {
                Ok(Removal::Deleted | Removal::AlreadyGone) => {}
                Err(e) => {
                    tracing::warn!(integration_id = %id, error = %e, "cannot delete an integration's config");
                    return Err(ServiceError::Unavailable(
                        "Herald could not reach the notification service, so nothing changed. Try again in a few minutes."
                            .into(),
                    ));
                }
            }
        }
        self.db.delete_integration(user.id, id).await?;
        tracing::info!(user_id = %user.id, integration_id = %id, "integration deleted");
        Ok(integration)
    }

    /// Sends a new confirmation code through one of `user`'s integrations (not more often than
    /// every [`RESEND_SECONDS`]).
    pub async fn resend_code(&self, user: &User, id: Uuid) -> Result<(Integration, Delivery), ServiceError> {
        let integration = self.get(user, id).await?;
        if integration.verified_at.is_some() {
            return Err(ServiceError::field("code", "This channel is already confirmed."));
        }
        let state = self.db.integration_confirmation(id).await?;
        if let Some(sent) = state.sent_at {
            let wait = (sent + Duration::seconds(RESEND_SECONDS) - Utc::now()).num_seconds();
            if wait > 0 {
                return Err(ServiceError::field(
                    "code",
                    format!("A code was sent just now. Wait {wait} seconds before asking for another."),
                ));
            }
        }
        let delivery = self.send_code(&integration).await?;
        Ok((integration, delivery))
    }

    /// Checks `code` against the one sent through one of `user`'s integrations; the right
    /// code activates it. Wrong, expired or exhausted codes are a `code` field error.
    pub async fn confirm(&self, user: &User, id: Uuid, code: &str) -> Result<Integration, ServiceError> {
        let integration = self.get(user, id).await?;
        if integration.verified_at.is_some() {
            return Ok(integration);
        }
        let code: String = code.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
        if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
            return Err(ServiceError::field("code", "Enter the 6-digit code the channel received."));
        }
        let state = self.db.integration_confirmation(id).await?;
        let Some(stored) = state.code_hash.clone() else {
            return Err(ServiceError::field("code", "No code is waiting for this channel: send a new code."));
        };
        if state.expires_at.is_none_or(|t| t < Utc::now()) {
            return Err(ServiceError::field(
                "code",
                format!("This code has expired (codes work for {CODE_MINUTES} minutes): send a new code."),
            ));
        }
        let Some(attempts) = self.db.count_confirmation_attempt(id, &stored, MAX_CODE_ATTEMPTS).await? else {
            return Err(ServiceError::field(
                "code",
                "Too many wrong codes: send a new code and use that one.",
            ));
        };
        if !constant_time_eq(code_hash(self.keys, id, &code).as_bytes(), stored.as_bytes()) {
            let left = MAX_CODE_ATTEMPTS - attempts;
            let message = if left > 0 {
                format!(
                    "That is not the code we sent. Check the latest message from Herald ({left} {} left).",
                    if left == 1 { "try" } else { "tries" }
                )
            } else {
                "That is not the code we sent, and that was the last try: send a new code.".to_owned()
            };
            return Err(ServiceError::field("code", message));
        }
        if !self.db.mark_integration_confirmed(id, &stored).await? {
            return Err(ServiceError::field(
                "code",
                "This code was replaced by a newer one: use the latest code.",
            ));
        }
        tracing::info!(user_id = %user.id, integration_id = %id, "integration confirmed");
        self.get(user, id).await
    }

    /// Sends a test message through one of `user`'s confirmed integrations.
    pub async fn test(&self, user: &User, id: Uuid) -> Result<(Integration, Delivery), ServiceError> {
        let integration = self.get(user, id).await?;
        if integration.verified_at.is_none() {
            return Err(ServiceError::Forbidden(
                "Confirm this channel with the code it received before sending tests through it.".into(),
            ));
        }
        let body = format!(
            "This is a test message from Herald for your channel “{}”. If you can read it, the channel works.",
            integration.name
        );
        let notice = Notice {
            title: "Herald test message",
            body: &body,
            kind: NoticeType::Info,
            format: BodyFormat::Text,
            tag: Some("all"),
        };
        let delivery = match self.apprise {
            None => {
                tracing::info!(integration_id = %id, "log-only mode: a test message would be sent now");
                Delivery::LogOnly
            }
            Some(client) => Delivery::Sent(send_through(self.keys, client, &integration, &notice).await),
        };
        tracing::info!(user_id = %user.id, integration_id = %id, outcome = delivery.code(), "test message sent");
        Ok((integration, delivery))
    }

    /// Pushes a config; a rejection is a `urls` field error, an outage is [`Pushed::Later`].
    async fn push(
        &self,
        key: &str,
        entries: &[Entry],
        previous: Option<&str>,
    ) -> Result<Pushed, ServiceError> {
        let Some(client) = self.apprise else { return Ok(Pushed::LogOnly) };
        let key =
            ConfigKey::parse(key).map_err(|_| anyhow::anyhow!("a generated config key is not valid"))?;
        match client.add_config(&key, &config_text(entries)).await {
            Ok(()) => {}
            Err(AppriseError::Rejected(reason)) => {
                return Err(ServiceError::field(
                    "urls",
                    format!(
                        "The Apprise API did not accept these URLs ({}). Check each URL.",
                        trim_reason(&reason)
                    ),
                ));
            }
            Err(other) => {
                tracing::warn!(error = %other, "cannot push an integration's config now");
                return Ok(Pushed::Later(other.to_string()));
            }
        }
        // The Apprise API stores a config as long as one URL makes sense and silently skips the
        // others: count what it understood, and undo the change when it skipped some.
        if let Ok(Some(understood)) = client.redacted_urls(&key).await
            && understood.len() < entries.len()
        {
            let undone = match previous {
                Some(old) => client.add_config(&key, old).await,
                None => client.delete_config(&key).await.map(|_| ()),
            };
            if let Err(e) = undone {
                tracing::warn!(error = %e, "cannot undo a config the Apprise API only partly understood");
            }
            let skipped = entries.len() - understood.len();
            return Err(ServiceError::field(
                "urls",
                format!(
                    "The Apprise API did not recognise {skipped} of these {} URLs, so nothing was saved. \
                     Check the service name before “://” and the details after it in each URL.",
                    entries.len()
                ),
            ));
        }
        Ok(Pushed::Stored)
    }

    /// Removes a config pushed for a row that could not be saved after all.
    async fn forget_pushed(&self, key: &str, pushed: &Pushed) {
        if let (Some(client), Pushed::Stored, Ok(key)) = (self.apprise, pushed, ConfigKey::parse(key)) {
            let _ = client.delete_config(&key).await;
        }
    }

    /// Stores a fresh code for `integration` and sends it through it (to the log in log-only mode).
    async fn send_code(&self, integration: &Integration) -> Result<Delivery, ServiceError> {
        let code = new_code();
        let now = Utc::now();
        self.db
            .set_integration_code(
                integration.id,
                &code_hash(self.keys, integration.id, &code),
                now + Duration::minutes(CODE_MINUTES),
                now,
            )
            .await?;
        let Some(client) = self.apprise else {
            // Log-only mode: the log is the only place the code can go.
            tracing::info!(
                integration_id = %integration.id,
                code = %code,
                "log-only mode: confirmation code for a new notification channel (nothing is sent)"
            );
            return Ok(Delivery::LogOnly);
        };
        let body = format!(
            "Your Herald confirmation code for the channel “{}” is {code}. It works for {CODE_MINUTES} minutes. \
             If you did not add this channel to Herald, ignore this message.",
            integration.name
        );
        let notice = Notice {
            title: "Herald confirmation code",
            body: &body,
            kind: NoticeType::Info,
            format: BodyFormat::Text,
            tag: Some("all"),
        };
        let sent = send_through(self.keys, client, integration, &notice).await;
        let delivery = Delivery::Sent(sent);
        tracing::info!(integration_id = %integration.id, outcome = delivery.code(), "confirmation code sent");
        Ok(delivery)
    }

    /// `user`'s default tags: (for reminders, for urgent changes).
    pub async fn defaults(&self, user: &User) -> Result<(Vec<String>, Vec<String>), ServiceError> {
        Ok(self.db.notification_defaults(user.id).await?)
    }

    /// Sets `user`'s default tags; problems under `reminder_tags[i]` and `urgent_tags[i]`.
    pub async fn set_defaults(
        &self,
        user: &User,
        reminder: &[String],
        urgent: &[String],
    ) -> Result<(Vec<String>, Vec<String>), ServiceError> {
        let mut errors = FieldErrors::default();
        let reminder = check_tag_list("reminder_tags", reminder, &mut errors);
        let urgent = check_tag_list("urgent_tags", urgent, &mut errors);
        if !errors.is_empty() {
            return Err(ServiceError::Invalid(errors));
        }
        self.db.set_notification_defaults(user.id, &reminder, &urgent).await?;
        tracing::info!(user_id = %user.id, "notification defaults saved");
        Ok((reminder, urgent))
    }
}

fn name_taken(name: &str) -> String {
    format!("You already have a channel named “{name}”; choose another name.")
}

fn check_tag_list(field: &str, raw: &[String], errors: &mut FieldErrors) -> Vec<String> {
    if raw.len() > MAX_TAGS {
        errors.add(field, format!("Use {MAX_TAGS} tags at most."));
        return Vec::new();
    }
    let mut tags = BTreeSet::new();
    for (i, t) in raw.iter().enumerate() {
        match parse_tag(t) {
            Ok(tag) => {
                tags.insert(tag);
            }
            Err(message) => errors.add(&format!("{field}[{i}]"), message),
        }
    }
    tags.into_iter().collect()
}

/// An integration's state in words: `awaiting_confirmation`, `active` or `disabled`.
pub fn status_of(integration: &Integration) -> &'static str {
    if !integration.enabled {
        "disabled"
    } else if integration.verified_at.is_none() {
        "awaiting_confirmation"
    } else {
        "active"
    }
}

// ---------------------------------------------------------------------------------------------
// Guided forms

/// A common service whose Apprise URL Herald builds from a few fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// Email through an SMTP server (`mailtos://` / `mailto://`).
    Email,
    /// ntfy push notifications (`ntfys://host/topic`).
    Ntfy,
    /// A Telegram bot writing to a chat (`tgram://bot_token/chat_id`).
    Telegram,
    /// A Discord channel webhook (`discord://webhook_id/webhook_token`).
    Discord,
    /// A Slack incoming webhook (`slack://TokenA/TokenB/TokenC`).
    Slack,
    /// A Gotify server (`gotifys://host/token`).
    Gotify,
    /// Any HTTP endpoint receiving JSON (`jsons://host/path`).
    Webhook,
}

/// One input of a guided form.
#[derive(Debug, Clone, Copy)]
pub struct ServiceField {
    /// Form field name.
    pub name: &'static str,
    /// Visible label.
    pub label: &'static str,
    /// Input type (`text`, `password`, `email`, `url`).
    pub kind: &'static str,
    /// Help under the label.
    pub help: &'static str,
    /// Whether it must be filled in.
    pub required: bool,
}

const fn field(
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    help: &'static str,
    required: bool,
) -> ServiceField {
    ServiceField { name, label, kind, help, required }
}

impl Service {
    /// Every guided service, in the order offered.
    pub const ALL: [Self; 7] =
        [Self::Email, Self::Ntfy, Self::Telegram, Self::Discord, Self::Slack, Self::Gotify, Self::Webhook];

    /// The path segment (`/integrations/new/{slug}`).
    pub fn slug(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Ntfy => "ntfy",
            Self::Telegram => "telegram",
            Self::Discord => "discord",
            Self::Slack => "slack",
            Self::Gotify => "gotify",
            Self::Webhook => "webhook",
        }
    }

    /// The service named by `slug`.
    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.slug() == slug)
    }

    /// Its name.
    pub fn label(self) -> &'static str {
        match self {
            Self::Email => "Email",
            Self::Ntfy => "ntfy",
            Self::Telegram => "Telegram",
            Self::Discord => "Discord",
            Self::Slack => "Slack",
            Self::Gotify => "Gotify",
            Self::Webhook => "Webhook (JSON)",
        }
    }

    /// One sentence on what it is and what to have at hand.
    pub fn summary(self) -> &'static str {
        match self {
            Self::Email => {
                "Mail through your own SMTP server or mail provider: have its server name, your login and an app password ready."
            }
            Self::Ntfy => {
                "Push notifications to the ntfy app on your phone, through ntfy.sh or your own ntfy server."
            }
            Self::Telegram => {
                "Messages from a Telegram bot you create with @BotFather, to you or to a group."
            }
            Self::Discord => {
                "Messages in a Discord channel, through a webhook made in the channel's settings."
            }
            Self::Slack => "Messages in a Slack channel, through an incoming webhook of a Slack app.",
            Self::Gotify => "Push notifications through your own Gotify server, with an application token.",
            Self::Webhook => "A JSON POST to any web address, for your own automation.",
        }
    }

    /// The form's fields.
    pub fn fields(self) -> &'static [ServiceField] {
        const EMAIL: &[ServiceField] = &[
            field("to", "Send to", "email", "The address that receives the notifications.", true),
            field(
                "smtp_host",
                "SMTP server",
                "text",
                "Your provider's outgoing mail server, like smtp.example.org.",
                true,
            ),
            field(
                "port",
                "Port",
                "text",
                "Leave empty for the usual port (465 with TLS, 25 without).",
                false,
            ),
            field("username", "Login", "text", "Usually your full email address.", true),
            field(
                "password",
                "Password",
                "password",
                "An app password if your provider offers them. Herald stores it encrypted and never shows it again.",
                true,
            ),
            field("from", "Send from", "email", "Leave empty to send from the login address.", false),
        ];
        const NTFY: &[ServiceField] = &[
            field(
                "topic",
                "Topic",
                "text",
                "The topic you subscribed to in the ntfy app: letters, digits, “_” and “-”. Anyone who knows a topic on ntfy.sh can read it, so pick something hard to guess.",
                true,
            ),
            field(
                "server",
                "Server",
                "text",
                "Leave empty for ntfy.sh, or enter your own server, like ntfy.example.org.",
                false,
            ),
            field(
                "token",
                "Access token",
                "password",
                "Only for protected topics: an access token starting with tk_.",
                false,
            ),
        ];
        const TELEGRAM: &[ServiceField] = &[
            field(
                "bot_token",
                "Bot token",
                "password",
                "The token @BotFather gave you, like 123456789:AAH…",
                true,
            ),
            field(
                "chat_id",
                "Chat ID",
                "text",
                "Your chat or group ID (a number; groups start with -). Send /start to your bot first.",
                true,
            ),
        ];
        const DISCORD: &[ServiceField] = &[field(
            "webhook_url",
            "Webhook URL",
            "url",
            "In Discord: channel settings → Integrations → Webhooks → Copy webhook URL. It starts with https://discord.com/api/webhooks/.",
            true,
        )];
        const SLACK: &[ServiceField] = &[field(
            "webhook_url",
            "Webhook URL",
            "url",
            "From your Slack app's Incoming Webhooks page. It starts with https://hooks.slack.com/services/.",
            true,
        )];
        const GOTIFY: &[ServiceField] = &[
            field(
                "server",
                "Server",
                "text",
                "Your Gotify server, like gotify.example.org (https is used unless you write http://).",
                true,
            ),
            field(
                "token",
                "Application token",
                "password",
                "In Gotify: Apps → create an application → its token.",
                true,
            ),
        ];
        const WEBHOOK: &[ServiceField] = &[field(
            "url",
            "Web address",
            "url",
            "Herald POSTs a JSON document with title and message here, like https://example.org/hooks/herald.",
            true,
        )];
        match self {
            Self::Email => EMAIL,
            Self::Ntfy => NTFY,
            Self::Telegram => TELEGRAM,
            Self::Discord => DISCORD,
            Self::Slack => SLACK,
            Self::Gotify => GOTIFY,
            Self::Webhook => WEBHOOK,
        }
    }

    /// The Apprise URL built from the submitted `values`; problems under the field names.
    pub fn build(self, values: &HashMap<String, String>) -> Result<String, FieldErrors> {
        let mut errors = FieldErrors::default();
        let get = |name: &str| values.get(name).map(|v| v.trim().to_owned()).unwrap_or_default();
        for f in self.fields() {
            if f.required && get(f.name).is_empty() {
                errors.add(f.name, format!("Enter the {}.", f.label.to_lowercase()));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let url = match self {
            Self::Email => build_email(&get, &mut errors),
            Self::Ntfy => build_ntfy(&get, &mut errors),
            Self::Telegram => build_telegram(&get, &mut errors),
            Self::Discord => build_discord(&get("webhook_url"), &mut errors),
            Self::Slack => build_slack(&get("webhook_url"), &mut errors),
            Self::Gotify => build_gotify(&get, &mut errors),
            Self::Webhook => build_webhook(&get("url"), &mut errors),
        };
        match url {
            Some(url) if errors.is_empty() => Ok(url),
            _ => Err(errors),
        }
    }
}

/// Percent-encodes everything but unreserved characters (for user names, passwords, query values).
fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A server name with an optional port (and, if `path`, a path), without a scheme.
fn check_server(raw: &str, path: bool) -> Result<(bool, String), String> {
    let lower = raw.trim().to_owned();
    let (secure, rest) = if let Some(r) = lower.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = lower.strip_prefix("http://") {
        (false, r)
    } else {
        (true, lower.as_str())
    };
    let rest = rest.trim_end_matches('/');
    let (hostport, tail) = match rest.find('/') {
        Some(i) if path => (&rest[..i], &rest[i..]),
        Some(_) => return Err("Enter only the server name, like ntfy.example.org, without a path.".into()),
        None => (rest, ""),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (hostport, None),
    };
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && !host.starts_with(['.', '-']);
    if !host_ok {
        return Err("Enter a server name like example.org (letters, digits, dots and hyphens).".into());
    }
    if let Some(p) = port
        && !p.parse::<u16>().is_ok_and(|n| n > 0)
    {
        return Err("The port after “:” must be a number from 1 to 65535.".into());
    }
    if tail.chars().any(|c| c.is_whitespace() || "?#@".contains(c)) {
        return Err("The path after the server name cannot contain spaces, “?”, “#” or “@”.".into());
    }
    Ok((secure, format!("{hostport}{tail}")))
}

fn check_email(field: &str, raw: &str, errors: &mut FieldErrors) -> Option<String> {
    match crate::domain::Email::parse(raw) {
        Ok(e) => Some(e.as_str().to_owned()),
        Err(m) => {
            errors.add(field, m);
            None
        }
    }
}

fn build_email(get: &dyn Fn(&str) -> String, errors: &mut FieldErrors) -> Option<String> {
    let to = check_email("to", &get("to"), errors);
    let from = match get("from") {
        f if f.is_empty() => None,
        f => Some(check_email("from", &f, errors)?),
    };
    let server = match check_server(&get("smtp_host"), false) {
        Ok((_, s)) if !s.contains(':') => Some(s),
        Ok(_) => {
            errors.add("smtp_host", "Enter the port in the Port field, not after the server name.");
            None
        }
        Err(m) => {
            errors.add("smtp_host", m);
            None
        }
    };
    let port = match get("port") {
        p if p.is_empty() => String::new(),
        p => match p.parse::<u16>() {
            Ok(n) if n > 0 => format!(":{n}"),
            _ => {
                errors.add("port", "Enter a port number from 1 to 65535, or leave it empty.");
                String::new()
            }
        },
    };
    let (user, password) = (get("username"), get("password"));
    let (to, server) = (to?, server?);
    let mut url = format!("mailtos://{}:{}@{server}{port}?to={}", enc(&user), enc(&password), enc(&to));
    if let Some(from) = from {
        url.push_str(&format!("&from={}", enc(&from)));
    }
    Some(url)
}

fn build_ntfy(get: &dyn Fn(&str) -> String, errors: &mut FieldErrors) -> Option<String> {
    let topic = get("topic");
    if topic.len() > 64 || !topic.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        errors.add("topic", "A topic uses letters, digits, “_” and “-” only, 64 at most.");
        return None;
    }
    let (secure, server) = match get("server") {
        s if s.is_empty() => (true, "ntfy.sh".to_owned()),
        s => match check_server(&s, false) {
            Ok(x) => x,
            Err(m) => {
                errors.add("server", m);
                return None;
            }
        },
    };
    let token = get("token");
    let auth = if token.is_empty() {
        String::new()
    } else if token.starts_with("tk_")
        && token.len() > 3
        && token.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        format!("{token}@")
    } else {
        errors.add("token", "An ntfy access token starts with tk_ followed by letters and digits.");
        return None;
    };
    Some(format!("{}://{auth}{server}/{topic}", if secure { "ntfys" } else { "ntfy" }))
}

fn build_telegram(get: &dyn Fn(&str) -> String, errors: &mut FieldErrors) -> Option<String> {
    let token = get("bot_token");
    let token = token.strip_prefix("bot").unwrap_or(&token).to_owned();
    let token_ok = token.split_once(':').is_some_and(|(id, secret)| {
        !id.is_empty()
            && id.chars().all(|c| c.is_ascii_digit())
            && !secret.is_empty()
            && secret.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    });
    if !token_ok {
        errors.add(
            "bot_token",
            "A bot token looks like 123456789:AAH… (digits, a colon, then letters, digits, “_” and “-”).",
        );
    }
    let chat = get("chat_id");
    let chat_ok = {
        let digits = chat.strip_prefix('-').unwrap_or(&chat);
        (!digits.is_empty() && digits.len() <= 32 && digits.chars().all(|c| c.is_ascii_digit()))
            || chat
                .strip_prefix('@')
                .is_some_and(|n| n.len() >= 2 && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
    };
    if !chat_ok {
        errors.add(
            "chat_id",
            "A chat ID is a number (groups start with -), or a public channel like @my_channel.",
        );
    }
    (token_ok && chat_ok).then(|| format!("tgram://{token}/{}", chat.trim_start_matches('@')))
}

/// The path segments of an `https://` URL on one of `hosts`, after `prefix`.
fn webhook_parts<'a>(raw: &'a str, hosts: &[&str], prefix: &str) -> Option<Vec<&'a str>> {
    let rest = raw.strip_prefix("https://")?;
    let (host, path) = rest.split_once('/')?;
    if !hosts.contains(&host.to_ascii_lowercase().as_str()) {
        return None;
    }
    let path = path.split(['?', '#']).next()?.strip_prefix(prefix)?;
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    parts
        .iter()
        .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .then_some(parts)
}

fn build_discord(raw: &str, errors: &mut FieldErrors) -> Option<String> {
    let hosts = ["discord.com", "discordapp.com", "ptb.discord.com", "canary.discord.com"];
    match webhook_parts(raw, &hosts, "api/webhooks/").as_deref() {
        Some([id, token]) if id.chars().all(|c| c.is_ascii_digit()) => {
            Some(format!("discord://{id}/{token}"))
        }
        _ => {
            errors.add(
                "webhook_url",
                "Paste the whole webhook URL from Discord: https://discord.com/api/webhooks/ followed by a number and a token.",
            );
            None
        }
    }
}

fn build_slack(raw: &str, errors: &mut FieldErrors) -> Option<String> {
    match webhook_parts(raw, &["hooks.slack.com"], "services/").as_deref() {
        Some([a, b, c]) => Some(format!("slack://{a}/{b}/{c}")),
        _ => {
            errors.add(
                "webhook_url",
                "Paste the whole webhook URL from Slack: https://hooks.slack.com/services/ followed by three parts.",
            );
            None
        }
    }
}

fn build_gotify(get: &dyn Fn(&str) -> String, errors: &mut FieldErrors) -> Option<String> {
    let server = match check_server(&get("server"), true) {
        Ok(s) => Some(s),
        Err(m) => {
            errors.add("server", m);
            None
        }
    };
    let token = get("token");
    let token_ok = token.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if !token_ok {
        errors.add("token", "An application token uses letters, digits, “.”, “_” and “-” only.");
    }
    let (secure, server) = server?;
    token_ok.then(|| format!("{}://{server}/{token}", if secure { "gotifys" } else { "gotify" }))
}

fn build_webhook(raw: &str, errors: &mut FieldErrors) -> Option<String> {
    let (scheme, rest) = if let Some(r) = raw.strip_prefix("https://") {
        ("jsons", r)
    } else if let Some(r) = raw.strip_prefix("http://") {
        ("json", r)
    } else {
        errors.add("url", "Enter a web address starting with https:// (or http://).");
        return None;
    };
    let (hostport, path) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if hostport.contains('@') {
        errors.add("url", "Put no user name or password in the address.");
        return None;
    }
    if let Err(m) = check_server(hostport, false) {
        errors.add("url", m);
        return None;
    }
    if path.chars().any(|c| c.is_whitespace() || c.is_control() || c == '#') {
        errors.add("url", "Remove spaces and “#” from the address.");
        return None;
    }
    Some(format!("{scheme}://{hostport}{path}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn input(url: &str, tags: &[&str]) -> EntryInput {
        EntryInput { url: url.into(), tags: tags.iter().map(|t| (*t).to_owned()).collect() }
    }

    #[test]
    fn tags_are_simple_tokens() {
        assert_eq!(parse_tag(" Email "), Ok("email".into()));
        assert_eq!(parse_tag("phone_2-x"), Ok("phone_2-x".into()));
        for bad in ["", "a b", "a,b", "a+b", "a|b", "a:b", "é", &"x".repeat(33)] {
            assert!(parse_tag(bad).is_err(), "{bad}");
        }
        assert!(parse_tag("all").unwrap_err().contains("reserved"));
        assert!(parse_tag("ALWAYS").unwrap_err().contains("reserved"));
        assert_eq!(split_tags("email, phone  urgent,"), vec!["email", "phone", "urgent"]);
    }

    #[test]
    fn urls_are_checked_and_errors_name_the_field() {
        assert_eq!(parse_url(" NTFYS://ntfy.sh/x "), Ok("ntfys://ntfy.sh/x".into()));
        for bad in
            ["", "ntfy.sh/topic", "ntfys://", "ntfys:///", "a b://x", "ntfys://x y", "n-t://x", "x://y"]
        {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
        assert!(parse_url(&format!("json://h/{}", "a".repeat(2100))).is_err());
        let mut errors = FieldErrors::default();
        let out = validate_entries(
            &[input("ntfys://ntfy.sh/ok", &["email"]), input("nope", &["ok", "all", "bad tag"])],
            &mut errors,
        );
        assert!(out.is_none());
        let fields: Vec<&str> = errors.0.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, vec!["urls[1].url", "urls[1].tags[1]", "urls[1].tags[2]"]);
        assert!(errors.0[0].1.starts_with("URL 2:"));
        let mut errors = FieldErrors::default();
        let many: Vec<EntryInput> = (0..21).map(|i| input(&format!("json://h/{i}"), &[])).collect();
        assert!(validate_entries(&many, &mut errors).is_none());
        assert_eq!(errors.0[0].0, "urls");
        let mut errors = FieldErrors::default();
        assert!(validate_entries(&[], &mut errors).is_none());
    }

    #[test]
    fn config_text_round_trips() {
        let mut errors = FieldErrors::default();
        let entries = validate_entries(
            &[
                input("mailtos://u:p@example.org?to=a@example.org", &["email", "Urgent"]),
                input("json://127.0.0.1:9/hook?a=b", &[]),
            ],
            &mut errors,
        )
        .unwrap_or_else(|| panic!("valid entries"));
        let text = config_text(&entries);
        assert_eq!(
            text,
            "email,urgent=mailtos://u:p@example.org?to=a@example.org\njson://127.0.0.1:9/hook?a=b\n"
        );
        assert_eq!(parse_config_text(&text), entries);
        assert_eq!(all_tags(&entries), vec!["email", "urgent"]);
    }

    #[test]
    fn redaction_keeps_the_server_and_hides_secrets() {
        let cases = [
            (
                "mailtos://user:s3cret@smtp.example.org:465?to=ada@example.org&from=h@example.org",
                "mailtos://****@smtp.example.org:465?to=ada@example.org&from=h@example.org",
            ),
            ("ntfys://tk_secret@ntfy.example.org/secret-topic", "ntfys://****@ntfy.example.org/****"),
            ("ntfy://secret-topic", "ntfy://****"),
            ("tgram://123456:AAHsecret/-100123", "tgram://****/****"),
            ("discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js", "discord://****/****"),
            ("slack://T0000/B0000/XXXXsecret", "slack://****/****/****"),
            ("gotifys://gotify.example.org/path/AzyoeNS.secret", "gotifys://gotify.example.org/****/****"),
            (
                "jsons://hooks.example.org/hook/secret?token=abc&priority=high",
                "jsons://hooks.example.org/****/****?token=****&priority=high",
            ),
            ("json://127.0.0.1:8080/sink", "json://127.0.0.1:8080/****"),
            ("https://hooks.slack.com/services/A/B/C", "https://hooks.slack.com/****/****/****/****"),
            ("json://evil.example.org#secret/x", "json://****/****"),
            ("not a url secret", "****"),
            ("json://h.example?to=secret%20with&x", "json://h.example?to=secret%20with&****"),
        ];
        for (url, want) in cases {
            assert_eq!(redact(url), want, "{url}");
        }
        for secret in
            ["s3cret", "tk_secret", "secret-topic", "AAHsecret", "JHMHI8q", "XXXXsecret", "AzyoeNS", "abc"]
        {
            for (url, _) in cases.iter().take(10) {
                if url.contains(secret) {
                    assert!(!redact(url).contains(secret), "{secret} in {}", redact(url));
                }
            }
        }
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

    fn build(service: Service, pairs: &[(&str, &str)]) -> Result<String, Vec<String>> {
        let values = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        service.build(&values).map_err(|e| e.0.into_iter().map(|(f, _)| f).collect())
    }

    #[test]
    fn guided_forms_build_apprise_urls() {
        assert_eq!(
            build(
                Service::Email,
                &[
                    ("to", "Ada@Example.org"),
                    ("smtp_host", "smtp.example.org"),
                    ("port", "587"),
                    ("username", "ada@example.org"),
                    ("password", "p@ss:w/rd"),
                    ("from", "")
                ]
            ),
            Ok("mailtos://ada%40example.org:p%40ss%3Aw%2Frd@smtp.example.org:587?to=ada%40example.org"
                .into())
        );
        assert_eq!(build(Service::Ntfy, &[("topic", "my-topic")]), Ok("ntfys://ntfy.sh/my-topic".into()));
        assert_eq!(
            build(Service::Ntfy, &[("topic", "t"), ("server", "http://ntfy.lan:8080"), ("token", "tk_abc")]),
            Ok("ntfy://tk_abc@ntfy.lan:8080/t".into())
        );
        assert_eq!(build(Service::Ntfy, &[("topic", "bad topic")]), Err(vec!["topic".into()]));
        assert_eq!(
            build(Service::Telegram, &[("bot_token", "123456:AAH-x_y"), ("chat_id", "-1001")]),
            Ok("tgram://123456:AAH-x_y/-1001".into())
        );
        assert_eq!(
            build(Service::Telegram, &[("bot_token", "nope"), ("chat_id", "x y")]).unwrap_err().len(),
            2
        );
        assert_eq!(
            build(
                Service::Discord,
                &[("webhook_url", "https://discord.com/api/webhooks/4174216298/JHMH_js-x")]
            ),
            Ok("discord://4174216298/JHMH_js-x".into())
        );
        assert!(
            build(Service::Discord, &[("webhook_url", "https://evil.example/api/webhooks/1/x")]).is_err()
        );
        assert_eq!(
            build(Service::Slack, &[("webhook_url", "https://hooks.slack.com/services/T00/B00/XXX")]),
            Ok("slack://T00/B00/XXX".into())
        );
        assert!(
            build(Service::Slack, &[("webhook_url", "https://hooks.slack.com/services/T00/B00")]).is_err()
        );
        assert_eq!(
            build(
                Service::Gotify,
                &[("server", "https://gotify.example.org/sub"), ("token", "AzyoeNS.D4iJLVa")]
            ),
            Ok("gotifys://gotify.example.org/sub/AzyoeNS.D4iJLVa".into())
        );
        assert_eq!(
            build(Service::Webhook, &[("url", "https://hooks.example.org/herald?x=1")]),
            Ok("jsons://hooks.example.org/herald?x=1".into())
        );
        assert_eq!(build(Service::Webhook, &[("url", "ftp://x")]), Err(vec!["url".into()]));
        assert_eq!(build(Service::Email, &[]).unwrap_err(), vec!["to", "smtp_host", "username", "password"]);
        for s in Service::ALL {
            assert_eq!(Service::from_slug(s.slug()), Some(s));
            assert!(parse_url(&build_any(s)).is_ok(), "{s:?} builds a URL that passes the general check");
        }
    }

    fn build_any(s: Service) -> String {
        let pairs: &[(&str, &str)] = match s {
            Service::Email => &[
                ("to", "a@example.org"),
                ("smtp_host", "smtp.example.org"),
                ("username", "u"),
                ("password", "p"),
            ],
            Service::Ntfy => &[("topic", "t")],
            Service::Telegram => &[("bot_token", "1:a"), ("chat_id", "1")],
            Service::Discord => &[("webhook_url", "https://discord.com/api/webhooks/1/a")],
            Service::Slack => &[("webhook_url", "https://hooks.slack.com/services/a/b/c")],
            Service::Gotify => &[("server", "g.example.org"), ("token", "t")],
            Service::Webhook => &[("url", "https://example.org/h")],
        };
        build(s, pairs).unwrap_or_else(|e| panic!("{e:?}"))
    }
}
