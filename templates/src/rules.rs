//! Rules per audience: an organization's defaults for new events, a user's preferred reminder
//! times, and a participant's choice among the reminders an event offers them.

use maud::{Markup, html};

use crate::account::{Section, section_nav};
use crate::components::{FlashKind, flash};
use crate::forms::{Errors, Field, error_for, error_summary, field};
use crate::layout::{Page, Shell, csrf_field, layout};
use crate::orgs::{OrgHeader, OrgTab, org_frame};

/// The defaults form, as texts.
#[derive(Debug, Clone, Default)]
pub struct DefaultsForm {
    /// Reminders for everyone, like `1d, 1h`.
    pub reminders: String,
    /// A role's own reminders: (form name, label, text).
    pub roles: Vec<(String, String, String)>,
    /// The follow-up delay, like `2h` (empty: none).
    pub follow_up_after: String,
    /// The feedback link.
    pub follow_up_link: String,
}

/// `/orgs/{slug}/event-defaults`: what new events start with.
pub fn event_defaults(
    shell: &Shell,
    org: &OrgHeader,
    form: &DefaultsForm,
    errors: &Errors,
    saved: bool,
) -> Markup {
    layout(
        &Page::new(&format!("Event defaults · {}", org.name)).shell(shell),
        org_frame(
            org,
            OrgTab::Defaults,
            html! {
                section.card aria-labelledby="defaults-heading" {
                    h2 #defaults-heading { "Defaults for new events" }
                    p.muted { "New events start with these reminders and follow-up; each event can change them." }
                    @if saved { (flash(FlashKind::Success, "The defaults are saved.")) }
                    (error_summary(errors))
                    form method="post" action={ "/orgs/" (org.slug) "/event-defaults" } novalidate {
                        (csrf_field(&shell.csrf))
                        (field(&Field::new("reminders", "Reminders", "text").value(&form.reminders).optional()
                            .help("Before the start, separated by commas: 1d, 1h. Leave empty for none.")
                            .error(error_for(errors, "reminders"))))
                        @let own = form.roles.iter().any(|(name, _, text)| !text.is_empty() || error_for(errors, name).is_some());
                        details #role-reminders open[own] {
                            summary { "Different times for speakers, volunteers…" }
                            p.help { "A role left empty gets the reminders above. Write none for no reminders." }
                            @for (name, label, text) in &form.roles {
                                (field(&Field::new(name, label, "text").value(text).optional()
                                    .help("Before the start, like 3d, 1d or 2h.")
                                    .error(error_for(errors, name))))
                            }
                        }
                        (field(&Field::new("follow_up_after", "Thank-you message after the event", "text").value(&form.follow_up_after).optional()
                            .help("How long after the end to thank those who were going, like 2h or 1d. Leave empty to send none.")
                            .error(error_for(errors, "follow_up_after"))))
                        (field(&Field::new("follow_up_link", "Feedback link", "url").value(&form.follow_up_link).optional()
                            .help("Added to the thank-you; a web address starting with https://.")
                            .error(error_for(errors, "follow_up_link"))))
                        div.actions { button.button type="submit" { "Save the defaults" } }
                    }
                }
            },
        ),
    )
}

/// `/account/reminders`: the reminder times a user prefers (`times`) and adds (`own`), as texts.
pub fn reminder_times(shell: &Shell, times: &str, own: &str, errors: &Errors, saved: bool) -> Markup {
    layout(
        &Page::new("Reminder times").shell(shell),
        html! {
            (section_nav(Section::Reminders))
            h1 { "Reminder times" }
            section.card aria-labelledby="times-heading" {
                h2 #times-heading { "When you like to be reminded" }
                p {
                    "Organizers choose when their events send reminders. Where they offer some of the times "
                    "below, you get only those; where they offer none of them, you get theirs. "
                    "On each event's page you can choose for that event."
                }
                @if saved { (flash(FlashKind::Success, "Your reminder times are saved.")) }
                (error_summary(errors))
                form method="post" action="/account/reminders" novalidate {
                    (csrf_field(&shell.csrf))
                    (field(&Field::new("times", "Preferred times", "text").value(times).optional()
                        .help("Before the start, separated by commas: 1d, 1h. Leave empty to get every reminder offered.")
                        .error(error_for(errors, "times"))))
                    (field(&Field::new("own", "Times of my own, on every event", "text").value(own).optional()
                        .help("Added to the organizer's reminders wherever you set none of your own for the event: up to 3, \
                               between 5 minutes and 14 days before the start, like 2h or 3d. Only you get them. Leave empty for none.")
                        .error(error_for(errors, "own"))))
                    div.actions { button.button type="submit" { "Save" } }
                }
            }
        },
    )
}

/// One reminder a participant may keep: (value in seconds, words, kept).
pub type ReminderOption = (i64, String, bool);

/// The participant's reminders on the event page: which of those offered they keep, and times
/// of their own (a text like `2h, 30m`; `own_help` says the limits and what applies when empty).
pub fn reminder_choice(c: &crate::events::ReminderChoiceForm) -> Markup {
    html! {
        details #reminder-choice open[!c.own.is_empty()] {
            summary { "Choose your reminders" }
            form method="post" action=(c.action) {
                (csrf_field(&c.csrf))
                @if !c.options.is_empty() {
                    fieldset {
                        legend { "Remind me" }
                        @for (secs, words, on) in &c.options {
                            div.field { label { input type="checkbox" name="keep" value=(secs) checked[*on]; " " (words) " before" } }
                        }
                    }
                }
                (field(&Field::new("own", "Also remind me at times of my own", "text").value(&c.own).optional()
                    .help(&c.own_help)))
                div.actions {
                    button.button type="submit" name="choice" value="these" { "Save my reminders" }
                    @if c.chosen {
                        button.button.button-secondary type="submit" name="choice" value="all" { "Back to all offered" }
                    }
                }
            }
        }
    }
}
