//! Starting and stopping Herald: the commands, the web server and the worker, wired together.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tracing::{error, info};

use crate::auth::password;
use crate::cli::{Cli, Command, IntegrationsCommand, TokenCommand, UserCommand};
use crate::config::{ConfigError, DatabaseConfig, TemporalConfig, WebConfig};
use crate::db::users::NewUser;
use crate::db::{Db, DbError};
use crate::delivery::Deliverer;
use crate::domain::{Email, Name, Password, TimeZone};
use crate::mail::Mailer;
use crate::secrets::SecretKey;
use crate::shutdown::{CancelSource, cancel_pair};
use crate::temporal::{Temporal, run_worker};
use crate::web::{AppState, build_app};

/// Entry point of the binary: runs the command and turns every failure into one line on stderr
/// and a non-zero exit code.
pub fn main(cli: Cli) -> ExitCode {
    if matches!(
        cli.command,
        Command::User(_) | Command::Token(_) | Command::Integrations(_) | Command::Bench(_)
    ) {
        operator_logs(cli.log_format);
    } else {
        crate::telemetry::init(cli.log_format);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A start-up or run failure, printed as one line.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A setting is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Anything else, already phrased for the operator.
    #[error("{0}")]
    Other(String),
}

/// Runs one command to completion.
pub async fn run(cli: Cli) -> Result<(), AppError> {
    match cli.command {
        Command::Migrate => {
            let db = open_database(&cli.database.resolve()?).await?;
            info!(backend = db.backend(), "migrations applied");
            db.close().await;
            Ok(())
        }
        Command::Healthcheck => healthcheck(cli.web.resolve()?.listen).await,
        Command::User(command) => {
            let db = open_database(&cli.database.resolve()?).await?;
            let outcome = match command {
                UserCommand::Create { email, name, verified, timezone } => {
                    create_user(&db, &email, &name, verified, &timezone).await
                }
                UserCommand::Verify { email } => verify_user(&db, &email).await,
            };
            db.close().await;
            outcome
        }
        Command::Token(TokenCommand::Create { email, name }) => {
            let db = open_database(&cli.database.resolve()?).await?;
            let outcome = create_token(&db, &email, &name).await;
            db.close().await;
            outcome
        }
        Command::Serve { no_worker } => {
            let web = cli.web.resolve()?;
            let settings = Settings {
                public_url: web.base_url.clone(),
                database: cli.database.resolve()?,
                temporal: cli.temporal.resolve()?,
                apprise: cli.temporal.apprise()?,
                secret_key: cli.secret.secret_key.clone(),
                web: Some(web),
                worker: !no_worker,
            };
            let herald = Herald::start(settings).await?;
            herald.run_until(crate::shutdown::signal()).await
        }
        Command::Integrations(IntegrationsCommand::Resync) => resync_integrations(&cli).await,
        Command::Bench(args) => {
            crate::bench::command(args, &cli.database, &cli.temporal, &cli.secret, &cli.web).await
        }
        Command::Worker => {
            let settings = Settings {
                // The worker serves no pages, but its messages link to them.
                public_url: cli.web.resolve()?.base_url,
                database: cli.database.resolve()?,
                temporal: cli.temporal.resolve()?,
                apprise: cli.temporal.apprise()?,
                secret_key: cli.secret.secret_key.clone(),
                web: None,
                worker: true,
            };
            let herald = Herald::start(settings).await?;
            herald.run_until(crate::shutdown::signal()).await
        }
    }
}

async fn open_database(config: &DatabaseConfig) -> Result<Db, AppError> {
    let db = Db::connect(&config.url).await?;
    db.migrate().await.map_err(|e| {
        AppError::Other(format!("HERALD_DATABASE_URL: migrating {} failed: {e}", config.url.redacted()))
    })?;
    Ok(db)
}

/// Logs of the operator commands go to stderr, warnings only unless `RUST_LOG` says otherwise:
/// their stdout carries nothing but what a script captures (a generated password, a token).
fn operator_logs(format: crate::config::LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        crate::config::LogFormat::Pretty => builder.compact().try_init(),
        crate::config::LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// The user with this address, or an error naming it.
async fn existing_user(db: &Db, raw_email: &str) -> Result<crate::db::models::User, AppError> {
    let email = Email::parse(raw_email).map_err(|m| AppError::Other(format!("EMAIL: {m}")))?;
    db.user_by_email(email.as_str())
        .await
        .map_err(|e| AppError::Other(format!("looking up {email}: {e}")))?
        .ok_or_else(|| AppError::Other(format!("there is no account with the email address {email}")))
}

/// `herald user create`.
async fn create_user(
    db: &Db,
    raw_email: &str,
    raw_name: &str,
    verified: bool,
    raw_timezone: &str,
) -> Result<(), AppError> {
    let email = Email::parse(raw_email).map_err(|m| AppError::Other(format!("EMAIL: {m}")))?;
    let name = Name::parse(raw_name).map_err(|m| AppError::Other(format!("--name: {m}")))?;
    let tz = TimeZone::parse(raw_timezone).map_err(|m| AppError::Other(format!("--timezone: {m}")))?;
    if db
        .user_by_email(email.as_str())
        .await
        .map_err(|e| AppError::Other(format!("looking up {email}: {e}")))?
        .is_some()
    {
        return Err(already_exists(&email));
    }
    let (password, generated) = match password_from_stdin().await? {
        Some(line) => (
            Password::parse(&line)
                .map_err(|m| AppError::Other(format!("the password on standard input: {m}")))?,
            false,
        ),
        None => (
            Password::parse(&crate::auth::random_token())
                .map_err(|m| AppError::Other(format!("generated password: {m}")))?,
            true,
        ),
    };
    let hash = password::hash(&password)
        .await
        .map_err(|e| AppError::Other(format!("cannot hash the password: {e}")))?;
    let new = NewUser {
        email: email.as_str(),
        display_name: name.as_str(),
        password_hash: Some(&hash),
        timezone: tz.name(),
        verified,
    };
    let user = match db.create_user(&new).await {
        Ok(user) => user,
        Err(DbError::Conflict(_)) => return Err(already_exists(&email)),
        Err(e) => return Err(AppError::Other(format!("creating {email}: {e}"))),
    };
    let status = if verified { "verified" } else { "not verified yet: run `herald user verify`" };
    if generated {
        eprintln!("Created {} ({status}). Its password, shown only this once:", user.email);
        println!("{}", password.expose());
    } else {
        eprintln!("Created {} ({status}) with the password from standard input.", user.email);
    }
    Ok(())
}

fn already_exists(email: &Email) -> AppError {
    AppError::Other(format!(
        "an account with the email address {email} already exists; sign in, or reset its password on the sign-in page"
    ))
}

/// The first line of stdin when stdin is not a terminal; `None` when it is a terminal or empty
/// (nothing at all, not even an empty line), meaning "generate one".
async fn password_from_stdin() -> Result<Option<String>, AppError> {
    use std::io::{BufRead, IsTerminal};
    if std::io::stdin().is_terminal() {
        return Ok(None);
    }
    let line = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map(|n| (n > 0).then_some(line))
    })
    .await
    .map_err(|e| AppError::Other(format!("reading standard input: {e}")))?
    .map_err(|e| {
        AppError::Other(format!("reading the password from standard input: {}", crate::config::io_reason(&e)))
    })?;
    Ok(line.map(|l| l.trim_end_matches(['\n', '\r']).to_owned()))
}

