//! Organization pages: list and create, members, invitations, roles, leaving, settings, and the
//! page behind an invitation link.
//!
//! The rules live in [`crate::orgs`]; these handlers gather what a page shows and translate
//! [`ServiceError`]s: not a member → 404, a role that does not allow it → 403 with the reason,
//! the last owner or a change made meanwhile → 409 with the reason, bad input → the form again
//! with 422. Destructive actions show a confirmation page first (a form that posts
//! `confirm=yes`), so they work without JavaScript.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use herald_templates::FlashKind;
use herald_templates::accounts::message;
use herald_templates::orgs::{self as pages, InvitationVisitor, OrgHeader};
use serde::Deserialize;
use tracing::instrument;
use uuid::Uuid;

use super::error::{PageError, html, refusal_page};
use super::membership::Membership;
use super::portal::Portal;
use super::{AppState, flash};
use crate::audit;
use crate::domain::FieldErrors;
use crate::domain::ServiceError;
use crate::orgs::{self, OrgAccess};
use crate::reports;
use crate::web::session::{CurrentUser, MaybeUser, RequireUser};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/orgs", get(list).post(create))
        .route("/orgs/new", get(new_page))
        .route("/orgs/{slug}", get(overview))
        .route("/orgs/{slug}/members", get(members_page))
        .route("/orgs/{slug}/members/{user_id}/role", post(change_role))
        .route("/orgs/{slug}/members/{user_id}/remove", post(remove_member))
        .route("/orgs/{slug}/invitations", post(invite))
        .route("/orgs/{slug}/invitations/{id}/resend", post(resend_invitation))
        .route("/orgs/{slug}/invitations/{id}/revoke", post(revoke_invitation))
        .route("/orgs/{slug}/leave", post(leave))
        .route("/orgs/{slug}/audit", get(activity_page))
        .route("/orgs/{slug}/report", get(report_page))
        .route("/orgs/{slug}/settings", get(settings_page).post(rename))
        .route("/orgs/{slug}/settings/description", post(describe))
        .route("/orgs/{slug}/delete", post(delete))
        .route("/invitations/{token}", get(invitation_page).post(accept_invitation))
}

/// A signed-in member's request for one organization (from the `{slug}` of the path).
/// Anyone else: not signed in → sign in first; not a member → 404, before any form is read.
struct InOrg {
    portal: Portal,
    user: CurrentUser,
    access: OrgAccess,
    header: OrgHeader,
}

impl FromRequestParts<AppState> for InOrg {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Membership { portal, user, access, header, .. } =
            Membership::from_request_parts(parts, state).await?;
        Ok(Self { portal, user, access, header })
    }
}

impl InOrg {
    fn header(&self) -> OrgHeader {
        self.header.clone()
    }

    fn base(&self) -> String {
        format!("/orgs/{}", self.access.org.slug)
    }

    /// The response for a failed operation; `Invalid` must be handled by the caller.
    fn failure(&self, e: ServiceError) -> Response {
        let back = (self.base(), format!("Back to {}", self.access.org.name));
        let back = Some((back.0.as_str(), back.1.as_str()));
        refusal_page(&self.portal.shell, e, back)
    }
}

fn page_failure(e: ServiceError) -> Response {
    match e {
        ServiceError::NotFound => PageError::NotFound,
        ServiceError::Internal(e) => PageError::Internal(e),
        other => PageError::Internal(anyhow::anyhow!("unexpected: {other}")),
    }
    .into_response()
}

/// Confirmation field of destructive forms.
#[derive(Debug, Default, Deserialize)]
struct ConfirmInput {
    #[serde(default)]
    confirm: String,
}

impl ConfirmInput {
    fn confirmed(&self) -> bool {
        self.confirm == "yes"
    }
}

// --- The list and creation ---

#[instrument(skip_all)]
async fn list(portal: Portal, RequireUser(_user): RequireUser) -> Response {
    let orgs: Vec<pages::OrgItem> = portal
        .shell
        .orgs
        .iter()
        .map(|o| pages::OrgItem { slug: o.slug.clone(), name: o.name.clone(), role: o.role.clone() })
        .collect();
    html(StatusCode::OK, pages::list(&portal.shell, &orgs))
}

