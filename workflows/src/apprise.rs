//! A typed client for the Apprise API (see `shared/APPRISE.md`): every answer maps to a typed
//! result the caller can act on — an [`Outcome`] for sending, an [`AppriseError`] for the
//! config-key calls.
//!
//! Config keys are capabilities (anyone who knows one can read the config, with its secrets,
//! and send through it), so neither they nor notification URLs ever appear in an error, a log
//! line or a `Debug` output of this module: transport errors are described in words (a
//! `reqwest::Error` would print the request URL, key included), and the Apprise API's own
//! messages are scrubbed of the key and of anything that looks like a URL.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

/// The longest config key the Apprise API accepts.
const MAX_KEY_LEN: usize = 128;

/// How long a `/status` probe may take, whatever the client's timeout (readiness checks must
/// answer quickly).
const STATUS_TIMEOUT: Duration = Duration::from_secs(3);

/// The longest piece of an Apprise API message quoted in a reason.
const MAX_MESSAGE_CHARS: usize = 200;

/// A config key of the Apprise API: `[A-Za-z0-9_-]{1,128}`, case-sensitive.
///
/// A key is a capability, so `Debug` does not print it and there is no `Display`: use
/// [`ConfigKey::as_str`] where the key really is needed.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ConfigKey(String);

impl ConfigKey {
    /// Checks `s` against the key rules; the error says what is wrong, in words.
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            return Err("a config key must not be empty".to_owned());
        }
        if s.len() > MAX_KEY_LEN {
            return Err(format!("a config key has at most {MAX_KEY_LEN} characters"));
        }
        if !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            return Err("a config key may contain only letters A–Z and a–z, digits, _ and -".to_owned());
        }
        Ok(Self(s.to_owned()))
    }

    /// The key itself, for the request path or storage.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ConfigKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ConfigKey(***)")
    }
}

/// What became of a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every matched target accepted it (200).
    Delivered,
    /// Some targets failed (424) but at least one received it: do not resend blindly, or the
    /// targets that worked get a duplicate.
    Partial {
        /// Which targets failed and why, in words.
        reason: String,
    },
    /// The Apprise API does not know the config key (204 on `/notify/{key}`): push the stored
    /// config again with [`AppriseClient::add_config`], then retry once. Nothing was sent.
    KeyMissing,
    /// Refused for good: retrying the same request cannot work (400, a tag that matches no URL,
    /// or 204 for missing/invalid stateless URLs). Nothing was sent.
    Rejected {
        /// Why, in words.
        reason: String,
    },
    /// Nothing was delivered and trying again later may work (connection error, timeout, 5xx,
    /// or a 424 in which every target failed).
    Unavailable {
        /// Why, in words.
        reason: String,
    },
}

impl Outcome {
    /// Whether nothing at all was delivered, so that sending again cannot duplicate anything.
    pub fn nothing_delivered(&self) -> bool {
        !matches!(self, Outcome::Delivered | Outcome::Partial { .. })
    }
}

impl fmt::Display for Outcome {
    /// The outcome in words, for a person ("send test") or a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Delivered => f.write_str("delivered"),
            Outcome::Partial { reason } => write!(f, "partly delivered: {reason}"),
            Outcome::KeyMissing => f.write_str("the Apprise API does not know this integration's config key"),
            Outcome::Rejected { reason } => write!(f, "rejected by the Apprise API: {reason}"),
            Outcome::Unavailable { reason } => write!(f, "not delivered: {reason}"),
        }
    }
}

/// A config-key call (`/add`, `/get`, `/del`, `/json/urls`, `/status`) failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppriseError {
    /// Refused for good (4xx): the request must change before it can succeed.
    #[error("the Apprise API refused the request: {0}")]
    Rejected(String),
    /// The Apprise API runs with `APPRISE_CONFIG_LOCK=yes` (403): it neither stores, reads nor
    /// deletes configs, though it still sends.
    #[error("the Apprise API is locked (APPRISE_CONFIG_LOCK=yes): it does not store, show or delete configs")]
    Locked,
    /// Could not reach the Apprise API, or it failed (timeout, 5xx, 417): try again later.
    #[error("the Apprise API is unavailable: {0}")]
    Unavailable(String),
}

/// What [`AppriseClient::delete_config`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// The config was there and is now deleted (200).
    Deleted,
    /// There was no config under the key (204): the end state is the same.
    AlreadyGone,
}

/// One URL of a stored config, as `/json/urls/{key}?privacy=1` shows it: secrets masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedactedUrl {
    /// The service, e.g. "Discord" or "E-Mail".
    #[serde(default)]
    pub service_name: String,
    /// The URL with passwords and tokens masked by the Apprise API.
    pub url: String,
    /// The URL's tags, lower-case.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Whether the Apprise API has the service enabled.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

/// The kind of a notice, which services show as an icon or colour (`type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NoticeType {
    /// Information (the default).
    #[default]
    Info,
    /// Something went well.
    Success,
    /// Needs attention.
    Warning,
    /// Something failed or was cancelled.
    Failure,
}

impl NoticeType {
    /// The value of the `type` field.
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeType::Info => "info",
            NoticeType::Success => "success",
            NoticeType::Warning => "warning",
            NoticeType::Failure => "failure",
        }
    }
}

