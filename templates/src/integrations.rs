//! Notification channels ("integrations"): the list with each channel's redacted URLs, tags,
//! status and actions; the default tags; adding a channel by pasting Apprise URLs or through a
//! guided form for a common service; editing, confirming and deleting one.
//!
//! These pages only ever receive redacted URLs (secrets replaced by `****`), except the add and
//! edit forms re-shown with what the user just typed when it was rejected.

use maud::{Markup, html};

use crate::components::{FlashKind, empty_state, flash};
use crate::forms::{Errors, Field, error_for, error_summary, field};
use crate::layout::{Page, Shell, csrf_field, layout};

/// Where a channel stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Waiting for the code it received to be entered.
    Awaiting,
    /// Confirmed and enabled: it receives notifications.
    Active,
    /// Switched off by its owner: it receives nothing.
    Disabled,
}

/// One URL of a channel, as shown.
#[derive(Debug, Clone)]
pub struct UrlRow {
    /// The URL with its secrets replaced by `****`.
    pub redacted: String,
    /// Its tags.
    pub tags: Vec<String>,
}

/// A channel as the pages show it.
#[derive(Debug, Clone)]
pub struct Channel {
    /// Integration id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Where it stands.
    pub status: Status,
    /// Whether its owner confirmed it (a disabled channel may be either).
    pub confirmed: bool,
    /// Its URLs, redacted.
    pub urls: Vec<UrlRow>,
    /// The built-in email channel: it can be switched off, not edited or deleted.
    pub built_in: bool,
}

/// The default tags form, as stored or as submitted.
#[derive(Debug, Clone, Default)]
pub struct DefaultsForm {
    /// Tags that receive reminders, comma-separated.
    pub reminder: String,
    /// Tags that receive urgent changes, comma-separated.
    pub urgent: String,
}

/// Everything `/integrations` shows.
#[derive(Debug, Clone)]
pub struct ListPage<'a> {
    /// Whether the user may add channels (verified address).
    pub may_add: bool,
    /// The user's channels.
    pub channels: &'a [Channel],
    /// Every tag the channels use.
    pub known_tags: &'a [String],
    /// The default tags form.
    pub defaults: DefaultsForm,
    /// A rejected code, as (channel id, message), shown on that channel's card.
    pub code_error: Option<(&'a str, &'a str)>,
}

fn status_badge(status: Status) -> Markup {
    let (class, label) = match status {
        Status::Awaiting => ("badge badge-warn", "Awaiting confirmation"),
        Status::Active => ("badge badge-ok", "Active"),
        Status::Disabled => ("badge badge-down", "Disabled"),
    };
    html! { span class=(class) { (label) } }
}

fn tag_list(tags: &[String]) -> Markup {
    html! {
        @if tags.is_empty() {
            span.muted.small { "no tags" }
        } @else {
            ul.tag-list aria-label="Tags" {
                @for t in tags { li.tag { (t) } }
            }
        }
    }
}

/// Where someone who came to set up a channel goes back to: (path, "Back to Rust night").
pub type Return<'a> = Option<(&'a str, &'a str)>;

/// The hidden `next` field that carries the way back through a form.
fn next_field(back: Return<'_>) -> Markup {
    html! { @if let Some((href, _)) = back { input type="hidden" name="next" value=(href); } }
}

/// `path` with `?next=…` when there is a way back.
fn with_next(path: &str, back: Return<'_>) -> String {
    match back {
        Some((href, _)) => {
            let next: String = url_encode(href);
            format!("{path}?next={next}")
        }
        None => path.to_owned(),
    }
}

/// Percent-encodes everything but unreserved characters and `/`.
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

/// The link back to the page that sent someone here.
fn back_link(back: Return<'_>) -> Markup {
    html! {
        @if let Some((href, label)) = back {
            p.return-link { a.button.button-secondary href=(href) { (label) } }
        }
    }
}

/// The URLs of a channel, redacted, with their tags.
fn url_list(channel: &Channel) -> Markup {
    html! {
        ul.integration-urls {
            @for u in &channel.urls {
                li {
                    code.integration-url { (u.redacted) }
                    (tag_list(&u.tags))
                }
            }
        }
    }
}

