//! Configuration from flags and `HERALD_*` environment variables, checked once at start-up.
//!
//! Every problem becomes a [`ConfigError`] naming the setting and the reason, printed as one line.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use url::Url;

/// Settings shared by every command that touches the database.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Folder for Herald's own files (the SQLite database, keys).
    #[arg(long, env = "HERALD_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,

    /// Database URL: `sqlite://…` or `postgres://…`. Default: `herald.db` in the data folder.
    #[arg(long, env = "HERALD_DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Days the delivery ledger of an event is kept after the event ended; 0 keeps it forever.
    #[arg(long, env = "HERALD_RETENTION_LEDGER_DAYS", global = true, default_value_t = DEFAULT_RETENTION_DAYS)]
    pub retention_ledger_days: u32,

    /// Days an organization's activity (audit) entries are kept; 0 keeps them forever.
    #[arg(long, env = "HERALD_RETENTION_AUDIT_DAYS", global = true, default_value_t = DEFAULT_RETENTION_DAYS)]
    pub retention_audit_days: u32,
}

/// How long the delivery ledger and the activity entries are kept by default, in days.
pub const DEFAULT_RETENTION_DAYS: u32 = 365;

/// How long old rows are kept (`HERALD_RETENTION_*`); 0 days keeps them forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Days the delivery ledger of an ended event is kept.
    pub ledger_days: u32,
    /// Days activity entries are kept.
    pub audit_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Self { ledger_days: DEFAULT_RETENTION_DAYS, audit_days: DEFAULT_RETENTION_DAYS }
    }
}

impl DatabaseArgs {
    /// The retention settings.
    pub fn retention(&self) -> Retention {
        Retention { ledger_days: self.retention_ledger_days, audit_days: self.retention_audit_days }
    }
}

/// Settings for talking to Temporal.
#[derive(Debug, Clone, Args)]
pub struct TemporalArgs {
    /// Temporal frontend address.
    #[arg(long, env = "HERALD_TEMPORAL_ADDRESS", default_value = "http://127.0.0.1:7233", global = true)]
    pub temporal_address: String,

    /// Temporal namespace.
    #[arg(long, env = "HERALD_TEMPORAL_NAMESPACE", default_value = "default", global = true)]
    pub temporal_namespace: String,

    /// Task queue the worker polls and workflows are started on.
    #[arg(long, env = "HERALD_TASK_QUEUE", default_value = "herald", global = true)]
    pub task_queue: String,

    /// Apprise API base URL; unset = log-only mode (nothing is sent).
    #[arg(long, env = "HERALD_APPRISE_URL", global = true)]
    pub apprise_url: Option<String>,

    /// Temporal Web UI base URL (e.g. http://127.0.0.1:8233); set, organizers' event pages
    /// link to the event's workflow there.
    #[arg(long, env = "HERALD_TEMPORAL_UI_URL", global = true)]
    pub temporal_ui_url: Option<String>,

    /// The Apprise API runs with `APPRISE_CONFIG_LOCK=yes`: Herald stores no channel config
    /// there (nobody who reaches it can read the channels' secrets) and sends each message with
    /// the channel's URLs, from its own encrypted copy.
    #[arg(long, env = "HERALD_APPRISE_CONFIG_LOCK", global = true, default_value_t = false,
          value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::Set)]
    pub apprise_config_lock: bool,

    /// Let notification channels reach loopback and private network addresses (a LAN ntfy or
    /// Gotify server, say). Off by default: channels reach only public addresses.
    #[arg(long, env = "HERALD_ALLOW_PRIVATE_TARGETS", global = true, default_value_t = false,
          value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::Set)]
    pub allow_private_targets: bool,

    /// Workflows the worker keeps in memory between their tasks (its sticky cache). An evicted
    /// one is replayed from its short history when its next timer fires; each cached one costs
    /// memory (docs/DEPLOY.md, Sizing).
    #[arg(long, env = "HERALD_WORKER_CACHE", global = true, default_value_t = crate::temporal::WORKFLOW_CACHE)]
    pub worker_cache: usize,

    /// Concurrent polls of the worker for workflow tasks (activities get half as many, at
    /// least 2).
    #[arg(long, env = "HERALD_WORKER_POLLERS", global = true, default_value_t = crate::temporal::WORKFLOW_POLLERS)]
    pub worker_pollers: usize,
}

