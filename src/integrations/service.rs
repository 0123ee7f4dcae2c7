//! The service: [`Channels`] creates, changes, renames, switches, deletes, confirms and tests a
//! user's integrations and keeps their default tags; [`send_through`] sends through one,
//! [`resync_all`] pushes every stored config again and [`status_of`] names an integration's state.

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use herald_workflows::apprise::{
    AppriseClient, AppriseError, BodyFormat, ConfigKey, Notice, NoticeType, Outcome, Removal,
};
use uuid::Uuid;

use super::codes::{CODE_MINUTES, MAX_CODE_ATTEMPTS, RESEND_SECONDS, code_hash, new_code, typed_codes};
use super::config::{Entry, EntryInput, all_tags, config_text, parse_tag, validate_entries};
use super::seal::{SEALED_KEY_PREFIX, config_key, entries_of, open, seal, seal_config_key, tagged_urls};
use super::targets::Targets;
use super::{MAX_CHANNELS, MAX_TAGS};
use crate::db::models::{Integration, User};
use crate::db::{Db, DbError};
use crate::domain::Name;
use crate::domain::{FieldErrors, ServiceError};
use crate::secrets::random_token;
use crate::secrets::{SecretKey, constant_time_eq};

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
        // The Apprise API's own words go to the log only: they can name hosts, ports and
        // connection errors of the channel's targets.
        if let Outcome::Partial { reason } | Outcome::Rejected { reason } | Outcome::Unavailable { reason } =
            &sent.outcome
        {
            tracing::warn!(outcome = self.code(), reason = %trim_reason(reason), "a message through a channel failed");
        }
        let result = match &sent.outcome {
            Outcome::Delivered => format!("{what} was delivered to every URL of this channel."),
            Outcome::Partial { .. } => format!(
                "{what} reached only some URLs of this channel. Check that each of its URLs is still right."
            ),
            Outcome::KeyMissing => format!(
                "{what} was not sent: the Apprise API does not know this channel's configuration \
                 and storing it again did not help. Try again in a moment."
            ),
            Outcome::Rejected { .. } => {
                format!("{what} was not sent: the notification service refused it. Check the channel's URLs.")
            }
            Outcome::Unavailable { .. } => format!(
                "{what} was not delivered: the notification service could not be reached just now. Try again later."
            ),
        };
        format!("{healed}{result}")
    }
}

fn trim_reason(reason: &str) -> String {
    let r: String = reason.trim().trim_end_matches('.').chars().take(300).collect();
    if r.is_empty() { "no reason given".into() } else { r }
}

