//! Starting and stopping Herald: the web server and the worker, wired together.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tracing::{error, info};

use crate::config::{ConfigError, DatabaseConfig, TemporalConfig, WebConfig};
use crate::db::Db;
use crate::delivery::Deliverer;
use crate::integrations::Targets;
use crate::mail::Mailer;
use crate::secrets::SecretKey;
use crate::services::{Links, Services};
use crate::shutdown::{CancelSource, cancel_pair};
use crate::temporal::{Temporal, run_worker};
use crate::web::{AppState, build_app};

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

/// Opens the database named by `config` and applies its migrations.
pub async fn open_database(config: &DatabaseConfig) -> Result<Db, AppError> {
    let db = Db::connect(&config.url).await?;
    db.migrate().await.map_err(|e| {
        AppError::Other(format!("HERALD_DATABASE_URL: migrating {} failed: {e}", config.url.redacted()))
    })?;
    Ok(db)
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
    /// The Apprise API is locked (`HERALD_APPRISE_CONFIG_LOCK`): no config is stored there and
    /// every message is sent with the channel's URLs.
    pub apprise_config_lock: bool,
    /// `HERALD_SECRET_KEY`, if set (else the key file in the data folder).
    pub secret_key: Option<String>,
    /// Web settings; `None` runs no web server.
    pub web: Option<WebConfig>,
    /// Whether to run the worker in this process.
    pub worker: bool,
    /// Which addresses notification channels may reach (`HERALD_ALLOW_PRIVATE_TARGETS`).
    pub targets: Targets,
    /// Herald's public URL, for the links in notifications (`HERALD_BASE_URL`).
    pub public_url: url::Url,
    /// How long old rows are kept (`HERALD_RETENTION_*`).
    pub retention: crate::config::Retention,
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
        Self::start_with(settings, None).await
    }

    /// [`Herald::start`], with `extras` registered in the worker too (the bench's floor).
    pub async fn start_with(
        settings: Settings,
        extras: Option<crate::temporal::WorkerExtras>,
    ) -> Result<Self, AppError> {
        // Measures from the start, whether or not `/metrics` is served (it costs little).
        let _ = crate::metrics::handle();
        let keys = SecretKey::load(settings.secret_key.as_deref(), &settings.database.data_dir)?;
        let db = open_database(&settings.database).await?;
        info!(backend = db.backend(), database = %settings.database.url.redacted(), "database ready");
        // Config keys written in plain text by earlier versions are encrypted once, here.
        if let Err(e) = crate::integrations::seal_stored_keys(&db, &keys).await {
            tracing::warn!(error = %e, "cannot encrypt the stored config keys now; they keep working as they are");
        }
        let listener = match &settings.web {
            Some(web) => Some(bind(web.listen).await?),
            None => None,
        };
        let (stop, token) = cancel_pair();
        let temporal = Temporal::new(settings.temporal.clone());
        let mut tasks = Vec::new();
        tasks.push(("temporal link", spawn_ok(temporal.clone().keep_connected(token.clone()))));

        tasks.push(("retention", spawn_ok(prune_forever(db.clone(), settings.retention, token.clone()))));
        // Every process drains the outbox: a web process tells the workflows of the changes it
        // saved when its own attempt failed, and takes over those of a process that died.
        tasks.push(("outbox", spawn_ok(drain_outbox_forever(db.clone(), temporal.clone(), token.clone()))));

        let local_addr = listener.as_ref().and_then(|l| l.local_addr().ok());
        // Listening on port 0 with a public URL on port 0: the URL takes the port we got.
        let fix_port = |url: &mut url::Url| {
            if let (Some(0), Some(addr)) = (url.port(), local_addr) {
                let _ = url.set_port(Some(addr.port()));
            }
        };
        let mut public_url = settings.public_url.clone();
        fix_port(&mut public_url);
        let apprise = apprise_client(settings.apprise.as_ref(), settings.apprise_config_lock)?;
        if apprise.is_none() {
            info!("log-only mode: HERALD_APPRISE_URL is not set, so no notification is sent");
        } else if settings.apprise_config_lock {
            info!(
                "HERALD_APPRISE_CONFIG_LOCK: the Apprise API stores no channel config; messages carry the channel's URLs"
            );
        }

        if settings.worker {
            let worker_temporal = temporal.clone();
            let deliverer = Arc::new(Deliverer::new(
                db.clone(),
                keys.clone(),
                apprise.clone(),
                public_url.clone(),
                settings.targets,
            ));
            let worker_token = token.clone();
            // The SDK's worker future is not `Send`: drive it on a thread of its own, in this
            // runtime's context, so the activities it spawns still run on the shared runtime.
            // Not a blocking-pool thread: a runtime dropped without a graceful stop (a panic, a
            // test that ends) waits for those, and a worker whose connections the shutdown froze
            // would make it wait for ever.
            let runtime = tokio::runtime::Handle::current();
            let (done, finished) = tokio::sync::oneshot::channel();
            std::thread::Builder::new()
                .name("herald-worker".into())
                .spawn(move || {
                    let result = runtime
                        .block_on(run_worker(
                            worker_temporal,
                            move || {
                                herald_workflows::EventActivities::new(deliverer.clone(), deliverer.clone())
                            },
                            extras,
                            worker_token,
                        ))
                        .map_err(|e| AppError::Other(format!("worker: {e}")));
                    // Nobody waits any more when the runtime is gone.
                    let _ = done.send(result);
                })
                .map_err(|e| AppError::Other(format!("cannot start the worker's thread: {e}")))?;
            tasks.push((
                "worker",
                tokio::spawn(async move {
                    finished
                        .await
                        .unwrap_or_else(|_| Err(AppError::Other("the worker's thread stopped".into())))
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
                let missing = if settings.apprise.is_some() {
                    "HERALD_MAIL_URL"
                } else {
                    "HERALD_APPRISE_URL and HERALD_MAIL_URL"
                };
                info!("system mail goes to the log (set {missing} to send it)");
            }
            let services = Services {
                db: db.clone(),
                temporal: temporal.clone(),
                apprise,
                keys: keys.clone(),
                mailer,
                links: Links::new(web.base_url.clone()),
                targets: settings.targets,
                limits: crate::limits::Limits::with_max_participants(web.max_participants),
            };
            // Caught up before serving (quick unless the mail URL changed or many accounts were
            // verified while Herald was away), then now and then.
            if let Err(e) =
                crate::integrations::email::sync_all(&db, &keys, services.apprise.as_ref(), &services.mailer)
                    .await
            {
                tracing::warn!(error = %e, "cannot bring the built-in email channels up to date now");
            }
            tasks.push((
                "email channels",
                spawn_ok(email_channels_forever(
                    db.clone(),
                    keys.clone(),
                    services.apprise.clone(),
                    services.mailer.clone(),
                    token.clone(),
                )),
            ));
            let app = build_app(AppState { services: Arc::new(services), web: Arc::new(web.clone()) });
            let token = token.clone();
            info!(url = %web.base_url, listen = %web.listen, "Herald is listening");
            tasks.push((
                "web",
                tokio::spawn(async move {
                    crate::web::server::serve(listener, app, async move { token.cancelled().await })
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

/// The Apprise API client for `base`; `None` (log-only mode) when there is no base URL. With
/// `config_lock` (`HERALD_APPRISE_CONFIG_LOCK`) it never stores, reads or deletes configs.
pub fn apprise_client(
    base: Option<&url::Url>,
    config_lock: bool,
) -> Result<Option<herald_workflows::apprise::AppriseClient>, AppError> {
    base.map(|base| build_apprise_client(base.clone(), config_lock)).transpose()
}

pub(crate) fn build_apprise_client(
    base: url::Url,
    config_lock: bool,
) -> Result<herald_workflows::apprise::AppriseClient, AppError> {
    herald_workflows::apprise::AppriseClient::new(base, APPRISE_TIMEOUT)
        .map(|client| client.with_config_lock(config_lock))
        .map_err(|_| {
            AppError::Config(ConfigError::new("HERALD_APPRISE_URL", "cannot build an HTTP client for it"))
        })
}

/// How often the reconciler looks for what Temporal missed while it was away.
const RECONCILE_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// At start-up, whenever the link to Temporal comes back, and every minute: starts missing
/// workflows and signals unsignalled changes (see [`crate::events::reconcile`]).
/// Makes the built-in email channels that are missing (accounts verified by the operator's
/// command, a new mail URL) every ten minutes; verifications on the web make theirs at once.
async fn email_channels_forever(
    db: Db,
    keys: SecretKey,
    apprise: Option<herald_workflows::apprise::AppriseClient>,
    mailer: Mailer,
    stop: crate::shutdown::CancelToken,
) {
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(std::time::Duration::from_secs(600)) => {}
        }
        if let Err(e) = crate::integrations::email::sync_all(&db, &keys, apprise.as_ref(), &mailer).await {
            tracing::warn!(error = %e, "cannot bring the built-in email channels up to date now");
        }
    }
}

/// How often old rows are pruned.
const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Prunes what is no longer needed ([`crate::audit::prune`]) at start-up and then hourly.
async fn prune_forever(db: Db, retention: crate::config::Retention, stop: crate::shutdown::CancelToken) {
    loop {
        match crate::audit::prune(&db, retention, chrono::Utc::now()).await {
            Ok(p) => info!(
                sessions = p.sessions,
                api_tokens = p.api_tokens,
                idempotency_keys = p.idempotency_keys,
                links = p.links,
                ledger = p.ledger,
                audit = p.audit,
                "retention pass done"
            ),
            Err(e) => tracing::warn!(error = %e, "retention pass failed; trying again in an hour"),
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(PRUNE_EVERY) => {}
        }
    }
}

/// How often the outbox drain looks for rows handed over or left behind.
const DRAIN_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// While Temporal is reachable: drains the outbox (see [`crate::events::drain_outbox`]) every
/// second, at once again while passes come back full.
async fn drain_outbox_forever(db: Db, temporal: Temporal, stop: crate::shutdown::CancelToken) {
    use crate::temporal::LinkState;
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = temporal.wait_for(|s| *s == LinkState::Up) => {}
        }
        let full = match crate::events::drain_outbox(&db, &temporal).await {
            Ok(done) => {
                if done.claimed > 0 {
                    info!(
                        claimed = done.claimed,
                        synced = done.synced,
                        still_pending = done.pending,
                        "outbox drained into Temporal"
                    );
                }
                done.claimed as i64 >= crate::events::OUTBOX_BATCH
            }
            Err(e) => {
                tracing::warn!(error = %e, "outbox drain pass failed; trying again shortly");
                false
            }
        };
        if !full {
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(DRAIN_EVERY) => {}
            }
        }
    }
}

async fn reconcile_forever(db: Db, temporal: Temporal, stop: crate::shutdown::CancelToken) {
    use crate::temporal::LinkState;
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = temporal.wait_for(|s| *s == LinkState::Up) => {}
        }
        let pass = crate::events::reconcile(&db, &temporal).await;
        crate::metrics::reconciler_run(pass.is_ok());
        match pass {
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
