//! One home for how times are written for people: pages, notifications, invitations and feeds
//! all word an instant through a [`Viewer`], the reader's time zone and date format.
//!
//! | format | [`Viewer::moment`]           | [`Viewer::short`]  |
//! |--------|------------------------------|--------------------|
//! | `iso`  | `Wed 2026-12-02, 19:30 CET`  | `2026-12-02 19:30` |
//! | `dmy`  | `Wed 2 Dec 2026, 19:30 CET`  | `02/12/2026 19:30` |
//! | `mdy`  | `Wed Dec 2, 2026, 19:30 CET` | `12/02/2026 19:30` |

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::{DateFormat, TimeZone};

/// How one reader sees times: their time zone and their date format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    /// Where the reader is.
    pub zone: TimeZone,
    /// How they write dates.
    pub format: DateFormat,
}

impl Viewer {
    /// UTC, ISO dates: for anonymous readers without a zone of their own.
    pub const UTC: Self = Self { zone: TimeZone(chrono_tz::UTC), format: DateFormat::Iso };

    /// A reader in `zone` who writes dates as `format`.
    pub fn new(zone: TimeZone, format: DateFormat) -> Self {
        Self { zone, format }
    }

    /// Someone without preferences (an invitee): `zone`, with the month in words, which no
    /// reader can misread.
    pub fn stranger(zone: TimeZone) -> Self {
        Self { zone, format: DateFormat::DayFirst }
    }

    /// The same reader's format in another zone (an event's own time).
    pub fn in_zone(self, zone: TimeZone) -> Self {
        Self { zone, ..self }
    }

    /// The zone.
    pub fn tz(&self) -> Tz {
        self.zone.0
    }

    /// The date with its weekday: `Wed 2026-12-02`, `Wed 2 Dec 2026` or `Wed Dec 2, 2026`.
    pub fn date(&self, t: DateTime<Utc>) -> String {
        let pattern = match self.format {
            DateFormat::Iso => "%a %Y-%m-%d",
            DateFormat::DayFirst => "%a %-d %b %Y",
            DateFormat::MonthFirst => "%a %b %-d, %Y",
        };
        t.with_timezone(&self.tz()).format(pattern).to_string()
    }

    /// The clock time with the zone's abbreviation: `19:30 CET`.
    pub fn clock(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.tz()).format("%H:%M %Z").to_string()
    }

    /// An instant in words: `Wed 2026-12-02, 19:30 CET`.
    pub fn moment(&self, t: DateTime<Utc>) -> String {
        format!("{}, {}", self.date(t), self.clock(t))
    }

    /// An instant for tables: `2026-12-02 19:30`, `02/12/2026 19:30` or `12/02/2026 19:30`.
    pub fn short(&self, t: DateTime<Utc>) -> String {
        let pattern = match self.format {
            DateFormat::Iso => "%Y-%m-%d %H:%M",
            DateFormat::DayFirst => "%d/%m/%Y %H:%M",
            DateFormat::MonthFirst => "%m/%d/%Y %H:%M",
        };
        t.with_timezone(&self.tz()).format(pattern).to_string()
    }

    /// From start to end, the date said once when both fall on the same day, and the zone's
    /// name: `Wed 2026-12-02, 19:30 – 22:00 CET (Europe/Paris)`. When the clocks change in
    /// between, both times carry their abbreviation (`01:30 EDT – 03:00 EST`).
    pub fn span(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> String {
        let tz = self.tz();
        let (s, e) = (start.with_timezone(&tz), end.with_timezone(&tz));
        if s.date_naive() != e.date_naive() {
            return format!("{} – {} ({})", self.moment(start), self.moment(end), self.zone.name());
        }
        let start_time = if s.format("%Z").to_string() == e.format("%Z").to_string() {
            s.format("%H:%M").to_string()
        } else {
            self.clock(start)
        };
        format!("{}, {start_time} – {} ({})", self.date(start), self.clock(end), self.zone.name())
    }
}

