//! Organizer pages for events: the list with filters, the create/edit form, and the detail page
//! with the change history.

use maud::{Markup, PreEscaped, html};

use crate::components::empty_state;
use crate::forms::{Errors, Field, error_for, error_summary, field};
use crate::layout::{Page, Shell, csrf_field, layout};

/// An event in the organizer's list.
#[derive(Debug, Clone)]
pub struct EventRow {
    /// Event id.
    pub id: String,
    /// Name.
    pub name: String,
    /// When, in words (the viewer's zone).
    pub when: String,
    /// draft, published or cancelled.
    pub status: String,
    /// public, unlisted or private.
    pub visibility: String,
}

/// The list filters: (value, label).
pub const FILTERS: &[(&str, &str)] = &[
    ("upcoming", "Upcoming"),
    ("past", "Started and past"),
    ("drafts", "Drafts"),
    ("cancelled", "Cancelled"),
];

/// `/orgs/{slug}/events`: the organization's first tab. `counts` follows [`FILTERS`].
pub fn list(
    shell: &Shell,
    org: &crate::orgs::OrgHeader,
    filter: &str,
    counts: &[usize],
    rows: &[EventRow],
    can_manage: bool,
) -> Markup {
    let base = format!("/orgs/{}/events", org.slug);
    let new_href = format!("{base}/new");
    let label = FILTERS.iter().find(|(v, _)| *v == filter).map_or("Upcoming", |(_, l)| *l);
    let body = html! {
        div.toolbar {
            nav aria-label="Filter events" {
                ul.segmented {
                    @for ((value, text), n) in FILTERS.iter().zip(counts.iter().chain(std::iter::repeat(&0))) {
                        li {
                            a href={ (base) "?filter=" (value) } aria-current=[(*value == filter).then_some("page")] {
                                (text) " " span.count { (n) }
                            }
                        }
                    }
                }
            }
            @if can_manage {
                a.button href=(new_href) { "New event" }
            }
        }
        h2.visually-hidden { (label) }
        @if rows.is_empty() {
            (empty_state(&format!("No {} events", label.to_lowercase()), "Nothing to show here yet.",
                can_manage.then_some((new_href.as_str(), "Create an event"))))
        } @else {
            div.table-wrap {
                table.stack {
                    thead { tr { th scope="col" { "Event" } th scope="col" { "When" } th scope="col" { "Status" } th scope="col" { "Visibility" } } }
                    tbody {
                        @for r in rows {
                            tr {
                                td data-label="Event" { a href={ (base) "/" (r.id) } { (r.name) } }
                                td data-label="When" { (r.when) }
                                td data-label="Status" { span.badge.badge-draft[r.status == "draft"] { (r.status) } }
                                td data-label="Visibility" { (r.visibility) }
                            }
                        }
                    }
                }
            }
        }
    };
    layout(
        &Page::new(&format!("Events · {}", org.name)).shell(shell),
        crate::orgs::org_frame(org, crate::orgs::OrgTab::Events, body),
    )
}

/// The values of the event form.
#[derive(Debug, Clone, Default)]
pub struct EventFormView {
    /// Name.
    pub name: String,
    /// Markdown.
    pub description: String,
    /// Local start `YYYY-MM-DDTHH:MM`.
    pub start: String,
    /// Local end.
    pub end: String,
    /// IANA zone.
    pub timezone: String,
    /// Where.
    pub location: String,
    /// Online link.
    pub online_url: String,
    /// public, unlisted or private.
    pub visibility: String,
    /// The presets: (form name, label, checked).
    pub presets: Vec<(String, String, bool)>,
    /// Custom offsets as text.
    pub custom_reminders: String,
    /// Reminders of a role's own as text: (form name, label, text); an empty text gives the
    /// role the reminders above.
    pub role_reminders: Vec<(String, String, String)>,
    /// How long after the end the thank-you goes, as text (empty: none).
    pub follow_up_after: String,
    /// The thank-you's feedback link.
    pub follow_up_link: String,
    /// Notice checkboxes.
    pub notify_reminders: bool,
    /// Changes notice.
    pub notify_changes: bool,
    /// Cancellation notice.
    pub notify_cancellation: bool,
    /// draft or published.
    pub status: String,
    /// Whether "draft" may still be chosen.
    pub may_be_draft: bool,
    /// Every time zone name, for the searchable list.
    pub zones: &'static [&'static str],
}