/// How the body is written (`format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BodyFormat {
    /// Plain text (the default).
    #[default]
    Text,
    /// Markdown.
    Markdown,
    /// HTML.
    Html,
}

impl BodyFormat {
    /// The value of the `format` field.
    pub fn as_str(self) -> &'static str {
        match self {
            BodyFormat::Text => "text",
            BodyFormat::Markdown => "markdown",
            BodyFormat::Html => "html",
        }
    }
}

/// One message to send through a stored config.
#[derive(Debug, Clone, Copy)]
pub struct Notice<'a> {
    /// The title (may be empty).
    pub title: &'a str,
    /// The body (must not be empty).
    pub body: &'a str,
    /// Info, success, warning or failure.
    pub kind: NoticeType,
    /// Text, Markdown or HTML.
    pub format: BodyFormat,
    /// Which URLs receive it: comma or `|` = OR; space, `+` or `&` = AND; `all` = every URL.
    /// `None` reaches only the untagged URLs.
    pub tag: Option<&'a str>,
}

/// A file sent with a message (APPRISE.md: a multipart form's `attach` part arrives as a mail
/// attachment, e.g. `invite.ics` as `text/calendar`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The file name the recipient sees (`invite.ics`).
    pub name: String,
    /// Its media type (`text/calendar; method=REQUEST`).
    pub mime: String,
    /// Its content.
    pub content: String,
}

/// One URL of an integration's config with its tags, as Herald keeps it (the URL carries
/// secrets: `Debug` does not print it).
#[derive(Clone, PartialEq, Eq)]
pub struct TaggedUrl {
    /// The Apprise URL, secrets included. Never log or render it.
    pub url: String,
    /// The URL's tags.
    pub tags: Vec<String>,
}

impl fmt::Debug for TaggedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaggedUrl").field("url", &"***").field("tags", &self.tags).finish()
    }
}

/// The tag wrote characters the Apprise API refuses (it answers 400 to such a tag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedTag;

/// The URLs of `urls` that a notify with `tag` reaches, in their order, by the Apprise API's
/// rules (APPRISE.md), so that Herald can send them stateless when the Apprise API is locked:
///
/// - case does not matter; a comma or `|` separates alternatives (OR); a space, `+` or `&`
///   joins tags that must all be present (AND);
/// - `all` matches every URL;
/// - a URL tagged `always` joins every tagged request;
/// - no tag (or a blank one) reaches only the untagged URLs.
///
/// A tag with characters other than `a-z 0-9 space _ : + & | , -` is [`UnsupportedTag`].
pub fn select_urls<'a>(
    urls: &'a [TaggedUrl],
    tag: Option<&str>,
) -> Result<Vec<&'a TaggedUrl>, UnsupportedTag> {
    let expression = tag.unwrap_or_default().to_lowercase();
    if !expression
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == ' ' || "_:+&|,-".contains(c))
    {
        return Err(UnsupportedTag);
    }
    let groups: Vec<Vec<&str>> = expression
        .split([',', '|'])
        .map(|group| group.split([' ', '+', '&']).filter(|t| !t.is_empty()).collect::<Vec<_>>())
        .filter(|group| !group.is_empty())
        .collect();
    let has = |url: &TaggedUrl, tag: &str| url.tags.iter().any(|t| t.trim().eq_ignore_ascii_case(tag));
    Ok(urls
        .iter()
        .filter(|url| {
            if groups.is_empty() {
                url.tags.iter().all(|t| t.trim().is_empty())
            } else {
                has(url, "always") || groups.iter().any(|g| g.iter().all(|t| *t == "all" || has(url, t)))
            }
        })
        .collect())
}

/// The Apprise API at one base URL.
#[derive(Debug, Clone)]
pub struct AppriseClient {
    base: Url,
    http: reqwest::Client,
    /// The operator said the Apprise API runs with `APPRISE_CONFIG_LOCK=yes`: no config is
    /// stored, read or deleted there, and integrations are sent stateless.
    config_lock: bool,
}

#[derive(Serialize)]
struct StatelessNotify<'a> {
    urls: &'a [String],
    title: &'a str,
    body: &'a str,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    format: Option<&'static str>,
}

#[derive(Serialize)]
struct AddConfig<'a> {
    config: &'a str,
    format: &'static str,
}

#[derive(Serialize)]
struct StatefulNotify<'a> {
    title: &'a str,
    body: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    format: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    tag: Option<&'a str>,
}

#[derive(Deserialize)]
struct StoredConfig {
    config: String,
}

#[derive(Deserialize)]
struct UrlList {
    #[serde(default)]
    urls: Vec<RedactedUrl>,
}