/// `herald user verify`.
async fn verify_user(db: &Db, raw_email: &str) -> Result<(), AppError> {
    let user = existing_user(db, raw_email).await?;
    if user.verified_at.is_some() {
        eprintln!("{} was already verified.", user.email);
        return Ok(());
    }
    db.mark_user_verified(user.id)
        .await
        .map_err(|e| AppError::Other(format!("verifying {}: {e}", user.email)))?;
    eprintln!("{} is verified.", user.email);
    Ok(())
}

/// `herald token create`: prints only the token on stdout.
async fn create_token(db: &Db, raw_email: &str, raw_name: &str) -> Result<(), AppError> {
    let name = Name::parse(raw_name).map_err(|m| AppError::Other(format!("--name: {m}")))?;
    let user = existing_user(db, raw_email).await?;
    let (_, token) = crate::web::api::tokens::issue(db, user.id, &name)
        .await
        .map_err(|e| AppError::Other(format!("creating the token: {e}")))?;
    eprintln!("Created the API token “{}” for {}. It is shown only this once:", name.as_str(), user.email);
    println!("{token}");
    Ok(())
}

async fn healthcheck(listen: SocketAddr) -> Result<(), AppError> {
    let host = if listen.ip().is_unspecified() { "127.0.0.1".to_owned() } else { listen.ip().to_string() };
    let host = if host.contains(':') { format!("[{host}]") } else { host };
    let url = format!("http://{host}:{}/healthz", listen.port());
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(3))
        .build()
        .map_err(|e| AppError::Other(format!("cannot build HTTP client: {e}")))?;
    match client.get(&url).send().await {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => Err(AppError::Other(format!("{url} answered {}", r.status()))),
        Err(e) => Err(AppError::Other(format!("{url} did not answer: {e}"))),
    }
}

