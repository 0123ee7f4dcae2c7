//! The organizer's view of an event's notices: what the workflow will send next, and the
//! delivery ledger per recipient. One fragment, polled with htmx while anything is still to
//! come, so the ledger fills in as messages go out.

use maud::{Markup, html};

/// A notice still to come.
#[derive(Debug, Clone)]
pub struct UpcomingRow {
    /// "Reminder, 1 hour before".
    pub what: String,
    /// When, in the viewer's zone.
    pub when: String,
    /// The same moment as an RFC 3339 instant, for `<time datetime>`.
    pub datetime: String,
}

/// One ledger row.
#[derive(Debug, Clone)]
pub struct LedgerRow {
    /// The recipient's name.
    pub recipient: String,
    /// The channel's name, or "no channel".
    pub channel: String,
    /// "Reminder", "Change notice", "Cancellation".
    pub notice: String,
    /// When it was due, in the viewer's zone.
    pub due: String,
    /// `pending`, `sent`, …
    pub status: String,
    /// The Apprise API's answer, in words.
    pub detail: Option<String>,
    /// Attempts so far.
    pub attempts: i64,
}

/// Counts per status, for the summary.
#[derive(Debug, Clone, Default)]
pub struct LedgerCounts {
    /// Delivered to every target.
    pub sent: usize,
    /// Delivered to some targets.
    pub partial: usize,
    /// Waiting or being retried.
    pub pending: usize,
    /// Refused for good.
    pub failed: usize,
    /// Too late.
    pub expired: usize,
    /// Not sent on purpose.
    pub skipped: usize,
    /// On their way when sending was interrupted: most likely delivered, never sent again.
    pub uncertain: usize,
}

/// What the fragment shows.
#[derive(Debug, Clone, Default)]
pub struct DeliveryView {
    /// Where the fragment is polled from.
    pub poll_url: String,
    /// Poll again after this many seconds (something is still to come or pending); `None`
    /// stops polling.
    pub poll_secs: Option<u32>,
    /// "From the running workflow", or why it is an estimate.
    pub source_note: String,
    /// Upcoming notices.
    pub upcoming: Vec<UpcomingRow>,
    /// The workflow in the Temporal Web UI.
    pub workflow_url: Option<String>,
    /// Ledger rows, newest due first.
    pub ledger: Vec<LedgerRow>,
    /// Counts per status.
    pub counts: LedgerCounts,
}

/// The fragment: scheduled notices and the ledger.
pub fn fragment(v: &DeliveryView) -> Markup {
    html! {
        div #deliveries
            hx-get=[v.poll_secs.map(|_| &v.poll_url)]
            hx-trigger=[v.poll_secs.map(|s| format!("every {s}s"))]
            hx-swap=[v.poll_secs.map(|_| "outerHTML")] {
            section.card aria-labelledby="schedule-heading" {
                h2 #schedule-heading { "Scheduled notices" }
                p.muted { (v.source_note) }
                @if v.upcoming.is_empty() {
                    p { "No reminders are still to come." }
                } @else {
                    ol.schedule {
                        @for u in &v.upcoming {
                            li { strong { (u.what) } " · " time datetime=(u.datetime) { (u.when) } }
                        }
                    }
                }
                @if let Some(url) = &v.workflow_url {
                    p { a href=(url) rel="noopener noreferrer" target="_blank" { "Open this event's workflow in the Temporal UI" } }
                }
            }
            section.card aria-labelledby="ledger-heading" {
                h2 #ledger-heading { "Deliveries" }
                @if v.ledger.is_empty() {
                    p.muted { "Nothing sent yet. Each reminder, change notice and cancellation appears here per participant and channel." }
                } @else {
                    ul.ledger-summary aria-label="Deliveries by status" {
                        (count("sent", "delivered", v.counts.sent))
                        (count("partial", "partly delivered", v.counts.partial))
                        (count("pending", "pending", v.counts.pending))
                        (count("failed", "failed", v.counts.failed))
                        (count("expired", "expired", v.counts.expired))
                        (count("skipped", "skipped", v.counts.skipped))
                        (count("uncertain", "probably delivered (sending was interrupted)", v.counts.uncertain))
                    }
                    div.table-wrap tabindex="0" role="region" aria-labelledby="ledger-heading" {
                        table.ledger {
                            thead { tr {
                                th scope="col" { "Recipient" }
                                th scope="col" { "Status" }
                                th scope="col" { "Notice" }
                                th scope="col" { "Due" }
                                th scope="col" { "Channel" }
                            } }
                            tbody {
                                @for r in &v.ledger {
                                    tr data-status=(r.status) {
                                        th scope="row" { (r.recipient) }
                                        td.status {
                                            (status_badge(&r.status))
                                            @if r.attempts > 1 { " " span.muted.attempts { (r.attempts) " attempts" } }
                                            @if let Some(d) = &r.detail { span.muted.detail { (d) } }
                                        }
                                        td { (r.notice) }
                                        td.due { (r.due) }
                                        td { (r.channel) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn count(status: &str, label: &str, n: usize) -> Markup {
    html! {
        @if n > 0 {
            li { span class={ "badge " (badge_class(status)) } { (n) " " (label) } }
        }
    }
}

fn badge_class(status: &str) -> &'static str {
    match status {
        "sent" => "badge-ok",
        "partial" | "pending" | "skipped" | "uncertain" => "badge-warn",
        "failed" | "expired" => "badge-down",
        _ => "",
    }
}

fn status_badge(status: &str) -> Markup {
    html! { span class={ "badge " (badge_class(status)) } { (status) } }
}
