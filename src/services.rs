//! The services' own context: what every capability (accounts, orgs, events, participants,
//! integrations) works with. The web state wraps it, the CLI and the worker build it; no service
//! knows about the web.

use herald_workflows::apprise::AppriseClient;
use url::Url;

use crate::db::Db;
use crate::integrations::Targets;
use crate::limits::Limits;
use crate::mail::Mailer;
use crate::secrets::SecretKey;
use crate::temporal::Temporal;

/// Everything a service may need. Cloning copies its URLs and settings: share it behind an
/// `Arc` where it is cloned often (the web state does).
#[derive(Clone, Debug)]
pub struct Services {
    /// The database.
    pub db: Db,
    /// The link to Temporal.
    pub temporal: Temporal,
    /// The Apprise API client; `None` in log-only mode (no `HERALD_APPRISE_URL`: nothing is sent).
    pub apprise: Option<AppriseClient>,
    /// Herald's secret key, for sealing channel configs and signing links.
    pub keys: SecretKey,
    /// System mail.
    pub mailer: Mailer,
    /// Herald's public address, for the links in mail and notifications.
    pub links: Links,
    /// Which addresses notification channels may reach (`HERALD_ALLOW_PRIVATE_TARGETS`).
    pub targets: Targets,
    /// Abuse limits (sign-ups per client, account mail per address).
    pub limits: Limits,
}

/// Herald's public address (`HERALD_BASE_URL`), for absolute links.
#[derive(Clone, Debug)]
pub struct Links {
    base: Url,
}

impl Links {
    /// Links under `base`.
    pub fn new(base: Url) -> Self {
        Self { base }
    }

    /// The host of Herald's public address (`localhost` when it has none).
    pub fn host(&self) -> &str {
        self.base.host_str().unwrap_or("localhost")
    }

    /// The absolute URL of `path` (which starts with `/`).
    pub fn absolute(&self, path: &str) -> String {
        format!("{}{}", self.base.as_str().trim_end_matches('/'), path)
    }
}