#[instrument(skip_all)]
async fn new_page(portal: Portal, RequireUser(user): RequireUser) -> Response {
    html(StatusCode::OK, pages::new_org(&portal.shell, &pages::NewOrgForm::default(), &[], user.verified()))
}

#[derive(Debug, Default, Deserialize)]
struct CreateInput {
    #[serde(default)]
    name: String,
    #[serde(default)]
    slug: String,
}

#[instrument(skip_all)]
async fn create(
    State(state): State<AppState>,
    portal: Portal,
    RequireUser(user): RequireUser,
    Form(input): Form<CreateInput>,
) -> Response {
    let verified = user.verified();
    match orgs::create(&state.db, &user.user, &input.name, &input.slug).await {
        Ok(org) => flash::redirect(
            &state,
            &format!("/orgs/{}/events/new", org.slug),
            FlashKind::Success,
            &format!("{} is created, and you are its owner. Now plan its first event.", org.name),
        ),
        Err(ServiceError::Invalid(errors)) => {
            let slug = if input.slug.trim().is_empty() {
                crate::domain::Slug::suggest(&input.name)
            } else {
                input.slug.clone()
            };
            let form = pages::NewOrgForm { name: input.name, slug };
            html(StatusCode::UNPROCESSABLE_ENTITY, pages::new_org(&portal.shell, &form, &errors.0, verified))
        }
        Err(ServiceError::Forbidden(_)) => html(
            StatusCode::FORBIDDEN,
            pages::new_org(&portal.shell, &pages::NewOrgForm::default(), &[], false),
        ),
        Err(e) => page_failure(e),
    }
}

// --- One organization ---

#[instrument(skip_all)]
async fn overview(State(state): State<AppState>, org: InOrg) -> Response {
    let count = match state.db.member_count(org.access.org.id).await {
        Ok(n) => n,
        Err(e) => return PageError::from(e).into_response(),
    };
    let invitations = if org.access.manages_members() {
        match orgs::invitations(&state.db, &org.access).await {
            Ok(list) => Some(list.len()),
            Err(e) => return org.failure(e),
        }
    } else {
        None
    };
    html(StatusCode::OK, pages::overview(&org.portal.shell, &org.header(), count, invitations))
}

/// Renders the members page with `status`, the invite form filled with `invite`.
async fn members_response(
    state: &AppState,
    org: &InOrg,
    invite: &pages::InviteForm,
    errors: &[(String, String)],
    status: StatusCode,
) -> Response {
    let members = match orgs::members(&state.db, &org.access).await {
        Ok(m) => m,
        Err(e) => return org.failure(e),
    };
    let invitations = if org.access.manages_members() {
        match orgs::invitations(&state.db, &org.access).await {
            Ok(list) => list,
            Err(e) => return org.failure(e),
        }
    } else {
        Vec::new()
    };
    let viewer = org.user.user.viewer();
    let rows: Vec<pages::MemberRow> = members
        .iter()
        .map(|m| pages::MemberRow {
            user_id: m.user_id.to_string(),
            name: m.display_name.clone(),
            email: m.email.clone(),
            role: m.role.to_string(),
            is_you: m.user_id == org.access.user_id,
            manageable: org.access.may_manage(m.role),
        })
        .collect();
    let invitation_rows: Vec<pages::InvitationRow> = invitations
        .iter()
        .map(|i| pages::InvitationRow {
            id: i.invitation.id.to_string(),
            email: i.invitation.email.clone(),
            role: i.invitation.role.to_string(),
            invited_by: i.invited_by_name.clone(),
            expires: viewer.moment(i.invitation.expires_at),
            expired: orgs::expired(i.invitation.expires_at),
        })
        .collect();
    let roles: Vec<pages::RoleChoice> = org
        .access
        .assignable_roles()
        .into_iter()
        .map(|r| pages::RoleChoice {
            value: r.to_string(),
            description: orgs::role_description(r).to_owned(),
        })
        .collect();
    let header = org.header();
    let view = pages::MembersView {
        org: &header,
        members: &rows,
        invitations: &invitation_rows,
        roles: &roles,
        invite,
    };
    html(status, pages::members(&org.portal.shell, &view, errors))
}