/// The code form of a channel awaiting confirmation; `error` when the last code was rejected.
fn confirm_forms(shell: &Shell, channel: &Channel, error: Option<&str>, back: Return<'_>) -> Markup {
    let id = &channel.id;
    let input_id = format!("f-code-{id}");
    let error_id = format!("{input_id}-error");
    let help_id = format!("{input_id}-help");
    let urls = channel.urls.len().max(1);
    html! {
        div.confirm-box {
            form.code-form method="post" action={ "/integrations/" (id) "/confirm" } {
                (csrf_field(&shell.csrf))
                (next_field(back))
                div.field {
                    @if urls > 1 {
                        label for=(input_id) { "Confirmation codes" span.visually-hidden { " for " (channel.name) } }
                        p.help id=(help_id) {
                            "Each of this channel's " (urls) " addresses received its own 6-digit code. "
                            "Enter all " (urls) ", separated by spaces, in any order."
                        }
                    } @else {
                        label for=(input_id) { "Confirmation code" span.visually-hidden { " for " (channel.name) } }
                        p.help id=(help_id) { "The 6-digit code Herald sent through this channel." }
                    }
                    input id=(input_id) name="code" type="text" inputmode="numeric" autocomplete="one-time-code"
                        maxlength=(urls * 9) required
                        aria-invalid=[error.map(|_| "true")]
                        aria-describedby={ (help_id) @if error.is_some() { " " (error_id) } };
                    @if let Some(e) = error { p.error-text id=(error_id) { (e) } }
                }
                button.button type="submit" { "Confirm" span.visually-hidden { " " (channel.name) } }
            }
            form.inline method="post" action={ "/integrations/" (id) "/code" } {
                (csrf_field(&shell.csrf))
                button.link-button type="submit" { "Send a new code" span.visually-hidden { " to " (channel.name) } }
            }
        }
    }
}

/// A channel's card: name, status, URLs and actions. `heading` is `h2` or `h3`.
fn channel_card(
    shell: &Shell,
    channel: &Channel,
    code_error: Option<&str>,
    h2: bool,
    link_name: bool,
    back: Return<'_>,
) -> Markup {
    let id = &channel.id;
    let heading_id = format!("channel-{id}");
    let title = html! {
        @if link_name { a href={ "/integrations/" (id) } { (channel.name) } }
        @else if h2 { "Status and addresses" }
        @else { (channel.name) }
    };
    html! {
        article.card.integration aria-labelledby=(heading_id) {
            div.card-header {
                @if h2 { h2 id=(heading_id) { (title) } } @else { h3 id=(heading_id) { (title) } }
                (status_badge(channel.status))
            }
            @if channel.status == Status::Disabled {
                p.muted.small { "Disabled: this channel receives nothing until you enable it again." }
            }
            (url_list(channel))
            @if !channel.confirmed {
                (confirm_forms(shell, channel, code_error, back))
            }
            div.actions.integration-actions {
                @if channel.confirmed {
                    form.inline method="post" action={ "/integrations/" (id) "/test" } {
                        (csrf_field(&shell.csrf))
                        button.button-secondary type="submit" { "Send test" span.visually-hidden { " through " (channel.name) } }
                    }
                }
                form.inline method="post" action={ "/integrations/" (id) "/enabled" } {
                    (csrf_field(&shell.csrf))
                    @if channel.status == Status::Disabled {
                        input type="hidden" name="enabled" value="true";
                        button.button-secondary type="submit" { "Enable" span.visually-hidden { " " (channel.name) } }
                    } @else {
                        input type="hidden" name="enabled" value="false";
                        button.button-secondary type="submit" { "Disable" span.visually-hidden { " " (channel.name) } }
                    }
                }
                @if channel.built_in {
                    p.muted.small { "Herald's email to your account's address: every notice, unless you disable it." }
                } @else {
                    a.button.button-secondary href={ "/integrations/" (id) "/edit" } {
                        "Edit" span.visually-hidden { " " (channel.name) }
                    }
                    a.button.button-danger href={ "/integrations/" (id) "/delete" } {
                        "Delete" span.visually-hidden { " " (channel.name) }
                    }
                }
            }
        }
    }
}

