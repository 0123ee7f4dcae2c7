//! `herald bench`: measures Herald against a running Temporal and Apprise API and prints figures.
//!
//! The bench starts its own pieces around the stack under test:
//! - a sink, a tiny HTTP server on `127.0.0.1:0` that records the path and receipt time of every
//!   POST. Each bench user's channel is the Apprise config `json://127.0.0.1:PORT/bench/<user id>`,
//!   and each bench user takes part in one event per round, and rounds run one after the other,
//!   so a receipt names its recipient and its notice;
//! - an in-process Herald worker ([`Herald::start`] with no web server) on its own task queue,
//!   on a fresh temporary SQLite database unless `HERALD_DATABASE_URL` is given.
//!
//! Data is created through the repository, as the web app would: users with a confirmed
//! integration (sealed with the worker's secret key and pushed to the Apprise API), an
//! organization, draft events with their participants and chosen channels. Then the drafts are
//! published — due times are set at that moment, so the slow set-up is not on the clock — and
//! each event's workflow is started exactly as the app starts it ([`crate::events::sync_with`]).
//!
//! Figures (each with a baseline measured in the same run: a bare "floor" workflow registered
//! only in the bench's worker, and the Apprise API's raw rate; with `--rounds N` each pair runs
//! N times, the order alternating, and the report adds the median of the rounds' ratios):
//! 1. **Reminder lateness**: N events with one participant each and one reminder each, due
//!    `lead` seconds after publishing began, spread evenly over `spread` seconds. Lateness =
//!    sink receipt time − due time.
//! 2. **Fan-out**: one event with M participants and one reminder: time from its due time to
//!    the last receipt, and M / that time in notifications per second.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, DurationRound, Utc};
use clap::Args;
use futures::{StreamExt, TryStreamExt};
use herald_workflows::EventWorkflow;
use herald_workflows::apprise::{
    AppriseClient, BodyFormat, ConfigKey, Notice, NoticeType, Outcome, TaggedUrl,
};
use herald_workflows::floor::{FloorActivities, FloorInput, FloorWorkflow};
use temporalio_client::{WorkflowStartOptions, WorkflowTerminateOptions};
use uuid::Uuid;

use crate::app::{AppError, Herald, Settings};
use crate::config::{
    ConfigError, DatabaseArgs, DatabaseConfig, DatabaseUrl, SecretArgs, TemporalArgs, WebArgs,
};
use crate::db::Db;
use crate::db::events::{EventFields, NewEvent, Notices};
use crate::db::models::{Event, EventStatus, EventUpdate, ParticipantRole, Rsvp, Visibility};
use crate::db::participants::Invitee;
use crate::db::users::NewUser;
use crate::events::SyncState;
use crate::integrations::Targets;
use crate::secrets::SecretKey;
use crate::temporal::LinkState;

/// The reminder offset of every bench event: the event starts this long after its reminder is
/// due, so a late reminder is still measured (a reminder is never sent once the event started).
const OFFSET_SECS: i64 = 600;

/// Calls to the database, Temporal and the Apprise API in flight at once during set-up.
const SETUP_CONCURRENCY: usize = 16;

/// How long to keep listening after the last expected receipt, so a duplicate can show up.
const DUPLICATE_GRACE: Duration = Duration::from_secs(2);

/// The most rounds `--rounds` takes (each one of issue 16's load takes about 3 minutes).
const MAX_ROUNDS: usize = 20;

/// How long the worker may take to reach Temporal.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// What to measure.
#[derive(Debug, Clone)]
pub struct Options {
    /// Events of the lateness run, one participant and one reminder each.
    pub events: usize,
    /// Participants of the fan-out event.
    pub participants: usize,
    /// How long after publishing began the first reminder is due.
    pub lead: Duration,
    /// The lateness run's due times are spread evenly over this long.
    pub spread: Duration,
    /// How long to wait for receipts after the last due time before reporting what arrived.
    pub timeout: Duration,
    /// Published events kept pending (one reminder days ahead each) while the runs are measured.
    pub pending: usize,
    /// How many times each measurement runs beside its baseline. The order alternates
    /// (baseline first, then Herald first, ...), so a machine that gets slower or faster during
    /// the run does not favour either side; the summary takes the median of the rounds' ratios.
    pub rounds: usize,
    /// Print progress lines on stderr.
    pub progress: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            events: 200,
            participants: 1000,
            lead: Duration::from_secs(10),
            spread: Duration::from_secs(5),
            timeout: Duration::from_secs(120),
            pending: 0,
            rounds: 1,
            progress: false,
        }
    }
}

impl Options {
    /// A small run (20 events, 100 participants, due 5 s ahead over 2 s), for tests and a quick look.
    pub fn quick() -> Self {
        Self {
            events: 20,
            participants: 100,
            lead: Duration::from_secs(5),
            spread: Duration::from_secs(2),
            timeout: Duration::from_secs(60),
            pending: 0,
            rounds: 1,
            progress: false,
        }
    }

    fn check(&self) -> Result<(), AppError> {
        if self.events == 0 {
            return Err(AppError::Other("--events must be at least 1".into()));
        }
        if !(1..=MAX_ROUNDS).contains(&self.rounds) {
            return Err(AppError::Other(format!("--rounds must be from 1 to {MAX_ROUNDS}")));
        }
        if self.participants == 0 {
            return Err(AppError::Other("--participants must be at least 1".into()));
        }
        if self.lead < Duration::from_secs(1) {
            return Err(AppError::Other("--lead must be at least 1 second".into()));
        }
        if self.lead + self.spread > Duration::from_secs(OFFSET_SECS as u64 / 2) {
            return Err(AppError::Other(format!(
                "--lead plus --spread must stay under {} s",
                OFFSET_SECS / 2
            )));
        }
        Ok(())
    }
}

/// Receipt times relative to due times, in milliseconds (negative = early).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Percentiles {
    /// Earliest.
    pub min: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Latest.
    pub max: f64,
}

impl Percentiles {
    /// Nearest-rank percentiles of `values`; `None` when there are none.
    pub fn of(values: &[f64]) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let rank = |p: f64| {
            let i = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
            sorted[i]
        };
        Some(Self {
            min: sorted[0],
            p50: rank(0.50),
            p95: rank(0.95),
            p99: rank(0.99),
            max: sorted[sorted.len() - 1],
        })
    }
}

/// What one run of messages did: how many were expected, arrived once, arrived again, or came
/// from nowhere expected.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Receipts {
    /// Messages the run should deliver.
    pub expected: usize,
    /// Distinct expected recipients that received their message.
    pub arrived: usize,
    /// Receipts beyond the first per recipient (must be 0).
    pub duplicates: usize,
    /// Receipts for no expected recipient (must be 0).
    pub unexpected: usize,
    /// Whether the run stopped waiting before every message arrived.
    pub timed_out: bool,
}

impl Receipts {
    /// Every expected message arrived exactly once and nothing else did.
    pub fn complete(&self) -> bool {
        self.arrived == self.expected && self.duplicates == 0 && self.unexpected == 0
    }
}