#[instrument(skip_all)]
async fn members_page(State(state): State<AppState>, org: InOrg) -> Response {
    members_response(&state, &org, &pages::InviteForm::default(), &[], StatusCode::OK).await
}

fn member_id(raw: &str) -> Option<Uuid> {
    Uuid::parse_str(raw).ok()
}

#[derive(Debug, Default, Deserialize)]
struct RoleInput {
    #[serde(default)]
    role: String,
}

#[instrument(skip_all)]
async fn change_role(
    State(state): State<AppState>,
    org: InOrg,
    Path((_, user_id)): Path<(String, String)>,
    Form(input): Form<RoleInput>,
) -> Response {
    let Some(user_id) = member_id(&user_id) else { return PageError::NotFound.into_response() };
    let role = match orgs::parse_role(&input.role) {
        Ok(r) => r,
        Err(why) => return org.failure(ServiceError::Invalid(FieldErrors(vec![("role".to_owned(), why)]))),
    };
    match orgs::change_role(&state.db, &org.access, user_id, role).await {
        Ok(m) => flash::redirect(
            &state,
            &format!("{}/members", org.base()),
            FlashKind::Success,
            &format!("{} is now {}.", m.display_name, m.role),
        ),
        Err(e) => org.failure(e),
    }
}

#[instrument(skip_all)]
async fn remove_member(
    State(state): State<AppState>,
    org: InOrg,
    Path((_, user_id)): Path<(String, String)>,
    Form(input): Form<ConfirmInput>,
) -> Response {
    let Some(user_id) = member_id(&user_id) else { return PageError::NotFound.into_response() };
    if user_id == org.access.user_id {
        return leave_inner(&state, &org, &input).await;
    }
    if !input.confirmed() {
        let target = match orgs::member(&state.db, &org.access, user_id).await {
            Ok(m) => m,
            Err(e) => return org.failure(e),
        };
        if let Err(e) = orgs::check_touch(org.access.role, target.role) {
            return org.failure(e);
        }
        let title = format!("Remove {}?", target.display_name);
        let text = format!(
            "{} ({}) will lose access to {} and its private events. You can invite them again later.",
            target.display_name, target.email, org.access.org.name
        );
        return html(
            StatusCode::OK,
            pages::confirm(
                &org.portal.shell,
                &title,
                &text,
                &format!("{}/members/{user_id}/remove", org.base()),
                &format!("Remove {}", target.display_name),
                &format!("{}/members", org.base()),
            ),
        );
    }
    match orgs::remove(&state.db, &org.access, user_id).await {
        Ok(m) => flash::redirect(
            &state,
            &format!("{}/members", org.base()),
            FlashKind::Success,
            &format!("{} is no longer a member of {}.", m.display_name, org.access.org.name),
        ),
        Err(e) => org.failure(e),
    }
}

#[instrument(skip_all)]
async fn leave(State(state): State<AppState>, org: InOrg, Form(input): Form<ConfirmInput>) -> Response {
    leave_inner(&state, &org, &input).await
}

async fn leave_inner(state: &AppState, org: &InOrg, input: &ConfirmInput) -> Response {
    if let Err(e) = orgs::check_leave(&state.db, &org.access).await {
        return org.failure(e);
    }
    if !input.confirmed() {
        let name = &org.access.org.name;
        return html(
            StatusCode::OK,
            pages::confirm(
                &org.portal.shell,
                &format!("Leave {name}?"),
                &format!(
                    "You will lose access to {name} and its private events until someone invites you again."
                ),
                &format!("{}/leave", org.base()),
                &format!("Leave {name}"),
                &org.base(),
            ),
        );
    }
    match orgs::leave(&state.db, &org.access).await {
        Ok(()) => {
            flash::redirect(state, "/orgs", FlashKind::Success, &format!("You left {}.", org.access.org.name))
        }
        Err(e) => org.failure(e),
    }
}

