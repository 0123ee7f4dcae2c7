//! Events for people's calendars: iCalendar files (a single event's `.ics`, an organization's
//! feed, a user's private feed) written with the `icalendar` crate, and "Add to Google Calendar"
//! and "Add to Outlook" links.
//!
//! One VEVENT per event: UID the event id (stable, so calendars update the entry they have),
//! times in UTC, SEQUENCE the event's revision (higher after every change), cancelled events
//! with STATUS:CANCELLED, and the page's URL.

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
        let mut entry = icalendar::Event::new();
        entry
            .uid(&event.id.to_string())
            .timestamp(Utc::now())
            .starts(event.starts_at)
            .ends(event.ends_at)
            .summary(&event.name)
            .url(url)
            .add_property("SEQUENCE", event.revision.max(0).to_string())
            .status(if event.status == EventStatus::Cancelled {
                IcsStatus::Cancelled
            } else {
                IcsStatus::Confirmed
            });
        if !event.description.is_empty() {
            entry.description(&event.description);
        }
        if let Some(place) = event.location.as_deref().or(event.online_url.as_deref()) {
            entry.location(place);
        }
        calendar.push(entry.done());
    }
    calendar.done().to_string()
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
    (place, format!("{url}\n\n{}", event.description.chars().take(1500).collect::<String>()))
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
