//! Events for people's calendars: iCalendar files (a single event's `.ics`, an organization's
//! feed, a user's private feed) written with the `icalendar` crate, and "Add to Google Calendar"
//! and "Add to Outlook" links, and the OpenStreetMap directions link of a place.
//!
//! One VEVENT per event: UID the event id (stable, so calendars update the entry they have),
//! times in UTC, SEQUENCE the event's revision (higher after every change), cancelled events
//! with STATUS:CANCELLED, and the page's URL. DESCRIPTION is the description as plain text
//! (Markdown taken away, links kept readable as "text (url)"). One VALARM (a display alarm) at
//! the event's last reminder before the start, the smallest offset: Herald itself sends every
//! reminder through the participant's channels, and the one a calendar is best placed to give
//! is the "it starts soon" nudge on the device in hand. None for cancelled events or events that
//! send no reminders.

use chrono::{DateTime, Utc};
use icalendar::{Calendar, Component, EventLike, EventStatus as IcsStatus, Property};

use crate::db::models::{Event, EventStatus};

/// Events as one iCalendar file; `name` names a feed (`X-WR-CALNAME`). Each event comes with the
/// absolute URL of its page.
pub fn ics(name: Option<&str>, events: &[(&Event, String)]) -> String {
    let mut calendar = Calendar::new();
    calendar.append_property(Property::new("PRODID", "-//Herald//Herald events//EN"));
    calendar.append_property(Property::new("METHOD", "PUBLISH"));
    if let Some(name) = name {
        calendar.name(name);
    }
    for (event, url) in events {
        calendar.push(vevent(event, url, event.status == EventStatus::Cancelled));
    }
    calendar.done().to_string()
}

/// One VEVENT: `cancelled` marks it STATUS:CANCELLED (and leaves out the alarm).
fn vevent(event: &Event, url: &str, cancelled: bool) -> icalendar::Event {
    let mut entry = icalendar::Event::new();
    entry
        .uid(&event.id.to_string())
        .timestamp(Utc::now())
        .starts(event.starts_at)
        .ends(event.ends_at)
        .summary(&event.name)
        .url(url)
        .add_property("SEQUENCE", event.revision.max(0).to_string())
        .status(if cancelled { IcsStatus::Cancelled } else { IcsStatus::Confirmed });
    let about = plain_text(&event.description);
    if !about.is_empty() {
        entry.description(&about);
    }
    if !cancelled && let Some(alarm) = alarm(event) {
        entry.alarm(alarm);
    }
    if let Some(place) = event.location.as_deref().or(event.online_url.as_deref()) {
        entry.location(place);
    }
    entry.done()
}

/// What a calendar invitation asks of the calendar that reads it (RFC 5546).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Put the event in the calendar, or update the entry it has (a higher SEQUENCE wins).
    Request,
    /// Take the event out: it was cancelled, or the person no longer goes.
    Cancel,
}

/// A person named in an invitation.
#[derive(Debug, Clone, Copy)]
pub struct Person<'a> {
    /// Their name, as calendars show it.
    pub name: &'a str,
    /// Their address.
    pub email: &'a str,
}