/// The plain-words heading of the channel pages.
pub const CHANNELS_HEADING: &str = "Where should we remind you?";

/// `/integrations`: the channels, the default tags and how to add one.
pub fn list(shell: &Shell, page: &ListPage<'_>, errors: &Errors) -> Markup {
    layout(
        &Page::new("Your channels").shell(shell),
        html! {
            h1 { (CHANNELS_HEADING) }
            p.lead-text {
                "Herald sends your reminders and event changes to your channels: your email, your phone "
                "(ntfy), Telegram, Discord, Slack, Gotify or a webhook. Add as many as you like."
            }
            @if page.may_add {
                div.actions.page-actions { a.button href="/integrations/new" { "Add a channel" } }
            } @else {
                (flash(FlashKind::Info, "Verify your email address to add notification channels: open the link we mailed you."))
            }
            section aria-labelledby="channels-heading" {
                h2 #channels-heading { "Your channels" }
                @if page.channels.is_empty() {
                    (empty_state(
                        "No channels yet",
                        "Add one to receive reminders on your phone, by email or in your team chat.",
                        page.may_add.then_some(("/integrations/new", "Add a channel")),
                    ))
                } @else {
                    div.integration-list {
                        @for c in page.channels {
                            (channel_card(shell, c, page.code_error.filter(|(id, _)| *id == c.id).map(|(_, m)| m), false, true, None))
                        }
                    }
                }
            }
            details.card.advanced open[!errors.is_empty()] {
                summary { "Advanced: tags" }
                h2 #defaults-heading { "Default tags" }
                p {
                    "Give each address of a channel tags, like " code { "email" } " or " code { "phone" }
                    ", to choose what goes where. "
                }
                p {
                    "When you join an event, Herald sends reminders to the URLs with the first tags and urgent "
                    "changes (cancellations, a new time or place) to the URLs with the second. You can still "
                    "choose per event. Leave a field empty to use every URL of every active channel."
                }
                @if !page.known_tags.is_empty() {
                    p.small { "Your channels use these tags: " (tag_list(page.known_tags)) }
                }
                (error_summary(errors))
                form method="post" action="/integrations/defaults" novalidate {
                    (csrf_field(&shell.csrf))
                    (field(&Field::new("reminder_tags", "Reminders go to", "text").optional()
                        .value(&page.defaults.reminder).autocomplete("off")
                        .help("Tags separated by commas, like email, phone.")
                        .error(error_for(errors, "reminder_tags"))))
                    (field(&Field::new("urgent_tags", "Urgent changes go to", "text").optional()
                        .value(&page.defaults.urgent).autocomplete("off")
                        .help("Tags separated by commas, like phone, urgent.")
                        .error(error_for(errors, "urgent_tags"))))
                    div.actions { button.button type="submit" { "Save default tags" } }
                }
            }
        },
    )
}

/// `/integrations/{id}`: one channel; `back` when someone came to set it up from elsewhere
/// (an event's page).
pub fn detail(shell: &Shell, channel: &Channel, code_error: Option<&str>, back: Return<'_>) -> Markup {
    layout(
        &Page::new(&channel.name).shell(shell),
        html! {
            p.small { a href="/integrations" { "← All channels" } }
            h1 { (channel.name) }
            @if let Some(e) = code_error {
                (error_summary(&[(format!("code-{}", channel.id), e.to_owned())]))
            }
            @if channel.confirmed { (back_link(back)) }
            (channel_card(shell, channel, code_error, true, false, back))
            @if !channel.confirmed && back.is_some() {
                p.muted.small { "Once the channel is confirmed, Herald takes you back." }
            }
        },
    )
}

