//! Quiet hours and the daily digest: what a person chose, and what it does to each notice.
//!
//! - **Urgent** notices (a cancellation, a change within 24 hours of the start, a held notice
//!   being released) always go at once.
//! - **Reminders** are never held (a late reminder is no reminder): one due inside someone's
//!   quiet hours goes to them just before the quiet hours begin instead (see
//!   `src/delivery/held.rs`).
//! - **Non-urgent** notices (a change more than 24 hours before the start, and kinds such as
//!   announcements and follow-ups) wait until the quiet hours end, or, for someone who chose a
//!   daily digest, until their digest time, where they go together as one message per channel.
//!
//! [`urgency`] is the one rule; a new kind of notice plugs in with its own arm.

use chrono::{DateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use herald_workflows::NoticeSpec;
use uuid::Uuid;

use crate::db::Db;
use crate::db::models::Event;
use crate::db::quiet::QuietRow;
pub use crate::domain::quiet::{EARLY_LEAD, QuietHours, clock_text, next_daily, parse_clock};
use crate::domain::{FieldErrors, ServiceError, TimeZone};

/// How a notice treats quiet hours and digests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    /// Goes at once, whatever the hour.
    Urgent,
    /// Waits for the end of the quiet hours, or for the digest.
    Normal,
    /// Never waits: goes before the quiet hours begin when it would fall inside them.
    Reminder,
}

/// A change this close to the start is urgent.
pub const URGENT_WITHIN: chrono::Duration = chrono::Duration::hours(24);

/// How `notice` about `event` treats its recipients' quiet hours and digests at `now`.
pub fn urgency(notice: &NoticeSpec, event: &Event, now: DateTime<Utc>) -> Urgency {
    match notice {
        NoticeSpec::Reminder { .. } | NoticeSpec::EarlyReminder { .. } => Urgency::Reminder,
        NoticeSpec::Cancelled { .. } | NoticeSpec::Release { .. } => Urgency::Urgent,
        // An organizer's message close to the start is as pressing as a change then.
        // A thank-you after the event can wait for the morning.
        NoticeSpec::FollowUp { .. } => Urgency::Normal,
        NoticeSpec::Changes { .. } | NoticeSpec::Announcement { .. } => {
            if event.starts_at - now <= URGENT_WITHIN { Urgency::Urgent } else { Urgency::Normal }
        }
    }
}

/// One person's quiet hours and digest, in their zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Their time zone.
    pub zone: Tz,
    /// Their quiet hours, if any.
    pub quiet: Option<QuietHours>,
    /// When their daily digest goes, if they chose one.
    pub digest_at: Option<NaiveTime>,
}

impl Settings {
    /// As stored; a value that no longer parses counts as not set.
    pub fn from_row(row: &QuietRow) -> Self {
        let quiet = match (&row.quiet_start, &row.quiet_end) {
            (Some(a), Some(b)) => match (parse_clock(a), parse_clock(b)) {
                (Ok(a), Ok(b)) => QuietHours::new(a, b).ok(),
                _ => None,
            },
            _ => None,
        };
        Self {
            zone: TimeZone::from(row.timezone.clone()).0,
            quiet,
            digest_at: row.digest_at.as_deref().and_then(|d| parse_clock(d).ok()),
        }
    }

    /// Until when a notice of `urgency` due at `now` waits, and whether for the digest
    /// (`None`: it goes now).
    pub fn hold_until(&self, urgency: Urgency, now: DateTime<Utc>) -> Option<(DateTime<Utc>, bool)> {
        if urgency != Urgency::Normal {
            return None;
        }
        if let Some(at) = self.digest_at {
            return Some((next_daily(at, self.zone, now), true));
        }
        let (_, end) = self.quiet?.period_at(self.zone, now)?;
        Some((end, false))
    }

    /// When a reminder due at `due` goes to this person instead (`None`: at its time).
    pub fn early_slot(&self, due: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.quiet?.early_slot(self.zone, due)
    }
}

/// What a person's quiet hours and digest are, as typed or shown (`HH:MM`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuietView {
    /// Start and end of the quiet hours.
    pub quiet: Option<(String, String)>,
    /// The digest time.
    pub digest_at: Option<String>,
}

