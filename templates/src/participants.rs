//! Participants: the organizer's section of the event page (table, add by email, CSV import with
//! its progress page), the RSVP card of the public event page, and the private calendar feed
//! page of the account.

use maud::{Markup, html};

use crate::account::{Section, section_nav};
use crate::forms::{Errors, Field, error_for, error_summary, field};
use crate::layout::{Page, Shell, csrf_field, layout};

/// The participant roles: (value, label).
pub const ROLES: &[(&str, &str)] = &[
    ("attendee", "Attendee"),
    ("speaker", "Speaker"),
    ("volunteer", "Volunteer"),
    ("organizer", "Organizer"),
];

/// The answers a participant can give: (value, label). Each is a button of the RSVP card.
pub const ANSWERS: &[(&str, &str)] = &[("going", "Going"), ("maybe", "Maybe"), ("declined", "Can't go")];

/// An answer in the words of its button ("Can't go"); "No answer yet" for anything else.
pub fn answer_words(value: &str) -> &'static str {
    ANSWERS.iter().find(|(v, _)| *v == value).map_or("No answer yet", |(_, label)| label)
}

fn role_select(id: &str, selected: &str) -> Markup {
    html! {
        select id=(id) name="role" {
            @for (value, label) in ROLES {
                option value=(value) selected[*value == selected] { (label) }
            }
        }
    }
}

// --- Organizer's section ---

/// One participant in the organizer's table.
#[derive(Debug, Clone, Default)]
pub struct ParticipantLine {
    /// Participant id.
    pub id: String,
    /// Name (or the address when none is known).
    pub name: String,
    /// Address.
    pub email: String,
    /// Invited by mail, no account yet.
    pub invited: bool,
    /// Role value (`attendee`…).
    pub role: String,
    /// The answer in words.
    pub rsvp: String,
    /// Channels in words: "Phone (tags: sms)", never URLs.
    pub channels: Vec<String>,
    /// The channels notices reach them through (names), or empty with `unreachable`.
    pub reached_through: Vec<String>,
    /// Why notices do not reach them, when they do not.
    pub unreachable: Option<String>,
}

/// The Participants section of the organizer's event page.
#[derive(Debug, Clone, Default)]
pub struct ParticipantsSection {
    /// `/orgs/{slug}/events/{id}/participants`.
    pub base: String,
    /// The participants, oldest first.
    pub rows: Vec<ParticipantLine>,
    /// "3 going · 1 maybe · 2 no answer".
    pub counts: String,
    /// Whether people can still be added (not cancelled).
    pub open: bool,
}