/// Settings of the web server.
#[derive(Debug, Clone, Args)]
pub struct WebArgs {
    /// Address and port the web server listens on.
    #[arg(long, env = "HERALD_LISTEN", default_value = "127.0.0.1:8080", global = true)]
    pub listen: String,

    /// Public URL of this Herald, used in links and emails. Default: `http://{listen}`.
    #[arg(long, env = "HERALD_BASE_URL", global = true)]
    pub base_url: Option<String>,

    /// Apprise mail URL for system mail (mailto:// or mailtos://); the recipient is added per
    /// message. Unset: links are written to the log instead.
    #[arg(long, env = "HERALD_MAIL_URL", global = true, hide_env_values = true)]
    pub mail_url: Option<String>,

    /// Reverse proxies whose X-Forwarded-For is trusted (comma-separated IPs or CIDRs).
    #[arg(long, env = "HERALD_TRUSTED_PROXIES", global = true, value_delimiter = ',')]
    pub trusted_proxies: Vec<String>,

    /// The most participants (and pending invitations) one event may have.
    #[arg(long, env = "HERALD_MAX_PARTICIPANTS", global = true, default_value_t = crate::limits::DEFAULT_MAX_PARTICIPANTS)]
    pub max_participants: usize,

    /// Operators (comma-separated email addresses): they see the system status on their home
    /// page. Nobody else does.
    #[arg(long, env = "HERALD_ADMIN_EMAILS", global = true, value_delimiter = ',')]
    pub admin_emails: Vec<String>,

    /// A bearer token that opens `/metrics` (Prometheus). Unset: there is no `/metrics`.
    #[arg(long, env = "HERALD_METRICS_TOKEN", global = true, hide_env_values = true)]
    pub metrics_token: Option<String>,
}

/// The secret key setting.
#[derive(Debug, Clone, Args)]
pub struct SecretArgs {
    /// 64 hex characters (`openssl rand -hex 32`). Unset: a key file in the data folder.
    #[arg(long, env = "HERALD_SECRET_KEY", global = true, hide_env_values = true)]
    pub secret_key: Option<String>,
}

/// Optional OpenTelemetry traces.
#[derive(Debug, Clone, Args)]
pub struct TracesArgs {
    /// Base URL of an OTLP/HTTP receiver (an OpenTelemetry Collector, Jaeger, Tempo…), e.g.
    /// `http://otel-collector:4318`: spans are sent to `/v1/traces` under it as protobuf. Unset
    /// (the default): no traces, no exporter.
    #[arg(long, env = "HERALD_OTLP_ENDPOINT", global = true)]
    pub otlp_endpoint: Option<Url>,
}