/// One row of the paste form: a URL and its tags, as typed.
#[derive(Debug, Clone, Default)]
pub struct UrlInput {
    /// The URL as typed (only ever shown back to whoever typed it).
    pub url: String,
    /// Its tags, comma-separated.
    pub tags: String,
}

/// A guided service to link to.
#[derive(Debug, Clone)]
pub struct ServiceLink {
    /// Path segment (`/integrations/new/{slug}`).
    pub slug: &'static str,
    /// Its name.
    pub label: &'static str,
    /// What it is and what to have at hand.
    pub summary: &'static str,
}

/// The URL rows of the paste and edit forms (under "Advanced"). Field names are `url_{i}` and
/// `tags_{i}`. The Apprise wiki is only linked: nothing is loaded from it.
fn url_rows(rows: &[UrlInput], errors: &Errors) -> Markup {
    html! {
        fieldset.url-rows {
            legend { "Apprise URLs and their tags" }
            p.help #urls-help {
                "One URL per row, like " code { "ntfys://ntfy.sh/my-topic" } " or "
                code { "mailtos://user:password@smtp.example.org?to=me@example.org" } ". "
                a href="https://github.com/caronc/apprise/wiki" rel="noopener noreferrer" { "The Apprise wiki" }
                " lists every service. Leave rows you do not need empty."
            }
            @if let Some(e) = error_for(errors, "urls") { p.error-text #f-urls { (e) } }
            @for (i, row) in rows.iter().enumerate() {
                @let url_name = format!("url_{i}");
                @let tags_name = format!("tags_{i}");
                div.url-row {
                    (field(&Field::new(&url_name, &format!("URL {}", i + 1), "text").optional()
                        .value(&row.url).autocomplete("off")
                        .error(error_for(errors, &url_name))))
                    (field(&Field::new(&tags_name, &format!("Tags for URL {}", i + 1), "text").optional()
                        .value(&row.tags).autocomplete("off")
                        .help("Separated by commas, like email, urgent.")
                        .error(error_for(errors, &tags_name))))
                }
            }
            button.button-secondary type="submit" name="add_row" value="1" formnovalidate { "Add another URL row" }
        }
    }
}

/// `/integrations/new`: pick a service, or (Advanced) paste Apprise URLs with tags.
pub fn new_paste(
    shell: &Shell,
    name: &str,
    rows: &[UrlInput],
    services: &[ServiceLink],
    errors: &Errors,
    back: Return<'_>,
) -> Markup {
    let typed = !errors.is_empty() || !name.is_empty() || rows.iter().any(|r| !r.url.is_empty());
    layout(
        &Page::new("Add a channel").shell(shell),
        html! {
            p.small { a href=(back.map_or("/integrations", |(h, _)| h)) {
                "← " (back.map_or("All channels", |(_, l)| l)) } }
            h1 { "Add a channel" }
            section aria-labelledby="guided-heading" {
                h2 #guided-heading { (CHANNELS_HEADING) }
                p { "Herald asks for a few details, then sends a 6-digit code there to check it reaches you." }
                ul.service-list {
                    @for s in services {
                        li {
                            a href=(with_next(&format!("/integrations/new/{}", s.slug), back)) { strong { (s.label) } }
                            span.muted.small { " — " (s.summary) }
                        }
                    }
                }
            }
            details.card.advanced open[typed] {
                summary { "Advanced: paste Apprise URLs" }
                h2 #paste-heading { "Paste Apprise URLs" }
                p {
                    "Once saved, Herald keeps the URLs encrypted and only ever shows them with their passwords "
                    "and tokens hidden. It then sends a 6-digit code through the channel: enter it to activate the channel."
                }
                (error_summary(errors))
                form method="post" action="/integrations" novalidate {
                    (csrf_field(&shell.csrf))
                    (next_field(back))
                    (field(&Field::new("name", "Name", "text").value(name).autocomplete("off")
                        .help("So you recognise it, like “My phone” or “Work email”.")
                        .error(error_for(errors, "name"))))
                    (url_rows(rows, errors))
                    div.actions { button.button type="submit" { "Save and send the code" } }
                }
            }
        },
    )
}