/// Figures of the reminder-lateness run.
#[derive(Debug, Clone, PartialEq)]
pub struct Lateness {
    /// What arrived.
    pub receipts: Receipts,
    /// Lateness of the first receipt of each recipient.
    pub lateness: Option<Percentiles>,
    /// The floor for the same due times, measured just before or just after.
    pub floor: Option<Floor>,
    /// Whether the floor ran before Herald in this round.
    pub floor_first: bool,
    /// How long publishing the events and starting their workflows took.
    pub publish_time: Duration,
    /// Lead and spread used.
    pub lead: Duration,
    /// Spread used.
    pub spread: Duration,
}

impl Lateness {
    /// Herald ÷ floor for the p50 and the p99 lateness, when both were measured.
    pub fn ratios(&self) -> (Option<f64>, Option<f64>) {
        let herald = self.lateness.as_ref();
        let floor = self.floor.as_ref().and_then(|f| f.lateness.as_ref());
        let of = |pick: fn(&Percentiles) -> f64| match (herald, floor) {
            (Some(h), Some(b)) if pick(b) > 0.0 => Some(pick(h) / pick(b)),
            _ => None,
        };
        (of(|p| p.p50), of(|p| p.p99))
    }
}

/// The median of `values` (the mean of the middle two for an even count); `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// Figures of the floor run: a bare workflow (timer → one activity → POST to the sink, no
/// database, no Apprise API) for the same due times, on the same server and worker.
#[derive(Debug, Clone, PartialEq)]
pub struct Floor {
    /// What arrived.
    pub receipts: Receipts,
    /// Lateness of the first receipt of each floor workflow.
    pub lateness: Option<Percentiles>,
    /// How long starting the floor workflows took.
    pub start_time: Duration,
}

/// The Apprise API's own rate, measured right before the fan-out: one notify per fan-out
/// recipient straight to its config, as many in flight as one `deliver` activity sends.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRate {
    /// Notifies sent.
    pub sent: usize,
    /// Notifies that did not answer "delivered".
    pub failed: usize,
    /// How long they took, first request to last answer.
    pub elapsed: Duration,
    /// Notifies in flight at once.
    pub concurrency: usize,
}

impl RawRate {
    /// Notifications per second.
    pub fn per_second(&self) -> Option<f64> {
        (self.elapsed > Duration::ZERO).then(|| self.sent as f64 / self.elapsed.as_secs_f64())
    }
}

/// Figures of the fan-out run.
#[derive(Debug, Clone, PartialEq)]
pub struct Fanout {
    /// What arrived.
    pub receipts: Receipts,
    /// Receipt times after the due time (first = min, last = max).
    pub after_due: Option<Percentiles>,
    /// Notifications per second: arrived / (last receipt − due time).
    pub per_second: Option<f64>,
    /// The Apprise API's raw rate, measured just before or just after.
    pub raw: Option<RawRate>,
    /// Whether the raw rate was measured before the fan-out in this round.
    pub raw_first: bool,
    /// Where the fan-out stood still: the pauses of more than [`PAUSE_MS`] between consecutive
    /// receipts (count, total and longest, in milliseconds). Batches follow one another, so
    /// this is mostly the time between one batch's last message and the next one's first.
    pub pauses: Pauses,
}

impl Fanout {
    /// The fan-out's rate ÷ the Apprise API's raw rate, when both were measured.
    pub fn ratio(&self) -> Option<f64> {
        let raw = self.raw.as_ref().and_then(RawRate::per_second)?;
        self.per_second.filter(|_| raw > 0.0).map(|rate| rate / raw)
    }
}

/// A gap between consecutive fan-out receipts longer than this counts as a pause.
pub const PAUSE_MS: f64 = 50.0;

/// See [`Fanout::pauses`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Pauses {
    /// How many gaps were longer than [`PAUSE_MS`].
    pub count: usize,
    /// Their total, in milliseconds.
    pub total_ms: f64,
    /// The longest gap, in milliseconds.
    pub longest_ms: f64,
}

impl Pauses {
    /// The pauses among receipt times (milliseconds after due, any order).
    pub fn of(values: &[f64]) -> Self {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let mut out = Self::default();
        for pair in sorted.windows(2) {
            let gap = pair[1] - pair[0];
            out.longest_ms = out.longest_ms.max(gap);
            if gap > PAUSE_MS {
                out.count += 1;
                out.total_ms += gap;
            }
        }
        out
    }
}

/// The bench process's memory at one moment (it runs a Herald worker, as `herald serve` does).
#[derive(Debug, Clone, PartialEq)]
pub struct Memory {
    /// When it was read.
    pub label: String,
    /// Resident set size, bytes.
    pub rss: u64,
    /// Peak resident set size so far, bytes.
    pub peak: u64,
}

impl Memory {
    /// Reads `/proc/self/status` (Linux); `None` elsewhere.
    pub fn now(label: &str) -> Option<Self> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let field = |name: &str| {
            status.lines().find_map(|l| {
                let rest = l.strip_prefix(name)?.trim().strip_suffix("kB")?.trim();
                rest.parse::<u64>().ok().map(|kb| kb * 1024)
            })
        };
        Some(Self { label: label.to_owned(), rss: field("VmRSS:")?, peak: field("VmHWM:")? })
    }
}

/// The pending events of `--pending`.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    /// Events published and started.
    pub events: usize,
    /// How long publishing them and starting their workflows took.
    pub created_in: Duration,
}

/// Everything `herald bench` measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Backend of the bench's database.
    pub database: String,
    /// Temporal frontend.
    pub temporal: String,
    /// Apprise API base URL.
    pub apprise: String,
    /// Task queue of this run.
    pub task_queue: String,
    /// Reminder lateness, one per round.
    pub lateness: Vec<Lateness>,
    /// Fan-out, one per round.
    pub fanout: Vec<Fanout>,
    /// Pending events kept while measuring.
    pub pending: Option<Pending>,
    /// The process's memory along the way.
    pub memory: Vec<Memory>,
}

impl Report {
    /// Every message of every run arrived exactly once.
    pub fn complete(&self) -> bool {
        self.lateness
            .iter()
            .all(|l| l.receipts.complete() && l.floor.as_ref().is_none_or(|f| f.receipts.complete()))
            && self.fanout.iter().all(|o| o.receipts.complete())
    }

    /// The median over the rounds of Herald ÷ floor, for the p50 and the p99 lateness.
    pub fn lateness_ratios(&self) -> (Option<f64>, Option<f64>) {
        let (p50, p99): (Vec<_>, Vec<_>) = self.lateness.iter().map(Lateness::ratios).unzip();
        let flat = |v: Vec<Option<f64>>| v.into_iter().flatten().collect::<Vec<_>>();
        (median(&flat(p50)), median(&flat(p99)))
    }