// --- Invitations ---

#[derive(Debug, Default, Deserialize)]
struct InviteInput {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

#[instrument(skip_all)]
async fn invite(State(state): State<AppState>, org: InOrg, Form(input): Form<InviteInput>) -> Response {
    match orgs::invite(&state, &org.access, &org.user.user, &input.email, &input.role).await {
        Ok(sent) => {
            let (kind, text) = if sent.mailed {
                (
                    FlashKind::Success,
                    format!(
                        "We sent an invitation to {}. The link works for {} days.",
                        sent.invitation.email,
                        orgs::INVITATION_DAYS
                    ),
                )
            } else {
                (
                    FlashKind::Warning,
                    format!(
                        "The invitation to {} is saved, but we could not send the email just now. Use “Re-send” in a few minutes.",
                        sent.invitation.email
                    ),
                )
            };
            flash::redirect(&state, &format!("{}/members", org.base()), kind, &text)
        }
        Err(ServiceError::Invalid(errors)) => {
            let form = pages::InviteForm { email: input.email, role: input.role };
            members_response(&state, &org, &form, &errors.0, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => org.failure(e),
    }
}

#[instrument(skip_all)]
async fn resend_invitation(
    State(state): State<AppState>,
    org: InOrg,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    match orgs::resend(&state, &org.access, &org.user.user, &id).await {
        Ok(sent) if sent.mailed => flash::redirect(
            &state,
            &format!("{}/members", org.base()),
            FlashKind::Success,
            &format!("We sent the invitation to {} again, with a new link.", sent.invitation.email),
        ),
        Ok(sent) => flash::redirect(
            &state,
            &format!("{}/members", org.base()),
            FlashKind::Error,
            &format!(
                "We could not send the email to {} just now. Please try again in a few minutes.",
                sent.invitation.email
            ),
        ),
        Err(e) => org.failure(e),
    }
}

#[instrument(skip_all)]
async fn revoke_invitation(
    State(state): State<AppState>,
    org: InOrg,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    match orgs::revoke(&state.db, &org.access, &id).await {
        Ok(i) => flash::redirect(
            &state,
            &format!("{}/members", org.base()),
            FlashKind::Success,
            &format!("The invitation to {} is revoked; its link no longer works.", i.email),
        ),
        Err(e) => org.failure(e),
    }
}

// --- Activity ---

#[derive(Debug, Default, Deserialize)]
struct ActivityQuery {
    #[serde(default)]
    before: Option<String>,
}

/// The organization's activity, newest first, 50 at a time (owners and admins; others: 404).
#[instrument(skip_all)]
async fn activity_page(
    State(state): State<AppState>,
    org: InOrg,
    axum::extract::Query(q): axum::extract::Query<ActivityQuery>,
) -> Response {
    let cursor = match q.before.as_deref().filter(|c| !c.is_empty()) {
        Some(raw) => match audit::decode_cursor(raw) {
            Some(c) => Some(c),
            None => return PageError::NotFound.into_response(),
        },
        None => None,
    };
    let page = match audit::page(&state.db, &org.access, cursor, audit::PAGE_SIZE).await {
        Ok(p) => p,
        Err(e) => return page_failure(e),
    };
    let viewer = org.user.user.viewer();
    let rows: Vec<pages::ActivityRow> = page
        .entries
        .iter()
        .map(|e| pages::ActivityRow {
            when: viewer.moment(e.created_at),
            who: match (&e.actor_name, &e.actor_email) {
                (Some(name), Some(email)) => format!("{name} ({email})"),
                _ => "Someone".to_owned(),
            },
            what: audit::describe(&e.action).to_owned(),
            subject: e.subject.clone(),
            detail: e.detail.clone(),
        })
        .collect();
    let older = page.next_cursor.map(|c| format!("{}/audit?before={c}", org.base()));
    html(StatusCode::OK, pages::activity(&org.portal.shell, &org.header(), &rows, older.as_deref()))
}

/// The organization's report: charts of answers and deliveries (owners, admins and organizers;
/// others: 404).
#[instrument(skip_all)]
async fn report_page(State(state): State<AppState>, org: InOrg) -> Response {
    let report = match reports::org_report(&state.db, &org.access, chrono::Utc::now()).await {
        Ok(r) => r,
        Err(e) => return page_failure(e),
    };
    let view = pages::ReportView {
        period: format!("{} to {}", report.since.format("%Y-%m-%d"), report.until.format("%Y-%m-%d")),
        answers: report
            .answers
            .iter()
            .map(|d| herald_templates::charts::Column {
                label: d.day.format("%Y-%m-%d").to_string(),
                short: d.day.format("%d %b").to_string(),
                values: vec![d.going, d.maybe, d.declined],
            })
            .collect(),
        by_status: report.by_status.iter().map(|(s, n)| ((*s).to_owned(), *n)).collect(),
        by_channel: report
            .by_channel
            .iter()
            .map(|(k, n)| (reports::channel_label(k).to_owned(), *n))
            .collect(),
        lateness: report.lateness.iter().map(|(l, n)| ((*l).to_owned(), *n)).collect(),
    };
    html(StatusCode::OK, pages::report(&org.portal.shell, &org.header(), &view))
}

// --- Settings ---

#[instrument(skip_all)]
async fn settings_page(org: InOrg) -> Response {
    if let Err(e) = orgs::check_owner(org.access.role) {
        return org.failure(e);
    }
    html(
        StatusCode::OK,
        pages::settings(
            &org.portal.shell,
            &org.header(),
            &org.access.org.name,
            &org.access.org.description,
            &[],
        ),
    )
}

#[derive(Debug, Default, Deserialize)]
struct RenameInput {
    #[serde(default)]
    name: String,
}

#[instrument(skip_all)]
async fn rename(State(state): State<AppState>, org: InOrg, Form(input): Form<RenameInput>) -> Response {
    match orgs::rename(&state.db, &org.access, &input.name).await {
        Ok(o) => flash::redirect(
            &state,
            &format!("{}/settings", org.base()),
            FlashKind::Success,
            &format!("The organization is now called {}.", o.name),
        ),
        Err(ServiceError::Invalid(errors)) => html(
            StatusCode::UNPROCESSABLE_ENTITY,
            pages::settings(
                &org.portal.shell,
                &org.header(),
                &input.name,
                &org.access.org.description,
                &errors.0,
            ),
        ),
        Err(e) => org.failure(e),
    }
}

#[derive(Debug, Default, Deserialize)]
struct DescriptionInput {
    #[serde(default)]
    description: String,
}

/// Saves what the organization's public page says about it.
#[instrument(skip_all)]
async fn describe(
    State(state): State<AppState>,
    org: InOrg,
    Form(input): Form<DescriptionInput>,
) -> Response {
    match orgs::set_description(&state.db, &org.access, &input.description).await {
        Ok(o) => flash::redirect(
            &state,
            &format!("{}/settings", org.base()),
            FlashKind::Success,
            if o.description.is_empty() {
                "The public page no longer has a description."
            } else {
                "The description is saved; it shows on the organization's public page."
            },
        ),
        Err(ServiceError::Invalid(errors)) => html(
            StatusCode::UNPROCESSABLE_ENTITY,
            pages::settings(
                &org.portal.shell,
                &org.header(),
                &org.access.org.name,
                &input.description,
                &errors.0,
            ),
        ),
        Err(e) => org.failure(e),
    }
}

#[derive(Debug, Default, Deserialize)]
struct DeleteInput {
    #[serde(default)]
    confirm_slug: String,
}

#[instrument(skip_all)]
async fn delete(State(state): State<AppState>, org: InOrg, Form(input): Form<DeleteInput>) -> Response {
    if let Err(e) = orgs::check_owner(org.access.role) {
        return org.failure(e);
    }
    if input.confirm_slug.trim() != org.access.org.slug {
        let errors = vec![(
            "confirm_slug".to_owned(),
            format!("Type {} exactly to confirm the deletion.", org.access.org.slug),
        )];
        return html(
            StatusCode::UNPROCESSABLE_ENTITY,
            pages::settings(
                &org.portal.shell,
                &org.header(),
                &org.access.org.name,
                &org.access.org.description,
                &errors,
            ),
        );
    }
    match orgs::delete(&state.db, &org.access).await {
        Ok(()) => flash::redirect(
            &state,
            "/orgs",
            FlashKind::Success,
            &format!("{} is deleted.", org.access.org.name),
        ),
        Err(e) => org.failure(e),
    }
}

// --- Invitation links ---

fn dead_link(portal: &Portal) -> Response {
    html(
        StatusCode::BAD_REQUEST,
        message(
            &portal.shell,
            "This invitation link does not work",
            &format!(
                "Invitation links work once and expire after {} days, and a revoked or re-sent invitation's old link stops working. \
                 Ask whoever invited you to send a new one.",
                orgs::INVITATION_DAYS
            ),
            Some(if portal.user.is_some() {
                ("/orgs", "Go to your organizations")
            } else {
                ("/", "Go to the home page")
            }),
        ),
    )
}

#[instrument(skip_all)]
async fn invitation_page(
    State(state): State<AppState>,
    portal: Portal,
    MaybeUser(user): MaybeUser,
    Path(token): Path<String>,
) -> Response {
    let link = match orgs::open_link(&state.db, &token).await {
        Ok(Some(orgs::OpenLink(link))) => link,
        Ok(None) => return dead_link(&portal),
        Err(e) => return page_failure(e),
    };
    let visitor = match &user {
        None => InvitationVisitor::SignedOut,
        Some(u) => match state.db.membership(link.invitation.org_id, u.user.id).await {
            Err(e) => return PageError::from(e).into_response(),
            Ok(Some(_)) => InvitationVisitor::AlreadyMember { slug: link.org_slug.clone() },
            Ok(None) => match orgs::may_accept(&u.user, &link.invitation) {
                Ok(()) => InvitationVisitor::CanAccept { email: u.user.email.clone() },
                Err(why) => InvitationVisitor::MustVerify(why),
            },
        },
    };
    let view = pages::InvitationView {
        org_name: link.org_name.clone(),
        role: link.invitation.role.to_string(),
        role_description: orgs::role_description(link.invitation.role).to_owned(),
        invited_by: link.invited_by_name.clone(),
        email: link.invitation.email.clone(),
        path: format!("/invitations/{token}"),
    };
    html(StatusCode::OK, pages::invitation(&portal.shell, &view, &visitor))
}

#[instrument(skip_all)]
async fn accept_invitation(
    State(state): State<AppState>,
    portal: Portal,
    RequireUser(user): RequireUser,
    Path(token): Path<String>,
) -> Response {
    match orgs::accept(&state.db, &user.user, &token).await {
        Ok(joined) => {
            // Accepting proved the address: the built-in email channel may be due now.
            crate::integrations::email::ensure_for(&state, user.user.id).await;
            let text = if joined.joined {
                format!("Welcome to {}! You joined as {}.", joined.org_name, joined.role)
            } else {
                format!("You were already a member of {} (as {}).", joined.org_name, joined.role)
            };
            flash::redirect(&state, &format!("/orgs/{}", joined.org_slug), FlashKind::Success, &text)
        }
        Err(ServiceError::NotFound) => dead_link(&portal),
        Err(ServiceError::Forbidden(why)) => html(
            StatusCode::FORBIDDEN,
            message(
                &portal.shell,
                "Verify your email address first",
                &why,
                Some(("/account", "Go to your account")),
            ),
        ),
        Err(e) => page_failure(e),
    }
}