/// The create or edit form.
pub fn form(
    shell: &Shell,
    org_slug: &str,
    title: &str,
    action: &str,
    v: &EventFormView,
    errors: &Errors,
    ambiguous_help: &str,
) -> Markup {
    let check = |name: &'static str, label: &'static str, on: bool| {
        html! { div.field { label { input type="checkbox" name=(name) value="on" checked[on]; " " (label) } } }
    };
    html! {
        (layout(&Page::new(title).shell(shell), html! {
            p.eyebrow { a href={ "/orgs/" (org_slug) "/events" } { "Events" } }
            h1 { (title) }
            (error_summary(errors))
            form.card method="post" action=(action) novalidate {
                (csrf_field(&shell.csrf))
                (field(&Field::new("name", "Name", "text").value(&v.name).error(error_for(errors, "name"))))
                div.field {
                    label for="f-description" { "Description" }
                    p.help id="f-description-help" { "Markdown: **bold**, _italic_, [links](https://…), lists. HTML is shown as text." }
                    textarea id="f-description" name="description" rows="6" aria-describedby="f-description-help"
                        aria-invalid=[error_for(errors, "description").map(|_| "true")] { (v.description) }
                    @if let Some(e) = error_for(errors, "description") { p.error-text { (e) } }
                }
                fieldset {
                    legend { "When" }
                    p.help { "Local date and time in the event's time zone. " (ambiguous_help) }
                    (field(&Field::new("start", "Starts", "datetime-local").value(&v.start).error(error_for(errors, "start"))))
                    (field(&Field::new("end", "Ends", "datetime-local").value(&v.end).optional().help("Left empty: one hour after the start.").error(error_for(errors, "end"))))
                    (field(&Field::new("timezone", "Time zone", "text").value(&v.timezone).list("time-zones").autocomplete("off")
                        .help("Type to search, like Paris or New_York.").error(error_for(errors, "timezone"))))
                    datalist #time-zones { @for z in v.zones { option value=(z) {} } }
                }
                fieldset {
                    legend { "Where" }
                    (field(&Field::new("location", "Location", "text").value(&v.location).optional().error(error_for(errors, "location"))))
                    (field(&Field::new("online_url", "Online link", "url").value(&v.online_url).optional().help("https://…").error(error_for(errors, "online_url"))))
                }
                div.field {
                    label for="f-visibility" { "Visibility" }
                    select id="f-visibility" name="visibility" aria-invalid=[error_for(errors, "visibility").map(|_| "true")] {
                        @for (value, text) in [("public", "Public: listed on the organization's page"), ("unlisted", "Unlisted: anyone with the link"), ("private", "Private: members and participants only")] {
                            option value=(value) selected[v.visibility == value] { (text) }
                        }
                    }
                    @if let Some(e) = error_for(errors, "visibility") { p.error-text { (e) } }
                }
                fieldset {
                    legend { "Reminders" }
                    @for (name, label, on) in &v.presets {
                        div.field { label { input type="checkbox" name=(name) value="on" checked[*on]; " " (label) } }
                    }
                    (field(&Field::new("custom_reminders", "Other reminders", "text").value(&v.custom_reminders).optional()
                        .help("Before the start, separated by commas: 30m, 2h, 3d. At most 10 reminders, up to one year.")
                        .error(error_for(errors, "custom_reminders"))))
                    @let own = v.role_reminders.iter().any(|(name, _, text)| !text.is_empty() || error_for(errors, name).is_some());
                    details #role-reminders open[own] {
                        summary { "Different times for speakers, volunteers…" }
                        p.help { "A role left empty gets the reminders above. Write none for no reminders." }
                        @for (name, label, text) in &v.role_reminders {
                            (field(&Field::new(name, label, "text").value(text).optional()
                                .help("Before the start, like 3d, 1d or 2h.")
                                .error(error_for(errors, name))))
                        }
                    }
                }
                fieldset {
                    legend { "After the event" }
                    (field(&Field::new("follow_up_after", "Thank-you message", "text").value(&v.follow_up_after).optional()
                        .help("How long after the end to thank those who were going, like 2h or 1d. Leave empty to send none.")
                        .error(error_for(errors, "follow_up_after"))))
                    (field(&Field::new("follow_up_link", "Feedback link", "url").value(&v.follow_up_link).optional()
                        .help("Added to the thank-you; a web address starting with https://.")
                        .error(error_for(errors, "follow_up_link"))))
                }
                fieldset {
                    legend { "Participants are told about" }
                    (check("notify_reminders", "Reminders", v.notify_reminders))
                    (check("notify_changes", "Changes of time, place or link", v.notify_changes))
                    (check("notify_cancellation", "Cancellation", v.notify_cancellation))
                }
                @if let Some(e) = error_for(errors, "status") { p.error-text { (e) } }
                div.actions {
                    @if v.may_be_draft {
                        button.button type="submit" name="status" value="published" { "Publish" }
                        button.button.button-secondary type="submit" name="status" value="draft" { "Save as draft" }
                    } @else {
                        input type="hidden" name="status" value=(v.status);
                        button.button type="submit" { "Save changes" }
                    }
                    a href={ "/orgs/" (org_slug) "/events" } { "Cancel" }
                }
            }
        }))
    }
}

