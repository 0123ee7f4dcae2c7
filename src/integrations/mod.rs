//! Integrations: a user's notification channels, each one Apprise config stored in the Apprise
//! API under a random key (or kept only by Herald when the Apprise API is locked). The rules
//! shared by pages, the API and the operator commands.
//!
//! - **Secrets.** An integration's Apprise URLs carry passwords and tokens. Herald keeps the text
//!   config only encrypted ([`seal`](fn@seal): XChaCha20-Poly1305 under a key derived from
//!   Herald's secret key, the integration id as associated data), shows only
//!   [`redact`](fn@redact)ed URLs and never logs them. The `config_key` is 256 random bits:
//!   anyone who knows it can send through the config, so it is stored encrypted the same way
//!   ([`seal_config_key`]).
//! - **Input.** A name and a list of URLs, each with tags ([`validate_entries`]); or one of the
//!   guided [`Service`] forms, which builds the URL from a few fields.
//! - **Reach.** Only services for people, and never Herald's own network ([`targets`]):
//!   checked when a channel is saved, before each code or test, and before each delivery.
//! - **Confirmation.** A new or changed integration receives a 6-digit code through itself and
//!   becomes active only once its owner enters it, so nobody can make Herald message a channel
//!   that is not theirs. Codes are stored as an HMAC, expire and allow a few attempts.
//! - **Self-healing.** [`send_through`] re-pushes the stored config once when the Apprise API
//!   answers that the key is missing, and retries once; [`resync_all`] re-pushes every config.
//! - **Locked Apprise API.** With `HERALD_APPRISE_CONFIG_LOCK` (the Apprise API runs with
//!   `APPRISE_CONFIG_LOCK=yes`) no config is stored, read or deleted there: Herald's sealed copy
//!   is the only one, and each send opens it, picks the URLs the tag reaches
//!   ([`select_urls`](herald_workflows::apprise::select_urls)) and sends them stateless.
//! - **Log-only mode.** Without an Apprise API, integrations can still be created; nothing is
//!   sent and confirmation codes are written to the log instead.
//!
//! Every lookup is scoped to the owner: another user's integration is
//! [`ServiceError::NotFound`](crate::domain::ServiceError::NotFound).
//!
//! The parts: `config` (tags, URLs and the text config), `redact`, `seal` (encryption at rest),
//! `codes` (confirmation codes), `catalogue` (the guided forms) and `service` (the operations on
//! a user's channels, sending, resync and status).

mod catalogue;
mod codes;
mod config;
pub mod email;
mod redact;
mod seal;
mod service;
pub mod targets;

pub use catalogue::{Service, ServiceField};
pub use codes::{CODE_MINUTES, MAX_CODE_ATTEMPTS, RESEND_SECONDS, new_code};
pub use config::{
    Entry, EntryInput, all_tags, config_text, parse_config_text, parse_tag, parse_url, split_tags,
    validate_entries,
};
pub use redact::redact;
pub use seal::{entries_of, open, open_config_key, redacted_entries, seal, seal_config_key, tagged_urls};
pub use service::{
    Channels, Delivery, Pushed, ResyncReport, Saved, Sent, VERIFY_FIRST, check_may_add, resync_all,
    seal_stored_keys, send_through, status_of,
};
pub use targets::Targets;

/// At most this many URLs in one integration.
pub const MAX_URLS: usize = 20;
/// Channels one account may have.
pub const MAX_CHANNELS: usize = 20;
/// At most this many characters in one URL.
pub const MAX_URL_CHARS: usize = 2048;
/// At most this many tags on one URL.
pub const MAX_TAGS: usize = 10;
