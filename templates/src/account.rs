//! The signed-in user's own pages: preferences (name, time zone, date format, email status) and
//! personal API tokens (list, create — shown once — and revoke).

use maud::{Markup, html};

use crate::components::{FlashKind, empty_state, flash};
use crate::forms::{Errors, Field, error_for, error_summary, field};
use crate::layout::{Page, Shell, csrf_field, layout};

/// A moment as the viewer reads it, with its machine-readable form for `<time datetime>`.
#[derive(Debug, Clone, Default)]
pub struct When {
    /// RFC 3339, UTC.
    pub iso: String,
    /// In the viewer's time zone and date format, e.g. `22/11/2026 14:05`.
    pub text: String,
}

fn time(when: &When) -> Markup {
    html! { time datetime=(when.iso) { (when.text) } }
}

/// Which account page is shown, for the section navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// `/account`.
    Preferences,
    /// `/account/tokens`.
    Tokens,
    /// `/account/calendar`.
    Calendar,
    /// `/account/reminders`.
    Reminders,
}

pub(crate) fn section_nav(current: Section) -> Markup {
    let link = |section: Section, href: &str, label: &str| {
        html! {
            li {
                a href=(href) aria-current=[(current == section).then_some("page")] { (label) }
            }
        }
    };
    html! {
        nav.account-nav aria-label="Account" {
            ul {
                (link(Section::Preferences, "/account", "Preferences"))
                (link(Section::Tokens, "/account/tokens", "API tokens"))
                (link(Section::Calendar, "/account/calendar", "Calendar feed"))
                (link(Section::Reminders, "/account/reminders", "Reminder times"))
            }
        }
    }
}

/// One date format the user may choose.
#[derive(Debug, Clone)]
pub struct DateFormatChoice {
    /// Stored value: `iso`, `dmy` or `mdy`.
    pub value: &'static str,
    /// What it is called.
    pub label: &'static str,
    /// A date written that way.
    pub example: &'static str,
}

/// What the preferences form shows (as stored, or as submitted when rejected).
#[derive(Debug, Clone, Default)]
pub struct PreferencesForm {
    /// Display name.
    pub display_name: String,
    /// IANA time zone.
    pub timezone: String,
    /// `iso`, `dmy` or `mdy`.
    pub date_format: String,
    /// Quiet hours' start, `HH:MM` (empty: none).
    pub quiet_start: String,
    /// Quiet hours' end.
    pub quiet_end: String,
    /// The daily digest's time (empty: none).
    pub digest_at: String,
}

/// Everything the preferences page shows.
#[derive(Debug, Clone)]
pub struct PreferencesPage<'a> {
    /// The account's email address.
    pub email: &'a str,
    /// When the address was verified; `None` while unverified.
    pub verified: Option<When>,
    /// The form's values.
    pub form: PreferencesForm,
    /// The date formats to choose from.
    pub date_formats: &'a [DateFormatChoice],
    /// IANA zone names proposed while typing.
    pub zones: &'a [&'a str],
    /// The current time in the user's saved zone, e.g. `14:05`, so a wrong zone stands out.
    pub local_now: Option<String>,
}