/// A row of the change history.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    /// When, in words.
    pub when: String,
    /// What kind of change.
    pub kind: String,
    /// Each change as "what: old → new".
    pub lines: Vec<String>,
}

/// What the detail page shows.
#[derive(Debug, Clone, Default)]
pub struct EventDetail {
    /// Event id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Status.
    pub status: String,
    /// Visibility.
    pub visibility: String,
    /// When, in the viewer's zone.
    pub when_viewer: String,
    /// When, in the event's zone (if different).
    pub when_event: Option<String>,
    /// Where.
    pub location: Option<String>,
    /// Online link.
    pub online_url: Option<String>,
    /// The description as safe HTML.
    pub description_html: String,
    /// Reminders in words.
    pub reminders: Vec<String>,
    /// Notices in words.
    pub notices: String,
    /// Change history, newest first.
    pub history: Vec<HistoryRow>,
    /// Saved but not yet synced with the scheduler.
    pub pending: Option<String>,
    /// The viewer manages events.
    pub can_manage: bool,
    /// It may be deleted.
    pub can_delete: bool,
    /// It may be edited or cancelled.
    pub editable: bool,
    /// Where the scheduled notices and the delivery ledger load from (organizers only).
    pub deliveries_url: Option<String>,
    /// Where the participant and delivery exports download from (`…/export`), organizers only.
    pub export_base: Option<String>,
    /// The participants, for those who manage events.
    pub participants: Option<crate::participants::ParticipantsSection>,
    /// Whether visitors may answer without an account; `None` for a private event (never).
    pub guests: Option<bool>,
    /// Whether the public page says how many are going and maybe.
    pub show_attendee_count: bool,
    /// Whether the event has a cover image.
    pub has_cover: bool,
    /// Where the cover image shows (its public address); `None` without one, or for a draft.
    pub cover_src: Option<String>,
    /// The page participants see and answer on; `None` for a draft (nobody sees it yet).
    pub public_href: Option<String>,
    /// Where to write to the participants (organizers of a published event that is not over).
    pub announce_href: Option<String>,
    /// The event's announcements, latest first (organizers only).
    pub announcements: Vec<crate::announcements::AnnouncementRow>,
    /// The same page as an absolute URL, to share.
    pub share_url: Option<String>,
}

