//! Organizations: the rules (roles, the last owner, invitations) shared by pages and the API.
//!
//! Every operation starts from an [`OrgAccess`], which only exists for a member: a non-member
//! gets [`ServiceError::NotFound`] for everything of an organization, so nobody learns that it
//! exists. A member whose role does not allow an action gets [`ServiceError::Forbidden`] with the
//! reason. Pages and the API both call these functions and only translate the errors.
//!
//! Who may do what:
//!
//! | action                                   | owner | admin | organizer | member |
//! |------------------------------------------|-------|-------|-----------|--------|
//! | see the organization and its members     | yes   | yes   | yes       | yes    |
//! | invite, change roles, remove (non-owners)| yes   | yes   | –         | –      |
//! | make someone owner, change/remove owners | yes   | –     | –         | –      |
//! | rename, delete the organization          | yes   | –     | –         | –      |
//! | leave                                    | yes\* | yes   | yes       | yes    |
//!
//! \* The last owner can neither leave, be demoted nor be removed: someone else must be made
//! owner first. The database enforces this atomically ([`Db::change_membership`]).

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::audit;
use crate::db::models::{Invitation, Organization, Role, User};
use crate::db::orgs::{InvitationLink, Member, MembershipChange, OpenInvitation};
use crate::db::{Db, DbError};
use crate::domain::{Email, Name, Slug};
use crate::domain::{FieldErrors, ServiceError};
use crate::secrets::{hash_token, random_token};
use crate::services::Services;

/// How long an invitation link works.
pub const INVITATION_DAYS: i64 = 7;

/// Said whenever an action would leave an organization without an owner.
pub const LAST_OWNER: &str = "An organization needs at least one owner: make someone else owner first.";

/// A member's view of one organization: proof that the caller belongs to it, and with which role.
#[derive(Debug, Clone)]
pub struct OrgAccess {
    /// The organization.
    pub org: Organization,
    /// The caller's role there.
    pub role: Role,
    /// The caller.
    pub user_id: Uuid,
}

impl OrgAccess {
    /// Whether the caller may invite, change roles and remove members.
    pub fn manages_members(&self) -> bool {
        manages_members(self.role)
    }

    /// Whether the caller is an owner.
    pub fn is_owner(&self) -> bool {
        self.role == Role::Owner
    }

    /// The roles the caller may give to others (owners: all; admins: all but owner).
    pub fn assignable_roles(&self) -> Vec<Role> {
        Role::ALL.iter().copied().filter(|r| check_assign(self.role, *r).is_ok()).collect()
    }

    /// Whether the caller may change the role of, or remove, a member whose role is `target`.
    pub fn may_manage(&self, target: Role) -> bool {
        check_touch(self.role, target).is_ok()
    }
}

/// The caller's access to the organization `slug`; [`ServiceError::NotFound`] unless a member.
pub async fn access(db: &Db, slug: &str, user_id: Uuid) -> Result<OrgAccess, ServiceError> {
    let org = db.organization_by_slug(slug).await?.ok_or(ServiceError::NotFound)?;
    let membership = db.membership(org.id, user_id).await?.ok_or(ServiceError::NotFound)?;
    Ok(OrgAccess { org, role: membership.role, user_id })
}

// --- The role rules, as pure functions (unit-tested below) ---

/// Owners and admins manage members.
pub fn manages_members(role: Role) -> bool {
    matches!(role, Role::Owner | Role::Admin)
}

/// May `actor` manage members and invitations at all? The error says why not.
pub fn check_manager(actor: Role) -> Result<(), ServiceError> {
    if manages_members(actor) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(format!(
            "Only owners and admins can manage members and invitations; your role here is {actor}."
        )))
    }
}

/// May `actor` give someone the role `role` (by invitation or role change)?
fn check_assign(actor: Role, role: Role) -> Result<(), ServiceError> {
    check_manager(actor)?;
    if role == Role::Owner && actor != Role::Owner {
        return Err(ServiceError::Forbidden("Only an owner can make someone an owner.".into()));
    }
    Ok(())
}

/// May `actor` change or remove a member whose role is `target`? The error says why not.
pub fn check_touch(actor: Role, target: Role) -> Result<(), ServiceError> {
    check_manager(actor)?;
    if target == Role::Owner && actor != Role::Owner {
        return Err(ServiceError::Forbidden("Only an owner can change or remove an owner.".into()));
    }
    Ok(())
}