impl TracesArgs {
    /// Where spans go: `/v1/traces` under the endpoint, unless the endpoint names it already.
    pub fn traces_url(&self) -> Option<Url> {
        let mut url = self.otlp_endpoint.clone()?;
        if !url.path().ends_with("/v1/traces") {
            let path = format!("{}/v1/traces", url.path().trim_end_matches('/'));
            url.set_path(&path);
        }
        Some(url)
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum LogFormat {
    /// Human-readable, coloured when the output is a terminal.
    #[default]
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

/// A setting that cannot be used, and why.
#[derive(Debug, thiserror::Error)]
#[error("{setting}: {reason}")]
pub struct ConfigError {
    /// The environment variable (and flag) at fault.
    pub setting: &'static str,
    /// What is wrong with it, in words.
    pub reason: String,
}

impl ConfigError {
    pub(crate) fn new(setting: &'static str, reason: impl Into<String>) -> Self {
        Self { setting, reason: reason.into() }
    }
}

/// Which database a URL selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite file (created on first start).
    Sqlite(PathBuf),
    /// A Postgres server.
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses a `sqlite:` or `postgres:` URL.
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        const SETTING: &str = "HERALD_DATABASE_URL";
        let raw = raw.trim();
        if let Some(rest) = raw.strip_prefix("sqlite://").or_else(|| raw.strip_prefix("sqlite:")) {
            let path = rest.split('?').next().unwrap_or_default();
            if path.is_empty() {
                return Err(ConfigError::new(
                    SETTING,
                    "a sqlite URL needs a file path, e.g. sqlite://./data/herald.db",
                ));
            }
            if path == ":memory:" {
                return Err(ConfigError::new(
                    SETTING,
                    "in-memory SQLite would lose everything on restart; give a file path",
                ));
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            let url =
                Url::parse(raw).map_err(|e| ConfigError::new(SETTING, format!("not a valid URL ({e})")))?;
            if url.host_str().is_none_or(str::is_empty) && !url.query().is_some_and(|q| q.contains("host=")) {
                return Err(ConfigError::new(SETTING, "the postgres URL has no host"));
            }
            return Ok(Self::Postgres(raw.to_owned()));
        }
        let scheme = raw.split_once(':').map_or("", |(s, _)| s);
        Err(ConfigError::new(
            SETTING,
            if scheme.is_empty() {
                "not a database URL; use sqlite://PATH or postgres://USER@HOST/DB".to_owned()
            } else {
                format!("unsupported scheme '{scheme}'; use sqlite://PATH or postgres://USER@HOST/DB")
            },
        ))
    }

    /// The URL with any password replaced, for logs and error messages.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite://{}", path.display()),
            Self::Postgres(raw) => match Url::parse(raw) {
                Ok(mut url) => {
                    if url.password().is_some() {
                        let _ = url.set_password(Some("***"));
                    }
                    url.to_string()
                }
                Err(_) => "postgres://***".to_owned(),
            },
        }
    }
}

/// The checked database settings.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// Folder for Herald's own files.
    pub data_dir: PathBuf,
    /// The database to use.
    pub url: DatabaseUrl,
}

impl DatabaseArgs {
    /// Checks the settings and makes sure the data folder exists and is writable.
    pub fn resolve(&self) -> Result<DatabaseConfig, ConfigError> {
        let url = match self.database_url.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(raw) => DatabaseUrl::parse(raw)?,
            None => DatabaseUrl::Sqlite(self.data_dir.join("herald.db")),
        };
        ensure_writable_dir(&self.data_dir)?;
        Ok(DatabaseConfig { data_dir: self.data_dir.clone(), url })
    }
}

fn ensure_writable_dir(dir: &Path) -> Result<(), ConfigError> {
    const SETTING: &str = "HERALD_DATA_DIR";
    let shown = dir.display();
    std::fs::create_dir_all(dir)
        .map_err(|e| ConfigError::new(SETTING, format!("cannot create {shown}: {}", io_reason(&e))))?;
    let probe = dir.join(format!(".herald-write-test-{}", std::process::id()));
    std::fs::write(&probe, b"ok")
        .map_err(|e| ConfigError::new(SETTING, format!("{shown} is not writable: {}", io_reason(&e))))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// An I/O error in a few words, without the "(os error N)" suffix.
pub(crate) fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_lowercase(),
        None => text.to_lowercase(),
    }
}

/// The checked Temporal settings.
#[derive(Debug, Clone)]
pub struct TemporalConfig {
    /// Frontend address, with scheme.
    pub address: Url,
    /// Namespace.
    pub namespace: String,
    /// Task queue.
    pub task_queue: String,
    /// Temporal Web UI, for links to workflows.
    pub ui_url: Option<Url>,
    /// The worker's sticky cache, in workflows (`HERALD_WORKER_CACHE`).
    pub worker_cache: usize,
    /// The worker's concurrent workflow-task polls (`HERALD_WORKER_POLLERS`).
    pub worker_pollers: usize,
}

