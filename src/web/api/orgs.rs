//! `/api/v1/orgs…`: organizations, members and invitations.
//!
//! The same rules as the pages ([`crate::orgs`]): a non-member gets 404 for everything of an
//! organization (checked before the body is read), a role that does not allow the action gets
//! 403 with the reason, the last owner rule answers 409, bad fields 422 naming each one (a taken
//! slug is a `slug` field problem).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::access::ApiOrg;
use super::{ApiError, ApiJson, ApiUser, Problem};
use crate::db::models::{Invitation, Organization, Role};
use crate::db::orgs::{Member, OpenInvitation};
use crate::domain::FieldErrors;
use crate::orgs::{self};
use crate::web::AppState;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_orgs, create_org))
        .routes(routes!(get_org, update_org, delete_org))
        .routes(routes!(list_members))
        .routes(routes!(update_member, remove_member))
        .routes(routes!(leave_org))
        .routes(routes!(list_invitations, create_invitation))
        .routes(routes!(revoke_invitation))
        .routes(routes!(resend_invitation))
        .routes(routes!(list_audit))
        .routes(routes!(get_report))
}

/// One day of answers in the report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportDay {
    /// The UTC day, `YYYY-MM-DD`.
    pub day: String,
    /// Answers "going" last changed that day.
    pub going: u64,
    /// Answers "maybe" last changed that day.
    pub maybe: u64,
    /// Answers "declined" last changed that day.
    pub declined: u64,
}

/// One bar of the report: what is counted and how many.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportCount {
    /// A status (`sent`, `partial`, `failed`, `expired`, `skipped`, `pending`), a channel kind
    /// (`email`, `apprise`, `none`) or a lateness bucket (`under 1 s`, `1–5 s`, `5–30 s`,
    /// `30 s–2 min`, `over 2 min`).
    pub key: String,
    /// How many.
    pub count: u64,
}

/// The organization's report over the last 30 UTC days (the numbers of the Report page).
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgReport {
    /// The first day covered, `YYYY-MM-DD`.
    pub since: String,
    /// The last day covered (today, UTC).
    pub until: String,
    /// Participants' answers per day, counted on the day each was last changed, oldest first.
    pub answers: Vec<ReportDay>,
    /// Ledger rows due in the period, by status.
    pub deliveries_by_status: Vec<ReportCount>,
    /// Ledger rows due in the period, by channel kind (`none`: the person had no channel).
    pub deliveries_by_channel: Vec<ReportCount>,
    /// Reminders sent in the period, by how long after their due time they went.
    pub reminder_lateness: Vec<ReportCount>,
}

/// The organization's report: answers per day, deliveries by status and by channel kind, and
/// reminder lateness over the last 30 days (owners, admins and organizers; other members get
/// 403, like the activity).
#[utoipa::path(get, path = "/orgs/{slug}/report", tag = "organizations",
    params(("slug" = String, Path, description = "The organization's slug")),
    responses((status = 200, body = OrgReport),
        (status = 403, description = "Not an owner, admin or organizer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organization, or not a member", body = Problem, content_type = "application/problem+json")))]
