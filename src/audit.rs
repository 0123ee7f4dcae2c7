//! An organization's activity (who did what and when), recorded by the services right after a
//! change is committed and shown to owners and admins; and the retention of old rows.
//!
//! Entries carry a short human label (an event's name, a member's address) and sometimes a
//! short detail (a role, a count), never a channel's URL, a token or a password.

use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::config::Retention;
use crate::db::audit::AuditEntry;
use crate::db::{Db, DbError};
use crate::domain::ServiceError;
use crate::orgs::OrgAccess;

/// Entries per page.
pub const PAGE_SIZE: i64 = 50;

/// Records an entry for the organization `org_id`. The change it describes is committed
/// already, so a failure to record is logged, not returned.
pub async fn record(
    db: &Db,
    org_id: Uuid,
    actor: Option<Uuid>,
    action: &str,
    subject: &str,
    detail: Option<&str>,
) {
    let subject: String = subject.chars().take(200).collect();
    let detail: Option<String> = detail.map(|d| d.chars().take(200).collect());
    if let Err(e) = db.record_audit(org_id, actor, action, &subject, detail.as_deref()).await {
        tracing::warn!(error = %e, %org_id, action, "cannot record an activity entry");
    }
}

/// What an action code means, in words (for the page).
pub fn describe(action: &str) -> &'static str {
    match action {
        "org.renamed" => "renamed the organization",
        "org.description_changed" => "changed the organization's description",
        "member.invited" => "invited",
        "member.invitation_revoked" => "revoked the invitation of",
        "member.joined" => "joined",
        "member.role_changed" => "changed the role of",
        "member.removed" => "removed",
        "member.left" => "left",
        "event.created" => "created the event",
        "event.edited" => "edited the event",
        "event.published" => "published the event",
        "event.cancelled" => "cancelled the event",
        "event.deleted" => "deleted the event",
        "event.duplicated" => "duplicated the event",
        "participant.added" => "added a participant to",
        "participant.invited" => "invited a participant to",
        "participant.removed" => "removed a participant from",
        "participant.left" => "left the event",
        "participant.role_changed" => "changed a participant's role in",
        "participants.imported" => "imported participants into",
        "wording.changed" => "changed the wording of",
        "wording.reset" => "went back to Herald's wording of",
        "announcement.sent" => "wrote to the participants of",
        "announcement.scheduled" => "scheduled a message to the participants of",
        "announcement.cancelled" => "cancelled a scheduled message to the participants of",
        _ => "did something to",
    }
}

/// One page of the organization's activity, newest first.
#[derive(Debug, Clone)]
pub struct AuditPage {
    /// The entries.
    pub entries: Vec<AuditEntry>,
    /// The cursor of the next (older) page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// A page cursor: the time and id of the last entry shown.
pub fn encode_cursor(e: &AuditEntry) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{}|{}", e.created_at.to_rfc3339(), e.id))
}

/// The time and id a cursor names; `None` when it is not one of ours.
pub fn decode_cursor(raw: &str) -> Option<(DateTime<Utc>, i64)> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(raw.trim()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (at, id) = text.split_once('|')?;
    Some((DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc), id.parse().ok()?))
}

/// The organization's activity (owners and admins; anyone else: [`ServiceError::NotFound`]),
/// `limit` entries older than `cursor`.
pub async fn page(
    db: &Db,
    access: &OrgAccess,
    cursor: Option<(DateTime<Utc>, i64)>,
    limit: i64,
) -> Result<AuditPage, ServiceError> {
    if !access.manages_members() {
        return Err(ServiceError::NotFound);
    }
    let limit = limit.clamp(1, 200);
    let mut entries = db.audit_page(access.org.id, cursor, limit + 1).await?;
    let more = entries.len() as i64 > limit;
    entries.truncate(usize::try_from(limit).unwrap_or(50));
    let next_cursor = if more { entries.last().map(encode_cursor) } else { None };
    Ok(AuditPage { entries, next_cursor })
}

// --- Retention ---

/// How long revoked or expired API tokens stay listed before they go.
pub const TOKEN_DAYS: i64 = 30;
/// How long an idempotency key is remembered.
pub const IDEMPOTENCY_HOURS: i64 = 48;

/// What one retention pass removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Expired sessions.
    pub sessions: u64,
    /// API tokens revoked or expired more than 30 days ago.
    pub api_tokens: u64,
    /// Idempotency keys older than 48 hours.
    pub idempotency_keys: u64,
    /// Expired verification, password-reset and guest-answer links.
    pub links: u64,
    /// Delivery-ledger rows of events that ended long ago.
    pub ledger: u64,
    /// Old activity entries.
    pub audit: u64,
}

/// Removes, in small batches, what is no longer needed as of `now`.
pub async fn prune(db: &Db, retention: Retention, now: DateTime<Utc>) -> Result<Pruned, DbError> {
    let mut pruned = Pruned {
        sessions: db.prune_sessions(now).await?,
        api_tokens: db.prune_api_tokens(now - Duration::days(TOKEN_DAYS)).await?,
        idempotency_keys: db.prune_idempotency_keys(now - Duration::hours(IDEMPOTENCY_HOURS)).await?,
        links: db.prune_mailed_links(now).await?,
        ..Pruned::default()
    };
    if retention.ledger_days > 0 {
        pruned.ledger = db.prune_ledger(now - Duration::days(i64::from(retention.ledger_days))).await?;
    }
    if retention.audit_days > 0 {
        pruned.audit = db.prune_audit(now - Duration::days(i64::from(retention.audit_days))).await?;
    }
    Ok(pruned)
}
