//! One function per screen; each returns a full document built with [`layout`].

use maud::{Markup, html};

use crate::components::{bell_icon, empty_state, status_badge};
use crate::layout::{Page, Shell, layout};

/// What the home page shows about the running service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HomeStatus {
    /// Herald's version, e.g. `env!("CARGO_PKG_VERSION")`.
    pub version: &'static str,
    /// Dependency checks (database, Temporal…), in display order.
    pub checks: Vec<Check>,
}

impl HomeStatus {
    /// Whether every check passed (true when there are none).
    pub fn all_ok(&self) -> bool {
        self.checks.iter().all(|check| check.ok)
    }
}

/// The outcome of one readiness check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What was checked, e.g. "Database".
    pub name: String,
    /// Whether it is working.
    pub ok: bool,
    /// One line for people, e.g. "SQLite, migrations applied" or "connection refused". Shown on a
    /// public page: never put secrets or connection strings here.
    pub detail: String,
}

/// The landing page for visitors who are not signed in: what Herald is, how it works, and a way
/// to get started. The system status is for operators only (see [`dashboard`]).
pub fn home(shell: &Shell) -> Markup {
    let page = Page::new("Durable event reminders").shell(shell).with_description(
        "Herald is a self-hostable service that reminds attendees about events by email, Slack, \
         Telegram and 100+ other channels, on time, even through restarts.",
    );
    layout(
        &page,
        html! {
            section.hero aria-labelledby="hero-heading" {
                div {
                    p.eyebrow { "Self-hosted event reminders" }
                    h1 #hero-heading { "Reminders that show up on time." }
                    p.lead {
                        "Herald reminds your attendees about upcoming events on the channels they \
                         already use, and keeps that promise through crashes, restarts and outages."
                    }
                    div.actions {
                        a.button href="/signup" { "Get started" }
                        a.button.button-secondary href="/signin" { "Sign in" }
                    }
                }
                (reminder_timeline())
            }
            section #how-it-works aria-labelledby="how-heading" {
                h2 #how-heading { "How it works" }
                ol.steps {
                    li {
                        h3 { "Create an event" }
                        p { "Set the time and place, and when reminders should go out: a week, a day, an hour before." }
                    }
                    li {
                        h3 { "Share its page" }
                        p { "People answer with their name and email, or their account, and add it to their calendar." }
                    }
                    li {
                        h3 { "Reminders arrive on time" }
                        p { "By email, or on Slack, Telegram or any of 100+ services, on time, even through restarts, and never twice." }
                    }
                }
            }
        },
    )
}

/// An event on the signed-in home page.
#[derive(Debug, Clone)]
pub struct HomeRow {
    /// Where the link goes (the organizer's page or the public page).
    pub href: String,
    /// Name.
    pub name: String,
    /// When, in the viewer's words.
    pub when: String,
    /// The organization's name.
    pub org_name: String,
    /// "Draft" for an unpublished event.
    pub badge: Option<&'static str>,
}

/// One step of the setup checklist.
#[derive(Debug, Clone)]
pub struct Step {
    /// What to do, as a link text.
    pub label: String,
    /// Where to do it.
    pub href: String,
    /// Whether it is done.
    pub done: bool,
}

/// What the signed-in home page shows.
#[derive(Debug, Clone, Default)]
pub struct DashboardView {
    /// The person's first name or display name, for the greeting.
    pub name: String,
    /// Upcoming events they organize.
    pub organized: Vec<HomeRow>,
    /// Upcoming events they take part in.
    pub joined: Vec<HomeRow>,
    /// Setup steps; empty once all are done.
    pub steps: Vec<Step>,
    /// Where "New event" goes, if they may create events somewhere.
    pub new_event: Option<String>,
    /// The system status, for operators only.
    pub status: Option<HomeStatus>,
}

/// `/` for a signed-in person: their events, their first steps, and (operators) the system status.
pub fn dashboard(shell: &Shell, v: &DashboardView) -> Markup {
    let rows = |rows: &[HomeRow]| {
        html! {
            ul.event-cards {
                @for r in rows {
                    li.event-card {
                        a href=(r.href) { strong { (r.name) } }
                        @if let Some(b) = r.badge { " " span.badge.badge-draft { (b) } }
                        p.muted.small { (r.when) " · " (r.org_name) }
                    }
                }
            }
        }
    };
    let next = v.steps.iter().position(|s| !s.done);
    layout(
        &Page::new("Home").shell(shell),
        html! {
            div.page-head {
                h1 { "Hello, " (v.name) }
                @if let Some(href) = &v.new_event {
                    a.button href=(href) { "New event" }
                }
            }
            @if !v.steps.is_empty() {
                section.card.checklist aria-labelledby="setup-heading" {
                    h2 #setup-heading { "Get your first reminder out" }
                    p.muted {
                        (v.steps.iter().filter(|s| s.done).count()) " of " (v.steps.len()) " done"
                    }
                    ol.checklist-steps {
                        @for (i, s) in v.steps.iter().enumerate() {
                            li.done[s.done] aria-current=[(Some(i) == next).then_some("step")] {
                                span.check-mark aria-hidden="true" { @if s.done { "✓" } @else { (i + 1) } }
                                @if s.done {
                                    span { (s.label) } span.visually-hidden { " (done)" }
                                } @else if Some(i) == next {
                                    a.button href=(s.href) { (s.label) }
                                } @else {
                                    a href=(s.href) { (s.label) }
                                }
                            }
                        }
                    }
                }
            }
            section.card aria-labelledby="organized-heading" {
                h2 #organized-heading { "Events you organize" }
                @if v.organized.is_empty() {
                    p.muted { "Nothing coming up." }
                } @else {
                    (rows(&v.organized))
                }
            }
            section.card aria-labelledby="joined-heading" {
                h2 #joined-heading { "Events you are going to" }
                @if v.joined.is_empty() {
                    p.muted { "None yet. When you answer an event's invitation or page, it shows up here." }
                } @else {
                    (rows(&v.joined))
                }
            }
            @if let Some(status) = &v.status { (status_card(status)) }
        },
    )
}