impl TemporalConfig {
    /// The Temporal Web UI page of `workflow_id`, when the UI's URL is configured.
    pub fn workflow_ui_url(&self, workflow_id: &str) -> Option<String> {
        let base = self.ui_url.as_ref()?;
        Some(format!(
            "{}/namespaces/{}/workflows/{}",
            base.as_str().trim_end_matches('/'),
            urlencode(&self.namespace),
            urlencode(workflow_id)
        ))
    }
}

impl TemporalArgs {
    /// Checks the Temporal settings.
    pub fn resolve(&self) -> Result<TemporalConfig, ConfigError> {
        let raw = self.temporal_address.trim();
        let with_scheme = if raw.contains("://") { raw.to_owned() } else { format!("http://{raw}") };
        let address = Url::parse(&with_scheme).map_err(|e| {
            ConfigError::new(
                "HERALD_TEMPORAL_ADDRESS",
                format!("not a valid address ({e}); use http://HOST:PORT"),
            )
        })?;
        if !matches!(address.scheme(), "http" | "https") || address.host_str().is_none() {
            return Err(ConfigError::new(
                "HERALD_TEMPORAL_ADDRESS",
                "use http://HOST:PORT or https://HOST:PORT",
            ));
        }
        let namespace = self.temporal_namespace.trim();
        if namespace.is_empty() {
            return Err(ConfigError::new("HERALD_TEMPORAL_NAMESPACE", "must not be empty"));
        }
        let task_queue = self.task_queue.trim();
        if task_queue.is_empty() {
            return Err(ConfigError::new("HERALD_TASK_QUEUE", "must not be empty"));
        }
        let ui_url = match self.temporal_ui_url.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(raw) => match Url::parse(raw) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Some(u),
                _ => {
                    return Err(ConfigError::new(
                        "HERALD_TEMPORAL_UI_URL",
                        "not a valid URL; use http://HOST:PORT of the Temporal Web UI",
                    ));
                }
            },
        };
        if self.worker_cache == 0 {
            return Err(ConfigError::new("HERALD_WORKER_CACHE", "must be at least 1"));
        }
        if !(2..=64).contains(&self.worker_pollers) {
            return Err(ConfigError::new("HERALD_WORKER_POLLERS", "choose between 2 and 64"));
        }
        Ok(TemporalConfig {
            address,
            namespace: namespace.to_owned(),
            task_queue: task_queue.to_owned(),
            ui_url,
            worker_cache: self.worker_cache,
            worker_pollers: self.worker_pollers,
        })
    }

    /// The Apprise API base URL, or `None` for log-only mode.
    pub fn apprise(&self) -> Result<Option<Url>, ConfigError> {
        let Some(raw) = self.apprise_url.as_deref().map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(None);
        };
        let url = Url::parse(raw)
            .map_err(|e| ConfigError::new("HERALD_APPRISE_URL", format!("not a valid URL ({e})")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ConfigError::new("HERALD_APPRISE_URL", "use http:// or https://"));
        }
        Ok(Some(url))
    }
}

/// The checked web settings.
#[derive(Clone)]
pub struct WebConfig {
    /// Where to listen.
    pub listen: SocketAddr,
    /// Public base URL.
    pub base_url: Url,
    /// Apprise mail URL (a secret: it may hold an SMTP password).
    pub mail_url: Option<String>,
    /// Proxies trusted to set X-Forwarded-For.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The most participants one event may have.
    pub max_participants: usize,
    /// Operators' addresses, lower-case: they see the system status.
    pub admin_emails: Vec<String>,
    /// The bearer token of `/metrics` (a secret); `None`: no metrics endpoint.
    pub metrics_token: Option<String>,
}