    /// The median over the rounds of fan-out ÷ raw.
    pub fn fanout_ratio(&self) -> Option<f64> {
        median(&self.fanout.iter().filter_map(Fanout::ratio).collect::<Vec<_>>())
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn lateness_rows(p: Option<&Percentiles>) -> Vec<(String, String)> {
    match p {
        Some(p) => vec![
            ("p50".to_owned(), ms(p.p50)),
            ("p95".to_owned(), ms(p.p95)),
            ("p99".to_owned(), ms(p.p99)),
            ("max".to_owned(), ms(p.max)),
            (
                "min".to_owned(),
                format!("{}{}", ms(p.min), if p.min >= 0.0 { "  (none early)" } else { "  (EARLY)" }),
            ),
        ],
        None => vec![("lateness".to_owned(), "nothing arrived".to_owned())],
    }
}

fn ms(v: f64) -> String {
    format!("{v:.0} ms")
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

fn receipt_rows(r: &Receipts) -> Vec<(String, String)> {
    let mut arrived = format!("{} / {}", r.arrived, r.expected);
    if r.timed_out {
        arrived.push_str("  (gave up waiting: partial)");
    }
    let mut rows = vec![("arrived".to_owned(), arrived), ("duplicates".to_owned(), r.duplicates.to_string())];
    if r.unexpected > 0 {
        rows.push(("unexpected".to_owned(), r.unexpected.to_string()));
    }
    rows
}

fn table(f: &mut fmt::Formatter<'_>, title: &str, rows: &[(String, String)]) -> fmt::Result {
    writeln!(f, "{title}")?;
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in rows {
        writeln!(f, "  {k:<width$}  {v}")?;
    }
    Ok(())
}

/// "Round 2 of 3: " when there is more than one round.
fn round_label(i: usize, rounds: usize) -> String {
    if rounds > 1 { format!("Round {} of {rounds}: ", i + 1) } else { String::new() }
}

fn when(first: bool) -> &'static str {
    if first { "run just before" } else { "run just after" }
}

fn ratio_value(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.2}×"))
}

/// Each round's value and their median: "0.91×, 1.40×, 1.02× → median 1.02×".
fn ratio_list(values: &[Option<f64>]) -> String {
    let each: Vec<String> = values.iter().map(|v| ratio_value(*v)).collect();
    let median = median(&values.iter().flatten().copied().collect::<Vec<_>>());
    format!("{} → median {}", each.join(", "), ratio_value(median))
}

fn fmt_lateness(f: &mut fmt::Formatter<'_>, l: &Lateness, label: &str) -> fmt::Result {
    if let Some(floor) = &l.floor {
        let mut rows = receipt_rows(&floor.receipts);
        rows.extend(lateness_rows(floor.lateness.as_ref()));
        rows.push((
            "starting".to_owned(),
            format!("{} for {} workflows", secs(floor.start_time), floor.receipts.expected),
        ));
        table(
            f,
            &format!(
                "{label}Floor (receipt − due): {} bare workflows (timer → 1 activity → POST to the sink; no database, no Apprise API), same due times, same server and worker, {} Herald's",
                floor.receipts.expected,
                when(l.floor_first)
            ),
            &rows,
        )?;
        writeln!(f)?;
    }
    let mut rows = receipt_rows(&l.receipts);
    rows.extend(lateness_rows(l.lateness.as_ref()));
    if l.floor.is_some() {
        let (p50, p99) = l.ratios();
        rows.push((
            "Herald ÷ floor".to_owned(),
            format!("p50 {}, p99 {}", ratio_value(p50), ratio_value(p99)),
        ));
    }
    rows.push((
        "publishing".to_owned(),
        format!("{} for {} events and their workflows", secs(l.publish_time), l.receipts.expected),
    ));
    table(
        f,
        &format!(
            "{label}Reminder lateness (receipt − due): {} events, 1 participant and 1 reminder each, due {} ahead, spread over {}",
            l.receipts.expected,
            secs(l.lead),
            secs(l.spread)
        ),
        &rows,
    )?;
    writeln!(f)
}

fn fmt_fanout(f: &mut fmt::Formatter<'_>, o: &Fanout, lead: Duration, label: &str) -> fmt::Result {
    if let Some(raw) = &o.raw {
        let mut rows = vec![(
            "notifies".to_owned(),
            format!("{} ({} not delivered), {} in flight", raw.sent, raw.failed, raw.concurrency),
        )];
        rows.push(("took".to_owned(), secs(raw.elapsed)));
        if let Some(rate) = raw.per_second() {
            rows.push(("rate".to_owned(), format!("{rate:.0} notifications/s")));
        }
        table(
            f,
            &format!(
                "{label}Apprise API raw rate: POST /notify/{{key}} straight to each fan-out recipient's config, {} the fan-out",
                when(o.raw_first)
            ),
            &rows,
        )?;
        writeln!(f)?;
    }
    let mut rows = receipt_rows(&o.receipts);
    match &o.after_due {
        Some(p) => rows.extend([
            ("first receipt".to_owned(), format!("{} after due", ms(p.min))),
            ("median receipt".to_owned(), format!("{} after due", ms(p.p50))),
            ("last receipt".to_owned(), format!("{} after due", ms(p.max))),
        ]),
        None => rows.push(("receipts".to_owned(), "nothing arrived".to_owned())),
    }
    if let Some(rate) = o.per_second {
        rows.push(("rate".to_owned(), format!("{rate:.0} notifications/s (arrived / (last receipt − due))")));
    }
    if o.raw.is_some() {
        rows.push(("fan-out ÷ raw".to_owned(), ratio_value(o.ratio())));
    }
    if o.after_due.is_some() {
        let p = o.pauses;
        rows.push((
            "pauses".to_owned(),
            format!(
                "{} gaps over {PAUSE_MS:.0} ms between receipts, {} in all, longest {}",
                p.count,
                ms(p.total_ms),
                ms(p.longest_ms)
            ),
        ));
    }
    table(
        f,
        &format!(
            "{label}Fan-out: 1 event, {} participants, 1 reminder due {} ahead",
            o.receipts.expected,
            secs(lead)
        ),
        &rows,
    )?;
    writeln!(f)
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "herald bench: {} database, Temporal {}, Apprise API {}, task queue {}",
            self.database, self.temporal, self.apprise, self.task_queue
        )?;
        writeln!(f)?;
        if let Some(p) = &self.pending {
            table(
                f,
                &format!(
                    "Pending: {} published events with one reminder days ahead, kept while measuring",
                    p.events
                ),
                &[(
                    "publishing".to_owned(),
                    format!("{} for {} events and their workflows", secs(p.created_in), p.events),
                )],
            )?;
            writeln!(f)?;
        }
        let rounds = self.lateness.len().max(self.fanout.len());
        for (i, l) in self.lateness.iter().enumerate() {
            fmt_lateness(f, l, &round_label(i, rounds))?;
        }
        let lead = self.lateness.first().map_or(Duration::ZERO, |l| l.lead);
        for (i, o) in self.fanout.iter().enumerate() {
            fmt_fanout(f, o, lead, &round_label(i, rounds))?;
        }
        if rounds > 1 {
            let (p50, p99): (Vec<_>, Vec<_>) = self.lateness.iter().map(Lateness::ratios).unzip();
            let fan: Vec<_> = self.fanout.iter().map(Fanout::ratio).collect();
            table(
                f,
                &format!(
                    "Summary of {rounds} rounds (each round's ratio, in order; the baseline ran first in rounds 1, 3, ...)"
                ),
                &[
                    ("Herald ÷ floor, p50".to_owned(), ratio_list(&p50)),
                    ("Herald ÷ floor, p99".to_owned(), ratio_list(&p99)),
                    ("fan-out ÷ raw".to_owned(), ratio_list(&fan)),
                ],
            )?;
            writeln!(f)?;
        }
        if !self.memory.is_empty() {
            let rows: Vec<(String, String)> = self
                .memory
                .iter()
                .map(|m| (m.label.clone(), format!("RSS {}, peak {}", mib(m.rss), mib(m.peak))))
                .collect();
            table(
                f,
                "Memory of the bench process (the in-process Herald worker, its database pool, the bench's sink and bookkeeping)",
                &rows,
            )?;
        }
        Ok(())
    }
}

