//! Quiet hours and the daily digest as times: a person's local clock times in their own zone,
//! turned into instants across midnight and daylight-saving changes. Pure: no clock, no I/O.
//!
//! How a local clock time that does not exist once becomes an instant, on purpose:
//! - **skipped** (the clocks go forward, say 02:30 on the spring night in Paris): the moment the
//!   clocks jump, the first instant after the gap;
//! - **repeated** (the clocks go back, say 01:30 on the autumn night in New York): quiet hours
//!   begin at its first occurrence and end at its second, so the night is quiet for its whole
//!   length; a digest goes at the first occurrence, once.

use chrono::{
    DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone as _, Timelike, Utc,
};
use chrono_tz::Tz;

/// How long before the quiet hours begin a reminder that would fall inside them is sent.
pub const EARLY_LEAD: Duration = Duration::seconds(5);

/// A daily quiet period, `start` to `end` in the person's zone; it crosses midnight when `end`
/// is earlier than `start` (22:00–07:00). Never empty: `start != end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    start: NaiveTime,
    end: NaiveTime,
}

/// Parses a clock time: `HH:MM` (or `HH:MM:SS`), 24-hour.
pub fn parse_clock(raw: &str) -> Result<NaiveTime, String> {
    let s = raw.trim();
    NaiveTime::parse_from_str(s, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M:%S"))
        .map_err(|_| format!("'{s}' is not a time of day; write it like 22:00 (24-hour clock)."))
}

/// A clock time as stored and shown: `22:00`, or `22:00:30` when it has seconds.
pub fn clock_text(t: NaiveTime) -> String {
    if t.second() == 0 { t.format("%H:%M").to_string() } else { t.format("%H:%M:%S").to_string() }
}

impl QuietHours {
    /// From `start` to `end`; the same time twice is refused (would it be always or never?).
    pub fn new(start: NaiveTime, end: NaiveTime) -> Result<Self, String> {
        if start == end {
            return Err("Quiet hours need an end different from their start.".into());
        }
        Ok(Self { start, end: end.with_nanosecond(0).unwrap_or(end) })
    }

    /// When they begin.
    pub fn start(&self) -> NaiveTime {
        self.start
    }

    /// When they end.
    pub fn end(&self) -> NaiveTime {
        self.end
    }

    /// Whether the local clock time `t` is inside (start included, end excluded).
    pub fn contains_clock(&self, t: NaiveTime) -> bool {
        if self.start < self.end { self.start <= t && t < self.end } else { t >= self.start || t < self.end }
    }

    /// The quiet period that begins on the local day `day`, as instants.
    fn period_from(&self, tz: Tz, day: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
        let end_day = if self.end > self.start { day } else { day + Duration::days(1) };
        let from = resolve(tz, day.and_time(self.start), Occurrence::First);
        let to = resolve(tz, end_day.and_time(self.end), Occurrence::Last);
        (from, to)
    }

    /// The quiet period holding instant `t` (start included, end excluded), if any.
    pub fn period_at(&self, tz: Tz, t: DateTime<Utc>) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let today = t.with_timezone(&tz).date_naive();
        [today - Duration::days(1), today]
            .into_iter()
            .map(|day| self.period_from(tz, day))
            .find(|(from, to)| *from <= t && t < *to)
    }

    /// When a reminder due at `due` goes instead: [`EARLY_LEAD`] before the quiet period that
    /// holds `due` begins (`None`: `due` is not in quiet hours).
    pub fn early_slot(&self, tz: Tz, due: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.period_at(tz, due).map(|(from, _)| from - EARLY_LEAD)
    }
}

/// The first instant after `now` whose local time in `tz` is `at` (a digest's next time).
pub fn next_daily(at: NaiveTime, tz: Tz, now: DateTime<Utc>) -> DateTime<Utc> {
    let today = now.with_timezone(&tz).date_naive();
    (0..3)
        .map(|d| resolve(tz, (today + Duration::days(d)).and_time(at), Occurrence::First))
        .find(|t| *t > now)
        .unwrap_or(now + Duration::days(1))
}

/// Which occurrence of a repeated local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Occurrence {
    First,
    Last,
}