/// `/orgs/{slug}/events/{id}`.
pub fn detail(shell: &Shell, org_slug: &str, d: &EventDetail) -> Markup {
    let base = format!("/orgs/{org_slug}/events/{}", d.id);
    html! {
        (layout(&Page::new(&d.name).shell(shell), html! {
            p.eyebrow { a href={ "/orgs/" (org_slug) "/events" } { "Events" } }
            h1 { (d.name) }
            @if let Some(p) = &d.pending {
                div.flash.flash-warning role="status" { div.flash-body { p { (p) } } }
            }
            @if let (Some(href), Some(url)) = (&d.public_href, &d.share_url) {
                section.card.share aria-labelledby="share-heading" {
                    h2 #share-heading { "Share" }
                    p.muted { "People answer, choose how they are reminded and add the event to their calendar on its page." }
                    div.share-row {
                        label.visually-hidden for="share-url" { "Link to the event's page" }
                        input #share-url type="url" readonly value=(url);
                        button.button type="button" data-copy="#share-url" { "Copy link" }
                        a.button.button-secondary href=(href) { "View public page" }
                    }
                    p.small.muted.copy-status role="status" aria-live="polite" {}
                }
            } @else if d.can_manage && d.status == "draft" {
                section.card.share aria-labelledby="publish-heading" {
                    h2 #publish-heading { "This is a draft" }
                    p.muted { "Nobody sees it and no reminder goes out until you publish it." }
                    form.inline method="post" action={ (base) "/publish" } {
                        (csrf_field(&shell.csrf))
                        button.button type="submit" { "Publish" }
                    }
                }
            }
            section.card aria-labelledby="about-heading" {
                h2 #about-heading { "About" }
                dl.facts {
                    dt { "Status" } dd { span.badge { (d.status) } }
                    dt { "Visibility" } dd { (d.visibility) }
                    dt { "When" } dd { (d.when_viewer) @if let Some(w) = &d.when_event { br; span.muted { "Event time: " (w) } } }
                    @if let Some(l) = &d.location { dt { "Where" } dd { (l) } }
                    @if let Some(u) = &d.online_url { dt { "Online" } dd { a href=(u) rel="noopener noreferrer" { (u) } } }
                    dt { "Reminders" } dd { @if d.reminders.is_empty() { "None" } @else { (d.reminders.join(", ")) } }
                    dt { "Participants are told about" } dd { (d.notices) }
                    @if let Some(on) = d.guests {
                        dt { "Answers without an account" } dd { @if on { "Allowed (name and a confirmed email address)" } @else { "Not allowed" } }
                    }
                    dt { "Attendee count" } dd { @if d.show_attendee_count { "Shown on the public page (how many, never who)" } @else { "Not shown" } }
                }
                @if !d.description_html.is_empty() { div.description { (PreEscaped(&d.description_html)) } }
            }
            @if d.can_manage {
                section.card aria-labelledby="actions-heading" {
                    h2 #actions-heading { "Actions" }
                    div.actions {
                        @if d.editable { a.button href={ (base) "/edit" } { "Edit" } }
                        @if let Some(href) = &d.announce_href { a.button href=(href) { "Write to participants" } }
                        form.inline method="post" action={ (base) "/duplicate" } {
                            (csrf_field(&shell.csrf))
                            button.button.button-secondary type="submit" { "Duplicate" }
                        }
                        @if let Some(on) = d.guests {
                            form.inline method="post" action={ (base) "/guests" } {
                                (csrf_field(&shell.csrf))
                                input type="hidden" name="guests" value=(if on { "off" } else { "on" });
                                button.button.button-secondary type="submit" {
                                    @if on { "Require an account to answer" } @else { "Allow answers without an account" }
                                }
                            }
                        }
                        form.inline method="post" action={ (base) "/attendee-count" } {
                            (csrf_field(&shell.csrf))
                            input type="hidden" name="show_attendee_count" value=(if d.show_attendee_count { "off" } else { "on" });
                            button.button.button-secondary type="submit" {
                                @if d.show_attendee_count { "Hide how many are going" } @else { "Show how many are going" }
                            }
                        }
                        @if d.editable { a.button.button-secondary.button-quiet-danger href={ (base) "/cancel" } { "Cancel event…" } }
                        @if d.can_delete { a.button.button-secondary.button-quiet-danger href={ (base) "/delete" } { "Delete…" } }
                    }
                }
            }
            @if d.can_manage { (cover_card(shell, &base, d)) }
            @if let Some(url) = &d.deliveries_url {
                div #deliveries hx-get=(url) hx-trigger="load" hx-swap="outerHTML" aria-live="polite" {
                    p.muted { "Loading scheduled notices and deliveries… " a href=(url) { "Show them" } }
                }
            }
            @if d.announce_href.is_some() || !d.announcements.is_empty() {
                section.card aria-labelledby="announcements-heading" {
                    h2 #announcements-heading { "Announcements" }
                    (crate::announcements::list(shell, &d.announcements))
                }
            }
            @if let Some(p) = &d.participants { (crate::participants::section(shell, p)) }
            @if let Some(export) = &d.export_base {
                section.card aria-labelledby="export-heading" {
                    h2 #export-heading { "Export" }
                    p {
                        "Download the participants (name, address, role, answer, how notices reach them) "
                        "or the delivery ledger (what was sent to whom, through which channel, and how it "
                        "went). Channel addresses and keys are never included."
                    }
                    ul.export-links {
                        li {
                            "Participants: "
                            a href={ (export) "/participants.csv" } download { "CSV" } " · "
                            a href={ (export) "/participants.json" } download { "JSON" }
                        }
                        li {
                            "Deliveries: "
                            a href={ (export) "/deliveries.csv" } download { "CSV" } " · "
                            a href={ (export) "/deliveries.json" } download { "JSON" }
                        }
                    }
                }
            }
            section.card aria-labelledby="history-heading" {
                h2 #history-heading { "Change history" }
                @if d.history.is_empty() {
                    p.muted { "No changes recorded yet." }
                } @else {
                    ol.history {
                        @for h in &d.history {
                            li {
                                strong { (h.kind) } " · " span.muted { (h.when) }
                                @if !h.lines.is_empty() { ul { @for l in &h.lines { li { (l) } } } }
                            }
                        }
                    }
                }
            }
        }))
    }
}