// --- The sink ---

/// Every POST the sink received: (path, receipt time), in order.
type ReceiptLog = Arc<Mutex<Vec<(String, DateTime<Utc>)>>>;

/// The local HTTP server the `json://` channels point at.
struct Sink {
    addr: SocketAddr,
    receipts: ReceiptLog,
    stop: crate::shutdown::CancelSource,
    task: tokio::task::JoinHandle<()>,
}

impl Sink {
    async fn start() -> Result<Self, AppError> {
        use axum::extract::State;
        use axum::http::{Method, StatusCode, Uri};
        async fn record(State(receipts): State<ReceiptLog>, method: Method, uri: Uri) -> StatusCode {
            if method != Method::POST {
                return StatusCode::METHOD_NOT_ALLOWED;
            }
            let at = Utc::now();
            if let Ok(mut r) = receipts.lock() {
                r.push((uri.path().to_owned(), at));
            }
            StatusCode::OK
        }
        let receipts: ReceiptLog = Arc::default();
        let app = axum::Router::new().fallback(record).with_state(receipts.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| AppError::Other(format!("cannot start the bench's HTTP sink: {e}")))?;
        let addr =
            listener.local_addr().map_err(|e| AppError::Other(format!("the bench's HTTP sink: {e}")))?;
        let (stop, token) = crate::shutdown::cancel_pair();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move { token.cancelled().await })
                .await;
        });
        Ok(Self { addr, receipts, stop, task })
    }

    /// The channel config of a recipient.
    fn config_for(&self, recipient: Uuid) -> String {
        format!("json://{}/bench/{recipient}", self.addr)
    }

    fn path_of(recipient: Uuid) -> String {
        format!("/bench/{recipient}")
    }

    /// Receipts since `from` (an index into the log) grouped by path.
    fn since(&self, from: usize) -> HashMap<String, Vec<DateTime<Utc>>> {
        let mut out: HashMap<String, Vec<DateTime<Utc>>> = HashMap::new();
        if let Ok(r) = self.receipts.lock() {
            for (path, at) in r.iter().skip(from) {
                out.entry(path.clone()).or_default().push(*at);
            }
        }
        out
    }

    fn len(&self) -> usize {
        self.receipts.lock().map(|r| r.len()).unwrap_or(0)
    }

    async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

// --- Running ---

/// A bench user: their channel's integration and config key.
struct Recipient {
    user_id: Uuid,
    integration_id: Uuid,
    key: ConfigKey,
}

/// What the bench created and must clean up.
#[derive(Default)]
struct Created {
    workflows: Vec<Uuid>,
    floor: Vec<String>,
    keys: Vec<ConfigKey>,
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
    /// Published events to keep pending (one reminder days ahead each, no participants) while
    /// measuring; the report shows the process's memory with them [default: 0].
    #[arg(long)]
    pub pending: Option<usize>,
    /// Run each measurement and its baseline this many times, alternating which goes first;
    /// the report adds the median of the rounds' ratios [default: 1].
    #[arg(long)]
    pub rounds: Option<usize>,
    /// A small run: 20 events, 100 participants.
    #[arg(long)]
    pub quick: bool,
}

/// `herald bench`: builds the settings from the command line and prints the report. Exits
/// non-zero, after printing, when a message was lost or duplicated.
pub async fn command(
    args: BenchArgs,
    database: &DatabaseArgs,
    temporal: &TemporalArgs,
    secret: &SecretArgs,
    web: &WebArgs,
) -> Result<(), AppError> {
    let base = if args.quick { Options::quick() } else { Options::default() };
    let seconds = |flag: &str, v: Option<f64>, default: Duration| match v {
        None => Ok(default),
        Some(v) => Duration::try_from_secs_f64(v)
            .map_err(|_| AppError::Other(format!("{flag} must be a number of seconds, 0 or more"))),
    };
    let options = Options {
        events: args.events.unwrap_or(base.events),
        participants: args.participants.unwrap_or(base.participants),
        lead: seconds("--lead", args.lead, base.lead)?,
        spread: seconds("--spread", args.spread, base.spread)?,
        timeout: args.timeout.map_or(base.timeout, Duration::from_secs),
        pending: args.pending.unwrap_or(base.pending),
        rounds: args.rounds.unwrap_or(base.rounds),
        progress: true,
    };
    let apprise = temporal.apprise()?.ok_or_else(|| {
        ConfigError::new(
            "HERALD_APPRISE_URL",
            "is required by `herald bench`: it measures deliveries through an Apprise API \
             (scripts/bench.sh starts a local one: scripts/apprise-lite.py)",
        )
    })?;
    // A fresh temporary SQLite database unless one is given.
    let temp_dir = match database.database_url.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(_) => None,
        None => {
            let dir = std::env::temp_dir().join(format!("herald-bench-{}", Uuid::new_v4().simple()));
            std::fs::create_dir_all(&dir)
                .map_err(|e| AppError::Other(format!("cannot create {}: {e}", dir.display())))?;
            Some(dir)
        }
    };
    let retention = database.retention();
    let database = match &temp_dir {
        Some(dir) => {
            DatabaseConfig { data_dir: dir.clone(), url: DatabaseUrl::Sqlite(dir.join("herald.db")) }
        }
        None => database.resolve()?,
    };
    let settings = Settings {
        public_url: web.resolve()?.base_url,
        database,
        temporal: temporal.resolve()?,
        apprise: Some(apprise),
        apprise_config_lock: temporal.apprise_config_lock,
        secret_key: secret.secret_key.clone(),
        web: None,
        worker: true,
        // The bench's channels post to its own sink on this machine.
        targets: Targets { allow_private: true },
        retention,
    };
    let outcome = run(&options, settings).await;
    if let Some(dir) = temp_dir {
        let _ = std::fs::remove_dir_all(dir);
    }
    let report = outcome?;
    println!("{report}");
    if report.complete() {
        Ok(())
    } else {
        Err(AppError::Other("some messages were lost or duplicated: see the report above".into()))
    }
}