/// A calendar invitation for one attendee, as mailed with a confirmation, a change or a
/// cancellation: METHOD:REQUEST or METHOD:CANCEL, the event's stable UID (the same as in the
/// `.ics` and feeds, so one calendar entry follows every message) and its revision as SEQUENCE,
/// with the organizer and the attendee (`maybe`: tentative) that calendar clients expect.
pub fn invitation(
    event: &Event,
    url: &str,
    method: Method,
    organizer: Person<'_>,
    attendee: Person<'_>,
    maybe: bool,
) -> String {
    let mut calendar = Calendar::new();
    calendar.append_property(Property::new("PRODID", "-//Herald//Herald events//EN"));
    calendar.append_property(Property::new(
        "METHOD",
        match method {
            Method::Request => "REQUEST",
            Method::Cancel => "CANCEL",
        },
    ));
    let cancelled = method == Method::Cancel || event.status == EventStatus::Cancelled;
    let mut entry = vevent(event, url, cancelled);
    // A double quote cannot appear in a parameter value, even quoted (RFC 5545 3.2).
    let cn = |name: &str| name.replace('"', "'");
    let mut org = Property::new("ORGANIZER", format!("mailto:{}", organizer.email));
    org.add_parameter("CN", &cn(organizer.name));
    entry.append_property(org.done());
    let mut who = Property::new("ATTENDEE", format!("mailto:{}", attendee.email));
    who.add_parameter("CN", &cn(attendee.name))
        .add_parameter("ROLE", "REQ-PARTICIPANT")
        .add_parameter("PARTSTAT", if maybe { "TENTATIVE" } else { "ACCEPTED" })
        .add_parameter("RSVP", "FALSE");
    entry.append_multi_property(who.done());
    calendar.push(entry.done());
    calendar.done().to_string()
}

/// The display alarm of `event`: at its smallest reminder offset (the last reminder before the
/// start), if it sends reminders and is not cancelled.
fn alarm(event: &Event) -> Option<icalendar::Alarm> {
    if event.status == EventStatus::Cancelled || !event.notify_reminders {
        return None;
    }
    let offset = event.reminder_offsets.0.iter().copied().filter(|o| *o > 0).min()?;
    // The crate writes durations in seconds (-PT1800S); the trigger is replaced by the same
    // duration in the units people set (-PT30M), as calendars show it.
    let mut alarm = icalendar::Alarm::display(&event.name, -chrono::Duration::seconds(offset));
    alarm.append_property(Property::new("TRIGGER", before(offset)));
    Some(alarm.done())
}

/// An RFC 5545 duration `secs` before the start: `-PT30M`, `-P1D`, `-P1DT2H`.
fn before(secs: i64) -> String {
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (h, m, s) = (rest / 3600, rest % 3600 / 60, rest % 60);
    let mut out = String::from("-P");
    if days > 0 {
        out.push_str(&format!("{days}D"));
    }
    if rest > 0 {
        out.push('T');
        for (n, unit) in [(h, 'H'), (m, 'M'), (s, 'S')] {
            if n > 0 {
                out.push_str(&format!("{n}{unit}"));
            }
        }
    }
    out
}

/// Markdown as plain text for calendars: the words without the syntax, paragraphs and list
/// items on their own lines, a link as "text (url)" (just the URL when that is its text), raw
/// HTML kept as the text it is.
pub fn plain_text(md: &str) -> String {
    use pulldown_cmark::{Event as Md, Options, Parser, Tag, TagEnd};
    let mut out = String::new();
    // The destinations of the links being read, and where each link's text starts in `out`.
    let mut links: Vec<(String, usize)> = Vec::new();
    let mut lists: Vec<Option<u64>> = Vec::new();
    // Ends the line: at least `n` line breaks at the end (none at the very start).
    let newline = |out: &mut String, n: usize| {
        let kept = out.trim_end_matches(' ').len();
        out.truncate(kept);
        if out.is_empty() {
            return;
        }
        let have = out.len() - out.trim_end_matches('\n').len();
        for _ in have..n {
            out.push('\n');
        }
    };
    for ev in Parser::new_ext(md, Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES) {
        match ev {
            Md::Text(t) | Md::Code(t) | Md::Html(t) | Md::InlineHtml(t) => out.push_str(&t),
            Md::SoftBreak | Md::HardBreak => out.push('\n'),
            Md::Rule => newline(&mut out, 2),
            Md::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                links.push((dest_url.into_string(), out.len()));
            }
            Md::End(TagEnd::Link | TagEnd::Image) => {
                if let Some((url, start)) = links.pop() {
                    let text = out.get(start..).unwrap_or_default().trim().to_owned();
                    if text.is_empty() {
                        out.push_str(&url);
                    } else if text != url && !url.is_empty() {
                        out.push_str(&format!(" ({url})"));
                    }
                }
            }
            Md::Start(Tag::List(first)) => {
                newline(&mut out, 1);
                lists.push(first);
            }
            Md::End(TagEnd::List(_)) => {
                lists.pop();
                newline(&mut out, if lists.is_empty() { 2 } else { 1 });
            }
            Md::Start(Tag::Item) => {
                newline(&mut out, 1);
                let indent = "  ".repeat(lists.len().saturating_sub(1));
                match lists.last_mut() {
                    Some(Some(n)) => {
                        out.push_str(&format!("{indent}{n}. "));
                        *n += 1;
                    }
                    _ => out.push_str(&format!("{indent}- ")),
                }
            }
            Md::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::BlockQuote(_)
                | TagEnd::CodeBlock
                | TagEnd::Table,
            ) => {
                newline(&mut out, if lists.is_empty() { 2 } else { 1 });
            }
            Md::End(TagEnd::TableCell) => out.push_str(" | "),
            Md::End(TagEnd::TableRow | TagEnd::TableHead) => newline(&mut out, 1),
            _ => {}
        }
    }
    out.trim().to_owned()
}

