//! Sign up, sign in, password reset and the account messages around them.

use maud::{Markup, html};

use crate::forms::{Errors, Field, error_for, error_summary, field};
use crate::layout::{Page, Shell, csrf_field, layout};

/// What the sign-up form was filled with.
#[derive(Debug, Clone, Default)]
pub struct SignupForm {
    /// Email address.
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// IANA time zone.
    pub timezone: String,
    /// Where to go afterwards.
    pub next: Option<String>,
    /// Every time zone name, proposed while typing.
    pub zones: &'static [&'static str],
}

/// The sign-up page.
pub fn signup(shell: &Shell, form: &SignupForm, errors: &Errors) -> Markup {
    layout(
        &Page::new("Create your account").shell(shell),
        html! {
            section.narrow.card.auth-card aria-labelledby="signup-heading" {
                h1 #signup-heading { "Create your account" }
                (error_summary(errors))
                form method="post" action="/signup" novalidate {
                    (csrf_field(&shell.csrf))
                    @if let Some(next) = &form.next { input type="hidden" name="next" value=(next); }
                    (field(&Field::new("email", "Email", "email").value(&form.email).autocomplete("email")
                        .validate("/signup/check/email").error(error_for(errors, "email"))))
                    (field(&Field::new("display_name", "Your name", "text").value(&form.display_name)
                        .autocomplete("name").help("Shown to organizers and other participants.").validate("/signup/check/display_name")
                        .error(error_for(errors, "display_name"))))
                    (field(&Field::new("password", "Password", "password").autocomplete("new-password")
                        .help("At least 10 characters. A few random words work well.").validate("/signup/check/password")
                        .error(error_for(errors, "password"))))
                    div.field {
                        label for="f-timezone" { "Time zone" }
                        p.help #f-timezone-help { "Reminders show times in this zone. Proposed from your browser." }
                        input #f-timezone name="timezone" type="text" value=(form.timezone) data-timezone-guess
                            autocomplete="off" aria-describedby="f-timezone-help" list="time-zones"
                            aria-invalid=[error_for(errors, "timezone").map(|_| "true")];
                        @if let Some(e) = error_for(errors, "timezone") { p.error-text { (e) } }
                        datalist #time-zones { @for z in form.zones { option value=(z) {} } }
                    }
                    div.actions {
                        button.button type="submit" { "Create account" }
                        a href="/signin" { "I already have an account" }
                    }
                }
            }
        },
    )
}

/// The sign-in page. `error` is the same whatever was wrong, so nobody learns which emails exist.
pub fn signin(shell: &Shell, email: &str, error: Option<&str>, next: Option<&str>) -> Markup {
    layout(
        &Page::new("Sign in").shell(shell),
        html! {
            section.narrow.card.auth-card aria-labelledby="signin-heading" {
                h1 #signin-heading { "Sign in" }
                @if let Some(error) = error {
                    div.flash.flash-error role="alert" { p { (error) } }
                }
                form method="post" action="/signin" {
                    (csrf_field(&shell.csrf))
                    @if let Some(next) = next { input type="hidden" name="next" value=(next); }
                    (field(&Field::new("email", "Email", "email").value(email).autocomplete("username")))
                    (field(&Field::new("password", "Password", "password").autocomplete("current-password")))
                    div.actions {
                        button.button type="submit" { "Sign in" }
                        a href="/password/forgot" { "Forgot your password?" }
                    }
                }
                p.muted { "New here? " a href={ "/signup" @if let Some(n) = next { "?next=" (encode(n)) } } { "Create an account" } "." }
            }
        },
    )
}

/// `s` for a query string value.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Asks for the address to send a reset link to.
pub fn forgot_password(shell: &Shell, email: &str, errors: &Errors) -> Markup {
    layout(
        &Page::new("Reset your password").shell(shell),
        html! {
            section.narrow.card.auth-card aria-labelledby="forgot-heading" {
                h1 #forgot-heading { "Reset your password" }
                p { "Enter your email address and we'll send you a link to choose a new password." }
                form method="post" action="/password/forgot" novalidate {
                    (csrf_field(&shell.csrf))
                    (field(&Field::new("email", "Email", "email").value(email).autocomplete("email")
                        .error(error_for(errors, "email"))))
                    div.actions { button.button type="submit" { "Send the link" } }
                }
            }
        },
    )
}

/// Chooses a new password with a mailed link.
pub fn reset_password(shell: &Shell, token: &str, errors: &Errors) -> Markup {
    layout(
        &Page::new("Choose a new password").shell(shell),
        html! {
            section.narrow.card.auth-card aria-labelledby="reset-heading" {
                h1 #reset-heading { "Choose a new password" }
                (error_summary(errors))
                form method="post" action={ "/password/reset/" (token) } novalidate {
                    (csrf_field(&shell.csrf))
                    (field(&Field::new("password", "New password", "password").autocomplete("new-password")
                        .help("At least 10 characters. You will be signed out everywhere else.")
                        .error(error_for(errors, "password"))))
                    div.actions { button.button type="submit" { "Save and sign in" } }
                }
            }
        },
    )
}

/// A short page with a message and one way on, e.g. "Check your inbox" or "This link has expired".
pub fn message(shell: &Shell, title: &str, text: &str, action: Option<(&str, &str)>) -> Markup {
    layout(
        &Page::new(title).shell(shell),
        html! {
            section.narrow.card.auth-card aria-labelledby="message-heading" {
                h1 #message-heading { (title) }
                p { (text) }
                @if let Some((href, label)) = action {
                    div.actions { a.button href=(href) { (label) } }
                }
            }
        },
    )
}