/// The organizer's "Cover image" card: the current image (if the public page shows it), the
/// upload form (the CSRF field first, as the CSRF check reads it before any file) and removal.
fn cover_card(shell: &Shell, base: &str, d: &EventDetail) -> Markup {
    html! {
        section.card.cover-admin aria-labelledby="cover-heading" {
            h2 #cover-heading { "Cover image" }
            @if let Some(src) = &d.cover_src {
                img.cover-preview src=(src) alt="The event's current cover image";
            } @else if d.has_cover {
                p.muted { "A cover image is set. It shows on the event's page once the event is published." }
            } @else {
                p.muted { "Optional. It shows at the top of the event's page and in link previews." }
            }
            form method="post" action={ (base) "/cover" } enctype="multipart/form-data" {
                (csrf_field(&shell.csrf))
                div.field {
                    label for="f-cover" { @if d.has_cover { "Replace it with" } @else { "Image" } }
                    p.help #f-cover-help { "PNG, JPEG or WebP, at most 2 MB. A wide picture (about 1600 × 900) looks best." }
                    input #f-cover type="file" name="cover" accept="image/png,image/jpeg,image/webp" required
                        aria-describedby="f-cover-help";
                }
                div.actions { button.button type="submit" { "Upload" } }
            }
            @if d.has_cover {
                form.inline method="post" action={ (base) "/cover/delete" } {
                    (csrf_field(&shell.csrf))
                    button.button.button-secondary.button-quiet-danger type="submit" { "Remove the cover image" }
                }
            }
        }
    }
}