/// `/account`: the email address and its status, and the preferences form.
pub fn preferences(shell: &Shell, page: &PreferencesPage<'_>, errors: &Errors) -> Markup {
    let tz_error = error_for(errors, "timezone");
    let df_error = error_for(errors, "date_format");
    let tz_described =
        if tz_error.is_some() { "f-timezone-help f-timezone-error" } else { "f-timezone-help" };
    layout(
        &Page::new("Account preferences").shell(shell),
        html! {
            (section_nav(Section::Preferences))
            h1 { "Account preferences" }
            section.card aria-labelledby="email-heading" {
                h2 #email-heading { "Email address" }
                dl.account-facts {
                    dt { "Address" }
                    dd { (page.email) }
                    dt { "Status" }
                    dd {
                        @match &page.verified {
                            Some(when) => {
                                span.badge.badge-ok { "Verified" }
                                " " span.muted.small { "since " (time(when)) }
                            }
                            None => {
                                span.badge.badge-warn { "Not verified" }
                            }
                        }
                    }
                }
                @if page.verified.is_none() {
                    p {
                        "Until you open the link we mailed you, you cannot create organizations, add "
                        "notification channels or be notified. The link works for two days."
                    }
                    form method="post" action="/verify/resend" {
                        (csrf_field(&shell.csrf))
                        button.button-secondary type="submit" { "Send the link again" }
                    }
                }
            }
            section.card aria-labelledby="prefs-heading" {
                h2 #prefs-heading { "Preferences" }
                (error_summary(errors))
                form method="post" action="/account" novalidate {
                    (csrf_field(&shell.csrf))
                    (field(&Field::new("display_name", "Your name", "text")
                        .value(&page.form.display_name)
                        .autocomplete("name")
                        .help("Shown to organizers and other participants.")
                        .error(error_for(errors, "display_name"))))
                    div.field {
                        label for="f-timezone" { "Time zone" }
                        p.help #f-timezone-help {
                            "Reminders and event times are shown in this zone. Type a city or region, "
                            "like Europe/Paris or America/New_York, and pick it from the list."
                            @if let Some(now) = &page.local_now {
                                " It is now " strong { (now) } " in your saved zone."
                            }
                        }
                        input #f-timezone name="timezone" type="text" value=(page.form.timezone)
                            list="timezones" required autocomplete="off" autocapitalize="off"
                            spellcheck="false"
                            aria-invalid=[tz_error.map(|_| "true")]
                            aria-describedby=(tz_described);
                        datalist #timezones {
                            @for zone in page.zones { option value=(zone) {} }
                        }
                        @if let Some(e) = tz_error { p.error-text #f-timezone-error { (e) } }
                    }
                    fieldset.field aria-describedby=[df_error.map(|_| "f-date_format-error")] {
                        legend { "Date format" }
                        @for (i, choice) in page.date_formats.iter().enumerate() {
                            label.check {
                                input type="radio" name="date_format" value=(choice.value)
                                    id=[(i == 0).then_some("f-date_format")]
                                    checked[page.form.date_format == choice.value]
                                    aria-invalid=[df_error.map(|_| "true")];
                                span { (choice.label) " " span.muted { "(" (choice.example) ")" } }
                            }
                        }
                        @if let Some(e) = df_error { p.error-text #f-date_format-error { (e) } }
                    }
                    fieldset.field #quiet-hours aria-describedby="f-quiet-help" {
                        legend { "Quiet hours" }
                        p.help #f-quiet-help {
                            "Don't disturb me between these times, in your time zone (they may cross "
                            "midnight, like 22:00 to 07:00). Changes and other news wait until they end; "
                            "a reminder that would come during them comes just before they begin instead; "
                            "cancellations and changes in the last 24 hours before an event still come "
                            "at once. Leave both empty to be told at any hour."
                        }
                        div.time-pair {
                            (field(&Field::new("quiet_start", "Don't disturb me from", "time")
                                .value(&page.form.quiet_start)
                                .optional()
                                .error(error_for(errors, "quiet_start"))))
                            (field(&Field::new("quiet_end", "until", "time")
                                .value(&page.form.quiet_end)
                                .optional()
                                .error(error_for(errors, "quiet_end"))))
                        }
                    }
                    fieldset.field #daily-digest {
                        legend { "Daily digest" }
                        (field(&Field::new("digest_at", "Gather news into one message a day, at", "time")
                            .value(&page.form.digest_at)
                            .optional()
                            .help("Changes and other news that are not urgent wait and come together, one message per channel, at this time. Reminders and urgent notices still come on their own. Leave empty to get each as it comes.")
                            .error(error_for(errors, "digest_at"))))
                    }
                    div.actions { button.button type="submit" { "Save preferences" } }
                }
            }
            section.card aria-labelledby="data-heading" {
                h2 #data-heading { "Your data" }
                p {
                    "Download everything Herald holds about you as a JSON file: your profile, "
                    "organizations, events and answers, the messages sent to you, your channels "
                    "(their addresses masked) and your API tokens' names."
                }
                p { a.button.button-secondary href="/account/export" download { "Download my data" } }
                p {
                    "Deleting your account removes your channels, API tokens, sign-ins and your "
                    "participation in events. It cannot be undone. "
                    a href="/account/delete" { "Delete my account…" }
                }
            }
        },
    )
}