impl AppriseClient {
    /// A client for the Apprise API at `base` (e.g. `http://apprise:8000`); every request gives
    /// up after `timeout`.
    pub fn new(base: Url, timeout: Duration) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5).min(timeout))
            // A redirect would turn a POST into a GET somewhere else: report it instead.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self { base, http, config_lock: false })
    }

    /// This client with the Apprise API's config lock set (`HERALD_APPRISE_CONFIG_LOCK`): when
    /// `locked`, [`add_config`](Self::add_config), [`get_config`](Self::get_config),
    /// [`delete_config`](Self::delete_config) and [`redacted_urls`](Self::redacted_urls) answer
    /// [`AppriseError::Locked`] without a request, and integrations are sent with
    /// [`notify_urls`](Self::notify_urls).
    pub fn with_config_lock(mut self, locked: bool) -> Self {
        self.config_lock = locked;
        self
    }

    /// Whether the Apprise API is locked: configs live only in Herald and are sent stateless.
    pub fn config_locked(&self) -> bool {
        self.config_lock
    }

    /// The base URL (it holds no secret: the Apprise API has no authentication).
    pub fn base(&self) -> &Url {
        &self.base
    }

    fn endpoint(&self, path: &str) -> String {
        format!("{}/{}", self.base.as_str().trim_end_matches('/'), path)
    }

    /// Sends a request and reads the whole answer; a transport failure is described in words.
    async fn exchange(&self, request: reqwest::RequestBuilder) -> Result<(u16, String), String> {
        let response = request
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| describe(&e))?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| describe(&e))?;
        Ok((status, text))
    }

    /// Stores `config_text` (Apprise text format, `tag1,tag2=url` lines) under `key`
    /// (`POST /add/{key}`), replacing whatever was stored there.
    pub async fn add_config(&self, key: &ConfigKey, config_text: &str) -> Result<(), AppriseError> {
        if self.config_lock {
            return Err(AppriseError::Locked);
        }
        let request = self
            .http
            .post(self.endpoint(&format!("add/{}", key.as_str())))
            .json(&AddConfig { config: config_text, format: "text" });
        match self.exchange(request).await {
            Err(reason) => Err(AppriseError::Unavailable(reason)),
            Ok((200, _)) => Ok(()),
            Ok((status, body)) => Err(config_call_error(status, &body, key)),
        }
    }

    /// The config stored under `key` (`POST /get/{key}`), secrets included; `None` when the
    /// key does not exist (204).
    pub async fn get_config(&self, key: &ConfigKey) -> Result<Option<String>, AppriseError> {
        if self.config_lock {
            return Err(AppriseError::Locked);
        }
        let request = self.http.post(self.endpoint(&format!("get/{}", key.as_str())));
        match self.exchange(request).await {
            Err(reason) => Err(AppriseError::Unavailable(reason)),
            Ok((204, _)) => Ok(None),
            Ok((200, body)) => serde_json::from_str::<StoredConfig>(&body)
                .map(|c| Some(c.config))
                .map_err(|_| unexpected_answer(200)),
            Ok((status, body)) => Err(config_call_error(status, &body, key)),
        }
    }

    /// Deletes the config under `key` (`POST /del/{key}`); a key that is already gone (204) is
    /// not an error.
    pub async fn delete_config(&self, key: &ConfigKey) -> Result<Removal, AppriseError> {
        if self.config_lock {
            return Err(AppriseError::Locked);
        }
        let request = self.http.post(self.endpoint(&format!("del/{}", key.as_str())));
        match self.exchange(request).await {
            Err(reason) => Err(AppriseError::Unavailable(reason)),
            Ok((200, _)) => Ok(Removal::Deleted),
            Ok((204, _)) => Ok(Removal::AlreadyGone),
            Ok((status, body)) => Err(config_call_error(status, &body, key)),
        }
    }

    /// The URLs stored under `key` with their secrets masked by the Apprise API
    /// (`GET /json/urls/{key}?privacy=1`); `None` when the key does not exist (204).
    pub async fn redacted_urls(&self, key: &ConfigKey) -> Result<Option<Vec<RedactedUrl>>, AppriseError> {
        if self.config_lock {
            return Err(AppriseError::Locked);
        }
        let request = self.http.get(self.endpoint(&format!("json/urls/{}?privacy=1", key.as_str())));
        match self.exchange(request).await {
            Err(reason) => Err(AppriseError::Unavailable(reason)),
            Ok((204, _)) => Ok(None),
            Ok((200, body)) => serde_json::from_str::<UrlList>(&body)
                .map(|list| Some(list.urls))
                .map_err(|_| unexpected_answer(200)),
            Ok((status, body)) => Err(config_call_error(status, &body, key)),
        }
    }

    /// Sends `notice` through the config stored under `key` (`POST /notify/{key}`).
    #[tracing::instrument(name = "apprise.notify", skip_all)]
    pub async fn notify(&self, key: &ConfigKey, notice: &Notice<'_>) -> Outcome {
        let request = self
            .http
            .post(self.endpoint(&format!("notify/{}", key.as_str())))
            // The log lines in `details` tell delivered targets from failed ones: ask for the
            // INFO lines ("Sent … notification") whatever the server's own log level.
            .header("X-Apprise-Log-Level", "info")
            .json(&StatefulNotify {
                title: notice.title,
                body: notice.body,
                kind: notice.kind.as_str(),
                format: notice.format.as_str(),
                tag: notice.tag.filter(|t| !t.trim().is_empty()),
            });
        match self.exchange(request).await {
            Err(reason) => Outcome::Unavailable { reason },
            Ok((status, body)) => classify(status, &body, Some(key), &Sent::Tagged(notice.tag)),
        }
    }

    /// Sends `notice` through `key`; when the Apprise API has lost the config (204), pushes the
    /// text that `config` produces once and sends again. Returns the outcome and whether the
    /// config was pushed again. A re-push that fails leaves the outcome it caused: rejected when
    /// the Apprise API refused the config, unavailable otherwise.
    pub async fn notify_repushing<F, Fut>(
        &self,
        key: &ConfigKey,
        notice: &Notice<'_>,
        config: F,
    ) -> (Outcome, bool)
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<String>>,
    {
        let outcome = self.notify(key, notice).await;
        if outcome != Outcome::KeyMissing {
            return (outcome, false);
        }
        tracing::warn!("the Apprise API lost an integration's config; pushing it again");
        let text = match config().await {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(
                    error = format!("{e:#}"),
                    "cannot read an integration's config to push it again"
                );
                return (Outcome::KeyMissing, false);
            }
        };
        if let Err(e) = self.add_config(key, &text).await {
            tracing::warn!(error = %e, "pushing an integration's config again failed");
            let outcome = match e {
                AppriseError::Rejected(reason) => Outcome::Rejected { reason },
                other => Outcome::Unavailable { reason: other.to_string() },
            };
            return (outcome, false);
        }
        (self.notify(key, notice).await, true)
    }

    /// Sends through `urls` without a stored config (`POST /notify/`).
    pub async fn notify_stateless(&self, urls: &[String], title: &str, body: &str) -> Outcome {
        self.post_stateless(&StatelessNotify { urls, title, body, kind: None, format: None }).await
    }

    /// Sends `notice` through an integration's `urls` without a stored config, as a locked
    /// Apprise API requires: Herald picks the URLs that `notice.tag` reaches ([`select_urls`])
    /// and sends them with `POST /notify/`. The outcome reads like [`notify`](Self::notify)'s:
    /// no URL matching the tag is the same rejection, and never [`Outcome::KeyMissing`].
    #[tracing::instrument(name = "apprise.notify", skip_all)]
    pub async fn notify_urls(&self, urls: &[TaggedUrl], notice: &Notice<'_>) -> Outcome {
        self.notify_urls_attaching(urls, notice, &[]).await
    }

    /// [`notify_urls`](Self::notify_urls) with files attached (none: a plain JSON request): sent
    /// as a multipart form, the way the Apprise API takes attachments.
    pub async fn notify_urls_attaching(
        &self,
        urls: &[TaggedUrl],
        notice: &Notice<'_>,
        attachments: &[Attachment],
    ) -> Outcome {
        let tag = notice.tag.filter(|t| !t.trim().is_empty());
        let selected: Vec<String> = match select_urls(urls, tag) {
            Ok(selected) => selected.into_iter().map(|u| u.url.clone()).collect(),
            Err(UnsupportedTag) => {
                return Outcome::Rejected {
                    reason: "400: Unsupported characters found in tag definition".to_owned(),
                };
            }
        };
        if selected.is_empty() {
            return Outcome::Rejected { reason: matched_nothing(tag) };
        }
        let payload = StatelessNotify {
            urls: &selected,
            title: notice.title,
            body: notice.body,
            kind: Some(notice.kind.as_str()),
            format: Some(notice.format.as_str()),
        };
        if attachments.is_empty() {
            self.post_stateless(&payload).await
        } else {
            self.post_stateless_form(&payload, attachments).await
        }
    }

    /// Sends through `urls` without a stored config, with `attachment` (`POST /notify/` as a
    /// multipart form).
    pub async fn notify_stateless_attaching(
        &self,
        urls: &[String],
        title: &str,
        body: &str,
        attachment: &Attachment,
    ) -> Outcome {
        let payload = StatelessNotify { urls, title, body, kind: None, format: None };
        self.post_stateless_form(&payload, std::slice::from_ref(attachment)).await
    }

    async fn post_stateless_form(&self, payload: &StatelessNotify<'_>, files: &[Attachment]) -> Outcome {
        let mut parts = Vec::with_capacity(files.len());
        for file in files {
            match reqwest::multipart::Part::text(file.content.clone())
                .file_name(file.name.clone())
                .mime_str(&file.mime)
            {
                Ok(part) => parts.push(part),
                Err(_) => return Outcome::Rejected { reason: format!("not a media type: {}", file.mime) },
            }
        }
        // The form's `urls` is one string; the Apprise API splits it at commas and spaces.
        let mut form = reqwest::multipart::Form::new()
            .text("urls", payload.urls.join(", "))
            .text("title", payload.title.to_owned())
            .text("body", payload.body.to_owned());
        if let Some(kind) = payload.kind {
            form = form.text("type", kind);
        }
        if let Some(format) = payload.format {
            form = form.text("format", format);
        }
        // One `attach` part per file (the Apprise API takes every file of the form).
        for part in parts {
            form = form.part("attach", part);
        }
        let request =
            self.http.post(self.endpoint("notify/")).header("X-Apprise-Log-Level", "info").multipart(form);
        match self.exchange(request).await {
            Err(reason) => Outcome::Unavailable { reason },
            Ok((status, text)) => classify(status, &text, None, &Sent::Stateless),
        }
    }

    async fn post_stateless(&self, payload: &StatelessNotify<'_>) -> Outcome {
        let request =
            self.http.post(self.endpoint("notify/")).header("X-Apprise-Log-Level", "info").json(payload);
        match self.exchange(request).await {
            Err(reason) => Outcome::Unavailable { reason },
            Ok((status, text)) => classify(status, &text, None, &Sent::Stateless),
        }
    }

    /// Whether the Apprise API is up and its storage works (`GET /status`): 200 is fine, 417
    /// means its storage is broken.
    pub async fn status(&self) -> Result<(), AppriseError> {
        let request = self.http.get(self.endpoint("status")).timeout(STATUS_TIMEOUT);
        match self.exchange(request).await {
            Err(reason) => Err(AppriseError::Unavailable(reason)),
            Ok((200, _)) => Ok(()),
            Ok((417, body)) => {
                let problems = status_problems(&body);
                Err(AppriseError::Unavailable(if problems.is_empty() {
                    "it reports a problem with its storage (417)".to_owned()
                } else {
                    format!("it reports a problem with its storage (417: {problems})")
                }))
            }
            Ok((status, _)) => Err(AppriseError::Unavailable(format!("/status answered {status}"))),
        }
    }
}