/// A change to the settings: `None` keeps a value, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct QuietUpdate {
    /// Quiet hours: start and end as typed.
    pub quiet: Option<Option<(String, String)>>,
    /// The digest time as typed.
    pub digest_at: Option<Option<String>>,
}

/// The user's settings, for pages and the API.
pub async fn view(db: &Db, user_id: Uuid) -> Result<QuietView, ServiceError> {
    let row = db.quiet_settings(user_id).await?;
    let s = Settings::from_row(&row);
    Ok(QuietView {
        quiet: s.quiet.map(|q| (clock_text(q.start()), clock_text(q.end()))),
        digest_at: s.digest_at.map(clock_text),
    })
}

/// Checks `update` against the current settings; every problem at once, under `quiet_start`,
/// `quiet_end` and `digest_at`.
pub fn validate(current: &QuietView, update: &QuietUpdate) -> Result<QuietView, FieldErrors> {
    let mut errors = FieldErrors::default();
    let quiet = match &update.quiet {
        None => current.quiet.as_ref().and_then(|(a, b)| Some((parse_clock(a).ok()?, parse_clock(b).ok()?))),
        Some(None) => None,
        Some(Some((a, b))) => {
            let a = errors.check("quiet_start", parse_clock(a));
            let b = errors.check("quiet_end", parse_clock(b));
            match (a, b) {
                (Some(a), Some(b)) => errors.check("quiet_end", QuietHours::new(a, b).map(|_| (a, b))),
                _ => None,
            }
        }
    };
    let digest = match &update.digest_at {
        None => current.digest_at.as_deref().and_then(|d| parse_clock(d).ok()),
        Some(None) => None,
        Some(Some(d)) => errors.check("digest_at", parse_clock(d)),
    };
    if let (Some((a, b)), Some(d)) = (quiet, digest)
        && QuietHours::new(a, b).is_ok_and(|q| q.contains_clock(d))
    {
        errors.add(
            "digest_at",
            format!(
                "Your digest would come during your quiet hours ({}–{}); choose a time outside them.",
                clock_text(a),
                clock_text(b)
            ),
        );
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(QuietView {
        quiet: quiet.map(|(a, b)| (clock_text(a), clock_text(b))),
        digest_at: digest.map(clock_text),
    })
}

/// Saves the user's quiet hours and digest (`zone_changed`: their time zone changed, which moves
/// them too). The workflows of their events still to come are asked to read their plans again,
/// durably (outbox rows in the same transaction), so reminders move to the new quiet hours.
pub async fn save(
    db: &Db,
    user_id: Uuid,
    update: &QuietUpdate,
    zone_changed: bool,
) -> Result<QuietView, ServiceError> {
    let current = view(db, user_id).await?;
    let next = validate(&current, update).map_err(ServiceError::Invalid)?;
    if next == current && !zone_changed {
        return Ok(next);
    }
    let quiet = next.quiet.as_ref().map(|(a, b)| (a.as_str(), b.as_str()));
    let refreshed = db.save_quiet_settings(user_id, quiet, next.digest_at.as_deref()).await?;
    tracing::info!(%user_id, refreshed, "quiet hours and digest saved");
    Ok(next)
}

// --- Turning the digest off from the digest itself ---

/// The digest's `List-Unsubscribe` link: it turns that person's daily digest off (after one
/// click on the page it opens, or one POST as RFC 8058 mail clients send). A digest gathers
/// several events, so the per-event opt-out would not be what "unsubscribe" asks; turning the
/// digest off stops that mail without silencing anything else (the notices then come one by
/// one). The token names the user and is signed: nobody can make one for someone else.
pub fn digest_off_path(keys: &crate::secrets::SecretKey, user_id: Uuid) -> String {
    use base64::Engine;
    let mac = keys.sign("digest-off", user_id.as_bytes());
    let mut raw = user_id.as_bytes().to_vec();
    raw.extend_from_slice(&mac[..16]);
    format!("/digest-off/{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw))
}

/// The user a digest-off token names, when it is genuine.
fn digest_off_user(keys: &crate::secrets::SecretKey, token: &str) -> Option<Uuid> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.as_bytes()).ok()?;
    let (id, mac) = (raw.get(..16)?, raw.get(16..)?);
    let id = Uuid::from_slice(id).ok()?;
    let expected = keys.sign("digest-off", id.as_bytes());
    crate::secrets::constant_time_eq(mac, &expected[..16]).then_some(id)
}

