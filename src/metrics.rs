//! Prometheus metrics, through the `metrics` facade and its Prometheus exporter: the process-wide
//! recorder, the names and help texts, and what is measured at scrape time (dependencies, the
//! reconciler's backlog). Served at `/metrics` when `HERALD_METRICS_TOKEN` is set (see `web`).
//!
//! Labels are bounded: route templates (never paths with ids), notice kinds, ledger statuses,
//! dependency names.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// HTTP requests by method, route template and status code (counter).
pub const HTTP_REQUESTS: &str = "herald_http_requests_total";
/// HTTP request duration by method and route template (histogram, seconds).
pub const HTTP_DURATION: &str = "herald_http_request_duration_seconds";
/// Notifications by kind and final ledger status (counter; defined in the workflows crate).
pub const NOTIFICATIONS: &str = herald_workflows::metrics::NOTIFICATIONS;
/// Reminder lateness, receipt by the Apprise API minus due time (histogram, seconds).
pub const LATENESS: &str = herald_workflows::metrics::LATENESS;
/// Deliver activity duration by notice kind (histogram, seconds).
pub const DELIVER_DURATION: &str = herald_workflows::metrics::DELIVER_DURATION;
/// Deliver activity attempts beyond the first, by notice kind (counter).
pub const DELIVER_RETRIES: &str = herald_workflows::metrics::DELIVER_RETRIES;
/// Event workflows in this process's memory (gauge; defined in the workflows crate).
pub const WORKFLOWS_IN_MEMORY: &str = herald_workflows::metrics::IN_MEMORY;
/// Reconciler passes by outcome (counter).
pub const RECONCILER_RUNS: &str = "herald_reconciler_runs_total";
/// Saved changes not yet told to their workflow (gauge).
pub const UNSYNCED: &str = "herald_events_unsynced";
/// Age of the oldest such change (gauge, seconds; 0 when there is none).
pub const UNSYNCED_AGE: &str = "herald_events_unsynced_oldest_age_seconds";
/// Whether a dependency answers: database, temporal, apprise (gauge, 1 or 0).
pub const DEPENDENCY_UP: &str = "herald_dependency_up";
/// Always 1, labelled with the version (gauge).
pub const BUILD_INFO: &str = "herald_build_info";

const SECONDS_FAST: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
const SECONDS_SLOW: &[f64] = &[0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process-wide recorder, installed on first use; `None` when another recorder was
/// installed first (then nothing is measured here, and `/metrics` says so).
pub fn handle() -> Option<PrometheusHandle> {
    HANDLE.get_or_init(install).clone()
}

fn install() -> Option<PrometheusHandle> {
    let builder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), SECONDS_FAST)
        .and_then(|b| b.set_buckets_for_metric(Matcher::Full(DELIVER_DURATION.into()), SECONDS_FAST))
        .and_then(|b| b.set_buckets_for_metric(Matcher::Full(LATENESS.into()), SECONDS_SLOW));
    let recorder = match builder {
        Ok(b) => b.build_recorder(),
        Err(e) => {
            tracing::warn!(error = %e, "metrics are off: the histogram buckets are invalid");
            return None;
        }
    };
    let handle = recorder.handle();
    if metrics::set_global_recorder(recorder).is_err() {
        tracing::warn!("metrics are off: another metrics recorder is installed");
        return None;
    }
    describe();
    metrics::gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    Some(handle)
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(HTTP_REQUESTS, "HTTP requests by method, route template and status code.");
    describe_histogram!(HTTP_DURATION, Unit::Seconds, "HTTP request duration by method and route template.");
    describe_counter!(NOTIFICATIONS, "Notifications by kind and final ledger status.");
    describe_histogram!(LATENESS, Unit::Seconds, "Reminder lateness: sent minus due time.");
    describe_histogram!(DELIVER_DURATION, Unit::Seconds, "Deliver activity duration by notice kind.");
    describe_counter!(DELIVER_RETRIES, "Deliver activity attempts beyond the first, by notice kind.");
    describe_gauge!(
        WORKFLOWS_IN_MEMORY,
        "Event workflows held in this process's memory (the worker's cache and runs being evicted)."
    );
    describe_counter!(RECONCILER_RUNS, "Reconciler passes by outcome.");
    describe_gauge!(UNSYNCED, "Saved event changes not yet told to their workflow.");
    describe_gauge!(
        UNSYNCED_AGE,
        Unit::Seconds,
        "Age of the oldest event change not yet told to its workflow."
    );
    describe_gauge!(DEPENDENCY_UP, "Whether a dependency answers (1) or not (0).");
    describe_gauge!(BUILD_INFO, "Always 1; the version is a label.");
}

/// Records one finished HTTP request.
pub fn http_request(method: &str, route: &str, status: u16, seconds: f64) {
    let (method, route) = (method.to_owned(), route.to_owned());
    metrics::counter!(HTTP_REQUESTS, "method" => method.clone(), "route" => route.clone(), "status" => status.to_string())
        .increment(1);
    metrics::histogram!(HTTP_DURATION, "method" => method, "route" => route).record(seconds);
}

/// Records a reconciler pass.
pub fn reconciler_run(ok: bool) {
    metrics::counter!(RECONCILER_RUNS, "outcome" => if ok { "ok" } else { "failed" }).increment(1);
}

/// Sets the gauges read at scrape time.
pub fn scrape_state(database: bool, temporal: bool, apprise: bool, unsynced: i64, oldest_age_secs: f64) {
    for (name, up) in [("database", database), ("temporal", temporal), ("apprise", apprise)] {
        metrics::gauge!(DEPENDENCY_UP, "dependency" => name).set(if up { 1.0 } else { 0.0 });
    }
    metrics::gauge!(UNSYNCED).set(unsynced as f64);
    metrics::gauge!(UNSYNCED_AGE).set(oldest_age_secs);
}