/// The instant of `local` in `tz`: a repeated time by `which`, a skipped one as the moment the
/// clocks jump.
fn resolve(tz: Tz, local: NaiveDateTime, which: Occurrence) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(a, b) => match which {
            Occurrence::First => a.min(b).with_timezone(&Utc),
            Occurrence::Last => a.max(b).with_timezone(&Utc),
        },
        LocalResult::None => {
            // In a gap: the first whole local minute after it is the moment of the jump.
            let minute = local.with_second(0).unwrap_or(local).with_nanosecond(0).unwrap_or(local);
            (1..=24 * 60)
                .find_map(|m| tz.from_local_datetime(&(minute + Duration::minutes(m))).earliest())
                .map_or_else(|| Utc.from_utc_datetime(&local), |t| t.with_timezone(&Utc))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).map(|t| t.to_utc()).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn hm(s: &str) -> NaiveTime {
        parse_clock(s).unwrap_or_else(|e| panic!("{e}"))
    }

    fn quiet(a: &str, b: &str) -> QuietHours {
        QuietHours::new(hm(a), hm(b)).unwrap_or_else(|e| panic!("{e}"))
    }

    const PARIS: Tz = chrono_tz::Europe::Paris;
    const NEW_YORK: Tz = chrono_tz::America::New_York;

    #[test]
    fn clock_times_parse_with_clear_errors() {
        assert_eq!(clock_text(hm("7:05")), "07:05");
        assert_eq!(clock_text(hm("22:00:30")), "22:00:30");
        assert!(parse_clock("25:00").is_err_and(|e| e.contains("like 22:00")));
        assert!(parse_clock("10pm").is_err());
        assert!(QuietHours::new(hm("22:00"), hm("22:00")).is_err());
    }

    #[test]
    fn quiet_hours_cross_midnight() {
        let q = quiet("22:00", "07:00");
        assert!(
            q.contains_clock(hm("23:59")) && q.contains_clock(hm("00:00")) && q.contains_clock(hm("06:59"))
        );
        assert!(!q.contains_clock(hm("07:00")) && !q.contains_clock(hm("21:59")));
        // 23:30 in Paris (winter, UTC+1) is inside the night from 22:00 to 07:00.
        let (from, to) = q.period_at(PARIS, utc("2026-12-02T22:30:00Z")).unwrap_or_else(|| panic!("quiet"));
        assert_eq!((from, to), (utc("2026-12-02T21:00:00Z"), utc("2026-12-03T06:00:00Z")));
        // 03:00 the next morning belongs to the same night.
        assert_eq!(q.period_at(PARIS, utc("2026-12-03T02:00:00Z")), Some((from, to)));
        assert_eq!(q.period_at(PARIS, utc("2026-12-03T06:00:00Z")), None, "the end is not quiet");
        let day = quiet("12:00", "14:00");
        assert_eq!(
            day.period_at(PARIS, utc("2026-12-02T11:30:00Z")),
            Some((utc("2026-12-02T11:00:00Z"), utc("2026-12-02T13:00:00Z")))
        );
    }

    #[test]
    fn a_reminder_in_quiet_hours_goes_just_before_they_begin() {
        let q = quiet("22:00", "07:00");
        assert_eq!(
            q.early_slot(PARIS, utc("2026-12-03T05:00:00Z")),
            Some(utc("2026-12-02T21:00:00Z") - EARLY_LEAD)
        );
        assert_eq!(q.early_slot(PARIS, utc("2026-12-03T07:00:00Z")), None);
    }

    #[test]
    fn the_spring_night_in_paris() {
        // 29 March 2026: at 02:00 CET the clocks go to 03:00 CEST.
        let q = quiet("22:00", "07:00");
        // 22:00 CET on the 28th = 21:00Z; 07:00 CEST on the 29th = 05:00Z: an hour shorter.
        let night = q.period_at(PARIS, utc("2026-03-29T00:30:00Z"));
        assert_eq!(night, Some((utc("2026-03-28T21:00:00Z"), utc("2026-03-29T05:00:00Z"))));
        // The night after, both ends are summer time.
        assert_eq!(
            q.period_at(PARIS, utc("2026-03-29T21:00:00Z")),
            Some((utc("2026-03-29T20:00:00Z"), utc("2026-03-30T05:00:00Z")))
        );
        // 02:30 does not exist that night: a start or an end there is the jump, 01:00Z.
        let from_gap = quiet("02:30", "06:00");
        assert_eq!(
            from_gap.period_at(PARIS, utc("2026-03-29T02:00:00Z")),
            Some((utc("2026-03-29T01:00:00Z"), utc("2026-03-29T04:00:00Z")))
        );
        let to_gap = quiet("23:00", "02:30");
        assert_eq!(
            to_gap.period_at(PARIS, utc("2026-03-28T23:00:00Z")),
            Some((utc("2026-03-28T22:00:00Z"), utc("2026-03-29T01:00:00Z")))
        );
        // A digest at 02:30 goes at the jump that day, and at 02:30 CEST the day after.
        assert_eq!(next_daily(hm("02:30"), PARIS, utc("2026-03-28T22:00:00Z")), utc("2026-03-29T01:00:00Z"));
        assert_eq!(next_daily(hm("02:30"), PARIS, utc("2026-03-29T01:00:00Z")), utc("2026-03-30T00:30:00Z"));
    }

    #[test]
    fn the_autumn_night_in_paris_and_new_york() {
        // 25 October 2026 in Paris: 03:00 CEST becomes 02:00 CET; "22:00 local" on the 24th is
        // still summer time, and the night is an hour longer.
        let q = quiet("22:00", "07:00");
        assert_eq!(
            q.period_at(PARIS, utc("2026-10-25T01:30:00Z")),
            Some((utc("2026-10-24T20:00:00Z"), utc("2026-10-25T06:00:00Z")))
        );
        // 1 November 2026 in New York: 01:30 happens twice (EDT, then EST).
        let to_repeat = quiet("22:00", "01:30");
        // It begins at 22:00 EDT (02:00Z) and ends at the second 01:30 (06:30Z).
        let night = to_repeat.period_at(NEW_YORK, utc("2026-11-01T05:45:00Z"));
        assert_eq!(night, Some((utc("2026-11-01T02:00:00Z"), utc("2026-11-01T06:30:00Z"))));
        let from_repeat = quiet("01:30", "05:00");
        // It begins at the first 01:30 (05:30Z).
        assert_eq!(
            from_repeat.period_at(NEW_YORK, utc("2026-11-01T05:40:00Z")),
            Some((utc("2026-11-01T05:30:00Z"), utc("2026-11-01T10:00:00Z")))
        );
        // A digest at 01:30 goes once, at the first 01:30 EDT; the next is the day after, EST.
        let first = next_daily(hm("01:30"), NEW_YORK, utc("2026-11-01T00:00:00Z"));
        assert_eq!(first, utc("2026-11-01T05:30:00Z"));
        assert_eq!(next_daily(hm("01:30"), NEW_YORK, first), utc("2026-11-02T06:30:00Z"));
        // A reminder due at 00:30 EST the night the clocks go back goes before 22:00 EDT.
        assert_eq!(
            q.early_slot(NEW_YORK, utc("2026-11-01T05:30:00Z")),
            Some(utc("2026-11-01T02:00:00Z") - EARLY_LEAD)
        );
    }
}