/// The settings of the person a digest-off link names ([`ServiceError::NotFound`] for a forged
/// token or an account that is gone).
pub async fn digest_by_link(
    db: &Db,
    keys: &crate::secrets::SecretKey,
    token: &str,
) -> Result<QuietView, ServiceError> {
    let user_id = digest_off_user(keys, token).ok_or(ServiceError::NotFound)?;
    view(db, user_id).await
}

/// Turns off the daily digest of the person a digest-off link names (quiet hours stay); doing
/// it twice changes nothing.
pub async fn stop_digest_by_link(
    db: &Db,
    keys: &crate::secrets::SecretKey,
    token: &str,
) -> Result<QuietView, ServiceError> {
    let user_id = digest_off_user(keys, token).ok_or(ServiceError::NotFound)?;
    let off = QuietUpdate { quiet: None, digest_at: Some(None) };
    let next = save(db, user_id, &off, false).await?;
    tracing::info!(%user_id, "daily digest turned off from its mail");
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(quiet: Option<(&str, &str)>, digest: Option<&str>) -> QuietView {
        QuietView { quiet: quiet.map(|(a, b)| (a.into(), b.into())), digest_at: digest.map(Into::into) }
    }

    #[test]
    fn settings_are_checked_with_reasons() {
        let none = QuietView::default();
        let set = QuietUpdate { quiet: Some(Some(("22:00".into(), "7:00".into()))), digest_at: None };
        assert_eq!(validate(&none, &set).ok(), Some(view(Some(("22:00", "07:00")), None)));
        let bad = QuietUpdate {
            quiet: Some(Some(("10pm".into(), "10pm".into()))),
            digest_at: Some(Some("8".into())),
        };
        let errors = validate(&none, &bad).err().unwrap_or_default();
        let fields: Vec<&str> = errors.0.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, vec!["quiet_start", "quiet_end", "digest_at"]);
        let same = QuietUpdate { quiet: Some(Some(("22:00".into(), "22:00".into()))), digest_at: None };
        assert!(validate(&none, &same).is_err());
        // A digest inside the quiet hours would never be read when it comes.
        let current = view(Some(("22:00", "07:00")), None);
        let night = QuietUpdate { quiet: None, digest_at: Some(Some("06:30".into())) };
        let errors = validate(&current, &night).err().unwrap_or_default();
        assert!(errors.0[0].1.contains("during your quiet hours (22:00–07:00)"), "{errors:?}");
        let morning = QuietUpdate { quiet: None, digest_at: Some(Some("08:00".into())) };
        assert_eq!(validate(&current, &morning).ok(), Some(view(Some(("22:00", "07:00")), Some("08:00"))));
        let off = QuietUpdate { quiet: Some(None), digest_at: Some(None) };
        assert_eq!(validate(&current, &off).ok(), Some(QuietView::default()));
    }

    #[test]
    fn only_normal_notices_wait() {
        let paris = Settings {
            zone: chrono_tz::Europe::Paris,
            quiet: QuietHours::new(
                NaiveTime::from_hms_opt(22, 0, 0).unwrap_or_default(),
                NaiveTime::from_hms_opt(7, 0, 0).unwrap_or_default(),
            )
            .ok(),
            digest_at: None,
        };
        let night =
            DateTime::parse_from_rfc3339("2026-12-02T23:00:00Z").map(|t| t.to_utc()).unwrap_or_default();
        let morning =
            DateTime::parse_from_rfc3339("2026-12-03T06:00:00Z").map(|t| t.to_utc()).unwrap_or_default();
        assert_eq!(paris.hold_until(Urgency::Normal, night), Some((morning, false)));
        assert_eq!(paris.hold_until(Urgency::Urgent, night), None);
        assert_eq!(paris.hold_until(Urgency::Reminder, night), None);
        assert_eq!(paris.hold_until(Urgency::Normal, morning), None, "the quiet hours are over");
        let digest = Settings { digest_at: NaiveTime::from_hms_opt(8, 0, 0), ..paris };
        let eight =
            DateTime::parse_from_rfc3339("2026-12-03T07:00:00Z").map(|t| t.to_utc()).unwrap_or_default();
        assert_eq!(digest.hold_until(Urgency::Normal, morning), Some((eight, true)));
    }
}
