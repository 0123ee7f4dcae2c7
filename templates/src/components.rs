//! Small building blocks shared by pages: flash messages, empty states, status badges and icons.
//!
//! Every icon is inline SVG marked `aria-hidden`, coloured through CSS classes (no `style`
//! attributes), so pages work under a strict `style-src 'self'` Content Security Policy and follow
//! dark mode. Meaning is never carried by colour alone: each badge and flash also has words.

use maud::{Markup, html};

/// The kind of a [`flash`] message, which sets its colour, icon and how urgently assistive
/// technology announces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlashKind {
    /// Neutral information.
    Info,
    /// Something the user asked for worked.
    Success,
    /// Worked, but needs the user's attention.
    Warning,
    /// Did not work.
    Error,
}

impl FlashKind {
    /// CSS modifier class, e.g. `flash-error`.
    fn class(self) -> &'static str {
        match self {
            Self::Info => "flash-info",
            Self::Success => "flash-success",
            Self::Warning => "flash-warning",
            Self::Error => "flash-error",
        }
    }

    /// Word read out before the message, so the kind is not told by colour alone.
    fn label(self) -> &'static str {
        match self {
            Self::Info => "Note:",
            Self::Success => "Done:",
            Self::Warning => "Warning:",
            Self::Error => "Error:",
        }
    }

    /// Warnings and errors interrupt a screen reader (`alert`); the rest wait their turn (`status`).
    fn role(self) -> &'static str {
        match self {
            Self::Warning | Self::Error => "alert",
            Self::Info | Self::Success => "status",
        }
    }

    fn icon(self) -> Markup {
        html! {
            svg viewBox="0 0 20 20" fill="none" stroke="currentColor" stroke-width="1.8"
                stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false" {
                @match self {
                    Self::Info => {
                        circle cx="10" cy="10" r="8" {}
                        path d="M10 9v5M10 6.2v.1" {}
                    }
                    Self::Success => {
                        circle cx="10" cy="10" r="8" {}
                        path d="M6.5 10.5l2.5 2.5 4.5-5" {}
                    }
                    Self::Warning => {
                        path d="M10 2.8L18 17H2z" {}
                        path d="M10 8v4M10 14.6v.1" {}
                    }
                    Self::Error => {
                        circle cx="10" cy="10" r="8" {}
                        path d="M7 7l6 6M13 7l-6 6" {}
                    }
                }
            }
        }
    }
}

/// A flash message box, e.g. "Event saved" after a redirect.
///
/// ```
/// use herald_templates::components::{FlashKind, flash};
/// let html = flash(FlashKind::Success, "Event saved").into_string();
/// assert!(html.contains("flash-success") && html.contains("Event saved"));
/// ```
pub fn flash(kind: FlashKind, message: &str) -> Markup {
    html! {
        div class={ "flash " (kind.class()) } role=(kind.role()) {
            (kind.icon())
            p { span.visually-hidden { (kind.label()) " " } (message) }
        }
    }
}

/// A friendly placeholder for a list with nothing in it yet, with an optional call to action
/// given as `(href, label)`.
///
/// The title is a strong paragraph, not a heading, so the block fits at any depth of a page's
/// heading outline.
pub fn empty_state(title: &str, text: &str, action: Option<(&str, &str)>) -> Markup {
    html! {
        div.empty-state {
            (bell_icon())
            p.empty-state-title { strong { (title) } }
            p { (text) }
            @if let Some((href, label)) = action {
                div.actions { a.button href=(href) { (label) } }
            }
        }
    }
}

/// A pill showing whether something is up: green with a tick when `ok`, red with a cross
/// otherwise. `label` is the visible word ("OK", "Down", "Connected"…).
pub fn status_badge(ok: bool, label: &str) -> Markup {
    html! {
        span class={ "badge " (if ok { "badge-ok" } else { "badge-down" }) } {
            svg viewBox="0 0 12 12" fill="none" stroke="currentColor" stroke-width="2"
                stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false" {
                @if ok {
                    path d="M2.5 6.5l2.2 2.2L9.5 3.5" {}
                } @else {
                    path d="M3 3l6 6M9 3L3 9" {}
                }
            }
            (label)
        }
    }
}

/// Herald's bell mark (the same drawing as the favicon), decorative and sized by CSS.
pub fn bell_icon() -> Markup {
    html! {
        svg viewBox="0 0 32 32" aria-hidden="true" focusable="false" {
            circle.ill-ink cx="16" cy="4.5" r="2.25" {}
            path.ill-bell.ill-ink-outline stroke-width="2" stroke-linejoin="round"
                d="M16 6.5c-5 0-8 3.6-8 8.5v4.6L5 23.5h22l-3-3.9V15c0-4.9-3-8.5-8-8.5z" {}
            path.ill-ink d="M12.5 25.5h7a3.5 3.5 0 0 1-7 0z" {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flash_escapes_and_labels_its_kind() {
        let html = flash(FlashKind::Error, "<b>nope</b>").into_string();
        assert!(html.contains(r#"class="flash flash-error""#));
        assert!(html.contains(r#"role="alert""#));
        assert!(html.contains("Error:"));
        assert!(html.contains("&lt;b&gt;nope&lt;/b&gt;"));
        let info = flash(FlashKind::Info, "hi").into_string();
        assert!(info.contains(r#"role="status""#));
    }

    #[test]
    fn empty_state_action_is_optional() {
        let with = empty_state("No events yet", "Create one.", Some(("/events/new", "New event")));
        assert!(with.0.contains(r#"href="/events/new""#));
        assert!(with.0.contains("New event"));
        let without = empty_state("No events yet", "Create one.", None).into_string();
        assert!(!without.contains("<a "));
    }

    #[test]
    fn status_badge_shows_state_in_words_and_class() {
        assert!(status_badge(true, "OK").0.contains(r#"class="badge badge-ok""#));
        let down = status_badge(false, "Down").into_string();
        assert!(down.contains("badge-down") && down.contains("Down"));
    }
}
