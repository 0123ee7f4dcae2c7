//! Configs: an integration's tags and Apprise URLs, checked ([`validate_entries`]), and the
//! Apprise text config they make ([`config_text`]) and read back ([`parse_config_text`]).

use super::targets;
use std::collections::BTreeSet;

use super::redact::redact;
use super::{MAX_TAGS, MAX_URL_CHARS, MAX_URLS};
use crate::domain::FieldErrors;

/// Tags Apprise gives a meaning of its own; not usable as a channel's tag.
const RESERVED_TAGS: &[&str] = &["all", "always"];

/// Checks one tag: lower-case letters, digits, `_` and `-`, 1–32 characters; `all` and
/// `always` are reserved. Upper-case input is lower-cased (Apprise ignores case anyway).
pub fn parse_tag(raw: &str) -> Result<String, String> {
    let tag = raw.trim().to_lowercase();
    if tag.is_empty() {
        return Err("Enter a tag, or remove the empty one.".into());
    }
    if tag.chars().count() > 32 {
        return Err(format!("The tag “{}…” is too long: use 32 characters at most.", short(&tag)));
    }
    if !tag.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-') {
        return Err(format!(
            "The tag “{}” can only use letters a–z, digits, “_” and “-” (like email or phone).",
            short(&tag)
        ));
    }
    if RESERVED_TAGS.contains(&tag.as_str()) {
        return Err(format!(
            "“{tag}” is reserved by Apprise (it means every URL); choose another tag, like email or phone."
        ));
    }
    Ok(tag)
}

/// Splits a typed list of tags (“email, phone urgent”) into its parts, unchecked.
pub fn split_tags(raw: &str) -> Vec<String> {
    raw.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// The first characters of `s`, for messages (never a whole secret).
fn short(s: &str) -> String {
    s.chars().take(32).collect()
}

/// Checks one Apprise URL: `service://…`, no spaces, at most [`MAX_URL_CHARS`]. Returns it
/// trimmed, with the scheme in lower case.
pub fn parse_url(raw: &str) -> Result<String, String> {
    let url = raw.trim();
    if url.is_empty() {
        return Err("Enter an Apprise URL, like ntfys://ntfy.sh/my-topic or mailtos://….".into());
    }
    if url.chars().count() > MAX_URL_CHARS {
        return Err(format!("This URL is too long: use {MAX_URL_CHARS} characters at most."));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("Remove the spaces and line breaks from this URL.".into());
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err("This is not an Apprise URL: it starts with the service, like ntfys://, tgram://, \
             discord:// or mailtos://."
            .into());
    };
    if scheme.len() < 2 || scheme.len() > 32 || !scheme.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(
            "This is not an Apprise URL: the service before “://” is made of letters and digits only, \
             like ntfys or mailtos."
                .into(),
        );
    }
    targets::check_scheme(&scheme.to_lowercase())?;
    if rest.trim_matches('/').is_empty() {
        return Err(format!("Add the service's details after “{}://”.", scheme.to_lowercase()));
    }
    Ok(format!("{}://{rest}", scheme.to_lowercase()))
}

/// One URL of an integration with its tags (checked).
#[derive(Clone, PartialEq, Eq)]
pub struct Entry {
    /// The Apprise URL, with its secrets. Never log or render it.
    pub url: String,
    /// Lower-case tags, sorted, without duplicates.
    pub tags: Vec<String>,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry").field("url", &redact(&self.url)).field("tags", &self.tags).finish()
    }
}

/// One URL as submitted, with its tags, unchecked.
#[derive(Debug, Clone, Default)]
pub struct EntryInput {
    /// What was typed or pasted.
    pub url: String,
    /// The tags, one per item.
    pub tags: Vec<String>,
}

/// Checks every URL and tag; problems go to `errors` under `urls`, `urls[i].url` and
/// `urls[i].tags[j]`.
pub fn validate_entries(inputs: &[EntryInput], errors: &mut FieldErrors) -> Option<Vec<Entry>> {
    let before = errors.0.len();
    if inputs.is_empty() {
        errors.add("urls", "Add at least one Apprise URL.");
        return None;
    }
    if inputs.len() > MAX_URLS {
        errors.add(
            "urls",
            format!("Use {MAX_URLS} URLs at most in one channel; add another channel for more."),
        );
        return None;
    }
    let mut entries = Vec::with_capacity(inputs.len());
    let mut seen = BTreeSet::new();
    for (i, input) in inputs.iter().enumerate() {
        let n = i + 1;
        let url = match parse_url(&input.url) {
            Ok(url) => Some(url),
            Err(message) => {
                errors.add(&format!("urls[{i}].url"), format!("URL {n}: {message}"));
                None
            }
        };
        if input.tags.len() > MAX_TAGS {
            errors.add(&format!("urls[{i}].tags"), format!("URL {n}: use {MAX_TAGS} tags at most."));
        }
        let mut tags = BTreeSet::new();
        for (j, raw) in input.tags.iter().enumerate() {
            match parse_tag(raw) {
                Ok(tag) => {
                    tags.insert(tag);
                }
                Err(message) => errors.add(&format!("urls[{i}].tags[{j}]"), format!("URL {n}: {message}")),
            }
        }
        if let Some(url) = url {
            if !seen.insert(url.clone()) {
                errors.add(&format!("urls[{i}].url"), format!("URL {n} is the same as an earlier one."));
            }
            entries.push(Entry { url, tags: tags.into_iter().collect() });
        }
    }
    (errors.0.len() == before).then_some(entries)
}