impl std::fmt::Debug for WebConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebConfig")
            .field("listen", &self.listen)
            .field("base_url", &self.base_url.as_str())
            .field("mail_url", &self.mail_url.as_ref().map(|_| "***"))
            .field("trusted_proxies", &self.trusted_proxies)
            .field("max_participants", &self.max_participants)
            .field("admin_emails", &self.admin_emails.len())
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "***"))
            .finish()
    }
}

impl WebConfig {
    /// Settings for tests and embedding: no mail, no proxies.
    pub fn local(listen: SocketAddr, base_url: Url) -> Self {
        Self {
            listen,
            base_url,
            mail_url: None,
            trusted_proxies: Vec::new(),
            max_participants: crate::limits::DEFAULT_MAX_PARTICIPANTS,
            admin_emails: Vec::new(),
            metrics_token: None,
        }
    }

    /// Whether `email` belongs to an operator (`HERALD_ADMIN_EMAILS`).
    pub fn is_admin(&self, email: &str) -> bool {
        let email = email.trim().to_lowercase();
        self.admin_emails.contains(&email)
    }

    /// Whether cookies must be `Secure` (the public URL is https).
    pub fn secure_cookies(&self) -> bool {
        self.base_url.scheme() == "https"
    }

    /// An absolute URL for `path` (which starts with `/`).
    pub fn absolute(&self, path: &str) -> String {
        format!("{}{}", self.base_url.as_str().trim_end_matches('/'), path)
    }
}

impl WebArgs {
    /// Checks the web settings.
    pub fn resolve(&self) -> Result<WebConfig, ConfigError> {
        let listen: SocketAddr = self.listen.trim().parse().map_err(|_| {
            ConfigError::new(
                "HERALD_LISTEN",
                format!("'{}' is not an address:port such as 127.0.0.1:8080", self.listen),
            )
        })?;
        let base_raw = match self.base_url.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(raw) => raw.to_owned(),
            None if listen.ip().is_unspecified() => format!("http://localhost:{}", listen.port()),
            None => format!("http://{listen}"),
        };
        let base_url = Url::parse(&base_raw)
            .map_err(|e| ConfigError::new("HERALD_BASE_URL", format!("not a valid URL ({e})")))?;
        if !matches!(base_url.scheme(), "http" | "https") {
            return Err(ConfigError::new("HERALD_BASE_URL", "use http:// or https://"));
        }
        let mail_url = match self.mail_url.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(raw) if raw.starts_with("mailto://") || raw.starts_with("mailtos://") => {
                Some(raw.to_owned())
            }
            Some(_) => {
                return Err(ConfigError::new(
                    "HERALD_MAIL_URL",
                    "use an Apprise mail URL: mailto://USER:PASSWORD@HOST or mailtos://… (the value is not shown)",
                ));
            }
            None => None,
        };
        let trusted_proxies = self
            .trusted_proxies
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<ipnet::IpNet>()
                    .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        ConfigError::new(
                            "HERALD_TRUSTED_PROXIES",
                            format!("'{s}' is not an IP address or CIDR"),
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if self.max_participants == 0 {
            return Err(ConfigError::new("HERALD_MAX_PARTICIPANTS", "must be at least 1"));
        }
        let admin_emails = self
            .admin_emails
            .iter()
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty())
            .map(|s| {
                if s.contains('@') {
                    Ok(s)
                } else {
                    Err(ConfigError::new("HERALD_ADMIN_EMAILS", format!("'{s}' is not an email address")))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(WebConfig {
            listen,
            base_url,
            mail_url,
            trusted_proxies,
            max_participants: self.max_participants,
            admin_emails,
            metrics_token: match self.metrics_token.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                Some(t) if t.len() < 16 => {
                    return Err(ConfigError::new(
                        "HERALD_METRICS_TOKEN",
                        "use at least 16 characters (e.g. openssl rand -hex 16); the value is not shown",
                    ));
                }
                other => other.map(str::to_owned),
            },
        })
    }
}

