//! Organization pages: the list, the create form, an organization's overview, members and
//! invitations, settings, confirmations, and the page behind an invitation link.
//!
//! Every action is a plain form POST answered by a redirect, so the pages work without
//! JavaScript; destructive actions go through a confirmation page first ([`confirm`]).

use maud::{Markup, html};

use crate::charts::{self, Column, Series};
use crate::components::empty_state;
use crate::forms::{Errors, Field, error_for, error_summary, field};
use crate::layout::{Page, Shell, csrf_field, layout};

/// One of the user's organizations in the list.
#[derive(Debug, Clone)]
pub struct OrgItem {
    /// URL slug.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// The user's role there.
    pub role: String,
}

/// The list of the user's organizations, or an empty state inviting to create one.
pub fn list(shell: &Shell, orgs: &[OrgItem]) -> Markup {
    layout(
        &Page::new("Your organizations").shell(shell),
        html! {
            div.card-header {
                h1 { "Your organizations" }
                @if !orgs.is_empty() { a.button href="/orgs/new" { "Create an organization" } }
            }
            @if orgs.is_empty() {
                (empty_state(
                    "You are not in any organization yet",
                    "Organizations hold events and the people who run them. Create one, or ask an \
                     organizer to invite you by email.",
                    Some(("/orgs/new", "Create an organization")),
                ))
            } @else {
                div.table-wrap tabindex="0" role="region" aria-labelledby="orgs-caption" {
                    table {
                        caption #orgs-caption.visually-hidden { "Your organizations and your role in each" }
                        thead { tr { th scope="col" { "Organization" } th scope="col" { "Your role" } } }
                        tbody {
                            @for org in orgs {
                                tr {
                                    td { a href={ "/orgs/" (org.slug) } { (org.name) } }
                                    td { (role_badge(&org.role)) }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// What the create form was filled with.
#[derive(Debug, Clone, Default)]
pub struct NewOrgForm {
    /// Display name.
    pub name: String,
    /// URL slug (may be empty: proposed from the name).
    pub slug: String,
}

/// The create-an-organization form; for an unverified user, the reason they cannot yet.
pub fn new_org(shell: &Shell, form: &NewOrgForm, errors: &Errors, verified: bool) -> Markup {
    layout(
        &Page::new("Create an organization").shell(shell),
        html! {
            section.narrow.card aria-labelledby="new-org-heading" {
                h1 #new-org-heading { "Create an organization" }
                @if !verified {
                    div.flash.flash-warning role="alert" {
                        p {
                            strong { "Verify your email address first. " }
                            "Open the link we mailed you (or use “Send the link again” above), then come back here."
                        }
                    }
                } @else {
                    (error_summary(errors))
                    form method="post" action="/orgs" novalidate {
                        (csrf_field(&shell.csrf))
                        (field(&Field::new("name", "Name", "text").value(&form.name).autocomplete("organization")
                            .help("Shown to members and on public event pages. You can change it later.")
                            .error(error_for(errors, "name"))))
                        (field(&Field::new("slug", "Web address", "text").value(&form.slug).optional()
                            .autocomplete("off")
                            .help("Lower-case letters, digits and hyphens, like rust-paris. Leave it empty to derive it from the name.")
                            .error(error_for(errors, "slug"))))
                        div.actions {
                            button.button type="submit" { "Create organization" }
                            a href="/orgs" { "Cancel" }
                        }
                    }
                }
            }
        },
    )
}

/// An organization as the pages around it show it.
#[derive(Debug, Clone)]
pub struct OrgHeader {
    /// URL slug.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// The viewer's role.
    pub role: String,
    /// Whether the viewer manages members (owner or admin).
    pub manages_members: bool,
    /// Whether the viewer is an owner.
    pub is_owner: bool,
    /// Whether the viewer manages events (owner, admin or organizer): the report.
    pub manages_events: bool,
    /// The organization's public page, as an absolute URL.
    pub public_url: String,
}

/// Which of an organization's pages is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgTab {
    /// The events (the first tab).
    Events,
    /// The overview.
    Overview,
    /// Members and invitations.
    Members,
    /// Rename and delete.
    Settings,
    /// Who did what and when (owners and admins).
    Activity,
    /// Charts of answers and deliveries (owners, admins and organizers).
    Report,
    /// The wording of notices (owners, admins and organizers).
    Messages,
    /// Reminders and follow-up new events start with (owners, admins and organizers).
    Defaults,
}

/// The organization's heading and tabs above `body`.
pub fn org_frame(org: &OrgHeader, tab: OrgTab, body: Markup) -> Markup {
    let tabs: Vec<(OrgTab, String, &str)> = [
        Some((OrgTab::Events, format!("/orgs/{}/events", org.slug), "Events")),
        Some((OrgTab::Overview, format!("/orgs/{}", org.slug), "Overview")),
        Some((OrgTab::Members, format!("/orgs/{}/members", org.slug), "Members")),
        org.manages_events.then(|| (OrgTab::Report, format!("/orgs/{}/report", org.slug), "Report")),
        org.manages_events.then(|| (OrgTab::Messages, format!("/orgs/{}/messages", org.slug), "Messages")),
        org.manages_events
            .then(|| (OrgTab::Defaults, format!("/orgs/{}/event-defaults", org.slug), "Event defaults")),
        org.manages_members.then(|| (OrgTab::Activity, format!("/orgs/{}/audit", org.slug), "Activity")),
        org.is_owner.then(|| (OrgTab::Settings, format!("/orgs/{}/settings", org.slug), "Settings")),
    ]
    .into_iter()
    .flatten()
    .collect();
    html! {
        div.org-head {
            p.eyebrow { "Organization" }
            h1 { (org.name) }
            nav.org-tabs aria-label={ (org.name) " sections" } {
                ul {
                    @for (t, href, label) in &tabs {
                        li { a href=(href) aria-current=[(*t == tab).then_some("page")] { (label) } }
                    }
                }
            }
        }
        (body)
    }
}

/// A role in words, as a small badge (the text carries the meaning; colour only decorates).
pub fn role_badge(role: &str) -> Markup {
    html! { span.badge { (role) } }
}

/// An organization's overview page.
pub fn overview(
    shell: &Shell,
    org: &OrgHeader,
    member_count: i64,
    open_invitations: Option<usize>,
) -> Markup {
    layout(
        &Page::new(&org.name).shell(shell),
        org_frame(
            org,
            OrgTab::Overview,
            html! {
                section.card aria-labelledby="facts-heading" {
                    h2 #facts-heading { "At a glance" }
                    dl.facts {
                        dt { "Your role" } dd { (role_badge(&org.role)) }
                        dt { "Members" } dd { a href={ "/orgs/" (org.slug) "/members" } { (member_count) " " (if member_count == 1 { "member" } else { "members" }) } }
                        @if let Some(n) = open_invitations {
                            dt { "Open invitations" } dd { (n) }
                        }
                        dt { "Public page" } dd { a href=(org.public_url) { (org.public_url) } }
                    }
                    div.actions {
                        @if org.manages_members {
                            a.button href={ "/orgs/" (org.slug) "/members#invite-heading" } { "Invite someone" }
                        }
                        a.button.button-secondary href={ "/orgs/" (org.slug) "/members" } { "See the members" }
                    }
                }
                section.card aria-labelledby="leave-heading" {
                    h2 #leave-heading { "Leave" }
                    p.muted { "You will lose access to this organization until someone invites you again." }
                    form method="post" action={ "/orgs/" (org.slug) "/leave" } {
                        (csrf_field(&shell.csrf))
                        button.button.button-secondary type="submit" { "Leave " (org.name) "…" }
                    }
                }
            },
        ),
    )
}

/// A member in the members table.
#[derive(Debug, Clone)]
pub struct MemberRow {
    /// User id (for form actions).
    pub user_id: String,
    /// Display name.
    pub name: String,
    /// Email address.
    pub email: String,
    /// Role.
    pub role: String,
    /// Whether this is the viewer.
    pub is_you: bool,
    /// Whether the viewer may change this member's role and remove them.
    pub manageable: bool,
}

/// An open invitation in the invitations table.
#[derive(Debug, Clone)]
pub struct InvitationRow {
    /// Invitation id (for form actions).
    pub id: String,
    /// Invited address.
    pub email: String,
    /// Role on acceptance.
    pub role: String,
    /// Who sent it.
    pub invited_by: Option<String>,
    /// When the link stops working, in the viewer's words.
    pub expires: String,
    /// Whether the link has stopped working.
    pub expired: bool,
}

/// A role the viewer may give, with what it means.
#[derive(Debug, Clone)]
pub struct RoleChoice {
    /// Stored value (`owner`, `admin`, …).
    pub value: String,
    /// What the role may do.
    pub description: String,
}

/// What the invite form was filled with.
#[derive(Debug, Clone, Default)]
pub struct InviteForm {
    /// Address.
    pub email: String,
    /// Role.
    pub role: String,
}

/// Everything the members page shows.
#[derive(Debug, Clone)]
pub struct MembersView<'a> {
    /// The organization.
    pub org: &'a OrgHeader,
    /// The members.
    pub members: &'a [MemberRow],
    /// Open invitations (only shown to managers).
    pub invitations: &'a [InvitationRow],
    /// Roles the viewer may give (empty for non-managers).
    pub roles: &'a [RoleChoice],
    /// The invite form's values.
    pub invite: &'a InviteForm,
}

fn role_select(id: &str, roles: &[RoleChoice], selected: &str, described_by: Option<&str>) -> Markup {
    html! {
        select id=(id) name="role" aria-describedby=[described_by] {
            @for r in roles {
                option value=(r.value) selected[r.value == selected] { (r.value) }
            }
        }
    }
}

/// The members page: the table (with role changes and removal for managers), the invite form
/// and open invitations. `errors` belong to the invite form.
pub fn members(shell: &Shell, view: &MembersView<'_>, errors: &Errors) -> Markup {
    let org = view.org;
    let base = format!("/orgs/{}", org.slug);
    layout(
        &Page::new(&format!("Members of {}", org.name)).shell(shell),
        org_frame(
            org,
            OrgTab::Members,
            html! {
                section aria-labelledby="members-heading" {
                    h2 #members-heading { "Members " span.muted { "(" (view.members.len()) ")" } }
                    div.table-wrap tabindex="0" role="region" aria-labelledby="members-heading" {
                        table.members-table {
                            thead {
                                tr {
                                    th scope="col" { "Name" }
                                    th scope="col" { "Email" }
                                    th scope="col" { "Role" }
                                    @if org.manages_members { th scope="col" { span.visually-hidden { "Actions" } } }
                                }
                            }
                            tbody {
                                @for m in view.members {
                                    tr {
                                        td { (m.name) @if m.is_you { " " span.muted.small { "(you)" } } }
                                        td { (m.email) }
                                        td {
                                            @if m.manageable && !view.roles.is_empty() {
                                                form.role-form method="post" action={ (base) "/members/" (m.user_id) "/role" } {
                                                    (csrf_field(&shell.csrf))
                                                    label.visually-hidden for={ "role-" (m.user_id) } { "Role of " (m.name) }
                                                    (role_select(&format!("role-{}", m.user_id), view.roles, &m.role, None))
                                                    button.button.button-secondary type="submit" {
                                                        "Change" span.visually-hidden { " the role of " (m.name) }
                                                    }
                                                }
                                            } @else {
                                                (role_badge(&m.role))
                                            }
                                        }
                                        @if org.manages_members {
                                            td {
                                                @if m.is_you {
                                                    form.inline method="post" action={ (base) "/leave" } {
                                                        (csrf_field(&shell.csrf))
                                                        button.button.button-secondary type="submit" { "Leave…" }
                                                    }
                                                } @else if m.manageable {
                                                    form.inline method="post" action={ (base) "/members/" (m.user_id) "/remove" } {
                                                        (csrf_field(&shell.csrf))
                                                        button.button.button-danger type="submit" {
                                                            "Remove…" span.visually-hidden { " " (m.name) }
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
                }
                @if org.manages_members {
                    section.card #invite aria-labelledby="invite-heading" {
                        h2 #invite-heading { "Invite someone" }
                        p.muted { "We email them a link that works for 7 days. They can accept with an existing account or create one." }
                        (error_summary(errors))
                        form method="post" action={ (base) "/invitations" } novalidate {
                            (csrf_field(&shell.csrf))
                            (field(&Field::new("email", "Email address", "email").value(&view.invite.email)
                                .autocomplete("off").error(error_for(errors, "email"))))
                            div.field {
                                label for="f-role" { "Role" }
                                ul.help #f-role-help {
                                    @for r in view.roles { li { strong { (r.value) } ": " (r.description) } }
                                }
                                (role_select("f-role", view.roles,
                                    if view.invite.role.is_empty() { "member" } else { &view.invite.role },
                                    Some("f-role-help")))
                                @if let Some(e) = error_for(errors, "role") { p.error-text #f-role-error { (e) } }
                            }
                            div.actions { button.button type="submit" { "Send invitation" } }
                        }
                    }
                    section aria-labelledby="invitations-heading" {
                        h2 #invitations-heading { "Open invitations" }
                        @if view.invitations.is_empty() {
                            p.muted { "No open invitations." }
                        } @else {
                            div.table-wrap tabindex="0" role="region" aria-labelledby="invitations-heading" {
                                table {
                                    thead {
                                        tr {
                                            th scope="col" { "Email" }
                                            th scope="col" { "Role" }
                                            th scope="col" { "Invited by" }
                                            th scope="col" { "Link works until" }
                                            th scope="col" { span.visually-hidden { "Actions" } }
                                        }
                                    }
                                    tbody {
                                        @for i in view.invitations {
                                            tr {
                                                td { (i.email) }
                                                td { (role_badge(&i.role)) }
                                                td { (i.invited_by.as_deref().unwrap_or("—")) }
                                                td {
                                                    @if i.expired { span.badge.badge-warn { "Expired" } " " }
                                                    (i.expires)
                                                }
                                                td.row-actions {
                                                    form.inline method="post" action={ (base) "/invitations/" (i.id) "/resend" } {
                                                        (csrf_field(&shell.csrf))
                                                        button.button.button-secondary type="submit" {
                                                            "Re-send" span.visually-hidden { " the invitation to " (i.email) }
                                                        }
                                                    }
                                                    form.inline method="post" action={ (base) "/invitations/" (i.id) "/revoke" } {
                                                        (csrf_field(&shell.csrf))
                                                        button.button.button-danger type="submit" {
                                                            "Revoke" span.visually-hidden { " the invitation to " (i.email) }
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
                }
            },
        ),
    )
}

/// The settings page (owners only): rename, and delete with the slug typed as confirmation.
pub fn settings(shell: &Shell, org: &OrgHeader, name: &str, description: &str, errors: &Errors) -> Markup {
    let base = format!("/orgs/{}", org.slug);
    let rename_errors: Vec<(String, String)> = errors.iter().filter(|(f, _)| f == "name").cloned().collect();
    let delete_error = error_for(errors, "confirm_slug");
    let description_errors: Vec<(String, String)> =
        errors.iter().filter(|(f, _)| f == "description").cloned().collect();
    let description_error = error_for(errors, "description");
    layout(
        &Page::new(&format!("Settings of {}", org.name)).shell(shell),
        org_frame(
            org,
            OrgTab::Settings,
            html! {
                section.card aria-labelledby="rename-heading" {
                    h2 #rename-heading { "Rename" }
                    (error_summary(&rename_errors))
                    form method="post" action={ (base) "/settings" } novalidate {
                        (csrf_field(&shell.csrf))
                        (field(&Field::new("name", "Name", "text").value(name).autocomplete("organization")
                            .error(error_for(errors, "name"))))
                        div.actions { button.button type="submit" { "Save the name" } }
                    }
                }
                section.card aria-labelledby="description-heading" {
                    h2 #description-heading { "Public page" }
                    p.muted {
                        "What visitors read about " (org.name) " above its upcoming events on "
                        a href={ "/o/" (org.slug) } { "its public page" } "."
                    }
                    (error_summary(&description_errors))
                    form method="post" action={ (base) "/settings/description" } novalidate {
                        (csrf_field(&shell.csrf))
                        div.field {
                            label for="f-description" { "Description" }
                            p.help #f-description-help { "Plain text, up to 1,000 characters. Line breaks are kept. Leave it empty for none." }
                            textarea #f-description name="description" rows="5" maxlength="1000"
                                aria-describedby={ "f-description-help" @if description_error.is_some() { " f-description-error" } }
                                aria-invalid=[description_error.map(|_| "true")] { (description) }
                            @if let Some(e) = description_error { p.error-text #f-description-error { (e) } }
                        }
                        div.actions { button.button type="submit" { "Save the description" } }
                    }
                }
                section.card.danger-zone aria-labelledby="delete-heading" {
                    h2 #delete-heading { "Delete this organization" }
                    p {
                        "Deleting " strong { (org.name) } " removes its members, invitations and events for good. "
                        "Reminders of its events will not be sent."
                    }
                    form method="post" action={ (base) "/delete" } novalidate {
                        (csrf_field(&shell.csrf))
                        div.field {
                            label for="f-confirm_slug" { "To confirm, type " code { (org.slug) } }
                            input #f-confirm_slug name="confirm_slug" type="text" autocomplete="off"
                                required spellcheck="false"
                                aria-invalid=[delete_error.map(|_| "true")]
                                aria-describedby=[delete_error.map(|_| "f-confirm_slug-error")];
                            @if let Some(e) = delete_error { p.error-text #f-confirm_slug-error { (e) } }
                        }
                        div.actions { button.button.button-danger type="submit" { "Delete " (org.name) } }
                    }
                }
            },
        ),
    )
}

/// A confirmation page for a destructive action: says what will happen and POSTs `confirm=yes`
/// to `action` (with the CSRF token) when confirmed.
pub fn confirm(shell: &Shell, title: &str, text: &str, action: &str, button: &str, cancel: &str) -> Markup {
    layout(
        &Page::new(title).shell(shell),
        html! {
            section.narrow.card aria-labelledby="confirm-heading" {
                h1 #confirm-heading { (title) }
                p { (text) }
                form method="post" action=(action) {
                    (csrf_field(&shell.csrf))
                    input type="hidden" name="confirm" value="yes";
                    div.actions {
                        button.button.button-danger type="submit" { (button) }
                        a href=(cancel) { "Cancel" }
                    }
                }
            }
        },
    )
}

/// An invitation as its link's page shows it.
#[derive(Debug, Clone)]
pub struct InvitationView {
    /// The organization's name.
    pub org_name: String,
    /// The role on acceptance.
    pub role: String,
    /// What that role may do.
    pub role_description: String,
    /// Who sent it, if still known.
    pub invited_by: Option<String>,
    /// The invited address.
    pub email: String,
    /// This page's path (`/invitations/…`), where the Accept form posts and sign-in returns.
    pub path: String,
}

/// What the visitor of an invitation link can do.
#[derive(Debug, Clone)]
pub enum InvitationVisitor {
    /// Not signed in: sign in or sign up, then come back.
    SignedOut,
    /// Signed in and allowed to accept.
    CanAccept {
        /// The signed-in address.
        email: String,
    },
    /// Signed in, but must verify their address first; the reason says so.
    MustVerify(String),
    /// Already a member of the organization.
    AlreadyMember {
        /// The organization's slug.
        slug: String,
    },
}

/// The page behind an invitation link.
pub fn invitation(shell: &Shell, view: &InvitationView, visitor: &InvitationVisitor) -> Markup {
    let next: String = url_encode(&view.path);
    layout(
        &Page::new(&format!("Join {}", view.org_name)).shell(shell),
        html! {
            section.narrow.card.auth-card aria-labelledby="invitation-heading" {
                h1 #invitation-heading { "Join " (view.org_name) }
                p {
                    @if let Some(by) = &view.invited_by { strong { (by) } " invited " } @else { "You are invited " }
                    @if view.invited_by.is_some() { (view.email) } @else { "(" (view.email) ")" }
                    " to join " strong { (view.org_name) } " on Herald as " (role_badge(&view.role)) "."
                }
                p.muted { "As " (view.role) ": " (view.role_description) }
                @match visitor {
                    InvitationVisitor::SignedOut => {
                        p { "Sign in to accept, or create an account first: you will come back here." }
                        div.actions {
                            a.button href={ "/signin?next=" (next) } { "Sign in" }
                            a.button.button-secondary href={ "/signup?next=" (next) } { "Create an account" }
                        }
                    }
                    InvitationVisitor::CanAccept { email } => {
                        form method="post" action=(view.path) {
                            (csrf_field(&shell.csrf))
                            p.muted.small { "You are signed in as " (email) "." }
                            div.actions { button.button type="submit" { "Accept the invitation" } }
                        }
                    }
                    InvitationVisitor::MustVerify(reason) => {
                        div.flash.flash-warning role="alert" { p { (reason) } }
                    }
                    InvitationVisitor::AlreadyMember { slug } => {
                        p { "You are already a member of this organization." }
                        div.actions { a.button href={ "/orgs/" (slug) } { "Go to " (view.org_name) } }
                    }
                }
            }
        },
    )
}

/// Percent-encodes a path for a query string value.
fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The numbers of an organization's report, ready to draw.
#[derive(Debug, Clone, Default)]
pub struct ReportView {
    /// The period covered, in words.
    pub period: String,
    /// One column per day: going, maybe, declined.
    pub answers: Vec<Column>,
    /// Deliveries per status.
    pub by_status: Vec<(String, u64)>,
    /// Deliveries per channel kind.
    pub by_channel: Vec<(String, u64)>,
    /// Sent reminders per lateness bucket.
    pub lateness: Vec<(String, u64)>,
}

const ANSWER_SERIES: [Series<'static>; 3] = [
    Series { label: "Going", class: "going" },
    Series { label: "Maybe", class: "maybe" },
    Series { label: "Declined", class: "declined" },
];

fn report_card(
    id: &str,
    heading: &str,
    intro: &str,
    empty: (&str, &str),
    has_data: bool,
    chart: Markup,
) -> Markup {
    html! {
        section.card.report-card aria-labelledby={ (id) "-heading" } {
            h2 id={ (id) "-heading" } { (heading) }
            p.muted { (intro) }
            @if has_data { (chart) } @else { (empty_state(empty.0, empty.1, None)) }
        }
    }
}

/// The organization's report: answers per day, deliveries by status and by channel, reminder
/// lateness — each a chart with the same numbers in a table for screen readers.
pub fn report(shell: &Shell, org: &OrgHeader, view: &ReportView) -> Markup {
    let total = |rows: &[(String, u64)]| rows.iter().map(|(_, v)| *v).sum::<u64>();
    let answered = view.answers.iter().flat_map(|c| c.values.iter()).sum::<u64>();
    layout(
        &Page::new(&format!("Report · {}", org.name)).shell(shell),
        org_frame(
            org,
            OrgTab::Report,
            html! {
                p.muted.report-period { "The last 30 days: " (view.period) " (UTC days). Only owners, admins and organizers see this page." }
                (report_card("report-answers", "Answers over time",
                    "Participants' answers per day, counted on the day each last changed their answer.",
                    ("No answers yet", "Answers to your events in the last 30 days will show here."),
                    answered > 0,
                    charts::columns("chart-answers", "Answers per day: going, maybe, declined", "Day", &ANSWER_SERIES, &view.answers, 7)))
                (report_card("report-status", "Deliveries by status",
                    "Every message due in the last 30 days, one per person and channel.",
                    ("Nothing delivered yet", "Reminders and notices of the last 30 days will be counted here."),
                    total(&view.by_status) > 0,
                    charts::bars("chart-status", "Deliveries by status", "Status", "neutral", &view.by_status)))
                (report_card("report-channel", "Deliveries by channel",
                    "The same messages, by the kind of channel they went through.",
                    ("Nothing delivered yet", "Reminders and notices of the last 30 days will be counted here."),
                    total(&view.by_channel) > 0,
                    charts::bars("chart-channel", "Deliveries by channel", "Channel", "channel", &view.by_channel)))
                (report_card("report-lateness", "Reminder lateness",
                    "How long after its due time each reminder of the last 30 days went out.",
                    ("No reminders sent yet", "Reminders sent in the last 30 days will be measured here."),
                    total(&view.lateness) > 0,
                    charts::bars("chart-lateness", "Reminders by lateness", "Sent after", "lateness", &view.lateness)))
            },
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(owner: bool) -> OrgHeader {
        OrgHeader {
            slug: "rust-paris".into(),
            name: "Rust <Paris>".into(),
            role: if owner { "owner" } else { "member" }.into(),
            manages_members: owner,
            is_owner: owner,
            manages_events: owner,
            public_url: "https://herald.example/o/rust-paris".into(),
        }
    }

    #[test]
    fn members_page_shows_controls_to_managers_only() {
        let members = vec![MemberRow {
            user_id: "u1".into(),
            name: "Bob".into(),
            email: "bob@example.org".into(),
            role: "member".into(),
            is_you: false,
            manageable: true,
        }];
        let roles = vec![RoleChoice { value: "member".into(), description: "Sees events.".into() }];
        let owner = header(true);
        let view = MembersView {
            org: &owner,
            members: &members,
            invitations: &[],
            roles: &roles,
            invite: &InviteForm::default(),
        };
        let html = members_html(&view);
        assert!(html.contains(r#"action="/orgs/rust-paris/members/u1/role""#));
        assert!(html.contains("Send invitation"));
        assert!(html.contains("Rust &lt;Paris&gt;"), "names are escaped");
        assert!(html.contains(r#"aria-current="page""#));
        let member = header(false);
        let view = MembersView {
            org: &member,
            members: &members,
            invitations: &[],
            roles: &[],
            invite: &InviteForm::default(),
        };
        let html = members_html(&view);
        assert!(!html.contains("/role\""));
        assert!(!html.contains("Send invitation"));
        assert!(!html.contains("/settings"), "settings tab is for owners");
    }

    fn members_html(view: &MembersView<'_>) -> String {
        members(&Shell::default(), view, &[]).into_string()
    }

    #[test]
    fn invitation_links_bring_visitors_back() {
        let view = InvitationView {
            org_name: "Rust Paris".into(),
            role: "admin".into(),
            role_description: "Manages members.".into(),
            invited_by: Some("Ada".into()),
            email: "bob@example.org".into(),
            path: "/invitations/abc-DEF_1".into(),
        };
        let html = invitation(&Shell::default(), &view, &InvitationVisitor::SignedOut).into_string();
        assert!(html.contains(r#"href="/signin?next=/invitations/abc-DEF_1""#));
        assert!(html.contains(r#"href="/signup?next=/invitations/abc-DEF_1""#));
        let html = invitation(
            &Shell::default(),
            &view,
            &InvitationVisitor::CanAccept { email: "x@example.org".into() },
        )
        .into_string();
        assert!(html.contains(r#"action="/invitations/abc-DEF_1""#));
    }
}

/// One entry of an organization's activity, worded for the viewer.
#[derive(Debug, Clone)]
pub struct ActivityRow {
    /// When, in the viewer's words.
    pub when: String,
    /// Who (name and address), or "Someone" when the account is gone.
    pub who: String,
    /// What they did, in words ("removed", "created the event").
    pub what: String,
    /// To what (an event's name, a member's address).
    pub subject: String,
    /// A short detail (a role, a count).
    pub detail: Option<String>,
}

/// The organization's activity page: newest first, with a link to older entries.
pub fn activity(shell: &Shell, org: &OrgHeader, rows: &[ActivityRow], older: Option<&str>) -> Markup {
    layout(
        &Page::new(&format!("Activity · {}", org.name)).shell(shell),
        org_frame(
            org,
            OrgTab::Activity,
            html! {
                section aria-labelledby="activity-heading" {
                    h2 #activity-heading { "Activity" }
                    p.muted { "Who changed what in this organization, newest first. Only owners and admins see this page." }
                    @if rows.is_empty() {
                        (empty_state("Nothing yet", "Changes to members, events and participants will be listed here.", None))
                    } @else {
                        ul.activity {
                            @for r in rows {
                                li {
                                    time { (r.when) }
                                    " — " strong { (r.who) } " " (r.what) " " strong { (r.subject) }
                                    @if let Some(d) = &r.detail { " " span.muted { "(" (d) ")" } }
                                }
                            }
                        }
                    }
                    @if let Some(href) = older {
                        p { a href=(href) rel="next" { "Older" } }
                    }
                }
            },
        ),
    )
}

/// One kind of notice on the Messages page.
#[derive(Debug, Clone)]
pub struct WordingCard {
    /// `reminder`, `updated` or `cancelled`.
    pub kind: String,
    /// "Reminders", …
    pub label: String,
    /// When it is sent, in words.
    pub about: String,
    /// The subject template shown in the form.
    pub subject: String,
    /// The body template shown in the form.
    pub body: String,
    /// Whether the organization wrote its own.
    pub custom: bool,
    /// The rendered preview (subject, body), or the problem that stops it.
    pub preview: Result<(String, String), String>,
    /// Errors of the last save of this form.
    pub errors: Vec<(String, String)>,
}

/// The preview of one wording, as the reader gets it (also the htmx fragment).
pub fn wording_preview(
    kind: &str,
    preview: &Result<(String, String), String>,
    event: Option<&str>,
) -> Markup {
    html! {
        div.wording-preview #{ "preview-" (kind) } aria-live="polite" {
            @match preview {
                Ok((subject, body)) => {
                    p.muted {
                        "As you would get it"
                        @if let Some(e) = event { ", for " strong { (e) } } @else { ", for a sample event" }
                        ". Herald adds your link to answer or stop messages at the end."
                    }
                    p.preview-subject { strong { (subject) } }
                    pre.preview-body { (body) }
                }
                Err(problem) => p.error-text { (problem) }
            }
        }
    }
}

/// The organization's Messages page: the wording of each kind of notice, with a live preview.
pub fn messages(
    shell: &Shell,
    org: &OrgHeader,
    cards: &[WordingCard],
    variables: &[(&str, &str)],
    event: Option<&str>,
) -> Markup {
    let base = format!("/orgs/{}/messages", org.slug);
    layout(
        &Page::new(&format!("Messages · {}", org.name)).shell(shell),
        org_frame(
            org,
            OrgTab::Messages,
            html! {
                p.muted {
                    "The words of the messages Herald sends to your events' participants. Write "
                    code { "{{ event.name }}" } " and the other names below where the message should say them; "
                    "the preview shows the result as you type. A template that cannot be used is refused when you save it."
                }
                details.card {
                    summary { "What you can write" }
                    dl.facts {
                        @for (name, what) in variables {
                            dt { code { "{{ " (name) " }}" } } dd { (what) }
                        }
                    }
                    p.muted { "Conditions work too: " code { "{% if event.location %}Where: {{ event.location }}{% endif %}" } "." }
                }
                @for card in cards {
                    section.card aria-labelledby={ "wording-" (card.kind) } {
                        h2 #{ "wording-" (card.kind) } {
                            (card.label) " "
                            @if card.custom { span.badge { "Your wording" } } @else { span.badge { "Herald's wording" } }
                        }
                        p.muted { (card.about) }
                        (error_summary(&card.errors))
                        form method="post" action={ (base) "/" (card.kind) } novalidate
                            hx-post={ (base) "/" (card.kind) "/preview" } hx-trigger="input delay:400ms"
                            hx-target={ "#preview-" (card.kind) } hx-swap="outerHTML" {
                            (csrf_field(&shell.csrf))
                            @let subject_error = error_for(&card.errors, "subject");
                            div.field {
                                label for={ "f-subject-" (card.kind) } { "Subject" }
                                input #{ "f-subject-" (card.kind) } name="subject" type="text" maxlength="200"
                                    value=(card.subject) spellcheck="false"
                                    aria-invalid=[subject_error.map(|_| "true")]
                                    aria-describedby=[subject_error.map(|_| format!("f-subject-{}-error", card.kind))];
                                @if let Some(e) = subject_error { p.error-text #{ "f-subject-" (card.kind) "-error" } { (e) } }
                            }
                            @let body_error = error_for(&card.errors, "body");
                            div.field {
                                label for={ "f-body-" (card.kind) } { "Message" }
                                textarea.code #{ "f-body-" (card.kind) } name="body" rows="7" maxlength="5000" spellcheck="false"
                                    aria-invalid=[body_error.map(|_| "true")]
                                    aria-describedby=[body_error.map(|_| format!("f-body-{}-error", card.kind))] { (card.body) }
                                @if let Some(e) = body_error { p.error-text #{ "f-body-" (card.kind) "-error" } { (e) } }
                            }
                            (wording_preview(&card.kind, &card.preview, event))
                            div.actions {
                                button.button type="submit" { "Save" }
                                button.button.button-secondary type="submit" formaction={ (base) "/" (card.kind) "/preview" } { "Preview" }
                                @if card.custom {
                                    button.button.button-secondary type="submit" formaction={ (base) "/" (card.kind) "/reset" } { "Use Herald's wording" }
                                }
                            }
                        }
                    }
                }
            },
        ),
    )
}
