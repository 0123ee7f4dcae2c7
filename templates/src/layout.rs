//! The frame every full page shares: head, header with navigation, main column and footer.

use maud::{DOCTYPE, Markup, html};

use crate::assets::url;
use crate::components::{FlashKind, bell_icon, flash};

/// Description used when a page gives none.
const DEFAULT_DESCRIPTION: &str = "Herald sends durable event reminders by email, Slack, Telegram \
                                   and 100+ other channels, on time, even through restarts.";

/// htmx settings. htmx's indicator styles are switched off because `herald.css` styles
/// `.htmx-indicator` itself, and injected `<style>` elements would need `style-src 'unsafe-inline'`.
const HTMX_CONFIG: &str = r#"{"includeIndicatorStyles":false}"#;

/// What the layout needs to know about the page it frames.
///
/// A plain struct with public fields so that later features (signed-in user, flash messages,
/// current section) can be added as fields; build it with [`Page::new`].
#[derive(Debug, Clone)]
pub struct Page<'a> {
    /// Page title, shown as `{title} · Herald` in the browser tab. Escaped.
    pub title: &'a str,
    /// Meta description for search engines and link previews; a generic one is used when `None`.
    pub description: Option<&'a str>,
    /// The portal around the page: who is signed in, flash messages, CSRF token.
    pub shell: Option<&'a Shell>,
    /// More tags for `<head>`, after the standard ones (Open Graph tags for link previews).
    pub head: Option<Markup>,
}

/// What the portal frame shows around every page for the current visitor.
#[derive(Debug, Clone, Default)]
pub struct Shell {
    /// The signed-in user, if any.
    pub user: Option<ShellUser>,
    /// The CSRF token every form and htmx request must carry.
    pub csrf: String,
    /// Messages from the previous request (after a redirect).
    pub flashes: Vec<(FlashKind, String)>,
    /// The user's organizations, for the switcher.
    pub orgs: Vec<ShellOrg>,
    /// Slug of the organization being viewed, if any.
    pub current_org: Option<String>,
    /// Show the log-only notice (no Apprise API): set for operators only, shown once per page.
    pub log_only_notice: bool,
}

/// The signed-in user as the frame shows them.
#[derive(Debug, Clone)]
pub struct ShellUser {
    /// Display name.
    pub name: String,
    /// Email address.
    pub email: String,
    /// Whether the address is verified.
    pub verified: bool,
}

/// An organization in the switcher.
#[derive(Debug, Clone)]
pub struct ShellOrg {
    /// URL slug.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// The user's role there.
    pub role: String,
}

impl<'a> Page<'a> {
    /// A page with this title and no description of its own.
    pub fn new(title: &'a str) -> Self {
        Self { title, description: None, shell: None, head: None }
    }

    /// The same page inside the portal frame of `shell`.
    pub fn shell(mut self, shell: &'a Shell) -> Self {
        self.shell = Some(shell);
        self
    }

    /// The same page with more tags in `<head>`.
    pub fn with_head(mut self, head: Markup) -> Self {
        self.head = Some(head);
        self
    }

    /// The same page with a meta description.
    pub fn with_description(mut self, description: &'a str) -> Self {
        self.description = Some(description);
        self
    }
}

/// A full HTML document around `main`, the page's own content.
///
/// `main` is placed inside `<main id="main">` within the centred content column; the skip link
/// at the top of the body jumps there.
pub fn layout(page: &Page<'_>, main: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (page.title) " · Herald" }
                meta name="description" content=(page.description.unwrap_or(DEFAULT_DESCRIPTION));
                meta name="color-scheme" content="light dark";
                meta name="theme-color" media="(prefers-color-scheme: light)" content="#ffffff";
                meta name="theme-color" media="(prefers-color-scheme: dark)" content="#1b1a2b";
                meta name="htmx-config" content=(HTMX_CONFIG);
                link rel="icon" type="image/svg+xml" href=(url("favicon.svg"));
                link rel="stylesheet" href=(url("herald.css"));
                script src=(url("htmx.min.js")) defer {}
                script src=(url("herald.js")) defer {}
                @if let Some(head) = &page.head { (head) }
            }
            body hx-headers=[page.shell.map(|s| csrf_header(&s.csrf))] {
                a.skip-link href="#main" { "Skip to main content" }
                header.site-header {
                    div.container {
                        a.brand href="/" { (bell_icon()) span { "Herald" } }
                        // Shown by herald.js on narrow screens; without it the navigation stays open.
                        button.menu-button type="button" aria-expanded="false" aria-controls="site-nav" hidden { "Menu" }
                        nav.site-nav #site-nav aria-label="Main" {
                            ul { (nav_items(page.shell)) }
                        }
                    }
                }
                // tabindex lets the skip link move keyboard focus here in every browser.
                main #main tabindex="-1" {
                    div.container {
                        @if let Some(shell) = page.shell {
                            @if shell.user.as_ref().is_some_and(|u| !u.verified) {
                                (unverified_banner(&shell.csrf))
                            }
                            @if shell.log_only_notice { (log_only_notice()) }
                            @for (kind, message) in &shell.flashes { (flash(*kind, message)) }
                        }
                        (main)
                    }
                }
                footer.site-footer {
                    div.container {
                        p { "Herald · durable event reminders" }
                        ul {
                            li { a href="/healthz" { "Health" } }
                            li { a href="/readyz" { "Readiness" } }
                        }
                    }
                }
            }
        }
    }
}