/// Sends `notice` through `integration`; when the Apprise API has lost the config (it answers
/// that the key is missing), pushes the stored config again once and retries once. When the
/// Apprise API is locked, sends the URLs the tag reaches stateless instead.
pub async fn send_through(
    keys: &SecretKey,
    client: &AppriseClient,
    integration: &Integration,
    notice: &Notice<'_>,
) -> Sent {
    if client.config_locked() {
        let outcome = match tagged_urls(keys, integration) {
            Ok(urls) => client.notify_urls(&urls, notice).await,
            Err(e) => {
                tracing::error!(error = %e, "cannot send through an integration");
                Outcome::Rejected { reason: "the stored config is damaged".into() }
            }
        };
        return Sent { outcome, repushed: false };
    }
    let key = match config_key(keys, integration) {
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
    if client.config_locked() {
        anyhow::bail!(
            "HERALD_APPRISE_CONFIG_LOCK is on: the Apprise API stores no configs, so there is nothing to push \
             (Herald sends every channel's URLs with each message)"
        );
    }
    let mut report = ResyncReport::default();
    for integration in db.all_integrations().await? {
        let pushed = async {
            let key = config_key(keys, &integration)?;
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

/// Encrypts the config keys stored in plain text by earlier versions; returns how many. Run at
/// start-up; a key that cannot be sealed stays as it is (and still works).
pub async fn seal_stored_keys(db: &Db, keys: &SecretKey) -> anyhow::Result<usize> {
    let mut sealed = 0;
    for integration in db.all_integrations().await? {
        if integration.config_key.starts_with(SEALED_KEY_PREFIX) {
            continue;
        }
        let stored = seal_config_key(keys, integration.id, &integration.config_key)?;
        if db.replace_config_key(integration.id, &integration.config_key, &stored).await? {
            sealed += 1;
        }
    }
    if sealed > 0 {
        tracing::info!(sealed, "config keys stored in plain text are encrypted now");
    }
    Ok(sealed)
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
    /// Which addresses channels may reach.
    pub targets: Targets,
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
    /// Saved in Herald only, on purpose: the Apprise API is locked (`HERALD_APPRISE_CONFIG_LOCK`)
    /// and every message carries the channel's URLs.
    Locked,
}

/// The result of creating or changing an integration's URLs.
#[derive(Debug, Clone)]
pub struct Saved {
    /// The integration as stored.
    pub integration: Integration,
    /// Whether its config reached the Apprise API.
    pub pushed: Pushed,
    /// The confirmation codes' delivery.
    pub code: Delivery,
    /// How many codes were sent: one per URL.
    pub codes: usize,
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
            d if d.reached_someone() && self.codes > 1 => format!(
                "We sent a 6-digit code to each of the {} URLs of “{name}”. Enter all of them below to \
                 activate the channel; they work for {CODE_MINUTES} minutes.{}",
                self.codes,
                if d.delivered() { String::new() } else { format!(" {}", d.describe("The codes")) }
            ),
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
        self.check_targets(&entries).await?;
        if self.db.integrations_of(user.id).await?.len() >= MAX_CHANNELS {
            return Err(ServiceError::Conflict(format!(
                "You have {MAX_CHANNELS} channels, the most an account can have. Delete one you no longer use \
                 first, or add this URL to one of them."
            )));
        }
        if self.db.integration_named(user.id, name.as_str()).await?.is_some() {
            return Err(ServiceError::field("name", name_taken(name.as_str())));
        }
        let id = Uuid::new_v4();
        let key = random_token();
        let text = config_text(&entries);
        let pushed = self.push(&key, &entries, None).await?;
        let sealed = seal(self.keys, id, &text)?;
        let stored_key = seal_config_key(self.keys, id, &key)?;
        let integration = match self
            .db
            .insert_integration(id, user.id, name.as_str(), &stored_key, &sealed, &all_tags(&entries))
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
        Ok(Saved { integration, pushed, code, codes: entries.len() })
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
        super::email::check_editable(&current)?;
        check_may_add(user)?;
        let mut errors = FieldErrors::default();
        let Some(entries) = validate_entries(inputs, &mut errors) else {
            return Err(ServiceError::Invalid(errors));
        };
        self.check_targets(&entries).await?;
        let text = config_text(&entries);
        let previous = open(self.keys, id, &current.config_ciphertext).ok();
        let key = config_key(self.keys, &current)?;
        let pushed = self.push(key.as_str(), &entries, previous.as_deref()).await?;
        let sealed = seal(self.keys, id, &text)?;
        self.db.replace_integration_config(user.id, id, &sealed, &all_tags(&entries)).await?;
        tracing::info!(user_id = %user.id, integration_id = %id, urls = entries.len(), "integration URLs replaced");
        let integration = self.get(user, id).await?;
        let code = self.send_code(&integration).await?;
        Ok(Saved { integration, pushed, code, codes: entries.len() })
    }

    /// Refuses URLs that reach a private address (field errors, one per URL).
    async fn check_targets(&self, entries: &[Entry]) -> Result<(), ServiceError> {
        let mut errors = FieldErrors::default();
        for (i, entry) in entries.iter().enumerate() {
            if let Err(message) = self.targets.check(&entry.url).await {
                errors.add(&format!("urls[{i}].url"), format!("URL {}: {message}", i + 1));
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(ServiceError::Invalid(errors)) }
    }

    /// Refuses to send through a stored channel whose URLs now reach a private address (the
    /// operator turned the switch off, or a name now resolves elsewhere).
    async fn check_stored_targets(&self, integration: &Integration) -> Result<(), ServiceError> {
        if integration.is_email() {
            // The operator's own mail URL: trusted like system mail.
            return Ok(());
        }
        let urls: Vec<String> = entries_of(self.keys, integration)?.into_iter().map(|e| e.url).collect();
        self.targets.check_all(&urls).await.map_err(ServiceError::Forbidden)
    }

    /// Renames one of `user`'s integrations.
    pub async fn rename(&self, user: &User, id: Uuid, name: &str) -> Result<Integration, ServiceError> {
        let current = self.get(user, id).await?;
        super::email::check_editable(&current)?;
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
    /// is deleted: [`ServiceError::Unavailable`]. A locked Apprise API holds no config: then
    /// only Herald's copy is deleted.
    pub async fn delete(&self, user: &User, id: Uuid) -> Result<Integration, ServiceError> {
        let integration = self.get(user, id).await?;
        super::email::check_editable(&integration)?;
        if let Some(client) = self.apprise.filter(|c| !c.config_locked()) {
            let key = config_key(self.keys, &integration)?;
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

    /// Deletes every integration of `user`, the built-in email channel too, from the Apprise API
    /// (unless it is locked) and from Herald, for the deletion of their account. Stops at the
    /// first config the Apprise API cannot delete: [`ServiceError::Unavailable`], the rest stays.
    pub async fn delete_all(&self, user: &User) -> Result<usize, ServiceError> {
        let all = self.db.integrations_of(user.id).await?;
        for integration in &all {
            if let Some(client) = self.apprise.filter(|c| !c.config_locked()) {
                let key = config_key(self.keys, integration)?;
                match client.delete_config(&key).await {
                    Ok(Removal::Deleted | Removal::AlreadyGone) => {}
                    Err(e) => {
                        tracing::warn!(integration_id = %integration.id, error = %e, "cannot delete an integration's config");
                        return Err(ServiceError::Unavailable(
                            "Herald could not reach the notification service to delete your channels, so your \
                             account is still here. Try again in a few minutes."
                                .into(),
                        ));
                    }
                }
            }
            self.db.delete_integration(user.id, integration.id).await?;
        }
        tracing::info!(user_id = %user.id, count = all.len(), "integrations deleted with the account");
        Ok(all.len())
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
        let urls = entries_of(self.keys, &integration)?.len().max(1);
        let Some(codes) = typed_codes(code, urls) else {
            return Err(ServiceError::field(
                "code",
                if urls == 1 {
                    "Enter the 6-digit code the channel received.".to_owned()
                } else {
                    format!(
                        "Enter all {urls} codes: each URL of this channel received its own 6-digit code \
                         (in any order, separated by spaces)."
                    )
                },
            ));
        };
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
        if !constant_time_eq(code_hash(self.keys, id, &codes).as_bytes(), stored.as_bytes()) {
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
        self.check_stored_targets(&integration).await?;
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
        if client.config_locked() {
            return Ok(Pushed::Locked);
        }
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

    /// Stores fresh codes for `integration`, one per URL, and sends each through its URL (to the
    /// log in log-only mode).
    async fn send_code(&self, integration: &Integration) -> Result<Delivery, ServiceError> {
        let entries = entries_of(self.keys, integration)?;
        let codes: Vec<String> = (0..entries.len().max(1)).map(|_| new_code()).collect();
        let now = Utc::now();
        self.db
            .set_integration_code(
                integration.id,
                &code_hash(self.keys, integration.id, &codes),
                now + Duration::minutes(CODE_MINUTES),
                now,
            )
            .await?;
        let Some(client) = self.apprise else {
            // Log-only mode: the log is the only place the codes can go.
            tracing::info!(
                integration_id = %integration.id,
                code = %codes.join(" "),
                "log-only mode: confirmation codes for a new notification channel, one per URL (nothing is sent)"
            );
            return Ok(Delivery::LogOnly);
        };
        self.check_stored_targets(integration).await?;
        let title = "Herald confirmation code";
        let delivery = if entries.len() <= 1 {
            let body = format!(
                "Your Herald confirmation code for the channel “{}” is {}. It works for {CODE_MINUTES} minutes. \
                 If you did not add this channel to Herald, ignore this message.",
                integration.name, codes[0]
            );
            let notice = Notice {
                title,
                body: &body,
                kind: NoticeType::Info,
                format: BodyFormat::Text,
                tag: Some("all"),
            };
            Delivery::Sent(send_through(self.keys, client, integration, &notice).await)
        } else {
            // One code per URL, sent to that URL alone.
            let n = entries.len();
            let mut outcomes = Vec::with_capacity(n);
            for (i, (entry, code)) in entries.iter().zip(&codes).enumerate() {
                let body = format!(
                    "Your Herald confirmation code for URL {} of {n} of the channel “{}” is {code}. Enter the \
                     codes from all {n} URLs to activate it; they work for {CODE_MINUTES} minutes. If you did \
                     not add this channel to Herald, ignore this message.",
                    i + 1,
                    integration.name
                );
                outcomes.push(client.notify_stateless(std::slice::from_ref(&entry.url), title, &body).await);
            }
            Delivery::Sent(Sent { outcome: combined(outcomes), repushed: false })
        };
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

/// One outcome for messages sent to several URLs one by one: delivered when every one was,
/// partial when some were, else the first failure.
fn combined(outcomes: Vec<Outcome>) -> Outcome {
    let reached = outcomes.iter().filter(|o| !o.nothing_delivered()).count();
    let failures: Vec<String> = outcomes
        .iter()
        .enumerate()
        .filter(|(_, o)| **o != Outcome::Delivered)
        .map(|(i, o)| format!("URL {}: {o:?}", i + 1))
        .collect();
    if failures.is_empty() {
        Outcome::Delivered
    } else if reached > 0 {
        Outcome::Partial { reason: failures.join("; ") }
    } else {
        outcomes.into_iter().next().unwrap_or(Outcome::Delivered)
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