/// The state of Herald's dependencies, for operators.
fn status_card(status: &HomeStatus) -> Markup {
    html! {
        section.card #status aria-labelledby="status-heading" {
            div.card-header {
                h2 #status-heading { "System status" }
                @if !status.checks.is_empty() {
                    @if status.all_ok() {
                        (status_badge(true, "All systems go"))
                    } @else {
                        (status_badge(false, "Degraded"))
                    }
                }
            }
            @if status.checks.is_empty() {
                (empty_state("No checks reported", "This Herald has nothing to check yet.", None))
            } @else {
                ul.checks {
                    @for check in &status.checks {
                        li {
                            span.check-name { (check.name) }
                            (status_badge(check.ok, if check.ok { "OK" } else { "Down" }))
                            span.check-detail { (check.detail) }
                        }
                    }
                }
            }
            p.small.muted {
                "Herald " (status.version) " · "
                a href="/readyz" { "Readiness check" } " (JSON) · shown to operators only"
            }
        }
    }
}

/// A friendly error page (404, 403, 500…) with a way back home.
///
/// `title` and `message` are shown to the visitor as they are (escaped): pass words for people,
/// never internal error details.
pub fn error_page(status: u16, title: &str, message: &str) -> Markup {
    error_layout(&Page::new(title), status, title, message)
}

/// The same error page inside the signed-in visitor's frame (their name, organizations, CSRF).
pub fn error_page_in(shell: &Shell, status: u16, title: &str, message: &str) -> Markup {
    error_layout(&Page::new(title).shell(shell), status, title, message)
}

fn error_layout(page: &Page<'_>, status: u16, title: &str, message: &str) -> Markup {
    layout(
        page,
        html! {
            section.error-page aria-labelledby="error-heading" {
                (bell_icon())
                p.error-code { "Error " (status) }
                h1 #error-heading { (title) }
                p { (message) }
                div.actions { a.button href="/" { "Go to the home page" } }
            }
        },
    )
}

