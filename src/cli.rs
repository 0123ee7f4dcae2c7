//! The command line: `herald serve | worker | migrate | healthcheck`, and the operator commands
//! `herald user …`, `herald token …` and `herald integrations …` for scripting and first set-up,
//! and `herald bench` to measure a running stack; and what each command runs. The operator
//! commands call the same account functions as the portal.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing::info;

use crate::accounts::{self, NewAccount};
use crate::app::{AppError, Herald, Settings, build_apprise_client, open_database};
use crate::config::ConfigError;
use crate::db::Db;
use crate::domain::{Email, Name, Password, ServiceError, TimeZone};
use crate::integrations::Targets;
use crate::secrets::SecretKey;

use crate::bench::BenchArgs;
use crate::config::{DatabaseArgs, LogFormat, SecretArgs, TemporalArgs, WebArgs};

/// Herald — durable event reminders.
#[derive(Debug, Parser)]
#[command(name = "herald", version, about, propagate_version = true)]
pub struct Cli {
    /// Log format.
    #[arg(long, env = "HERALD_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty, global = true)]
    pub log_format: LogFormat,

    #[command(flatten)]
    pub database: DatabaseArgs,

    #[command(flatten)]
    pub temporal: TemporalArgs,

    #[command(flatten)]
    pub web: WebArgs,

    #[command(flatten)]
    pub secret: SecretArgs,

    #[command(flatten)]
    pub traces: crate::config::TracesArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// What to run.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server and, unless --no-worker, the Temporal worker in one process.
    Serve {
        /// Serve the web only; run `herald worker` elsewhere.
        #[arg(long)]
        no_worker: bool,
    },
    /// Run only the Temporal worker.
    Worker,
    /// Apply database migrations and exit.
    Migrate,
    /// Exit 0 when the Herald at HERALD_LISTEN answers /healthz (for container health checks).
    Healthcheck,
    /// Manage user accounts (for scripting and first set-up).
    #[command(subcommand)]
    User(UserCommand),
    /// Manage personal API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage users' notification channels (integrations) in the Apprise API.
    #[command(subcommand)]
    Integrations(IntegrationsCommand),
    /// Measure reminder lateness and fan-out against the Temporal at HERALD_TEMPORAL_ADDRESS and
    /// the Apprise API at HERALD_APPRISE_URL (required), with a worker of its own and a local HTTP
    /// sink; prints the figures (docs/BENCHMARKS.md). Uses a fresh temporary SQLite database
    /// unless HERALD_DATABASE_URL is set.
    Bench(BenchArgs),
}

/// `herald user …`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account.
    ///
    /// The password is the first line of standard input when it is not a terminal
    /// (`printf '%s\n' "$PW" | herald user create …`). Otherwise — or when standard input is
    /// empty — a strong password is generated and printed once on standard output.
    Create {
        /// The account's email address.
        email: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Mark the address as verified (no verification mail is sent either way).
        #[arg(long)]
        verified: bool,
        /// IANA time zone, such as Europe/Paris.
        #[arg(long, default_value = "UTC")]
        timezone: String,
    },
    /// Mark an account's email address as verified.
    Verify {
        /// The account's email address.
        email: String,
    },
}

/// `herald token …`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a personal API token for an account and print it (only the token, on standard
    /// output, so scripts can capture it). It cannot be shown again.
    Create {
        /// The account's email address.
        email: String,
        /// What the token is for.
        #[arg(long)]
        name: String,
        /// Days until the token stops working by itself (1–3650); without it, it works until
        /// revoked.
        #[arg(long, value_name = "DAYS")]
        expires_in_days: Option<i64>,
    },
}

/// `herald integrations …`
#[derive(Debug, Subcommand)]
pub enum IntegrationsCommand {
    /// Push every integration's stored config to the Apprise API at HERALD_APPRISE_URL again,
    /// e.g. after it lost its storage or moved. Prints how many were pushed and how many
    /// failed; exits non-zero when any failed.
    Resync,
}

/// Entry point of the binary: runs the command and turns every failure into one line on stderr
/// and a non-zero exit code.
pub fn main(cli: Cli) -> ExitCode {
    // Flushes the spans not exported yet when `main` returns, after the runtime (traces on only).
    let _telemetry = if matches!(
        cli.command,
        Command::User(_) | Command::Token(_) | Command::Integrations(_) | Command::Bench(_)
    ) {
        operator_logs(cli.log_format);
        None
    } else {
        crate::telemetry::init(cli.log_format, cli.traces.traces_url().as_ref())
    };
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
        Command::Token(TokenCommand::Create { email, name, expires_in_days }) => {
            let db = open_database(&cli.database.resolve()?).await?;
            let outcome = create_token(&db, &email, &name, expires_in_days).await;
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
                apprise_config_lock: cli.temporal.apprise_config_lock,
                secret_key: cli.secret.secret_key.clone(),
                web: Some(web),
                worker: !no_worker,
                targets: Targets { allow_private: cli.temporal.allow_private_targets },
                retention: cli.database.retention(),
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
                apprise_config_lock: cli.temporal.apprise_config_lock,
                secret_key: cli.secret.secret_key.clone(),
                web: None,
                worker: true,
                targets: Targets { allow_private: cli.temporal.allow_private_targets },
                retention: cli.database.retention(),
            };
            let herald = Herald::start(settings).await?;
            herald.run_until(crate::shutdown::signal()).await
        }
    }
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
    accounts::by_email(db, &email)
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
    let (password, generated) = match password_from_stdin().await? {
        Some(line) => (
            Password::parse(&line)
                .map_err(|m| AppError::Other(format!("the password on standard input: {m}")))?,
            false,
        ),
        None => (
            Password::parse(&crate::secrets::random_token())
                .map_err(|m| AppError::Other(format!("generated password: {m}")))?,
            true,
        ),
    };
    let new = NewAccount { email: &email, name: &name, password: &password, timezone: tz, verified };
    let user = match accounts::create_account(db, new).await {
        Ok(user) => user,
        Err(ServiceError::Conflict(_)) => return Err(already_exists(&email)),
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
    accounts::mark_verified(db, user.id)
        .await
        .map_err(|e| AppError::Other(format!("verifying {}: {e}", user.email)))?;
    eprintln!("{} is verified.", user.email);
    Ok(())
}

/// `herald token create`: prints only the token on stdout.
async fn create_token(
    db: &Db,
    raw_email: &str,
    raw_name: &str,
    expires_in_days: Option<i64>,
) -> Result<(), AppError> {
    let name = Name::parse(raw_name).map_err(|m| AppError::Other(format!("--name: {m}")))?;
    let user = existing_user(db, raw_email).await?;
    let (_, token) = accounts::tokens::issue(db, user.id, &name, expires_in_days)
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
    if cli.temporal.apprise_config_lock {
        return Err(AppError::Config(ConfigError::new(
            "HERALD_APPRISE_CONFIG_LOCK",
            "is on: the Apprise API stores no configs, so there is nothing to push (every message carries \
             the channel's URLs)",
        )));
    }
    let client = build_apprise_client(base, false)?;
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