async fn get_report(State(state): State<AppState>, o: ApiOrg) -> Result<ApiJson<OrgReport>, ApiError> {
    if !crate::events::manages_events(o.access.role) {
        return Err(crate::domain::ServiceError::Forbidden(format!(
            "Only owners, admins and organizers can see the organization's report; your role here is {}.",
            o.access.role
        ))
        .into());
    }
    let r = crate::reports::org_report(&state.db, &o.access, Utc::now()).await?;
    let counts = |rows: &[(&'static str, u64)]| {
        rows.iter().map(|(k, n)| ReportCount { key: (*k).to_owned(), count: *n }).collect::<Vec<_>>()
    };
    Ok(ApiJson(OrgReport {
        since: r.since.format("%Y-%m-%d").to_string(),
        until: r.until.format("%Y-%m-%d").to_string(),
        answers: r
            .answers
            .iter()
            .map(|d| ReportDay {
                day: d.day.format("%Y-%m-%d").to_string(),
                going: d.going,
                maybe: d.maybe,
                declined: d.declined,
            })
            .collect(),
        deliveries_by_status: counts(&r.by_status),
        deliveries_by_channel: counts(&r.by_channel),
        reminder_lateness: counts(&r.lateness),
    }))
}

/// One entry of an organization's activity.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditItem {
    /// When.
    pub at: DateTime<Utc>,
    /// Who did it; absent when the account is gone.
    pub actor_user_id: Option<Uuid>,
    /// Their address, when the account still exists.
    pub actor_email: Option<String>,
    /// What was done: `org.renamed`, `org.description_changed`, `member.invited`,
    /// `member.invitation_revoked`, `member.joined`, `member.role_changed`, `member.removed`,
    /// `member.left`, `event.created`, `event.edited`, `event.published`, `event.cancelled`,
    /// `event.deleted`, `event.duplicated`, `participant.added`, `participant.invited`,
    /// `participant.removed`, `participant.left`, `participant.role_changed`,
    /// `participants.imported`.
    pub action: String,
    /// What it was done to: an event's name, a member's address, the organization's name.
    pub subject: String,
    /// A short detail (a role, a count, a participant's address).
    pub detail: Option<String>,
}

/// One page of the activity, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// Entries, newest first.
    pub items: Vec<AuditItem>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Paging of the activity.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Page size: default 50, at most 200.
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The organization's activity: who did what and when, newest first (owners and admins; other
/// members get 403, like the invitations).
#[utoipa::path(get, path = "/orgs/{slug}/audit", tag = "organizations",
    params(("slug" = String, Path, description = "The organization's slug"), AuditParams),
    responses((status = 200, body = AuditPage),
        (status = 403, description = "Not an owner or admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organization, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json")))]
async fn list_audit(
    State(state): State<AppState>,
    o: ApiOrg,
    axum::extract::Query(q): axum::extract::Query<AuditParams>,
) -> Result<ApiJson<AuditPage>, ApiError> {
    if !o.access.manages_members() {
        return Err(crate::domain::ServiceError::Forbidden(format!(
            "Only owners and admins can see the organization's activity; your role here is {}.",
            o.access.role
        ))
        .into());
    }
    let mut errors = FieldErrors::default();
    let limit = q.limit.unwrap_or(crate::audit::PAGE_SIZE);
    if !(1..=200).contains(&limit) {
        errors.add("limit", "Use a limit from 1 to 200.");
    }
    let cursor = match q.cursor.as_deref() {
        Some(c) => {
            let decoded = crate::audit::decode_cursor(c);
            if decoded.is_none() {
                errors.add("cursor", "This cursor is not valid; use the next_cursor of a previous page.");
            }
            decoded
        }
        None => None,
    };
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let page = crate::audit::page(&state.db, &o.access, cursor, limit).await?;
    let items = page
        .entries
        .into_iter()
        .map(|e| AuditItem {
            at: e.created_at,
            actor_user_id: e.actor_user_id,
            actor_email: e.actor_email,
            action: e.action,
            subject: e.subject,
            detail: e.detail,
        })
        .collect();
    Ok(ApiJson(AuditPage { items, next_cursor: page.next_cursor }))
}

/// A member's role in an organization.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ApiRole {
    /// Everything, including renaming and deleting the organization.
    Owner,
    /// Invites, removes and changes the roles of members (but not owners).
    Admin,
    /// Creates and manages the organization's events.
    Organizer,
    /// Sees the organization's private events.
    Member,
}

impl From<Role> for ApiRole {
    fn from(r: Role) -> Self {
        match r {
            Role::Owner => Self::Owner,
            Role::Admin => Self::Admin,
            Role::Organizer => Self::Organizer,
            Role::Member => Self::Member,
        }
    }
}

