//! Parse, don't validate: values that reach handlers and the repository are already valid.
//! Each `parse` returns a message meant for the person who typed the value.

pub mod changes;
mod errors;
pub mod quiet;
pub mod time;

use std::fmt;

pub use errors::{FieldErrors, ServiceError};

/// A lower-cased email address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Trims, lower-cases and checks the shape `local@domain.tld`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim().to_lowercase();
        if s.is_empty() {
            return Err("Enter an email address.".into());
        }
        if s.len() > 254 {
            return Err("That email address is too long (254 characters at most).".into());
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err("Enter an email address like name@example.org.".into());
        };
        let ok = !local.is_empty()
            && local.len() <= 64
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !s
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"'))
            && domain.chars().all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        if ok { Ok(Self(s)) } else { Err("Enter an email address like name@example.org.".into()) }
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Said when a text holds invisible control characters.
pub const CONTROL_CHARACTERS: &str = "Remove the control characters (invisible characters such as NUL).";

/// Whether `s` holds a character no name or text should: NUL and the other control characters
/// (line breaks and tabs are fine in `multiline` text) and the Unicode line and paragraph
/// separators, which break lines where no one sees a break.
pub fn has_unwanted_chars(s: &str, multiline: bool) -> bool {
    s.chars().any(|c| {
        let allowed_break = multiline && matches!(c, '\n' | '\r' | '\t');
        (c.is_control() && !allowed_break) || matches!(c, '\u{2028}' | '\u{2029}')
    })
}

/// A new password: long enough to resist guessing, short enough to hash quickly.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

impl Password {
    /// Minimum length, in characters.
    pub const MIN: usize = 10;

    /// Checks length only: long passphrases beat composition rules.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let n = raw.chars().count();
        if n < Self::MIN {
            return Err(format!("Use at least {} characters.", Self::MIN));
        }
        if raw.len() > 1024 {
            return Err("That password is too long (1024 bytes at most).".into());
        }
        Ok(Self(raw.to_owned()))
    }

    /// The password itself; only for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A person's or an organization's display name: 1–100 characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    /// Trims and checks the length.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("Enter a name.".into());
        }
        if s.chars().count() > 100 {
            return Err("Use 100 characters at most.".into());
        }
        if has_unwanted_chars(s, false) {
            return Err(CONTROL_CHARACTERS.into());
        }
        Ok(Self(s.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A URL slug: lower-case letters, digits and single hyphens, 2–64 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slug(String);

/// Slugs that would collide with Herald's own paths.
const RESERVED_SLUGS: &[&str] = &["new", "api", "admin", "static", "settings", "healthz", "readyz"];

impl Slug {
    /// Checks the characters and length.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        if s.len() < 2 || s.len() > 64 {
            return Err("Use 2 to 64 characters.".into());
        }
        if !s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            || s.starts_with('-')
            || s.ends_with('-')
            || s.contains("--")
        {
            return Err("Use lower-case letters, digits and single hyphens (like my-club).".into());
        }
        if RESERVED_SLUGS.contains(&s) {
            return Err(format!("'{s}' is reserved; choose another."));
        }
        Ok(Self(s.to_owned()))
    }

    /// A slug proposal from a name: "Rust Meetup Paris!" → "rust-meetup-paris".
    pub fn suggest(name: &str) -> String {
        let mut out = String::new();
        for c in name.trim().chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                out.push(c);
            } else if !out.ends_with('-') && !out.is_empty() {
                out.push('-');
            }
        }
        out.trim_end_matches('-').chars().take(64).collect::<String>().trim_end_matches('-').to_owned()
    }

    /// The slug.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An IANA time zone name, such as `Europe/Paris`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone(pub chrono_tz::Tz);

impl TimeZone {
    /// Accepts exactly the IANA names chrono-tz knows.
    pub fn parse(raw: &str) -> Result<Self, String> {
        raw.trim()
            .parse::<chrono_tz::Tz>()
            .map(Self)
            .map_err(|_| format!("'{}' is not a known time zone; use a name like Europe/Paris.", raw.trim()))
    }

    /// The IANA name.
    pub fn name(&self) -> &'static str {
        self.0.name()
    }
}

/// A stored zone was checked when it was saved; one that the time zone database no longer knows
/// reads as UTC, and the log says so.
impl From<String> for TimeZone {
    fn from(raw: String) -> Self {
        Self::parse(&raw).unwrap_or_else(|_| {
            tracing::warn!(zone = %raw, "a stored time zone is unknown; using UTC");
            Self(chrono_tz::UTC)
        })
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How dates are written for a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateFormat {
    /// 2026-11-22
    Iso,
    /// 22/11/2026
    DayFirst,
    /// 11/22/2026
    MonthFirst,
}

impl DateFormat {
    /// Every format, for forms.
    pub const ALL: [Self; 3] = [Self::Iso, Self::DayFirst, Self::MonthFirst];

    /// Stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Iso => "iso",
            Self::DayFirst => "dmy",
            Self::MonthFirst => "mdy",
        }
    }

    /// An example, for forms.
    pub fn example(self) -> &'static str {
        match self {
            Self::Iso => "2026-11-22",
            Self::DayFirst => "22/11/2026",
            Self::MonthFirst => "11/22/2026",
        }
    }

    /// Parses a stored or typed value.
    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|f| f.as_str() == raw.trim()).ok_or_else(|| {
            "Choose one of the date formats. Use iso (2026-11-22), dmy (22/11/2026) or mdy (11/22/2026)."
                .to_owned()
        })
    }
}

/// A stored format that is no longer known reads as ISO.
impl From<String> for DateFormat {
    fn from(raw: String) -> Self {
        Self::parse(&raw).unwrap_or(Self::Iso)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_characters_are_refused_in_names_and_texts() {
        for bad in ["Ada\0", "A\u{000B}da", "A\u{0085}da", "A\u{2028}da", "A\u{2029}da", "Ada\nKing"] {
            assert!(Name::parse(bad).is_err(), "{bad:?}");
        }
        assert!(!has_unwanted_chars("Line one\nLine two\twith a tab", true), "breaks in multi-line text");
        assert!(has_unwanted_chars("Line one\u{0}", true));
        assert!(Name::parse("Ada Lovelace").is_ok());
    }

    #[test]
    fn emails() {
        assert_eq!(Email::parse("  Ada@Example.ORG ").map(|e| e.0), Ok("ada@example.org".into()));
        for bad in ["", "ada", "ada@", "@example.org", "ada@example", "a b@example.org", "ada@exa_mple.org"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn slugs() {
        assert!(Slug::parse("rust-paris").is_ok());
        for bad in ["a", "Rust", "rust--paris", "-rust", "rust_paris", "new"] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Slug::suggest("Rust Meetup, Paris!"), "rust-meetup-paris");
    }

    #[test]
    fn time_zones_and_passwords() {
        assert_eq!(TimeZone::parse("Europe/Paris").map(|t| t.name()), Ok("Europe/Paris"));
        assert!(TimeZone::parse("Mars/Olympus").is_err());
        assert!(Password::parse("short").is_err());
        assert!(Password::parse("correct horse battery").is_ok());
        assert_eq!(format!("{:?}", Password::parse("correct horse battery")), "Ok(Password(***))");
    }
}