/// May `actor` rename or delete the organization? The error says why not.
pub fn check_owner(actor: Role) -> Result<(), ServiceError> {
    if actor == Role::Owner {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(format!(
            "Only owners can rename or delete the organization; your role here is {actor}."
        )))
    }
}

/// Parses a role typed or chosen by a user.
pub fn parse_role(raw: &str) -> Result<Role, String> {
    Role::try_from(raw.trim().to_lowercase())
        .map_err(|_| "Choose one of owner, admin, organizer or member.".to_owned())
}

/// What the role means, in a sentence (for forms and the API documentation).
pub fn role_description(role: Role) -> &'static str {
    match role {
        Role::Owner => "Everything, including renaming and deleting the organization.",
        Role::Admin => "Invites, removes and changes the roles of members (but not owners).",
        Role::Organizer => "Creates and manages the organization's events.",
        Role::Member => "Sees the organization's private events.",
    }
}

// --- Organizations ---

/// A verified user creates an organization and becomes its owner. An empty slug is proposed
/// from the name.
pub async fn create(db: &Db, user: &User, name: &str, slug: &str) -> Result<Organization, ServiceError> {
    if user.verified_at.is_none() {
        return Err(ServiceError::Forbidden(
            "Verify your email address first: open the link we mailed you, or ask for a new one. \
             Then you can create organizations."
                .into(),
        ));
    }
    let mut errors = FieldErrors::default();
    let name = errors.check("name", Name::parse(name));
    let slug_raw = if slug.trim().is_empty() {
        name.as_ref().map(|n| Slug::suggest(n.as_str())).unwrap_or_default()
    } else {
        slug.trim().to_owned()
    };
    let slug = if slug_raw.is_empty() && name.is_some() {
        errors.add("slug", "Choose a short web address with letters or digits, like my-club.");
        None
    } else if name.is_some() || !slug.trim().is_empty() {
        errors.check("slug", Slug::parse(&slug_raw))
    } else {
        None
    };
    let (Some(name), Some(slug)) = (name, slug) else { return Err(ServiceError::Invalid(errors)) };
    match db.create_organization(slug.as_str(), name.as_str(), user.id).await {
        Ok(org) => {
            tracing::info!(org_id = %org.id, user_id = %user.id, "organization created");
            Ok(org)
        }
        Err(DbError::Conflict(_)) => Err(ServiceError::field(
            "slug",
            format!("The address '{}' is taken; choose another.", slug.as_str()),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Renames the organization (owners only).
pub async fn rename(db: &Db, access: &OrgAccess, name: &str) -> Result<Organization, ServiceError> {
    check_owner(access.role)?;
    let name = Name::parse(name).map_err(|m| ServiceError::field("name", m))?;
    let org = db.rename_organization(access.org.id, name.as_str()).await?;
    tracing::info!(org_id = %org.id, "organization renamed");
    if access.org.name != org.name {
        let detail = format!("was {}", access.org.name);
        audit::record(db, org.id, Some(access.user_id), "org.renamed", &org.name, Some(&detail)).await;
    }
    Ok(org)
}

/// The longest organization description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1000;

/// Sets what the organization's public page says about it (owners only): plain text, at most
/// 1,000 characters, line breaks kept; empty removes it.
pub async fn set_description(db: &Db, access: &OrgAccess, text: &str) -> Result<Organization, ServiceError> {
    check_owner(access.role)?;
    let text = text.trim().replace("\r\n", "\n");
    if text.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(ServiceError::field(
            "description",
            format!(
                "Keep the description to {MAX_DESCRIPTION_CHARS} characters or fewer (it has {}).",
                text.chars().count()
            ),
        ));
    }
    if crate::domain::has_unwanted_chars(&text, true) {
        return Err(ServiceError::field("description", crate::domain::CONTROL_CHARACTERS));
    }
    let org = db.set_organization_description(access.org.id, &text).await?;
    tracing::info!(org_id = %org.id, chars = text.chars().count(), "organization description saved");
    if access.org.description != org.description {
        audit::record(db, org.id, Some(access.user_id), "org.description_changed", &org.name, None).await;
    }
    Ok(org)
}

/// Deletes the organization with everything in it (owners only).
pub async fn delete(db: &Db, access: &OrgAccess) -> Result<(), ServiceError> {
    check_owner(access.role)?;
    db.delete_organization(access.org.id).await?;
    tracing::info!(org_id = %access.org.id, user_id = %access.user_id, "organization deleted");
    Ok(())
}

// --- Members ---

/// The members, visible to every member.
pub async fn members(db: &Db, access: &OrgAccess) -> Result<Vec<Member>, ServiceError> {
    Ok(db.members_of(access.org.id).await?)
}

/// One member; [`ServiceError::NotFound`] if not a member of this organization.
pub async fn member(db: &Db, access: &OrgAccess, user_id: Uuid) -> Result<Member, ServiceError> {
    db.member(access.org.id, user_id).await?.ok_or(ServiceError::NotFound)
}

fn change_outcome(outcome: MembershipChange) -> Result<(), ServiceError> {
    match outcome {
        MembershipChange::Done => Ok(()),
        MembershipChange::NotMember => Err(ServiceError::NotFound),
        MembershipChange::Stale => Err(ServiceError::Conflict(
            "This member's role changed meanwhile. Reload the page and try again.".into(),
        )),
        MembershipChange::LastOwner => Err(ServiceError::Conflict(LAST_OWNER.into())),
    }
}

/// Changes a member's role. Owners and admins may; only an owner may make someone owner or
/// change an owner; the last owner keeps the role.
pub async fn change_role(
    db: &Db,
    access: &OrgAccess,
    user_id: Uuid,
    new_role: Role,
) -> Result<Member, ServiceError> {
    let target = member(db, access, user_id).await?;
    check_touch(access.role, target.role)?;
    check_assign(access.role, new_role)?;
    if target.role != new_role {
        change_outcome(db.change_membership(access.org.id, user_id, target.role, Some(new_role)).await?)?;
        tracing::info!(org_id = %access.org.id, %user_id, role = %new_role, "member role changed");
        let detail = format!("{} → {new_role}", target.role);
        audit::record(
            db,
            access.org.id,
            Some(access.user_id),
            "member.role_changed",
            &target.email,
            Some(&detail),
        )
        .await;
    }
    member(db, access, user_id).await
}

/// Removes a member. Owners and admins may; only an owner may remove an owner; the last owner
/// stays. Removing oneself is leaving.
pub async fn remove(db: &Db, access: &OrgAccess, user_id: Uuid) -> Result<Member, ServiceError> {
    if user_id == access.user_id {
        let me = member(db, access, user_id).await?;
        leave(db, access).await?;
        return Ok(me);
    }
    let target = member(db, access, user_id).await?;
    check_touch(access.role, target.role)?;
    change_outcome(db.change_membership(access.org.id, user_id, target.role, None).await?)?;
    tracing::info!(org_id = %access.org.id, %user_id, "member removed");
    let detail = target.role.to_string();
    audit::record(db, access.org.id, Some(access.user_id), "member.removed", &target.email, Some(&detail))
        .await;
    Ok(target)
}

/// Whether the caller could leave now: [`ServiceError::Conflict`] for the last owner.
pub async fn check_leave(db: &Db, access: &OrgAccess) -> Result<(), ServiceError> {
    if access.is_owner() && db.owner_count(access.org.id).await? <= 1 {
        return Err(ServiceError::Conflict(LAST_OWNER.into()));
    }
    Ok(())
}

/// The caller leaves the organization; anyone may, except its last owner.
pub async fn leave(db: &Db, access: &OrgAccess) -> Result<(), ServiceError> {
    let me = db.member(access.org.id, access.user_id).await?;
    change_outcome(db.change_membership(access.org.id, access.user_id, access.role, None).await?)?;
    tracing::info!(org_id = %access.org.id, user_id = %access.user_id, "member left");
    let subject = me.map(|m| m.email).unwrap_or_default();
    audit::record(
        db,
        access.org.id,
        Some(access.user_id),
        "member.left",
        &subject,
        Some(access.role.as_str()),
    )
    .await;
    Ok(())
}

// --- Invitations ---

/// A sent invitation and whether its mail was handed over.
#[derive(Debug, Clone)]
pub struct Sent {
    /// The invitation.
    pub invitation: Invitation,
    /// `false` when the mail could not be sent (the invitation stands; re-send it later).
    pub mailed: bool,
}

/// Invites `email` with `role`: stores the invitation (hashed link, 7 days) and mails the link.
pub async fn invite(
    svc: &Services,
    access: &OrgAccess,
    inviter: &User,
    email: &str,
    role: &str,
) -> Result<Sent, ServiceError> {
    check_manager(access.role)?;
    let mut errors = FieldErrors::default();
    let email = errors.check("email", Email::parse(email));
    let role = errors.check("role", parse_role(role));
    let (Some(email), Some(role)) = (email, role) else { return Err(ServiceError::Invalid(errors)) };
    check_assign(access.role, role)?;
    let db = &svc.db;
    if let Some(user) = db.user_by_email(email.as_str()).await?
        && db.membership(access.org.id, user.id).await?.is_some()
    {
        return Err(ServiceError::field("email", format!("{email} is already a member.")));
    }
    db.drop_expired_invitations(access.org.id, email.as_str()).await?;
    let token = random_token();
    let expires = Utc::now() + Duration::days(INVITATION_DAYS);
    let invitation = match db
        .create_invitation(
            access.org.id,
            email.as_str(),
            role,
            &hash_token(&token),
            Some(inviter.id),
            expires,
        )
        .await
    {
        Ok(i) => i,
        Err(DbError::Conflict(_)) => {
            return Err(ServiceError::field(
                "email",
                format!("{email} already has an open invitation. Re-send or revoke it below."),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!(org_id = %access.org.id, invitation_id = %invitation.id, role = %role, "invitation created");
    audit::record(db, access.org.id, Some(inviter.id), "member.invited", email.as_str(), Some(role.as_str()))
        .await;
    let mailed = svc.limits.invitation_mail(inviter.id, email.as_str())
        && send_invitation(svc, &access.org, &inviter.display_name, &email, role, &token).await;
    Ok(Sent { invitation, mailed })
}

async fn send_invitation(
    svc: &Services,
    org: &Organization,
    inviter: &str,
    to: &Email,
    role: Role,
    token: &str,
) -> bool {
    let link = svc.links.absolute(&format!("/invitations/{token}"));
    let body = format!(
        "Hello,\n\n{inviter} invited you to join {org} on Herald as {role}.\n\n\
         Open this link to accept; you can sign in or create an account there:\n\n{link}\n\n\
         The link works once, for {INVITATION_DAYS} days. If you did not expect this invitation, ignore this message.\n",
        org = org.name,
    );
    let subject = format!("{inviter} invited you to {} on Herald", org.name);
    match svc.mailer.send(to, &subject, &body).await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, org_id = %org.id, "cannot mail an invitation");
            false
        }
    }
}

/// The open invitations (owners and admins only).
pub async fn invitations(db: &Db, access: &OrgAccess) -> Result<Vec<OpenInvitation>, ServiceError> {
    check_manager(access.role)?;
    Ok(db.open_invitations(access.org.id).await?)
}

fn parse_id(raw: &str) -> Result<Uuid, ServiceError> {
    Uuid::parse_str(raw.trim()).map_err(|_| ServiceError::NotFound)
}

/// Revokes an open invitation: its link stops working.
pub async fn revoke(db: &Db, access: &OrgAccess, invitation_id: &str) -> Result<Invitation, ServiceError> {
    check_manager(access.role)?;
    let id = parse_id(invitation_id)?;
    let invitation = db.open_invitation(access.org.id, id).await?.ok_or(ServiceError::NotFound)?;
    check_assign(access.role, invitation.role)?;
    db.revoke_invitation(access.org.id, id).await?;
    tracing::info!(org_id = %access.org.id, invitation_id = %id, "invitation revoked");
    audit::record(
        db,
        access.org.id,
        Some(access.user_id),
        "member.invitation_revoked",
        &invitation.email,
        None,
    )
    .await;
    Ok(invitation)
}

/// Sends an open invitation again with a fresh link valid for another 7 days.
pub async fn resend(
    svc: &Services,
    access: &OrgAccess,
    inviter: &User,
    invitation_id: &str,
) -> Result<Sent, ServiceError> {
    check_manager(access.role)?;
    let id = parse_id(invitation_id)?;
    let existing = svc.db.open_invitation(access.org.id, id).await?.ok_or(ServiceError::NotFound)?;
    check_assign(access.role, existing.role)?;
    let token = random_token();
    let expires = Utc::now() + Duration::days(INVITATION_DAYS);
    let invitation =
        svc.db.renew_invitation(access.org.id, id, &hash_token(&token), Some(inviter.id), expires).await?;
    let email = Email::parse(&invitation.email)
        .map_err(|m| ServiceError::Internal(anyhow::anyhow!("stored invitation address is invalid: {m}")))?;
    let mailed =
        send_invitation(svc, &access.org, &inviter.display_name, &email, invitation.role, &token).await;
    tracing::info!(org_id = %access.org.id, invitation_id = %id, "invitation re-sent");
    Ok(Sent { invitation, mailed })
}

/// An invitation link that still works.
#[derive(Debug, Clone)]
pub struct OpenLink(pub InvitationLink);

/// The invitation behind a mailed link, if it still works (not used, not expired, not forged).
pub async fn open_link(db: &Db, token: &str) -> Result<Option<OpenLink>, ServiceError> {
    let now = Utc::now();
    Ok(db
        .invitation_by_token(&hash_token(token))
        .await?
        .filter(|l| l.invitation.accepted_at.is_none() && l.invitation.expires_at > now)
        .map(OpenLink))
}

/// Whether `user` may accept this invitation: a verified account, or the very address it was
/// sent to (opening the link proves the inbox).
pub fn may_accept(user: &User, invitation: &Invitation) -> Result<(), String> {
    if user.verified_at.is_some() || user.email == invitation.email {
        Ok(())
    } else {
        Err(format!(
            "This invitation was sent to {}. To accept it with {}, verify that address first (we mailed \
             you a link), or sign in with the invited address.",
            invitation.email, user.email
        ))
    }
}

/// What accepting a link did.
#[derive(Debug, Clone)]
pub struct Joined {
    /// The organization's slug.
    pub org_slug: String,
    /// The organization's name.
    pub org_name: String,
    /// The role the user has now.
    pub role: Role,
    /// `false` when the user was already a member (their role is unchanged).
    pub joined: bool,
}

/// Accepts an invitation link for `user`. Used, expired and forged links are
/// [`ServiceError::NotFound`].
pub async fn accept(db: &Db, user: &User, token: &str) -> Result<Joined, ServiceError> {
    let OpenLink(link) = open_link(db, token).await?.ok_or(ServiceError::NotFound)?;
    may_accept(user, &link.invitation).map_err(ServiceError::Forbidden)?;
    let accepted =
        db.accept_invitation_as(&hash_token(token), user.id).await?.ok_or(ServiceError::NotFound)?;
    if user.verified_at.is_none() {
        // Only reachable when the invitation went to this very address: the link proves it.
        db.mark_user_verified(user.id).await?;
    }
    let role = if accepted.joined {
        accepted.invitation.role
    } else {
        db.membership(link.invitation.org_id, user.id).await?.map_or(accepted.invitation.role, |m| m.role)
    };
    tracing::info!(org_id = %link.invitation.org_id, user_id = %user.id, joined = accepted.joined, "invitation accepted");
    if accepted.joined {
        audit::record(
            db,
            link.invitation.org_id,
            Some(user.id),
            "member.joined",
            &user.email,
            Some(role.as_str()),
        )
        .await;
    }
    Ok(Joined { org_slug: link.org_slug, org_name: link.org_name, role, joined: accepted.joined })
}

/// Whether an invitation has expired (for lists that still show it).
pub fn expired(expires_at: DateTime<Utc>) -> bool {
    expires_at <= Utc::now()
}

#[cfg(test)]
mod tests {
    use super::*;

    use Role::{Admin, Member as M, Organizer, Owner};

    #[test]
    fn who_may_give_which_role() {
        for (actor, role, ok) in [
            (Owner, Owner, true),
            (Owner, Admin, true),
            (Owner, M, true),
            (Admin, Owner, false),
            (Admin, Admin, true),
            (Admin, Organizer, true),
            (Admin, M, true),
            (Organizer, M, false),
            (M, M, false),
        ] {
            assert_eq!(check_assign(actor, role).is_ok(), ok, "{actor} gives {role}");
        }
    }

    #[test]
    fn who_may_change_or_remove_whom() {
        for (actor, target, ok) in [
            (Owner, Owner, true),
            (Owner, Admin, true),
            (Admin, Owner, false),
            (Admin, Admin, true),
            (Admin, M, true),
            (Organizer, M, false),
            (M, Organizer, false),
        ] {
            assert_eq!(check_touch(actor, target).is_ok(), ok, "{actor} touches {target}");
        }
        assert!(check_owner(Owner).is_ok());
        assert!(matches!(check_owner(Admin), Err(ServiceError::Forbidden(m)) if m.contains("Only owners")));
    }

    #[test]
    fn roles_parse_from_forms() {
        assert_eq!(parse_role(" Admin "), Ok(Admin));
        assert!(parse_role("boss").is_err());
    }
}