/// One field of a guided form with its current value.
#[derive(Debug, Clone)]
pub struct GuidedField {
    /// Form field name.
    pub name: &'static str,
    /// Visible label.
    pub label: &'static str,
    /// Input type.
    pub kind: &'static str,
    /// Help text.
    pub help: &'static str,
    /// Whether it is required.
    pub required: bool,
    /// Current value (never set for passwords).
    pub value: String,
}

/// `/integrations/new/{service}`: a guided form for one service.
pub fn new_guided(
    shell: &Shell,
    service: &ServiceLink,
    name: &str,
    tags: &str,
    fields: &[GuidedField],
    errors: &Errors,
    back: Return<'_>,
) -> Markup {
    let title = format!("Add a {} channel", service.label);
    layout(
        &Page::new(&title).shell(shell),
        html! {
            p.small { a href=(with_next("/integrations/new", back)) { "← Other services" } }
            h1 { (title) }
            p { (service.summary) }
            section.card aria-labelledby="guided-form-heading" {
                h2 #guided-form-heading { "Details" }
                (error_summary(errors))
                form method="post" action={ "/integrations/new/" (service.slug) } novalidate {
                    (csrf_field(&shell.csrf))
                    (next_field(back))
                    (field(&Field::new("name", "Name", "text").value(name).autocomplete("off")
                        .help("So you recognise it, like “My phone”.")
                        .error(error_for(errors, "name"))))
                    @for f in fields {
                        @let input = Field {
                            required: f.required,
                            ..Field::new(f.name, f.label, f.kind).value(&f.value).help(f.help)
                                .autocomplete(if f.kind == "password" { "new-password" } else { "off" })
                                .error(error_for(errors, f.name))
                        };
                        (field(&input))
                    }
                    details.advanced open[!tags.is_empty() || error_for(errors, "tags").is_some()] {
                        summary { "Advanced: tags" }
                        (field(&Field::new("tags", "Tags", "text").optional().value(tags).autocomplete("off")
                            .help("Separated by commas, like email or phone, urgent. Your default tags decide which tags get reminders.")
                            .error(error_for(errors, "tags"))))
                    }
                    div.actions { button.button type="submit" { "Save and send the code" } }
                }
            }
        },
    )
}

/// `/integrations/{id}/edit`: rename, or replace the URLs (they must be entered again).
pub fn edit(shell: &Shell, channel: &Channel, name: &str, rows: &[UrlInput], errors: &Errors) -> Markup {
    let title = format!("Edit {}", channel.name);
    layout(
        &Page::new(&title).shell(shell),
        html! {
            p.small { a href="/integrations" { "← All channels" } }
            h1 { "Edit “" (channel.name) "”" }
            (error_summary(errors))
            section.card aria-labelledby="rename-heading" {
                h2 #rename-heading { "Name" }
                form method="post" action={ "/integrations/" (channel.id) "/rename" } novalidate {
                    (csrf_field(&shell.csrf))
                    (field(&Field::new("name", "Name", "text").value(name).autocomplete("off")
                        .error(error_for(errors, "name"))))
                    div.actions { button.button type="submit" { "Rename" } }
                }
            }
            section.card aria-labelledby="urls-heading" {
                h2 #urls-heading { "Addresses" }
                p { "Where this channel sends now, with the secrets hidden:" }
                (url_list(channel))
              details.advanced open[!errors.is_empty() || rows.iter().any(|r| !r.url.is_empty())] {
                summary { "Advanced: replace the Apprise URLs" }
                p {
                    "To change them, enter all the URLs again (Herald never shows their secrets). The channel "
                    "then receives a new code and stays inactive until you enter it."
                }
                form method="post" action={ "/integrations/" (channel.id) "/edit" } novalidate {
                    (csrf_field(&shell.csrf))
                    (url_rows(rows, errors))
                    div.actions { button.button type="submit" { "Replace the URLs and send a code" } }
                }
              }
            }
        },
    )
}