/// Runs both measurements against the Temporal and Apprise API of `settings`, with a worker of
/// its own on a fresh task queue (`settings.web` and `settings.worker` are ignored).
pub async fn run(options: &Options, mut settings: Settings) -> Result<Report, AppError> {
    options.check()?;
    let Some(apprise_url) = settings.apprise.clone() else {
        return Err(AppError::Config(ConfigError::new(
            "HERALD_APPRISE_URL",
            "is required by `herald bench`",
        )));
    };
    let client = crate::app::apprise_client(Some(&apprise_url), settings.apprise_config_lock)?
        .ok_or_else(|| AppError::Other("no Apprise API client".into()))?;
    client.status().await.map_err(|e| {
        AppError::Other(format!("HERALD_APPRISE_URL: the Apprise API at {apprise_url} is not usable: {e}"))
    })?;
    let run_id = Uuid::new_v4().simple().to_string();
    settings.temporal.task_queue = format!("herald-bench-{run_id}");
    settings.web = None;
    settings.worker = true;
    // The same key the worker loads, so it can open the configs sealed here.
    let keys = SecretKey::load(settings.secret_key.as_deref(), &settings.database.data_dir)?;
    let sink = Sink::start().await?;
    let task_queue = settings.temporal.task_queue.clone();
    let temporal_address = settings.temporal.address.to_string();
    // The floor workflow lives in the bench's worker only (never in Herald's own).
    let floor_http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| AppError::Other(format!("the floor's HTTP client: {e}")))?;
    let extras: crate::temporal::WorkerExtras = Arc::new(move |options| {
        options.register_workflow::<FloorWorkflow>()?;
        options.register_activities(FloorActivities::new(floor_http.clone()));
        Ok(())
    });
    let herald = Herald::start_with(settings, Some(extras)).await?;
    let bench = Bench {
        herald: &herald,
        client: &client,
        keys: &keys,
        sink: &sink,
        options,
        run_id,
        created: Mutex::default(),
    };
    let outcome = bench.measure().await;
    bench.clean_up().await;
    let database = herald.db.backend().to_owned();
    herald.shutdown().await;
    sink.stop().await;
    let (lateness, fanout, pending, memory) = outcome?;
    Ok(Report {
        database,
        temporal: temporal_address.trim_end_matches('/').to_owned(),
        apprise: apprise_url.as_str().trim_end_matches('/').to_owned(),
        task_queue,
        lateness,
        fanout,
        pending,
        memory,
    })
}

struct Bench<'a> {
    herald: &'a Herald,
    client: &'a AppriseClient,
    keys: &'a SecretKey,
    sink: &'a Sink,
    options: &'a Options,
    run_id: String,
    created: Mutex<Created>,
}

fn db_error(what: &str) -> impl Fn(crate::db::DbError) -> AppError + '_ {
    move |e| AppError::Other(format!("{what}: {e}"))
}

