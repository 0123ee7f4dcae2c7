//! What changed in an event: stored with each update (`event_updates.payload`), shown in the
//! event's history, told to participants in a change notice, and returned by the API.
//!
//! The stored JSON is `{"time": {"old": {starts_at, ends_at, timezone}, "new": …}, "place":
//! {"old", "new"}, "link": …, "status": …, "fields": ["name", …]}`; every key is optional.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One value before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change<T> {
    /// Before.
    pub old: T,
    /// After.
    pub new: T,
}

/// When an event happens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timing {
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// IANA zone name.
    pub timezone: String,
}

/// A field whose change is noted by name only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Field {
    /// The name.
    Name,
    /// The description.
    Description,
    /// Who sees it.
    Visibility,
    /// The reminder offsets.
    Reminders,
    /// Which notices participants get.
    Notices,
}

impl Field {
    /// The field in words, for history lines.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Description => "description",
            Self::Visibility => "visibility",
            Self::Reminders => "reminders",
            Self::Notices => "notices",
        }
    }
}

/// Everything that changed in one update (or, merged, over several).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeSet {
    /// Start, end or zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<Change<Timing>>,
    /// The place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<Change<Option<String>>>,
    /// The online link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<Change<Option<String>>>,
    /// Draft, published or cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Change<String>>,
    /// Other fields, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
}

impl ChangeSet {
    /// Reads a stored payload; one that cannot be read counts as "nothing we can describe"
    /// (logged), so an odd row never stops a page or a notice.
    pub fn from_stored(payload: &serde_json::Value) -> Self {
        serde_json::from_value(payload.clone()).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "an event update's change set cannot be read");
            Self::default()
        })
    }

    /// As stored.
    pub fn to_stored(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// Whether `field` is among the fields noted by name.
    pub fn mentions(&self, field: Field) -> bool {
        self.fields.contains(&field)
    }

    /// Whether the start or the reminders changed (what re-arms reminders).
    pub fn touches_schedule(&self) -> bool {
        self.time.is_some() || self.mentions(Field::Reminders)
    }

    /// This set followed by `later`: the oldest "old" and the newest "new" of each value; a
    /// value changed and changed back is dropped.
    pub fn then(mut self, later: Self) -> Self {
        fn merge<T: PartialEq>(slot: &mut Option<Change<T>>, later: Option<Change<T>>) {
            if let Some(later) = later {
                *slot = Some(match slot.take() {
                    Some(earlier) => Change { old: earlier.old, new: later.new },
                    None => later,
                });
            }
        }
        merge(&mut self.time, later.time);
        merge(&mut self.place, later.place);
        merge(&mut self.link, later.link);
        merge(&mut self.status, later.status);
        for f in later.fields {
            if !self.fields.contains(&f) {
                self.fields.push(f);
            }
        }
        self.time = self.time.filter(|c| c.old != c.new);
        self.place = self.place.filter(|c| c.old != c.new);
        self.link = self.link.filter(|c| c.old != c.new);
        self.status = self.status.filter(|c| c.old != c.new);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stored_payloads_of_every_shape_read_back() {
        let stored = json!({
            "time": {"old": {"starts_at": "2026-12-02T18:30:00+00:00", "ends_at": "2026-12-02T21:00:00+00:00", "timezone": "Europe/Paris"},
                     "new": {"starts_at": "2026-12-03T18:30:00+00:00", "ends_at": "2026-12-03T21:00:00+00:00", "timezone": "Europe/Paris"}},
            "place": {"old": null, "new": "Town hall"},
            "status": {"old": "draft", "new": "published"},
            "fields": ["name", "reminders"]
        });
        let set = ChangeSet::from_stored(&stored);
        assert_eq!(set.place, Some(Change { old: None, new: Some("Town hall".into()) }));
        assert!(set.touches_schedule() && set.mentions(Field::Name) && !set.mentions(Field::Notices));
        assert_eq!(ChangeSet::from_stored(&set.to_stored()), set);
        assert_eq!(ChangeSet::from_stored(&json!({})), ChangeSet::default());
        assert_eq!(ChangeSet::from_stored(&json!({"time": 3})), ChangeSet::default(), "unreadable");
    }

    #[test]
    fn merging_keeps_the_oldest_old_and_the_newest_new_and_drops_undone_changes() {
        let place = |o: Option<&str>, n: Option<&str>| ChangeSet {
            place: Some(Change { old: o.map(str::to_owned), new: n.map(str::to_owned) }),
            ..ChangeSet::default()
        };
        let merged = place(Some("A"), Some("B")).then(place(Some("B"), Some("C")));
        assert_eq!(merged.place, Some(Change { old: Some("A".into()), new: Some("C".into()) }));
        let undone = place(Some("A"), Some("B")).then(place(Some("B"), Some("A")));
        assert_eq!(undone.place, None);
    }
}