/// What a notify was sent through, for explaining a 204 or a tag that matched nothing.
enum Sent<'a> {
    /// A stored config, with this tag.
    Tagged(Option<&'a str>),
    /// Stateless URLs.
    Stateless,
}

/// Maps an answer of `/notify` to an outcome.
fn classify(status: u16, body: &str, key: Option<&ConfigKey>, sent: &Sent<'_>) -> Outcome {
    match status {
        200 => Outcome::Delivered,
        204 => match sent {
            Sent::Tagged(_) => Outcome::KeyMissing,
            Sent::Stateless => Outcome::Rejected { reason: "no valid notification URL was given".to_owned() },
        },
        424 => classify_failed_dependency(body, key, sent),
        408 | 429 => {
            Outcome::Unavailable { reason: format!("the Apprise API answered {status}; try again later") }
        }
        404 => Outcome::Rejected {
            reason:
                "the Apprise API answered 404: the config key was refused, or HERALD_APPRISE_URL does not \
                     point at an Apprise API"
                    .to_owned(),
        },
        400..=499 => Outcome::Rejected { reason: format!("{status}: {}", api_message(body, key)) },
        _ => Outcome::Unavailable { reason: format!("the Apprise API answered {status}") },
    }
}

/// A 424: at least one matched target failed, or the tag matched nothing. The `details` are
/// the Apprise log lines `[LEVEL, TIME, MESSAGE]`; Apprise logs every successful send at INFO
/// as "Sent …" ("Sent JSON POST notification.", "Sent Email to …") and every failure at
/// WARNING or ERROR. So: some "Sent" line = partial; failures only = nothing delivered; no
/// line at all = no URL was tried (the tag matched nothing); no readable details = unknown,
/// treated as partial so that nobody gets a blind duplicate.
fn classify_failed_dependency(body: &str, key: Option<&ConfigKey>, sent: &Sent<'_>) -> Outcome {
    let details = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("details").and_then(Value::as_array).cloned());
    let Some(details) = details else {
        return Outcome::Partial {
            reason: format!(
                "{}; the Apprise API did not say which targets worked, so some may have received it",
                api_message(body, key)
            ),
        };
    };
    let lines: Vec<(String, String)> = details
        .iter()
        .filter_map(|entry| {
            let entry = entry.as_array()?;
            let level = entry.first()?.as_str()?.to_ascii_uppercase();
            let message = entry.get(2)?.as_str()?.trim().to_owned();
            Some((level, message))
        })
        .collect();
    let delivered = lines.iter().filter(|(level, m)| level == "INFO" && m.starts_with("Sent ")).count();
    let mut failures: Vec<String> = lines
        .iter()
        .filter(|(level, _)| matches!(level.as_str(), "WARNING" | "ERROR" | "CRITICAL"))
        .map(|(_, m)| scrub(m, key))
        .collect();
    failures.dedup();
    let failed = failures.len();
    let shown = failures.iter().take(3).cloned().collect::<Vec<_>>().join("; ");
    let why = if shown.is_empty() { "a target failed".to_owned() } else { shown };
    if delivered > 0 {
        let targets = if delivered == 1 { "1 target".to_owned() } else { format!("{delivered} targets") };
        Outcome::Partial { reason: format!("{targets} received it, but {why}") }
    } else if details.is_empty() {
        Outcome::Rejected {
            reason: match sent {
                Sent::Tagged(tag) => matched_nothing(*tag),
                Sent::Stateless => "no URL could be used".to_owned(),
            },
        }
    } else if failed == 0 {
        // Lines, but neither a success nor a failure among them: cannot tell what happened.
        Outcome::Partial {
            reason: "the Apprise API reported a failure without saying which targets worked, so some may \
                     have received it"
                .to_owned(),
        }
    } else {
        Outcome::Unavailable { reason: why }
    }
}