/// `/integrations/{id}/delete`: are you sure?
pub fn confirm_delete(shell: &Shell, channel: &Channel) -> Markup {
    let title = format!("Delete {}", channel.name);
    layout(
        &Page::new(&title).shell(shell),
        html! {
            p.small { a href="/integrations" { "← All channels" } }
            h1 { "Delete “" (channel.name) "”?" }
            section.card.danger-zone aria-labelledby="delete-heading" {
                h2 #delete-heading { "This cannot be undone" }
                p { "Herald stops sending to these addresses:" }
                (url_list(channel))
                form method="post" action={ "/integrations/" (channel.id) "/delete" } {
                    (csrf_field(&shell.csrf))
                    input type="hidden" name="confirm" value="yes";
                    div.actions {
                        button.button-danger type="submit" { "Delete the channel" }
                        a href="/integrations" { "Keep it" }
                    }
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(status: Status, confirmed: bool) -> Channel {
        Channel {
            id: "c1".into(),
            name: "My <phone>".into(),
            status,
            confirmed,
            urls: vec![
                UrlRow {
                    redacted: "ntfys://ntfy.sh/****".into(),
                    tags: vec!["phone".into(), "urgent".into()],
                },
                UrlRow { redacted: "mailtos://****@example.org".into(), tags: vec![] },
            ],
            built_in: false,
        }
    }

    #[test]
    fn list_shows_status_tags_and_the_right_actions() {
        let channels = vec![channel(Status::Awaiting, false)];
        let tags = vec!["phone".to_owned()];
        let page = ListPage {
            may_add: true,
            channels: &channels,
            known_tags: &tags,
            defaults: DefaultsForm { reminder: "phone".into(), urgent: String::new() },
            code_error: Some(("c1", "That is not the code we sent.")),
        };
        let html = list(&Shell::default(), &page, &[]).into_string();
        assert!(html.contains("Awaiting confirmation"));
        assert!(html.contains("My &lt;phone&gt;"));
        assert!(html.contains("ntfys://ntfy.sh/****"));
        assert!(html.contains(r#"action="/integrations/c1/confirm""#));
        assert!(!html.contains("/integrations/c1/test"), "no test before confirmation");
        assert!(html.contains("That is not the code we sent."));
        assert!(html.contains(r#"aria-invalid="true""#));
        assert!(html.contains(r#"value="phone""#));
        let active = vec![channel(Status::Active, true)];
        let page = ListPage { channels: &active, code_error: None, ..page };
        let html = list(&Shell::default(), &page, &[]).into_string();
        assert!(html.contains(r#"action="/integrations/c1/test""#));
        assert!(!html.contains("/integrations/c1/confirm"));
        assert!(html.contains(r#"value="false""#), "offers to disable");
    }

    #[test]
    fn unverified_users_are_told_why_they_cannot_add() {
        let page = ListPage {
            may_add: false,
            channels: &[],
            known_tags: &[],
            defaults: DefaultsForm::default(),
            code_error: None,
        };
        let html = list(&Shell::default(), &page, &[]).into_string();
        assert!(html.contains("Verify your email address"));
        assert!(!html.contains(r#"href="/integrations/new""#));
    }

    #[test]
    fn guided_form_never_echoes_passwords() {
        let service = ServiceLink { slug: "telegram", label: "Telegram", summary: "Bots." };
        let fields = vec![
            GuidedField {
                name: "bot_token",
                label: "Bot token",
                kind: "password",
                help: "",
                required: true,
                value: "1:secret".into(),
            },
            GuidedField {
                name: "chat_id",
                label: "Chat ID",
                kind: "text",
                help: "",
                required: true,
                value: "-100".into(),
            },
        ];
        let errors = vec![("chat_id".to_owned(), "Bad chat.".to_owned())];
        let html =
            new_guided(&Shell::default(), &service, "Me", "phone", &fields, &errors, None).into_string();
        assert!(!html.contains("1:secret"));
        assert!(html.contains(r#"value="-100""#));
        assert!(html.contains(r##"href="#f-chat_id""##));
        assert!(html.contains(r#"action="/integrations/new/telegram""#));
    }
}