/// `/account/delete`: what deleting the account does, and the form to confirm it by typing the
/// address. `error` says why the last try was refused.
pub fn delete_account(shell: &Shell, email: &str, typed: &str, error: Option<&str>) -> Markup {
    layout(
        &Page::new("Delete your account").shell(shell),
        html! {
            (section_nav(Section::Preferences))
            h1 { "Delete your account" }
            section.card aria-labelledby="delete-heading" {
                h2 #delete-heading { "This cannot be undone" }
                p { "Deleting your account:" }
                ul {
                    li { "removes your notification channels, from the notification service too;" }
                    li { "signs you out everywhere and revokes your API tokens and calendar feed;" }
                    li { "removes you from your organizations and from the events you take part in." }
                }
                p {
                    "If you are the last owner of an organization, make another member an owner or "
                    "delete the organization first. "
                    a href="/account/export" download { "Download your data" } " before you go if you want a copy."
                }
                @if let Some(e) = error {
                    div.error-summary role="alert" tabindex="-1" { p #f-confirm-error { (e) } }
                }
                form method="post" action="/account/delete" novalidate {
                    (csrf_field(&shell.csrf))
                    div.field {
                        label for="f-confirm" { "Type your email address, " strong { (email) } ", to confirm" }
                        input #f-confirm name="confirm" type="email" value=(typed) required
                            autocomplete="off" aria-invalid=[error.map(|_| "true")]
                            aria-describedby=[error.map(|_| "f-confirm-error")];
                    }
                    div.actions {
                        button.button-danger type="submit" { "Delete my account" }
                        " " a href="/account" { "Keep my account" }
                    }
                }
            }
        },
    )
}

/// A token in the list.
#[derive(Debug, Clone)]
pub struct TokenRow {
    /// Token id.
    pub id: String,
    /// The name given at creation.
    pub name: String,
    /// When it was created.
    pub created: When,
    /// When it was last used.
    pub last_used: Option<When>,
    /// When it was revoked.
    pub revoked: Option<When>,
    /// When it stops (or stopped) working by itself; `None`: never.
    pub expires: Option<When>,
    /// Whether that moment is past.
    pub expired: bool,
}

/// The lifetimes offered for a new token: (days, label); an empty value means no expiry.
const EXPIRIES: &[(&str, &str)] =
    &[("30", "In 30 days"), ("90", "In 90 days"), ("365", "In a year"), ("", "Never (until revoked)")];

/// `/account/tokens`: what tokens are for, the create form and the list.
pub fn tokens(shell: &Shell, rows: &[TokenRow], name: &str, errors: &Errors) -> Markup {
    layout(
        &Page::new("API tokens").shell(shell),
        html! {
            (section_nav(Section::Tokens))
            h1 { "API tokens" }
            p {
                "A personal API token lets a script act as you on Herald's JSON API: send it as "
                code { "Authorization: Bearer <token>" } " to " code { "/api/v1" } ". "
                a href="/api/v1/openapi.json" { "The API description" } " lists what it can do."
            }
            section.card aria-labelledby="new-token-heading" {
                h2 #new-token-heading { "Create a token" }
                (error_summary(errors))
                form method="post" action="/account/tokens" novalidate {
                    (csrf_field(&shell.csrf))
                    (field(&Field::new("name", "Name", "text").value(name).autocomplete("off")
                        .help("What the token is for, so you know which to revoke later (e.g. “CI deploys”).")
                        .error(error_for(errors, "name"))))
                    div.field {
                        label for="f-expires_in_days" { "Expires" }
                        p.help #f-expires_in_days-help { "A token that expires cannot be misused for long if it leaks." }
                        select #f-expires_in_days name="expires_in_days" aria-describedby="f-expires_in_days-help" {
                            @for (value, label) in EXPIRIES {
                                option value=(value) selected[*value == "90"] { (label) }
                            }
                        }
                        @if let Some(e) = error_for(errors, "expires_in_days") { p.error-text { (e) } }
                    }
                    div.actions { button.button type="submit" { "Create token" } }
                }
            }
            section aria-labelledby="tokens-heading" {
                h2 #tokens-heading { "Your tokens" }
                @if rows.is_empty() {
                    (empty_state(
                        "No tokens yet",
                        "Create one above when a script or another service needs to use Herald as you.",
                        None,
                    ))
                } @else {
                    div.table-wrap role="region" aria-labelledby="tokens-heading" tabindex="0" {
                        table.token-table {
                            thead {
                                tr {
                                    th scope="col" { "Name" }
                                    th scope="col" { "Created" }
                                    th scope="col" { "Last used" }
                                    th scope="col" { "Expires" }
                                    th scope="col" { "Status" }
                                    th scope="col" { span.visually-hidden { "Actions" } }
                                }
                            }
                            tbody {
                                @for row in rows { (token_row(shell, row)) }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// One row of the token table; also the htmx answer to revoking, swapped in place.
pub fn token_row(shell: &Shell, row: &TokenRow) -> Markup {
    html! {
        tr {
            th scope="row" { (row.name) }
            td data-label="Created" { (time(&row.created)) }
            td data-label="Last used" {
                @match &row.last_used {
                    Some(when) => (time(when)),
                    None => span.muted { "Never" },
                }
            }
            td data-label="Expires" {
                @match &row.expires {
                    Some(when) => (time(when)),
                    None => span.muted { "Never" },
                }
            }
            td data-label="Status" {
                @match &row.revoked {
                    Some(when) => {
                        span.badge.badge-down { "Revoked" }
                        " " span.muted.small { (time(when)) }
                    }
                    None if row.expired => span.badge.badge-down { "Expired" },
                    None => span.badge.badge-ok { "Active" },
                }
            }
            td.row-actions {
                @if row.revoked.is_none() && !row.expired {
                    form.inline method="post" action={ "/account/tokens/" (row.id) "/revoke" }
                        hx-post={ "/account/tokens/" (row.id) "/revoke" } hx-target="closest tr" hx-swap="outerHTML" {
                        (csrf_field(&shell.csrf))
                        button.button-danger type="submit" {
                            "Revoke" span.visually-hidden { " token " (row.name) }
                        }
                    }
                }
            }
        }
    }
}

/// The one page that shows a new token. Serve it with `Cache-Control: no-store`.
/// `me_url` is the absolute URL of `/api/v1/me`, for the usage example.
pub fn token_created(shell: &Shell, name: &str, token: &str, me_url: &str) -> Markup {
    layout(
        &Page::new("Your new API token").shell(shell),
        html! {
            (section_nav(Section::Tokens))
            h1 { "Your new API token" }
            (flash(FlashKind::Warning,
                "Copy this token now and keep it somewhere safe. Herald stores only a fingerprint of it \
                 and cannot show it to you again."))
            section.card aria-labelledby="token-heading" {
                h2 #token-heading { "Token “" (name) "”" }
                div.field {
                    label for="f-token" { "Token" }
                    p.help #f-token-help { "Select the whole field and copy it." }
                    input #f-token .token-value type="text" readonly value=(token)
                        autocomplete="off" autocapitalize="off" spellcheck="false"
                        aria-describedby="f-token-help";
                }
                p { "Use it like this:" }
                pre.token-example { code { "curl -H \"Authorization: Bearer $HERALD_TOKEN\" " (me_url) } }
                div.actions { a.button href="/account/tokens" { "I have copied it" } }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn when(text: &str) -> When {
        When { iso: "2026-11-22T13:05:00Z".into(), text: text.into() }
    }

    #[test]
    fn token_list_never_contains_a_token_and_labels_revoke_buttons() {
        let rows = vec![
            TokenRow {
                id: "t1".into(),
                name: "CI".into(),
                created: when("22/11/2026 14:05"),
                last_used: None,
                revoked: None,
                expires: None,
                expired: false,
            },
            TokenRow {
                id: "t2".into(),
                name: "Old <laptop>".into(),
                created: when("2026-11-22 14:05"),
                last_used: Some(when("2026-11-23 09:00")),
                revoked: Some(when("2026-11-24 10:00")),
                expires: None,
                expired: false,
            },
        ];
        let html = tokens(&Shell::default(), &rows, "", &[]).into_string();
        assert!(html.contains(r#"action="/account/tokens/t1/revoke""#));
        assert!(!html.contains("/account/tokens/t2/revoke"), "revoked tokens have no revoke button");
        assert!(html.contains("Old &lt;laptop&gt;"));
        assert!(html.contains(r#"<time datetime="2026-11-22T13:05:00Z">22/11/2026 14:05</time>"#));
        assert!(html.contains("Never") && html.contains("Revoked") && html.contains("Active"));
        assert!(html.contains(r#"aria-current="page""#));
    }

    #[test]
    fn preferences_mark_rejected_fields() {
        let page = PreferencesPage {
            email: "ada@example.org",
            verified: None,
            form: PreferencesForm {
                display_name: "Ada".into(),
                timezone: "Mars/Base".into(),
                date_format: "dmy".into(),
                ..PreferencesForm::default()
            },
            date_formats: &[
                DateFormatChoice { value: "iso", label: "Year first", example: "2026-11-22" },
                DateFormatChoice { value: "dmy", label: "Day first", example: "22/11/2026" },
            ],
            zones: &["Europe/Paris"],
            local_now: None,
        };
        let errors = vec![("timezone".to_owned(), "Unknown zone.".to_owned())];
        let html = preferences(&Shell::default(), &page, &errors).into_string();
        assert!(html.contains(r#"aria-describedby="f-timezone-help f-timezone-error""#));
        assert!(html.contains(r##"href="#f-timezone""##));
        assert!(html.contains(r#"value="Mars/Base""#));
        assert!(html.contains(r#"<option value="Europe/Paris">"#));
        assert!(html.contains(r#"value="dmy" checked"#));
        assert!(html.contains("Send the link again"), "unverified users can resend");
    }

    #[test]
    fn new_token_is_shown_once_in_a_readonly_field() {
        let html = token_created(&Shell::default(), "CI", "herald_abc", "http://h/api/v1/me").into_string();
        assert_eq!(html.matches("herald_abc").count(), 1);
        assert!(html.contains(r#"readonly value="herald_abc""#));
        assert!(html.contains("cannot show it to you again"));
    }
}