/// Why a notify with `tag` reached nothing: no URL matches it.
fn matched_nothing(tag: Option<&str>) -> String {
    match tag.map(str::trim).filter(|t| !t.is_empty()) {
        Some(tag) => format!("no URL of this integration matches the tag “{tag}”"),
        None => {
            "this integration has no untagged URL, and a message without a tag reaches only untagged URLs"
                .to_owned()
        }
    }
}

/// The storage problems a `/status` answer lists (`status.details`), e.g. `CONFIG_PERMISSION_ISSUE`.
fn status_problems(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| {
            v.get("status").and_then(|s| s.get("details")).and_then(Value::as_array).map(|d| {
                d.iter()
                    .filter_map(Value::as_str)
                    .filter(|s| *s != "OK")
                    .map(|s| s.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<String>())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
        })
        .unwrap_or_default()
}

/// Maps a failed `/add`, `/get`, `/del` or `/json/urls` answer to an error.
fn config_call_error(status: u16, body: &str, key: &ConfigKey) -> AppriseError {
    match status {
        403 => AppriseError::Locked,
        404 => AppriseError::Rejected(
            "the Apprise API answered 404: the config key was refused, or HERALD_APPRISE_URL does not point \
             at an Apprise API"
                .to_owned(),
        ),
        408 | 429 => AppriseError::Unavailable(format!("it answered {status}; try again later")),
        400..=499 => AppriseError::Rejected(format!("{status}: {}", api_message(body, Some(key)))),
        500..=599 => {
            AppriseError::Unavailable(format!("it answered {status}: {}", api_message(body, Some(key))))
        }
        _ => unexpected_answer(status),
    }
}

fn unexpected_answer(status: u16) -> AppriseError {
    AppriseError::Unavailable(format!(
        "it gave an unexpected answer ({status}); is HERALD_APPRISE_URL an Apprise API?"
    ))
}

/// The `error` of a JSON answer, or else a short plain-text answer; scrubbed.
fn api_message(body: &str, key: Option<&ConfigKey>) -> String {
    let from_json = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned));
    let text = match from_json {
        Some(message) => message,
        None if body.trim_start().starts_with('<') => "an HTML page instead of JSON".to_owned(),
        None if body.trim().is_empty() => "no explanation".to_owned(),
        None => body.to_owned(),
    };
    scrub(&text, key)
}