/// Every time zone a person would pick, for searchable lists: the IANA `Area/City` names and
/// `UTC`, without the legacy aliases (`US/Eastern`, `Etc/GMT+5`, …), sorted.
pub fn zone_names() -> &'static [&'static str] {
    static NAMES: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
        let mut names: Vec<&'static str> = chrono_tz::TZ_VARIANTS
            .iter()
            .map(|tz| tz.name())
            .filter(|n| {
                *n == "UTC"
                    || (n.contains('/')
                        && [
                            "Africa/",
                            "America/",
                            "Antarctica/",
                            "Asia/",
                            "Atlantic/",
                            "Australia/",
                            "Europe/",
                            "Indian/",
                            "Pacific/",
                        ]
                        .iter()
                        .any(|area| n.starts_with(area)))
            })
            .collect();
        names.sort_unstable();
        names
    });
    &NAMES
}

/// An instant as a machine reads it (`<time datetime>`, JSON): `2026-12-02T18:30:00Z`.
pub fn machine(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// An instant as a `datetime-local` form field shows it in `zone`: `2026-12-02T19:30`.
pub fn form_value(t: DateTime<Utc>, zone: TimeZone) -> String {
    t.with_timezone(&zone.0).format("%Y-%m-%dT%H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_names_are_the_ones_people_pick() {
        let names = zone_names();
        assert!(
            names.contains(&"Europe/Paris") && names.contains(&"America/New_York") && names.contains(&"UTC")
        );
        assert!(!names.contains(&"US/Eastern") && !names.contains(&"Etc/GMT+5"));
        assert!(names.len() > 300 && names.windows(2).all(|w| w[0] < w[1]));
    }
    use chrono::TimeZone as _;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single().unwrap_or_else(|| panic!("bad time"))
    }

    fn viewer(zone: &str, format: DateFormat) -> Viewer {
        Viewer::new(TimeZone::parse(zone).unwrap_or_else(|e| panic!("{e}")), format)
    }

    #[test]
    fn each_date_format_reads_as_its_readers_write() {
        let t = at(2026, 12, 2, 18, 30);
        assert_eq!(viewer("Europe/Paris", DateFormat::Iso).moment(t), "Wed 2026-12-02, 19:30 CET");
        assert_eq!(viewer("Europe/Paris", DateFormat::DayFirst).moment(t), "Wed 2 Dec 2026, 19:30 CET");
        assert_eq!(viewer("Europe/Paris", DateFormat::MonthFirst).moment(t), "Wed Dec 2, 2026, 19:30 CET");
        assert_eq!(viewer("Europe/Paris", DateFormat::DayFirst).short(t), "02/12/2026 19:30");
        assert_eq!(viewer("America/New_York", DateFormat::MonthFirst).short(t), "12/02/2026 13:30");
    }

    #[test]
    fn a_span_says_the_date_once_on_one_day_and_twice_across_midnight() {
        let paris = viewer("Europe/Paris", DateFormat::Iso);
        assert_eq!(
            paris.span(at(2026, 12, 2, 18, 30), at(2026, 12, 2, 21, 0)),
            "Wed 2026-12-02, 19:30 – 22:00 CET (Europe/Paris)"
        );
        assert_eq!(
            paris.span(at(2026, 12, 2, 22, 30), at(2026, 12, 3, 1, 0)),
            "Wed 2026-12-02, 23:30 CET – Thu 2026-12-03, 02:00 CET (Europe/Paris)"
        );
        // The night the clocks go back in New York: 01:30 happens twice.
        let ny = viewer("America/New_York", DateFormat::DayFirst);
        assert_eq!(
            ny.span(at(2027, 11, 7, 5, 30), at(2027, 11, 7, 8, 0)),
            "Sun 7 Nov 2027, 01:30 EDT – 03:00 EST (America/New_York)"
        );
    }

    #[test]
    fn the_zone_decides_the_local_day() {
        // 23:30 UTC on the 2nd is already the 3rd in Tokyo.
        let t = at(2026, 12, 2, 23, 30);
        assert_eq!(viewer("Asia/Tokyo", DateFormat::Iso).date(t), "Thu 2026-12-03");
        assert_eq!(form_value(t, TimeZone(chrono_tz::Asia::Tokyo)), "2026-12-03T08:30");
        assert_eq!(machine(t), "2026-12-02T23:30:00Z");
    }
}