/// One of the caller's organizations.
#[derive(Debug, Serialize, ToSchema)]
pub struct Org {
    /// URL slug, unique across Herald.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// The caller's role.
    pub role: ApiRole,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl Org {
    fn new(org: &Organization, role: Role) -> Self {
        Self { slug: org.slug.clone(), name: org.name.clone(), role: role.into(), created_at: org.created_at }
    }
}

/// An organization with its member count.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgDetail {
    /// URL slug, unique across Herald.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// The caller's role.
    pub role: ApiRole,
    /// What its public page says about it: plain text, at most 1,000 characters (may be empty).
    pub description: String,
    /// How many members it has.
    pub member_count: i64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

async fn detail(state: &AppState, org: &Organization, role: Role) -> Result<OrgDetail, ApiError> {
    Ok(OrgDetail {
        slug: org.slug.clone(),
        name: org.name.clone(),
        role: role.into(),
        description: org.description.clone(),
        member_count: state.db.member_count(org.id).await?,
        created_at: org.created_at,
        updated_at: org.updated_at,
    })
}

/// A new organization.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrg {
    /// Display name, 1–100 characters.
    #[schema(example = "Rust Paris", min_length = 1, max_length = 100)]
    pub name: String,
    /// URL slug: lower-case letters, digits and single hyphens, 2–64 characters. Proposed
    /// from the name when left out.
    #[schema(example = "rust-paris", min_length = 1, max_length = 64, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    #[serde(default)]
    pub slug: Option<String>,
}

/// Changes to an organization; fields left out stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgChanges {
    /// New display name, 1–100 characters.
    #[serde(default)]
    pub name: Option<String>,
    /// What the public page says about the organization: plain text, at most 1,000
    /// characters; empty removes it.
    #[schema(max_length = 1000)]
    #[serde(default)]
    pub description: Option<String>,
}

/// A member of an organization.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgMember {
    /// The member's user id.
    pub user_id: Uuid,
    /// Email address.
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// Role in the organization.
    pub role: ApiRole,
    /// When they joined.
    pub joined_at: DateTime<Utc>,
}

impl From<&Member> for OrgMember {
    fn from(m: &Member) -> Self {
        Self {
            user_id: m.user_id,
            email: m.email.clone(),
            display_name: m.display_name.clone(),
            role: m.role.into(),
            joined_at: m.joined_at,
        }
    }
}

/// A role change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberChanges {
    /// The new role: `owner`, `admin`, `organizer` or `member`. Only owners may give or take
    /// `owner`; the last owner keeps it.
    #[schema(value_type = ApiRole)]
    #[serde(default)]
    pub role: String,
}

/// An open invitation.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgInvitation {
    /// Invitation id.
    pub id: Uuid,
    /// Invited address.
    pub email: String,
    /// Role on acceptance.
    pub role: ApiRole,
    /// Name of who sent it, if still known.
    pub invited_by: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When its link stops working.
    pub expires_at: DateTime<Utc>,
    /// Whether the link has stopped working (re-send it for a new one).
    pub expired: bool,
}

impl OrgInvitation {
    fn new(i: &Invitation, invited_by: Option<String>) -> Self {
        Self {
            id: i.id,
            email: i.email.clone(),
            role: i.role.into(),
            invited_by,
            created_at: i.created_at,
            expires_at: i.expires_at,
            expired: orgs::expired(i.expires_at),
        }
    }
}

impl From<&OpenInvitation> for OrgInvitation {
    fn from(o: &OpenInvitation) -> Self {
        Self::new(&o.invitation, o.invited_by_name.clone())
    }
}

/// An invitation just sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct SentInvitation {
    /// The invitation.
    pub invitation: OrgInvitation,
    /// Whether the email was handed over; when `false`, re-send it later.
    pub mailed: bool,
}

/// A new invitation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvitation {
    /// The address to invite; they may accept with an existing account or create one.
    #[schema(example = "grace@example.org", format = "email", max_length = 254)]
    #[serde(default)]
    pub email: String,
    /// Role on acceptance (default `member`). Only owners may invite owners.
    #[schema(value_type = Option<ApiRole>)]
    #[serde(default)]
    pub role: Option<String>,
}

/// The caller's organizations with their role in each.
#[utoipa::path(get, path = "/orgs", tag = "organizations",
    responses((status = 200, body = [Org]),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn list_orgs(
    State(state): State<AppState>,
    ApiUser(caller): ApiUser,
) -> Result<ApiJson<Vec<Org>>, ApiError> {
    let list = state.db.organizations_of(caller.user.id).await?;
    Ok(ApiJson(list.iter().map(|(o, r)| Org::new(o, *r)).collect()))
}

/// Creates an organization; the caller (who must have verified their email) becomes its owner.
#[utoipa::path(post, path = "/orgs", tag = "organizations", request_body = NewOrg,
    responses((status = 201, body = OrgDetail),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Email not verified yet", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad or taken name/slug", body = Problem, content_type = "application/problem+json")))]