/// Decorative picture for the home page: a bell ringing out a notification, above a timeline of
/// reminders already sent, the next one due, and the event's start.
fn reminder_timeline() -> Markup {
    html! {
        svg.hero-art viewBox="0 0 360 230" aria-hidden="true" focusable="false" {
            rect.ill-soft x="4" y="4" width="352" height="222" rx="28" {}
            // The bell, ringing.
            g transform="translate(48 20) scale(3.4)" {
                circle.ill-ink cx="16" cy="4.5" r="2.25" {}
                path.ill-bell.ill-ink-outline stroke-width="1.4" stroke-linejoin="round"
                    d="M16 6.5c-5 0-8 3.6-8 8.5v4.6L5 23.5h22l-3-3.9V15c0-4.9-3-8.5-8-8.5z" {}
                path.ill-ink d="M12.5 25.5h7a3.5 3.5 0 0 1-7 0z" {}
            }
            g.ill-ink-stroke stroke-width="4" stroke-linecap="round" {
                path d="M52 46q-9 14 0 28" {}
                path d="M38 38q-14 22 0 44" {}
                path d="M152 46q9 14 0 28" {}
                path d="M166 38q14 22 0 44" {}
            }
            // The message it sends.
            rect.ill-surface.ill-line x="186" y="30" width="154" height="74" rx="14" stroke-width="1.5" {}
            circle.ill-bell cx="210" cy="56" r="10" {}
            rect.ill-ink x="228" y="48" width="94" height="9" rx="4.5" {}
            rect.ill-muted x="228" y="64" width="66" height="8" rx="4" {}
            rect.ill-muted x="202" y="84" width="112" height="6" rx="3" {}
            path.ill-line stroke-width="2" stroke-dasharray="3 6" stroke-linecap="round"
                d="M236 156C236 132 248 122 254 108" {}
            // The timeline: sent, sent, next, event start.
            path.ill-ink-stroke stroke-width="4" stroke-linecap="round" d="M36 176H236" {}
            path.ill-line stroke-width="4" stroke-linecap="round" stroke-dasharray="1 10" d="M248 176H304" {}
            @for x in [64, 150] {
                circle.ill-ink cx=(x) cy="176" r="10" {}
                path.ill-check stroke-width="2.5" stroke-linecap="round" stroke-linejoin="round"
                    d={ "M" (x - 4) " 176l3 3 5-6" } {}
            }
            circle.ill-bell.ill-next cx="236" cy="176" r="15" {}
            circle.ill-bell.ill-ink-outline cx="236" cy="176" r="9" stroke-width="3" {}
            rect.ill-ink x="308" y="162" width="28" height="28" rx="6" {}
            rect.ill-surface x="313" y="172" width="18" height="13" rx="2" {}
            g.ill-text text-anchor="middle" {
                text x="64" y="212" { "1 week" }
                text x="150" y="212" { "1 day" }
                text x="236" y="212" { "1 hour" }
                text x="322" y="212" { "Start" }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(checks: &[(&str, bool, &str)]) -> HomeStatus {
        HomeStatus {
            version: "9.9.9",
            checks: checks
                .iter()
                .map(|&(name, ok, detail)| Check { name: name.into(), ok, detail: detail.into() })
                .collect(),
        }
    }

    /// Heading levels in document order.
    fn heading_levels(html: &str) -> Vec<u8> {
        html.match_indices("<h")
            .filter_map(|(i, _)| html[i + 2..].bytes().next())
            .filter(u8::is_ascii_digit)
            .map(|b| b - b'0')
            .collect()
    }

    fn dashboard_with(status: Option<HomeStatus>, steps: Vec<Step>) -> String {
        dashboard(
            &Shell::default(),
            &DashboardView {
                name: "Ada".into(),
                organized: vec![HomeRow {
                    href: "/orgs/acme/events/1".into(),
                    name: "Rust night".into(),
                    when: "Wed 2 Dec, 19:30 – 22:00 (Europe/Paris)".into(),
                    org_name: "Acme".into(),
                    badge: Some("Draft"),
                }],
                steps,
                status,
                ..Default::default()
            },
        )
        .into_string()
    }

    #[test]
    fn operators_see_each_check_with_its_state() {
        let html = dashboard_with(
            Some(status(&[
                ("Database", true, "SQLite, migrations applied"),
                ("Temporal", false, "connection <refused>"),
            ])),
            vec![],
        );
        assert!(html.contains("Database") && html.contains("SQLite, migrations applied"));
        assert!(html.contains("Temporal") && html.contains("connection &lt;refused&gt;"));
        assert!(html.contains("badge-ok") && html.contains("badge-down"));
        assert!(html.contains("Degraded"));
        assert!(html.contains(r#"href="/readyz""#));
        assert!(html.contains("Herald 9.9.9"));
        assert_eq!(html.matches("<h1").count(), 1);
    }

    #[test]
    fn people_see_their_events_and_no_status() {
        let html = dashboard_with(None, vec![]);
        assert!(html.contains("Rust night") && html.contains("Draft") && html.contains("Acme"));
        assert!(!html.contains("System status") && !html.contains("Temporal"));
        assert!(!html.contains("Get your first reminder out"));
    }

    #[test]
    fn the_checklist_leads_to_the_next_step() {
        let step = |label: &str, done| Step { label: label.into(), href: format!("/{label}"), done };
        let html = dashboard_with(None, vec![step("org", true), step("event", false), step("share", false)]);
        assert!(html.contains("1 of 3 done"));
        assert!(html.contains(r#"aria-current="step"><span class="check-mark" aria-hidden="true">2</span><a class="button" href="/event">"#), "{html}");
        assert!(html.contains("(done)"));
    }

    #[test]
    fn the_public_home_invites_people_in_and_shows_no_internals() {
        let html = home(&Shell::default()).into_string();
        assert!(html.contains(r#"href="/signup""#) && html.contains("Get started"));
        assert!(!html.contains("System status") && !html.contains("Temporal"));
        assert!(html.contains(r#"<ol class="steps">"#));
    }

    #[test]
    fn home_headings_never_skip_a_level() {
        for html in [
            home(&Shell::default()).into_string(),
            dashboard_with(Some(status(&[("Database", true, "ok")])), vec![]),
        ] {
            let levels = heading_levels(&html);
            assert_eq!(levels.first(), Some(&1));
            for pair in levels.windows(2) {
                assert!(pair[1] <= pair[0] + 1, "heading order {levels:?}");
            }
        }
    }

    #[test]
    fn home_decorations_are_hidden_from_assistive_technology() {
        let html = home(&Shell::default()).into_string();
        assert_eq!(html.matches("<svg").count(), html.matches(r#"aria-hidden="true""#).count());
        let html = dashboard_with(Some(status(&[])), vec![]);
        assert!(html.contains("No checks reported"));
        assert!(!html.contains("Degraded"));
    }

    #[test]
    fn error_page_shows_status_and_way_home() {
        let html = error_page(404, "Page not found", "We looked everywhere.").into_string();
        assert!(html.contains("<title>Page not found · Herald</title>"));
        assert!(html.contains("Error 404"));
        assert!(html.contains("We looked everywhere."));
        assert!(html.contains(r#"<a class="button" href="/">"#));
    }
}
