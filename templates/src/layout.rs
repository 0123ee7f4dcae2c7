//! The frame every full page shares: head, header with navigation, main column and footer.

use maud::{DOCTYPE, Markup, html};

use crate::assets::url;
use crate::components::bell_icon;

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
}

impl<'a> Page<'a> {
    /// A page with this title and no description of its own.
    pub fn new(title: &'a str) -> Self {
        Self { title, description: None }
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
            }
            body {
                a.skip-link href="#main" { "Skip to main content" }
                header.site-header {
                    div.container {
                        a.brand href="/" { (bell_icon()) span { "Herald" } }
                        nav.site-nav aria-label="Main" {
                            ul {
                                li { a href="/" { "Home" } }
                                // Later: Events, Channels, Organization, and the account menu
                                // (sign in / the signed-in user), each an `li` here.
                            }
                        }
                    }
                }
                // tabindex lets the skip link move keyboard focus here in every browser.
                main #main tabindex="-1" {
                    div.container { (main) }
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
        assert!(html.contains(r#"<nav class="site-nav" aria-label="Main">"#));
        assert!(html.contains("<p>Hello</p>"));
        assert!(html.contains(DEFAULT_DESCRIPTION));
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