/// The Participants section (for those who manage events).
pub fn section(shell: &Shell, s: &ParticipantsSection) -> Markup {
    html! {
        section.card #participants aria-labelledby="participants-heading" {
            h2 #participants-heading { "Participants" }
            @if s.rows.is_empty() {
                p.muted { "Nobody yet. Add people by email or import a CSV file; anyone can also join from the public page." }
            } @else {
                p.muted { (s.counts) }
                div.table-wrap {
                    table.stack {
                        caption.visually-hidden { "Participants, their role, answer and channels" }
                        thead { tr {
                            th scope="col" { "Name" } th scope="col" { "Role" } th scope="col" { "RSVP" }
                            th scope="col" { "Told through" } th scope="col" { span.visually-hidden { "Actions" } }
                        } }
                        tbody {
                            @for r in &s.rows {
                                tr {
                                    td data-label="Name" {
                                        (r.name)
                                        @if r.name != r.email { br; span.muted.small { (r.email) } }
                                        @if r.invited { br; span.badge { "Invited" } }
                                    }
                                    td data-label="Role" {
                                        form.inline method="post" action={ (s.base) "/" (r.id) "/role" } {
                                            (csrf_field(&shell.csrf))
                                            label.visually-hidden for={ "role-" (r.id) } { "Role of " (r.name) }
                                            (role_select(&format!("role-{}", r.id), &r.role))
                                            " "
                                            button.button.button-secondary type="submit" { "Save" span.visually-hidden { " role of " (r.name) } }
                                        }
                                    }
                                    td data-label="RSVP" { (r.rsvp) }
                                    td.reach data-label="Told through" {
                                        @if let Some(why) = &r.unreachable {
                                            span.badge.badge-warn { "Not reached" } " " span.small { (why) }
                                        } @else if r.channels.is_empty() {
                                            ul.plain { @for c in &r.reached_through { li { (c) } } }
                                            span.muted.small { "(all their channels: none chosen for this event)" }
                                        } @else {
                                            ul.plain { @for c in &r.channels { li { (c) } } }
                                        }
                                    }
                                    td {
                                        // A page that asks first; it posts the removal.
                                        a.button.button-secondary.button-quiet-danger href={ (s.base) "/" (r.id) "/remove" } {
                                            "Remove" span.visually-hidden { " " (r.name) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if s.open {
                h3 { "Add someone" }
                (add_form(shell, &s.base, "", "attendee", &[]))
                p { a href={ (s.base) "/import" } { "Import participants from a CSV file" } }
            }
        }
    }
}

fn add_form(shell: &Shell, base: &str, email: &str, role: &str, errors: &Errors) -> Markup {
    html! {
        form method="post" action=(base) novalidate {
            (csrf_field(&shell.csrf))
            (field(&Field::new("email", "Email address", "email").value(email).autocomplete("off")
                .help("Members of the organization are added at once; anyone else is invited by email and takes part once they answer.")
                .error(error_for(errors, "email"))))
            div.field {
                label for="f-role" { "Role" }
                (role_select("f-role", role))
                @if let Some(e) = error_for(errors, "role") { p.error-text { (e) } }
            }
            div.actions { button.button type="submit" { "Add participant" } }
        }
    }
}

/// The add-by-email form on a page of its own, shown again with the problems (422).
pub fn add_page(
    shell: &Shell,
    event_name: &str,
    event_href: &str,
    base: &str,
    email: &str,
    role: &str,
    errors: &Errors,
) -> Markup {
    layout(
        &Page::new(&format!("Add a participant · {event_name}")).shell(shell),
        html! {
            p.eyebrow { a href=(event_href) { (event_name) } }
            h1 { "Add a participant" }
            (error_summary(errors))
            div.card { (add_form(shell, base, email, role, errors)) }
        },
    )
}

/// The CSV import form.
pub fn import_page(
    shell: &Shell,
    event_name: &str,
    event_href: &str,
    action: &str,
    error: Option<&str>,
) -> Markup {
    layout(
        &Page::new(&format!("Import participants · {event_name}")).shell(shell),
        html! {
            p.eyebrow { a href=(event_href) { (event_name) } }
            h1 { "Import participants" }
            @if let Some(e) = error {
                div.flash.flash-error role="alert" { p { span.visually-hidden { "Error: " } (e) } }
            }
            div.card {
                p {
                    "A CSV file with one person per line: " code { "email,role,name" } ". Role (organizer, "
                    "speaker, volunteer or attendee; attendee when empty) and name are optional; a first line "
                    "starting with " code { "email" } " is a header and skipped. Up to 5,000 rows and 1 MiB."
                }
                p.muted { "Members of the organization are added; everyone else gets an invitation by email "
                    "and takes part once they answer it. Each row is reported; rows with problems never stop the others." }
                form method="post" action=(action) enctype="multipart/form-data" {
                    (csrf_field(&shell.csrf))
                    div.field {
                        label for="f-file" { "CSV file" }
                        input id="f-file" type="file" name="file" accept=".csv,text/csv,text/plain" required;
                    }
                    div.actions {
                        button.button type="submit" { "Import" }
                        a href=(event_href) { "Cancel" }
                    }
                }
            }
        },
    )
}

/// One row of an import report.
#[derive(Debug, Clone, Default)]
pub struct ImportLine {
    /// Line number in the file.
    pub row: usize,
    /// The address as given.
    pub email: String,
    /// The outcome in words.
    pub outcome: String,
    /// Details (errors).
    pub message: Option<String>,
}

/// Where an import stands.
#[derive(Debug, Clone, Default)]
pub struct ImportView {
    /// This page's address (polled while running).
    pub href: String,
    /// The event's page.
    pub event_href: String,
    /// The event's name.
    pub event_name: String,
    /// Rows in the file.
    pub total: i64,
    /// Rows processed.
    pub done: i64,
    /// Still running (the page refreshes itself).
    pub running: bool,
    /// Stopped without finishing (Herald restarted).
    pub interrupted: bool,
    /// "580 added · 15 invited · 5 errors", at the end.
    pub summary: String,
    /// The report, at the end.
    pub rows: Vec<ImportLine>,
}

/// The progress of an import and, at the end, its report. htmx replaces it every second
/// while it runs; without JavaScript, a link reloads it.
pub fn import_progress(v: &ImportView) -> Markup {
    let percent = if v.total > 0 { v.done * 100 / v.total } else { 100 };
    html! {
        div #import-progress hx-get=[v.running.then_some(&v.href)] hx-trigger=[v.running.then_some("every 1s")]
            hx-swap=[v.running.then_some("outerHTML")] {
            div.field {
                label for="import-bar" { "Rows processed" }
                progress #import-bar max=(v.total) value=(v.done) { (percent) "%" }
                p role="status" aria-live="polite" {
                    (v.done) " of " (v.total) " rows (" (percent) "%)"
                    @if v.running { " — importing…" } @else if v.interrupted { " — interrupted" } @else { " — done" }
                }
            }
            @if v.running {
                p.muted { "This page updates by itself. " a href=(v.href) { "Reload" } }
            }
            @if v.interrupted {
                div.flash.flash-warning role="alert" { p {
                    "The import stopped before the end (Herald restarted). Import the file again: people already "
                    "added are reported as already participants and not added twice."
                } }
            }
            @if !v.running && !v.interrupted {
                p { strong { (v.summary) } }
                div.table-wrap {
                    table {
                        caption.visually-hidden { "Import report, one line per row of the file" }
                        thead { tr { th scope="col" { "Row" } th scope="col" { "Email" } th scope="col" { "Outcome" } } }
                        tbody {
                            @for r in &v.rows {
                                tr {
                                    td { (r.row) }
                                    td { (r.email) }
                                    td { (r.outcome) @if let Some(m) = &r.message { ": " (m) } }
                                }
                            }
                        }
                    }
                }
                p { a.button href=(v.event_href) { "Back to the event" } }
            }
        }
    }
}

/// The import progress page.
pub fn import_page_progress(shell: &Shell, v: &ImportView) -> Markup {
    layout(
        &Page::new(&format!("Importing participants · {}", v.event_name)).shell(shell),
        html! {
            p.eyebrow { a href=(v.event_href) { (v.event_name) } }
            h1 { "Importing participants" }
            div.card { (import_progress(v)) }
        },
    )
}

// --- The public page's RSVP card ---

/// One of the visitor's active channels in the RSVP form.
#[derive(Debug, Clone, Default)]
pub struct ChannelOption {
    /// Integration id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Chosen for this event.
    pub checked: bool,
    /// Tags for this event, comma-separated (empty: every URL).
    pub tags: String,
}

/// The visitor's current participation.
#[derive(Debug, Clone, Default)]
pub struct CurrentAnswer {
    /// The answer value (`going`…, or `pending`).
    pub rsvp: String,
    /// The answer in words.
    pub rsvp_label: String,
    /// Their role in words.
    pub role: String,
    /// Their channels in words.
    pub channels: Vec<String>,
}

/// What the RSVP card shows.
#[derive(Debug, Clone, Default)]
pub struct RsvpView {
    /// Anonymous: the sign-in link (with the way back).
    pub sign_in_href: Option<String>,
    /// Signed in but not verified.
    pub verify_first: bool,
    /// Why no answer can be given now (cancelled, ended).
    pub closed: Option<String>,
    /// Where the answer goes.
    pub action: String,
    /// Where leaving goes.
    pub leave_action: String,
    /// The visitor's participation, if any.
    pub current: Option<CurrentAnswer>,
    /// The visitor's active channels.
    pub channels: Vec<ChannelOption>,
    /// Invited, not answered yet: the role they were invited as.
    pub invited_as: Option<String>,
    /// Anonymous visitors may answer without an account: where that form goes.
    pub guest_action: Option<String>,
    /// What will happen: when and through what they will be reminded (signed-in visitors).
    pub reminder: Option<crate::events::ReminderNote>,
    /// Where adding a channel starts, with the way back to this event.
    pub add_channel: String,
    /// The outcome of the answer just given (when htmx swaps the card in place).
    pub message: Option<(crate::FlashKind, String)>,
}

/// The RSVP card of `/o/{org}/e/{event}`: one tap on Going, Maybe or Can't go answers (htmx
/// swaps the card in place; without JavaScript the form posts and the page comes back).
pub fn rsvp_section(shell: &Shell, v: &RsvpView) -> Markup {
    let current = v.current.as_ref().map_or("", |c| c.rsvp.as_str());
    html! {
        section.card #rsvp aria-labelledby="rsvp-heading" {
            h2 #rsvp-heading { "Your answer" }
            @if let Some((kind, message)) = &v.message {
                (crate::components::flash(*kind, message))
            }
            @if let Some(action) = &v.guest_action {
                form.guest-answer method="post" action=(action) {
                    (csrf_field(&shell.csrf))
                    fieldset {
                        legend { "Are you going?" }
                        @for (value, label) in ANSWERS {
                            div.field { label {
                                input type="radio" name="rsvp" value=(value) required checked[*value == "going"];
                                " " (label)
                            } }
                        }
                    }
                    div.field {
                        label for="f-guest-name" { "Your name" }
                        input #f-guest-name type="text" name="name" autocomplete="name" maxlength="100" required;
                    }
                    div.field {
                        label for="f-guest-email" { "Your email address" }
                        p.help #f-guest-email-help { "We email you a link to confirm your answer; Herald then emails you the reminders. No password needed." }
                        input #f-guest-email type="email" name="email" autocomplete="email" required aria-describedby="f-guest-email-help";
                    }
                    div.actions { button.button type="submit" { "Send my answer" } }
                }
            }
            @if let Some(href) = &v.sign_in_href {
                @if v.guest_action.is_some() {
                    p.muted.small { "Have an account? Sign in to answer with your own channels." }
                    p { a.button.button-secondary href=(href) { "Sign in to RSVP" } }
                } @else {
                    p { a.button href=(href) { "Sign in to RSVP" } }
                    p.muted.small { "No account yet? You can create one from the sign-in page." }
                }
            }
            @if let Some(role) = &v.invited_as {
                p #rsvp-invited { "You are invited to this event as " (role) ". Answer below to take part; "
                    "nothing is sent to you about it until you do." }
            }
            @if let Some(note) = &v.reminder {
                (crate::events::reminder_note(note, &v.add_channel))
            }
            @if v.verify_first {
                p { "Verify your email address to answer: open the link we mailed you, or send it again from "
                    a href="/account" { "your account" } "." }
            }
            @if let Some(why) = &v.closed {
                p.muted { (why) }
                @if let Some(c) = &v.current {
                    p { "Your answer: " strong #rsvp-current { (answer_words(&c.rsvp)) } }
                }
            }
            @if v.sign_in_href.is_none() && !v.verify_first && v.closed.is_none() {
                form.rsvp-form method="post" action=(v.action) hx-post=(v.action) hx-target="#rsvp" hx-swap="outerHTML" {
                    (csrf_field(&shell.csrf))
                    p #rsvp-question {
                        @if let Some(c) = &v.current {
                            "Your answer: " strong #rsvp-current { (answer_words(&c.rsvp)) } ". "
                            span.muted { "Tap another to change it." }
                        } @else {
                            "Are you going? One tap answers."
                        }
                    }
                    div.rsvp-buttons role="group" aria-labelledby="rsvp-question" {
                        @for (value, label) in ANSWERS {
                            button.button.rsvp-choice type="submit" name="rsvp" value=(value)
                                aria-pressed=(if *value == current { "true" } else { "false" }) { (label) }
                        }
                    }
                    details.rsvp-channels {
                        summary { "Choose how you're told" }
                        input type="hidden" name="channels_shown" value="1";
                        fieldset {
                            legend { "Reminders for this event go to" }
                            @if v.channels.is_empty() {
                                p.muted { "You have no active notification channel yet. "
                                    a href=(v.add_channel) { "Add one" } " to get reminders." }
                            }
                            @for c in &v.channels {
                                div.field {
                                    label { input type="checkbox" name="channel" value=(c.id) checked[c.checked]; " " (c.name) }
                                    label.small for={ "tags-" (c.id) } { "Tags for " (c.name) " (empty: every address of the channel)" }
                                    input id={ "tags-" (c.id) } type="text" name={ "tags_" (c.id) } value=(c.tags) autocomplete="off";
                                }
                            }
                            @if !v.channels.is_empty() {
                                p.small { a href=(v.add_channel) { "Add another channel" } }
                            }
                        }
                        p.muted.small { "Your choice is saved with your next answer." }
                        div.actions { button.button.button-secondary type="submit" name="rsvp" value=(if current.is_empty() || current == "pending" { "going" } else { current }) {
                            @if v.current.is_some() { "Save my answer and channels" } @else { "Going, with these channels" }
                        } }
                    }
                }
            }
            @if let Some(c) = &v.current {
                dl.facts {
                    dt { "Role" } dd { (c.role) }
                    dt { "Reminders through" } dd {
                        @if c.channels.is_empty() { "All your confirmed channels (none chosen for this event)" } @else { (c.channels.join(", ")) }
                    }
                }
                form method="post" action=(v.leave_action) {
                    (csrf_field(&shell.csrf))
                    button.button.button-secondary type="submit" { "Leave this event" }
                }
            }
        }
    }
}

// --- Calendar feed (account) ---

/// The user's feed, as the account page shows it (never the token: it is shown once).
#[derive(Debug, Clone, Default)]
pub struct FeedView {
    /// When the current address was made.
    pub created: String,
    /// When a calendar last read it.
    pub last_used: Option<String>,
}

/// `/account/calendar`: the private feed of joined events; `new_url` right after creating one.
pub fn calendar_page(shell: &Shell, feed: Option<&FeedView>, new_url: Option<&str>) -> Markup {
    layout(
        &Page::new("Calendar feed").shell(shell),
        html! {
            (section_nav(Section::Calendar))
            h1 { "Calendar feed" }
            section.card aria-labelledby="feed-heading" {
                h2 #feed-heading { "Your events in your calendar" }
                p { "A private address for your calendar app (Google Calendar, Apple Calendar, Thunderbird…) "
                    "with every event you joined. Anyone who knows the address can read it: keep it to yourself, "
                    "and make a new one if it leaks (the old one stops working)." }
                @if let Some(url) = new_url {
                    div.flash.flash-success role="status" {
                        p { "Here is your feed address. Copy it now: it is shown only once." }
                    }
                    div.field {
                        label for="feed-url" { "Feed address" }
                        input #feed-url type="text" readonly value=(url);
                    }
                }
                @match feed {
                    Some(f) => {
                        p { "Your current address was made " (f.created) "."
                            @if let Some(u) = &f.last_used { " A calendar last read it " (u) "." } }
                        div.actions {
                            form.inline method="post" action="/account/calendar" {
                                (csrf_field(&shell.csrf))
                                button.button type="submit" { "Make a new address" }
                            }
                            form.inline method="post" action="/account/calendar/revoke" {
                                (csrf_field(&shell.csrf))
                                button.button.button-danger type="submit" { "Turn the feed off" }
                            }
                        }
                    }
                    None => {
                        p.muted { "You have no feed address." }
                        form method="post" action="/account/calendar" {
                            (csrf_field(&shell.csrf))
                            button.button type="submit" { "Make a feed address" }
                        }
                    }
                }
            }
        },
    )
}

// --- Opting out of an event's messages ---

/// The page an opt-out link opens: what it is about and one button (stop, or start again).
/// What the page behind a message's link shows.
#[derive(Debug, Clone)]
pub struct OptOutView<'a> {
    /// The event's name.
    pub event_name: &'a str,
    /// Whether the event's messages to this person are stopped.
    pub stopped: bool,
    /// What was just done, if anything.
    pub done: Option<&'a str>,
    /// The link's own path (`/optout/{token}`).
    pub action: &'a str,
    /// The person's current answer (`going`, `maybe`, `declined`, `pending`) while the event
    /// takes answers; `None` once it is over or cancelled.
    pub answer: Option<&'a str>,
}

/// `/optout/{token}`: the page every message links to. It stops or restarts that event's
/// messages and changes the person's answer, with the link as the only key (guests have no
/// account).
pub fn opt_out(shell: &Shell, v: &OptOutView<'_>) -> Markup {
    let (event_name, action) = (v.event_name, v.action);
    let title = if v.stopped {
        format!("No more messages about {event_name}")
    } else {
        format!("Messages about {event_name}")
    };
    layout(
        &Page::new(&title).shell(shell),
        html! {
            section.narrow.card aria-labelledby="optout-heading" {
                @if let Some(done) = v.done {
                    (crate::components::flash(crate::components::FlashKind::Success, done))
                }
                h1 #optout-heading { (title) }
                @if let Some(current) = v.answer {
                    h2 { "Your answer" }
                    p #answer-current { (answer_words(current)) }
                    form method="post" action={ (action) "/answer" } {
                        div.rsvp-buttons {
                            @for (value, label) in ANSWERS {
                                button.button.rsvp-choice type="submit" name="rsvp" value=(value)
                                    aria-pressed=(if *value == current { "true" } else { "false" }) { (label) }
                            }
                        }
                    }
                    h2 { "Messages" }
                }
                @if v.stopped {
                    p { "Herald sends you nothing more about " strong { (event_name) } ", on any channel. "
                        "Your other events are not affected." }
                    form method="post" action={ (action) "/resume" } {
                        div.actions { button.button.button-secondary type="submit" { "Start them again" } }
                    }
                } @else {
                    p { "You get reminders and changes about " strong { (event_name) } " from Herald. "
                        "Stop them? Your other events are not affected, and you can start them again here." }
                    form method="post" action=(action) {
                        div.actions { button.button type="submit" { "Stop messages about this event" } }
                    }
                }
                p.small { a href="/integrations" { "Your notification settings" } }
            }
        },
    )
}

/// What the digest's own unsubscribe link shows.
#[derive(Debug, Clone, Copy)]
pub struct DigestOffView<'a> {
    /// The person's digest time (`HH:MM`, their clock), `None` when it is off.
    pub digest_at: Option<&'a str>,
    /// What was just done, if anything.
    pub done: Option<&'a str>,
    /// The link's own path (`/digest-off/{token}`).
    pub action: &'a str,
}

/// `/digest-off/{token}`: the page a daily digest's unsubscribe link opens. One button turns
/// the digest off (mail clients post the same link, RFC 8058); nothing else is stopped.
pub fn digest_off(shell: &Shell, v: &DigestOffView<'_>) -> Markup {
    let title = if v.digest_at.is_some() { "Your daily digest" } else { "Your daily digest is off" };
    layout(
        &Page::new(title).shell(shell),
        html! {
            section.narrow.card aria-labelledby="digest-off-heading" {
                @if let Some(done) = v.done {
                    (crate::components::flash(crate::components::FlashKind::Success, done))
                }
                h1 #digest-off-heading { (title) }
                @if let Some(at) = v.digest_at {
                    p { "Herald gathers your notices that can wait into one message a day, at " strong { (at) } ". "
                        "Turn the digest off? Each notice then comes on its own when it is due; "
                        "your events and your quiet hours are not affected." }
                    form method="post" action=(v.action) {
                        div.actions { button.button type="submit" { "Turn off my daily digest" } }
                    }
                } @else {
                    p { "Notices come on their own when they are due, not gathered in a digest. "
                        "Your events and your quiet hours are not affected." }
                }
                p.small { a href="/account" { "Your digest and quiet hours" } }
            }
        },
    )
}
