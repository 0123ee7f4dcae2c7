//! Rows as Rust types. Enumerations are stored as lower-case text in both backends.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use uuid::Uuid;

use crate::domain::changes::ChangeSet;
use crate::domain::time::Viewer;
use crate::domain::{DateFormat, TimeZone};

/// Declares a text-backed enumeration with `as_str` and `TryFrom<String>`.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stored text.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                match s.as_str() {
                    $($text => Ok(Self::$variant),)+
                    other => Err(format!("unknown {} '{}'", stringify!($name), other)),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(
    /// A member's role in an organization.
    Role { Owner = "owner", Admin = "admin", Organizer = "organizer", Member = "member" }
);
text_enum!(
    /// Who sees an event.
    Visibility { Public = "public", Unlisted = "unlisted", Private = "private" }
);
text_enum!(
    /// Lifecycle of an event.
    EventStatus { Draft = "draft", Published = "published", Cancelled = "cancelled" }
);
text_enum!(
    /// A participant's part in an event.
    ParticipantRole { Organizer = "organizer", Speaker = "speaker", Volunteer = "volunteer", Attendee = "attendee" }
);
text_enum!(
    /// A participant's answer.
    Rsvp { Pending = "pending", Going = "going", Maybe = "maybe", Declined = "declined" }
);
text_enum!(
    /// What an `event_updates` row records.
    UpdateKind { Published = "published", Updated = "updated", Cancelled = "cancelled", Message = "message" }
);
text_enum!(
    /// What a notification is about. `follow_up` names the follow-up's wording only: the
    /// ledger records follow-ups as `message` (messages from the organizer).
    NoticeKind { Reminder = "reminder", Updated = "updated", Cancelled = "cancelled", Message = "message", FollowUp = "follow_up" }
);
text_enum!(
    /// Where a notification stands in the delivery ledger.
    DeliveryStatus {
        Pending = "pending", Sent = "sent", Partial = "partial", Failed = "failed", Expired = "expired", Skipped = "skipped",
        /// The sender stopped while the message was on its way (a worker killed mid-send): most
        /// likely it arrived, and it is never sent again, so nobody gets it twice.
        Uncertain = "uncertain"
    }
);

/// A person with an account.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub password_hash: Option<String>,
    pub verified_at: Option<DateTime<Utc>>,
    #[sqlx(try_from = "String")]
    pub timezone: TimeZone,
    pub locale: String,
    #[sqlx(try_from = "String")]
    pub date_format: DateFormat,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl User {
    /// How this user reads times: their zone and date format.
    pub fn viewer(&self) -> Viewer {
        Viewer::new(self.timezone, self.date_format)
    }
}

/// A signed-in browser session (the id is a hash of the cookie value).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Session {
    pub id: String,
    pub user_id: Uuid,
    pub data: Json<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A personal API token (only its hash is stored).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ApiToken {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub token_hash: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl ApiToken {
    /// Whether it still works: not revoked and not expired.
    pub fn active(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|t| t > now)
    }
}

/// An organization.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Organization {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// What its public page says about it: plain text, at most 1,000 characters (may be empty).
    pub description: String,
}

/// A user's membership of an organization.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Membership {
    pub org_id: Uuid,
    pub user_id: Uuid,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

/// An invitation to join an organization.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Invitation {
    pub id: Uuid,
    pub org_id: Uuid,
    pub email: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub token_hash: String,
    pub invited_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
}

/// A user's notification channel: one Apprise config under a random key.
/// `Debug` masks the key (a capability) and the ciphertext.
#[derive(Clone, PartialEq, sqlx::FromRow)]
pub struct Integration {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub config_key: String,
    /// The Apprise config, encrypted; never decrypted outside the integrations module.
    pub config_ciphertext: Vec<u8>,
    pub tags: Json<Vec<String>>,
    pub enabled: bool,
    pub verified_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// `apprise` (the user's own URLs) or `email` (the built-in channel to the account's address).
    pub kind: String,
}

impl Integration {
    /// Whether this is the built-in email channel (managed by Herald, not edited by its user).
    pub fn is_email(&self) -> bool {
        self.kind == "email"
    }
}