async fn create_org(
    State(state): State<AppState>,
    ApiUser(caller): ApiUser,
    ApiJson(input): ApiJson<NewOrg>,
) -> Result<Response, ApiError> {
    let org = orgs::create(&state.db, &caller.user, &input.name, input.slug.as_deref().unwrap_or("")).await?;
    let body = detail(&state, &org, Role::Owner).await?;
    Ok((StatusCode::CREATED, ApiJson(body)).into_response())
}

/// One organization.
#[utoipa::path(get, path = "/orgs/{slug}", tag = "organizations",
    params(("slug" = String, Path, description = "The organization's slug")),
    responses((status = 200, body = OrgDetail),
        (status = 404, description = "No such organization, or not a member", body = Problem, content_type = "application/problem+json")))]
async fn get_org(State(state): State<AppState>, o: ApiOrg) -> Result<ApiJson<OrgDetail>, ApiError> {
    Ok(ApiJson(detail(&state, &o.access.org, o.access.role).await?))
}

/// Renames an organization or changes its public description (owners only).
#[utoipa::path(patch, path = "/orgs/{slug}", tag = "organizations", request_body = OrgChanges,
    params(("slug" = String, Path, description = "The organization's slug")),
    responses((status = 200, body = OrgDetail),
        (status = 403, description = "Not an owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn update_org(
    State(state): State<AppState>,
    o: ApiOrg,
    ApiJson(input): ApiJson<OrgChanges>,
) -> Result<ApiJson<OrgDetail>, ApiError> {
    orgs::check_owner(o.access.role)?;
    let mut org = match input.name {
        Some(name) => orgs::rename(&state.db, &o.access, &name).await?,
        None => o.access.org.clone(),
    };
    if let Some(text) = input.description {
        org = orgs::set_description(&state.db, &o.access, &text).await?;
    }
    Ok(ApiJson(detail(&state, &org, o.access.role).await?))
}

/// Deletes an organization with its members, invitations and events (owners only).
#[utoipa::path(delete, path = "/orgs/{slug}", tag = "organizations",
    params(("slug" = String, Path, description = "The organization's slug")),
    responses((status = 204, description = "Deleted"),
        (status = 403, description = "Not an owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn delete_org(State(state): State<AppState>, o: ApiOrg) -> Result<StatusCode, ApiError> {
    orgs::delete(&state.db, &o.access).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The members (visible to every member).
#[utoipa::path(get, path = "/orgs/{slug}/members", tag = "organizations",
    params(("slug" = String, Path, description = "The organization's slug")),
    responses((status = 200, body = [OrgMember]),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn list_members(State(state): State<AppState>, o: ApiOrg) -> Result<ApiJson<Vec<OrgMember>>, ApiError> {
    let members = orgs::members(&state.db, &o.access).await?;
    Ok(ApiJson(members.iter().map(OrgMember::from).collect()))
}

/// Changes a member's role (owners and admins; only owners give or take `owner`).
#[utoipa::path(patch, path = "/orgs/{slug}/members/{user_id}", tag = "organizations", request_body = MemberChanges,
    params(("slug" = String, Path, description = "The organization's slug"),
        ("user_id" = Uuid, Path, description = "The member's user id")),
    responses((status = 200, body = OrgMember),
        (status = 403, description = "The caller's role does not allow it", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It would leave the organization without an owner", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn update_member(
    State(state): State<AppState>,
    o: ApiOrg,
    ApiJson(input): ApiJson<MemberChanges>,
) -> Result<ApiJson<OrgMember>, ApiError> {
    let user_id = o.id("user_id")?;
    let role = orgs::parse_role(&input.role).map_err(|m| {
        let mut errors = FieldErrors::default();
        errors.add("role", m);
        ApiError::Invalid(errors)
    })?;
    let member = orgs::change_role(&state.db, &o.access, user_id, role).await?;
    Ok(ApiJson(OrgMember::from(&member)))
}

/// Removes a member (owners and admins; only owners remove owners; removing yourself is leaving).
#[utoipa::path(delete, path = "/orgs/{slug}/members/{user_id}", tag = "organizations",
    params(("slug" = String, Path, description = "The organization's slug"),
        ("user_id" = Uuid, Path, description = "The member's user id")),
    responses((status = 204, description = "Removed"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The last owner cannot be removed", body = Problem, content_type = "application/problem+json")))]
async fn remove_member(State(state): State<AppState>, o: ApiOrg) -> Result<StatusCode, ApiError> {
    orgs::remove(&state.db, &o.access, o.id("user_id")?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Leaves the organization (anyone but its last owner).
#[utoipa::path(post, path = "/orgs/{slug}/leave", tag = "organizations",
    params(("slug" = String, Path, description = "The organization's slug")),
    responses((status = 204, description = "Left"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The last owner cannot leave", body = Problem, content_type = "application/problem+json")))]
async fn leave_org(State(state): State<AppState>, o: ApiOrg) -> Result<StatusCode, ApiError> {
    orgs::leave(&state.db, &o.access).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Open invitations, expired ones included (owners and admins).
#[utoipa::path(get, path = "/orgs/{slug}/invitations", tag = "organizations",
    params(("slug" = String, Path, description = "The organization's slug")),
    responses((status = 200, body = [OrgInvitation]),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn list_invitations(
    State(state): State<AppState>,
    o: ApiOrg,
) -> Result<ApiJson<Vec<OrgInvitation>>, ApiError> {
    let list = orgs::invitations(&state.db, &o.access).await?;
    Ok(ApiJson(list.iter().map(OrgInvitation::from).collect()))
}

/// Invites an address by email; the link works for 7 days, for new and existing accounts.
#[utoipa::path(post, path = "/orgs/{slug}/invitations", tag = "organizations", request_body = NewInvitation,
    params(("slug" = String, Path, description = "The organization's slug")),
    responses((status = 201, body = SentInvitation),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad address or role, already a member, or already invited", body = Problem, content_type = "application/problem+json")))]
async fn create_invitation(
    State(state): State<AppState>,
    o: ApiOrg,
    ApiJson(input): ApiJson<NewInvitation>,
) -> Result<Response, ApiError> {
    let role = input.role.as_deref().unwrap_or("member");
    let sent = orgs::invite(&state, &o.access, &o.caller.user, &input.email, role).await?;
    let body = SentInvitation {
        invitation: OrgInvitation::new(&sent.invitation, Some(o.caller.user.display_name.clone())),
        mailed: sent.mailed,
    };
    Ok((StatusCode::CREATED, ApiJson(body)).into_response())
}

/// Revokes an open invitation: its link stops working.
#[utoipa::path(delete, path = "/orgs/{slug}/invitations/{id}", tag = "organizations",
    params(("slug" = String, Path, description = "The organization's slug"),
        ("id" = Uuid, Path, description = "The invitation's id")),
    responses((status = 204, description = "Revoked"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn revoke_invitation(State(state): State<AppState>, o: ApiOrg) -> Result<StatusCode, ApiError> {
    orgs::revoke(&state.db, &o.access, &o.id("id")?.to_string()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends an open invitation again with a new link, valid for another 7 days.
#[utoipa::path(post, path = "/orgs/{slug}/invitations/{id}/resend", tag = "organizations",
    params(("slug" = String, Path, description = "The organization's slug"),
        ("id" = Uuid, Path, description = "The invitation's id")),
    responses((status = 200, body = SentInvitation),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn resend_invitation(
    State(state): State<AppState>,
    o: ApiOrg,
) -> Result<ApiJson<SentInvitation>, ApiError> {
    let sent = orgs::resend(&state, &o.access, &o.caller.user, &o.id("id")?.to_string()).await?;
    Ok(ApiJson(SentInvitation {
        invitation: OrgInvitation::new(&sent.invitation, Some(o.caller.user.display_name.clone())),
        mailed: sent.mailed,
    }))
}