/// What to start.
#[derive(Clone)]
pub struct Settings {
    /// Database settings.
    pub database: DatabaseConfig,
    /// Temporal settings.
    pub temporal: TemporalConfig,
    /// Apprise API base URL; `None` = log-only mode.
    pub apprise: Option<url::Url>,
    /// `HERALD_SECRET_KEY`, if set (else the key file in the data folder).
    pub secret_key: Option<String>,
    /// Web settings; `None` runs no web server.
    pub web: Option<WebConfig>,
    /// Whether to run the worker in this process.
    pub worker: bool,
    /// Herald's public URL, for the links in notifications (`HERALD_BASE_URL`).
    pub public_url: url::Url,
}

/// A running Herald: web server and/or worker, and the background link to Temporal.
pub struct Herald {
    /// Where the web server listens, when there is one.
    pub local_addr: Option<SocketAddr>,
    /// The database pool.
    pub db: Db,
    /// The link to Temporal.
    pub temporal: Temporal,
    stop: CancelSource,
    tasks: Vec<(&'static str, JoinHandle<Result<(), AppError>>)>,
}

impl Herald {
    /// Opens the database (migrating it), binds the listener and starts the background tasks.
    pub async fn start(settings: Settings) -> Result<Self, AppError> {
        let keys = SecretKey::load(settings.secret_key.as_deref(), &settings.database.data_dir)?;
        let db = open_database(&settings.database).await?;
        info!(backend = db.backend(), database = %settings.database.url.redacted(), "database ready");
        let listener = match &settings.web {
            Some(web) => Some(bind(web.listen).await?),
            None => None,
        };
        let (stop, token) = cancel_pair();
        let temporal = Temporal::new(settings.temporal.clone());
        let mut tasks = Vec::new();
        tasks.push(("temporal link", spawn_ok(temporal.clone().keep_connected(token.clone()))));

        let local_addr = listener.as_ref().and_then(|l| l.local_addr().ok());
        // Listening on port 0 with a public URL on port 0: the URL takes the port we got.
        let fix_port = |url: &mut url::Url| {
            if let (Some(0), Some(addr)) = (url.port(), local_addr) {
                let _ = url.set_port(Some(addr.port()));
            }
        };
        let mut public_url = settings.public_url.clone();
        fix_port(&mut public_url);
        let apprise = apprise_client(settings.apprise.as_ref())?;
        if apprise.is_none() {
            info!("log-only mode: HERALD_APPRISE_URL is not set, so no notification is sent");
        }

        if settings.worker {
            let worker_temporal = temporal.clone();
            let deliverer =
                Arc::new(Deliverer::new(db.clone(), keys.clone(), apprise.clone(), public_url.clone()));
            let worker_token = token.clone();
            tasks.push((
                "worker",
                // The SDK's worker future is not `Send`: drive it on a blocking-pool thread of
                // this runtime; the activities it spawns still run on the shared runtime.
                tokio::task::spawn_blocking(move || {
                    tokio::runtime::Handle::current()
                        .block_on(run_worker(
                            worker_temporal,
                            move || {
                                herald_workflows::EventActivities::new(deliverer.clone(), deliverer.clone())
                            },
                            worker_token,
                        ))
                        .map_err(|e| AppError::Other(format!("worker: {e}")))
                }),
            ));
            tasks.push((
                "reconciler",
                spawn_ok(reconcile_forever(db.clone(), temporal.clone(), token.clone())),
            ));
        }

        if let (Some(web), Some(listener)) = (&settings.web, listener) {
            let mut web = web.clone();
            fix_port(&mut web.base_url);
            let web = &web;
            let mailer = Mailer::new(settings.apprise.clone(), web.mail_url.clone());
            if !mailer.sends() {
                info!("system mail goes to the log (set HERALD_APPRISE_URL and HERALD_MAIL_URL to send it)");
            }
            let app = build_app(AppState {
                db: db.clone(),
                temporal: temporal.clone(),
                web: Arc::new(web.clone()),
                keys: keys.clone(),
                mailer,
                apprise,
            });
            let token = token.clone();
            info!(url = %web.base_url, listen = %web.listen, "Herald is listening");
            tasks.push((
                "web",
                tokio::spawn(async move {
                    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
                        .with_graceful_shutdown(async move { token.cancelled().await })
                        .await
                        .map_err(|e| AppError::Other(format!("web server: {e}")))
                }),
            ));
        }
        Ok(Self { local_addr, db, temporal, stop, tasks })
    }

    /// Runs until `signal` resolves or a task fails, then shuts down gracefully.
    pub async fn run_until(mut self, signal: impl std::future::Future<Output = ()>) -> Result<(), AppError> {
        let first_failure = {
            let watch_tasks = futures::future::select_all(self.tasks.iter_mut().map(|(_, t)| t));
            tokio::select! {
                () = signal => { info!("shutting down: finishing in-flight requests and activities"); None }
                (result, index, _) = watch_tasks => Some((index, result)),
            }
        };
        let mut outcome = Ok(());
        if let Some((index, result)) = first_failure {
            let name = self.tasks.get(index).map_or("task", |t| t.0);
            outcome = Err(match result {
                Ok(Err(e)) => e,
                Ok(Ok(())) => AppError::Other(format!("{name} stopped unexpectedly")),
                Err(e) => AppError::Other(format!("{name} crashed: {e}")),
            });
            self.tasks.remove(index);
        }
        self.shutdown_tasks().await;
        if let Err(e) = &outcome {
            error!(error = %e, "Herald stopped");
        }
        outcome
    }