impl Bench<'_> {
    fn db(&self) -> &Db {
        &self.herald.db
    }

    fn say(&self, line: &str) {
        if self.options.progress {
            eprintln!("bench: {line}");
        }
    }

    fn memory(&self, label: &str, into: &mut Vec<Memory>) {
        if let Some(m) = Memory::now(label) {
            self.say(&format!("memory {label}: RSS {}", mib(m.rss)));
            into.push(m);
        }
    }

    async fn measure(&self) -> Result<(Vec<Lateness>, Vec<Fanout>, Option<Pending>, Vec<Memory>), AppError> {
        let temporal = &self.herald.temporal;
        let address = temporal.config().address.to_string();
        let up = tokio::time::timeout(CONNECT_TIMEOUT, temporal.wait_for(|s| *s == LinkState::Up)).await;
        if up.is_err() {
            return Err(AppError::Other(format!(
                "HERALD_TEMPORAL_ADDRESS: Temporal at {address} did not answer within {} s",
                CONNECT_TIMEOUT.as_secs()
            )));
        }
        let organizer = self
            .db()
            .create_user(&NewUser {
                email: &format!("bench-{}-organizer@bench.invalid", self.run_id),
                display_name: "Bench organizer",
                password_hash: None,
                timezone: "UTC",
                verified: true,
            })
            .await
            .map_err(db_error("creating the organizer"))?;
        let org = self
            .db()
            .create_organization(&format!("bench-{}", &self.run_id[..12]), "Herald bench", organizer.id)
            .await
            .map_err(db_error("creating the organization"))?;

        let mut memory = Vec::new();
        self.memory("with the worker started", &mut memory);
        let pending = self.pending(org.id, organizer.id).await?;
        if let Some(p) = &pending {
            self.memory(&format!("with {} pending events started", p.events), &mut memory);
        }
        let rounds = self.options.rounds;
        let round = |i: usize| {
            if rounds > 1 {
                self.say(&format!("round {} of {rounds}", i + 1));
            }
            // Rounds 1, 3, ... measure the baseline first, rounds 2, 4, ... Herald first.
            i.is_multiple_of(2)
        };
        let n = self.options.events;
        self.say(&format!("lateness: creating {n} users with a channel each"));
        let recipients = self.recipients("late", n).await?;
        let mut lateness = Vec::with_capacity(rounds);
        for i in 0..rounds {
            let floor_first = round(i);
            lateness.push(self.lateness(org.id, organizer.id, &recipients, floor_first).await?);
        }
        self.memory("after the lateness runs", &mut memory);
        let m = self.options.participants;
        self.say(&format!("fan-out: creating {m} users with a channel each"));
        let recipients = self.recipients("fan", m).await?;
        let mut fanout = Vec::with_capacity(rounds);
        for i in 0..rounds {
            let raw_first = round(i);
            fanout.push(self.fanout(org.id, organizer.id, &recipients, raw_first).await?);
        }
        self.memory("after the fan-out runs", &mut memory);
        Ok((lateness, fanout, pending, memory))
    }

    /// `--pending`: N published events with one reminder three days ahead and no participants,
    /// their workflows started as the app starts them, 16 at a time.
    async fn pending(&self, org: Uuid, organizer: Uuid) -> Result<Option<Pending>, AppError> {
        let n = self.options.pending;
        if n == 0 {
            return Ok(None);
        }
        self.say(&format!("pending: publishing {n} events due in three days and starting their workflows"));
        let clock = Instant::now();
        let done = std::sync::atomic::AtomicUsize::new(0);
        futures::stream::iter(0..n)
            .map(|i| {
                let done = &done;
                async move {
                    let starts_at =
                        Utc::now() + chrono::Duration::days(3) + chrono::Duration::seconds(i as i64);
                    let slug = format!("bench-{}", Uuid::new_v4().simple());
                    let event = self
                        .db()
                        .create_event_with(
                            &NewEvent {
                                org_id: org,
                                slug: &slug,
                                name: &format!("Bench pending {i}"),
                                description: "Created by `herald bench --pending`.",
                                location: None,
                                online_url: None,
                                starts_at,
                                ends_at: starts_at + chrono::Duration::hours(1),
                                timezone: "UTC",
                                visibility: Visibility::Private,
                                reminder_offsets: vec![OFFSET_SECS],
                                status: EventStatus::Published,
                                created_by: Some(organizer),
                            },
                            Notices::default(),
                            None,
                        )
                        .await
                        .map_err(db_error("creating a pending bench event"))?;
                    if let Ok(mut c) = self.created.lock() {
                        c.workflows.push(event.id);
                    }
                    match crate::events::sync_with(self.db(), &self.herald.temporal, &event, None).await {
                        SyncState::Synced => {}
                        SyncState::Pending => {
                            return Err(AppError::Other("could not start a pending event's workflow".into()));
                        }
                    }
                    let d = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                    if d.is_multiple_of(1000) {
                        self.say(&format!("  {d} of {n} pending events started"));
                    }
                    Ok::<_, AppError>(())
                }
            })
            .buffer_unordered(SETUP_CONCURRENCY)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(Some(Pending { events: n, created_in: clock.elapsed() }))
    }

    /// The floor for `n` due times `lead` to `lead + spread` from now: bare workflows on the
    /// same task queue, started 16 at a time like Herald's.
    async fn floor(&self, n: usize) -> Result<Floor, AppError> {
        let Some(temporal) = self.herald.temporal.client().await else {
            return Err(AppError::Other("not connected to Temporal".into()));
        };
        let temporal = &temporal;
        let task_queue = self.herald.temporal.config().task_queue.clone();
        let task_queue = &task_queue;
        self.say(&format!(
            "floor: starting {n} bare workflows, due {} to {} from now",
            secs(self.options.lead),
            secs(self.options.lead + self.options.spread)
        ));
        let from = self.sink.len();
        let began = Utc::now();
        let clock = Instant::now();
        let spread_ms = self.options.spread.as_millis() as f64;
        // Each floor run has ids and paths of its own, so rounds never meet.
        let batch = Uuid::new_v4().simple();
        let plan: Vec<(String, String, DateTime<Utc>)> = (0..n)
            .map(|i| {
                let fraction = if n > 1 { i as f64 / (n - 1) as f64 } else { 0.0 };
                let due = began + chrono_ms(self.options.lead.as_millis() as f64 + spread_ms * fraction);
                let due = due.duration_trunc(chrono::Duration::milliseconds(1)).unwrap_or(due);
                (format!("bench-floor-{batch}-{i}"), format!("/floor/{batch}/{i}"), due)
            })
            .collect();
        let ids: Vec<String> = plan.iter().map(|(id, _, _)| id.clone()).collect();
        if let Ok(mut c) = self.created.lock() {
            c.floor.extend(ids.iter().cloned());
        }
        let expected: HashMap<String, DateTime<Utc>> = futures::stream::iter(plan)
            .map(|(id, path, due)| async move {
                let input = FloorInput { due_at: due, url: format!("http://{}{path}", self.sink.addr) };
                let options = WorkflowStartOptions::new(task_queue.clone(), id).build();
                temporal
                    .start_workflow(FloorWorkflow::run, input, options)
                    .await
                    .map_err(|e| AppError::Other(format!("starting a floor workflow: {e}")))?;
                Ok::<_, AppError>((path, due))
            })
            .buffer_unordered(SETUP_CONCURRENCY)
            .try_collect()
            .await?;
        let start_time = clock.elapsed();
        let first_due = expected.values().min().copied().unwrap_or(began);
        if Utc::now() > first_due {
            self.say("warning: starting the floor took longer than --lead");
        }
        let receipts = self.collect(&expected, from).await;
        let (receipts, values) = tally(&expected, &receipts, self.timed_out(&expected, &receipts));
        if receipts.timed_out {
            // What is still running would land in Herald's run: stop it first.
            self.say("floor: terminating the floor workflows that did not post in time");
            self.terminate(ids.clone(), "the floor timed out").await;
        }
        // Every one of this run's floor workflows has ended (posted, or terminated above): the
        // final clean-up need not ask again.
        let ended: std::collections::HashSet<String> = ids.into_iter().collect();
        if let Ok(mut c) = self.created.lock() {
            c.floor.retain(|id| !ended.contains(id));
        }
        Ok(Floor { lateness: Percentiles::of(&values), receipts, start_time })
    }

    /// The Apprise API's own rate: one notify per recipient straight to its config,
    /// [`herald_workflows::activities::CONCURRENCY`] in flight (as one `deliver` batch sends).
    async fn raw_rate(&self, recipients: &[Recipient]) -> RawRate {
        let concurrency = herald_workflows::activities::CONCURRENCY;
        self.say(&format!("raw Apprise API rate: {} notifies, {concurrency} in flight", recipients.len()));
        let body = "Herald bench: the Apprise API's raw rate, straight to the config.";
        let clock = Instant::now();
        let failed: usize = futures::stream::iter(recipients)
            .map(|r| async move {
                let notice = Notice {
                    title: "Bench raw rate",
                    body,
                    kind: NoticeType::Info,
                    format: BodyFormat::Text,
                    tag: None,
                };
                let outcome = if self.client.config_locked() {
                    let urls = [TaggedUrl { url: self.sink.config_for(r.user_id), tags: Vec::new() }];
                    self.client.notify_urls(&urls, &notice).await
                } else {
                    self.client.notify(&r.key, &notice).await
                };
                usize::from(!matches!(outcome, Outcome::Delivered))
            })
            .buffer_unordered(concurrency)
            .fold(0, |acc, f| async move { acc + f })
            .await;
        RawRate { sent: recipients.len(), failed, elapsed: clock.elapsed(), concurrency }
    }

    /// One round of run 1: N one-participant events due over `spread`, `lead` from now, and the
    /// floor for the same due times before or after them. Herald's workflows of the round are
    /// terminated at its end, so every round starts from the same state.
    async fn lateness(
        &self,
        org: Uuid,
        organizer: Uuid,
        recipients: &[Recipient],
        floor_first: bool,
    ) -> Result<Lateness, AppError> {
        let n = recipients.len();
        self.say(&format!("lateness: creating {n} draft events, one recipient each"));
        let events: Vec<(Uuid, Uuid)> = futures::stream::iter(recipients.iter().enumerate())
            .map(|(i, r)| async move {
                let event = self.draft(org, organizer, &format!("Bench event {i}")).await?;
                self.join(event, r).await?;
                Ok::<_, AppError>((event, r.user_id))
            })
            .buffer_unordered(SETUP_CONCURRENCY)
            .try_collect()
            .await?;
        let mut floor = None;
        if floor_first {
            floor = Some(self.floor(n).await?);
        }
        let ids: Vec<Uuid> = events.iter().map(|(event, _)| *event).collect();
        let herald = self.herald_lateness(events).await;
        self.terminate_events(&ids, "herald bench: the round is over").await;
        let (receipts, lateness, publish_time) = herald?;
        if !floor_first {
            floor = Some(self.floor(n).await?);
        }
        Ok(Lateness {
            lateness,
            floor,
            floor_first,
            receipts,
            publish_time,
            lead: self.options.lead,
            spread: self.options.spread,
        })
    }

    /// Publishes `events` (event, its one participant) with due times `lead` to `lead + spread`
    /// from now and collects their reminders: what arrived, the lateness, the publishing time.
    async fn herald_lateness(
        &self,
        events: Vec<(Uuid, Uuid)>,
    ) -> Result<(Receipts, Option<Percentiles>, Duration), AppError> {
        let n = events.len();
        self.say(&format!(
            "lateness: publishing {n} events, due {} to {} from now",
            secs(self.options.lead),
            secs(self.options.lead + self.options.spread)
        ));
        let from = self.sink.len();
        let began = Utc::now();
        let clock = Instant::now();
        let spread_ms = self.options.spread.as_millis() as f64;
        let mut published = Vec::with_capacity(n);
        for (i, (event, user)) in events.into_iter().enumerate() {
            let fraction = if n > 1 { i as f64 / (n - 1) as f64 } else { 0.0 };
            let due = began + chrono_ms(self.options.lead.as_millis() as f64 + spread_ms * fraction);
            published.push((self.publish(event, due).await?, user));
        }
        let expected: HashMap<String, DateTime<Utc>> = futures::stream::iter(published.iter())
            .map(|((event, update), user)| async move {
                Ok::<_, AppError>((Sink::path_of(*user), self.start(event, update).await?))
            })
            .buffer_unordered(SETUP_CONCURRENCY)
            .try_collect()
            .await?;
        let publish_time = clock.elapsed();
        let first_due = expected.values().min().copied().unwrap_or(began);
        if Utc::now() > first_due {
            self.say("warning: publishing took longer than --lead; the first reminders were due before their workflows started");
        }
        let receipts = self.collect(&expected, from).await;
        let (receipts, values) = tally(&expected, &receipts, self.timed_out(&expected, &receipts));
        Ok((receipts, Percentiles::of(&values), publish_time))
    }

    /// One round of run 2: one event with all of `recipients`, and the Apprise API's raw rate
    /// to the same configs before or after it.
    async fn fanout(
        &self,
        org: Uuid,
        organizer: Uuid,
        recipients: &[Recipient],
        raw_first: bool,
    ) -> Result<Fanout, AppError> {
        self.say(&format!("fan-out: one draft event with {} participants", recipients.len()));
        let event = self.draft(org, organizer, "Bench fan-out").await?;
        futures::stream::iter(recipients.iter())
            .map(|r| self.join(event, r))
            .buffer_unordered(SETUP_CONCURRENCY)
            .try_collect::<Vec<()>>()
            .await?;
        let mut raw = None;
        if raw_first {
            raw = Some(self.raw_rate(recipients).await);
        }
        self.say(&format!("fan-out: publishing, due {} from now", secs(self.options.lead)));
        let from = self.sink.len();
        let outcome = async {
            let (event, update) =
                self.publish(event, Utc::now() + chrono_ms(self.options.lead.as_millis() as f64)).await?;
            self.start(&event, &update).await
        }
        .await;
        let expected: HashMap<String, DateTime<Utc>> = match outcome {
            Ok(due) => recipients.iter().map(|r| (Sink::path_of(r.user_id), due)).collect(),
            Err(e) => {
                self.terminate_events(&[event], "herald bench: the round failed").await;
                return Err(e);
            }
        };
        let receipts = self.collect(&expected, from).await;
        self.terminate_events(&[event], "herald bench: the round is over").await;
        let (receipts, values) = tally(&expected, &receipts, self.timed_out(&expected, &receipts));
        if !raw_first {
            raw = Some(self.raw_rate(recipients).await);
        }
        let after_due = Percentiles::of(&values);
        let per_second =
            after_due.filter(|p| p.max > 0.0).map(|p| receipts.arrived as f64 / (p.max / 1000.0));
        Ok(Fanout { receipts, after_due, per_second, raw, raw_first, pauses: Pauses::of(&values) })
    }

    /// Terminates the workflows of `events` (their events would keep them waiting for an hour)
    /// and forgets them for the final clean-up.
    async fn terminate_events(&self, events: &[Uuid], reason: &str) {
        let ids: Vec<String> = events.iter().copied().map(herald_workflows::workflow_id).collect();
        self.terminate(ids, reason).await;
        let gone: std::collections::HashSet<Uuid> = events.iter().copied().collect();
        if let Ok(mut c) = self.created.lock() {
            c.workflows.retain(|id| !gone.contains(id));
        }
    }

    /// Terminates the workflows `ids`, [`SETUP_CONCURRENCY`] at a time; one that already ended
    /// is no error.
    async fn terminate(&self, ids: Vec<String>, reason: &str) {
        let Some(temporal) = self.herald.temporal.client().await else {
            return;
        };
        let temporal = &temporal;
        futures::stream::iter(ids)
            .for_each_concurrent(SETUP_CONCURRENCY, |id| async move {
                let options = WorkflowTerminateOptions::builder().reason(reason.to_owned()).build();
                let _ = temporal.get_workflow_handle::<EventWorkflow>(id).terminate(options).await;
            })
            .await;
    }

    fn timed_out(
        &self,
        expected: &HashMap<String, DateTime<Utc>>,
        got: &HashMap<String, Vec<DateTime<Utc>>>,
    ) -> bool {
        expected.keys().any(|k| !got.contains_key(k))
    }

    /// `count` users, each with one confirmed integration whose config (pushed to the Apprise
    /// API) points at the sink.
    async fn recipients(&self, label: &str, count: usize) -> Result<Vec<Recipient>, AppError> {
        let started = Instant::now();
        let out: Vec<Recipient> = futures::stream::iter(0..count)
            .map(|i| self.recipient(label, i))
            .buffer_unordered(SETUP_CONCURRENCY)
            .try_collect()
            .await?;
        self.say(&format!(
            "  {count} channels created and pushed to the Apprise API in {}",
            secs(started.elapsed())
        ));
        Ok(out)
    }

    async fn recipient(&self, label: &str, i: usize) -> Result<Recipient, AppError> {
        let db = self.db();
        let user = db
            .create_user(&NewUser {
                email: &format!("bench-{}-{label}-{i}@bench.invalid", self.run_id),
                display_name: &format!("Bench {label} {i}"),
                password_hash: None,
                timezone: "UTC",
                verified: true,
            })
            .await
            .map_err(db_error("creating a bench user"))?;
        let id = Uuid::new_v4();
        let key = ConfigKey::parse(&crate::secrets::random_token()).map_err(AppError::Other)?;
        let config = self.sink.config_for(user.id);
        let sealed = crate::integrations::seal(self.keys, id, &config)
            .map_err(|e| AppError::Other(format!("sealing a bench channel: {e}")))?;
        db.insert_integration(id, user.id, "Bench sink", key.as_str(), &sealed, &[])
            .await
            .map_err(db_error("creating a bench channel"))?;
        // Confirmed, as if its owner had entered the code it was sent.
        let now = Utc::now();
        db.set_integration_code(id, "bench", now + chrono::Duration::hours(1), now)
            .await
            .map_err(db_error("confirming a bench channel"))?;
        db.mark_integration_confirmed(id, "bench").await.map_err(db_error("confirming a bench channel"))?;
        // A locked Apprise API (HERALD_APPRISE_CONFIG_LOCK) stores nothing: the worker sends the
        // sink's URL stateless from the sealed copy.
        if !self.client.config_locked() {
            self.client
                .add_config(&key, &config)
                .await
                .map_err(|e| AppError::Other(format!("pushing a bench channel to the Apprise API: {e}")))?;
        }
        if let Ok(mut c) = self.created.lock() {
            c.keys.push(key.clone());
        }
        Ok(Recipient { user_id: user.id, integration_id: id, key })
    }

    /// A draft event (times are set when it is published).
    async fn draft(&self, org: Uuid, organizer: Uuid, name: &str) -> Result<Uuid, AppError> {
        let placeholder = Utc::now() + chrono::Duration::days(30);
        let slug = format!("bench-{}", Uuid::new_v4().simple());
        let event = self
            .db()
            .create_event_with(
                &NewEvent {
                    org_id: org,
                    slug: &slug,
                    name,
                    description: "Created by `herald bench`.",
                    location: Some("The bench"),
                    online_url: None,
                    starts_at: placeholder,
                    ends_at: placeholder + chrono::Duration::hours(1),
                    timezone: "UTC",
                    visibility: Visibility::Private,
                    reminder_offsets: vec![OFFSET_SECS],
                    status: EventStatus::Draft,
                    created_by: Some(organizer),
                },
                Notices::default(),
                None,
            )
            .await
            .map_err(db_error("creating a bench event"))?;
        Ok(event.id)
    }

    /// `r` goes to `event` and chose their bench channel for it (no tags: every URL).
    async fn join(&self, event: Uuid, r: &Recipient) -> Result<(), AppError> {
        let p = self
            .db()
            .add_participant(event, Invitee::User(r.user_id), ParticipantRole::Attendee, Rsvp::Going)
            .await
            .map_err(db_error("adding a participant"))?;
        self.db()
            .set_participant_channels(p.id, &[(r.integration_id, Vec::new())])
            .await
            .map_err(db_error("choosing a participant's channel"))?;
        Ok(())
    }

    /// Publishes `event` with its reminder due at `due`: the event and its update row as saved.
    /// Call one at a time: on SQLite, a read-then-write transaction fails with "database is
    /// locked" (SQLITE_BUSY_SNAPSHOT) instead of waiting when another connection wrote meanwhile.
    async fn publish(&self, event: Uuid, due: DateTime<Utc>) -> Result<(Event, EventUpdate), AppError> {
        let db = self.db();
        let draft = db.event(event).await.map_err(db_error("reading a bench event"))?;
        let Some(draft) = draft else {
            return Err(AppError::Other("a bench event disappeared".into()));
        };
        // Whole milliseconds: both backends store them exactly.
        let due = due.duration_trunc(chrono::Duration::milliseconds(1)).unwrap_or(due);
        let mut changes = EventFields::of(&draft);
        changes.starts_at = due + chrono::Duration::seconds(OFFSET_SECS);
        changes.ends_at = changes.starts_at + chrono::Duration::hours(1);
        changes.status = EventStatus::Published;
        let published = db
            .update_event(event, &changes, draft.created_by)
            .await
            .map_err(db_error("publishing a bench event"))?;
        if let Ok(mut c) = self.created.lock() {
            c.workflows.push(event);
        }
        Ok(published)
    }

    /// Starts the workflow of a published event exactly as the app does; its reminder's due
    /// time as stored.
    async fn start(&self, event: &Event, update: &EventUpdate) -> Result<DateTime<Utc>, AppError> {
        match crate::events::sync_with(self.db(), &self.herald.temporal, event, Some(update)).await {
            SyncState::Synced => Ok(event.starts_at - chrono::Duration::seconds(OFFSET_SECS)),
            SyncState::Pending => Err(AppError::Other(format!(
                "could not start a workflow on Temporal at {}",
                self.herald.temporal.config().address
            ))),
        }
    }

    /// Waits until every expected path received something (then a little longer, for
    /// duplicates) or the timeout after the last due time passed.
    async fn collect(
        &self,
        expected: &HashMap<String, DateTime<Utc>>,
        from: usize,
    ) -> HashMap<String, Vec<DateTime<Utc>>> {
        let last_due = expected.values().max().copied().unwrap_or_else(Utc::now);
        let give_up =
            last_due + chrono::Duration::from_std(self.options.timeout).unwrap_or(chrono::Duration::MAX);
        let mut reported = 0;
        loop {
            let got = self.sink.since(from);
            let arrived = expected.keys().filter(|k| got.contains_key(*k)).count();
            if arrived == expected.len() {
                tokio::time::sleep(DUPLICATE_GRACE).await;
                return self.sink.since(from);
            }
            if Utc::now() > give_up {
                self.say(&format!("gave up waiting: {arrived} of {} arrived", expected.len()));
                return got;
            }
            if arrived > 0
                && arrived != reported
                && arrived * 10 / expected.len() != reported * 10 / expected.len()
            {
                self.say(&format!("  {arrived} of {} arrived", expected.len()));
                reported = arrived;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Terminates the bench's workflows (their events would keep them waiting for an hour) and
    /// removes its configs from the Apprise API.
    async fn clean_up(&self) {
        let created = self.created.lock().map(|mut c| std::mem::take(&mut *c)).unwrap_or_default();
        let ids = created.workflows.into_iter().map(herald_workflows::workflow_id).chain(created.floor);
        self.terminate(ids.collect(), "herald bench finished").await;
        let keys = if self.client.config_locked() { Vec::new() } else { created.keys };
        futures::stream::iter(keys)
            .for_each_concurrent(SETUP_CONCURRENCY, |key| async move {
                let _ = self.client.delete_config(&key).await;
            })
            .await;
    }
}

fn chrono_ms(ms: f64) -> chrono::Duration {
    chrono::Duration::microseconds((ms * 1000.0) as i64)
}

/// Counts what arrived for `expected` and the lateness (ms) of each first receipt.
fn tally(
    expected: &HashMap<String, DateTime<Utc>>,
    got: &HashMap<String, Vec<DateTime<Utc>>>,
    timed_out: bool,
) -> (Receipts, Vec<f64>) {
    let mut receipts = Receipts { expected: expected.len(), timed_out, ..Receipts::default() };
    let mut values = Vec::with_capacity(expected.len());
    for (path, times) in got {
        match expected.get(path) {
            Some(due) => {
                receipts.arrived += 1;
                receipts.duplicates += times.len().saturating_sub(1);
                if let Some(first) = times.iter().min() {
                    values.push((*first - *due).num_microseconds().unwrap_or(i64::MAX) as f64 / 1000.0);
                }
            }
            None => receipts.unexpected += times.len(),
        }
    }
    (receipts, values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_is_the_median_of_the_rounds() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(
            ratio_list(&[Some(0.5), None, Some(1.5), Some(1.0)]),
            "0.50×, n/a, 1.50×, 1.00× → median 1.00×"
        );
        assert_eq!(round_label(1, 3), "Round 2 of 3: ");
        assert_eq!(round_label(0, 1), "");
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        let p = Percentiles::of(&values).unwrap_or_default();
        assert_eq!((p.min, p.p50, p.p95, p.p99, p.max), (1.0, 50.0, 95.0, 99.0, 100.0));
        let one = Percentiles::of(&[7.0]).unwrap_or_default();
        assert_eq!((one.p50, one.p99), (7.0, 7.0));
        assert!(Percentiles::of(&[]).is_none());
    }

    #[test]
    fn pauses_are_the_long_gaps_between_receipts() {
        // Out of order on purpose: receipts are gathered per recipient, not by time.
        let p = Pauses::of(&[310.0, 10.0, 20.0, 30.0, 240.0, 250.0, 40.0]);
        assert_eq!((p.count, p.total_ms, p.longest_ms), (2, 260.0, 200.0));
        assert_eq!(Pauses::of(&[5.0]), Pauses::default());
    }

    #[test]
    fn duplicates_and_strays_are_counted() {
        let due = Utc::now();
        let expected: HashMap<String, DateTime<Utc>> =
            [("/bench/a".to_owned(), due), ("/bench/b".to_owned(), due)].into_iter().collect();
        let got: HashMap<String, Vec<DateTime<Utc>>> = [
            (
                "/bench/a".to_owned(),
                vec![due + chrono::Duration::milliseconds(40), due + chrono::Duration::milliseconds(90)],
            ),
            ("/bench/x".to_owned(), vec![due]),
        ]
        .into_iter()
        .collect();
        let (r, values) = tally(&expected, &got, true);
        assert_eq!((r.expected, r.arrived, r.duplicates, r.unexpected), (2, 1, 1, 1));
        assert!(!r.complete());
        assert_eq!(values, vec![40.0]);
    }
}