/// An upcoming event on an organization's public page.
#[derive(Debug, Clone)]
pub struct PublicRow {
    /// Link to its page.
    pub href: String,
    /// Name.
    pub name: String,
    /// When, in the viewer's zone.
    pub when: String,
    /// The start as an RFC 3339 instant, for `<time datetime>`.
    pub datetime: String,
    /// Where ("Online" for an online-only event); `None` when not said.
    pub place: Option<String>,
}

/// The organization an organization's public page is about.
#[derive(Debug, Clone, Default)]
pub struct PublicOrg {
    /// Name.
    pub name: String,
    /// Plain text, possibly empty.
    pub description: String,
    /// The calendar feed's path (`/o/{org}/events.ics`).
    pub feed_href: String,
    /// The same, as an absolute URL (to paste into a web calendar).
    pub feed_url: String,
    /// The same as `webcal://`, which calendar apps open as a subscription.
    pub webcal_href: String,
}

/// `/o/{org}`: an organization's description, its upcoming public events as cards, and the
/// subscription to its calendar feed.
pub fn public_org(shell: &Shell, org: &PublicOrg, rows: &[PublicRow]) -> Markup {
    let fallback = format!("Upcoming events of {}", org.name);
    let description: String = if org.description.is_empty() {
        fallback
    } else {
        org.description.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(300).collect()
    };
    layout(
        &Page::new(&org.name).shell(shell).with_description(&description),
        html! {
            p.eyebrow { "Events by" }
            h1 { (org.name) }
            @if !org.description.is_empty() { p.org-description { (org.description) } }
            section.card.subscribe aria-labelledby="subscribe-heading" {
                h2 #subscribe-heading { "Subscribe" }
                p { "Get " (org.name) "'s public events in your calendar; it updates by itself when events are added or changed." }
                div.actions {
                    a.button href=(org.webcal_href) { "Subscribe" span.visually-hidden { " to " (org.name) "'s events in your calendar app" } }
                    a.button.button-secondary href=(org.feed_href) { "Download the calendar (.ics)" }
                }
                p.small.muted {
                    "In Google Calendar or another web calendar, choose “From URL” and paste: "
                    code.feed-url { (org.feed_url) }
                }
            }
            h2 { "Upcoming events" }
            @if rows.is_empty() {
                (empty_state("No upcoming events", "Nothing is planned right now; come back later.", None))
            } @else {
                ul.event-cards {
                    @for r in rows {
                        li.event-card {
                            h3 { a href=(r.href) { (r.name) } }
                            p.event-card-when { time datetime=(r.datetime) { (r.when) } }
                            @if let Some(p) = &r.place { p.muted.event-card-place { (p) } }
                        }
                    }
                }
            }
        },
    )
}

/// What the public event page shows.
#[derive(Debug, Clone, Default)]
pub struct PublicEvent {
    /// Organization name.
    pub org_name: String,
    /// Link to the organization's public page.
    pub org_href: String,
    /// Name.
    pub name: String,
    /// When, in the viewer's zone (their own, or the event's for anonymous visitors).
    pub when_viewer: String,
    /// When, in the event's zone, if different.
    pub when_event: Option<String>,
    /// Where.
    pub location: Option<String>,
    /// An OpenStreetMap search for the place, for directions.
    pub directions_href: Option<String>,
    /// Online link.
    pub online_url: Option<String>,
    /// "12 going · 3 maybe", when the organizer shows it.
    pub attendees: Option<String>,
    /// The cover image's address on this site, if the event has one.
    pub cover_src: Option<String>,
    /// The cover image's absolute URL, for link previews.
    pub og_image: Option<String>,
    /// Safe HTML description.
    pub description_html: String,
    /// Plain-text summary for link previews.
    pub summary: String,
    /// Absolute URL of the page.
    pub url: String,
    /// The `.ics` link.
    pub ics_href: String,
    /// "Add to Google Calendar".
    pub google_href: String,
    /// "Add to Outlook".
    pub outlook_href: String,
    /// Cancelled.
    pub cancelled: bool,
    /// The visitor's answer, what reminders they will get, and the answer buttons.
    pub rsvp: Option<crate::participants::RsvpView>,
    /// What Herald sent the signed-in participant about this event (nothing for others).
    pub sent: Option<Vec<SentToYou>>,
}