/// The Apprise text config for `entries`: `tag1,tag2=url` lines, untagged URLs alone.
pub fn config_text(entries: &[Entry]) -> String {
    let mut out = String::new();
    for e in entries {
        if !e.tags.is_empty() {
            out.push_str(&e.tags.join(","));
            out.push('=');
        }
        out.push_str(&e.url);
        out.push('\n');
    }
    out
}

/// Reads back a text config written by [`config_text`].
pub fn parse_config_text(text: &str) -> Vec<Entry> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(';'))
        .map(|line| match line.split_once('=') {
            // Tags never contain ':', a URL always does before any '='.
            Some((tags, url)) if !tags.contains(':') => Entry {
                url: url.trim().to_owned(),
                tags: tags.split(',').map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect(),
            },
            _ => Entry { url: line.to_owned(), tags: Vec::new() },
        })
        .collect()
}

/// Every tag used by `entries`, sorted, once each.
pub fn all_tags(entries: &[Entry]) -> Vec<String> {
    entries.iter().flat_map(|e| e.tags.iter().cloned()).collect::<BTreeSet<_>>().into_iter().collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn input(url: &str, tags: &[&str]) -> EntryInput {
        EntryInput { url: url.into(), tags: tags.iter().map(|t| (*t).to_owned()).collect() }
    }

    #[test]
    fn tags_are_simple_tokens() {
        assert_eq!(parse_tag(" Email "), Ok("email".into()));
        assert_eq!(parse_tag("phone_2-x"), Ok("phone_2-x".into()));
        for bad in ["", "a b", "a,b", "a+b", "a|b", "a:b", "é", &"x".repeat(33)] {
            assert!(parse_tag(bad).is_err(), "{bad}");
        }
        assert!(parse_tag("all").unwrap_err().contains("reserved"));
        assert!(parse_tag("ALWAYS").unwrap_err().contains("reserved"));
        assert_eq!(split_tags("email, phone  urgent,"), vec!["email", "phone", "urgent"]);
    }

    #[test]
    fn urls_are_checked_and_errors_name_the_field() {
        assert_eq!(parse_url(" NTFYS://ntfy.sh/x "), Ok("ntfys://ntfy.sh/x".into()));
        for bad in
            ["", "ntfy.sh/topic", "ntfys://", "ntfys:///", "a b://x", "ntfys://x y", "n-t://x", "x://y"]
        {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
        assert!(parse_url(&format!("json://h/{}", "a".repeat(2100))).is_err());
        let mut errors = FieldErrors::default();
        let out = validate_entries(
            &[input("ntfys://ntfy.sh/ok", &["email"]), input("nope", &["ok", "all", "bad tag"])],
            &mut errors,
        );
        assert!(out.is_none());
        let fields: Vec<&str> = errors.0.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, vec!["urls[1].url", "urls[1].tags[1]", "urls[1].tags[2]"]);
        assert!(errors.0[0].1.starts_with("URL 2:"));
        let mut errors = FieldErrors::default();
        let many: Vec<EntryInput> = (0..21).map(|i| input(&format!("json://h/{i}"), &[])).collect();
        assert!(validate_entries(&many, &mut errors).is_none());
        assert_eq!(errors.0[0].0, "urls");
        let mut errors = FieldErrors::default();
        assert!(validate_entries(&[], &mut errors).is_none());
    }

    #[test]
    fn config_text_round_trips() {
        let mut errors = FieldErrors::default();
        let entries = validate_entries(
            &[
                input("mailtos://u:p@example.org?to=a@example.org", &["email", "Urgent"]),
                input("json://127.0.0.1:9/hook?a=b", &[]),
            ],
            &mut errors,
        )
        .unwrap_or_else(|| panic!("valid entries"));
        let text = config_text(&entries);
        assert_eq!(
            text,
            "email,urgent=mailtos://u:p@example.org?to=a@example.org\njson://127.0.0.1:9/hook?a=b\n"
        );
        assert_eq!(parse_config_text(&text), entries);
        assert_eq!(all_tags(&entries), vec!["email", "urgent"]);
    }
}