/// htmx sends this header with every request, so htmx-driven changes pass the CSRF check.
fn csrf_header(token: &str) -> String {
    serde_like_json_object("X-CSRF-Token", token)
}

/// `{"key":"value"}` with JSON string escaping (tokens are URL-safe, but be strict anyway).
fn serde_like_json_object(key: &str, value: &str) -> String {
    let esc =
        |s: &str| s.chars().filter(|c| c.is_ascii_alphanumeric() || "-_.~".contains(*c)).collect::<String>();
    format!(r#"{{"{}":"{}"}}"#, esc(key), esc(value))
}

/// A hidden field carrying the CSRF token; every POST form includes it.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="_csrf" value=(token); }
}

fn nav_items(shell: Option<&Shell>) -> Markup {
    html! {
        @match shell.and_then(|s| s.user.as_ref().map(|u| (s, u))) {
            Some((shell, user)) => {
                li { a href="/orgs" { "Organizations" } }
                li { a href="/integrations" { "Channels" } }
                @if !shell.orgs.is_empty() {
                    li.org-switcher {
                        details {
                            summary {
                                @match shell.current_org.as_deref().and_then(|c| shell.orgs.iter().find(|o| o.slug == c)) {
                                    Some(current) => {
                                        span.visually-hidden { "Switch organization. Current: " }
                                        (current.name)
                                    }
                                    None => "Switch organization",
                                }
                            }
                            ul {
                                @for org in &shell.orgs {
                                    li {
                                        a href={ "/orgs/" (org.slug) }
                                            aria-current=[(shell.current_org.as_deref() == Some(org.slug.as_str())).then_some("page")] {
                                            (org.name) span.muted.small { " · " (org.role) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                li { a href="/account" title=(user.email) { (user.name) } }
                li {
                    form.inline method="post" action="/signout" {
                        (csrf_field(&shell.csrf))
                        button.link-button type="submit" { "Sign out" }
                    }
                }
            }
            None => {
                li { a href="/signin" { "Sign in" } }
                li { a.button href="/signup" { "Sign up" } }
            }
        }
    }
}

/// For operators only: Herald runs without an Apprise API, so nothing is sent.
fn log_only_notice() -> Markup {
    html! {
        div.flash.flash-warning #log-only-notice role="status" {
            div.flash-body { p {
                strong { "Log-only mode. " }
                "HERALD_APPRISE_URL is not set, so Herald sends nothing: confirmation codes and notices "
                "are written to its log and recorded as skipped. Only operators see this notice."
            } }
        }
    }
}

fn unverified_banner(csrf: &str) -> Markup {
    html! {
        div.flash.flash-warning role="status" {
            div.flash-body {
            p {
                strong { "Please verify your email address. " }
                "Until you do, you cannot create organizations, add notification channels or be notified. "
                "We sent you a link."
            }
            form.inline method="post" action="/verify/resend" {
                (csrf_field(csrf))
                button.link-button type="submit" { "Send the link again" }
            }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assets::assets;

    fn render(title: &str) -> String {
        layout(&Page::new(title), html! { p { "Hello" } }).into_string()
    }

    #[test]
    fn links_hashed_assets() {
        let html = render("Events");
        for asset in assets() {
            let href = format!("/static/{}", asset.hashed_name);
            assert!(html.contains(&href), "missing {href}");
        }
        assert!(html.contains(r#"rel="stylesheet""#));
        assert!(html.contains(&format!(r#"<script src="{}" defer>"#, url("htmx.min.js"))));
    }

    #[test]
    fn frames_the_page_accessibly() {
        let html = render("Events");
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains(r#"<html lang="en">"#));
        assert!(html.contains(r#"<meta charset="utf-8">"#));
        assert!(html.contains(r#"name="viewport""#));
        assert!(html.contains("<title>Events · Herald</title>"));
        assert!(html.contains(r##"<a class="skip-link" href="#main">"##));
        assert!(html.contains(r#"<main id="main""#));
        assert!(html.contains(r#"<nav class="site-nav" id="site-nav" aria-label="Main">"#));
        assert!(html.contains("<p>Hello</p>"));
        assert!(html.contains(DEFAULT_DESCRIPTION));
    }

    #[test]
    fn the_log_only_notice_is_shown_once_when_asked() {
        let shell = Shell { log_only_notice: true, ..Shell::default() };
        let html = layout(&Page::new("Events").shell(&shell), html! {}).into_string();
        assert_eq!(html.matches("Log-only mode").count(), 1);
        let html = layout(&Page::new("Events").shell(&Shell::default()), html! {}).into_string();
        assert!(!html.contains("Log-only mode"));
    }

    #[test]
    fn escapes_the_title_and_description() {
        let page = Page::new("<script>alert(1)</script>").with_description(r#""><script>x()</script>"#);
        let html = layout(&page, html! {}).into_string();
        assert!(!html.contains("<script>alert"));
        assert!(!html.contains("<script>x()"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; · Herald"));
        assert!(html.contains("&quot;&gt;&lt;script&gt;"));
    }
}