/// One message Herald sent (or did not send) a participant, as they see it.
#[derive(Debug, Clone)]
pub struct SentToYou {
    /// When, in their zone.
    pub when: String,
    /// The same moment as an RFC 3339 instant.
    pub datetime: String,
    /// "Reminder", "Change", "Cancellation".
    pub what: String,
    /// The channel's name.
    pub channel: String,
    /// "Delivered", "Not sent: …", "Sending".
    pub outcome: String,
    /// Whether it reached them.
    pub delivered: bool,
}

/// The "What Herald sent you" card: the participant's own deliveries, newest first.
fn sent_to_you(rows: &[SentToYou]) -> Markup {
    html! {
        section.card #sent-to-you aria-labelledby="sent-heading" {
            h2 #sent-heading { "What Herald sent you" }
            @if rows.is_empty() {
                p.muted { "Nothing yet. Each reminder or change sent to you appears here, with the channel it went through." }
            } @else {
                ul.plain.sent-list {
                    @for r in rows {
                        li {
                            time datetime=(r.datetime) { (r.when) } " · " (r.what) " · " (r.channel) " · "
                            @if r.delivered { span.badge.badge-ok { (r.outcome) } } @else { span.badge.badge-warn { (r.outcome) } }
                        }
                    }
                }
            }
        }
    }
}

/// A reminder still to come, for the participant.
#[derive(Debug, Clone)]
pub struct ReminderTime {
    /// When, in the participant's zone.
    pub when: String,
    /// The same moment as an RFC 3339 instant, for `<time datetime>`.
    pub datetime: String,
}

/// What a participant of the event is told about their reminders.
#[derive(Debug, Clone)]
pub enum ReminderNote {
    /// Going or maybe, with reminders still ahead.
    Scheduled {
        /// The reminders still to come, soonest first.
        times: Vec<ReminderTime>,
        /// The participant's time zone name.
        zone: String,
        /// The names of the channels they go through; empty: none is active and confirmed.
        channels: Vec<String>,
        /// The form to choose among the reminders offered to them.
        choice: Option<ReminderChoiceForm>,
    },
    /// Going or maybe, but the event sends no reminders.
    Off,
    /// Going or maybe, but every reminder is past (they may still add times of their own).
    NoneAhead {
        /// The form to add times of their own.
        choice: Option<ReminderChoiceForm>,
    },
    /// Not answered yet.
    AnswerFirst,
}

/// The form on the event page to choose among the reminders offered.
#[derive(Debug, Clone)]
pub struct ReminderChoiceForm {
    /// Where it posts.
    pub action: String,
    /// The CSRF token.
    pub csrf: String,
    /// The reminders offered: (seconds, words, kept).
    pub options: Vec<crate::rules::ReminderOption>,
    /// Whether the participant chose (so "back to all of them" makes sense).
    pub chosen: bool,
    /// Their own times set for this event, as text (`2h, 30m`; `none`; empty: their default).
    pub own: String,
    /// The limits of own times here and what applies when the field is left empty.
    pub own_help: String,
}

