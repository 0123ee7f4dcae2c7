//! The command line: `herald serve | worker | migrate | healthcheck`.

use clap::{Parser, Subcommand};

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
}