fn compact(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// What a calendar link says besides the time: where, and the page.
fn details(event: &Event, url: &str) -> (String, String) {
    let place = event.location.clone().or_else(|| event.online_url.clone()).unwrap_or_default();
    (place, format!("{url}\n\n{}", plain_text(&event.description).chars().take(1500).collect::<String>()))
}

/// A link that searches OpenStreetMap for `place`, for directions (a plain link: the page loads
/// nothing from OpenStreetMap itself).
pub fn directions_link(place: &str) -> String {
    format!("https://www.openstreetmap.org/search?query={}", encode(place))
}

/// A link that opens Google Calendar with the event filled in.
pub fn google_link(event: &Event, url: &str) -> String {
    let (place, about) = details(event, url);
    format!(
        "https://calendar.google.com/calendar/render?action=TEMPLATE&text={}&dates={}/{}&details={}&location={}",
        encode(&event.name),
        compact(event.starts_at),
        compact(event.ends_at),
        encode(&about),
        encode(&place),
    )
}

/// A link that opens Outlook on the web with the event filled in.
pub fn outlook_link(event: &Event, url: &str) -> String {
    let (place, about) = details(event, url);
    format!(
        "https://outlook.live.com/calendar/0/deeplink/compose?path=%2Fcalendar%2Faction%2Fcompose&rru=addevent&subject={}&startdt={}&enddt={}&body={}&location={}",
        encode(&event.name),
        encode(&event.starts_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        encode(&event.ends_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        encode(&about),
        encode(&place),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_plain_text() {
        let md = "# Rust *night*\n\nBring **a laptop** and `cargo`.\nSee [the map](https://example.org/map) \
                  or <https://example.org>.\n\n- one\n- _two_\n\n1. first\n2. second\n\n> quoted ~~old~~\n\n<b>raw</b>";
        let text = plain_text(md);
        assert_eq!(
            text,
            "Rust night\n\nBring a laptop and cargo.\nSee the map (https://example.org/map) or https://example.org.\n\n\
             - one\n- two\n\n1. first\n2. second\n\nquoted old\n\n<b>raw</b>"
        );
        for syntax in ["**", "](", "# ", "`", "~~", "_two_"] {
            assert!(!text.contains(syntax), "{syntax} left in {text}");
        }
    }

    #[test]
    fn plain_text_keeps_plain_text() {
        assert_eq!(plain_text("Bring a laptop\nand a friend"), "Bring a laptop\nand a friend");
        assert_eq!(plain_text(""), "");
        assert_eq!(plain_text("[](https://example.org/x)"), "https://example.org/x");
    }

    #[test]
    fn alarm_durations() {
        assert_eq!(before(1800), "-PT30M");
        assert_eq!(before(86_400), "-P1D");
        assert_eq!(before(86_400 + 7200 + 30), "-P1DT2H30S");
        assert_eq!(before(3600), "-PT1H");
    }
}