/// The sentence above the answer buttons: when and through what the participant will be
/// reminded. `add_channel` is where "add one" goes (with the way back to the event).
pub fn reminder_note(note: &ReminderNote, add_channel: &str) -> Markup {
    html! {
        section #reminders aria-label="Your reminders" {
            @match note {
                ReminderNote::Scheduled { times, zone, channels, choice } => {
                    @if times.is_empty() {
                        p #reminder-line { "You chose no reminders for this event." }
                    } @else {
                    p #reminder-line {
                        @if channels.is_empty() { "Reminders go out at " } @else { "You'll be reminded at " }
                        @for (i, t) in times.iter().enumerate() {
                            @if i > 0 { @if i + 1 == times.len() { " and " } @else { ", " } }
                            time datetime=(t.datetime) { (t.when) }
                        }
                        " (" (zone) ")"
                        @if !channels.is_empty() { " via " strong { (channels.join(", ")) } }
                        "."
                    }
                    }
                    @if let Some(c) = choice {
                        (crate::rules::reminder_choice(c))
                    }
                    @if channels.is_empty() {
                        div.flash.flash-warning #reminder-no-channel role="status" { div.flash-body { p {
                            "You have no confirmed channel for this event — "
                            a href=(add_channel) { "add one" }
                            " so they reach you."
                        } } }
                    }
                }
                ReminderNote::Off => { p #reminder-line { "This event sends no reminders." } }
                ReminderNote::NoneAhead { choice } => {
                    p #reminder-line { "No reminders are still to come for this event." }
                    @if let Some(c) = choice {
                        (crate::rules::reminder_choice(c))
                    }
                }
                ReminderNote::AnswerFirst => { p #reminder-line { "Answer going or maybe to get reminders." } }
            }
        }
    }
}

/// `/o/{org}/e/{event}`, with Open Graph tags for link previews.
///
/// The cover image has an empty `alt`: it is decoration chosen by the organizer, who gives no
/// description of it, and the heading right below already names the event; a screen reader
/// skips it rather than reading a file name or "image".
pub fn public_event(shell: &Shell, e: &PublicEvent) -> Markup {
    let og = html! {
        meta property="og:type" content="website";
        meta property="og:title" content=(e.name);
        meta property="og:description" content=(e.summary);
        meta property="og:url" content=(e.url);
        meta property="og:site_name" content="Herald";
        @if let Some(img) = &e.og_image {
            meta property="og:image" content=(img);
            meta name="twitter:card" content="summary_large_image";
        }
    };
    layout(
        &Page::new(&e.name).shell(shell).with_description(&e.summary).with_head(og),
        html! {
            @if let Some(src) = &e.cover_src { img.event-cover src=(src) alt="" decoding="async"; }
            p.eyebrow { a href=(e.org_href) { (e.org_name) } }
            h1 { (e.name) }
            @if e.cancelled {
                div.flash.flash-warning role="status" { div.flash-body { p { strong { "This event is cancelled." } } } }
            }
            section.card aria-labelledby="when-heading" {
                h2 #when-heading { "When and where" }
                dl.facts {
                    dt { "When" } dd { (e.when_viewer) @if let Some(w) = &e.when_event { br; span.muted { "Local time: " (w) } } }
                    @if let Some(l) = &e.location {
                        dt { "Where" }
                        dd {
                            (l)
                            @if let Some(d) = &e.directions_href {
                                br;
                                a.directions href=(d) rel="noreferrer" { "Directions" span.visually-hidden { " to " (l) } " on OpenStreetMap" }
                            }
                        }
                    }
                    @if let Some(u) = &e.online_url { dt { "Online" } dd { a.online-link href=(u) rel="noopener noreferrer" { (u) } } }
                    dt { "Hosted by" } dd { a.host href=(e.org_href) { (e.org_name) } }
                    @if let Some(a) = &e.attendees { dt { "Answers" } dd #attendee-count { (a) } }
                }
                div.actions.calendar-links {
                    a.button.button-secondary href=(e.ics_href) download { "Add to calendar (.ics)" }
                    a.button.button-secondary href=(e.google_href) target="_blank" rel="noopener noreferrer" { "Google Calendar" }
                    a.button.button-secondary href=(e.outlook_href) target="_blank" rel="noopener noreferrer" { "Outlook" }
                }
            }
            @if let Some(rows) = &e.sent { (sent_to_you(rows)) }
            @if let Some(r) = &e.rsvp { (crate::participants::rsvp_section(shell, r)) }
            @if !e.description_html.is_empty() {
                section.card aria-labelledby="about-heading" {
                    h2 #about-heading { "About" }
                    div.description { (PreEscaped(&e.description_html)) }
                }
            }
        },
    )
}