/// `message` without the config key or any URL (shown as `scheme://…`), on one line, cut to
/// [`MAX_MESSAGE_CHARS`] characters.
fn scrub(message: &str, key: Option<&ConfigKey>) -> String {
    let mut text = message.replace(['\r', '\n', '\t'], " ");
    if let Some(key) = key {
        text = text.replace(key.as_str(), "***");
    }
    let words: Vec<String> = text
        .split(' ')
        .map(|word| match word.find("://") {
            Some(at) => {
                let scheme: Vec<char> =
                    word[..at].chars().rev().take_while(char::is_ascii_alphanumeric).collect();
                let scheme: String = scheme.into_iter().rev().collect();
                format!("{}://…", scheme.to_ascii_lowercase())
            }
            None => word.to_owned(),
        })
        .collect();
    let text = words.join(" ");
    let text = text.trim();
    if text.chars().count() > MAX_MESSAGE_CHARS {
        format!("{}…", text.chars().take(MAX_MESSAGE_CHARS).collect::<String>())
    } else {
        text.to_owned()
    }
}

/// A transport failure in words; never the URL (it holds the config key).
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "the Apprise API did not answer in time".to_owned()
    } else if e.is_connect() {
        "cannot connect to the Apprise API".to_owned()
    } else if e.is_redirect() {
        "the Apprise API answered with a redirect; check HERALD_APPRISE_URL".to_owned()
    } else {
        "the connection to the Apprise API failed".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ConfigKey {
        ConfigKey::parse("k3y_Secret-0123456789").unwrap_or_else(|e| panic!("{e}"))
    }

    fn notify(status: u16, body: &str, tag: Option<&str>) -> Outcome {
        classify(status, body, Some(&key()), &Sent::Tagged(tag))
    }

    fn details(lines: &[(&str, &str)]) -> String {
        let details: Vec<Value> =
            lines.iter().map(|(l, m)| serde_json::json!([l, "2026-11-22 10:00:00,123", m])).collect();
        serde_json::json!({"error": "One or more notification could not be sent", "details": details})
            .to_string()
    }

    #[test]
    fn config_keys_follow_the_apprise_rules_and_stay_secret() {
        assert!(ConfigKey::parse("abc_DEF-123").is_ok());
        assert!(ConfigKey::parse(&"a".repeat(128)).is_ok());
        assert!(ConfigKey::parse(&"a".repeat(129)).is_err());
        assert!(ConfigKey::parse("").is_err());
        assert!(ConfigKey::parse("a.b").is_err());
        assert!(ConfigKey::parse("a b").is_err());
        assert!(ConfigKey::parse("é").is_err());
        assert_eq!(format!("{:?}", key()), "ConfigKey(***)");
        assert_eq!(key().as_str(), "k3y_Secret-0123456789");
    }

    #[test]
    fn plain_answers_map_to_outcomes() {
        assert_eq!(notify(200, r#"{"error": null, "details": []}"#, None), Outcome::Delivered);
        assert_eq!(notify(204, "", None), Outcome::KeyMissing);
        assert!(matches!(
            classify(204, "", None, &Sent::Stateless),
            Outcome::Rejected { reason } if reason.contains("no valid notification URL")
        ));
        assert!(matches!(
            notify(400, r#"{"error":"Payload lacks minimum requirements"}"#, None),
            Outcome::Rejected { reason } if reason == "400: Payload lacks minimum requirements"
        ));
        assert!(matches!(
            notify(400, r#"{"error":"Unsupported characters found in tag definition"}"#, Some("a/b")),
            Outcome::Rejected { reason } if reason.contains("Unsupported characters")
        ));
        assert!(matches!(notify(404, "<html>Not Found</html>", None), Outcome::Rejected { .. }));
        assert!(matches!(notify(500, "", None), Outcome::Unavailable { .. }));
        assert!(matches!(notify(502, "bad gateway", None), Outcome::Unavailable { .. }));
        assert!(matches!(notify(429, "", None), Outcome::Unavailable { .. }));
    }

    #[test]
    fn a_424_with_a_success_is_partial_and_names_the_failure() {
        let body = details(&[
            ("INFO", "Notifying 2 service(s) with threads."),
            ("INFO", "Sent JSON POST notification."),
            ("WARNING", "A Connection error occurred sending Discord notification."),
        ]);
        let outcome = notify(424, &body, Some("email"));
        assert!(
            matches!(&outcome, Outcome::Partial { reason } if reason.contains("1 target received it") && reason.contains("Discord")),
            "{outcome:?}"
        );
        assert!(!outcome.nothing_delivered());
        let email = details(&[("INFO", "Sent Email to ada@example.org"), ("ERROR", "Failed to send ntfy")]);
        assert!(matches!(notify(424, &email, None), Outcome::Partial { .. }));
    }

    #[test]
    fn a_424_without_a_success_delivered_nothing() {
        let body = details(&[
            ("INFO", "Notifying 2 service(s) with threads."),
            ("WARNING", "A Connection error occurred sending JSON notification to 127.0.0.1."),
            ("WARNING", "Failed to send Slack notification: Forbidden."),
        ]);
        let outcome = notify(424, &body, Some("all"));
        assert!(
            matches!(&outcome, Outcome::Unavailable { reason } if reason.contains("JSON") && reason.contains("Slack")),
            "{outcome:?}"
        );
        assert!(outcome.nothing_delivered());
    }

    #[test]
    fn a_424_without_any_line_means_the_tag_matched_nothing() {
        let body = details(&[]);
        assert!(matches!(
            notify(424, &body, Some("sms")),
            Outcome::Rejected { reason } if reason.contains("“sms”")
        ));
        assert!(matches!(
            notify(424, &body, None),
            Outcome::Rejected { reason } if reason.contains("untagged")
        ));
    }

    #[test]
    fn a_424_without_readable_details_is_treated_as_partial() {
        for body in [r#"{"error": "One or more notification could not be sent"}"#, "not json", ""] {
            assert!(matches!(notify(424, body, None), Outcome::Partial { .. }), "{body}");
        }
        let odd = details(&[("DEBUG", "something")]);
        assert!(matches!(notify(424, &odd, None), Outcome::Partial { .. }));
    }

    #[test]
    fn reasons_never_quote_the_key_or_a_url() {
        let k = key();
        let body = details(&[(
            "WARNING",
            "Failed to send to json://user:hunter2@example.org/hook using KEY: k3y_Secret-0123456789",
        )]);
        let Outcome::Unavailable { reason } = notify(424, &body, None) else { panic!("unavailable") };
        assert!(!reason.contains("hunter2") && !reason.contains(k.as_str()), "{reason}");
        assert!(reason.contains("json://…"), "{reason}");
        let err = config_call_error(
            400,
            r#"{"error":"Payload field mapping failed using KEY: k3y_Secret-0123456789"}"#,
            &k,
        );
        assert!(!err.to_string().contains(k.as_str()), "{err}");
        assert!(scrub(&"x".repeat(500), None).chars().count() <= MAX_MESSAGE_CHARS + 1);
        assert_eq!(
            scrub("sent to «é://secret@x» and (Mailtos://u:p@h)", None),
            "sent to ://… and mailtos://…"
        );
    }

    #[test]
    fn config_call_answers_map_to_errors() {
        let k = key();
        assert_eq!(config_call_error(403, r#"{"error":"denied"}"#, &k), AppriseError::Locked);
        assert!(
            matches!(config_call_error(400, r#"{"error":"No valid URL(s) defined"}"#, &k), AppriseError::Rejected(m) if m.contains("No valid URL"))
        );
        assert!(matches!(config_call_error(404, "<html/>", &k), AppriseError::Rejected(_)));
        assert!(matches!(config_call_error(500, "", &k), AppriseError::Unavailable(_)));
        assert!(matches!(config_call_error(302, "", &k), AppriseError::Unavailable(_)));
        assert!(AppriseError::Locked.to_string().contains("APPRISE_CONFIG_LOCK"));
    }

    #[test]
    fn storage_problems_are_listed() {
        let body = r#"{"config_lock": false, "status": {"details": ["CONFIG_PERMISSION_ISSUE", "STORE_PERMISSION_ISSUE"]}}"#;
        assert_eq!(status_problems(body), "CONFIG_PERMISSION_ISSUE, STORE_PERMISSION_ISSUE");
        assert_eq!(status_problems("OK"), "");
    }

    fn tagged(url: &str, tags: &[&str]) -> TaggedUrl {
        TaggedUrl { url: url.to_owned(), tags: tags.iter().map(|t| (*t).to_owned()).collect() }
    }

    /// The URLs (by their last path segment) that `tag` reaches among a channel's URLs.
    fn reached(urls: &[TaggedUrl], tag: Option<&str>) -> Vec<String> {
        select_urls(urls, tag)
            .unwrap_or_else(|_| panic!("{tag:?} is a supported tag"))
            .into_iter()
            .map(|u| u.url.rsplit('/').next().unwrap_or_default().to_owned())
            .collect()
    }

    #[test]
    fn tags_select_urls_by_the_apprise_rules() {
        let urls = [
            tagged("json://h/mail", &["email"]),
            tagged("json://h/sms", &["sms", "urgent"]),
            tagged("json://h/plain", &[]),
            tagged("json://h/chat", &["Chat"]),
        ];
        // Herald's comma lists are OR, whatever the spacing and case.
        assert_eq!(reached(&urls, Some("email")), ["mail"]);
        assert_eq!(reached(&urls, Some("email,sms")), ["mail", "sms"]);
        assert_eq!(reached(&urls, Some(" EMAIL | chat ")), ["mail", "chat"]);
        // Space, + and & are AND.
        assert_eq!(reached(&urls, Some("sms urgent")), ["sms"]);
        assert_eq!(reached(&urls, Some("sms+email")), Vec::<String>::new());
        assert_eq!(reached(&urls, Some("urgent&sms, email")), ["mail", "sms"], "in the channel's order");
        // `all` reaches every URL, tagged or not.
        assert_eq!(reached(&urls, Some("all")), ["mail", "sms", "plain", "chat"]);
        // No tag, or a blank one, reaches only the untagged URLs.
        assert_eq!(reached(&urls, None), ["plain"]);
        assert_eq!(reached(&urls, Some("  ")), ["plain"]);
        // A tag matching nothing reaches nothing.
        assert_eq!(reached(&urls, Some("phone")), Vec::<String>::new());
        assert!(select_urls(&urls, Some("a/b")).is_err());
        assert!(select_urls(&urls, Some("mail;drop")).is_err());
    }

    #[test]
    fn always_urls_join_every_tagged_request_but_not_untagged_ones() {
        let urls = [tagged("json://h/mail", &["always", "email"]), tagged("json://h/sms", &["sms"])];
        assert_eq!(reached(&urls, Some("sms")), ["mail", "sms"]);
        assert_eq!(reached(&urls, Some("nothing-else")), ["mail"]);
        assert_eq!(reached(&urls, None), Vec::<String>::new());
        assert_eq!(format!("{:?}", urls[0]), r#"TaggedUrl { url: "***", tags: ["always", "email"] }"#);
    }

    #[tokio::test]
    async fn a_locked_client_never_asks_for_configs() {
        // Nothing listens on port 1: a request would be "unavailable", not "locked".
        let base = Url::parse("http://127.0.0.1:1").unwrap_or_else(|e| panic!("{e}"));
        let client = AppriseClient::new(base, Duration::from_secs(1))
            .unwrap_or_else(|e| panic!("{e}"))
            .with_config_lock(true);
        assert!(client.config_locked());
        assert_eq!(client.add_config(&key(), "x=json://h/a").await, Err(AppriseError::Locked));
        assert_eq!(client.get_config(&key()).await, Err(AppriseError::Locked));
        assert_eq!(client.delete_config(&key()).await, Err(AppriseError::Locked));
        assert_eq!(client.redacted_urls(&key()).await, Err(AppriseError::Locked));
        // A tag that matches nothing is decided here, without a request, worded like keyed notify's.
        let urls = [tagged("json://h/a", &["email"])];
        let notice = Notice {
            title: "T",
            body: "B",
            kind: NoticeType::Info,
            format: BodyFormat::Text,
            tag: Some("sms"),
        };
        assert_eq!(
            client.notify_urls(&urls, &notice).await,
            notify(424, &details(&[]), Some("sms")),
            "the same outcome as a keyed notify whose tag matched nothing"
        );
        let untagged = Notice { tag: None, ..notice };
        assert_eq!(client.notify_urls(&urls, &untagged).await, notify(424, &details(&[]), None));
        assert!(
            matches!(
                client.notify_urls(&urls, &Notice { tag: Some("all"), ..notice }).await,
                Outcome::Unavailable { .. }
            ),
            "a matching URL is sent, and nothing listens"
        );
    }

    #[test]
    fn notices_serialize_as_the_api_expects() {
        let body = StatefulNotify {
            title: "T",
            body: "B",
            kind: NoticeType::Warning.as_str(),
            format: BodyFormat::Markdown.as_str(),
            tag: None,
        };
        assert_eq!(
            serde_json::to_value(&body).ok(),
            Some(serde_json::json!({"title": "T", "body": "B", "type": "warning", "format": "markdown"}))
        );
        let urls = vec!["json://h/a".to_owned()];
        let stateless =
            StatelessNotify { urls: &urls, title: "T", body: "B", kind: Some("info"), format: Some("text") };
        assert_eq!(
            serde_json::to_value(&stateless).ok(),
            Some(
                serde_json::json!({"urls": ["json://h/a"], "title": "T", "body": "B", "type": "info", "format": "text"})
            )
        );
        let mail = StatelessNotify { urls: &urls, title: "T", body: "B", kind: None, format: None };
        assert_eq!(
            serde_json::to_value(&mail).ok(),
            Some(serde_json::json!({"urls": ["json://h/a"], "title": "T", "body": "B"}))
        );
    }
}