/// An event.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Event {
    pub id: Uuid,
    pub org_id: Uuid,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub location: Option<String>,
    pub online_url: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    #[sqlx(try_from = "String")]
    pub timezone: TimeZone,
    #[sqlx(try_from = "String")]
    pub visibility: Visibility,
    pub reminder_offsets: Json<Vec<i64>>,
    /// Reminders of a role's own (role name → seconds before the start), replacing
    /// `reminder_offsets` for that role.
    pub role_reminders: Json<std::collections::BTreeMap<String, Vec<i64>>>,
    /// The follow-up: seconds after the end (`None`: none).
    pub follow_up_after: Option<i64>,
    /// The follow-up's feedback link.
    pub follow_up_link: Option<String>,
    pub notify_reminders: bool,
    pub notify_changes: bool,
    pub notify_cancellation: bool,
    #[sqlx(try_from = "String")]
    pub status: EventStatus,
    pub revision: i64,
    pub workflow_id: Option<String>,
    pub workflow_started_at: Option<DateTime<Utc>>,
    /// When the workflow, started with a delay because its first notice is far off, gets its
    /// first task from Temporal (`None`: started at once, or not started).
    pub workflow_wakes_at: Option<DateTime<Utc>>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Whether visitors may answer without an account (public and unlisted events only).
    pub guests: bool,
    /// Whether the public page says how many are going and maybe.
    pub show_attendee_count: bool,
}

/// An event's cover image, as stored: its detected type and bytes.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct EventCover {
    pub event_id: Uuid,
    pub content_type: String,
    pub bytes: Vec<u8>,
    pub updated_at: DateTime<Utc>,
}

/// Someone taking part in an event: a user, or an invited address not yet signed up.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Participant {
    pub id: Uuid,
    pub event_id: Uuid,
    pub user_id: Option<Uuid>,
    pub invited_email: Option<String>,
    #[sqlx(try_from = "String")]
    pub role: ParticipantRole,
    #[sqlx(try_from = "String")]
    pub rsvp: Rsvp,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When they stopped this event's messages with the link in one (`None`: they get them).
    pub opted_out_at: Option<DateTime<Utc>>,
}

/// One of a participant's integrations chosen for an event, with its tags.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ParticipantChannel {
    pub participant_id: Uuid,
    pub integration_id: Uuid,
    pub tags: Json<Vec<String>>,
}

/// A committed change to an event: the content behind a workflow signal.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct EventUpdate {
    pub id: Uuid,
    pub event_id: Uuid,
    pub revision: i64,
    #[sqlx(try_from = "String")]
    pub kind: UpdateKind,
    pub payload: Json<serde_json::Value>,
    pub author_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub signalled_at: Option<DateTime<Utc>>,
}

impl EventUpdate {
    /// What this update changed.
    pub fn changes(&self) -> ChangeSet {
        ChangeSet::from_stored(&self.payload.0)
    }
}

/// A row of the delivery ledger.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Notification {
    pub id: Uuid,
    pub event_id: Uuid,
    pub participant_id: Option<Uuid>,
    pub integration_id: Option<Uuid>,
    #[sqlx(try_from = "String")]
    pub kind: NoticeKind,
    pub idempotency_key: String,
    #[sqlx(try_from = "String")]
    pub status: DeliveryStatus,
    pub due_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub attempts: i64,
    pub apprise_status: Option<i64>,
    pub apprise_answer: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Held for the recipient's quiet hours or digest until then (see `crate::quiet`).
    pub hold_until: Option<DateTime<Utc>>,
    /// The `deliver` attempt sending it now (its token), while its outcome is not recorded yet.
    pub sending_token: Option<Uuid>,
    /// When that attempt claimed it.
    pub sending_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for Integration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Integration")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("name", &self.name)
            .field("config_key", &"***")
            .field("config_ciphertext", &format_args!("<{} bytes>", self.config_ciphertext.len()))
            .field("tags", &self.tags.0)
            .field("enabled", &self.enabled)
            .field("verified_at", &self.verified_at)
            .finish_non_exhaustive()
    }
}