/// Percent-encodes a path segment.
fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_select_the_backend() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/x.db").ok(),
            Some(DatabaseUrl::Sqlite("data/x.db".into()))
        );
        assert_eq!(DatabaseUrl::parse("sqlite:x.db?mode=rwc").ok(), Some(DatabaseUrl::Sqlite("x.db".into())));
        assert!(matches!(DatabaseUrl::parse("postgres://u@localhost/db"), Ok(DatabaseUrl::Postgres(_))));
        let err = DatabaseUrl::parse("mysql://localhost/db").err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "HERALD_DATABASE_URL: unsupported scheme 'mysql'; use sqlite://PATH or postgres://USER@HOST/DB"
            )
        );
        assert!(DatabaseUrl::parse("nonsense").is_err());
        assert!(DatabaseUrl::parse("postgres://").is_err());
    }

    #[test]
    fn redaction_hides_the_password() {
        let url = DatabaseUrl::parse("postgres://herald:s3cret@db:5432/herald").ok();
        let shown = url.map(|u| u.redacted()).unwrap_or_default();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("db:5432"), "{shown}");
    }

    #[test]
    fn base_url_defaults_from_listen() {
        let args = |listen: &str| WebArgs {
            listen: listen.into(),
            base_url: None,
            mail_url: None,
            trusted_proxies: vec![],
            max_participants: 10,
            admin_emails: vec![" Ops@Example.org ".into()],
            metrics_token: None,
        };
        let web = args("0.0.0.0:9000").resolve().ok();
        assert_eq!(web.map(|w| w.base_url.to_string()).as_deref(), Some("http://localhost:9000/"));
        assert!(args("localhost").resolve().is_err());
        let mut bad_mail = args("127.0.0.1:1");
        bad_mail.mail_url = Some("smtp://user:hunter2@mail".into());
        let err = bad_mail.resolve().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.starts_with("HERALD_MAIL_URL") && !err.contains("hunter2"), "{err}");
        let mut proxies = args("127.0.0.1:1");
        proxies.trusted_proxies = vec!["10.0.0.0/8".into(), "192.168.1.1".into()];
        assert_eq!(proxies.resolve().map(|w| w.trusted_proxies.len()).ok(), Some(2));
        let admins = args("127.0.0.1:1").resolve().ok();
        assert!(admins.as_ref().is_some_and(|w| w.is_admin("ops@example.ORG")));
        assert!(admins.as_ref().is_some_and(|w| !w.is_admin("ada@example.org")));
        let mut bad_admin = args("127.0.0.1:1");
        bad_admin.admin_emails = vec!["ops".into()];
        assert!(bad_admin.resolve().is_err());
    }

    #[test]
    fn temporal_address_accepts_host_port() {
        let args = TemporalArgs {
            temporal_address: "127.0.0.1:7233".into(),
            temporal_namespace: "default".into(),
            task_queue: "herald".into(),
            apprise_url: None,
            temporal_ui_url: Some("http://127.0.0.1:8233/".into()),
            allow_private_targets: false,
            apprise_config_lock: false,
            worker_cache: crate::temporal::WORKFLOW_CACHE,
            worker_pollers: crate::temporal::WORKFLOW_POLLERS,
        };
        assert_eq!(
            args.resolve().ok().map(|c| c.address.to_string()).as_deref(),
            Some("http://127.0.0.1:7233/")
        );
        assert_eq!(
            args.resolve().ok().and_then(|c| c.workflow_ui_url("event-1")).as_deref(),
            Some("http://127.0.0.1:8233/namespaces/default/workflows/event-1")
        );
        let bad = TemporalArgs { temporal_ui_url: Some("not a url".into()), ..args };
        assert!(bad.resolve().is_err());
    }
}
