//! "Write to participants": the organizer's form for an announcement (subject, Markdown
//! message, who gets it, now or later) with a live preview as a chosen recipient will read it
//! and how many it reaches; and the event's announcements, past and scheduled, with how their
//! deliveries went.

use maud::{Markup, PreEscaped, html};

use crate::forms::{error_for, error_summary};
use crate::layout::{Page, Shell, csrf_field, layout};

/// A checkbox: (value, label, checked).
pub type Choice = (String, String, bool);

/// The form as shown (empty, or as submitted with its problems).
#[derive(Debug, Clone, Default)]
pub struct ComposeForm {
    /// The subject.
    pub subject: String,
    /// The message (Markdown).
    pub body: String,
    /// Answers to choose from.
    pub answers: Vec<Choice>,
    /// Roles to choose from.
    pub roles: Vec<Choice>,
    /// Send later (else now).
    pub later: bool,
    /// The local time to send at, `YYYY-MM-DDTHH:MM` in the event's time zone.
    pub send_at: String,
    /// The event's time zone, named.
    pub timezone: String,
    /// Problems of the last submission: (field, message).
    pub errors: Vec<(String, String)>,
}

/// The preview, as a recipient reads it (also the htmx fragment).
#[derive(Debug, Clone, Default)]
pub struct PreviewView {
    /// People to preview for: (participant id, name, chosen).
    pub readers: Vec<Choice>,
    /// The subject, as sent.
    pub subject: String,
    /// The text as chat and push channels show it.
    pub text: String,
    /// The mail's HTML, when the reader has the email channel.
    pub html: Option<String>,
    /// How many it reaches, in words.
    pub reach: String,
    /// What stops the preview (an empty subject, …).
    pub problem: Option<String>,
}

/// One announcement in the event's list.
#[derive(Debug, Clone)]
pub struct AnnouncementRow {
    /// The subject.
    pub subject: String,
    /// Scheduled, Sent or Cancelled.
    pub state: String,
    /// When it goes or went, in the viewer's zone.
    pub when: String,
    /// The same moment, for `<time datetime>`.
    pub datetime: String,
    /// Who it goes to, in words.
    pub audience: String,
    /// How the deliveries went, in words.
    pub outcomes: String,
    /// Where to cancel it, while it is scheduled.
    pub cancel_url: Option<String>,
}