    /// Stops everything gracefully and waits for it.
    pub async fn shutdown(mut self) {
        self.shutdown_tasks().await;
    }

    async fn shutdown_tasks(&mut self) {
        self.stop.cancel();
        for (name, task) in self.tasks.drain(..) {
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => error!(task = name, error = %e, "stopped with an error"),
                Err(e) => error!(task = name, error = %e, "crashed"),
            }
        }
        self.db.close().await;
    }
}

fn spawn_ok(fut: impl std::future::Future<Output = ()> + Send + 'static) -> JoinHandle<Result<(), AppError>> {
    tokio::spawn(async move {
        fut.await;
        Ok(())
    })
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, AppError> {
    TcpListener::bind(addr).await.map_err(|e| {
        let reason = match e.kind() {
            std::io::ErrorKind::AddrInUse => {
                "the port is already in use (is another Herald running?)".to_owned()
            }
            std::io::ErrorKind::PermissionDenied => {
                "permission denied (ports below 1024 need privileges)".to_owned()
            }
            std::io::ErrorKind::AddrNotAvailable => "this machine has no such address".to_owned(),
            _ => crate::config::io_reason(&e),
        };
        AppError::Config(ConfigError::new("HERALD_LISTEN", format!("cannot listen on {addr}: {reason}")))
    })
}

/// How long a call to the Apprise API may take: it fans out in parallel and gives up on a slow
/// target after about 4 s, so 15 s leaves room without hanging a page or an activity.
pub const APPRISE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// The Apprise API client for `base`; `None` (log-only mode) when there is no base URL.
pub fn apprise_client(
    base: Option<&url::Url>,
) -> Result<Option<herald_workflows::apprise::AppriseClient>, AppError> {
    base.map(|base| build_apprise_client(base.clone())).transpose()
}

fn build_apprise_client(base: url::Url) -> Result<herald_workflows::apprise::AppriseClient, AppError> {
    herald_workflows::apprise::AppriseClient::new(base, APPRISE_TIMEOUT).map_err(|_| {
        AppError::Config(ConfigError::new("HERALD_APPRISE_URL", "cannot build an HTTP client for it"))
    })
}

/// `herald integrations resync`: pushes every stored config to the Apprise API again.
async fn resync_integrations(cli: &Cli) -> Result<(), AppError> {
    let Some(base) = cli.temporal.apprise()? else {
        return Err(AppError::Config(ConfigError::new(
            "HERALD_APPRISE_URL",
            "is not set: Herald runs in log-only mode and has no Apprise API to push integrations to",
        )));
    };
    let database = cli.database.resolve()?;
    let keys = SecretKey::load(cli.secret.secret_key.as_deref(), &database.data_dir)?;
    let client = build_apprise_client(base)?;
    let db = open_database(&database).await?;
    let outcome = crate::integrations::resync_all(&db, &keys, &client).await;
    db.close().await;
    let report = outcome.map_err(|e| AppError::Other(format!("resyncing the integrations failed: {e}")))?;
    let noun = if report.pushed == 1 { "integration" } else { "integrations" };
    println!("re-pushed {} {noun}, {} failed", report.pushed, report.failed);
    if report.failed > 0 {
        return Err(AppError::Other(format!(
            "{} integration(s) could not be pushed to the Apprise API; see the warnings above",
            report.failed
        )));
    }
    Ok(())
}

/// How often the reconciler looks for what Temporal missed while it was away.
const RECONCILE_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// At start-up, whenever the link to Temporal comes back, and every minute: starts missing
/// workflows and signals unsignalled changes (see [`crate::events::reconcile`]).
async fn reconcile_forever(db: Db, temporal: Temporal, stop: crate::shutdown::CancelToken) {
    use crate::temporal::LinkState;
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = temporal.wait_for(|s| *s == LinkState::Up) => {}
        }
        match crate::events::reconcile(&db, &temporal).await {
            Ok(done) if done != crate::events::Reconciled::default() => info!(
                started = done.started,
                signalled = done.signalled,
                still_pending = done.pending,
                "reconciler caught up with Temporal"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = format!("{e:#}"), "reconciler pass failed; trying again later"),
        }
        // Sleep a minute, or less when the link drops and comes back meanwhile.
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(RECONCILE_EVERY) => {}
            () = temporal.wait_for(|s| *s != LinkState::Up) => {}
        }
    }
}
