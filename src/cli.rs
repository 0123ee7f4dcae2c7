//! The command line: `herald serve | worker | migrate | healthcheck`, and the operator commands
//! `herald user …`, `herald token …` and `herald integrations …` for scripting and first set-up,
//! and `herald bench` to measure a running stack.

use clap::{Args, Parser, Subcommand};

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

/// `herald bench` options.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Events of the lateness run, one participant and one reminder each [default: 200; 20 with --quick].
    #[arg(long)]
    pub events: Option<usize>,
    /// Participants of the fan-out event [default: 1000; 100 with --quick].
    #[arg(long)]
    pub participants: Option<usize>,
    /// Seconds from publishing to the first due reminder [default: 10; 5 with --quick].
    #[arg(long)]
    pub lead: Option<f64>,
    /// Seconds over which the lateness run's due times are spread evenly [default: 5; 2 with --quick].
    #[arg(long)]
    pub spread: Option<f64>,
    /// Seconds to wait after the last due time before reporting what arrived [default: 120; 60 with --quick].
    #[arg(long)]
    pub timeout: Option<u64>,
    /// A small run: 20 events, 100 participants.
    #[arg(long)]
    pub quick: bool,
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