/// `/orgs/{slug}/events/{id}/announcements`.
pub fn page(
    shell: &Shell,
    event_href: &str,
    event_name: &str,
    action: &str,
    form: &ComposeForm,
    preview: &PreviewView,
    rows: &[AnnouncementRow],
) -> Markup {
    let subject_error = error_for(&form.errors, "subject");
    let body_error = error_for(&form.errors, "body");
    let answers_error = error_for(&form.errors, "answers");
    let roles_error = error_for(&form.errors, "roles");
    let when_error = error_for(&form.errors, "send_at");
    html! {
        (layout(&Page::new(&format!("Write to participants · {event_name}")).shell(shell), html! {
            p.eyebrow { a href=(event_href) { (event_name) } }
            h1 { "Write to participants" }
            p.muted {
                "Your message goes to the people you choose, on the channels they picked, with their own link to stop "
                "this event's messages at the end. People who can't go are never written to."
            }
            (error_summary(&form.errors))
            section.card aria-labelledby="compose-heading" {
                h2 #compose-heading { "Your message" }
                form #compose method="post" action=(action) novalidate
                    hx-post={ (action) "/preview" } hx-trigger="input delay:500ms, change"
                    hx-target="#announcement-preview" hx-swap="outerHTML" {
                    (csrf_field(&shell.csrf))
                    div.field {
                        label for="f-subject" { "Subject" }
                        input #f-subject name="subject" type="text" maxlength="200" required value=(form.subject)
                            aria-invalid=[subject_error.map(|_| "true")]
                            aria-describedby=[subject_error.map(|_| "f-subject-error")];
                        @if let Some(e) = subject_error { p.error-text #f-subject-error { (e) } }
                    }
                    div.field {
                        label for="f-body" { "Message" }
                        p.help #f-body-help { "You can use Markdown: **bold**, *italics*, [a link](https://…), lists. Email shows it formatted; other channels as plain text." }
                        textarea #f-body name="body" rows="8" maxlength="10000" required
                            aria-invalid=[body_error.map(|_| "true")]
                            aria-describedby={ "f-body-help" @if body_error.is_some() { " f-body-error" } } { (form.body) }
                        @if let Some(e) = body_error { p.error-text #f-body-error { (e) } }
                    }
                    fieldset.field aria-describedby=[answers_error.map(|_| "f-answers-error")] {
                        legend { "People who answered" }
                        @for (value, label, checked) in &form.answers {
                            label.check {
                                input type="checkbox" name="answers" value=(value) checked[*checked];
                                " " (label)
                            }
                        }
                        @if let Some(e) = answers_error { p.error-text #f-answers-error { (e) } }
                    }
                    fieldset.field aria-describedby=[roles_error.map(|_| "f-roles-error")] {
                        legend { "In the role of" }
                        @for (value, label, checked) in &form.roles {
                            label.check {
                                input type="checkbox" name="roles" value=(value) checked[*checked];
                                " " (label)
                            }
                        }
                        @if let Some(e) = roles_error { p.error-text #f-roles-error { (e) } }
                    }
                    fieldset.field aria-describedby=[when_error.map(|_| "f-send-at-error")] {
                        legend { "When" }
                        label.check {
                            input type="radio" name="when" value="now" checked[!form.later];
                            " Send now"
                        }
                        label.check {
                            input type="radio" name="when" value="later" checked[form.later];
                            " Send later, at"
                        }
                        label for="f-send-at" { "Date and time (" (form.timezone) ", the event's time zone)" }
                        input #f-send-at name="send_at" type="datetime-local" value=(form.send_at)
                            aria-invalid=[when_error.map(|_| "true")];
                        @if let Some(e) = when_error { p.error-text #f-send-at-error { (e) } }
                    }
                    (preview_fragment(preview))
                    div.actions {
                        button.button type="submit" { "Send" }
                        button.button.button-secondary type="submit" formaction={ (action) "/preview" } { "Preview" }
                    }
                }
            }
            section.card aria-labelledby="sent-heading" {
                h2 #sent-heading { "Announcements" }
                (list(shell, rows))
            }
        }))
    }
}

/// The preview (the htmx fragment too): the recipient to show it for, the subject and message
/// as they will read them, and how many people it reaches.
pub fn preview_fragment(p: &PreviewView) -> Markup {
    html! {
        section.announcement-preview #announcement-preview aria-live="polite" aria-labelledby="preview-heading" {
            h3 #preview-heading { "Preview" }
            @if let Some(problem) = &p.problem {
                p.error-text { (problem) }
            } @else {
                p #reach { strong { (p.reach) } }
                @if !p.readers.is_empty() {
                    div.field {
                        label for="f-recipient" { "As it reaches" }
                        select #f-recipient name="recipient" {
                            @for (id, name, chosen) in &p.readers {
                                option value=(id) selected[*chosen] { (name) }
                            }
                        }
                    }
                    p.preview-subject { strong { (p.subject) } }
                    pre.preview-body { (p.text) }
                    @if let Some(h) = &p.html {
                        details {
                            summary { "By email" }
                            div.preview-mail { (PreEscaped(h)) }
                        }
                    }
                }
            }
        }
    }
}

/// The announcements, latest first: subject, state, time, audience, outcomes, and a way to
/// cancel a scheduled one.
pub fn list(shell: &Shell, rows: &[AnnouncementRow]) -> Markup {
    html! {
        @if rows.is_empty() {
            p.muted { "None yet." }
        } @else {
            ul.announcements {
                @for r in rows {
                    li.announcement {
                        p {
                            strong { (r.subject) } " "
                            span.badge { (r.state) } " "
                            time datetime=(r.datetime) { (r.when) }
                        }
                        p.muted { "To " (r.audience) ". " (r.outcomes) }
                        @if let Some(url) = &r.cancel_url {
                            form.inline method="post" action=(url) {
                                (csrf_field(&shell.csrf))
                                button.button.button-secondary.button-quiet-danger type="submit" {
                                    "Cancel “" (r.subject) "”"
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
